#include "agent_rules.hpp"

#include "project_config.hpp"

namespace atelier::config {

std::optional<std::string> agentRuleFileName(const std::string& fileId) {
    if (fileId == "claude-md") return "CLAUDE.md";
    if (fileId == "agents-md") return "AGENTS.md";
    return std::nullopt;
}

AgentRule readAgentRule(const std::filesystem::path& root, const std::string& fileName) {
    AgentRule r;
    auto p = root / fileName;
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) {
        r.exists = true;
        r.content = readTextFile(p);
    }
    return r;
}

void writeAgentRule(const std::filesystem::path& root, const std::string& fileName, const std::string& content) {
    writeTextFile(root / fileName, content);
}

bool deleteAgentRule(const std::filesystem::path& root, const std::string& fileName) {
    std::error_code ec;
    return std::filesystem::remove(root / fileName, ec);
}

}  // namespace atelier::config
