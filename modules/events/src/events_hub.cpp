#include "events_hub.hpp"

#include <algorithm>
#include <atelier/util.hpp>

#include "activity_log.hpp"
#include "events_logs.hpp"
#include "fanout_pool.hpp"

namespace atelier::events {

using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------------ helpers

bool SseCursor::parse(const std::string& text, SseCursor& out) {
    auto num = [](std::string_view s, int64_t& v) {
        if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) return false;
        v = std::stoll(std::string(s));
        return true;
    };
    std::string_view t(text);
    auto colon = t.find(':');
    SseCursor c;
    if (colon == std::string_view::npos) {
        if (!num(t, c.bus)) return false;
    } else if (!num(t.substr(0, colon), c.bus) || !num(t.substr(colon + 1), c.ops)) {
        return false;
    }
    out = c;
    return true;
}

std::string matchTopic(const std::set<std::string>& subscribed, const std::vector<std::string>& topics) {
    for (auto& topic : topics) {
        if (subscribed.count(topic)) return topic;
        auto colon = topic.find(':');
        if (colon != std::string::npos && subscribed.count(topic.substr(0, colon + 1) + "*")) return topic;
    }
    if (subscribed.count("*")) return "*";
    return {};
}

std::string matchTopic(const std::map<std::string, int64_t>& subscribed, const std::vector<std::string>& topics,
                       int64_t eventId) {
    auto has = [&](const std::string& t) {
        auto it = subscribed.find(t);
        return it != subscribed.end() && eventId > it->second;
    };
    for (auto& topic : topics) {
        if (has(topic)) return topic;
        auto colon = topic.find(':');
        if (colon != std::string::npos && has(topic.substr(0, colon + 1) + "*")) return topic;
    }
    if (has("*")) return "*";
    return {};
}

bool validTopic(const std::string& topic) {
    if (topic == "*") return true;
    if (topic.empty() || topic.size() > 200) return false;
    auto colon = topic.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= topic.size()) return false;
    for (unsigned char c : topic)
        if (c < 0x21 || c == 0x7f) return false;
    return true;
}

namespace {
std::string sseMessage(const std::string& id, const std::string& data) {
    std::string m;
    m.reserve(data.size() + id.size() + 16);
    m += "id: ";
    m += id;
    m += "\ndata: ";
    m += data;
    m += "\n\n";
    return m;
}

std::string urlEncode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

std::string historyMessage(const char* type, const std::vector<std::string>& entries) {
    std::string data = std::string("{\"type\":\"") + type + "\",\"events\":[";
    for (size_t i = 0; i < entries.size(); ++i) {
        if (i) data += ",";
        data += entries[i];
    }
    data += "]}";
    return data;
}
}  // namespace

// ------------------------------------------------------------------ clients

struct EventsHub::SseClient {
    uint64_t id = 0;
    atelier::Stream stream;
    int64_t bus = 0, ops = 0;
    std::string projectId, projectSlug;
    std::atomic<bool> dead{false};
    std::atomic<bool> catchingUp{false};  // replaying from the log; not yet fed by the fan-out
    Clock::time_point wroteAt{};          // last write (under the hub's mutex once registered)
};

struct EventsHub::WsClient {
    uint64_t id = 0;
    std::string connectionId;
    atelier::WebSocket ws;
    bool boards = false;
    int64_t bus = 0;                          // last bus event the fan-out considered for it
    std::map<std::string, int64_t> topics;    // Kombuse: topic -> last event id when subscribed
    std::map<std::string, int64_t> projects;  // boards: project -> last event id when subscribed
};

// What the fan-out still has to give some client: recent messages in id order, each rendered
// (or framed) once, plus rendered SSE runs shared by clients at the same cursor.
struct EventsHub::Window {
    struct WsEvent {
        std::shared_ptr<const Event> e;
        std::vector<std::string> topics;
        std::string json;
        std::string boardsMessage;
        std::map<std::string, std::string> messages;  // topic -> Kombuse message
    };
    std::vector<BusItem> items;                            // SSE bus messages
    std::vector<std::pair<int64_t, std::string>> entries;  // ops-log entries
    std::vector<WsEvent> wsEvents;                         // every bus event, while WebSocket clients exist
    int64_t lastBus = 0, lastOps = 0;                      // newest ids taken in
    std::unordered_map<std::string, std::string> sseRuns;  // node-based: pointers into it stay valid
    bool empty() const { return items.empty() && entries.empty() && wsEvents.empty(); }

    static int64_t idOf(const BusItem& it) { return it.id; }
    static int64_t idOf(const std::pair<int64_t, std::string>& entry) { return entry.first; }
    static int64_t idOf(const WsEvent& we) { return we.e->id; }
    // Position of the first message after `id` (each vector is in id order).
    template <class Vec>
    static size_t firstAfter(const Vec& v, int64_t id) {
        return static_cast<size_t>(
            std::upper_bound(v.begin(), v.end(), id, [](int64_t x, const auto& e) { return x < idOf(e); }) -
            v.begin());
    }
    template <class Vec>
    static void dropUpTo(Vec& v, int64_t id) {
        v.erase(v.begin(), v.begin() + static_cast<long>(firstAfter(v, id)));
    }
};

