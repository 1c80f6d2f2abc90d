// config module: project configuration under <project>/.atelier/, detection, the setup
// commit, branch-name / commit-message rules and agent rule files. Every route on one screen;
// the domain code lives in the other files of this folder.
#include <atelier/sdk.hpp>
#include <atelier/shared/active_project.hpp>
#include <atelier/shared/git.hpp>
#include <atelier/util.hpp>

#include "agent_rules.hpp"
#include "config_schema.hpp"
#include "detect.hpp"
#include "domain_error.hpp"
#include "git_setup.hpp"
#include "project_config.hpp"
#include "rules_store.hpp"

namespace atelier::config {

namespace {

using Handler = Module::Handler;

// Domain errors → the uniform HTTP error shape.
Handler wrap(Handler h) {
    return [h = std::move(h)](Request& req, Response& res) {
        try {
            h(req, res);
        } catch (const DomainError& e) {
            int status = e.kind == DomainError::Kind::NotFound   ? 404
                         : e.kind == DomainError::Kind::Conflict ? 409
                         : e.kind == DomainError::Kind::Failed   ? 500
                                                                 : 400;
            std::vector<ErrorDetail> details;
            if (!e.field.empty()) details.push_back({e.field, e.what()});
            throw HttpError(status, e.code, e.what(), details);
        } catch (const TemplateError& e) {
            HttpError err(400, "RULE_PARSE_ERROR", e.what(), {{"content", e.what()}});
            err.extra = makeObject();
            err.extra->set("position", static_cast<int64_t>(e.position));
            throw err;
        }
    };
}

std::optional<std::string> ruleSource(const Request& req, const JsonObject& body = nullptr) {
    std::optional<std::string> s;
    if (body && has(body, "source")) s = optString(body, "source");
    else if (req.hasQuery("source") && !req.query("source").empty()) s = req.query("source");
    if (s && !isRuleSource(*s))
        throw badRequest("source must be one of jira, linear, local", "VALIDATION_ERROR", {{"source", "must be jira, linear or local"}});
    return s;
}

JsonObject overridesJson(const std::map<std::string, bool>& m) {
    auto o = makeObject();
    for (auto& [k, v] : m) o->set(k, v);
    auto out = makeObject();
    out->set("overrides", o);
    return out;
}

std::string optStr(const JsonObject& o, const std::string& k) { return optString(o, k).value_or(""); }

}  // namespace

class ConfigModule : public Module {
public:
    void init() override {
        get("/api/config", "Merged project configuration (defaults when no file exists)", wrap([this](Request& req, Response& res) {
            auto p = project(req);
            ProjectConfig pc(p.localPath);
            auto o = makeObject();
            o->set("config", pc.merged());
            o->set("projectName", p.name);
            o->set("projectId", p.id);
            o->set("exists", pc.exists());
            o->set("hasBranchNameRule", RulesStore(p.localPath).hasDefault(RuleKind::BranchName));
            res.json(o);
        }));
        patch("/api/config", "Update configuration fields (local-only keys go to config.local.json)", wrap([this](Request& req, Response& res) {
            auto p = project(req);
            auto body = req.json();
            auto merged = ProjectConfig(p.localPath).patch(body);
            changed(p, body);
            auto o = makeObject();
            o->set("success", true);
            o->set("config", merged);
            res.json(o);
        }));
        get("/api/config/detect", "Detect configuration values from the project", wrap([this](Request& req, Response& res) {
            auto p = project(req);
            auto o = makeObject();
            o->set("success", true);
            o->set("config", detectConfig(p.localPath));
            res.json(o);
        }));
        post("/api/config/init", "Create .atelier/config.json from given or detected values", wrap([this](Request& req, Response& res) {
            auto p = project(req);
            auto body = req.json();
            bool force = optBool(body, "force").value_or(false);
            body->remove("force");
            auto detected = detectConfig(p.localPath);
            auto values = makeObject();
            for (const char* k : {"startCommand", "installCommand", "baseBranch"}) values->set(k, detected->get(k));
            if (detected->getValue<std::string>("framework") != "generic") values->set("framework", detected->get("framework"));
            for (auto& [k, v] : *body) values->set(k, v);
            auto cfg = ProjectConfig(p.localPath).init(values, force);
            stageSetupFiles(p.localPath);
            changed(p, values);
            auto o = makeObject();
            o->set("success", true);
            o->set("config", cfg);
            res.json(o);
        }));
        get("/api/config/setup-status", "Whether the .atelier files need a commit and push", wrap([this](Request& req, Response& res) {
            auto p = project(req);
            auto s = setupStatus(p.localPath);
            auto files = makeArray();
            for (auto& f : s.files) files->add(f);
            auto o = makeObject();
            o->set("needsPush", s.isRepo && s.needsPush());
            o->set("files", files);
            o->set("needsCommit", !s.files.empty());
            o->set("ahead", s.ahead);
            o->set("isRepo", s.isRepo);
            res.json(o);
        }));
        post("/api/config/commit-setup", "Commit and push .atelier/config.json and .gitignore (libgit2)", wrap([this](Request& req, Response& res) {
            auto p = project(req);
            auto body = req.json();
            auto message = optString(body, "message").value_or("chore: add Atelier configuration");
            if (message.find_first_not_of(" \t\r\n") == std::string::npos)
                throw badRequest("message must not be empty", "VALIDATION_ERROR", {{"message", "must not be empty"}});
            auto r = commitSetup(p.localPath, message);
            auto o = makeObject();
            o->set("success", true);
            if (r.alreadyCommitted) o->set("alreadyCommitted", true);
            if (r.committed) o->set("commit", r.commit);
            if (r.pushFailed) {
                o->set("pushFailed", true);
                o->set("error", r.pushError);
            }
            res.json(o);
        }));

        get("/api/local-config", "Local-only configuration", wrap([this](Request& req, Response& res) {
            auto p = project(req);
            auto o = makeObject();
            o->set("config", ProjectConfig(p.localPath).localMerged());
            res.json(o);
        }));
        patch("/api/local-config", "Merge into the local configuration", wrap([this](Request& req, Response& res) {
            auto p = project(req);
            auto body = req.json();
            auto cfg = ProjectConfig(p.localPath).patchLocal(body);
            changed(p, body);
            auto o = makeObject();
            o->set("success", true);
            o->set("config", cfg);
            res.json(o);
        }));

        rules("/api/config/branch-name-rule", RuleKind::BranchName);
        rules("/api/config/commit-message-rule", RuleKind::CommitMessage);

        get("/api/agent-rules/:fileId", "Read CLAUDE.md / AGENTS.md", wrap([this](Request& req, Response& res) {
            auto name = agentFile(req);
            auto p = project(req);
            auto r = readAgentRule(p.localPath, name);
            auto o = makeObject();
            o->set("exists", r.exists);
            o->set("content", r.content);
            res.json(o);
        }));
        put("/api/agent-rules/:fileId", "Write CLAUDE.md / AGENTS.md", wrap([this](Request& req, Response& res) {
            auto name = agentFile(req);
            auto body = req.json();
            auto content = requireString(body, "content", true);
            if (content.size() > 4 * 1024 * 1024) throw badRequest("content is too large", "VALIDATION_ERROR", {{"content", "at most 4 MiB"}});
            auto p = project(req);
            writeAgentRule(p.localPath, name, content);
            res.json(success());
        }));
        del("/api/agent-rules/:fileId", "Delete CLAUDE.md / AGENTS.md", wrap([this](Request& req, Response& res) {
            auto name = agentFile(req);
            auto p = project(req);
            deleteAgentRule(p.localPath, name);
            res.json(success());
        }));
    }

private:
    git::Library libgit2_;
    ActiveProject project(const Request& req) const {
        auto p = resolveActiveProject(*this, req);
        if (p.localPath.empty())
            throw badRequest("The project has no local directory", "PROJECT_HAS_NO_PATH");
        std::error_code ec;
        if (!fs::is_directory(p.localPath, ec))
            throw badRequest("The project directory does not exist: " + p.localPath, "PROJECT_DIR_MISSING");
        return p;
    }

