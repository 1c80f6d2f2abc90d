// The real host over real sockets: health, errors, limits, security checks, module listing,
// OpenAPI, keep-alive, CLI behaviour and graceful shutdown.
#include <Poco/Net/ServerSocket.h>
#include <gtest/gtest.h>

#include <fstream>

#include "test_server.hpp"

using atelier::test::TestServer;

namespace {
TestServer::Options noModules() {
    TestServer::Options o;
    o.extraArgs = {"--modules-dir", atelier::test::makeTempDir("atelier-empty-")};
    return o;
}
}  // namespace

TEST(Host, HealthJsonAndText) {
    TestServer server(noModules());
    auto r = server.get("/api/health");
    ASSERT_EQ(r.status, 200);
    auto data = r.json();  // bare; the boards product's {data} envelope is its flavor's (flavors_it)
    ASSERT_TRUE(data) << r.body;
    EXPECT_FALSE(data->has("data"));
    EXPECT_EQ(data->getValue<std::string>("status"), "ok");
    EXPECT_FALSE(data->getValue<std::string>("version").empty());
    // Every running module is counted: the built-in core plus whatever the module directory holds.
    auto mods = server.get("/api/modules").json()->getArray("data");
    int running = 0;
    for (size_t i = 0; i < mods->size(); ++i)
        running += mods->getObject(static_cast<unsigned>(i))->getValue<std::string>("state") == "running";
    EXPECT_GE(running, 1);
    EXPECT_EQ(data->getValue<int>("modules"), running);
    EXPECT_FALSE(r.header("x-request-id").empty());

    auto text = server.request("GET", "/api/health", "", {{"Accept", "text/plain"}});
    EXPECT_EQ(text.status, 200);
    EXPECT_EQ(text.body, "ok");
}

TEST(Host, UniformErrors) {
    TestServer server(noModules());
    auto nf = server.get("/api/does-not-exist");
    EXPECT_EQ(nf.status, 404);
    ASSERT_TRUE(nf.json());
    EXPECT_FALSE(nf.json()->getValue<bool>("success"));
    EXPECT_EQ(nf.json()->getValue<std::string>("code"), "NOT_FOUND");
    EXPECT_NE(nf.json()->getValue<std::string>("error").find("/api/does-not-exist"), std::string::npos);

    auto na = server.request("DELETE", "/api/health");
    EXPECT_EQ(na.status, 405);
    EXPECT_EQ(na.json()->getValue<std::string>("code"), "METHOD_NOT_ALLOWED");
    EXPECT_EQ(na.header("allow"), "GET");

    auto bad = server.request("POST", "/api/events", "{\"event_type\": ", {{"Content-Type", "application/json"}});
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json()->getValue<std::string>("code"), "INVALID_JSON");
}

TEST(Host, BodyLimitIs413) {
    TestServer server(noModules());
    std::string big(10 * 1024 * 1024 + 1, 'x');
    auto r = server.request("POST", "/api/events", big, {{"Content-Type", "text/plain"}});
    EXPECT_EQ(r.status, 413);
    ASSERT_TRUE(r.json()) << r.body.substr(0, 200);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "PAYLOAD_TOO_LARGE");
    // The server is fine afterwards.
    EXPECT_EQ(server.get("/api/health").status, 200);
}

TEST(Host, RejectsForeignHostAndOrigin) {
    TestServer server(noModules());
    for (const char* h : {"evil.example.com", "127.0.0.1.evil.com", "localhost.attacker", "192.168.1.5:7333"}) {
        auto r = server.request("GET", "/api/health", "", {{"Host", h}});
        EXPECT_EQ(r.status, 403) << h;
        EXPECT_EQ(r.json()->getValue<std::string>("code"), "FORBIDDEN_HOST");
    }
    for (const char* h : {"localhost", "localhost:7333", "127.0.0.1:1", "[::1]:7333"}) {
        EXPECT_EQ(server.request("GET", "/api/health", "", {{"Host", h}}).status, 200) << h;
    }
    auto evil = server.request("GET", "/api/health", "", {{"Origin", "https://evil.example.com"}});
    EXPECT_EQ(evil.status, 403);
    EXPECT_EQ(evil.json()->getValue<std::string>("code"), "FORBIDDEN_ORIGIN");
    auto ok = server.request("GET", "/api/health", "", {{"Origin", "http://localhost:5173"}});
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.header("access-control-allow-origin"), "http://localhost:5173");
    auto pre = server.request("OPTIONS", "/api/events", "", {{"Origin", "http://127.0.0.1:3000"}});
    EXPECT_EQ(pre.status, 204);
    EXPECT_NE(pre.header("access-control-allow-methods").find("PATCH"), std::string::npos);
}

TEST(Host, WebSocketFromForeignOriginRefusedAtHandshake) {
    TestServer server(noModules());
    EXPECT_THROW(server.websocket("/ws", "https://evil.example.com"), Poco::Exception);
}

