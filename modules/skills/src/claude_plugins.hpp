// Claude Code plugins and marketplaces, read from and written to Claude Code's own files:
// ~/.claude/plugins/{installed_plugins.json,known_marketplaces.json,cache/,marketplaces/} and
// enabledPlugins in the user/project/local settings.json. Git marketplaces and plugin sources
// are fetched with libgit2. Plugin agents can be copied into the other CLIs. No HTTP here.
#pragma once

#include <atelier/sdk.hpp>
#include <mutex>

#include "targets.hpp"

namespace atelier::skills {

class ClaudePlugins {
public:
    JsonObject list(const fs::path& projectRoot) const;
    JsonObject debug() const;
    JsonObject available() const;
    JsonObject detail(const std::string& id, const fs::path& projectRoot) const;
    void install(const JsonObject& body, const fs::path& projectRoot);
    void uninstall(const std::string& id, const JsonObject& body, const fs::path& projectRoot);
    void setEnabled(const std::string& id, const JsonObject& body, bool enabled, const fs::path& projectRoot);
    void update(const std::string& id, const fs::path& projectRoot);

    JsonObject marketplaces() const;
    void addMarketplace(const JsonObject& body);
    void removeMarketplace(const std::string& name);
    void updateMarketplace(const std::string& name);

    JsonObject agents(const fs::path& projectRoot) const;
    JsonObject agent(const std::string& id, const fs::path& projectRoot) const;
    void deployAgent(const JsonObject& body, bool deploy, const fs::path& projectRoot);

    static bool cliAvailable();

private:
    struct Installed {
        std::string id, name, marketplace, scope, version, installPath, projectPath;
    };
    std::vector<Installed> installed() const;
    std::optional<Installed> find(const std::string& id) const;
    bool enabled(const std::string& id, const std::string& scope, const fs::path& projectRoot) const;
    void writeEnabled(const std::string& id, const std::string& scope, std::optional<bool> value,
                      const fs::path& projectRoot);
    JsonObject marketplaceEntry(const std::string& plugin, const std::string& marketplace, fs::path& root) const;
    Installed copyIn(const std::string& name, const std::string& marketplace, const std::string& scope,
                     const fs::path& projectRoot);
    JsonObject summary(const Installed& p, const fs::path& projectRoot) const;

    mutable std::mutex mu_;
};

}  // namespace atelier::skills
