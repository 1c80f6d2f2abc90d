// devservers module: each worktree's dev server side by side on offset ports. Every route and
// hook on one screen; process supervision, ports and open targets live in the other files.
#include <atelier/sdk.hpp>
#include <atelier/shared/active_project.hpp>
#include <atelier/util.hpp>
#include <filesystem>

#include "devservers.hpp"
#include "log_hub.hpp"
#include "open_targets.hpp"
#include "ports.hpp"

namespace atelier::devservers {

namespace {

// Another module's error answer, forwarded as is.
[[noreturn]] void forward(const Host::CallResult& r, const std::string& fallback) {
    auto o = r.json();
    int status = r.status >= 400 && r.status < 600 ? r.status : 502;
    if (o && o->has("error") && o->get("error").isString())
        throw HttpError(status, o->optValue<std::string>("code", "UPSTREAM_ERROR"), o->getValue<std::string>("error"));
    throw HttpError(status, "UPSTREAM_ERROR", fallback);
}

Module::Handler wrap(Module::Handler h) {
    return [h = std::move(h)](Request& req, Response& res) {
        try {
            h(req, res);
        } catch (const DevError& e) {
            int status = e.kind == DevError::Kind::NotFound ? 404 : e.kind == DevError::Kind::Conflict ? 409 : 400;
            throw HttpError(status, e.code, e.what());
        }
    };
}

JsonObject ok() {
    auto o = makeObject();
    o->set("success", true);
    return o;
}

}  // namespace

class DevServersModule : public Module {
public:
    void init() override {
        migrate({"CREATE TABLE devservers_processes (project_id TEXT NOT NULL, worktree_id TEXT NOT NULL, pid INTEGER NOT NULL,"
                 " pgid INTEGER NOT NULL, start_ticks INTEGER NOT NULL, offset_value INTEGER NOT NULL, port INTEGER,"
                 " ports TEXT NOT NULL DEFAULT '[]', path TEXT NOT NULL, cwd TEXT NOT NULL, command TEXT NOT NULL,"
                 " started_at TEXT NOT NULL, PRIMARY KEY (project_id, worktree_id))"});
        DevServers::Sinks sinks;
        sinks.status = [this](const ServerView& v) {
            auto o = v.toJson();
            emit("devserver.status", v.projectId, o);
            hub_->send(v.projectId, v.worktreeId, "status", toJson(o));
        };
        sinks.log = [this](const std::string& pj, const std::string& wt, const std::vector<std::string>& lines, size_t dropped) {
            auto o = makeObject();
            o->set("projectId", pj);
            o->set("worktreeId", wt);
            auto arr = makeArray();
            for (auto& l : lines) arr->add(l);
            o->set("lines", arr);
            o->set("dropped", static_cast<int64_t>(dropped));
            emit("devserver.log", pj, o);
            hub_->send(pj, wt, "log", toJson(o));
        };
        sinks.crash = [this](const ServerView& v, const std::vector<std::string>& tail) { reportCrash(v, tail); };
        service_ = std::make_unique<DevServers>(db(), std::move(sinks));

        post("/api/worktrees/:id/start", "Start the worktree's dev server", wrap([this](Request& req, Response& res) {
            auto [p, wt] = worktree(req);
            auto v = service_->start(wt, RunConfig::fromJson(projectConfig(p.id)));
            auto o = v.toJson();
            o->set("success", true);
            res.json(o);
        }));
        post("/api/worktrees/:id/stop", "Stop the worktree's dev server", wrap([this](Request& req, Response& res) {
            auto [p, wt] = worktree(req);
            auto v = service_->stop(wt.projectId, wt.worktreeId);
            if (!v) throw badRequest("Worktree \"" + wt.worktreeId + "\" is not running", "NOT_RUNNING");
            auto o = v->toJson();
            o->set("success", true);
            res.json(o);
        }));
        // OpenKit's GET /api/worktrees/:id/logs belongs to the worktrees module (a requirement of
        // this one); the dev-server ring joins its answer through the `worktree.logs` hook below.
        get("/api/devservers/:id/logs", "Dev server output of worktree :id (last lines)", wrap([this](Request& req, Response& res) {
            auto [p, wt] = worktree(req);
            res.json(logsBody(wt));
        }));
        get("/api/worktrees/:id/logs/stream", "SSE: the worktree's dev-server output and status, live", wrap([this](Request& req, Response& res) {
            auto [p, wt] = worktree(req);
            auto initial = "event: logs\ndata: " + toJson(logsBody(wt)) + "\n\n";
            if (!hub_->open(res, wt.projectId, wt.worktreeId, initial))
                throw badRequest("An event stream needs a network client", "STREAM_UNAVAILABLE");
        }));
        get("/api/devservers/stream", "SSE: output and status of every dev server of the project", wrap([this](Request& req, Response& res) {
            auto p = resolveActiveProject(*this, req);
            if (!hub_->open(res, p.id, "", ": devservers\n\n"))
                throw badRequest("An event stream needs a network client", "STREAM_UNAVAILABLE");
        }));
        get("/api/devservers", "Running dev servers (?project= filters)", wrap([this](Request& req, Response& res) {
            std::string projectId;
            if (req.hasQuery("project") || req.hasHeader("X-Atelier-Project")) projectId = resolveActiveProject(*this, req).id;
            auto arr = makeArray();
            for (auto& v : service_->list(projectId)) arr->add(v.toJson());
            auto o = makeObject();
            o->set("devservers", arr);
            res.json(o);
        }));
        get("/api/ports", "Discovered ports, offset step and live allocations", wrap([this](Request& req, Response& res) {
            auto p = resolveActiveProject(*this, req);
            auto cfg = RunConfig::fromJson(projectConfig(p.id));
            auto o = makeObject();
            auto d = makeArray();
            for (int x : cfg.knownPorts) d->add(x);
            o->set("discovered", d);
            o->set("offsetStep", cfg.offsetStep);
            auto alloc = makeArray();
            for (auto& v : service_->list(p.id)) {
                auto a = makeObject();
                a->set("worktreeId", v.worktreeId);
                a->set("offset", v.offset);
                auto ports = makeArray();
                for (int x : v.ports) ports->add(x);
                a->set("ports", ports);
                alloc->add(a);
            }
            o->set("allocations", alloc);
            res.json(o);
        }));
        post("/api/discover", "Run the start command, read the ports its process tree listens on, save them", wrap([this](Request& req, Response& res) {
            auto body = req.json();
            int timeout = static_cast<int>(optInt(body, "timeoutMs").value_or(15000));
            if (timeout < 500 || timeout > 120000)
                throw badRequest("timeoutMs must be between 500 and 120000", "VALIDATION_ERROR", {{"timeoutMs", "500..120000"}});
            auto p = projectWithPath(req);
            auto cfg = RunConfig::fromJson(projectConfig(p.id));
            auto d = service_->discover(p.id, p.localPath, cfg, timeout);
            auto o = makeObject();
            o->set("success", d.success);
            auto ports = makeArray();
            for (int x : d.ports) ports->add(x);
            o->set("ports", ports);
            auto logs = makeArray();
            for (auto& l : d.logs) logs->add(l);
            o->set("logs", logs);
            if (!d.success) o->set("error", d.error);
            if (d.success) {
                auto patch = makeObject();
                auto pp = makeObject();
                pp->set("discovered", ports);
                patch->set("ports", pp);
                if (cfg.envMapping.empty()) {
                    auto mapping = detectEnvMapping(std::filesystem::path(p.localPath), d.ports);
                    if (!mapping.empty()) {
                        auto m = makeObject();
                        for (auto& [k, v] : mapping) m->set(k, v);
                        patch->set("envMapping", m);
                        o->set("envMapping", m);
                    }
                }
                saveConfig(p.id, patch);
            }
            res.json(o);
        }));
        post("/api/detect-env", "Find .env variables that reference known ports", wrap([this](Request& req, Response& res) {
            auto p = projectWithPath(req);
            auto cfg = RunConfig::fromJson(projectConfig(p.id));
            auto mapping = detectEnvMapping(std::filesystem::path(p.localPath), cfg.knownPorts);
            auto detected = makeObject();
            for (auto& [k, v] : mapping) detected->set(k, v);
            if (!mapping.empty()) {
                auto merged = makeObject();
                for (auto& [k, v] : mapping) merged->set(k, v);
                for (auto& [k, v] : cfg.envMapping) merged->set(k, v);  // user edits win
                auto patch = makeObject();
                patch->set("envMapping", merged);
                saveConfig(p.id, patch);
            }
            auto o = ok();
            o->set("envMapping", detected);
            res.json(o);
        }));
        get("/api/worktrees/:id/open-targets", "Installed apps that can open the worktree", wrap([this](Request& req, Response& res) {
            auto [p, wt] = worktree(req);
            auto targets = detectOpenTargets(pathEnv());
            auto arr = makeArray();
            for (auto& t : targets) {
                auto e = makeObject();
                e->set("target", t.target);
                e->set("label", t.label);
                arr->add(e);
            }
            auto saved = projectConfig(p.id)->optValue<std::string>("openProjectTarget", "");
            Poco::Dynamic::Var selected;
            for (auto& t : targets)
                if (t.target == saved) selected = saved;
            if (selected.isEmpty() && !targets.empty()) selected = targets.front().target;
            auto o = ok();
            o->set("targets", arr);
            o->set("selectedTarget", selected);
            res.json(o);
        }));
        post("/api/worktrees/:id/open", "Open the worktree in an app (detached) and remember the choice", wrap([this](Request& req, Response& res) {
            auto body = req.json();
            auto target = optString(body, "target").value_or("file-manager");
            if (!isOpenTarget(target))
                throw badRequest("Invalid target \"" + target + "\"", "INVALID_TARGET", {{"target", "unknown target"}});
            auto [p, wt] = worktree(req);
            std::optional<OpenTarget> found;
            for (auto& t : detectOpenTargets(pathEnv()))
                if (t.target == target) found = t;
            if (!found) throw badRequest("\"" + target + "\" is not installed on this machine", "TARGET_NOT_AVAILABLE");
            try {
                service_->supervisor().reapLater(launchDetached(openArgv(*found, wt.path), wt.path));
            } catch (const std::exception& e) {
                throw badRequest(std::string("Failed to open: ") + e.what(), "OPEN_FAILED");
            }
            auto patch = makeObject();
            patch->set("openProjectTarget", target);
            saveConfig(p.id, patch);
            res.json(ok());
        }));

        hook("worktree.removing", 50, [this](std::string_view payload) {
            auto o = parseObject(payload);
            if (!o) return HookOutcome::keep();
            auto pj = o->optValue<std::string>("projectId", "");
            auto wt = o->optValue<std::string>("worktreeId", "");
            std::optional<ServerView> v = service_->get(pj, wt);
            if (!v && o->has("path") && o->get("path").isString()) v = service_->findByPath(o->getValue<std::string>("path"));
            if (!v || v->status == "stopped") return HookOutcome::keep();
            service_->stop(v->projectId, v->worktreeId);
            o->set("stoppedProcesses", o->optValue<int64_t>("stoppedProcesses", 0) + 1);
            return HookOutcome::replace(o);
        });
        hook("worktree.logs", 50, [this](std::string_view payload) {
            auto o = parseObject(payload);
            if (!o) return HookOutcome::keep();
            auto lines = service_->logs(o->optValue<std::string>("projectId", ""), o->optValue<std::string>("worktreeId", ""));
            if (lines.empty()) return HookOutcome::keep();
            auto arr = o->has("logs") ? o->getArray("logs") : nullptr;
            if (!arr) arr = makeArray();
            for (auto& l : lines) arr->add(l);
            o->set("logs", arr);
            return HookOutcome::replace(o);
        });
        hook("worktrees.decorate", 50, [this](std::string_view payload) {
            auto o = parseObject(payload);
            if (!o || !o->has("worktrees")) return HookOutcome::keep();
            auto list = o->getArray("worktrees");
            if (!list) return HookOutcome::keep();
            auto top = o->optValue<std::string>("projectId", "");
            for (size_t i = 0; i < list->size(); ++i) {
                auto w = list->getObject(static_cast<unsigned>(i));
                if (w) decorate(w, top);
            }
            return HookOutcome::replace(o);
        });
    }
    void start() override { service_->restore(); }
    void stop() override {
        stopping_ = true;
        if (service_) service_->shutdown();
        hub_->closeAll();
    }

private:
    struct Resolved {
        ActiveProject project;
        WorktreeTarget wt;
    };