struct SseCloseCtx {
    EventsHub* hub;
    uint64_t id;
};

EventsHub::EventsHub(atelier::Module& module, ActivityLog& activity, OpsLog& ops, Options options)
    : module_(module), activity_(activity), ops_(ops), options_(options) {}

EventsHub::~EventsHub() { stop(); }

void EventsHub::start() {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
    deliveredBus_ = module_.lastEventId();
    deliveredOps_ = lastOpsId(module_.db());
    {
        std::lock_guard l(catchUpMutex_);
        catchUpStop_ = false;
    }
    catchUpThread_ = std::thread([this] { catchUpLoop(); });
    {
        std::lock_guard l(pendingMutex_);
        flushStop_ = false;
    }
    if (!pool_) pool_ = std::make_unique<FanoutPool>(options_.fanoutThreads);
    window_ = std::make_unique<Window>();
    flushThread_ = std::thread([this] { flushLoop(); });
    busSub_ = module_.subscribe("*", [this](const Event& e) { onBusEvent(e); });
    opsListener_ = ops_.addListener([this](const auto& batch) { onOpsBatch(batch); });
}

void EventsHub::stop() {
    std::map<uint64_t, std::shared_ptr<SseClient>> sse;
    std::map<atelier_websocket*, std::shared_ptr<WsClient>> ws;
    {
        std::lock_guard lock(mutex_);
        if (!started_) return;
        started_ = false;
        module_.unsubscribe(busSub_);
        ops_.removeListener(opsListener_);
        sse.swap(sse_);
        ws.swap(ws_);
    }
    {
        std::lock_guard l(catchUpMutex_);
        catchUpStop_ = true;
    }
    catchUpCv_.notify_all();
    if (catchUpThread_.joinable()) catchUpThread_.join();
    {
        std::lock_guard l(pendingMutex_);
        flushStop_ = true;
    }
    pendingCv_.notify_all();
    if (flushThread_.joinable()) flushThread_.join();
    for (auto& [id, c] : sse) c->stream.close();
    for (auto& [p, c] : ws) c->ws.close(1001, "server shutting down");
}

size_t EventsHub::sseClients() const {
    std::lock_guard lock(mutex_);
    return sse_.size();
}
size_t EventsHub::wsClients() const {
    std::lock_guard lock(mutex_);
    return ws_.size();
}

// ------------------------------------------------------------------ SSE

size_t EventsHub::budgetOf(const atelier::Stream& s) {
    return std::max<size_t>(static_cast<size_t>(std::max<int64_t>(s.capacity(), 0)) / 4, 16384);
}

bool EventsHub::busItem(const Event& e, BusItem& out) {
    out.id = e.id;
    out.project = e.projectId;
    if (e.type == "activity") {
        out.worktrees = false;
        out.data = "{\"type\":\"activity\",\"event\":" + (e.payload.empty() ? std::string("{}") : e.payload) + "}";
        return true;
    }
    if (e.type == "worktrees.changed") {
        out.worktrees = true;
        auto o = parseObject(e.payload);
        JsonArray list = o && o->has("worktrees") ? o->getArray("worktrees") : nullptr;
        if (!list) list = makeArray();
        if (out.project.empty() && o && o->has("projectId") && o->get("projectId").isString())
            out.project = o->getValue<std::string>("projectId");
        out.data = "{\"type\":\"worktrees\",\"worktrees\":" + atelier::toJson(list) + "}";
        return true;
    }
    return false;
}

std::vector<EventsHub::BusItem> EventsHub::busItems(int64_t after, int64_t upTo, int64_t limit, bool* overflow) const {
    std::vector<BusItem> out;
    if (overflow) *overflow = false;
    // Pages of the log (the host answers at most 10,000 events per query).
    EventQuery q;
    q.afterId = after;
    q.maxId = upTo;
    q.types = "activity,worktrees.changed";
    while (true) {
        int64_t want = limit - static_cast<int64_t>(out.size());
        q.limit = std::min<int64_t>(want + 1, 10000);
        auto rows = module_.queryEvents(q);
        for (auto& e : rows) {
            if (static_cast<int64_t>(out.size()) >= limit) {
                if (overflow) *overflow = true;
                return out;
            }
            BusItem item;
            if (busItem(e, item)) out.push_back(std::move(item));
            q.afterId = e.id;
        }
        if (static_cast<int64_t>(rows.size()) < q.limit) return out;
    }
}

