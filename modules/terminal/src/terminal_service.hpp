// Terminal bookkeeping over the PTY manager: what each session belongs to (a worktree and
// scope, an agent run, an ephemeral socket, an in-process caller), OpenKit's scoped-session
// reuse/replace rules, run-keyed persistent sessions and worktree teardown. No HTTP here.
#pragma once

#include "pty_manager.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace atelier::terminal {

enum class SessionKind { Worktree, Pty, Run, Ephemeral };
const char* kindName(SessionKind k);

struct SessionMeta {
    SessionKind kind = SessionKind::Pty;
    std::string worktreeId;
    std::string worktreePath;
    std::string scope;
    std::string runId;
    bool agent = false;  // started with a startup command (OpenKit "agent session")
};

struct ScopedCreate {
    std::string sessionId;
    bool reusedScopedSession = false;
    bool replacedScopedShellSession = false;
    bool created = false;
};

class TerminalService {
public:
    explicit TerminalService(PtyManager& pty) : pty_(pty) {}

    static const std::vector<std::string>& scopes();
    static bool validScope(const std::string& s);
    // `$SHELL -lc <command>` (fallback /bin/sh), or an interactive `$SHELL` without one.
    static SpawnSpec shellSpec(const std::string& cwd, const std::string& startupCommand, int cols, int rows);

    // OpenKit create: with a scope, reuses or replaces the worktree's scoped session.
    ScopedCreate createForWorktree(const std::string& worktreeId, const std::string& worktreePath,
                                   const std::optional<std::string>& scope, const std::string& startupCommand, int cols,
                                   int rows);
    std::optional<std::string> activeScoped(const std::string& worktreePath, const std::string& scope);

    // Any session with its bookkeeping (KrowForge spawn, Abbado ephemeral).
    std::string spawn(const SpawnSpec& spec, SessionMeta meta);
    // The persistent session of an agent run: existing one, else spawned from `spec`.
    std::pair<std::string, bool> runSession(const std::string& runId, const SpawnSpec& spec);
    std::optional<std::string> runSessionId(const std::string& runId);

    bool destroy(const std::string& id);
    // Destroys every session of a worktree (by id or path); returns how many.
    int closeWorktree(const std::string& worktreeId, const std::string& worktreePath);
    // Called when a session ended on its own.
    void forget(const std::string& id);
    std::optional<SessionMeta> meta(const std::string& id) const;

    PtyManager& pty() { return pty_; }

private:
    static std::string key(const std::string& path, const std::string& scope) { return path + "::" + scope; }
    void dropLocked(const std::string& id);

    PtyManager& pty_;
    mutable std::mutex mu_;
    std::map<std::string, SessionMeta> metas_;
    std::map<std::string, std::string> scoped_;  // worktreePath::scope → session id
    std::map<std::string, std::string> runs_;    // run id → session id
};

}  // namespace atelier::terminal
