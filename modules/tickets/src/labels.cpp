#include "labels.hpp"

#include <algorithm>

namespace tickets {

namespace {

bool validColor(const std::string& c) {
    if (c.size() != 7 || c[0] != '#') return false;
    return std::all_of(c.begin() + 1, c.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)) != 0; });
}

// A colour in lower case; grey when none is given.
std::string normalColor(const std::optional<std::string>& c) {
    if (!c) return "#808080";
    if (!validColor(*c)) throw validation("color", "must be a hex colour #rrggbb");
    std::string out = *c;
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

}  // namespace

JsonObject labelJson(const Row& r) {
    auto o = atelier::makeObject();
    o->set("id", r.var("id"));
    o->set("project_id", r.var("project_id"));
    o->set("name", r.var("name"));
    o->set("slug", r.var("slug"));
    o->set("color", r.var("color"));
    o->set("description", r.var("description"));
    o->set("plugin_id", r.var("plugin_id"));
    o->set("is_enabled", boolVar(r, "is_enabled"));
    o->set("created_at", r.var("created_at"));
    o->set("updated_at", r.var("updated_at"));
    return o;
}

Row Labels::requireRow(int64_t id) const {
    auto r = s_.db.one("SELECT * FROM tickets_labels WHERE id = ?", {id});
    if (!r) throw notFound("Label " + std::to_string(id) + " not found", "LABEL_NOT_FOUND");
    return *r;
}

JsonArray Labels::list(const std::string& projectId, const LabelQuery& q) const {
    if (q.sort != "name" && q.sort != "usage") throw validation("sort", "must be name or usage");
    if (q.usageScope && *q.usageScope != "open" && *q.usageScope != "all") throw validation("usage_scope", "must be open");
    bool openOnly = q.usageScope && *q.usageScope == "open";
    std::string sql = "SELECT l.*, (SELECT COUNT(*) FROM tickets_ticket_labels tl";
    sql += openOnly ? " JOIN tickets_items t ON t.id = tl.ticket_id WHERE tl.label_id = l.id AND t.status = 'open'"
                    : " WHERE tl.label_id = l.id";
    sql += ") AS usage_count FROM tickets_labels l WHERE l.project_id = ?";
    std::vector<Param> ps{projectId};
    if (q.search && !q.search->empty()) {
        // instr() rather than LIKE: no wildcard escaping, and no statement re-prepare on bind.
        sql += " AND instr(lower(l.name), lower(?)) > 0";
        ps.emplace_back(*q.search);
    }
    if (q.isEnabled) sql += " AND l.is_enabled = ?", ps.emplace_back(*q.isEnabled ? 1 : 0);
    sql += q.sort == "usage" ? " ORDER BY usage_count DESC, l.name COLLATE NOCASE" : " ORDER BY l.name COLLATE NOCASE";
    auto arr = atelier::makeArray();
    for (auto& r : s_.db.query(sql, ps)) {
        auto o = labelJson(r);
        o->set("usage_count", r.integer("usage_count"));
        arr->add(o);
    }
    return arr;
}

JsonObject Labels::get(int64_t id) const { return labelJson(requireRow(id)); }

JsonObject Labels::create(const std::string& projectId, const NewLabel& req) const {
    const auto& name = req.name;
    auto color = normalColor(req.color);
    const auto& description = req.description;
    auto now = nowIso();
    int64_t id = 0;
    s_.db.transaction([&](const Db& tx) {
        if (tx.one("SELECT 1 AS x FROM tickets_labels WHERE project_id = ? AND name = ?", {projectId, name}))
            throw conflict("A label named \"" + name + "\" already exists in this project", "LABEL_EXISTS");
        id = tx.one(
                   "INSERT INTO tickets_labels (project_id, name, slug, color, description, is_enabled, created_at,"
                   " updated_at) VALUES (?,?,?,?,?,1,?,?) RETURNING id",
                   {projectId, name, atelier::slugify(name), color, description, now, now})
                 ->integer("id");
    });
    auto p = atelier::makeObject();
    p->set("label_id", id);
    p->set("name", name);
    s_.emit({{makeEvent("label.created", projectId, 0, 0, "", "system", p), {}}});
    return get(id);
}

JsonObject Labels::update(int64_t id, const LabelUpdate& req) const {
    auto row = requireRow(id);
    const auto& name = req.name;
    std::optional<std::string> color;
    if (req.colorP.present) color = normalColor(req.color);
    const auto& descP = req.descriptionP;
    const auto& description = req.description;
    const auto& enabled = req.isEnabled;
    if (!name && !color && !descP.present && !enabled) throw validation("body", "must contain at least one field to update");
    s_.db.transaction([&](const Db& tx) {
        if (name && *name != row.text("name") &&
            tx.one("SELECT 1 AS x FROM tickets_labels WHERE project_id = ? AND name = ? AND id <> ?", {row.text("project_id"), *name, id}))
            throw conflict("A label named \"" + *name + "\" already exists in this project", "LABEL_EXISTS");
        tx.exec("UPDATE tickets_labels SET name = ?, slug = ?, color = ?, description = ?, is_enabled = ?, updated_at = ? WHERE id = ?",
                {name.value_or(row.text("name")), atelier::slugify(name.value_or(row.text("name"))), color.value_or(row.text("color")),
                 descP.present ? Param(description) : Param(row.textOpt("description")),
                 enabled ? Param(*enabled) : Param(row.integer("is_enabled")), nowIso(), id});
    });
    auto p = atelier::makeObject();
    p->set("label_id", id);
    s_.emit({{makeEvent("label.updated", row.text("project_id"), 0, 0, "", "system", p), {}}});
    return get(id);
}

