#include "tickets.hpp"

#include "comments.hpp"
#include "labels.hpp"
#include "search.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace tickets {

namespace {

const std::set<std::string> kStatuses{"open", "in_progress", "blocked", "closed"};
constexpr size_t kMaxTitle = 500;
constexpr size_t kMaxBody = 100000;
constexpr int64_t kMaxClaimMinutes = 7 * 24 * 60;

}  // namespace

TicketFields parseTicketFields(const JsonObject& o, bool create) {
    TicketFields f;
    if (create) f.title = stringField(o, "title", kMaxTitle);
    else if (presence(o, "title").present) f.title = stringField(o, "title", kMaxTitle);
    f.bodyP = presence(o, "body");
    f.body = optStringField(o, "body", kMaxBody);
    if (presence(o, "status").present) {
        auto s = optStringField(o, "status", 32);
        if (!s || !kStatuses.count(*s)) throw validation("status", "must be one of open, in_progress, blocked, closed");
        f.status = s;
    }
    f.priorityP = presence(o, "priority");
    f.priority = intField(o, "priority");
    if (f.priority && (*f.priority < 0 || *f.priority > 4)) throw validation("priority", "must be between 0 and 4");
    f.assigneeP = presence(o, "assignee_id");
    f.assigneeId = optStringField(o, "assignee_id", 200);
    f.milestoneP = presence(o, "milestone_id");
    f.milestoneId = intField(o, "milestone_id");
    f.triggersEnabled = boolField(o, "triggers_enabled");
    f.loopProtectionEnabled = boolField(o, "loop_protection_enabled");
    f.extSourceP = presence(o, "external_source");
    f.extSource = optStringField(o, "external_source", 200);
    f.extIdP = presence(o, "external_id");
    f.extId = optStringField(o, "external_id", 500);
    f.extUrlP = presence(o, "external_url");
    f.extUrl = optStringField(o, "external_url", 2000);
    return f;
}

namespace {

// The present fields as a JSON object (the hook's `changes`).
JsonObject changesJson(const TicketFields& f) {
    auto c = atelier::makeObject();
    if (f.title) c->set("title", *f.title);
    if (f.bodyP.present) c->set("body", f.body ? Var(*f.body) : Var());
    if (f.status) c->set("status", *f.status);
    if (f.priorityP.present) c->set("priority", f.priority ? Var(*f.priority) : Var());
    if (f.assigneeP.present) c->set("assignee_id", f.assigneeId ? Var(*f.assigneeId) : Var());
    if (f.milestoneP.present) c->set("milestone_id", f.milestoneId ? Var(*f.milestoneId) : Var());
    if (f.triggersEnabled) c->set("triggers_enabled", *f.triggersEnabled);
    if (f.loopProtectionEnabled) c->set("loop_protection_enabled", *f.loopProtectionEnabled);
    if (f.extSourceP.present) c->set("external_source", f.extSource ? Var(*f.extSource) : Var());
    if (f.extIdP.present) c->set("external_id", f.extId ? Var(*f.extId) : Var());
    if (f.extUrlP.present) c->set("external_url", f.extUrl ? Var(*f.extUrl) : Var());
    return c;
}

void checkReferences(const Db& tx, const std::string& projectId, const TicketFields& f) {
    if (f.assigneeId && !profileExists(tx, *f.assigneeId)) throw validation("assignee_id", "is not a known profile");
    if (f.milestoneId) {
        auto m = tx.one("SELECT project_id FROM tickets_milestones WHERE id = ?", {*f.milestoneId});
        if (!m || m->text("project_id") != projectId)
            throw validation("milestone_id", "is not a milestone of this project");
    }
}

std::string optText(const std::optional<std::string>& s) { return s ? *s : std::string(); }

}  // namespace

JsonObject ticketJson(const Row& r) {
    auto o = atelier::makeObject();
    o->set("id", r.var("id"));
    o->set("project_id", r.var("project_id"));
    o->set("ticket_number", r.var("ticket_number"));
    o->set("author_id", r.var("author_id"));
    o->set("assignee_id", r.var("assignee_id"));
    o->set("claimed_by_id", r.var("claimed_by_id"));
    o->set("title", r.var("title"));
    o->set("body", r.var("body"));
    o->set("status", r.var("status"));
    o->set("priority", r.var("priority"));
    o->set("claimed_at", r.var("claimed_at"));
    o->set("claim_expires_at", r.var("claim_expires_at"));
    o->set("milestone_id", r.var("milestone_id"));
    o->set("external_source", r.var("external_source"));
    o->set("external_id", r.var("external_id"));
    o->set("external_url", r.var("external_url"));
    o->set("synced_at", r.var("synced_at"));
    o->set("opened_at", r.var("opened_at"));
    o->set("closed_at", r.var("closed_at"));
    o->set("last_activity_at", r.var("last_activity_at"));
    o->set("triggers_enabled", boolVar(r, "triggers_enabled"));
    o->set("loop_protection_enabled", boolVar(r, "loop_protection_enabled"));
    o->set("created_at", r.var("created_at"));
    o->set("updated_at", r.var("updated_at"));
    return o;
}

