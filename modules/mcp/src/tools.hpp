// Atelier's MCP tools: Kombuse's names and parameters (tickets, comments, projects, labels,
// agents, read-only database queries, API listing and GET calls) plus worktrees, dev
// servers, runs and the activity feed. Every domain is reached through the owning
// module's public routes (host.call), never its tables.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "protocol.hpp"

namespace atelier::mcp {

struct CallAnswer {
    int status = 0;
    std::string body;
};

struct ToolEnv {
    // In-process call of another module's route.
    std::function<CallAnswer(const std::string& method, const std::string& path, const std::string& body)> call;
    // "allowed" or "denied": may callers without a session write?
    std::function<std::string()> anonymousWriteAccess;
    std::string dbPath;  // the host database, opened read-only by query_db
};

constexpr size_t kGetTicketMaxBytes = 25000;
constexpr size_t kCallApiMaxBytes = 100000;
constexpr int kQueryDefaultRows = 100;
constexpr int kQueryMaxRows = 500;

std::vector<Tool> buildTools(const ToolEnv& env);

// Prunes a get_ticket payload until its JSON fits `maxBytes` (comment bodies, then comments,
// then the ticket body), marking what was cut. Exposed for tests.
JsonObject pruneToFit(JsonObject payload, size_t maxBytes);

}  // namespace atelier::mcp
