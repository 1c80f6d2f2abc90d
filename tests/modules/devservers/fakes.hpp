// Stand-ins for the modules devservers talks to (projects, worktrees, config, host
// activity) so it can be unit-tested in the fake host.
#pragma once

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace atelier::testing {

struct FakeWorld {
    std::string projectPath;
    std::map<std::string, std::string> worktrees;  // id -> path
    JsonObject config = makeObject();
    std::vector<std::string> activity;
    std::mutex mu;
    static FakeWorld& get() {
        static FakeWorld w;
        return w;
    }
};

class FakeCollaborators : public Module {
public:
    void init() override {
        get("/api/active-project", "", [](Request& req, Response& res) {
            if (req.query("project") == "nope") throw HttpError(404, "PROJECT_NOT_FOUND", "Project not found");
            auto o = makeObject();
            o->set("id", "p1");
            o->set("slug", "demo");
            o->set("name", "Demo");
            o->set("local_path", FakeWorld::get().projectPath);
            res.json(o);
        });
        get("/api/worktrees/:id", "", [](Request& req, Response& res) {
            auto& w = FakeWorld::get();
            auto it = w.worktrees.find(req.param("id"));
            if (it == w.worktrees.end()) throw HttpError(404, "WORKTREE_NOT_FOUND", "Worktree \"" + req.param("id") + "\" not found");
            auto o = makeObject();
            o->set("id", it->first);
            o->set("path", it->second);
            o->set("branch", "feature/" + it->first);
            res.json(o);
        });
        get("/api/config", "", [](Request&, Response& res) {
            auto& w = FakeWorld::get();
            std::lock_guard lock(w.mu);
            auto o = makeObject();
            o->set("config", parseObject(toJson(w.config)));
            res.json(o);
        });
        patch("/api/config", "", [](Request& req, Response& res) {
            auto& w = FakeWorld::get();
            std::lock_guard lock(w.mu);
            auto body = req.json();
            for (auto& [k, v] : *body) {
                if (k == "ports" && w.config->has("ports")) {
                    auto ports = w.config->getObject("ports");
                    for (auto& [pk, pv] : *body->getObject("ports")) ports->set(pk, pv);
                } else {
                    w.config->set(k, v);
                }
            }
            auto o = makeObject();
            o->set("success", true);
            res.json(o);
        });
        post("/api/test-hook/:name", "", [this](Request& req, Response& res) {
            auto r = runHook(req.param("name"), req.body());
            res.text(r.payload, r.vetoed ? 409 : 200, "application/json");
        });
        post("/api/activity", "", [](Request& req, Response& res) {
            auto& w = FakeWorld::get();
            std::lock_guard lock(w.mu);
            w.activity.emplace_back(req.body());
            res.json(makeObject(), 201);
        });
    }
};

inline const atelier_module_v1* fakeCollaboratorsEntry() {
    static const atelier_module_v1 table = [] {
        auto t = initStruct<atelier_module_v1>();
        t.id = "fakes";
        t.version = "0.1.0";
        t.description = "fakes";
        t.init = &ModuleGlue::init<FakeCollaborators>;
        t.start = &ModuleGlue::start;
        t.stop = &ModuleGlue::stop;
        t.destroy = &ModuleGlue::destroy;
        return t;
    }();
    return &table;
}

}  // namespace atelier::testing
