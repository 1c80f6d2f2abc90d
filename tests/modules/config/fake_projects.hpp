// A stand-in for the projects module in unit tests: answers GET /api/active-project with a
// project whose local_path the test chooses.
#pragma once

#include <atelier/sdk.hpp>

#include <string>

namespace atelier::testing {

inline std::string& fakeProjectPath() {
    static std::string p;
    return p;
}

class FakeProjectsModule : public Module {
public:
    void init() override {
        get("/api/active-project", "active project", [](Request& req, Response& res) {
            if (req.hasQuery("project") && req.query("project") == "missing")
                throw HttpError(404, "PROJECT_NOT_FOUND", "Project not found");
            auto o = makeObject();
            o->set("id", "p1");
            o->set("slug", "demo");
            o->set("name", "Demo");
            o->set("local_path", fakeProjectPath());
            res.json(o);
        });
    }
};

inline const atelier_module_v1* fakeProjectsEntry() {
    static const atelier_module_v1 table = [] {
        auto t = initStruct<atelier_module_v1>();
        t.id = "projects";
        t.version = "0.1.0";
        t.description = "fake projects";
        t.init = &ModuleGlue::init<FakeProjectsModule>;
        t.start = &ModuleGlue::start;
        t.stop = &ModuleGlue::stop;
        t.destroy = &ModuleGlue::destroy;
        return t;
    }();
    return &table;
}

}  // namespace atelier::testing
