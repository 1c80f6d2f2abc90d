// The shape of `.atelier/config.json` and `.atelier/config.local.json`: defaults, the
// validation of partial updates, and the merge rules used by PATCH.
#pragma once

#include <atelier/sdk.hpp>

#include <set>
#include <string>

namespace atelier::config {

// Keys that PATCH /api/config routes to config.local.json instead of config.json.
const std::set<std::string>& localOnlyKeys();

// Defaults for every documented field.
JsonObject defaultConfig();
JsonObject defaultLocalConfig();

// Throws DomainError (400) naming the first offending field. `null` values are allowed
// and mean "reset to the default".
void validateConfigPatch(const JsonObject& patch);
void validateLocalConfigPatch(const JsonObject& patch);

// Deep copy of a JSON value.
Poco::Dynamic::Var deepCopy(const Poco::Dynamic::Var& v);
// `base` updated by `patch`: objects listed as deep are merged key by key, everything else
// replaced; a null in the patch removes the key.
void mergeInto(JsonObject base, const JsonObject& patch, const std::set<std::string>& deepKeys);
// Defaults overlaid with the stored values (objects merged recursively).
JsonObject overlay(const JsonObject& defaults, const JsonObject& stored);

}  // namespace atelier::config