std::string EventsHub::renderBus(const std::vector<BusItem>& items, size_t from, int64_t ops, const std::string& projectId,
                                 const std::string& projectSlug) const {
    std::string out;
    std::string opsPart = ":" + std::to_string(ops);
    for (size_t i = from; i < items.size(); ++i) {
        const auto& it = items[i];
        if (it.worktrees && !projectId.empty() && !it.project.empty() && it.project != projectId && it.project != projectSlug)
            continue;
        out += sseMessage(std::to_string(it.id) + opsPart, it.data);
    }
    return out;
}

std::string EventsHub::renderOps(const std::vector<std::pair<int64_t, std::string>>& entries, size_t from, int64_t bus) {
    std::string out;
    std::string busPart = std::to_string(bus) + ":";
    for (size_t i = from; i < entries.size(); ++i)
        out += sseMessage(busPart + std::to_string(entries[i].first),
                          "{\"type\":\"ops-log\",\"event\":" + entries[i].second + "}");
    return out;
}

void EventsHub::sseClosedThunk(void* ud, atelier_stream*) {
    auto* ctx = static_cast<SseCloseCtx*>(ud);
    ctx->hub->removeSse(ctx->id);
    delete ctx;
}

void EventsHub::removeSse(uint64_t id) {
    std::shared_ptr<SseClient> gone;
    {
        std::lock_guard lock(mutex_);
        auto it = sse_.find(id);
        if (it == sse_.end()) return;
        gone = std::move(it->second);
        sse_.erase(it);
    }
    // `gone` releases the module's stream reference outside the lock.
}

void EventsHub::openSse(atelier::Request& req, atelier::Response& res) {
    auto client = std::make_shared<SseClient>();
    client->id = nextId_.fetch_add(1) + 1;

    // Which project's worktrees: ?project= / X-Atelier-Project, else the active project.
    std::string projectRaw = req.query("project");
    if (projectRaw.empty()) projectRaw = req.header("x-atelier-project");
    {
        std::string headers;
        if (!projectRaw.empty()) {
            auto h = makeObject();
            h->set("X-Atelier-Project", projectRaw);
            headers = atelier::toJson(h);
        }
        auto r = module_.host().call("GET", "/api/active-project" + (projectRaw.empty() ? std::string() : "?project=" + urlEncode(projectRaw)),
                                     {}, headers);
        if (r.status == 200) {
            if (auto o = r.json()) {
                JsonObject p = o->has("data") && o->getObject("data") ? o->getObject("data") : o;
                if (p->has("id")) client->projectId = p->get("id").toString();
                if (p->has("slug") && p->get("slug").isString()) client->projectSlug = p->getValue<std::string>("slug");
            }
        }
    }

    auto* ctx = new SseCloseCtx{this, client->id};
    client->stream = res.stream("text/event-stream", &EventsHub::sseClosedThunk, ctx);
    if (!client->stream) {
        delete ctx;
        throw badRequest("An event stream needs a network client", "STREAM_UNAVAILABLE");
    }
    res.header("Cache-Control", "no-cache");
    const size_t budget = budgetOf(client->stream);

    std::string lastEventId = req.header("last-event-id");
    if (lastEventId.empty()) lastEventId = req.query("lastEventId");
    SseCursor cursor;
    // A cursor from the future (another data directory, a forged id) is a fresh connection.
    bool resume = !lastEventId.empty() && SseCursor::parse(lastEventId, cursor) &&
                  cursor.bus <= module_.lastEventId() && cursor.ops <= lastOpsId(module_.db());

    std::string initial;
    SseCursor at;
    if (resume) {
        at = cursor;  // the catch-up worker replays from here
        client->catchingUp = true;
    }
    if (!resume) {
        auto snap = activity_.snapshot(options_.historyActivity, [this] { return module_.lastEventId(); });
        at.bus = snap.busId;
        at.ops = lastOpsId(module_.db());
        OpsLogFilter f;
        f.maxId = at.ops;
        f.limit = options_.historyOps;
        std::vector<std::string> opsEntries;
        if (at.ops > 0) {
            auto rows = queryOpsLog(module_.db(), f);
            // Keep the newest entries that fit the history budget.
            size_t bytes = 0, keepFrom = rows.size();
            while (keepFrom > 0 && bytes + rows[keepFrom - 1].second.size() < budget)
                bytes += rows[--keepFrom].second.size();
            for (size_t i = keepFrom; i < rows.size(); ++i) opsEntries.push_back(std::move(rows[i].second));
        }
        auto payload = makeObject();
        payload->set("worktrees", makeArray());
        if (!projectRaw.empty()) payload->set("project", projectRaw);
        if (!client->projectId.empty()) payload->set("projectId", client->projectId);
        auto hook = module_.runHook("events.initial_state", payload);
        JsonArray worktrees;
        if (!hook.vetoed) {
            auto o = hook.json();
            if (o && o->has("worktrees")) worktrees = o->getArray("worktrees");
        }
        if (!worktrees) worktrees = makeArray();
        std::string id = at.str();
        initial += sseMessage(id, "{\"type\":\"worktrees\",\"worktrees\":" + atelier::toJson(worktrees) + "}");
        initial += sseMessage(id, historyMessage("activity-history", snap.entries));
        initial += sseMessage(id, historyMessage("ops-log-history", opsEntries));
    }

    client->stream.write(initial);
    client->wroteAt = Clock::now();  // the initial write counts: no keep-alive right away

    if (client->catchingUp) {
        client->bus = at.bus;
        client->ops = at.ops;
        {
            std::lock_guard lock(mutex_);
            sse_[client->id] = client;
        }
        catchUpCv_.notify_one();
        return;
    }
    std::lock_guard lock(mutex_);
    // Whatever the fan-out delivered between the snapshot and now comes from the log.
    try {
        if (deliveredBus_ > at.bus) {
            auto gap = busItems(at.bus, deliveredBus_, 1000000, nullptr);
            client->stream.write(renderBus(gap, 0, at.ops, client->projectId, client->projectSlug));
            at.bus = deliveredBus_;
        }
        if (deliveredOps_ > at.ops) {
            OpsLogFilter f;
            f.afterId = at.ops;
            f.maxId = deliveredOps_;
            f.oldestFirst = true;
            f.limit = 1000000;
            auto gap = queryOpsLog(module_.db(), f);
            client->stream.write(renderOps(gap, 0, at.bus));
            at.ops = deliveredOps_;
        }
    } catch (const std::exception& e) {
        module_.host().error(std::string("SSE gap replay failed: ") + e.what());
        client->stream.close();
        return;
    }
    client->bus = at.bus;
    client->ops = at.ops;
    sse_[client->id] = client;
}

