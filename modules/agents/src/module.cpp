// agents module: registration of every route, hook and timer. Domain logic lives in
// agent_store (definitions), run_engine (runs, hooks, git), run_events (log + SSE),
// backends (CLIs), sessions (Kombuse chat sessions).
#include <atelier/shared/git.hpp>
#include <memory>
#include <set>

#include "agent_store.hpp"
#include "backends.hpp"
#include "git_ops.hpp"
#include "run_engine.hpp"
#include "run_events.hpp"
#include "sessions.hpp"

namespace agents {

using atelier::Request;
using atelier::Response;

namespace {

std::optional<bool> queryBool(const Request& req, const std::string& name) {
    auto v = req.queryOpt(name);
    if (!v || v->empty()) return std::nullopt;
    if (*v == "true" || *v == "1") return true;
    if (*v == "false" || *v == "0") return false;
    throw atelier::badRequest(name + " must be true or false", "VALIDATION_ERROR", {{name, "must be true or false"}});
}

std::optional<std::string> queryStr(const Request& req, const std::string& name) {
    auto v = req.queryOpt(name);
    if (!v || v->empty()) return std::nullopt;
    return v;
}

// ---- request bodies → the domain's typed requests

NewRun parseNewRun(const atelier::JsonObject& b) {
    NewRun r;
    r.agentId = atelier::requireString(b, "agent_id");
    r.task = atelier::requireString(b, "task");
    r.sourceBranch = atelier::optString(b, "source_branch").value_or("HEAD");
    r.parentRunId = atelier::optString(b, "parent_run_id");
    r.notify = atelier::optBool(b, "notify").value_or(false);
    r.model = atelier::optString(b, "model");
    r.projectId = atelier::optString(b, "project_id");
    return r;
}

bool parseNotify(const atelier::JsonObject& b) {
    if (!atelier::has(b, "notify"))
        throw atelier::badRequest("notify is required", "VALIDATION_ERROR", {{"notify", "is required"}});
    return *atelier::optBool(b, "notify");
}

}  // namespace

class AgentsModule : public atelier::shared::DomainModule {
public:
    void init() override {
        std::vector<std::string> steps;
        for (const auto& list : {AgentStore::migrations(), RunEventLog::migrations(), RunEngine::migrations(),
                                 SessionStore::migrations()})
            steps.insert(steps.end(), list.begin(), list.end());
        // Appended last so existing databases keep their migration numbers.
        for (const auto& step : AgentStore::laterMigrations()) steps.push_back(step);
        migrate(steps);
        agents_ = std::make_unique<AgentStore>(db(), host());
        events_ = std::make_unique<RunEventLog>(db());
        runs_ = std::make_unique<RunEngine>(*this, *events_, *agents_);
        sessions_ = std::make_unique<SessionStore>(db(), *agents_, host().config());
        agentRoutes();
        backendRoutes();
        runRoutes();
        sessionRoutes();
        hook("terminal.run_session", 100, [this](std::string_view p) { return runs_->terminalSession(p); });
        timer(15000, 15000, [this] { events_->keepAlive(); });
        timer(2000, 2000, [this] { runs_->reapFinished(); });
        timer(1000, 60000, [this] { sessions_->sweep(10 * 60 * 1000); });
    }
    void start() override {
        runs_->recoverAfterRestart();
        startLoginShellProbe();
    }
    void stop() override {
        stopLoginShellProbe();
        runs_->stopAll();
        events_->closeAll();
    }
    ~AgentsModule() override { runs_.reset(); }

private:
    atelier::git::Library libgit2_;  // first member: outlives everything that uses libgit2

