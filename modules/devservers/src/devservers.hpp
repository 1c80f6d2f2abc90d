// Dev servers of worktrees: start/stop with port offsets, state machine
// (starting → running → stopped), persistence of live offsets, crash reporting, discovery.
// Knows nothing about HTTP: module.cpp resolves projects/worktrees/config and maps errors.
#pragma once

#include "supervisor.hpp"

#include <atelier/sdk.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace atelier::devservers {

struct DevError : std::runtime_error {
    enum class Kind { Invalid, NotFound, Conflict };
    DevError(Kind k, std::string c, const std::string& m) : std::runtime_error(m), kind(k), code(std::move(c)) {}
    Kind kind;
    std::string code;
};

struct WorktreeTarget {
    std::string projectId;
    std::string worktreeId;
    std::string path;
};

// The parts of the merged project config a dev server needs.
struct RunConfig {
    std::string startCommand;
    std::string projectDir = ".";
    std::vector<int> knownPorts;
    int offsetStep = 1;
    std::map<std::string, std::string> envMapping;
    size_t logLines = 1000;
    uint64_t logFileMaxBytes = 5 * 1024 * 1024;
    int logFileKeep = 3;
    int stopGraceMs = 5000;
    int readyTimeoutMs = 60000;
    static RunConfig fromJson(const JsonObject& config);
};

struct ServerView {
    std::string projectId, worktreeId, path, cwd, command, status, startedAt, stoppedAt;
    int port = 0;
    std::vector<int> ports;
    int offset = 0;
    pid_t pid = 0;
    std::optional<int> exitCode;
    int signal = 0;
    bool crashed = false;
    JsonObject toJson() const;
};

class DevServers {
public:
    struct Sinks {
        std::function<void(const ServerView&)> status;  // devserver.status
        std::function<void(const std::string& projectId, const std::string& worktreeId, const std::vector<std::string>& lines,
                           size_t dropped)>
            log;                                                                           // devserver.log
        std::function<void(const ServerView&, const std::vector<std::string>& tail)> crash;  // activity
    };
    // `db` stores live offsets (table devservers_processes).
    DevServers(Db db, Sinks sinks);
    ~DevServers();

    // Re-attaches to processes recorded before a restart that are still alive.
    void restore();
    ServerView start(const WorktreeTarget& wt, const RunConfig& cfg);
    // nullopt when nothing was running.
    std::optional<ServerView> stop(const std::string& projectId, const std::string& worktreeId, int graceMs = -1);
    std::vector<std::string> logs(const std::string& projectId, const std::string& worktreeId) const;
    std::optional<ServerView> get(const std::string& projectId, const std::string& worktreeId) const;
    std::vector<ServerView> list(const std::string& projectId = {}) const;  // live servers
    std::optional<ServerView> findByPath(const std::string& path) const;

    struct Discovery {
        bool success = false;
        std::vector<int> ports;
        std::vector<std::string> logs;
        std::string error;
    };
    Discovery discover(const std::string& projectId, const std::string& root, const RunConfig& cfg, int timeoutMs);

    Supervisor& supervisor() { return *sup_; }
    // Stops every child (graceful, in parallel) and joins the threads.
    void shutdown();

private:
    struct Server {
        ServerView view;
        int graceMs = 5000;
        std::chrono::steady_clock::time_point readyDeadline;
        bool adopted = false;
    };
    static std::string key(const std::string& projectId, const std::string& worktreeId) { return projectId + "/" + worktreeId; }
    void onExit(const std::string& key, pid_t pid, ExitInfo info);
    void onLines(const std::string& key, std::vector<std::string> lines, size_t dropped);
    void finish(const std::string& key, pid_t pid, const ExitInfo& info);
    void monitorLoop();
    std::string resolveCwd(const WorktreeTarget& wt, const RunConfig& cfg) const;

    Db db_;
    Sinks sinks_;
    mutable std::mutex mu_;
    std::map<std::string, Server> servers_;
    std::unique_ptr<Supervisor> sup_;
    std::atomic<bool> shuttingDown_{false};
    std::mutex monMu_;
    std::condition_variable monCv_;
    bool monQuit_ = false;
    std::thread monitor_;
};

}  // namespace atelier::devservers
