// The host: owns configuration, storage, the event bus, hooks, timers, the router, the
// reactor for long-lived connections, and the modules. Modules reach it only through the
// atelier_host_v1 table (host_api.cpp).
#pragma once

#include <atelier/abi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config.hpp"
#include "event_bus.hpp"
#include "hooks.hpp"
#include "logger.hpp"
#include "module_record.hpp"
#include "reactor.hpp"
#include "router.hpp"
#include "storage.hpp"
#include "timers.hpp"

// A streaming response handle. The host keeps one reference while the connection lives, the
// module one until stream_release.
struct atelier_stream {
    std::atomic<int> refs{2};
    std::mutex mutex;
    std::string pending;  // written before the connection was attached
    std::shared_ptr<atelier::host::Connection> conn;
    bool closed = false;
    bool closeRequested = false;
    atelier_stream_closed_fn onClosed = nullptr;
    void* userData = nullptr;
    std::shared_ptr<atelier::host::ModuleRecord> owner;
    std::atomic<bool> notified{false};
};

struct atelier_websocket {
    std::atomic<int> refs{1};
    std::shared_ptr<atelier::host::Connection> conn;
};

struct atelier_hook_result {
    atelier::host::HookDecision* decision;
};

namespace atelier::host {

class ModuleManager;

class Host {
public:
    explicit Host(HostConfig cfg);
    ~Host();

    HostConfig& config() { return cfg_; }
    const HostConfig& config() const { return cfg_; }
    Storage& storage() { return *storage_; }
    EventBus& bus() { return *bus_; }
    HookRegistry& hooks() { return hooks_; }
    TimerService& timers() { return timers_; }
    Router& router() { return router_; }
    Reactor& reactor() { return *reactor_; }
    ModuleManager& modules() { return *modules_; }
    Logger& log() { return *log_; }
    const atelier_host_v1* api() const;
    std::string startedAt() const { return startedAt_; }

    // Routes a request (HTTP or in-process) to its handler and fills `res`. Never throws.
    void dispatch(atelier_request& req, atelier_response& res);

    // Hands one finished /api request to the handlers of the hook "http.request_finished"
    // (the module keeping the operations log traces it); nothing when there are none.
    void traceRequest(const atelier_request& req, const atelier_response& res, double ms);
    std::atomic<int>& activeRequests() { return activeRequests_; }

    // Attaches a detached connection to a stream handle; flushes pending writes.
    void attachStream(atelier_stream* stream, std::shared_ptr<Connection> conn);
    void releaseStream(atelier_stream* stream);
    static void releaseWebSocket(atelier_websocket* ws);

    // Loads modules and the built-in core, starts everything; stop() reverses it.
    void startAll();
    void stopAll();
    int boundPort() const { return boundPort_; }
    void setBoundPort(int p) { boundPort_ = p; }

private:
    HostConfig cfg_;
    std::unique_ptr<Logger> log_;
    std::unique_ptr<Storage> storage_;
    std::unique_ptr<EventBus> bus_;
    HookRegistry hooks_;
    TimerService timers_;
    Router router_;
    std::unique_ptr<Reactor> reactor_;
    std::unique_ptr<ModuleManager> modules_;
    std::atomic<int> activeRequests_{0};
    std::string startedAt_;
    int boundPort_ = 0;
};

// Fills `res` with an error (status, Content-Type, body) in the shape of its request's flavor.
void setErrorResponse(atelier_response& res, int status, std::string_view code, std::string_view message,
                      std::string_view detailsJson = {});

}  // namespace atelier::host
