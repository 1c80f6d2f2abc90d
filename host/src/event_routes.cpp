#include "event_routes.hpp"

#include <algorithm>
#include <thread>

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include <chrono>
#include <map>
#include <set>

#include "activity_log.hpp"
#include "events_hub.hpp"
#include "events_logs.hpp"
#include "events_retention.hpp"
#include "events_subscriptions.hpp"
#include "host.hpp"

namespace atelier::host {

namespace {

struct Settings {
    int64_t keepAliveMs = 15000;
    int64_t sweepMs = 600000;
    double activityMaxSizeMB = 50;
    double opsLogMaxSizeMB = 50;
    std::set<std::string> authTokens;
};

struct State {
    Settings settings;
    std::unique_ptr<ActivityLog> activity;
    std::unique_ptr<SubscriptionStore> subscriptions;
    std::unique_ptr<EventsHub> hub;
    int64_t keepAliveTimer = 0, sweepTimer = 0;
};
std::unique_ptr<State> g_state;

Settings readSettings(const Host& host) {
    Settings s;
    auto it = host.config().moduleConfig.find("host");
    if (it == host.config().moduleConfig.end()) return s;
    auto o = parseObject(it->second);
    if (!o) return s;
    auto num = [&](const char* k, double fallback, double min, double max) {
        if (!o->has(k) || !o->get(k).isNumeric()) return fallback;
        double v = o->getValue<double>(k);
        return v < min ? min : (v > max ? max : v);
    };
    s.keepAliveMs = static_cast<int64_t>(num("sseKeepAliveMs", 15000, 50, 3600000));
    s.sweepMs = static_cast<int64_t>(num("retentionSweepMs", 600000, 50, 86400000));
    s.activityMaxSizeMB = num("activityMaxSizeMB", 50, 0.001, 100000);
    s.opsLogMaxSizeMB = num("opsLogMaxSizeMB", 50, 0.001, 100000);
    if (auto tokens = o->getArray("authTokens"))
        for (size_t i = 0; i < tokens->size(); ++i)
            if (tokens->get(static_cast<unsigned>(i)).isString())
                s.authTokens.insert(tokens->getElement<std::string>(static_cast<unsigned>(i)));
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
std::string withActor(const Module& module, const StoredEvent& e, std::map<std::string, std::string>& cache) {
    std::string json = e.toJson();
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

void sweep(const Host& host, const Module& module) {
    auto& st = *g_state;
    try {
        auto a = st.activity->sweep(static_cast<double>(host.config().activityRetentionDays), st.settings.activityMaxSizeMB);
        auto o = retentionSweep(module.db(), "host_ops_log", static_cast<double>(host.config().opsLogRetentionDays),
                                st.settings.opsLogMaxSizeMB);
        if (a.entriesToRemove || o.entriesToRemove)
            module.host().info("retention: removed " + std::to_string(a.entriesToRemove) + " activity and " +
                               std::to_string(o.entriesToRemove) + " operations-log entries");
    } catch (const std::exception& e) {
        module.host().warn(std::string("retention sweep failed: ") + e.what());
    }
}

}  // namespace

void registerEventRoutes(Module& module, Host& host) {
    g_state = std::make_unique<State>();
    auto& st = *g_state;
    st.settings = readSettings(host);
    st.activity = std::make_unique<ActivityLog>(module);
    st.subscriptions = std::make_unique<SubscriptionStore>(module, host.bus());
    EventsHub::Options hubOptions;
    hubOptions.fanoutThreads = host.config().fanoutThreads;
    // On loopback every write also runs the receiver's TCP work, so the fan-out is CPU-bound
    // and one writer per core keeps a turn over thousands of clients short. Measured on 2
    // cores with 2,500 clients: p99 34-43 ms with two writers, 38 ms to 450 ms with one (a
    // descheduled lone writer stalls every client behind it).
    if (hubOptions.fanoutThreads <= 0)
        hubOptions.fanoutThreads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
    hubOptions.flushMs = host.config().streamFlushMs;
    st.hub = std::make_unique<EventsHub>(host, module, *st.activity, hubOptions);
    EventsHub& hub = *st.hub;
    ActivityLog& activity = *st.activity;
    SubscriptionStore& subs = *st.subscriptions;
    Module* m = &module;

    // ---- Kombuse events (JSON) and the OpenKit SSE stream on the same path
    module.get("/api/events", "List events (Kombuse filters) or, with Accept: text/event-stream, the live stream",
               [&host, &hub, m](Request& req, Response& res) {
                   if (req.header("accept").find("text/event-stream") != std::string::npos) return hub.openSse(req, res);
                   EventFilter f;
                   f.eventType = req.query("event_type");
                   f.projectId = req.query("project_id");
                   f.ticketId = req.query("ticket_id");
                   f.actorId = req.query("actor_id");
                   f.actorType = requireOneOfQuery(req, "actor_type", {"user", "agent", "system"});
                   f.since = requireIsoQuery(req, "since");
                   f.limit = req.queryInt("limit", 50, 1, 100);
                   f.offset = req.queryInt("offset", 0, 0, INT64_MAX);
                   std::map<std::string, std::string> actors;
                   std::string body = "[";
                   bool first = true;
                   for (auto& e : host.bus().query(f)) {
                       body += (first ? "" : ",") + withActor(*m, e, actors);
                       first = false;
                   }
                   res.status(200).header("Content-Type", "application/json").body(body + "]");
               });
    module.post("/api/events", "Create an event (Kombuse; 201)", [&host, m](Request& req, Response& res) {
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
        if (auto t = optIntField(body, "ticket_id")) e.ticketId = std::to_string(*t);
        if (auto c = optIntField(body, "comment_id")) e.commentId = std::to_string(*c);
        if (auto n = optIntField(body, "ticket_number")) e.ticketNumber = *n;
        if (auto a = optString(body, "actor_id")) e.actorId = *a;
        if (auto s = optString(body, "kombuse_session_id")) e.sessionId = *s;
        int64_t id = m->publish(e);
        EventFilter f;
        f.afterId = id - 1;
        f.limit = 1;
        f.newestFirst = false;
        auto stored = host.bus().query(f);
        if (stored.empty() || stored[0].id != id) throw HttpError(500, "INTERNAL_ERROR", "Event not readable after write");
        std::map<std::string, std::string> actors;
        res.status(201).header("Content-Type", "application/json").body(withActor(*m, stored[0], actors));
    });

    // ---- Kombuse subscriptions
    module.get("/api/subscriptions", "List subscriptions of a subscriber", [&subs](Request& req, Response& res) {
        std::string subscriber = req.query("subscriber_id");
        if (subscriber.empty())
            throw badRequest("subscriber_id is required", "VALIDATION_ERROR", {{"subscriber_id", "is required"}});
        auto arr = makeArray();
        for (auto& s : subs.list(subscriber)) arr->add(s);
        res.json(arr);
    });
    module.post("/api/subscriptions", "Create a subscription (or return the existing one)", [&subs](Request& req, Response& res) {
        auto body = req.json();
        std::string subscriber = requireString(body, "subscriber_id");
        std::string type = requireString(body, "event_type");
        if (subscriber.size() > 200 || type.size() > 200)
            throw badRequest("subscriber_id and event_type must be at most 200 characters", "VALIDATION_ERROR",
                             {{subscriber.size() > 200 ? "subscriber_id" : "event_type", "must be at most 200 characters"}});
        std::string project;
        if (has(body, "project_id")) {
            auto v = body->get("project_id");
            if (!v.isString() && !v.isInteger())
                throw badRequest("project_id must be a string", "VALIDATION_ERROR", {{"project_id", "must be a string"}});
            project = v.toString();
        }
        auto [s, created] = subs.create(subscriber, type, project);
        res.json(s, created ? 201 : 200);
    });
    module.get("/api/subscriptions/:id/events", "Unprocessed events of a subscription", [&subs](Request& req, Response& res) {
        auto s = subs.get(SubscriptionStore::parseId(req.param("id")));
        int64_t limit = req.queryInt("limit", 100, 1, 1000);
        std::string body = "{\"subscription\":" + atelier::toJson(s) + ",\"events\":[";
        bool first = true;
        for (auto& e : subs.pending(s, limit)) {
            body += (first ? "" : ",") + e.toJson();
            first = false;
        }
        res.status(200).header("Content-Type", "application/json").body(body + "]}");
    });
    module.post("/api/subscriptions/:id/acknowledge", "Mark events as processed", [&subs](Request& req, Response& res) {
        int64_t id = SubscriptionStore::parseId(req.param("id"));
        auto body = req.json();
        auto last = optIntField(body, "last_event_id");
        if (!last) throw badRequest("last_event_id is required", "VALIDATION_ERROR", {{"last_event_id", "is required"}});
        if (*last < 0)
            throw badRequest("last_event_id must not be negative", "VALIDATION_ERROR", {{"last_event_id", "must be >= 0"}});
        res.json(subs.acknowledge(id, *last));
    });
    module.del("/api/subscriptions/:id", "Remove a subscription", [&subs](Request& req, Response& res) {
        subs.remove(SubscriptionStore::parseId(req.param("id")));
        res.noContent();
    });

    // ---- OpenKit activity feed
    module.get("/api/activity", "Query the activity feed", [&activity](Request& req, Response& res) {
        std::string since = requireIsoQuery(req, "since");
        std::string category = requireOneOfQuery(req, "category", {"agent", "worktree", "system"});
        int64_t limit = req.queryInt("limit", 100, 1, 1000);
        res.status(200).header("Content-Type", "application/json").body(eventsJson(activity.query(since, category, limit)));
    });
    module.post("/api/activity", "Record an activity event", [&activity](Request& req, Response& res) {
        auto entry = ActivityLog::validate(req.json());
        auto out = makeObject();
        out->set("success", true);
        out->set("event", activity.add(entry));
        res.json(out);
    });

    // ---- OpenKit operations log
    module.get("/api/logs", "Query the operations log", [&host, m](Request& req, Response& res) {
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
        host.ops().flush();  // read what was recorded before this request
        std::vector<std::string> entries;
        for (auto& [id, json] : queryOpsLog(m->db(), f)) entries.push_back(std::move(json));
        res.status(200).header("Content-Type", "application/json").body(eventsJson(entries));
    });
    module.post("/api/logs", "Append an operations-log event", [&host](Request& req, Response& res) {
        auto entry = validateOpsEntry(req.json());
        auto future = host.ops().recordAsync(atelier::toJson(entry));
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
    module.post("/api/config/retention-impact", "Preview what a retention setting would remove",
                [&activity, m](Request& req, Response& res) {
                    auto body = req.json();
                    std::string logType = has(body, "logType") && body->get("logType").isString()
                                              ? body->getValue<std::string>("logType")
                                              : std::string();
                    if (logType != "activity" && logType != "opsLog")
                        throw badRequest("Invalid logType", "VALIDATION_ERROR",
                                         {{"logType", "must be \"activity\" or \"opsLog\""}});
                    auto days = optPositive(body, "retentionDays", 36500);
                    auto size = optPositive(body, "maxSizeMB", 1024 * 1024);
                    auto impact = logType == "activity" ? activity.impact(days, size)
                                                        : retentionImpact(m->db(), "host_ops_log", days, size);
                    res.json(impact.toJson());
                });

    // ---- WebSockets
    module.websocket("/ws", hub.kombuseHandlers());
    module.websocket("/api/ws", hub.boardsHandlers());

    // ---- static tokens for `auth.authenticate` (runs last; never overrides a decision)
    if (!st.settings.authTokens.empty()) {
        module.hook("auth.authenticate", 1000000, [](std::string_view payload) {
            auto o = parseObject(payload);
            if (!o || o->optValue<bool>("ok", false)) return HookOutcome::keep();
            std::string token = o->has("token") && o->get("token").isString() ? o->getValue<std::string>("token") : "";
            if (token.empty() || !g_state || !g_state->settings.authTokens.count(token)) return HookOutcome::keep();
            o->set("ok", true);
            o->set("userId", "token");
            return HookOutcome::replace(o);
        });
    }
}

void startEventRoutes(Module& module, Host& host) {
    if (!g_state) return;
    auto& st = *g_state;
    st.hub->start();
    EventsHub* hub = st.hub.get();
    // Checked twice per interval and sent to connections idle for half of it, so no idle
    // connection goes longer than the interval without a byte.
    auto half = static_cast<uint64_t>(std::max<int64_t>(st.settings.keepAliveMs / 2, 25));
    st.keepAliveTimer = module.timer(half, half, [hub, half] { hub->keepAlive(std::chrono::milliseconds(half)); });
    Module* m = &module;
    Host* h = &host;
    st.sweepTimer = module.timer(std::min<uint64_t>(2000, static_cast<uint64_t>(st.settings.sweepMs)),
                                 static_cast<uint64_t>(st.settings.sweepMs), [h, m] { sweep(*h, *m); });
}

void stopEventRoutes(Module& module, Host&) {
    if (!g_state) return;
    module.cancelTimer(g_state->keepAliveTimer);
    module.cancelTimer(g_state->sweepTimer);
    g_state->hub->stop();
}

}  // namespace atelier::host