void EventsHub::catchUpLoop() {
    while (true) {
        std::vector<std::shared_ptr<SseClient>> pending;
        {
            std::lock_guard lock(mutex_);
            for (auto& [id, c] : sse_)
                if (c->catchingUp && !c->dead) pending.push_back(c);
        }
        {
            std::unique_lock l(catchUpMutex_);
            if (catchUpStop_) return;
            if (pending.empty()) {
                catchUpCv_.wait_for(l, std::chrono::milliseconds(500));
                continue;
            }
        }
        bool progressed = false;
        for (auto& c : pending) {
            try {
                if (catchUpStep(*c)) progressed = true;
            } catch (const std::exception& e) {
                module_.host().error(std::string("SSE replay failed: ") + e.what());
                c->dead = true;
                c->stream.close();
            }
        }
        if (!progressed) {
            std::unique_lock l(catchUpMutex_);
            catchUpCv_.wait_for(l, std::chrono::milliseconds(5));
        }
    }
}

bool EventsHub::catchUpStep(SseClient& c) {
    int64_t queued = c.stream.buffered();
    if (queued < 0) {
        c.dead = true;
        return false;
    }
    const size_t budget = budgetOf(c.stream);
    if (static_cast<size_t>(queued) > budget) return false;  // let it drain
    // One page of each log, bounded in entries and bytes.
    bool busFull = false;
    auto items = busItems(c.bus, 0, options_.pageEntries, &busFull);
    OpsLogFilter f;
    f.afterId = c.ops;
    f.oldestFirst = true;
    f.limit = options_.pageEntries;
    auto ops = queryOpsLog(module_.db(), f);
    bool opsFull = static_cast<int64_t>(ops.size()) >= options_.pageEntries;
    size_t bytes = 0, nItems = 0, nOps = 0;
    while (nItems < items.size() && bytes < budget) bytes += items[nItems++].data.size() + 32;
    while (nOps < ops.size() && bytes < budget) bytes += ops[nOps++].second.size() + 48;
    if (nItems < items.size()) busFull = true;
    if (nOps < ops.size()) opsFull = true;
    items.resize(nItems);
    ops.resize(nOps);
    // Within a page only the newest worktrees list matters.
    int64_t lastWorktrees = 0;
    for (auto& it : items)
        if (it.worktrees) lastWorktrees = it.id;
    std::vector<BusItem> kept;
    for (auto& it : items)
        if (!it.worktrees || it.id == lastWorktrees) kept.push_back(it);
    std::string page = renderBus(kept, 0, c.ops, c.projectId, c.projectSlug);
    int64_t bus = items.empty() ? c.bus : items.back().id;
    page += renderOps(ops, 0, bus);
    int64_t opsId = ops.empty() ? c.ops : ops.back().first;
    if (!page.empty() && !c.stream.write(page)) {
        c.dead = true;
        return false;
    }
    c.bus = bus;
    c.ops = opsId;
    if (busFull || opsFull) return true;
    // Caught up with the log: deliver what the fan-out sent meanwhile, then go live.
    std::lock_guard lock(mutex_);
    std::string gap;
    if (deliveredBus_ > c.bus) {
        auto more = busItems(c.bus, deliveredBus_, 1000000, nullptr);
        gap += renderBus(more, 0, c.ops, c.projectId, c.projectSlug);
        c.bus = deliveredBus_;
    }
    if (deliveredOps_ > c.ops) {
        OpsLogFilter g;
        g.afterId = c.ops;
        g.maxId = deliveredOps_;
        g.oldestFirst = true;
        g.limit = 1000000;
        gap += renderOps(queryOpsLog(module_.db(), g), 0, c.bus);
        c.ops = deliveredOps_;
    }
    if (!gap.empty() && !c.stream.write(gap)) c.dead = true;
    c.catchingUp = false;
    return true;
}

