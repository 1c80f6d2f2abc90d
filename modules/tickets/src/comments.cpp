#include "comments.hpp"

#include "mentions.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace tickets {

namespace {

struct MentionRecord {
    ParsedMention parsed;
    int64_t ticketId = 0;  // resolved target ticket for ticket mentions
};

// Mentions whose targets exist: profiles anywhere, tickets in the same project.
std::vector<MentionRecord> resolveMentions(const Db& tx, const std::string& projectId, const std::string& body) {
    std::vector<MentionRecord> out;
    for (auto& m : parseMentions(body)) {
        if (m.type == "profile") {
            if (profileExists(tx, m.profileId)) out.push_back({m, 0});
        } else {
            auto t = tx.one("SELECT id FROM tickets_items WHERE project_id = ? AND ticket_number = ?", {projectId, m.ticketNumber});
            if (t) out.push_back({m, t->integer("id")});
        }
    }
    return out;
}

std::string mentionKey(const MentionRecord& m) {
    return m.parsed.type == "profile" ? "p:" + m.parsed.profileId : "t:" + std::to_string(m.ticketId);
}

void insertMention(const Db& tx, int64_t commentId, const MentionRecord& m, const std::string& now) {
    tx.exec("INSERT INTO tickets_mentions (comment_id, mention_type, mentioned_profile_id, mentioned_ticket_id, mention_text,"
            " created_at) VALUES (?,?,?,?,?,?)",
            {commentId, m.parsed.type, m.parsed.type == "profile" ? Param(m.parsed.profileId) : Param(nullptr),
             m.parsed.type == "ticket" ? Param(m.ticketId) : Param(nullptr), m.parsed.text, now});
}

PendingEvent mentionEvent(const std::string& projectId, int64_t ticketId, int64_t ticketNumber, int64_t commentId,
                          const std::string& actorId, const std::string& actorTypeName, const MentionRecord& m) {
    auto p = atelier::makeObject();
    p->set("comment_id", commentId);
    p->set("mention_type", m.parsed.type);
    if (m.parsed.type == "profile") {
        p->set("mentioned_profile_id", m.parsed.profileId);
    } else {
        p->set("mentioned_ticket_id", m.ticketId);
        p->set("mentioned_ticket_number", m.parsed.ticketNumber);
    }
    p->set("mention_text", m.parsed.text);
    auto e = makeEvent("mention.created", projectId, ticketId, ticketNumber, actorId, actorTypeName, p);
    PendingEvent pe{e, {ticketId}};
    if (m.parsed.type == "ticket" && m.ticketId != ticketId) pe.ticketIds.push_back(m.ticketId);  // cross-reference
    return pe;
}

}  // namespace

JsonObject commentJson(const Row& r) {
    auto o = atelier::makeObject();
    o->set("id", r.var("id"));
    o->set("ticket_id", r.var("ticket_id"));
    o->set("author_id", r.var("author_id"));
    o->set("parent_id", r.var("parent_id"));
    o->set("body", r.var("body"));
    o->set("is_edited", boolVar(r, "is_edited"));
    o->set("kombuse_session_id", r.var("kombuse_session_id"));
    o->set("external_source", r.var("external_source"));
    o->set("external_id", r.var("external_id"));
    o->set("created_at", r.var("created_at"));
    o->set("updated_at", r.var("updated_at"));
    return o;
}

JsonArray commentsWithAuthors(const Db& db, const std::vector<Row>& rows) {
    auto out = atelier::makeArray();
    std::set<std::string> ids;
    for (auto& r : rows) ids.insert(r.text("author_id"));
    std::map<std::string, JsonObject> profiles;
    if (!ids.empty()) {
        std::vector<Param> ps(ids.begin(), ids.end());
        for (auto& p : db.query("SELECT * FROM tickets_profiles WHERE id IN (" + placeholders(ps.size()) + ")", ps))
            profiles[p.text("id")] = profileJson(p);
    }
    for (auto& r : rows) {
        auto o = commentJson(r);
        auto it = profiles.find(r.text("author_id"));
        o->set("author", it != profiles.end() ? Var(it->second) : Var());
        out->add(o);
    }
    return out;
}

