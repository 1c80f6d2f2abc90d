// Project-level agent instruction files: claude-md → CLAUDE.md, agents-md → AGENTS.md.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace atelier::config {

// The file name for a fileId, or nullopt for an unknown id.
std::optional<std::string> agentRuleFileName(const std::string& fileId);

struct AgentRule {
    bool exists = false;
    std::string content;
};
AgentRule readAgentRule(const std::filesystem::path& root, const std::string& fileName);
void writeAgentRule(const std::filesystem::path& root, const std::string& fileName, const std::string& content);
bool deleteAgentRule(const std::filesystem::path& root, const std::string& fileName);

}  // namespace atelier::config
