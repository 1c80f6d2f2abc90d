#include "tools.hpp"

#include <sqlite3.h>

#include <atelier/util.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <tuple>

namespace atelier::mcp {

namespace {

using Var = Poco::Dynamic::Var;

struct P {
    std::string name;
    std::string type;
    std::string description;
    bool required = false;
    std::function<void(JsonObject&)> extra = nullptr;
};

JsonObject schema(const std::vector<P>& props) {
    JsonObject s = makeObject();
    s->set("type", "object");
    JsonObject ps = makeObject();
    JsonArray req = makeArray();
    for (auto& p : props) {
        JsonObject o = makeObject();
        o->set("type", p.type);
        o->set("description", p.description);
        if (p.extra) p.extra(o);
        ps->set(p.name, o);
        if (p.required) req->add(p.name);
    }
    s->set("properties", ps);
    if (req->size() > 0) s->set("required", req);
    return s;
}

auto range(int64_t lo, int64_t hi) {
    return [lo, hi](JsonObject& o) {
        o->set("minimum", lo);
        o->set("maximum", hi);
    };
}
auto oneOf(std::vector<std::string> values) {
    return [values](JsonObject& o) {
        JsonArray a = makeArray();
        for (auto& v : values) a->add(v);
        o->set("enum", a);
    };
}
auto itemsOf(std::string type) {
    return [type](JsonObject& o) {
        JsonObject i = makeObject();
        i->set("type", type);
        o->set("items", i);
    };
}

const P kSession{"kombuse_session_id", "string",
                 "Your session id: writes are checked against your agent's permissions"};

std::string enc(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out.push_back(static_cast<char>(c));
        else {
            char b[4];
            std::snprintf(b, sizeof b, "%%%02X", c);
            out += b;
        }
    }
    return out;
}

std::string argText(const JsonObject& a, const std::string& k) {
    auto v = a->get(k);
    if (v.type() == typeid(JsonArray)) {
        auto arr = v.extract<JsonArray>();
        std::string s;
        for (size_t i = 0; i < arr->size(); ++i) s += (i ? "," : "") + arr->get(static_cast<unsigned>(i)).toString();
        return s;
    }
    return v.toString();
}

// "?a=1&b=x" from the named arguments that are present.
std::string query(const JsonObject& a, const std::vector<std::pair<std::string, std::string>>& names) {
    std::string q;
    for (auto& [arg, param] : names) {
        if (!a->has(arg) || a->isNull(arg)) continue;
        q += (q.empty() ? "?" : "&") + param + "=" + enc(argText(a, arg));
    }
    return q;
}

bool has(const JsonObject& a, const std::string& k) { return a->has(k) && !a->isNull(k); }
std::string str(const JsonObject& a, const std::string& k) { return has(a, k) ? a->get(k).toString() : std::string(); }

class Tools {
public:
    explicit Tools(ToolEnv env) : env_(std::move(env)) {}

    Var call(const std::string& method, const std::string& path, const std::string& body = {}) const {
        auto r = env_.call(method, path, body);
        if (r.status == 204) return Var(makeObject());
        Var v;
        try {
            v = r.body.empty() ? Var(makeObject()) : Poco::JSON::Parser().parse(r.body);
        } catch (...) {
            if (r.status >= 400) throw ToolError(method + " " + path + " failed with HTTP " + std::to_string(r.status));
            return Var(r.body);
        }
        if (r.status >= 400) {
            std::string msg = "HTTP " + std::to_string(r.status);
            if (v.type() == typeid(JsonObject)) {
                auto o = v.extract<JsonObject>();
                if (o->has("error") && o->get("error").isString()) msg += ": " + o->getValue<std::string>("error");
                if (o->has("code")) msg += " (" + o->get("code").toString() + ")";
            }
            throw ToolError(msg);
        }
        return v;
    }
    // A read whose JSON answer becomes the tool's text as it is: no parse and re-serialise.
    Var read(const std::string& path) const {
        auto r = env_.call("GET", path, {});
        if (r.status >= 200 && r.status < 300 && !r.body.empty()) return Var(std::move(r.body));
        return call("GET", path);  // errors (and empty answers) take the checked path
    }
    JsonObject callObject(const std::string& method, const std::string& path, const std::string& body = {}) const {
        auto v = call(method, path, body);
        if (v.type() != typeid(JsonObject)) throw ToolError(path + " did not answer with an object");
        return v.extract<JsonObject>();
    }

