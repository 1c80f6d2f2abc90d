#include "packages.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <sys/stat.h>

#include <algorithm>
#include <atelier/util.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "domain_error.hpp"
#include "front_matter.hpp"
#include "git_fetch.hpp"
#include "host_calls.hpp"

namespace atelier::skills {

namespace {

constexpr const char* kSystemVersion = "kombuse-plugin-v1";

std::string str(const JsonObject& o, const std::string& k, std::string fallback = {}) {
    if (!o || !o->has(k) || o->isNull(k)) return fallback;
    return o->get(k).isString() ? o->getValue<std::string>(k) : o->get(k).toString();
}
JsonObject objOf(const Poco::Dynamic::Var& v) {
    return v.type() == typeid(JsonObject) ? v.extract<JsonObject>() : nullptr;
}
JsonArray arrOf(const Poco::Dynamic::Var& v) {
    if (v.type() == typeid(JsonArray)) return v.extract<JsonArray>();
    if (auto o = objOf(v)) {
        for (auto k : {"data", "labels", "triggers", "agents"})
            if (o->has(k) && o->get(k).type() == typeid(JsonArray)) return o->getArray(k);
    }
    return makeArray();
}
void checkString(const JsonObject& b, const std::string& key, size_t max, bool required = false) {
    if (!b->has(key) || b->isNull(key)) {
        if (required) throw invalid(key, "is required");
        return;
    }
    if (!b->get(key).isString()) throw invalid(key, "must be a string");
    auto s = b->getValue<std::string>(key);
    if (required && s.empty()) throw invalid(key, "must not be empty");
    if (s.size() > max) throw invalid(key, "must be at most " + std::to_string(max) + " characters");
}
bool boolField(const JsonObject& b, const std::string& key, bool fallback) {
    if (!b->has(key) || b->isNull(key)) return fallback;
    if (!b->get(key).isBoolean()) throw invalid(key, "must be a boolean");
    return b->getValue<bool>(key);
}
bool isVersion(const std::string& v) {
    static const std::regex re("^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?$");
    return v.size() <= 64 && std::regex_match(v, re);
}
// Numeric comparison of the x.y.z part; a pre-release sorts before its release.
int compareVersions(const std::string& a, const std::string& b) {
    auto parts = [](const std::string& v) {
        std::vector<long> out;
        std::stringstream ss(v.substr(0, v.find_first_of("-+")));
        std::string p;
        while (std::getline(ss, p, '.')) out.push_back(std::atol(p.c_str()));
        out.resize(3);
        return out;
    };
    auto pa = parts(a), pb = parts(b);
    if (pa != pb) return pa < pb ? -1 : 1;
    bool preA = a.find('-') != std::string::npos, preB = b.find('-') != std::string::npos;
    if (preA != preB) return preA ? -1 : 1;
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}
std::string encode(const std::string& s) {
    std::string out;
    Poco::URI::encode(s, "/?#&=+ ", out);
    return out;
}

struct HttpAnswer {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
};
HttpAnswer httpRequest(const std::string& method, const std::string& url, const std::string& body,
                       const std::string& contentType, const std::string& token) {
    Poco::URI uri;
    try {
        uri = Poco::URI(url);
    } catch (const Poco::Exception&) {
        throw invalid("url", "is not a valid URL");
    }
    if (uri.getScheme() != "http" && uri.getScheme() != "https") throw invalid("url", "must be http or https");
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
        Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                                             Poco::Net::Context::VERIFY_RELAXED, 9, true);
        session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), ctx);
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest req(method, uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery(),
                               Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) req.set("Authorization", "Bearer " + token);
    if (!contentType.empty()) req.setContentType(contentType);
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    HttpAnswer a;
    try {
        session->sendRequest(req) << body;
        Poco::Net::HTTPResponse res;
        std::istream& in = session->receiveResponse(res);
        a.status = res.getStatus();
        char buf[64 * 1024];
        while (in.read(buf, sizeof buf) || in.gcount() > 0) {
            a.body.append(buf, static_cast<size_t>(in.gcount()));
            if (a.body.size() > Packages::limits().maxTotalBytes)
                throw DomainError(DomainError::Kind::TooLarge, "ARCHIVE_TOO_LARGE", "Download is too large");
        }
        for (auto& [k, v] : res) a.headers[Poco::toLower(k)] = v;
    } catch (const Poco::Exception& e) {
        throw unavailable("SOURCE_UNREACHABLE",
                          "Could not reach " + uri.getScheme() + "://" + uri.getAuthority() + ": " + e.displayText());
    }
    return a;
}

// Token values never leave the machine's module directory and are never returned.
fs::path tokensFile(const fs::path& moduleDir) { return moduleDir / "source-tokens.json"; }

JsonObject validateSource(const JsonObject& s, const std::string& f) {
    if (!s) throw invalid(f, "must be an object");
    std::string type = str(s, "type");
    JsonObject out = makeObject();
    out->set("type", type);
    auto copyStr = [&](const std::string& k, size_t max) {
        checkString(s, k, max);
        if (s->has(k) && !s->isNull(k)) out->set(k, s->getValue<std::string>(k));
    };
    copyStr("package_name", 100);
    if (type == "filesystem") {
        checkString(s, "path", 4096, true);
        if (!fs::path(str(s, "path")).is_absolute()) throw invalid(f + ".path", "must be an absolute path");
        copyStr("path", 4096);
    } else if (type == "github") {
        checkString(s, "repo", 500, true);
        gitUrlFor(str(s, "repo"));
        copyStr("repo", 500);
    } else if (type == "http") {
        checkString(s, "base_url", 2000, true);
        std::string u = str(s, "base_url");
        if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
            throw invalid(f + ".base_url", "must be an http(s) URL");
        copyStr("base_url", 2000);
    } else {
        throw invalid(f + ".type", "must be filesystem, github or http");
    }
    checkString(s, "token", 4096);
    return out;
}

std::string sourceKey(const JsonObject& s) {
    return str(s, "type") + "|" + str(s, "path") + str(s, "repo") + str(s, "base_url");
}

}  // namespace

ArchiveLimits& Packages::limits() {
    static ArchiveLimits l;
    return l;
}