    void agentRoutes() {
        get("/api/agents", "List agents", [this](Request& req, Response& res) {
            AgentFilter f;
            f.isEnabled = queryBool(req, "is_enabled");
            f.enabledForChat = queryBool(req, "enabled_for_chat");
            f.projectId = queryStr(req, "project_id");
            f.cliName = queryStr(req, "cli_name");
            f.role = queryStr(req, "role");
            f.limit = req.queryInt("limit", 100, 1, 1000);
            f.offset = req.queryInt("offset", 0, 0, INT64_MAX);
            res.json(agents_->list(f));
        });
        get("/api/agents/by-slug/:slug", "Get an agent by slug", [this](Request& req, Response& res) {
            auto a = agents_->bySlug(req.param("slug"), queryStr(req, "plugin_id"));
            if (!a) throw atelier::notFound("Agent not found", "AGENT_NOT_FOUND");
            res.json(*a);
        });
        get("/api/agents/:id", "Get an agent", [this](Request& req, Response& res) {
            auto a = agents_->get(req.param("id"));
            if (!a) throw atelier::notFound("Agent not found", "AGENT_NOT_FOUND");
            res.json(*a);
        });
        post("/api/agents", "Create an agent", [this](Request& req, Response& res) {
            res.json(agents_->create(parseAgentFields(req.json(), true)), 201);
        });
        patch("/api/agents/:id", "Update an agent (partial)", [this](Request& req, Response& res) {
            res.json(agents_->update(req.param("id"), parseAgentFields(req.json(), false)));
        });
        put("/api/agents/:id", "Update an agent (partial)", [this](Request& req, Response& res) {
            res.json(agents_->update(req.param("id"), parseAgentFields(req.json(), false)));
        });
        del("/api/agents/:id", "Delete an agent", [this](Request& req, Response& res) {
            agents_->remove(req.param("id"));
            res.noContent();
        });
        post("/api/agents/:id/reset-to-plugin-defaults", "Reset a plugin agent", [this](Request& req, Response& res) {
            res.json(agents_->resetToPluginDefaults(req.param("id")));
        });
        post("/api/agents/export", "Export agents as markdown files", [this](Request& req, Response& res) {
            auto b = req.json();
            std::string dir = atelier::requireString(b, "directory");
            std::vector<std::string> ids;
            if (atelier::has(b, "agent_ids")) {
                if (!isArray(b->get("agent_ids")))
                    throw atelier::badRequest("agent_ids must be an array", "VALIDATION_ERROR", {{"agent_ids", "must be an array of ids"}});
                auto a = b->getArray("agent_ids");
                for (size_t i = 0; i < a->size(); ++i) {
                    if (!a->get(i).isString())
                        throw atelier::badRequest("agent_ids must be strings", "VALIDATION_ERROR", {{"agent_ids", "must be an array of ids"}});
                    ids.push_back(a->getElement<std::string>(static_cast<unsigned>(i)));
                }
            }
            res.json(agents_->exportTo(dir, ids, exportRoots()));
        });
        get("/api/projects/:project_id/agents", "A project's agents", [this](Request& req, Response& res) {
            auto pr = host().call("GET", "/api/projects/" + req.param("project_id"));
            if (pr.status == 404) throw atelier::notFound("Project not found", "PROJECT_NOT_FOUND");
            AgentFilter f;
            f.projectId = req.param("project_id");
            if (auto o = pr.json(); o && o->has("id")) f.projectId = str(o, "id");
            f.projectOnly = true;
            f.limit = req.queryInt("limit", 1000, 1, 10000);
            res.json(agents_->list(f));
        });
    }

    void backendRoutes() {
        get("/api/backend-status", "Availability and version of each backend",
            [this](Request&, Response& res) { res.json(status_.get(false)); });
        post("/api/backend-status/refresh", "Re-check backend availability",
             [this](Request&, Response& res) { res.json(status_.get(true)); });
        get("/api/models", "Available models per backend", [this](Request&, Response& res) { res.json(modelsCatalog(host().config())); });
        get("/api/agents/:agent/cli/status", "Is the agent CLI installed", [](Request& req, Response& res) {
            auto spec = cliForOpenkitName(req.param("agent"));
            if (!spec) throw atelier::notFound("Unknown agent", "UNKNOWN_AGENT");
            res.json(cliStatus(*spec));
        });
        post("/api/agents/:agent/cli/install", "Install the agent CLI", [this](Request& req, Response& res) {
            auto spec = cliForOpenkitName(req.param("agent"));
            if (!spec) throw atelier::notFound("Unknown agent", "UNKNOWN_AGENT");
            auto out = cliInstall(*spec);
            status_.get(true);
            res.json(out);
        });
    }

