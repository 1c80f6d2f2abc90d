#include "events_subscriptions.hpp"

#include <atelier/util.hpp>

namespace atelier::events {

namespace {
const char* kSelect =
    "SELECT id, subscriber_id, event_type, project_id, last_processed_event_id, created_at, updated_at"
    " FROM events_subscriptions";
}

SubscriptionStore::SubscriptionStore(const atelier::Module& module) : module_(module) {}

JsonObject SubscriptionStore::toJson(const Row& r) {
    auto o = makeObject();
    o->set("id", r.integer("id"));
    o->set("subscriber_id", r.text("subscriber_id"));
    o->set("event_type", r.text("event_type"));
    std::string project = r.text("project_id");
    if (project.empty()) o->set("project_id", Poco::Dynamic::Var());
    else o->set("project_id", project);
    o->set("last_processed_event_id", r.integer("last_processed_event_id"));
    o->set("created_at", r.text("created_at"));
    o->set("updated_at", r.text("updated_at"));
    return o;
}

int64_t SubscriptionStore::parseId(const std::string& text) {
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
        throw notFound("Subscription not found", "SUBSCRIPTION_NOT_FOUND");
    return std::stoll(text);
}

std::vector<JsonObject> SubscriptionStore::list(const std::string& subscriberId) const {
    std::vector<JsonObject> out;
    for (auto& r : module_.db().query(std::string(kSelect) + " WHERE subscriber_id = ? ORDER BY id", {subscriberId}))
        out.push_back(toJson(r));
    return out;
}

std::pair<JsonObject, bool> SubscriptionStore::create(const std::string& subscriberId, const std::string& eventType,
                                                      const std::string& projectId) {
    JsonObject result;
    bool created = false;
    module_.db().transaction([&](const Db& tx) {
        std::string where = " WHERE subscriber_id = ? AND event_type = ? AND project_id = ?";
        if (auto existing = tx.one(std::string(kSelect) + where, {subscriberId, eventType, projectId})) {
            result = toJson(*existing);
            return;
        }
        std::string now = nowIso();
        auto r = tx.one(
            "INSERT INTO events_subscriptions (subscriber_id, event_type, project_id, last_processed_event_id, "
            "created_at,"
            " updated_at) VALUES (?, ?, ?, 0, ?, ?) RETURNING id",
            {subscriberId, eventType, projectId, now, now});
        result = toJson(*tx.one(std::string(kSelect) + " WHERE id = ?", {r->integer("id")}));
        created = true;
    });
    return {result, created};
}

JsonObject SubscriptionStore::get(int64_t id) const {
    auto r = module_.db().one(std::string(kSelect) + " WHERE id = ?", {id});
    if (!r) throw notFound("Subscription not found", "SUBSCRIPTION_NOT_FOUND");
    return toJson(*r);
}

std::vector<Event> SubscriptionStore::pending(const JsonObject& s, int64_t limit) const {
    std::string type = s->getValue<std::string>("event_type");
    std::string project = s->isNull("project_id") ? std::string() : s->getValue<std::string>("project_id");
    int64_t cursor = s->getValue<int64_t>("last_processed_event_id");
    std::vector<Event> out;
    // Page through the log by type; filter the project here (the bus query has no project).
    while (static_cast<int64_t>(out.size()) < limit) {
        auto page = module_.replay(cursor, type, 500);
        if (page.empty()) break;
        for (auto& e : page) {
            cursor = e.id;
            if (!project.empty() && e.projectId != project) continue;
            out.push_back(std::move(e));
            if (static_cast<int64_t>(out.size()) >= limit) break;
        }
        if (page.size() < 500) break;
    }
    return out;
}

JsonObject SubscriptionStore::acknowledge(int64_t id, int64_t lastEventId) {
    get(id);
    if (lastEventId > module_.lastEventId())
        throw badRequest("last_event_id is beyond the last event", "VALIDATION_ERROR",
                         {{"last_event_id", "must not exceed the id of the last event"}});
    module_.db().exec("UPDATE events_subscriptions SET last_processed_event_id = ?, updated_at = ? WHERE id = ?",
                      {lastEventId, nowIso(), id});
    return get(id);
}

void SubscriptionStore::remove(int64_t id) {
    auto r = module_.db().exec("DELETE FROM events_subscriptions WHERE id = ?", {id});
    if (r.changes == 0) throw notFound("Subscription not found", "SUBSCRIPTION_NOT_FOUND");
}

}  // namespace atelier::events