    // The author for a write: the session's agent (checked against its permissions), or the
    // anonymous agent when anonymous writes are allowed.
    std::string authorize(const ToolCall& c, const std::string& tool, const std::string& resource,
                          const std::string& action) const {
        if (c.caller.hasToken) {
            bool ok = false;
            for (auto& s : c.caller.scopes) ok = ok || s == "*" || s == "write" || s == "tool:" + tool;
            if (!ok) throw ToolError("Permission denied: this token's scopes do not allow " + tool);
        }
        std::string session = str(c.args, "kombuse_session_id");
        if (session.empty()) {
            if (env_.anonymousWriteAccess() == "denied")
                throw ToolError(
                    "Permission denied: anonymous MCP writes are disabled (mcp.anonymous_write_access); pass your "
                    "kombuse_session_id");
            ensureAnonymousAgent();
            return "anonymous-agent";
        }
        auto r = env_.call("GET", "/api/sessions/" + enc(session), {});
        if (r.status == 404) throw ToolError("Permission denied: unknown kombuse_session_id " + session);
        if (r.status >= 400)
            throw ToolError("Cannot resolve kombuse_session_id (HTTP " + std::to_string(r.status) + ")");
        auto s = parseObject(r.body);
        if (!s || !s->has("agent_id") ||
            s->isNull("agent_id")) {  // a session without an agent: no agent permissions apply
            ensureAnonymousAgent();
            return "anonymous-agent";
        }
        std::string agentId = s->get("agent_id").toString();
        auto agent = callObject("GET", "/api/agents/" + enc(agentId));
        auto perms = agent->getArray("permissions");
        bool ok = false;
        for (size_t i = 0; perms && i < perms->size() && !ok; ++i) {
            auto p = perms->getObject(static_cast<unsigned>(i));
            if (!p) continue;
            std::string type = p->optValue<std::string>("type", "");
            if (type == "tool") {
                std::string t = p->optValue<std::string>("tool", "");
                ok = t == "*" || t == tool || t == "mcp__atelier__" + tool || t == "mcp__atelier__*";
            } else if (type == "resource") {
                std::string res = p->optValue<std::string>("resource", "");
                if (res != resource && res != "*") continue;
                if (auto acts = p->getArray("actions"))
                    for (size_t j = 0; j < acts->size(); ++j)
                        ok = ok || acts->get(static_cast<unsigned>(j)).toString() == action;
            }
        }
        if (!ok)
            throw ToolError("Permission denied: agent " + agentId + " may not " + action + " " + resource + " (" +
                            tool + ")");
        return agentId;
    }

    void checkRead(const ToolCall& c, const std::string& tool) const {
        if (!c.caller.hasToken) return;
        for (auto& s : c.caller.scopes)
            if (s == "*" || s == "read" || s == "write" || s == "tool:" + tool) return;
        throw ToolError("Permission denied: this token's scopes do not allow " + tool);
    }

    void ensureAnonymousAgent() const {
        if (anonymousReady_) return;
        auto r = env_.call("GET", "/api/profiles/anonymous-agent", {});
        if (r.status == 404) {
            JsonObject p = makeObject();
            p->set("id", "anonymous-agent");
            p->set("type", "agent");
            p->set("name", "Anonymous Agent");
            p->set("description", "Author of MCP writes made without a session");
            auto c = env_.call("POST", "/api/profiles", toJson(p));
            if (c.status >= 400 && c.status != 409)
                throw ToolError("Cannot create the anonymous-agent profile (HTTP " + std::to_string(c.status) + ")");
        }
        anonymousReady_ = true;
    }

    std::string ticketPath(const JsonObject& a) const {
        return "/api/projects/" + enc(str(a, "project_id")) + "/tickets/by-number/" + str(a, "ticket_number");
    }

