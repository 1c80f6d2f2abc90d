#include "event_bus.hpp"

#include <atelier/sdk.hpp>
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
    "SELECT id, event_type, project_id, ticket_id, ticket_number, comment_id, actor_id, actor_type,"
    " kombuse_session_id, payload, created_at FROM host_events";

int collect(void* ud, size_t, const atelier_str*, const atelier_value* v) {
    auto* out = static_cast<std::vector<StoredEvent>*>(ud);
    StoredEvent e;
    auto t = [&](int i) { return v[i].type == ATELIER_VALUE_TEXT ? std::string(sv(v[i].s)) : std::string(); };
    e.id = v[0].i;
    e.type = t(1);
    e.projectId = t(2);
    e.ticketId = t(3);
    e.ticketNumber = v[4].type == ATELIER_VALUE_INT ? v[4].i : 0;
    e.commentId = t(5);
    e.actorId = t(6);
    e.actorType = t(7);
    e.sessionId = t(8);
    e.payload = t(9);
    e.createdAt = t(10);
    out->push_back(std::move(e));
    return 0;
}
}  // namespace

bool eventTypeMatches(std::string_view pattern, std::string_view type) {
    if (pattern.empty() || pattern == "*") return true;
    if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*")
        return type.size() >= pattern.size() - 1 && type.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
    return pattern == type;
}

atelier_event StoredEvent::toAbi() const {
    auto e = initStruct<atelier_event>();
    e.id = id;
    e.event_type = as(type);
    e.project_id = as(projectId);
    e.ticket_id = as(ticketId);
    e.ticket_number = ticketNumber;
    e.comment_id = as(commentId);
    e.actor_id = as(actorId);
    e.actor_type = as(actorType);
    e.session_id = as(sessionId);
    e.payload = as(payload);
    e.created_at = as(createdAt);
    return e;
}

StoredEvent StoredEvent::fromAbi(const atelier_event& e) {
    StoredEvent s;
    s.type = std::string(sv(e.event_type));
    s.projectId = std::string(sv(e.project_id));
    s.ticketId = std::string(sv(e.ticket_id));
    s.ticketNumber = e.ticket_number;
    s.commentId = std::string(sv(e.comment_id));
    s.actorId = std::string(sv(e.actor_id));
    s.actorType = std::string(sv(e.actor_type));
    s.sessionId = std::string(sv(e.session_id));
    s.payload = std::string(sv(e.payload));
    if (ATELIER_HAS_FIELD(&e, atelier_event, created_at)) s.createdAt = std::string(sv(e.created_at));
    return s;
}

std::string StoredEvent::toJson() const {
    auto o = makeObject();
    auto nullable = [&](const char* k, const std::string& v) {
        if (v.empty()) o->set(k, Poco::Dynamic::Var());
        else o->set(k, v);
    };
    // Kombuse ids of tickets and comments are integers: emit digit strings as numbers.
    auto idValue = [&](const char* k, const std::string& v) {
        if (v.empty()) o->set(k, Poco::Dynamic::Var());
        else if (v.size() <= 18 && v.find_first_not_of("0123456789") == std::string::npos) o->set(k, std::stoll(v));
        else o->set(k, v);
    };
    o->set("id", id);
    o->set("event_type", type);
    nullable("project_id", projectId);
    idValue("ticket_id", ticketId);
    if (ticketNumber) o->set("ticket_number", ticketNumber);
    else o->set("ticket_number", Poco::Dynamic::Var());
    idValue("comment_id", commentId);
    nullable("actor_id", actorId);
    o->set("actor_type", actorType.empty() ? std::string("system") : actorType);
    nullable("kombuse_session_id", sessionId);
    auto payloadObj = parseObject(payload.empty() ? "{}" : payload);
    if (payloadObj) o->set("payload", payloadObj);
    else if (auto arr = parseArray(payload)) o->set("payload", arr);
    else o->set("payload", payload);
    o->set("created_at", createdAt);
    return atelier::toJson(o);
}

