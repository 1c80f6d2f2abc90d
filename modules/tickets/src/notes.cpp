#include "notes.hpp"

namespace tickets {

namespace {

JsonObject section(const Row& r, const char* content, const char* updated) {
    if (r.isNull(content)) return nullptr;
    auto o = atelier::makeObject();
    o->set("content", r.text(content));
    o->set("updatedAt", r.var(updated));
    return o;
}

JsonObject defaultPolicy() {
    auto o = atelier::makeObject();
    o->set("agentCommits", "inherit");
    o->set("agentPushes", "inherit");
    o->set("agentPRs", "inherit");
    return o;
}

JsonObject notesJson(const std::optional<Row>& r) {
    auto o = atelier::makeObject();
    if (!r) {
        o->set("linkedWorktreeId", Var());
        o->set("personal", Var());
        o->set("aiContext", Var());
        o->set("todos", atelier::makeArray());
        o->set("gitPolicy", defaultPolicy());
        return o;
    }
    o->set("linkedWorktreeId", r->var("linked_worktree_id"));
    auto p = section(*r, "personal", "personal_updated_at");
    o->set("personal", p ? Var(p) : Var());
    auto a = section(*r, "ai_context", "ai_context_updated_at");
    o->set("aiContext", a ? Var(a) : Var());
    auto todos = atelier::parseArray(r->text("todos"));
    o->set("todos", todos ? todos : atelier::makeArray());
    auto policy = r->isNull("git_policy") ? nullptr : atelier::parseObject(r->text("git_policy"));
    o->set("gitPolicy", policy ? policy : defaultPolicy());
    return o;
}

void checkSource(const std::string& source) {
    if (source != "jira" && source != "linear" && source != "local") throw validation("source", "must be jira, linear or local");
}

}  // namespace

std::string canonicalIssueId(const std::string& source, const std::string& issueId) {
    checkSource(source);
    if (issueId.empty() || issueId.size() > 200 || issueId.find('/') != std::string::npos || issueId.find('\\') != std::string::npos ||
        issueId.find("..") != std::string::npos)
        throw validation("id", "must be an issue key without path separators");
    std::string id = issueId;
    if (source == "local")
        for (auto& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return id;
}

JsonObject Notes::get(const std::string& projectId, const std::string& source, const std::string& issueId) const {
    auto id = canonicalIssueId(source, issueId);
    return notesJson(s_.db.one("SELECT * FROM tickets_notes WHERE project_id = ? AND source = ? AND issue_id = ?", {projectId, source, id}));
}

JsonObject Notes::modify(const std::string& projectId, const std::string& source, const std::string& issueId,
                         const std::function<void(const Db&, Row*, std::vector<std::string>&, std::vector<Param>&)>& fn) const {
    auto id = canonicalIssueId(source, issueId);
    s_.db.transaction([&](const Db& tx) {
        auto now = nowIso();
        tx.exec("INSERT INTO tickets_notes (project_id, source, issue_id, todos, created_at, updated_at) VALUES (?,?,?,'[]',?,?)"
                " ON CONFLICT(project_id, source, issue_id) DO NOTHING",
                {projectId, source, id, now, now});
        auto row = tx.one("SELECT * FROM tickets_notes WHERE project_id = ? AND source = ? AND issue_id = ?", {projectId, source, id});
        std::vector<std::string> sets;
        std::vector<Param> ps;
        fn(tx, &*row, sets, ps);
        std::string sql = "UPDATE tickets_notes SET ";
        for (auto& s : sets) sql += s + " = ?, ";
        sql += "updated_at = ? WHERE project_id = ? AND source = ? AND issue_id = ?";
        ps.emplace_back(now);
        ps.emplace_back(projectId);
        ps.emplace_back(source);
        ps.emplace_back(id);
        tx.exec(sql, ps);
    });
    return get(projectId, source, id);
}

JsonObject Notes::putSection(const std::string& projectId, const std::string& source, const std::string& issueId, const JsonObject& body) const {
    canonicalIssueId(source, issueId);
    auto sectionName = stringField(body, "section", 32);
    if (sectionName != "personal" && sectionName != "aiContext") throw validation("section", "must be personal or aiContext");
    if (!atelier::has(body, "content")) throw validation("content", "is required");
    auto content = optStringField(body, "content", 200000);
    return modify(projectId, source, issueId, [&](const Db&, Row*, std::vector<std::string>& sets, std::vector<Param>& ps) {
        bool personal = sectionName == "personal";
        sets.push_back(personal ? "personal" : "ai_context");
        ps.emplace_back(*content);
        sets.push_back(personal ? "personal_updated_at" : "ai_context_updated_at");
        ps.emplace_back(nowIso());
    });
}

JsonObject Notes::addTodo(const std::string& projectId, const std::string& source, const std::string& issueId, const JsonObject& body) const {
    canonicalIssueId(source, issueId);
    auto text = stringField(body, "text", 2000);
    return modify(projectId, source, issueId, [&](const Db&, Row* row, std::vector<std::string>& sets, std::vector<Param>& ps) {
        auto todos = atelier::parseArray(row->text("todos"));
        if (!todos) todos = atelier::makeArray();
        if (todos->size() >= 500) throw unprocessable("A note holds at most 500 todos", "TOO_MANY_TODOS");
        auto t = atelier::makeObject();
        t->set("id", atelier::newUuid());
        t->set("text", text);
        t->set("checked", false);
        t->set("createdAt", nowIso());
        todos->add(t);
        sets.push_back("todos");
        ps.emplace_back(atelier::toJson(todos));
    });
}

JsonObject Notes::updateTodo(const std::string& projectId, const std::string& source, const std::string& issueId, const std::string& todoId,
                             const JsonObject& body) const {
    canonicalIssueId(source, issueId);
    std::optional<std::string> text;
    if (presence(body, "text").present) text = stringField(body, "text", 2000);
    auto checked = boolField(body, "checked");
    if (!text && !checked) throw validation("body", "must contain text or checked");
    auto id = canonicalIssueId(source, issueId);
    if (!s_.db.one("SELECT 1 AS x FROM tickets_notes WHERE project_id = ? AND source = ? AND issue_id = ?", {projectId, source, id}))
        throw notFound("Todo not found", "TODO_NOT_FOUND");
    return modify(projectId, source, issueId, [&](const Db&, Row* row, std::vector<std::string>& sets, std::vector<Param>& ps) {
        auto todos = atelier::parseArray(row->text("todos"));
        bool found = false;
        for (size_t i = 0; todos && i < todos->size(); ++i) {
            auto t = todos->getObject(static_cast<unsigned>(i));
            if (t && t->optValue<std::string>("id", "") == todoId) {
                if (text) t->set("text", *text);
                if (checked) t->set("checked", *checked);
                found = true;
            }
        }
        if (!found) throw notFound("Todo not found", "TODO_NOT_FOUND");
        sets.push_back("todos");
        ps.emplace_back(atelier::toJson(todos));
    });
}

JsonObject Notes::deleteTodo(const std::string& projectId, const std::string& source, const std::string& issueId, const std::string& todoId) const {
    auto id = canonicalIssueId(source, issueId);
    if (!s_.db.one("SELECT 1 AS x FROM tickets_notes WHERE project_id = ? AND source = ? AND issue_id = ?", {projectId, source, id}))
        throw notFound("Todo not found", "TODO_NOT_FOUND");
    return modify(projectId, source, issueId, [&](const Db&, Row* row, std::vector<std::string>& sets, std::vector<Param>& ps) {
        auto todos = atelier::parseArray(row->text("todos"));
        auto kept = atelier::makeArray();
        bool found = false;
        for (size_t i = 0; todos && i < todos->size(); ++i) {
            auto t = todos->getObject(static_cast<unsigned>(i));
            if (t && t->optValue<std::string>("id", "") == todoId) found = true;
            else kept->add(todos->get(static_cast<unsigned>(i)));
        }
        if (!found) throw notFound("Todo not found", "TODO_NOT_FOUND");
        sets.push_back("todos");
        ps.emplace_back(atelier::toJson(kept));
    });
}

JsonObject Notes::gitPolicy(const std::string& projectId, const std::string& source, const std::string& issueId, const JsonObject& body) const {
    canonicalIssueId(source, issueId);
    std::vector<std::pair<std::string, std::string>> updates;
    for (auto key : {"agentCommits", "agentPushes", "agentPRs"}) {
        auto v = optStringField(body, key, 16);
        if (!v) continue;
        if (*v != "inherit" && *v != "allow" && *v != "deny") throw validation(key, "must be inherit, allow or deny");
        updates.emplace_back(key, *v);
    }
    if (updates.empty()) throw validation("body", "must contain agentCommits, agentPushes or agentPRs");
    return modify(projectId, source, issueId, [&](const Db&, Row* row, std::vector<std::string>& sets, std::vector<Param>& ps) {
        auto policy = row->isNull("git_policy") ? nullptr : atelier::parseObject(row->text("git_policy"));
        if (!policy) policy = defaultPolicy();
        for (auto& [k, v] : updates) policy->set(k, v);
        sets.push_back("git_policy");
        ps.emplace_back(atelier::toJson(policy));
    });
}

void Notes::link(const std::string& projectId, const std::string& source, const std::string& issueId, const std::string& worktreeId) const {
    modify(projectId, source, issueId, [&](const Db&, Row*, std::vector<std::string>& sets, std::vector<Param>& ps) {
        sets.push_back("linked_worktree_id");
        ps.emplace_back(worktreeId);
    });
}

std::optional<std::string> Notes::linkedWorktree(const std::string& projectId, const std::string& source, const std::string& issueId) const {
    auto r = s_.db.one("SELECT linked_worktree_id FROM tickets_notes WHERE project_id = ? AND source = ? AND issue_id = ?",
                       {projectId, source, canonicalIssueId(source, issueId)});
    if (!r || r->isNull("linked_worktree_id")) return std::nullopt;
    return r->text("linked_worktree_id");
}

void Notes::removeAll(const std::string& projectId, const std::string& source, const std::string& issueId) const {
    s_.db.exec("DELETE FROM tickets_notes WHERE project_id = ? AND source = ? AND issue_id = ?", {projectId, source, canonicalIssueId(source, issueId)});
}

}  // namespace tickets
