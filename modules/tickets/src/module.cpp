// The tickets module: registration of every route, hook and migration in one screen. The
// domain lives in the other files; this file only turns requests into domain calls.
#include <atelier/sdk.hpp>
#include <atelier/shared/active_project.hpp>

#include "attachments.hpp"
#include "comments.hpp"
#include "labels.hpp"
#include "milestones.hpp"
#include "notes.hpp"
#include "profiles.hpp"
#include "requests.hpp"
#include "schema.hpp"
#include "tasks.hpp"
#include "tickets.hpp"

using atelier::Request;
using atelier::Response;

namespace tickets {

class TicketsModule : public atelier::shared::DomainModule {
public:
    void init() override {
        migrate(migrations());
        store_.db = db();
        store_.publish = [this](const atelier::Event& e) { return publish(e); };
        store_.runHook = [this](std::string_view name, const std::string& payload) { return runHook(name, payload); };
        store_.moduleDir = host().path(ATELIER_PATH_MODULE_DIR);
        TaskEnv env{[this](std::string_view m, const std::string& p, const std::string& b, const std::string& h) {
            auto r = host().call(m, p, b, h);
            return CallResult{r.status, r.body};
        }};

        const std::string T = "/api/projects/:projectId/tickets/by-number/:number";

        // ---- tickets
        get("/api/tickets", "List tickets (filters, search)", [this](Request& q, Response& s) { s.json(tickets_.list(filter(q))); });
        get("/api/tickets/counts", "Ticket counts per status", [this](Request& q, Response& s) {
            if (!q.hasQuery("project_id") || q.query("project_id").empty()) throw validation("project_id", "is required");
            s.json(tickets_.counts(project(q.query("project_id"))));
        });
        post("/api/tickets", "Create a ticket", [this](Request& q, Response& s) {
            auto b = q.json();
            auto p = project(stringField(b, "project_id", 200));  // an unknown project is a 404 before any field error
            s.json(tickets_.create(p, parseNewTicket(b)), 201);
        });
        get(T, "Get a ticket", [this](Request& q, Response& s) { s.json(tickets_.get(pid(q), num(q), q.query("viewer_id"))); });
        patch(T, "Update a ticket", [this](Request& q, Response& s) {
            auto [p, n] = ticket(q);
            s.json(tickets_.update(p, n, parseTicketUpdate(q.json())));
        });
        del(T, "Delete a ticket", [this](Request& q, Response& s) {
            tickets_.remove(pid(q), num(q), optStringField(q.json(), "deleted_by_id", 200).value_or(""));
            s.noContent();
        });
        post(T + "/claim", "Claim a ticket", [this](Request& q, Response& s) {
            auto [p, n] = ticket(q);
            s.json(tickets_.claim(p, n, parseClaim(q.json())));
        });
        post(T + "/unclaim", "Release a claim", [this](Request& q, Response& s) {
            auto [p, n] = ticket(q);
            s.json(tickets_.unclaim(p, n, parseUnclaim(q.json())));
        });
        post(T + "/claim/extend", "Extend a claim", [this](Request& q, Response& s) {
            auto [p, n] = ticket(q);
            s.json(tickets_.extendClaim(p, n, parseExtendClaim(q.json())));
        });
        post(T + "/view", "Mark a ticket viewed", [this](Request& q, Response& s) {
            auto [p, n] = ticket(q);
            s.json(tickets_.view(p, n, stringField(q.json(), "profile_id", 200)));
        });
        get(T + "/timeline", "Comments and events in time order", [this](Request& q, Response& s) {
            s.json(tickets_.timeline(pid(q), num(q), q.queryInt("limit", 50, 1, 100), q.queryInt("offset", 0, 0, INT64_MAX)));
        });
        get(T + "/events", "Ticket-scoped events", [this](Request& q, Response& s) {
            s.json(tickets_.events(pid(q), num(q), q.queryInt("limit", 100, 1, 100), q.queryInt("offset", 0, 0, INT64_MAX)));
        });

        // ---- comments
        get(T + "/comments", "List comments", [this](Request& q, Response& s) {
            ParentFilter pf;
            if (auto p = q.queryOpt("parent_id")) {
                if (*p == "null" || p->empty()) pf.kind = ParentFilter::Kind::TopLevel;
                else pf = {ParentFilter::Kind::Parent, *parseInt(p, "parent_id")};
            }
            s.json(comments_.list(pid(q), num(q), q.queryOpt("author_id"), pf, q.queryInt("limit", 50, 1, 100),
                                  q.queryInt("offset", 0, 0, INT64_MAX)));
        });
        post(T + "/comments", "Add a comment", [this](Request& q, Response& s) {
            auto [p, n] = ticket(q);
            s.json(comments_.create(p, n, parseNewComment(q.json())), 201);
        });
        get("/api/comments/:id", "Get a comment", [this](Request& q, Response& s) { s.json(comments_.get(id(q, "id"))); });
        patch("/api/comments/:id", "Edit a comment",
              [this](Request& q, Response& s) { s.json(comments_.update(id(q, "id"), parseCommentEdit(q.json()))); });
        del("/api/comments/:id", "Delete a comment", [this](Request& q, Response& s) {
            comments_.remove(id(q, "id"), optStringField(q.json(), "deleted_by_id", 200).value_or(""));
            s.noContent();
        });
        get("/api/comments/:id/mentions", "Mentions parsed from a comment", [this](Request& q, Response& s) { s.json(comments_.mentions(id(q, "id"))); });

        // ---- labels
        get("/api/projects/:projectId/labels", "List labels", [this](Request& q, Response& s) {
            LabelQuery lq{q.queryOpt("search"), q.query("sort", "name"), q.queryOpt("usage_scope"), parseBool(q.queryOpt("is_enabled"), "is_enabled")};
            s.json(labels_.list(pid(q), lq));
        });
        post("/api/projects/:projectId/labels", "Create a label", [this](Request& q, Response& s) {
            auto p = pid(q);
            s.json(labels_.create(p, parseNewLabel(q.json())), 201);
        });
        get("/api/labels/:id", "Get a label", [this](Request& q, Response& s) { s.json(labels_.get(id(q, "id"))); });
        patch("/api/labels/:id", "Update a label",
              [this](Request& q, Response& s) { s.json(labels_.update(id(q, "id"), parseLabelUpdate(q.json()))); });
        del("/api/labels/:id", "Delete a label", [this](Request& q, Response& s) {
            labels_.remove(id(q, "id"));
            s.noContent();
        });
        get("/api/labels/:labelId/triggers", "Agent triggers of a label", [this](Request& q, Response& s) { s.json(labels_.triggers(id(q, "labelId"))); });
        get("/api/projects/:projectId/smart-label-ids", "Labels with an enabled trigger", [this](Request& q, Response& s) { s.json(labels_.smartLabelIds(pid(q))); });
        get(T + "/labels", "Labels of a ticket", [this](Request& q, Response& s) { s.json(labels_.ticketLabels(pid(q), num(q))); });
        post(T + "/labels/:labelId", "Add a label to a ticket", [this](Request& q, Response& s) {
            auto [p, n] = ticket(q);
            auto labelId = id(q, "labelId");
            s.json(labels_.addToTicket(p, n, labelId, optStringField(q.json(), "added_by_id", 200)), 201);
        });
        del(T + "/labels/:labelId", "Remove a label from a ticket", [this](Request& q, Response& s) {
            auto [p, n] = ticket(q);
            auto labelId = id(q, "labelId");
            labels_.removeFromTicket(p, n, labelId, optStringField(q.json(), "removed_by_id", 200));
            s.noContent();
        });

        // ---- milestones
        get("/api/projects/:projectId/milestones", "List milestones", [this](Request& q, Response& s) { s.json(milestones_.list(pid(q), q.queryOpt("status"))); });
        post("/api/projects/:projectId/milestones", "Create a milestone", [this](Request& q, Response& s) {
            auto p = pid(q);
            s.json(milestones_.create(p, parseNewMilestone(q.json())), 201);
        });
        get("/api/milestones/:id", "Get a milestone", [this](Request& q, Response& s) { s.json(milestones_.get(id(q, "id"))); });
        patch("/api/milestones/:id", "Update a milestone", [this](Request& q, Response& s) {
            s.json(milestones_.update(id(q, "id"), parseMilestoneUpdate(q.json())));
        });
        del("/api/milestones/:id", "Delete a milestone", [this](Request& q, Response& s) {
            milestones_.remove(id(q, "id"));
            s.noContent();
        });

        // ---- attachments
        post(T + "/attachments", "Upload a file to a ticket", [this](Request& q, Response& s) {
            auto t = tickets_.requireRow(pid(q), num(q));
            s.json(attachments_.upload(AttachTarget::ticket(t.integer("id")), upload(q)), 201);
        });
        get(T + "/attachments", "List ticket attachments", [this](Request& q, Response& s) {
            auto t = tickets_.requireRow(pid(q), num(q));
            s.json(attachments_.list(AttachTarget::ticket(t.integer("id")), q.queryOpt("uploaded_by_id"), q.queryInt("limit", 50, 1, 100),
                                     q.queryInt("offset", 0, 0, INT64_MAX)));
        });
        post("/api/comments/:commentId/attachments", "Upload a file to a comment", [this](Request& q, Response& s) {
            auto c = comments_.requireRow(id(q, "commentId"));
            s.json(attachments_.upload(AttachTarget::comment(c.integer("id")), upload(q)), 201);
        });
        get("/api/comments/:commentId/attachments", "List comment attachments", [this](Request& q, Response& s) {
            auto c = comments_.requireRow(id(q, "commentId"));
            s.json(attachments_.list(AttachTarget::comment(c.integer("id")), q.queryOpt("uploaded_by_id"), q.queryInt("limit", 50, 1, 100),
                                     q.queryInt("offset", 0, 0, INT64_MAX)));
        });
        get("/api/attachments/:id", "Attachment metadata", [this](Request& q, Response& s) { s.json(attachments_.get(id(q, "id"))); });
        Handler download = [this](Request& q, Response& s) {
            auto f = attachments_.read(id(q, "id"));
            s.status(200).header("Content-Type", f.mimeType).header("Content-Disposition", contentDisposition("attachment", f.filename));
            s.header("X-Content-Type-Options", "nosniff").header("Content-Security-Policy", "sandbox").body(f.bytes);
        };
        get("/api/attachments/:id/download", "Download an attachment", download);
        // The boards product downloads at the attachment's own path, where Kombuse reads metadata.
        get("/api/attachments/:id", "Download an attachment (boards product)", atelier::flavors(ATELIER_FLAVOR_KANBAN),
            download);
        del("/api/attachments/:id", "Delete an attachment", [this](Request& q, Response& s) {
            attachments_.remove(id(q, "id"));
            s.noContent();
        });

        // ---- profiles and settings
        get("/api/profiles", "List profiles", [this](Request& q, Response& s) {
            ProfileQuery pq{q.queryOpt("type"), q.queryOpt("search"), parseBool(q.queryOpt("is_active"), "is_active"),
                            parseBool(q.queryOpt("has_agent"), "has_agent"), q.queryInt("limit", 100, 1, 100), q.queryInt("offset", 0, 0, INT64_MAX)};
            s.json(profiles_.list(pq));
        });
        post("/api/profiles", "Create a profile",
             [this](Request& q, Response& s) { s.json(profiles_.create(parseNewProfile(q.json())), 201); });
        get("/api/profiles/:id", "Get a profile", [this](Request& q, Response& s) { s.json(profiles_.get(q.param("id"))); });
        patch("/api/profiles/:id", "Update a profile", [this](Request& q, Response& s) {
            s.json(profiles_.update(q.param("id"), parseProfileUpdate(q.json())));
        });
        del("/api/profiles/:id", "Deactivate a profile", [this](Request& q, Response& s) {
            profiles_.remove(q.param("id"));
            s.noContent();
        });
        get("/api/profiles/:profileId/settings", "Profile settings", [this](Request& q, Response& s) { s.json(profiles_.settings(q.param("profileId"))); });
        get("/api/profiles/:profileId/settings/:key", "One profile setting", [this](Request& q, Response& s) {
            s.json(profiles_.setting(q.param("profileId"), q.param("key")));
        });
        put("/api/profile-settings", "Set a profile setting",
            [this](Request& q, Response& s) { s.json(profiles_.putSetting(parseProfileSetting(q.json()))); });
        del("/api/profiles/:profileId/settings/:key", "Delete a profile setting", [this](Request& q, Response& s) {
            profiles_.deleteSetting(q.param("profileId"), q.param("key"));
            s.noContent();
        });

        // ---- OpenKit local tasks (active project)
        tasks_.setEnv(env);
        get("/api/tasks", "List local tasks", [this](Request& q, Response& s) { s.json(wrap("tasks", tasks_.list(active(q)))); });
        post("/api/tasks", "Create a local task", [this](Request& q, Response& s) { s.json(ok("task", tasks_.create(active(q), q.json())), 201); });
        post("/api/tasks/recover-local", "Recover a local task for its worktree", [this](Request& q, Response& s) {
            s.json(tasks_.recover(active(q), q.json()), 201);
        });
        get("/api/tasks/:id", "Get a local task", [this](Request& q, Response& s) { s.json(wrap("task", tasks_.get(active(q), q.param("id")))); });
        patch("/api/tasks/:id", "Update a local task", [this](Request& q, Response& s) { s.json(ok("task", tasks_.update(active(q), q.param("id"), q.json()))); });
        del("/api/tasks/:id", "Delete a local task", [this](Request& q, Response& s) {
            tasks_.remove(active(q), q.param("id"));
            s.json(ok());
        });
        post("/api/tasks/:id/create-worktree", "Create or reuse the task's worktree", [this](Request& q, Response& s) {
            auto r = tasks_.createWorktree(active(q), q.param("id"), q.json());
            s.json(r.body, r.created ? 201 : 200);
        });
        post("/api/tasks/:id/attachments", "Upload a task attachment", [this](Request& q, Response& s) {
            auto p = active(q);
            s.json(ok("attachment", tasks_.attach(p, q.param("id"), upload(q, false))), 201);
        });
        get("/api/tasks/:id/attachments/:filename", "Serve a task attachment", [this](Request& q, Response& s) {
            auto f = tasks_.attachment(active(q), q.param("id"), q.param("filename"));
            s.status(200).header("Content-Type", f.mimeType).header("Cache-Control", "private, max-age=3600");
            s.header("Content-Disposition", contentDisposition("inline", f.filename)).header("X-Content-Type-Options", "nosniff");
            s.header("Content-Security-Policy", "sandbox").body(f.bytes);
        });
        del("/api/tasks/:id/attachments/:filename", "Delete a task attachment", [this](Request& q, Response& s) {
            tasks_.detach(active(q), q.param("id"), q.param("filename"));
            s.json(ok());
        });

        // ---- OpenKit notes (active project)
        const std::string N = "/api/notes/:source/:id";
        get(N, "Notes of an issue", [this](Request& q, Response& s) { s.json(notes_.get(active(q).id, q.param("source"), q.param("id"))); });
        put(N, "Update a notes section", [this](Request& q, Response& s) { s.json(notes_.putSection(active(q).id, q.param("source"), q.param("id"), q.json())); });
        post(N + "/todos", "Add a todo", [this](Request& q, Response& s) { s.json(notes_.addTodo(active(q).id, q.param("source"), q.param("id"), q.json())); });
        patch(N + "/todos/:todoId", "Update a todo", [this](Request& q, Response& s) {
            s.json(notes_.updateTodo(active(q).id, q.param("source"), q.param("id"), q.param("todoId"), q.json()));
        });
        del(N + "/todos/:todoId", "Delete a todo", [this](Request& q, Response& s) {
            s.json(notes_.deleteTodo(active(q).id, q.param("source"), q.param("id"), q.param("todoId")));
        });
        patch(N + "/git-policy", "Update the git policy", [this](Request& q, Response& s) {
            s.json(notes_.gitPolicy(active(q).id, q.param("source"), q.param("id"), q.json()));
        });

        // ---- hooks
        hook("profiles.lookup", 100, [this](std::string_view payload) {
            auto o = atelier::parseObject(payload);
            if (!o || !o->has("actorId") || !o->get("actorId").isString()) return atelier::HookOutcome::keep();
            auto p = findProfile(store_.db, o->getValue<std::string>("actorId"));
            if (!p) return atelier::HookOutcome::keep();
            o->set("actor", p);
            return atelier::HookOutcome::replace(o);
        });
    }

private:
    // Project UUID for a UUID or slug, asked of the projects module (404 when unknown).
    std::string project(const std::string& idOrSlug) const {
        if (idOrSlug.empty() || idOrSlug.size() > 200) throw notFound("Project not found", "PROJECT_NOT_FOUND");
        auto r = host().call("GET", "/api/projects/" + urlEncode(idOrSlug));
        auto o = r.json();
        if (r.status == 200 && o) {
            if (o->has("id") && o->get("id").isString()) return o->getValue<std::string>("id");
            for (auto key : {"project", "data"})
                if (auto inner = o->getObject(key); inner && inner->has("id")) return inner->getValue<std::string>("id");
        }
        if (r.status >= 500) throw atelier::HttpError(502, "PROJECTS_UNAVAILABLE", "The projects module could not resolve the project");
        throw notFound("Project " + idOrSlug + " not found", "PROJECT_NOT_FOUND");
    }
    std::string pid(const Request& q) const { return project(q.param("projectId")); }
    // The project and number of a ticket path, resolved (404) before the body is read.
    std::pair<std::string, int64_t> ticket(const Request& q) const {
        auto p = pid(q);
        return {p, num(q)};
    }
    atelier::ActiveProject active(const Request& q) const { return atelier::resolveActiveProject(*this, q); }

