#include "git_ops.hpp"

#include <algorithm>
#include <atelier/shared/git.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace atelier::wt::git {

namespace {

using ::atelier::git::Annotated;
using ::atelier::git::Blob;
using ::atelier::git::BranchIter;
using ::atelier::git::Commit;
using ::atelier::git::ConflictIter;
using ::atelier::git::Diff;
using ::atelier::git::Index;
using ::atelier::git::Object;
using ::atelier::git::Patch;
using ::atelier::git::Rebase;
using ::atelier::git::Ref;
using ::atelier::git::Remote;
using ::atelier::git::Repo;
using ::atelier::git::Signature;
using ::atelier::git::StatusList;
using ::atelier::git::Tree;
using ::atelier::git::TreeEntry;
using ::atelier::git::Worktree;

std::string lastMessage() { return ::atelier::git::lastError(); }

ErrorKind kindOf(int rc) {
    switch (rc) {
        case GIT_ENOTFOUND: return ErrorKind::NotFound;
        case GIT_EEXISTS: return ErrorKind::Exists;
        case GIT_EINVALIDSPEC: return ErrorKind::InvalidName;
        case GIT_EAUTH: return ErrorKind::Auth;
        case GIT_ECONFLICT:
        case GIT_EUNCOMMITTED: return ErrorKind::Dirty;
        case GIT_EUNBORNBRANCH: return ErrorKind::EmptyRepository;
        default: return ErrorKind::Failed;
    }
}

void check(int rc, const std::string& what) {
    if (rc < 0) throw GitError(kindOf(rc), what + ": " + lastMessage());
}

Repo openRepo(const std::string& path) {
    git_repository* r = nullptr;
    if (path.empty() || git_repository_open_ext(&r, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) < 0)
        throw GitError(ErrorKind::NotARepository, "Not a git repository: " + path);
    Repo repo(r);
    if (git_repository_is_bare(repo.get()))
        throw GitError(ErrorKind::NotARepository, "Bare repository has no work directory: " + path);
    return repo;
}

std::string stripSlash(std::string s) {
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

std::string oidStr(const git_oid* id) {
    char buf[GIT_OID_HEXSZ + 1];
    git_oid_tostr(buf, sizeof buf, id);
    return buf;
}

std::string canonicalPath(const std::string& p) {
    std::error_code ec;
    auto c = fs::weakly_canonical(p, ec);
    return stripSlash(ec ? p : c.string());
}

Commit resolveCommit(git_repository* repo, const std::string& spec) {
    git_object* obj = nullptr;
    if (git_revparse_single(&obj, repo, spec.c_str()) < 0)
        throw GitError(ErrorKind::NotFound, "Unknown revision '" + spec + "'");
    Object o(obj);
    git_object* peeled = nullptr;
    check(git_object_peel(&peeled, o.get(), GIT_OBJECT_COMMIT), "peel " + spec);
    return Commit(reinterpret_cast<git_commit*>(peeled));
}

Tree commitTree(git_commit* c) {
    git_tree* t = nullptr;
    check(git_commit_tree(&t, c), "commit tree");
    return Tree(t);
}

Signature signature(git_repository* repo) {
    git_signature* s = nullptr;
    if (git_signature_default(&s, repo) == 0) return Signature(s);
    check(git_signature_now(&s, "Atelier", "atelier@localhost"), "signature");
    return Signature(s);
}

Ref lookupBranch(git_repository* repo, const std::string& branch) {
    git_reference* ref = nullptr;
    int rc = git_branch_lookup(&ref, repo, branch.c_str(), GIT_BRANCH_LOCAL);
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) throw GitError(ErrorKind::NotFound, "Branch '" + branch + "' not found");
    check(rc, "branch lookup");
    return Ref(ref);
}

// The upstream of a local branch: the configured one, else origin/<branch> when it exists.
std::optional<std::pair<std::string, git_oid>> upstreamOf(git_repository* repo, git_reference* branchRef,
                                                         const std::string& branch) {
    git_reference* up = nullptr;
    if (git_branch_upstream(&up, branchRef) == 0) {
        Ref u(up);
        const char* shorthand = git_reference_shorthand(u.get());
        git_oid id;
        if (git_reference_name_to_id(&id, repo, git_reference_name(u.get())) == 0) return std::make_pair(std::string(shorthand), id);
    }
    git_error_clear();
    git_oid id;
    if (git_reference_name_to_id(&id, repo, ("refs/remotes/origin/" + branch).c_str()) == 0)
        return std::make_pair("origin/" + branch, id);
    git_error_clear();
    return std::nullopt;
}

std::vector<std::string> conflictPaths(git_index* index) {
    std::vector<std::string> paths;
    git_index_conflict_iterator* it = nullptr;
    if (git_index_conflict_iterator_new(&it, index) < 0) return paths;
    ConflictIter iter(it);
    const git_index_entry *anc, *ours, *theirs;
    std::set<std::string> seen;
    while (git_index_conflict_next(&anc, &ours, &theirs, iter.get()) == 0) {
        const git_index_entry* e = ours ? ours : theirs ? theirs : anc;
        if (e && seen.insert(e->path).second) paths.emplace_back(e->path);
    }
    return paths;
}

// Path of the worktree (or main work directory) where refs/heads/<branch> is checked out.
std::string checkedOutAt(git_repository* repo, const std::string& branch) {
    std::string full = "refs/heads/" + branch;
    auto headOf = [&](git_repository* r) -> std::string {
        git_reference* h = nullptr;
        if (git_reference_lookup(&h, r, "HEAD") != 0) {
            git_error_clear();
            return {};
        }
        Ref head(h);
        if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return {};
        return git_reference_symbolic_target(head.get());
    };
    if (!git_repository_is_bare(repo) && headOf(repo) == full) return stripSlash(git_repository_workdir(repo));
    git_strarray names{};
    if (git_worktree_list(&names, repo) != 0) {
        git_error_clear();
        return {};
    }
    std::string out;
    for (size_t i = 0; i < names.count && out.empty(); ++i) {
        git_worktree* w = nullptr;
        if (git_worktree_lookup(&w, repo, names.strings[i]) != 0) continue;
        Worktree wt(w);
        if (git_worktree_validate(wt.get()) != 0) {
            git_error_clear();
            continue;
        }
        git_repository* wr = nullptr;
        if (git_repository_open_from_worktree(&wr, wt.get()) != 0) continue;
        Repo wrepo(wr);
        if (headOf(wrepo.get()) == full) out = stripSlash(git_worktree_path(wt.get()));
    }
    git_strarray_dispose(&names);
    git_error_clear();
    return out;
}

// Moves refs/heads/<branch> from `oldId` to `newId`, updating the work directory where the
// branch is checked out (which must have no uncommitted tracked changes).
void advanceBranch(git_repository* repo, const std::string& branch, const git_oid* newId, const std::string& reflog) {
    std::string where = checkedOutAt(repo, branch);
    Ref ref = lookupBranch(repo, branch);
    if (!where.empty()) {
        Repo wrepo = openRepo(where);
        git_status_options so = GIT_STATUS_OPTIONS_INIT;
        so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
        so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
        git_status_list* sl = nullptr;
        check(git_status_list_new(&sl, wrepo.get(), &so), "status");
        StatusList list(sl);
        if (git_status_list_entrycount(list.get()) > 0)
            throw GitError(ErrorKind::Dirty, "Branch '" + branch + "' is checked out at " + where + " with uncommitted changes");
        git_commit* c = nullptr;
        check(git_commit_lookup(&c, wrepo.get(), newId), "lookup commit");
        Commit target(c);
        git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
        co.checkout_strategy = GIT_CHECKOUT_SAFE;
        check(git_checkout_tree(wrepo.get(), reinterpret_cast<git_object*>(target.get()), &co), "checkout");
    }
    git_reference* updated = nullptr;
    check(git_reference_set_target(&updated, ref.get(), newId, reflog.c_str()), "update branch");
    git_reference_free(updated);
}

}  // namespace

