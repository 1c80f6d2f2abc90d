// The event bus: every published event is persisted first (host_events), then delivered in id
// order by one dispatcher thread to in-process subscribers. A crash between the two loses
// nothing: clients replay from the log. The envelope is generic (atelier_event): the event
// products (Kombuse's event API, OpenKit's SSE, the WebSocket protocols) are modules.
#pragma once

#include <atelier/abi.h>

#include <atelier/sdk.hpp>
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

class EventBus {
public:
    using Handler = std::function<void(const Event&)>;
    explicit EventBus(Storage& storage);
    ~EventBus();
    void start();
    void stop();

    // Validates, stamps and persists the event, then queues it for delivery.
    int publish(const atelier_event& e, int64_t* outId);
    int64_t subscribe(std::string pattern, Handler handler, std::shared_ptr<ModuleRecord> owner = nullptr);
    void unsubscribe(int64_t id);
    void removeOwner(const ModuleRecord* owner);

    // Persisted events matching `q`, in its order; `total` gets the count without limit/offset.
    int query(const EventQuery& q, std::vector<Event>& out, int64_t* total = nullptr) const;
    int64_t lastId() const;

private:
    struct Sub {
        int64_t id;
        std::string pattern;
        Handler handler;
        std::shared_ptr<ModuleRecord> owner;
    };
    void migrateLegacyTable();
    void run();

    Storage& storage_;
    std::mutex publishMutex_;
    mutable std::mutex subsMutex_;
    std::vector<std::shared_ptr<Sub>> subs_;
    int64_t nextSubId_ = 0;
    std::mutex queueMutex_;
    std::condition_variable queueCv_;
    std::deque<std::shared_ptr<const Event>> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace atelier::host
