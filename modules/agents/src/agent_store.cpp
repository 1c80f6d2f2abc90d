#include "agent_store.hpp"

#include <atelier/util.hpp>

#include <filesystem>
#include <fstream>
#include <set>

namespace agents {

namespace fs = std::filesystem;
using atelier::makeArray;
using atelier::makeObject;

bool isBackendName(const std::string& s) {
    for (auto& n : backendNames())
        if (n == s) return true;
    return false;
}

std::vector<std::string> AgentStore::migrations() {
    return {
        "CREATE TABLE agents_definitions ("
        " id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
        " system_prompt TEXT NOT NULL DEFAULT '', permissions TEXT NOT NULL DEFAULT '[]', config TEXT NOT NULL DEFAULT '{}',"
        " is_enabled INTEGER NOT NULL DEFAULT 1, project_id TEXT, plugin_id TEXT, plugin_defaults TEXT,"
        " cli_name TEXT NOT NULL DEFAULT 'claude-code', model TEXT, instructions TEXT NOT NULL DEFAULT '',"
        " allowed_tools TEXT NOT NULL DEFAULT 'Read,Edit,Write,Bash,Glob,Grep', max_turns INTEGER NOT NULL DEFAULT 100,"
        " provider_config TEXT NOT NULL DEFAULT '{}', role TEXT NOT NULL DEFAULT 'builder', profile_id TEXT,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE INDEX agents_definitions_project ON agents_definitions(project_id)",
    };
}

std::vector<std::string> AgentStore::laterMigrations() {
    // `source` tells where a definition came from: "atelier" (this API), "custom" (the skills
    // module's custom-agent routes), "imported:<path>", "plugin:<name>".
    return {"ALTER TABLE agents_definitions ADD COLUMN source TEXT NOT NULL DEFAULT 'atelier'"};
}

namespace {

[[noreturn]] void fail(const std::string& field, const std::string& message) {
    throw invalidInput(field + " " + message, "VALIDATION_ERROR", {{field, message}});
}

void expectString(const JsonObject& o, const std::string& key, bool allowEmpty = true) {
    if (!o->has(key) || o->isNull(key)) return;
    if (!o->get(key).isString()) fail(key, "must be a string");
    if (!allowEmpty && o->get(key).extract<std::string>().empty()) fail(key, "must not be empty");
}

void validateStringArray(const Poco::Dynamic::Var& v, const std::string& field) {
    if (!isArray(v)) fail(field, "must be an array of strings");
    auto a = v.extract<JsonArray>();
    for (size_t i = 0; i < a->size(); ++i)
        if (!a->get(i).isString()) fail(field, "must be an array of strings");
}

void validatePermissions(const Poco::Dynamic::Var& v) {
    if (!isArray(v)) fail("permissions", "must be an array");
    auto a = v.extract<JsonArray>();
    static const std::set<std::string> scopes{"invocation", "project", "global"};
    static const std::set<std::string> actions{"read", "create", "update", "delete"};
    for (size_t i = 0; i < a->size(); ++i) {
        std::string f = "permissions[" + std::to_string(i) + "]";
        if (!isObject(a->get(i))) fail(f, "must be an object");
        auto p = a->getObject(static_cast<unsigned>(i));
        std::string type = str(p, "type");
        std::string scope = str(p, "scope");
        if (!scopes.count(scope)) fail(f + ".scope", "must be invocation, project or global");
        if (type == "resource") {
            if (str(p, "resource").empty()) fail(f + ".resource", "is required");
            if (!p->has("actions")) fail(f + ".actions", "is required");
            validateStringArray(p->get("actions"), f + ".actions");
            auto acts = p->getArray("actions");
            for (size_t j = 0; j < acts->size(); ++j)
                if (!actions.count(acts->getElement<std::string>(static_cast<unsigned>(j))))
                    fail(f + ".actions", "must contain only read, create, update, delete");
            if (p->has("filter") && !p->isNull("filter") && !isObject(p->get("filter"))) fail(f + ".filter", "must be an object");
        } else if (type == "tool") {
            if (str(p, "tool").empty()) fail(f + ".tool", "is required");
        } else {
            fail(f + ".type", "must be resource or tool");
        }
    }
}

void validateConfig(const Poco::Dynamic::Var& v) {
    if (!isObject(v)) fail("config", "must be an object");
    auto c = v.extract<JsonObject>();
    auto boolField = [&](const std::string& k) {
        if (c->has(k) && !c->isNull(k) && !c->get(k).isBoolean()) fail("config." + k, "must be a boolean");
    };
    auto intField = [&](const std::string& k, int64_t min, int64_t max) {
        if (!c->has(k) || c->isNull(k)) return;
        auto x = c->get(k);
        if (!x.isInteger() || x.isBoolean()) fail("config." + k, "must be an integer");
        auto n = x.convert<int64_t>();
        if (n < min || n > max) fail("config." + k, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    };
    if (c->has("backend_type") && !c->isNull("backend_type")) {
        if (!c->get("backend_type").isString() || !isBackendName(c->getValue<std::string>("backend_type")))
            fail("config.backend_type", "must be one of claude-code, codex, gemini, opencode, mock");
    }
    if (c->has("model") && !c->isNull("model") && !c->get("model").isString()) fail("config.model", "must be a string");
    intField("max_tokens", 1, 10000000);
    if (c->has("temperature") && !c->isNull("temperature")) {
        auto t = c->get("temperature");
        if (!t.isNumeric() || t.isBoolean()) fail("config.temperature", "must be a number");
        double d = t.convert<double>();
        if (d < 0 || d > 2) fail("config.temperature", "must be between 0 and 2");
    }
    boolField("enabled_for_chat");
    boolField("can_invoke_agents");
    boolField("retry_on_failure");
    intField("max_chain_depth", 1, 100);
    intField("max_retries", 0, 100);
    intField("timeout_ms", 1, 86400000);
    for (auto k : {"auto_approved_tools_override", "auto_approved_bash_commands_override"})
        if (c->has(k) && !c->isNull(k)) validateStringArray(c->get(k), std::string("config.") + k);
    for (auto k : {"anthropic", "openai"})
        if (c->has(k) && !c->isNull(k) && !isObject(c->get(k))) fail(std::string("config.") + k, "must be an object");
    if (c->has("type") && !c->isNull("type")) {
        std::string t = c->get("type").isString() ? c->getValue<std::string>("type") : "";
        if (t != "kombuse" && t != "coder" && t != "generic") fail("config.type", "must be kombuse, coder or generic");
    }
}

JsonArray toArray(const std::string& text) {
    auto a = atelier::parseArray(text);
    return a ? a : makeArray();
}

std::string yamlQuote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out + "\"";
}

}  // namespace

AgentFields parseAgentFields(const JsonObject& b, bool creating) {
    if (!b) fail("body", "must be a JSON object");
    if (creating && !atelier::has(b, "name")) fail("name", "is required");
    expectString(b, "name", false);
    expectString(b, "description");
    expectString(b, "system_prompt");
    expectString(b, "instructions");
    expectString(b, "model");
    expectString(b, "allowed_tools");
    expectString(b, "role", false);
    expectString(b, "project_id", false);
    expectString(b, "plugin_id", false);
    expectString(b, "source", false);
    if (atelier::has(b, "source") && b->getValue<std::string>("source").size() > 1000)
        fail("source", "must be at most 1000 characters");
    if (b->has("id") && !b->isNull("id")) {
        if (!creating) fail("id", "cannot be changed");
        expectString(b, "id");
        if (!atelier::isUuid(b->getValue<std::string>("id"))) fail("id", "must be a UUID");
    }
    if (b->has("slug") && !b->isNull("slug")) {
        expectString(b, "slug");
        if (!atelier::isKebabCase(b->getValue<std::string>("slug"))) fail("slug", "must be kebab-case");
    }
    if (b->has("cli_name") && !b->isNull("cli_name")) {
        expectString(b, "cli_name");
        if (!isBackendName(b->getValue<std::string>("cli_name")))
            fail("cli_name", "must be one of claude-code, codex, gemini, opencode, mock");
    }
    AgentFields f;
    if (b->has("max_turns") && !b->isNull("max_turns")) {
        auto v = b->get("max_turns");
        if (!v.isInteger() || v.isBoolean()) fail("max_turns", "must be an integer");
        f.maxTurns = v.convert<int64_t>();
        if (*f.maxTurns < 1 || *f.maxTurns > 10000) fail("max_turns", "must be between 1 and 10000");
    }
    if (b->has("is_enabled") && !b->isNull("is_enabled")) {
        if (!b->get("is_enabled").isBoolean()) fail("is_enabled", "must be a boolean");
        f.isEnabled = b->getValue<bool>("is_enabled");
    }
    if (b->has("permissions") && !b->isNull("permissions")) {
        validatePermissions(b->get("permissions"));
        f.permissions = b->getArray("permissions");
    }
    if (b->has("config") && !b->isNull("config")) {
        validateConfig(b->get("config"));
        f.config = b->getObject("config");
    }
    if (b->has("provider_config") && !b->isNull("provider_config")) {
        if (!isObject(b->get("provider_config"))) fail("provider_config", "must be an object");
        f.providerConfig = b->getObject("provider_config");
    }
    // Text fields: an update may not null the required ones.
    auto text = [&](const char* key, std::optional<std::string>& out) {
        if (!b->has(key)) return;
        if (b->isNull(key)) {
            if (!creating) fail(key, "must not be null");
            return;
        }
        out = b->getValue<std::string>(key);
    };
    if (atelier::has(b, "id")) f.id = b->getValue<std::string>("id");
    text("name", f.name);
    text("description", f.description);
    text("system_prompt", f.systemPrompt);
    text("instructions", f.instructions);
    text("allowed_tools", f.allowedTools);
    text("source", f.source);
    text("role", f.role);
    text("slug", f.slug);
    text("cli_name", f.cliName);
    if (atelier::has(b, "plugin_id")) f.pluginId = b->getValue<std::string>("plugin_id");
    f.modelGiven = b->has("model");
    if (atelier::has(b, "model")) f.model = b->getValue<std::string>("model");
    f.projectIdGiven = b->has("project_id");
    if (atelier::has(b, "project_id")) f.projectId = b->getValue<std::string>("project_id");
    return f;
}

void AgentStore::checkProject(const std::string& projectId) const {
    auto r = host_.call("GET", "/api/projects/" + projectId);
    if (r.status == 404) throw notFound("Project not found", "PROJECT_NOT_FOUND");
    if (r.status != 200)
        throw DomainError(DomainError::Kind::Upstream, "PROJECTS_UNAVAILABLE", "Could not look up the project");
}

std::string AgentStore::uniqueSlug(const std::string& base) const {
    std::string slug = base.empty() ? "agent" : base;
    for (int i = 2; db_.one("SELECT 1 FROM agents_definitions WHERE slug = ?", {slug}); ++i)
        slug = base + "-" + std::to_string(i);
    return slug;
}

JsonObject AgentStore::create(const AgentFields& f) {
    if (!f.name) fail("name", "is required");
    std::string id = f.id.value_or(atelier::newUuid());
    if (db_.one("SELECT 1 FROM agents_definitions WHERE id = ?", {id}))
        throw conflict("Agent id already exists", "AGENT_EXISTS");
    std::string name = *f.name;
    std::string slug;
    if (f.slug) {
        slug = *f.slug;
        if (db_.one("SELECT 1 FROM agents_definitions WHERE slug = ?", {slug}))
            throw conflict("An agent with slug '" + slug + "' already exists", "SLUG_EXISTS");
    } else {
        slug = uniqueSlug(atelier::slugify(name));
    }
    const auto& projectId = f.projectId;
    if (projectId) checkProject(*projectId);
    JsonObject config = f.config ? f.config : makeObject();
    std::string cli = f.cliName.value_or("");
    if (cli.empty()) cli = str(config, "backend_type", "claude-code");
    std::optional<std::string> model = f.model;
    if (!model && config->has("model") && config->get("model").isString()) model = config->getValue<std::string>("model");
    JsonArray perms = f.permissions ? f.permissions : makeArray();
    JsonObject provider = f.providerConfig ? f.providerConfig : makeObject();
    const auto& pluginId = f.pluginId;
    std::string description = f.description.value_or("");
    std::string now = atelier::nowIso();

    db_.exec(
        "INSERT INTO agents_definitions (id, slug, name, description, system_prompt, permissions, config, is_enabled,"
        " project_id, plugin_id, cli_name, model, instructions, allowed_tools, max_turns, provider_config, role,"
        " source, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        {id, slug, name, description, f.systemPrompt.value_or(""), atelier::toJson(perms), atelier::toJson(config),
         f.isEnabled.value_or(true), projectId, pluginId, cli, model, f.instructions.value_or(""),
         f.allowedTools.value_or("Read,Edit,Write,Bash,Glob,Grep"), f.maxTurns.value_or(100), atelier::toJson(provider),
         f.role.value_or("builder"), f.source.value_or("atelier"), now, now});
    auto created = *get(id);
    if (pluginId) {
        // A plugin-managed agent remembers its shipped definition for reset-to-plugin-defaults.
        db_.exec("UPDATE agents_definitions SET plugin_defaults = ? WHERE id = ?", {atelier::toJson(created), id});
    }
    // The agent's actor profile lives in the tickets module (optional collaborator).
    JsonObject profile = makeObject();
    profile->set("id", id);
    profile->set("type", "agent");
    profile->set("name", name);
    if (!description.empty()) profile->set("description", description);
    auto pr = host_.call("POST", "/api/profiles", atelier::toJson(profile));
    if (pr.status == 201 || pr.status == 200 || pr.status == 409) {
        db_.exec("UPDATE agents_definitions SET profile_id = ? WHERE id = ?", {id, id});
    }
    return *get(id);
}

