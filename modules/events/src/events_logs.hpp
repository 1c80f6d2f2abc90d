// Queries over the operations log (events_ops_log) and validation of appended entries
// (OpenKit OpsLogEvent). No HTTP here.
#pragma once

#include <atelier/sdk.hpp>

#include <string>
#include <vector>

namespace atelier::events {

struct OpsLogFilter {
    std::string since, level, status, source, search;
    int64_t limit = 200;
    int64_t afterId = 0;   // replay: entries with a greater id
    int64_t maxId = 0;     // snapshot: entries with id <= maxId (0 = no bound)
    bool oldestFirst = false;  // false: the newest `limit`, returned oldest first
};

// Stored entries (JSON text with the id first), oldest first.
std::vector<std::pair<int64_t, std::string>> queryOpsLog(const Db& db, const OpsLogFilter& f);
int64_t lastOpsId(const Db& db);

// Copies the optional `metadata` of a POST body (an object of at most 64 KiB) into `out`;
// 400 VALIDATION_ERROR otherwise. Shared by activity entries and operations-log entries.
void copyMetadata(const JsonObject& body, JsonObject& out);

// Validates a POST /api/logs body and returns the entry to record.
JsonObject validateOpsEntry(const JsonObject& body);

}  // namespace atelier::events