    ActiveProject projectWithPath(const Request& req) const {
        auto p = resolveActiveProject(*this, req);
        if (p.localPath.empty()) throw badRequest("The project has no local directory", "PROJECT_HAS_NO_PATH");
        return p;
    }

    Resolved worktree(const Request& req) const {
        auto p = resolveActiveProject(*this, req);
        auto id = req.param("id");
        auto r = host().call("GET", "/api/worktrees/" + urlEncode(id) + "?project=" + urlEncode(p.id));
        if (r.status != 200) {
            if (r.status == 404 && r.body.find("WORKTREE") == std::string::npos && r.body.find("orktree") == std::string::npos)
                throw HttpError(404, "WORKTREE_NOT_FOUND", "Worktree \"" + id + "\" not found");
            forward(r, "Worktree \"" + id + "\" not found");
        }
        auto o = r.json();
        JsonObject w = o;
        if (o && o->has("worktree") && o->getObject("worktree")) w = o->getObject("worktree");
        else if (o && o->has("data") && o->getObject("data")) w = o->getObject("data");
        if (!w || !w->has("path") || !w->get("path").isString())
            throw HttpError(502, "UPSTREAM_ERROR", "The worktrees module returned no path for \"" + id + "\"");
        Resolved out{p, {p.id, w->optValue<std::string>("id", id), w->getValue<std::string>("path")}};
        return out;
    }