EventBus::EventBus(Storage& storage) : storage_(storage) {
    const char* ddl[] = {
        "CREATE TABLE IF NOT EXISTS host_events (id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL,"
        " project_id TEXT, ticket_id TEXT, ticket_number INTEGER, comment_id TEXT, actor_id TEXT,"
        " actor_type TEXT NOT NULL DEFAULT 'system', kombuse_session_id TEXT, payload TEXT NOT NULL DEFAULT '{}',"
        " created_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS host_events_type ON host_events(event_type)",
        "CREATE INDEX IF NOT EXISTS host_events_project ON host_events(project_id)",
        "CREATE INDEX IF NOT EXISTS host_events_ticket ON host_events(ticket_id)",
        "CREATE INDEX IF NOT EXISTS host_events_created ON host_events(created_at)",
    };
    for (auto* sql : ddl) storage_.run(nullptr, sql, nullptr, 0, nullptr, nullptr, nullptr);
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
    auto e = std::make_shared<StoredEvent>(StoredEvent::fromAbi(in));
    if (e->type.empty() || e->type.size() > 200) {
        Storage::setLastError("event_type is required (at most 200 characters)");
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
    atelier_value params[] = {text(e->type),          textOrNull(e->projectId), textOrNull(e->ticketId),
                              e->ticketNumber ? integer(e->ticketNumber) : atelier_value{},
                              textOrNull(e->commentId), textOrNull(e->actorId), text(e->actorType),
                              textOrNull(e->sessionId), text(e->payload),      text(e->createdAt)};
    auto result = initStruct<atelier_db_result>();
    auto readId = [](void* ud, size_t n, const atelier_str*, const atelier_value* v) -> int {
        if (n > 0) *static_cast<int64_t*>(ud) = v[0].i;
        return 0;
    };
    int64_t id = 0;
    // `result` as well as a row callback: straight to the writer, no reader round trip.
    int rc = storage_.run(nullptr,
                          "INSERT INTO host_events (event_type, project_id, ticket_id, ticket_number, comment_id,"
                          " actor_id, actor_type, kombuse_session_id, payload, created_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                          params, 10, readId, &id, &result);
    if (rc != ATELIER_OK) return rc;
    e->id = id;
    if (outId) *outId = e->id;
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

int64_t EventBus::subscribeBatch(BatchHandler handler) {
    std::lock_guard lock(subsMutex_);
    batchSubs_.emplace_back(++nextSubId_, std::make_shared<BatchHandler>(std::move(handler)));
    return nextSubId_;
}

void EventBus::unsubscribeBatch(int64_t id) {
    std::lock_guard lock(subsMutex_);
    std::erase_if(batchSubs_, [&](const auto& s) { return s.first == id; });
}

void EventBus::removeOwner(const ModuleRecord* owner) {
    std::lock_guard lock(subsMutex_);
    std::erase_if(subs_, [&](const auto& s) { return s->owner.get() == owner; });
}

void EventBus::run() {
    while (true) {
        std::deque<std::shared_ptr<const StoredEvent>> batch;
        {
            std::unique_lock lock(queueMutex_);
            queueCv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() && stopping_) return;
            batch.swap(queue_);
        }
        std::vector<std::shared_ptr<Sub>> subs;
        std::vector<std::shared_ptr<BatchHandler>> batchSubs;
        {
            std::lock_guard lock(subsMutex_);
            subs = subs_;
            for (auto& [id, h] : batchSubs_) batchSubs.push_back(h);
        }
        if (!batchSubs.empty()) {
            std::vector<std::shared_ptr<const StoredEvent>> all(batch.begin(), batch.end());
            for (auto& h : batchSubs) {
                try {
                    (*h)(all);
                } catch (...) {
                }
            }
        }
        for (auto& e : batch) {
            for (auto& s : subs) {
                if (!eventTypeMatches(s->pattern, e->type)) continue;
                try {
                    InflightGuard guard(s->owner.get());
                    s->handler(e);
                } catch (...) {
                }
            }
        }
    }
}

std::vector<StoredEvent> EventBus::query(const EventFilter& f, int64_t* total) const {
    std::string where = " WHERE 1=1";
    std::vector<std::string> texts;
    std::vector<atelier_value> params;
    texts.reserve(8);
    auto addText = [&](const char* clause, const std::string& v) {
        where += clause;
        texts.push_back(v);
    };
    if (!f.eventType.empty()) addText(" AND event_type = ?", f.eventType);
    if (!f.projectId.empty()) addText(" AND project_id = ?", f.projectId);
    if (!f.ticketId.empty()) addText(" AND ticket_id = ?", f.ticketId);
    if (!f.actorId.empty()) addText(" AND actor_id = ?", f.actorId);
    if (!f.actorType.empty()) addText(" AND actor_type = ?", f.actorType);
    if (!f.since.empty()) addText(" AND created_at > ?", f.since);
    for (auto& t : texts) params.push_back(text(t));
    if (f.afterId > 0) {
        where += " AND id > ?";
        params.push_back(integer(f.afterId));
    }
    if (total) {
        int64_t n = 0;
        auto count = [](void* ud, size_t, const atelier_str*, const atelier_value* v) {
            *static_cast<int64_t*>(ud) = v[0].i;
            return 0;
        };
        storage_.run(nullptr, "SELECT COUNT(*) FROM host_events" + where, params.data(), params.size(), count, &n, nullptr);
        *total = n;
    }
    std::string sql = std::string(kSelect) + where + (f.newestFirst ? " ORDER BY id DESC" : " ORDER BY id ASC") +
                      " LIMIT ? OFFSET ?";
    params.push_back(integer(f.limit));
    params.push_back(integer(f.offset));
    std::vector<StoredEvent> out;
    storage_.run(nullptr, sql, params.data(), params.size(), collect, &out, nullptr);
    return out;
}

std::vector<StoredEvent> EventBus::after(int64_t afterId, std::string_view pattern, int64_t limit) const {
    std::vector<StoredEvent> out;
    std::string sql = std::string(kSelect) + " WHERE id > ?";
    std::vector<atelier_value> params{integer(afterId)};
    std::string like;
    if (!pattern.empty() && pattern != "*") {
        if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*") {
            like = std::string(pattern.substr(0, pattern.size() - 1)) + "%";
            sql += " AND event_type LIKE ?";
        } else {
            like = std::string(pattern);
            sql += " AND event_type = ?";
        }
        params.push_back(text(like));
    }
    sql += " ORDER BY id ASC LIMIT ?";
    params.push_back(integer(limit));
    storage_.run(nullptr, sql, params.data(), params.size(), collect, &out, nullptr);
    return out;
}

int64_t EventBus::lastId() const {
    int64_t n = 0;
    auto cb = [](void* ud, size_t, const atelier_str*, const atelier_value* v) {
        *static_cast<int64_t*>(ud) = v[0].type == ATELIER_VALUE_INT ? v[0].i : 0;
        return 0;
    };
    storage_.run(nullptr, "SELECT MAX(id) FROM host_events", nullptr, 0, cb, &n, nullptr);
    return n;
}

}  // namespace atelier::host