JsonObject AgentStore::update(const std::string& id, const AgentFields& f) {
    auto existing = get(id);
    if (!existing) throw notFound("Agent not found", "AGENT_NOT_FOUND");
    if (f.id) fail("id", "cannot be changed");
    if (f.slug && db_.one("SELECT 1 FROM agents_definitions WHERE slug = ? AND id <> ?", {*f.slug, id}))
        throw conflict("An agent with slug '" + *f.slug + "' already exists", "SLUG_EXISTS");
    if (f.projectId) checkProject(*f.projectId);

    std::vector<std::string> sets;
    std::vector<atelier::Param> params;
    auto setText = [&](const std::string& column, const std::optional<std::string>& v, bool given) {
        if (!given) return;
        sets.push_back(column + " = ?");
        params.emplace_back(v ? atelier::Param(*v) : atelier::Param(nullptr));
    };
    for (auto& [column, v] : std::initializer_list<std::pair<const char*, const std::optional<std::string>*>>{
             {"name", &f.name},
             {"description", &f.description},
             {"system_prompt", &f.systemPrompt},
             {"instructions", &f.instructions},
             {"allowed_tools", &f.allowedTools},
             {"role", &f.role},
             {"slug", &f.slug},
             {"cli_name", &f.cliName},
             {"source", &f.source}})
        setText(column, *v, v->has_value());
    setText("model", f.model, f.modelGiven);
    setText("project_id", f.projectId, f.projectIdGiven);
    if (f.maxTurns) {
        sets.push_back("max_turns = ?");
        params.emplace_back(*f.maxTurns);
    }
    if (f.isEnabled) {
        sets.push_back("is_enabled = ?");
        params.emplace_back(*f.isEnabled);
    }
    if (f.permissions) {
        sets.push_back("permissions = ?");
        params.emplace_back(atelier::toJson(f.permissions));
    }
    if (f.config) {
        sets.push_back("config = ?");
        params.emplace_back(atelier::toJson(f.config));
        if (!f.cliName && f.config->has("backend_type") && !f.config->isNull("backend_type")) {
            sets.push_back("cli_name = ?");
            params.emplace_back(f.config->getValue<std::string>("backend_type"));
        }
    }
    if (f.providerConfig) {
        sets.push_back("provider_config = ?");
        params.emplace_back(atelier::toJson(f.providerConfig));
    }
    sets.push_back("updated_at = ?");
    params.emplace_back(atelier::nowIso());
    params.emplace_back(id);
    std::string sql = "UPDATE agents_definitions SET ";
    for (size_t i = 0; i < sets.size(); ++i) sql += (i ? ", " : "") + sets[i];
    db_.exec(sql + " WHERE id = ?", params);
    return *get(id);
}

