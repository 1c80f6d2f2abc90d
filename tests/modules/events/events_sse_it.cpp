// SSE stream (OpenKit GET /api/events): initial state, ordering, replay after reconnect,
// keep-alive, and back-pressure (a slow client is cut off, a fast one is not, and the slow
// one resumes with Last-Event-ID losing nothing). Real host, real sockets.
#include <atomic>
#include <set>
#include <thread>

#include "events_support.hpp"

using namespace atelier::test;
using namespace atelier::test::events;

namespace {

// Reads messages until one of the given type arrives; returns it (parsed) and its id.
std::pair<Poco::JSON::Object::Ptr, std::string> nextOfType(RawSse& sse, const std::string& type) {
    for (int i = 0; i < 10000; ++i) {
        auto m = sse.nextData();
        auto o = parse(m.data);
        if (o && o->getValue<std::string>("type") == type) return {o, m.id};
    }
    throw std::runtime_error("no message of type " + type);
}

}  // namespace

TEST(EventsSse, InitialStateThenLiveMessagesWithCursorIds) {
    TestServer server;
    ASSERT_EQ(server.post("/api/activity", activityBody("before-1")).status, 200);
    ASSERT_EQ(server.post("/api/activity", activityBody("before-2", "worktree")).status, 200);
    ASSERT_EQ(
        server.request("POST", "/api/logs", R"({"source":"ui.toast","message":"seed log","level":"error"})").status,
        200);

    RawSse sse(server.port(), "/api/events");
    EXPECT_NE(sse.head().find("200"), std::string::npos);
    EXPECT_NE(sse.head().find("text/event-stream"), std::string::npos);

    auto first = sse.nextData();
    auto w = parse(first.data);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->getValue<std::string>("type"), "worktrees");
    ASSERT_TRUE(w->getArray("worktrees"));
    EXPECT_EQ(w->getArray("worktrees")->size(), 0u);  // no worktrees module loaded
    auto [bus0, ops0] = cursorOf(first.id);
    EXPECT_GE(bus0, 2);

    auto second = sse.nextData();
    auto a = parse(second.data);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->getValue<std::string>("type"), "activity-history");
    auto events = a->getArray("events");
    ASSERT_EQ(events->size(), 2u);
    EXPECT_EQ(events->getObject(0)->getValue<std::string>("title"), "before-1");
    EXPECT_EQ(events->getObject(1)->getValue<std::string>("title"), "before-2");
    EXPECT_EQ(events->getObject(1)->getValue<std::string>("category"), "worktree");
    EXPECT_EQ(events->getObject(0)->getValue<std::string>("severity"), "info");

    auto third = sse.nextData();
    auto o = parse(third.data);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->getValue<std::string>("type"), "ops-log-history");
    bool seeded = false;
    auto ops = o->getArray("events");
    for (size_t i = 0; i < ops->size(); ++i)
        if (ops->getObject(static_cast<unsigned>(i))->getValue<std::string>("message") == "seed log") seeded = true;
    EXPECT_TRUE(seeded);
    EXPECT_EQ(first.id, second.id);
    EXPECT_EQ(first.id, third.id);

    // Live: an activity event, then its request trace as an ops-log message.
    ASSERT_EQ(server.post("/api/activity", activityBody("live-1")).status, 200);
    // The activity (bus log) and its request trace (ops log) come from two independent logs, so
    // either may arrive first.
    Poco::JSON::Object::Ptr live;
    std::string liveId, traceId;
    for (int i = 0; i < 1000 && (!live || traceId.empty()); ++i) {
        auto m = sse.nextData();
        auto msg = parse(m.data);
        if (!msg) continue;
        if (!live && msg->getValue<std::string>("type") == "activity") {
            live = msg;
            liveId = m.id;
        } else if (traceId.empty() && msg->getValue<std::string>("type") == "ops-log") {
            traceId = m.id;
        }
    }
    ASSERT_TRUE(live);
    ASSERT_FALSE(traceId.empty());
    EXPECT_EQ(live->getObject("event")->getValue<std::string>("title"), "live-1");
    EXPECT_GT(cursorOf(liveId).first, bus0);
    EXPECT_GT(cursorOf(traceId).second, ops0);

    // A worktrees.changed bus event becomes a `worktrees` message.
    ASSERT_EQ(
        server
            .post(
                "/api/events",
                R"({"event_type":"worktrees.changed","actor_type":"system","payload":{"worktrees":[{"id":"wt-1","branch":"b"}]}})")
            .status,
        201);
    auto [wt, wtId] = nextOfType(sse, "worktrees");
    (void)wtId;
    ASSERT_EQ(wt->getArray("worktrees")->size(), 1u);
    EXPECT_EQ(wt->getArray("worktrees")->getObject(0)->getValue<std::string>("id"), "wt-1");
}