    static std::string agentFile(const Request& req) {
        auto name = agentRuleFileName(req.param("fileId"));
        if (!name) throw HttpError(404, "UNKNOWN_FILE", "Unknown file");
        return *name;
    }

    static JsonObject success() {
        auto o = makeObject();
        o->set("success", true);
        return o;
    }

    void changed(const ActiveProject& p, const JsonObject& keys) {
        Event e;
        e.type = "config.updated";
        e.projectId = p.id;
        auto payload = makeObject();
        payload->set("projectId", p.id);
        auto arr = makeArray();
        for (auto& [k, v] : *keys) arr->add(k);
        payload->set("keys", arr);
        e.payload = toJson(payload);
        publish(e);
    }

    void rules(const std::string& base, RuleKind kind) {
        get(base, "Get a rule template", wrap([this, kind](Request& req, Response& res) {
            auto source = ruleSource(req);
            auto p = project(req);
            auto g = RulesStore(p.localPath).get(kind, source);
            auto o = makeObject();
            o->set("content", g.content);
            o->set("hasOverride", g.hasOverride);
            res.json(o);
        }));
        put(base, "Save (or with empty content delete) a rule template", wrap([this, kind](Request& req, Response& res) {
            auto body = req.json();
            auto source = ruleSource(req, body);
            std::string content;
            if (has(body, "content")) content = requireString(body, "content", true);
            auto p = project(req);
            RulesStore(p.localPath).put(kind, content, source);
            res.json(success());
        }));
        get(base + "/status", "Which per-source overrides exist", wrap([this, kind](Request& req, Response& res) {
            auto p = project(req);
            res.json(overridesJson(RulesStore(p.localPath).overrides(kind)));
        }));
        post(base + "/evaluate", "Apply the rule to values", wrap([this, kind](Request& req, Response& res) {
            auto body = req.json();
            auto source = ruleSource(req, body);
            std::map<std::string, std::string> values;
            auto o = makeObject();
            auto p = project(req);
            RulesStore store(p.localPath);
            if (kind == RuleKind::BranchName) {
                values["issueId"] = optStr(body, "issueId");
                values["name"] = has(body, "name") ? optStr(body, "name") : optStr(body, "title");
                values["title"] = has(body, "title") ? optStr(body, "title") : values["name"];
                values["type"] = optStr(body, "type");
                values["source"] = source.value_or("");
                o->set("branchName", store.evaluate(kind, values, source));
            } else {
                values["message"] = requireString(body, "message");
                values["issueId"] = optStr(body, "issueId");
                values["source"] = source.value_or("");
                o->set("message", store.evaluate(kind, values, source));
            }
            res.json(o);
        }));
    }
};

}  // namespace atelier::config

ATELIER_MODULE(atelier::config::ConfigModule)