void AgentStore::remove(const std::string& id) {
    auto r = db_.exec("DELETE FROM agents_definitions WHERE id = ?", {id});
    if (r.changes == 0) throw notFound("Agent not found", "AGENT_NOT_FOUND");
}

std::optional<JsonObject> AgentStore::get(const std::string& id) const {
    auto row = db_.one("SELECT * FROM agents_definitions WHERE id = ?", {id});
    if (!row) return std::nullopt;
    return rowToJson(*row);
}

std::optional<JsonObject> AgentStore::bySlug(const std::string& slug, const std::optional<std::string>& pluginId) const {
    auto row = pluginId ? db_.one("SELECT * FROM agents_definitions WHERE slug = ? AND plugin_id = ?", {slug, *pluginId})
                        : db_.one("SELECT * FROM agents_definitions WHERE slug = ?", {slug});
    if (!row) return std::nullopt;
    return rowToJson(*row);
}

JsonArray AgentStore::list(const AgentFilter& f) const {
    std::string sql = "SELECT * FROM agents_definitions WHERE 1=1";
    std::vector<atelier::Param> ps;
    if (f.isEnabled) {
        sql += " AND is_enabled = ?";
        ps.emplace_back(*f.isEnabled);
    }
    if (f.enabledForChat) {
        sql += " AND COALESCE(json_extract(config, '$.enabled_for_chat'), 0) = ?";
        ps.emplace_back(*f.enabledForChat);
    }
    if (f.projectId) {
        sql += f.projectOnly ? " AND project_id = ?" : " AND (project_id = ? OR project_id IS NULL)";
        ps.emplace_back(*f.projectId);
    }
    if (f.cliName) {
        sql += " AND cli_name = ?";
        ps.emplace_back(*f.cliName);
    }
    if (f.role) {
        sql += " AND role = ?";
        ps.emplace_back(*f.role);
    }
    sql += " ORDER BY created_at, name LIMIT ? OFFSET ?";
    ps.emplace_back(f.limit);
    ps.emplace_back(f.offset);
    auto out = makeArray();
    for (auto& r : db_.query(sql, ps)) out->add(rowToJson(r));
    return out;
}

