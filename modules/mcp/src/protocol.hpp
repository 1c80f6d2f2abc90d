// The MCP server side of Streamable HTTP: JSON-RPC 2.0 framing, version negotiation,
// optional sessions (Mcp-Session-Id), initialize / ping / tools/list / tools/call and
// notifications. Knows nothing of HTTP routing; the module feeds it bodies and headers.
#pragma once

#include <atelier/sdk.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace atelier::mcp {

// Who is calling: a bearer token's scopes when one was presented.
struct Caller {
    bool hasToken = false;
    std::vector<std::string> scopes;
};

// A tool's own failure: reported as a result with isError, so the model can read it.
class ToolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ToolCall {
    JsonObject args;
    Caller caller;
};

struct Tool {
    std::string name;
    std::string description;
    JsonObject inputSchema;
    bool write = false;
    std::function<Poco::Dynamic::Var(const ToolCall&)> run;
};

struct HttpReply {
    int status = 200;
    std::string body;  // empty → no body
    std::vector<std::pair<std::string, std::string>> headers;
};

struct McpRequestMeta {
    std::string sessionId;        // Mcp-Session-Id
    std::string protocolVersion;  // MCP-Protocol-Version
    std::string contentType;
    Caller caller;
};

class McpProtocol {
public:
    static const std::vector<std::string>& supportedVersions();  // newest first

    McpProtocol(std::vector<Tool> tools, bool sessions) : tools_(std::move(tools)), sessions_(sessions) {}

    HttpReply post(std::string_view body, const McpRequestMeta& meta);
    HttpReply terminate(const std::string& sessionId);

    // One JSON-RPC message; null for notifications and responses. Public for KrowForge's /api/mcp.
    JsonObject dispatch(const JsonObject& msg, const McpRequestMeta& meta, std::string* newSession);

    // tools/list entries and a direct call (for /api/mcp); the call result is MCP's CallToolResult.
    JsonArray listTools() const;
    JsonObject callTool(const std::string& name, const JsonObject& args, const Caller& caller) const;
    const Tool* findTool(const std::string& name) const;
    size_t sessionCount() const;

private:
    struct Session {
        std::string protocolVersion;
        std::chrono::steady_clock::time_point lastSeen;
    };
    JsonObject initialize(const Poco::Dynamic::Var& id, const JsonObject& params, std::string* newSession);

    std::vector<Tool> tools_;
    bool sessions_;
    mutable std::mutex mu_;
    std::map<std::string, Session> sessionsById_;
};

// JSON-RPC error object for `id` (null when unknown).
JsonObject rpcError(const Poco::Dynamic::Var& id, int code, const std::string& message);

// Checks `args` against a tool's JSON Schema subset (type, required, enum, min/max, items);
// returns the first problem or an empty string.
std::string validateArgs(const JsonObject& schema, const JsonObject& args);

}  // namespace atelier::mcp
