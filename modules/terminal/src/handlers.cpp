// HTTP and WebSocket adapters of the terminal module.
#include "frames.hpp"
#include "terminal_module.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

namespace atelier::terminal {

namespace {

std::string trim(const std::string& s) {
    size_t a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return {};
    size_t b = s.find_last_not_of(" \t\r\n");
    return s.substr(a, b - a + 1);
}

const char* kScopeMessage = "scope is required (\"terminal\", \"claude\", \"codex\", \"gemini\", or \"opencode\")";

int sizeField(const JsonObject& body, const std::string& key, int fallback) {
    auto v = optInt(body, key);
    if (!v) return fallback;
    if (*v < 1 || *v > 1000)
        throw badRequest(key + " must be between 1 and 1000", "VALIDATION_ERROR", {{key, "must be between 1 and 1000"}});
    return static_cast<int>(*v);
}

// Query integer for WebSocket routes (no HTTP error possible): nullopt when invalid.
std::optional<int> querySize(const Request& req, const std::string& key, int fallback) {
    if (!req.hasQuery(key) || req.query(key).empty()) return fallback;
    std::string v = req.query(key);
    if (v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    int n = std::stoi(v);
    if (n < 1 || n > 1000) return std::nullopt;
    return n;
}

bool isDirectory(const std::string& p) {
    struct stat st{};
    return !p.empty() && p[0] == '/' && ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string homeDir() {
    const char* h = std::getenv("HOME");
    return h && *h ? std::string(h) : std::string("/");
}

bool validCliName(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (unsigned char c : s)
        if (!std::isalnum(c) && c != '-' && c != '_' && c != '.' && c != '+') return false;
    return s[0] != '.' && s[0] != '-';
}

// env object of string values → pairs (400 on anything else).
std::vector<std::pair<std::string, std::string>> envField(const JsonObject& body, const std::string& key) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!has(body, key)) return out;
    if (!body->isObject(key)) throw badRequest(key + " must be an object of strings", "VALIDATION_ERROR", {{key, "must be an object of strings"}});
    auto o = body->getObject(key);
    for (auto& [k, v] : *o) {
        if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos || !v.isString())
            throw badRequest(key + " must be an object of strings", "VALIDATION_ERROR", {{key + "." + k, "must be a string with a valid name"}});
        std::string s = v.extract<std::string>();
        if (s.find('\0') != std::string::npos)
            throw badRequest(key + " values must not contain NUL", "VALIDATION_ERROR", {{key + "." + k, "must not contain NUL"}});
        out.emplace_back(k, s);
    }
    return out;
}

int closeCodeFor(const SpawnError& e) {
    switch (e.kind) {
        case SpawnError::Kind::TooManySessions: return 4429;
        case SpawnError::Kind::BadCwd:
        case SpawnError::Kind::BadCommand:
        case SpawnError::Kind::BadSize: return 4400;
        default: return 1011;
    }
}

}  // namespace

// ------------------------------------------------------------------ helpers

void TerminalModule::throwSpawnError(const SpawnError& e) const {
    switch (e.kind) {
        case SpawnError::Kind::TooManySessions: throw HttpError(429, "TOO_MANY_SESSIONS", e.what());
        case SpawnError::Kind::BadCwd: throw badRequest(e.what(), "INVALID_CWD", {{"cwd", "must be an existing directory"}});
        case SpawnError::Kind::BadCommand: throw badRequest(e.what(), "INVALID_COMMAND", {{"command", e.what()}});
        case SpawnError::Kind::BadSize: throw badRequest(e.what(), "VALIDATION_ERROR", {{"cols", "must be between 1 and 1000"}});
        case SpawnError::Kind::DuplicateId: throw conflict(e.what(), "SESSION_EXISTS");
        default:
            host().error(std::string("terminal spawn failed: ") + e.what());
            throw HttpError(500, "TERMINAL_SPAWN_FAILED", "The terminal process could not be started");
    }
}