TEST(EventsSse, LiveActivityArrivesInPublishOrderWithIncreasingIds) {
    TestServer server;
    RawSse sse(server.port(), "/api/events");
    nextOfType(sse, "ops-log-history");
    constexpr int kCount = 40;
    std::thread publisher([&] {
        for (int i = 0; i < kCount; ++i) server.post("/api/activity", activityBody("n" + std::to_string(i)));
    });
    long long lastBus = 0, lastOps = 0;
    for (int i = 0; i < kCount;) {
        auto m = sse.nextData();
        auto [bus, ops] = cursorOf(m.id);
        EXPECT_GE(bus, lastBus);
        EXPECT_GE(ops, lastOps);
        lastBus = bus;
        lastOps = ops;
        auto o = parse(m.data);
        if (o->getValue<std::string>("type") != "activity") continue;
        EXPECT_EQ(o->getObject("event")->getValue<std::string>("title"), "n" + std::to_string(i));
        ++i;
    }
    publisher.join();
}

TEST(EventsSse, ManyClientsEachGetEveryEventOnceInOrderWhilePublishing) {
    // More clients than the fan-out visits per lock hold, and events published by two writers
    // while a turn over the clients is under way: every client, SSE or WebSocket, still gets
    // every event exactly once and each writer's events in order.
    TestServer server;
    constexpr int kSse = 200, kWs = 60, kPerWriter = 40;
    std::vector<std::unique_ptr<RawSse>> sse;
    for (int i = 0; i < kSse; ++i) {
        sse.push_back(std::make_unique<RawSse>(server.port(), "/api/events"));
        nextOfType(*sse.back(), "ops-log-history");
    }
    std::vector<std::unique_ptr<RawWs>> ws;
    for (int i = 0; i < kWs; ++i) {
        ws.push_back(std::make_unique<RawWs>(server.port(), "/ws"));
        ws.back()->send(R"({"type":"subscribe","topics":["*"]})");
        ASSERT_EQ(ws.back()->receiveJson()->getValue<std::string>("type"), "subscribed");
    }
    auto writer = [&](const std::string& prefix) {
        for (int i = 0; i < kPerWriter; ++i)
            ASSERT_EQ(server.post("/api/activity", activityBody(prefix + std::to_string(i))).status, 200);
        ASSERT_EQ(server.post("/api/activity", activityBody(prefix + "end")).status, 200);
    };
    std::thread a(writer, "a"), b(writer, "b");
    a.join();
    b.join();
    // Titles must be a0..a39 then "aend" interleaved with the same for b, nothing else.
    auto check = [&](const std::vector<std::string>& titles, const std::string& who) {
        int next[2] = {0, 0};
        for (auto& t : titles) {
            int w = t[0] == 'a' ? 0 : 1;
            std::string expected = std::string(1, t[0]) + (next[w] == kPerWriter ? "end" : std::to_string(next[w]));
            ASSERT_EQ(t, expected) << who;
            ++next[w];
        }
        EXPECT_EQ(next[0], kPerWriter + 1) << who;
        EXPECT_EQ(next[1], kPerWriter + 1) << who;
    };
    for (int i = 0; i < kSse; ++i) {
        std::vector<std::string> titles;
        int ends = 0;
        long long lastBus = 0, lastOps = 0;
        while (ends < 2) {
            auto m = sse[i]->nextData();
            auto [bus, ops] = cursorOf(m.id);
            ASSERT_GE(bus, lastBus);
            ASSERT_GE(ops, lastOps);
            lastBus = bus;
            lastOps = ops;
            auto o = parse(m.data);
            if (!o || o->getValue<std::string>("type") != "activity") continue;
            titles.push_back(o->getObject("event")->getValue<std::string>("title"));
            if (titles.back().find("end") != std::string::npos) ++ends;
        }
        check(titles, "SSE client " + std::to_string(i));
    }
    for (int i = 0; i < kWs; ++i) {
        std::vector<std::string> titles;
        int ends = 0;
        while (ends < 2) {
            auto o = ws[i]->receiveJson();
            ASSERT_EQ(o->getValue<std::string>("type"), "event");
            auto e = o->getObject("event");
            if (e->getValue<std::string>("event_type") != "activity") continue;
            titles.push_back(e->getObject("payload")->getValue<std::string>("title"));
            if (titles.back().find("end") != std::string::npos) ++ends;
        }
        check(titles, "WebSocket client " + std::to_string(i));
    }
    // Nothing is delivered twice: the next message after a marker is the marker's successor.
    ASSERT_EQ(server.post("/api/activity", activityBody("after")).status, 200);
    for (int i = 0; i < kSse; i += 37)
        EXPECT_EQ(nextOfType(*sse[i], "activity").first->getObject("event")->getValue<std::string>("title"), "after");
    for (int i = 0; i < kWs; i += 13) {
        auto o = ws[i]->receiveJson();
        EXPECT_EQ(o->getObject("event")->getObject("payload")->getValue<std::string>("title"), "after");
    }
}

