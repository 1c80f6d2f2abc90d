// The OpenKit activity feed: entries persisted in events_activity and published on the bus as
// `activity` events (the SSE stream's live `activity` messages). No HTTP here.
#pragma once

#include <atelier/sdk.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "events_retention.hpp"

namespace atelier::events {

class ActivityLog {
public:
    explicit ActivityLog(const atelier::Module& module);

    // Validates a POST body (OpenKit fields) and returns the entry to store, without id.
    // Throws atelier::HttpError (400 VALIDATION_ERROR with details) on bad input.
    static JsonObject validate(const JsonObject& body);

    // Persists the entry, publishes the `activity` bus event, returns the stored entry.
    JsonObject add(JsonObject entry);

    // Newest `limit` entries matching the filters, oldest first.
    std::vector<std::string> query(const std::string& since, const std::string& category, int64_t limit) const;

    // The SSE snapshot: the bus id the feed is consistent with, and the last `limit` entries
    // whose bus events are at or before it (oldest first).
    struct Snapshot {
        int64_t busId = 0;
        std::vector<std::string> entries;
    };
    Snapshot snapshot(int64_t limit, const std::function<int64_t()>& lastBusId) const;

    RetentionImpact impact(std::optional<double> retentionDays, std::optional<double> maxSizeMB) const;
    RetentionImpact sweep(std::optional<double> retentionDays, std::optional<double> maxSizeMB) const;

private:
    const atelier::Module& module_;
    mutable std::mutex writeMutex_;  // publish + insert are atomic with respect to snapshot()
};

}  // namespace atelier::events
