// Unit tests of the events module's pieces that need no server: SSE cursors, WebSocket
// topics, the Kombuse event shape over the generic envelope, ops-log normalisation, tracing
// and redaction, retention helpers, and the module's routes over the fake host.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <atelier/testing/fake_host.hpp>
#include <atelier/util.hpp>

#include "events_hub.hpp"
#include "events_retention.hpp"
#include "kombuse_events.hpp"
#include "ops_log.hpp"

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

using namespace atelier::events;
using atelier::Event;

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

TEST(TopicsTest, EventTopicsFromSubjectAndPayload) {
    Event e;
    e.type = "ticket.updated";
    e.projectId = "p1";
    e.subject = "ticket/12";
    e.payload =
        R"({"ticket_number":4,"kombuse_session_id":"s-1","runId":"r-9","worktreeId":"wt","connectionId":"ws-3","other":"x"})";
    auto t = eventTopics(e);
    for (const char* want : {"ticket:12", "ticket:p1:4", "project:p1", "session:s-1", "run:r-9", "worktree:wt", "connection:ws-3"})
        EXPECT_NE(std::find(t.begin(), t.end(), want), t.end()) << want;
    EXPECT_EQ(std::find(t.begin(), t.end(), "other:x"), t.end());
    Event bare;
    bare.type = "x";
    bare.payload = "{}";
    EXPECT_TRUE(eventTopics(bare).empty());
    // A subject of another kind is no ticket.
    Event run;
    run.type = "run.started";
    run.subject = "run/7";
    run.payload = "{}";
    EXPECT_TRUE(eventTopics(run).empty());
}

TEST(KombuseEventTest, FieldsComeFromSubjectAndPayload) {
    Event e;
    e.id = 9;
    e.type = "comment.added";
    e.subject = "ticket/12";
    e.projectId = "p1";
    e.actorId = "u1";
    e.actorType = "user";
    e.payload = R"({"ticket_number":4,"comment_id":"31","kombuse_session_id":"ks-1","body":"hi"})";
    e.createdAt = "2026-12-04T10:00:00.000Z";
    auto o = Poco::JSON::Parser().parse(kombuseEventJson(e)).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(o->getValue<int64_t>("id"), 9);
    EXPECT_EQ(o->getValue<std::string>("event_type"), "comment.added");
    EXPECT_EQ(o->getValue<int64_t>("ticket_id"), 12);  // digit strings are Kombuse integers
    EXPECT_EQ(o->getValue<int64_t>("ticket_number"), 4);
    EXPECT_EQ(o->getValue<int64_t>("comment_id"), 31);
    EXPECT_EQ(o->getValue<std::string>("kombuse_session_id"), "ks-1");
    EXPECT_EQ(o->getValue<std::string>("actor_type"), "user");
    EXPECT_EQ(o->getObject("payload")->getValue<std::string>("body"), "hi");
    Event bare;
    bare.type = "project.created";
    bare.actorType = "";
    bare.payload = "";
    auto b = Poco::JSON::Parser().parse(kombuseEventJson(bare)).extract<Poco::JSON::Object::Ptr>();
    for (const char* k : {"ticket_id", "ticket_number", "comment_id", "kombuse_session_id", "project_id", "actor_id"})
        EXPECT_TRUE(b->isNull(k)) << k;
    EXPECT_EQ(b->getValue<std::string>("actor_type"), "system");
    EXPECT_EQ(b->getObject("payload")->size(), 0u);
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

TEST(OpsTraceTest, FinishedRequestsBecomeBoundedRedactedTraces) {
    auto f =
        obj(R"({"method":"POST","path":"/api/things","query":"token=abc&x=1","status":422,"durationMs":2.5,)"
            R"("requestId":"r-1","requestContentType":"application/json","responseContentType":"application/json",)"
            R"("requestBody":"{\"password\":\"hunter2\",\"n\":1}","responseBody":")" +
            std::string(3000, 'x') + R"("})");
    auto t = OpsLog::traceEntry(*f);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->getValue<std::string>("level"), "warn");
    EXPECT_EQ(t->getValue<std::string>("source"), "http");
    EXPECT_EQ(t->getValue<std::string>("message"), "POST /api/things 422");
    EXPECT_EQ(t->getValue<std::string>("query").find("abc"), std::string::npos);
    EXPECT_EQ(t->getValue<std::string>("requestPayload").find("hunter2"), std::string::npos);
    EXPECT_EQ(t->getValue<std::string>("responsePayload").size(), 2048u);
    EXPECT_TRUE(t->getValue<bool>("responsePayloadTruncated"));
    // Not traced: health, reads of the logs themselves, anything outside /api.
    for (const char* skip :
         {R"({"method":"GET","path":"/api/health","status":200})",
          R"({"method":"GET","path":"/api/logs","status":200})", R"({"method":"GET","path":"/ws","status":101})"})
        EXPECT_FALSE(OpsLog::traceEntry(*obj(skip))) << skip;
    auto binary = obj(
        R"({"method":"PUT","path":"/api/f","status":200,"requestContentType":"application/octet-stream","requestBody":"\u0001"})");
    EXPECT_TRUE(OpsLog::traceEntry(*binary)->getValue<bool>("requestPayloadOmitted"));
}