JsonObject eventJson(const Row& r, const JsonObject& actor, const std::string& projectId) {
    auto o = atelier::makeObject();
    o->set("id", r.isNull("event_id") ? r.var("id") : r.var("event_id"));
    o->set("event_type", r.var("event_type"));
    o->set("project_id", projectId);
    o->set("ticket_id", r.var("ticket_id"));
    o->set("ticket_number", r.var("ticket_number"));
    o->set("comment_id", r.var("comment_id"));
    o->set("actor_id", r.var("actor_id"));
    o->set("actor_type", r.var("actor_type"));
    o->set("kombuse_session_id", r.var("kombuse_session_id"));
    o->set("payload", r.var("payload"));
    o->set("created_at", isoFromSeq(r.integer("seq")));
    o->set("actor", actor ? Var(actor) : Var());
    return o;
}

void validateFilter(const TicketFilter& f) {
    if (f.status && !kStatuses.count(*f.status))
        throw validation("status", "must be one of open, in_progress, blocked, closed");
    if (f.priority && (*f.priority < 0 || *f.priority > 4)) throw validation("priority", "must be between 0 and 4");
    static const std::set<std::string> sorts{"", "created_at", "updated_at", "last_activity_at", "priority"};
    if (!sorts.count(f.sortBy))
        throw validation("sort_by", "must be one of created_at, updated_at, last_activity_at, priority");
    if (f.sortOrder != "" && f.sortOrder != "asc" && f.sortOrder != "desc")
        throw validation("sort_order", "must be asc or desc");
    if (f.search) buildFtsQuery(*f.search);  // length check
}

int64_t Tickets::allocateNumber(const Db& tx, const std::string& projectId) {
    tx.exec("INSERT INTO tickets_counters (project_id, next_number) VALUES (?, 1) ON CONFLICT(project_id) DO NOTHING",
            {projectId});
    auto row = tx.one("SELECT next_number FROM tickets_counters WHERE project_id = ?", {projectId});
    int64_t n = row->integer("next_number");
    // Guard against numbers taken by a recovered task above the counter.
    auto taken = tx.one("SELECT MAX(ticket_number) AS m FROM tickets_items WHERE project_id = ? AND ticket_number >= ?",
                        {projectId, n});
    if (taken && !taken->isNull("m")) n = taken->integer("m") + 1;
    tx.exec("UPDATE tickets_counters SET next_number = ? WHERE project_id = ?", {n + 1, projectId});
    return n;
}

void Tickets::bumpCounter(const Db& tx, const std::string& projectId, int64_t atLeast) {
    tx.exec("INSERT INTO tickets_counters (project_id, next_number) VALUES (?, ?) ON CONFLICT(project_id) DO UPDATE"
            " SET next_number = MAX(next_number, excluded.next_number)",
            {projectId, atLeast + 1});
}

std::optional<Row> Tickets::findRow(const std::string& projectId, int64_t number) const {
    return s_.db.one("SELECT * FROM tickets_items WHERE project_id = ? AND ticket_number = ?", {projectId, number});
}

std::optional<Row> Tickets::findById(int64_t id) const {
    return s_.db.one("SELECT * FROM tickets_items WHERE id = ?", {id});
}

Row Tickets::requireRow(const std::string& projectId, int64_t number) const {
    auto r = findRow(projectId, number);
    if (!r) throw notFound("Ticket #" + std::to_string(number) + " not found", "TICKET_NOT_FOUND");
    return *r;
}

