// Benchmark for the devservers module, run in process over the SDK fake host:
//   1. start N worktrees' dev servers at once (python3 HTTP servers on offset ports) and time
//      until every one answers an HTTP request;
//   2. log capture from a chatty process: lines/s captured (ring + log file, none dropped)
//      and this process's CPU use while capturing.
// Usage: devservers_bench [servers=20] [lines=2000000]
#include <atelier/testing/fake_host.hpp>
#include <atelier/util.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

struct World {
    std::string projectPath;
    std::map<std::string, std::string> worktrees;
    std::string config = "{}";
} world;

class Collaborators : public atelier::Module {
public:
    void init() override {
        get("/api/active-project", "", [](atelier::Request&, atelier::Response& res) {
            auto o = atelier::makeObject();
            o->set("id", "bench");
            o->set("name", "bench");
            o->set("local_path", world.projectPath);
            res.json(o);
        });
        get("/api/worktrees/:id", "", [](atelier::Request& req, atelier::Response& res) {
            auto o = atelier::makeObject();
            o->set("id", req.param("id"));
            o->set("path", world.worktrees.at(req.param("id")));
            res.json(o);
        });
        get("/api/config", "", [](atelier::Request&, atelier::Response& res) {
            res.text("{\"config\":" + world.config + "}", 200, "application/json");
        });
        post("/api/activity", "", [](atelier::Request&, atelier::Response& res) { res.json(atelier::makeObject(), 201); });
    }
};

const atelier_module_v1* collaborators() {
    static const atelier_module_v1 t = [] {
        auto t = atelier::initStruct<atelier_module_v1>();
        t.id = "bench-fakes";
        t.version = "0.1.0";
        t.description = "";
        t.init = &atelier::ModuleGlue::init<Collaborators>;
        t.start = &atelier::ModuleGlue::start;
        t.stop = &atelier::ModuleGlue::stop;
        t.destroy = &atelier::ModuleGlue::destroy;
        return t;
    }();
    return &t;
}

bool answers(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        const char req[] = "GET / HTTP/1.0\r\n\r\n";
        if (::write(fd, req, sizeof req - 1) > 0) {
            char buf[64];
            ok = ::read(fd, buf, sizeof buf) > 0 && std::string(buf, 12).find("200") != std::string::npos;
        }
    }
    ::close(fd);
    return ok;
}

double cpuSeconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    int servers = argc > 1 ? std::atoi(argv[1]) : 20;
    long lines = argc > 2 ? std::atol(argv[2]) : 2000000;
    if (!std::getenv("ATELIER_BENCH_KEEP_SHELL")) setenv("SHELL", "/bin/sh", 1);
    fs::path root = fs::temp_directory_path() / ("atelier-ds-bench-" + atelier::randomHex(6));
    fs::create_directories(root / "project");
    world.projectPath = (root / "project").string();
    for (int i = 0; i < servers; ++i) {
        std::string id = "wt" + std::to_string(i);
        fs::create_directories(root / id);
        world.worktrees[id] = (root / id).string();
    }
    fs::create_directories(root / "chatty");
    world.worktrees["chatty"] = (root / "chatty").string();
    std::ofstream(root / "server.py")
        << "import http.server, os\n"
           "class H(http.server.BaseHTTPRequestHandler):\n"
           "    def do_GET(self):\n"
           "        self.send_response(200); self.send_header('Content-Length','2'); self.end_headers(); self.wfile.write(b'ok')\n"
           "    def log_message(self, *a): pass\n"
           "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n";
    std::random_device rd;
    int base = 21000 + static_cast<int>(rd() % 15000);

    atelier::testing::FakeHost host;
    host.load(collaborators());
    host.load(atelier_module_entry_v1());

    // ---- 1. N servers at once
    world.config = R"({"startCommand":"exec python3 )" + (root / "server.py").string() + R"(","projectDir":".","ports":{"discovered":[)" +
                   std::to_string(base) + R"(],"offsetStep":1},"envMapping":{},"devServer":{"logLines":1000,"stopGraceMs":3000,"readyTimeoutMs":60000}})";
    auto t0 = steady_clock::now();
    std::vector<int> ports;
    for (int i = 0; i < servers; ++i) {
        auto r = host.request("POST", "/api/worktrees/wt" + std::to_string(i) + "/start");
        if (r.status != 200) {
            std::fprintf(stderr, "start failed: %s\n", r.body.c_str());
            return 1;
        }
        ports.push_back(r.json()->getValue<int>("port"));
    }
    auto spawned = steady_clock::now();
    std::vector<bool> up(ports.size(), false);
    size_t upCount = 0;
    while (upCount < ports.size() && steady_clock::now() - t0 < seconds(120)) {
        for (size_t i = 0; i < ports.size(); ++i)
            if (!up[i] && answers(ports[i])) {
                up[i] = true;
                ++upCount;
            }
        if (upCount < ports.size()) std::this_thread::sleep_for(milliseconds(5));
    }
    auto allUp = steady_clock::now();
    std::printf("dev servers started at once: %d (shell %s)\n", servers, std::getenv("SHELL"));
    std::printf("  all spawn requests answered: %.1f ms\n", duration<double, std::milli>(spawned - t0).count());
    std::printf("  all %zu/%d answering HTTP:   %.1f ms\n", upCount, servers, duration<double, std::milli>(allUp - t0).count());
    auto s0 = steady_clock::now();
    for (int i = 0; i < servers; ++i) host.request("POST", "/api/worktrees/wt" + std::to_string(i) + "/stop");
    std::printf("  stopping all (sequential):   %.1f ms\n", duration<double, std::milli>(steady_clock::now() - s0).count());

    // ---- 2. chatty process
    world.config = R"({"startCommand":"seq -f 'chatty dev server log line number %.0f with some payload text' 1 )" +
                   std::to_string(lines) +
                   R"(","projectDir":".","ports":{"discovered":[)" + std::to_string(base + 500) +
                   R"(],"offsetStep":1},"envMapping":{},"devServer":{"logLines":1000,"logFileMaxBytes":4294967296,"logFileKeep":1,"stopGraceMs":3000,"readyTimeoutMs":60000}})";
    double c0 = cpuSeconds();
    auto l0 = steady_clock::now();
    auto r = host.request("POST", "/api/worktrees/chatty/start");
    if (r.status != 200) {
        std::fprintf(stderr, "chatty start failed: %s\n", r.body.c_str());
        return 1;
    }
    std::string want = "chatty dev server log line number " + std::to_string(lines) + " with some payload text";
    bool done = false;
    while (!done && steady_clock::now() - l0 < seconds(300)) {
        std::this_thread::sleep_for(milliseconds(10));
        for (auto& e : host.events())
            if (e.type == "devserver.status" && e.payloadJson()->optValue<std::string>("worktreeId", "") == "chatty" &&
                e.payloadJson()->optValue<std::string>("status", "") == "stopped")
                done = true;
    }
    auto l1 = steady_clock::now();
    double c1 = cpuSeconds();
    auto logs = host.request("GET", "/api/worktrees/chatty/logs").json()->getArray("logs");
    bool lastOk = logs->size() == 1000 && logs->getElement<std::string>(999) == want;
    long fileLines = 0;
    {
        std::ifstream in(root / "chatty/.atelier/logs/devserver.log", std::ios::binary);
        std::string chunk(1 << 20, '\0');
        while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
            for (std::streamsize i = 0; i < in.gcount(); ++i)
                if (chunk[static_cast<size_t>(i)] == '\n') ++fileLines;
        }
    }
    double secs = duration<double>(l1 - l0).count();
    std::printf("log capture from a chatty process (%ld lines, ~60 bytes each):\n", lines);
    std::printf("  captured %ld lines to the log file, ring ends with the last line: %s\n", fileLines, lastOk ? "yes" : "NO");
    std::printf("  %.0f lines/s (%.2f s from start to exit delivered)\n", static_cast<double>(lines) / secs, secs);
    std::printf("  server CPU while capturing: %.2f s = %.0f%% of one core\n", c1 - c0, 100.0 * (c1 - c0) / secs);
    host.unloadAll();
    fs::remove_all(root);
    return lastOk && fileLines == lines ? 0 : 2;
}