// The Kombuse event API over the fake host: the generic envelope in, the Kombuse shape out.
TEST(EventsModuleTest, KombuseFieldsRoundTripThroughTheEnvelope) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    auto r = host.request("POST", "/api/events",
                          R"({"event_type":"comment.added","actor_type":"user","project_id":"p1","ticket_id":12,)"
                          R"("ticket_number":"4","comment_id":7,"kombuse_session_id":"ks","payload":{"k":1}})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto created = r.json();
    EXPECT_EQ(created->getValue<int64_t>("ticket_id"), 12);
    EXPECT_EQ(created->getValue<int64_t>("ticket_number"), 4);
    EXPECT_EQ(created->getValue<int64_t>("comment_id"), 7);
    EXPECT_EQ(created->getValue<std::string>("kombuse_session_id"), "ks");
    // On the bus the envelope names no domain: the ticket is the subject, the rest is payload.
    auto stored = host.events();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].subject, "ticket/12");
    EXPECT_EQ(stored[0].field("comment_id"), "7");
    EXPECT_EQ(stored[0].field("kombuse_session_id"), "ks");

    Event other;
    other.type = "comment.added";
    other.subject = "ticket/13";
    host.publish(other);
    auto list = host.request("GET", "/api/events?ticket_id=12").jsonArray();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ(list->getObject(0)->getValue<int64_t>("id"), created->getValue<int64_t>("id"));
    EXPECT_EQ(host.request("GET", "/api/events?event_type=comment.added").jsonArray()->size(), 2u);
    EXPECT_EQ(host.request("GET", "/api/events?project_id=p1").jsonArray()->size(), 1u);
    auto bad =
        host.request("POST", "/api/events", R"({"event_type":"x","actor_type":"user","payload":{},"ticket_id":"abc"})");
    EXPECT_EQ(bad.status, 400);
}

// What any module hands to ops_record reaches the operations log through the hook the events
// module registers, and comes back from GET /api/logs with its source.
TEST(EventsModuleTest, OpsRecordOfAnotherModuleLandsInTheOperationsLog) {
    atelier::testing::FakeHost host;
    host.load(atelier_module_entry_v1());
    atelier_module_ctx other{&host, "worktrees", "", "{}"};
    std::string entry =
        R"({"level":"info","source":"worktrees","message":"git worktree add","command":{"command":"git"}})";
    ASSERT_EQ(host.api()->ops_record(&other, atelier::str(entry)), ATELIER_OK);
    auto logs = host.request("GET", "/api/logs?source=worktrees").json();
    ASSERT_TRUE(logs) << host.request("GET", "/api/logs").body;
    auto events = logs->getArray("events");
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ(events->getObject(0)->getValue<std::string>("message"), "git worktree add");
    EXPECT_EQ(events->getObject(0)->getValue<std::string>("level"), "info");
}