void EventsHub::keepAlive(std::chrono::milliseconds idleFor) {
    // Only idle connections need the comment: a client the fan-out wrote to recently is
    // alive, and writing to thousands of busy ones would only hold up the fan-out.
    static const std::string ping = ": keep-alive\n\n";
    auto now = Clock::now();
    std::lock_guard lock(mutex_);
    for (auto& [id, c] : sse_) {
        if (c->dead || now - c->wroteAt < idleFor) continue;
        if (!c->stream.write(ping)) c->dead = true;
        c->wroteAt = now;
    }
}

// ------------------------------------------------------------------ fan-out

void EventsHub::onBusEvent(const Event& e) {
    auto copy = std::make_shared<const Event>(e);
    {
        std::lock_guard l(pendingMutex_);
        pendingBus_.push_back(std::move(copy));
        // The flush thread is already awake (or lingering) when something was pending.
        if (pendingBus_.size() > 1) return;
    }
    pendingCv_.notify_one();
}

void EventsHub::onOpsBatch(const std::vector<std::shared_ptr<const OpsEntry>>& batch) {
    if (batch.empty()) return;
    {
        std::lock_guard l(pendingMutex_);
        pendingOps_.insert(pendingOps_.end(), batch.begin(), batch.end());
    }
    pendingCv_.notify_one();
}

namespace {
constexpr size_t kGroupClients = 64;  // clients per lock hold: a few ms of writes at most
}  // namespace

void EventsHub::flushLoop() {
    auto turnStart = Clock::now() - std::chrono::seconds(1);
    const auto window = std::chrono::milliseconds(options_.flushMs);
    while (true) {
        {
            std::unique_lock l(pendingMutex_);
            if (window_->empty())
                pendingCv_.wait(l, [&] { return flushStop_ || !pendingBus_.empty() || !pendingOps_.empty(); });
            if (flushStop_) return;
            // Busy: a client gets at most one write per window, so one write carries several messages.
            auto due = turnStart + window;
            if (Clock::now() < due) pendingCv_.wait_until(l, due, [&] { return flushStop_; });
            if (flushStop_) return;
        }
        turnStart = Clock::now();
        try {
            bool turnEnded = false;
            while (!turnEnded) {
                std::vector<std::shared_ptr<const Event>> bus;
                std::vector<std::shared_ptr<const OpsEntry>> ops;
                {
                    std::lock_guard l(pendingMutex_);
                    if (flushStop_) return;
                    bus.swap(pendingBus_);
                    ops.swap(pendingOps_);
                }
                if (!bus.empty() || !ops.empty()) appendToWindow(bus, ops);
                turnEnded = deliverGroup(kGroupClients);
            }
            trimWindow();
        } catch (const std::exception& e) {
            module_.host().error(std::string("event fan-out failed: ") + e.what());
        }
    }
}

void EventsHub::appendToWindow(const std::vector<std::shared_ptr<const Event>>& batch,
                               const std::vector<std::shared_ptr<const OpsEntry>>& opsBatch) {
    auto& w = *window_;
    std::vector<BusItem> items;
    for (auto& e : batch) {
        BusItem it;
        if (busItem(*e, it)) items.push_back(std::move(it));
    }
    bool haveWs;
    {
        std::lock_guard lock(mutex_);
        haveWs = !ws_.empty();
    }
    std::vector<Window::WsEvent> wsEvents;
    if (haveWs) {
        wsEvents.reserve(batch.size());
        for (auto& e : batch) wsEvents.push_back(Window::WsEvent{e, eventTopics(*e), kombuseEventJson(*e), {}, {}});
    }
    // From here on every live client gets these from the window, so a client that joins now
    // starts after them (openSse and the catch-up read the log up to deliveredBus_/Ops_).
    std::lock_guard lock(mutex_);
    for (auto& it : items) w.items.push_back(std::move(it));
    for (auto& e : opsBatch) w.entries.emplace_back(e->id, e->json);
    if (!ws_.empty())
        for (auto& we : wsEvents) w.wsEvents.push_back(std::move(we));
    if (!batch.empty()) w.lastBus = std::max(w.lastBus, batch.back()->id);
    if (!opsBatch.empty()) w.lastOps = std::max(w.lastOps, opsBatch.back()->id);
    deliveredBus_ = std::max(deliveredBus_, w.lastBus);
    deliveredOps_ = std::max(deliveredOps_, w.lastOps);
}