    JsonObject projectConfig(const std::string& projectId) const {
        auto r = host().call("GET", "/api/config?project=" + urlEncode(projectId));
        if (r.status != 200) forward(r, "Cannot read the project configuration");
        auto o = r.json();
        if (!o || !o->getObject("config")) throw HttpError(502, "UPSTREAM_ERROR", "The config module returned no config");
        return o->getObject("config");
    }

    void saveConfig(const std::string& projectId, const JsonObject& patch) const {
        auto r = host().call("PATCH", "/api/config?project=" + urlEncode(projectId), toJson(patch));
        if (r.status != 200) forward(r, "Cannot save the project configuration");
    }

    JsonObject logsBody(const WorktreeTarget& wt) const {
        auto arr = makeArray();
        for (auto& l : service_->logs(wt.projectId, wt.worktreeId)) arr->add(l);
        auto o = makeObject();
        o->set("logs", arr);
        return o;
    }

    static std::string pathEnv() {
        const char* p = std::getenv("PATH");
        return p ? p : "/usr/local/bin:/usr/bin:/bin";
    }

    void decorate(JsonObject w, const std::string& topProject) {
        std::string pj = w->optValue<std::string>("projectId", topProject);
        std::string id = w->optValue<std::string>("id", "");
        std::optional<ServerView> v;
        if (!pj.empty() && !id.empty()) v = service_->get(pj, id);
        if (!v && w->has("path") && w->get("path").isString()) v = service_->findByPath(w->getValue<std::string>("path"));
        std::string current = w->optValue<std::string>("status", "");
        if (!v) {
            if (current.empty()) w->set("status", "stopped");
            if (!w->has("port")) w->set("port", Poco::Dynamic::Var());
            if (!w->has("pid")) w->set("pid", Poco::Dynamic::Var());
            if (!w->has("offset")) w->set("offset", Poco::Dynamic::Var());
            return;
        }
        bool live = v->status != "stopped";
        if (live || current != "creating") w->set("status", v->status);
        w->set("port", live ? Poco::Dynamic::Var(v->port) : Poco::Dynamic::Var());
        auto ports = makeArray();
        if (live)
            for (int x : v->ports) ports->add(x);
        w->set("ports", ports);
        w->set("pid", live ? Poco::Dynamic::Var(static_cast<int64_t>(v->pid)) : Poco::Dynamic::Var());
        w->set("offset", live ? Poco::Dynamic::Var(v->offset) : Poco::Dynamic::Var());
        if (!live && v->crashed) {
            w->set("crashed", true);
            w->set("exitCode", v->exitCode ? Poco::Dynamic::Var(*v->exitCode) : Poco::Dynamic::Var());
        }
    }

