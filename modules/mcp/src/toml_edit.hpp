// Edits Codex's TOML configuration in place. toml++ parses (validation, reading servers,
// checking every edit); the edit itself splices whole `[mcp_servers.<id>]` sections so the
// rest of the file — comments, ordering, formatting — keeps every byte.
#pragma once

#include <atelier/sdk.hpp>
#include <optional>
#include <string>

#include "jsonc_edit.hpp"

namespace atelier::mcp::toml_edit {

// The servers under `[<table>.*]` as JSON objects keyed by id (command/args/env/url/...).
// Throws ConfigSyntaxError when the text is not TOML.
JsonObject servers(const std::string& text, const std::string& table);

// Replaces (or appends) the `[<table>.<id>]` section with one built from `server`
// (JSON object: command, args, env, url, http_headers). Throws ConfigSyntaxError.
std::string setServer(const std::string& text, const std::string& table, const std::string& id,
                      const JsonObject& server);

// Removes the `[<table>.<id>]` section and its sub-tables; nullopt when it is absent.
std::optional<std::string> removeServer(const std::string& text, const std::string& table, const std::string& id);

// A TOML string literal.
std::string quote(const std::string& s);

}  // namespace atelier::mcp::toml_edit