JsonArray Tickets::withRelations(const std::vector<Row>& rows, const std::string& viewerId) const {
    auto out = atelier::makeArray();
    if (rows.empty()) return out;
    std::set<std::string> profileIds;
    std::vector<Param> ticketIds;
    for (auto& r : rows) {
        if (!r.isNull("author_id")) profileIds.insert(r.text("author_id"));
        if (!r.isNull("assignee_id")) profileIds.insert(r.text("assignee_id"));
        ticketIds.emplace_back(r.integer("id"));
    }
    std::map<std::string, JsonObject> profiles;
    if (!profileIds.empty()) {
        std::vector<Param> ps(profileIds.begin(), profileIds.end());
        for (auto& p : s_.db.query("SELECT * FROM tickets_profiles WHERE id IN (" + placeholders(ps.size()) + ")", ps))
            profiles[p.text("id")] = profileJson(p);
    }
    std::map<int64_t, JsonArray> labels;
    for (auto& l : s_.db.query("SELECT tl.ticket_id AS ticket_id, l.* FROM tickets_ticket_labels tl JOIN tickets_labels l"
                               " ON l.id = tl.label_id WHERE tl.ticket_id IN (" +
                                   placeholders(ticketIds.size()) + ") ORDER BY l.name",
                               ticketIds)) {
        auto& arr = labels[l.integer("ticket_id")];
        if (!arr) arr = atelier::makeArray();
        arr->add(labelJson(l));
    }
    std::map<int64_t, std::string> views;
    if (!viewerId.empty()) {
        std::vector<Param> ps{viewerId};
        ps.insert(ps.end(), ticketIds.begin(), ticketIds.end());
        for (auto& v : s_.db.query("SELECT ticket_id, last_viewed_at FROM tickets_views WHERE profile_id = ? AND ticket_id IN (" +
                                       placeholders(ticketIds.size()) + ")",
                                   ps))
            views[v.integer("ticket_id")] = v.text("last_viewed_at");
    }
    for (auto& r : rows) {
        auto o = ticketJson(r);
        auto a = profiles.find(r.text("author_id"));
        o->set("author", a != profiles.end() ? Var(a->second) : Var());
        auto as = r.isNull("assignee_id") ? profiles.end() : profiles.find(r.text("assignee_id"));
        o->set("assignee", as != profiles.end() ? Var(as->second) : Var());
        auto l = labels.find(r.integer("id"));
        o->set("labels", l != labels.end() ? l->second : atelier::makeArray());
        if (!viewerId.empty()) {
            auto v = views.find(r.integer("id"));
            o->set("has_unread", v == views.end() || v->second < r.text("last_activity_at"));
        }
        out->add(o);
    }
    return out;
}

JsonObject Tickets::create(const std::string& projectId, const NewTicket& req,
                           std::optional<int64_t> fixedNumber) const {
    const auto& authorId = req.authorId;
    const auto& f = req.fields;
    const auto& labelIds = req.labelIds;
    const auto& sessionId = req.sessionId;
    if (!f.title) throw validation("title", "is required");
    int64_t id = 0, number = 0;
    std::string actor;
    s_.db.transaction([&](const Db& tx) {
        if (!profileExists(tx, authorId)) throw validation("author_id", "is not a known profile");
        checkReferences(tx, projectId, f);
        for (auto l : labelIds) {
            auto row = tx.one("SELECT project_id FROM tickets_labels WHERE id = ?", {l});
            if (!row || row->text("project_id") != projectId)
                throw validation("label_ids", "label " + std::to_string(l) + " is not a label of this project");
        }
        if (fixedNumber) {
            if (tx.one("SELECT 1 AS x FROM tickets_items WHERE project_id = ? AND ticket_number = ?", {projectId, *fixedNumber}))
                throw conflict("Ticket #" + std::to_string(*fixedNumber) + " already exists", "TICKET_EXISTS");
            bumpCounter(tx, projectId, *fixedNumber);
            number = *fixedNumber;
        } else {
            number = allocateNumber(tx, projectId);
        }
        auto now = nowIso();
        std::string status = f.status.value_or("open");
        auto r = tx.one(
            "INSERT INTO tickets_items (project_id, ticket_number, author_id, assignee_id, title, body, status,"
            " priority, milestone_id, external_source, external_id, external_url, opened_at, closed_at,"
            " last_activity_at, triggers_enabled, loop_protection_enabled, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            {projectId, number, authorId, f.assigneeId, *f.title, f.body, status,
             f.priority ? Param(*f.priority) : Param(nullptr), f.milestoneId ? Param(*f.milestoneId) : Param(nullptr),
             f.extSource, f.extId, f.extUrl, now, status == "closed" ? Param(now) : Param(nullptr), now,
             f.triggersEnabled.value_or(true), f.loopProtectionEnabled.value_or(true), now, now});
        id = r->integer("id");
        for (auto l : labelIds)
            tx.exec("INSERT OR IGNORE INTO tickets_ticket_labels (ticket_id, label_id, added_by_id, created_at) VALUES (?,?,?,?)",
                    {id, l, authorId, now});
        actor = actorType(tx, authorId);
    });
    std::vector<PendingEvent> events;
    auto payload = atelier::makeObject();
    payload->set("ticket_number", number);
    payload->set("title", *f.title);
    payload->set("status", f.status.value_or("open"));
    auto e = makeEvent("ticket.created", projectId, id, number, authorId, actor, payload);
    if (sessionId) e.set("kombuse_session_id", *sessionId);
    events.push_back({e, {id}});
    for (auto l : labelIds) {
        auto lp = atelier::makeObject();
        lp->set("label_id", l);
        events.push_back({makeEvent("label.added", projectId, id, number, authorId, actor, lp), {id}});
    }
    s_.emit(events);
    auto row = findById(id);
    return withRelations({*row})->getObject(0);
}