    void runRoutes() {
        post("/api/runs", "Create and start a run",
             [this](Request& req, Response& res) { res.json(runs_->create(parseNewRun(req.json())), 201); });
        get("/api/runs", "List runs", [this](Request& req, Response& res) {
            RunFilter f;
            f.projectId = queryStr(req, "project_id");
            f.agentId = queryStr(req, "agent_id");
            f.status = queryStr(req, "status");
            f.limit = req.queryInt("limit", 100, 1, 1000);
            f.offset = req.queryInt("offset", 0, 0, INT64_MAX);
            res.json(runs_->list(f));
        });
        get("/api/runs/:id", "Get a run", [this](Request& req, Response& res) { res.json(runs_->get(req.param("id"))); });
        del("/api/runs/:id", "Delete a finished run", [this](Request& req, Response& res) {
            runs_->remove(req.param("id"));
            res.noContent();
        });
        post("/api/runs/:id/cancel", "Cancel a running run", [this](Request& req, Response& res) { res.json(runs_->cancel(req.param("id"))); });
        post("/api/runs/:id/pause", "Pause a running run", [this](Request& req, Response& res) { res.json(runs_->pause(req.param("id"))); });
        post("/api/runs/:id/continue", "Resume a run", [this](Request& req, Response& res) {
            res.json(runs_->resume(req.param("id"), atelier::optString(req.json(), "message")));
        });
        post("/api/runs/:id/notify", "Set notification", [this](Request& req, Response& res) {
            res.json(runs_->setNotify(req.param("id"), parseNotify(req.json())));
        });
        get("/api/runs/:id/events", "A run's events", [this](Request& req, Response& res) {
            runs_->requireRun(req.param("id"));
            auto after = req.queryInt("after_id", 0, 0, INT64_MAX);
            auto out = atelier::makeArray();
            for (auto& e : events_->list(req.param("id"), after)) out->add(e.toJson());
            res.json(out);
        });
        get("/api/runs/:id/events/stream", "SSE: replay then live", [this](Request& req, Response& res) {
            std::string id = req.param("id");
            runs_->requireRun(id);
            int64_t last = req.queryInt("last_event_id", 0, 0, INT64_MAX);
            if (!req.hasQuery("last_event_id") && req.hasHeader("Last-Event-ID")) {
                try {
                    last = std::max<int64_t>(0, std::stoll(req.header("Last-Event-ID")));
                } catch (...) {
                    throw atelier::badRequest("Last-Event-ID must be an integer", "VALIDATION_ERROR", {{"Last-Event-ID", "must be an integer"}});
                }
            }
            res.header("Cache-Control", "no-cache");
            events_->subscribe(id, res.stream("text/event-stream"), last);
        });
        post("/api/runs/:id/hook", "Ingest a raw CLI hook payload", [this](Request& req, Response& res) {
            std::string id = req.param("id");
            runs_->requireHookTarget(id);
            res.json(runs_->ingestHook(id, req.json()));
        });
        get("/api/runs/:id/changes", "Diff of the run's changes", [this](Request& req, Response& res) { res.json(runs_->changes(req.param("id"))); });
        get("/api/runs/:id/diff-stats", "File/insertion/deletion counts",
            [this](Request& req, Response& res) { res.json(runs_->diffStats(req.param("id"))); });
        post("/api/runs/:id/commit", "Commit the run's changes", [this](Request& req, Response& res) {
            res.json(runs_->commit(req.param("id"), atelier::optString(req.json(), "message")));
        });
        post("/api/runs/:id/push", "Push the run branch", [this](Request& req, Response& res) { res.json(runs_->push(req.param("id"))); });
        post("/api/runs/:id/pull-request", "Open a pull request (github module)", [this](Request& req, Response& res) {
            auto b = req.json();
            res.json(
                runs_->pullRequest(req.param("id"), atelier::requireString(b, "title"), atelier::optString(b, "body")));
        });
        post("/api/runs/:id/rename-branch", "Rename the run branch", [this](Request& req, Response& res) {
            res.json(runs_->renameBranch(req.param("id"), atelier::requireString(req.json(), "name")));
        });
        post("/api/runs/:id/accept", "Accept: push the run branch", [this](Request& req, Response& res) { res.json(runs_->accept(req.param("id"))); });
        post("/api/runs/:id/revert", "Reset worktrees to the base commit",
             [this](Request& req, Response& res) { res.json(runs_->revert(req.param("id"))); });
        get("/api/runs/:id/tasks", "Tasks from TaskCreate/TaskUpdate events",
            [this](Request& req, Response& res) { res.json(runs_->tasks(req.param("id"))); });
        get("/api/runs/:id/logs", "Raw run log", [this](Request& req, Response& res) { res.text(runs_->logs(req.param("id"))); });
    }