TEST(EventsSse, ReconnectWithLastEventIdReplaysWhatWasMissed) {
    TestServer server;
    std::string lastId;
    {
        RawSse sse(server.port(), "/api/events");
        nextOfType(sse, "ops-log-history");
        server.post("/api/activity", activityBody("seen"));
        auto [m, id] = nextOfType(sse, "activity");
        EXPECT_EQ(m->getObject("event")->getValue<std::string>("title"), "seen");
        lastId = id;
    }
    // Missed while disconnected: activity, a log entry, and two worktrees lists.
    server.post("/api/activity", activityBody("missed-1"));
    server.request("POST", "/api/logs", R"({"source":"test","message":"missed log"})");
    server.post("/api/events",
                R"({"event_type":"worktrees.changed","actor_type":"system","payload":{"worktrees":[{"id":"old"}]}})");
    server.post("/api/activity", activityBody("missed-2"));
    server.post("/api/events",
                R"({"event_type":"worktrees.changed","actor_type":"system","payload":{"worktrees":[{"id":"new"}]}})");

    RawSse sse(server.port(), "/api/events", lastId);
    std::vector<std::string> titles, worktrees;
    bool sawLog = false;
    // Replay carries no history snapshot: only what happened after the cursor.
    while (titles.size() < 2 || worktrees.empty() || !sawLog) {
        auto m = sse.nextData();
        auto o = parse(m.data);
        std::string type = o->getValue<std::string>("type");
        ASSERT_NE(type, "activity-history");
        ASSERT_NE(type, "ops-log-history");
        if (type == "activity") titles.push_back(o->getObject("event")->getValue<std::string>("title"));
        if (type == "worktrees")
            worktrees.push_back(o->getArray("worktrees")->getObject(0)->getValue<std::string>("id"));
        if (type == "ops-log" && o->getObject("event")->getValue<std::string>("message") == "missed log") sawLog = true;
    }
    EXPECT_EQ(titles, (std::vector<std::string>{"missed-1", "missed-2"}));
    EXPECT_EQ(worktrees, (std::vector<std::string>{"new"}));  // only the newest list is replayed

    // Then live again, without duplicates.
    server.post("/api/activity", activityBody("after"));
    auto [m, id] = nextOfType(sse, "activity");
    EXPECT_EQ(m->getObject("event")->getValue<std::string>("title"), "after");

    // A malformed Last-Event-ID is a fresh connection (snapshot first).
    RawSse fresh(server.port(), "/api/events", "garbage");
    auto first = parse(fresh.nextData().data);
    EXPECT_EQ(first->getValue<std::string>("type"), "worktrees");
}

