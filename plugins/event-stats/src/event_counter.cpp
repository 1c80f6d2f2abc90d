#include "event_counter.hpp"

#include <atelier/util.hpp>

namespace event_stats {

std::vector<std::string> EventCounter::migrations() {
    return {"CREATE TABLE event_stats_counts (event_type TEXT NOT NULL, project_id TEXT NOT NULL DEFAULT '',"
            " count INTEGER NOT NULL DEFAULT 0, last_seen_at TEXT NOT NULL, PRIMARY KEY (event_type, project_id))"};
}

void EventCounter::count(const atelier::Event& e) {
    db_.exec(
        "INSERT INTO event_stats_counts (event_type, project_id, count, last_seen_at) VALUES (?, ?, 1, ?)"
        " ON CONFLICT (event_type, project_id) DO UPDATE SET count = count + 1, last_seen_at = excluded.last_seen_at",
        {e.type, e.projectId, e.createdAt.empty() ? atelier::nowIso() : e.createdAt});
}

atelier::JsonObject EventCounter::summary(const std::string& projectId, int64_t limit) const {
    std::string where = projectId.empty() ? "" : " WHERE project_id = ?";
    std::vector<atelier::Param> params;
    if (!projectId.empty()) params.emplace_back(projectId);
    params.emplace_back(limit);
    auto rows = db_.query("SELECT event_type, project_id, count, last_seen_at FROM event_stats_counts" + where +
                              " ORDER BY count DESC, event_type LIMIT ?",
                          params);
    auto list = atelier::makeArray();
    int64_t total = 0;
    for (auto& r : rows) {
        auto o = atelier::makeObject();
        o->set("event_type", r.text("event_type"));
        if (r.text("project_id").empty()) o->set("project_id", Poco::Dynamic::Var());
        else o->set("project_id", r.text("project_id"));
        o->set("count", r.integer("count"));
        o->set("last_seen_at", r.text("last_seen_at"));
        total += r.integer("count");
        list->add(o);
    }
    auto out = atelier::makeObject();
    out->set("total", total);
    out->set("types", list);
    return out;
}

}  // namespace event_stats