bool isValidBranchName(const std::string& name) {
    if (name.empty() || name.size() > 250) return false;
    int valid = 0;
    if (git_branch_name_is_valid(&valid, name.c_str()) < 0) {
        git_error_clear();
        return false;
    }
    return valid != 0;
}

bool isRepository(const std::string& path) {
    try {
        openRepo(path);
        return true;
    } catch (const GitError&) {
        git_error_clear();
        return false;
    }
}

bool hasCommits(const std::string& repoPath) {
    Repo repo = openRepo(repoPath);
    return git_repository_is_empty(repo.get()) == 0 && git_repository_head_unborn(repo.get()) == 0;
}

std::string workdir(const std::string& path) { return stripSlash(git_repository_workdir(openRepo(path).get())); }

std::string mainWorkdir(const std::string& path) {
    Repo repo = openRepo(path);
    if (!git_repository_is_worktree(repo.get())) return stripSlash(git_repository_workdir(repo.get()));
    git_repository* m = nullptr;
    check(git_repository_open(&m, git_repository_commondir(repo.get())), "open main repository");
    Repo main(m);
    const char* wd = git_repository_workdir(main.get());
    return wd ? stripSlash(wd) : stripSlash(git_repository_commondir(repo.get()));
}

std::optional<std::string> currentBranch(const std::string& path) {
    Repo repo = openRepo(path);
    git_reference* h = nullptr;
    if (git_reference_lookup(&h, repo.get(), "HEAD") != 0) return std::nullopt;
    Ref head(h);
    if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return std::nullopt;
    std::string target = git_reference_symbolic_target(head.get());
    if (target.rfind("refs/heads/", 0) == 0) return target.substr(11);
    return std::nullopt;
}

std::string headSha(const std::string& path) {
    Repo repo = openRepo(path);
    git_oid id;
    if (git_reference_name_to_id(&id, repo.get(), "HEAD") != 0) {
        git_error_clear();
        return {};
    }
    return oidStr(&id);
}