void TerminalModule::publishEvent(const std::string& type, const JsonObject& payload) const {
    try {
        Event e;
        e.type = type;
        e.payload = toJson(payload);
        publish(e);
    } catch (const std::exception& ex) {
        host().warn("terminal: publishing " + type + " failed: " + ex.what());
    }
}

void TerminalModule::announceCreated(JsonObject ev) const {
    std::string id = ev->getValue<std::string>("sessionId");
    if (auto i = pty_->info(id)) {
        ev->set("pid", static_cast<int64_t>(i->pid));
        JsonObject ops = makeObject();
        ops->set("level", "info");
        ops->set("source", "terminal");
        ops->set("action", "terminal.created");
        ops->set("status", "started");
        ops->set("message", "terminal " + id + " started");
        ops->set("command", i->argv.empty() ? std::string() : i->argv.front());
        JsonArray args = makeArray();
        for (size_t k = 1; k < i->argv.size(); ++k) args->add(i->argv[k]);
        ops->set("args", args);
        ops->set("cwd", i->cwd);
        ops->set("pid", static_cast<int64_t>(i->pid));
        try {
            host().opsRecord(ops);
        } catch (...) {
        }
    }
    publishEvent("terminal.created", ev);
}

void TerminalModule::recordExit(const SessionInfo& info) const {
    int code = info.exitCode.value_or(-1);
    JsonObject ops = makeObject();
    ops->set("level", code == 0 ? "info" : "warning");
    ops->set("source", "terminal");
    ops->set("action", "terminal.exited");
    ops->set("status", code == 0 ? "success" : "failed");
    ops->set("message", "terminal " + info.id + " exited with " + std::to_string(code));
    ops->set("command", info.argv.empty() ? std::string() : info.argv.front());
    ops->set("cwd", info.cwd);
    ops->set("pid", static_cast<int64_t>(info.pid));
    ops->set("exitCode", code);
    try {
        host().opsRecord(ops);
    } catch (...) {
    }
}

JsonObject TerminalModule::infoJson(const SessionInfo& i) const {
    JsonObject o = makeObject();
    o->set("id", i.id);
    o->set("sessionId", i.id);
    o->set("status", i.running ? "running" : "exited");
    o->set("pid", static_cast<int64_t>(i.pid));
    o->set("cols", i.cols);
    o->set("rows", i.rows);
    o->set("cwd", i.cwd);
    JsonArray argv = makeArray();
    for (auto& a : i.argv) argv->add(a);
    o->set("command", argv);
    o->set("createdAt", i.createdAt);
    if (i.exitCode) o->set("exitCode", *i.exitCode);
    else o->set("exitCode", Poco::Dynamic::Var());
    if (!i.exitedAt.empty()) o->set("exitedAt", i.exitedAt);
    o->set("outputBytes", static_cast<int64_t>(i.outputBytes));
    o->set("clients", static_cast<int64_t>(i.subscribers));
    if (auto m = service_->meta(i.id)) {
        o->set("kind", kindName(m->kind));
        if (!m->worktreeId.empty()) o->set("worktreeId", m->worktreeId);
        if (!m->scope.empty()) o->set("scope", m->scope);
        if (!m->runId.empty()) o->set("runId", m->runId);
    }
    return o;
}

