// Live delivery of the event bus and the operations log to long-lived clients:
//  - SSE (OpenKit `GET /api/events` stream): worktrees state, activity and ops-log history,
//    then live `activity`, `ops-log`, `worktrees` messages; every message carries the cursor
//    id "<busId>:<opsId>", and a reconnect with Last-Event-ID replays what was missed.
//  - WebSocket `/ws` (Kombuse topics) and `/api/ws` (boards product, per-project).
// Each batch from the bus (or the ops writer) is formatted once per distinct client cursor,
// not per client, and written with one non-blocking write per client; the reactor bounds
// every client's buffer and cuts off a client that falls too far behind.
#pragma once

#include <atelier/sdk.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kombuse_events.hpp"
#include "ops_log.hpp"

namespace atelier::events {

class ActivityLog;
class FanoutPool;

struct SseCursor {
    int64_t bus = 0, ops = 0;
    // "<bus>:<ops>" or "<bus>"; false when malformed.
    static bool parse(const std::string& text, SseCursor& out);
    std::string str() const { return std::to_string(bus) + ":" + std::to_string(ops); }
};

// Whether a client topic (exact, "*", or "resource:*") selects an event topic list; returns
// the topic to report, or empty.
std::string matchTopic(const std::set<std::string>& subscribed, const std::vector<std::string>& topics);
// Same, for subscriptions made at a point of the log: a topic subscribed when the last event
// id was N selects only events after N.
std::string matchTopic(const std::map<std::string, int64_t>& subscribed, const std::vector<std::string>& topics,
                       int64_t eventId);
bool validTopic(const std::string& topic);

class EventsHub {
public:
    struct Options {
        int64_t historyActivity = 50;
        int64_t historyOps = 200;
        int64_t pageEntries = 200;  // replay page: at most this many entries of each log
        int64_t flushMs = 10;       // coalescing window under load
        int fanoutThreads = 1;      // threads writing one flush to the clients (the flush thread included)
    };
    EventsHub(atelier::Module& module, ActivityLog& activity, OpsLog& ops, Options options);
    ~EventsHub();
    void start();
    void stop();

    // GET /api/events with Accept: text/event-stream.
    void openSse(atelier::Request& req, atelier::Response& res);
    // Writes an SSE comment to every client that has had nothing for `idleFor`.
    void keepAlive(std::chrono::milliseconds idleFor);

    atelier::WsHandlers kombuseHandlers();
    atelier::WsHandlers boardsHandlers();

    size_t sseClients() const;
    size_t wsClients() const;

private:
    struct SseClient;
    struct WsClient;
    struct BusItem {
        int64_t id;
        bool worktrees;
        std::string project;
        std::string data;  // the SSE data line's JSON
    };

    // The bus and ops-log threads only queue. The flush thread appends what is queued to a
    // window of recent messages and walks the clients in turns, a few dozen at a time, giving
    // each whatever of the window it has not had yet; between groups it takes in what was
    // queued meanwhile. So a message waits at most one turn over the clients (not a whole
    // flush to everyone and then its position in the next one), and a client gets at most
    // one write per `flushMs`.
    struct Window;
    void onBusEvent(const Event& e);
    void onOpsBatch(const std::vector<std::shared_ptr<const OpsEntry>>& batch);
    void flushLoop();
    void appendToWindow(const std::vector<std::shared_ptr<const Event>>& bus,
                        const std::vector<std::shared_ptr<const OpsEntry>>& ops);
    // Visits up to `count` clients from where the last call stopped; true when the turn ended.
    bool deliverGroup(size_t count);
    // Drops what every live client has had; true when nothing is left to deliver.
    bool trimWindow();
    void removeSse(uint64_t id);
    // Replays a resuming client's missed entries page by page as its buffer drains, then
    // switches it to live delivery (one thread for every catching-up client).
    void catchUpLoop();
    bool catchUpStep(SseClient& c);
    std::vector<BusItem> busItems(int64_t after, int64_t upTo, int64_t limit, bool* overflow) const;
    static bool busItem(const Event& e, BusItem& out);
    std::string renderBus(const std::vector<BusItem>& items, size_t from, int64_t ops, const std::string& projectId,
                          const std::string& projectSlug) const;
    static std::string renderOps(const std::vector<std::pair<int64_t, std::string>>& entries, size_t from, int64_t bus);
    void handleKombuse(WsClient& c, std::string_view data);
    void handleBoards(WsClient& c, std::string_view data);
    bool runMessageHook(WsClient& c, const std::string& type, const JsonObject& message, const char* protocol);
    void sendJson(WsClient& c, const JsonObject& o);
    void wsOpen(const atelier::WebSocket& ws, bool boards);
    void wsMessage(const atelier::WebSocket& ws, std::string_view data);
    void wsClose(const atelier::WebSocket& ws);
    atelier::WsHandlers handlers(bool boards);
    void sendError(WsClient& c, const std::string& message);

    static void sseClosedThunk(void* ud, atelier_stream* stream);

    atelier::Module& module_;
    ActivityLog& activity_;
    OpsLog& ops_;
    Options options_;

    mutable std::mutex mutex_;  // clients, cursors, fan-out
    // Ordered, so the fan-out can walk them in turns and resume where it stopped.
    std::map<uint64_t, std::shared_ptr<SseClient>> sse_;
    std::map<atelier_websocket*, std::shared_ptr<WsClient>> ws_;
    int64_t deliveredBus_ = 0, deliveredOps_ = 0;
    std::atomic<uint64_t> nextId_{0};
    int64_t busSub_ = 0, opsListener_ = 0;
    bool started_ = false;
    // Bytes a replay page may add to a client's buffer: a quarter of what the host buffers
    // per client (stream_buffered's capacity), so a page never gets a client cut off.
    static size_t budgetOf(const atelier::Stream& s);
    std::mutex catchUpMutex_;
    std::condition_variable catchUpCv_;
    bool catchUpStop_ = false;
    std::thread catchUpThread_;
    std::mutex pendingMutex_;
    std::condition_variable pendingCv_;
    std::vector<std::shared_ptr<const Event>> pendingBus_;
    std::vector<std::shared_ptr<const OpsEntry>> pendingOps_;
    bool flushStop_ = false;
    std::thread flushThread_;
    std::unique_ptr<Window> window_;  // the flush thread's
    uint64_t turnSse_ = 0;            // last SSE client visited in this turn
    atelier_websocket* turnWs_ = nullptr;  // last WebSocket client visited in this turn
    bool turnInWs_ = false;  // past the SSE clients, walking the WebSocket ones
    std::unique_ptr<FanoutPool> pool_;
};

}  // namespace atelier::events
