#include "deployer.hpp"

#include <filesystem>
#include <map>

#include "config_file.hpp"
#include "jsonc_edit.hpp"
#include "toml_edit.hpp"

namespace fs = std::filesystem;

namespace atelier::mcp {

namespace {

HttpError invalidConfig(const std::string& path, const std::string& why) {
    return HttpError(422, "CONFIG_INVALID", path + " is not valid: " + why + "; it was left untouched");
}

JsonObject copyStrings(const JsonObject& o) {
    JsonObject out = makeObject();
    if (o)
        for (auto& k : o->getNames()) out->set(k, o->get(k));
    return out;
}

bool isRemote(const JsonObject& s) { return s->has("url") && !s->has("command"); }

}  // namespace

const std::vector<DeployTarget>& Deployer::targets() {
    static const std::vector<DeployTarget> t{
        {"claude", false, {"mcpServers"}, ".claude.json", ".mcp.json"},
        {"gemini", false, {"mcpServers"}, ".gemini/settings.json", ".gemini/settings.json"},
        {"codex", true, {}, "config.toml", ".codex/config.toml"},
        {"cursor", false, {"mcpServers"}, ".cursor/mcp.json", ".cursor/mcp.json"},
        {"vscode", false, {"servers"}, ".config/Code/User/mcp.json", ".vscode/mcp.json"},
    };
    return t;
}

const DeployTarget& Deployer::target(const std::string& tool) {
    for (auto& t : targets())
        if (t.tool == tool) return t;
    throw badRequest("tool must be one of claude, gemini, codex, cursor, vscode", "UNKNOWN_TOOL",
                     {{"tool", "must be one of claude, gemini, codex, cursor, vscode"}});
}

std::string Deployer::configPath(const std::string& tool, const std::string& scope,
                                 const std::string& projectRoot) const {
    const auto& t = target(tool);
    if (scope == "global") return (fs::path(t.toml ? codexHome_ : home_) / t.globalRelative).string();
    if (scope == "project") {
        if (projectRoot.empty())
            throw badRequest("project scope needs an active project with a local path", "NO_ACTIVE_PROJECT");
        return (fs::path(projectRoot) / t.projectRelative).string();
    }
    throw badRequest("scope must be global or project", "VALIDATION_ERROR", {{"scope", "must be global or project"}});
}

JsonObject Deployer::entryFor(const std::string& tool, const JsonObject& s) {
    JsonObject e = makeObject();
    auto env = s->has("env") ? s->getObject("env") : nullptr;
    auto headers = s->has("headers") ? s->getObject("headers") : nullptr;
    if (isRemote(s)) {
        std::string type = s->optValue<std::string>("type", "http");
        if (type == "stdio") type = "http";
        std::string url = s->getValue<std::string>("url");
        if (tool == "gemini")
            e->set(type == "sse" ? "url" : "httpUrl", url);
        else if (tool == "cursor")
            e->set("url", url);
        else if (tool == "codex")
            e->set("url", url);
        else {
            e->set("type", type);
            e->set("url", url);
        }
        if (headers && headers->size() > 0) e->set(tool == "codex" ? "http_headers" : "headers", copyStrings(headers));
        return e;
    }
    if (tool == "claude" || tool == "vscode") e->set("type", "stdio");
    e->set("command", s->getValue<std::string>("command"));
    if (auto a = s->getArray("args"); a && a->size() > 0)
        e->set("args", a);
    else if (tool != "codex")
        e->set("args", makeArray());
    if (env && env->size() > 0) e->set("env", copyStrings(env));
    return e;
}

void Deployer::deploy(const std::string& path, const std::string& tool, const std::string& id,
                      const JsonObject& entry) const {
    const auto& t = target(tool);
    std::lock_guard lock(configLock(path));
    ConfigText f;
    try {
        f = readConfig(path);
    } catch (const std::exception& e) {
        throw HttpError(422, "CONFIG_UNREADABLE", e.what());
    }
    std::string next;
    try {
        next = t.toml ? toml_edit::setServer(f.text, "mcp_servers", id, entry)
                      : jsonc::setMember(f.text, t.containerPath, id, entry);
    } catch (const ConfigSyntaxError& e) {
        throw invalidConfig(path, e.what());
    }
    if (f.exists && next == f.text) return;
    writeConfigAtomic(path, next, f.exists ? f.mode : 0644);
}

bool Deployer::undeploy(const std::string& path, const std::string& tool, const std::string& id) const {
    const auto& t = target(tool);
    std::lock_guard lock(configLock(path));
    ConfigText f;
    try {
        f = readConfig(path);
    } catch (const std::exception& e) {
        throw HttpError(422, "CONFIG_UNREADABLE", e.what());
    }
    if (!f.exists) return false;
    std::optional<std::string> next;
    try {
        next = t.toml ? toml_edit::removeServer(f.text, "mcp_servers", id)
                      : jsonc::removeMember(f.text, t.containerPath, id);
    } catch (const ConfigSyntaxError& e) {
        throw invalidConfig(path, e.what());
    }
    if (!next) return false;
    writeConfigAtomic(path, *next, f.mode);
    return true;
}

std::optional<JsonObject> Deployer::deployedEntry(const std::string& path, const std::string& tool,
                                                  const std::string& id) const {
    const auto& t = target(tool);
    try {
        auto f = readConfig(path);
        if (!f.exists) return std::nullopt;
        JsonObject servers = t.toml ? toml_edit::servers(f.text, "mcp_servers")
                                    : jsonc::objectAt(jsonc::parseObject(f.text), t.containerPath);
        if (!servers || !servers->has(id) || servers->get(id).type() != typeid(JsonObject)) return std::nullopt;
        return servers->getObject(id);
    } catch (...) {
        return std::nullopt;
    }
}

bool Deployer::isDeployed(const std::string& path, const std::string& tool, const std::string& id) const {
    return deployedEntry(path, tool, id).has_value();
}

JsonObject Deployer::serversIn(const std::string& path) {
    auto f = readConfig(path, 4 * 1024 * 1024);
    if (!f.exists) return nullptr;
    std::string name = fs::path(path).filename().string();
    if (name == "config.toml") return toml_edit::servers(f.text, "mcp_servers");
    JsonObject root = jsonc::parseObject(f.text);
    for (auto path : std::vector<std::vector<std::string>>{{"mcpServers"}, {"servers"}, {"mcp", "servers"}})
        if (auto o = jsonc::objectAt(root, path)) return o;
    if (name == "mcp.json" || name == ".mcp.json") return root;  // a flat map of servers
    return nullptr;
}

JsonArray Deployer::scan(const std::string& root, int maxDepth) const {
    static const std::vector<std::string> names{".mcp.json", "mcp.json", "settings.json", "config.toml",
                                                ".claude.json"};
    static const std::vector<std::string> skipDirs{"node_modules", ".git",   ".cache", "dist",
                                                   "build",        "target", ".venv",  "__pycache__"};
    std::map<std::string, JsonObject> found;
    std::vector<std::string> order;
    size_t visited = 0;
    const size_t maxEntries = 200000;  // a device scan stays bounded on huge home directories
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        if (++visited > maxEntries) break;
        const auto& entry = *it;
        std::string name = entry.path().filename().string();
        std::error_code sec;
        if (entry.is_directory(sec)) {
            bool skip = it.depth() + 1 >= maxDepth || entry.is_symlink(sec);
            for (auto& d : skipDirs) skip = skip || name == d;
            if (skip) it.disable_recursion_pending();
            continue;
        }
        if (std::find(names.begin(), names.end(), name) == names.end() || !entry.is_regular_file(sec)) continue;
        JsonObject servers;
        try {
            servers = serversIn(entry.path().string());
        } catch (...) {
            continue;  // not a config file we understand: nothing to discover
        }
        if (!servers) continue;
        for (auto& key : servers->getNames()) {
            if (servers->get(key).type() != typeid(JsonObject)) continue;
            auto s = servers->getObject(key);
            bool remote = s->has("url") || s->has("httpUrl");
            if (!s->has("command") && !remote) continue;
            auto& d = found[key];
            if (!d) {
                d = makeObject();
                d->set("key", key);
                if (s->has("command")) d->set("command", s->get("command"));
                if (s->has("args")) d->set("args", s->get("args"));
                if (remote) {
                    d->set("type", s->optValue<std::string>("type", s->has("httpUrl") ? "http" : "http") == "sse"
                                       ? "sse"
                                       : "http");
                    d->set("url", s->has("url") ? s->get("url") : s->get("httpUrl"));
                }
                d->set("env", s->has("env") && s->get("env").type() == typeid(JsonObject)
                                  ? s->get("env")
                                  : Poco::Dynamic::Var(makeObject()));
                d->set("foundIn", makeArray());
                order.push_back(key);
            }
            JsonObject where = makeObject();
            where->set("configPath", entry.path().string());
            d->getArray("foundIn")->add(where);
        }
    }
    JsonArray out = makeArray();
    for (auto& k : order) out->add(found[k]);
    return out;
}

}  // namespace atelier::mcp
