// devservers through the fake host with real processes, real ports and real /proc.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atelier/testing/fake_host.hpp>
#include <atelier/util.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "fakes.hpp"
#include "wait.hpp"

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace fs = std::filesystem;
using atelier::testing::FakeHost;
using atelier::testing::FakeWorld;
using namespace std::chrono_literals;

namespace {

// A tiny HTTP server on $PORT answering "<name> <PORT> <ATELIER_PORT_OFFSET> <API_URL>".
const char* kServerScript = R"PY(
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s %s %s %s" % (os.path.basename(os.getcwd()), os.environ.get("PORT"), os.environ.get("ATELIER_PORT_OFFSET"), os.environ.get("API_URL", ""))).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
print("listening on", os.environ["PORT"], flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
)PY";

std::string httpGet(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return "";
    }
    std::string req = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
    [[maybe_unused]] auto w = ::write(fd, req.data(), req.size());
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    auto body = out.find("\r\n\r\n");
    return body == std::string::npos ? out : out.substr(body + 4);
}

bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH) && fs::exists("/proc/" + std::to_string(pid)) && [&] {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    std::getline(in, s);
    auto rp = s.rfind(')');
    return rp != std::string::npos && s[rp + 2] != 'Z';
}(); }

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

// A random base port whose next 40 ports are free right now (other suites run concurrently).
int basePort() {
    static std::mt19937 rng{std::random_device{}()};
    while (true) {
        int p = 20000 + static_cast<int>(rng() % 20000);
        bool ok = true;
        for (int i = 0; i <= 40 && ok; ++i) ok = bindable(p + i);
        if (ok) return p;
    }
}

class DevServersTest : public ::testing::Test {
protected:
    void SetUp() override {
        // The user's login shell may be slow to start (profiles); tests use /bin/sh.
        setenv("SHELL", "/bin/sh", 1);
        root = fs::temp_directory_path() / ("atelier-ds-" + atelier::randomHex(8));
        fs::create_directories(root / "project");
        auto& w = FakeWorld::get();
        w.projectPath = (root / "project").string();
        w.worktrees.clear();
        w.activity.clear();
        w.config = atelier::makeObject();
        std::ofstream(root / "server.py") << kServerScript;
        for (const char* id : {"alpha", "beta", "gamma"}) addWorktree(id);
        port = basePort();
        setConfig("python3 -u " + (root / "server.py").string(), {port});
        host.load(atelier::testing::fakeCollaboratorsEntry());
        host.load(atelier_module_entry_v1());
    }
    void TearDown() override {
        host.unloadAll();
        fs::remove_all(root);
    }
    void addWorktree(const std::string& id) {
        fs::create_directories(root / id);
        FakeWorld::get().worktrees[id] = (root / id).string();
    }
    void setConfig(const std::string& cmd, std::vector<int> ports, const std::string& extraJson = "") {
        std::string p = "[";
        for (size_t i = 0; i < ports.size(); ++i) p += (i ? "," : "") + std::to_string(ports[i]);
        p += "]";
        auto& w = FakeWorld::get();
        std::lock_guard lock(w.mu);
        w.config = atelier::parseObject(R"({"startCommand":)" + atelier::toJson(Poco::Dynamic::Var(cmd)) +
                                        R"(,"projectDir":".","ports":{"discovered":)" + p +
                                        R"(,"offsetStep":1},"envMapping":{"API_URL":"http://localhost:${)" +
                                        std::to_string(ports.empty() ? 3000 : ports[0]) +
                                        R"(}/api"},"devServer":{"logLines":1000,"logFileMaxBytes":5242880,"logFileKeep":3,"stopGraceMs":3000,"readyTimeoutMs":20000})" +
                                        extraJson + "}");
    }
    atelier::JsonObject server(const std::string& id) {
        auto r = host.request("GET", "/api/devservers");
        auto list = r.json()->getArray("devservers");
        for (size_t i = 0; i < list->size(); ++i)
            if (list->getObject(i)->getValue<std::string>("worktreeId") == id) return list->getObject(i);
        return nullptr;
    }
    std::string status(const std::string& id) {
        auto s = server(id);
        return s ? s->getValue<std::string>("status") : "stopped";
    }
    fs::path root;
    int port = 0;
    FakeHost host;
};

}  // namespace

