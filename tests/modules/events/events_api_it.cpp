// REST side of the event bus over real sockets: Kombuse events and subscriptions (cursor
// semantics), the OpenKit activity feed and operations log, retention and its preview, and
// the automatic tracing of /api requests with redaction.
#include <thread>

#include "events_support.hpp"

using namespace atelier::test;
using namespace atelier::test::events;

namespace {

std::string isoDaysAgo(int days) {
    auto t = std::chrono::system_clock::now() - std::chrono::hours(24 * days);
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return buf;
}

int64_t createEvent(TestServer& s, const std::string& type, const std::string& extra = "") {
    auto r = s.post("/api/events", R"({"event_type":")" + type + R"(","actor_type":"user","payload":{"k":1})" + extra + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    auto o = r.json();
    return o ? o->getValue<int64_t>("id") : 0;
}

void expectValidation(const HttpResult& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.body;
    auto o = r.json();
    ASSERT_TRUE(o) << r.body;
    EXPECT_EQ(o->getValue<bool>("success"), false);
    EXPECT_FALSE(o->getValue<std::string>("error").empty());
    if (!field.empty()) {
        auto d = o->getArray("details");
        ASSERT_TRUE(d) << r.body;
        EXPECT_EQ(d->getObject(0)->getValue<std::string>("field"), field) << r.body;
    }
}

}  // namespace

TEST(EventsApi, CreateAndListEventsWithFilters) {
    TestServer s;
    auto r = s.post("/api/events",
                    R"({"event_type":"ticket.created","actor_type":"agent","actor_id":"a-1","project_id":"p1","ticket_id":12,"comment_id":"3","payload":{"title":"T"}})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto e = r.json();
    EXPECT_GT(e->getValue<int64_t>("id"), 0);
    EXPECT_EQ(e->getValue<std::string>("event_type"), "ticket.created");
    EXPECT_EQ(e->getValue<std::string>("actor_type"), "agent");
    EXPECT_EQ(e->getValue<std::string>("project_id"), "p1");
    EXPECT_EQ(e->getValue<int>("ticket_id"), 12);
    EXPECT_EQ(e->getValue<int>("comment_id"), 3);
    EXPECT_EQ(e->getObject("payload")->getValue<std::string>("title"), "T");
    EXPECT_TRUE(e->isNull("actor"));  // no profiles provider loaded
    EXPECT_EQ(e->getValue<std::string>("created_at").back(), 'Z');
    createEvent(s, "ticket.updated", R"(,"project_id":"p2")");
    createEvent(s, "comment.added", R"(,"project_id":"p1")");

    auto all = s.get("/api/events").jsonArray();
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ(all->getObject(0)->getValue<std::string>("event_type"), "comment.added");  // newest first
    EXPECT_EQ(s.get("/api/events?event_type=ticket.updated").jsonArray()->size(), 1u);
    EXPECT_EQ(s.get("/api/events?project_id=p1").jsonArray()->size(), 2u);
    EXPECT_EQ(s.get("/api/events?ticket_id=12").jsonArray()->size(), 1u);
    EXPECT_EQ(s.get("/api/events?actor_id=a-1").jsonArray()->size(), 1u);
    EXPECT_EQ(s.get("/api/events?actor_type=agent").jsonArray()->size(), 1u);
    EXPECT_EQ(s.get("/api/events?actor_type=user").jsonArray()->size(), 2u);
    auto page = s.get("/api/events?limit=1&offset=1").jsonArray();
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ(page->getObject(0)->getValue<std::string>("event_type"), "ticket.updated");
    EXPECT_EQ(s.get("/api/events?since=2999-01-01T00:00:00Z").jsonArray()->size(), 0u);
    EXPECT_EQ(s.get("/api/events?since=2000-01-01T00:00:00Z").jsonArray()->size(), 3u);

    expectValidation(s.get("/api/events?actor_type=robot"), "actor_type");
    expectValidation(s.get("/api/events?since=yesterday"), "since");
    expectValidation(s.get("/api/events?limit=abc"), "limit");
    expectValidation(s.post("/api/events", R"({"actor_type":"user","payload":{}})"), "event_type");
    expectValidation(s.post("/api/events", R"({"event_type":"x","actor_type":"bot","payload":{}})"), "actor_type");
    expectValidation(s.post("/api/events", R"({"event_type":"x","actor_type":"user"})"), "payload");
    expectValidation(s.post("/api/events", R"({"event_type":"x","actor_type":"user","payload":"str"})"), "payload");
    expectValidation(s.post("/api/events", R"({"event_type":"x","actor_type":"user","payload":{},"ticket_id":"abc"})"),
                     "ticket_id");
    auto bad = s.post("/api/events", "{not json");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json()->getValue<std::string>("code"), "INVALID_JSON");
    EXPECT_EQ(s.get("/api/events").jsonArray()->size(), 3u);  // nothing partial was written
}

TEST(EventsApi, SubscriptionCursorSemantics) {
    TestServer s;
    int64_t before = createEvent(s, "ticket.created", R"(,"project_id":"p1")");
    auto c = s.post("/api/subscriptions", R"({"subscriber_id":"bot","event_type":"ticket.*","project_id":"p1"})");
    ASSERT_EQ(c.status, 201) << c.body;
    auto sub = c.json();
    int64_t id = sub->getValue<int64_t>("id");
    EXPECT_EQ(sub->getValue<int64_t>("last_processed_event_id"), 0);
    // Same subscriber/type/project: the existing one.
    auto again = s.post("/api/subscriptions", R"({"subscriber_id":"bot","event_type":"ticket.*","project_id":"p1"})");
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.json()->getValue<int64_t>("id"), id);
    // Another project is another subscription.
    auto other = s.post("/api/subscriptions", R"({"subscriber_id":"bot","event_type":"ticket.*"})");
    EXPECT_EQ(other.status, 201);
    EXPECT_TRUE(other.json()->isNull("project_id"));

