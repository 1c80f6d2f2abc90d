// The run engine: runs of an agent on a task in per-run worktrees, driven by a CLI backend
// (claude-code, codex, gemini, opencode over pipes) or the built-in mock. Owns the worker
// threads and child processes; every state change is an event in the run event log.
#pragma once

#include "agent_store.hpp"
#include "backends.hpp"
#include "hook_ingest.hpp"
#include "mock_script.hpp"
#include "process.hpp"
#include "run_events.hpp"
#include "stream_json.hpp"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace agents {

struct RunFilter {
    std::optional<std::string> projectId, agentId, status;
    int64_t limit = 100, offset = 0;
};

// A run to start: the agent, its task and where to branch from.
struct NewRun {
    std::string agentId;
    std::string task;
    std::string sourceBranch = "HEAD";
    std::optional<std::string> parentRunId;
    bool notify = false;
    std::optional<std::string> model;      // overrides the agent's
    std::optional<std::string> projectId;  // default: the agent's project
};

class RunEngine {
public:
    RunEngine(atelier::Module& module, RunEventLog& log, AgentStore& agents);
    ~RunEngine();

    static std::vector<std::string> migrations();

    // Marks runs left running/queued by a previous server process as interrupted.
    void recoverAfterRestart();
    void stopAll();  // kills every child, joins every worker; runs become interrupted
    void reapFinished();

    JsonObject create(const NewRun& req);
    JsonArray list(const RunFilter& f) const;
    JsonObject get(const std::string& id) const;
    void remove(const std::string& id);
    JsonObject cancel(const std::string& id);
    JsonObject pause(const std::string& id);
    // `message` continues the CLI session (default: "continue").
    JsonObject resume(const std::string& id, const std::optional<std::string>& message);
    JsonObject setNotify(const std::string& id, bool notify);
    JsonObject ingestHook(const std::string& id, const JsonObject& payload);

    JsonObject changes(const std::string& id) const;
    JsonObject diffStats(const std::string& id) const;
    JsonObject commit(const std::string& id, const std::optional<std::string>& message);
    JsonObject push(const std::string& id);
    JsonObject pullRequest(const std::string& id, const std::string& title, const std::optional<std::string>& body);
    JsonObject renameBranch(const std::string& id, const std::string& name);
    JsonObject accept(const std::string& id);
    JsonObject revert(const std::string& id);
    JsonArray tasks(const std::string& id) const;
    std::string logs(const std::string& id) const;
    void requireRun(const std::string& id) const;
    // Like requireRun, but answered from a small cache on the hook hot path.
    void requireHookTarget(const std::string& id);

    // terminal.run_session hook: {runId} → {runId, cwd, env}
    atelier::HookOutcome terminalSession(std::string_view payload) const;

    size_t activeCount() const;
    bool waitIdle(const std::string& id, int timeoutMs);

    // Exposed for unit tests.
    static JsonArray tasksFromEvents(const std::vector<RunEvent>& events);

private:
    struct Active {
        std::thread thread;
        std::mutex m;
        std::condition_variable cv;
        std::string stopReason;  // cancel | pause | shutdown
        ChildProcess* proc = nullptr;
        std::string hookFailure;  // StopFailure reason reported by a hook
        bool done = false;
    };
    struct Launch {
        std::string prompt;
        std::string resumeSessionId;
        bool isContinue = false;
    };

    std::optional<atelier::Row> row(const std::string& id) const;
    JsonObject toJson(const atelier::Row& r) const;
    JsonArray worktreesOf(const std::string& id) const;
    std::string runDir(const std::string& id) const;
    std::string hookUrl(const std::string& id) const;
    void event(const std::string& runId, const std::string& type, const JsonObject& payload);
    void publishLifecycle(const std::string& runId, const std::string& type, const JsonObject& payload);
    void setStatus(const std::string& runId, const std::string& status, const std::string& error = {});
    void startWorker(const std::string& runId, Launch launch);
    void work(const std::string& runId, std::shared_ptr<Active> a, Launch launch);
    void runMock(const std::string& runId, const atelier::Row& run, Active& a, const Launch& launch);
    void runCli(const std::string& runId, const atelier::Row& run, Active& a, const Launch& launch);
    void finish(const std::string& runId, Active& a, bool success, const std::string& reason);
    void applyResult(const std::string& runId, const CliResult& r, bool accumulate);
    void appendLog(const std::string& runId, const std::string& line);
    void appendParsed(const std::string& runId, const std::vector<std::pair<std::string, JsonObject>>& events);
    bool firstSighting(const std::string& runId, const std::string& kind, const std::string& toolUseId);
    std::string permissionDecision(const std::string& runId, const std::string& tool, const JsonObject& input,
                                   std::string* message);
    std::shared_ptr<Active> active(const std::string& id) const;
    void ensureWorktrees(const std::string& runId);
    void requireNotActive(const std::string& id, const std::string& what) const;

    atelier::Module& module_;
    RunEventLog& log_;
    AgentStore& agents_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Active>> active_;
    std::mutex seenMutex_;
    std::map<std::string, std::set<std::string>> seenTools_;
    std::mutex logMutex_;
    std::mutex hookCacheMutex_;
    std::map<std::string, std::string> hookCache_;  // run id → last known CLI session id
    bool stopping_ = false;
};

}  // namespace agents
