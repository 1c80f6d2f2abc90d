#include "tasks.hpp"

#include "labels.hpp"

#include <map>
#include <set>

namespace tickets {

namespace {

constexpr const char* kLocalUser = "user-1";

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}
std::string lowerStr(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool validBranch(const std::string& b) {
    if (b.empty() || b.size() > 200 || b.front() == '-' || b.front() == '/' || b.back() == '/' || b.back() == '.') return false;
    if (b.find("..") != std::string::npos || b.find("//") != std::string::npos || b.find("@{") != std::string::npos) return false;
    for (unsigned char c : b)
        if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/')) return false;
    return b.size() < 5 || b.compare(b.size() - 5, 5, ".lock") != 0;
}

std::string headersFor(const std::string& projectId) {
    auto h = atelier::makeObject();
    h->set("X-Atelier-Project", projectId);
    return atelier::toJson(h);
}

DomainError forwarded(const CallResult& r, const std::string& fallback) {
    auto o = r.json();
    std::string code = o ? o->optValue<std::string>("code", "WORKTREE_ERROR") : "WORKTREE_ERROR";
    std::string msg = o ? o->optValue<std::string>("error", fallback) : fallback;
    DomainError e(DomainError::Kind::Upstream, code, msg);
    e.upstreamStatus = r.status;
    return e;
}

JsonObject worktreeOf(const JsonObject& o) {
    if (!o) return nullptr;
    if (auto w = o->getObject("worktree")) return w;
    if (o->has("id")) return o;
    return nullptr;
}

}  // namespace

std::string taskStatus(const std::string& s) {
    if (s == "in_progress") return "in-progress";
    if (s == "closed") return "done";
    return "todo";
}
std::string ticketStatus(const std::string& s) {
    if (s == "todo") return "open";
    if (s == "in-progress") return "in_progress";
    if (s == "done") return "closed";
    return "";
}
std::string taskPriority(const Var& p) {
    if (p.isEmpty()) return "medium";
    auto n = p.convert<int64_t>();
    if (n >= 3) return "high";
    if (n == 2) return "medium";
    return "low";
}
int64_t ticketPriority(const std::string& p) {
    if (p == "high") return 3;
    if (p == "medium") return 2;
    if (p == "low") return 1;
    return -1;
}

std::string Tasks::prefix(const std::string& projectId) const {
    if (!env_.call) return "LOCAL";
    auto r = env_.call("GET", "/api/config?project=" + urlEncode(projectId), "", headersFor(projectId));
    auto o = r.status == 200 ? r.json() : nullptr;
    if (!o) return "LOCAL";
    JsonObject cfg = o->has("localIssuePrefix") ? o : o->getObject("config");
    if (!cfg) return "LOCAL";
    auto v = cfg->optValue<std::string>("localIssuePrefix", "");
    if (v.empty() || v.size() > 20) return "LOCAL";
    for (unsigned char c : v)
        if (!std::isalnum(c)) return "LOCAL";
    return v;
}

Row Tasks::requireTask(const atelier::ActiveProject& p, const std::string& id, std::string* identifier) const {
    auto pre = prefix(p.id);
    std::string digits;
    auto dash = id.rfind('-');
    if (dash == std::string::npos) digits = id;
    else if (upper(id.substr(0, dash)) == upper(pre)) digits = id.substr(dash + 1);
    bool ok = !digits.empty() && digits.size() <= 12 &&
              std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
    std::optional<Row> row;
    if (ok) row = t_.findRow(p.id, std::stoll(digits));
    if (!row) throw notFound("Task not found", "TASK_NOT_FOUND");
    if (identifier) *identifier = pre + "-" + row->text("ticket_number");
    return *row;
}

JsonObject Tasks::taskJson(const Row& r, const std::string& pre, const std::string& projectId, bool withAttachments) const {
    std::string ident = pre + "-" + r.text("ticket_number");
    int64_t id = r.integer("id");
    auto o = atelier::makeObject();
    o->set("id", ident);
    o->set("identifier", ident);
    o->set("number", r.integer("ticket_number"));
    o->set("title", r.text("title"));
    o->set("description", r.text("body"));
    o->set("status", taskStatus(r.text("status")));
    o->set("priority", taskPriority(r.var("priority")));
    auto labels = atelier::makeArray();
    for (auto& l : s_.db.query("SELECT l.name FROM tickets_ticket_labels tl JOIN tickets_labels l ON l.id = tl.label_id WHERE tl.ticket_id = ?"
                               " ORDER BY l.name COLLATE NOCASE",
                               {id}))
        labels->add(l.text("name"));
    o->set("labels", labels);
    auto linked = n_.linkedWorktree(projectId, "local", ident);
    o->set("linkedWorktreeId", linked ? Var(*linked) : Var());
    auto files = s_.db.query("SELECT * FROM tickets_attachments WHERE ticket_id = ? ORDER BY created_at, id", {id});
    o->set("attachmentCount", static_cast<int64_t>(files.size()));
    o->set("ticketId", id);
    o->set("ticketStatus", r.text("status"));
    o->set("createdAt", r.text("created_at"));
    o->set("updatedAt", r.text("updated_at"));
    if (withAttachments) {
        auto arr = atelier::makeArray();
        for (auto& f : files) {
            auto a = atelier::makeObject();
            a->set("filename", f.text("filename"));
            a->set("mimeType", f.text("mime_type"));
            a->set("size", f.integer("size_bytes"));
            a->set("localPath", a_.absolutePath(f.text("storage_path")));
            a->set("createdAt", f.text("created_at"));
            arr->add(a);
        }
        o->set("attachments", arr);
    }
    return o;
}

JsonArray Tasks::list(const atelier::ActiveProject& p) const {
    auto pre = prefix(p.id);
    auto arr = atelier::makeArray();
    for (auto& r : s_.db.query("SELECT * FROM tickets_items WHERE project_id = ? ORDER BY ticket_number LIMIT 1000", {p.id}))
        arr->add(taskJson(r, pre, p.id, false));
    return arr;
}

JsonObject Tasks::get(const atelier::ActiveProject& p, const std::string& id) const {
    auto row = requireTask(p, id);
    return taskJson(row, prefix(p.id), p.id, true);
}

namespace {

// The ticket body for a task create/update body (validated).
JsonObject ticketBodyFor(const JsonObject& body, bool create) {
    auto out = atelier::makeObject();
    if (create || presence(body, "title").present) out->set("title", stringField(body, "title", 500));
    if (presence(body, "description").present) {
        auto d = optStringField(body, "description", 100000);
        out->set("body", d ? Var(*d) : Var());
    }
    if (presence(body, "status").present) {
        auto st = optStringField(body, "status", 32);
        auto mapped = st ? ticketStatus(*st) : "";
        if (mapped.empty()) throw validation("status", "must be todo, in-progress or done");
        out->set("status", mapped);
    }
    if (presence(body, "priority").present || create) {
        auto pr = create && !presence(body, "priority").present ? std::optional<std::string>("medium") : optStringField(body, "priority", 16);
        auto mapped = pr ? ticketPriority(*pr) : -1;
        if (mapped < 0) throw validation("priority", "must be high, medium or low");
        out->set("priority", mapped);
    }
    return out;
}

}  // namespace

JsonObject Tasks::create(const atelier::ActiveProject& p, const JsonObject& body) const {
    auto tb = ticketBodyFor(body, true);
    auto labels = stringArrayField(body, "labels");
    std::vector<int64_t> ids;
    s_.db.transaction([&](const Db& tx) { ids = Labels::ensureByName(tx, p.id, labels); });
    auto t = t_.create(p.id, NewTicket{kLocalUser, parseTicketFields(tb, true), ids, std::nullopt});
    return taskJson(*t_.findById(t->getValue<int64_t>("id")), prefix(p.id), p.id, false);
}

void Tasks::replaceLabels(const std::string& projectId, const Row& ticket, const std::vector<std::string>& names) const {
    int64_t id = ticket.integer("id");
    std::vector<std::pair<std::string, int64_t>> added, removed;
    s_.db.transaction([&](const Db& tx) {
        auto wanted = Labels::ensureByName(tx, projectId, names);
        std::set<int64_t> want(wanted.begin(), wanted.end());
        std::set<int64_t> have;
        for (auto& r : tx.query("SELECT label_id FROM tickets_ticket_labels WHERE ticket_id = ?", {id})) have.insert(r.integer("label_id"));
        auto now = nowIso();
        for (auto l : want)
            if (!have.count(l)) {
                tx.exec("INSERT INTO tickets_ticket_labels (ticket_id, label_id, added_by_id, created_at) VALUES (?,?,?,?)", {id, l, kLocalUser, now});
                added.emplace_back("label.added", l);
            }
        for (auto l : have)
            if (!want.count(l)) {
                tx.exec("DELETE FROM tickets_ticket_labels WHERE ticket_id = ? AND label_id = ?", {id, l});
                removed.emplace_back("label.removed", l);
            }
        if (!added.empty() || !removed.empty())
            tx.exec("UPDATE tickets_items SET updated_at = ?, last_activity_at = ? WHERE id = ?", {now, now, id});
    });
    std::vector<PendingEvent> events;
    for (auto* list : {&added, &removed})
        for (auto& [type, l] : *list) {
            auto pl = atelier::makeObject();
            pl->set("label_id", l);
            events.push_back({makeEvent(type, projectId, id, ticket.integer("ticket_number"), kLocalUser, "user", pl), {id}});
        }
    s_.emit(events);
}

JsonObject Tasks::update(const atelier::ActiveProject& p, const std::string& id, const JsonObject& body) const {
    auto row = requireTask(p, id);
    auto tb = ticketBodyFor(body, false);
    bool hasLabels = presence(body, "labels").present;
    auto labels = stringArrayField(body, "labels");
    if (tb->size() == 0 && !hasLabels) throw validation("body", "must contain at least one field to update");
    if (tb->size() > 0) {
        t_.update(p.id, row.integer("ticket_number"),
                  TicketUpdate{std::string(kLocalUser), parseTicketFields(tb, false)});
    }
    if (hasLabels) replaceLabels(p.id, row, labels);
    return taskJson(*t_.findById(row.integer("id")), prefix(p.id), p.id, false);
}

void Tasks::remove(const atelier::ActiveProject& p, const std::string& id) const {
    std::string ident;
    auto row = requireTask(p, id, &ident);
    t_.remove(p.id, row.integer("ticket_number"), kLocalUser);
    n_.removeAll(p.id, "local", ident);
}

JsonObject Tasks::recover(const atelier::ActiveProject& p, const JsonObject& body) const {
    auto taskId = stringField(body, "taskId", 64);
    auto dash = taskId.rfind('-');
    std::string digits = dash == std::string::npos ? "" : taskId.substr(dash + 1);
    bool ok = dash != std::string::npos && dash > 0 && !digits.empty() && digits.size() <= 12 &&
              std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }) &&
              std::all_of(taskId.begin(), taskId.begin() + static_cast<long>(dash), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
    if (!ok)
        throw DomainError(DomainError::Kind::Invalid, "INVALID_TASK_ID", "Invalid taskId format",
                          {{"taskId", "must look like LOCAL-1"}});
    auto pre = prefix(p.id);
    if (upper(taskId.substr(0, dash)) != upper(pre))
        throw DomainError(DomainError::Kind::Invalid, "INVALID_TASK_ID",
                          "taskId must use the project's local issue prefix " + pre,
                          {{"taskId", "must start with " + pre + "-"}});
    int64_t number = std::stoll(digits);
    if (number < 1)
        throw DomainError(DomainError::Kind::Invalid, "INVALID_TASK_ID", "Invalid taskId format",
                          {{"taskId", "number must be positive"}});
    std::string ident = pre + "-" + std::to_string(number);
    auto tb = ticketBodyFor(body, false);
    if (!tb->has("title")) tb->set("title", "Recovered task " + ident);
    if (!tb->has("priority")) tb->set("priority", 2);
    auto labels = stringArrayField(body, "labels");
    // The canonical worktree must exist.
    std::string worktreeId = ident;
    {
        CallResult r;
        if (env_.call) r = env_.call("GET", "/api/worktrees/" + urlEncode(ident) + "?project=" + urlEncode(p.id), "", headersFor(p.id));
        auto w = r.status == 200 ? worktreeOf(r.json()) : nullptr;
        if (!w) throw notFound("Canonical worktree " + ident + " not found", "WORKTREE_NOT_FOUND");
        worktreeId = w->optValue<std::string>("id", ident);
    }
    if (t_.findRow(p.id, number)) throw conflict("Task metadata for " + ident + " already exists", "TASK_EXISTS");
    std::vector<int64_t> ids;
    s_.db.transaction([&](const Db& tx) { ids = Labels::ensureByName(tx, p.id, labels); });
    auto t = t_.create(p.id, NewTicket{kLocalUser, parseTicketFields(tb, true), ids, std::nullopt}, number);
    n_.link(p.id, "local", ident, worktreeId);
    auto out = atelier::makeObject();
    out->set("success", true);
    out->set("task", taskJson(*t_.findById(t->getValue<int64_t>("id")), pre, p.id, false));
    out->set("linkedWorktreeId", worktreeId);
    return out;
}