TEST_F(DevServersTest, StartRunStopRealProcess) {
    auto r = host.request("POST", "/api/worktrees/alpha/start");
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    EXPECT_TRUE(o->getValue<bool>("success"));
    EXPECT_EQ(o->getValue<std::string>("status"), "starting");
    EXPECT_EQ(o->getValue<int>("offset"), 1);
    EXPECT_EQ(o->getValue<int>("port"), port + 1);
    pid_t pid = o->getValue<int>("pid");
    EXPECT_TRUE(alive(pid));
    ASSERT_TRUE(waitFor([&] { return status("alpha") == "running"; }))
        << host.request("GET", "/api/devservers/alpha/logs").body;
    EXPECT_EQ(httpGet(port + 1), "alpha " + std::to_string(port + 1) + " 1 http://localhost:" + std::to_string(port + 1) + "/api");
    EXPECT_TRUE(waitFor([&] {
        auto logs = host.request("GET", "/api/devservers/alpha/logs").json()->getArray("logs");
        return logs->size() == 1 && logs->getElement<std::string>(0) == "listening on " + std::to_string(port + 1);
    }));

    EXPECT_EQ(host.request("POST", "/api/worktrees/alpha/start").status, 400);  // already running
    r = host.request("POST", "/api/worktrees/alpha/stop");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()->getValue<std::string>("status"), "stopped");
    EXPECT_FALSE(r.json()->getValue<bool>("crashed"));
    EXPECT_FALSE(alive(pid));
    EXPECT_EQ(httpGet(port + 1), "");
    r = host.request("POST", "/api/worktrees/alpha/stop");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "NOT_RUNNING");

    std::vector<std::string> statuses;
    for (auto& e : host.events())
        if (e.type == "devserver.status") {
            auto p = e.payloadJson();
            EXPECT_EQ(p->getValue<std::string>("worktreeId"), "alpha");
            EXPECT_EQ(e.projectId, "p1");
            statuses.push_back(p->getValue<std::string>("status"));
        }
    EXPECT_EQ(statuses, (std::vector<std::string>{"starting", "running", "stopped"}));
    // the log file under the worktree
    std::ifstream log(root / "alpha/.atelier/logs/devserver.log");
    std::stringstream ss;
    ss << log.rdbuf();
    EXPECT_NE(ss.str().find("listening on"), std::string::npos);
}

TEST_F(DevServersTest, TwoWorktreesSideBySideAndOffsetReuse) {
    ASSERT_EQ(host.request("POST", "/api/worktrees/alpha/start").status, 200);
    auto b = host.request("POST", "/api/worktrees/beta/start");
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(b.json()->getValue<int>("offset"), 2);
    ASSERT_TRUE(waitFor([&] { return status("alpha") == "running" && status("beta") == "running"; }));
    EXPECT_EQ(httpGet(port + 1).substr(0, 6), "alpha ");
    EXPECT_EQ(httpGet(port + 2).substr(0, 5), "beta ");
    auto ports = host.request("GET", "/api/ports").json();
    EXPECT_EQ(ports->getArray("discovered")->getElement<int>(0), port);
    EXPECT_EQ(ports->getValue<int>("offsetStep"), 1);
    EXPECT_EQ(ports->getArray("allocations")->size(), 2u);

    ASSERT_EQ(host.request("POST", "/api/worktrees/alpha/stop").status, 200);
    auto g = host.request("POST", "/api/worktrees/gamma/start");
    ASSERT_EQ(g.status, 200);
    EXPECT_EQ(g.json()->getValue<int>("offset"), 1) << "the smallest free offset is reused";
    ASSERT_TRUE(waitFor([&] { return status("gamma") == "running"; }));
    EXPECT_EQ(httpGet(port + 1).substr(0, 6), "gamma ");
}