TEST(EventsSse, IdleConnectionGetsKeepAliveComments) {
    TestServer server(withConfig(R"({"modules":{"config":{"events":{"sseKeepAliveMs":200}}}})"));
    RawSse sse(server.port(), "/api/events");
    nextOfType(sse, "ops-log-history");
    int comments = 0;
    auto start = std::chrono::steady_clock::now();
    while (comments < 2) {
        auto m = sse.next();
        ASSERT_TRUE(m);
        if (m->comment && m->data.empty()) ++comments;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(EventsSse, BusyConnectionGetsNoKeepAliveComments) {
    // Keep-alive comments are for idle connections; one that gets messages needs none. (A
    // message every 10 ms against a 300 ms idle threshold leaves room for a loaded machine.)
    TestServer server(withConfig(R"({"modules":{"config":{"events":{"sseKeepAliveMs":600}}}})"));
    RawSse sse(server.port(), "/api/events");
    nextOfType(sse, "ops-log-history");
    std::atomic<bool> publishing{true};
    std::thread publisher([&] {
        for (int i = 0; publishing.load(); ++i) {
            server.post("/api/activity", activityBody("busy-" + std::to_string(i)));
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        server.post("/api/activity", activityBody("done"));
    });
    int comments = 0, activities = 0;
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
    while (std::chrono::steady_clock::now() < until) {
        auto m = sse.next();
        ASSERT_TRUE(m);
        if (m->comment && m->data.empty())
            ++comments;
        else if (auto o = parse(m->data); o && o->getValue<std::string>("type") == "activity")
            ++activities;
    }
    publishing = false;
    publisher.join();
    EXPECT_GT(activities, 10);
    EXPECT_EQ(comments, 0);
    // Once the messages stop, the comments come back.
    int after = 0;
    while (after < 1) {
        auto m = sse.next();
        ASSERT_TRUE(m);
        if (m->comment && m->data.empty()) ++after;
    }
}

TEST(EventsSse, JsonListUnlessEventStreamIsAccepted) {
    TestServer server;
    server.post("/api/activity", activityBody("x"));
    auto r = server.get("/api/events");
    ASSERT_EQ(r.status, 200);
    auto arr = r.jsonArray();
    ASSERT_TRUE(arr);
    ASSERT_GE(arr->size(), 1u);
    EXPECT_EQ(arr->getObject(0)->getValue<std::string>("event_type"), "activity");
}

TEST(EventsSse, SlowClientIsCutOffFastClientIsNotAndResumeLosesNothing) {
    // A small per-client buffer so the test does not need gigabytes.
    // Two fan-out writers, so the parallel write path is held to the same ordering guarantees.
    TestServer server(
        withConfig(R"({"streamBufferBytes":262144,"modules":{"config":{"events":{"fanoutThreads":2}}}})"));
    constexpr int kCount = 500;
    std::string pad(6000, 'p');

    RawSse fast(server.port(), "/api/events");
    nextOfType(fast, "ops-log-history");
    RawSse slow(server.port(), "/api/events", {}, 4096);
    slow.head();
    // The slow client reads its snapshot, then stops reading.
    std::string slowLastId;
    for (int i = 0; i < 3; ++i) slowLastId = slow.nextData().id;

    std::vector<std::string> fastTitles;
    std::thread reader([&] {
        while (static_cast<int>(fastTitles.size()) < kCount) {
            auto m = fast.nextData();
            auto o = parse(m.data);
            if (o && o->getValue<std::string>("type") == "activity")
                fastTitles.push_back(o->getObject("event")->getValue<std::string>("title"));
        }
    });
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < kCount; ++i)
        ASSERT_EQ(
            server.post("/api/activity", activityBody("e" + std::to_string(i), "agent", ",\"detail\":\"" + pad + "\""))
                .status,
            200);
    auto publishTime = std::chrono::steady_clock::now() - started;
    reader.join();
    // The fast client got everything, in order.
    ASSERT_EQ(static_cast<int>(fastTitles.size()), kCount);
    for (int i = 0; i < kCount; ++i) EXPECT_EQ(fastTitles[static_cast<size_t>(i)], "e" + std::to_string(i));
    // Publishing was not held up by the stalled client.
    EXPECT_LT(publishTime, std::chrono::seconds(30));

    // The slow client was cut off: draining it reaches the end of the stream.
    std::set<std::string> slowTitles;
    while (true) {
        auto m = slow.next();
        if (!m) break;
        if (m->comment) continue;
        slowLastId = m->id;
        auto o = parse(m->data);
        if (o && o->getValue<std::string>("type") == "activity")
            slowTitles.insert(o->getObject("event")->getValue<std::string>("title"));
    }
    EXPECT_LT(static_cast<int>(slowTitles.size()), kCount);

    // It resumes from its last complete message and ends up with every event.
    RawSse resumed(server.port(), "/api/events", slowLastId);
    while (static_cast<int>(slowTitles.size()) < kCount) {
        auto m = resumed.nextData();
        auto o = parse(m.data);
        ASSERT_NE(o->getValue<std::string>("type"), "activity-history");
        if (o->getValue<std::string>("type") == "activity") {
            auto title = o->getObject("event")->getValue<std::string>("title");
            EXPECT_FALSE(slowTitles.count(title)) << "duplicate " << title;
            slowTitles.insert(title);
        }
    }
    for (int i = 0; i < kCount; ++i) EXPECT_TRUE(slowTitles.count("e" + std::to_string(i))) << i;
}
