// Unit tests of the host's event-stream pieces that need no server: SSE cursors, WebSocket
// topics and frames, ops-log normalisation and redaction, retention helpers, and the bus's
// batch subscription (over a real SQLite database).
#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>
#include <atelier/util.hpp>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "event_bus.hpp"
#include "events_hub.hpp"
#include "events_retention.hpp"
#include "ops_log.hpp"
#include "storage.hpp"

using namespace atelier::host;

TEST(SseCursorTest, ParsesBusAndOpsParts) {
    SseCursor c;
    ASSERT_TRUE(SseCursor::parse("12:34", c));
    EXPECT_EQ(c.bus, 12);
    EXPECT_EQ(c.ops, 34);
    EXPECT_EQ(c.str(), "12:34");
    ASSERT_TRUE(SseCursor::parse("7", c));
    EXPECT_EQ(c.bus, 7);
    EXPECT_EQ(c.ops, 0);
    for (const char* bad : {"", ":", "1:", ":2", "a:1", "1:b", "-1:2", "1:2:3", "99999999999999999999:1"})
        EXPECT_FALSE(SseCursor::parse(bad, c)) << bad;
}

TEST(TopicsTest, EventTopicsFromFieldsAndPayload) {
    StoredEvent e;
    e.type = "ticket.updated";
    e.projectId = "p1";
    e.ticketId = "12";
    e.ticketNumber = 4;
    e.sessionId = "s-1";
    e.payload = R"({"runId":"r-9","worktreeId":"wt","connectionId":"ws-3","other":"x"})";
    auto t = eventTopics(e);
    for (const char* want : {"ticket:12", "ticket:p1:4", "project:p1", "session:s-1", "run:r-9", "worktree:wt", "connection:ws-3"})
        EXPECT_NE(std::find(t.begin(), t.end(), want), t.end()) << want;
    EXPECT_EQ(std::find(t.begin(), t.end(), "other:x"), t.end());
    StoredEvent bare;
    bare.type = "x";
    bare.payload = "{}";
    EXPECT_TRUE(eventTopics(bare).empty());
}

TEST(TopicsTest, MatchPrefersSpecificTopicsThenResourceWildcardThenStar) {
    std::vector<std::string> topics{"ticket:12", "project:p1"};
    EXPECT_EQ(matchTopic({"project:p1"}, topics), "project:p1");
    EXPECT_EQ(matchTopic({"ticket:*"}, topics), "ticket:12");
    EXPECT_EQ(matchTopic({"*", "project:p1"}, topics), "project:p1");
    EXPECT_EQ(matchTopic({"*"}, topics), "*");
    EXPECT_EQ(matchTopic({"ticket:13"}, topics), "");
    EXPECT_EQ(matchTopic({}, topics), "");
    EXPECT_TRUE(validTopic("*"));
    EXPECT_TRUE(validTopic("ticket:123"));
    EXPECT_TRUE(validTopic("run:*"));
    for (const char* bad : {"", "ticket", ":1", "ticket:", "has space:1"}) EXPECT_FALSE(validTopic(bad)) << bad;
    EXPECT_FALSE(validTopic(std::string(201, 'a') + ":1"));
}

TEST(WsFrameTest, LengthEncodings) {
    auto small = wsTextFrame("hello");
    EXPECT_EQ(static_cast<unsigned char>(small[0]), 0x81);
    EXPECT_EQ(small[1], 5);
    EXPECT_EQ(small.substr(2), "hello");
    auto mid = wsTextFrame(std::string(300, 'x'));
    EXPECT_EQ(static_cast<unsigned char>(mid[1]), 126);
    EXPECT_EQ((static_cast<unsigned char>(mid[2]) << 8) | static_cast<unsigned char>(mid[3]), 300);
    EXPECT_EQ(mid.size(), 304u);
    auto big = wsTextFrame(std::string(70000, 'y'));
    EXPECT_EQ(static_cast<unsigned char>(big[1]), 127);
    EXPECT_EQ(big.size(), 70010u);
}

