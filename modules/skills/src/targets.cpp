#include "targets.hpp"

#include <algorithm>

#include "domain_error.hpp"

namespace atelier::skills {

const std::vector<std::string>& agentNames() {
    static const std::vector<std::string> names{"claude", "cursor", "gemini", "vscode", "codex"};
    return names;
}
const std::vector<std::string>& scopeNames() {
    static const std::vector<std::string> names{"global", "project"};
    return names;
}

Target parseTarget(const std::string& agent, const std::string& scope) {
    auto& a = agentNames();
    if (std::find(a.begin(), a.end(), agent) == a.end())
        throw invalid("agent", "must be one of claude, cursor, gemini, vscode, codex");
    if (scope != "global" && scope != "project") throw invalid("scope", "must be global or project");
    return {agent, scope};
}

fs::path targetDir(const Target& t, const std::string& kind, const fs::path& projectRoot) {
    if (t.scope == "global") return homeDir() / ("." + t.agent) / kind;
    if (projectRoot.empty())
        throw invalid("scope", "project scope needs an active project with a local path", "NO_PROJECT");
    return projectRoot / ("." + t.agent) / kind;
}

}  // namespace atelier::skills