JsonObject AgentStore::resetToPluginDefaults(const std::string& id) {
    auto row = db_.one("SELECT plugin_defaults FROM agents_definitions WHERE id = ?", {id});
    if (!row) throw notFound("Agent not found", "AGENT_NOT_FOUND");
    if (row->isNull("plugin_defaults")) throw conflict("Agent has no plugin defaults", "NO_PLUGIN_DEFAULTS");
    auto d = parseObjectOr(row->text("plugin_defaults"));
    db_.exec(
        "UPDATE agents_definitions SET name=?, description=?, system_prompt=?, permissions=?, config=?, is_enabled=?,"
        " cli_name=?, model=?, instructions=?, allowed_tools=?, max_turns=?, provider_config=?, role=?, updated_at=? WHERE id=?",
        {str(d, "name"), str(d, "description"), str(d, "system_prompt"), atelier::toJson(d->get("permissions")),
         atelier::toJson(d->get("config")), d->optValue<bool>("is_enabled", true), str(d, "cli_name", "claude-code"),
         d->isNull("model") ? atelier::Param(nullptr) : atelier::Param(str(d, "model")), str(d, "instructions"),
         str(d, "allowed_tools"), num(d, "max_turns", 100), atelier::toJson(d->get("provider_config")),
         str(d, "role", "builder"), atelier::nowIso(), id});
    return *get(id);
}

