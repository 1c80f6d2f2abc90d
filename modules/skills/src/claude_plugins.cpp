#include "claude_plugins.hpp"

#include <algorithm>
#include <atelier/util.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "domain_error.hpp"
#include "front_matter.hpp"
#include "git_fetch.hpp"

namespace atelier::skills {

namespace {

fs::path claudeDir() { return homeDir() / ".claude"; }
fs::path pluginsDir() { return claudeDir() / "plugins"; }

std::string str(const JsonObject& o, const std::string& k, std::string fallback = {}) {
    if (!o || !o->has(k) || o->isNull(k)) return fallback;
    return o->get(k).isString() ? o->getValue<std::string>(k) : o->get(k).toString();
}

// A JSON file Claude Code owns: a missing file is an empty object; one we cannot parse is
// left alone rather than overwritten.
JsonObject readJson(const fs::path& p) {
    auto text = readFileIfExists(p, 8 * 1024 * 1024);
    if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos) return makeObject();
    auto o = parseObject(*text);
    if (!o) throw conflictError("CONFIG_UNREADABLE", p.string() + " is not a JSON object; fix or remove it first");
    return o;
}
void writeJson(const fs::path& p, const JsonObject& o) {
    std::ostringstream os;
    Poco::JSON::Stringifier::stringify(o, os, 2);
    writeFileAtomic(p, os.str() + "\n");
}

fs::path settingsFile(const std::string& scope, const fs::path& projectRoot) {
    if (scope == "user") return claudeDir() / "settings.json";
    if (projectRoot.empty())
        throw invalid("scope", "project and local scopes need an active project with a local path", "NO_PROJECT");
    return projectRoot / ".claude" / (scope == "project" ? "settings.json" : "settings.local.json");
}

std::string scopeOf(const JsonObject& b, const std::string& fallback = "user") {
    if (!b || !b->has("scope") || b->isNull("scope")) return fallback;
    if (!b->get("scope").isString()) throw invalid("scope", "must be a string");
    std::string s = b->getValue<std::string>("scope");
    if (s != "user" && s != "project" && s != "local") throw invalid("scope", "must be user, project or local");
    return s;
}

void splitId(const std::string& id, std::string& name, std::string& marketplace) {
    static const std::regex re("^([A-Za-z0-9][A-Za-z0-9._-]{0,99})@([A-Za-z0-9][A-Za-z0-9._-]{0,99})$");
    std::smatch m;
    if (!std::regex_match(id, m, re)) throw invalid("id", "must be plugin@marketplace", "INVALID_PLUGIN_ID");
    name = m[1];
    marketplace = m[2];
}

size_t countEntries(const fs::path& dir, const std::string& ext, bool dirsWithSkill = false) {
    size_t n = 0;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return 0;
    for (auto& e : fs::directory_iterator(dir, ec)) {
        if (dirsWithSkill ? fs::is_regular_file(e.path() / "SKILL.md", ec)
                          : (e.path().extension() == ext && fs::is_regular_file(e.path(), ec)))
            ++n;
    }
    return n;
}
std::vector<std::string> names(const fs::path& dir, const std::string& ext, bool dirsWithSkill = false) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return out;
    for (auto& e : fs::directory_iterator(dir, ec)) {
        if (dirsWithSkill ? fs::is_regular_file(e.path() / "SKILL.md", ec)
                          : (e.path().extension() == ext && fs::is_regular_file(e.path(), ec)))
            out.push_back(dirsWithSkill ? e.path().filename().string() : e.path().stem().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}
JsonArray toArray(const std::vector<std::string>& v) {
    JsonArray a = makeArray();
    for (auto& s : v) a->add(s);
    return a;
}
std::vector<std::string> mcpServers(const fs::path& root) {
    std::vector<std::string> out;
    try {
        auto o = readJson(root / ".mcp.json");
        auto servers = o->has("mcpServers") ? o->getObject("mcpServers") : o;
        if (servers) out = servers->getNames();
    } catch (const DomainError&) {
    }
    return out;
}

}  // namespace

bool ClaudePlugins::cliAvailable() { return findOnPath("claude").has_value(); }

std::vector<ClaudePlugins::Installed> ClaudePlugins::installed() const {
    std::vector<Installed> out;
    auto doc = readJson(pluginsDir() / "installed_plugins.json");
    auto plugins = doc->getObject("plugins");
    if (!plugins) return out;
    for (const auto& id : plugins->getNames()) {
        auto entries = plugins->getArray(id);
        if (!entries) continue;
        std::string name = id.substr(0, id.find('@'));
        std::string mkt = id.find('@') == std::string::npos ? "" : id.substr(id.find('@') + 1);
        for (size_t i = 0; i < entries->size(); ++i) {
            auto e = entries->getObject(static_cast<unsigned>(i));
            if (!e) continue;
            out.push_back({id, name, mkt, str(e, "scope", "user"), str(e, "version"), str(e, "installPath"),
                           str(e, "projectPath")});
        }
    }
    return out;
}

std::optional<ClaudePlugins::Installed> ClaudePlugins::find(const std::string& id) const {
    for (auto& p : installed())
        if (p.id == id) return p;
    return std::nullopt;
}

bool ClaudePlugins::enabled(const std::string& id, const std::string& scope, const fs::path& projectRoot) const {
    try {
        if (scope != "user" && projectRoot.empty()) return false;
        auto s = readJson(settingsFile(scope, projectRoot));
        auto e = s->getObject("enabledPlugins");
        return e && e->has(id) && e->get(id).isBoolean() && e->getValue<bool>(id);
    } catch (const DomainError&) {
        return false;
    }
}

void ClaudePlugins::writeEnabled(const std::string& id, const std::string& scope, std::optional<bool> value,
                                 const fs::path& projectRoot) {
    fs::path f = settingsFile(scope, projectRoot);
    auto s = readJson(f);
    auto e = s->getObject("enabledPlugins");
    if (!e) {
        if (!value) return;
        e = makeObject();
        s->set("enabledPlugins", e);
    }
    if (value)
        e->set(id, *value);
    else
        e->remove(id);
    writeJson(f, s);
}

JsonObject ClaudePlugins::summary(const Installed& p, const fs::path& projectRoot) const {
    fs::path root = p.installPath;
    JsonObject manifest;
    try {
        manifest = readJson(root / ".claude-plugin" / "plugin.json");
    } catch (const DomainError&) {
        manifest = makeObject();
    }
    JsonObject o = makeObject();
    o->set("id", p.id);
    o->set("name", str(manifest, "name", p.name));
    o->set("description", str(manifest, "description"));
    o->set("version", p.version.empty() ? str(manifest, "version") : p.version);
    o->set("scope", p.scope);
    o->set("enabled", enabled(p.id, p.scope, projectRoot));
    o->set("marketplace", p.marketplace);
    auto author = manifest->getObject("author");
    o->set("author", author ? str(author, "name") : str(manifest, "author"));
    std::error_code ec;
    o->set("error", fs::is_directory(root, ec) ? Poco::Dynamic::Var()
                                               : Poco::Dynamic::Var("Install path is missing: " + root.string()));
    o->set("warning", Poco::Dynamic::Var());
    JsonObject counts = makeObject();
    counts->set("commands", static_cast<int64_t>(countEntries(root / "commands", ".md")));
    counts->set("agents", static_cast<int64_t>(countEntries(root / "agents", ".md")));
    counts->set("skills", static_cast<int64_t>(countEntries(root / "skills", "", true)));
    counts->set("mcpServers", static_cast<int64_t>(mcpServers(root).size()));
    counts->set("hooks", fs::is_regular_file(root / "hooks" / "hooks.json", ec));
    counts->set("lsp", fs::is_regular_file(root / ".lsp.json", ec));
    o->set("componentCounts", counts);
    return o;
}

JsonObject ClaudePlugins::list(const fs::path& projectRoot) const {
    std::lock_guard lock(mu_);
    JsonArray a = makeArray();
    for (auto& p : installed()) a->add(summary(p, projectRoot));
    JsonObject o = makeObject();
    o->set("plugins", a);
    o->set("cliAvailable", cliAvailable());
    return o;
}

JsonObject ClaudePlugins::debug() const {
    JsonObject o = makeObject();
    if (!cliAvailable()) {
        o->set("success", false);
        o->set("raw", "");
        o->set("parsed", Poco::Dynamic::Var());
        o->set("stderr", "Claude CLI not available");
        return o;
    }
    auto r = runProcess({"claude", "plugin", "list", "--json"}, homeDir(), {}, 60000);
    o->set("success", r.exitCode == 0);
    o->set("raw", r.output);
    Poco::Dynamic::Var parsed;
    try {
        auto start = r.output.find_first_of("[{");
        if (start != std::string::npos) parsed = Poco::JSON::Parser().parse(r.output.substr(start));
    } catch (...) {
    }
    o->set("parsed", parsed);
    if (r.exitCode != 0) o->set("stderr", r.output);
    return o;
}

JsonObject ClaudePlugins::marketplaceEntry(const std::string& plugin, const std::string& marketplace,
                                           fs::path& root) const {
    auto known = readJson(pluginsDir() / "known_marketplaces.json");
    auto m = known->getObject(marketplace);
    if (!m) throw notFoundError("MARKETPLACE_NOT_FOUND", "Marketplace \"" + marketplace + "\" is not configured");
    root = str(m, "installLocation");
    auto doc = readJson(root / ".claude-plugin" / "marketplace.json");
    auto plugins = doc->getArray("plugins");
    for (size_t i = 0; plugins && i < plugins->size(); ++i) {
        auto p = plugins->getObject(static_cast<unsigned>(i));
        if (p && str(p, "name") == plugin) return p;
    }
    throw notFoundError("PLUGIN_NOT_FOUND", "Marketplace \"" + marketplace + "\" has no plugin \"" + plugin + "\"");
}

JsonObject ClaudePlugins::available() const {
    std::lock_guard lock(mu_);
    std::set<std::string> have;
    for (auto& p : installed()) have.insert(p.id);
    JsonArray out = makeArray();
    auto known = readJson(pluginsDir() / "known_marketplaces.json");
    for (const auto& mname : known->getNames()) {
        auto m = known->getObject(mname);
        if (!m) continue;
        JsonObject doc;
        try {
            doc = readJson(fs::path(str(m, "installLocation")) / ".claude-plugin" / "marketplace.json");
        } catch (const DomainError&) {
            continue;
        }
        auto plugins = doc->getArray("plugins");
        for (size_t i = 0; plugins && i < plugins->size(); ++i) {
            auto p = plugins->getObject(static_cast<unsigned>(i));
            if (!p) continue;
            JsonObject e = makeObject();
            std::string id = str(p, "name") + "@" + mname;
            e->set("pluginId", id);
            e->set("name", str(p, "name"));
            e->set("description", str(p, "description"));
            e->set("marketplaceName", mname);
            e->set("version", str(p, "version"));
            e->set("installed", have.count(id) > 0);
            out->add(e);
        }
    }
    JsonObject o = makeObject();
    o->set("available", out);
    return o;
}

JsonObject ClaudePlugins::detail(const std::string& id, const fs::path& projectRoot) const {
    std::lock_guard lock(mu_);
    std::string name, mkt;
    splitId(id, name, mkt);
    auto p = find(id);
    if (!p) throw notFoundError("PLUGIN_NOT_FOUND", "Plugin not found");
    JsonObject o = summary(*p, projectRoot);
    fs::path root = p->installPath;
    JsonObject manifest;
    try {
        manifest = readJson(root / ".claude-plugin" / "plugin.json");
    } catch (const DomainError&) {
        manifest = makeObject();
    }
    o->set("installPath", root.string());
    o->set("manifest", manifest);
    JsonObject comps = makeObject();
    comps->set("commands", toArray(names(root / "commands", ".md")));
    comps->set("agents", toArray(names(root / "agents", ".md")));
    comps->set("skills", toArray(names(root / "skills", "", true)));
    comps->set("mcpServers", toArray(mcpServers(root)));
    std::error_code ec;
    comps->set("hasHooks", fs::is_regular_file(root / "hooks" / "hooks.json", ec));
    comps->set("hasLsp", fs::is_regular_file(root / ".lsp.json", ec));
    o->set("components", comps);
    auto readme = readFileIfExists(root / "README.md", 1024 * 1024);
    o->set("readme", readme ? Poco::Dynamic::Var(*readme) : Poco::Dynamic::Var());
    for (auto k : {"homepage", "repository", "license"})
        o->set(k, manifest->has(k) ? manifest->get(k) : Poco::Dynamic::Var());
    o->set("keywords", manifest->has("keywords") ? manifest->get("keywords") : Poco::Dynamic::Var(makeArray()));
    JsonObject out = makeObject();
    out->set("plugin", o);
    return out;
}

ClaudePlugins::Installed ClaudePlugins::copyIn(const std::string& name, const std::string& mkt,
                                               const std::string& scope, const fs::path& projectRoot) {
    fs::path mroot;
    auto entry = marketplaceEntry(name, mkt, mroot);
    fs::path from;
    fs::path scratch;
    std::error_code ec;
    auto src = entry->get("source");
    if (src.isString()) {
        from = (mroot / src.extract<std::string>()).lexically_normal();
        if (!isInside(mroot, from) && from != mroot)
            throw invalid("source", "plugin source escapes its marketplace", "INVALID_MARKETPLACE");
    } else if (auto so = entry->getObject("source")) {
        std::string kind = str(so, "source");
        std::string url = kind == "github" ? gitUrlFor(str(so, "repo")) : str(so, "url");
        if (url.empty()) throw invalid("source", "plugin source has no repository", "INVALID_MARKETPLACE");
        scratch = pluginsDir() / "cache" / (".fetch-" + atelier::randomHex(8));
        gitCloneFresh(gitUrlFor(url), scratch);
        from = scratch;
    } else {
        throw invalid("source", "plugin entry has no source", "INVALID_MARKETPLACE");
    }
    if (!fs::is_directory(from, ec))
        throw notFoundError("PLUGIN_SOURCE_MISSING", "Plugin source " + from.string() + " does not exist");
    JsonObject manifest;
    try {
        manifest = readJson(from / ".claude-plugin" / "plugin.json");
    } catch (const DomainError&) {
        manifest = makeObject();
    }
    std::string version = str(entry, "version", str(manifest, "version", "unknown"));
    if (!isSafeName(version) && !std::regex_match(version, std::regex("^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$")))
        version = "unknown";
    fs::path dest = pluginsDir() / "cache" / mkt / name / version;
    fs::path tmp = dest.parent_path() / (".new-" + atelier::randomHex(8));
    try {
        copyTree(from, tmp);
        fs::remove_all(dest, ec);
        fs::rename(tmp, dest);
    } catch (...) {
        fs::remove_all(tmp, ec);
        if (!scratch.empty()) fs::remove_all(scratch, ec);
        throw;
    }
    if (!scratch.empty()) fs::remove_all(scratch, ec);
    Installed p{
        name + "@" + mkt, name, mkt, scope, version, dest.string(), scope == "user" ? "" : projectRoot.string()};
    return p;
}

void ClaudePlugins::install(const JsonObject& b, const fs::path& projectRoot) {
    if (!b->has("ref") || !b->get("ref").isString()) throw invalid("ref", "is required");
    std::string ref = b->getValue<std::string>("ref");
    std::string scope = scopeOf(b);
    if (scope != "user") settingsFile(scope, projectRoot);
    std::lock_guard lock(mu_);
    if (ref.find('@') == std::string::npos) {
        // A bare name: the first marketplace that lists it.
        auto known = readJson(pluginsDir() / "known_marketplaces.json");
        std::string found;
        for (const auto& m : known->getNames()) {
            fs::path root;
            try {
                marketplaceEntry(ref, m, root);
                found = m;
                break;
            } catch (const DomainError&) {
            }
        }
        if (found.empty())
            throw notFoundError("PLUGIN_NOT_FOUND", "No configured marketplace has plugin \"" + ref + "\"");
        ref += "@" + found;
    }
    std::string name, mkt;
    splitId(ref, name, mkt);
    readJson(settingsFile(scope, projectRoot));  // refuse before copying if it cannot be updated
    auto p = copyIn(name, mkt, scope, projectRoot);
    auto doc = readJson(pluginsDir() / "installed_plugins.json");
    doc->set("version", 2);
    auto plugins = doc->getObject("plugins");
    if (!plugins) {
        plugins = makeObject();
        doc->set("plugins", plugins);
    }
    JsonArray entries = plugins->getArray(p.id);
    JsonArray kept = makeArray();
    std::string installedAt = atelier::nowIso();
    for (size_t i = 0; entries && i < entries->size(); ++i) {
        auto e = entries->getObject(static_cast<unsigned>(i));
        if (e && str(e, "scope") == scope && str(e, "projectPath") == p.projectPath) {
            installedAt = str(e, "installedAt", installedAt);
            continue;
        }
        kept->add(e);
    }
    JsonObject e = makeObject();
    e->set("scope", scope);
    if (!p.projectPath.empty()) e->set("projectPath", p.projectPath);
    e->set("installPath", p.installPath);
    e->set("version", p.version);
    e->set("installedAt", installedAt);
    e->set("lastUpdated", atelier::nowIso());
    kept->add(e);
    plugins->set(p.id, kept);
    writeJson(pluginsDir() / "installed_plugins.json", doc);
    writeEnabled(p.id, scope, true, projectRoot);
}

void ClaudePlugins::uninstall(const std::string& id, const JsonObject& b, const fs::path& projectRoot) {
    std::string name, mkt;
    splitId(id, name, mkt);
    std::lock_guard lock(mu_);
    auto doc = readJson(pluginsDir() / "installed_plugins.json");
    auto plugins = doc->getObject("plugins");
    auto entries = plugins ? plugins->getArray(id) : nullptr;
    if (!entries || entries->size() == 0) throw notFoundError("PLUGIN_NOT_FOUND", "Plugin not found");
    std::optional<std::string> scope;
    if (b && b->has("scope") && !b->isNull("scope")) scope = scopeOf(b);
    JsonArray kept = makeArray();
    std::set<std::string> removedPaths, keptPaths, removedScopes;
    for (size_t i = 0; i < entries->size(); ++i) {
        auto e = entries->getObject(static_cast<unsigned>(i));
        if (!e) continue;
        if (!scope || str(e, "scope") == *scope) {
            removedPaths.insert(str(e, "installPath"));
            removedScopes.insert(str(e, "scope", "user"));
        } else {
            kept->add(e);
            keptPaths.insert(str(e, "installPath"));
        }
    }
    if (removedScopes.empty()) throw notFoundError("PLUGIN_NOT_FOUND", "Plugin is not installed in that scope");
    if (kept->size() == 0)
        plugins->remove(id);
    else
        plugins->set(id, kept);
    writeJson(pluginsDir() / "installed_plugins.json", doc);
    for (auto& s : removedScopes) {
        if (s != "user" && projectRoot.empty()) continue;
        writeEnabled(id, s, std::nullopt, projectRoot);
    }
    for (auto& path : removedPaths) {
        std::error_code ec;
        // Only our cache copies are deleted; never a path outside ~/.claude/plugins/cache.
        if (!keptPaths.count(path) && isInside(pluginsDir() / "cache", path)) fs::remove_all(path, ec);
    }
}

void ClaudePlugins::setEnabled(const std::string& id, const JsonObject& b, bool on, const fs::path& projectRoot) {
    std::string name, mkt;
    splitId(id, name, mkt);
    std::lock_guard lock(mu_);
    auto p = find(id);
    if (!p) throw notFoundError("PLUGIN_NOT_FOUND", "Plugin not found");
    writeEnabled(id, scopeOf(b, p->scope), on, projectRoot);
}

void ClaudePlugins::update(const std::string& id, const fs::path& projectRoot) {
    std::string name, mkt;
    splitId(id, name, mkt);
    auto p = find(id);
    if (!p) throw notFoundError("PLUGIN_NOT_FOUND", "Plugin not found");
    JsonObject b = makeObject();
    b->set("ref", id);
    b->set("scope", p->scope);
    std::string old = p->installPath;
    install(b, p->projectPath.empty() ? projectRoot : fs::path(p->projectPath));
    auto now = find(id);
    std::error_code ec;
    if (now && now->installPath != old && isInside(pluginsDir() / "cache", old)) fs::remove_all(old, ec);
}

JsonObject ClaudePlugins::marketplaces() const {
    std::lock_guard lock(mu_);
    auto known = readJson(pluginsDir() / "known_marketplaces.json");
    JsonArray out = makeArray();
    for (const auto& name : known->getNames()) {
        auto m = known->getObject(name);
        auto s = m ? m->getObject("source") : nullptr;
        JsonObject e = makeObject();
        e->set("name", name);
        e->set("source", s ? str(s, "path", str(s, "url", str(s, "repo"))) : "");
        e->set("repo", s && s->has("repo") ? s->get("repo") : Poco::Dynamic::Var());
        e->set("type", s ? str(s, "source") : "");
        e->set("installLocation", str(m, "installLocation"));
        e->set("lastUpdated", str(m, "lastUpdated"));
        out->add(e);
    }
    JsonObject o = makeObject();
    o->set("marketplaces", out);
    return o;
}

void ClaudePlugins::addMarketplace(const JsonObject& b) {
    if (!b->has("source") || !b->get("source").isString()) throw invalid("source", "is required");
    std::string source = b->getValue<std::string>("source");
    if (source.empty() || source.size() > 2000 || source[0] == '-')
        throw invalid("source", "is not a marketplace source");
    std::lock_guard lock(mu_);
    // Both files are read (and so known to be writable JSON) before either is written.
    auto known = readJson(pluginsDir() / "known_marketplaces.json");
    auto settings = readJson(claudeDir() / "settings.json");
    JsonObject src = makeObject();
    fs::path location;
    fs::path scratch;
    std::error_code ec;
    if (fs::path(source).is_absolute() && fs::is_directory(source, ec)) {
        src->set("source", "directory");
        src->set("path", source);
        location = source;
    } else {
        std::string url = gitUrlFor(source);
        if (url.rfind("https://github.com/", 0) == 0 && source.find("://") == std::string::npos) {
            src->set("source", "github");
            src->set("repo", source);
        } else {
            src->set("source", "git");
            src->set("url", url);
        }
        scratch = pluginsDir() / "marketplaces" / (".clone-" + atelier::randomHex(8));
        gitCloneFresh(url, scratch);
        location = scratch;
    }
    JsonObject doc;
    try {
        doc = readJson(location / ".claude-plugin" / "marketplace.json");
    } catch (...) {
        if (!scratch.empty()) fs::remove_all(scratch, ec);
        throw;
    }
    std::string name = str(doc, "name");
    if (!std::regex_match(name, std::regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"))) {
        if (!scratch.empty()) fs::remove_all(scratch, ec);
        throw invalid("source", "has no .claude-plugin/marketplace.json with a valid name", "INVALID_MARKETPLACE");
    }
    if (!scratch.empty()) {
        location = pluginsDir() / "marketplaces" / name;
        fs::remove_all(location, ec);
        fs::rename(scratch, location);
    }
    JsonObject entry = makeObject();
    entry->set("source", src);
    entry->set("installLocation", location.string());
    entry->set("lastUpdated", atelier::nowIso());
    known->set(name, entry);
    writeJson(pluginsDir() / "known_marketplaces.json", known);
    // Claude Code also declares added marketplaces in the user settings.
    auto extra = settings->getObject("extraKnownMarketplaces");
    if (!extra) {
        extra = makeObject();
        settings->set("extraKnownMarketplaces", extra);
    }
    JsonObject decl = makeObject();
    decl->set("source", src);
    extra->set(name, decl);
    writeJson(claudeDir() / "settings.json", settings);
}

void ClaudePlugins::removeMarketplace(const std::string& name) {
    std::lock_guard lock(mu_);
    auto known = readJson(pluginsDir() / "known_marketplaces.json");
    auto m = known->getObject(name);
    if (!m) throw notFoundError("MARKETPLACE_NOT_FOUND", "Marketplace not found");
    fs::path location = str(m, "installLocation");
    known->remove(name);
    writeJson(pluginsDir() / "known_marketplaces.json", known);
    auto settings = readJson(claudeDir() / "settings.json");
    if (auto extra = settings->getObject("extraKnownMarketplaces"); extra && extra->has(name)) {
        extra->remove(name);
        writeJson(claudeDir() / "settings.json", settings);
    }
    std::error_code ec;
    // A directory marketplace is the user's own folder; only our clones are deleted.
    if (isInside(pluginsDir() / "marketplaces", location)) fs::remove_all(location, ec);
}

void ClaudePlugins::updateMarketplace(const std::string& name) {
    std::lock_guard lock(mu_);
    auto known = readJson(pluginsDir() / "known_marketplaces.json");
    auto m = known->getObject(name);
    if (!m) throw notFoundError("MARKETPLACE_NOT_FOUND", "Marketplace not found");
    auto s = m->getObject("source");
    std::string kind = str(s, "source");
    if (kind == "git" || kind == "github") {
        std::string url = kind == "github" ? gitUrlFor(str(s, "repo")) : str(s, "url");
        gitCloneFresh(url, pluginsDir() / "marketplaces" / name);
    } else {
        std::error_code ec;
        if (!fs::is_regular_file(fs::path(str(m, "installLocation")) / ".claude-plugin" / "marketplace.json", ec))
            throw notFoundError("MARKETPLACE_MISSING",
                                "The marketplace directory no longer has .claude-plugin/marketplace.json");
    }
    m->set("lastUpdated", atelier::nowIso());
    writeJson(pluginsDir() / "known_marketplaces.json", known);
}

// ------------------------------------------------------------------ plugin agents

JsonObject ClaudePlugins::agents(const fs::path& projectRoot) const {
    std::lock_guard lock(mu_);
    JsonArray out = makeArray();
    std::set<std::string> seen;
    for (auto& p : installed()) {
        if (!seen.insert(p.id).second) continue;
        for (auto& agentName : names(fs::path(p.installPath) / "agents", ".md")) {
            FrontMatter fm;
            try {
                fm = parseFrontMatter(readFile(fs::path(p.installPath) / "agents" / (agentName + ".md"), 1024 * 1024));
            } catch (const std::exception&) {
            }
            JsonObject a = makeObject();
            a->set("id", p.id + "::" + agentName);
            a->set("name", agentName);
            a->set("description", fm.text("description"));
            a->set("pluginId", p.id);
            a->set("pluginName", p.name);
            a->set("pluginScope", p.scope);
            a->set("pluginEnabled", enabled(p.id, p.scope, projectRoot));
            a->set("marketplace", p.marketplace);
            JsonObject d = makeObject();
            for (const auto& agent : agentNames()) {
                JsonObject s = makeObject();
                for (const auto& scope : scopeNames()) {
                    bool on;
                    if (agent == "claude")
                        on = enabled(p.id, scope == "global" ? "user" : "project", projectRoot);
                    else if (scope == "project" && projectRoot.empty())
                        on = false;
                    else
                        on =
                            fs::is_regular_file(targetDir({agent, scope}, "agents", projectRoot) / (agentName + ".md"));
                    s->set(scope, on);
                }
                d->set(agent, s);
            }
            a->set("deployments", d);
            out->add(a);
        }
    }
    JsonObject o = makeObject();
    o->set("agents", out);
    o->set("cliAvailable", cliAvailable());
    return o;
}

JsonObject ClaudePlugins::agent(const std::string& id, const fs::path& projectRoot) const {
    auto sep = id.find("::");
    if (sep == std::string::npos) throw invalid("id", "must be plugin-id::agent-name", "INVALID_AGENT_ID");
    std::string pluginId = id.substr(0, sep), agentName = id.substr(sep + 2), n, m;
    splitId(pluginId, n, m);
    if (!std::regex_match(agentName, std::regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")))
        throw invalid("id", "has an invalid agent name", "INVALID_AGENT_ID");
    auto all = agents(projectRoot)->getArray("agents");
    for (size_t i = 0; i < all->size(); ++i) {
        auto a = all->getObject(static_cast<unsigned>(i));
        if (str(a, "id") != id) continue;
        auto p = find(pluginId);
        fs::path path = fs::path(p->installPath) / "agents" / (agentName + ".md");
        a->set("installPath", p->installPath);
        a->set("agentPath", path.string());
        a->set("content", readFile(path, 1024 * 1024));
        JsonObject o = makeObject();
        o->set("agent", a);
        return o;
    }
    if (!find(pluginId)) throw notFoundError("PLUGIN_NOT_FOUND", "Plugin not found");
    throw notFoundError("AGENT_NOT_FOUND", "Agent definition not found");
}

void ClaudePlugins::deployAgent(const JsonObject& b, bool deploy, const fs::path& projectRoot) {
    if (!b->has("id") || !b->get("id").isString()) throw invalid("id", "is required");
    if (!b->has("agent") || !b->get("agent").isString()) throw invalid("agent", "is required");
    std::string scope = b->has("scope") && b->get("scope").isString() ? b->getValue<std::string>("scope") : "global";
    Target t = parseTarget(b->getValue<std::string>("agent"), scope);
    auto a = agent(b->getValue<std::string>("id"), projectRoot)->getObject("agent");
    std::string pluginId = str(a, "pluginId");
    if (t.agent == "claude") {
        // Claude loads plugin agents itself: deploying means enabling the plugin in that scope.
        std::lock_guard lock(mu_);
        writeEnabled(pluginId, scope == "global" ? "user" : "project", deploy, projectRoot);
        return;
    }
    fs::path dest = targetDir(t, "agents", projectRoot) / (str(a, "name") + ".md");
    std::error_code ec;
    if (deploy) {
        auto st = fs::symlink_status(dest, ec);
        if (fs::exists(st) && !fs::is_regular_file(st))
            throw conflictError("DEPLOY_CONFLICT", dest.string() + " exists and is not a file");
        writeFileAtomic(dest, str(a, "content"));
    } else if (fs::is_regular_file(fs::symlink_status(dest, ec))) {
        fs::remove(dest, ec);
    }
}

}  // namespace atelier::skills
