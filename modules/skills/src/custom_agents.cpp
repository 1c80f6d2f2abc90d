#include "custom_agents.hpp"

#include <atelier/util.hpp>
#include <set>

#include "domain_error.hpp"
#include "front_matter.hpp"
#include "host_calls.hpp"

namespace atelier::skills {

namespace {

std::string slugOf(const std::string& id) {
    const std::string prefix = "custom::";
    std::string slug = id.rfind(prefix, 0) == 0 ? id.substr(prefix.size()) : id;
    if (!isSafeName(slug)) throw invalid("id", "is not a valid custom agent id", "INVALID_AGENT_ID");
    return slug;
}

std::string field(const JsonObject& o, const std::string& key) {
    if (!o || !o->has(key) || o->isNull(key)) return {};
    return o->get(key).isString() ? o->getValue<std::string>(key) : o->get(key).toString();
}

void checkString(const JsonObject& b, const std::string& key, size_t max) {
    if (!b->has(key) || b->isNull(key)) return;
    if (!b->get(key).isString()) throw invalid(key, "must be a string");
    if (b->getValue<std::string>(key).size() > max)
        throw invalid(key, "must be at most " + std::to_string(max) + " characters");
}

std::vector<std::string> stringList(const JsonObject& b, const std::string& key) {
    std::vector<std::string> out;
    if (!b->has(key) || b->isNull(key)) return out;
    if (b->get(key).type() != typeid(JsonArray)) throw invalid(key, "must be an array of agent names");
    auto a = b->getArray(key);
    for (size_t i = 0; i < a->size(); ++i) {
        if (!a->get(static_cast<unsigned>(i)).isString()) throw invalid(key, "must be an array of agent names");
        out.push_back(a->getElement<std::string>(static_cast<unsigned>(i)));
    }
    return out;
}

}  // namespace

std::string CustomAgents::markdown(const JsonObject& a) {
    Fields f;
    f.emplace_back("name", field(a, "slug"));
    if (!field(a, "description").empty()) f.emplace_back("description", field(a, "description"));
    if (!field(a, "allowed_tools").empty()) f.emplace_back("tools", field(a, "allowed_tools"));
    if (!field(a, "model").empty()) f.emplace_back("model", field(a, "model"));
    std::string body = field(a, "system_prompt");
    if (!body.empty() && body.back() != '\n') body += "\n";
    return renderFrontMatter(f, body);
}

JsonObject CustomAgents::deployments(const std::string& fileName, const fs::path& projectRoot) {
    JsonObject d = makeObject();
    for (const auto& agent : agentNames()) {
        JsonObject s = makeObject();
        for (const auto& scope : scopeNames()) {
            bool on = false;
            if (scope == "global" || !projectRoot.empty()) {
                std::error_code ec;
                on = fs::is_regular_file(
                    fs::symlink_status(targetDir({agent, scope}, "agents", projectRoot) / fileName, ec));
            }
            s->set(scope, on);
        }
        d->set(agent, s);
    }
    return d;
}

JsonObject CustomAgents::stored(const std::string& id) const {
    std::string slug = slugOf(id);
    auto v = callJson(host_, "GET", "/api/agents/by-slug/" + slug);
    if (v.type() != typeid(JsonObject)) throw notFoundError("AGENT_NOT_FOUND", "Custom agent not found");
    return v.extract<JsonObject>();
}

JsonObject CustomAgents::view(const JsonObject& a, const fs::path& projectRoot) const {
    JsonObject o = makeObject();
    std::string slug = field(a, "slug");
    o->set("id", "custom::" + slug);
    o->set("name", slug);
    o->set("description", field(a, "description"));
    o->set("pluginId", "custom");
    o->set("pluginName", "Custom");
    o->set("pluginScope", "local");
    o->set("pluginEnabled", a->optValue<bool>("is_enabled", true));
    o->set("marketplace", "local");
    o->set("isCustom", true);
    o->set("agentId", field(a, "id"));
    o->set("source", field(a, "source"));
    o->set("deployments", deployments(slug + ".md", projectRoot));
    return o;
}

JsonArray CustomAgents::list(const fs::path& projectRoot) const {
    JsonArray out = makeArray();
    for (int offset = 0; offset < 100000; offset += 100) {
        auto v = callJson(host_, "GET", "/api/agents?limit=100&offset=" + std::to_string(offset));
        if (v.type() != typeid(JsonArray)) break;
        auto page = v.extract<JsonArray>();
        for (size_t i = 0; i < page->size(); ++i) {
            auto a = page->getObject(static_cast<unsigned>(i));
            if (a && isSafeName(field(a, "slug"))) out->add(view(a, projectRoot));
        }
        if (page->size() < 100) break;
    }
    return out;
}

JsonObject CustomAgents::get(const std::string& id, const fs::path& projectRoot) const {
    auto a = stored(id);
    JsonObject o = view(a, projectRoot);
    o->set("agentPath", Poco::Dynamic::Var());
    o->set("installPath", Poco::Dynamic::Var());
    o->set("content", markdown(a));
    return o;
}

JsonObject CustomAgents::create(const JsonObject& b, const fs::path& projectRoot) {
    if (!atelier::has(b, "name")) throw invalid("name", "is required");
    checkString(b, "name", 64);
    std::string name = b->getValue<std::string>("name");
    if (!isSafeName(name))
        throw invalid("name", "must be lowercase letters, digits, '-' or '_' (at most 64)", "INVALID_AGENT_NAME");
    checkString(b, "description", 4096);
    checkString(b, "tools", 1024);
    checkString(b, "model", 200);
    checkString(b, "instructions", 1024 * 1024);
    checkString(b, "source", 1000);
    std::string scope = atelier::has(b, "scope") ? field(b, "scope") : "project";
    std::vector<Target> targets;
    for (auto& agent : stringList(b, "deployAgents")) targets.push_back(parseTarget(agent, scope));
    if (!targets.empty()) targetDir(targets.front(), "agents", projectRoot);  // project scope needs a project

    JsonObject req = makeObject();
    req->set("name", name);
    req->set("slug", name);
    req->set("description", field(b, "description"));
    req->set("system_prompt", field(b, "instructions"));
    if (!field(b, "tools").empty()) req->set("allowed_tools", field(b, "tools"));
    if (!field(b, "model").empty()) req->set("model", field(b, "model"));
    req->set("source", atelier::has(b, "source") ? field(b, "source") : "custom");
    if (b->has("project_id") && b->get("project_id").isString()) req->set("project_id", field(b, "project_id"));
    auto created = callJson(host_, "POST", "/api/agents", req).extract<JsonObject>();
    for (auto& t : targets) deploy("custom::" + name, t, projectRoot);
    return get("custom::" + name, projectRoot);
}

void CustomAgents::syncDeployed(const JsonObject& a, const fs::path& projectRoot) const {
    std::string file = field(a, "slug") + ".md";
    std::string md = markdown(a);
    for (const auto& agent : agentNames())
        for (const auto& scope : scopeNames()) {
            if (scope == "project" && projectRoot.empty()) continue;
            fs::path p = targetDir({agent, scope}, "agents", projectRoot) / file;
            std::error_code ec;
            if (fs::is_regular_file(fs::symlink_status(p, ec))) writeFileAtomic(p, md);
        }
}

JsonObject CustomAgents::update(const std::string& id, const JsonObject& b, const fs::path& projectRoot) {
    auto a = stored(id);
    checkString(b, "content", 1024 * 1024);
    JsonObject patch = makeObject();
    if (atelier::has(b, "content")) {
        auto fm = parseFrontMatter(b->getValue<std::string>("content"));
        if (!fm.present) throw invalid("content", "must start with a front matter block", "INVALID_FRONTMATTER");
        if (!fm.text("name").empty() && fm.text("name") != field(a, "slug"))
            throw invalid("content", "front matter name must stay \"" + field(a, "slug") + "\"");
        patch->set("description", fm.text("description"));
        patch->set("allowed_tools", fm.text("tools"));
        patch->set("model", fm.text("model").empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(fm.text("model")));
        std::string body = fm.body;
        while (!body.empty() && body.back() == '\n') body.pop_back();
        patch->set("system_prompt", body);
    }
    for (auto [in, out] : {std::pair{"description", "description"}, std::pair{"tools", "allowed_tools"},
                           std::pair{"model", "model"}, std::pair{"instructions", "system_prompt"}}) {
        checkString(b, in, 1024 * 1024);
        if (atelier::has(b, in)) patch->set(out, b->getValue<std::string>(in));
    }
    auto updated = callJson(host_, "PATCH", "/api/agents/" + field(a, "id"), patch).extract<JsonObject>();
    syncDeployed(updated, projectRoot);
    return get(id, projectRoot);
}

void CustomAgents::remove(const std::string& id, const fs::path& projectRoot) {
    auto a = stored(id);
    std::string file = field(a, "slug") + ".md";
    callJson(host_, "DELETE", "/api/agents/" + field(a, "id"));
    for (const auto& agent : agentNames())
        for (const auto& scope : scopeNames()) {
            if (scope == "project" && projectRoot.empty()) continue;
            fs::path p = targetDir({agent, scope}, "agents", projectRoot) / file;
            std::error_code ec;
            if (fs::is_regular_file(fs::symlink_status(p, ec))) fs::remove(p, ec);
        }
}

void CustomAgents::deploy(const std::string& id, const Target& t, const fs::path& projectRoot) {
    auto a = stored(id);
    fs::path p = targetDir(t, "agents", projectRoot) / (field(a, "slug") + ".md");
    std::error_code ec;
    auto st = fs::symlink_status(p, ec);
    if (fs::exists(st) && !fs::is_regular_file(st))
        throw conflictError("DEPLOY_CONFLICT", p.string() + " exists and is not a file");
    writeFileAtomic(p, markdown(a));
}

void CustomAgents::undeploy(const std::string& id, const Target& t, const fs::path& projectRoot) {
    auto a = stored(id);
    fs::path p = targetDir(t, "agents", projectRoot) / (field(a, "slug") + ".md");
    std::error_code ec;
    if (fs::is_regular_file(fs::symlink_status(p, ec))) fs::remove(p, ec);
}

JsonArray CustomAgents::scan(const std::string& mode, const std::string& scanPath, const fs::path& projectRoot) const {
    const ScanRoot scan = scanRoot(mode, scanPath, projectRoot);
    const fs::path& root = scan.root;
    const int depth = scan.depth;
    std::error_code ec;
    if (!root.is_absolute() || !fs::is_directory(root, ec))
        throw invalid("scanPath", "must be an existing absolute directory");
    std::set<std::string> known;
    auto all = list({});  // keep the array alive for the loop
    for (auto& a : *all) known.insert(a.extract<JsonObject>()->getValue<std::string>("name"));
    JsonArray out = makeArray();
    size_t visited = 0;
    auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (++visited > 200000 || out->size() >= 1000) break;
        auto st = it->symlink_status(ec);
        std::string fname = it->path().filename().string();
        if (fs::is_directory(st)) {
            if (fname == "node_modules" || fname == ".git" || it.depth() + 1 >= depth) it.disable_recursion_pending();
            continue;
        }
        // Agent definitions live in an `agents` directory (.claude/agents, .codex/agents, …).
        if (!fs::is_regular_file(st) || it->path().extension() != ".md" ||
            it->path().parent_path().filename() != "agents")
            continue;
        FrontMatter fm;
        try {
            fm = parseFrontMatter(readFile(it->path(), 1024 * 1024));
        } catch (const std::exception&) {
            continue;
        }
        if (!fm.present) continue;
        std::string name = fm.text("name", it->path().stem().string());
        JsonObject o = makeObject();
        o->set("name", name);
        o->set("description", fm.text("description"));
        o->set("agentPath", it->path().string());
        o->set("alreadyInRegistry", known.count(name) > 0);
        out->add(o);
    }
    return out;
}

