#include "events_logs.hpp"

#include <atelier/util.hpp>

#include <algorithm>

namespace atelier::events {

namespace {
std::string likeEscape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return "%" + out + "%";
}

}  // namespace

std::vector<std::pair<int64_t, std::string>> queryOpsLog(const Db& db, const OpsLogFilter& f) {
    std::string sql = "SELECT id, entry FROM events_ops_log WHERE 1=1";
    std::vector<Param> p;
    if (!f.since.empty()) {
        sql += " AND created_at > ?";
        p.emplace_back(f.since);
    }
    if (!f.level.empty()) {
        sql += " AND level = ?";
        p.emplace_back(f.level);
    }
    if (!f.status.empty()) {
        sql += " AND status = ?";
        p.emplace_back(f.status);
    }
    if (!f.source.empty()) {
        sql += " AND source LIKE ? ESCAPE '\\'";
        p.emplace_back(likeEscape(f.source));
    }
    if (!f.search.empty()) {
        sql += " AND (message LIKE ? ESCAPE '\\' OR source LIKE ? ESCAPE '\\'"
               " OR json_extract(entry, '$.action') LIKE ? ESCAPE '\\'"
               " OR json_extract(entry, '$.command.command') LIKE ? ESCAPE '\\')";
        std::string like = likeEscape(f.search);
        for (int i = 0; i < 4; ++i) p.emplace_back(like);
    }
    if (f.afterId > 0) {
        sql += " AND id > ?";
        p.emplace_back(f.afterId);
    }
    if (f.maxId > 0) {
        sql += " AND id <= ?";
        p.emplace_back(f.maxId);
    }
    sql += f.oldestFirst ? " ORDER BY id ASC LIMIT ?" : " ORDER BY id DESC LIMIT ?";
    p.emplace_back(f.limit);
    std::vector<std::pair<int64_t, std::string>> out;
    for (auto& r : db.query(sql, p)) {
        int64_t id = r.integer("id");
        out.emplace_back(id, "{\"id\":" + std::to_string(id) + "," + r.text("entry").substr(1));
    }
    if (!f.oldestFirst) std::reverse(out.begin(), out.end());
    return out;
}

int64_t lastOpsId(const Db& db) {
    auto r = db.one("SELECT COALESCE(MAX(id), 0) AS id FROM events_ops_log");
    return r ? r->integer("id") : 0;
}

void copyMetadata(const JsonObject& body, JsonObject& out) {
    if (!has(body, "metadata")) return;
    auto v = body->get("metadata");
    if (v.type() != typeid(JsonObject))
        throw badRequest("metadata must be an object", "VALIDATION_ERROR", {{"metadata", "must be an object"}});
    if (atelier::toJson(v).size() > 65536)
        throw badRequest("metadata is too large (64 KiB at most)", "VALIDATION_ERROR",
                         {{"metadata", "must be at most 64 KiB"}});
    out->set("metadata", v);
}

JsonObject validateOpsEntry(const JsonObject& body) {
    auto out = makeObject();
    out->set("source", boundedString(body, "source", 200, true));
    std::string action = boundedString(body, "action", 200, false);
    out->set("action", action.empty() ? out->getValue<std::string>("source") : action);
    out->set("message", boundedString(body, "message", 8192, true));
    std::string level = boundedString(body, "level", 16, false);
    if (level.empty()) level = "info";
    static const char* levels[] = {"debug", "info", "warning", "error"};
    if (std::none_of(std::begin(levels), std::end(levels), [&](const char* l) { return level == l; }))
        throw badRequest("level must be one of debug, info, warning, error", "VALIDATION_ERROR",
                         {{"level", "must be one of debug, info, warning, error"}});
    out->set("level", level);
    std::string status = boundedString(body, "status", 16, false);
    if (status.empty()) status = "info";
    static const char* statuses[] = {"started", "succeeded", "success", "failed", "info"};
    if (std::none_of(std::begin(statuses), std::end(statuses), [&](const char* s) { return status == s; }))
        throw badRequest("status must be one of started, succeeded, failed, info", "VALIDATION_ERROR",
                         {{"status", "must be one of started, succeeded, failed, info"}});
    out->set("status", status);
    for (const char* key : {"runId", "worktreeId", "projectName"}) {
        std::string v = boundedString(body, key, 200, false);
        if (has(body, key)) out->set(key, v);
    }
    copyMetadata(body, out);
    return out;
}

}  // namespace atelier::events
