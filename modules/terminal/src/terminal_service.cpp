#include "terminal_service.hpp"

#include <algorithm>

namespace atelier::terminal {

const char* kindName(SessionKind k) {
    switch (k) {
        case SessionKind::Worktree: return "worktree";
        case SessionKind::Pty: return "pty";
        case SessionKind::Run: return "run";
        case SessionKind::Ephemeral: return "ephemeral";
    }
    return "pty";
}

const std::vector<std::string>& TerminalService::scopes() {
    static const std::vector<std::string> s{"terminal", "claude", "codex", "gemini", "opencode"};
    return s;
}

bool TerminalService::validScope(const std::string& s) {
    const auto& all = scopes();
    return std::find(all.begin(), all.end(), s) != all.end();
}

SpawnSpec TerminalService::shellSpec(const std::string& cwd, const std::string& startupCommand, int cols, int rows) {
    SpawnSpec spec;
    std::string shell = loginShell();
    spec.argv.push_back(shell);
    if (!startupCommand.empty()) {
        spec.argv.push_back("-lc");
        spec.argv.push_back(startupCommand);
    }
    spec.cwd = cwd;
    spec.cols = cols;
    spec.rows = rows;
    return spec;
}

ScopedCreate TerminalService::createForWorktree(const std::string& worktreeId, const std::string& worktreePath,
                                                const std::optional<std::string>& scope,
                                                const std::string& startupCommand, int cols, int rows) {
    std::lock_guard lock(mu_);
    ScopedCreate out;
    bool wantsCommand = !startupCommand.empty();
    if (scope) {
        auto it = scoped_.find(key(worktreePath, *scope));
        if (it != scoped_.end()) {
            std::string existing = it->second;
            auto m = metas_.find(existing);
            bool agent = m != metas_.end() && m->second.agent;
            bool healthy = pty_.alive(existing);
            if (healthy && (!wantsCommand || agent)) {
                out.sessionId = existing;
                out.reusedScopedSession = true;
                return out;
            }
            if (healthy) out.replacedScopedShellSession = true;  // shell replaced by an explicit launch
            pty_.destroy(existing);
            dropLocked(existing);
        }
    }
    SessionMeta meta;
    meta.kind = SessionKind::Worktree;
    meta.worktreeId = worktreeId;
    meta.worktreePath = worktreePath;
    meta.scope = scope.value_or("");
    meta.agent = wantsCommand;
    std::string id = pty_.spawn(shellSpec(worktreePath, startupCommand, cols, rows));
    metas_[id] = meta;
    if (scope) scoped_[key(worktreePath, *scope)] = id;
    out.sessionId = id;
    out.created = true;
    return out;
}

std::optional<std::string> TerminalService::activeScoped(const std::string& worktreePath, const std::string& scope) {
    std::lock_guard lock(mu_);
    auto it = scoped_.find(key(worktreePath, scope));
    if (it == scoped_.end()) return std::nullopt;
    if (!pty_.alive(it->second)) return std::nullopt;
    return it->second;
}

std::string TerminalService::spawn(const SpawnSpec& spec, SessionMeta meta) {
    std::lock_guard lock(mu_);
    std::string id = pty_.spawn(spec);
    metas_[id] = std::move(meta);
    return id;
}

std::pair<std::string, bool> TerminalService::runSession(const std::string& runId, const SpawnSpec& spec) {
    std::lock_guard lock(mu_);
    auto it = runs_.find(runId);
    if (it != runs_.end() && pty_.alive(it->second)) return {it->second, false};
    if (it != runs_.end()) {
        pty_.destroy(it->second);
        dropLocked(it->second);
    }
    std::string id = pty_.spawn(spec);
    SessionMeta meta;
    meta.kind = SessionKind::Run;
    meta.runId = runId;
    meta.agent = true;
    metas_[id] = meta;
    runs_[runId] = id;
    return {id, true};
}

std::optional<std::string> TerminalService::runSessionId(const std::string& runId) {
    std::lock_guard lock(mu_);
    auto it = runs_.find(runId);
    if (it == runs_.end()) return std::nullopt;
    return it->second;
}

bool TerminalService::destroy(const std::string& id) {
    std::lock_guard lock(mu_);
    bool ok = pty_.destroy(id);
    dropLocked(id);
    return ok;
}

int TerminalService::closeWorktree(const std::string& worktreeId, const std::string& worktreePath) {
    std::lock_guard lock(mu_);
    std::vector<std::string> victims;
    for (auto& [id, m] : metas_) {
        if (m.kind != SessionKind::Worktree) continue;
        bool byPath = !worktreePath.empty() && m.worktreePath == worktreePath;
        bool byId = worktreePath.empty() && !worktreeId.empty() && m.worktreeId == worktreeId;
        if (byPath || byId) victims.push_back(id);
    }
    int n = 0;
    for (auto& id : victims) {
        if (pty_.destroy(id)) ++n;
        dropLocked(id);
    }
    return n;
}

void TerminalService::forget(const std::string& id) {
    std::lock_guard lock(mu_);
    dropLocked(id);
}

void TerminalService::dropLocked(const std::string& id) {
    auto it = metas_.find(id);
    if (it == metas_.end()) return;
    const auto& m = it->second;
    if (!m.scope.empty()) {
        auto s = scoped_.find(key(m.worktreePath, m.scope));
        if (s != scoped_.end() && s->second == id) scoped_.erase(s);
    }
    if (!m.runId.empty()) {
        auto r = runs_.find(m.runId);
        if (r != runs_.end() && r->second == id) runs_.erase(r);
    }
    metas_.erase(it);
}

std::optional<SessionMeta> TerminalService::meta(const std::string& id) const {
    std::lock_guard lock(mu_);
    auto it = metas_.find(id);
    if (it == metas_.end()) return std::nullopt;
    return it->second;
}

}  // namespace atelier::terminal
