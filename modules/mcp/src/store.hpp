// The module's own tables: per-project env overrides, MCP access tokens (only a SHA-256 of
// each token is kept) and settings. SQL lives in store_sql.cpp.
#pragma once

#include <atelier/sdk.hpp>
#include <optional>
#include <string>
#include <vector>

namespace atelier::mcp {

namespace sql {
extern const std::vector<std::string> kMigrations;
extern const char* const kEnvGet;
extern const char* const kEnvUpsert;
extern const char* const kEnvDelete;
extern const char* const kTokenInsert;
extern const char* const kTokenList;
extern const char* const kTokenByHash;
extern const char* const kTokenRevoke;
extern const char* const kTokenTouch;
extern const char* const kSettingGet;
extern const char* const kSettingUpsert;
}  // namespace sql

struct TokenGrant {
    std::string id;
    std::vector<std::string> scopes;
};

class Store {
public:
    explicit Store(Db db) : db_(std::move(db)) {}

    JsonObject projectEnv(const std::string& projectId, const std::string& serverId) const;
    void setProjectEnv(const std::string& projectId, const std::string& serverId, const JsonObject& env) const;

    // Returns the new token (shown once) with its metadata.
    JsonObject createToken(const std::string& name, const std::vector<std::string>& scopes) const;
    JsonArray listTokens() const;
    bool revokeToken(const std::string& id) const;
    std::optional<TokenGrant> checkToken(const std::string& token) const;

    std::string setting(const std::string& key, const std::string& fallback) const;
    void setSetting(const std::string& key, const std::string& value) const;

    static std::string sha256Hex(const std::string& s);

private:
    Db db_;
};

}  // namespace atelier::mcp
