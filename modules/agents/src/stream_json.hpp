// Parsers for the machine-readable output of the coding-agent CLIs, one line (NDJSON) at a
// time, into run events: Claude Code's stream-json, Codex app-server JSON-RPC notifications,
// Gemini CLI's stream-json and opencode's `run --format json`.
#pragma once

#include "json_util.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agents {

struct CliResult {
    int64_t tokensIn = 0;
    int64_t tokensOut = 0;
    double costUsd = 0;
    bool isError = false;
    std::string text;     // final result text or error reason
    std::string subtype;  // e.g. success, error_max_turns
};

struct CliUpdate {
    std::vector<std::pair<std::string, JsonObject>> events;  // (event_type, payload)
    std::optional<std::string> sessionId;
    std::optional<std::string> cliVersion;
    std::optional<CliResult> result;
    // Codex: requests that need an answer (JSON-RPC id + method + params).
    std::optional<std::string> requestId;
    Poco::Dynamic::Var requestIdValue;  // the id as sent: the answer must repeat it with its JSON type
    std::string requestMethod;
    JsonObject requestParams;
    bool parsed = false;  // false for non-JSON lines (kept in the log only)
};

CliUpdate parseClaudeStreamLine(const std::string& line);
CliUpdate parseCodexLine(const std::string& line);
CliUpdate parseGeminiLine(const std::string& line);
CliUpdate parseOpencodeLine(const std::string& line);
CliUpdate parseCliLine(const std::string& backend, const std::string& line);

// Gemini CLI streams every assistant reply as delta chunks only: collects them in `pending` and
// puts the whole reply as an agent.message before the next event that is not a chunk (or at the
// end, when `flush` is set), so each backend yields complete messages.
void joinAssistantDeltas(std::vector<std::pair<std::string, JsonObject>>& events, std::string& pending, bool flush);

}  // namespace agents
