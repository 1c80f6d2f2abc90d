// The projects module: one project resource serving Kombuse, Abbado and the boards product,
// plus the active project for OpenKit-style routes. Every route is registered here; the
// rules live in project_store.cpp (storage), git_repo.cpp (libgit2) and project_init.cpp.
#include <atelier/sdk.hpp>
#include <atelier/shared/git.hpp>
#include <atelier/util.hpp>

#include "git_repo.hpp"
#include "project_init.hpp"
#include "project_json.hpp"
#include "project_store.hpp"

using atelier::Request;
using atelier::Response;

namespace projects {

namespace {

atelier::HttpError toHttp(const ProjectError& e) {
    int status = e.kind == ProjectError::Kind::NotFound ? 404 : e.kind == ProjectError::Kind::Conflict ? 409 : 400;
    std::vector<atelier::ErrorDetail> details;
    if (!e.field.empty() && status != 404) details.push_back({e.field, e.what()});
    return atelier::HttpError(status, e.code, e.what(), details);
}

// Domain errors → the uniform HTTP error shape.
template <typename F>
atelier::Module::Handler guarded(F f) {
    return [f](Request& req, Response& res) {
        try {
            f(req, res);
        } catch (const ProjectError& e) {
            throw toHttp(e);
        } catch (const git::GitError& e) {
            throw atelier::HttpError(409, "GIT_ERROR", e.what());
        }
    };
}

ListFilter listFilter(const Request& req) {
    ListFilter f;
    f.ownerId = req.queryOpt("owner_id");
    f.repoSource = req.queryOpt("repo_source");
    if (f.repoSource && f.repoSource->empty()) f.repoSource.reset();
    f.search = req.queryOpt("search");
    f.organizationId = req.queryOpt("organizationId");
    if (!f.organizationId) f.organizationId = req.queryOpt("organization_id");
    f.limit = req.queryInt("limit", 100, 1, 100);
    f.offset = req.queryInt("offset", 0, 0, INT64_MAX);
    return f;
}

}  // namespace

class ProjectsModule : public atelier::Module {
public:
    void init() override {
        migrate(ProjectStore::migrations());

        // ---- Kombuse / Abbado / boards product: the project resource (bare for Kombuse and
        // Abbado, in the boards product's {data} envelope on its flavor)
        jsonRoute("GET", "/api/projects",
                  "List projects (owner_id, repo_source, search, organizationId, limit, offset)", [this](Request& req) {
                      return Answer{projectsJson(store().list(listFilter(req))), 200};
                  });
        jsonRoute("POST", "/api/projects", "Create a project (201)", [this](Request& req) {
            auto p = store().create(parseCreate(req.json()));
            emit("project.created", p);
            return Answer{projectJson(p), 201};
        });
        jsonRoute("GET", "/api/projects/:id", "Get a project by UUID or slug", [this](Request& req) {
            return Answer{projectJson(store().get(req.param("id"))), 200};
        });
        jsonRoute("PATCH", "/api/projects/:id", "Update a project (all fields optional)", [this](Request& req) {
            auto r = store().update(req.param("id"), parseUpdate(req.json()));
            if (!r.changes.empty()) emit("project.updated", r.project, r.changes);
            return Answer{projectJson(r.project), 200};
        });
        del("/api/projects/:id", "Delete a project (204)", guarded([this](Request& req, Response& res) {
                auto p = store().remove(req.param("id"));
                emit("project.deleted", p);
                res.noContent();
            }));
        post("/api/projects/:id/init", "Write setup files into the project's local_path",
             guarded([this](Request& req, Response& res) {
                 auto p = store().get(req.param("id"));
                 auto report = initProject(p, parseInitOptions(req.json()), initSettings());
                 res.json(initReportJson(p, report));
             }));

        // ---- Abbado: repositories of a project
        post("/api/projects/:id/repos", "Add a git repository to a project (201)",
             guarded([this](Request& req, Response& res) {
                 auto body = req.json();
                 std::string key = body->has("repo_path") ? "repo_path" : "path";
                 auto path = atelier::requireString(body, key);
                 auto repo = store().addRepo(req.param("id"), path, atelier::optString(body, "name"));
                 emit("project.updated", store().get(repo.projectId), {"repos"});
                 res.json(repoJson(repo), 201);
             }));
        del("/api/projects/:id/repos/:repoId", "Remove a repository from a project (204)",
            guarded([this](Request& req, Response& res) {
                auto repo = store().removeRepo(req.param("id"), req.param("repoId"));
                emit("project.updated", store().get(repo.projectId), {"repos"});
                res.noContent();
            }));

        // ---- boards product extras
        patch("/api/projects/reorder", "Reorder projects ({ids})", guarded([this](Request& req, Response& res) {
                  auto s = store();
                  for (auto& id : s.reorder(parseReorder(req.json()))) emit("project.updated", s.get(id), {"position"});
                  res.noContent();
              }));
        patch("/api/projects/:id/last-opened", "Mark a project as last opened (204)",
              guarded([this](Request& req, Response& res) {
                  auto p = store().touchLastOpened(req.param("id"));
                  emit("project.updated", p, {"last_opened_at"});
                  res.noContent();
              }));
        get("/api/projects/:id/files", "Git-tracked files of the project directory (?repo_id=)",
            guarded([this](Request& req, Response& res) {
                auto files = trackedFilesOf(store().get(req.param("id")), req.queryOpt("repo_id"));
                res.text(dataStringArray(files), 200, "application/json");
            }));
        get("/api/projects/:id/export", "Export the project as a JSON file",
            guarded([this](Request& req, Response& res) {
                auto p = store().get(req.param("id"));
                res.json(exportJson(p));
                res.header("Content-Disposition", "attachment; filename=\"" + p.slug + ".json\"");
            }));

        // ---- the active project (contract: docs/modules.md, modules/shared/include/atelier/shared/active_project.hpp)
        get("/api/active-project", "The active project: ?project=, X-Atelier-Project, or the start directory's",
            guarded([this](Request& req, Response& res) {
                std::optional<std::string> ref;
                if (req.hasQuery("project")) ref = req.query("project");
                if ((!ref || ref->empty()) && req.hasHeader("X-Atelier-Project")) ref = req.header("X-Atelier-Project");
                res.json(projectJson(store().resolveActive(ref, startDir_)));
            }));
    }

