// Integration: the real host, the terminal module, real sockets and real WebSockets.
#include "test_server.hpp"
#include "test_util.hpp"
#include "ws_client.hpp"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/WebSocket.h>
#include <gtest/gtest.h>

#include <signal.h>

using atelier::test::HttpResult;
using atelier::test::TestServer;
using namespace atelier::terminal::testutil;

namespace {

using Frame = RawWs::Frame;

class Ws {
public:
    Ws(const TestServer& s, const std::string& path, const std::string& origin = {}) : ws_(s.port(), path, origin) {}
    Frame next() {
        Frame f = ws_.next();
        return f;
    }
    // Reads frames until the accumulated output (restore payload + binary frames) contains `needle`.
    bool readUntil(const std::string& needle, std::string* all = nullptr) {
        std::string acc;
        try {
            while (true) {
                Frame f = next();
                if (f.op == RawWs::Close) break;
                if (f.op == RawWs::Binary) acc += f.data;
                if (f.op == RawWs::Text && f.data.rfind("{\"type\":\"restore\"", 0) == 0) {
                    auto o = Poco::JSON::Parser().parse(f.data).extract<Poco::JSON::Object::Ptr>();
                    acc += o->getValue<std::string>("payload");
                }
                if (acc.find(needle) != std::string::npos) {
                    if (all) *all = acc;
                    return true;
                }
            }
        } catch (const std::exception&) {
        }
        if (all) *all = acc;
        return false;
    }
    void text(const std::string& s) { ws_.text(s); }
    void close() { ws_.close(); }

private:
    RawWs ws_;
};

std::string quote(const std::string& in) {
    std::string out = "\"";
    for (char c : in) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

// A login bash takes seconds on these machines; sessions run /bin/sh.
TestServer::Options serverOptions() {
    TestServer::Options o;
    o.env["SHELL"] = "/bin/sh";
    return o;
}

std::string spawn(TestServer& s, const std::string& command, const std::string& cwd = "/tmp") {
    auto r = s.post("/api/pty/spawn", R"({"command":"/bin/sh","args":["-c",)" + quote(command) + R"(],"cwd":")" + cwd + "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    return o ? o->getValue<std::string>("id") : std::string();
}

std::unique_ptr<Ws> connect(TestServer& s, const std::string& id) { return std::make_unique<Ws>(s, "/api/terminals/" + id + "/ws"); }

std::string status(TestServer& s, const std::string& id) {
    auto o = s.get("/api/pty/" + id).json();
    return o ? o->optValue<std::string>("status", "") : "";
}

}  // namespace

TEST(TerminalIT, EchoRoundTripAndResize) {
    TestServer server(serverOptions());
    std::string id = spawn(server, "stty -echo; while read l; do echo echo:$l; [ \"$l\" = size ] && stty size; done");
    auto ws = connect(server, id);
    Frame first = ws->next();
    ASSERT_EQ(first.op, RawWs::Text);
    EXPECT_EQ(first.data.rfind("{\"type\":\"restore\",\"payload\":", 0), 0u) << first.data;
    ws->text("hello\r");
    EXPECT_TRUE(ws->readUntil("echo:hello"));
    ws->text(R"({"type":"resize","cols":111,"rows":33})");
    ws->text("size\r");
    std::string all;
    EXPECT_TRUE(ws->readUntil("33 111", &all)) << all;
    EXPECT_EQ(server.get("/api/pty/" + id).json()->getValue<int>("cols"), 111);
}

TEST(TerminalIT, RestoreAfterReconnectAndTwoClients) {
    TestServer server(serverOptions());
    std::string id = spawn(server, "echo earlier-output-marker; exec cat");
    {
        auto first = connect(server, id);
        ASSERT_TRUE(first->readUntil("earlier-output-marker"));
        first->close();
    }
    auto again = connect(server, id);
    Frame restore = again->next();
    ASSERT_EQ(restore.op, RawWs::Text);
    auto o = Poco::JSON::Parser().parse(restore.data).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(o->getValue<std::string>("type"), "restore");
    EXPECT_NE(o->getValue<std::string>("payload").find("earlier-output-marker"), std::string::npos);

    auto other = connect(server, id);
    EXPECT_TRUE(other->readUntil("earlier-output-marker"));  // its own restore
    again->text("shared-line\r");
    EXPECT_TRUE(again->readUntil("shared-line"));
    EXPECT_TRUE(other->readUntil("shared-line"));
    // The first client's close reaches the server asynchronously; it must be gone soon.
    auto clients = [&] { return server.get("/api/pty/" + id).json()->getValue<int>("clients"); };
    EXPECT_TRUE(waitUntil([&] { return clients() == 2; }, 5000));
    EXPECT_EQ(clients(), 2);
}

TEST(TerminalIT, ExitFrameCarriesTheExitCode) {
    TestServer server(serverOptions());
    std::string id = spawn(server, "read x; exit 3");
    auto ws = connect(server, id);
    ws->text("go\r");
    std::string exitFrame;
    int closeCode = 0;
    for (int i = 0; i < 50; ++i) {
        Frame f = ws->next();
        if (f.op == RawWs::Text && f.data.find("\"exit\"") != std::string::npos) exitFrame = f.data;
        if (f.op == RawWs::Close) {
            closeCode = f.closeCode();
            break;
        }
    }
    EXPECT_EQ(exitFrame, R"({"type":"exit","exitCode":3})");
    EXPECT_EQ(closeCode, 1000);
    EXPECT_EQ(status(server, id), "exited");
    EXPECT_EQ(server.get("/api/pty/" + id).json()->getValue<int>("exitCode"), 3);
}

TEST(TerminalIT, UnknownSessionClosesWith1008) {
    TestServer server(serverOptions());
    int code = 0;
    try {
        Ws ws(server, "/api/terminals/term-4242/ws");
        Frame f = ws.next();
        EXPECT_EQ(f.op, RawWs::Close);
        code = f.closeCode();
        EXPECT_EQ(f.closeReason(), "session-not-found");
    } catch (const std::runtime_error&) {
        code = 1008;  // refused at the handshake
    }
    EXPECT_EQ(code, 1008);
    // a foreign Origin never reaches a shell
    std::string id = spawn(server, "exec cat");
    bool refused = false;
    try {
        Ws ws(server, "/api/terminals/" + id + "/ws", "http://evil.example");
        Frame f = ws.next();
        refused = f.op == RawWs::Close;
    } catch (const std::exception&) {
        refused = true;  // refused at the handshake (403 FORBIDDEN_ORIGIN from the host)
    }
    EXPECT_TRUE(refused);
}

TEST(TerminalIT, DestroyKillsAProcessGroupThatIgnoresSighup) {
    TestServer server(serverOptions());
    TempDir dir;
    std::string pidFile = dir.path + "/pids";
    std::string id = spawn(server, "trap '' HUP; sleep 1000 & echo $$ $! > " + pidFile + "; wait");
    auto pids = waitPids(pidFile, 2, 5000);
    ASSERT_EQ(pids.size(), 2u);
    auto ws = connect(server, id);
    auto r = server.del("/api/terminals/" + id);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"success":true})");
    for (pid_t p : pids) EXPECT_TRUE(waitGone(p, 8000)) << "pid " << p << " survived";
    EXPECT_EQ(server.del("/api/terminals/" + id).status, 404);
    Frame f = ws->next();
    EXPECT_EQ(f.op, RawWs::Text);  // the restore frame
}

