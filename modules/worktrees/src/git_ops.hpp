// Git operations for the worktrees module, all through libgit2 (no git CLI).
// Knows nothing about HTTP: failures are GitError with a kind the caller maps to a status.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace atelier::wt::git {

enum class ErrorKind {
    NotARepository,   // the path is not a git repository / worktree
    EmptyRepository,  // no commits yet
    InvalidName,      // branch or ref name fails git's rules
    NotFound,         // ref, branch, remote or file missing
    Exists,           // branch or worktree already exists
    Conflict,         // merge / rebase conflicts (paths in `paths`)
    Dirty,            // working tree has uncommitted changes that an operation would clobber
    Nothing,          // nothing to commit
    Auth,             // credentials rejected / missing
    InUse,            // the branch is checked out in a worktree
    Failed,           // anything else libgit2 reported
};

class GitError : public std::runtime_error {
public:
    GitError(ErrorKind kind, std::string message, std::vector<std::string> paths = {})
        : std::runtime_error(std::move(message)), kind_(kind), paths_(std::move(paths)) {}
    ErrorKind kind() const { return kind_; }
    const std::vector<std::string>& paths() const { return paths_; }

private:
    ErrorKind kind_;
    std::vector<std::string> paths_;
};

// Call once per process (module start/stop); reference counted by libgit2.

// ---- names and repositories
bool isValidBranchName(const std::string& name);
bool isRepository(const std::string& path);
bool hasCommits(const std::string& repoPath);
// The repository's work directory (for a worktree: the worktree's directory), no trailing slash.
std::string workdir(const std::string& path);
// The main repository's work directory when `path` is a linked worktree; else workdir(path).
std::string mainWorkdir(const std::string& path);
std::optional<std::string> currentBranch(const std::string& path);  // nullopt when detached
std::string headSha(const std::string& path);
bool branchExists(const std::string& repoPath, const std::string& branch);
bool revisionExists(const std::string& repoPath, const std::string& spec);
// baseBranch if it resolves, else develop, main, master, then HEAD.
std::string resolveBase(const std::string& repoPath, const std::string& preferred);
// origin/<base> when that remote-tracking branch exists, else <base>.
std::string remoteOrLocalBase(const std::string& repoPath, const std::string& base);
// Adds `.atelier/worktrees/` to the repository's info/exclude (idempotent).
void ensureExcluded(const std::string& repoPath, const std::string& pattern);

// ---- worktrees
enum class AddMode { NewBranch, ExistingBranch, Reset };
struct AddResult {
    std::string head;
    std::string adminName;
    AddMode mode = AddMode::NewBranch;
    bool createdBranch = false;
};
// Creates the worktree at `path` (must not exist). With allowExisting, tries OpenKit's order:
// new branch from base, then the existing branch, then reset the branch to base.
AddResult addWorktree(const std::string& repoPath, const std::string& adminName, const std::string& path,
                      const std::string& branch, const std::string& base, bool allowExisting, bool allowReset);
struct WorktreeEntry {
    std::string name;  // admin name
    std::string path;
    bool valid = false;  // directory and gitdir link are intact
    bool locked = false;
};
std::vector<WorktreeEntry> listWorktrees(const std::string& repoPath);
// Removes the git metadata of the worktree at `path` (and the directory). Missing is fine.
void removeWorktree(const std::string& repoPath, const std::string& path);
// Prunes metadata of worktrees whose directory disappeared.
void pruneStale(const std::string& repoPath);
// Moves a worktree directory and rewrites both gitdir links (libgit2 has no worktree move).
void moveWorktree(const std::string& repoPath, const std::string& from, const std::string& to);

// ---- branches
void renameBranch(const std::string& repoPath, const std::string& from, const std::string& to);
void deleteBranch(const std::string& repoPath, const std::string& branch);
struct BranchInfo {
    std::string name;
    std::string head;
    std::string upstream;  // e.g. origin/feature; empty when none
    bool pushed = false;   // upstream exists and contains the branch head
    int64_t ahead = 0;     // vs base
    int64_t behind = 0;
    bool isHead = false;
    std::string checkedOutAt;  // worktree path, or empty
};
std::vector<BranchInfo> listBranches(const std::string& repoPath, const std::string& base);

struct MergeResult {
    std::string commit;
    bool fastForward = false;
    bool upToDate = false;
};
// Merges `branch` into `into`; conflicts → GitError(Conflict, paths) with nothing changed.
MergeResult mergeBranch(const std::string& repoPath, const std::string& branch, const std::string& into);
struct RebaseResult {
    std::string head;
    int64_t rebased = 0;
};
// Rebases `branch` onto `onto` in memory; conflicts → GitError(Conflict, paths), nothing changed.
RebaseResult rebaseBranch(const std::string& repoPath, const std::string& branch, const std::string& onto);

// ---- status
struct Status {
    bool hasUncommitted = false;
    bool hasUpstream = false;
    int64_t commitsAhead = 0;        // vs upstream (or base when there is no upstream)
    int64_t commitsAheadOfBase = 0;  // vs origin/<base> or <base>
    std::string branch;
    std::string head;
};
Status computeStatus(const std::string& path, const std::string& base);

// ---- diffs
struct FileChange {
    std::string path;
    std::string oldPath;  // renames
    std::string status;   // modified | added | deleted | renamed | untracked
    int64_t linesAdded = 0;
    int64_t linesRemoved = 0;
    bool isBinary = false;
};
// Changes of the work directory at `path` against `baseSpec` (a revision; empty = HEAD),
// including staged, unstaged and untracked files, with rename detection.
std::vector<FileChange> diffWorkdir(const std::string& path, const std::string& baseSpec);
// The content of `file` at revision `spec`; nullopt when absent there.
std::optional<std::string> blobAt(const std::string& path, const std::string& spec, const std::string& file);

// ---- commit and push
struct CommitResult {
    std::string sha;
    int64_t filesChanged = 0;
};
CommitResult commitAll(const std::string& path, const std::string& message);
struct PushResult {
    std::string remote;
    std::string branch;
    std::string head;
};
PushResult push(const std::string& path, const std::string& remote, const std::string& token);

}  // namespace atelier::wt::git