    ToolEnv env_;
    mutable std::atomic<bool> anonymousReady_{false};
};

// ---- query_db: a separate read-only connection, so no statement can write.
struct Sqlite {
    sqlite3* db = nullptr;
    ~Sqlite() {
        if (db) sqlite3_close_v2(db);
    }
};

Var runQuery(const std::string& dbPath, const std::string& sql, const JsonArray& params, int64_t limit) {
    Sqlite c;
    if (sqlite3_open_v2(dbPath.c_str(), &c.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
        throw ToolError("Cannot open the database read-only");
    sqlite3_busy_timeout(c.db, 2000);
    sqlite3_exec(c.db, "PRAGMA query_only = ON", nullptr, nullptr, nullptr);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    sqlite3_progress_handler(
        c.db, 10000,
        [](void* ud) -> int {
            return std::chrono::steady_clock::now() > *static_cast<decltype(deadline)*>(ud) ? 1 : 0;
        },
        &deadline);
    sqlite3_stmt* st = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(c.db, sql.c_str(), static_cast<int>(sql.size()), &st, &tail) != SQLITE_OK || !st)
        throw ToolError(std::string("SQL error: ") + sqlite3_errmsg(c.db));
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, sqlite3_finalize);
    if (tail && std::string(tail).find_first_not_of(" \t\r\n;") != std::string::npos)
        throw ToolError("Only one statement is allowed");
    if (!sqlite3_stmt_readonly(st)) throw ToolError("Only read-only statements are allowed");
    for (size_t i = 0; params && i < params->size(); ++i) {
        auto v = params->get(static_cast<unsigned>(i));
        int idx = static_cast<int>(i + 1);
        if (v.isEmpty())
            sqlite3_bind_null(st, idx);
        else if (v.isInteger() && !v.isBoolean())
            sqlite3_bind_int64(st, idx, v.convert<int64_t>());
        else if (v.isNumeric() && !v.isBoolean())
            sqlite3_bind_double(st, idx, v.convert<double>());
        else if (v.isString()) {
            auto s = v.extract<std::string>();
            sqlite3_bind_text(st, idx, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        } else
            throw ToolError("params must be strings, numbers or null");
    }
    JsonArray rows = makeArray();
    JsonArray columns = makeArray();
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; ++i) columns->add(std::string(sqlite3_column_name(st, i)));
    bool truncated = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (static_cast<int64_t>(rows->size()) >= limit) {
            truncated = true;
            break;
        }
        JsonObject row = makeObject();
        for (int i = 0; i < n; ++i) {
            std::string name = sqlite3_column_name(st, i);
            switch (sqlite3_column_type(st, i)) {
                case SQLITE_INTEGER:
                    row->set(name, static_cast<int64_t>(sqlite3_column_int64(st, i)));
                    break;
                case SQLITE_FLOAT:
                    row->set(name, sqlite3_column_double(st, i));
                    break;
                case SQLITE_NULL:
                    row->set(name, Var());
                    break;
                case SQLITE_BLOB:
                    row->set(name, "<blob " + std::to_string(sqlite3_column_bytes(st, i)) + " bytes>");
                    break;
                default: {
                    std::string t(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                                  static_cast<size_t>(sqlite3_column_bytes(st, i)));
                    if (t.size() > 10000) t = t.substr(0, 10000) + "…";
                    row->set(name, t);
                }
            }
        }
        rows->add(row);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw ToolError(std::string("SQL error: ") + sqlite3_errmsg(c.db));
    JsonObject out = makeObject();
    out->set("columns", columns);
    out->set("rows", rows);
    out->set("row_count", rows->size());
    out->set("truncated", truncated);
    out->set("limit", limit);
    return out;
}

size_t jsonSize(const JsonObject& o) { return toJson(o).size(); }

std::string utf8Prefix(const std::string& s, size_t maxBytes) {
    if (s.size() <= maxBytes) return s;
    size_t n = maxBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // do not split a character
    return s.substr(0, n);
}

}  // namespace

JsonObject pruneToFit(JsonObject payload, size_t maxBytes) {
    if (jsonSize(payload) <= maxBytes) return payload;
    JsonArray pruned = makeArray();
    auto comments = payload->getArray("comments");
    // 1. shorten comment bodies, 2. drop the oldest comments, 3. shorten the ticket body.
    for (size_t cap : {1000u, 200u}) {
        if (!comments) break;
        for (size_t i = 0; i < comments->size(); ++i) {
            auto c = comments->getObject(static_cast<unsigned>(i));
            if (c && c->has("body") && c->get("body").isString() && c->getValue<std::string>("body").size() > cap) {
                c->set("body", utf8Prefix(c->getValue<std::string>("body"), cap) + "…");
                c->set("body_truncated", true);
            }
        }
        if (jsonSize(payload) <= maxBytes) {
            pruned->add("comment_bodies");
            payload->set("pruned", pruned);
            return payload;
        }
    }
    pruned->add("comment_bodies");
    size_t dropped = 0;
    while (comments && comments->size() > 0 && jsonSize(payload) > maxBytes) {
        comments->remove(0);
        ++dropped;
    }
    if (dropped) {
        pruned->add("comments");
        payload->set("comments_omitted", dropped);
    }
    auto ticket = payload->getObject("ticket");
    if (jsonSize(payload) > maxBytes && ticket && ticket->has("body") && ticket->get("body").isString()) {
        std::string body = ticket->getValue<std::string>("body");
        size_t over = jsonSize(payload) - maxBytes;
        size_t keep = body.size() > over + 200 ? body.size() - over - 200 : 0;
        ticket->set("body", utf8Prefix(body, keep) + "…");
        ticket->set("body_truncated", true);
        pruned->add("ticket_body");
    }
    payload->set("pruned", pruned);
    if (jsonSize(payload) > maxBytes) {  // nothing left to prune but other fields: keep only the essentials
        JsonObject slim = makeObject();
        JsonObject t = makeObject();
        for (auto k : {"id", "project_id", "ticket_number", "title", "status"})
            if (ticket && ticket->has(k)) t->set(k, ticket->get(k));
        if (ticket && ticket->has("title") && ticket->get("title").isString())
            t->set("title", utf8Prefix(ticket->getValue<std::string>("title"), 1000));
        slim->set("ticket", t);
        slim->set("pruned", pruned);
        return slim;
    }
    return payload;
}

