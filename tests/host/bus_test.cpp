// The host's event bus over a real SQLite database: delivery in id order, the generic
// envelope's validation, queries (type patterns, subject, ranges, paging), the move of a log
// written with the old Kombuse columns, and the WebSocket frames the group send writes.
#include <gtest/gtest.h>

#include <atelier/util.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "event_bus.hpp"
#include "reactor.hpp"
#include "storage.hpp"

using namespace atelier::host;
using atelier::Event;
using atelier::EventQuery;

namespace {
struct TempDb {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("atelier-bus-" + atelier::randomHex(8));
    TempDb() { std::filesystem::create_directories(dir); }
    ~TempDb() { std::filesystem::remove_all(dir); }
    std::string path() const { return (dir / "db.sqlite").string(); }
};

int64_t publish(EventBus& bus, const std::string& type, const std::string& subject = {},
                const std::string& project = {}) {
    Event e;
    e.type = type;
    e.subject = subject;
    e.projectId = project;
    auto abi = e.toAbi();
    int64_t id = 0;
    EXPECT_EQ(bus.publish(abi, &id), ATELIER_OK);
    return id;
}

std::vector<int64_t> ids(const EventBus& bus, const EventQuery& q, int64_t* total = nullptr) {
    std::vector<Event> out;
    EXPECT_EQ(bus.query(q, out, total), ATELIER_OK);
    std::vector<int64_t> r;
    for (auto& e : out) r.push_back(e.id);
    return r;
}
}  // namespace

TEST(EventBusTest, SubscribersSeeMatchingEventsInIdOrder) {
    TempDb tmp;
    Storage storage(tmp.path(), 1);
    EventBus bus(storage);
    std::mutex m;
    std::condition_variable cv;
    std::vector<int64_t> all, tickets;
    bus.subscribe("*", [&](const Event& e) {
        std::lock_guard l(m);
        all.push_back(e.id);
    });
    bus.subscribe("ticket.*", [&](const Event& e) {
        std::lock_guard l(m);
        tickets.push_back(e.id);
        EXPECT_EQ(e.subject, "ticket/" + std::to_string(e.id));
        cv.notify_all();
    });
    bus.start();
    for (int i = 1; i <= 50; ++i)
        publish(bus, i % 2 ? "ticket.updated" : "other", i % 2 ? "ticket/" + std::to_string(i) : "");
    {
        std::unique_lock l(m);
        cv.wait_for(l, std::chrono::seconds(5), [&] { return tickets.size() == 25; });
    }
    bus.stop();
    ASSERT_EQ(all.size(), 50u);
    for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1], all[i]);
    EXPECT_EQ(tickets.size(), 25u);
}

TEST(EventBusTest, PublishValidatesTheEnvelope) {
    TempDb tmp;
    Storage storage(tmp.path(), 1);
    EventBus bus(storage);
    Event e;
    auto empty = e.toAbi();
    EXPECT_EQ(bus.publish(empty, nullptr), ATELIER_ERR_INVALID);
    e.type = std::string(201, 't');
    auto longType = e.toAbi();
    EXPECT_EQ(bus.publish(longType, nullptr), ATELIER_ERR_INVALID);
    e.type = "x";
    e.actorType = "robot";
    auto badActor = e.toAbi();
    EXPECT_EQ(bus.publish(badActor, nullptr), ATELIER_ERR_INVALID);
    e.actorType = "";
    e.payload = "";
    auto defaults = e.toAbi();
    int64_t id = 0;
    ASSERT_EQ(bus.publish(defaults, &id), ATELIER_OK);
    std::vector<Event> out;
    EventQuery q;
    ASSERT_EQ(bus.query(q, out), ATELIER_OK);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].actorType, "system");
    EXPECT_EQ(out[0].payload, "{}");
    EXPECT_EQ(out[0].createdAt.back(), 'Z');
    EXPECT_EQ(bus.lastId(), id);
}