Tasks::WorktreeResult Tasks::createWorktree(const atelier::ActiveProject& p, const std::string& id, const JsonObject& body) const {
    std::string ident;
    auto row = requireTask(p, id, &ident);
    auto branchOpt = optStringField(body, "branch", 200);
    if (branchOpt && !validBranch(*branchOpt)) throw validation("branch", "is not a valid branch name");
    std::string branch = branchOpt.value_or("");
    if (branch.empty()) {
        branch = lowerStr(ident);
        auto slug = atelier::slugify(row.text("title"));
        if (slug.size() > 50) slug = slug.substr(0, 50);
        while (!slug.empty() && slug.back() == '-') slug.pop_back();
        if (!slug.empty()) branch += "-" + slug;
    }
    if (!env_.call)
        throw DomainError(DomainError::Kind::Unavailable, "WORKTREES_UNAVAILABLE",
                          "The worktrees module is not loaded");
    std::string q = "?project=" + urlEncode(p.id);
    auto headers = headersFor(p.id);
    auto reuse = [&](const std::string& wid, const std::string& path) {
        n_.link(p.id, "local", ident, wid);
        auto o = atelier::makeObject();
        o->set("success", true);
        o->set("worktreeId", wid);
        o->set("worktreePath", path);
        o->set("reusedExisting", true);
        return WorktreeResult{false, o};
    };
    auto listed = env_.call("GET", "/api/worktrees" + q, "", headers);
    auto lo = listed.json();
    if (listed.status == 404 && (!lo || lo->optValue<std::string>("code", "") == "NOT_FOUND"))
        throw DomainError(DomainError::Kind::Unavailable, "WORKTREES_UNAVAILABLE",
                          "The worktrees module is not loaded; cannot create a worktree");
    if (listed.status != 200) throw forwarded(listed, "Could not list worktrees");
    if (auto arr = lo ? lo->getArray("worktrees") : nullptr) {
        for (size_t i = 0; i < arr->size(); ++i) {
            auto w = arr->getObject(static_cast<unsigned>(i));
            if (w && upper(w->optValue<std::string>("id", "")) == upper(ident))
                return reuse(w->optValue<std::string>("id", ident), w->optValue<std::string>("path", ""));
        }
    }
    auto req = atelier::makeObject();
    req->set("branch", branch);
    req->set("id", ident);
    req->set("name", ident);
    auto created = env_.call("POST", "/api/worktrees" + q, atelier::toJson(req), headers);
    auto co = created.json();
    if (created.status == 200 || created.status == 201) {
        auto w = worktreeOf(co);
        std::string wid = w ? w->optValue<std::string>("id", ident) : ident;
        n_.link(p.id, "local", ident, wid);
        auto o = atelier::makeObject();
        o->set("success", true);
        o->set("worktree", w ? Var(w) : Var());
        o->set("reusedExisting", false);
        return {true, o};
    }
    if (co && co->optValue<std::string>("code", "") == "WORKTREE_EXISTS") {
        std::string wid = co->optValue<std::string>("worktreeId", ident);
        auto got = env_.call("GET", "/api/worktrees/" + urlEncode(wid) + q, "", headers);
        auto w = got.status == 200 ? worktreeOf(got.json()) : nullptr;
        return reuse(wid, w ? w->optValue<std::string>("path", "") : "");
    }
    throw forwarded(created, "Could not create the worktree");
}

