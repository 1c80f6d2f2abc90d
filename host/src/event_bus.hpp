// The event bus: every published event is persisted first (host_events), then delivered in id
// order by one dispatcher thread to in-process subscribers, which include the host's own SSE
// and WebSocket fan-out. A crash between the two loses nothing: clients replay from the log.
#pragma once

#include <atelier/abi.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "module_record.hpp"
#include "storage.hpp"

namespace atelier::host {

struct StoredEvent {
    int64_t id = 0;
    std::string type, projectId, ticketId;
    int64_t ticketNumber = 0;
    std::string commentId, actorId, actorType, sessionId, payload, createdAt;
    atelier_event toAbi() const;
    static StoredEvent fromAbi(const atelier_event& e);
    // The Kombuse event shape (payload parsed as JSON, empty ids as null).
    std::string toJson() const;
};

bool eventTypeMatches(std::string_view pattern, std::string_view type);

struct EventFilter {
    std::string eventType, projectId, ticketId, actorId, actorType, since;
    int64_t afterId = 0;
    int64_t limit = 50, offset = 0;
    bool newestFirst = true;
};

class EventBus {
public:
    using Handler = std::function<void(const std::shared_ptr<const StoredEvent>&)>;
    // Receives every dispatched batch (all types, id order) before the per-event handlers:
    // the host's SSE/WebSocket fan-out formats each event once per batch.
    using BatchHandler = std::function<void(const std::vector<std::shared_ptr<const StoredEvent>>&)>;
    explicit EventBus(Storage& storage);
    ~EventBus();
    void start();
    void stop();

    int publish(const atelier_event& e, int64_t* outId);
    int64_t subscribe(std::string pattern, Handler handler, std::shared_ptr<ModuleRecord> owner = nullptr);
    void unsubscribe(int64_t id);
    int64_t subscribeBatch(BatchHandler handler);
    void unsubscribeBatch(int64_t id);
    void removeOwner(const ModuleRecord* owner);

    std::vector<StoredEvent> query(const EventFilter& f, int64_t* total = nullptr) const;
    std::vector<StoredEvent> after(int64_t afterId, std::string_view pattern, int64_t limit) const;
    int64_t lastId() const;

private:
    struct Sub {
        int64_t id;
        std::string pattern;
        Handler handler;
        std::shared_ptr<ModuleRecord> owner;
    };
    void run();

    Storage& storage_;
    std::mutex publishMutex_;
    mutable std::mutex subsMutex_;
    std::vector<std::shared_ptr<Sub>> subs_;
    std::vector<std::pair<int64_t, std::shared_ptr<BatchHandler>>> batchSubs_;
    int64_t nextSubId_ = 0;
    std::mutex queueMutex_;
    std::condition_variable queueCv_;
    std::deque<std::shared_ptr<const StoredEvent>> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace atelier::host