Row Comments::requireRow(int64_t id) const {
    auto r = s_.db.one("SELECT * FROM tickets_comments WHERE id = ?", {id});
    if (!r) throw notFound("Comment " + std::to_string(id) + " not found", "COMMENT_NOT_FOUND");
    return *r;
}

JsonArray Comments::list(const std::string& projectId, int64_t number, const std::optional<std::string>& authorId,
                         ParentFilter parent, int64_t limit, int64_t offset) const {
    auto t = t_.requireRow(projectId, number);
    std::string sql = "SELECT * FROM tickets_comments WHERE ticket_id = ?";
    std::vector<Param> ps{t.integer("id")};
    if (authorId) sql += " AND author_id = ?", ps.emplace_back(*authorId);
    if (parent.kind == ParentFilter::Kind::TopLevel) sql += " AND parent_id IS NULL";
    if (parent.kind == ParentFilter::Kind::Parent) sql += " AND parent_id = ?", ps.emplace_back(parent.parentId);
    sql += " ORDER BY seq LIMIT ? OFFSET ?";
    ps.emplace_back(std::clamp<int64_t>(limit, 1, 100));
    ps.emplace_back(std::max<int64_t>(offset, 0));
    return commentsWithAuthors(s_.db, s_.db.query(sql, ps));
}

JsonObject Comments::get(int64_t id) const { return commentsWithAuthors(s_.db, {requireRow(id)})->getObject(0); }

JsonObject Comments::create(const std::string& projectId, int64_t number, const NewComment& req) const {
    const auto& authorId = req.authorId;
    const auto& text = req.body;
    const auto& parentId = req.parentId;
    const auto& sessionId = req.sessionId;
    const auto& extSource = req.externalSource;
    const auto& extId = req.externalId;
    auto ticket = t_.requireRow(projectId, number);
    int64_t ticketId = ticket.integer("id");
    int64_t commentId = 0;
    std::string actor;
    std::vector<MentionRecord> mentions;
    s_.db.transaction([&](const Db& tx) {
        if (!profileExists(tx, authorId)) throw validation("author_id", "is not a known profile");
        if (parentId) {
            auto p = tx.one("SELECT ticket_id FROM tickets_comments WHERE id = ?", {*parentId});
            if (!p || p->integer("ticket_id") != ticketId) throw validation("parent_id", "must be a comment of the same ticket");
        }
        auto seq = nextSeq();
        auto now = isoFromSeq(seq);
        auto r = tx.one(
            "INSERT INTO tickets_comments (ticket_id, author_id, parent_id, body, is_edited, kombuse_session_id,"
            " external_source, external_id, created_at, updated_at, seq) VALUES (?,?,?,?,0,?,?,?,?,?,?) RETURNING id",
            {ticketId, authorId, parentId ? Param(*parentId) : Param(nullptr), text, sessionId, extSource, extId, now,
             now, seq});
        commentId = r->integer("id");
        mentions = resolveMentions(tx, projectId, text);
        for (auto& m : mentions) insertMention(tx, commentId, m, now);
        tx.exec("UPDATE tickets_items SET last_activity_at = ? WHERE id = ?", {now, ticketId});
        actor = actorType(tx, authorId);
    });
    std::vector<PendingEvent> events;
    auto p = atelier::makeObject();
    p->set("comment_id", commentId);
    p->set("parent_id", parentId ? Var(*parentId) : Var());
    auto e = makeEvent("comment.added", projectId, ticketId, number, authorId, actor, p);
    if (sessionId) e.set("kombuse_session_id", *sessionId);
    events.push_back({e, {ticketId}});
    for (auto& m : mentions) {
        auto me = mentionEvent(projectId, ticketId, number, commentId, authorId, actor, m);
        if (sessionId) me.event.set("kombuse_session_id", *sessionId);
        events.push_back(me);
    }
    s_.emit(events);
    return get(commentId);
}

