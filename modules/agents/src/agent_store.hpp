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

// An agent definition as a create or an update gives it. Text fields are set when given; a
// `…Given` flag marks a field an update names with null (which clears it).
struct AgentFields {
    std::optional<std::string> id, slug, name, description, systemPrompt, instructions, allowedTools, role, cliName,
        pluginId, source;
    std::optional<std::string> model, projectId;
    bool modelGiven = false, projectIdGiven = false;
    std::optional<int64_t> maxTurns;
    std::optional<bool> isEnabled;
    JsonArray permissions;      // null when not given
    JsonObject config;          // null when not given
    JsonObject providerConfig;  // null when not given
};
// Decodes and validates a definition (a request body): types, UUID id, kebab-case slug, the
// known backends, the permission and config documents. `creating` requires the name and
// refuses nothing else; an update refuses an id and null for a text field.
AgentFields parseAgentFields(const JsonObject& body, bool creating);

class AgentStore {
public:
    AgentStore(atelier::Db db, atelier::Host host) : db_(db), host_(host) {}

    static std::vector<std::string> migrations();
    // Steps added after the module's other tables; run after every other list.
    static std::vector<std::string> laterMigrations();

    JsonObject create(const AgentFields& f);
    JsonObject update(const std::string& id, const AgentFields& f);
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
    void checkProject(const std::string& projectId) const;
    std::string uniqueSlug(const std::string& base) const;

    atelier::Db db_;
    atelier::Host host_;
};

}  // namespace agents