TEST_F(DevServersTest, OffsetStepAndBusyPortsAreSkipped) {
    setConfig("python3 -u " + (root / "server.py").string(), {port}, "");
    {
        auto& w = FakeWorld::get();
        std::lock_guard lock(w.mu);
        w.config->getObject("ports")->set("offsetStep", 10);
    }
    // something else already listens on port+10
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port + 10));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::listen(fd, 1);
    auto r = host.request("POST", "/api/worktrees/alpha/start");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()->getValue<int>("offset"), 20);
    EXPECT_EQ(r.json()->getValue<int>("port"), port + 20);
    ::close(fd);
}

TEST_F(DevServersTest, CrashIsDetectedAndReported) {
    setConfig("echo about to fail; echo oops >&2; exit 3", {port});
    auto r = host.request("POST", "/api/worktrees/beta/start");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(waitFor([&] {
        std::lock_guard lock(FakeWorld::get().mu);
        return !FakeWorld::get().activity.empty();
    }));
    auto act = atelier::parseObject(FakeWorld::get().activity.front());
    EXPECT_EQ(act->getValue<std::string>("category"), "worktree");
    EXPECT_EQ(act->getValue<std::string>("severity"), "error");
    EXPECT_EQ(act->getValue<std::string>("type"), "crashed");
    EXPECT_EQ(act->getValue<std::string>("worktreeId"), "beta");
    EXPECT_NE(act->getValue<std::string>("detail").find("code 3"), std::string::npos);
    EXPECT_NE(act->getValue<std::string>("detail").find("oops"), std::string::npos);
    auto logs = host.request("GET", "/api/devservers/beta/logs").json()->getArray("logs");
    ASSERT_EQ(logs->size(), 2u);
    EXPECT_EQ(logs->getElement<std::string>(0), "about to fail");
    // the status is visible through the decorate hook
    auto d = host.request("GET", "/api/devservers").json()->getArray("devservers");
    EXPECT_EQ(d->size(), 0u);
    bool sawCrash = false;
    for (auto& e : host.events())
        if (e.type == "devserver.status" && e.payloadJson()->getValue<std::string>("status") == "stopped") {
            EXPECT_TRUE(e.payloadJson()->getValue<bool>("crashed"));
            EXPECT_EQ(e.payloadJson()->getValue<int>("exitCode"), 3);
            sawCrash = true;
        }
    EXPECT_TRUE(sawCrash);
}

TEST_F(DevServersTest, LogRingIsBoundedAndFileRotates) {
    setConfig("i=0; while [ $i -lt 5000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; sleep 30", {port},
              "");
    {
        auto& w = FakeWorld::get();
        std::lock_guard lock(w.mu);
        auto dev = w.config->getObject("devServer");
        dev->set("logLines", 100);
        dev->set("logFileMaxBytes", 16384);
        dev->set("logFileKeep", 2);
    }
    ASSERT_EQ(host.request("POST", "/api/worktrees/gamma/start").status, 200);
    atelier::JsonArray logs;
    ASSERT_TRUE(waitFor([&] {
        logs = host.request("GET", "/api/devservers/gamma/logs").json()->getArray("logs");
        return logs->size() == 100 && logs->getElement<std::string>(99).rfind("line-4999-", 0) == 0;
    })) << logs->size()
        << " " << (logs->size() ? logs->getElement<std::string>(logs->size() - 1) : "");
    EXPECT_EQ(logs->getElement<std::string>(0).rfind("line-4900-", 0), 0u);
    size_t published = 0;
    ASSERT_TRUE(waitFor([&] {
        published = 0;
        for (auto& e : host.events())
            if (e.type == "devserver.log")  // a burst beyond the per-batch cap is counted as dropped
                published += e.payloadJson()->getArray("lines")->size() + e.payloadJson()->getValue<size_t>("dropped");
        return published == 5000;
    })) << published;
    ASSERT_EQ(host.request("POST", "/api/worktrees/gamma/stop").status, 200);
    fs::path dir = root / "gamma/.atelier/logs";
    EXPECT_TRUE(fs::exists(dir / "devserver.log"));
    EXPECT_TRUE(fs::exists(dir / "devserver.log.1"));
    EXPECT_TRUE(fs::exists(dir / "devserver.log.2"));
    EXPECT_FALSE(fs::exists(dir / "devserver.log.3"));
    EXPECT_LE(fs::file_size(dir / "devserver.log.1"), 16384u);
    EXPECT_GT(fs::file_size(dir / "devserver.log.1"), 16000u);
    std::ifstream cur(dir / "devserver.log");
    std::stringstream ss;
    ss << cur.rdbuf();
    EXPECT_NE(ss.str().find("line-4999-"), std::string::npos);
}