bool branchExists(const std::string& repoPath, const std::string& branch) {
    Repo repo = openRepo(repoPath);
    git_reference* ref = nullptr;
    int rc = git_branch_lookup(&ref, repo.get(), branch.c_str(), GIT_BRANCH_LOCAL);
    git_reference_free(ref);
    git_error_clear();
    return rc == 0;
}

bool revisionExists(const std::string& repoPath, const std::string& spec) {
    Repo repo = openRepo(repoPath);
    try {
        resolveCommit(repo.get(), spec);
        return true;
    } catch (const GitError&) {
        git_error_clear();
        return false;
    }
}

std::string resolveBase(const std::string& repoPath, const std::string& preferred) {
    Repo repo = openRepo(repoPath);
    auto ok = [&](const std::string& spec) {
        git_object* obj = nullptr;
        int rc = git_revparse_single(&obj, repo.get(), spec.c_str());
        git_object_free(obj);
        git_error_clear();
        return rc == 0;
    };
    if (!preferred.empty()) {
        if (ok(preferred)) return preferred;
        throw GitError(ErrorKind::NotFound, "Base branch '" + preferred + "' does not exist");
    }
    for (const char* c : {"develop", "main", "master"})
        if (ok(c)) return c;
    if (ok("HEAD")) return "HEAD";
    throw GitError(ErrorKind::EmptyRepository, "Repository has no commits");
}

std::string remoteOrLocalBase(const std::string& repoPath, const std::string& base) {
    if (base == "HEAD" || base.rfind("origin/", 0) == 0) return base;
    Repo repo = openRepo(repoPath);
    git_oid id;
    if (git_reference_name_to_id(&id, repo.get(), ("refs/remotes/origin/" + base).c_str()) == 0) return "origin/" + base;
    git_error_clear();
    return base;
}

void ensureExcluded(const std::string& repoPath, const std::string& pattern) {
    Repo repo = openRepo(repoPath);
    fs::path file = fs::path(git_repository_commondir(repo.get())) / "info" / "exclude";
    std::string content;
    {
        std::ifstream in(file);
        std::stringstream ss;
        ss << in.rdbuf();
        content = ss.str();
    }
    std::istringstream lines(content);
    for (std::string line; std::getline(lines, line);)
        if (line == pattern) return;
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::app);
    if (!content.empty() && content.back() != '\n') out << '\n';
    out << pattern << '\n';
}

AddResult addWorktree(const std::string& repoPath, const std::string& adminName, const std::string& path,
                      const std::string& branch, const std::string& base, bool allowExisting, bool allowReset) {
    Repo repo = openRepo(repoPath);
    if (git_repository_is_empty(repo.get()) == 1) throw GitError(ErrorKind::EmptyRepository, "Repository has no commits");
    if (!isValidBranchName(branch)) throw GitError(ErrorKind::InvalidName, "Invalid branch name '" + branch + "'");
    std::error_code ec;
    if (fs::exists(path, ec)) throw GitError(ErrorKind::Exists, "Worktree directory already exists: " + path);
    Commit baseCommit = resolveCommit(repo.get(), base);

    AddResult result;
    git_reference* raw = nullptr;
    int rc = git_branch_lookup(&raw, repo.get(), branch.c_str(), GIT_BRANCH_LOCAL);
    Ref ref(raw);
    if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        // Like `git worktree add <path> <branch>`: a branch that exists only on origin is
        // checked out as a new local branch tracking it; otherwise it starts at the base.
        Commit start;
        bool fromRemote = false;
        git_oid remoteId;
        if (allowExisting &&
            git_reference_name_to_id(&remoteId, repo.get(), ("refs/remotes/origin/" + branch).c_str()) == 0) {
            git_commit* rc2 = nullptr;
            check(git_commit_lookup(&rc2, repo.get(), &remoteId), "remote branch commit");
            start.reset(rc2);
            fromRemote = true;
        }
        git_error_clear();
        check(git_branch_create(&raw, repo.get(), branch.c_str(), fromRemote ? start.get() : baseCommit.get(), 0),
              "create branch");
        ref.reset(raw);
        if (fromRemote && git_branch_set_upstream(ref.get(), ("origin/" + branch).c_str()) != 0) git_error_clear();
        result.mode = fromRemote ? AddMode::ExistingBranch : AddMode::NewBranch;
        result.createdBranch = true;
    } else {
        check(rc, "branch lookup");
        if (!allowExisting && !allowReset) throw GitError(ErrorKind::Exists, "Branch '" + branch + "' already exists");
        if (git_branch_is_checked_out(ref.get()) == 1)
            throw GitError(ErrorKind::InUse, "Branch '" + branch + "' is already checked out in another worktree");
        if (allowExisting) {
            result.mode = AddMode::ExistingBranch;
        } else {
            check(git_branch_create(&raw, repo.get(), branch.c_str(), baseCommit.get(), 1), "reset branch");
            ref.reset(raw);
            result.mode = AddMode::Reset;
        }
    }

    // A stale admin directory of the same name (directory deleted by hand) is pruned first.
    std::string name = adminName;
    fs::path admin = fs::path(git_repository_commondir(repo.get())) / "worktrees";
    for (int n = 2; fs::exists(admin / name, ec); ++n) {
        git_worktree* w = nullptr;
        if (git_worktree_lookup(&w, repo.get(), name.c_str()) == 0) {
            Worktree wt(w);
            git_worktree_prune_options po = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
            if (git_worktree_is_prunable(wt.get(), &po) > 0 && git_worktree_prune(wt.get(), &po) == 0) continue;
        }
        git_error_clear();
        name = adminName + "-" + std::to_string(n);
    }

    fs::create_directories(fs::path(path).parent_path(), ec);
    git_worktree_add_options opts = GIT_WORKTREE_ADD_OPTIONS_INIT;
    opts.ref = ref.get();
    opts.checkout_options.checkout_strategy = GIT_CHECKOUT_FORCE;
    git_worktree* wt = nullptr;
    rc = git_worktree_add(&wt, repo.get(), name.c_str(), path.c_str(), &opts);
    if (rc < 0) {
        std::string msg = lastMessage();
        // Leave nothing half made: directory, metadata, and the branch if we created it.
        fs::remove_all(path, ec);
        git_worktree* w = nullptr;
        if (git_worktree_lookup(&w, repo.get(), name.c_str()) == 0) {
            Worktree stale(w);
            git_worktree_prune_options po = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
            po.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_LOCKED;
            git_worktree_prune(stale.get(), &po);
        }
        if (result.createdBranch) git_branch_delete(ref.get());
        git_error_clear();
        throw GitError(kindOf(rc), "git worktree add failed: " + msg);
    }
    git_worktree_free(wt);
    git_oid id;
    check(git_reference_name_to_id(&id, repo.get(), git_reference_name(ref.get())), "resolve branch");
    result.head = oidStr(&id);
    result.adminName = name;
    return result;
}