    void start() override {
        startDir_ = host().path(ATELIER_PATH_START_DIR);
        auto cfg = host().config();
        bool autoRegister = true;
        if (cfg->has("registerStartDirectory") && cfg->get("registerStartDirectory").isBoolean())
            autoRegister = cfg->getValue<bool>("registerStartDirectory");
        if (autoRegister) {
            try {
                if (auto p = store().registerStartDirectory(startDir_)) {
                    host().info("registered the start directory as project '" + p->slug + "' (" + *p->localPath + ")");
                    emit("project.created", *p);
                }
            } catch (const std::exception& e) {
                host().warn(std::string("could not register the start directory: ") + e.what());
            }
        }
    }

private:
    atelier::git::Library libgit2_;

    using Answer = std::pair<Poco::Dynamic::Var, int>;  // JSON body, status

    // Registers the default route and its boards-product twin, which answers {"data": body}.
    void jsonRoute(const char* method, const char* pattern, const std::string& summary,
                   std::function<Answer(Request&)> f) {
        route(method, pattern, summary, guarded([f](Request& req, Response& res) {
                  auto [body, status] = f(req);
                  res.json(body, status);
              }));
        route(method, pattern, summary + ", in the boards product's {data} envelope",
              atelier::flavors(ATELIER_FLAVOR_KANBAN), guarded([f](Request& req, Response& res) {
                  auto [body, status] = f(req);
                  auto wrapped = atelier::makeObject();
                  wrapped->set("data", body);
                  res.json(wrapped, status);
              }));
    }

    ProjectStore store() const { return ProjectStore(db()); }

    void emit(const std::string& type, const Project& p, const std::vector<std::string>& changes = {}) const {
        atelier::Event e;
        e.type = type;
        e.subject = "project/" + p.id;
        e.projectId = p.id;
        auto payload = atelier::makeObject();
        payload->set("project", projectJson(p));
        if (!changes.empty()) {
            auto arr = atelier::makeArray();
            for (auto& c : changes) arr->add(c);
            payload->set("changes", arr);
        }
        e.payload = atelier::toJson(payload);
        try {
            publish(e);
        } catch (const std::exception& ex) {
            host().warn(std::string("could not publish ") + type + ": " + ex.what());
        }
    }

    std::vector<std::string> trackedFilesOf(const Project& p, const std::optional<std::string>& repoId) const {
        if (repoId) {
            for (auto& r : p.repos)
                if (r.id == *repoId) return git::trackedFiles(r.path);
            throw ProjectError(ProjectError::Kind::NotFound, "REPO_NOT_FOUND",
                               "Repository " + *repoId + " not found in project");
        }
        if (!p.localPath)
            throw ProjectError(ProjectError::Kind::Invalid, "NO_LOCAL_PATH",
                               "The project has no local_path configured");
        auto root = git::discoverRoot(*p.localPath);
        if (!root)
            throw ProjectError(ProjectError::Kind::Invalid, "NOT_A_GIT_REPOSITORY",
                               "The project's local_path is not inside a git repository: " + *p.localPath);
        return git::trackedFiles(*root, *p.localPath);
    }

    // The project, plus what the boards module holds for it when that module is loaded.
    atelier::JsonObject exportJson(const Project& p) const {
        auto o = atelier::makeObject();
        o->set("version", 1);
        o->set("exported_at", atelier::nowIso());
        o->set("project", projectJson(p));
        for (const char* part : {"boards", "columns", "cards"}) {
            auto r = host().call("GET", "/api/projects/" + p.id + "/" + part);
            if (r.status != 200) continue;
            try {
                auto v = Poco::JSON::Parser().parse(r.body);
                if (v.type() == typeid(atelier::JsonObject)) {
                    auto obj = v.extract<atelier::JsonObject>();
                    o->set(part, obj->has("data") ? obj->get("data") : v);
                } else {
                    o->set(part, v);
                }
            } catch (...) {
            }
        }
        return o;
    }

    InitSettings initSettings() const {
        InitSettings s;
        s.dataDir = host().path(ATELIER_PATH_DATA_DIR);
        auto cfg = host().config();
        if (cfg->has("mcpUrl") && cfg->get("mcpUrl").isString()) s.mcpUrl = cfg->getValue<std::string>("mcpUrl");
        return s;
    }

    std::string startDir_;
};

}  // namespace projects

ATELIER_MODULE(projects::ProjectsModule)
