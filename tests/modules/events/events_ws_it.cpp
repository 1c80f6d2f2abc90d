// WebSockets: Kombuse `/ws` (topics, subscribe/unsubscribe, filtering, bad messages,
// ping) and the boards product's `/api/ws` (per-project subscribe; 4001 when
// authentication is on and the token is missing or wrong); Origin refusal on both.
#include <Poco/Net/NetException.h>

#include "events_support.hpp"

using namespace atelier::test;
using namespace atelier::test::events;

namespace {

std::string postEvent(TestServer& server, const std::string& fields, const std::string& payload = "{}") {
    auto r = server.post("/api/events", R"({"event_type":"ticket.updated","actor_type":"user","payload":)" + payload +
                                            (fields.empty() ? "" : "," + fields) + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.body;
}

std::unique_ptr<RawWs> connect(TestServer& server, const std::string& path, const std::string& origin = {}) {
    return std::make_unique<RawWs>(server.port(), path, origin);
}

}  // namespace

TEST(EventsWs, SubscribeFilterUnsubscribeAndWildcard) {
    TestServer server;
    auto ws = connect(server, "/ws");
    ws->send(R"({"type":"subscribe","topics":["ticket:5"]})");
    auto sub = ws->receiveJson();
    EXPECT_EQ(sub->getValue<std::string>("type"), "subscribed");
    ASSERT_EQ(sub->getArray("topics")->size(), 1u);
    EXPECT_EQ(sub->getArray("topics")->getElement<std::string>(0), "ticket:5");

    postEvent(server, R"("ticket_id":6)", R"({"n":"other"})");  // not subscribed
    postEvent(server, R"("ticket_id":5)", R"({"n":"mine"})");
    auto ev = ws->receiveJson();
    EXPECT_EQ(ev->getValue<std::string>("type"), "event");
    EXPECT_EQ(ev->getValue<std::string>("topic"), "ticket:5");
    auto event = ev->getObject("event");
    EXPECT_EQ(event->getValue<int>("ticket_id"), 5);
    EXPECT_EQ(event->getValue<std::string>("event_type"), "ticket.updated");
    EXPECT_EQ(event->getObject("payload")->getValue<std::string>("n"), "mine");
    EXPECT_GT(event->getValue<int64_t>("id"), 0);

    // Topics from the payload and the project; resource wildcard.
    ws->send(R"({"type":"subscribe","topics":["run:*"]})");
    EXPECT_EQ(ws->receiveJson()->getValue<std::string>("type"), "subscribed");
    postEvent(server, "", R"({"runId":"r-9"})");
    auto run = ws->receiveJson();
    EXPECT_EQ(run->getValue<std::string>("topic"), "run:r-9");

    ws->send(R"({"type":"unsubscribe","topics":["ticket:5","run:*"]})");
    auto unsub = ws->receiveJson();
    EXPECT_EQ(unsub->getValue<std::string>("type"), "unsubscribed");
    EXPECT_EQ(unsub->getArray("topics")->size(), 2u);
    postEvent(server, R"("ticket_id":5)", R"({"n":"after-unsubscribe"})");

    // "*" receives everything, reported with topic "*" when nothing more specific matches.
    ws->send(R"({"type":"subscribe","topics":["*"]})");
    EXPECT_EQ(ws->receiveJson()->getValue<std::string>("type"), "subscribed");
    postEvent(server, R"("project_id":"p1")", R"({"n":"any"})");
    auto any = ws->receiveJson();
    EXPECT_EQ(any->getValue<std::string>("type"), "event");
    EXPECT_EQ(any->getValue<std::string>("topic"), "*");
    EXPECT_EQ(any->getObject("event")->getObject("payload")->getValue<std::string>("n"), "any");  // not "after-unsubscribe"
}

TEST(EventsWs, BadMessagesGetErrorsWithoutClosing) {
    TestServer server;
    auto ws = connect(server, "/ws");
    for (const char* bad : {"not json", "[1,2]", R"({"no":"type"})", R"({"type":"subscribe"})",
                            R"({"type":"subscribe","topics":[42]})", R"({"type":"subscribe","topics":["nocolon"]})",
                            R"({"type":"frobnicate"})"}) {
        ws->send(bad);
        auto err = ws->receiveJson();
        EXPECT_EQ(err->getValue<std::string>("type"), "error") << bad;
        EXPECT_FALSE(err->getValue<std::string>("message").empty()) << bad;
    }
    ws->send(R"({"type":"ping"})");
    EXPECT_EQ(ws->receiveJson()->getValue<std::string>("type"), "pong");
    // A failed subscribe subscribed nothing.
    ws->send(R"({"type":"subscribe","topics":["ticket:1","bad"]})");
    EXPECT_EQ(ws->receiveJson()->getValue<std::string>("type"), "error");
    postEvent(server, R"("ticket_id":1)");
    ws->send(R"({"type":"ping"})");
    EXPECT_EQ(ws->receiveJson()->getValue<std::string>("type"), "pong");  // no event before the pong
}

TEST(EventsWs, DisallowedOriginIsRefusedAtTheHandshake) {
    TestServer server;
    for (const char* path : {"/ws", "/api/ws"}) {
        EXPECT_THROW(connect(server, path, "http://evil.example.com"), RawWs::Refused) << path;
        auto ok = connect(server, path, "http://localhost:5173");
        ok->send(R"({"type":"ping"})");
        EXPECT_EQ(ok->receiveJson()->getValue<std::string>("type"), "pong") << path;
    }
}

TEST(EventsWs, BoardsProtocolDeliversSubscribedProjectsOnly) {
    TestServer server;
    auto ws = connect(server, "/api/ws");
    ws->send(R"({"type":"subscribe","payload":{"projectId":"p1"}})");
    auto sub = ws->receiveJson();
    EXPECT_EQ(sub->getValue<std::string>("type"), "subscribed");
    EXPECT_EQ(sub->getObject("payload")->getValue<std::string>("projectId"), "p1");
    ws->send(R"({"type":"subscribe","payload":{}})");
    EXPECT_EQ(ws->receiveJson()->getValue<std::string>("type"), "error");

    postEvent(server, R"("project_id":"p2")", R"({"card":"theirs"})");
    postEvent(server, R"("project_id":"p1")", R"({"card":"ours"})");
    auto msg = ws->receiveJson();
    EXPECT_EQ(msg->getValue<std::string>("type"), "ticket.updated");
    EXPECT_EQ(msg->getObject("data")->getValue<std::string>("card"), "ours");
    EXPECT_EQ(msg->getValue<std::string>("projectId"), "p1");
}

TEST(EventsWs, BoardsSocketClosesWith4001WhenAuthIsOnAndTokenMissingOrWrong) {
    TestServer server(withConfig(R"({"auth":{"enabled":true},"modules":{"config":{"host":{"authTokens":["s3cret"]}}}})"));
    {
        auto ws = connect(server, "/api/ws");
        auto f = ws->receive();
        EXPECT_EQ(f.opcode, 8);
        EXPECT_EQ(f.closeCode(), 4001);
    }
    {
        auto ws = connect(server, "/api/ws?token=wrong");
        auto f = ws->receive();
        EXPECT_EQ(f.opcode, 8);
        EXPECT_EQ(f.closeCode(), 4001);
    }
    auto ws = connect(server, "/api/ws?token=s3cret");
    ws->send(R"({"type":"subscribe","payload":{"projectId":7}})");
    auto sub = ws->receiveJson();
    EXPECT_EQ(sub->getValue<std::string>("type"), "subscribed");
    EXPECT_EQ(sub->getObject("payload")->getValue<int>("projectId"), 7);
    // REST is guarded too; health stays open.
    EXPECT_EQ(server.get("/api/events").status, 401);
    EXPECT_EQ(server.get("/api/health").status, 200);
    EXPECT_EQ(server.request("GET", "/api/events", "", {{"Authorization", "Bearer s3cret"}}).status, 200);
}

// RFC 6455 4.2.2: the 101 answer must say "Connection: Upgrade" (browsers and Poco's client
// refuse anything else). Checks the host's handshake, which this suite's raw client tolerates.
TEST(EventsWs, HandshakeAnswersConnectionUpgrade) {
    TestServer server;
    RawWs ws(server.port(), "/ws");
    std::string head = ws.head();
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_NE(head.find("connection: upgrade"), std::string::npos) << ws.head();
    EXPECT_NE(head.find("upgrade: websocket"), std::string::npos) << ws.head();
}
