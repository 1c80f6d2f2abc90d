// Measures the time from exec of `atelier serve` to the first successful /api/health answer,
// with every module in the given directory. Prints each run and the median.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <atelier binary> <modules dir> [runs]\n", argv[0]);
        return 2;
    }
    int runs = argc > 3 ? std::atoi(argv[3]) : 10;
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
        char tmpl[] = "/tmp/atelier-bench-XXXXXX";
        std::string dir = mkdtemp(tmpl);
        auto start = std::chrono::steady_clock::now();
        pid_t pid = fork();
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            dup2(devnull, 2);
            execl(argv[1], argv[1], "serve", "--port", "0", "--data-dir", dir.c_str(), "--modules-dir", argv[2], nullptr);
            _exit(127);
        }
        double ms = -1;
        while (std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
            std::ifstream in(dir + "/server-port");
            int port = 0;
            if (in >> port && port > 0) {
                try {
                    Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
                    Poco::Net::HTTPRequest req("GET", "/api/health", "HTTP/1.1");
                    req.setHost("127.0.0.1");
                    s.sendRequest(req);
                    Poco::Net::HTTPResponse res;
                    s.receiveResponse(res);
                    if (res.getStatus() == 200) {
                        ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
                        break;
                    }
                } catch (...) {
                }
            }
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
        std::filesystem::remove_all(dir);
        std::printf("run %d: %.1f ms\n", i + 1, ms);
        if (ms >= 0) times.push_back(ms);
    }
    if (times.empty()) return 1;
    std::sort(times.begin(), times.end());
    std::printf("exec-to-first-200 median: %.1f ms (min %.1f, max %.1f)\n", times[times.size() / 2], times.front(),
                times.back());
    return 0;
}