TEST(EventBusTest, QueriesFilterByPatternsSubjectRangeAndPage) {
    TempDb tmp;
    Storage storage(tmp.path(), 1);
    EventBus bus(storage);
    int64_t a = publish(bus, "ticket.created", "ticket/1", "p1");
    int64_t b = publish(bus, "ticket_x.created", "ticket/2", "p2");  // '_' is no wildcard
    int64_t c = publish(bus, "activity");
    int64_t d = publish(bus, "worktrees.changed", "", "p1");
    int64_t e = publish(bus, "ticket.updated", "ticket/1", "p1");

    EventQuery q;
    q.types = "ticket.*";
    EXPECT_EQ(ids(bus, q), (std::vector<int64_t>{a, e}));
    q.types = "activity,worktrees.changed";
    EXPECT_EQ(ids(bus, q), (std::vector<int64_t>{c, d}));
    q.types = "ticket.created,*";
    EXPECT_EQ(ids(bus, q).size(), 5u);
    q = {};
    q.subject = "ticket/1";
    EXPECT_EQ(ids(bus, q), (std::vector<int64_t>{a, e}));
    q = {};
    q.projectId = "p1";
    q.newestFirst = true;
    int64_t total = 0;
    q.limit = 2;
    EXPECT_EQ(ids(bus, q, &total), (std::vector<int64_t>{e, d}));
    EXPECT_EQ(total, 3);
    q.offset = 2;
    EXPECT_EQ(ids(bus, q), (std::vector<int64_t>{a}));
    q = {};
    q.afterId = a;
    q.maxId = d;
    EXPECT_EQ(ids(bus, q), (std::vector<int64_t>{b, c, d}));
    q = {};
    for (int i = 0; i <= 50; ++i) q.types += (i ? ",t" : "t") + std::to_string(i);  // 51 patterns: too many
    std::vector<Event> out;
    EXPECT_EQ(bus.query(q, out), ATELIER_ERR_INVALID);
}

// A data directory from before the generic envelope keeps its events: ids, the ticket as the
// subject, and the Kombuse fields in the payload.
TEST(EventBusTest, LegacyKombuseColumnsMoveIntoSubjectAndPayload) {
    TempDb tmp;
    {
        Storage storage(tmp.path(), 1);
        const char* sql[] = {
            "CREATE TABLE host_events (id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL, project_id TEXT,"
            " ticket_id TEXT, ticket_number INTEGER, comment_id TEXT, actor_id TEXT, actor_type TEXT NOT NULL DEFAULT"
            " 'system', kombuse_session_id TEXT, payload TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL)",
            "CREATE INDEX host_events_ticket ON host_events(ticket_id)",
            "INSERT INTO host_events VALUES (7, 'comment.added', 'p1', '12', 4, '31', 'u1', 'user', 'ks-1',"
            " '{\"body\":\"hi\"}', '2026-01-01T00:00:00.000Z')",
            "INSERT INTO host_events VALUES (8, 'project.created', NULL, NULL, NULL, NULL, NULL, 'system', NULL, "
            "'oops',"
            " '2026-01-01T00:00:01.000Z')",
        };
        for (auto* s : sql) ASSERT_EQ(storage.run(nullptr, s, nullptr, 0, nullptr, nullptr, nullptr), ATELIER_OK) << s;
    }
    Storage storage(tmp.path(), 1);
    EventBus bus(storage);
    std::vector<Event> out;
    ASSERT_EQ(bus.query(EventQuery{}, out), ATELIER_OK);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].id, 7);
    EXPECT_EQ(out[0].type, "comment.added");
    EXPECT_EQ(out[0].subject, "ticket/12");
    EXPECT_EQ(out[0].projectId, "p1");
    EXPECT_EQ(out[0].field("body"), "hi");
    EXPECT_EQ(out[0].field("ticket_number"), "4");
    EXPECT_EQ(out[0].field("comment_id"), "31");
    EXPECT_EQ(out[0].field("kombuse_session_id"), "ks-1");
    EXPECT_EQ(out[1].subject, "");
    EXPECT_EQ(out[1].payload, "oops");  // not an object: kept as it was
    // New ids continue after the old ones.
    EXPECT_EQ(publish(bus, "x"), 9);
}

TEST(WsFrameTest, LengthEncodings) {
    auto small = encodeWebSocketFrame(1, "hello");
    EXPECT_EQ(static_cast<unsigned char>(small[0]), 0x81);
    EXPECT_EQ(small[1], 5);
    EXPECT_EQ(small.substr(2), "hello");
    auto mid = encodeWebSocketFrame(1, std::string(300, 'x'));
    EXPECT_EQ(static_cast<unsigned char>(mid[1]), 126);
    EXPECT_EQ((static_cast<unsigned char>(mid[2]) << 8) | static_cast<unsigned char>(mid[3]), 300);
    EXPECT_EQ(mid.size(), 304u);
    auto big = encodeWebSocketFrame(1, std::string(70000, 'y'));
    EXPECT_EQ(static_cast<unsigned char>(big[1]), 127);
    EXPECT_EQ(big.size(), 70010u);
}
