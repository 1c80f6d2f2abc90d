// Agent definitions: one resource carrying Kombuse's fields (slug, system_prompt, permissions,
// config, is_enabled, resolved_preset) and Abbado's (cli_name, model, instructions,
// allowed_tools, max_turns, provider_config, role). Storage in agents_definitions.
#pragma once

#include "json_util.hpp"

#include <optional>
#include <string>
#include <vector>

namespace agents {

inline const std::vector<std::string>& backendNames() {
    static const std::vector<std::string> names{"claude-code", "codex", "gemini", "opencode", "mock"};
    return names;
}
bool isBackendName(const std::string& s);

struct AgentFilter {
    std::optional<bool> isEnabled;
    std::optional<bool> enabledForChat;
    std::optional<std::string> projectId;  // also includes global agents (no project)
    std::optional<std::string> cliName;
    std::optional<std::string> role;
    bool projectOnly = false;  // Abbado's /api/projects/:id/agents: exactly that project
    int64_t limit = 100;
    int64_t offset = 0;
};

class AgentStore {
public:
    AgentStore(atelier::Db db, atelier::Host host) : db_(db), host_(host) {}

    static std::vector<std::string> migrations();
    // Steps added after the module's other tables; run after every other list.
    static std::vector<std::string> laterMigrations();

    JsonObject create(const JsonObject& body);
    JsonObject update(const std::string& id, const JsonObject& body);
    void remove(const std::string& id);
    std::optional<JsonObject> get(const std::string& id) const;
    std::optional<JsonObject> bySlug(const std::string& slug, const std::optional<std::string>& pluginId) const;
    JsonArray list(const AgentFilter& f) const;
    JsonObject resetToPluginDefaults(const std::string& id);
    // Writes <slug>.md (front matter + system prompt) for each agent into `directory`.
    JsonObject exportTo(const std::string& directory, const std::vector<std::string>& ids,
                        const std::vector<std::string>& allowedRoots) const;

    // Exposed for tests.
    static JsonObject resolvedPreset(const JsonObject& agent);
    static std::string toMarkdown(const JsonObject& agent);

private:
    JsonObject rowToJson(const atelier::Row& r) const;
    void validateFields(const JsonObject& body, bool creating) const;
    void checkProject(const std::string& projectId) const;
    std::string uniqueSlug(const std::string& base) const;

    atelier::Db db_;
    atelier::Host host_;
};

}  // namespace agents
