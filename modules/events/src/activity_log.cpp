#include "activity_log.hpp"

#include <atelier/util.hpp>

#include <algorithm>

#include "events_logs.hpp"

namespace atelier::events {

namespace {
const char* kCategories[] = {"agent", "worktree", "system"};
const char* kSeverities[] = {"info", "success", "warning", "error"};

template <size_t N>
bool oneOf(const std::string& v, const char* (&list)[N]) {
    return std::any_of(std::begin(list), std::end(list), [&](const char* x) { return v == x; });
}

}  // namespace

ActivityLog::ActivityLog(const atelier::Module& module) : module_(module) {}

JsonObject ActivityLog::validate(const JsonObject& body) {
    auto out = makeObject();
    std::string category = boundedString(body, "category", 32, true);
    if (!oneOf(category, kCategories))
        throw badRequest("category must be one of agent, worktree, system", "VALIDATION_ERROR",
                         {{"category", "must be one of agent, worktree, system"}});
    std::string type = boundedString(body, "type", 100, true);
    std::string severity = boundedString(body, "severity", 16, false);
    if (severity.empty()) severity = "info";
    if (!oneOf(severity, kSeverities))
        throw badRequest("severity must be one of info, success, warning, error", "VALIDATION_ERROR",
                         {{"severity", "must be one of info, success, warning, error"}});
    std::string title = boundedString(body, "title", 500, true);
    std::string timestamp = boundedString(body, "timestamp", 40, false);
    if (!timestamp.empty() && !looksLikeIsoTime(timestamp))
        throw badRequest("timestamp must be an ISO 8601 date-time", "VALIDATION_ERROR",
                         {{"timestamp", "must be an ISO 8601 date-time"}});
    out->set("timestamp", timestamp.empty() ? nowIso() : timestamp);
    out->set("category", category);
    out->set("type", type);
    out->set("severity", severity);
    out->set("title", title);
    for (auto [key, max] : {std::pair<const char*, size_t>{"detail", 20000}, {"worktreeId", 200}, {"projectName", 200},
                            {"groupKey", 200}}) {
        std::string v = boundedString(body, key, max, false);
        if (has(body, key)) out->set(key, v);
    }
    copyMetadata(body, out);
    return out;
}

JsonObject ActivityLog::add(JsonObject entry) {
    // The stored object: id first, as OpenKit shows it.
    auto stored = makeObject();
    std::string uid = newUuid();
    stored->set("id", uid);
    for (auto& k : entry->getNames()) stored->set(k, entry->get(k));
    std::string json = atelier::toJson(stored);

    std::lock_guard lock(writeMutex_);
    Event e;
    e.type = "activity";
    e.actorType = "system";
    e.payload = json;
    int64_t eventId = module_.publish(e);
    module_.db().exec(
        "INSERT INTO events_activity (uid, event_id, created_at, category, type, severity, entry) VALUES (?, ?, ?, ?, "
        "?, ?, ?)",
        {uid, eventId, stored->getValue<std::string>("timestamp"), stored->getValue<std::string>("category"),
         stored->getValue<std::string>("type"), stored->getValue<std::string>("severity"), json});
    return stored;
}

std::vector<std::string> ActivityLog::query(const std::string& since, const std::string& category, int64_t limit) const {
    std::string sql = "SELECT entry FROM events_activity WHERE 1=1";
    std::vector<Param> p;
    if (!since.empty()) {
        sql += " AND created_at > ?";
        p.emplace_back(since);
    }
    if (!category.empty()) {
        sql += " AND category = ?";
        p.emplace_back(category);
    }
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
    p.emplace_back(limit);
    std::vector<std::string> out;
    for (auto& r : module_.db().query(sql, p)) out.push_back(r.text("entry"));
    std::reverse(out.begin(), out.end());
    return out;
}

ActivityLog::Snapshot ActivityLog::snapshot(int64_t limit, const std::function<int64_t()>& lastBusId) const {
    Snapshot s;
    std::lock_guard lock(writeMutex_);
    s.busId = lastBusId();
    for (auto& r : module_.db().query(
             "SELECT entry FROM events_activity WHERE event_id <= ? ORDER BY event_id DESC LIMIT ?", {s.busId, limit}))
        s.entries.push_back(r.text("entry"));
    std::reverse(s.entries.begin(), s.entries.end());
    return s;
}

RetentionImpact ActivityLog::impact(std::optional<double> retentionDays, std::optional<double> maxSizeMB) const {
    return retentionImpact(module_.db(), "events_activity", retentionDays, maxSizeMB);
}

RetentionImpact ActivityLog::sweep(std::optional<double> retentionDays, std::optional<double> maxSizeMB) const {
    return retentionSweep(module_.db(), "events_activity", retentionDays, maxSizeMB);
}

}  // namespace atelier::events
