// Kombuse agent packages: export a project's agents, labels, triggers and files as a .tar.gz
// with a manifest and per-file checksums; install from a local package, a filesystem, git or
// HTTP source; publish to a registry; enable/disable, uninstall; plugin files; plugin sources.
// Agents and labels stay in their own modules (reached through their routes); this keeps the
// plugin rows, which items a plugin owns, and the plugin files. Knows nothing of HTTP.
#pragma once

#include <atelier/sdk.hpp>
#include <mutex>

#include "archive.hpp"

namespace atelier::skills {

struct PackagePaths {
    fs::path dataDir;    // host data directory
    fs::path moduleDir;  // <data>/modules/skills: staging, installed package copies, caches
};

class Packages {
public:
    Packages(Db db, Host host, PackagePaths paths, std::string defaultRegistry)
        : db_(db), host_(std::move(host)), paths_(std::move(paths)), defaultRegistry_(std::move(defaultRegistry)) {}

    static std::vector<std::string> migrations();

    JsonArray list(const std::string& projectId) const;
    JsonObject get(const std::string& id) const;
    JsonArray available(const std::string& projectId);
    JsonObject exportPackage(const JsonObject& body);
    JsonObject install(const JsonObject& body);  // {package_path, project_id, overwrite?}
    JsonObject installRemote(const JsonObject& body);
    JsonObject pull(const std::string& id);
    JsonObject checkUpdates(const std::string& id);
    JsonObject publish(const JsonObject& body);
    JsonObject setEnabled(const std::string& id, const JsonObject& body);
    void uninstall(const std::string& id, const std::string& mode);

    JsonArray files(const std::string& pluginId) const;
    JsonObject file(const std::string& pluginId, const std::string& fileId) const;
    JsonObject updateFile(const std::string& pluginId, const std::string& fileId, const JsonObject& body);

    JsonObject sources(const std::string& projectId) const;
    JsonObject putSources(const JsonObject& body);

    static ArchiveLimits& limits();  // tests lower these

private:
    struct Project {
        std::string id;
        fs::path localPath;
    };
    struct Located {
        fs::path path;  // archive or package directory
        std::string version;
        JsonObject source;
    };
    Project project(const std::string& id) const;
    JsonObject rowJson(const Row& r) const;
    Row pluginRow(const std::string& id) const;
    JsonObject installFrom(const fs::path& packagePath, const Project& p, bool overwrite, const JsonObject& source);
    std::vector<JsonObject> allSources(const Project& p) const;
    std::optional<Located> locate(const JsonObject& source, const std::string& name, const std::string& version);
    std::optional<Located> locateAnywhere(const Project& p, const std::string& name, const std::string& version);

    Db db_;
    Host host_;
    PackagePaths paths_;
    std::string defaultRegistry_;
    std::mutex mu_;  // one install at a time: staging and cross-module writes must not interleave
};

}  // namespace atelier::skills