TEST_F(DevServersTest, EnvironmentOfTheChild) {
    setConfig("env | grep -E '^(PORT|ATELIER_PORT_OFFSET|ATELIER_KNOWN_PORTS|API_URL|ATELIER_WORKTREE_ID)=' | sort; sleep 30",
              {port, port + 1000});
    ASSERT_EQ(host.request("POST", "/api/worktrees/alpha/start").status, 200);
    atelier::JsonArray logs;
    ASSERT_TRUE(waitFor([&] {
        logs = host.request("GET", "/api/devservers/alpha/logs").json()->getArray("logs");
        return logs->size() == 5;
    }));
    std::vector<std::string> got;
    for (size_t i = 0; i < logs->size(); ++i) got.push_back(logs->getElement<std::string>(i));
    auto p = std::to_string(port);
    EXPECT_EQ(got, (std::vector<std::string>{"API_URL=http://localhost:" + std::to_string(port + 1) + "/api",
                                             "ATELIER_KNOWN_PORTS=[" + p + "," + std::to_string(port + 1000) + "]",
                                             "ATELIER_PORT_OFFSET=1", "ATELIER_WORKTREE_ID=alpha",
                                             "PORT=" + std::to_string(port + 1)}));
}

TEST_F(DevServersTest, DiscoveryFindsPortsOfTheWholeProcessTree) {
    // the shell starts a child that starts a grandchild; both listen
    std::ofstream(root / "two.py") << "import socket, time, os, sys\n"
                                      "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
                                      "time.sleep(60)\n";
    int a = basePort(), b = a + 7;
    std::string cmd = "python3 " + (root / "two.py").string() + " " + std::to_string(a) + " & (sh -c 'python3 " +
                      (root / "two.py").string() + " " + std::to_string(b) + "' &) ; wait";
    setConfig(cmd, {});
    {
        auto& w = FakeWorld::get();
        std::lock_guard lock(w.mu);
        w.config->set("envMapping", atelier::makeObject());
    }
    std::ofstream(root / "project/.env") << "API_URL=http://localhost:" << a << "/v1\nOTHER=" << a << "9\n# x=" << a << "\n";
    auto r = host.request("POST", "/api/discover", R"({"timeoutMs":10000})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    EXPECT_TRUE(o->getValue<bool>("success")) << r.body;
    auto ports = o->getArray("ports");
    ASSERT_EQ(ports->size(), 2u) << r.body;
    EXPECT_EQ(ports->getElement<int>(0), a);
    EXPECT_EQ(ports->getElement<int>(1), b);
    // saved to the config, envMapping detected
    auto& w = FakeWorld::get();
    std::lock_guard lock(w.mu);
    EXPECT_EQ(w.config->getObject("ports")->getArray("discovered")->size(), 2u);
    EXPECT_EQ(w.config->getObject("envMapping")->getValue<std::string>("API_URL"), "http://localhost:${" + std::to_string(a) + "}/v1");
    EXPECT_FALSE(w.config->getObject("envMapping")->has("OTHER"));
    // nothing left listening
    EXPECT_TRUE(waitFor([&] { return httpGet(a).empty(); }, 3s));
}

TEST_F(DevServersTest, DetectEnv) {
    std::ofstream(root / "project/.env.local") << "export VITE_API=\"http://127.0.0.1:" << port << "\"\nNAME=x\n";
    fs::create_directories(root / "project/node_modules/x");
    std::ofstream(root / "project/node_modules/x/.env") << "SKIP=http://localhost:" << port << "\n";
    auto r = host.request("POST", "/api/detect-env");
    ASSERT_EQ(r.status, 200) << r.body;
    auto m = r.json()->getObject("envMapping");
    EXPECT_EQ(m->size(), 1u);
    EXPECT_EQ(m->getValue<std::string>("VITE_API"), "http://127.0.0.1:${" + std::to_string(port) + "}");
}

TEST_F(DevServersTest, HooksStopOnRemovalAndDecorateLists) {
    ASSERT_EQ(host.request("POST", "/api/worktrees/alpha/start").status, 200);
    ASSERT_TRUE(waitFor([&] { return status("alpha") == "running"; }));
    pid_t pid = server("alpha")->getValue<int>("pid");
    // decorate
    std::string payload = R"({"worktrees":[{"id":"alpha","projectId":"p1","path":")" + (root / "alpha").string() +
                          R"("},{"id":"beta","projectId":"p1","path":")" + (root / "beta").string() + R"("}]})";
    std::string out = host.request("POST", "/api/test-hook/worktrees.decorate", payload).body;
    auto d = atelier::parseObject(out)->getArray("worktrees");
    EXPECT_EQ(d->getObject(0)->getValue<std::string>("status"), "running");
    EXPECT_EQ(d->getObject(0)->getValue<int>("port"), port + 1);
    EXPECT_EQ(d->getObject(0)->getValue<int>("offset"), 1);
    EXPECT_EQ(d->getObject(0)->getValue<int>("pid"), pid);
    EXPECT_EQ(d->getObject(1)->getValue<std::string>("status"), "stopped");
    EXPECT_TRUE(d->getObject(1)->isNull("port"));
    // removal
    payload = R"({"projectId":"p1","worktreeId":"alpha","path":"x","stoppedProcesses":0,"closedTerminals":0})";
    out = host.request("POST", "/api/test-hook/worktree.removing", payload).body;
    EXPECT_EQ(atelier::parseObject(out)->getValue<int>("stoppedProcesses"), 1);
    EXPECT_FALSE(alive(pid));
}