std::vector<WorktreeEntry> listWorktrees(const std::string& repoPath) {
    Repo repo = openRepo(repoPath);
    git_strarray names{};
    check(git_worktree_list(&names, repo.get()), "worktree list");
    std::vector<WorktreeEntry> out;
    for (size_t i = 0; i < names.count; ++i) {
        git_worktree* w = nullptr;
        if (git_worktree_lookup(&w, repo.get(), names.strings[i]) != 0) continue;
        Worktree wt(w);
        WorktreeEntry e;
        e.name = names.strings[i];
        e.path = stripSlash(git_worktree_path(wt.get()));
        e.valid = git_worktree_validate(wt.get()) == 0;
        e.locked = git_worktree_is_locked(nullptr, wt.get()) > 0;
        out.push_back(std::move(e));
    }
    git_strarray_dispose(&names);
    git_error_clear();
    return out;
}

void removeWorktree(const std::string& repoPath, const std::string& path) {
    Repo repo = openRepo(repoPath);
    std::string target = canonicalPath(path);
    git_strarray names{};
    check(git_worktree_list(&names, repo.get()), "worktree list");
    for (size_t i = 0; i < names.count; ++i) {
        git_worktree* w = nullptr;
        if (git_worktree_lookup(&w, repo.get(), names.strings[i]) != 0) continue;
        Worktree wt(w);
        if (canonicalPath(git_worktree_path(wt.get())) != target) continue;
        git_worktree_prune_options po = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
        po.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_LOCKED | GIT_WORKTREE_PRUNE_WORKING_TREE;
        int rc = git_worktree_prune(wt.get(), &po);
        if (rc < 0) {
            git_strarray_dispose(&names);
            check(rc, "worktree prune");
        }
    }
    git_strarray_dispose(&names);
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) throw GitError(ErrorKind::Failed, "Could not remove " + path + ": " + ec.message());
}

void pruneStale(const std::string& repoPath) {
    Repo repo = openRepo(repoPath);
    git_strarray names{};
    if (git_worktree_list(&names, repo.get()) != 0) return;
    for (size_t i = 0; i < names.count; ++i) {
        git_worktree* w = nullptr;
        if (git_worktree_lookup(&w, repo.get(), names.strings[i]) != 0) continue;
        Worktree wt(w);
        git_worktree_prune_options po = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
        if (git_worktree_is_prunable(wt.get(), &po) > 0) git_worktree_prune(wt.get(), &po);
    }
    git_strarray_dispose(&names);
    git_error_clear();
}