    void sessionRoutes() {
        post("/api/sessions", "Create a chat session", [this](Request& req, Response& res) {
            auto b = req.json();
            NewSession s;
            s.backendType = atelier::optString(b, "backend_type");
            s.modelPreference = atelier::optString(b, "model_preference");
            s.agentId = atelier::optString(b, "agent_id");
            s.projectId = atelier::optString(b, "project_id");
            if (atelier::has(b, "ticket_id")) s.ticketId = b->get("ticket_id").toString();
            res.json(sessions_->create(s), 201);
        });
        get("/api/sessions", "List sessions", [this](Request& req, Response& res) {
            SessionFilter f;
            f.ticketId = queryStr(req, "ticket_id");
            f.projectId = queryStr(req, "project_id");
            f.agentId = queryStr(req, "agent_id");
            f.status = queryStr(req, "status");
            f.terminalReason = queryStr(req, "terminal_reason");
            f.hasBackendSessionId = queryBool(req, "has_backend_session_id");
            f.sortBy = req.query("sort_by", "created_at");
            if (f.sortBy != "created_at" && f.sortBy != "updated_at")
                throw atelier::badRequest("sort_by must be created_at or updated_at", "VALIDATION_ERROR", {{"sort_by", "invalid"}});
            if (f.status) {
                static const std::set<std::string> ok{"pending", "running", "completed", "failed", "aborted", "stopped"};
                if (!ok.count(*f.status)) throw atelier::badRequest("status is not a session status", "VALIDATION_ERROR", {{"status", "invalid"}});
            }
            f.limit = req.queryInt("limit", 50, 1, 100);
            f.offset = req.queryInt("offset", 0, 0, INT64_MAX);
            res.json(sessions_->list(f));
        });
        get("/api/sessions/diagnostics", "Abort investigation statistics", [this](Request& req, Response& res) {
            res.json(sessions_->diagnostics(req.queryInt("recent_limit", 20, 1, 200)));
        });
        get("/api/sessions/:id", "Get a session", [this](Request& req, Response& res) {
            auto s = sessions_->get(req.param("id"));
            if (!s) throw atelier::notFound("Session not found", "SESSION_NOT_FOUND");
            res.json(*s);
        });
        get("/api/sessions/:id/events", "Poll session events", [this](Request& req, Response& res) {
            res.json(sessions_->events(req.param("id"), req.queryInt("since_seq", 0, 0, INT64_MAX), queryStr(req, "event_type"),
                                       req.queryInt("limit", 100, 1, 1000)));
        });
        del("/api/sessions/:id", "Delete a session", [this](Request& req, Response& res) {
            sessions_->remove(req.param("id"));
            res.noContent();
        });
    }

    std::vector<std::string> exportRoots() const {
        std::vector<std::string> roots{host().path(ATELIER_PATH_DATA_DIR)};
        auto r = host().call("GET", "/api/projects");
        Poco::Dynamic::Var v = parseAny(r.body);
        JsonArray list;
        if (isArray(v)) list = v.extract<JsonArray>();
        else if (isObject(v)) list = arr(v.extract<JsonObject>(), "data");
        for (size_t i = 0; list && i < list->size(); ++i) {
            auto p = list->getObject(static_cast<unsigned>(i));
            if (!p) continue;
            if (!str(p, "local_path").empty()) roots.push_back(str(p, "local_path"));
            if (auto repos = arr(p, "repos"))
                for (size_t j = 0; j < repos->size(); ++j)
                    if (auto rp = repos->getObject(static_cast<unsigned>(j)); rp && !str(rp, "path").empty()) roots.push_back(str(rp, "path"));
        }
        return roots;
    }

    std::unique_ptr<AgentStore> agents_;
    std::unique_ptr<RunEventLog> events_;
    std::unique_ptr<RunEngine> runs_;
    std::unique_ptr<SessionStore> sessions_;
    BackendStatusCache status_;
};

}  // namespace agents

ATELIER_MODULE(agents::AgentsModule)