TEST_F(DevServersTest, NothingIsLeftBehindWhenTheModuleStops) {
    setConfig("sleep 300 & python3 -u " + (root / "server.py").string(), {port});
    ASSERT_EQ(host.request("POST", "/api/worktrees/alpha/start").status, 200);
    ASSERT_EQ(host.request("POST", "/api/worktrees/beta/start").status, 200);
    ASSERT_TRUE(waitFor([&] { return status("alpha") == "running" && status("beta") == "running"; }));
    pid_t a = server("alpha")->getValue<int>("pid"), b = server("beta")->getValue<int>("pid");
    auto t0 = std::chrono::steady_clock::now();
    host.unloadAll();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 6s);
    EXPECT_FALSE(alive(a));
    EXPECT_FALSE(alive(b));
    // no member of either process group is left (the background `sleep 300` included)
    std::string out;
    FILE* f = popen(("ps -e -o pgid=,stat= | awk '$1==" + std::to_string(a) + " || $1==" + std::to_string(b) + "' | grep -v Z").c_str(), "r");
    char buf[256];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
    EXPECT_EQ(out, "");
}

TEST_F(DevServersTest, ValidationAndUnknownIds) {
    auto r = host.request("POST", "/api/worktrees/nope/start");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "WORKTREE_NOT_FOUND");
    EXPECT_EQ(host.request("GET", "/api/devservers/nope/logs").status, 404);
    setConfig("", {port});
    r = host.request("POST", "/api/worktrees/alpha/start");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "NO_START_COMMAND");
    EXPECT_EQ(host.request("GET", "/api/devservers/alpha/logs").json()->getArray("logs")->size(), 0u);
    setConfig("true", {port});
    {
        auto& w = FakeWorld::get();
        std::lock_guard lock(w.mu);
        w.config->set("projectDir", "../..");
    }
    r = host.request("POST", "/api/worktrees/alpha/start");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "INVALID_PROJECT_DIR");
    EXPECT_EQ(host.request("POST", "/api/discover", R"({"timeoutMs":"x"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/discover", R"({"timeoutMs":1})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/worktrees/alpha/open", R"({"target":"emacs"})").status, 400);
    EXPECT_EQ(host.request("GET", "/api/ports?project=nope").status, 404);
}

