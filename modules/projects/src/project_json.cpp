#include "project_json.hpp"

#include <atelier/util.hpp>
#include <cstdio>

namespace projects {

using atelier::badRequest;
using atelier::JsonObject;

namespace {

Poco::Dynamic::Var nullable(const std::optional<std::string>& v) {
    return v ? Poco::Dynamic::Var(*v) : Poco::Dynamic::Var();
}

// A string-or-null field of an update body.
NullableField nullableString(const JsonObject& o, const std::string& key) {
    if (!o->has(key)) return std::nullopt;
    if (o->isNull(key)) return std::optional<std::string>();
    auto v = o->get(key);
    if (!v.isString())
        throw badRequest(key + " must be a string or null", "VALIDATION_ERROR", {{key, "must be a string or null"}});
    return std::optional<std::string>(v.extract<std::string>());
}

// A non-nullable string field of an update body: absent is fine, null is not.
std::optional<std::string> presentString(const JsonObject& o, const std::string& key) {
    if (!o->has(key)) return std::nullopt;
    if (o->isNull(key)) throw badRequest(key + " must not be null", "VALIDATION_ERROR", {{key, "must not be null"}});
    return atelier::optString(o, key);
}

// `primary` and its alias `alias` must agree when both are given; returns the key to read.
std::string aliasKey(const JsonObject& o, const std::string& primary, const std::string& alias) {
    if (o->has(primary) && o->has(alias)) {
        auto a = o->get(primary), b = o->get(alias);
        bool same = (a.isEmpty() && b.isEmpty()) || (a.isString() && b.isString() && a.toString() == b.toString());
        if (!same)
            throw badRequest(primary + " and its alias " + alias + " disagree", "VALIDATION_ERROR",
                             {{alias, "must equal " + primary + " when both are given"}});
    }
    return o->has(primary) ? primary : alias;
}

}  // namespace

JsonObject repoJson(const Repo& r) {
    auto o = atelier::makeObject();
    o->set("id", r.id);
    o->set("project_id", r.projectId);
    o->set("name", r.name);
    o->set("path", r.path);
    o->set("repo_path", r.path);
    o->set("default_branch", nullable(r.defaultBranch));
    o->set("is_primary", r.primary);
    o->set("created_at", r.createdAt);
    return o;
}

JsonObject projectJson(const Project& p) {
    auto o = atelier::makeObject();
    o->set("id", p.id);
    o->set("name", p.name);
    o->set("slug", p.slug);
    o->set("description", nullable(p.description));
    o->set("owner_id", p.ownerId);
    o->set("local_path", nullable(p.localPath));
    o->set("path", nullable(p.localPath));
    o->set("repo_source", nullable(p.repoSource));
    o->set("repo_owner", nullable(p.repoOwner));
    o->set("repo_name", nullable(p.repoName));
    o->set("organizationId", nullable(p.organizationId));
    o->set("position", p.position);
    o->set("last_opened_at", nullable(p.lastOpenedAt));
    o->set("created_at", p.createdAt);
    o->set("updated_at", p.updatedAt);
    auto repos = atelier::makeArray();
    for (auto& r : p.repos) repos->add(repoJson(r));
    o->set("repos", repos);
    return o;
}

atelier::JsonArray projectsJson(const std::vector<Project>& ps) {
    auto a = atelier::makeArray();
    for (auto& p : ps) a->add(projectJson(p));
    return a;
}

CreateInput parseCreate(const JsonObject& body) {
    CreateInput in;
    in.name = atelier::requireString(body, "name");
    in.id = atelier::optString(body, "id");
    in.slug = atelier::optString(body, "slug");
    in.description = atelier::optString(body, "description");
    in.ownerId = atelier::optString(body, "owner_id");
    in.localPath = atelier::optString(body, aliasKey(body, "local_path", "path"));
    in.repoSource = atelier::optString(body, "repo_source");
    in.repoOwner = atelier::optString(body, "repo_owner");
    in.repoName = atelier::optString(body, "repo_name");
    in.organizationId = atelier::optString(body, aliasKey(body, "organizationId", "organization_id"));
    return in;
}

UpdateInput parseUpdate(const JsonObject& body) {
    UpdateInput in;
    in.name = presentString(body, "name");
    in.slug = presentString(body, "slug");
    in.ownerId = presentString(body, "owner_id");
    in.description = nullableString(body, "description");
    in.localPath = nullableString(body, aliasKey(body, "local_path", "path"));
    in.repoSource = nullableString(body, "repo_source");
    in.repoOwner = nullableString(body, "repo_owner");
    in.repoName = nullableString(body, "repo_name");
    in.organizationId = nullableString(body, aliasKey(body, "organizationId", "organization_id"));
    return in;
}

std::string dataStringArray(const std::vector<std::string>& items) {
    std::string out = "{\"data\":[";
    size_t total = 0;
    for (auto& i : items) total += i.size() + 3;
    out.reserve(total + 16);
    bool first = true;
    for (auto& item : items) {
        if (!first) out += ',';
        first = false;
        out += '"';
        for (unsigned char c : item) {
            switch (c) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                default:
                    if (c < 0x20) {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "\\u%04x", c);
                        out += buf;
                    } else {
                        out += static_cast<char>(c);
                    }
            }
        }
        out += '"';
    }
    out += "]}";
    return out;
}

std::vector<std::string> parseReorder(const JsonObject& body) {
    if (!body->has("ids") || body->isNull("ids"))
        throw badRequest("ids is required", "VALIDATION_ERROR", {{"ids", "is required"}});
    auto v = body->get("ids");
    if (v.type() != typeid(atelier::JsonArray))
        throw badRequest("ids must be an array of project ids", "VALIDATION_ERROR",
                         {{"ids", "must be an array of strings"}});
    auto arr = v.extract<atelier::JsonArray>();
    std::vector<std::string> ids;
    for (size_t i = 0; i < arr->size(); ++i) {
        auto e = arr->get(static_cast<unsigned>(i));
        if (!e.isString() || e.toString().empty())
            throw badRequest("ids must be an array of non-empty strings", "VALIDATION_ERROR",
                             {{"ids[" + std::to_string(i) + "]", "must be a non-empty string"}});
        ids.push_back(e.toString());
    }
    return ids;
}

}  // namespace projects

namespace projects {

InitOptions parseInitOptions(const JsonObject& body) {
    InitOptions o;
    o.skipMcpJson = atelier::optBool(body, "skipMcpJson").value_or(false);
    o.skipAgentsMd = atelier::optBool(body, "skipAgentsMd").value_or(false);
    auto a = atelier::optBool(body, "skipAtelierDir");
    auto k = atelier::optBool(body, "skipKombuseDir");
    o.skipAtelierDir = a.value_or(false) || k.value_or(false);
    o.skipGitignore = atelier::optBool(body, "skipGitignore").value_or(false);
    return o;
}

JsonObject initReportJson(const Project& p, const InitReport& r) {
    auto o = atelier::makeObject();
    o->set("success", true);
    o->set("project_id", p.id);
    o->set("local_path", r.root);
    auto steps = atelier::makeArray();
    for (auto& s : r.steps) {
        auto e = atelier::makeObject();
        e->set("step", s.step);
        e->set("path", s.path);
        e->set("action", s.action);
        steps->add(e);
    }
    o->set("steps", steps);
    return o;
}

}  // namespace projects
