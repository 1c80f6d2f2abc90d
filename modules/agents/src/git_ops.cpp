#include "git_ops.hpp"

#include <atelier/shared/git.hpp>
#include <ctime>
#include <filesystem>
#include <memory>

namespace agents::git {

namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what + ": " + ::atelier::git::lastError()); }
void check(int rc, const std::string& what) {
    if (rc < 0) fail(what);
}

using ::atelier::git::Commit;
using ::atelier::git::Diff;
using ::atelier::git::Index;
using ::atelier::git::Ref;
using ::atelier::git::Remote;
using ::atelier::git::Repo;
using ::atelier::git::Tree;
using Sig = ::atelier::git::Signature;
using Obj = ::atelier::git::Object;

Repo open(const std::string& path) {
    git_repository* r = nullptr;
    check(git_repository_open(&r, path.c_str()), "cannot open repository at " + path);
    return Repo(r);
}

Tree treeOf(git_repository* repo, const std::string& commitish) {
    git_object* o = nullptr;
    check(git_revparse_single(&o, repo, commitish.c_str()), "unknown revision " + commitish);
    Obj obj(o);
    git_object* t = nullptr;
    check(git_object_peel(&t, obj.get(), GIT_OBJECT_TREE), "cannot peel " + commitish);
    return Tree(reinterpret_cast<git_tree*>(t));
}

Diff diffAgainst(git_repository* repo, const std::string& base) {
    Tree tree = treeOf(repo, base.empty() ? "HEAD" : base);
    git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
    opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | GIT_DIFF_SHOW_UNTRACKED_CONTENT;
    git_diff* d = nullptr;
    check(git_diff_tree_to_workdir_with_index(&d, repo, tree.get(), &opts), "diff failed");
    return Diff(d);
}

const char* statusName(git_delta_t s) {
    switch (s) {
        case GIT_DELTA_ADDED:
        case GIT_DELTA_UNTRACKED: return "added";
        case GIT_DELTA_DELETED: return "deleted";
        case GIT_DELTA_RENAMED: return "renamed";
        default: return "modified";
    }
}

}  // namespace

std::string headCommit(const std::string& worktree) {
    auto repo = open(worktree);
    git_oid oid;
    check(git_reference_name_to_id(&oid, repo.get(), "HEAD"), "no HEAD");
    char buf[GIT_OID_HEXSZ + 1];
    git_oid_tostr(buf, sizeof buf, &oid);
    return buf;
}

std::string currentBranch(const std::string& worktree) {
    auto repo = open(worktree);
    git_reference* r = nullptr;
    check(git_repository_head(&r, repo.get()), "no HEAD");
    Ref ref(r);
    const char* name = nullptr;
    if (git_branch_name(&name, ref.get()) < 0 || !name) return {};
    return name;
}

bool isDirty(const std::string& worktree) {
    auto repo = open(worktree);
    git_status_options opts = GIT_STATUS_OPTIONS_INIT;
    opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
    git_status_list* list = nullptr;
    check(git_status_list_new(&list, repo.get(), &opts), "status failed");
    size_t n = git_status_list_entrycount(list);
    git_status_list_free(list);
    return n > 0;
}

JsonObject diffStats(const std::string& worktree, const std::string& baseCommit) {
    auto repo = open(worktree);
    auto diff = diffAgainst(repo.get(), baseCommit);
    auto changes = atelier::makeArray();
    int64_t ins = 0, del = 0;
    size_t n = git_diff_num_deltas(diff.get());
    for (size_t i = 0; i < n; ++i) {
        git_patch* p = nullptr;
        if (git_patch_from_diff(&p, diff.get(), i) < 0) continue;
        size_t ctx = 0, a = 0, d = 0;
        git_patch_line_stats(&ctx, &a, &d, p);
        const git_diff_delta* delta = git_patch_get_delta(p);
        auto c = atelier::makeObject();
        c->set("path", std::string(delta->new_file.path ? delta->new_file.path : delta->old_file.path));
        c->set("status", statusName(delta->status));
        c->set("insertions", static_cast<int64_t>(a));
        c->set("deletions", static_cast<int64_t>(d));
        changes->add(c);
        ins += static_cast<int64_t>(a);
        del += static_cast<int64_t>(d);
        git_patch_free(p);
    }
    auto o = atelier::makeObject();
    o->set("files", static_cast<int64_t>(n));
    o->set("insertions", ins);
    o->set("deletions", del);
    o->set("changes", changes);
    return o;
}

std::string diffText(const std::string& worktree, const std::string& baseCommit) {
    auto repo = open(worktree);
    auto diff = diffAgainst(repo.get(), baseCommit);
    git_buf buf = GIT_BUF_INIT;
    check(git_diff_to_buf(&buf, diff.get(), GIT_DIFF_FORMAT_PATCH), "diff format failed");
    std::string out(buf.ptr ? buf.ptr : "", buf.size);
    git_buf_dispose(&buf);
    return out;
}