namespace {
Poco::JSON::Object::Ptr obj(const std::string& s) { return Poco::JSON::Parser().parse(s).extract<Poco::JSON::Object::Ptr>(); }
}  // namespace

TEST(OpsNormalizeTest, HttpTraceMovesToMetadataWithWordStatus) {
    auto o = obj(R"({"level":"warn","source":"http","message":"GET /api/x 404","method":"GET","path":"/api/x","status":404,"durationMs":1.5,"requestId":"r1","responsePayload":"{}"})");
    OpsLog::normalize(*o);
    EXPECT_EQ(o->getValue<std::string>("level"), "warning");
    EXPECT_EQ(o->getValue<std::string>("status"), "failed");
    EXPECT_EQ(o->getValue<std::string>("action"), "http.request");
    EXPECT_FALSE(o->has("method"));
    auto m = o->getObject("metadata");
    EXPECT_EQ(m->getValue<int>("statusCode"), 404);
    EXPECT_EQ(m->getValue<std::string>("method"), "GET");
    EXPECT_EQ(m->getValue<std::string>("path"), "/api/x");
    EXPECT_EQ(m->getValue<std::string>("direction"), "inbound");
    EXPECT_DOUBLE_EQ(m->getValue<double>("durationMs"), 1.5);
    auto ok = obj(R"({"source":"http","message":"m","status":201})");
    OpsLog::normalize(*ok);
    EXPECT_EQ(ok->getValue<std::string>("status"), "succeeded");
    EXPECT_EQ(ok->getValue<std::string>("level"), "info");
}

TEST(OpsNormalizeTest, CommandOutputIsBoundedAndDefaultsFilled) {
    auto o = obj(R"({"source":"worktrees","level":"bogus","command":{"command":"git","args":["status"],"stdout":")" +
                 std::string(20000, 'o') + R"(","stderr":"e","exitCode":0}})");
    OpsLog::normalize(*o);
    EXPECT_EQ(o->getValue<std::string>("level"), "info");
    EXPECT_EQ(o->getValue<std::string>("status"), "info");
    EXPECT_EQ(o->getValue<std::string>("action"), "worktrees");
    EXPECT_EQ(o->getValue<std::string>("message"), "");
    auto c = o->getObject("command");
    EXPECT_EQ(c->getValue<std::string>("stdout").size(), 16384u);
    EXPECT_TRUE(c->getValue<bool>("stdoutTruncated"));
    EXPECT_EQ(c->getValue<std::string>("stderr"), "e");
    EXPECT_FALSE(c->has("stderrTruncated"));
}

TEST(OpsRedactTest, SecretsAndBearerTokens) {
    std::string r = OpsLog::redact(R"({"password":"hunter2","api_key":"k","note":"ok"} Authorization: Bearer abc.def token=zzz)");
    EXPECT_EQ(r.find("hunter2"), std::string::npos);
    EXPECT_EQ(r.find("abc.def"), std::string::npos);
    EXPECT_EQ(r.find("zzz"), std::string::npos);
    EXPECT_NE(r.find("\"note\":\"ok\""), std::string::npos);
}