void Labels::remove(int64_t id) const {
    auto row = requireRow(id);
    s_.db.transaction([&](const Db& tx) {
        tx.exec("DELETE FROM tickets_ticket_labels WHERE label_id = ?", {id});
        tx.exec("DELETE FROM tickets_labels WHERE id = ?", {id});
    });
    auto p = atelier::makeObject();
    p->set("label_id", id);
    p->set("name", row.text("name"));
    s_.emit({{makeEvent("label.deleted", row.text("project_id"), 0, 0, "", "system", p), {}}});
}

JsonArray Labels::ticketLabels(const std::string& projectId, int64_t number) const {
    auto t = t_.requireRow(projectId, number);
    auto arr = atelier::makeArray();
    for (auto& r : s_.db.query("SELECT l.*, tl.added_by_id AS added_by_id, tl.created_at AS added_at FROM tickets_ticket_labels tl"
                               " JOIN tickets_labels l ON l.id = tl.label_id WHERE tl.ticket_id = ? ORDER BY l.name COLLATE NOCASE",
                               {t.integer("id")}))
        arr->add(labelJson(r));
    return arr;
}

JsonObject Labels::addToTicket(const std::string& projectId, int64_t number, int64_t labelId,
                               const std::optional<std::string>& addedBy) const {
    auto t = t_.requireRow(projectId, number);
    auto label = requireRow(labelId);
    if (label.text("project_id") != projectId) throw validation("labelId", "is not a label of this project");
    int64_t ticketId = t.integer("id");
    bool added = false;
    std::string actor;
    s_.db.transaction([&](const Db& tx) {
        if (addedBy && !profileExists(tx, *addedBy)) throw validation("added_by_id", "is not a known profile");
        auto now = nowIso();
        added = tx.exec("INSERT OR IGNORE INTO tickets_ticket_labels (ticket_id, label_id, added_by_id, created_at) VALUES (?,?,?,?)",
                        {ticketId, labelId, addedBy, now})
                    .changes == 1;
        if (added) tx.exec("UPDATE tickets_items SET last_activity_at = ?, updated_at = ? WHERE id = ?", {now, now, ticketId});
        actor = actorType(tx, addedBy.value_or(""));
    });
    if (added) {
        auto p = atelier::makeObject();
        p->set("label_id", labelId);
        p->set("label_name", label.text("name"));
        s_.emit({{makeEvent("label.added", projectId, ticketId, number, addedBy.value_or(""), actor, p), {ticketId}}});
    }
    auto o = labelJson(label);
    o->set("ticket_id", ticketId);
    o->set("added_by_id", addedBy ? Var(*addedBy) : Var());
    return o;
}

void Labels::removeFromTicket(const std::string& projectId, int64_t number, int64_t labelId,
                              const std::optional<std::string>& removedBy) const {
    auto t = t_.requireRow(projectId, number);
    auto label = requireRow(labelId);
    int64_t ticketId = t.integer("id");
    bool removed = false;
    s_.db.transaction([&](const Db& tx) {
        auto now = nowIso();
        removed = tx.exec("DELETE FROM tickets_ticket_labels WHERE ticket_id = ? AND label_id = ?", {ticketId, labelId}).changes == 1;
        if (removed) tx.exec("UPDATE tickets_items SET last_activity_at = ?, updated_at = ? WHERE id = ?", {now, now, ticketId});
    });
    if (!removed) throw notFound("Label " + std::to_string(labelId) + " is not on ticket #" + std::to_string(number), "LABEL_NOT_ON_TICKET");
    auto p = atelier::makeObject();
    p->set("label_id", labelId);
    p->set("label_name", label.text("name"));
    std::string actorId = removedBy.value_or("");
    s_.emit({{makeEvent("label.removed", projectId, ticketId, number, actorId, actorType(s_.db, actorId), p), {ticketId}}});
}

std::vector<int64_t> Labels::ensureByName(const Db& tx, const std::string& projectId, const std::vector<std::string>& names) {
    std::vector<int64_t> ids;
    for (auto& n : names) {
        if (n.empty() || n.size() > 100) throw validation("labels", "each label must be 1 to 100 characters");
        auto row = tx.one("SELECT id FROM tickets_labels WHERE project_id = ? AND name = ?", {projectId, n});
        if (row) {
            ids.push_back(row->integer("id"));
            continue;
        }
        auto now = nowIso();
        ids.push_back(
            tx.one("INSERT INTO tickets_labels (project_id, name, slug, color, is_enabled, created_at, updated_at)"
                   " VALUES (?,?,?,'#808080',1,?,?) RETURNING id",
                   {projectId, n, atelier::slugify(n), now, now})
                ->integer("id"));
    }
    return ids;
}

JsonArray Labels::triggers(int64_t labelId) const {
    requireRow(labelId);
    auto payload = atelier::makeObject();
    payload->set("labelId", labelId);
    payload->set("triggers", atelier::makeArray());
    if (s_.runHook) {
        auto run = s_.runHook("tickets.label_triggers", atelier::toJson(payload));
        auto o = run.json();
        if (!run.vetoed && o && o->getArray("triggers")) return o->getArray("triggers");
    }
    return atelier::makeArray();
}

JsonArray Labels::smartLabelIds(const std::string& projectId) const {
    auto payload = atelier::makeObject();
    payload->set("projectId", projectId);
    payload->set("ids", atelier::makeArray());
    if (s_.runHook) {
        auto run = s_.runHook("tickets.smart_label_ids", atelier::toJson(payload));
        auto o = run.json();
        if (!run.vetoed && o && o->getArray("ids")) return o->getArray("ids");
    }
    return atelier::makeArray();
}

}  // namespace tickets