JsonObject AgentStore::resolvedPreset(const JsonObject& agent) {
    auto config = obj(agent, "config");
    std::string type = str(config, "type");
    if (type.empty()) type = str(agent, "role") == "builder" ? "coder" : "generic";
    auto preset = makeObject();
    preset->set("type", type);
    JsonArray tools = arr(config, "auto_approved_tools_override");
    if (!tools) {
        tools = makeArray();
        std::string allowed = str(agent, "allowed_tools");
        size_t start = 0;
        while (start <= allowed.size()) {
            size_t comma = allowed.find(',', start);
            std::string t = allowed.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            while (!t.empty() && t.front() == ' ') t.erase(0, 1);
            while (!t.empty() && t.back() == ' ') t.pop_back();
            if (!t.empty()) tools->add(t);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    JsonArray bash = arr(config, "auto_approved_bash_commands_override");
    if (!bash) bash = makeArray();
    preset->set("autoApprovedTools", tools);
    preset->set("autoApprovedBashCommands", bash);
    return preset;
}

JsonObject AgentStore::rowToJson(const atelier::Row& r) const {
    auto o = makeObject();
    o->set("id", r.text("id"));
    o->set("slug", r.text("slug"));
    o->set("name", r.text("name"));
    o->set("description", r.text("description"));
    o->set("system_prompt", r.text("system_prompt"));
    o->set("permissions", toArray(r.text("permissions")));
    o->set("config", parseObjectOr(r.text("config")));
    o->set("is_enabled", r.integer("is_enabled") != 0);
    o->set("project_id", r.var("project_id"));
    o->set("plugin_id", r.var("plugin_id"));
    o->set("cli_name", r.text("cli_name"));
    o->set("model", r.var("model"));
    o->set("instructions", r.text("instructions"));
    o->set("allowed_tools", r.text("allowed_tools"));
    o->set("max_turns", r.integer("max_turns"));
    o->set("provider_config", parseObjectOr(r.text("provider_config")));
    o->set("role", r.text("role"));
    o->set("source", r.text("source", "atelier"));
    o->set("profile_id", r.var("profile_id"));
    o->set("created_at", r.text("created_at"));
    o->set("updated_at", r.text("updated_at"));
    o->set("resolved_preset", resolvedPreset(o));
    return o;
}

std::string AgentStore::toMarkdown(const JsonObject& a) {
    std::string md = "---\n";
    md += "id: " + yamlQuote(str(a, "id")) + "\n";
    md += "slug: " + yamlQuote(str(a, "slug")) + "\n";
    md += "name: " + yamlQuote(str(a, "name")) + "\n";
    md += "description: " + yamlQuote(str(a, "description")) + "\n";
    md += "cli_name: " + yamlQuote(str(a, "cli_name")) + "\n";
    if (!str(a, "model").empty()) md += "model: " + yamlQuote(str(a, "model")) + "\n";
    md += "role: " + yamlQuote(str(a, "role")) + "\n";
    md += "allowed_tools: " + yamlQuote(str(a, "allowed_tools")) + "\n";
    md += "max_turns: " + std::to_string(num(a, "max_turns", 100)) + "\n";
    md += std::string("is_enabled: ") + (a->optValue<bool>("is_enabled", true) ? "true" : "false") + "\n";
    md += "permissions: " + atelier::toJson(a->get("permissions")) + "\n";
    md += "config: " + atelier::toJson(a->get("config")) + "\n";
    md += "---\n\n";
    md += str(a, "system_prompt");
    if (!str(a, "instructions").empty()) md += (str(a, "system_prompt").empty() ? "" : "\n\n") + str(a, "instructions");
    if (md.back() != '\n') md += "\n";
    return md;
}

JsonObject AgentStore::exportTo(const std::string& directory, const std::vector<std::string>& ids,
                                const std::vector<std::string>& allowedRoots) const {
    fs::path dir(directory);
    if (!dir.is_absolute()) fail("directory", "must be an absolute path");
    for (auto& part : dir)
        if (part == "..") fail("directory", "must not contain '..'");
    fs::path norm = dir.lexically_normal();
    std::error_code ec;
    bool inside = false;
    for (auto& root : allowedRoots) {
        if (root.empty()) continue;
        fs::path r = fs::weakly_canonical(root, ec);
        fs::path target = fs::weakly_canonical(norm, ec);
        auto rel = target.lexically_relative(r);
        if (!rel.empty() && *rel.begin() != "..") inside = true;
    }
    if (!inside) fail("directory", "must be inside the data directory or a project directory");

    std::vector<JsonObject> selected;
    if (ids.empty()) {
        AgentFilter f;
        f.limit = 100000;
        auto all = list(f);
        for (size_t i = 0; i < all->size(); ++i) selected.push_back(all->getObject(static_cast<unsigned>(i)));
    } else {
        for (auto& id : ids) {
            auto a = get(id);
            if (!a) throw notFound("Agent not found: " + id, "AGENT_NOT_FOUND");
            selected.push_back(*a);
        }
    }
    fs::create_directories(norm, ec);
    if (ec) throw invalidInput("Cannot create directory: " + ec.message(), "EXPORT_FAILED");
    auto files = makeArray();
    for (auto& a : selected) {
        fs::path file = norm / (str(a, "slug") + ".md");
        std::ofstream out(file, std::ios::trunc);
        out << toMarkdown(a);
        if (!out) throw invalidInput("Cannot write " + file.string(), "EXPORT_FAILED");
        files->add(file.string());
    }
    auto res = makeObject();
    res->set("success", true);
    res->set("directory", norm.string());
    res->set("count", static_cast<int64_t>(selected.size()));
    res->set("files", files);
    return res;
}

}  // namespace agents
