// The coding-agent CLIs: how each is found, probed, installed and launched for a run (argv,
// per-run settings/hooks files wired to the run's hook endpoint, per-run CODEX_HOME).
#pragma once

#include "json_util.hpp"
#include "process.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace agents {

struct CliSpec {
    std::string backend;      // claude-code | codex | gemini | opencode
    std::string openkitName;  // claude | codex | gemini | opencode
    std::string label;
    std::string command;
    std::string npmPackage;
    std::string brewPackage;
};

const std::vector<CliSpec>& cliSpecs();
const CliSpec* cliForBackend(const std::string& backend);
const CliSpec* cliForOpenkitName(const std::string& name);

// PATH first, then the PATH of the user's login shell (probed in the background).
std::string locateCli(const std::string& command);
// The PATH of the user's login shell: `$SHELL -lc` is slow (profiles), so it is probed on a
// background thread (module start and backend-status refresh); empty until known.
std::string loginShellPath();
void startLoginShellProbe();
void stopLoginShellProbe();

struct LaunchInput {
    std::string runId;
    std::string backend;
    std::string prompt;        // the task, or the continuation message
    std::string model;
    std::string instructions;  // system prompt + instructions
    std::string allowedTools;
    int64_t maxTurns = 100;
    std::string resumeSessionId;
    std::string cwd;                    // first worktree
    std::vector<std::string> extraDirs; // other worktrees
    std::string runDir;                 // per-run state directory (settings, logs)
    std::string hookUrl;                // http://127.0.0.1:<port>/api/runs/<id>/hook
    std::string executable;             // resolved CLI path
};

struct LaunchPlan {
    SpawnSpec spec;
    std::vector<std::string> initialStdin;  // lines written right after spawn
    bool closeStdinAfterInit = true;
};

// Writes the per-run files and returns the argv/env. Throws std::runtime_error on I/O errors.
LaunchPlan buildLaunch(const LaunchInput& in);
// The hook forwarder script: POSTs stdin to the hook URL and prints the reply.
std::string writeHookForwarder(const std::string& runDir, const std::string& hookUrl);
// Claude Code settings JSON that wires every hook event to the forwarder.
JsonObject claudeHookSettings(const std::string& forwarder);
// Copies the user's ~/.codex essentials into a per-run CODEX_HOME, trusts the worktree and
// adds Atelier's MCP server (`mcpUrl`, empty for none).
void seedCodexHome(const std::string& codexHome, const std::string& userHome, const std::string& trustedDir,
                   const std::string& forwarder, const std::string& mcpUrl = {});

class BackendStatusCache {
public:
    JsonArray get(bool refresh);
private:
    std::mutex mutex_;
    JsonArray cached_;
    std::string checkedAt_;
};

JsonObject modelsCatalog(const JsonObject& moduleConfig);
std::string defaultModelFor(const std::string& backend, const JsonObject& moduleConfig);

// OpenKit's CLI status object; `installed` from PATH / login shell.
JsonObject cliStatus(const CliSpec& spec);
// Installs through npm (preferred) or Homebrew. Throws DomainError (Invalid) naming what is missing.
JsonObject cliInstall(const CliSpec& spec);

}  // namespace agents