TEST(Host, ClientRequestIdEchoedAndGeneratedOtherwise) {
    TestServer server(noModules());
    auto r = server.request("GET", "/api/health", "", {{"X-Request-Id", "trace-123"}});
    EXPECT_EQ(r.header("x-request-id"), "trace-123");
    auto g1 = server.get("/api/health").header("x-request-id");
    auto g2 = server.get("/api/health").header("x-request-id");
    EXPECT_FALSE(g1.empty());
    EXPECT_NE(g1, g2);
    auto bad = server.request("GET", "/api/health", "", {{"X-Request-Id", "bad id\twith spaces"}});
    EXPECT_NE(bad.header("x-request-id"), "bad id\twith spaces");
}

TEST(Host, ModulesAndOpenApi) {
    TestServer server(noModules());
    auto mods = server.get("/api/modules");
    ASSERT_EQ(mods.status, 200);
    auto list = mods.json()->getArray("data");
    ASSERT_GE(list->size(), 1u);
    EXPECT_EQ(list->getObject(0)->getValue<std::string>("id"), "host");
    EXPECT_EQ(list->getObject(0)->getValue<std::string>("state"), "running");
    EXPECT_GT(list->getObject(0)->getValue<int>("routes"), 2);

    auto api = server.get("/api/openapi.json");
    ASSERT_EQ(api.status, 200);
    auto doc = api.json();
    EXPECT_EQ(doc->getValue<std::string>("openapi"), "3.0.3");
    auto paths = doc->getObject("paths");
    EXPECT_TRUE(paths->has("/api/health"));
    EXPECT_TRUE(paths->getObject("/api/health")->has("get"));
}

TEST(Host, KeepAliveServesManyRequestsOnOneConnection) {
    TestServer server(noModules());
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    session.setKeepAlive(true);
    for (int i = 0; i < 50; ++i) {
        Poco::Net::HTTPRequest req("GET", "/api/health", Poco::Net::HTTPMessage::HTTP_1_1);
        req.setHost("127.0.0.1");
        req.setKeepAlive(true);
        session.sendRequest(req);
        Poco::Net::HTTPResponse res;
        std::istream& in = session.receiveResponse(res);
        std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        ASSERT_EQ(res.getStatus(), 200);
        ASSERT_TRUE(res.getKeepAlive());
    }
}

TEST(Host, BusyPortIsAClearError) {
    Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
    std::string out;
    int rc = atelier::test::run({ATELIER_BINARY, "serve", "--port", std::to_string(taken.address().port()), "--data-dir",
                                 atelier::test::makeTempDir()},
                                {}, &out);
    EXPECT_EQ(rc, 2);
    EXPECT_NE(out.find("cannot listen"), std::string::npos) << out;
}

TEST(Host, CliHelpVersionAndBadFlags) {
    std::string out;
    EXPECT_EQ(atelier::test::run({ATELIER_BINARY, "--version"}, {}, &out), 0);
    EXPECT_NE(out.find("atelier "), std::string::npos);
    EXPECT_EQ(atelier::test::run({ATELIER_BINARY, "--help"}, {}, &out), 0);
    EXPECT_NE(out.find("--disable-module"), std::string::npos);
    EXPECT_EQ(atelier::test::run({ATELIER_BINARY, "serve", "--port", "notaport"}, {}, &out), 2);
    EXPECT_NE(out.find("--port"), std::string::npos);
    EXPECT_EQ(atelier::test::run({ATELIER_BINARY, "serve", "--frobnicate"}, {}, &out), 2);
}

TEST(Host, GracefulShutdownOnSigterm) {
    auto opts = noModules();
    TestServer server(opts);
    std::string dir = server.dataDir();
    EXPECT_TRUE(std::filesystem::exists(dir + "/server-port"));
    EXPECT_EQ(server.get("/api/health").status, 200);
    auto started = std::chrono::steady_clock::now();
    int rc = server.stop();
    auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(rc, 0);
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 3000);
    EXPECT_FALSE(std::filesystem::exists(dir + "/server-port"));
    auto log = server.logText();
    EXPECT_NE(log.find("stopped cleanly"), std::string::npos) << log;
    // The database was closed cleanly: no WAL left behind after the final checkpoint.
    EXPECT_TRUE(std::filesystem::exists(dir + "/atelier.db"));
    EXPECT_EQ(std::filesystem::exists(dir + "/atelier.db-wal") ? std::filesystem::file_size(dir + "/atelier.db-wal") : 0u, 0u);
}

TEST(Host, WebSocketHandshakeWorksWithAStandardClient) {
    // Poco's client checks the 101 answer strictly (Connection: Upgrade, Sec-WebSocket-Accept).
    TestServer server(noModules());
    auto ws = server.websocket("/ws", "http://localhost:5173");
    std::string ping = R"({"type":"ping"})";
    ws->sendFrame(ping.data(), static_cast<int>(ping.size()), Poco::Net::WebSocket::FRAME_TEXT);
    int flags = 0;
    std::string reply = atelier::test::wsReceive(*ws, &flags);
    EXPECT_NE(reply.find("pong"), std::string::npos) << reply;
    ws->close();
}