// Redaction skips texts without any trigger word; each pattern on its own must still fire,
// whatever the case of the word.
TEST(OpsRedactTest, EachPatternAloneIsRedacted) {
    struct Case {
        const char* in;
        const char* secret;
    };
    for (auto c : {Case{R"({"API_KEY":"s1"})", "s1"}, Case{R"({"x-Api-Key":"s2"})", "s2"},
                   Case{R"({"githubToken" : "s3"})", "s3"}, Case{R"({"clientSecret":"s4"})", "s4"},
                   Case{R"({"passwd":"s5"})", "s5"}, Case{R"({"Cookie":"s6"})", "s6"},
                   Case{R"({"aws_credentials":"s7"})", "s7"}, Case{R"({"Authorization":"s8"})", "s8"},
                   Case{"curl -H 'BEARER s9x'", "s9x"}, Case{"basic   s10x", "s10x"}, Case{"?q=1&TOKEN=s11&b=2", "s11"},
                   Case{"apikey=s12", "s12"}, Case{"my_password=s13", "s13"}}) {
        std::string r = OpsLog::redact(c.in);
        EXPECT_EQ(r.find(c.secret), std::string::npos) << c.in << " -> " << r;
        EXPECT_NE(r.find("[REDACTED]"), std::string::npos) << c.in << " -> " << r;
    }
    std::string plain = R"({"hook_event_name":"PreToolUse","tool_input":{"file_path":"a.txt"}})";
    EXPECT_EQ(OpsLog::redact(plain), plain);
}

TEST(RetentionHelpersTest, IsoChecksAndCutoffs) {
    EXPECT_TRUE(looksLikeIsoTime("2026-11-23"));
    EXPECT_TRUE(looksLikeIsoTime("2026-11-23T07:00:00.000Z"));
    EXPECT_TRUE(looksLikeIsoTime("2026-11-23T07:00:00+01:00"));
    for (const char* bad : {"", "yesterday", "2026/11/23", "2026-11-23 07:00", "2026-11-23T07:00:00Z'"})
        EXPECT_FALSE(looksLikeIsoTime(bad)) << bad;
    std::string cutoff = isoDaysAgo(1);
    EXPECT_EQ(cutoff.size(), 24u);
    EXPECT_EQ(cutoff.back(), 'Z');
    EXPECT_LT(cutoff, atelier::nowIso());
    EXPECT_GT(cutoff, isoDaysAgo(2));
}

TEST(EventBusBatchTest, BatchSubscribersSeeEveryEventInIdOrderBeforeHandlers) {
    auto dir = std::filesystem::temp_directory_path() / ("atelier-bus-" + atelier::randomHex(8));
    std::filesystem::create_directories(dir);
    {
        Storage storage((dir / "db.sqlite").string(), 1);
        EventBus bus(storage);
        std::mutex m;
        std::condition_variable cv;
        std::vector<int64_t> batched, single;
        std::vector<std::string> order;
        bus.subscribeBatch([&](const std::vector<std::shared_ptr<const StoredEvent>>& batch) {
            std::lock_guard l(m);
            for (auto& e : batch) batched.push_back(e->id);
            order.push_back("batch");
        });
        bus.subscribe("ticket.*", [&](const std::shared_ptr<const StoredEvent>& e) {
            std::lock_guard l(m);
            single.push_back(e->id);
            order.push_back("single");
            cv.notify_all();
        });
        bus.start();
        for (int i = 0; i < 50; ++i) {
            StoredEvent s;
            s.type = i % 2 ? "ticket.updated" : "other";
            s.ticketId = std::to_string(i);
            s.payload = "{}";
            auto abi = s.toAbi();
            int64_t id = 0;
            ASSERT_EQ(bus.publish(abi, &id), ATELIER_OK);
        }
        {
            std::unique_lock l(m);
            cv.wait_for(l, std::chrono::seconds(5), [&] { return single.size() == 25; });
        }
        bus.stop();
        ASSERT_EQ(batched.size(), 50u);
        for (size_t i = 1; i < batched.size(); ++i) EXPECT_LT(batched[i - 1], batched[i]);
        ASSERT_EQ(single.size(), 25u);
        EXPECT_EQ(order.front(), "batch");
        // Ticket ids that are numbers come out as JSON integers (Kombuse).
        auto stored = bus.after(0, "ticket.*", 1);
        ASSERT_EQ(stored.size(), 1u);
        EXPECT_NE(stored[0].toJson().find("\"ticket_id\":1,"), std::string::npos) << stored[0].toJson();
    }
    std::filesystem::remove_all(dir);
}