    void emit(const std::string& type, const std::string& projectId, const JsonObject& payload) {
        try {
            Event e;
            e.type = type;
            e.projectId = projectId;
            e.payload = toJson(payload);
            publish(e);
        } catch (...) {
        }
    }

    void reportCrash(const ServerView& v, const std::vector<std::string>& tail) {
        if (stopping_) return;
        auto a = makeObject();
        a->set("category", "worktree");
        a->set("type", "crashed");
        a->set("severity", "error");
        a->set("title", "Dev server for \"" + v.worktreeId + "\" crashed");
        std::string detail = v.exitCode ? "Exited with code " + std::to_string(*v.exitCode)
                                        : "Killed by signal " + std::to_string(v.signal);
        for (auto& l : tail) detail += "\n" + (l.size() > 400 ? l.substr(0, 400) + "…" : l);
        if (detail.size() > 19000) detail = detail.substr(detail.size() - 19000);  // the feed caps detail at 20,000
        a->set("detail", detail);
        a->set("worktreeId", v.worktreeId);
        auto meta = makeObject();
        meta->set("projectId", v.projectId);
        meta->set("exitCode", v.exitCode ? Poco::Dynamic::Var(*v.exitCode) : Poco::Dynamic::Var());
        meta->set("signal", v.signal);
        meta->set("pid", static_cast<int64_t>(v.pid));
        meta->set("port", v.port);
        a->set("metadata", meta);
        try {
            auto r = host().call("POST", "/api/activity", toJson(a));
            if (r.status >= 300) host().warn("activity entry for a crash was refused: " + r.body);
        } catch (...) {
        }
    }

    std::unique_ptr<DevServers> service_;
    std::shared_ptr<LogHub> hub_ = std::make_shared<LogHub>();
    std::atomic<bool> stopping_{false};
};

}  // namespace atelier::devservers

ATELIER_MODULE(atelier::devservers::DevServersModule)