TerminalModule::WorktreeRef TerminalModule::resolveWorktree(const Request& req, const std::string& id) const {
    std::string path = "/api/worktrees/" + urlEncode(id);
    if (req.hasQuery("project")) path += "?project=" + urlEncode(req.query("project"));
    JsonObject headers = makeObject();
    if (req.hasHeader("X-Atelier-Project")) headers->set("X-Atelier-Project", req.header("X-Atelier-Project"));
    auto r = host().call("GET", path, {}, toJson(headers));
    auto o = r.json();
    if (r.status == 200 && o) {
        JsonObject w = o;
        if (o->has("worktree") && o->isObject("worktree")) w = o->getObject("worktree");
        else if (o->has("data") && o->isObject("data")) w = o->getObject("data");
        WorktreeRef ref;
        ref.id = w->has("id") && w->get("id").isString() ? w->getValue<std::string>("id") : id;
        ref.path = w->has("path") && w->get("path").isString() ? w->getValue<std::string>("path") : "";
        if (ref.path.empty()) throw HttpError(502, "WORKTREE_RESOLUTION_FAILED", "The worktree has no path");
        return ref;
    }
    std::string code = o && o->has("code") && o->get("code").isString() ? o->getValue<std::string>("code") : "";
    std::string error = o && o->has("error") && o->get("error").isString() ? o->getValue<std::string>("error") : "";
    if (r.status == 404) {
        if (code.empty() || code == "NOT_FOUND") throw HttpError(404, "WORKTREE_NOT_FOUND", "Worktree not found");
        throw HttpError(404, code, error.empty() ? "Worktree not found" : error);
    }
    if (r.status >= 400 && r.status < 500)
        throw HttpError(r.status, code.empty() ? "WORKTREE_RESOLUTION_FAILED" : code, error.empty() ? "Worktree could not be resolved" : error);
    throw HttpError(502, "WORKTREE_RESOLUTION_FAILED", "Worktree could not be resolved");
}

// ------------------------------------------------------------------ OpenKit

void TerminalModule::createWorktreeTerminal(Request& req, Response& res) {
    auto body = req.json();
    int cols = sizeField(body, "cols", 80);
    int rows = sizeField(body, "rows", 24);
    std::string startup = trim(optString(body, "startupCommand").value_or(""));
    auto scope = optString(body, "scope");
    if (scope && !TerminalService::validScope(*scope))
        throw badRequest("scope must be \"terminal\", \"claude\", \"codex\", \"gemini\", or \"opencode\"", "VALIDATION_ERROR",
                         {{"scope", "must be one of terminal, claude, codex, gemini, opencode"}});
    auto wt = resolveWorktree(req, req.param("id"));
    ScopedCreate r;
    try {
        r = service_->createForWorktree(wt.id, wt.path, scope, startup, cols, rows);
    } catch (const SpawnError& e) {
        throwSpawnError(e);
    }
    if (r.created) {
        JsonObject ev = makeObject();
        ev->set("sessionId", r.sessionId);
        ev->set("kind", "worktree");
        ev->set("worktreeId", wt.id);
        if (scope) ev->set("scope", *scope);
        announceCreated(ev);
    }
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("sessionId", r.sessionId);
    out->set("reusedScopedSession", r.reusedScopedSession);
    out->set("replacedScopedShellSession", r.replacedScopedShellSession);
    res.json(out);
}

void TerminalModule::activeWorktreeTerminal(Request& req, Response& res) {
    std::string scope = req.query("scope");
    if (!TerminalService::validScope(scope)) throw badRequest(kScopeMessage, "VALIDATION_ERROR", {{"scope", "is required"}});
    auto wt = resolveWorktree(req, req.param("id"));
    auto id = service_->activeScoped(wt.path, scope);
    JsonObject out = makeObject();
    out->set("success", true);
    if (id) out->set("sessionId", *id);
    else out->set("sessionId", Poco::Dynamic::Var());
    res.json(out);
}

void TerminalModule::deleteTerminal(Request& req, Response& res) {
    std::string id = req.param("sessionId");
    if (id.empty()) id = req.param("id");
    if (!service_->destroy(id)) throw notFound("Session not found", "SESSION_NOT_FOUND");
    JsonObject ev = makeObject();
    ev->set("sessionId", id);
    publishEvent("terminal.destroyed", ev);
    JsonObject out = makeObject();
    out->set("success", true);
    res.json(out);
}

void TerminalModule::listTerminals(Request&, Response& res) {
    JsonArray arr = makeArray();
    for (auto& i : pty_->list()) arr->add(infoJson(i));
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("sessions", arr);
    res.json(out);
}

