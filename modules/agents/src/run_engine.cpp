#include "run_engine.hpp"

#include "git_ops.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace agents {

namespace fs = std::filesystem;
using atelier::makeArray;
using atelier::makeObject;
using atelier::urlEncode;

namespace {

const char* kAuthorName = "atelier";
const char* kAuthorEmail = "atelier@localhost";

bool isActiveStatus(const std::string& s) { return s == "running" || s == "queued"; }

std::string firstLine(const std::string& s) {
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

DomainError upstreamError(const atelier::Host::CallResult& r, const std::string& what) {
    auto o = r.json();
    std::string msg = o ? str(o, "error", what) : what;
    std::string code = o ? str(o, "code", "UPSTREAM_ERROR") : "UPSTREAM_ERROR";
    DomainError e(DomainError::Kind::Upstream, code, what + ": " + msg);
    e.upstreamStatus = r.status >= 400 && r.status < 500 ? r.status : 502;
    return e;
}

}  // namespace

std::vector<std::string> RunEngine::migrations() {
    return {
        "CREATE TABLE agents_runs (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, agent_id TEXT NOT NULL,"
        " task TEXT NOT NULL, status TEXT NOT NULL, source_branch TEXT NOT NULL, run_branch TEXT NOT NULL,"
        " cli_name TEXT NOT NULL, model TEXT, session_id TEXT, cli_version TEXT, tokens_in INTEGER NOT NULL DEFAULT 0,"
        " tokens_out INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0, parent_run_id TEXT,"
        " notify INTEGER NOT NULL DEFAULT 0, error TEXT, worktrees TEXT NOT NULL DEFAULT '[]', pid INTEGER,"
        " pr_url TEXT, accepted_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT,"
        " finished_at TEXT)",
        "CREATE INDEX agents_runs_project ON agents_runs(project_id)",
        "CREATE INDEX agents_runs_status ON agents_runs(status)",
    };
}

RunEngine::RunEngine(atelier::Module& module, RunEventLog& log, AgentStore& agents)
    : module_(module), log_(log), agents_(agents) {}

RunEngine::~RunEngine() { stopAll(); }

// ------------------------------------------------------------------ helpers

std::optional<atelier::Row> RunEngine::row(const std::string& id) const {
    return module_.db().one("SELECT * FROM agents_runs WHERE id = ?", {id});
}

void RunEngine::requireRun(const std::string& id) const {
    if (!row(id)) throw notFound("Run not found", "RUN_NOT_FOUND");
}

JsonObject RunEngine::toJson(const atelier::Row& r) const {
    auto o = makeObject();
    for (auto k : {"id", "project_id", "agent_id", "task", "status", "source_branch", "run_branch", "cli_name"})
        o->set(k, r.text(k));
    o->set("model", r.var("model"));
    o->set("session_id", r.var("session_id"));
    o->set("cli_version", r.var("cli_version"));
    o->set("created_at", r.text("created_at"));
    o->set("updated_at", r.text("updated_at"));
    o->set("started_at", r.var("started_at"));
    o->set("finished_at", r.var("finished_at"));
    o->set("tokens_in", r.integer("tokens_in"));
    o->set("tokens_out", r.integer("tokens_out"));
    o->set("cost_usd", r.real("cost_usd"));
    o->set("parent_run_id", r.var("parent_run_id"));
    o->set("notify", r.integer("notify") != 0);
    o->set("error", r.var("error"));
    auto wts = atelier::parseArray(r.text("worktrees"));
    o->set("worktrees", wts ? wts : makeArray());
    o->set("pid", r.var("pid"));
    o->set("pr_url", r.var("pr_url"));
    o->set("accepted_at", r.var("accepted_at"));
    return o;
}

JsonArray RunEngine::worktreesOf(const std::string& id) const {
    auto r = row(id);
    if (!r) throw notFound("Run not found", "RUN_NOT_FOUND");
    auto a = atelier::parseArray(r->text("worktrees"));
    return a ? a : makeArray();
}

std::string RunEngine::runDir(const std::string& id) const {
    return (fs::path(module_.host().path(ATELIER_PATH_MODULE_DIR)) / "runs" / id).string();
}

std::string RunEngine::hookUrl(const std::string& id) const {
    std::string port = str(module_.host().config(), "port");
    if (port.empty()) {
        std::ifstream in(fs::path(module_.host().path(ATELIER_PATH_DATA_DIR)) / "server-port");
        in >> port;
    }
    if (port.empty()) port = "0";
    return "http://127.0.0.1:" + port + "/api/runs/" + id + "/hook";
}

void RunEngine::event(const std::string& runId, const std::string& type, const JsonObject& payload) {
    log_.append(runId, type, payload);
}

void RunEngine::publishLifecycle(const std::string& runId, const std::string& type, const JsonObject& payload) {
    event(runId, type, payload);
    auto r = row(runId);
    atelier::Event e;
    e.type = type;
    e.subject = "run/" + runId;
    e.projectId = r ? r->text("project_id") : "";
    e.actorType = "agent";
    e.actorId = r ? r->text("agent_id") : "";
    auto p = makeObject();
    p->set("run_id", runId);
    if (r) p->set("status", r->text("status"));
    for (auto& [k, v] : *payload) p->set(k, v);
    e.payload = atelier::toJson(p);
    try {
        module_.publish(e);
    } catch (...) {
        module_.host().warn("could not publish " + type);
    }
}

void RunEngine::setStatus(const std::string& runId, const std::string& status, const std::string& error) {
    std::string now = atelier::nowIso();
    if (status == "running") {
        module_.db().exec("UPDATE agents_runs SET status = ?, error = NULL, updated_at = ?, started_at = COALESCE(started_at, ?),"
                          " finished_at = NULL WHERE id = ?",
                          {status, now, now, runId});
    } else if (status == "queued") {
        module_.db().exec("UPDATE agents_runs SET status = ?, updated_at = ? WHERE id = ?", {status, now, runId});
    } else {
        module_.db().exec("UPDATE agents_runs SET status = ?, error = ?, updated_at = ?, finished_at = ?, pid = NULL WHERE id = ?",
                          {status, error.empty() ? atelier::Param(nullptr) : atelier::Param(error), now, now, runId});
    }
}

void RunEngine::appendLog(const std::string& runId, const std::string& line) {
    std::lock_guard lock(logMutex_);
    fs::path p = fs::path(runDir(runId)) / "run.log";
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    std::ofstream out(p, std::ios::app);
    out << line << "\n";
}

bool RunEngine::firstSighting(const std::string& runId, const std::string& kind, const std::string& toolUseId) {
    if (toolUseId.empty()) return true;
    std::lock_guard lock(seenMutex_);
    return seenTools_[runId].insert(kind + ":" + toolUseId).second;
}

void RunEngine::appendParsed(const std::string& runId, const std::vector<std::pair<std::string, JsonObject>>& events) {
    for (auto& [type, payload] : events) {
        if (type == "agent.tool_call" || type == "agent.tool_result") {
            if (!firstSighting(runId, type, str(payload, "tool_use_id"))) continue;
        }
        event(runId, type, payload);
    }
}

std::shared_ptr<RunEngine::Active> RunEngine::active(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = active_.find(id);
    if (it == active_.end() || it->second->done) return nullptr;
    return it->second;
}

size_t RunEngine::activeCount() const {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (auto& [id, a] : active_)
        if (!a->done) ++n;
    return n;
}

bool RunEngine::waitIdle(const std::string& id, int timeoutMs) {
    std::shared_ptr<Active> a;
    {
        std::lock_guard lock(mutex_);
        auto it = active_.find(id);
        if (it == active_.end()) return true;
        a = it->second;
    }
    std::unique_lock lk(a->m);
    return a->cv.wait_for(lk, std::chrono::milliseconds(timeoutMs), [&] { return a->done; });
}

void RunEngine::requireNotActive(const std::string& id, const std::string& what) const {
    auto r = row(id);
    if (!r) throw notFound("Run not found", "RUN_NOT_FOUND");
    if (isActiveStatus(r->text("status")))
        throw conflict("Cannot " + what + " while the run is " + r->text("status"), "RUN_ACTIVE");
    // The worker may still be winding down (its status is already final): let it finish.
    if (active(id) && !const_cast<RunEngine*>(this)->waitIdle(id, 5000))
        throw conflict("Cannot " + what + " while the run is finishing", "RUN_ACTIVE");
}

// ------------------------------------------------------------------ lifecycle

void RunEngine::recoverAfterRestart() {
    auto rows = module_.db().query("SELECT id FROM agents_runs WHERE status IN ('running', 'queued')");
    for (auto& r : rows) {
        std::string id = r.text("id");
        setStatus(id, "interrupted", "interrupted by a server restart");
        auto p = makeObject();
        p->set("reason", "interrupted by a server restart");
        p->set("interrupted", true);
        publishLifecycle(id, "run.paused", p);
    }
}

void RunEngine::stopAll() {
    std::map<std::string, std::shared_ptr<Active>> all;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        all = active_;
    }
    for (auto& [id, a] : all) {
        std::lock_guard lk(a->m);
        if (a->stopReason.empty()) a->stopReason = "shutdown";
        if (a->proc) a->proc->terminate(1000);
        a->cv.notify_all();
    }
    for (auto& [id, a] : all)
        if (a->thread.joinable()) a->thread.join();
    std::lock_guard lock(mutex_);
    active_.clear();
}

