// devservers over the real host with the real projects, worktrees and config modules:
// real git worktrees, real dev-server processes, real sockets, SSE, and a host restart.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "test_server.hpp"
#include "wait.hpp"

using namespace atelier::test;
using namespace std::chrono_literals;

namespace {

const char* kServerScript = R"PY(import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print("hit", self.path, flush=True)
        body = ("%s %s" % (os.environ.get("ATELIER_WORKTREE_ID"), os.environ.get("PORT"))).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
print("listening", os.environ["PORT"], flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
)PY";

std::string httpGet(int port, const std::string& path = "/") {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return "";
    }
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
    [[maybe_unused]] auto w = ::write(fd, req.data(), req.size());
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    auto body = out.find("\r\n\r\n");
    return body == std::string::npos ? out : out.substr(body + 4);
}

bool alive(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    if (!std::getline(in, s)) return false;
    auto rp = s.rfind(')');
    return rp != std::string::npos && s[rp + 2] != 'Z';
}

using atelier::test::waitFor;

bool bindable(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// A random base port whose next 10 ports are free right now.
int randomPort() {
    static std::mt19937 rng{std::random_device{}()};
    while (true) {
        int p = 20000 + static_cast<int>(rng() % 20000);
        bool ok = true;
        for (int i = 0; i <= 10 && ok; ++i) ok = bindable(p + i);
        if (ok) return p;
    }
}

TestServer::Options serverOptions(const std::string& dataDir = {}) {
    TestServer::Options o;
    o.env["SHELL"] = "/bin/sh";  // this machine's bash login profile takes seconds
    o.dataDir = dataDir;
    return o;
}

struct Project {
    std::string id, repo, q;
    int port = 0;
};

Project makeProject(TestServer& s) {
    Project p;
    p.repo = makeGitRepo({{"README.md", "# app\n"}, {"server.py", kServerScript}});
    auto r = s.post("/api/projects", R"({"name":"app )" + std::to_string(randomPort()) + R"(","local_path":")" + p.repo + "\"}");
    if (r.status != 201) throw std::runtime_error("project: " + r.body);
    p.id = r.json()->getValue<std::string>("id");
    p.q = "?project=" + p.id;
    p.port = randomPort();
    r = s.patch("/api/config" + p.q, R"({"startCommand":"python3 -u server.py","ports":{"discovered":[)" +
                                          std::to_string(p.port) + R"(]},"devServer":{"stopGraceMs":3000}})");
    if (r.status != 200) throw std::runtime_error("config: " + r.body);
    return p;
}

void makeWorktree(TestServer& s, const Project& p, const std::string& id) {
    auto r = s.post("/api/worktrees" + p.q, R"({"branch":"feature/)" + id + "\"}");
    if (r.status != 201) throw std::runtime_error("worktree: " + r.body);
    bool ready = waitFor([&] {
        auto g = s.get("/api/worktrees/" + id + p.q);
        return g.status == 200 && g.json()->optValue<std::string>("status", "") != "creating";
    });
    if (!ready) throw std::runtime_error("worktree " + id + " not created");
}

Poco::JSON::Object::Ptr devserver(TestServer& s, const Project& p, const std::string& id) {
    auto list = s.get("/api/devservers" + p.q).json()->getArray("devservers");
    for (size_t i = 0; i < list->size(); ++i)
        if (list->getObject(i)->getValue<std::string>("worktreeId") == id) return list->getObject(i);
    return nullptr;
}

}  // namespace

TEST(DevServersIT, TwoWorktreesAnswerSideBySideAndLogsReachSseFast) {
    TestServer s(serverOptions());
    auto p = makeProject(s);
    makeWorktree(s, p, "one");
    makeWorktree(s, p, "two");
    auto a = s.post("/api/worktrees/one/start" + p.q);
    ASSERT_EQ(a.status, 200) << a.body << s.logText();
    auto b = s.post("/api/worktrees/two/start" + p.q);
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(a.json()->getValue<int>("offset"), 1);
    EXPECT_EQ(b.json()->getValue<int>("offset"), 2);
    ASSERT_TRUE(waitFor([&] {
        auto x = devserver(s, p, "one"), y = devserver(s, p, "two");
        return x && y && x->getValue<std::string>("status") == "running" && y->getValue<std::string>("status") == "running";
    }));
    EXPECT_EQ(httpGet(p.port + 1), "one " + std::to_string(p.port + 1));
    EXPECT_EQ(httpGet(p.port + 2), "two " + std::to_string(p.port + 2));

    // a new line reaches an SSE client within 250 ms
    SseClient sse(s.port(), "/api/worktrees/one/logs/stream" + p.q);
    ASSERT_EQ(sse.status(), 200);
    auto first = sse.nextData();
    EXPECT_EQ(first.event, "logs");
    EXPECT_NE(first.data.find("listening"), std::string::npos);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(httpGet(p.port + 1, "/ping-42").empty());
    bool got = false;
    while (!got) {
        auto m = sse.nextData();
        if (m.event == "log" && m.data.find("hit /ping-42") != std::string::npos) got = true;
    }
    auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    EXPECT_LT(latency.count(), 250) << "log line latency " << latency.count() << " ms";

    // the logs routes: ours, and the worktrees module's with our lines through the hook
    auto logs = s.get("/api/devservers/one/logs" + p.q);
    ASSERT_EQ(logs.status, 200);
    EXPECT_NE(logs.body.find("hit /ping-42"), std::string::npos);
    auto wtLogs = s.get("/api/worktrees/one/logs" + p.q);
    ASSERT_EQ(wtLogs.status, 200) << wtLogs.body;
    EXPECT_NE(wtLogs.body.find("hit /ping-42"), std::string::npos) << wtLogs.body;
    // one owner per route: the start-up registers nothing twice
    EXPECT_EQ(s.logText().find("route already registered"), std::string::npos) << s.logText();

    // removing a worktree stops its dev server (worktree.removing hook)
    int pidTwo = devserver(s, p, "two")->getValue<int>("pid");
    auto del = s.del("/api/worktrees/two" + p.q);
    EXPECT_EQ(del.status, 200) << del.body;
    EXPECT_FALSE(alive(pidTwo));

    auto stop = s.post("/api/worktrees/one/stop" + p.q);
    ASSERT_EQ(stop.status, 200) << stop.body;
    EXPECT_EQ(stop.json()->getValue<std::string>("status"), "stopped");
    EXPECT_EQ(httpGet(p.port + 1), "");
    // status transitions are on the bus
    auto events = s.get("/api/events?event_type=devserver.status&limit=100").jsonArray();
    ASSERT_TRUE(events);
    EXPECT_GE(events->size(), 6u);
}