bool EventsHub::deliverGroup(size_t count) {
    auto& w = *window_;
    // Rendering and cursor updates happen here; the writes are collected and spread over the
    // fan-out threads at the end (still under the lock, so a client's messages keep their
    // order and no client goes away mid-write). Neighbours that get the same bytes go to the
    // host as one group write.
    struct Write {
        SseClient* sse = nullptr;
        const std::string* data = nullptr;  // SSE: a shared rendered run
        atelier_websocket* ws = nullptr;
        std::vector<const std::string*> messages;  // WebSocket: one frame each
    };
    std::vector<Write> writes;
    writes.reserve(count);
    bool turnEnded = false;
    struct LastRun {
        const std::string* run = nullptr;
        size_t busFrom = 0, opsFrom = 0;
        int64_t ops = 0, busAfter = 0;
        const std::string *projectId = nullptr, *projectSlug = nullptr;
    } last;
    const auto groupTime = Clock::now();
    std::lock_guard lock(mutex_);
    auto visitSse = [&](SseClient& c) {
        if (c.catchingUp || c.dead) return;
        size_t busFrom = Window::firstAfter(w.items, c.bus);
        size_t opsFrom = Window::firstAfter(w.entries, c.ops);
        int64_t busAfter = std::max(c.bus, w.lastBus);
        if (busFrom < w.items.size() || opsFrom < w.entries.size()) {
            // Neighbours in a turn nearly always share a cursor: compare with the last one
            // before building a key.
            if (!last.run || last.busFrom != busFrom || last.opsFrom != opsFrom || last.ops != c.ops ||
                last.busAfter != busAfter || *last.projectId != c.projectId || *last.projectSlug != c.projectSlug) {
                std::string key = std::to_string(busFrom) + "|" + std::to_string(opsFrom) + "|" +
                                  std::to_string(c.ops) + "|" + std::to_string(busAfter) + "|" + c.projectId + "|" +
                                  c.projectSlug;
                auto it = w.sseRuns.find(key);
                if (it == w.sseRuns.end())
                    it = w.sseRuns
                             .emplace(key, renderBus(w.items, busFrom, c.ops, c.projectId, c.projectSlug) +
                                               renderOps(w.entries, opsFrom, busAfter))
                             .first;
                last = LastRun{&it->second, busFrom, opsFrom, c.ops, busAfter, &c.projectId, &c.projectSlug};
            }
            if (!last.run->empty()) {
                writes.push_back(Write{&c, last.run, nullptr, {}});
                c.wroteAt = groupTime;
            }
        }
        c.bus = busAfter;
        c.ops = std::max(c.ops, w.lastOps);
    };
    auto visitWs = [&](WsClient& c) {
        Write out{nullptr, nullptr, c.ws.raw(), {}};
        for (size_t i = Window::firstAfter(w.wsEvents, c.bus); i < w.wsEvents.size(); ++i) {
            auto& we = w.wsEvents[i];
            if (c.boards) {
                const std::string& project = we.e->projectId;
                if (!project.empty()) {
                    auto sub = c.projects.find(project);
                    if (sub == c.projects.end() || we.e->id <= sub->second) continue;
                }
                if (we.boardsMessage.empty()) {
                    std::string payload = we.e->payload.empty() ? "{}" : we.e->payload;
                    we.boardsMessage = "{\"type\":" + atelier::toJson(we.e->type) + ",\"data\":" + payload +
                                       ",\"projectId\":" + (project.empty() ? "null" : atelier::toJson(project)) +
                                       ",\"eventId\":" + std::to_string(we.e->id) +
                                       ",\"timestamp\":" + atelier::toJson(we.e->createdAt) + "}";
                }
                out.messages.push_back(&we.boardsMessage);
            } else {
                if (c.topics.empty()) continue;
                std::string topic = matchTopic(c.topics, we.topics, we.e->id);
                if (topic.empty()) continue;
                auto it = we.messages.find(topic);
                if (it == we.messages.end())
                    it = we.messages
                             .emplace(topic, "{\"type\":\"event\",\"topic\":" + atelier::toJson(topic) +
                                                 ",\"event\":" + we.json + "}")
                             .first;
                out.messages.push_back(&it->second);
            }
        }
        c.bus = std::max(c.bus, w.lastBus);
        if (!out.messages.empty()) writes.push_back(std::move(out));
    };
    for (size_t visited = 0; visited < count;) {
        if (!turnInWs_) {
            auto it = sse_.upper_bound(turnSse_);
            if (it == sse_.end()) {
                turnInWs_ = true;
                turnWs_ = nullptr;
                continue;
            }
            turnSse_ = it->first;
            visitSse(*it->second);
        } else {
            auto it = ws_.upper_bound(turnWs_);
            if (it == ws_.end()) {
                turnInWs_ = false;
                turnSse_ = 0;
                turnEnded = true;
                break;
            }
            turnWs_ = it->first;
            visitWs(*it->second);
        }
        ++visited;
    }
    // Each fan-out thread takes a contiguous share and sends every run of equal neighbours
    // with one group call.
    const size_t shares = std::min<size_t>(static_cast<size_t>(pool_->threads()), writes.size());
    const auto& host = module_.host();
    pool_->run(shares, [&](size_t share) {
        size_t from = writes.size() * share / shares, to = writes.size() * (share + 1) / shares;
        std::vector<atelier_stream*> streams;
        std::vector<atelier_websocket*> sockets;
        std::vector<int> statuses;
        std::vector<std::string_view> messages;
        for (size_t i = from; i < to;) {
            size_t j = i + 1;
            if (writes[i].sse) {
                while (j < to && writes[j].sse && writes[j].data == writes[i].data) ++j;
                streams.clear();
                for (size_t k = i; k < j; ++k) streams.push_back(writes[k].sse->stream.raw());
                statuses.assign(streams.size(), ATELIER_OK);
                host.writeStreams(streams.data(), streams.size(), *writes[i].data, statuses.data());
                for (size_t k = i; k < j; ++k)
                    if (statuses[k - i] != ATELIER_OK) writes[k].sse->dead = true;
            } else {
                while (j < to && writes[j].ws && writes[j].messages == writes[i].messages) ++j;
                sockets.clear();
                for (size_t k = i; k < j; ++k) sockets.push_back(writes[k].ws);
                messages.clear();
                for (auto* m : writes[i].messages) messages.emplace_back(*m);
                host.sendWebSockets(sockets.data(), sockets.size(), messages);
            }
            i = j;
        }
    });
    return turnEnded;
}

