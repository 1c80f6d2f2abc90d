// Repository checks and index reading through libgit2. Knows nothing of HTTP or storage.
// Callers must have initialised libgit2 (git_libgit2_init); the module does it in start().
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace projects::git {

class GitError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The working-directory root of the repository containing `path` (searching upward), as a
// canonical absolute path without a trailing slash; nullopt when there is none or the
// repository is bare.
std::optional<std::string> discoverRoot(const std::string& path);

// Like discoverRoot, but a linked worktree (e.g. `<project>/.atelier/worktrees/<id>`)
// resolves to the working directory of the repository it belongs to.
std::optional<std::string> discoverMainRoot(const std::string& path);

// True when `path` itself is the working directory of a non-bare repository (it holds the
// `.git`), without searching upward.
bool isRepositoryRoot(const std::string& path);

// The branch HEAD points at ("main"), also for a repository without commits; nullopt when
// HEAD is detached or unreadable.
std::optional<std::string> headBranch(const std::string& root);

// Paths tracked in the index of the repository whose working directory is `root`, sorted,
// relative to `subdir` (a path inside the working directory; empty = the root). Entries
// outside `subdir` are left out. Throws GitError when the repository cannot be read.
std::vector<std::string> trackedFiles(const std::string& root, const std::string& subdir = {});

}  // namespace projects::git