void moveWorktree(const std::string& repoPath, const std::string& from, const std::string& to) {
    Repo repo = openRepo(repoPath);
    std::string target = canonicalPath(from);
    std::error_code ec;
    if (fs::exists(to, ec)) throw GitError(ErrorKind::Exists, "Destination already exists: " + to);
    git_strarray names{};
    check(git_worktree_list(&names, repo.get()), "worktree list");
    std::string admin;
    for (size_t i = 0; i < names.count && admin.empty(); ++i) {
        git_worktree* w = nullptr;
        if (git_worktree_lookup(&w, repo.get(), names.strings[i]) != 0) continue;
        Worktree wt(w);
        if (canonicalPath(git_worktree_path(wt.get())) == target) admin = names.strings[i];
    }
    git_strarray_dispose(&names);
    if (admin.empty()) throw GitError(ErrorKind::NotFound, "No git worktree at " + from);
    fs::rename(from, to, ec);
    if (ec) throw GitError(ErrorKind::Failed, "Could not move worktree: " + ec.message());
    fs::path gitdirFile = fs::path(git_repository_commondir(repo.get())) / "worktrees" / admin / "gitdir";
    std::ofstream out(gitdirFile, std::ios::trunc);
    out << (fs::path(to) / ".git").string() << '\n';
    if (!out) {
        fs::rename(to, from, ec);
        throw GitError(ErrorKind::Failed, "Could not update worktree metadata");
    }
}

void renameBranch(const std::string& repoPath, const std::string& from, const std::string& to) {
    if (!isValidBranchName(to)) throw GitError(ErrorKind::InvalidName, "Invalid branch name '" + to + "'");
    Repo repo = openRepo(repoPath);
    Ref ref = lookupBranch(repo.get(), from);
    std::string where = checkedOutAt(repo.get(), from);
    git_reference* moved = nullptr;
    int rc = git_branch_move(&moved, ref.get(), to.c_str(), 0);
    if (rc == GIT_EEXISTS) throw GitError(ErrorKind::Exists, "Branch '" + to + "' already exists");
    check(rc, "rename branch");
    git_reference_free(moved);
    // Make sure the worktree that had the branch checked out follows it.
    if (!where.empty()) {
        Repo wrepo = openRepo(where);
        git_reference* h = nullptr;
        if (git_reference_lookup(&h, wrepo.get(), "HEAD") == 0) {
            Ref head(h);
            if (git_reference_type(head.get()) == GIT_REFERENCE_SYMBOLIC &&
                std::string(git_reference_symbolic_target(head.get())) == "refs/heads/" + from) {
                git_reference* nh = nullptr;
                check(git_reference_symbolic_create(&nh, wrepo.get(), "HEAD", ("refs/heads/" + to).c_str(), 1,
                                                    "branch rename"),
                      "update HEAD");
                git_reference_free(nh);
            }
        }
    }
    git_error_clear();
}

void deleteBranch(const std::string& repoPath, const std::string& branch) {
    Repo repo = openRepo(repoPath);
    Ref ref = lookupBranch(repo.get(), branch);
    if (git_branch_is_checked_out(ref.get()) == 1 || !checkedOutAt(repo.get(), branch).empty())
        throw GitError(ErrorKind::InUse, "Branch '" + branch + "' is checked out in a worktree");
    check(git_branch_delete(ref.get()), "delete branch");
}

std::vector<BranchInfo> listBranches(const std::string& repoPath, const std::string& base) {
    Repo repo = openRepo(repoPath);
    std::optional<git_oid> baseId;
    try {
        Commit b = resolveCommit(repo.get(), base);
        baseId = *git_commit_id(b.get());
    } catch (const GitError&) {
        git_error_clear();
    }
    git_branch_iterator* it = nullptr;
    check(git_branch_iterator_new(&it, repo.get(), GIT_BRANCH_LOCAL), "branches");
    BranchIter iter(it);
    std::vector<BranchInfo> out;
    git_reference* raw = nullptr;
    git_branch_t type;
    while (git_branch_next(&raw, &type, iter.get()) == 0) {
        Ref ref(raw);
        BranchInfo b;
        const char* name = nullptr;
        git_branch_name(&name, ref.get());
        b.name = name ? name : "";
        git_oid head;
        if (git_reference_name_to_id(&head, repo.get(), git_reference_name(ref.get())) != 0) continue;
        b.head = oidStr(&head);
        b.isHead = git_branch_is_head(ref.get()) == 1;
        if (auto up = upstreamOf(repo.get(), ref.get(), b.name)) {
            b.upstream = up->first;
            b.pushed = git_oid_equal(&up->second, &head) || git_graph_descendant_of(repo.get(), &up->second, &head) == 1;
        }
        if (baseId) {
            size_t ahead = 0, behind = 0;
            if (git_graph_ahead_behind(&ahead, &behind, repo.get(), &head, &*baseId) == 0) {
                b.ahead = static_cast<int64_t>(ahead);
                b.behind = static_cast<int64_t>(behind);
            }
        }
        b.checkedOutAt = checkedOutAt(repo.get(), b.name);
        out.push_back(std::move(b));
    }
    git_error_clear();
    std::sort(out.begin(), out.end(), [](const BranchInfo& a, const BranchInfo& b) { return a.name < b.name; });
    return out;
}