std::vector<std::string> Packages::migrations() {
    return {
        "CREATE TABLE skills_plugins (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, version TEXT "
        "NOT NULL,"
        " directory TEXT NOT NULL, manifest TEXT NOT NULL, is_enabled INTEGER NOT NULL DEFAULT 1, source TEXT,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE(project_id, name))",
        "CREATE TABLE skills_plugin_items (plugin_id TEXT NOT NULL, kind TEXT NOT NULL, slug TEXT NOT NULL, ref_id "
        "TEXT NOT NULL,"
        " base TEXT, PRIMARY KEY (plugin_id, kind, slug))",
        "CREATE TABLE skills_plugin_files (id INTEGER PRIMARY KEY AUTOINCREMENT, plugin_id TEXT NOT NULL, path TEXT "
        "NOT NULL,"
        " content TEXT NOT NULL, content_hash TEXT NOT NULL, is_user_modified INTEGER NOT NULL DEFAULT 0,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE(plugin_id, path))",
    };
}

Packages::Project Packages::project(const std::string& id) const {
    if (id.empty() || id.size() > 200) throw invalid("project_id", "is required");
    auto v = callJson(host_, "GET", "/api/projects/" + encode(id));
    auto o = objOf(v);
    if (o && o->has("data") && objOf(o->get("data"))) o = o->getObject("data");
    if (!o) throw notFoundError("PROJECT_NOT_FOUND", "Project not found");
    Project p;
    p.id = str(o, "id", id);
    if (o->has("local_path") && !o->isNull("local_path")) p.localPath = str(o, "local_path");
    return p;
}

JsonObject Packages::rowJson(const Row& r) const {
    JsonObject o = makeObject();
    o->set("id", r.text("id"));
    o->set("project_id", r.text("project_id"));
    o->set("name", r.text("name"));
    o->set("version", r.text("version"));
    o->set("directory", r.text("directory"));
    o->set("manifest", parseObject(r.text("manifest")) ? Poco::Dynamic::Var(parseObject(r.text("manifest")))
                                                       : Poco::Dynamic::Var());
    o->set("is_enabled", r.integer("is_enabled") != 0);
    auto src = r.textOpt("source");
    o->set("source", src && parseObject(*src) ? Poco::Dynamic::Var(parseObject(*src)) : Poco::Dynamic::Var());
    o->set("created_at", r.text("created_at"));
    o->set("updated_at", r.text("updated_at"));
    return o;
}

Row Packages::pluginRow(const std::string& id) const {
    auto r = db_.one("SELECT * FROM skills_plugins WHERE id = ?", {id});
    if (!r) throw notFoundError("PLUGIN_NOT_FOUND", "Plugin not found");
    return *r;
}

JsonArray Packages::list(const std::string& projectId) const {
    auto rows = projectId.empty()
                    ? db_.query("SELECT * FROM skills_plugins ORDER BY name")
                    : db_.query("SELECT * FROM skills_plugins WHERE project_id = ? ORDER BY name", {projectId});
    JsonArray out = makeArray();
    for (auto& r : rows) out->add(rowJson(r));
    return out;
}

JsonObject Packages::get(const std::string& id) const { return rowJson(pluginRow(id)); }

// ------------------------------------------------------------------ export