JsonObject Comments::update(int64_t id, const CommentEdit& req) const {
    const auto& text = req.body;
    const auto& updatedBy = req.updatedById;
    auto row = requireRow(id);
    int64_t ticketId = row.integer("ticket_id");
    auto ticket = t_.findById(ticketId);
    if (!ticket) throw notFound("Comment " + std::to_string(id) + " not found", "COMMENT_NOT_FOUND");
    std::string projectId = ticket->text("project_id");
    int64_t number = ticket->integer("ticket_number");
    std::string actorId = updatedBy.value_or(row.text("author_id"));
    std::string actor;
    std::vector<MentionRecord> added;
    s_.db.transaction([&](const Db& tx) {
        if (updatedBy && !profileExists(tx, *updatedBy)) throw validation("updated_by_id", "is not a known profile");
        auto now = nowIso();
        tx.exec("UPDATE tickets_comments SET body = ?, is_edited = 1, updated_at = ? WHERE id = ?", {text, now, id});
        std::set<std::string> before;
        for (auto& m : tx.query("SELECT mention_type, mentioned_profile_id, mentioned_ticket_id FROM tickets_mentions WHERE comment_id = ?", {id}))
            before.insert(m.text("mention_type") == "profile" ? "p:" + m.text("mentioned_profile_id")
                                                               : "t:" + m.text("mentioned_ticket_id"));
        auto now2 = now;
        auto resolved = resolveMentions(tx, projectId, text);
        tx.exec("DELETE FROM tickets_mentions WHERE comment_id = ?", {id});
        for (auto& m : resolved) {
            insertMention(tx, id, m, now2);
            if (!before.count(mentionKey(m))) added.push_back(m);
        }
        tx.exec("UPDATE tickets_items SET last_activity_at = ? WHERE id = ?", {now, ticketId});
        actor = actorType(tx, actorId);
    });
    std::vector<PendingEvent> events;
    auto p = atelier::makeObject();
    p->set("comment_id", id);
    auto e = makeEvent("comment.edited", projectId, ticketId, number, actorId, actor, p);
    events.push_back({e, {ticketId}});
    for (auto& m : added) events.push_back(mentionEvent(projectId, ticketId, number, id, actorId, actor, m));
    s_.emit(events);
    return get(id);
}

void Comments::remove(int64_t id, const std::string& actorId) const {
    auto row = requireRow(id);
    int64_t ticketId = row.integer("ticket_id");
    auto ticket = t_.findById(ticketId);
    std::vector<std::string> files;
    s_.db.transaction([&](const Db& tx) {
        for (auto& a : tx.query("SELECT storage_path FROM tickets_attachments WHERE comment_id = ?", {id}))
            files.push_back(a.text("storage_path"));
        tx.exec("DELETE FROM tickets_attachments WHERE comment_id = ?", {id});
        tx.exec("DELETE FROM tickets_mentions WHERE comment_id = ?", {id});
        tx.exec("UPDATE tickets_comments SET parent_id = NULL WHERE parent_id = ?", {id});
        tx.exec("DELETE FROM tickets_comments WHERE id = ?", {id});
        tx.exec("UPDATE tickets_items SET last_activity_at = ? WHERE id = ?", {nowIso(), ticketId});
    });
    for (auto& f : files) {
        std::error_code ec;
        std::filesystem::remove(std::filesystem::path(s_.moduleDir) / f, ec);
    }
    if (!ticket) return;
    auto p = atelier::makeObject();
    p->set("comment_id", id);
    std::string actor = actorId.empty() ? std::string() : actorId;
    auto e = makeEvent("comment.deleted", ticket->text("project_id"), ticketId, ticket->integer("ticket_number"), actor,
                       actorType(s_.db, actor), p);
    s_.emit({{e, {ticketId}}});
}

JsonArray Comments::mentions(int64_t id) const {
    requireRow(id);
    auto arr = atelier::makeArray();
    for (auto& r : s_.db.query("SELECT m.*, t.ticket_number AS mentioned_ticket_number FROM tickets_mentions m"
                               " LEFT JOIN tickets_items t ON t.id = m.mentioned_ticket_id WHERE m.comment_id = ? ORDER BY m.id",
                               {id})) {
        auto o = atelier::makeObject();
        o->set("id", r.var("id"));
        o->set("comment_id", r.var("comment_id"));
        o->set("mention_type", r.var("mention_type"));
        o->set("mentioned_profile_id", r.var("mentioned_profile_id"));
        o->set("mentioned_ticket_id", r.var("mentioned_ticket_id"));
        o->set("mentioned_ticket_number", r.var("mentioned_ticket_number"));
        o->set("mention_text", r.var("mention_text"));
        o->set("created_at", r.var("created_at"));
        arr->add(o);
    }
    return arr;
}

}  // namespace tickets
