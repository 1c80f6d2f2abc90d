// Edits JSON-with-comments configuration files (VS Code, Claude, Gemini, Cursor) in place:
// one member is inserted, replaced or removed and every other byte — comments, ordering,
// indentation — stays as it was. Parsing for meaning goes through Poco after the comments
// and trailing commas are blanked out.
#pragma once

#include <atelier/sdk.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace atelier::mcp {

// The file is not JSON (with comments); carries a human-readable reason.
class ConfigSyntaxError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace jsonc {

// Comments and trailing commas replaced by spaces, so offsets are unchanged.
std::string toStrict(const std::string& text);

// The whole document as an object (an empty or blank text is an empty object).
// Throws ConfigSyntaxError when it is not valid JSONC or not an object.
JsonObject parseObject(const std::string& text);

// The object at `path` (nested keys from the root), or null when absent or not an object.
JsonObject objectAt(const JsonObject& root, const std::vector<std::string>& path);

// Sets root[path...][key] = value (rendered JSON text at the right indentation), creating the
// containers on `path` when missing. Returns the new text.
std::string setMember(const std::string& text, const std::vector<std::string>& path, const std::string& key,
                      const Poco::Dynamic::Var& value);

// Removes root[path...][key]; returns nullopt when there was nothing to remove.
std::optional<std::string> removeMember(const std::string& text, const std::vector<std::string>& path,
                                        const std::string& key);

// Pretty JSON of `value` whose nested lines start at `depth` indentation units of `unit`.
std::string render(const Poco::Dynamic::Var& value, const std::string& unit, int depth);

}  // namespace jsonc
}  // namespace atelier::mcp