// ------------------------------------------------------------------ KrowForge / in-process

void TerminalModule::ptySpawn(Request& req, Response& res) {
    auto body = req.json();
    auto command = optString(body, "command");
    std::vector<std::string> args;
    bool hasArgs = has(body, "args");
    if (hasArgs) {
        if (!body->isArray("args")) throw badRequest("args must be an array of strings", "VALIDATION_ERROR", {{"args", "must be an array of strings"}});
        for (auto& a : *body->getArray("args")) {
            if (!a.isString()) throw badRequest("args must be an array of strings", "VALIDATION_ERROR", {{"args", "must be an array of strings"}});
            args.push_back(a.extract<std::string>());
        }
        if (!command || command->empty())
            throw badRequest("command is required with args", "VALIDATION_ERROR", {{"command", "is required with args"}});
    }
    std::string cwd = requireString(body, "cwd");
    auto env = envField(body, "env");
    int cols = sizeField(body, "cols", 80);
    int rows = sizeField(body, "rows", 24);
    SpawnSpec spec;
    if (hasArgs) {  // an argv: executed directly, no shell
        spec.argv.push_back(*command);
        spec.argv.insert(spec.argv.end(), args.begin(), args.end());
        spec.cwd = cwd;
        spec.cols = cols;
        spec.rows = rows;
    } else {  // a user-written command line: $SHELL -lc <command>; none: an interactive shell
        spec = TerminalService::shellSpec(cwd, trim(command.value_or("")), cols, rows);
    }
    spec.env = env;
    std::string id;
    try {
        id = service_->spawn(spec, SessionMeta{});
    } catch (const SpawnError& e) {
        throwSpawnError(e);
    }
    auto info = pty_->info(id);
    JsonObject ev = makeObject();
    ev->set("sessionId", id);
    ev->set("kind", "pty");
    announceCreated(ev);
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("id", id);
    out->set("sessionId", id);
    out->set("pid", static_cast<int64_t>(info ? info->pid : 0));
    res.json(out);
}

void TerminalModule::ptyInfo(Request& req, Response& res) {
    auto i = pty_->info(req.param("id"));
    if (!i) throw notFound("Session not found", "SESSION_NOT_FOUND");
    JsonObject out = infoJson(*i);
    out->set("success", true);
    res.json(out);
}

void TerminalModule::ptyInput(Request& req, Response& res) {
    auto body = req.json();
    std::string data = requireString(body, "data", true);
    if (data.size() > settings_.maxInputFrameBytes)
        throw HttpError(413, "INPUT_TOO_LARGE", "data is larger than " + std::to_string(settings_.maxInputFrameBytes) + " bytes");
    switch (pty_->write(req.param("id"), data)) {
        case WriteResult::NotFound: throw notFound("Session not found", "SESSION_NOT_FOUND");
        case WriteResult::Full: throw HttpError(429, "INPUT_QUEUE_FULL", "The session's input queue is full; retry later");
        case WriteResult::Ok: break;
    }
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("bytes", static_cast<int64_t>(data.size()));
    res.json(out);
}

void TerminalModule::ptyResize(Request& req, Response& res) {
    auto body = req.json();
    if (!has(body, "cols")) throw badRequest("cols is required", "VALIDATION_ERROR", {{"cols", "is required"}});
    if (!has(body, "rows")) throw badRequest("rows is required", "VALIDATION_ERROR", {{"rows", "is required"}});
    int cols = sizeField(body, "cols", 80);
    int rows = sizeField(body, "rows", 24);
    if (!pty_->resize(req.param("id"), cols, rows)) throw notFound("Session not found", "SESSION_NOT_FOUND");
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("cols", cols);
    out->set("rows", rows);
    res.json(out);
}

