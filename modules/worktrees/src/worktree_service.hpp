// Worktree domain logic: project worktrees (OpenKit), repository worktrees (agent runs),
// diffs, commit/push, branch merge/rebase, status cache. No request parsing or response
// writing here; errors are atelier::HttpError with the documented codes.
#pragma once

#include "git_ops.hpp"

#include <atelier/sdk.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace atelier::wt {

struct Project {
    std::string id;
    std::string name;
    std::string repoPath;  // the main repository's work directory
    JsonObject raw;
};

struct ProjectConfig {
    std::string baseBranch;  // empty: auto-detect
    std::string installCommand;
    bool autoInstall = true;
    std::vector<std::string> envFiles{".env"};
};

struct CreateRequest {
    std::string branch;
    std::optional<std::string> id;
    std::optional<std::string> name;
    std::optional<std::string> baseBranch;
};

class WorktreeService {
public:
    explicit WorktreeService(Module& module);
    ~WorktreeService();

    void migrate();
    void start();
    void stop();

    // Project from a projects-module object (`local_path`, `repos`); 400 NO_REPOSITORY when none.
    Project projectFrom(const JsonObject& raw);
    ProjectConfig configFor(const Project& p) const;

    // ---- OpenKit worktree API
    JsonArray list(const Project& p);
    JsonObject get(const Project& p, const std::string& id);
    JsonObject create(const Project& p, const CreateRequest& req);
    JsonObject rename(const Project& p, const std::string& id, const std::optional<std::string>& name,
                      const std::optional<std::string>& branch);
    JsonObject remove(const Project& p, const std::string& id);
    JsonObject recover(const Project& p, const std::string& id, const std::string& action,
                       const std::optional<std::string>& branch);
    JsonArray logs(const Project& p, const std::string& id);
    JsonObject diff(const Project& p, const std::string& id, bool includeCommitted);
    JsonObject diffFile(const Project& p, const std::string& id, const std::string& path, const std::string& status,
                        bool includeCommitted, const std::optional<std::string>& oldPath);
    JsonObject commit(const Project& p, const std::string& id, const std::string& message);
    JsonObject push(const Project& p, const std::string& id, const std::string& remote);

    // ---- repository worktrees (agent runs)
    JsonObject repoCreate(const std::string& repoPath, const std::string& branch,
                          const std::optional<std::string>& baseBranch, const std::optional<std::string>& path);
    JsonObject repoRemove(const std::string& repoPath, const std::string& path, bool deleteBranch);
    JsonObject repoDiff(const std::string& path, const std::string& base);

    // ---- Abbado branches
    JsonArray branches(const JsonObject& project);
    void deleteBranch(const JsonObject& project, const std::string& repoId, const std::string& branch);
    JsonObject merge(const JsonObject& project, const std::string& repoId, const std::string& branch,
                     const std::optional<std::string>& into);
    JsonObject rebase(const JsonObject& project, const std::string& repoId, const std::string& branch,
                      const std::optional<std::string>& onto);

    // events.initial_state: the list of the stream's project (projectId / project in the
    // payload), else of the default project; empty when there is none.
    JsonArray initialList(const JsonObject& payload);
    // devserver.status and similar: republish the project's list.
    void projectChanged(const std::string& projectId);
    // Waits until no creation job is queued or running (tests, shutdown).
    void waitIdle();
    // Recomputes every cached status; publishes worktrees.changed for projects whose list changed.
    void refreshStatuses();

private:
    struct Row;
    struct CachedStatus {
        git::Status status;
        bool ok = false;
    };
    struct Job {
        std::string key;
        Project project;
        ProjectConfig config;
        std::string base;
    };

    std::shared_ptr<std::mutex> repoLock(const std::string& repoPath);
    std::vector<Row> rows(const Project& p);
    std::optional<Row> rowByKey(const std::string& key);
    Row resolve(const Project& p, const std::string& id);
    void adopt(const Project& p);
    JsonObject info(const Project& p, const Row& r, bool fresh = false);
    JsonObject rootInfo(const Project& p);
    // Full list, decorated by other modules (worktrees.decorate: dev-server status, ports, pid).
    JsonArray buildList(const Project& p);
    JsonArray decorate(const Project& p, JsonArray list);
    git::Status statusOf(const std::string& path, const std::string& base, bool fresh);
    void runJob(const Job& job);
    void workerLoop();
    void publish(const std::string& type, const std::string& projectId, const JsonObject& payload);
    void publishList(const Project& p);
    void activity(const Project& p, const std::string& type, const std::string& severity, const std::string& title,
                  const std::string& worktreeId, const std::string& detail = {});
    void appendLog(const std::string& key, const std::string& line);
    std::string baseFor(const Project& p, const ProjectConfig& c, const std::optional<std::string>& explicitBase,
                        bool strict);
    std::string repoFromProject(const JsonObject& project, const std::string& repoId);

    Module& module_;
    std::mutex locksMutex_;
    std::map<std::string, std::shared_ptr<std::mutex>> repoLocks_;

    std::mutex cacheMutex_;
    std::map<std::string, CachedStatus> cache_;  // by worktree path
    std::map<std::string, Project> knownProjects_;

    std::mutex logsMutex_;
    std::map<std::string, std::deque<std::string>> logs_;  // by row key

    std::mutex jobsMutex_;
    std::condition_variable jobsCv_;
    std::deque<Job> jobs_;
    int running_ = 0;
    bool stopping_ = false;
    std::thread worker_;
    std::thread refresher_;
    int64_t refreshMs_ = 3000;
};

// Worktree id rules (OpenKit): explicit name, else id, else the branch without a
// feature/|fix/|chore/ prefix with characters outside [a-zA-Z0-9- ] replaced by '-'.
std::string deriveWorktreeId(const std::string& branch);
bool isValidWorktreeId(const std::string& id);
// Sanitised directory name for a repository worktree's branch.
std::string sanitiseBranch(const std::string& branch);

}  // namespace atelier::wt
