// events: the event products built on the host's bus. Kombuse's event list and subscriptions
// API and `/ws` protocol, OpenKit's SSE stream (history frames, replay cursors), the activity
// feed, the operations log and request tracing, retention, and the boards product's `/api/ws`.
// Written against the public SDK only.
//
// Settings (`modules.config.events`, all optional): sseKeepAliveMs (15000), retentionSweepMs
// (600000), activityRetentionDays (30), opsLogRetentionDays (7), activityMaxSizeMB (50),
// opsLogMaxSizeMB (50), fanoutThreads (0: one per core, at most 4), streamFlushMs (10).
#include <algorithm>
#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <chrono>
#include <map>
#include <thread>

#include "activity_log.hpp"
#include "events_hub.hpp"
#include "events_logs.hpp"
#include "events_retention.hpp"
#include "events_subscriptions.hpp"
#include "kombuse_events.hpp"
#include "ops_log.hpp"

namespace atelier::events {

namespace {

struct Settings {
    int64_t keepAliveMs = 15000;
    int64_t sweepMs = 600000;
    double activityRetentionDays = 30;
    double opsLogRetentionDays = 7;
    double activityMaxSizeMB = 50;
    double opsLogMaxSizeMB = 50;
    int fanoutThreads = 0;
    int flushMs = 10;
};

Settings readSettings(const JsonObject& o) {
    Settings s;
    auto num = [&](const char* k, double fallback, double min, double max) {
        if (!o->has(k) || !o->get(k).isNumeric()) return fallback;
        double v = o->getValue<double>(k);
        return v < min ? min : (v > max ? max : v);
    };
    s.keepAliveMs = static_cast<int64_t>(num("sseKeepAliveMs", 15000, 50, 3600000));
    s.sweepMs = static_cast<int64_t>(num("retentionSweepMs", 600000, 50, 86400000));
    s.activityRetentionDays = num("activityRetentionDays", 30, 0.0001, 36500);
    s.opsLogRetentionDays = num("opsLogRetentionDays", 7, 0.0001, 36500);
    s.activityMaxSizeMB = num("activityMaxSizeMB", 50, 0.001, 100000);
    s.opsLogMaxSizeMB = num("opsLogMaxSizeMB", 50, 0.001, 100000);
    s.fanoutThreads = static_cast<int>(num("fanoutThreads", 0, 0, 16));
    s.flushMs = static_cast<int>(num("streamFlushMs", 10, 0, 1000));
    return s;
}

std::string requireIsoQuery(const Request& req, const char* name) {
    std::string v = req.query(name);
    if (!v.empty() && !looksLikeIsoTime(v))
        throw badRequest(std::string(name) + " must be an ISO 8601 date-time", "VALIDATION_ERROR",
                         {{name, "must be an ISO 8601 date-time"}});
    return v;
}

std::string requireOneOfQuery(const Request& req, const char* name, std::initializer_list<const char*> allowed) {
    std::string v = req.query(name);
    if (v.empty()) return v;
    for (auto* a : allowed)
        if (v == a) return v;
    std::string list;
    for (auto* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    throw badRequest(std::string(name) + " must be one of " + list, "VALIDATION_ERROR", {{name, "must be one of " + list}});
}

std::optional<int64_t> optIntField(const JsonObject& body, const char* key) {
    if (!has(body, key)) return std::nullopt;
    auto v = body->get(key);
    if (v.isString()) {  // Kombuse clients sometimes send numeric ids as strings
        std::string s = v.extract<std::string>();
        if (!s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
    }
    return optInt(body, key);
}

std::optional<double> optPositive(const JsonObject& body, const char* key, double max) {
    if (!has(body, key)) return std::nullopt;
    auto v = body->get(key);
    if (!v.isNumeric() || v.isBoolean())
        throw badRequest(std::string(key) + " must be a number", "VALIDATION_ERROR", {{key, "must be a number"}});
    double d = v.convert<double>();
    if (!(d > 0) || d > max)
        throw badRequest(std::string(key) + " must be greater than 0", "VALIDATION_ERROR",
                         {{key, "must be greater than 0 and at most " + std::to_string(static_cast<int64_t>(max))}});
    return d;
}

// EventWithActor: the Kombuse event plus `actor` from the profiles provider (hook), or null.
std::string withActor(const Module& module, const Event& e, std::map<std::string, std::string>& cache) {
    std::string json = kombuseEventJson(e);
    std::string actor = "null";
    if (!e.actorId.empty()) {
        auto it = cache.find(e.actorId);
        if (it == cache.end()) {
            auto payload = makeObject();
            payload->set("actorId", e.actorId);
            payload->set("actor", Poco::Dynamic::Var());
            auto run = module.runHook("profiles.lookup", payload);
            std::string found = "null";
            if (!run.vetoed) {
                auto o = run.json();
                if (o && o->has("actor") && !o->isNull("actor") && o->getObject("actor"))
                    found = atelier::toJson(o->getObject("actor"));
            }
            it = cache.emplace(e.actorId, found).first;
        }
        actor = it->second;
    }
    json.pop_back();  // '}'
    return json + ",\"actor\":" + actor + "}";
}

std::string eventsJson(const std::vector<std::string>& entries) {
    std::string body = "{\"events\":[";
    for (size_t i = 0; i < entries.size(); ++i) body += (i ? "," : "") + entries[i];
    return body + "]}";
}

}  // namespace

class EventsModule : public Module {
public:
    void init() override;
    void start() override;
    void stop() override;

private:
    void sweep() const;

    Settings settings_;
    std::unique_ptr<ActivityLog> activity_;
    std::unique_ptr<SubscriptionStore> subs_;
    std::unique_ptr<OpsLog> ops_;
    std::unique_ptr<EventsHub> hub_;
    int64_t keepAliveTimer_ = 0, sweepTimer_ = 0;
};

void EventsModule::init() {
    settings_ = readSettings(host().config());
    migrate({
        // 1: the activity feed, Kombuse subscriptions and the operations log.
        "CREATE TABLE events_activity (id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE,"
        " event_id INTEGER, created_at TEXT NOT NULL, category TEXT NOT NULL, type TEXT NOT NULL,"
        " severity TEXT NOT NULL, entry TEXT NOT NULL);"
        "CREATE INDEX events_activity_created ON events_activity(created_at);"
        "CREATE INDEX events_activity_event ON events_activity(event_id);"
        "CREATE TABLE events_subscriptions (id INTEGER PRIMARY KEY AUTOINCREMENT, subscriber_id TEXT NOT NULL,"
        " event_type TEXT NOT NULL, project_id TEXT NOT NULL DEFAULT '', last_processed_event_id INTEGER NOT NULL"
        " DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE(subscriber_id, event_type, "
        "project_id));"
        "CREATE TABLE events_ops_log (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,"
        " level TEXT NOT NULL, source TEXT NOT NULL, status TEXT, message TEXT NOT NULL, entry TEXT NOT NULL);"
        "CREATE INDEX events_ops_log_created ON events_ops_log(created_at);",
    });
    activity_ = std::make_unique<ActivityLog>(*this);
    subs_ = std::make_unique<SubscriptionStore>(*this);
    ops_ = std::make_unique<OpsLog>(*this);
    EventsHub::Options hubOptions;
    hubOptions.fanoutThreads = settings_.fanoutThreads;
    // On loopback every write also runs the receiver's TCP work, so the fan-out is CPU-bound
    // and one writer per core keeps a turn over thousands of clients short. Measured on 2
    // cores with 2,500 clients: p99 34-43 ms with two writers, 38 ms to 450 ms with one (a
    // descheduled lone writer stalls every client behind it).
    if (hubOptions.fanoutThreads <= 0)
        hubOptions.fanoutThreads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
    hubOptions.flushMs = settings_.flushMs;
    hub_ = std::make_unique<EventsHub>(*this, *activity_, *ops_, hubOptions);

    // ---- what the operations log records: any module's ops_record, and finished requests
    hook("ops.record", 0, [this](std::string_view payload) {
        ops_->record(std::string(payload));
        return HookOutcome::keep();
    });
    hook("http.request_finished", 0, [this](std::string_view payload) {
        if (auto finished = parseObject(payload))
            if (auto entry = OpsLog::traceEntry(*finished)) ops_->record(std::move(entry));
        return HookOutcome::keep();
    });

    // ---- Kombuse events (JSON) and the OpenKit SSE stream on the same path
    get("/api/events", "List events (Kombuse filters) or, with Accept: text/event-stream, the live stream",
        [this](Request& req, Response& res) {
            if (req.header("accept").find("text/event-stream") != std::string::npos) return hub_->openSse(req, res);
            EventQuery q;
            q.types = req.query("event_type");
            q.projectId = req.query("project_id");
            if (auto ticket = req.query("ticket_id"); !ticket.empty()) q.subject = "ticket/" + ticket;
            q.actorId = req.query("actor_id");
            q.actorType = requireOneOfQuery(req, "actor_type", {"user", "agent", "system"});
            q.since = requireIsoQuery(req, "since");
            q.limit = req.queryInt("limit", 50, 1, 100);
            q.offset = req.queryInt("offset", 0, 0, INT64_MAX);
            q.newestFirst = true;
            std::map<std::string, std::string> actors;
            std::string body = "[";
            bool first = true;
            for (auto& e : queryEvents(q)) {
                body += (first ? "" : ",") + withActor(*this, e, actors);
                first = false;
            }
            res.status(200).header("Content-Type", "application/json").body(body + "]");
        });
    post("/api/events", "Create an event (Kombuse; 201)", [this](Request& req, Response& res) {
        auto body = req.json();
        Event e;
        e.type = requireString(body, "event_type");
        if (e.type.size() > 200)
            throw badRequest("event_type must be at most 200 characters", "VALIDATION_ERROR",
                             {{"event_type", "must be at most 200 characters"}});
        e.actorType = requireString(body, "actor_type");
        if (e.actorType != "user" && e.actorType != "agent" && e.actorType != "system")
            throw badRequest("actor_type must be one of user, agent, system", "VALIDATION_ERROR",
                             {{"actor_type", "must be one of user, agent, system"}});
        if (!body->has("payload") || body->isNull("payload"))
            throw badRequest("payload is required", "VALIDATION_ERROR", {{"payload", "is required"}});
        if (body->get("payload").type() != typeid(JsonObject))
            throw badRequest("payload must be an object", "VALIDATION_ERROR", {{"payload", "must be an object"}});
        e.payload = atelier::toJson(body->get("payload"));
        if (e.payload.size() > 1024 * 1024)
            throw badRequest("payload is too large (1 MiB at most)", "VALIDATION_ERROR", {{"payload", "must be at most 1 MiB"}});
        if (has(body, "project_id")) {
            auto v = body->get("project_id");
            if (!v.isString() && !v.isInteger())
                throw badRequest("project_id must be a string", "VALIDATION_ERROR", {{"project_id", "must be a string"}});
            e.projectId = v.toString();
        }
        // The Kombuse fields travel as the subject and in the payload (see kombuse_events.hpp).
        if (auto t = optIntField(body, "ticket_id")) e.subject = "ticket/" + std::to_string(*t);
        if (auto c = optIntField(body, "comment_id")) e.set("comment_id", *c);
        if (auto n = optIntField(body, "ticket_number")) e.set("ticket_number", *n);
        if (auto a = optString(body, "actor_id")) e.actorId = *a;
        if (auto s = optString(body, "kombuse_session_id")) e.set("kombuse_session_id", *s);
        int64_t id = publish(e);
        EventQuery q;
        q.afterId = id - 1;
        q.maxId = id;
        q.limit = 1;
        auto stored = queryEvents(q);
        if (stored.empty() || stored[0].id != id)
            throw HttpError(500, "INTERNAL_ERROR", "Event not readable after write");
        std::map<std::string, std::string> actors;
        res.status(201).header("Content-Type", "application/json").body(withActor(*this, stored[0], actors));
    });

    // ---- Kombuse subscriptions
    get("/api/subscriptions", "List subscriptions of a subscriber", [this](Request& req, Response& res) {
        std::string subscriber = req.query("subscriber_id");
        if (subscriber.empty())
            throw badRequest("subscriber_id is required", "VALIDATION_ERROR", {{"subscriber_id", "is required"}});
        auto arr = makeArray();
        for (auto& s : subs_->list(subscriber)) arr->add(s);
        res.json(arr);
    });
    post("/api/subscriptions", "Create a subscription (or return the existing one)",
         [this](Request& req, Response& res) {
             auto body = req.json();
             std::string subscriber = requireString(body, "subscriber_id");
             std::string type = requireString(body, "event_type");
             if (subscriber.size() > 200 || type.size() > 200)
                 throw badRequest(
                     "subscriber_id and event_type must be at most 200 characters", "VALIDATION_ERROR",
                     {{subscriber.size() > 200 ? "subscriber_id" : "event_type", "must be at most 200 characters"}});
             std::string project;
             if (has(body, "project_id")) {
                 auto v = body->get("project_id");
                 if (!v.isString() && !v.isInteger())
                     throw badRequest("project_id must be a string", "VALIDATION_ERROR",
                                      {{"project_id", "must be a string"}});
                 project = v.toString();
             }
             auto [s, created] = subs_->create(subscriber, type, project);
             res.json(s, created ? 201 : 200);
         });
    get("/api/subscriptions/:id/events", "Unprocessed events of a subscription", [this](Request& req, Response& res) {
        auto s = subs_->get(SubscriptionStore::parseId(req.param("id")));
        int64_t limit = req.queryInt("limit", 100, 1, 1000);
        std::string body = "{\"subscription\":" + atelier::toJson(s) + ",\"events\":[";
        bool first = true;
        for (auto& e : subs_->pending(s, limit)) {
            body += (first ? "" : ",") + kombuseEventJson(e);
            first = false;
        }
        res.status(200).header("Content-Type", "application/json").body(body + "]}");
    });
    post("/api/subscriptions/:id/acknowledge", "Mark events as processed", [this](Request& req, Response& res) {
        int64_t id = SubscriptionStore::parseId(req.param("id"));
        auto body = req.json();
        auto last = optIntField(body, "last_event_id");
        if (!last)
            throw badRequest("last_event_id is required", "VALIDATION_ERROR", {{"last_event_id", "is required"}});
        if (*last < 0)
            throw badRequest("last_event_id must not be negative", "VALIDATION_ERROR", {{"last_event_id", "must be >= 0"}});
        res.json(subs_->acknowledge(id, *last));
    });
    del("/api/subscriptions/:id", "Remove a subscription", [this](Request& req, Response& res) {
        subs_->remove(SubscriptionStore::parseId(req.param("id")));
        res.noContent();
    });

    // ---- OpenKit activity feed
    get("/api/activity", "Query the activity feed", [this](Request& req, Response& res) {
        std::string since = requireIsoQuery(req, "since");
        std::string category = requireOneOfQuery(req, "category", {"agent", "worktree", "system"});
        int64_t limit = req.queryInt("limit", 100, 1, 1000);
        res.status(200)
            .header("Content-Type", "application/json")
            .body(eventsJson(activity_->query(since, category, limit)));
    });
    post("/api/activity", "Record an activity event", [this](Request& req, Response& res) {
        auto entry = ActivityLog::validate(req.json());
        auto out = makeObject();
        out->set("success", true);
        out->set("event", activity_->add(entry));
        res.json(out);
    });

    // ---- OpenKit operations log
    get("/api/logs", "Query the operations log", [this](Request& req, Response& res) {
        OpsLogFilter f;
        f.since = requireIsoQuery(req, "since");
        f.level = requireOneOfQuery(req, "level", {"debug", "info", "warning", "error"});
        f.status = requireOneOfQuery(req, "status", {"started", "succeeded", "success", "failed", "info"});
        f.source = req.query("source");
        f.search = req.query("search");
        if (f.source.size() > 200 || f.search.size() > 200)
            throw badRequest("source and search must be at most 200 characters", "VALIDATION_ERROR",
                             {{f.source.size() > 200 ? "source" : "search", "must be at most 200 characters"}});
        f.limit = req.queryInt("limit", 200, 1, 2000);
        ops_->flush();  // read what was recorded before this request
        std::vector<std::string> entries;
        for (auto& [id, json] : queryOpsLog(db(), f)) entries.push_back(std::move(json));
        res.status(200).header("Content-Type", "application/json").body(eventsJson(entries));
    });
    post("/api/logs", "Append an operations-log event", [this](Request& req, Response& res) {
        auto entry = validateOpsEntry(req.json());
        auto future = ops_->recordAsync(atelier::toJson(entry));
        if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
            throw HttpError(503, "OPS_LOG_BUSY", "The operations log is busy; retry");
        auto stored = future.get();
        if (!stored) throw HttpError(503, "OPS_LOG_BUSY", "The operations log is busy; retry");
        auto out = makeObject();
        out->set("success", true);
        out->set("event", parseObject(stored->json));
        res.json(out);
    });

    // ---- retention preview
    post("/api/config/retention-impact", "Preview what a retention setting would remove",
         [this](Request& req, Response& res) {
             auto body = req.json();
             std::string logType = has(body, "logType") && body->get("logType").isString()
                                       ? body->getValue<std::string>("logType")
                                       : std::string();
             if (logType != "activity" && logType != "opsLog")
                 throw badRequest("Invalid logType", "VALIDATION_ERROR",
                                  {{"logType", "must be \"activity\" or \"opsLog\""}});
             auto days = optPositive(body, "retentionDays", 36500);
             auto size = optPositive(body, "maxSizeMB", 1024 * 1024);
             auto impact = logType == "activity" ? activity_->impact(days, size)
                                                 : retentionImpact(db(), "events_ops_log", days, size);
             res.json(impact.toJson());
         });

    // ---- WebSockets
    websocket("/ws", hub_->kombuseHandlers());
    websocket("/api/ws", hub_->boardsHandlers());
}

void EventsModule::start() {
    ops_->start();
    hub_->start();
    EventsHub* hub = hub_.get();
    // Checked twice per interval and sent to connections idle for half of it, so no idle
    // connection goes longer than the interval without a byte.
    auto half = static_cast<uint64_t>(std::max<int64_t>(settings_.keepAliveMs / 2, 25));
    keepAliveTimer_ = timer(half, half, [hub, half] { hub->keepAlive(std::chrono::milliseconds(half)); });
    sweepTimer_ = timer(std::min<uint64_t>(2000, static_cast<uint64_t>(settings_.sweepMs)),
                        static_cast<uint64_t>(settings_.sweepMs), [this] { sweep(); });
}

void EventsModule::stop() {
    cancelTimer(keepAliveTimer_);
    cancelTimer(sweepTimer_);
    hub_->stop();
    ops_->stop();
}

void EventsModule::sweep() const {
    try {
        auto a = activity_->sweep(settings_.activityRetentionDays, settings_.activityMaxSizeMB);
        auto o = retentionSweep(db(), "events_ops_log", settings_.opsLogRetentionDays, settings_.opsLogMaxSizeMB);
        if (a.entriesToRemove || o.entriesToRemove)
            host().info("retention: removed " + std::to_string(a.entriesToRemove) + " activity and " +
                        std::to_string(o.entriesToRemove) + " operations-log entries");
    } catch (const std::exception& e) {
        host().warn(std::string("retention sweep failed: ") + e.what());
    }
}

}  // namespace atelier::events

ATELIER_MODULE(atelier::events::EventsModule)