    int64_t e2 = createEvent(s, "ticket.updated", R"(,"project_id":"p1")");
    createEvent(s, "ticket.updated", R"(,"project_id":"p2")");  // other project
    createEvent(s, "comment.added", R"(,"project_id":"p1")");   // other type
    int64_t e5 = createEvent(s, "ticket.closed", R"(,"project_id":"p1")");

    auto pending = s.get("/api/subscriptions/" + std::to_string(id) + "/events").json();
    ASSERT_TRUE(pending);
    EXPECT_EQ(pending->getObject("subscription")->getValue<int64_t>("id"), id);
    auto evs = pending->getArray("events");
    ASSERT_EQ(evs->size(), 3u);
    EXPECT_EQ(evs->getObject(0)->getValue<int64_t>("id"), before);
    EXPECT_EQ(evs->getObject(1)->getValue<int64_t>("id"), e2);
    EXPECT_EQ(evs->getObject(2)->getValue<int64_t>("id"), e5);
    auto limited = s.get("/api/subscriptions/" + std::to_string(id) + "/events?limit=1").json()->getArray("events");
    ASSERT_EQ(limited->size(), 1u);
    EXPECT_EQ(limited->getObject(0)->getValue<int64_t>("id"), before);

    auto ack = s.post("/api/subscriptions/" + std::to_string(id) + "/acknowledge", "{\"last_event_id\":" + std::to_string(e2) + "}");
    ASSERT_EQ(ack.status, 200) << ack.body;
    EXPECT_EQ(ack.json()->getValue<int64_t>("last_processed_event_id"), e2);
    auto rest = s.get("/api/subscriptions/" + std::to_string(id) + "/events").json()->getArray("events");
    ASSERT_EQ(rest->size(), 1u);
    EXPECT_EQ(rest->getObject(0)->getValue<int64_t>("id"), e5);

    auto list = s.get("/api/subscriptions?subscriber_id=bot").jsonArray();
    ASSERT_TRUE(list);
    EXPECT_EQ(list->size(), 2u);
    EXPECT_EQ(s.get("/api/subscriptions?subscriber_id=nobody").jsonArray()->size(), 0u);
    expectValidation(s.get("/api/subscriptions"), "subscriber_id");
    expectValidation(s.post("/api/subscriptions", R"({"event_type":"x"})"), "subscriber_id");
    expectValidation(s.post("/api/subscriptions/" + std::to_string(id) + "/acknowledge", "{}"), "last_event_id");
    expectValidation(s.post("/api/subscriptions/" + std::to_string(id) + "/acknowledge", R"({"last_event_id":-1})"),
                     "last_event_id");
    expectValidation(s.post("/api/subscriptions/" + std::to_string(id) + "/acknowledge", R"({"last_event_id":999999})"),
                     "last_event_id");
    EXPECT_EQ(s.get("/api/subscriptions/9999/events").status, 404);
    EXPECT_EQ(s.get("/api/subscriptions/abc/events").status, 404);
    EXPECT_EQ(s.post("/api/subscriptions/9999/acknowledge", R"({"last_event_id":1})").status, 404);

