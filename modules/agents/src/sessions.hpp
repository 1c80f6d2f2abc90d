// Kombuse chat sessions: creation with backend resolution, listing with computed fields,
// per-session event log (seq), diagnostics, the session state machine and the idle/orphan sweep.
#pragma once

#include "agent_store.hpp"

#include <optional>
#include <string>

namespace agents {

bool canTransition(const std::string& from, const std::string& to);

struct SessionFilter {
    std::optional<std::string> ticketId, projectId, agentId, status, terminalReason;
    std::optional<bool> hasBackendSessionId;
    std::string sortBy = "created_at";
    int64_t limit = 50, offset = 0;
};

// A chat session to open; the backend resolves body → agent config → user default.
struct NewSession {
    std::optional<std::string> backendType, modelPreference, agentId, projectId;
    std::optional<std::string> ticketId;  // a number or a string in the body, kept as text
};

class SessionStore {
public:
    SessionStore(atelier::Db db, AgentStore& agents, JsonObject config) : db_(db), agents_(agents), config_(config) {}
    static std::vector<std::string> migrations();

    JsonObject create(const NewSession& req);
    JsonArray list(const SessionFilter& f) const;
    std::optional<JsonObject> get(const std::string& id) const;
    JsonObject events(const std::string& id, int64_t sinceSeq, const std::optional<std::string>& type, int64_t limit) const;
    void remove(const std::string& id);
    JsonObject diagnostics(int64_t recentLimit) const;
    // Moves a session to `to` if the state machine allows it; returns false otherwise.
    bool transition(const std::string& id, const std::string& to, const std::string& terminalReason = {});
    int64_t appendEvent(const std::string& id, const std::string& type, const JsonObject& payload);
    // Aborts pending/running sessions without activity for `idleMs`; returns how many.
    int sweep(int64_t idleMs);

private:
    JsonObject toJson(const atelier::Row& r) const;
    atelier::Db db_;
    AgentStore& agents_;
    JsonObject config_;
};

}  // namespace agents