void TerminalModule::ptyOutput(Request& req, Response& res) {
    int64_t offset = req.queryInt("offset", 0, 0, INT64_MAX);
    uint64_t start = 0, total = 0;
    auto data = pty_->output(req.param("id"), static_cast<uint64_t>(offset), &start, &total);
    if (!data) throw notFound("Session not found", "SESSION_NOT_FOUND");
    std::string body = "{\"success\":true,\"offset\":" + std::to_string(start) + ",\"nextOffset\":" +
                       std::to_string(total) + ",\"truncated\":" + (start > static_cast<uint64_t>(offset) ? "true" : "false") +
                       ",\"data\":" + jsonString(*data) + "}";
    res.status(200).header("Content-Type", "application/json").body(body);
}

HookOutcome TerminalModule::onWorktreeRemoving(std::string_view payload) {
    auto p = parseObject(payload);
    if (!p) return HookOutcome::keep();
    std::string wid = p->has("worktreeId") && p->get("worktreeId").isString() ? p->getValue<std::string>("worktreeId") : "";
    std::string path = p->has("path") && p->get("path").isString() ? p->getValue<std::string>("path") : "";
    int n = service_->closeWorktree(wid, path);
    int64_t before = 0;
    if (p->has("closedTerminals") && p->get("closedTerminals").isNumeric()) before = p->get("closedTerminals").convert<int64_t>();
    p->set("closedTerminals", before + n);
    return HookOutcome::replace(p);
}

// ------------------------------------------------------------------ WebSockets

// Closes right after the handshake with our own code and reason; returning 0 keeps the host
// from sending a second close frame with its generic reason.
int TerminalModule::refuse(const WebSocket& ws, int code, const std::string& reason) {
    ws.close(code, reason);
    return 0;
}

bool TerminalModule::attachSocket(const WebSocket& ws, const std::string& sessionId, bool ephemeral) {
    WebSocket w = ws;  // retained: usable from the loop thread
    Subscriber sub;
    sub.onRestore = [w](std::string_view snap) { w.sendText(restoreFrame(snap)); };
    sub.onOutput = [w](std::string_view data) { w.sendBinary(data); };
    sub.onExit = [w](int code) {
        w.sendText(exitFrame(code));
        w.close(1000, "process exited");
    };
    sub.onClosed = [w] { w.close(1000, "session closed"); };
    std::lock_guard lock(clientsMu_);
    auto subId = pty_->attach(sessionId, std::move(sub));
    if (!subId) return false;
    clients_[ws.raw()] = Client{sessionId, *subId, ephemeral};
    return true;
}

int TerminalModule::openSessionSocket(const WebSocket& ws, const Request& req, const std::string& param) {
    if (!originAllowed(req.header("Origin"), settings_.allowedOrigins)) return refuse(ws, 1008, "origin-not-allowed");
    if (!attachSocket(ws, req.param(param), false)) return refuse(ws, 1008, "session-not-found");
    return 0;
}