JsonObject Tickets::get(const std::string& projectId, int64_t number, const std::string& viewerId) const {
    auto row = requireRow(projectId, number);
    return withRelations({row}, viewerId)->getObject(0);
}

JsonObject Tickets::update(const std::string& projectId, int64_t number, const TicketUpdate& req) const {
    auto current = requireRow(projectId, number);
    const auto& updatedBy = req.updatedById;
    TicketFields f = req.fields;
    auto changes = changesJson(f);
    if (changes->size() == 0) throw validation("body", "must contain at least one field to update");
    // Other modules may adjust or refuse the change.
    auto payload = atelier::makeObject();
    payload->set("ticket", ticketJson(current));
    payload->set("changes", changes);
    if (updatedBy) payload->set("updated_by_id", *updatedBy);
    if (s_.runHook) {
        auto run = s_.runHook("ticket.before_update", atelier::toJson(payload));
        if (run.vetoed) throw unprocessable("Update refused: " + run.payload, "UPDATE_VETOED");
        auto out = run.json();
        if (out && out->has("changes") && out->getObject("changes"))
            f = parseTicketFields(out->getObject("changes"), false);
    }
    std::string actor, oldStatus, newStatus;
    std::vector<std::string> changed;
    int64_t id = current.integer("id");
    s_.db.transaction([&](const Db& tx) {
        auto cur = tx.one("SELECT * FROM tickets_items WHERE id = ?", {id});
        if (!cur) throw notFound("Ticket #" + std::to_string(number) + " not found", "TICKET_NOT_FOUND");
        if (updatedBy && !profileExists(tx, *updatedBy)) throw validation("updated_by_id", "is not a known profile");
        checkReferences(tx, projectId, f);
        auto now = nowIso();
        std::string sql = "UPDATE tickets_items SET ";
        std::vector<Param> ps;
        auto set = [&](const char* col, Param p) {
            sql += std::string(col) + " = ?, ";
            ps.push_back(std::move(p));
            changed.emplace_back(col);
        };
        if (f.title) set("title", *f.title);
        if (f.bodyP.present) set("body", f.body);
        oldStatus = cur->text("status");
        newStatus = oldStatus;
        if (f.status) {
            newStatus = *f.status;
            set("status", *f.status);
            if (newStatus == "closed" && oldStatus != "closed") {
                sql += "closed_at = ?, ";
                ps.emplace_back(now);
            } else if (newStatus != "closed" && oldStatus == "closed") {
                sql += "closed_at = NULL, opened_at = ?, ";
                ps.emplace_back(now);
            }
        }
        if (f.priorityP.present) set("priority", f.priority ? Param(*f.priority) : Param(nullptr));
        if (f.assigneeP.present) set("assignee_id", f.assigneeId);
        if (f.milestoneP.present) set("milestone_id", f.milestoneId ? Param(*f.milestoneId) : Param(nullptr));
        if (f.triggersEnabled) set("triggers_enabled", *f.triggersEnabled);
        if (f.loopProtectionEnabled) set("loop_protection_enabled", *f.loopProtectionEnabled);
        if (f.extSourceP.present) set("external_source", f.extSource);
        if (f.extIdP.present) set("external_id", f.extId);
        if (f.extUrlP.present) set("external_url", f.extUrl);
        sql += "updated_at = ?, last_activity_at = ? WHERE id = ?";
        ps.emplace_back(now);
        ps.emplace_back(now);
        ps.emplace_back(id);
        tx.exec(sql, ps);
        actor = actorType(tx, optText(updatedBy));
    });
    std::string type = "ticket.updated";
    if (newStatus != oldStatus && newStatus == "closed") type = "ticket.closed";
    else if (newStatus != oldStatus && oldStatus == "closed") type = "ticket.reopened";
    auto ep = atelier::makeObject();
    auto arr = atelier::makeArray();
    for (auto& c : changed) arr->add(c);
    ep->set("changes", arr);
    if (newStatus != oldStatus) {
        ep->set("from_status", oldStatus);
        ep->set("to_status", newStatus);
    }
    s_.emit({{makeEvent(type, projectId, id, number, optText(updatedBy), actor, ep), {id}}});
    return withRelations({*findById(id)})->getObject(0);
}

