// Where each agent CLI keeps skills and agent definitions (OpenKit's SKILL_AGENT_SPECS and
// CUSTOM_AGENT_SPECS): ~/.<cli>/{skills,agents} globally, <project>/.<cli>/{skills,agents}.
#pragma once

#include <string>
#include <vector>

#include "fs_util.hpp"

namespace atelier::skills {

const std::vector<std::string>& agentNames();  // claude, cursor, gemini, vscode, codex
const std::vector<std::string>& scopeNames();  // global, project

struct Target {
    std::string agent;
    std::string scope;
};
// Validates `agent` and `scope` (field names for errors are "agent" and "scope").
Target parseTarget(const std::string& agent, const std::string& scope);

// `kind` is "skills" or "agents". Project scope needs a project root (else NO_PROJECT).
fs::path targetDir(const Target& t, const std::string& kind, const fs::path& projectRoot);

}  // namespace atelier::skills
