// Child-process supervision for dev servers, independent of HTTP and of the host:
//  - spawns `argv` with posix_spawn in its own session/process group (setsid), stdin from
//    /dev/null, stdout+stderr into one pipe;
//  - ONE reader thread multiplexes every pipe with epoll, splits output into lines, keeps a
//    bounded ring per process and appends to a size-rotated log file;
//  - a notifier thread delivers batched lines (every ≤ flushMs) and exits to callbacks, so
//    slow consumers never stall the reader;
//  - stop = SIGTERM to the group, SIGKILL after the grace period; the leader is reaped
//    (no zombies) and the rest of the group is killed when the leader exits (no orphans).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace atelier::devservers {

struct SpawnSpec {
    std::string key;                // caller's id for this process (one live process per key)
    std::vector<std::string> argv;  // argv[0] is resolved through PATH
    std::string cwd;
    std::vector<std::string> env;   // full environment, "K=V"
    std::string logFile;            // "" = no log file
    size_t ringLines = 1000;
    uint64_t logFileMaxBytes = 5 * 1024 * 1024;
    int logFileKeep = 3;            // rotated files kept: .1 .. .N
};

struct ExitInfo {
    int exitCode = -1;  // -1 when killed by a signal or unknown
    int signal = 0;
    bool stopRequested = false;
};

class Supervisor {
public:
    struct Callbacks {
        // Batched output, called on the notifier thread. `dropped` counts lines left out of
        // this batch (they are still in the ring and the log file).
        std::function<void(const std::string& key, pid_t pid, std::vector<std::string> lines, size_t dropped)> onLines;
        // The leader exited (after its last output was delivered).
        std::function<void(const std::string& key, pid_t pid, ExitInfo info)> onExit;
    };
    struct Stats {
        uint64_t lines = 0;
        uint64_t bytes = 0;
    };

    explicit Supervisor(Callbacks cb, std::chrono::milliseconds flushEvery = std::chrono::milliseconds(50),
                        size_t maxBatchLines = 2000);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Throws std::system_error / std::runtime_error when the process cannot be started or
    // when a live process already uses `key`. Returns the pid (= process group id).
    pid_t spawn(const SpawnSpec& spec);
    // Tracks a process this host did not spawn (re-attached after a restart): no output,
    // exit detected through /proc.
    void adopt(const std::string& key, pid_t pid, pid_t pgid, size_t ringLines, const std::string& note);

    bool alive(const std::string& key) const;
    std::optional<pid_t> pid(const std::string& key) const;
    std::vector<std::string> logs(const std::string& key, size_t limit = 0) const;
    Stats stats(const std::string& key) const;
    // Forget a finished process (its ring included).
    void forget(const std::string& key);

    // SIGTERM the group, wait up to `grace`, then SIGKILL; returns once the leader has been
    // reaped and the group is empty (or after a further 3 s). nullopt when nothing ran.
    std::optional<ExitInfo> stop(const std::string& key, std::chrono::milliseconds grace);
    // Stops every live process in parallel (used on shutdown).
    void stopAll(std::chrono::milliseconds grace);
    // A detached helper process (e.g. an editor launcher) to reap when it exits.
    void reapLater(pid_t pid);

    void shutdown();

private:
    struct Proc;
    void readerLoop();
    void notifierLoop();
    void readFrom(const std::shared_ptr<Proc>& p);
    void closePipe(const std::shared_ptr<Proc>& p);
    void reapAll();
    void flushAll();
    void writeLog(Proc& p, const std::string& data);
    void post(std::function<void()> fn);
    void wake();

    Callbacks cb_;
    std::chrono::milliseconds flushEvery_;
    size_t maxBatchLines_;
    int epollFd_ = -1;
    int wakeFd_ = -1;
    mutable std::mutex mu_;
    std::condition_variable exitCv_;
    std::map<std::string, std::shared_ptr<Proc>> procs_;
    std::map<int, std::shared_ptr<Proc>> byFd_;
    std::vector<pid_t> helpers_;
    std::vector<std::pair<pid_t, std::chrono::steady_clock::time_point>> pendingKills_;  // pgid, when
    bool quit_ = false;

    std::mutex qmu_;
    std::condition_variable qcv_;
    std::deque<std::function<void()>> queue_;
    bool qquit_ = false;

    std::thread reader_;
    std::thread notifier_;
};

// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); 0 if absent.
uint64_t processStartTicks(pid_t pid);

}  // namespace atelier::devservers
