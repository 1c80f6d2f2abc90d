#include "sessions.hpp"

#include "backends.hpp"

namespace agents {

using atelier::makeArray;
using atelier::makeObject;

bool canTransition(const std::string& from, const std::string& to) {
    if (from == "pending") return to == "running" || to == "aborted";
    if (from == "running") return to == "completed" || to == "failed" || to == "aborted" || to == "running";
    if (from == "completed") return to == "stopped" || to == "running";
    if (from == "failed" || from == "aborted" || from == "stopped") return to == "running";
    return false;
}

std::vector<std::string> SessionStore::migrations() {
    return {
        "CREATE TABLE agents_sessions (id TEXT PRIMARY KEY, kombuse_session_id TEXT NOT NULL UNIQUE,"
        " backend_type TEXT NOT NULL, backend_session_id TEXT, agent_id TEXT, project_id TEXT, ticket_id TEXT,"
        " model_preference TEXT, status TEXT NOT NULL, terminal_reason TEXT, prompt_preview TEXT,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_activity_at INTEGER NOT NULL)",
        "CREATE TABLE agents_session_events (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, seq INTEGER NOT NULL,"
        " event_type TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, UNIQUE(session_id, seq))",
    };
}

JsonObject SessionStore::toJson(const atelier::Row& r) const {
    auto o = makeObject();
    o->set("id", r.text("id"));
    o->set("kombuse_session_id", r.text("kombuse_session_id"));
    o->set("backend_type", r.text("backend_type"));
    o->set("backend_session_id", r.var("backend_session_id"));
    o->set("agent_id", r.var("agent_id"));
    o->set("project_id", r.var("project_id"));
    o->set("ticket_id", r.var("ticket_id"));
    o->set("status", r.text("status"));
    o->set("terminal_reason", r.var("terminal_reason"));
    o->set("created_at", r.text("created_at"));
    o->set("updated_at", r.text("updated_at"));
    // computed
    std::optional<JsonObject> agent;
    if (!r.isNull("agent_id")) agent = agents_.get(r.text("agent_id"));
    o->set("effective_backend", r.text("backend_type"));
    o->set("model_preference", r.var("model_preference"));
    std::string applied = r.text("model_preference");
    if (applied.empty() && agent) applied = str(obj(*agent, "config"), "model", str(*agent, "model"));
    if (applied.empty()) applied = defaultModelFor(r.text("backend_type"), config_);
    o->set("applied_model", applied);
    o->set("ticket_number", Poco::Dynamic::Var());
    o->set("agent_name", agent ? Poco::Dynamic::Var(str(*agent, "name")) : Poco::Dynamic::Var());
    o->set("prompt_preview", r.var("prompt_preview"));
    return o;
}
JsonObject SessionStore::create(const NewSession& req) {
    const auto& backend = req.backendType;
    const auto& model = req.modelPreference;
    const auto& agentId = req.agentId;
    const auto& projectId = req.projectId;
    const auto& ticketId = req.ticketId;
    if (backend && !isBackendName(*backend))
        throw invalidInput("backend_type is not a known backend", "VALIDATION_ERROR",
                           {{"backend_type", "must be one of claude-code, codex, gemini, opencode, mock"}});
    std::optional<JsonObject> agent;
    if (agentId) {
        agent = agents_.get(*agentId);
        if (!agent) throw notFound("Agent not found", "AGENT_NOT_FOUND");
        bool chat = obj(*agent, "config") && obj(*agent, "config")->optValue<bool>("enabled_for_chat", false);
        if (!(*agent)->optValue<bool>("is_enabled", true) || !chat)
            throw invalidInput("The agent is not enabled for chat", "AGENT_NOT_AVAILABLE_FOR_CHAT");
    }
    // Resolution order: body → agent config → user default → claude-code.
    std::string resolved = backend.value_or("");
    if (resolved.empty() && agent) resolved = str(obj(*agent, "config"), "backend_type");
    if (resolved.empty()) resolved = str(config_, "default_backend");
    if (resolved.empty()) resolved = "claude-code";
    std::string uuid = atelier::newUuid();
    std::string kid = "chat-" + uuid;
    std::string now = atelier::nowIso();
    db_.exec("INSERT INTO agents_sessions (id, kombuse_session_id, backend_type, agent_id, project_id, ticket_id,"
             " model_preference, status, created_at, updated_at, last_activity_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
             {kid, kid, resolved, agentId, projectId, ticketId, model, "pending", now, now, atelier::nowMillis()});
    auto p = makeObject();
    p->set("backend_type", resolved);
    appendEvent(kid, "session.created", p);
    return *get(kid);
}

JsonArray SessionStore::list(const SessionFilter& f) const {
    std::string sql = "SELECT * FROM agents_sessions WHERE 1=1";
    std::vector<atelier::Param> ps;
    auto eq = [&](const char* col, const std::optional<std::string>& v) {
        if (!v) return;
        sql += std::string(" AND ") + col + " = ?";
        ps.emplace_back(*v);
    };
    eq("ticket_id", f.ticketId);
    eq("project_id", f.projectId);
    eq("agent_id", f.agentId);
    eq("status", f.status);
    eq("terminal_reason", f.terminalReason);
    if (f.hasBackendSessionId)
        sql += *f.hasBackendSessionId ? " AND backend_session_id IS NOT NULL" : " AND backend_session_id IS NULL";
    sql += f.sortBy == "updated_at" ? " ORDER BY updated_at DESC" : " ORDER BY created_at DESC";
    sql += " LIMIT ? OFFSET ?";
    ps.emplace_back(f.limit);
    ps.emplace_back(f.offset);
    auto out = makeArray();
    for (auto& r : db_.query(sql, ps)) out->add(toJson(r));
    return out;
}

std::optional<JsonObject> SessionStore::get(const std::string& id) const {
    auto r = db_.one("SELECT * FROM agents_sessions WHERE id = ? OR kombuse_session_id = ?", {id, id});
    if (!r) return std::nullopt;
    return toJson(*r);
}

JsonObject SessionStore::events(const std::string& id, int64_t sinceSeq, const std::optional<std::string>& type,
                                int64_t limit) const {
    auto s = get(id);
    if (!s) throw notFound("Session not found", "SESSION_NOT_FOUND");
    std::string sid = str(*s, "id");
    std::string where = " WHERE session_id = ? AND seq > ?";
    std::vector<atelier::Param> ps{sid, sinceSeq};
    if (type) {
        where += " AND event_type = ?";
        ps.emplace_back(*type);
    }
    auto total = db_.one("SELECT COUNT(*) AS n FROM agents_session_events" + where, ps);
    ps.emplace_back(limit);
    auto events = makeArray();
    for (auto& r : db_.query("SELECT * FROM agents_session_events" + where + " ORDER BY seq LIMIT ?", ps)) {
        auto e = makeObject();
        e->set("id", r.integer("id"));
        e->set("session_id", r.text("session_id"));
        e->set("seq", r.integer("seq"));
        e->set("event_type", r.text("event_type"));
        auto pl = parseAny(r.text("payload"));
        e->set("payload", pl.isEmpty() ? Poco::Dynamic::Var(makeObject()) : pl);
        e->set("created_at", r.text("created_at"));
        events->add(e);
    }
    auto o = makeObject();
    o->set("session_id", sid);
    o->set("events", events);
    o->set("total", total->integer("n"));
    return o;
}

void SessionStore::remove(const std::string& id) {
    auto s = get(id);
    if (!s) throw notFound("Session not found", "SESSION_NOT_FOUND");
    std::string sid = str(*s, "id");
    db_.transaction([&](const atelier::Db& tx) {
        tx.exec("DELETE FROM agents_session_events WHERE session_id = ?", {sid});
        tx.exec("DELETE FROM agents_sessions WHERE id = ?", {sid});
    });
}

int64_t SessionStore::appendEvent(const std::string& id, const std::string& type, const JsonObject& payload) {
    int64_t seq = 0;
    db_.transaction([&](const atelier::Db& tx) {
        auto r = tx.one("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM agents_session_events WHERE session_id = ?", {id});
        seq = r->integer("n");
        tx.exec("INSERT INTO agents_session_events (session_id, seq, event_type, payload, created_at) VALUES (?,?,?,?,?)",
                {id, seq, type, atelier::toJson(payload), atelier::nowIso()});
        tx.exec("UPDATE agents_sessions SET last_activity_at = ?, updated_at = ? WHERE id = ?",
                {atelier::nowMillis(), atelier::nowIso(), id});
    });
    return seq;
}

bool SessionStore::transition(const std::string& id, const std::string& to, const std::string& terminalReason) {
    auto r = db_.one("SELECT status FROM agents_sessions WHERE id = ?", {id});
    if (!r || !canTransition(r->text("status"), to)) return false;
    db_.exec("UPDATE agents_sessions SET status = ?, terminal_reason = ?, updated_at = ? WHERE id = ?",
             {to, terminalReason.empty() ? atelier::Param(nullptr) : atelier::Param(terminalReason), atelier::nowIso(), id});
    auto p = makeObject();
    p->set("from", r->text("status"));
    p->set("to", to);
    if (!terminalReason.empty()) p->set("terminal_reason", terminalReason);
    appendEvent(id, "session.state_changed", p);
    return true;
}

int SessionStore::sweep(int64_t idleMs) {
    int64_t cutoff = atelier::nowMillis() - idleMs;
    int n = 0;
    for (auto& r : db_.query("SELECT id, status FROM agents_sessions WHERE status IN ('pending','running') AND last_activity_at < ?",
                             {cutoff})) {
        std::string reason = r.text("status") == "pending" ? "orphaned" : "idle_timeout";
        if (transition(r.text("id"), "aborted", reason)) ++n;
    }
    return n;
}

JsonObject SessionStore::diagnostics(int64_t recentLimit) const {
    auto o = makeObject();
    auto total = db_.one("SELECT COUNT(*) AS n FROM agents_sessions");
    o->set("total_sessions", total->integer("n"));
    auto byStatus = makeObject();
    for (auto& r : db_.query("SELECT status, COUNT(*) AS n FROM agents_sessions GROUP BY status"))
        byStatus->set(r.text("status"), r.integer("n"));
    o->set("by_status", byStatus);
    auto reasons = makeObject();
    for (auto& r : db_.query("SELECT terminal_reason, COUNT(*) AS n FROM agents_sessions WHERE status = 'aborted'"
                             " GROUP BY terminal_reason"))
        reasons->set(r.text("terminal_reason", "unknown"), r.integer("n"));
    o->set("abort_reasons", reasons);
    auto aborted = db_.one("SELECT COUNT(*) AS n FROM agents_sessions WHERE status = 'aborted'");
    o->set("aborted_count", aborted->integer("n"));
    auto recent = makeArray();
    for (auto& r : db_.query("SELECT * FROM agents_sessions WHERE status = 'aborted' ORDER BY updated_at DESC LIMIT ?",
                             {recentLimit}))
        recent->add(toJson(r));
    o->set("recent_aborted", recent);
    return o;
}

}  // namespace agents
