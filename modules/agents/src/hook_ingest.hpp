// Maps a raw CLI hook payload (Claude Code / Codex hooks, posted by the per-run forwarder to
// POST /api/runs/{id}/hook) to run events, a status effect and the reply the CLI reads.
#pragma once

#include "json_util.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agents {

struct HookEffect {
    std::string eventName;                                   // hook_event_name
    std::vector<std::pair<std::string, JsonObject>> events;  // run events to append
    // Status effect: "running", "paused", "failed", "completed" (applied by the engine; a run
    // whose CLI process the engine supervises finishes on process exit instead).
    std::optional<std::string> status;
    std::string reason;                 // for failed
    std::optional<std::string> sessionId;
    bool permissionRequest = false;     // ask the agent.permission_request hook
    std::string tool;
    JsonObject toolInput;
    std::string toolUseId;
};

// Throws DomainError (Invalid) when the payload has no event name.
HookEffect interpretHook(const JsonObject& payload);
// The JSON the CLI reads on stdout for this hook, given a permission decision if any.
JsonObject hookReply(const HookEffect& effect, const std::string& decision, const std::string& message);

}  // namespace agents