std::vector<Tool> buildTools(const ToolEnv& envIn) {
    auto T = std::make_shared<Tools>(envIn);
    std::vector<Tool> tools;
    auto add = [&](std::string name, std::string desc, std::vector<P> props, bool write,
                   std::function<Var(const Tools&, const ToolCall&)> fn) {
        tools.push_back(Tool{name, std::move(desc), schema(props), write, [T, fn, write, name](const ToolCall& c) {
                                 if (!write) T->checkRead(c, name);
                                 return fn(*T, c);
                             }});
    };
    const P projectId{"project_id", "string", "Project id or slug", true};
    const P ticketNumber{"ticket_number", "integer", "Ticket number within the project", true, range(1, INT32_MAX)};

    // ---- tickets and comments (Kombuse)
    add("get_ticket", "Get a ticket with its comments (response capped at 25,000 bytes)",
        {projectId,
         ticketNumber,
         kSession,
         {"config", "object",
          "images?, comments?, ticket_body_preview_chars? (≤10000), comment_filters?{limit≤100, offset, "
          "include_bodies, max_body_chars≤4000}"}},
        false, [](const Tools& t, const ToolCall& c) {
            auto ticket = t.callObject("GET", t.ticketPath(c.args));
            auto cfg = has(c.args, "config") && c.args->get("config").type() == typeid(JsonObject)
                           ? c.args->getObject("config")
                           : makeObject();
            auto filters = cfg->has("comment_filters") && cfg->get("comment_filters").type() == typeid(JsonObject)
                               ? cfg->getObject("comment_filters")
                               : makeObject();
            int64_t limit = std::clamp<int64_t>(filters->optValue<int64_t>("limit", 20), 1, 100);
            int64_t offset = std::max<int64_t>(filters->optValue<int64_t>("offset", 0), 0);
            bool includeBodies = filters->optValue<bool>("include_bodies", true);
            size_t maxBody =
                static_cast<size_t>(std::clamp<int64_t>(filters->optValue<int64_t>("max_body_chars", 400), 0, 4000));
            size_t preview = static_cast<size_t>(
                std::clamp<int64_t>(cfg->optValue<int64_t>("ticket_body_preview_chars", 10000), 0, 10000));
            if (!cfg->optValue<bool>("force_full", false) && ticket->has("body") && ticket->get("body").isString()) {
                auto b = ticket->getValue<std::string>("body");
                if (b.size() > preview) {
                    ticket->set("body", utf8Prefix(b, preview) + "…");
                    ticket->set("body_truncated", true);
                }
            }
            JsonObject out = makeObject();
            out->set("ticket", ticket);
            if (cfg->optValue<bool>("comments", true)) {
                auto cv = t.call("GET", t.ticketPath(c.args) + "/comments?limit=" + std::to_string(limit) +
                                            "&offset=" + std::to_string(offset));
                JsonArray list = cv.type() == typeid(JsonArray) ? cv.extract<JsonArray>() : makeArray();
                if (cv.type() == typeid(JsonObject)) {
                    auto o = cv.extract<JsonObject>();
                    for (auto k : {"comments", "data", "items"})
                        if (o->has(k) && o->get(k).type() == typeid(JsonArray)) list = o->getArray(k);
                }
                for (size_t i = 0; i < list->size(); ++i) {
                    auto cm = list->getObject(static_cast<unsigned>(i));
                    if (!cm || !cm->has("body") || !cm->get("body").isString()) continue;
                    if (!includeBodies)
                        cm->remove("body");
                    else if (cm->getValue<std::string>("body").size() > maxBody) {
                        cm->set("body", utf8Prefix(cm->getValue<std::string>("body"), maxBody) + "…");
                        cm->set("body_truncated", true);
                    }
                }
                out->set("comments", list);
            }
            return Var(pruneToFit(out, kGetTicketMaxBytes));
        });
    add("get_ticket_comment", "Get one comment by id",
        {{"comment_id", "integer", "Comment id", true}, kSession, {"config", "object", "images?"}}, false,
        [](const Tools& t, const ToolCall& c) { return t.read("/api/comments/" + str(c.args, "comment_id")); });
    add("add_comment", "Add a comment to a ticket",
        {projectId,
         ticketNumber,
         {"body", "string", "Markdown body", true},
         {"parent_id", "integer", "Reply to this comment"},
         kSession},
        true, [](const Tools& t, const ToolCall& c) {
            JsonObject b = makeObject();
            b->set("body", c.args->get("body"));
            b->set("author_id", t.authorize(c, "add_comment", "comment", "create"));
            if (has(c.args, "parent_id")) b->set("parent_id", c.args->get("parent_id"));
            if (has(c.args, "kombuse_session_id")) b->set("kombuse_session_id", c.args->get("kombuse_session_id"));
            return t.call("POST", t.ticketPath(c.args) + "/comments", toJson(b));
        });
    add("create_ticket", "Create a ticket (triggers are off unless triggers_enabled is true)",
        {projectId,
         {"title", "string", "Title", true},
         {"body", "string", "Markdown body"},
         {"triggers_enabled", "boolean", "Let agent triggers fire (default false)"},
         {"loop_protection_enabled", "boolean", "Loop protection"},
         kSession},
        true, [](const Tools& t, const ToolCall& c) {
            JsonObject b = makeObject();
            b->set("project_id", c.args->get("project_id"));
            b->set("title", c.args->get("title"));
            if (has(c.args, "body")) b->set("body", c.args->get("body"));
            b->set("author_id", t.authorize(c, "create_ticket", "ticket", "create"));
            b->set("triggers_enabled", has(c.args, "triggers_enabled") ? c.args->get("triggers_enabled") : Var(false));
            if (has(c.args, "loop_protection_enabled"))
                b->set("loop_protection_enabled", c.args->get("loop_protection_enabled"));
            return t.call("POST", "/api/tickets", toJson(b));
        });
    add("update_comment", "Edit a comment's body",
        {{"comment_id", "integer", "Comment id", true}, {"body", "string", "New body", true}, kSession}, true,
        [](const Tools& t, const ToolCall& c) {
            JsonObject b = makeObject();
            b->set("body", c.args->get("body"));
            b->set("updated_by_id", t.authorize(c, "update_comment", "comment", "update"));
            return t.call("PATCH", "/api/comments/" + str(c.args, "comment_id"), toJson(b));
        });
    add("list_tickets", "List tickets with filters",
        {{"project_id", "string", "Project id or slug"},
         {"status", "string", "open, in_progress, blocked, closed, ..."},
         {"assignee_id", "string", "Assignee profile id"},
         {"label_ids", "array", "Label ids (all must match)", false, itemsOf("integer")},
         {"sort_by", "string", "created_at, updated_at, ..."},
         {"sort_order", "string", "asc or desc", false, oneOf({"asc", "desc"})},
         {"limit", "integer", "1..100 (default 50)", false, range(1, 100)},
         {"offset", "integer", "Offset", false, range(0, INT32_MAX)}},
        false, [](const Tools& t, const ToolCall& c) {
            JsonObject a = c.args;
            if (!has(a, "limit")) a->set("limit", 50);
            return t.read("/api/tickets" + query(a, {{"project_id", "project_id"},
                                                     {"status", "status"},
                                                     {"assignee_id", "assignee_id"},
                                                     {"label_ids", "label_ids"},
                                                     {"sort_by", "sort_by"},
                                                     {"sort_order", "sort_order"},
                                                     {"limit", "limit"},
                                                     {"offset", "offset"}}));
        });
    add("search_tickets", "Full-text search over tickets",
        {{"query", "string", "Search text", true, [](JsonObject& o) { o->set("maxLength", 200); }},
         {"project_id", "string", "Project id or slug"},
         {"status", "string", "Status"},
         {"limit", "integer", "≤100 (default 20)", false, range(1, 100)},
         {"offset", "integer", "Offset", false, range(0, INT32_MAX)}},
        false, [](const Tools& t, const ToolCall& c) {
            JsonObject a = c.args;
            if (!has(a, "limit")) a->set("limit", 20);
            return t.read("/api/tickets" + query(a, {{"query", "search"},
                                                     {"project_id", "project_id"},
                                                     {"status", "status"},
                                                     {"limit", "limit"},
                                                     {"offset", "offset"}}));
        });
    add("list_projects", "List projects",
        {{"search", "string", "Filter by name"},
         {"limit", "integer", "Limit", false, range(1, 100)},
         {"offset", "integer", "Offset", false, range(0, INT32_MAX)}},
        false, [](const Tools& t, const ToolCall& c) {
            return t.read("/api/projects" +
                          query(c.args, {{"search", "search"}, {"limit", "limit"}, {"offset", "offset"}}));
        });
    add("list_labels", "Labels of a project", {projectId}, false, [](const Tools& t, const ToolCall& c) {
        return t.read("/api/projects/" + enc(str(c.args, "project_id")) + "/labels");
    });
    add("update_ticket", "Update a ticket's fields and labels",
        {projectId,
         ticketNumber,
         {"title", "string", "Title"},
         {"body", "string", "Body"},
         {"status", "string", "Status"},
         {"priority", "integer", "0..4", false, range(0, 4)},
         {"assignee_id", "string", "Assignee profile id (null to clear)", false,
          [](JsonObject& o) { o->set("nullable", true); }},
         {"add_label_ids", "array", "Labels to add", false, itemsOf("integer")},
         {"remove_label_ids", "array", "Labels to remove", false, itemsOf("integer")},
         kSession},
        true, [](const Tools& t, const ToolCall& c) {
            std::string who = t.authorize(c, "update_ticket", "ticket", "update");
            JsonObject b = makeObject();
            for (auto k : {"title", "body", "status", "priority"})
                if (has(c.args, k)) b->set(k, c.args->get(k));
            if (c.args->has("assignee_id")) b->set("assignee_id", c.args->get("assignee_id"));
            if (b->size() > 0) {
                b->set("updated_by_id", who);
                t.call("PATCH", t.ticketPath(c.args), toJson(b));
            }
            for (auto [k, method, actorKey] : {std::tuple{"add_label_ids", "POST", "added_by_id"},
                                               std::tuple{"remove_label_ids", "DELETE", "removed_by_id"}}) {
                if (!has(c.args, k)) continue;
                JsonObject actor = makeObject();
                actor->set(actorKey, who);
                auto ids = c.args->getArray(k);
                for (size_t i = 0; i < ids->size(); ++i)
                    t.call(method, t.ticketPath(c.args) + "/labels/" + ids->get(static_cast<unsigned>(i)).toString(),
                           toJson(actor));
            }
            return t.call("GET", t.ticketPath(c.args));
        });

    // ---- database (read-only) and API
    add("query_db", "Run one read-only SQL query (100 rows by default, 500 at most)",
        {{"sql", "string", "A single SELECT (or other read-only) statement", true},
         {"params", "array", "Positional parameters (string, number or null)"},
         {"limit", "integer", "Row cap (default 100, max 500)", false, range(1, kQueryMaxRows)}},
        false, [dbPath = envIn.dbPath](const Tools&, const ToolCall& c) {
            auto params = has(c.args, "params") ? c.args->getArray("params") : makeArray();
            return runQuery(dbPath, str(c.args, "sql"), params,
                            has(c.args, "limit") ? c.args->getValue<int64_t>("limit") : kQueryDefaultRows);
        });
    add("list_tables", "List the database tables", {}, false, [dbPath = envIn.dbPath](const Tools&, const ToolCall&) {
        auto r = runQuery(
            dbPath, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            makeArray(), kQueryMaxRows * 4);
        JsonArray names = makeArray();
        auto rows = r.extract<JsonObject>()->getArray("rows");
        for (size_t i = 0; i < rows->size(); ++i) names->add(rows->getObject(static_cast<unsigned>(i))->get("name"));
        JsonObject o = makeObject();
        o->set("tables", names);
        return Var(o);
    });
    add("describe_table", "Columns of a table", {{"table_name", "string", "Table name", true}}, false,
        [dbPath = envIn.dbPath](const Tools&, const ToolCall& c) {
            JsonArray p = makeArray();
            p->add(str(c.args, "table_name"));
            auto r = runQuery(
                dbPath,
                "SELECT name, type, \"notnull\" AS not_null, dflt_value AS default_value, pk FROM pragma_table_info(?)",
                p, 1000);
            auto rows = r.extract<JsonObject>()->getArray("rows");
            if (rows->size() == 0) throw ToolError("No table named " + str(c.args, "table_name"));
            JsonObject o = makeObject();
            o->set("table", str(c.args, "table_name"));
            o->set("columns", rows);
            return Var(o);
        });
    add("list_api_endpoints", "List the server's REST endpoints",
        {{"method", "string", "Only this HTTP method", false, oneOf({"GET", "POST", "PUT", "PATCH", "DELETE"})}}, false,
        [](const Tools& t, const ToolCall& c) {
            auto spec = t.callObject("GET", "/api/openapi.json");
            std::string only = str(c.args, "method");
            JsonArray out = makeArray();
            auto paths = spec->getObject("paths");
            for (auto& p : paths ? paths->getNames() : std::vector<std::string>{}) {
                auto ops = paths->getObject(p);
                for (auto& m : ops->getNames()) {
                    std::string upper = m;
                    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                    if (!only.empty() && upper != only) continue;
                    JsonObject e = makeObject();
                    e->set("method", upper);
                    e->set("path", p);
                    auto op = ops->getObject(m);
                    if (op && op->has("summary")) e->set("summary", op->get("summary"));
                    out->add(e);
                }
            }
            JsonObject o = makeObject();
            o->set("endpoints", out);
            o->set("count", out->size());
            return Var(o);
        });
    add("call_api", "GET one of the server's REST endpoints (read-only)",
        {{"path", "string", "Path starting with /api/", true}, {"query", "object", "Query parameters"}}, false,
        [](const Tools& t, const ToolCall& c) {
            std::string path = str(c.args, "path");
            if (path.rfind("/api/", 0) != 0 || path.find("..") != std::string::npos ||
                path.find('?') != std::string::npos || path.find('#') != std::string::npos)
                throw ToolError("path must start with /api/ and hold no '..', '?' or '#' (put parameters in query)");
            std::string q;
            if (has(c.args, "query") && c.args->get("query").type() == typeid(JsonObject)) {
                auto qo = c.args->getObject("query");
                for (auto& k : qo->getNames()) q += (q.empty() ? "?" : "&") + enc(k) + "=" + enc(qo->get(k).toString());
            }
            auto r = t.env_.call("GET", path + q, {});
            JsonObject o = makeObject();
            o->set("status", r.status);
            std::string body = r.body;
            if (body.size() > kCallApiMaxBytes) {
                o->set("truncated", true);
                o->set("body", utf8Prefix(body, kCallApiMaxBytes));
                return Var(o);
            }
            Var parsed;
            try {
                parsed = Poco::JSON::Parser().parse(body);
            } catch (...) {
                parsed = body;
            }
            o->set("body", parsed);
            return Var(o);
        });

    // ---- agents (Kombuse)
    add("list_agents", "List agents",
        {{"is_enabled", "boolean", "Only enabled (or disabled) agents"},
         {"project_id", "string", "Project"},
         {"limit", "integer", "Limit", false, range(1, 100)},
         {"offset", "integer", "Offset", false, range(0, INT32_MAX)}},
        false, [](const Tools& t, const ToolCall& c) {
            return t.read("/api/agents" + query(c.args, {{"is_enabled", "is_enabled"},
                                                         {"project_id", "project_id"},
                                                         {"limit", "limit"},
                                                         {"offset", "offset"}}));
        });
    add("create_agent", "Create an agent",
        {{"id", "string", "Id"},
         {"name", "string", "Name", true},
         {"description", "string", "Description", true},
         {"slug", "string", "Slug"},
         {"system_prompt", "string", "System prompt", true},
         {"permissions", "array", "Permissions"},
         {"config", "object", "AgentConfig"},
         {"is_enabled", "boolean", "Enabled"},
         {"project_id", "string", "Project"},
         kSession},
        true, [](const Tools& t, const ToolCall& c) {
            t.authorize(c, "create_agent", "agent", "create");
            JsonObject b = makeObject();
            for (auto& k : c.args->getNames())
                if (k != "kombuse_session_id") b->set(k, c.args->get(k));
            return t.call("POST", "/api/agents", toJson(b));
        });
    add("update_agent", "Update an agent",
        {{"agent_id", "string", "Agent id", true},
         {"system_prompt", "string", "System prompt"},
         {"permissions", "array", "Permissions"},
         {"config", "object", "AgentConfig"},
         {"is_enabled", "boolean", "Enabled"},
         kSession},
        true, [](const Tools& t, const ToolCall& c) {
            t.authorize(c, "update_agent", "agent", "update");
            JsonObject b = makeObject();
            for (auto k : {"system_prompt", "permissions", "config", "is_enabled"})
                if (c.args->has(k)) b->set(k, c.args->get(k));
            return t.call("PATCH", "/api/agents/" + enc(str(c.args, "agent_id")), toJson(b));
        });

    // ---- Atelier's own: worktrees, dev servers, runs, activity
    const P project{"project", "string", "Project id or slug (default: the server's active project)"};
    auto pq = [](const JsonObject& a) {
        return has(a, "project") ? "?project=" + enc(str(a, "project")) : std::string();
    };
    add("list_worktrees", "List the project's git worktrees", {project}, false,
        [pq](const Tools& t, const ToolCall& c) { return t.read("/api/worktrees" + pq(c.args)); });
    add("create_worktree", "Create a git worktree on a new or existing branch",
        {{"branch", "string", "Branch", true},
         {"name", "string", "Directory / id"},
         {"base_branch", "string", "Start point"},
         project,
         kSession},
        true, [pq](const Tools& t, const ToolCall& c) {
            t.authorize(c, "create_worktree", "worktree", "create");
            JsonObject b = makeObject();
            b->set("branch", c.args->get("branch"));
            if (has(c.args, "name")) b->set("name", c.args->get("name"));
            if (has(c.args, "base_branch")) b->set("baseBranch", c.args->get("base_branch"));
            return t.call("POST", "/api/worktrees" + pq(c.args), toJson(b));
        });
    add("delete_worktree", "Remove a git worktree", {{"worktree_id", "string", "Worktree id", true}, project, kSession},
        true, [pq](const Tools& t, const ToolCall& c) {
            t.authorize(c, "delete_worktree", "worktree", "delete");
            return t.call("DELETE", "/api/worktrees/" + enc(str(c.args, "worktree_id")) + pq(c.args));
        });
    add("start_dev_server", "Start a worktree's dev server",
        {{"worktree_id", "string", "Worktree id", true}, project, kSession}, true,
        [pq](const Tools& t, const ToolCall& c) {
            t.authorize(c, "start_dev_server", "worktree", "update");
            return t.call("POST", "/api/worktrees/" + enc(str(c.args, "worktree_id")) + "/start" + pq(c.args), "{}");
        });
    add("stop_dev_server", "Stop a worktree's dev server",
        {{"worktree_id", "string", "Worktree id", true}, project, kSession}, true,
        [pq](const Tools& t, const ToolCall& c) {
            t.authorize(c, "stop_dev_server", "worktree", "update");
            return t.call("POST", "/api/worktrees/" + enc(str(c.args, "worktree_id")) + "/stop" + pq(c.args), "{}");
        });
    add("start_run", "Start an agent run on a task",
        {{"agent_id", "string", "Agent id", true},
         {"task", "string", "What to do", true},
         {"project_id", "string", "Project"},
         {"source_branch", "string", "Base branch"},
         {"model", "string", "Model override"},
         kSession},
        true, [](const Tools& t, const ToolCall& c) {
            t.authorize(c, "start_run", "run", "create");
            JsonObject b = makeObject();
            for (auto k : {"agent_id", "task", "project_id", "source_branch", "model"})
                if (has(c.args, k)) b->set(k, c.args->get(k));
            return t.call("POST", "/api/runs", toJson(b));
        });
    add("get_run_events", "A run's events",
        {{"run_id", "string", "Run id", true},
         {"after", "integer", "Only events after this sequence"},
         {"limit", "integer", "Limit", false, range(1, 1000)}},
        false, [](const Tools& t, const ToolCall& c) {
            return t.read("/api/runs/" + enc(str(c.args, "run_id")) + "/events" +
                          query(c.args, {{"after", "after"}, {"limit", "limit"}}));
        });
    add("get_activity", "The activity feed (newest first)",
        {{"since", "string", "ISO 8601 lower bound"},
         {"category", "string", "agent, worktree or system", false, oneOf({"agent", "worktree", "system"})},
         {"limit", "integer", "1..1000 (default 100)", false, range(1, 1000)}},
        false, [](const Tools& t, const ToolCall& c) {
            return t.read("/api/activity" +
                          query(c.args, {{"since", "since"}, {"category", "category"}, {"limit", "limit"}}));
        });
    return tools;
}

}  // namespace atelier::mcp