MergeResult mergeBranch(const std::string& repoPath, const std::string& branch, const std::string& into) {
    Repo repo = openRepo(repoPath);
    Ref theirsRef = lookupBranch(repo.get(), branch);
    Ref oursRef = lookupBranch(repo.get(), into);
    Commit theirs = resolveCommit(repo.get(), "refs/heads/" + branch);
    Commit ours = resolveCommit(repo.get(), "refs/heads/" + into);
    const git_oid* tid = git_commit_id(theirs.get());
    const git_oid* oid = git_commit_id(ours.get());
    MergeResult result;
    if (git_oid_equal(tid, oid) || git_graph_descendant_of(repo.get(), oid, tid) == 1) {
        result.upToDate = true;
        result.commit = oidStr(oid);
        return result;
    }
    git_oid mergeBase;
    bool ff = git_merge_base(&mergeBase, repo.get(), oid, tid) == 0 && git_oid_equal(&mergeBase, oid);
    git_error_clear();
    git_oid newId;
    if (ff) {
        newId = *tid;
        result.fastForward = true;
    } else {
        git_index* idx = nullptr;
        git_merge_options mo = GIT_MERGE_OPTIONS_INIT;
        check(git_merge_commits(&idx, repo.get(), ours.get(), theirs.get(), &mo), "merge");
        Index index(idx);
        if (git_index_has_conflicts(index.get()))
            throw GitError(ErrorKind::Conflict, "Merging '" + branch + "' into '" + into + "' conflicts",
                           conflictPaths(index.get()));
        git_oid treeId;
        check(git_index_write_tree_to(&treeId, index.get(), repo.get()), "write merged tree");
        git_tree* t = nullptr;
        check(git_tree_lookup(&t, repo.get(), &treeId), "tree lookup");
        Tree tree(t);
        Signature sig = signature(repo.get());
        const git_commit* parents[] = {ours.get(), theirs.get()};
        std::string msg = "Merge branch '" + branch + "' into " + into + "\n";
        check(git_commit_create(&newId, repo.get(), nullptr, sig.get(), sig.get(), nullptr, msg.c_str(), tree.get(), 2,
                                parents),
              "merge commit");
    }
    advanceBranch(repo.get(), into, &newId, "merge " + branch);
    result.commit = oidStr(&newId);
    return result;
}

RebaseResult rebaseBranch(const std::string& repoPath, const std::string& branch, const std::string& onto) {
    Repo repo = openRepo(repoPath);
    Ref branchRef = lookupBranch(repo.get(), branch);
    Commit head = resolveCommit(repo.get(), "refs/heads/" + branch);
    Commit ontoCommit = resolveCommit(repo.get(), onto);
    const git_oid* hid = git_commit_id(head.get());
    const git_oid* oid = git_commit_id(ontoCommit.get());
    RebaseResult result;
    if (git_oid_equal(hid, oid) || git_graph_descendant_of(repo.get(), hid, oid) == 1) {
        result.head = oidStr(hid);
        return result;
    }
    git_annotated_commit* a = nullptr;
    check(git_annotated_commit_from_ref(&a, repo.get(), branchRef.get()), "annotate branch");
    Annotated branchAnn(a);
    check(git_annotated_commit_lookup(&a, repo.get(), oid), "annotate onto");
    Annotated ontoAnn(a);
    git_rebase_options ro = GIT_REBASE_OPTIONS_INIT;
    ro.inmemory = 1;
    git_rebase* rb = nullptr;
    check(git_rebase_init(&rb, repo.get(), branchAnn.get(), ontoAnn.get(), nullptr, &ro), "rebase init");
    Rebase rebase(rb);
    Signature sig = signature(repo.get());
    git_oid last = *oid;
    git_rebase_operation* op = nullptr;
    int rc;
    while ((rc = git_rebase_next(&op, rebase.get())) == 0) {
        git_index* idx = nullptr;
        check(git_rebase_inmemory_index(&idx, rebase.get()), "rebase index");
        Index index(idx);
        if (git_index_has_conflicts(index.get())) {
            auto paths = conflictPaths(index.get());
            git_rebase_abort(rebase.get());
            throw GitError(ErrorKind::Conflict, "Rebasing '" + branch + "' onto '" + onto + "' conflicts", paths);
        }
        git_oid id;
        int crc = git_rebase_commit(&id, rebase.get(), nullptr, sig.get(), nullptr, nullptr);
        if (crc == GIT_EAPPLIED) {
            git_error_clear();
            continue;
        }
        check(crc, "rebase commit");
        last = id;
        ++result.rebased;
    }
    if (rc != GIT_ITEROVER) {
        git_rebase_abort(rebase.get());
        check(rc, "rebase");
    }
    git_error_clear();
    advanceBranch(repo.get(), branch, &last, "rebase onto " + onto);
    result.head = oidStr(&last);
    return result;
}