TEST(DevServersIT, OffsetsSurviveAHostRestartAndNothingIsLeftOnShutdown) {
    std::string dataDir = makeTempDir("atelier-ds-restart-");
    int pidOne = 0;
    Project p;
    {
        TestServer s(serverOptions(dataDir));
        p = makeProject(s);
        makeWorktree(s, p, "one");
        makeWorktree(s, p, "two");
        auto a = s.post("/api/worktrees/one/start" + p.q);
        ASSERT_EQ(a.status, 200) << a.body;
        pidOne = a.json()->getValue<int>("pid");
        ASSERT_TRUE(waitFor([&] { return !httpGet(p.port + 1).empty(); }));
        ::kill(s.pid(), SIGKILL);  // crash: the child lives on in its own session
        s.stop();
    }
    ASSERT_TRUE(alive(pidOne));
    {
        TestServer s(serverOptions(dataDir));
        auto one = devserver(s, p, "one");
        ASSERT_TRUE(one) << s.get("/api/devservers").body << s.logText();
        EXPECT_EQ(one->getValue<std::string>("status"), "running");
        EXPECT_EQ(one->getValue<int>("offset"), 1);
        EXPECT_EQ(one->getValue<int>("pid"), pidOne);
        auto b = s.post("/api/worktrees/two/start" + p.q);
        ASSERT_EQ(b.status, 200) << b.body;
        EXPECT_EQ(b.json()->getValue<int>("offset"), 2) << "offset 1 is still held by the re-attached process";
        int pidTwo = b.json()->getValue<int>("pid");
        ASSERT_TRUE(waitFor([&] { return !httpGet(p.port + 2).empty(); }));
        // a graceful shutdown stops everything
        s.stop();
        EXPECT_FALSE(alive(pidOne));
        EXPECT_FALSE(alive(pidTwo));
        EXPECT_EQ(httpGet(p.port + 2), "");
    }
    {
        TestServer s(serverOptions(dataDir));
        EXPECT_EQ(s.get("/api/devservers").json()->getArray("devservers")->size(), 0u);
    }
    fs::remove_all(dataDir);
}

TEST(DevServersIT, ValidationOverTheWire) {
    TestServer s(serverOptions());
    auto p = makeProject(s);
    auto r = s.post("/api/worktrees/ghost/start" + p.q);
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(r.json()->getValue<bool>("success"), false);
    r = s.post("/api/worktrees/root/stop" + p.q);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "NOT_RUNNING");
    r = s.post("/api/discover" + p.q, "{bad");
    EXPECT_EQ(r.status, 400);
    r = s.get("/api/ports" + p.q);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()->getArray("discovered")->getElement<int>(0), p.port);
    r = s.post("/api/worktrees/root/open" + p.q, R"({"target":"notepad"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "INVALID_TARGET");
}

TEST(DevServersIT, CrashIsRecordedInTheActivityFeed) {
    TestServer s(serverOptions());
    auto p = makeProject(s);
    ASSERT_EQ(s.patch("/api/config" + p.q, R"({"startCommand":"echo going down; exit 7"})").status, 200);
    auto r = s.post("/api/worktrees/root/start" + p.q);
    ASSERT_EQ(r.status, 200) << r.body;
    Poco::JSON::Object::Ptr entry;
    ASSERT_TRUE(waitFor([&] {
        auto feed = s.get("/api/activity?category=worktree").body;
        auto arr = Poco::JSON::Parser().parse(feed);
        Poco::JSON::Array::Ptr list;
        if (arr.type() == typeid(Poco::JSON::Array::Ptr)) list = arr.extract<Poco::JSON::Array::Ptr>();
        else if (auto o = arr.extract<Poco::JSON::Object::Ptr>()) for (auto& [k, v] : *o) if (v.type() == typeid(Poco::JSON::Array::Ptr)) list = v.extract<Poco::JSON::Array::Ptr>();
        if (!list) return false;
        for (size_t i = 0; i < list->size(); ++i) {
            auto e = list->getObject(static_cast<unsigned>(i));
            if (e && e->optValue<std::string>("type", "") == "crashed") entry = e;
        }
        return entry != nullptr;
    })) << s.get("/api/activity?category=worktree").body;
    EXPECT_EQ(entry->getValue<std::string>("severity"), "error");
    EXPECT_EQ(entry->getValue<std::string>("worktreeId"), "root");
    EXPECT_NE(entry->getValue<std::string>("detail").find("code 7"), std::string::npos);
    EXPECT_NE(entry->getValue<std::string>("detail").find("going down"), std::string::npos);
    auto logs = s.get("/api/devservers/root/logs" + p.q).json()->getArray("logs");
    ASSERT_EQ(logs->size(), 1u);
    EXPECT_EQ(logs->getElement<std::string>(0), "going down");
}