int TerminalModule::openAbbadoSocket(const WebSocket& ws, const Request& req) {
    if (!originAllowed(req.header("Origin"), settings_.allowedOrigins)) return refuse(ws, 1008, "origin-not-allowed");
    auto cols = querySize(req, "cols", 120);
    auto rows = querySize(req, "rows", 30);
    if (!cols || !rows) return refuse(ws, 4400, "cols and rows must be integers between 1 and 1000");
    if (req.hasQuery("run_id")) {
        std::string runId = req.query("run_id");
        if (runId.empty()) return refuse(ws, 4400, "run_id must not be empty");
        auto existing = service_->runSessionId(runId);
        if (existing && pty_->alive(*existing) && attachSocket(ws, *existing, false)) return 0;
        JsonObject p = makeObject();
        p->set("runId", runId);
        auto r = runHook("terminal.run_session", p);
        if (r.vetoed) return refuse(ws, 4403, r.payload.empty() ? "run refused" : r.payload.substr(0, 120));
        auto o = r.json();
        if (!o || !o->has("cwd") || !o->get("cwd").isString()) return refuse(ws, 4404, "run not found");
        std::string cwd = o->getValue<std::string>("cwd");
        SpawnSpec spec;
        try {
            if (o->has("command") && o->isArray("command")) {
                for (auto& a : *o->getArray("command"))
                    if (a.isString()) spec.argv.push_back(a.extract<std::string>());
                spec.cwd = cwd;
                spec.cols = *cols;
                spec.rows = *rows;
            } else {
                std::string command = o->has("command") && o->get("command").isString() ? o->getValue<std::string>("command") : "";
                spec = TerminalService::shellSpec(cwd, command, *cols, *rows);
            }
            spec.env = envField(o, "env");
        } catch (const HttpError& e) {
            return refuse(ws, 4400, e.what());
        }
        try {
            auto [id, created] = service_->runSession(runId, spec);
            if (created) {
                JsonObject ev = makeObject();
                ev->set("sessionId", id);
                ev->set("kind", "run");
                ev->set("runId", runId);
                announceCreated(ev);
            }
            if (!attachSocket(ws, id, false)) return refuse(ws, 1011, "terminal-spawn-failed");
        } catch (const SpawnError& e) {
            return refuse(ws, closeCodeFor(e), e.what());
        }
        return 0;
    }
    // Ephemeral: a CLI in `cwd` that ends with the socket.
    std::string cwd = req.hasQuery("cwd") && !req.query("cwd").empty() ? req.query("cwd") : homeDir();
    if (!isDirectory(cwd)) return refuse(ws, 4400, "cwd does not exist or is not a directory");
    std::string cli = req.hasQuery("cli") && !req.query("cli").empty() ? req.query("cli") : "claude";
    if (!validCliName(cli)) return refuse(ws, 4400, "cli must be a program name");
    SpawnSpec spec;
    spec.argv = {loginShell(), "-lc", "exec \"$0\" \"$@\"", cli};  // user values are arguments, never shell text
    if (req.hasQuery("task") && !req.query("task").empty()) {
        spec.argv.push_back("-p");
        spec.argv.push_back(req.query("task"));
    }
    spec.cwd = cwd;
    spec.cols = *cols;
    spec.rows = *rows;
    SessionMeta meta;
    meta.kind = SessionKind::Ephemeral;
    std::string id;
    try {
        id = service_->spawn(spec, meta);
    } catch (const SpawnError& e) {
        return refuse(ws, closeCodeFor(e), e.what());
    }
    if (!attachSocket(ws, id, true)) {
        service_->destroy(id);
        return refuse(ws, 1011, "terminal-spawn-failed");
    }
    JsonObject ev = makeObject();
    ev->set("sessionId", id);
    ev->set("kind", "ephemeral");
    announceCreated(ev);
    return 0;
}

void TerminalModule::onSocketMessage(const WebSocket& ws, std::string_view data, bool binary) {
    Client c;
    {
        std::lock_guard lock(clientsMu_);
        auto it = clients_.find(ws.raw());
        if (it == clients_.end()) return;
        c = it->second;
    }
    if (data.size() > settings_.maxInputFrameBytes) {
        ws.close(1009, "input frame too large");
        return;
    }
    if (!binary) {
        if (auto rz = parseResize(data)) {
            if (rz->valid) {
                try {
                    pty_->resize(c.sessionId, rz->cols, rz->rows);
                } catch (const SpawnError&) {
                }
            }
            return;
        }
    }
    if (pty_->write(c.sessionId, data) == WriteResult::Full) ws.close(1013, "terminal input backlog full");
}

void TerminalModule::onSocketClose(const WebSocket& ws, int) {
    Client c;
    {
        std::lock_guard lock(clientsMu_);
        auto it = clients_.find(ws.raw());
        if (it == clients_.end()) return;
        c = it->second;
        clients_.erase(it);
    }
    pty_->detach(c.sessionId, c.subscriberId);
    if (c.ephemeral) service_->destroy(c.sessionId);
}

}  // namespace atelier::terminal
