// The run event log: an append-only table (agents_run_events, integer ids used as SSE ids)
// plus the live SSE subscribers of each run. Appending persists first, then fans out, under
// one lock, so a subscriber that replays and then registers never misses or repeats an event.
// Concurrent appends are committed together (group commit).
#pragma once

#include "json_util.hpp"

#include <semaphore>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace agents {

struct RunEvent {
    int64_t id = 0;
    std::string runId;
    int64_t sequence = 0;
    std::string type;
    std::string payload;  // JSON text
    std::string createdAt;
    JsonObject toJson() const;
    std::string toJsonText() const;
};

class RunEventLog {
public:
    explicit RunEventLog(atelier::Db db) : db_(db) {}
    ~RunEventLog() { closeAll(); }

    static std::vector<std::string> migrations();

    RunEvent append(const std::string& runId, const std::string& type, const JsonObject& payload);
    std::vector<RunEvent> list(const std::string& runId, int64_t afterId = 0, int64_t limit = 100000) const;
    // Replays events after `lastId` into the stream, then keeps it for live events.
    void subscribe(const std::string& runId, atelier::Stream stream, int64_t lastId);
    // Writes an SSE comment to every subscriber; drops the ones that are gone.
    void keepAlive();
    void removeRun(const std::string& runId);
    void closeAll();
    size_t subscriberCount() const;

private:
    struct Subscriber {
        atelier::Stream stream;
    };
    static std::string frame(const RunEvent& e);
    struct Pending {
        RunEvent event;
        bool done = false;  // set by the leader that wrote it, before `ready` is released
        std::exception_ptr error;
        std::binary_semaphore ready{0};  // released once: written, or promoted to lead
    };
    void flush(std::vector<Pending*>& batch);

    atelier::Db db_;
    mutable std::mutex mutex_;
    std::map<std::string, int64_t> nextSeq_;
    std::map<std::string, std::vector<std::shared_ptr<Subscriber>>> subs_;
    // Group commit: concurrent appenders queue their events; one of them (the leader) writes
    // the whole queue in a single transaction and wakes exactly those it wrote, then hands
    // the lead to the first appender that queued meanwhile. No one is woken for nothing.
    std::mutex queueMutex_;
    std::vector<Pending*> queue_;
    bool flushing_ = false;
};

}  // namespace agents