TEST_F(DevServersTest, OpenTargetsDetectAndLaunch) {
    fs::path bin = root / "bin";
    fs::create_directories(bin);
    fs::path marker = root / "opened.txt";
    for (const char* name : {"code", "xdg-open"}) {
        std::ofstream(bin / name) << "#!/bin/sh\necho \"" << name << " $@ $(pwd)\" >> '" << marker.string() << "'\n";
        fs::permissions(bin / name, fs::perms::owner_all);
    }
    std::string oldPath = std::getenv("PATH");
    setenv("PATH", bin.c_str(), 1);
    auto r = host.request("GET", "/api/worktrees/alpha/open-targets");
    setenv("PATH", oldPath.c_str(), 1);
    ASSERT_EQ(r.status, 200) << r.body;
    auto targets = r.json()->getArray("targets");
    ASSERT_EQ(targets->size(), 2u) << r.body;
    EXPECT_EQ(targets->getObject(0)->getValue<std::string>("target"), "vscode");
    EXPECT_EQ(targets->getObject(0)->getValue<std::string>("label"), "VSCode");
    EXPECT_EQ(targets->getObject(1)->getValue<std::string>("target"), "file-manager");
    EXPECT_EQ(r.json()->getValue<std::string>("selectedTarget"), "vscode");

    setenv("PATH", bin.c_str(), 1);
    r = host.request("POST", "/api/worktrees/alpha/open", R"({"target":"file-manager"})");
    auto missing = host.request("POST", "/api/worktrees/alpha/open", R"({"target":"zed"})");
    setenv("PATH", oldPath.c_str(), 1);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.json()->getValue<std::string>("code"), "TARGET_NOT_AVAILABLE");
    ASSERT_TRUE(waitFor([&] { return fs::exists(marker); }));
    std::ifstream in(marker);
    std::string line;
    std::getline(in, line);
    auto wt = (root / "alpha").string();
    EXPECT_EQ(line, "xdg-open " + wt + " " + wt);
    std::lock_guard lock(FakeWorld::get().mu);
    EXPECT_EQ(FakeWorld::get().config->getValue<std::string>("openProjectTarget"), "file-manager");
}

TEST_F(DevServersTest, LogStreamAndFallbackLogRoute) {
    setConfig("echo hello-sse; echo second; exit 0", {port});
    auto r = host.request("GET", "/api/worktrees/beta/logs/stream");
    ASSERT_EQ(r.status, 200) << r.body;
    auto* stream = host.lastStream();
    ASSERT_NE(stream, nullptr);
    EXPECT_EQ(stream->contentType, "text/event-stream");
    EXPECT_NE(stream->written.find("event: logs\ndata: {\"logs\":[]}"), std::string::npos) << stream->written;
    ASSERT_EQ(host.request("POST", "/api/worktrees/beta/start").status, 200);
    ASSERT_TRUE(waitFor([&] {
        for (auto& e : host.events())
            if (e.type == "devserver.status" && e.payloadJson()->getValue<std::string>("status") == "stopped") return true;
        return false;
    }));
    EXPECT_TRUE(waitFor([&] {
        return stream->written.find(
                   "event: log\ndata: "
                   "{\"projectId\":\"p1\",\"worktreeId\":\"beta\",\"lines\":[\"hello-sse\",\"second\"]") !=
                   std::string::npos &&
               stream->written.find("event: status") != std::string::npos;
    })) << stream->written;
    // exit 0 without a stop request is not a crash
    EXPECT_EQ(FakeWorld::get().activity.size(), 0u);
    auto logs = host.request("GET", "/api/devservers/beta/logs").json()->getArray("logs");
    ASSERT_EQ(logs->size(), 2u);
    EXPECT_EQ(logs->getElement<std::string>(1), "second");
    auto hooked = atelier::parseObject(
        host.request("POST", "/api/test-hook/worktree.logs", R"({"projectId":"p1","worktreeId":"beta","logs":["created"]})").body);
    EXPECT_EQ(hooked->getArray("logs")->size(), 3u);
}