void Tickets::remove(const std::string& projectId, int64_t number, const std::string& actorId) const {
    auto row = requireRow(projectId, number);
    int64_t id = row.integer("id");
    std::vector<std::string> files;
    s_.db.transaction([&](const Db& tx) {
        for (auto& a : tx.query("SELECT storage_path FROM tickets_attachments WHERE ticket_id = ? OR comment_id IN"
                                " (SELECT id FROM tickets_comments WHERE ticket_id = ?)",
                                {id, id}))
            files.push_back(a.text("storage_path"));
        tx.exec("DELETE FROM tickets_attachments WHERE ticket_id = ? OR comment_id IN (SELECT id FROM tickets_comments WHERE ticket_id = ?)",
                {id, id});
        tx.exec("DELETE FROM tickets_mentions WHERE comment_id IN (SELECT id FROM tickets_comments WHERE ticket_id = ?)", {id});
        tx.exec("DELETE FROM tickets_mentions WHERE mentioned_ticket_id = ?", {id});
        tx.exec("DELETE FROM tickets_comments WHERE ticket_id = ?", {id});
        tx.exec("DELETE FROM tickets_ticket_labels WHERE ticket_id = ?", {id});
        tx.exec("DELETE FROM tickets_views WHERE ticket_id = ?", {id});
        tx.exec("DELETE FROM tickets_activity WHERE ticket_id = ?", {id});
        tx.exec("DELETE FROM tickets_items WHERE id = ?", {id});
    });
    for (auto& f : files) {
        std::error_code ec;
        std::filesystem::remove(std::filesystem::path(s_.moduleDir) / f, ec);
    }
    auto p = atelier::makeObject();
    p->set("ticket_number", number);
    p->set("title", row.text("title"));
    auto e = makeEvent("ticket.deleted", projectId, id, number, actorId, actorType(s_.db, actorId), p);
    if (s_.publish) {
        try {
            s_.publish(e);
        } catch (...) {
        }
    }
}

JsonArray Tickets::list(const TicketFilter& f) const {
    validateFilter(f);
    std::string fts;
    bool searching = f.search && !f.search->empty();
    bool numberQuery = false;
    int64_t number = 0;
    if (searching) {
        fts = buildFtsQuery(*f.search);
        numberQuery = isNumberQuery(*f.search);
        if (numberQuery) {
            std::string digits;
            for (char c : *f.search)
                if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
            number = std::stoll(digits);
        }
        if (fts.empty() && !numberQuery) return atelier::makeArray();
    }
    std::vector<std::string> where;
    std::vector<Param> wherePs;
    auto now = nowIso();
    if (f.projectId) where.push_back("t.project_id = ?"), wherePs.emplace_back(*f.projectId);
    if (f.status) where.push_back("t.status = ?"), wherePs.emplace_back(*f.status);
    if (f.priority) where.push_back("t.priority = ?"), wherePs.emplace_back(*f.priority);
    if (f.authorId) where.push_back("t.author_id = ?"), wherePs.emplace_back(*f.authorId);
    if (f.assigneeId) where.push_back("t.assignee_id = ?"), wherePs.emplace_back(*f.assigneeId);
    if (f.claimedById) where.push_back("t.claimed_by_id = ?"), wherePs.emplace_back(*f.claimedById);
    if (f.milestoneId) where.push_back("t.milestone_id = ?"), wherePs.emplace_back(*f.milestoneId);
    if (f.unclaimed && *f.unclaimed) {
        where.push_back("(t.claimed_by_id IS NULL OR (t.claim_expires_at IS NOT NULL AND t.claim_expires_at <= ?))");
        wherePs.emplace_back(now);
    } else if (f.unclaimed && !*f.unclaimed) {
        where.push_back("(t.claimed_by_id IS NOT NULL AND (t.claim_expires_at IS NULL OR t.claim_expires_at > ?))");
        wherePs.emplace_back(now);
    }
    if (f.expiredClaims && *f.expiredClaims) {
        where.push_back("(t.claimed_by_id IS NOT NULL AND t.claim_expires_at IS NOT NULL AND t.claim_expires_at <= ?)");
        wherePs.emplace_back(now);
    }
    if (!f.labelIds.empty()) {
        where.push_back("t.id IN (SELECT ticket_id FROM tickets_ticket_labels WHERE label_id IN (" +
                        placeholders(f.labelIds.size()) + "))");
        for (auto l : f.labelIds) wherePs.emplace_back(l);
    }
    std::string whereSql;
    for (size_t i = 0; i < where.size(); ++i) whereSql += (i ? " AND " : " WHERE ") + where[i];
    std::string order = f.sortOrder == "asc" ? "ASC" : "DESC";
    bool byRank = searching && f.sortBy.empty();
    std::string orderSql = byRank ? " ORDER BY s.rank, t.updated_at DESC, t.id DESC"
                                  : " ORDER BY t." + (f.sortBy.empty() ? std::string("created_at") : f.sortBy) + " " +
                                        order + ", t.id " + order;
    int64_t limit = std::clamp<int64_t>(f.limit, 1, 100), offset = std::max<int64_t>(f.offset, 0);

    auto page = [&](bool withComments, int64_t pageLimit, int64_t pageOffset) {
        std::string sql;
        std::vector<Param> ps;
        if (searching) {
            // Materialised so bm25 is computed inside the full-text scan that produced the row.
            sql =
                "WITH s AS MATERIALIZED (" + searchSubquery(withComments, numberQuery, f.projectId.has_value()) + ") ";
            ps.emplace_back(matchExpression(fts, "{title body}", f.projectId));
            if (withComments) ps.emplace_back(matchExpression(fts, "body", f.projectId));
            if (numberQuery) {
                ps.emplace_back(number);
                if (f.projectId) ps.emplace_back(*f.projectId);
            }
        }
        sql += "SELECT t.* FROM tickets_items t";
        if (searching) sql += " JOIN s ON s.id = t.id";
        sql += whereSql + orderSql + " LIMIT ? OFFSET ?";
        ps.insert(ps.end(), wherePs.begin(), wherePs.end());
        ps.emplace_back(pageLimit);
        ps.emplace_back(pageOffset);
        return s_.db.query(sql, ps);
    };
    std::vector<Row> rows;
    // Bounds the exclusion list below to a modest number of parameters; deeper pages take the
    // single query over both indexes.
    constexpr int64_t kStepwiseMax = 500;
    if (byRank && offset + limit <= kStepwiseMax) {
        // Comment-only hits rank after every title/body hit (0.0 against a negative bm25) and
        // among themselves by updated_at, id. So the title/body hits (and the number match)
        // are ranked first, and the comment index is consulted only when they do not fill the
        // page, for the tickets not among them, without ranking.
        auto first = page(false, offset + limit, 0);
        if (static_cast<int64_t>(first.size()) < offset + limit) {
            std::string sql =
                "WITH s AS MATERIALIZED (SELECT DISTINCT c.ticket_id AS id FROM tickets_comments_fts"
                " CROSS JOIN tickets_comments c ON c.id = tickets_comments_fts.rowid WHERE tickets_comments_fts MATCH ?)"
                " SELECT t.* FROM tickets_items t JOIN s ON s.id = t.id" +
                whereSql;
            std::vector<Param> ps{matchExpression(fts, "body", f.projectId)};
            ps.insert(ps.end(), wherePs.begin(), wherePs.end());
            if (!first.empty()) {
                sql += std::string(where.empty() ? " WHERE" : " AND") + " t.id NOT IN (" + placeholders(first.size()) +
                       ")";
                for (auto& r : first) ps.emplace_back(r.integer("id"));
            }
            sql += " ORDER BY t.updated_at DESC, t.id DESC LIMIT ?";
            ps.emplace_back(offset + limit - static_cast<int64_t>(first.size()));
            auto rest = s_.db.query(sql, ps);
            first.insert(first.end(), rest.begin(), rest.end());
        }
        if (static_cast<int64_t>(first.size()) > offset) rows.assign(first.begin() + offset, first.end());
    } else {
        rows = page(searching, limit, offset);
    }
    auto out = withRelations(rows, f.viewerId.value_or(""));
    if (searching) {
        auto hits = searchContexts(s_.db, fts, rows, *f.search, f.projectId);
        for (size_t i = 0; i < rows.size(); ++i) {
            auto o = out->getObject(static_cast<unsigned>(i));
            auto h = hits.find(rows[i].integer("id"));
            o->set("match_context", h != hits.end() ? Var(h->second.context) : Var());
            o->set("match_source", h != hits.end() ? Var(h->second.source) : Var());
        }
    }
    return out;
}