TEST(TerminalIT, NoZombiesAfterHundredSessions) {
    TestServer server(serverOptions());
    std::vector<pid_t> pids;
    for (int batch = 0; batch < 2; ++batch) {
        std::vector<std::string> ids;
        for (int i = 0; i < 50; ++i) {
            ids.push_back(spawn(server, i % 2 ? "echo bye; exit 0" : "exec sleep 100"));
            auto info = server.get("/api/pty/" + ids.back()).json();
            if (info) pids.push_back(static_cast<pid_t>(info->getValue<int64_t>("pid")));
        }
        for (size_t i = 0; i < ids.size(); i += 2) {
            auto ws = connect(server, ids[i]);
            ws->next();  // restore
            EXPECT_EQ(server.del("/api/terminals/" + ids[i]).status, 200);
        }
        for (size_t i = 1; i < ids.size(); i += 2)
            EXPECT_TRUE(waitUntil([&] { return status(server, ids[i]) == "exited"; }, 5000)) << ids[i];
    }
    // Zombies only: with every module loaded, other modules may legitimately own children.
    EXPECT_TRUE(waitUntil([&] { return childCount(server.pid(), true) == 0; }, 8000))
        << childCount(server.pid(), true) << " zombie children of the server left";
    EXPECT_EQ(pids.size(), 100u);
    for (pid_t p : pids) EXPECT_TRUE(waitGone(p, 5000)) << "session process " << p << " still running";
    auto list = server.get("/api/terminals").json();
    EXPECT_EQ(list->getArray("sessions")->size(), 0u);
}

TEST(TerminalIT, ServerStopLeavesNoChildProcess) {
    TestServer server(serverOptions());
    TempDir dir;
    std::vector<pid_t> pids;
    for (int i = 0; i < 3; ++i) {
        std::string f = dir.path + "/p" + std::to_string(i);
        spawn(server, "trap '' HUP; sleep 1000 & echo $$ $! > " + f + "; wait");
        auto p = waitPids(f, 2, 5000);
        ASSERT_EQ(p.size(), 2u);
        pids.insert(pids.end(), p.begin(), p.end());
    }
    std::string plain = spawn(server, "exec sleep 1000");
    pids.push_back(static_cast<pid_t>(server.get("/api/pty/" + plain).json()->getValue<int64_t>("pid")));
    int rc = server.stop();
    EXPECT_EQ(rc, 0);
    for (pid_t p : pids) EXPECT_TRUE(waitGone(p, 3000)) << "pid " << p << " survived the server";
}
