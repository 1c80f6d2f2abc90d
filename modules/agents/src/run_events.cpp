#include "run_events.hpp"

#include <Poco/JSONString.h>

#include <string_view>

namespace agents {

std::vector<std::string> RunEventLog::migrations() {
    return {
        "CREATE TABLE agents_run_events (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,"
        " sequence INTEGER NOT NULL, event_type TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}',"
        " created_at TEXT NOT NULL, UNIQUE(run_id, sequence))",
    };
}

JsonObject RunEvent::toJson() const {
    auto o = atelier::makeObject();
    o->set("id", id);
    o->set("run_id", runId);
    o->set("sequence", sequence);
    o->set("event_type", type);
    auto p = parseAny(payload);
    o->set("payload", p.isEmpty() ? Poco::Dynamic::Var(atelier::makeObject()) : p);
    o->set("created_at", createdAt);
    return o;
}

// The same object as toJson(), written directly: the payload is already JSON text, and an SSE
// frame is rendered for every event, so parsing it back only to print it again is waste.
std::string RunEvent::toJsonText() const {
    std::string t;
    t.reserve(payload.size() + runId.size() + type.size() + 128);
    t += "{\"id\":" + std::to_string(id);
    t += ",\"run_id\":" + Poco::toJSON(runId);
    t += ",\"sequence\":" + std::to_string(sequence);
    t += ",\"event_type\":" + Poco::toJSON(type);
    t += ",\"payload\":";
    t += payload.empty() ? std::string_view("{}") : std::string_view(payload);
    t += ",\"created_at\":" + Poco::toJSON(createdAt);
    t += '}';
    return t;
}

std::string RunEventLog::frame(const RunEvent& e) {
    std::string data = e.toJsonText();
    std::string m;
    m.reserve(data.size() + e.type.size() + 40);
    m += "id: " + std::to_string(e.id) + "\n";
    m += "event: " + e.type + "\n";
    m += "data: " + data + "\n\n";  // compact JSON has no raw newlines
    return m;
}

RunEvent RunEventLog::append(const std::string& runId, const std::string& type, const JsonObject& payload) {
    Pending p;
    p.event.runId = runId;
    p.event.type = type;
    p.event.payload = atelier::toJson(payload ? payload : atelier::makeObject());
    p.event.createdAt = atelier::nowIso();
    bool lead;
    {
        std::lock_guard lk(queueMutex_);
        queue_.push_back(&p);
        lead = !flushing_;
        if (lead) flushing_ = true;
    }
    if (!lead) p.ready.acquire();  // written by a leader, or promoted to lead
    if (!p.done) {
        std::vector<Pending*> batch;
        {
            std::lock_guard lk(queueMutex_);
            batch.swap(queue_);  // holds p: it queued before leading
        }
        flush(batch);
        Pending* next = nullptr;
        {
            std::lock_guard lk(queueMutex_);
            if (queue_.empty()) flushing_ = false;
            else next = queue_.front();
        }
        for (auto* b : batch) {
            if (b == &p) continue;
            b->done = true;
            b->ready.release();
        }
        p.done = true;
        if (next) next->ready.release();  // not done: it leads the next batch
    }
    if (p.error) std::rethrow_exception(p.error);
    return p.event;
}

void RunEventLog::flush(std::vector<Pending*>& batch) {
    std::lock_guard lock(mutex_);
    try {
        auto write = [&](const atelier::Db& tx) {
            for (auto* p : batch) {
                auto& e = p->event;
                auto it = nextSeq_.find(e.runId);
                if (it == nextSeq_.end()) {
                    auto row = tx.one("SELECT COALESCE(MAX(sequence), 0) AS m FROM agents_run_events WHERE run_id = ?", {e.runId});
                    it = nextSeq_.emplace(e.runId, row->integer("m") + 1).first;
                }
                e.sequence = it->second++;
                e.id = tx.one(
                             "INSERT INTO agents_run_events (run_id, sequence, event_type, payload, created_at)"
                             " VALUES (?,?,?,?,?) RETURNING id",
                             {e.runId, e.sequence, e.type, e.payload, e.createdAt})
                           ->integer("id");
            }
        };
        if (batch.size() == 1) write(db_);  // one statement commits by itself
        else db_.transaction([&](const atelier::Db& tx) { write(tx); });  // SDK: transaction() needs an rvalue callable
    } catch (...) {
        auto err = std::current_exception();
        for (auto* p : batch) {
            p->error = err;
            nextSeq_.erase(p->event.runId);  // reload from the table next time
        }
        return;
    }
    for (auto* p : batch) {
        auto s = subs_.find(p->event.runId);
        if (s == subs_.end()) continue;
        std::string f = frame(p->event);
        auto& list = s->second;
        for (size_t i = 0; i < list.size();) {
            if (list[i]->stream.write(f)) ++i;
            else list.erase(list.begin() + static_cast<long>(i));
        }
        if (list.empty()) subs_.erase(s);
    }
}

std::vector<RunEvent> RunEventLog::list(const std::string& runId, int64_t afterId, int64_t limit) const {
    std::vector<RunEvent> out;
    for (auto& r : db_.query("SELECT * FROM agents_run_events WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?",
                             {runId, afterId, limit})) {
        RunEvent e;
        e.id = r.integer("id");
        e.runId = r.text("run_id");
        e.sequence = r.integer("sequence");
        e.type = r.text("event_type");
        e.payload = r.text("payload");
        e.createdAt = r.text("created_at");
        out.push_back(std::move(e));
    }
    return out;
}

void RunEventLog::subscribe(const std::string& runId, atelier::Stream stream, int64_t lastId) {
    auto sub = std::make_shared<Subscriber>();
    sub->stream = std::move(stream);
    std::lock_guard lock(mutex_);
    if (!sub->stream.write(": connected\n\n")) return;
    for (auto& e : list(runId, lastId))
        if (!sub->stream.write(frame(e))) return;
    subs_[runId].push_back(sub);
}

void RunEventLog::keepAlive() {
    std::lock_guard lock(mutex_);
    for (auto it = subs_.begin(); it != subs_.end();) {
        auto& list = it->second;
        for (size_t i = 0; i < list.size();) {
            if (list[i]->stream.write(": keep-alive\n\n")) ++i;
            else list.erase(list.begin() + static_cast<long>(i));
        }
        if (list.empty()) it = subs_.erase(it);
        else ++it;
    }
}

void RunEventLog::removeRun(const std::string& runId) {
    std::lock_guard lock(mutex_);
    db_.exec("DELETE FROM agents_run_events WHERE run_id = ?", {runId});
    nextSeq_.erase(runId);
    auto s = subs_.find(runId);
    if (s != subs_.end()) {
        for (auto& sub : s->second) sub->stream.close();
        subs_.erase(s);
    }
}

void RunEventLog::closeAll() {
    std::lock_guard lock(mutex_);
    for (auto& [id, list] : subs_)
        for (auto& sub : list) sub->stream.close();
    subs_.clear();
}

size_t RunEventLog::subscriberCount() const {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (auto& [id, list] : subs_) n += list.size();
    return n;
}

}  // namespace agents