JsonObject Tasks::attach(const atelier::ActiveProject& p, const std::string& id, const Upload& up) const {
    auto row = requireTask(p, id);
    auto type = checkedType(up, taskTypes());
    std::string uploader = kLocalUser;
    if (up.uploadedById) {
        if (!profileExists(s_.db, *up.uploadedById)) throw validation("uploaded_by_id", "is not a known profile");
        uploader = *up.uploadedById;
    }
    int64_t ticketId = row.integer("id");
    std::set<std::string> names;
    for (auto& r : s_.db.query("SELECT filename FROM tickets_attachments WHERE ticket_id = ?", {ticketId})) names.insert(r.text("filename"));
    std::string name = up.filename;
    auto dot = name.rfind('.');
    std::string base = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
    std::string ext = dot == std::string::npos || dot == 0 ? "" : name.substr(dot);
    for (int i = 1; names.count(name); ++i) name = base + "_" + std::to_string(i) + ext;
    auto aid = a_.store(AttachTarget::ticket(ticketId), name, type, up.data, uploader);
    auto f = a_.get(aid);
    auto o = atelier::makeObject();
    o->set("filename", name);
    o->set("mimeType", type);
    o->set("size", static_cast<int64_t>(up.data.size()));
    o->set("localPath", a_.absolutePath(f->getValue<std::string>("storage_path")));
    o->set("createdAt", f->get("created_at"));
    return o;
}

FileData Tasks::attachment(const atelier::ActiveProject& p, const std::string& id, const std::string& filename) const {
    auto row = requireTask(p, id);
    auto a = s_.db.one("SELECT id FROM tickets_attachments WHERE ticket_id = ? AND filename = ? ORDER BY id LIMIT 1", {row.integer("id"), filename});
    if (!a) throw notFound("Attachment not found", "ATTACHMENT_NOT_FOUND");
    return a_.read(a->integer("id"));
}

void Tasks::detach(const atelier::ActiveProject& p, const std::string& id, const std::string& filename) const {
    auto row = requireTask(p, id);
    auto a = s_.db.one("SELECT id FROM tickets_attachments WHERE ticket_id = ? AND filename = ? ORDER BY id LIMIT 1", {row.integer("id"), filename});
    if (!a) throw notFound("Attachment not found", "ATTACHMENT_NOT_FOUND");
    a_.remove(a->integer("id"));
}

}  // namespace tickets
