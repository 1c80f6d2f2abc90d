// Retention for host logs (activity feed, operations log): time-based pruning by created_at,
// then size-based pruning of the oldest entries, both previewable without deleting.
#pragma once

#include <atelier/sdk.hpp>

#include <optional>
#include <string>

namespace atelier::events {

struct RetentionImpact {
    int64_t entriesToRemove = 0;
    int64_t bytesToRemove = 0;
    int64_t currentEntries = 0;
    int64_t currentBytes = 0;
    JsonObject toJson() const;
};

// `table` has INTEGER id (insertion order), created_at (ISO 8601 UTC) and entry (JSON text);
// an entry's size is the byte length of `entry`. Absent limits are not applied.
RetentionImpact retentionImpact(const Db& db, const std::string& table, std::optional<double> retentionDays,
                                std::optional<double> maxSizeMB);
// Deletes what retentionImpact reports, in one transaction; returns what was removed.
RetentionImpact retentionSweep(const Db& db, const std::string& table, std::optional<double> retentionDays,
                               std::optional<double> maxSizeMB);

// ISO 8601 UTC (milliseconds, Z) of now minus `days`.
std::string isoDaysAgo(double days);
// Whether `s` starts like an ISO 8601 date-time (YYYY-MM-DD, optional time part).
bool looksLikeIsoTime(const std::string& s);

}  // namespace atelier::events