std::string commitAll(const std::string& worktree, const std::string& message, const std::string& authorName,
                      const std::string& authorEmail) {
    auto repo = open(worktree);
    git_index* ix = nullptr;
    check(git_repository_index(&ix, repo.get()), "no index");
    Index index(ix);
    git_strarray all = {nullptr, 0};
    check(git_index_add_all(index.get(), &all, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr), "add failed");
    check(git_index_update_all(index.get(), &all, nullptr, nullptr), "update failed");
    check(git_index_write(index.get()), "index write failed");
    git_oid treeId;
    check(git_index_write_tree(&treeId, index.get()), "write tree failed");
    git_oid headId;
    bool hasHead = git_reference_name_to_id(&headId, repo.get(), "HEAD") == 0;
    Commit parent;
    if (hasHead) {
        git_commit* c = nullptr;
        check(git_commit_lookup(&c, repo.get(), &headId), "head lookup failed");
        parent.reset(c);
        if (git_oid_equal(git_commit_tree_id(parent.get()), &treeId)) return {};
    }
    git_tree* t = nullptr;
    check(git_tree_lookup(&t, repo.get(), &treeId), "tree lookup failed");
    Tree tree(t);
    git_signature* s = nullptr;
    check(git_signature_now(&s, authorName.c_str(), authorEmail.c_str()), "bad signature");
    Sig sig(s);
    git_oid out;
    const git_commit* parents[1] = {parent.get()};
    check(git_commit_create(&out, repo.get(), "HEAD", sig.get(), sig.get(), nullptr, message.c_str(), tree.get(),
                            hasHead ? 1 : 0, parents),
          "commit failed");
    char buf[GIT_OID_HEXSZ + 1];
    git_oid_tostr(buf, sizeof buf, &out);
    return buf;
}

void push(const std::string& worktree, const std::string& branch, const std::string& remoteName) {
    auto repo = open(worktree);
    git_remote* r = nullptr;
    check(git_remote_lookup(&r, repo.get(), remoteName.c_str()), "no remote '" + remoteName + "'");
    Remote remote(r);
    std::string spec = "refs/heads/" + branch + ":refs/heads/" + branch;
    char* specs[] = {spec.data()};
    git_strarray refspecs = {specs, 1};
    git_push_options opts = GIT_PUSH_OPTIONS_INIT;
    check(git_remote_push(remote.get(), &refspecs, &opts), "push to '" + remoteName + "' failed");
}

bool isValidBranchName(const std::string& name) {
    if (name.empty()) return false;
    int valid = 0;
    std::string ref = "refs/heads/" + name;
    if (git_reference_name_is_valid(&valid, ref.c_str()) < 0) return false;
    return valid != 0;
}

void renameBranch(const std::string& worktree, const std::string& newName) {
    if (!isValidBranchName(newName)) throw Error("invalid branch name '" + newName + "'");
    auto repo = open(worktree);
    git_reference* h = nullptr;
    check(git_repository_head(&h, repo.get()), "no HEAD");
    Ref head(h);
    if (!git_reference_is_branch(head.get())) throw Error("HEAD is not a branch");
    git_reference* moved = nullptr;
    check(git_branch_move(&moved, head.get(), newName.c_str(), 0), "rename failed");
    Ref m(moved);
}

void revertTo(const std::string& worktree, const std::string& baseCommit) {
    auto repo = open(worktree);
    git_object* o = nullptr;
    check(git_revparse_single(&o, repo.get(), baseCommit.c_str()), "unknown base " + baseCommit);
    Obj target(o);
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
    check(git_reset(repo.get(), target.get(), GIT_RESET_HARD, &co), "reset failed");
}

void addWorktreeForBranch(const std::string& repoPath, const std::string& path, const std::string& branch) {
    auto repo = open(repoPath);
    git_strarray names = {nullptr, 0};
    if (git_worktree_list(&names, repo.get()) == 0) {
        for (size_t i = 0; i < names.count; ++i) {
            git_worktree* wt = nullptr;
            if (git_worktree_lookup(&wt, repo.get(), names.strings[i]) != 0) continue;
            if (git_worktree_validate(wt) != 0) {
                git_worktree_prune_options po = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
                git_worktree_prune(wt, &po);
            }
            git_worktree_free(wt);
        }
        git_strarray_dispose(&names);
    }
    git_reference* r = nullptr;
    check(git_branch_lookup(&r, repo.get(), branch.c_str(), GIT_BRANCH_LOCAL), "branch " + branch + " not found");
    Ref ref(r);
    git_worktree_add_options opts = GIT_WORKTREE_ADD_OPTIONS_INIT;
    opts.ref = ref.get();
    std::string name = branch;
    for (auto& c : name)
        if (c == '/') c = '-';
    name += "-" + std::to_string(git_time_t(::time(nullptr)));
    git_worktree* wt = nullptr;
    check(git_worktree_add(&wt, repo.get(), name.c_str(), path.c_str(), &opts), "cannot re-create worktree at " + path);
    git_worktree_free(wt);
}

}  // namespace agents::git