JsonObject CustomAgents::import(const JsonObject& b, const fs::path& projectRoot) {
    if (!b->has("agents") || b->get("agents").type() != typeid(JsonArray)) throw invalid("agents", "must be an array");
    auto arr = b->getArray("agents");
    if (arr->size() > 500) throw invalid("agents", "must have at most 500 entries");
    std::string scope = atelier::has(b, "scope") ? field(b, "scope") : "project";
    std::vector<Target> targets;
    for (auto& agent : stringList(b, "deployAgents")) targets.push_back(parseTarget(agent, scope));
    struct Item {
        std::string name;
        FrontMatter fm;
        std::string path;
    };
    std::vector<Item> items;
    for (size_t i = 0; i < arr->size(); ++i) {
        std::string f = "agents[" + std::to_string(i) + "]";
        auto o = arr->getObject(static_cast<unsigned>(i));
        if (!o || !o->has("agentPath") || !o->get("agentPath").isString())
            throw invalid(f + ".agentPath", "is required");
        fs::path p = o->getValue<std::string>("agentPath");
        std::error_code ec;
        if (!p.is_absolute() || p.extension() != ".md" || !fs::is_regular_file(fs::symlink_status(p, ec)))
            throw invalid(f + ".agentPath", "must be an absolute path to a .md file");
        auto fm = parseFrontMatter(readFile(p, 1024 * 1024));
        std::string name = o->has("name") && o->get("name").isString() ? o->getValue<std::string>("name")
                                                                       : fm.text("name", p.stem().string());
        if (!isSafeName(name))
            throw invalid(f + ".name", "must be lowercase letters, digits, '-' or '_'", "INVALID_AGENT_NAME");
        items.push_back({name, fm, p.string()});
    }
    JsonArray imported = makeArray(), skipped = makeArray();
    for (auto& it : items) {
        JsonObject req = makeObject();
        req->set("name", it.name);
        req->set("description", it.fm.text("description"));
        req->set("tools", it.fm.text("tools"));
        req->set("model", it.fm.text("model"));
        std::string body = it.fm.body;
        while (!body.empty() && body.back() == '\n') body.pop_back();
        req->set("instructions", body);
        req->set("source", "imported:" + it.path);
        try {
            create(req, projectRoot);
        } catch (const DomainError& e) {
            if (e.kind != DomainError::Kind::Conflict) throw;
            skipped->add(it.name);
            continue;
        }
        for (auto& t : targets) deploy("custom::" + it.name, t, projectRoot);
        imported->add(it.name);
    }
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("imported", imported);
    out->set("skipped", skipped);
    return out;
}

}  // namespace atelier::skills