bool EventsHub::trimWindow() {
    auto& w = *window_;
    std::lock_guard lock(mutex_);
    int64_t minBus = w.lastBus, minOps = w.lastOps, minWs = w.lastBus;
    for (auto& [id, c] : sse_) {
        if (c->catchingUp || c->dead) continue;  // joins live at deliveredBus_/Ops_
        minBus = std::min(minBus, c->bus);
        minOps = std::min(minOps, c->ops);
    }
    for (auto& [p, c] : ws_) minWs = std::min(minWs, c->bus);
    Window::dropUpTo(w.items, minBus);
    Window::dropUpTo(w.entries, minOps);
    Window::dropUpTo(w.wsEvents, minWs);
    w.sseRuns.clear();  // keyed by positions in the window, which just moved
    return w.empty();
}

// ------------------------------------------------------------------ WebSockets

void EventsHub::sendJson(WsClient& c, const JsonObject& o) { c.ws.sendText(atelier::toJson(o)); }

void EventsHub::sendError(WsClient& c, const std::string& message) {
    auto o = makeObject();
    o->set("type", "error");
    o->set("message", message);
    sendJson(c, o);
}

bool EventsHub::runMessageHook(WsClient& c, const std::string& type, const JsonObject& message, const char* protocol) {
    auto payload = makeObject();
    payload->set("type", type);
    payload->set("message", message);
    payload->set("connectionId", c.connectionId);
    payload->set("protocol", protocol);
    payload->set("handled", false);
    payload->set("replies", makeArray());
    auto run = module_.runHook("ws.message", payload);
    if (run.vetoed) {
        sendError(c, run.payload.empty() ? "Message refused" : run.payload);
        return true;
    }
    auto out = run.json();
    if (!out || !out->optValue<bool>("handled", false)) return false;
    if (auto replies = out->getArray("replies")) {
        for (size_t i = 0; i < replies->size(); ++i) {
            auto v = replies->get(static_cast<unsigned>(i));
            c.ws.sendText(v.isString() ? v.extract<std::string>() : atelier::toJson(v));
        }
    }
    return true;
}