JsonObject Packages::exportPackage(const JsonObject& b) {
    checkString(b, "package_name", 64, true);
    checkString(b, "project_id", 200, true);
    checkString(b, "description", 2000);
    checkString(b, "version", 64);
    checkString(b, "author", 100);
    std::string name = str(b, "package_name");
    if (!atelier::isKebabCase(name) || name.size() > 64) throw invalid("package_name", "must be kebab-case");
    std::string version = str(b, "version", "1.0.0");
    if (!isVersion(version)) throw invalid("version", "must be a semantic version (1.2.3)");
    bool overwrite = boolField(b, "overwrite", false);
    if (b->has("archive_format") && !b->isNull("archive_format") && str(b, "archive_format") != "tar.gz")
        throw invalid("archive_format", "must be tar.gz");
    Project p = project(str(b, "project_id"));
    if (p.localPath.empty())
        throw invalid("project_id", "the project has no local path to export into", "NO_LOCAL_PATH");

    // Agents: the listed ones, else the project's own (not global) agents.
    std::vector<JsonObject> agents;
    if (b->has("agent_ids") && !b->isNull("agent_ids")) {
        if (b->get("agent_ids").type() != typeid(JsonArray))
            throw invalid("agent_ids", "must be an array of agent ids");
        auto ids = b->getArray("agent_ids");
        for (size_t i = 0; i < ids->size(); ++i) {
            if (!ids->get(static_cast<unsigned>(i)).isString())
                throw invalid("agent_ids", "must be an array of agent ids");
            auto a = objOf(callJson(host_, "GET",
                                    "/api/agents/" + encode(ids->getElement<std::string>(static_cast<unsigned>(i)))));
            if (a) agents.push_back(a);
        }
    } else {
        for (int offset = 0;; offset += 100) {
            auto page = arrOf(
                callJson(host_, "GET",
                         "/api/agents?limit=100&offset=" + std::to_string(offset) + "&project_id=" + encode(p.id)));
            for (size_t i = 0; i < page->size(); ++i)
                if (auto a = page->getObject(static_cast<unsigned>(i)); a && str(a, "project_id") == p.id)
                    agents.push_back(a);
            if (page->size() < 100) break;
        }
    }
    auto labels = arrOf(callJson(host_, "GET", "/api/projects/" + encode(p.id) + "/labels"));
    std::map<std::string, std::string> labelNames;
    JsonArray labelList = makeArray();
    for (size_t i = 0; i < labels->size(); ++i) {
        auto l = labels->getObject(static_cast<unsigned>(i));
        labelNames[str(l, "id")] = str(l, "name");
        JsonObject e = makeObject();
        e->set("name", str(l, "name"));
        e->set("color", str(l, "color", "#808080"));
        e->set("description", l->has("description") ? l->get("description") : Poco::Dynamic::Var());
        labelList->add(e);
    }

    fs::path plugins = p.localPath / ".atelier" / "plugins";
    fs::path dir = plugins / name;
    std::error_code ec;
    // A files/ folder put there by hand is content for the package, not an earlier export.
    if (fs::exists(dir / ".kombuse-plugin" / "plugin.json", ec) && !overwrite)
        throw conflictError("PACKAGE_EXISTS", "Package \"" + name + "\" was already exported; pass overwrite");
    fs::path tmp = plugins / (".export-" + name + "-" + atelier::randomHex(8));
    size_t triggerCount = 0;
    try {
        fs::create_directories(tmp / "agents");
        for (auto& a : agents) {
            std::string agentId = str(a, "id");
            JsonArray triggers = makeArray();
            auto tr = host_.call("GET", "/api/agents/" + encode(agentId) + "/triggers");
            if (tr.status == 200) {
                auto list = arrOf(Poco::JSON::Parser().parse(tr.body));
                for (size_t i = 0; i < list->size(); ++i) {
                    auto t = list->getObject(static_cast<unsigned>(i));
                    JsonObject e = makeObject();
                    for (auto k : {"slug", "event_type", "project_id", "is_enabled", "priority"})
                        if (t->has(k)) e->set(k, t->get(k));
                    // Ids are meaningless in another project: labels travel by name, the agent as $SELF.
                    JsonObject cond = makeObject();
                    if (auto c = t->getObject("conditions")) {
                        for (const auto& k : c->getNames()) {
                            if (k == "label_id")
                                cond->set("label_name", labelNames[c->get(k).toString()]);
                            else if (c->get(k).isString() && c->getValue<std::string>(k) == agentId)
                                cond->set(k, "$SELF");
                            else
                                cond->set(k, c->get(k));
                        }
                    }
                    e->set("conditions", cond);
                    triggers->add(e);
                    ++triggerCount;
                }
            }
            JsonObject config = objOf(a->get("config")) ? a->getObject("config") : makeObject();
            Fields f{{"name", str(a, "name")},
                     {"slug", str(a, "slug")},
                     {"description", str(a, "description")},
                     {"type", config->has("type") ? config->get("type") : Poco::Dynamic::Var()},
                     {"model", a->get("model")},
                     {"backend_type", str(a, "cli_name", "claude-code")},
                     {"is_enabled", a->optValue<bool>("is_enabled", true)},
                     {"enabled_for_chat", config->optValue<bool>("enabled_for_chat", false)},
                     {"permissions", a->get("permissions")},
                     {"triggers", triggers},
                     {"config", config}};
            writeFileAtomic(tmp / "agents" / (str(a, "slug") + ".md"), renderFrontMatter(f, str(a, "system_prompt")));
        }
        if (fs::is_directory(dir / "files", ec)) copyTree(dir / "files", tmp / "files");
        JsonObject kombuse = makeObject();
        kombuse->set("plugin_system_version", kSystemVersion);
        kombuse->set("exported_at", atelier::nowIso());
        kombuse->set("labels", labelList);
        JsonObject pluginJson = makeObject();
        pluginJson->set("name", name);
        pluginJson->set("version", version);
        if (b->has("author")) pluginJson->set("author", str(b, "author"));
        if (b->has("description")) pluginJson->set("description", str(b, "description"));
        pluginJson->set("kombuse", kombuse);
        writeFileAtomic(tmp / ".kombuse-plugin" / "plugin.json", toJson(pluginJson));
        // Every other file's SHA-256 goes into the manifest; install verifies them.
        JsonObject checksums = makeObject();
        for (const auto& rel : listFiles(tmp)) checksums->set(rel, sha256Hex(readFile(tmp / rel)));
        JsonObject meta = makeObject();
        meta->set("plugin_system_version", kSystemVersion);
        meta->set("label_count", static_cast<int64_t>(labelList->size()));
        meta->set("agent_count", static_cast<int64_t>(agents.size()));
        meta->set("trigger_count", static_cast<int64_t>(triggerCount));
        meta->set("checksums", checksums);
        JsonObject manifest = makeObject();
        manifest->set("name", name);
        manifest->set("version", version);
        manifest->set("type", "plugin");
        if (b->has("author")) manifest->set("author", str(b, "author"));
        if (b->has("description")) manifest->set("description", str(b, "description"));
        manifest->set("metadata", meta);
        writeFileAtomic(tmp / "manifest.json", toJson(manifest));
        fs::remove_all(dir, ec);
        fs::rename(tmp, dir);
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
    fs::path archivePath = plugins / (name + "-" + version + ".tar.gz");
    fs::path archiveTmp = plugins / (".tmp-" + atelier::randomHex(8) + ".tar.gz");
    createTarGz(dir, archiveTmp);
    fs::rename(archiveTmp, archivePath);
    std::string bytes = readFile(archivePath, 1ull << 31);
    std::string checksum = sha256Hex(bytes);
    writeFileAtomic(fs::path(archivePath.string() + ".sha256"),
                    checksum + "  " + archivePath.filename().string() + "\n");
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("package_name", name);
    out->set("version", version);
    out->set("directory", dir.string());
    out->set("package_path", dir.string());
    out->set("archive_path", archivePath.string());
    out->set("checksum", checksum);
    out->set("size", static_cast<int64_t>(bytes.size()));
    out->set("agent_count", static_cast<int64_t>(agents.size()));
    out->set("label_count", static_cast<int64_t>(labelList->size()));
    out->set("trigger_count", static_cast<int64_t>(triggerCount));
    return out;
}

// ------------------------------------------------------------------ install

JsonObject Packages::install(const JsonObject& b) {
    checkString(b, "package_path", 4096, true);
    checkString(b, "project_id", 200, true);
    bool overwrite = boolField(b, "overwrite", false);
    fs::path pkg = str(b, "package_path");
    if (!pkg.is_absolute()) throw invalid("package_path", "must be an absolute path");
    Project p = project(str(b, "project_id"));
    JsonObject source = makeObject();
    source->set("type", "local");
    source->set("path", pkg.string());
    return installFrom(pkg, p, overwrite, source);
}

JsonObject Packages::installFrom(const fs::path& pkg, const Project& p, bool overwrite, const JsonObject& source) {
    std::lock_guard lock(mu_);
    std::error_code ec;
    fs::path staging = paths_.moduleDir / "staging" / atelier::randomHex(16);
    fs::create_directories(staging.parent_path());
    struct Cleanup {
        fs::path dir;
        ~Cleanup() {
            std::error_code e;
            if (!dir.empty()) fs::remove_all(dir, e);
        }
    } cleanup{staging};
    auto st = fs::symlink_status(pkg, ec);
    if (fs::is_regular_file(st)) {
        extractArchive(pkg, staging, limits());
    } else if (fs::is_directory(st)) {
        copyTree(pkg, staging, limits().maxTotalBytes);
    } else {
        throw invalid("package_path", "is not a package file or directory", "PACKAGE_NOT_FOUND");
    }
    fs::path root = staging;
    if (!fs::exists(root / ".kombuse-plugin" / "plugin.json", ec) &&
        fs::exists(root / "package" / ".kombuse-plugin" / "plugin.json", ec))
        root = staging / "package";

    // ---- parse and validate everything before the first write
    auto pluginJson = parseObject(readFileIfExists(root / ".kombuse-plugin" / "plugin.json", 1024 * 1024).value_or(""));
    if (!pluginJson) throw invalid("package_path", "has no valid .kombuse-plugin/plugin.json", "INVALID_PACKAGE");
    std::string name = str(pluginJson, "name"), version = str(pluginJson, "version");
    if (!atelier::isKebabCase(name) || name.size() > 64)
        throw invalid("name", "in plugin.json must be kebab-case", "INVALID_PACKAGE");
    if (!isVersion(version)) throw invalid("version", "in plugin.json must be a semantic version", "INVALID_PACKAGE");
    auto manifest = parseObject(readFileIfExists(root / "manifest.json", 1024 * 1024).value_or(""));
    if (manifest) {
        auto meta = manifest->getObject("metadata");
        auto sums = meta ? meta->getObject("checksums") : nullptr;
        if (sums) {
            for (const auto& rel : sums->getNames()) {
                fs::path f = root / rel;
                if (!isInside(root, f) || !fs::is_regular_file(fs::symlink_status(f, ec)))
                    throw invalid("package_path", "lists a missing file: " + rel.substr(0, 200), "CHECKSUM_MISMATCH");
                if (sha256Hex(readFile(f, limits().maxEntryBytes)) != sums->getValue<std::string>(rel))
                    throw invalid("package_path", "file does not match its checksum: " + rel.substr(0, 200),
                                  "CHECKSUM_MISMATCH");
            }
        }
    }
    struct AgentDef {
        std::string slug;
        FrontMatter fm;
    };
    std::vector<AgentDef> agentDefs;
    for (const auto& rel : listFiles(root / "agents")) {
        if (rel.find('/') != std::string::npos || rel.size() < 4 || rel.substr(rel.size() - 3) != ".md") continue;
        auto fm = parseFrontMatter(readFile(root / "agents" / rel, 1024 * 1024));
        std::string slug = fm.text("slug", rel.substr(0, rel.size() - 3));
        if (!atelier::isKebabCase(slug)) throw invalid("agents/" + rel, "has an invalid slug", "INVALID_PACKAGE");
        if (fm.text("name").empty()) throw invalid("agents/" + rel, "has no name", "INVALID_PACKAGE");
        agentDefs.push_back({slug, fm});
    }
    JsonArray labelDefs = makeArray();
    if (auto k = pluginJson->getObject("kombuse"); k && k->has("labels")) labelDefs = arrOf(k->get("labels"));
    std::map<std::string, std::string> files;
    for (const auto& rel : listFiles(root / "files"))
        files[rel] = readFile(root / "files" / rel, limits().maxEntryBytes);

    auto existing = db_.one("SELECT * FROM skills_plugins WHERE project_id = ? AND name = ?", {p.id, name});
    if (existing && !overwrite)
        throw conflictError("PLUGIN_ALREADY_INSTALLED",
                            "Plugin \"" + name + "\" is already installed in this project; pass overwrite");
    std::string pluginId = existing ? existing->text("id") : atelier::newUuid();

    // ---- apply; created resources are removed again if a later step fails
    int64_t agentsCreated = 0, agentsUpdated = 0, labelsCreated = 0, labelsMerged = 0, triggersCreated = 0,
            triggersUpdated = 0;
    int64_t filesImported = 0, filesPreserved = 0;
    JsonArray warnings = makeArray();
    std::vector<std::string> createdAgents;
    std::vector<std::string> createdLabels;
    std::vector<std::pair<std::string, std::string>> items;  // (kind|slug, ref)
    std::map<std::string, std::string> bases;                // kind|slug → the package's fields
    try {
        std::map<std::string, std::string> labelIds;  // name → id
        auto current = arrOf(callJson(host_, "GET", "/api/projects/" + encode(p.id) + "/labels"));
        for (size_t i = 0; i < current->size(); ++i) {
            auto l = current->getObject(static_cast<unsigned>(i));
            labelIds[str(l, "name")] = str(l, "id");
        }
        for (size_t i = 0; i < labelDefs->size(); ++i) {
            auto l = labelDefs->getObject(static_cast<unsigned>(i));
            if (!l || str(l, "name").empty()) continue;
            std::string lname = str(l, "name");
            if (labelIds.count(lname)) {
                ++labelsMerged;
            } else {
                JsonObject req = makeObject();
                req->set("name", lname);
                req->set("color", str(l, "color", "#808080"));
                if (l->has("description") && !l->isNull("description")) req->set("description", str(l, "description"));
                auto created = objOf(callJson(host_, "POST", "/api/projects/" + encode(p.id) + "/labels", req));
                labelIds[lname] = str(created, "id");
                createdLabels.push_back(labelIds[lname]);
                ++labelsCreated;
            }
            items.emplace_back("label|" + atelier::slugify(lname), labelIds[lname]);
        }
        std::map<std::string, std::string> ownAgents, oldBases;
        for (auto& r :
             db_.query("SELECT slug, ref_id, base FROM skills_plugin_items WHERE plugin_id = ? AND kind = 'agent'",
                       {pluginId})) {
            ownAgents[r.text("slug")] = r.text("ref_id");
            oldBases[r.text("slug")] = r.text("base");
        }
        bool triggersSupported = true;
        for (auto& def : agentDefs) {
            auto& fm = def.fm;
            JsonObject config =
                fm.find("config") && objOf(*fm.find("config")) ? objOf(*fm.find("config")) : makeObject();
            if (!fm.text("backend_type").empty()) config->set("backend_type", fm.text("backend_type"));
            if (!fm.text("type").empty()) config->set("type", fm.text("type"));
            if (fm.find("enabled_for_chat") && fm.find("enabled_for_chat")->isBoolean())
                config->set("enabled_for_chat", *fm.find("enabled_for_chat"));
            JsonObject req = makeObject();
            req->set("name", fm.text("name"));
            req->set("description", fm.text("description"));
            req->set("system_prompt", fm.body);
            req->set("config", config);
            if (fm.find("permissions") && fm.find("permissions")->type() == typeid(JsonArray))
                req->set("permissions", *fm.find("permissions"));
            if (fm.find("is_enabled") && fm.find("is_enabled")->isBoolean())
                req->set("is_enabled", *fm.find("is_enabled"));
            if (!fm.text("model").empty()) req->set("model", fm.text("model"));
            std::string agentId;
            bases["agent|" + def.slug] = toJson(req);  // what the package defines: the next base
            if (ownAgents.count(def.slug)) {
                agentId = ownAgents[def.slug];
                // Fields the user changed since the last install (current differs from the base
                // the plugin shipped) are kept; the others take the package's new values.
                auto base = parseObject(oldBases[def.slug]);
                auto current = objOf(callJson(host_, "GET", "/api/agents/" + encode(agentId)));
                if (base && current) {
                    // Both sides through the same parser, so key order and number forms match.
                    auto norm = [](const Poco::Dynamic::Var& v) {
                        JsonArray a = makeArray();
                        a->add(v);
                        return toJson(Poco::JSON::Parser().parse(toJson(a)));
                    };
                    for (const auto& key : base->getNames())
                        if (req->has(key) && current->has(key) && norm(base->get(key)) != norm(current->get(key)))
                            req->remove(key);
                }
                callJson(host_, "PATCH", "/api/agents/" + encode(agentId), req);
                ++agentsUpdated;
            } else {
                req->set("slug", def.slug);
                req->set("project_id", p.id);
                req->set("plugin_id", pluginId);
                req->set("source", "plugin:" + name);
                try {
                    agentId = str(objOf(callJson(host_, "POST", "/api/agents", req)), "id");
                } catch (const DomainError& e) {
                    if (e.kind != DomainError::Kind::Conflict) throw;
                    // Slugs are unique across the one agent store; the plugin keeps its own slug
                    // in its item table and the agent gets the store's next free one.
                    req->remove("slug");
                    agentId = str(objOf(callJson(host_, "POST", "/api/agents", req)), "id");
                    warnings->add("Agent slug \"" + def.slug + "\" is taken; installed under another slug");
                }
                createdAgents.push_back(agentId);
                ++agentsCreated;
            }
            items.emplace_back("agent|" + def.slug, agentId);
            auto triggers = fm.find("triggers") ? arrOf(*fm.find("triggers")) : makeArray();
            for (size_t i = 0; i < triggers->size() && triggersSupported; ++i) {
                auto t = triggers->getObject(static_cast<unsigned>(i));
                if (!t) continue;
                JsonObject req2 = makeObject();
                for (auto k : {"slug", "event_type", "is_enabled", "priority"})
                    if (t->has(k)) req2->set(k, t->get(k));
                req2->set("project_id", p.id);
                JsonObject cond = makeObject();
                if (auto c = t->getObject("conditions")) {
                    for (const auto& k : c->getNames()) {
                        if (k == "label_name") {
                            std::string ln = c->get(k).toString();
                            if (labelIds.count(ln)) cond->set("label_id", std::stoll(labelIds[ln]));
                        } else if (c->get(k).isString() && c->getValue<std::string>(k) == "$SELF") {
                            cond->set(k, agentId);
                        } else {
                            cond->set(k, c->get(k));
                        }
                    }
                }
                req2->set("conditions", cond);
                auto r = host_.call("POST", "/api/agents/" + encode(agentId) + "/triggers", toJson(req2));
                if (r.status == 404 && r.body.find("No route") != std::string::npos) {
                    triggersSupported = false;
                    warnings->add("Triggers were not installed: no loaded module serves agent triggers");
                } else if (r.status == 200 || r.status == 201) {
                    ++triggersCreated;
                } else {
                    warnings->add("Trigger " + str(t, "slug", str(t, "event_type")) + " was not installed (" +
                                  std::to_string(r.status) + ")");
                }
            }
        }
        if (existing) {
            // Overwrite: agents the new version no longer ships go away.
            for (auto& [slug, ref] : ownAgents) {
                bool kept = std::any_of(agentDefs.begin(), agentDefs.end(), [&](auto& d) { return d.slug == slug; });
                if (!kept) host_.call("DELETE", "/api/agents/" + encode(ref));
            }
        }
    } catch (...) {
        for (auto& id : createdAgents) host_.call("DELETE", "/api/agents/" + encode(id));
        for (auto& id : createdLabels) host_.call("DELETE", "/api/labels/" + encode(id));
        throw;
    }

    // ---- the package copy and this module's rows
    fs::path installDir = paths_.moduleDir / "plugins" / pluginId;
    fs::path oldDir = paths_.moduleDir / "plugins" / (pluginId + ".old-" + atelier::randomHex(6));
    fs::create_directories(installDir.parent_path());
    if (fs::exists(installDir, ec)) fs::rename(installDir, oldDir);
    fs::rename(root, installDir);
    fs::remove_all(oldDir, ec);
    std::string now = atelier::nowIso();
    db_.transaction([&](const Db& tx) {
        if (existing) {
            tx.exec(
                "UPDATE skills_plugins SET version = ?, directory = ?, manifest = ?, source = ?, updated_at = ? WHERE "
                "id = ?",
                {version, installDir.string(), toJson(pluginJson), toJson(source), now, pluginId});
        } else {
            tx.exec(
                "INSERT INTO skills_plugins (id, project_id, name, version, directory, manifest, is_enabled, source, "
                "created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,1,?,?,?)",
                {pluginId, p.id, name, version, installDir.string(), toJson(pluginJson), toJson(source), now, now});
        }
        tx.exec("DELETE FROM skills_plugin_items WHERE plugin_id = ?", {pluginId});
        for (auto& [key, ref] : items) {
            auto bar = key.find('|');
            tx.exec("DELETE FROM skills_plugin_items WHERE plugin_id = ? AND kind = ? AND slug = ?",
                    {pluginId, key.substr(0, bar), key.substr(bar + 1)});
            tx.exec("INSERT INTO skills_plugin_items (plugin_id, kind, slug, ref_id, base) VALUES (?,?,?,?,?)",
                    {pluginId, key.substr(0, bar), key.substr(bar + 1), ref,
                     bases.count(key) ? Param(bases[key]) : Param(nullptr)});
        }
        for (auto& [rel, content] : files) {
            auto row = tx.one("SELECT id, is_user_modified FROM skills_plugin_files WHERE plugin_id = ? AND path = ?",
                              {pluginId, rel});
            if (row && row->integer("is_user_modified")) {
                ++filesPreserved;
                continue;
            }
            if (row)
                tx.exec("UPDATE skills_plugin_files SET content = ?, content_hash = ?, updated_at = ? WHERE id = ?",
                        {content, sha256Hex(content), now, row->integer("id")});
            else
                tx.exec(
                    "INSERT INTO skills_plugin_files (plugin_id, path, content, content_hash, is_user_modified, "
                    "created_at, updated_at) VALUES (?,?,?,?,0,?,?)",
                    {pluginId, rel, content, sha256Hex(content), now, now});
            ++filesImported;
        }
    });
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("plugin", get(pluginId));
    out->set("agents_created", agentsCreated);
    out->set("agents_updated", agentsUpdated);
    out->set("labels_created", labelsCreated);
    out->set("labels_merged", labelsMerged);
    out->set("triggers_created", triggersCreated);
    out->set("triggers_updated", triggersUpdated);
    out->set("files_imported", filesImported);
    out->set("files_preserved", filesPreserved);
    out->set("warnings", warnings);
    return out;
}

// ------------------------------------------------------------------ sources and remote installs

JsonObject Packages::sources(const std::string& projectId) const {
    Project p = project(projectId);
    auto readList = [](const fs::path& f) {
        JsonArray out = makeArray();
        auto o = parseObject(readFileIfExists(f, 1024 * 1024).value_or(""));
        if (o && o->has("sources")) {
            auto a = arrOf(o->get("sources"));
            for (size_t i = 0; i < a->size(); ++i)
                if (auto s = a->getObject(static_cast<unsigned>(i))) {
                    s->remove("token");
                    out->add(s);
                }
        }
        return out;
    };
    auto tokens = parseObject(readFileIfExists(tokensFile(paths_.moduleDir)).value_or(""));
    auto markTokens = [&](JsonArray a) {
        for (size_t i = 0; i < a->size(); ++i) {
            auto s = a->getObject(static_cast<unsigned>(i));
            s->set("has_token", tokens && tokens->has(sourceKey(s)));
        }
        return a;
    };
    JsonObject out = makeObject();
    out->set("global_sources", markTokens(readList(paths_.dataDir / "plugin-sources.json")));
    out->set(
        "project_sources",
        markTokens(p.localPath.empty() ? makeArray() : readList(p.localPath / ".atelier" / "plugin-sources.json")));
    JsonArray defaults = makeArray();
    if (!p.localPath.empty()) {
        JsonObject s = makeObject();
        s->set("type", "filesystem");
        s->set("path", (p.localPath / ".atelier" / "plugins").string());
        defaults->add(s);
    }
    JsonObject g = makeObject();
    g->set("type", "filesystem");
    g->set("path", (paths_.dataDir / "plugins").string());
    defaults->add(g);
    if (!defaultRegistry_.empty()) {
        JsonObject r = makeObject();
        r->set("type", "http");
        r->set("base_url", defaultRegistry_);
        defaults->add(r);
    }
    out->set("default_sources", markTokens(defaults));
    return out;
}

JsonObject Packages::putSources(const JsonObject& b) {
    checkString(b, "project_id", 200, true);
    if (!b->has("sources") || b->get("sources").type() != typeid(JsonArray))
        throw invalid("sources", "must be an array");
    Project p = project(str(b, "project_id"));
    if (p.localPath.empty()) throw invalid("project_id", "the project has no local path", "NO_LOCAL_PATH");
    auto in = b->getArray("sources");
    if (in->size() > 50) throw invalid("sources", "must have at most 50 entries");
    JsonArray clean = makeArray();
    std::map<std::string, std::string> newTokens;
    for (size_t i = 0; i < in->size(); ++i) {
        auto s = in->getObject(static_cast<unsigned>(i));
        auto v = validateSource(s, "sources[" + std::to_string(i) + "]");
        if (s->has("token") && s->get("token").isString() && !s->getValue<std::string>("token").empty())
            newTokens[sourceKey(v)] = s->getValue<std::string>("token");
        clean->add(v);
    }
    JsonObject doc = makeObject();
    doc->set("sources", clean);
    try {
        writeFileAtomic(p.localPath / ".atelier" / "plugin-sources.json", toJson(doc) + "\n");
    } catch (const std::exception& e) {
        throw DomainError(DomainError::Kind::Forbidden, "FORBIDDEN",
                          std::string("Cannot write the project's plugin sources: ") + e.what());
    }
    if (!newTokens.empty()) {
        auto tokens = parseObject(readFileIfExists(tokensFile(paths_.moduleDir)).value_or(""));
        if (!tokens) tokens = makeObject();
        for (auto& [k, v] : newTokens) tokens->set(k, v);
        writeFileAtomic(tokensFile(paths_.moduleDir), toJson(tokens));
        ::chmod(tokensFile(paths_.moduleDir).c_str(), 0600);
    }
    return sources(p.id);
}

std::vector<JsonObject> Packages::allSources(const Project& p) const {
    auto s = sources(p.id);
    std::vector<JsonObject> out;
    for (auto k : {"project_sources", "global_sources", "default_sources"}) {
        auto a = s->getArray(k);
        for (size_t i = 0; i < a->size(); ++i) out.push_back(a->getObject(static_cast<unsigned>(i)));
    }
    return out;
}

std::optional<Packages::Located> Packages::locate(const JsonObject& source, const std::string& name,
                                                  const std::string& version) {
    std::string type = str(source, "type");
    std::error_code ec;
    auto inDir = [&](const fs::path& dir) -> std::optional<Located> {
        if (!fs::is_directory(dir, ec)) return std::nullopt;
        std::optional<Located> best;
        static const std::regex re("^([a-z0-9-]+?)-([0-9]+\\.[0-9]+\\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?)\\.tar\\.gz$");
        for (auto& e : fs::directory_iterator(dir, ec)) {
            std::smatch m;
            std::string fn = e.path().filename().string();
            if (!std::regex_match(fn, m, re) || m[1] != name || !fs::is_regular_file(e.symlink_status())) continue;
            if (!version.empty() && m[2] != version) continue;
            if (!best || compareVersions(best->version, m[2]) < 0) best = Located{e.path(), m[2], source};
        }
        if (!best && version.empty() && fs::is_regular_file(dir / (name + ".tar.gz"), ec))
            best = Located{dir / (name + ".tar.gz"), "", source};
        if (!best && fs::is_regular_file(dir / name / ".kombuse-plugin" / "plugin.json", ec)) {
            auto pj = parseObject(readFile(dir / name / ".kombuse-plugin" / "plugin.json", 1024 * 1024));
            std::string v = str(pj, "version");
            if (version.empty() || v == version) best = Located{dir / name, v, source};
        }
        return best;
    };
    if (type == "filesystem") return inDir(str(source, "path"));
    auto tokens = parseObject(readFileIfExists(tokensFile(paths_.moduleDir)).value_or(""));
    std::string token =
        tokens && tokens->has(sourceKey(source)) ? tokens->getValue<std::string>(sourceKey(source)) : "";
    if (type == "github") {
        std::string url = gitUrlFor(str(source, "repo"));
        fs::path checkout = paths_.moduleDir / "cache" / "git" / sha256Hex(url).substr(0, 24);
        gitCloneFresh(url, checkout);
        if (auto l = inDir(checkout)) return l;
        return inDir(checkout / "plugins");
    }
    if (type == "http") {
        std::string base = str(source, "base_url");
        while (!base.empty() && base.back() == '/') base.pop_back();
        std::string pkgName = str(source, "package_name", name);
        auto a = httpRequest(
            "GET", base + "/api/pkg/" + encode(pkgName) + (version.empty() ? "" : "?version=" + encode(version)), "",
            "", token);
        if (a.status == 404) return std::nullopt;
        if (a.status != 200)
            throw unavailable("SOURCE_ERROR", "Registry answered " + std::to_string(a.status) + " for " + pkgName);
        fs::path file =
            paths_.moduleDir / "cache" / "http" / (sha256Hex(base + "|" + pkgName).substr(0, 24) + ".tar.gz");
        writeFileAtomic(file, a.body);
        std::string v = a.headers.count("x-package-version") ? a.headers["x-package-version"] : version;
        return Located{file, v, source};
    }
    return std::nullopt;
}

std::optional<Packages::Located> Packages::locateAnywhere(const Project& p, const std::string& name,
                                                          const std::string& version) {
    std::optional<DomainError> lastError;
    for (auto& s : allSources(p)) {
        try {
            if (auto l = locate(s, name, version)) return l;
        } catch (const DomainError& e) {
            if (e.kind != DomainError::Kind::Unavailable) throw;
            lastError = e;
        }
    }
    if (lastError) throw *lastError;
    return std::nullopt;
}

JsonObject Packages::installRemote(const JsonObject& b) {
    checkString(b, "name", 64, true);
    checkString(b, "project_id", 200, true);
    checkString(b, "version", 64);
    std::string name = str(b, "name"), version = str(b, "version");
    if (!atelier::isKebabCase(name)) throw invalid("name", "must be kebab-case");
    if (!version.empty() && !isVersion(version)) throw invalid("version", "must be a semantic version");
    Project p = project(str(b, "project_id"));
    auto found = locateAnywhere(p, name, version);
    if (!found)
        throw notFoundError("PACKAGE_NOT_FOUND",
                            "No source has package \"" + name + "\"" + (version.empty() ? "" : " " + version));
    JsonObject source = makeObject();
    for (const auto& k : found->source->getNames())
        if (k != "has_token") source->set(k, found->source->get(k));
    source->set("name", name);
    return installFrom(found->path, p, boolField(b, "overwrite", false), source);
}

JsonObject Packages::pull(const std::string& id) {
    auto row = pluginRow(id);
    Project p = project(row.text("project_id"));
    auto source = parseObject(row.text("source"));
    if (!source || str(source, "type") == "local") {
        if (source && fs::exists(str(source, "path"))) return installFrom(str(source, "path"), p, true, source);
        throw conflictError("NO_REMOTE_SOURCE", "The plugin was not installed from a remote source");
    }
    auto found = locate(source, row.text("name"), "");
    if (!found) throw notFoundError("PACKAGE_NOT_FOUND", "The plugin's source no longer has it");
    return installFrom(found->path, p, true, source);
}

JsonObject Packages::checkUpdates(const std::string& id) {
    auto row = pluginRow(id);
    auto source = parseObject(row.text("source"));
    std::string latest;
    if (source && str(source, "type") != "local") {
        if (auto found = locate(source, row.text("name"), "")) {
            latest = found->version;
            if (latest.empty() && fs::is_regular_file(found->path)) {
                // An unversioned download: read the version from its plugin.json.
                fs::path tmp = paths_.moduleDir / "staging" / ("check-" + atelier::randomHex(8));
                extractArchive(found->path, tmp, limits());
                auto pj = parseObject(readFileIfExists(tmp / ".kombuse-plugin" / "plugin.json").value_or(""));
                latest = str(pj, "version");
                std::error_code ec;
                fs::remove_all(tmp, ec);
            }
        }
    }
    JsonObject out = makeObject();
    out->set("plugin_id", id);
    out->set("current_version", row.text("version"));
    out->set("latest_version", latest.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(latest));
    out->set("has_update", !latest.empty() && compareVersions(row.text("version"), latest) < 0);
    return out;
}

JsonObject Packages::publish(const JsonObject& b) {
    checkString(b, "author", 100, true);
    checkString(b, "registry_url", 2000, true);
    checkString(b, "token", 4096, true);
    checkString(b, "channel", 50);
    std::string author = str(b, "author");
    if (!atelier::isKebabCase(author) && !isSafeName(author))
        throw invalid("author", "must be lowercase letters, digits and '-'");
    std::string registry = str(b, "registry_url");
    if (registry.rfind("http://", 0) != 0 && registry.rfind("https://", 0) != 0)
        throw invalid("registry_url", "must be an http(s) URL");
    JsonObject exportBody = makeObject();
    for (auto k : {"package_name", "project_id", "agent_ids", "description", "version", "author"})
        if (b->has(k)) exportBody->set(k, b->get(k));
    exportBody->set("overwrite", true);
    auto exported = exportPackage(exportBody);
    std::string bytes = readFile(exported->getValue<std::string>("archive_path"), 1ull << 31);
    while (registry.back() == '/') registry.pop_back();
    std::string url =
        registry + "/api/pkg/" + encode(author) + "/" + encode(exported->getValue<std::string>("package_name"));
    if (b->has("channel") && !str(b, "channel").empty()) url += "?channel=" + encode(str(b, "channel"));
    auto a = httpRequest("POST", url, bytes, "application/gzip", str(b, "token"));
    if (a.status == 401 || a.status == 403)
        throw DomainError(DomainError::Kind::Forbidden, "REGISTRY_UNAUTHORIZED", "The registry refused the token");
    if (a.status == 409) throw conflictError("VERSION_EXISTS", "The registry already has this version");
    if (a.status < 200 || a.status >= 300)
        throw unavailable("REGISTRY_ERROR", "The registry answered " + std::to_string(a.status));
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("package_name", exported->get("package_name"));
    out->set("version", exported->get("version"));
    out->set("author", author);
    out->set("registry_url", registry);
    out->set("checksum", exported->get("checksum"));
    out->set("size", exported->get("size"));
    return out;
}

JsonArray Packages::available(const std::string& projectId) {
    Project p = project(projectId);
    std::set<std::string> installed;
    for (auto& r : db_.query("SELECT name FROM skills_plugins WHERE project_id = ?", {p.id}))
        installed.insert(r.text("name"));
    std::map<std::string, JsonObject> found;
    static const std::regex re("^([a-z0-9-]+?)-([0-9]+\\.[0-9]+\\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?)\\.tar\\.gz$");
    for (auto& s : allSources(p)) {
        if (str(s, "type") != "filesystem") continue;
        std::error_code ec;
        fs::path dir = str(s, "path");
        if (!fs::is_directory(dir, ec)) continue;
        for (auto& e : fs::directory_iterator(dir, ec)) {
            std::smatch m;
            std::string fn = e.path().filename().string();
            if (!std::regex_match(fn, m, re) || installed.count(m[1])) continue;
            auto it = found.find(m[1]);
            if (it != found.end() && compareVersions(it->second->getValue<std::string>("version"), m[2]) >= 0) continue;
            JsonObject o = makeObject();
            o->set("name", std::string(m[1]));
            o->set("version", std::string(m[2]));
            o->set("source", s);
            o->set("package_path", e.path().string());
            found[m[1]] = o;
        }
    }
    JsonArray out = makeArray();
    for (auto& [n, o] : found) out->add(o);
    return out;
}

// ------------------------------------------------------------------ lifecycle and files

JsonObject Packages::setEnabled(const std::string& id, const JsonObject& b) {
    auto row = pluginRow(id);
    bool enabled = boolField(b, "is_enabled", row.integer("is_enabled") != 0);
    // Disabling a plugin cascades to what it brought.
    JsonObject patch = makeObject();
    patch->set("is_enabled", enabled);
    for (auto& r : db_.query("SELECT kind, ref_id FROM skills_plugin_items WHERE plugin_id = ?", {id})) {
        std::string path = r.text("kind") == "agent" ? "/api/agents/" + encode(r.text("ref_id"))
                                                     : "/api/labels/" + encode(r.text("ref_id"));
        auto res = host_.call("PATCH", path, toJson(patch));
        if (res.status >= 300 && res.status != 404) throw unavailable("CASCADE_FAILED", "Could not update " + path);
    }
    db_.exec("UPDATE skills_plugins SET is_enabled = ?, updated_at = ? WHERE id = ?", {enabled, atelier::nowIso(), id});
    return get(id);
}

void Packages::uninstall(const std::string& id, const std::string& mode) {
    if (mode != "orphan" && mode != "delete") throw invalid("mode", "must be orphan or delete");
    auto row = pluginRow(id);
    if (mode == "delete") {
        // Agents go; labels stay (orphaned) because tickets may carry them.
        for (auto& r :
             db_.query("SELECT ref_id FROM skills_plugin_items WHERE plugin_id = ? AND kind = 'agent'", {id})) {
            auto res = host_.call("DELETE", "/api/agents/" + encode(r.text("ref_id")));
            if (res.status >= 300 && res.status != 404)
                throw unavailable("CASCADE_FAILED", "Could not delete agent " + r.text("ref_id"));
        }
    }
    db_.transaction([&](const Db& tx) {
        tx.exec("DELETE FROM skills_plugin_files WHERE plugin_id = ?", {id});
        tx.exec("DELETE FROM skills_plugin_items WHERE plugin_id = ?", {id});
        tx.exec("DELETE FROM skills_plugins WHERE id = ?", {id});
    });
    std::error_code ec;
    fs::path dir = row.text("directory");
    if (isInside(paths_.moduleDir / "plugins", dir)) fs::remove_all(dir, ec);
}

JsonArray Packages::files(const std::string& pluginId) const {
    pluginRow(pluginId);
    JsonArray out = makeArray();
    for (auto& r : db_.query("SELECT id, plugin_id, path, content_hash, is_user_modified, created_at, updated_at, "
                             "length(content) AS size"
                             " FROM skills_plugin_files WHERE plugin_id = ? ORDER BY path",
                             {pluginId})) {
        JsonObject o = makeObject();
        o->set("id", r.integer("id"));
        o->set("plugin_id", r.text("plugin_id"));
        o->set("path", r.text("path"));
        o->set("content_hash", r.text("content_hash"));
        o->set("is_user_modified", r.integer("is_user_modified") != 0);
        o->set("size", r.integer("size"));
        o->set("created_at", r.text("created_at"));
        o->set("updated_at", r.text("updated_at"));
        out->add(o);
    }
    return out;
}

JsonObject Packages::file(const std::string& pluginId, const std::string& fileId) const {
    pluginRow(pluginId);
    auto r =
        db_.one("SELECT * FROM skills_plugin_files WHERE plugin_id = ? AND CAST(id AS TEXT) = ?", {pluginId, fileId});
    if (!r) throw notFoundError("FILE_NOT_FOUND", "Plugin file not found");
    JsonObject o = makeObject();
    o->set("id", r->integer("id"));
    o->set("plugin_id", r->text("plugin_id"));
    o->set("path", r->text("path"));
    o->set("content", r->text("content"));
    o->set("content_hash", r->text("content_hash"));
    o->set("is_user_modified", r->integer("is_user_modified") != 0);
    o->set("created_at", r->text("created_at"));
    o->set("updated_at", r->text("updated_at"));
    return o;
}

JsonObject Packages::updateFile(const std::string& pluginId, const std::string& fileId, const JsonObject& b) {
    checkString(b, "content", limits().maxEntryBytes);
    if (!b->has("content") || b->isNull("content")) throw invalid("content", "is required");
    file(pluginId, fileId);
    std::string content = b->getValue<std::string>("content");
    db_.exec(
        "UPDATE skills_plugin_files SET content = ?, content_hash = ?, is_user_modified = 1, updated_at = ? WHERE "
        "plugin_id = ? AND CAST(id AS TEXT) = ?",
        {content, sha256Hex(content), atelier::nowIso(), pluginId, fileId});
    return file(pluginId, fileId);
}

}  // namespace atelier::skills