    EXPECT_EQ(s.del("/api/subscriptions/" + std::to_string(id)).status, 204);
    EXPECT_EQ(s.del("/api/subscriptions/" + std::to_string(id)).status, 404);
    EXPECT_EQ(s.get("/api/subscriptions?subscriber_id=bot").jsonArray()->size(), 1u);
}

TEST(EventsApi, ActivityFeedValidatesStoresAndFilters) {
    TestServer s;
    auto r = s.post("/api/activity",
                    R"({"category":"agent","type":"auto_task_claimed","severity":"success","title":"Codex started","detail":"d","worktreeId":"PROJ-1","projectName":"demo","groupKey":"g:1","metadata":{"agent":"codex"}})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    EXPECT_TRUE(o->getValue<bool>("success"));
    auto ev = o->getObject("event");
    EXPECT_FALSE(ev->getValue<std::string>("id").empty());
    EXPECT_EQ(ev->getValue<std::string>("timestamp").back(), 'Z');
    EXPECT_EQ(ev->getValue<std::string>("severity"), "success");
    EXPECT_EQ(ev->getValue<std::string>("worktreeId"), "PROJ-1");
    EXPECT_EQ(ev->getObject("metadata")->getValue<std::string>("agent"), "codex");
    ASSERT_EQ(s.post("/api/activity", activityBody("w", "worktree")).status, 200);
    ASSERT_EQ(s.post("/api/activity", activityBody("old", "system", ",\"timestamp\":\"" + isoDaysAgo(3) + "\"")).status, 200);

    auto all = s.get("/api/activity").json()->getArray("events");
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ(all->getObject(0)->getValue<std::string>("title"), "old");  // oldest first
    EXPECT_EQ(all->getObject(2)->getValue<std::string>("title"), "w");
    auto wt = s.get("/api/activity?category=worktree").json()->getArray("events");
    ASSERT_EQ(wt->size(), 1u);
    EXPECT_EQ(wt->getObject(0)->getValue<std::string>("title"), "w");
    EXPECT_EQ(s.get("/api/activity?since=" + isoDaysAgo(1)).json()->getArray("events")->size(), 2u);
    auto one = s.get("/api/activity?limit=1").json()->getArray("events");
    ASSERT_EQ(one->size(), 1u);
    EXPECT_EQ(one->getObject(0)->getValue<std::string>("title"), "w");  // the newest

    expectValidation(s.post("/api/activity", R"({"type":"t","title":"x"})"), "category");
    expectValidation(s.post("/api/activity", R"({"category":"nope","type":"t","title":"x"})"), "category");
    expectValidation(s.post("/api/activity", R"({"category":"agent","title":"x"})"), "type");
    expectValidation(s.post("/api/activity", R"({"category":"agent","type":"t"})"), "title");
    expectValidation(s.post("/api/activity", R"({"category":"agent","type":"t","title":"x","severity":"fatal"})"), "severity");
    expectValidation(s.post("/api/activity", R"({"category":"agent","type":"t","title":"x","metadata":[1]})"), "metadata");
    expectValidation(s.post("/api/activity", R"({"category":"agent","type":"t","title":5})"), "title");
    expectValidation(s.get("/api/activity?category=bogus"), "category");
    EXPECT_EQ(s.get("/api/activity").json()->getArray("events")->size(), 3u);
}

TEST(EventsApi, OpsLogAppendQueryAndFilters) {
    TestServer s;
    auto r = s.request("POST", "/api/logs",
                       R"({"source":"ui.toast","action":"toast.error","message":"Failed to fetch Jira status","level":"error","status":"failed","metadata":{"scope":"jira"}})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto ev = r.json()->getObject("event");
    EXPECT_GT(ev->getValue<int64_t>("id"), 0);
    EXPECT_EQ(ev->getValue<std::string>("action"), "toast.error");
    EXPECT_EQ(ev->getValue<std::string>("level"), "error");
    EXPECT_EQ(ev->getValue<std::string>("timestamp").back(), 'Z');
    ASSERT_EQ(s.request("POST", "/api/logs", R"({"source":"worker.sync","message":"synced 3 repos"})").status, 200);

    auto errors = s.get("/api/logs?level=error").json()->getArray("events");
    ASSERT_EQ(errors->size(), 1u);
    EXPECT_EQ(errors->getObject(0)->getValue<std::string>("message"), "Failed to fetch Jira status");
    EXPECT_EQ(s.get("/api/logs?status=failed&source=ui").json()->getArray("events")->size(), 1u);
    auto search = s.get("/api/logs?search=synced").json()->getArray("events");
    ASSERT_EQ(search->size(), 1u);
    EXPECT_EQ(search->getObject(0)->getValue<std::string>("source"), "worker.sync");
    EXPECT_EQ(search->getObject(0)->getValue<std::string>("status"), "info");
    EXPECT_EQ(s.get("/api/logs?search=%25").json()->getArray("events")->size(), 0u);  // LIKE wildcards are literal
    EXPECT_EQ(s.get("/api/logs?limit=1").json()->getArray("events")->size(), 1u);

    expectValidation(s.request("POST", "/api/logs", R"({"message":"m"})"), "source");
    expectValidation(s.request("POST", "/api/logs", R"({"source":"s"})"), "message");
    expectValidation(s.request("POST", "/api/logs", R"({"source":"s","message":"m","level":"loud"})"), "level");
    expectValidation(s.request("POST", "/api/logs", R"({"source":"s","message":"m","status":"done"})"), "status");
    expectValidation(s.get("/api/logs?level=loud"), "level");
}

TEST(EventsApi, RequestsAreTracedWithRedactionAndTruncation) {
    TestServer s;
    auto r = s.request("POST", "/api/events?token=querysecret",
                       R"({"event_type":"x.y","actor_type":"user","payload":{"password":"hunter2","apiKey":"k-123","note":"visible"}})",
                       {{"Authorization", "Bearer headersecret"}});
    ASSERT_EQ(r.status, 201);
    std::string big(5000, 'a');
    s.post("/api/activity", activityBody("big", "agent", ",\"detail\":\"" + big + "\""));
    s.post("/api/subscriptions", "{}");  // a 400 is traced as failed

    Poco::JSON::Array::Ptr traces;
    for (int i = 0; i < 50; ++i) {  // traces are written after the response
        traces = s.get("/api/logs?source=http&limit=50").json()->getArray("events");
        if (traces->size() >= 3) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Poco::JSON::Object::Ptr post, act, bad;
    for (size_t i = 0; i < traces->size(); ++i) {
        auto t = traces->getObject(static_cast<unsigned>(i));
        auto m = t->getObject("metadata");
        if (m->getValue<std::string>("path") == "/api/events" && m->getValue<std::string>("method") == "POST") post = t;
        if (m->getValue<std::string>("path") == "/api/activity" && m->getValue<std::string>("method") == "POST") act = t;
        if (m->getValue<std::string>("path") == "/api/subscriptions") bad = t;
    }
    ASSERT_TRUE(post);
    ASSERT_TRUE(act);
    ASSERT_TRUE(bad) << "a 400 is traced";
    std::string text;
    {
        std::ostringstream os;
        post->stringify(os);
        text = os.str();
    }
    EXPECT_EQ(post->getValue<std::string>("source"), "http");
    EXPECT_EQ(post->getValue<std::string>("status"), "succeeded");
    auto meta = post->getObject("metadata");
    EXPECT_EQ(meta->getValue<int>("statusCode"), 201);
    EXPECT_GE(meta->getValue<double>("durationMs"), 0.0);
    EXPECT_NE(meta->getValue<std::string>("requestPayload").find("visible"), std::string::npos);
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
    EXPECT_EQ(text.find("k-123"), std::string::npos) << text;
    EXPECT_EQ(text.find("querysecret"), std::string::npos) << text;
    EXPECT_EQ(text.find("headersecret"), std::string::npos) << text;
    EXPECT_NE(text.find("[REDACTED]"), std::string::npos) << text;
    EXPECT_TRUE(act->getObject("metadata")->getValue<bool>("requestPayloadTruncated"));
    EXPECT_EQ(bad->getValue<std::string>("status"), "failed");
    EXPECT_EQ(bad->getValue<std::string>("level"), "warning");
    EXPECT_EQ(bad->getObject("metadata")->getValue<int>("statusCode"), 400);
    // Health checks are not traced.
    s.get("/api/health");
    EXPECT_EQ(s.get("/api/logs?search=/api/health").json()->getArray("events")->size(), 0u);
}

TEST(EventsApi, RetentionImpactPreviewsWithoutDeleting) {
    TestServer s;
    ASSERT_EQ(s.post("/api/activity", activityBody("ten-days", "agent", ",\"timestamp\":\"" + isoDaysAgo(10) + "\"")).status, 200);
    ASSERT_EQ(s.post("/api/activity", activityBody("five-days", "agent", ",\"timestamp\":\"" + isoDaysAgo(5) + "\"")).status, 200);
    ASSERT_EQ(s.post("/api/activity", activityBody("now")).status, 200);

    auto r = s.post("/api/config/retention-impact", R"({"logType":"activity","retentionDays":7})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    EXPECT_EQ(o->getValue<int64_t>("entriesToRemove"), 1);
    EXPECT_EQ(o->getValue<int64_t>("currentEntries"), 3);
    EXPECT_GT(o->getValue<int64_t>("bytesToRemove"), 0);
    EXPECT_GT(o->getValue<int64_t>("currentBytes"), o->getValue<int64_t>("bytesToRemove"));

    auto size = s.post("/api/config/retention-impact", R"({"logType":"activity","maxSizeMB":0.0001})").json();
    EXPECT_EQ(size->getValue<int64_t>("entriesToRemove"), 3);  // each entry is larger than 104 bytes
    EXPECT_EQ(size->getValue<int64_t>("bytesToRemove"), size->getValue<int64_t>("currentBytes"));
    auto none = s.post("/api/config/retention-impact", R"({"logType":"activity"})").json();
    EXPECT_EQ(none->getValue<int64_t>("entriesToRemove"), 0);
    auto ops = s.post("/api/config/retention-impact", R"({"logType":"opsLog","retentionDays":1})");
    ASSERT_EQ(ops.status, 200);
    EXPECT_GT(ops.json()->getValue<int64_t>("currentEntries"), 0);  // the traces of the requests above
    EXPECT_EQ(ops.json()->getValue<int64_t>("entriesToRemove"), 0);

    EXPECT_EQ(s.get("/api/activity").json()->getArray("events")->size(), 3u);  // nothing removed
    auto bad = s.post("/api/config/retention-impact", R"({"logType":"events"})");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json()->getValue<std::string>("error"), "Invalid logType");
    expectValidation(s.post("/api/config/retention-impact", R"({"logType":"activity","retentionDays":"7"})"), "retentionDays");
    expectValidation(s.post("/api/config/retention-impact", R"({"logType":"activity","retentionDays":-1})"), "retentionDays");
}

TEST(EventsApi, RetentionSweepRemovesOldAndOversizedEntries) {
    TestServer s(withConfig(
        R"({"modules":{"config":{"events":{"activityRetentionDays":7,"retentionSweepMs":200,"activityMaxSizeMB":0.002}}}})"));
    ASSERT_EQ(s.post("/api/activity", activityBody("ancient", "agent", ",\"timestamp\":\"" + isoDaysAgo(30) + "\"")).status, 200);
    for (int i = 0; i < 30; ++i) ASSERT_EQ(s.post("/api/activity", activityBody("r" + std::to_string(i))).status, 200);
    // Wait for a sweep after the last post: no expired entry, and within the size cap.
    Poco::JSON::Array::Ptr events;
    auto settled = [&] {
        events = s.get("/api/activity?limit=1000").json()->getArray("events");
        for (size_t i = 0; i < events->size(); ++i)
            if (events->getObject(static_cast<unsigned>(i))->getValue<std::string>("title") == "ancient") return false;
        auto impact = s.post("/api/config/retention-impact", R"({"logType":"activity","maxSizeMB":0.002})").json();
        return impact->getValue<int64_t>("entriesToRemove") == 0;
    };
    for (int i = 0; i < 100 && !settled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_LT(events->size(), 31u);
    ASSERT_GT(events->size(), 0u);
    // What is left is the newest entries, within the size cap, and never the expired one.
    size_t n = events->size();
    EXPECT_EQ(events->getObject(static_cast<unsigned>(n - 1))->getValue<std::string>("title"), "r29");
    for (size_t i = 0; i < n; ++i)
        EXPECT_NE(events->getObject(static_cast<unsigned>(i))->getValue<std::string>("title"), "ancient");
    auto impact = s.post("/api/config/retention-impact", R"({"logType":"activity","maxSizeMB":0.002})").json();
    EXPECT_LE(impact->getValue<int64_t>("currentBytes"), static_cast<int64_t>(0.002 * 1024 * 1024));
}
