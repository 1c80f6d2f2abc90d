// events_bench: starts `atelier serve`, opens N SSE clients (GET /api/events, text/event-stream)
// and M WebSocket clients (/ws, subscribed to "*"), publishes activity events at a fixed rate
// through POST /api/activity for a fixed time, and prints delivery latency (p50/p99/max),
// completeness, host RSS and thread count, and /api/health latency during the run.
//
//   events_bench [--sse 2000] [--ws 500] [--rate 200] [--seconds 30] [--binary path] [--modules-dir path]
//                [--host-config JSON]
//
// The host runs with the `events` module only (the event products are a module); settings
// of the fan-out go under modules.config.events, e.g. --host-config
// '{"modules":{"config":{"events":{"fanoutThreads":1}}}}'.
//
// Every client is served by one epoll thread of this program; latency is measured from the
// moment the publisher sends the request to the moment a client reads the event.
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

int64_t nowUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

struct Histogram {  // 10 µs buckets up to 10 s
    std::vector<uint64_t> b = std::vector<uint64_t>(1000001, 0);
    uint64_t n = 0;
    int64_t max = 0;
    void add(int64_t us) {
        if (us < 0) us = 0;
        max = std::max(max, us);
        b[static_cast<size_t>(std::min<int64_t>(us / 10, 1000000))]++;
        ++n;
    }
    double pct(double p) const {
        if (!n) return 0;
        uint64_t target = static_cast<uint64_t>(p * static_cast<double>(n));
        uint64_t seen = 0;
        for (size_t i = 0; i < b.size(); ++i) {
            seen += b[i];
            if (seen > target) return static_cast<double>(i) * 0.01;  // ms
        }
        return static_cast<double>(max) / 1000.0;
    }
};

struct Client {
    int fd = -1;
    bool ws = false;
    bool ready = false;  // headers received
    std::string buf;
    uint64_t received = 0;
};

const std::string kPattern = "\"title\":\"bench-";

struct ProcStat {
    long rssKb = 0;
    int threads = 0;
};
ProcStat procStat(pid_t pid) {
    ProcStat s;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) s.rssKb = std::stol(line.substr(6));
        if (line.rfind("Threads:", 0) == 0) s.threads = std::stoi(line.substr(8));
    }
    return s;
}

double cpuSeconds(pid_t pid) {  // utime + stime of a process
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i)
        if (i == 14 || i == 15) ticks += std::stod(field);
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double loadAverage() {
    std::ifstream in("/proc/loadavg");
    double l = 0;
    in >> l;
    return l;
}

