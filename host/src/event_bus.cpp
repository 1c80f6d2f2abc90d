#include "event_bus.hpp"

#include <atelier/util.hpp>

namespace atelier::host {

namespace {
std::string_view sv(atelier_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }
atelier_str as(const std::string& s) { return atelier_str{s.data(), s.size()}; }

atelier_value text(const std::string& s) {
    atelier_value v{};
    v.type = ATELIER_VALUE_TEXT;
    v.s = as(s);
    return v;
}
atelier_value textOrNull(const std::string& s) {
    atelier_value v{};
    if (s.empty()) return v;
    return text(s);
}
atelier_value integer(int64_t i) {
    atelier_value v{};
    v.type = ATELIER_VALUE_INT;
    v.i = i;
    return v;
}

const char* kSelect =
    "SELECT id, type, subject, project_id, actor_id, actor_type, payload, created_at FROM host_events";

int collect(void* ud, size_t, const atelier_str*, const atelier_value* v) {
    auto* out = static_cast<std::vector<Event>*>(ud);
    auto t = [&](int i) { return v[i].type == ATELIER_VALUE_TEXT ? std::string(sv(v[i].s)) : std::string(); };
    Event e;
    e.id = v[0].i;
    e.type = t(1);
    e.subject = t(2);
    e.projectId = t(3);
    e.actorId = t(4);
    e.actorType = t(5);
    e.payload = t(6);
    e.createdAt = t(7);
    out->push_back(std::move(e));
    return 0;
}

int readId(void* ud, size_t, const atelier_str*, const atelier_value* v) {
    *static_cast<int64_t*>(ud) = v[0].type == ATELIER_VALUE_INT ? v[0].i : 0;
    return 0;
}
}  // namespace

EventBus::EventBus(Storage& storage) : storage_(storage) {
    migrateLegacyTable();
    const char* ddl[] = {
        "CREATE TABLE IF NOT EXISTS host_events (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL,"
        " subject TEXT, project_id TEXT, actor_id TEXT, actor_type TEXT NOT NULL DEFAULT 'system',"
        " payload TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS host_events_type ON host_events(type)",
        "CREATE INDEX IF NOT EXISTS host_events_project ON host_events(project_id)",
        "CREATE INDEX IF NOT EXISTS host_events_subject ON host_events(subject)",
        "CREATE INDEX IF NOT EXISTS host_events_created ON host_events(created_at)",
    };
    for (auto* sql : ddl) storage_.run(nullptr, sql, nullptr, 0, nullptr, nullptr, nullptr);
}

// Before the generic envelope the log had Kombuse columns (ticket_id, ticket_number,
// comment_id, kombuse_session_id). Their values move to `subject` ("ticket/<id>") and into
// the payload, where the Kombuse event product reads them; ids keep their values.
void EventBus::migrateLegacyTable() {
    int64_t legacy = 0;
    storage_.run(nullptr, "SELECT COUNT(*) FROM pragma_table_info('host_events') WHERE name = 'kombuse_session_id'",
                 nullptr, 0, readId, &legacy, nullptr);
    if (!legacy) return;
    storage_.transaction([&](void* txn) {
        const char* steps[] = {
            "ALTER TABLE host_events RENAME TO host_events_legacy",
            "DROP INDEX IF EXISTS host_events_type",
            "DROP INDEX IF EXISTS host_events_project",
            "DROP INDEX IF EXISTS host_events_ticket",
            "DROP INDEX IF EXISTS host_events_created",
            "CREATE TABLE host_events (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, subject TEXT,"
            " project_id TEXT, actor_id TEXT, actor_type TEXT NOT NULL DEFAULT 'system',"
            " payload TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL)",
            "INSERT INTO host_events (id, type, subject, project_id, actor_id, actor_type, payload, created_at)"
            " SELECT id, event_type, CASE WHEN ticket_id IS NULL OR ticket_id = '' THEN NULL ELSE 'ticket/' || "
            "ticket_id END,"
            " project_id, actor_id, actor_type,"
            " CASE WHEN json_valid(payload) AND json_type(payload) = 'object' THEN json_patch(payload,"
            " json_object('ticket_number', ticket_number, 'comment_id', comment_id, 'kombuse_session_id',"
            " kombuse_session_id)) ELSE payload END, created_at FROM host_events_legacy ORDER BY id",
            "DROP TABLE host_events_legacy",
        };
        for (auto* sql : steps)
            if (int rc = storage_.run(txn, sql, nullptr, 0, nullptr, nullptr, nullptr); rc != ATELIER_OK) return rc;
        return static_cast<int>(ATELIER_OK);
    });
}

EventBus::~EventBus() { stop(); }

void EventBus::start() {
    std::lock_guard lock(queueMutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void EventBus::stop() {
    {
        std::lock_guard lock(queueMutex_);
        stopping_ = true;
    }
    queueCv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

int EventBus::publish(const atelier_event& in, int64_t* outId) {
    auto e = std::make_shared<Event>(Event::fromAbi(&in));
    if (e->type.empty() || e->type.size() > 200) {
        Storage::setLastError("type is required (at most 200 characters)");
        return ATELIER_ERR_INVALID;
    }
    if (e->subject.size() > 400) {
        Storage::setLastError("subject must be at most 400 characters");
        return ATELIER_ERR_INVALID;
    }
    if (e->actorType.empty()) e->actorType = "system";
    if (e->actorType != "user" && e->actorType != "agent" && e->actorType != "system") {
        Storage::setLastError("actor_type must be user, agent or system");
        return ATELIER_ERR_INVALID;
    }
    if (e->payload.empty()) e->payload = "{}";
    e->createdAt = nowIso();
    std::lock_guard lock(publishMutex_);  // id order == delivery order
    atelier_value params[] = {text(e->type),          textOrNull(e->subject), textOrNull(e->projectId),
                              textOrNull(e->actorId), text(e->actorType),     text(e->payload),
                              text(e->createdAt)};
    int64_t id = 0;
    int rc =
        storage_.run(nullptr,
                     "INSERT INTO host_events (type, subject, project_id, actor_id, actor_type, payload, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                     params, 7, readId, &id, nullptr);
    if (rc != ATELIER_OK) return rc;
    e->id = id;
    if (outId) *outId = id;
    {
        std::lock_guard q(queueMutex_);
        queue_.push_back(std::move(e));
    }
    queueCv_.notify_one();
    return ATELIER_OK;
}

int64_t EventBus::subscribe(std::string pattern, Handler handler, std::shared_ptr<ModuleRecord> owner) {
    std::lock_guard lock(subsMutex_);
    auto s = std::make_shared<Sub>(Sub{++nextSubId_, std::move(pattern), std::move(handler), std::move(owner)});
    subs_.push_back(s);
    return s->id;
}

void EventBus::unsubscribe(int64_t id) {
    std::lock_guard lock(subsMutex_);
    std::erase_if(subs_, [&](const auto& s) { return s->id == id; });
}

void EventBus::removeOwner(const ModuleRecord* owner) {
    std::lock_guard lock(subsMutex_);
    std::erase_if(subs_, [&](const auto& s) { return s->owner.get() == owner; });
}

void EventBus::run() {
    while (true) {
        std::deque<std::shared_ptr<const Event>> batch;
        {
            std::unique_lock lock(queueMutex_);
            queueCv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() && stopping_) return;
            batch.swap(queue_);
        }
        std::vector<std::shared_ptr<Sub>> subs;
        {
            std::lock_guard lock(subsMutex_);
            subs = subs_;
        }
        for (auto& e : batch) {
            for (auto& s : subs) {
                if (!eventTypeMatches(s->pattern, e->type)) continue;
                try {
                    InflightGuard guard(s->owner.get());
                    s->handler(*e);
                } catch (...) {
                }
            }
        }
    }
}

int EventBus::query(const EventQuery& q, std::vector<Event>& out, int64_t* total) const {
    std::string where = " WHERE 1=1";
    std::vector<std::string> texts;
    std::vector<atelier_value> params;
    texts.reserve(16);
    auto addText = [&](const char* clause, const std::string& v) {
        where += clause;
        texts.push_back(v);
    };
    // Type patterns: exact names and "prefix.*" (compared with substr, so '_' and '%' in a
    // type are plain characters); "*" anywhere in the list means every type.
    std::vector<std::string> patterns;
    bool anyType = q.types.empty();
    for (size_t start = 0; !anyType && start <= q.types.size();) {
        size_t comma = q.types.find(',', start);
        std::string p = q.types.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (p.empty() || p == "*") anyType = true;
        patterns.push_back(std::move(p));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (!anyType) {
        if (patterns.size() > 50) {
            Storage::setLastError("at most 50 type patterns");
            return ATELIER_ERR_INVALID;
        }
        where += " AND (";
        for (size_t i = 0; i < patterns.size(); ++i) {
            const auto& p = patterns[i];
            bool prefix = p.size() >= 2 && p.compare(p.size() - 2, 2, ".*") == 0;
            std::string clause = prefix ? "substr(type, 1, " + std::to_string(p.size() - 1) + ") = ?" : "type = ?";
            where += (i ? " OR " : "") + clause;
            texts.push_back(prefix ? p.substr(0, p.size() - 1) : p);
        }
        where += ")";
    }
    if (!q.subject.empty()) addText(" AND subject = ?", q.subject);
    if (!q.projectId.empty()) addText(" AND project_id = ?", q.projectId);
    if (!q.actorId.empty()) addText(" AND actor_id = ?", q.actorId);
    if (!q.actorType.empty()) addText(" AND actor_type = ?", q.actorType);
    if (!q.since.empty()) addText(" AND created_at > ?", q.since);
    for (auto& t : texts) params.push_back(text(t));
    if (q.afterId > 0) {
        where += " AND id > ?";
        params.push_back(integer(q.afterId));
    }
    if (q.maxId > 0) {
        where += " AND id <= ?";
        params.push_back(integer(q.maxId));
    }
    if (total) {
        int64_t n = 0;
        int rc = storage_.run(nullptr, "SELECT COUNT(*) FROM host_events" + where, params.data(), params.size(), readId,
                              &n, nullptr);
        if (rc != ATELIER_OK) return rc;
        *total = n;
    }
    int64_t limit = q.limit <= 0 ? 100 : std::min<int64_t>(q.limit, 10000);
    std::string sql =
        std::string(kSelect) + where + (q.newestFirst ? " ORDER BY id DESC" : " ORDER BY id ASC") + " LIMIT ? OFFSET ?";
    params.push_back(integer(limit));
    params.push_back(integer(std::max<int64_t>(q.offset, 0)));
    return storage_.run(nullptr, sql, params.data(), params.size(), collect, &out, nullptr);
}

int64_t EventBus::lastId() const {
    int64_t n = 0;
    storage_.run(nullptr, "SELECT MAX(id) FROM host_events", nullptr, 0, readId, &n, nullptr);
    return n;
}

}  // namespace atelier::host