    static int64_t num(const Request& q) { return positive(q.param("number"), "number"); }
    static int64_t id(const Request& q, const char* name) { return positive(q.param(name), name); }
    static int64_t positive(const std::string& v, const std::string& name) {
        auto n = parseInt(std::optional<std::string>(v), name);
        if (!n || *n < 1) throw validation(name, "must be a positive integer");
        return *n;
    }

    TicketFilter filter(const Request& q) const {
        TicketFilter f;
        if (auto p = q.queryOpt("project_id"); p && !p->empty()) {
            try {
                f.projectId = project(*p);
            } catch (const DomainError& e) {
                if (e.kind != DomainError::Kind::NotFound) throw;
                f.projectId = "\x01unknown";  // unknown project: empty result, not an error
            }
        }
        auto nonEmpty = [&](const char* k) -> std::optional<std::string> {
            auto v = q.queryOpt(k);
            if (v && v->empty()) return std::nullopt;
            return v;
        };
        f.status = nonEmpty("status");
        f.priority = parseInt(q.queryOpt("priority"), "priority");
        f.authorId = nonEmpty("author_id");
        f.assigneeId = nonEmpty("assignee_id");
        f.claimedById = nonEmpty("claimed_by_id");
        f.viewerId = nonEmpty("viewer_id");
        f.search = q.queryOpt("search");
        f.unclaimed = parseBool(q.queryOpt("unclaimed"), "unclaimed");
        f.expiredClaims = parseBool(q.queryOpt("expired_claims"), "expired_claims");
        f.milestoneId = parseInt(q.queryOpt("milestone_id"), "milestone_id");
        if (auto l = q.queryOpt("label_ids"); l && !l->empty()) {
            size_t start = 0;
            while (start <= l->size()) {
                size_t end = l->find(',', start);
                if (end == std::string::npos) end = l->size();
                auto part = l->substr(start, end - start);
                if (!part.empty()) f.labelIds.push_back(*parseInt(part, "label_ids"));
                start = end + 1;
            }
        }
        f.sortBy = q.query("sort_by");
        f.sortOrder = q.query("sort_order");
        f.limit = q.queryInt("limit", 50, 1, 100);
        f.offset = q.queryInt("offset", 0, 0, INT64_MAX);
        return f;
    }

    // The file part and `uploaded_by_id` of a multipart body.
    Upload upload(const Request& q, bool requireUploader = true) const {
        return parseUpload(q.header("Content-Type"), q.body(), requireUploader);
    }

    static JsonObject wrap(const char* key, const Var& v) {
        auto o = atelier::makeObject();
        o->set(key, v);
        return o;
    }
    static JsonObject ok(const char* key = nullptr, const Var& v = Var()) {
        auto o = atelier::makeObject();
        o->set("success", true);
        if (key) o->set(key, v);
        return o;
    }

    Store store_;
    Tickets tickets_{store_};
    Comments comments_{store_, tickets_};
    Labels labels_{store_, tickets_};
    Milestones milestones_{store_};
    Profiles profiles_{store_};
    Attachments attachments_{store_};
    Notes notes_{store_};
    Tasks tasks_{store_, tickets_, attachments_, notes_};
};

}  // namespace tickets

ATELIER_MODULE(tickets::TicketsModule)