void RunEngine::reapFinished() {
    std::vector<std::shared_ptr<Active>> done;
    {
        std::lock_guard lock(mutex_);
        for (auto it = active_.begin(); it != active_.end();) {
            if (it->second->done) {
                done.push_back(it->second);
                it = active_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& a : done)
        if (a->thread.joinable()) a->thread.join();
}

void RunEngine::startWorker(const std::string& runId, Launch launch) {
    reapFinished();
    auto a = std::make_shared<Active>();
    std::lock_guard lock(mutex_);
    if (stopping_) throw DomainError(DomainError::Kind::Unavailable, "SHUTTING_DOWN", "The server is shutting down");
    auto it = active_.find(runId);
    if (it != active_.end()) {
        if (!it->second->done) throw conflict("The run is already active", "RUN_ACTIVE");
        if (it->second->thread.joinable()) it->second->thread.join();
        active_.erase(it);
    }
    active_[runId] = a;
    a->thread = std::thread([this, runId, a, launch = std::move(launch)] { work(runId, a, launch); });
}

void RunEngine::work(const std::string& runId, std::shared_ptr<Active> a, Launch launch) {
    try {
        auto r = row(runId);
        if (!r) {
            std::lock_guard lk(a->m);
            a->done = true;
            a->cv.notify_all();
            return;
        }
        if (r->text("cli_name") == "mock") runMock(runId, *r, *a, launch);
        else runCli(runId, *r, *a, launch);
    } catch (const std::exception& e) {
        try {
            finish(runId, *a, false, std::string("internal error: ") + e.what());
        } catch (...) {
        }
    }
    std::lock_guard lk(a->m);
    a->done = true;
    a->proc = nullptr;
    a->cv.notify_all();
}

void RunEngine::finish(const std::string& runId, Active& a, bool success, const std::string& reason) {
    std::string stop;
    {
        std::lock_guard lk(a.m);
        stop = a.stopReason;
    }
    auto p = makeObject();
    if (stop == "cancel") {
        setStatus(runId, "cancelled");
        p->set("reason", "cancelled by user");
        publishLifecycle(runId, "run.cancelled", p);
    } else if (stop == "pause") {
        auto checkpoints = makeArray();
        auto wts = worktreesOf(runId);
        for (size_t i = 0; i < wts->size(); ++i) {
            auto w = wts->getObject(static_cast<unsigned>(i));
            if (!w->optValue<bool>("git", true)) continue;
            try {
                if (!git::isDirty(str(w, "path"))) continue;
                std::string sha = git::commitAll(str(w, "path"), "atelier: checkpoint (run paused)", kAuthorName, kAuthorEmail);
                if (!sha.empty()) {
                    auto c = makeObject();
                    c->set("repo_name", str(w, "repo_name"));
                    c->set("commit", sha);
                    checkpoints->add(c);
                }
            } catch (const std::exception& e) {
                module_.host().warn(std::string("checkpoint failed: ") + e.what());
            }
        }
        setStatus(runId, "paused");
        p->set("reason", "paused by user");
        p->set("checkpoints", checkpoints);
        publishLifecycle(runId, "run.paused", p);
    } else if (stop == "shutdown") {
        setStatus(runId, "interrupted", "interrupted by server shutdown");
        p->set("reason", "interrupted by server shutdown");
        p->set("interrupted", true);
        publishLifecycle(runId, "run.paused", p);
    } else if (success) {
        setStatus(runId, "completed");
        auto r = row(runId);
        if (r) {
            p->set("tokens_in", r->integer("tokens_in"));
            p->set("tokens_out", r->integer("tokens_out"));
            p->set("cost_usd", r->real("cost_usd"));
        }
        publishLifecycle(runId, "run.completed", p);
    } else {
        setStatus(runId, "failed", reason);
        p->set("reason", reason);
        publishLifecycle(runId, "run.failed", p);
    }
}

void RunEngine::applyResult(const std::string& runId, const CliResult& r, bool accumulate) {
    if (accumulate) {
        module_.db().exec("UPDATE agents_runs SET tokens_in = tokens_in + ?, tokens_out = tokens_out + ?, cost_usd = cost_usd + ?,"
                          " updated_at = ? WHERE id = ?",
                          {r.tokensIn, r.tokensOut, r.costUsd, atelier::nowIso(), runId});
    } else {
        // Totals reported for this invocation; a continued run adds to what earlier turns used.
        module_.db().exec("UPDATE agents_runs SET tokens_in = ?, tokens_out = ?, cost_usd = ?, updated_at = ? WHERE id = ?",
                          {r.tokensIn, r.tokensOut, r.costUsd, atelier::nowIso(), runId});
    }
}

// ------------------------------------------------------------------ mock backend

void RunEngine::runMock(const std::string& runId, const atelier::Row& run, Active& a, const Launch& launch) {
    auto script = parseMockScript(launch.prompt);
    auto wts = worktreesOf(runId);
    std::string cwd = wts->size() ? str(wts->getObject(0), "path") : runDir(runId);
    setStatus(runId, "running");
    publishLifecycle(runId, "run.started", makeObject());
    std::string sid = run.text("session_id");
    if (sid.empty()) {
        sid = "mock-" + atelier::newUuid();
        module_.db().exec("UPDATE agents_runs SET session_id = ?, cli_version = ? WHERE id = ?", {sid, "mock 0.1.0", runId});
    }
    {
        auto p = makeObject();
        p->set("session_id", sid);
        p->set("cli_version", "mock 0.1.0");
        p->set("model", run.text("model", "mock-1"));
        p->set("resumed", launch.isContinue);
        event(runId, "session.init", p);
    }
    appendLog(runId, "[mock] start: " + firstLine(launch.prompt));
    auto stopped = [&] {
        std::lock_guard lk(a.m);
        return !a.stopReason.empty();
    };
    auto waitFor = [&](int64_t ms) {  // returns false when stopped
        std::unique_lock lk(a.m);
        if (ms < 0) {
            a.cv.wait(lk, [&] { return !a.stopReason.empty(); });
            return false;
        }
        return !a.cv.wait_for(lk, std::chrono::milliseconds(ms), [&] { return !a.stopReason.empty(); });
    };
    int64_t tokensOut = 0, tokensIn = std::max<int64_t>(1, static_cast<int64_t>(launch.prompt.size() / 4));
    double cost = -1;
    int toolN = 0;
    auto toolPair = [&](const std::string& name, const JsonObject& input, const std::string& output, bool isError) {
        std::string id = "mock-tool-" + std::to_string(++toolN);
        auto call = makeObject();
        call->set("tool_name", name);
        call->set("tool_use_id", id);
        call->set("input", input);
        call->set("source", "mock");
        event(runId, "agent.tool_call", call);
        auto res = makeObject();
        res->set("tool_name", name);
        res->set("tool_use_id", id);
        res->set("output", output);
        res->set("is_error", isError);
        res->set("source", "mock");
        event(runId, "agent.tool_result", res);
        appendLog(runId, "[mock] tool " + name + " " + atelier::toJson(input));
    };
    if (script.steps.empty()) {
        auto p = makeObject();
        p->set("text", "Working on: " + firstLine(launch.prompt));
        p->set("role", "assistant");
        event(runId, "agent.message", p);
        tokensOut += 3;
    }
    for (auto& step : script.steps) {
        if (stopped()) break;
        switch (step.kind) {
            case MockStep::Kind::Emit: {
                std::istringstream words(step.text);
                std::string w;
                bool first = true;
                while (words >> w) {
                    auto t = makeObject();
                    t->set("text", (first ? "" : " ") + w);
                    event(runId, "agent.token", t);
                    ++tokensOut;
                    first = false;
                }
                auto m = makeObject();
                m->set("text", step.text);
                m->set("role", "assistant");
                event(runId, "agent.message", m);
                appendLog(runId, "[mock] " + step.text);
                break;
            }
            case MockStep::Kind::Tool: {
                auto input = makeObject();
                const std::string& n = step.text;
                if (n == "Edit" || n == "Write" || n == "Read" || n == "MultiEdit") input->set("file_path", step.arg);
                else if (n == "Bash") input->set("command", step.arg);
                else if (n == "Glob" || n == "Grep") input->set("pattern", step.arg);
                else if (n == "TaskCreate") input->set("subject", step.arg);
                else if (n == "TaskUpdate") {
                    auto sp = step.arg.find(' ');
                    input->set("taskId", step.arg.substr(0, sp));
                    input->set("status", sp == std::string::npos ? "completed" : step.arg.substr(sp + 1));
                } else input->set("arg", step.arg);
                toolPair(n, input, "ok", false);
                break;
            }
            case MockStep::Kind::Write: {
                fs::path base = fs::weakly_canonical(cwd);
                fs::path target = (base / step.text).lexically_normal();
                auto rel = target.lexically_relative(base);
                auto input = makeObject();
                input->set("file_path", step.text);
                input->set("content", step.arg);
                if (rel.empty() || *rel.begin() == "..") {
                    toolPair("Write", input, "path escapes the worktree", true);
                    break;
                }
                std::error_code ec;
                fs::create_directories(target.parent_path(), ec);
                std::ofstream out(target, std::ios::trunc);
                out << step.arg;
                out.close();
                toolPair("Write", input, out ? "wrote " + std::to_string(step.arg.size()) + " bytes" : "write failed", !out);
                break;
            }
            case MockStep::Kind::Fail:
                appendLog(runId, "[mock] fail: " + step.text);
                finish(runId, a, false, step.text);
                return;
            case MockStep::Kind::Crash:
                appendLog(runId, "[mock] crash");
                finish(runId, a, false, "mock backend crashed (simulated)");
                return;
            case MockStep::Kind::Hang:
                appendLog(runId, "[mock] hang");
                waitFor(-1);
                break;
            case MockStep::Kind::Sleep: waitFor(step.ms); break;
            case MockStep::Kind::Tokens:
                if (step.tokensIn >= 0) tokensIn = step.tokensIn;
                if (step.tokensOut >= 0) tokensOut = step.tokensOut;
                if (step.cost >= 0) cost = step.cost;
                break;
        }
    }
    if (stopped()) {
        finish(runId, a, false, "");
        return;
    }
    CliResult res;
    res.tokensIn = tokensIn;
    res.tokensOut = tokensOut;
    res.costUsd = cost >= 0 ? cost : static_cast<double>(tokensIn) * 3e-6 + static_cast<double>(tokensOut) * 15e-6;
    applyResult(runId, res, launch.isContinue);
    auto p = makeObject();
    p->set("tokens_in", res.tokensIn);
    p->set("tokens_out", res.tokensOut);
    p->set("cost_usd", res.costUsd);
    p->set("session_id", sid);
    p->set("is_error", false);
    event(runId, "run.result", p);
    finish(runId, a, true, "");
}

// ------------------------------------------------------------------ CLI backends

void RunEngine::runCli(const std::string& runId, const atelier::Row& run, Active& a, const Launch& launch) {
    const std::string backend = run.text("cli_name");
    const CliSpec* spec = cliForBackend(backend);
    if (!spec) {
        finish(runId, a, false, "unknown backend " + backend);
        return;
    }
    std::string exe = locateCli(spec->command);
    if (exe.empty()) {
        finish(runId, a, false,
               spec->command + " was not found on PATH or through the login shell; install it with POST /api/agents/" +
                   spec->openkitName + "/cli/install");
        return;
    }
    auto agent = agents_.get(run.text("agent_id"));
    auto wts = worktreesOf(runId);
    LaunchInput in;
    in.runId = runId;
    in.backend = backend;
    in.prompt = launch.prompt;
    in.model = run.text("model");
    if (agent) {
        std::string sys = str(*agent, "system_prompt"), instr = str(*agent, "instructions");
        in.instructions = sys.empty() ? instr : instr.empty() ? sys : sys + "\n\n" + instr;
        in.allowedTools = str(*agent, "allowed_tools");
        in.maxTurns = num(*agent, "max_turns", 100);
    }
    in.resumeSessionId = launch.resumeSessionId;
    in.cwd = wts->size() ? str(wts->getObject(0), "path") : runDir(runId);
    for (size_t i = 1; i < wts->size(); ++i) in.extraDirs.push_back(str(wts->getObject(static_cast<unsigned>(i)), "path"));
    in.runDir = runDir(runId);
    in.hookUrl = hookUrl(runId);
    in.executable = exe;

    ChildProcess proc;
    LaunchPlan plan;
    try {
        plan = buildLaunch(in);
        proc.spawn(plan.spec);
    } catch (const std::exception& e) {
        finish(runId, a, false, std::string("could not start ") + spec->command + ": " + e.what());
        return;
    }
    {
        std::lock_guard lk(a.m);
        a.proc = &proc;
        if (!a.stopReason.empty()) proc.terminate(500);
    }
    module_.db().exec("UPDATE agents_runs SET pid = ? WHERE id = ?", {static_cast<int64_t>(proc.pid()), runId});
    setStatus(runId, "running");
    auto started = makeObject();
    started->set("pid", static_cast<int64_t>(proc.pid()));
    started->set("command", spec->command);
    publishLifecycle(runId, "run.started", started);
    appendLog(runId, "[atelier] started " + exe + " (pid " + std::to_string(proc.pid()) + ") in " + in.cwd);
    for (auto& line : plan.initialStdin) proc.writeStdin(line + "\n");
    if (plan.closeStdinAfterInit) proc.closeStdin();

    std::optional<CliResult> final;
    CliResult codexUsage;
    bool turnDone = false;
    std::string stderrTail;
    std::string threadId;
    std::string geminiText;  // reply chunks not yet put out as a whole message
    auto st = proc.pump([&](bool isErr, const std::string& line) {
        appendLog(runId, (isErr ? "[stderr] " : "") + line);
        if (isErr) {
            stderrTail += line + "\n";
            if (stderrTail.size() > 4000) stderrTail.erase(0, stderrTail.size() - 4000);
            return;
        }
        CliUpdate u = parseCliLine(backend, line);
        if (!u.parsed) return;
        if (u.sessionId || u.cliVersion) {
            if (u.sessionId) module_.db().exec("UPDATE agents_runs SET session_id = ? WHERE id = ?", {*u.sessionId, runId});
            if (u.cliVersion) module_.db().exec("UPDATE agents_runs SET cli_version = ? WHERE id = ?", {*u.cliVersion, runId});
        }
        if (backend == "gemini") joinAssistantDeltas(u.events, geminiText, false);
        appendParsed(runId, u.events);
        if (backend == "codex") {
            if (u.sessionId && threadId.empty()) {
                threadId = *u.sessionId;
                auto params = makeObject();
                params->set("threadId", threadId);
                auto input = makeArray();
                auto text = makeObject();
                text->set("type", "text");
                text->set("text", launch.prompt);
                input->add(text);
                params->set("input", input);
                auto req = makeObject();
                req->set("jsonrpc", "2.0");
                req->set("id", 3);
                req->set("method", "turn/start");
                req->set("params", params);
                proc.writeStdin(atelier::toJson(req) + "\n");
            }
            if (u.requestId) {
                std::string msg;
                std::string tool = u.requestMethod.find("commandExecution") != std::string::npos ? "Bash" : "Edit";
                std::string d = permissionDecision(runId, tool, u.requestParams, &msg);
                auto reply = makeObject();
                reply->set("jsonrpc", "2.0");
                reply->set("id", u.requestIdValue);
                auto result = makeObject();
                result->set("decision", d == "allow" ? "accept" : "decline");
                reply->set("result", result);
                proc.writeStdin(atelier::toJson(reply) + "\n");
            }
            if (u.result) {
                if (u.result->subtype == "usage") {
                    codexUsage.tokensIn = u.result->tokensIn;
                    codexUsage.tokensOut = u.result->tokensOut;
                } else {
                    CliResult r = *u.result;
                    r.tokensIn = codexUsage.tokensIn;
                    r.tokensOut = codexUsage.tokensOut;
                    final = r;
                    turnDone = true;
                    proc.closeStdin();
                    proc.terminate(1500);
                }
            }
            return;
        }
        if (u.result) {
            if (backend == "opencode" && u.result->subtype == "step") {
                CliResult acc = final.value_or(CliResult{});
                acc.tokensIn += u.result->tokensIn;
                acc.tokensOut += u.result->tokensOut;
                acc.costUsd += u.result->costUsd;
                acc.subtype = "success";
                final = acc;
            } else if (backend == "opencode" && final) {
                // opencode reports usage per step: an error after some steps still used them.
                CliResult r = *u.result;
                r.tokensIn = final->tokensIn;
                r.tokensOut = final->tokensOut;
                r.costUsd = final->costUsd;
                final = r;
            } else {
                final = *u.result;
            }
        }
    });
    {
        std::lock_guard lk(a.m);
        a.proc = nullptr;
    }
    if (!geminiText.empty()) {  // the CLI ended mid-reply
        std::vector<std::pair<std::string, JsonObject>> rest;
        joinAssistantDeltas(rest, geminiText, true);
        appendParsed(runId, rest);
    }
    appendLog(runId, "[atelier] " + spec->command + " " + st.describe());
    if (final) {
        applyResult(runId, *final, launch.isContinue);
        if (backend != "claude-code" && backend != "gemini") {
            auto p = makeObject();
            p->set("tokens_in", final->tokensIn);
            p->set("tokens_out", final->tokensOut);
            p->set("cost_usd", final->costUsd);
            p->set("session_id", row(runId)->text("session_id"));
            p->set("is_error", final->isError);
            event(runId, "run.result", p);
        }
    }
    std::string hookFailure;
    {
        std::lock_guard lk(a.m);
        hookFailure = a.hookFailure;
    }
    bool exitOk = st.ok() || (backend == "codex" && turnDone);
    bool success = exitOk && hookFailure.empty() && (!final || !final->isError);
    std::string reason;
    if (!success) {
        if (!hookFailure.empty()) reason = hookFailure;
        else if (final && final->isError) reason = final->text.empty() ? "the CLI reported an error" : final->text;
        else {
            reason = spec->command + " " + st.describe();
            std::string tail = stderrTail;
            while (!tail.empty() && tail.back() == '\n') tail.pop_back();
            if (!tail.empty()) reason += ": " + tail.substr(tail.size() > 500 ? tail.size() - 500 : 0);
        }
    }
    finish(runId, a, success, reason);
}

std::string RunEngine::permissionDecision(const std::string& runId, const std::string& tool, const JsonObject& input,
                                          std::string* message) {
    auto payload = makeObject();
    payload->set("runId", runId);
    payload->set("tool", tool);
    payload->set("input", input ? input : makeObject());
    auto r = module_.runHook("agent.permission_request", payload);
    if (r.vetoed) {
        if (message) *message = r.payload;
        return "deny";
    }
    auto o = r.json();
    std::string d = str(o, "decision");
    if (message) *message = str(o, "message");
    return d == "allow" || d == "deny" ? d : std::string();
}

// ------------------------------------------------------------------ routes' domain

JsonObject RunEngine::create(const NewRun& req) {
    const std::string& agentId = req.agentId;
    const std::string& task = req.task;
    const std::string& source = req.sourceBranch;
    const auto& parent = req.parentRunId;
    bool notify = req.notify;
    const auto& modelOverride = req.model;
    if (source.empty() || source.front() == '-' || (source != "HEAD" && !git::isValidBranchName(source)))
        throw invalidInput("source_branch is not a valid branch name", "VALIDATION_ERROR",
                           {{"source_branch", "must be HEAD or a valid branch name"}});
    auto agent = agents_.get(agentId);
    if (!agent) throw notFound("Agent not found", "AGENT_NOT_FOUND");
    if (!(*agent)->optValue<bool>("is_enabled", true)) throw conflict("Agent is disabled", "AGENT_DISABLED");
    if (parent && !row(*parent)) throw notFound("Parent run not found", "RUN_NOT_FOUND");
    std::string projectId = req.projectId.value_or(str(*agent, "project_id"));
    if (projectId.empty())
        throw invalidInput("project_id is required (the agent has no project)", "VALIDATION_ERROR",
                           {{"project_id", "is required"}});
    std::string cli = str(*agent, "cli_name", "claude-code");
    if (cli == "mock") {
        auto script = parseMockScript(task);
        if (!script.errors.empty()) {
            std::vector<atelier::ErrorDetail> details;
            for (auto& e : script.errors) details.push_back({"task", e});
            throw invalidInput("The mock script in the task is invalid: " + script.errors.front(),
                               "INVALID_MOCK_SCRIPT", details);
        }
    }
    auto pr = module_.host().call("GET", "/api/projects/" + urlEncode(projectId));
    if (pr.status == 404) throw notFound("Project not found", "PROJECT_NOT_FOUND");
    if (pr.status != 200 || !pr.json()) throw upstreamError(pr, "Could not load the project");
    auto project = pr.json();
    if (project->has("data") && obj(project, "data")) project = obj(project, "data");
    projectId = str(project, "id", projectId);

    struct RepoRef {
        std::string id, path, name;
    };
    std::vector<RepoRef> repos;
    if (auto list = arr(project, "repos")) {
        for (size_t i = 0; i < list->size(); ++i) {
            auto r = list->getObject(static_cast<unsigned>(i));
            if (!r) continue;
            std::string path = str(r, "path", str(r, "repo_path"));
            if (path.empty()) continue;
            repos.push_back({str(r, "id"), path, str(r, "name", fs::path(path).filename().string())});
        }
    }
    std::string localPath = str(project, "local_path");
    std::error_code ec;
    if (repos.empty() && !localPath.empty() && fs::exists(fs::path(localPath) / ".git", ec))
        repos.push_back({"", localPath, fs::path(localPath).filename().string()});
    if (repos.empty() && cli != "mock")
        throw invalidInput("The project has no git repository to run in", "PROJECT_HAS_NO_REPOS");

    std::string id = atelier::newUuid();
    std::string branch = "atelier/run-" + atelier::randomHex(8);
    std::string dir = runDir(id);
    fs::create_directories(dir, ec);
    auto worktrees = makeArray();
    std::set<std::string> usedNames;
    auto rollback = [&] {
        for (size_t i = 0; i < worktrees->size(); ++i) {
            auto w = worktrees->getObject(static_cast<unsigned>(i));
            auto b = makeObject();
            b->set("repoPath", str(w, "repo_path"));
            b->set("path", str(w, "path"));
            b->set("deleteBranch", true);
            module_.host().call("DELETE", "/api/repo-worktrees", atelier::toJson(b));
        }
        fs::remove_all(dir, ec);
    };
    for (auto& repo : repos) {
        std::string name = atelier::slugify(repo.name);
        if (name.empty()) name = "repo";
        while (!usedNames.insert(name).second) name += "-" + atelier::randomHex(2);
        auto b = makeObject();
        b->set("repoPath", repo.path);
        b->set("branch", branch);
        if (source != "HEAD") b->set("baseBranch", source);
        std::string wtPath = (fs::path(dir) / "worktree" / name).string();
        b->set("path", wtPath);
        auto r = module_.host().call("POST", "/api/repo-worktrees", atelier::toJson(b));
        if (r.status != 201 && r.status != 200) {
            rollback();
            throw upstreamError(r, "Could not create the worktree for " + repo.name);
        }
        auto info = r.json();
        auto w = makeObject();
        w->set("repo_id", repo.id.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(repo.id));
        w->set("repo_name", repo.name);
        w->set("repo_path", repo.path);
        w->set("path", str(info, "path", wtPath));
        w->set("branch", str(info, "branch", branch));
        std::string base = str(info, "head");
        if (base.empty()) {
            try {
                base = git::headCommit(str(w, "path"));
            } catch (...) {
            }
        }
        w->set("base_commit", base);
        w->set("git", true);
        worktrees->add(w);
    }
    if (repos.empty()) {  // mock runs of a project without repositories work in a scratch directory
        std::string ws = (fs::path(dir) / "workspace").string();
        fs::create_directories(ws, ec);
        auto w = makeObject();
        w->set("repo_id", Poco::Dynamic::Var());
        w->set("repo_name", "workspace");
        w->set("repo_path", Poco::Dynamic::Var());
        w->set("path", ws);
        w->set("branch", branch);
        w->set("base_commit", Poco::Dynamic::Var());
        w->set("git", false);
        worktrees->add(w);
    }
    std::string model = modelOverride.value_or(str(*agent, "model"));
    if (model.empty()) model = defaultModelFor(cli, module_.host().config());
    std::string now = atelier::nowIso();
    try {
        module_.db().exec(
            "INSERT INTO agents_runs (id, project_id, agent_id, task, status, source_branch, run_branch, cli_name, model,"
            " parent_run_id, notify, worktrees, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            {id, projectId, agentId, task, "queued", source, branch, cli, model, parent, notify, atelier::toJson(worktrees), now, now});
    } catch (...) {
        rollback();
        throw;
    }
    auto p = makeObject();
    p->set("task", task);
    p->set("source_branch", source);
    p->set("run_branch", branch);
    p->set("agent_id", agentId);
    p->set("cli_name", cli);
    p->set("worktrees", worktrees);
    publishLifecycle(id, "run.created", p);
    auto created = toJson(*row(id));
    startWorker(id, Launch{task, "", false});
    return created;
}

JsonArray RunEngine::list(const RunFilter& f) const {
    std::string sql = "SELECT * FROM agents_runs WHERE 1=1";
    std::vector<atelier::Param> ps;
    if (f.projectId) {
        sql += " AND project_id = ?";
        ps.emplace_back(*f.projectId);
    }
    if (f.agentId) {
        sql += " AND agent_id = ?";
        ps.emplace_back(*f.agentId);
    }
    if (f.status) {
        sql += " AND status = ?";
        ps.emplace_back(*f.status);
    }
    sql += " ORDER BY created_at DESC, id LIMIT ? OFFSET ?";
    ps.emplace_back(f.limit);
    ps.emplace_back(f.offset);
    auto out = makeArray();
    for (auto& r : module_.db().query(sql, ps)) out->add(toJson(r));
    return out;
}

JsonObject RunEngine::get(const std::string& id) const {
    auto r = row(id);
    if (!r) throw notFound("Run not found", "RUN_NOT_FOUND");
    return toJson(*r);
}

void RunEngine::remove(const std::string& id) {
    requireNotActive(id, "delete a run");
    reapFinished();
    auto wts = worktreesOf(id);
    for (size_t i = 0; i < wts->size(); ++i) {
        auto w = wts->getObject(static_cast<unsigned>(i));
        if (!w->optValue<bool>("git", true)) continue;
        auto b = makeObject();
        b->set("repoPath", str(w, "repo_path"));
        b->set("path", str(w, "path"));
        b->set("deleteBranch", true);
        auto r = module_.host().call("DELETE", "/api/repo-worktrees", atelier::toJson(b));
        if (r.status >= 400 && r.status != 404)
            module_.host().warn("could not remove worktree " + str(w, "path") + ": " + r.body);
    }
    {
        std::lock_guard lock(hookCacheMutex_);
        hookCache_.erase(id);
    }
    log_.removeRun(id);
    module_.db().exec("DELETE FROM agents_runs WHERE id = ?", {id});
    {
        std::lock_guard lock(seenMutex_);
        seenTools_.erase(id);
    }
    std::error_code ec;
    fs::remove_all(runDir(id), ec);
}

JsonObject RunEngine::cancel(const std::string& id) {
    auto r = row(id);
    if (!r) throw notFound("Run not found", "RUN_NOT_FOUND");
    auto a = active(id);
    if (!a) {
        if (isActiveStatus(r->text("status"))) {  // no worker (e.g. lost): settle the row
            setStatus(id, "cancelled");
            publishLifecycle(id, "run.cancelled", makeObject());
            return get(id);
        }
        throw conflict("Only a running run can be cancelled (status: " + r->text("status") + ")", "RUN_NOT_RUNNING");
    }
    {
        std::lock_guard lk(a->m);
        if (a->stopReason.empty()) a->stopReason = "cancel";
        if (a->proc) a->proc->terminate(2000);
        a->cv.notify_all();
    }
    waitIdle(id, 5000);
    return get(id);
}

JsonObject RunEngine::pause(const std::string& id) {
    auto r = row(id);
    if (!r) throw notFound("Run not found", "RUN_NOT_FOUND");
    auto a = active(id);
    if (!a) throw conflict("Only a running run can be paused (status: " + r->text("status") + ")", "RUN_NOT_RUNNING");
    {
        std::lock_guard lk(a->m);
        if (a->stopReason.empty()) a->stopReason = "pause";
        if (a->proc) a->proc->terminate(2000);
        a->cv.notify_all();
    }
    waitIdle(id, 5000);
    return get(id);
}

void RunEngine::ensureWorktrees(const std::string& runId) {
    auto r = row(runId);
    auto wts = worktreesOf(runId);
    bool changed = false;
    std::error_code ec;
    for (size_t i = 0; i < wts->size(); ++i) {
        auto w = wts->getObject(static_cast<unsigned>(i));
        if (fs::exists(str(w, "path"), ec)) continue;
        if (!w->optValue<bool>("git", true)) {
            fs::create_directories(str(w, "path"), ec);
            continue;
        }
        auto b = makeObject();
        b->set("repoPath", str(w, "repo_path"));
        b->set("branch", str(w, "branch", r->text("run_branch")));
        b->set("path", str(w, "path"));
        auto res = module_.host().call("POST", "/api/repo-worktrees", atelier::toJson(b));
        if (res.status == 409 && res.body.find("BRANCH_EXISTS") != std::string::npos) {
            // The worktrees module only creates new branches; the run's branch still exists, so
            // attach it again here (the run owns this worktree).
            try {
                fs::create_directories(fs::path(str(w, "path")).parent_path(), ec);
                git::addWorktreeForBranch(str(w, "repo_path"), str(w, "path"), str(w, "branch", r->text("run_branch")));
            } catch (const git::Error& e) {
                throw DomainError(DomainError::Kind::Conflict, "WORKTREE_RECREATE_FAILED", e.what());
            }
        } else if (res.status != 201 && res.status != 200) {
            throw upstreamError(res, "Could not re-create the worktree for " + str(w, "repo_name"));
        } else if (auto info = res.json(); info && !str(info, "path").empty()) {
            w->set("path", str(info, "path"));
        }
        changed = true;
    }
    if (changed) module_.db().exec("UPDATE agents_runs SET worktrees = ? WHERE id = ?", {atelier::toJson(wts), runId});
}

JsonObject RunEngine::resume(const std::string& id, const std::optional<std::string>& message) {
    auto r = row(id);
    if (!r) throw notFound("Run not found", "RUN_NOT_FOUND");
    std::string status = r->text("status");
    if (isActiveStatus(status)) throw conflict("The run is still " + status, "RUN_ACTIVE");
    if (active(id) && !waitIdle(id, 5000)) throw conflict("The run is still finishing", "RUN_ACTIVE");
    if (status != "completed" && status != "paused" && status != "failed" && status != "cancelled" && status != "interrupted")
        throw conflict("The run cannot be continued from status " + status, "INVALID_STATE");
    if (r->text("session_id").empty()) throw conflict("The run has no CLI session to resume", "NO_SESSION");
    if (r->text("cli_name") == "mock" && message) {
        auto script = parseMockScript(*message);
        if (!script.errors.empty())
            throw invalidInput("The mock script in the message is invalid: " + script.errors.front(),
                               "INVALID_MOCK_SCRIPT", {{"message", script.errors.front()}});
    }
    ensureWorktrees(id);
    std::string prompt = message.value_or("Continue where you left off.");
    auto p = makeObject();
    p->set("message", prompt);
    p->set("source", "api");
    event(id, "user.message", p);
    setStatus(id, "queued");
    startWorker(id, Launch{r->text("cli_name") == "mock" && !message ? std::string() : prompt, r->text("session_id"), true});
    return get(id);
}

JsonObject RunEngine::setNotify(const std::string& id, bool n) {
    requireRun(id);
    module_.db().exec("UPDATE agents_runs SET notify = ?, updated_at = ? WHERE id = ?", {n, atelier::nowIso(), id});
    return get(id);
}

void RunEngine::requireHookTarget(const std::string& id) {
    {
        std::lock_guard lock(hookCacheMutex_);
        if (hookCache_.count(id)) return;
    }
    auto r = row(id);
    if (!r) throw notFound("Run not found", "RUN_NOT_FOUND");
    std::lock_guard lock(hookCacheMutex_);
    if (hookCache_.size() > 10000) hookCache_.clear();
    hookCache_[id] = r->text("session_id");
}

JsonObject RunEngine::ingestHook(const std::string& id, const JsonObject& payload) {
    requireHookTarget(id);
    HookEffect e = interpretHook(payload);
    if (e.sessionId) {
        bool changed;
        {
            std::lock_guard lock(hookCacheMutex_);
            changed = hookCache_[id] != *e.sessionId;
            hookCache_[id] = *e.sessionId;
        }
        if (changed) module_.db().exec("UPDATE agents_runs SET session_id = ? WHERE id = ?", {*e.sessionId, id});
    }
    appendParsed(id, e.events);
    std::string decision, message;
    if (e.permissionRequest) decision = permissionDecision(id, e.tool, e.toolInput, &message);
    auto a = active(id);
    if (e.status) {
        const std::string& s = *e.status;
        if (a) {
            // The engine supervises the process: its exit decides the outcome.
            if (s == "failed") {
                std::lock_guard lk(a->m);
                a->hookFailure = e.reason;
            }
        } else if (auto r = row(id)) {
            std::string cur = r->text("status");
            if (s == "running" && cur != "running") {
                setStatus(id, "running");
                publishLifecycle(id, "run.started", makeObject());
            } else if (s == "paused" && cur == "running") {
                setStatus(id, "paused");
                auto p = makeObject();
                p->set("reason", "idle");
                publishLifecycle(id, "run.paused", p);
            } else if (s == "failed" && cur != "failed") {
                setStatus(id, "failed", e.reason);
                auto p = makeObject();
                p->set("reason", e.reason);
                publishLifecycle(id, "run.failed", p);
            } else if (s == "completed" && (cur == "running" || cur == "paused")) {
                setStatus(id, "completed");
                publishLifecycle(id, "run.completed", makeObject());
            }
        }
    }
    return hookReply(e, decision, message);
}

// ------------------------------------------------------------------ changes and git

JsonObject RunEngine::changes(const std::string& id) const {
    auto wts = worktreesOf(id);
    auto repos = makeArray();
    std::string combined;
    for (size_t i = 0; i < wts->size(); ++i) {
        auto w = wts->getObject(static_cast<unsigned>(i));
        if (!w->optValue<bool>("git", true)) continue;
        auto o = makeObject();
        o->set("repo_name", str(w, "repo_name"));
        o->set("path", str(w, "path"));
        o->set("branch", str(w, "branch"));
        o->set("base_commit", str(w, "base_commit"));
        std::string diff;
        try {
            diff = git::diffText(str(w, "path"), str(w, "base_commit"));
            o->set("stats", git::diffStats(str(w, "path"), str(w, "base_commit")));
        } catch (const git::Error& e) {
            // Fall back to the worktrees module's diff of that path.
            auto r = module_.host().call("GET", "/api/repo-diff?path=" + urlEncode(str(w, "path")) + "&base=" +
                                                    urlEncode(str(w, "base_commit")));
            if (r.status != 200)
                throw DomainError(DomainError::Kind::Conflict, "WORKTREE_MISSING",
                                  std::string("Cannot diff the run's worktree: ") + e.what());
            auto j = r.json();
            diff = j ? str(j, "diff", r.body) : r.body;
        }
        o->set("diff", diff);
        combined += diff;
        repos->add(o);
    }
    auto out = makeObject();
    out->set("run_id", id);
    out->set("diff", combined);
    out->set("repos", repos);
    return out;
}

JsonObject RunEngine::diffStats(const std::string& id) const {
    auto wts = worktreesOf(id);
    int64_t files = 0, ins = 0, del = 0;
    auto repos = makeArray();
    for (size_t i = 0; i < wts->size(); ++i) {
        auto w = wts->getObject(static_cast<unsigned>(i));
        if (!w->optValue<bool>("git", true)) continue;
        JsonObject s;
        try {
            s = git::diffStats(str(w, "path"), str(w, "base_commit"));
        } catch (const git::Error& e) {
            throw DomainError(DomainError::Kind::Conflict, "WORKTREE_MISSING",
                              std::string("Cannot diff the run's worktree: ") + e.what());
        }
        files += num(s, "files");
        ins += num(s, "insertions");
        del += num(s, "deletions");
        s->set("repo_name", str(w, "repo_name"));
        repos->add(s);
    }
    auto out = makeObject();
    out->set("run_id", id);
    out->set("files", files);
    out->set("insertions", ins);
    out->set("deletions", del);
    out->set("repos", repos);
    return out;
}

JsonObject RunEngine::commit(const std::string& id, const std::optional<std::string>& message) {
    if (message && message->find_first_not_of(" \t\r\n") == std::string::npos)
        throw invalidInput("message must not be empty", "VALIDATION_ERROR", {{"message", "must not be empty"}});
    requireNotActive(id, "commit");
    auto r = row(id);
    std::string msg = message.value_or("atelier: " + firstLine(r->text("task")).substr(0, 72));
    auto wts = worktreesOf(id);
    auto commits = makeArray();
    for (size_t i = 0; i < wts->size(); ++i) {
        auto w = wts->getObject(static_cast<unsigned>(i));
        if (!w->optValue<bool>("git", true)) continue;
        std::string sha;
        try {
            sha = git::commitAll(str(w, "path"), msg, kAuthorName, kAuthorEmail);
        } catch (const git::Error& e) {
            throw DomainError(DomainError::Kind::Conflict, "COMMIT_FAILED", e.what());
        }
        if (sha.empty()) continue;
        auto c = makeObject();
        c->set("repo_name", str(w, "repo_name"));
        c->set("commit", sha);
        c->set("branch", str(w, "branch"));
        commits->add(c);
    }
    if (commits->size() == 0) throw conflict("Nothing to commit", "NOTHING_TO_COMMIT");
    auto out = makeObject();
    out->set("success", true);
    out->set("message", msg);
    out->set("commits", commits);
    return out;
}

JsonObject RunEngine::push(const std::string& id) {
    requireNotActive(id, "push");
    auto wts = worktreesOf(id);
    auto pushed = makeArray();
    for (size_t i = 0; i < wts->size(); ++i) {
        auto w = wts->getObject(static_cast<unsigned>(i));
        if (!w->optValue<bool>("git", true)) continue;
        std::string branch;
        try {
            branch = git::currentBranch(str(w, "path"));
            git::push(str(w, "path"), branch, "origin");
        } catch (const git::Error& e) {
            throw DomainError(DomainError::Kind::Invalid, "PUSH_FAILED", e.what());
        }
        auto p = makeObject();
        p->set("repo_name", str(w, "repo_name"));
        p->set("branch", branch);
        p->set("remote", "origin");
        pushed->add(p);
    }
    if (pushed->size() == 0) throw invalidInput("The run has no git worktree to push", "NOTHING_TO_PUSH");
    auto out = makeObject();
    out->set("success", true);
    out->set("pushed", pushed);
    return out;
}

JsonObject RunEngine::pullRequest(const std::string& id, const std::string& title,
                                  const std::optional<std::string>& text) {
    auto r = row(id);
    if (!r) throw notFound("Run not found", "RUN_NOT_FOUND");
    auto wts = worktreesOf(id);
    auto results = makeArray();
    for (size_t i = 0; i < wts->size(); ++i) {
        auto w = wts->getObject(static_cast<unsigned>(i));
        if (!w->optValue<bool>("git", true)) continue;
        auto b = makeObject();
        b->set("repoPath", str(w, "repo_path"));
        b->set("path", str(w, "path"));
        b->set("head", str(w, "branch"));
        b->set("base", r->text("source_branch") == "HEAD" ? Poco::Dynamic::Var() : Poco::Dynamic::Var(r->text("source_branch")));
        b->set("title", title);
        b->set("body", text.value_or(""));
        auto res = module_.host().call("POST", "/api/github/pull-requests", atelier::toJson(b));
        if (res.status == 404 && (res.body.find("PULL") == std::string::npos))
            throw DomainError(
                DomainError::Kind::Unsupported, "GITHUB_UNAVAILABLE",
                "Pull requests need the github module, which is not loaded; push the branch and open the PR manually");
        if (res.status >= 400) throw upstreamError(res, "The github module refused the pull request");
        auto j = res.json();
        if (j && !str(j, "url", str(j, "html_url")).empty())
            module_.db().exec("UPDATE agents_runs SET pr_url = ? WHERE id = ?", {str(j, "url", str(j, "html_url")), id});
        results->add(j ? Poco::Dynamic::Var(j) : Poco::Dynamic::Var(res.body));
    }
    auto out = makeObject();
    out->set("success", true);
    out->set("pull_requests", results);
    return out;
}

JsonObject RunEngine::renameBranch(const std::string& id, const std::string& name) {
    if (name.front() == '-' || !git::isValidBranchName(name))
        throw invalidInput("name is not a valid branch name", "VALIDATION_ERROR",
                           {{"name", "must be a valid branch name"}});
    requireNotActive(id, "rename the branch");
    auto wts = worktreesOf(id);
    for (size_t i = 0; i < wts->size(); ++i) {
        auto w = wts->getObject(static_cast<unsigned>(i));
        if (w->optValue<bool>("git", true)) {
            try {
                git::renameBranch(str(w, "path"), name);
            } catch (const git::Error& e) {
                throw DomainError(DomainError::Kind::Conflict, "RENAME_FAILED", e.what());
            }
        }
        w->set("branch", name);
    }
    module_.db().exec("UPDATE agents_runs SET run_branch = ?, worktrees = ?, updated_at = ? WHERE id = ?",
                      {name, atelier::toJson(wts), atelier::nowIso(), id});
    return get(id);
}

JsonObject RunEngine::accept(const std::string& id) {
    auto pushed = push(id);
    module_.db().exec("UPDATE agents_runs SET accepted_at = ?, updated_at = ? WHERE id = ?", {atelier::nowIso(), atelier::nowIso(), id});
    auto out = get(id);
    out->set("pushed", pushed->get("pushed"));
    return out;
}

JsonObject RunEngine::revert(const std::string& id) {
    requireNotActive(id, "revert");
    auto wts = worktreesOf(id);
    for (size_t i = 0; i < wts->size(); ++i) {
        auto w = wts->getObject(static_cast<unsigned>(i));
        if (!w->optValue<bool>("git", true) || str(w, "base_commit").empty()) continue;
        try {
            git::revertTo(str(w, "path"), str(w, "base_commit"));
        } catch (const git::Error& e) {
            throw DomainError(DomainError::Kind::Conflict, "REVERT_FAILED", e.what());
        }
    }
    return get(id);
}

JsonArray RunEngine::tasksFromEvents(const std::vector<RunEvent>& events) {
    std::vector<JsonObject> tasks;
    auto findTask = [&](const std::string& tid) -> JsonObject {
        for (auto& t : tasks)
            if (str(t, "id") == tid) return t;
        return nullptr;
    };
    for (auto& e : events) {
        if (e.type != "agent.tool_call") continue;
        auto p = parseObjectOr(e.payload);
        std::string tool = str(p, "tool_name");
        auto input = obj(p, "input");
        if (!input) continue;
        if (tool == "TaskCreate") {
            auto t = makeObject();
            t->set("id", std::to_string(tasks.size() + 1));
            t->set("subject", str(input, "subject"));
            t->set("description", str(input, "description"));
            t->set("active_form", str(input, "activeForm"));
            t->set("status", "pending");
            t->set("created_at", e.createdAt);
            t->set("updated_at", e.createdAt);
            tasks.push_back(t);
        } else if (tool == "TaskUpdate") {
            auto t = findTask(str(input, "taskId"));
            if (!t) continue;
            for (auto k : {"status", "subject", "description"})
                if (!str(input, k).empty()) t->set(k, str(input, k));
            if (!str(input, "activeForm").empty()) t->set("active_form", str(input, "activeForm"));
            t->set("updated_at", e.createdAt);
        } else if (tool == "TodoWrite") {
            auto todos = arr(input, "todos");
            if (!todos) continue;
            tasks.clear();
            for (size_t i = 0; i < todos->size(); ++i) {
                auto td = todos->getObject(static_cast<unsigned>(i));
                if (!td) continue;
                auto t = makeObject();
                t->set("id", std::to_string(i + 1));
                t->set("subject", str(td, "content"));
                t->set("description", "");
                t->set("active_form", str(td, "activeForm"));
                t->set("status", str(td, "status", "pending"));
                t->set("created_at", e.createdAt);
                t->set("updated_at", e.createdAt);
                tasks.push_back(t);
            }
        }
    }
    auto out = makeArray();
    for (auto& t : tasks) out->add(t);
    return out;
}

JsonArray RunEngine::tasks(const std::string& id) const {
    requireRun(id);
    return tasksFromEvents(log_.list(id));
}

std::string RunEngine::logs(const std::string& id) const {
    requireRun(id);
    std::ifstream in(fs::path(runDir(id)) / "run.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

atelier::HookOutcome RunEngine::terminalSession(std::string_view payload) const {
    auto p = atelier::parseObject(payload);
    if (!p) return atelier::HookOutcome::keep();
    std::string runId = str(p, "runId", str(p, "run_id"));
    if (runId.empty()) return atelier::HookOutcome::keep();
    auto r = row(runId);
    if (!r) return atelier::HookOutcome::keep();
    auto wts = atelier::parseArray(r->text("worktrees"));
    std::string cwd = wts && wts->size() ? str(wts->getObject(0), "path") : runDir(runId);
    std::error_code ec;
    if (!fs::exists(cwd, ec)) return atelier::HookOutcome::keep();
    p->set("cwd", cwd);
    auto env = makeObject();
    env->set("ATELIER_RUN_ID", runId);
    env->set("ATELIER_RUN_BRANCH", r->text("run_branch"));
    env->set("ATELIER_HOOK_URL", hookUrl(runId));
    env->set("TERM", "xterm-256color");
    p->set("env", env);
    // A run that is not running and has a CLI session opens that session interactively in the
    // PTY (with the run's hook settings, so its hooks keep feeding the run's events); otherwise
    // the terminal is a shell in the run's worktree.
    const std::string cli = r->text("cli_name"), sid = r->text("session_id");
    if (!isActiveStatus(r->text("status")) && !sid.empty()) {
        const CliSpec* spec = cliForBackend(cli);
        std::string exe = spec ? locateCli(spec->command) : "";
        if (!exe.empty()) {
            auto cmd = makeArray();
            cmd->add(exe);
            if (cli == "claude-code") {
                cmd->add("--resume");
                cmd->add(sid);
                fs::path settings = fs::path(runDir(runId)) / "claude-settings.json";
                if (fs::exists(settings, ec)) {
                    cmd->add("--settings");
                    cmd->add(settings.string());
                }
            } else if (cli == "codex") {
                cmd->add("resume");
                cmd->add(sid);
                env->set("CODEX_HOME", (fs::path(runDir(runId)) / "codex-home").string());
            } else if (cli == "gemini") {
                cmd->add("--resume");
                cmd->add(sid);
            } else if (cli == "opencode") {
                cmd->add("--session");
                cmd->add(sid);
            }
            p->set("command", cmd);
        }
    }
    return atelier::HookOutcome::replace(p);
}

}  // namespace agents
