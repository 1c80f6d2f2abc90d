// terminal_bench: PTY → WebSocket throughput, keystroke echo round trip with 100 idle
// sessions open, and memory per idle session — for Atelier (real host + terminal module)
// and, side by side in the same run, a node-pty + ws baseline (bench/terminal/node-baseline).
//
//   terminal_bench [--mb 200] [--idle 100] [--samples 2000] [--no-node]
//                  [--atelier <bin>] [--modules-dir <dir>] [--node-dir <dir>]
#include "test_server.hpp"
#include "ws_client.hpp"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using atelier::terminal::testutil::RawWs;

struct Target {
    std::string name;
    int port = 0;
    pid_t pid = 0;
    std::string spawnPath;  // POST → {id}
    std::string wsPrefix;   // + id + wsSuffix
    std::string wsSuffix;
    std::string deletePrefix;
};

std::string quote(const std::string& in) {
    std::string out = "\"";
    for (char c : in) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

std::string httpCall(const Target& t, const std::string& method, const std::string& path, const std::string& body, int* status) {
    Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(t.port));
    s.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost("127.0.0.1", static_cast<Poco::UInt16>(t.port));
    req.setContentType("application/json");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse res;
    std::istream& is = s.receiveResponse(res);
    std::string out((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
    if (status) *status = res.getStatus();
    return out;
}

std::string spawn(const Target& t, const std::string& shellCommand) {
    int status = 0;
    std::string body = R"({"command":"/bin/sh","args":["-c",)" + quote(shellCommand) + R"(],"cwd":"/tmp","cols":120,"rows":40})";
    std::string out = httpCall(t, "POST", t.spawnPath, body, &status);
    if (status != 200) throw std::runtime_error(t.name + " spawn failed: " + std::to_string(status) + " " + out);
    return Poco::JSON::Parser().parse(out).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
}

std::unique_ptr<RawWs> connect(const Target& t, const std::string& id) {
    return std::make_unique<RawWs>(t.port, t.wsPrefix + id + t.wsSuffix, std::string(), 120);
}

bool isControl(const std::string& data, const char* type) {
    return data.rfind(std::string("{\"type\":\"") + type + "\"", 0) == 0;
}

long rssKb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

struct Results {
    double mbPerSec = 0;
    double p50 = 0, p99 = 0, mean = 0;
    double kbPerSession = 0;
    long rssIdleKb = 0;
};

// Memory per idle session and echo latency with `idle` sessions (each with a client) open.
void measureIdleAndEcho(const Target& t, int idle, int samples, Results& r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    long before = rssKb(t.pid);
    std::vector<std::unique_ptr<RawWs>> clients;
    std::vector<std::string> ids;
    for (int i = 0; i < idle; ++i) {
        ids.push_back(spawn(t, "exec cat"));
        clients.push_back(connect(t, ids.back()));
        clients.back()->next();  // restore
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    long after = rssKb(t.pid);
    r.rssIdleKb = after;
    r.kbPerSession = static_cast<double>(after - before) / idle;

    std::string id = spawn(t, "stty raw -echo; echo ready; exec cat");
    auto ws = connect(t, id);
    std::string seen;
    while (seen.find("ready") == std::string::npos) seen += ws->next().data;
    std::vector<double> lat;
    lat.reserve(static_cast<size_t>(samples));
    const char keys[] = "abcdefghijklmnopqrstuvwxyz";
    for (int i = 0; i < samples + 100; ++i) {
        char k = keys[i % 26];
        auto t0 = Clock::now();
        ws->text(std::string_view(&k, 1));
        while (ws->next().data.find(k) == std::string::npos) {
        }
        double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        if (i >= 100) lat.push_back(us);
    }
    std::sort(lat.begin(), lat.end());
    r.p50 = lat[lat.size() / 2] / 1000.0;
    r.p99 = lat[lat.size() * 99 / 100] / 1000.0;
    double sum = 0;
    for (double v : lat) sum += v;
    r.mean = sum / static_cast<double>(lat.size()) / 1000.0;
    int st;
    httpCall(t, "DELETE", t.deletePrefix + id, "", &st);
    for (auto& i2 : ids) httpCall(t, "DELETE", t.deletePrefix + i2, "", &st);
    for (auto& c : clients) c->close();
}

// A process writing as fast as it can; bytes received over the WebSocket per second.
void measureThroughput(const Target& t, size_t bytes, Results& r) {
    std::string line(63, 'x');
    std::string cmd = "stty -echo; read go; yes " + line + " | head -c " + std::to_string(bytes);
    std::string id = spawn(t, cmd);
    auto ws = connect(t, id);
    ws->next();  // restore
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto t0 = Clock::now();
    ws->text("go\r");
    size_t received = 0;
    try {
        while (true) {
            auto f = ws->next();
            if (f.op == RawWs::Close) break;
            if (f.op == RawWs::Text && isControl(f.data, "exit")) break;
            received += f.data.size();
        }
    } catch (const std::exception&) {  // the server closed the socket
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    r.mbPerSec = static_cast<double>(received) / (1024.0 * 1024.0) / secs;
    if (received < bytes) std::cerr << t.name << ": received only " << received << " of " << bytes << " bytes\n";
}

// Reference: the same writer on a PTY read by a plain blocking read() loop in this process
// (no event loop, no WebSocket). Blocking reads wake per ~4 KiB chunk, so this is not a
// ceiling; it shows what the PTY delivers on this machine at this moment.
double rawPtyCeiling(size_t bytes) {
    std::string cmd = "stty -echo; yes " + std::string(63, 'x') + " | head -c " + std::to_string(bytes);
    int master = -1;
    struct winsize wsz{};
    wsz.ws_col = 120;
    wsz.ws_row = 40;
    auto t0 = Clock::now();
    pid_t pid = forkpty(&master, nullptr, nullptr, &wsz);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    std::vector<char> buf(65536);
    size_t total = 0;
    while (true) {
        ssize_t n = read(master, buf.data(), buf.size());
        if (n <= 0) break;
        total += static_cast<size_t>(n);
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    close(master);
    int st;
    waitpid(pid, &st, 0);
    return static_cast<double>(total) / (1024.0 * 1024.0) / secs;
}

std::string loadAverage() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

pid_t startNode(const std::string& dir, int* port) {
    int out[2];
    if (pipe(out) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        if (chdir(dir.c_str()) != 0) _exit(127);
        setenv("SHELL", "/bin/sh", 1);
        execlp("node", "node", "server.js", "0", static_cast<char*>(nullptr));
        _exit(127);
    }
    close(out[1]);
    std::string text;
    char c;
    while (read(out[0], &c, 1) == 1) {
        if (c == '\n') {
            if (text.rfind("PORT=", 0) == 0) {
                *port = std::stoi(text.substr(5));
                break;
            }
            text.clear();
        } else {
            text.push_back(c);
        }
    }
    close(out[0]);
    if (*port == 0) {
        int st;
        waitpid(pid, &st, 0);
        return -1;
    }
    return pid;
}

void print(const std::string& name, const Results& r) {
    std::printf("%-22s %12.1f %10.3f %10.3f %10.3f %14.1f\n", name.c_str(), r.mbPerSec, r.p50, r.p99, r.mean, r.kbPerSession);
}

}  // namespace

int main(int argc, char** argv) {
    size_t mb = 200;
    int idle = 100, samples = 2000;
    bool node = true;
    std::string nodeDir = TERMINAL_NODE_BASELINE_DIR;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--mb") mb = std::stoul(next());
        else if (a == "--idle") idle = std::stoi(next());
        else if (a == "--samples") samples = std::stoi(next());
        else if (a == "--no-node") node = false;
        else if (a == "--node-dir") nodeDir = next();
    }
    signal(SIGPIPE, SIG_IGN);

    std::printf("terminal bench: %zu MiB streamed, %d idle sessions (each with a client), %d echo samples\n", mb, idle, samples);
    std::printf("%-22s %12s %10s %10s %10s %14s\n", "server", "MB/s", "echo p50", "echo p99", "echo mean", "KB/idle sess");
    std::printf("%-22s %12s %10s %10s %10s %14s\n", "", "", "ms", "ms", "ms", "(server RSS)");

    std::printf("machine: %u cores, load average %s\n", std::thread::hardware_concurrency(), loadAverage().c_str());
    double ceiling = rawPtyCeiling(mb * 1024 * 1024);
    std::printf("%-22s %12.1f   (same writer, PTY read by a blocking read() loop in-process; reference)\n", "plain read() loop", ceiling);
    Results at, nd;
    {
        std::string dataDir = atelier::test::makeTempDir("atelier-termbench-");
        std::ofstream(dataDir + "/config.json") << R"({"accessLog":false,"modules":{"config":{"terminal":{"maxSessions":)"
                                                << (idle + 16) << R"(}}}})";
        atelier::test::TestServer::Options opts;
        opts.dataDir = dataDir;
        opts.env["SHELL"] = "/bin/sh";
        atelier::test::TestServer server(opts);
        Target t{"atelier (C++)", server.port(), server.pid(), "/api/pty/spawn", "/api/terminals/", "/ws", "/api/terminals/"};
        measureIdleAndEcho(t, idle, samples, at);
        measureThroughput(t, mb * 1024 * 1024, at);
        print(t.name, at);
        server.stop();
        std::error_code ec;
        std::filesystem::remove_all(dataDir, ec);
    }
    if (node) {
        int port = 0;
        pid_t pid = std::filesystem::exists(nodeDir + "/node_modules/node-pty") ? startNode(nodeDir, &port) : -1;
        if (pid <= 0) {
            std::printf("%-22s not available: run `npm install` in %s (node-pty builds with node-gyp against /usr/include/node)\n",
                        "node-pty + ws", nodeDir.c_str());
        } else {
            Target t{"node-pty + ws (Node)", port, pid, "/spawn", "/ws/", "", "/sessions/"};
            try {
                measureIdleAndEcho(t, idle, samples, nd);
                measureThroughput(t, mb * 1024 * 1024, nd);
                print(t.name, nd);
            } catch (const std::exception& e) {
                std::printf("node baseline failed: %s\n", e.what());
            }
            kill(-pid, SIGTERM);
            int st;
            waitpid(pid, &st, 0);
            if (nd.mbPerSec > 0) {
                std::printf("\nratios (atelier / node): throughput x%.2f, echo p50 x%.2f faster, echo p99 x%.2f faster, "
                            "memory per idle session x%.2f smaller\n",
                            at.mbPerSec / nd.mbPerSec, nd.p50 / at.p50, nd.p99 / at.p99,
                            at.kbPerSession > 0 ? nd.kbPerSession / at.kbPerSession : 0.0);
            }
        }
    }
    std::printf("atelier throughput = %.2fx the plain read() loop measured in this run\n", ceiling > 0 ? at.mbPerSec / ceiling : 0.0);
    std::printf("targets: throughput >= 100 MB/s -> %s; echo p99 < 5 ms with %d idle sessions -> %s\n",
                at.mbPerSec >= 100 ? "met" : "NOT met", idle, at.p99 < 5 ? "met" : "NOT met");
    return 0;
}
