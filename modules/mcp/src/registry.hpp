// The MCP servers registry: OpenKit's `mcp-servers.json` format
// ({"version":1,"servers":{<id>:McpServerDefinition}}) in the data directory, rewritten
// atomically under one lock so concurrent requests never lose each other's changes.
#pragma once

#include <atelier/sdk.hpp>
#include <mutex>
#include <optional>
#include <string>

namespace atelier::mcp {

class Registry {
public:
    explicit Registry(std::string path) : path_(std::move(path)) {}

    JsonArray list(const std::optional<std::string>& q, const std::optional<std::string>& tag) const;
    JsonObject get(const std::string& id) const;  // 404 SERVER_NOT_FOUND
    std::optional<JsonObject> find(const std::string& id) const;
    JsonObject create(const JsonObject& body);  // 400 / 409 SERVER_EXISTS
    JsonObject update(const std::string& id, const JsonObject& body);
    void remove(const std::string& id);
    // Adds each discovered server not yet registered; returns the ids added.
    JsonArray importMany(const JsonArray& servers);
    const std::string& path() const { return path_; }

private:
    JsonObject load() const;
    void save(const JsonObject& doc) const;
    static JsonObject validated(const JsonObject& body, const JsonObject& base, bool partial);

    std::string path_;
    mutable std::mutex mu_;
};

// Lowercase ASCII words joined by '-', at most 60 characters (OpenKit's id rule).
std::string serverIdFromName(const std::string& name);

}  // namespace atelier::mcp
