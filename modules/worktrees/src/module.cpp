// worktrees module: registration only. Every route in one screen; logic in worktree_service.
#include <atelier/sdk.hpp>
#include <atelier/shared/active_project.hpp>
#include <atelier/shared/git.hpp>
#include <atelier/util.hpp>
#include <memory>

#include "git_ops.hpp"
#include "worktree_service.hpp"

namespace {

using atelier::Request;
using atelier::Response;
using atelier::wt::Project;
using atelier::wt::WorktreeService;

bool queryBool(const Request& req, const char* name) {
    auto v = req.queryOpt(name);
    if (!v || v->empty() || *v == "false" || *v == "0") return false;
    if (*v == "true" || *v == "1") return true;
    throw atelier::badRequest(std::string(name) + " must be true or false", "VALIDATION_ERROR", {{name, "must be a boolean"}});
}

// A query parameter, else the same field of a JSON body.
std::string queryOrBody(const Request& req, const atelier::JsonObject& body, const char* name, bool required) {
    if (auto q = req.queryOpt(name); q && !q->empty()) return *q;
    if (auto b = atelier::optString(body, name); b && !b->empty()) return *b;
    if (required) throw atelier::badRequest(std::string(name) + " is required", "VALIDATION_ERROR", {{name, "is required"}});
    return {};
}

class WorktreesModule : public atelier::Module {
public:
    void init() override {
        svc_ = std::make_unique<WorktreeService>(*this);
        svc_->migrate();

        // ---- OpenKit worktree API (active project)
        get("/api/worktrees", "List worktrees (root first)", [this](Request& req, Response& res) {
            auto o = atelier::makeObject();
            o->set("worktrees", svc_->list(project(req)));
            res.json(o);
        });
        post("/api/worktrees", "Create a worktree (201 placeholder, completion as events)", [this](Request& req, Response& res) {
            auto body = req.json();
            atelier::wt::CreateRequest c;
            c.branch = atelier::requireString(body, "branch");
            c.id = atelier::optString(body, "id");
            c.name = atelier::optString(body, "name");
            c.baseBranch = atelier::optString(body, "baseBranch");
            auto o = atelier::makeObject();
            o->set("success", true);
            o->set("worktree", svc_->create(project(req), c));
            res.json(o, 201);
        });
        get("/api/worktrees/:id", "Get a worktree", [this](Request& req, Response& res) {
            res.json(svc_->get(project(req), req.param("id")));
        });
        patch("/api/worktrees/:id", "Rename a worktree (directory and/or branch)", [this](Request& req, Response& res) {
            auto body = req.json();
            res.json(svc_->rename(project(req), req.param("id"), atelier::optString(body, "name"), atelier::optString(body, "branch")));
        });
        del("/api/worktrees/:id", "Remove a worktree transactionally", [this](Request& req, Response& res) {
            res.json(svc_->remove(project(req), req.param("id")));
        });
        post("/api/worktrees/:id/recover", "Recover an inconsistent worktree", [this](Request& req, Response& res) {
            auto body = req.json();
            res.json(svc_->recover(project(req), req.param("id"), atelier::requireString(body, "action"),
                                   atelier::optString(body, "branch")));
        });
        get("/api/worktrees/:id/logs", "Worktree creation and install logs", [this](Request& req, Response& res) {
            auto o = atelier::makeObject();
            o->set("logs", svc_->logs(project(req), req.param("id")));
            res.json(o);
        });
        get("/api/worktrees/:id/diff", "Changed files", [this](Request& req, Response& res) {
            res.json(svc_->diff(project(req), req.param("id"), queryBool(req, "includeCommitted")));
        });
        get("/api/worktrees/:id/diff/file", "Old and new content of one file", [this](Request& req, Response& res) {
            auto path = req.queryOpt("path");
            if (!path || path->empty())
                throw atelier::badRequest("path is required", "VALIDATION_ERROR", {{"path", "is required"}});
            res.json(svc_->diffFile(project(req), req.param("id"), *path, req.query("status", "modified"),
                                    queryBool(req, "includeCommitted"), req.queryOpt("oldPath")));
        });
        post("/api/worktrees/:id/commit", "Commit all changes", [this](Request& req, Response& res) {
            auto body = req.json();
            res.json(svc_->commit(project(req), req.param("id"), atelier::requireString(body, "message")));
        });
        post("/api/worktrees/:id/push", "Push the worktree's branch", [this](Request& req, Response& res) {
            auto body = req.json();
            res.json(svc_->push(project(req), req.param("id"), atelier::optString(body, "remote").value_or("origin")));
        });

        // ---- repository worktrees (agent runs)
        post("/api/repo-worktrees", "Create a worktree of a repository on a new branch", [this](Request& req, Response& res) {
            auto body = req.json();
            res.json(svc_->repoCreate(atelier::requireString(body, "repoPath"), atelier::requireString(body, "branch"),
                                      atelier::optString(body, "baseBranch"), atelier::optString(body, "path")),
                     201);
        });
        del("/api/repo-worktrees", "Remove a repository worktree", [this](Request& req, Response& res) {
            auto body = req.json();
            res.json(svc_->repoRemove(atelier::requireString(body, "repoPath"), atelier::requireString(body, "path"),
                                      atelier::optBool(body, "deleteBranch").value_or(false)));
        });
        get("/api/repo-diff", "Diff of any worktree path against a base", [this](Request& req, Response& res) {
            auto path = req.queryOpt("path");
            if (!path || path->empty()) throw atelier::badRequest("path is required", "VALIDATION_ERROR", {{"path", "is required"}});
            res.json(svc_->repoDiff(*path, req.query("base", "HEAD")));
        });

        // ---- Abbado branches
        get("/api/projects/:id/branches", "Branches of every repo", [this](Request& req, Response& res) {
            res.json(svc_->branches(projectById(req.param("id"))));
        });
        del("/api/projects/:id/branches", "Delete a branch", [this](Request& req, Response& res) {
            auto body = req.json();
            svc_->deleteBranch(projectById(req.param("id")), queryOrBody(req, body, "repo_id", true),
                               queryOrBody(req, body, "branch", true));
            res.noContent();
        });
        post("/api/projects/:id/branches/merge", "Merge a branch (409 on conflict)", [this](Request& req, Response& res) {
            auto body = req.json();
            auto into = queryOrBody(req, body, "into", false);
            res.json(svc_->merge(projectById(req.param("id")), queryOrBody(req, body, "repo_id", true),
                                 queryOrBody(req, body, "branch", true), into.empty() ? std::nullopt : std::optional(into)));
        });
        post("/api/projects/:id/branches/rebase", "Rebase a branch (409 on conflict)", [this](Request& req, Response& res) {
            auto body = req.json();
            auto onto = queryOrBody(req, body, "onto", false);
            res.json(svc_->rebase(projectById(req.param("id")), queryOrBody(req, body, "repo_id", true),
                                  queryOrBody(req, body, "branch", true), onto.empty() ? std::nullopt : std::optional(onto)));
        });

        // ---- SSE initial state: the default project's worktrees
        hook("events.initial_state", 100, [this](std::string_view payload) {
            auto o = atelier::parseObject(payload);
            if (!o) o = atelier::makeObject();
            o->set("worktrees", svc_->initialList(o));
            return atelier::HookOutcome::replace(o);
        });
        // Dev-server state is part of WorktreeInfo (worktrees.decorate): republish on change.
        subscribe("devserver.status", [this](const atelier::Event& e) {
            if (!e.projectId.empty()) svc_->projectChanged(e.projectId);
        });
    }
    void start() override { svc_->start(); }
    void stop() override {
        if (svc_) svc_->stop();
    }
    WorktreeService& service() { return *svc_; }

private:
    atelier::git::Library libgit2_;  // first member: outlives the service
    Project project(const Request& req) { return svc_->projectFrom(atelier::resolveActiveProject(*this, req).raw); }
    atelier::JsonObject projectById(const std::string& id) {
        auto r = host().call("GET", "/api/projects/" + atelier::urlEncode(id));
        auto o = r.json();
        if (r.status == 404 || !o) throw atelier::notFound("Project \"" + id + "\" not found", "PROJECT_NOT_FOUND");
        if (r.status != 200) throw atelier::HttpError(r.status, o->optValue<std::string>("code", "ERROR"), o->optValue<std::string>("error", "error"));
        if (o->has("data") && o->getObject("data")) o = o->getObject("data");
        return o;
    }
    std::unique_ptr<WorktreeService> svc_;
};

}  // namespace

ATELIER_MODULE(WorktreesModule)