JsonObject Tickets::counts(const std::string& projectId) const {
    auto o = atelier::makeObject();
    for (auto s : {"open", "in_progress", "blocked", "closed"}) o->set(s, 0);
    for (auto& r : s_.db.query("SELECT status, COUNT(*) AS n FROM tickets_items WHERE project_id = ? GROUP BY status", {projectId}))
        o->set(r.text("status"), r.integer("n"));
    return o;
}

namespace {
DomainError claimConflict(const std::string& message, const std::string& code, const JsonObject& ticket) {
    DomainError e(DomainError::Kind::Conflict, code, message);
    e.extra = atelier::makeObject();
    e.extra->set("ticket", ticket);
    return e;
}
}  // namespace

JsonObject Tickets::claim(const std::string& projectId, int64_t number, const ClaimRequest& req) const {
    const auto& claimer = req.claimerId;
    const auto& minutes = req.durationMinutes;
    if (minutes && (*minutes < 1 || *minutes > kMaxClaimMinutes))
        throw validation("duration_minutes", "must be between 1 and " + std::to_string(kMaxClaimMinutes));
    auto row = requireRow(projectId, number);
    int64_t id = row.integer("id");
    bool won = false;
    std::string actor, expires;
    s_.db.transaction([&](const Db& tx) {
        if (!profileExists(tx, claimer)) throw validation("claimer_id", "is not a known profile");
        auto now = nowIso();
        expires = minutes ? isoPlusMinutes(*minutes) : std::string();
        auto r = tx.exec(
            "UPDATE tickets_items SET claimed_by_id = ?, claimed_at = ?, claim_expires_at = ?, updated_at = ?,"
            " last_activity_at = ? WHERE id = ? AND (claimed_by_id IS NULL OR claimed_by_id = ? OR"
            " (claim_expires_at IS NOT NULL AND claim_expires_at <= ?))",
            {claimer, now, expires.empty() ? Param(nullptr) : Param(expires), now, now, id, claimer, now});
        won = r.changes == 1;
        actor = actorType(tx, claimer);
    });
    auto cur = findById(id);
    if (!cur) throw notFound("Ticket #" + std::to_string(number) + " not found", "TICKET_NOT_FOUND");
    if (!won) throw claimConflict("Ticket is already claimed by " + cur->text("claimed_by_id"), "TICKET_ALREADY_CLAIMED", ticketJson(*cur));
    auto p = atelier::makeObject();
    p->set("claimer_id", claimer);
    p->set("claim_expires_at", expires.empty() ? Var() : Var(expires));
    s_.emit({{makeEvent("ticket.claimed", projectId, id, number, claimer, actor, p), {id}}});
    return withRelations({*cur})->getObject(0);
}

