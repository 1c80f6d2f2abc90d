// Counts events by type and project in the plugin's own table.
#pragma once

#include <atelier/sdk.hpp>

namespace event_stats {

class EventCounter {
public:
    explicit EventCounter(atelier::Db db) : db_(db) {}
    static std::vector<std::string> migrations();
    void count(const atelier::Event& e);
    // {"total": N, "types": [{"event_type", "project_id", "count", "last_seen_at"}...]}
    atelier::JsonObject summary(const std::string& projectId, int64_t limit) const;

private:
    atelier::Db db_;
};

}  // namespace event_stats
