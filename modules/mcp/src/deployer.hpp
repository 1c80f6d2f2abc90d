// Deploys registry servers into each agent CLI's own configuration file and format:
// Claude Code, Gemini CLI, Cursor and VS Code (JSON with comments), Codex (TOML). Every
// edit is a read-modify-write under the file's lock, spliced so unrelated bytes survive.
#pragma once

#include <atelier/sdk.hpp>
#include <optional>
#include <string>
#include <vector>

namespace atelier::mcp {

struct DeployTarget {
    std::string tool;  // claude | gemini | codex | cursor | vscode
    bool toml = false;
    std::vector<std::string> containerPath;  // JSON: where the servers map lives
    std::string globalRelative;              // under $HOME (codex: under CODEX_HOME)
    std::string projectRelative;             // under the project root
};

class Deployer {
public:
    Deployer(std::string home, std::string codexHome) : home_(std::move(home)), codexHome_(std::move(codexHome)) {}

    static const std::vector<DeployTarget>& targets();
    static const DeployTarget& target(const std::string& tool);  // 400 UNKNOWN_TOOL

    // 400 for an unknown scope or a project scope without a project root.
    std::string configPath(const std::string& tool, const std::string& scope, const std::string& projectRoot) const;

    // The entry written for `server` (a registry definition with env already merged).
    static JsonObject entryFor(const std::string& tool, const JsonObject& server);

    // Throw HttpError 422 CONFIG_INVALID when the file is not valid JSON/TOML (left untouched).
    void deploy(const std::string& path, const std::string& tool, const std::string& id, const JsonObject& entry) const;
    bool undeploy(const std::string& path, const std::string& tool, const std::string& id) const;
    // Tolerant: an unreadable or invalid file counts as "not deployed".
    bool isDeployed(const std::string& path, const std::string& tool, const std::string& id) const;
    std::optional<JsonObject> deployedEntry(const std::string& path, const std::string& tool,
                                            const std::string& id) const;

    // The servers defined in one config file, by key; null when the file is not a config.
    static JsonObject serversIn(const std::string& path);

    // Walks `root` to `maxDepth` for agent config files and gathers their servers.
    JsonArray scan(const std::string& root, int maxDepth) const;

    const std::string& home() const { return home_; }

private:
    std::string home_, codexHome_;
};

}  // namespace atelier::mcp
