#include "milestones.hpp"

namespace tickets {

namespace {

const char* kStatsSql =
    "SELECT m.*,"
    " (SELECT COUNT(*) FROM tickets_items t WHERE t.milestone_id = m.id AND t.status <> 'closed') AS open_count,"
    " (SELECT COUNT(*) FROM tickets_items t WHERE t.milestone_id = m.id AND t.status = 'closed') AS closed_count"
    " FROM tickets_milestones m";

JsonObject milestoneJson(const Row& r) {
    auto o = atelier::makeObject();
    o->set("id", r.var("id"));
    o->set("project_id", r.var("project_id"));
    o->set("title", r.var("title"));
    o->set("description", r.var("description"));
    o->set("due_date", r.var("due_date"));
    o->set("status", r.var("status"));
    o->set("created_at", r.var("created_at"));
    o->set("updated_at", r.var("updated_at"));
    o->set("open_count", r.integer("open_count"));
    o->set("closed_count", r.integer("closed_count"));
    o->set("total_count", r.integer("open_count") + r.integer("closed_count"));
    return o;
}

const std::optional<std::string>& checkedDueDate(const std::optional<std::string>& d) {
    if (d && !validIsoDate(*d)) throw validation("due_date", "must be an ISO 8601 date (YYYY-MM-DD)");
    return d;
}

}  // namespace

bool validIsoDate(const std::string& s) {
    int y, m, d;
    char rest[32] = {0};
    if (s.size() < 10) return false;
    for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    if (s[4] != '-' || s[7] != '-') return false;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%31s", &y, &m, &d, rest) < 3) return false;
    if (m < 1 || m > 12 || d < 1 || d > 31) return false;
    return s.size() == 10 || s[10] == 'T';
}

Row Milestones::requireRow(int64_t id) const {
    auto r = s_.db.one(std::string(kStatsSql) + " WHERE m.id = ?", {id});
    if (!r) throw notFound("Milestone " + std::to_string(id) + " not found", "MILESTONE_NOT_FOUND");
    return *r;
}

JsonArray Milestones::list(const std::string& projectId, const std::optional<std::string>& status) const {
    if (status && *status != "open" && *status != "closed") throw validation("status", "must be open or closed");
    std::string sql = std::string(kStatsSql) + " WHERE m.project_id = ?";
    std::vector<Param> ps{projectId};
    if (status) sql += " AND m.status = ?", ps.emplace_back(*status);
    sql += " ORDER BY m.due_date IS NULL, m.due_date, m.id";
    auto arr = atelier::makeArray();
    for (auto& r : s_.db.query(sql, ps)) arr->add(milestoneJson(r));
    return arr;
}

JsonObject Milestones::get(int64_t id) const { return milestoneJson(requireRow(id)); }

JsonObject Milestones::create(const std::string& projectId, const NewMilestone& req) const {
    const auto& title = req.title;
    const auto& description = req.description;
    const auto& due = checkedDueDate(req.dueDate);
    auto now = nowIso();
    auto id = s_.db
                  .one(
                      "INSERT INTO tickets_milestones (project_id, title, description, due_date, status, created_at,"
                      " updated_at) VALUES (?,?,?,?, 'open', ?, ?) RETURNING id",
                      {projectId, title, description, due, now, now})
                  ->integer("id");
    auto p = atelier::makeObject();
    p->set("milestone_id", id);
    p->set("title", title);
    s_.emit({{makeEvent("milestone.created", projectId, 0, 0, "", "system", p), {}}});
    return get(id);
}

JsonObject Milestones::update(int64_t id, const MilestoneUpdate& req) const {
    auto row = requireRow(id);
    const auto& title = req.title;
    const auto& descP = req.descriptionP;
    const auto& description = req.description;
    const auto& dueP = req.dueDateP;
    const auto& due = checkedDueDate(req.dueDate);
    const auto& status = req.status;
    if (!title && !descP.present && !dueP.present && !status) throw validation("body", "must contain at least one field to update");
    s_.db.exec("UPDATE tickets_milestones SET title = ?, description = ?, due_date = ?, status = ?, updated_at = ? WHERE id = ?",
               {title.value_or(row.text("title")), descP.present ? Param(description) : Param(row.textOpt("description")),
                dueP.present ? Param(due) : Param(row.textOpt("due_date")), status.value_or(row.text("status")), nowIso(), id});
    auto p = atelier::makeObject();
    p->set("milestone_id", id);
    std::string type = "milestone.updated";
    if (status && *status != row.text("status")) type = *status == "closed" ? "milestone.closed" : "milestone.reopened";
    s_.emit({{makeEvent(type, row.text("project_id"), 0, 0, "", "system", p), {}}});
    return get(id);
}

void Milestones::remove(int64_t id) const {
    auto row = requireRow(id);
    s_.db.transaction([&](const Db& tx) {
        tx.exec("UPDATE tickets_items SET milestone_id = NULL WHERE milestone_id = ?", {id});
        tx.exec("DELETE FROM tickets_milestones WHERE id = ?", {id});
    });
    auto p = atelier::makeObject();
    p->set("milestone_id", id);
    s_.emit({{makeEvent("milestone.deleted", row.text("project_id"), 0, 0, "", "system", p), {}}});
}

}  // namespace tickets