Status computeStatus(const std::string& path, const std::string& base) {
    Repo repo = openRepo(path);
    Status st;
    git_status_options so = GIT_STATUS_OPTIONS_INIT;
    so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    git_status_list* sl = nullptr;
    check(git_status_list_new(&sl, repo.get(), &so), "status");
    StatusList list(sl);
    st.hasUncommitted = git_status_list_entrycount(list.get()) > 0;

    git_reference* h = nullptr;
    if (git_repository_head(&h, repo.get()) != 0) {
        git_error_clear();
        return st;
    }
    Ref head(h);
    const git_oid* headId = git_reference_target(head.get());
    if (!headId) return st;
    st.head = oidStr(headId);
    std::optional<git_oid> baseId;
    if (!base.empty()) {
        std::string spec = base;
        if (base != "HEAD") {
            git_oid id;
            if (git_reference_name_to_id(&id, repo.get(), ("refs/remotes/origin/" + base).c_str()) == 0) spec = "origin/" + base;
            git_error_clear();
        }
        try {
            Commit b = resolveCommit(repo.get(), spec);
            baseId = *git_commit_id(b.get());
        } catch (const GitError&) {
            git_error_clear();
        }
    }
    if (baseId) {
        size_t ahead = 0, behind = 0;
        if (git_graph_ahead_behind(&ahead, &behind, repo.get(), headId, &*baseId) == 0)
            st.commitsAheadOfBase = static_cast<int64_t>(ahead);
    }
    if (git_reference_is_branch(head.get())) {
        st.branch = git_reference_shorthand(head.get());
        if (auto up = upstreamOf(repo.get(), head.get(), st.branch)) {
            st.hasUpstream = true;
            size_t ahead = 0, behind = 0;
            if (git_graph_ahead_behind(&ahead, &behind, repo.get(), headId, &up->second) == 0)
                st.commitsAhead = static_cast<int64_t>(ahead);
        } else {
            st.commitsAhead = st.commitsAheadOfBase;
        }
    }
    git_error_clear();
    return st;
}

std::vector<FileChange> diffWorkdir(const std::string& path, const std::string& baseSpec) {
    Repo repo = openRepo(path);
    Tree tree;
    std::string spec = baseSpec.empty() ? "HEAD" : baseSpec;
    if (!(spec == "HEAD" && git_repository_head_unborn(repo.get()) == 1)) {
        Commit c = resolveCommit(repo.get(), spec);
        tree = commitTree(c.get());
    }
    git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
    dopts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | GIT_DIFF_SHOW_UNTRACKED_CONTENT |
                  GIT_DIFF_IGNORE_SUBMODULES;
    git_diff* d = nullptr;
    check(git_diff_tree_to_workdir_with_index(&d, repo.get(), tree.get(), &dopts), "diff");
    Diff diff(d);
    git_diff_find_options fo = GIT_DIFF_FIND_OPTIONS_INIT;
    fo.flags = GIT_DIFF_FIND_RENAMES | GIT_DIFF_FIND_FOR_UNTRACKED;
    check(git_diff_find_similar(diff.get(), &fo), "rename detection");
    size_t n = git_diff_num_deltas(diff.get());
    std::vector<FileChange> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
        FileChange fc;
        switch (delta->status) {
            case GIT_DELTA_ADDED:
            case GIT_DELTA_COPIED: fc.status = "added"; break;
            case GIT_DELTA_DELETED: fc.status = "deleted"; break;
            case GIT_DELTA_RENAMED: fc.status = "renamed"; break;
            case GIT_DELTA_UNTRACKED: fc.status = "untracked"; break;
            case GIT_DELTA_MODIFIED:
            case GIT_DELTA_TYPECHANGE: fc.status = "modified"; break;
            default: continue;
        }
        fc.path = delta->new_file.path ? delta->new_file.path : delta->old_file.path;
        if (delta->status == GIT_DELTA_RENAMED && delta->old_file.path) fc.oldPath = delta->old_file.path;
        git_patch* p = nullptr;
        if (git_patch_from_diff(&p, diff.get(), i) == 0 && p) {
            Patch patch(p);
            size_t ctx = 0, add = 0, del = 0;
            git_patch_line_stats(&ctx, &add, &del, patch.get());
            fc.linesAdded = static_cast<int64_t>(add);
            fc.linesRemoved = static_cast<int64_t>(del);
            fc.isBinary = (git_patch_get_delta(patch.get())->flags & GIT_DIFF_FLAG_BINARY) != 0;
        } else {
            fc.isBinary = (delta->flags & GIT_DIFF_FLAG_BINARY) != 0;
            git_error_clear();
        }
        out.push_back(std::move(fc));
    }
    return out;
}

std::optional<std::string> blobAt(const std::string& path, const std::string& spec, const std::string& file) {
    Repo repo = openRepo(path);
    std::string s = spec.empty() ? "HEAD" : spec;
    if (s == "HEAD" && git_repository_head_unborn(repo.get()) == 1) return std::nullopt;
    Commit c = resolveCommit(repo.get(), s);
    Tree tree = commitTree(c.get());
    git_tree_entry* e = nullptr;
    if (git_tree_entry_bypath(&e, tree.get(), file.c_str()) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    TreeEntry entry(e);
    if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return std::nullopt;
    git_blob* b = nullptr;
    check(git_blob_lookup(&b, repo.get(), git_tree_entry_id(entry.get())), "blob");
    Blob blob(b);
    return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                       static_cast<size_t>(git_blob_rawsize(blob.get())));
}

