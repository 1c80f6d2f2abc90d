// Stand-ins for the projects, config, processes and terminal modules, loaded into the fake
// host next to the real worktrees module. Each is a real atelier::Module with its own entry
// table (the exported symbol belongs to the worktrees module).
#pragma once

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include <mutex>
#include <string>

namespace wtfake {

struct State {
    std::mutex m;
    std::string projectId = "11111111-2222-4333-8444-555555555555";
    std::string projectSlug = "demo";
    std::string localPath;           // the project's repository
    std::string extraRepoPath;       // a second repo in `repos`
    std::string configJson;          // body of GET /api/config; empty → 404 (module absent)
    int stoppedProcesses = 0;        // what the removing hook reports
    int closedTerminals = 0;
    bool vetoCreate = false;
    std::vector<std::string> removingSeen, createdSeen, removedSeen;
};
inline State& state() {
    static State s;
    return s;
}

inline atelier::JsonObject projectJson() {
    auto& s = state();
    auto p = atelier::makeObject();
    p->set("id", s.projectId);
    p->set("slug", s.projectSlug);
    p->set("name", "Demo");
    p->set("local_path", s.localPath);
    auto repos = atelier::makeArray();
    auto r = atelier::makeObject();
    r->set("id", "repo-1");
    r->set("name", "main-repo");
    r->set("path", s.localPath);
    repos->add(r);
    if (!s.extraRepoPath.empty()) {
        auto r2 = atelier::makeObject();
        r2->set("id", "repo-2");
        r2->set("name", "second");
        r2->set("path", s.extraRepoPath);
        repos->add(r2);
    }
    p->set("repos", repos);
    return p;
}

class FakeProjects : public atelier::Module {
public:
    void init() override {
        get("/api/active-project", "active", [](atelier::Request& req, atelier::Response& res) {
            auto& s = state();
            std::string want = req.hasQuery("project") ? req.query("project") : req.header("X-Atelier-Project");
            if (!want.empty() && want != s.projectId && want != s.projectSlug)
                throw atelier::notFound("Project \"" + want + "\" not found", "PROJECT_NOT_FOUND");
            if (s.localPath.empty())
                throw atelier::badRequest("No active project: pass ?project= or X-Atelier-Project", "NO_ACTIVE_PROJECT");
            res.json(projectJson());
        });
        get("/api/projects/:id", "project", [](atelier::Request& req, atelier::Response& res) {
            auto& s = state();
            if (req.param("id") != s.projectId && req.param("id") != s.projectSlug)
                throw atelier::notFound("Project not found", "PROJECT_NOT_FOUND");
            res.json(projectJson());
        });
        get("/api/config", "config", [](atelier::Request&, atelier::Response& res) {
            auto& s = state();
            if (s.configJson.empty()) throw atelier::notFound("no config module", "NOT_FOUND");
            res.text(s.configJson, 200, "application/json");
        });
        hook("worktree.creating", 50, [](std::string_view payload) {
            if (state().vetoCreate) return atelier::HookOutcome::veto("creation disabled by policy");
            state().createdSeen.emplace_back(payload);
            return atelier::HookOutcome::keep();
        });
        // A processes module and a terminal module each stop their work and count it.
        hook("worktree.removing", 10, [](std::string_view payload) {
            auto o = atelier::parseObject(payload);
            state().removingSeen.emplace_back(payload);
            o->set("stoppedProcesses", o->getValue<int>("stoppedProcesses") + state().stoppedProcesses);
            return atelier::HookOutcome::replace(o);
        });
        hook("worktree.removing", 20, [](std::string_view payload) {
            auto o = atelier::parseObject(payload);
            o->set("closedTerminals", o->getValue<int>("closedTerminals") + state().closedTerminals);
            return atelier::HookOutcome::replace(o);
        });
        // A devservers module decorates lists and appends its output to /logs.
        hook("worktrees.decorate", 50, [](std::string_view payload) {
            auto o = atelier::parseObject(payload);
            auto list = o ? o->getArray("worktrees") : nullptr;
            if (!list) return atelier::HookOutcome::keep();
            for (size_t i = 0; i < list->size(); ++i) list->getObject(static_cast<unsigned>(i))->set("decoratedBy", "devservers");
            return atelier::HookOutcome::replace(o);
        });
        hook("worktree.logs", 50, [](std::string_view payload) {
            auto o = atelier::parseObject(payload);
            o->getArray("logs")->add("devserver: listening");
            return atelier::HookOutcome::replace(o);
        });
        hook("worktree.removed", 10, [](std::string_view payload) {
            state().removedSeen.emplace_back(payload);
            return atelier::HookOutcome::keep();
        });
    }
};

inline const atelier_module_v1* fakeProjectsEntry() {
    static const atelier_module_v1 table = [] {
        auto t = atelier::initStruct<atelier_module_v1>();
        t.id = "projects";
        t.version = "0.1.0";
        t.description = "fake projects";
        t.requires_list = nullptr;
        t.requires_count = 0;
        t.init = &atelier::ModuleGlue::init<FakeProjects>;
        t.start = &atelier::ModuleGlue::start;
        t.stop = &atelier::ModuleGlue::stop;
        t.destroy = &atelier::ModuleGlue::destroy;
        return t;
    }();
    return &table;
}

}  // namespace wtfake
