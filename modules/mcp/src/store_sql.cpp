// Every SQL statement of the mcp module (SQLite dialect: upserts use ON CONFLICT).
#include "store.hpp"

namespace atelier::mcp::sql {

const std::vector<std::string> kMigrations{
    "CREATE TABLE mcp_env (project_id TEXT NOT NULL, server_id TEXT NOT NULL, env TEXT NOT NULL,"
    " updated_at TEXT NOT NULL, PRIMARY KEY (project_id, server_id));"
    "CREATE TABLE mcp_tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,"
    " prefix TEXT NOT NULL, scopes TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT);"
    "CREATE TABLE mcp_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

const char* const kEnvGet = "SELECT env FROM mcp_env WHERE project_id = ? AND server_id = ?";
const char* const kEnvUpsert =
    "INSERT INTO mcp_env (project_id, server_id, env, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (project_id, server_id) DO UPDATE SET env = excluded.env, updated_at = excluded.updated_at";
const char* const kEnvDelete = "DELETE FROM mcp_env WHERE project_id = ? AND server_id = ?";
const char* const kTokenInsert =
    "INSERT INTO mcp_tokens (id, name, token_hash, prefix, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)";
const char* const kTokenList =
    "SELECT id, name, prefix, scopes, created_at, last_used_at, revoked_at FROM mcp_tokens ORDER BY created_at, id";
const char* const kTokenByHash = "SELECT id, scopes FROM mcp_tokens WHERE token_hash = ? AND revoked_at IS NULL";
const char* const kTokenRevoke = "UPDATE mcp_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL";
const char* const kTokenTouch = "UPDATE mcp_tokens SET last_used_at = ? WHERE id = ?";
const char* const kSettingGet = "SELECT value FROM mcp_settings WHERE key = ?";
const char* const kSettingUpsert =
    "INSERT INTO mcp_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

}  // namespace atelier::mcp::sql
