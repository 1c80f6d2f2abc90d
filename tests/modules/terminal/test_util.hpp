// Helpers shared by the terminal tests: a thread-safe subscriber, process probes, temp dirs.
#pragma once

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pty_manager.hpp"
#include "wait.hpp"

namespace atelier::terminal::testutil {

inline bool waitUntil(const std::function<bool()>& pred, int timeoutMs) {
    return atelier::test::waitFor(pred, std::chrono::milliseconds(timeoutMs));
}

inline SpawnSpec shCommand(const std::string& cmd, const std::string& cwd = "/tmp") {
    SpawnSpec s;
    s.argv = {"/bin/sh", "-c", cmd};
    s.cwd = cwd;
    return s;
}

struct TempDir {
    std::string path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "atelier-term-XXXXXX").string();
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        path = mkdtemp(buf.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// Process state letter from /proc/<pid>/stat, 0 when gone.
inline char procState(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return 0;
    auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) return 0;
    return line[close + 2];
}
inline bool processAlive(pid_t pid) {
    char s = procState(pid);
    return s != 0 && s != 'Z' && s != 'X';
}
inline bool waitGone(pid_t pid, int timeoutMs) { return waitUntil([&] { return !processAlive(pid); }, timeoutMs); }

inline std::vector<pid_t> readPids(const std::string& file) {
    std::ifstream in(file);
    std::vector<pid_t> out;
    long p;
    while (in >> p) out.push_back(static_cast<pid_t>(p));
    return out;
}
inline std::vector<pid_t> waitPids(const std::string& file, size_t n, int timeoutMs) {
    std::vector<pid_t> out;
    waitUntil([&] {
        out = readPids(file);
        return out.size() >= n;
    }, timeoutMs);
    return out;
}

// Children (live or zombie; only zombies with zombiesOnly) of `parent`.
inline int childCount(pid_t parent, bool zombiesOnly = false) {
    int n = 0;
    DIR* d = opendir("/proc");
    if (!d) return -1;
    while (auto* e = readdir(d)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (!end || *end || pid <= 0) continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
        std::string line;
        if (!std::getline(in, line)) continue;
        auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        char state;
        long ppid;
        rest >> state >> ppid;
        if (ppid == parent && (!zombiesOnly || state == 'Z')) ++n;
    }
    closedir(d);
    return n;
}

// Thread-safe subscriber for direct PtyManager tests.
class Collector {
public:
    Subscriber subscriber() {
        Subscriber s;
        s.onRestore = [this](std::string_view snap) {
            std::lock_guard l(mu_);
            restore_ = std::string(snap);
            gotRestore_ = true;
            cv_.notify_all();
        };
        s.onOutput = [this](std::string_view d) {
            std::lock_guard l(mu_);
            out_.append(d);
            cv_.notify_all();
        };
        s.onExit = [this](int code) {
            std::lock_guard l(mu_);
            exit_ = code;
            exited_ = true;
            cv_.notify_all();
        };
        s.onClosed = [this] {
            std::lock_guard l(mu_);
            closed_ = true;
            cv_.notify_all();
        };
        return s;
    }
    bool waitFor(const std::string& needle, int ms) {
        std::unique_lock l(mu_);
        return cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return (restore_ + out_).find(needle) != std::string::npos; });
    }
    bool waitExit(int ms) {
        std::unique_lock l(mu_);
        return cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return exited_; });
    }
    bool waitRestore(int ms) {
        std::unique_lock l(mu_);
        return cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return gotRestore_; });
    }
    int exitCode() {
        std::lock_guard l(mu_);
        return exit_;
    }
    std::string restore() {
        std::lock_guard l(mu_);
        return restore_;
    }
    std::string restoreAndOutput() {
        std::lock_guard l(mu_);
        return restore_ + out_;
    }
    bool closed() {
        std::lock_guard l(mu_);
        return closed_;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::string restore_, out_;
    bool gotRestore_ = false, exited_ = false, closed_ = false;
    int exit_ = -1;
};

}  // namespace atelier::terminal::testutil
