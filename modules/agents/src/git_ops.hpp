// Git operations on a run's own worktree through libgit2: diff stats and text against the
// run's base commit (untracked files included), commit, push, branch rename, revert.
#pragma once

#include "json_util.hpp"

#include <string>

namespace agents::git {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string headCommit(const std::string& worktree);
std::string currentBranch(const std::string& worktree);
bool isDirty(const std::string& worktree);
// {files, insertions, deletions, changes:[{path,status,insertions,deletions}]}
JsonObject diffStats(const std::string& worktree, const std::string& baseCommit);
std::string diffText(const std::string& worktree, const std::string& baseCommit);
// Stages everything and commits; returns the new commit id, or "" when there was nothing to commit.
std::string commitAll(const std::string& worktree, const std::string& message, const std::string& authorName,
                      const std::string& authorEmail);
// Pushes refs/heads/<branch> to `remote`; throws Error with libgit2's message.
void push(const std::string& worktree, const std::string& branch, const std::string& remote = "origin");
void renameBranch(const std::string& worktree, const std::string& newName);
bool isValidBranchName(const std::string& name);
// Re-attaches an existing branch as a worktree at `path` (prunes stale worktree entries first).
void addWorktreeForBranch(const std::string& repoPath, const std::string& path, const std::string& branch);
// Hard reset to baseCommit and removal of untracked files.
void revertTo(const std::string& worktree, const std::string& baseCommit);

}  // namespace agents::git