JsonObject Tickets::unclaim(const std::string& projectId, int64_t number, const UnclaimRequest& req) const {
    const auto& requester = req.requesterId;
    bool force = req.force;
    auto row = requireRow(projectId, number);
    int64_t id = row.integer("id");
    std::string previous;
    bool released = false;
    s_.db.transaction([&](const Db& tx) {
        auto cur = tx.one("SELECT claimed_by_id, claim_expires_at FROM tickets_items WHERE id = ?", {id});
        if (!cur) throw notFound("Ticket #" + std::to_string(number) + " not found", "TICKET_NOT_FOUND");
        if (cur->isNull("claimed_by_id")) return;
        previous = cur->text("claimed_by_id");
        bool expired = !cur->isNull("claim_expires_at") && cur->text("claim_expires_at") <= nowIso();
        if (!force && requester && *requester != previous && !expired) return;
        auto now = nowIso();
        tx.exec("UPDATE tickets_items SET claimed_by_id = NULL, claimed_at = NULL, claim_expires_at = NULL, updated_at = ?,"
                " last_activity_at = ? WHERE id = ?",
                {now, now, id});
        released = true;
    });
    auto cur = findById(id);
    if (!cur) throw notFound("Ticket #" + std::to_string(number) + " not found", "TICKET_NOT_FOUND");
    if (previous.empty()) throw claimConflict("Ticket is not claimed", "TICKET_NOT_CLAIMED", ticketJson(*cur));
    if (!released)
        throw claimConflict("Ticket is claimed by " + previous + "; use force to release it", "TICKET_CLAIMED_BY_OTHER",
                            ticketJson(*cur));
    std::string actorId = requester.value_or("");
    auto p = atelier::makeObject();
    p->set("previous_claimer_id", previous);
    p->set("forced", force);
    s_.emit({{makeEvent("ticket.unclaimed", projectId, id, number, actorId, actorType(s_.db, actorId), p), {id}}});
    return withRelations({*cur})->getObject(0);
}

JsonObject Tickets::extendClaim(const std::string& projectId, int64_t number, const ExtendClaimRequest& req) const {
    const int64_t minutes = req.additionalMinutes;
    if (minutes < 1 || minutes > kMaxClaimMinutes)
        throw validation("additional_minutes", "must be between 1 and " + std::to_string(kMaxClaimMinutes));
    const auto& requester = req.requesterId;
    auto row = requireRow(projectId, number);
    int64_t id = row.integer("id");
    std::string error, claimer, expires;
    s_.db.transaction([&](const Db& tx) {
        auto cur = tx.one("SELECT claimed_by_id, claim_expires_at FROM tickets_items WHERE id = ?", {id});
        auto now = nowIso();
        if (!cur || cur->isNull("claimed_by_id") ||
            (!cur->isNull("claim_expires_at") && cur->text("claim_expires_at") <= now)) {
            error = "TICKET_NOT_CLAIMED";
            return;
        }
        claimer = cur->text("claimed_by_id");
        if (requester && *requester != claimer) {
            error = "TICKET_CLAIMED_BY_OTHER";
            return;
        }
        expires =
            isoPlusMinutes(minutes, cur->isNull("claim_expires_at") ? std::string() : cur->text("claim_expires_at"));
        tx.exec("UPDATE tickets_items SET claim_expires_at = ?, updated_at = ?, last_activity_at = ? WHERE id = ?",
                {expires, now, now, id});
    });
    auto cur = findById(id);
    if (!cur) throw notFound("Ticket #" + std::to_string(number) + " not found", "TICKET_NOT_FOUND");
    if (error == "TICKET_NOT_CLAIMED") throw claimConflict("Ticket has no active claim to extend", error, ticketJson(*cur));
    if (!error.empty()) throw claimConflict("Ticket is claimed by " + claimer, error, ticketJson(*cur));
    auto p = atelier::makeObject();
    auto ch = atelier::makeArray();
    ch->add("claim_expires_at");
    p->set("changes", ch);
    p->set("claim_expires_at", expires);
    p->set("additional_minutes", minutes);
    s_.emit({{makeEvent("ticket.updated", projectId, id, number, claimer, actorType(s_.db, claimer), p), {id}}});
    return withRelations({*cur})->getObject(0);
}