void EventsHub::handleKombuse(WsClient& c, std::string_view data) {
    auto msg = parseObject(data);
    if (!msg) return sendError(c, "Invalid message: expected a JSON object");
    if (!msg->has("type") || !msg->get("type").isString()) return sendError(c, "Invalid message: missing type");
    std::string type = msg->getValue<std::string>("type");
    if (type == "subscribe" || type == "unsubscribe") {
        JsonArray topics = msg->has("topics") ? msg->getArray("topics") : nullptr;
        if (!topics || topics->size() == 0)
            return sendError(c, "Invalid " + type + " message: topics must be a non-empty array of strings");
        if (topics->size() > 1000) return sendError(c, "Invalid " + type + " message: at most 1000 topics");
        std::vector<std::string> list;
        for (size_t i = 0; i < topics->size(); ++i) {
            auto v = topics->get(static_cast<unsigned>(i));
            if (!v.isString() || !validTopic(v.extract<std::string>()))
                return sendError(c, "Invalid topic at index " + std::to_string(i) +
                                        ": expected \"resource:id\" or \"*\"");
            list.push_back(v.extract<std::string>());
        }
        int64_t since = module_.lastEventId();
        {
            std::lock_guard lock(mutex_);
            for (auto& t : list) {
                if (type == "subscribe") c.topics.emplace(t, since);  // re-subscribing keeps the older point
                else c.topics.erase(t);
            }
        }
        auto reply = makeObject();
        reply->set("type", type == "subscribe" ? "subscribed" : "unsubscribed");
        auto arr = makeArray();
        for (auto& t : list) arr->add(t);
        reply->set("topics", arr);
        return sendJson(c, reply);
    }
    if (type == "ping") {
        auto reply = makeObject();
        reply->set("type", "pong");
        return sendJson(c, reply);
    }
    if (!runMessageHook(c, type, msg, "kombuse")) sendError(c, "Unknown message type: " + type.substr(0, 100));
}

void EventsHub::handleBoards(WsClient& c, std::string_view data) {
    auto msg = parseObject(data);
    if (!msg) return sendError(c, "Invalid message: expected a JSON object");
    if (!msg->has("type") || !msg->get("type").isString()) return sendError(c, "Invalid message: missing type");
    std::string type = msg->getValue<std::string>("type");
    if (type == "subscribe" || type == "unsubscribe") {
        JsonObject payload = msg->has("payload") ? msg->getObject("payload") : nullptr;
        if (!payload || !payload->has("projectId") ||
            !(payload->get("projectId").isString() || payload->get("projectId").isInteger()) ||
            payload->get("projectId").toString().empty() || payload->get("projectId").toString().size() > 200)
            return sendError(c, "Invalid " + type + " message: payload.projectId is required");
        std::string project = payload->get("projectId").toString();
        int64_t since = module_.lastEventId();
        {
            std::lock_guard lock(mutex_);
            if (type == "subscribe") c.projects.emplace(project, since);
            else c.projects.erase(project);
        }
        auto reply = makeObject();
        reply->set("type", type == "subscribe" ? "subscribed" : "unsubscribed");
        auto p = makeObject();
        p->set("projectId", payload->get("projectId"));
        reply->set("payload", p);
        return sendJson(c, reply);
    }
    if (type == "ping") {
        auto reply = makeObject();
        reply->set("type", "pong");
        return sendJson(c, reply);
    }
    if (!runMessageHook(c, type, msg, "boards")) sendError(c, "Unknown message type: " + type.substr(0, 100));
}

void EventsHub::wsOpen(const atelier::WebSocket& ws, bool boards) {
    auto c = std::make_shared<WsClient>();
    c->id = nextId_.fetch_add(1) + 1;
    c->connectionId = "ws-" + std::to_string(c->id);
    c->ws = ws;  // retained until close
    c->boards = boards;
    std::lock_guard lock(mutex_);
    c->bus = deliveredBus_;
    ws_[ws.raw()] = c;
}

void EventsHub::wsMessage(const atelier::WebSocket& ws, std::string_view data) {
    std::shared_ptr<WsClient> c;
    {
        std::lock_guard lock(mutex_);
        auto it = ws_.find(ws.raw());
        if (it != ws_.end()) c = it->second;
    }
    if (!c) return;
    if (c->boards) handleBoards(*c, data);
    else handleKombuse(*c, data);
}

void EventsHub::wsClose(const atelier::WebSocket& ws) {
    std::shared_ptr<WsClient> c;
    {
        std::lock_guard lock(mutex_);
        auto it = ws_.find(ws.raw());
        if (it == ws_.end()) return;
        c = std::move(it->second);
        ws_.erase(it);
    }
    auto payload = makeObject();
    payload->set("connectionId", c->connectionId);
    payload->set("protocol", c->boards ? "boards" : "kombuse");
    module_.runHook("ws.closed", payload);
}

atelier::WsHandlers EventsHub::handlers(bool boards) {
    atelier::WsHandlers h;
    h.onOpen = [this, boards](const atelier::WebSocket& ws, const atelier::Request&) {
        wsOpen(ws, boards);
        return 0;
    };
    h.onMessage = [this](const atelier::WebSocket& ws, std::string_view data, bool) { wsMessage(ws, data); };
    h.onClose = [this](const atelier::WebSocket& ws, int) { wsClose(ws); };
    return h;
}

atelier::WsHandlers EventsHub::kombuseHandlers() { return handlers(false); }
atelier::WsHandlers EventsHub::boardsHandlers() { return handlers(true); }

}  // namespace atelier::events
