// Fake collaborators for the tickets module's unit tests: a projects module (two projects,
// active project), a config module (localIssuePrefix) and a worktrees module, each loaded
// into the fake host through a hand-made entry table.
#pragma once

#include <atelier/sdk.hpp>
#include <atelier/testing/fake_host.hpp>
#include <atelier/util.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace fakes {

inline const std::string kAlphaId = "11111111-1111-4111-8111-111111111111";
inline const std::string kBetaId = "22222222-2222-4222-8222-222222222222";

inline atelier::JsonObject projectJson(const std::string& id, const std::string& slug) {
    auto o = atelier::makeObject();
    o->set("id", id);
    o->set("slug", slug);
    o->set("name", slug);
    o->set("local_path", "/tmp/" + slug);
    return o;
}

class FakeProjects : public atelier::Module {
public:
    void init() override {
        get("/api/projects/:id", "project", [](atelier::Request& q, atelier::Response& s) {
            auto id = q.param("id");
            if (id == kAlphaId || id == "alpha") return void(s.json(projectJson(kAlphaId, "alpha")));
            if (id == kBetaId || id == "beta") return void(s.json(projectJson(kBetaId, "beta")));
            throw atelier::notFound("Project not found", "PROJECT_NOT_FOUND");
        });
        get("/api/active-project", "active", [](atelier::Request& q, atelier::Response& s) {
            std::string p = q.hasQuery("project") ? q.query("project") : q.header("X-Atelier-Project");
            if (p.empty() || p == "alpha" || p == kAlphaId) return void(s.json(projectJson(kAlphaId, "alpha")));
            if (p == "beta" || p == kBetaId) return void(s.json(projectJson(kBetaId, "beta")));
            throw atelier::HttpError(400, "NO_ACTIVE_PROJECT", "unknown project");
        });
    }
};

inline std::string& configPrefix() {
    static std::string p = "LOCAL";
    return p;
}

class FakeConfig : public atelier::Module {
public:
    void init() override {
        get("/api/config", "config", [](atelier::Request&, atelier::Response& s) {
            auto o = atelier::makeObject();
            o->set("localIssuePrefix", configPrefix());
            o->set("baseBranch", "main");
            s.json(o);
        });
    }
};

// Worktrees keyed by id; creating an existing id answers 409 WORKTREE_EXISTS.
class FakeWorktrees : public atelier::Module {
public:
    static std::map<std::string, std::string>& store() {
        static std::map<std::string, std::string> m;  // id -> branch
        return m;
    }
    static std::string& lastProjectHeader() {
        static std::string s;
        return s;
    }
    void init() override {
        auto info = [](const std::string& id, const std::string& branch) {
            auto w = atelier::makeObject();
            w->set("id", id);
            w->set("path", "/tmp/wt/" + id);
            w->set("branch", branch);
            w->set("status", "stopped");
            return w;
        };
        get("/api/worktrees", "list", [info](atelier::Request& q, atelier::Response& s) {
            lastProjectHeader() = q.query("project");
            auto arr = atelier::makeArray();
            for (auto& [id, b] : store()) arr->add(info(id, b));
            auto o = atelier::makeObject();
            o->set("worktrees", arr);
            s.json(o);
        });
        get("/api/worktrees/:id", "get", [info](atelier::Request& q, atelier::Response& s) {
            auto it = store().find(q.param("id"));
            if (it == store().end()) throw atelier::notFound("Worktree not found", "WORKTREE_NOT_FOUND");
            s.json(info(it->first, it->second));
        });
        post("/api/worktrees", "create", [info](atelier::Request& q, atelier::Response& s) {
            auto b = q.json();
            auto id = b->getValue<std::string>("id");
            if (store().count(id)) {
                auto e = atelier::HttpError(409, "WORKTREE_EXISTS", "exists");
                e.extra = atelier::makeObject();
                e.extra->set("worktreeId", id);
                throw e;
            }
            store()[id] = b->getValue<std::string>("branch");
            auto o = atelier::makeObject();
            o->set("success", true);
            o->set("worktree", info(id, store()[id]));
            s.json(o, 201);
        });
    }
};

template <typename M>
const atelier_module_v1* entryFor(const char* id) {
    static atelier_module_v1 table = [id] {
        auto t = atelier::initStruct<atelier_module_v1>();
        t.id = id;
        t.version = "0.1.0";
        t.description = "fake";
        t.requires_list = nullptr;
        t.requires_count = 0;
        t.init = &atelier::ModuleGlue::init<M>;
        t.start = &atelier::ModuleGlue::start;
        t.stop = &atelier::ModuleGlue::stop;
        t.destroy = &atelier::ModuleGlue::destroy;
        return t;
    }();
    return &table;
}

// multipart/form-data body with one file part and optional fields.
inline std::string multipart(const std::string& boundary, const std::string& filename, const std::string& type,
                             const std::string& data, const std::map<std::string, std::string>& fields = {}) {
    std::string b;
    for (auto& [k, v] : fields) {
        b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n";
    }
    b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename + "\"\r\n";
    if (!type.empty()) b += "Content-Type: " + type + "\r\n";
    b += "\r\n" + data + "\r\n--" + boundary + "--\r\n";
    return b;
}

inline std::string pngBytes() {
    std::string s("\x89PNG\r\n\x1a\n", 8);
    s += std::string("\0\0\0\rIHDR", 8);
    s += std::string(64, 'x');
    return s;
}

}  // namespace fakes