JsonObject Tickets::view(const std::string& projectId, int64_t number, const std::string& profile) const {
    auto row = requireRow(projectId, number);
    if (!profileExists(s_.db, profile)) throw validation("profile_id", "is not a known profile");
    auto now = nowIso();
    s_.db.exec("INSERT INTO tickets_views (ticket_id, profile_id, last_viewed_at) VALUES (?,?,?) ON CONFLICT(ticket_id, profile_id)"
               " DO UPDATE SET last_viewed_at = excluded.last_viewed_at",
               {row.integer("id"), profile, now});
    auto o = atelier::makeObject();
    o->set("ticket_id", row.integer("id"));
    o->set("profile_id", profile);
    o->set("last_viewed_at", now);
    return o;
}

JsonObject Tickets::timeline(const std::string& projectId, int64_t number, int64_t limit, int64_t offset) const {
    auto row = requireRow(projectId, number);
    int64_t id = row.integer("id");
    auto items = s_.db.query(
        "SELECT kind, id, ts, seq FROM ("
        " SELECT 'comment' AS kind, id, created_at AS ts, seq FROM tickets_comments WHERE ticket_id = ?"
        " UNION ALL SELECT 'event' AS kind, id, NULL AS ts, seq FROM tickets_activity WHERE ticket_id = ?"
        "  AND event_type <> 'comment.added'"
        ") ORDER BY seq LIMIT ? OFFSET ?",
        {id, id, std::clamp<int64_t>(limit, 1, 100), std::max<int64_t>(offset, 0)});
    auto total = s_.db.one(
        "SELECT (SELECT COUNT(*) FROM tickets_comments WHERE ticket_id = ?) +"
        " (SELECT COUNT(*) FROM tickets_activity WHERE ticket_id = ? AND event_type <> 'comment.added') AS n",
        {id, id});
    std::vector<Param> commentIds, eventIds;
    for (auto& it : items) (it.text("kind") == "comment" ? commentIds : eventIds).emplace_back(it.integer("id"));
    std::map<int64_t, JsonObject> comments, events;
    if (!commentIds.empty()) {
        auto rows = s_.db.query("SELECT * FROM tickets_comments WHERE id IN (" + placeholders(commentIds.size()) + ")", commentIds);
        auto arr = commentsWithAuthors(s_.db, rows);
        for (size_t i = 0; i < rows.size(); ++i) comments[rows[i].integer("id")] = arr->getObject(static_cast<unsigned>(i));
    }
    if (!eventIds.empty()) {
        auto rows = s_.db.query("SELECT * FROM tickets_activity WHERE id IN (" + placeholders(eventIds.size()) + ")", eventIds);
        for (auto& r : rows)
            events[r.integer("id")] = eventJson(r, findProfile(s_.db, r.text("actor_id")), row.text("project_id"));
    }
    auto arr = atelier::makeArray();
    for (auto& it : items) {
        auto o = atelier::makeObject();
        bool isComment = it.text("kind") == "comment";
        o->set("type", it.text("kind"));
        o->set("timestamp", isComment ? it.text("ts") : isoFromSeq(it.integer("seq")));
        o->set("data", isComment ? comments[it.integer("id")] : events[it.integer("id")]);
        arr->add(o);
    }
    auto out = atelier::makeObject();
    out->set("items", arr);
    out->set("total", total->integer("n"));
    out->set("limit", std::clamp<int64_t>(limit, 1, 100));
    out->set("offset", std::max<int64_t>(offset, 0));
    return out;
}

JsonArray Tickets::events(const std::string& projectId, int64_t number, int64_t limit, int64_t offset) const {
    auto row = requireRow(projectId, number);
    auto rows = s_.db.query("SELECT * FROM tickets_activity WHERE ticket_id = ? ORDER BY seq LIMIT ? OFFSET ?",
                            {row.integer("id"), std::clamp<int64_t>(limit, 1, 100), std::max<int64_t>(offset, 0)});
    auto arr = atelier::makeArray();
    std::map<std::string, JsonObject> actors;
    for (auto& r : rows) {
        auto aid = r.text("actor_id");
        if (!actors.count(aid)) actors[aid] = findProfile(s_.db, aid);
        arr->add(eventJson(r, actors[aid], row.text("project_id")));
    }
    return arr;
}

}  // namespace tickets
