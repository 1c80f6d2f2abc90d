// The PTY manager: real pseudo-terminal sessions served by ONE epoll event-loop thread.
// Knows nothing about HTTP or WebSockets: callers attach subscribers (callbacks) that the
// loop thread invokes, in order, with the restore snapshot, the output and the exit code.
#pragma once

#include "scrollback.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace atelier::terminal {

struct PtyConfig {
    size_t scrollbackBytes = 2 * 1024 * 1024;
    size_t maxSessions = 64;
    int killGraceMs = 2000;                   // SIGHUP → SIGKILL
    size_t maxInputQueueBytes = 4 * 1024 * 1024;  // pending input per session
    int reapCheckMs = 200;                    // periodic waitpid sweep
    size_t recentExits = 256;                 // exit records kept for info()
};

// What to run. `argv[0]` is resolved against PATH (from `env` if it sets PATH) before fork.
struct SpawnSpec {
    std::vector<std::string> argv;
    std::string cwd;
    std::vector<std::pair<std::string, std::string>> env;  // added to / overriding the host's
    int cols = 80;
    int rows = 24;
    std::string id;  // empty = generated ("term-<n>")
};

class SpawnError : public std::runtime_error {
public:
    enum class Kind { TooManySessions, BadCwd, BadCommand, BadSize, DuplicateId, Failed };
    SpawnError(Kind k, std::string msg) : std::runtime_error(std::move(msg)), kind(k) {}
    Kind kind;
};

// Callbacks run on the loop thread, never concurrently for one subscriber, never while the
// manager holds a lock (they may call back into the manager).
struct Subscriber {
    std::function<void(std::string_view snapshot)> onRestore;  // first, once
    std::function<void(std::string_view data)> onOutput;
    std::function<void(int exitCode)> onExit;  // the process exited; the session is gone
    std::function<void()> onClosed;            // destroyed or manager stopped
};

struct SessionInfo {
    std::string id;
    pid_t pid = 0;
    int cols = 0;
    int rows = 0;
    std::string cwd;
    std::vector<std::string> argv;
    std::string createdAt;
    bool running = true;  // false only in exit records
    std::optional<int> exitCode;
    std::string exitedAt;
    uint64_t outputBytes = 0;  // total bytes read from the PTY
    size_t subscribers = 0;
    size_t scrollbackBytes = 0;
};

enum class WriteResult { Ok, NotFound, Full };

std::string nowIsoUtc();
// The shell to use: $SHELL when it is an absolute executable path, else /bin/sh.
std::string loginShell();

class PtyManager {
public:
    explicit PtyManager(PtyConfig cfg = {});
    ~PtyManager();
    PtyManager(const PtyManager&) = delete;
    PtyManager& operator=(const PtyManager&) = delete;

    void start();  // creates the epoll loop thread
    // Kills every session's process group (SIGHUP, SIGKILL after the grace period), reaps
    // them and joins the loop thread. Idempotent.
    void stop();
    bool running() const { return running_.load(); }

    // Forks a new session; throws SpawnError.
    std::string spawn(const SpawnSpec& spec);
    // Kills the session's process group and forgets it. False when unknown.
    bool destroy(const std::string& id);
    WriteResult write(const std::string& id, std::string_view data);
    bool resize(const std::string& id, int cols, int rows);  // throws SpawnError(BadSize)
    // Subscribes; the restore snapshot and then every later output chunk are delivered on
    // the loop thread. nullopt when unknown.
    std::optional<uint64_t> attach(const std::string& id, Subscriber sub);
    void detach(const std::string& id, uint64_t subscriberId);
    // Live session, or the record of a recently exited one (running=false, exitCode).
    std::optional<SessionInfo> info(const std::string& id) const;
    bool alive(const std::string& id) const;  // live and its process not yet reaped
    std::vector<SessionInfo> list() const;
    size_t count() const;
    // Output since absolute offset `from` (still retained); *start gets the actual offset.
    std::optional<std::string> output(const std::string& id, uint64_t from, uint64_t* start, uint64_t* total) const;
    // Runs on the loop thread once a session's process exited and its last output was
    // delivered, before info() reports the session as exited and before the subscribers'
    // onExit.
    void onSessionExit(std::function<void(const SessionInfo&)> fn) { exitHook_ = std::move(fn); }
    // Waits until the loop has processed everything posted so far (tests, benchmarks).
    void sync();
    // Processes still being killed / reaped, including destroyed ones not yet signalled.
    size_t dyingCount() const;
    const PtyConfig& config() const { return cfg_; }

private:
    struct Session;
    struct Dying {
        pid_t pid;       // 0 once reaped
        pid_t pgid;
        std::chrono::steady_clock::time_point killAt;
        bool killed = false;
        std::chrono::steady_clock::time_point giveUpAt;
    };

    void loop();
    void post(std::function<void()> fn);
    void handleReadable(const std::shared_ptr<Session>& s, bool hup);
    void handleWritable(const std::shared_ptr<Session>& s);
    void finish(const std::shared_ptr<Session>& s, int exitCode);
    void closeMaster(const std::shared_ptr<Session>& s);
    void killGroup(pid_t pid, bool alreadyReaped);
    void sweep();
    void deliver(const std::shared_ptr<Session>& s, std::string_view data);
    void updateEpoll(Session& s);
    void shutdownAll();
    SessionInfo infoOf(const Session& s) const;

    PtyConfig cfg_;
    int epfd_ = -1;
    int evfd_ = -1;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<bool> stopping_{false};

    mutable std::mutex mu_;  // sessions_, bySeq_, recent_, counters
    std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
    std::unordered_map<uint64_t, std::shared_ptr<Session>> bySeq_;
    std::deque<SessionInfo> recent_;
    uint64_t nextSeq_ = 1;
    uint64_t nextTerm_ = 1;
    std::atomic<uint64_t> nextSub_{1};

    std::mutex postMu_;
    std::vector<std::function<void()>> posted_;

    std::vector<Dying> dying_;  // loop thread only
    mutable std::mutex dyingMu_;
    size_t dyingCount_ = 0;
    std::atomic<size_t> pendingKills_{0};  // destroyed sessions whose group the loop has yet to signal
    std::function<void(const SessionInfo&)> exitHook_;
};

}  // namespace atelier::terminal
