// Shared pieces of the tickets domain: the store context (database, event publisher, hook
// runner), domain errors and small JSON/SQL helpers. Nothing here knows about HTTP requests,
// responses or statuses: the registration layer (module.cpp) maps DomainError kinds.
#pragma once

#include <atelier/sdk.hpp>
#include <atelier/shared/domain_error.hpp>
#include <atelier/util.hpp>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tickets {

using atelier::Db;
using atelier::JsonArray;
using atelier::JsonObject;
using atelier::Param;
using atelier::Row;
using atelier::urlEncode;
using Var = Poco::Dynamic::Var;

// A process-wide strictly increasing sequence (microseconds since the epoch, bumped on
// ties) that orders comments and events in a ticket's timeline.
int64_t nextSeq();
std::string isoFromSeq(int64_t seq);

// An event to publish once the transaction that produced it has committed. `ticketIds`
// lists the tickets whose timeline shows it (the source ticket and, for a cross-reference,
// the referenced one).
struct PendingEvent {
    atelier::Event event;
    std::vector<int64_t> ticketIds;
    int64_t seq = nextSeq();  // position in ticket timelines
};

// What the domain needs from its host: the database, the bus and the hooks.
struct Store {
    Db db;
    std::function<int64_t(const atelier::Event&)> publish;
    std::function<atelier::HookRun(std::string_view, const std::string&)> runHook;
    std::string moduleDir;  // where attachment files live

    // Publishes the events (after commit) and records them in the ticket activity log.
    void emit(const std::vector<PendingEvent>& events) const;
};

// ---- errors
using DomainError = atelier::shared::DomainError;
DomainError validation(const std::string& field, const std::string& message);
DomainError notFound(const std::string& message, const std::string& code);
DomainError conflict(const std::string& message, const std::string& code);
DomainError unprocessable(const std::string& message, const std::string& code);

// ---- JSON field helpers (throw validation errors)
std::optional<int64_t> intField(const JsonObject& o, const std::string& key);
// Present-and-null → nullopt with `isNull` set; absent → nullopt with isNull false.
struct Nullable {
    bool present = false;
    bool null = false;
};
Nullable presence(const JsonObject& o, const std::string& key);
std::string stringField(const JsonObject& o, const std::string& key, size_t maxLen);
std::optional<std::string> optStringField(const JsonObject& o, const std::string& key, size_t maxLen);
std::optional<bool> boolField(const JsonObject& o, const std::string& key);
std::vector<int64_t> intArrayField(const JsonObject& o, const std::string& key);
std::vector<std::string> stringArrayField(const JsonObject& o, const std::string& key);

// ---- query-string parsing helpers
std::optional<bool> parseBool(const std::optional<std::string>& v, const std::string& name);
std::optional<int64_t> parseInt(const std::optional<std::string>& v, const std::string& name);

// ---- SQL / rows
std::string placeholders(size_t n);
Var boolVar(const Row& r, std::string_view col);
std::string nowIso();
std::string isoPlusMinutes(int64_t minutes, const std::string& from = {});

// Profile type ("user" | "agent"), or "system" for unknown / empty actors.
std::string actorType(const Db& db, const std::string& actorId);
// The profile object, or null.
JsonObject profileJson(const Row& r);
JsonObject findProfile(const Db& db, const std::string& id);
bool profileExists(const Db& db, const std::string& id);

atelier::Event makeEvent(const std::string& type, const std::string& projectId, int64_t ticketId, int64_t ticketNumber,
                         const std::string& actorId, const std::string& actorTypeName, const JsonObject& payload);

}  // namespace tickets