CommitResult commitAll(const std::string& path, const std::string& message) {
    Repo repo = openRepo(path);
    git_index* idx = nullptr;
    check(git_repository_index(&idx, repo.get()), "index");
    Index index(idx);
    char star[] = "*";
    char* patterns[] = {star};
    git_strarray ps{patterns, 1};
    check(git_index_add_all(index.get(), &ps, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr), "stage");
    check(git_index_update_all(index.get(), &ps, nullptr, nullptr), "stage deletions");
    git_oid treeId;
    check(git_index_write_tree(&treeId, index.get()), "write tree");
    git_tree* t = nullptr;
    check(git_tree_lookup(&t, repo.get(), &treeId), "tree");
    Tree tree(t);
    Commit parent;
    Tree parentTree;
    if (git_repository_head_unborn(repo.get()) != 1) {
        parent = resolveCommit(repo.get(), "HEAD");
        parentTree = commitTree(parent.get());
        if (git_oid_equal(git_tree_id(parentTree.get()), &treeId)) throw GitError(ErrorKind::Nothing, "Nothing to commit");
    }
    check(git_index_write(index.get()), "write index");
    git_diff* d = nullptr;
    check(git_diff_tree_to_tree(&d, repo.get(), parentTree.get(), tree.get(), nullptr), "diff");
    Diff diff(d);
    git_diff_find_options fo = GIT_DIFF_FIND_OPTIONS_INIT;
    fo.flags = GIT_DIFF_FIND_RENAMES;
    check(git_diff_find_similar(diff.get(), &fo), "rename detection");
    CommitResult r;
    r.filesChanged = static_cast<int64_t>(git_diff_num_deltas(diff.get()));
    Signature sig = signature(repo.get());
    const git_commit* parents[] = {parent.get()};
    git_oid id;
    check(git_commit_create(&id, repo.get(), "HEAD", sig.get(), sig.get(), nullptr, message.c_str(), tree.get(),
                            parent ? 1 : 0, parent ? parents : nullptr),
          "commit");
    r.sha = oidStr(&id);
    return r;
}

namespace {
struct PushState {
    std::string token;
    int attempts = 0;
    std::string rejected;
};
int credentials(git_credential** out, const char*, const char* userFromUrl, unsigned int allowed, void* payload) {
    auto* st = static_cast<PushState*>(payload);
    if (++st->attempts > 3) {
        git_error_set_str(GIT_ERROR_NET, "authentication failed");
        return GIT_EAUTH;
    }
    if ((allowed & GIT_CREDENTIAL_SSH_KEY) && st->attempts == 1)
        return git_credential_ssh_key_from_agent(out, userFromUrl ? userFromUrl : "git");
    if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !st->token.empty())
        return git_credential_userpass_plaintext_new(out, userFromUrl ? userFromUrl : "x-access-token", st->token.c_str());
    if (allowed & GIT_CREDENTIAL_USERNAME) return git_credential_username_new(out, userFromUrl ? userFromUrl : "git");
    git_error_set_str(GIT_ERROR_NET, "no credentials available (SSH agent or configured token)");
    return GIT_EAUTH;
}
int pushUpdate(const char* refname, const char* status, void* data) {
    if (status) static_cast<PushState*>(data)->rejected = std::string(refname) + ": " + status;
    return 0;
}
}  // namespace

PushResult push(const std::string& path, const std::string& remoteName, const std::string& token) {
    Repo repo = openRepo(path);
    git_reference* h = nullptr;
    if (git_repository_head(&h, repo.get()) != 0) throw GitError(ErrorKind::EmptyRepository, "Nothing to push: no commits");
    Ref head(h);
    if (!git_reference_is_branch(head.get())) throw GitError(ErrorKind::Failed, "HEAD is detached; nothing to push");
    std::string branch = git_reference_shorthand(head.get());
    git_remote* r = nullptr;
    if (git_remote_lookup(&r, repo.get(), remoteName.c_str()) != 0)
        throw GitError(ErrorKind::NotFound, "Remote '" + remoteName + "' is not configured");
    Remote remote(r);
    PushState st;
    st.token = token;
    git_push_options po = GIT_PUSH_OPTIONS_INIT;
    po.callbacks.credentials = credentials;
    po.callbacks.push_update_reference = pushUpdate;
    po.callbacks.payload = &st;
    std::string spec = "refs/heads/" + branch + ":refs/heads/" + branch;
    char* specs[] = {spec.data()};
    git_strarray refspecs{specs, 1};
    int rc = git_remote_push(remote.get(), &refspecs, &po);
    if (rc < 0) {
        std::string msg = lastMessage();
        throw GitError(rc == GIT_EAUTH ? ErrorKind::Auth : kindOf(rc), "Push failed: " + msg);
    }
    if (!st.rejected.empty()) throw GitError(ErrorKind::Conflict, "Push rejected: " + st.rejected);
    if (git_branch_set_upstream(head.get(), (remoteName + "/" + branch).c_str()) != 0) git_error_clear();
    PushResult out;
    out.remote = remoteName;
    out.branch = branch;
    out.head = oidStr(git_reference_target(head.get()));
    return out;
}

}  // namespace atelier::wt::git