int connectTo(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void sendAll(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

std::string maskedText(const std::string& text) {
    std::string f;
    f.push_back(static_cast<char>(0x81));
    f.push_back(static_cast<char>(0x80 | text.size()));  // < 126
    const unsigned char mask[4] = {1, 2, 3, 4};
    f.append(reinterpret_cast<const char*>(mask), 4);
    for (size_t i = 0; i < text.size(); ++i) f.push_back(static_cast<char>(text[i] ^ mask[i & 3]));
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    int nSse = 2000, nWs = 500, rate = 200, seconds = 30;
    std::string binary = ATELIER_BINARY;
    std::string modulesDir = ATELIER_MODULES_DIR;
    std::string hostConfig;  // JSON written to <data-dir>/config.json (modules.enabled is set to ["events"])
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--sse")
            nSse = std::atoi(argv[i + 1]);
        else if (a == "--ws")
            nWs = std::atoi(argv[i + 1]);
        else if (a == "--rate")
            rate = std::atoi(argv[i + 1]);
        else if (a == "--seconds")
            seconds = std::atoi(argv[i + 1]);
        else if (a == "--binary")
            binary = argv[i + 1];
        else if (a == "--modules-dir")
            modulesDir = argv[i + 1];
        else if (a == "--host-config")
            hostConfig = argv[i + 1];
    }
    signal(SIGPIPE, SIG_IGN);

    // ---- start the host
    char tmpl[] = "/tmp/atelier-events-bench-XXXXXX";
    std::string dataDir = mkdtemp(tmpl);
    {
        Poco::JSON::Object::Ptr cfg = new Poco::JSON::Object;
        if (!hostConfig.empty()) cfg = Poco::JSON::Parser().parse(hostConfig).extract<Poco::JSON::Object::Ptr>();
        Poco::JSON::Object::Ptr mods = cfg->getObject("modules");
        if (!mods) {
            mods = new Poco::JSON::Object;
            cfg->set("modules", mods);
        }
        Poco::JSON::Array::Ptr enabled = new Poco::JSON::Array;
        enabled->add("events");
        mods->set("enabled", enabled);
        std::ofstream out(dataDir + "/config.json");
        cfg->stringify(out);
    }
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        FILE* log = fopen((dataDir + "/server.log").c_str(), "w");
        if (log) {
            dup2(fileno(log), 1);
            dup2(fileno(log), 2);
        }
        execl(binary.c_str(), binary.c_str(), "serve", "--port", "0", "--data-dir", dataDir.c_str(), "--modules-dir",
              modulesDir.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int port = 0;
    for (int i = 0; i < 2000 && port == 0; ++i) {
        std::ifstream in(dataDir + "/server-port");
        if (!(in >> port)) port = 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!port) {
        std::fprintf(stderr, "host did not start (see %s/server.log)\n", dataDir.c_str());
        kill(pid, SIGKILL);
        return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ProcStat idle = procStat(pid);

    // ---- clients on one epoll thread
    int ep = epoll_create1(0);
    std::vector<Client> clients(static_cast<size_t>(nSse + nWs));
    std::mutex histMutex;
    Histogram hist;
    std::atomic<bool> running{true};
    std::atomic<int> readyCount{0}, closedCount{0};
    std::atomic<bool> measuring{false};
    std::atomic<int64_t> measureStartUs{0};
    std::vector<int64_t> worstBySecond(static_cast<size_t>(seconds) + 1, 0);  // by publish time; client thread only
    std::thread loop([&] {
        std::vector<epoll_event> evs(512);
        std::vector<char> tmp(1 << 16);
        std::vector<int64_t> local;
        while (running.load()) {
            int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
            int64_t t = nowUs();
            for (int i = 0; i < n; ++i) {
                Client& c = clients[evs[static_cast<size_t>(i)].data.u32];
                while (true) {
                    ssize_t r = ::recv(c.fd, tmp.data(), tmp.size(), MSG_DONTWAIT);
                    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
                        closedCount++;
                        break;
                    }
                    if (r < 0) break;
                    c.buf.append(tmp.data(), static_cast<size_t>(r));
                    if (!c.ready) {
                        auto end = c.buf.find("\r\n\r\n");
                        if (end == std::string::npos) continue;
                        c.ready = true;
                        readyCount++;
                        if (c.ws) sendAll(c.fd, maskedText(R"({"type":"subscribe","topics":["*"]})"));
                    }
                    // memmem, not std::string::find: find stops at every '"' of the JSON, and
                    // this loop must not be what the host waits for.
                    const char* data = c.buf.data();
                    size_t size = c.buf.size(), pos = 0, keep = std::string::npos;
                    while (pos < size) {
                        auto* p =
                            static_cast<const char*>(memmem(data + pos, size - pos, kPattern.data(), kPattern.size()));
                        if (!p) break;
                        size_t start = static_cast<size_t>(p - data) + kPattern.size();
                        auto* q = static_cast<const char*>(memchr(data + start, '"', size - start));
                        if (!q) {
                            keep = static_cast<size_t>(p - data);  // the title continues in the next read
                            break;
                        }
                        // bench-<seq>-<sentUs>
                        auto* dash =
                            static_cast<const char*>(memchr(data + start, '-', static_cast<size_t>(q - data) - start));
                        int64_t sent = 0;
                        if (dash && std::from_chars(dash + 1, q, sent).ec == std::errc() && measuring.load()) {
                            local.push_back(t - sent);
                            size_t second =
                                static_cast<size_t>(std::max<int64_t>(0, sent - measureStartUs.load()) / 1000000);
                            if (second < worstBySecond.size())
                                worstBySecond[second] = std::max(worstBySecond[second], t - sent);
                        }
                        c.received++;
                        pos = static_cast<size_t>(q - data) + 1;
                    }
                    if (keep == std::string::npos)  // a pattern may straddle the reads
                        keep = std::max(pos, size > kPattern.size() ? size - kPattern.size() : 0);
                    c.buf.erase(0, keep);
                    // A short read drained the socket: epoll is level-triggered and reports
                    // it again when more arrives, so a second recv would only say EAGAIN.
                    if (static_cast<size_t>(r) < tmp.size()) break;
                }
            }
            if (local.size() > 4096 || (n == 0 && !local.empty())) {
                std::lock_guard l(histMutex);
                for (auto v : local) hist.add(v);
                local.clear();
            }
        }
        std::lock_guard l(histMutex);
        for (auto v : local) hist.add(v);
    });

    auto t0 = Clock::now();
    for (size_t i = 0; i < clients.size(); ++i) {
        Client& c = clients[i];
        c.ws = static_cast<int>(i) >= nSse;
        c.fd = connectTo(port);
        if (c.fd < 0) {
            std::fprintf(stderr, "connect %zu failed: %s\n", i, std::strerror(errno));
            continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<uint32_t>(i);
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        if (c.ws)
            sendAll(c.fd,
                    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        else
            sendAll(c.fd, "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
        // Pace: at most 64 handshakes in flight.
        while (static_cast<int>(i) + 1 - readyCount.load() - closedCount.load() > 64)
            std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    while (readyCount.load() + closedCount.load() < static_cast<int>(clients.size()) &&
           Clock::now() - t0 < std::chrono::seconds(60))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    double connectSecs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let snapshots drain and WS subscribes land
    ProcStat connected = procStat(pid);
    for (auto& c : clients) c.received = 0;

    // ---- publisher, health prober, sampler
    measureStartUs = nowUs();
    measuring = true;
    double hostCpu0 = cpuSeconds(pid), selfCpu0 = cpuSeconds(getpid()), load0 = loadAverage();
    auto run0 = Clock::now();
    std::atomic<long> published{0}, publishErrors{0};
    std::atomic<bool> publishing{true};
    std::thread publisher([&] {
        Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
        s.setKeepAlive(true);
        auto next = Clock::now();
        auto interval = std::chrono::microseconds(1000000 / rate);
        long seq = 0;
        while (publishing.load()) {
            std::this_thread::sleep_until(next);
            next += interval;
            std::string body = R"({"category":"system","type":"bench","title":"bench-)" + std::to_string(seq++) + "-" +
                               std::to_string(nowUs()) + "\"}";
            try {
                Poco::Net::HTTPRequest req("POST", "/api/activity", Poco::Net::HTTPMessage::HTTP_1_1);
                req.setHost("127.0.0.1", static_cast<Poco::UInt16>(port));
                req.setContentType("application/json");
                req.setContentLength(static_cast<std::streamsize>(body.size()));
                req.setKeepAlive(true);
                s.sendRequest(req) << body;
                Poco::Net::HTTPResponse res;
                std::istream& is = s.receiveResponse(res);
                std::string ignore((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
                if (res.getStatus() != 200)
                    publishErrors++;
                else
                    published++;
            } catch (...) {
                publishErrors++;
                s.reset();
            }
        }
    });
    Histogram health;
    std::thread prober([&] {
        Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
        s.setKeepAlive(true);
        while (publishing.load()) {
            int64_t start = nowUs();
            try {
                Poco::Net::HTTPRequest req("GET", "/api/health", Poco::Net::HTTPMessage::HTTP_1_1);
                req.setHost("127.0.0.1", static_cast<Poco::UInt16>(port));
                req.setKeepAlive(true);
                s.sendRequest(req);
                Poco::Net::HTTPResponse res;
                std::istream& is = s.receiveResponse(res);
                std::string ignore((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
                health.add(nowUs() - start);
            } catch (...) {
                s.reset();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    long maxRss = 0;
    int maxThreads = 0, minThreads = 1 << 30;
    auto end = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < end) {
        auto st = procStat(pid);
        maxRss = std::max(maxRss, st.rssKb);
        maxThreads = std::max(maxThreads, st.threads);
        minThreads = std::min(minThreads, st.threads);
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    publishing = false;
    publisher.join();
    prober.join();
    double runSecs = std::chrono::duration<double>(Clock::now() - run0).count();
    double hostCpu = cpuSeconds(pid) - hostCpu0, selfCpu = cpuSeconds(getpid()) - selfCpu0, load1 = loadAverage();
    std::this_thread::sleep_for(std::chrono::seconds(2));  // deliveries in flight
    running = false;
    loop.join();

    uint64_t minRecv = UINT64_MAX, maxRecv = 0, total = 0;
    int alive = 0;
    for (auto& c : clients) {
        if (c.fd < 0) continue;
        minRecv = std::min(minRecv, c.received);
        maxRecv = std::max(maxRecv, c.received);
        total += c.received;
        ++alive;
    }
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    std::error_code ec;
    fs::remove_all(dataDir, ec);

    std::printf("events_bench: %d SSE + %d WebSocket clients, %d events/s for %d s (2 cores shared with this client)\n",
                nSse, nWs, rate, seconds);
    std::printf("  connect: %d ready in %.2f s, %d closed by the server\n", readyCount.load(), connectSecs,
                closedCount.load());
    std::printf("  published: %ld events (%ld errors)\n", published.load(), publishErrors.load());
    std::printf("  delivered: %llu (per client min %llu / max %llu, expected %ld)\n",
                static_cast<unsigned long long>(total), static_cast<unsigned long long>(minRecv),
                static_cast<unsigned long long>(maxRecv), published.load());
    std::printf("  delivery latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 < 50 ms)\n", hist.pct(0.5),
                hist.pct(0.99), static_cast<double>(hist.max) / 1000.0);
    std::printf("  host RSS: idle %.1f MiB, with clients %.1f MiB, max during run %.1f MiB (target < 200 MiB)\n",
                static_cast<double>(idle.rssKb) / 1024, static_cast<double>(connected.rssKb) / 1024,
                static_cast<double>(maxRss) / 1024);
    std::printf("  host threads: idle %d, with %d clients %d, during run %d..%d (constant in the number of clients)\n",
                idle.threads, alive, connected.threads, minThreads, maxThreads);
    std::printf("  /api/health during the run: %llu requests, p50 %.2f ms, p99 %.2f ms (target p99 < 10 ms)\n",
                static_cast<unsigned long long>(health.n), health.pct(0.5), health.pct(0.99));
    std::printf("  CPU during the run: host %.2f cores, this client %.2f cores; machine load average %.1f -> %.1f\n",
                hostCpu / runSecs, selfCpu / runSecs, load0, load1);
    std::vector<std::pair<int64_t, size_t>> worst;
    for (size_t i = 0; i < worstBySecond.size(); ++i) worst.emplace_back(worstBySecond[i], i);
    std::sort(worst.rbegin(), worst.rend());
    std::printf("  slowest seconds (by publish time):");
    for (size_t i = 0; i < std::min<size_t>(5, worst.size()); ++i)
        std::printf(" %zus %.0f ms%s", worst[i].second, static_cast<double>(worst[i].first) / 1000.0,
                    i + 1 < 5 ? "," : "");
    std::printf("\n");
    return 0;
}
