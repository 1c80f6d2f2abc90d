// `POST /api/projects/:id/init`: writes the agent setup files into a project's local_path
// (.mcp.json, AGENTS.md, .atelier/, .gitignore entries). Every target is planned and checked
// first (inside the project directory, existing files readable and well-formed), then each
// file is written atomically, so a refused init writes nothing. Knows nothing of HTTP.
#pragma once

#include <string>
#include <vector>

#include "project_store.hpp"

namespace projects {

struct InitOptions {
    bool skipMcpJson = false;
    bool skipAgentsMd = false;
    bool skipAtelierDir = false;  // alias of Kombuse's skipKombuseDir
    bool skipGitignore = false;
};

struct InitSettings {
    std::string dataDir;  // the host data directory (holds `server-port`)
    std::string mcpUrl;   // overrides the MCP endpoint written to .mcp.json
};

struct InitStep {
    std::string step;    // mcpJson | agentsMd | atelierDir | gitignore
    std::string path;    // relative to local_path
    std::string action;  // created | updated | unchanged | skipped
};

struct InitReport {
    std::string root;
    std::vector<InitStep> steps;
};

// The MCP endpoint of this server: settings.mcpUrl, else from <dataDir>/server-port.
std::string mcpEndpoint(const InitSettings& settings);

InitReport initProject(const Project& project, const InitOptions& options, const InitSettings& settings);

}  // namespace projects
