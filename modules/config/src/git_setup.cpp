#include "git_setup.hpp"

#include <atelier/shared/git.hpp>
#include <memory>

#include "domain_error.hpp"

namespace atelier::config {

namespace fs = std::filesystem;

namespace {

using ::atelier::git::Commit;
using ::atelier::git::Config;
using ::atelier::git::Index;
using ::atelier::git::Ref;
using ::atelier::git::Remote;
using ::atelier::git::Repo;
using ::atelier::git::Tree;
using Sig = ::atelier::git::Signature;

std::string lastGitError() { return ::atelier::git::lastError("unknown git error"); }

Repo openRepo(const fs::path& root) {
    git_repository* r = nullptr;
    if (git_repository_open_ext(&r, root.c_str(), 0, nullptr) != 0) return nullptr;
    return Repo(r);
}

// Repo-relative paths of the setup files that exist in the project.
std::vector<std::string> setupPaths(git_repository* repo, const fs::path& root) {
    std::vector<std::string> out;
    const char* wd = git_repository_workdir(repo);
    if (!wd) return out;
    std::error_code ec;
    fs::path work = fs::weakly_canonical(fs::path(wd), ec);
    for (const char* name : {".atelier/config.json", ".atelier/.gitignore"}) {
        fs::path abs = fs::weakly_canonical(root / name, ec);
        if (!fs::is_regular_file(abs, ec)) continue;
        auto rel = abs.lexically_relative(work).generic_string();
        if (rel.empty() || rel.rfind("..", 0) == 0) continue;
        out.push_back(rel);
    }
    return out;
}

std::vector<std::string> changedPaths(git_repository* repo, const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (auto& p : paths) {
        unsigned int flags = 0;
        if (git_status_file(&flags, repo, p.c_str()) != 0) {
            out.push_back(p);
            continue;
        }
        if (flags & GIT_STATUS_IGNORED) continue;
        if (flags != GIT_STATUS_CURRENT) out.push_back(p);
    }
    return out;
}

void aheadOfUpstream(git_repository* repo, SetupStatus& s) {
    git_reference* head = nullptr;
    if (git_repository_head(&head, repo) != 0) return;
    Ref h(head);
    git_reference* up = nullptr;
    if (git_branch_upstream(&up, head) != 0) return;
    Ref u(up);
    s.hasUpstream = true;
    const git_oid* a = git_reference_target(head);
    const git_oid* b = git_reference_target(up);
    if (!a || !b) return;
    size_t ahead = 0, behind = 0;
    if (git_graph_ahead_behind(&ahead, &behind, repo, a, b) == 0) s.ahead = static_cast<int>(ahead);
}

Sig signature(git_repository* repo) {
    git_signature* sig = nullptr;
    if (git_signature_default(&sig, repo) == 0) return Sig(sig);
    git_signature_now(&sig, "Atelier", "atelier@localhost");
    return Sig(sig);
}

int credentials(git_credential** out, const char*, const char* username, unsigned int allowed, void* payload) {
    int& attempts = *static_cast<int*>(payload);
    if (++attempts > 1) return GIT_EAUTH;
    if (allowed & GIT_CREDENTIAL_SSH_KEY) return git_credential_ssh_key_from_agent(out, username ? username : "git");
    if (allowed & GIT_CREDENTIAL_DEFAULT) return git_credential_default_new(out);
    return GIT_PASSTHROUGH;
}

int pushUpdateReference(const char* ref, const char* status, void* payload) {
    if (status) *static_cast<std::string*>(payload) = std::string("remote rejected ") + ref + ": " + status;
    return 0;
}

}  // namespace

SetupStatus setupStatus(const fs::path& root) {
    SetupStatus s;
    auto repo = openRepo(root);
    if (!repo) return s;
    s.isRepo = true;
    s.files = changedPaths(repo.get(), setupPaths(repo.get(), root));
    aheadOfUpstream(repo.get(), s);
    return s;
}

void stageSetupFiles(const fs::path& root) {
    auto repo = openRepo(root);
    if (!repo || git_repository_is_bare(repo.get())) return;
    git_index* idx = nullptr;
    if (git_repository_index(&idx, repo.get()) != 0) return;
    Index index(idx);
    for (auto& p : setupPaths(repo.get(), root)) git_index_add_bypath(idx, p.c_str());
    git_index_write(idx);
}

CommitSetupResult commitSetup(const fs::path& root, const std::string& message) {
    CommitSetupResult r;
    auto repo = openRepo(root);
    if (!repo) throw DomainError(DomainError::Kind::Invalid, "NOT_A_GIT_REPO", "The project is not a git repository");
    auto paths = setupPaths(repo.get(), root);
    if (paths.empty())
        throw DomainError(DomainError::Kind::Invalid, "CONFIG_NOT_FOUND", "No .atelier/config.json to commit; run init first");
    auto changed = changedPaths(repo.get(), paths);
    SetupStatus st;
    aheadOfUpstream(repo.get(), st);
    if (changed.empty() && st.ahead == 0 && st.hasUpstream) {
        r.alreadyCommitted = true;
        return r;
    }

    if (!changed.empty()) {
        // Tree = HEAD's tree + only the setup files (an in-memory index), so whatever else
        // the user staged stays out of this commit.
        git_reference* headRaw = nullptr;
        int hrc = git_repository_head(&headRaw, repo.get());
        Ref head(hrc == 0 ? headRaw : nullptr);
        Commit parent;
        if (head) {
            git_commit* pc = nullptr;
            if (git_commit_lookup(&pc, repo.get(), git_reference_target(head.get())) != 0)
                throw DomainError(DomainError::Kind::Failed, "GIT_ERROR", lastGitError());
            parent.reset(pc);
        } else if (hrc != GIT_EUNBORNBRANCH) {
            throw DomainError(DomainError::Kind::Failed, "GIT_ERROR", lastGitError());
        }
        git_index* memRaw = nullptr;
        git_index_new(&memRaw);
        Index mem(memRaw);
        if (parent) {
            git_tree* t = nullptr;
            git_commit_tree(&t, parent.get());
            Tree pt(t);
            git_index_read_tree(mem.get(), t);
        }
        git_index* realRaw = nullptr;
        if (git_repository_index(&realRaw, repo.get()) != 0)
            throw DomainError(DomainError::Kind::Failed, "GIT_ERROR", lastGitError());
        Index real(realRaw);
        for (auto& p : paths) {
            if (git_index_add_bypath(real.get(), p.c_str()) != 0)
                throw DomainError(DomainError::Kind::Failed, "GIT_ERROR", lastGitError());
            const git_index_entry* e = git_index_get_bypath(real.get(), p.c_str(), 0);
            if (!e || git_index_add(mem.get(), e) != 0)
                throw DomainError(DomainError::Kind::Failed, "GIT_ERROR", lastGitError());
        }
        git_oid treeId, commitId;
        if (git_index_write_tree_to(&treeId, mem.get(), repo.get()) != 0)
            throw DomainError(DomainError::Kind::Failed, "GIT_ERROR", lastGitError());
        git_tree* treeRaw = nullptr;
        git_tree_lookup(&treeRaw, repo.get(), &treeId);
        Tree tree(treeRaw);
        auto sig = signature(repo.get());
        const git_commit* parents[1] = {parent.get()};
        if (git_commit_create(&commitId, repo.get(), "HEAD", sig.get(), sig.get(), nullptr, message.c_str(), tree.get(),
                              parent ? 1 : 0, parents) != 0)
            throw DomainError(DomainError::Kind::Failed, "GIT_ERROR", lastGitError());
        git_index_write(real.get());
        r.committed = true;
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof hex, &commitId);
        r.commit = hex;
    }

    // Push the current branch to its upstream remote (or origin).
    git_reference* headRaw = nullptr;
    if (git_repository_head(&headRaw, repo.get()) != 0) {
        r.pushFailed = true;
        r.pushError = lastGitError();
        return r;
    }
    Ref head(headRaw);
    std::string branch = git_reference_shorthand(head.get());
    std::string remoteName = "origin";
    git_config* cfgRaw = nullptr;
    if (git_repository_config_snapshot(&cfgRaw, repo.get()) == 0) {
        Config cfg(cfgRaw);
        const char* v = nullptr;
        if (git_config_get_string(&v, cfg.get(), ("branch." + branch + ".remote").c_str()) == 0 && v) remoteName = v;
    }
    git_remote* remRaw = nullptr;
    if (git_remote_lookup(&remRaw, repo.get(), remoteName.c_str()) != 0) {
        r.pushFailed = true;
        r.pushError = "No remote '" + remoteName + "' configured";
        return r;
    }
    Remote remote(remRaw);
    std::string refspec = "refs/heads/" + branch + ":refs/heads/" + branch;
    char* specs[] = {refspec.data()};
    git_strarray arr{specs, 1};
    git_push_options opts;
    git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
    // both callbacks share one payload pointer in libgit2
    struct Payload {
        int attempts;
        std::string rejected;
    } payload{0, {}};
    opts.callbacks.credentials = [](git_credential** out, const char* url, const char* user, unsigned int allowed,
                                    void* p) -> int {
        return credentials(out, url, user, allowed, &static_cast<Payload*>(p)->attempts);
    };
    opts.callbacks.push_update_reference = [](const char* ref, const char* status, void* p) -> int {
        return pushUpdateReference(ref, status, &static_cast<Payload*>(p)->rejected);
    };
    opts.callbacks.payload = &payload;
    if (git_remote_push(remote.get(), &arr, &opts) != 0) {
        r.pushFailed = true;
        r.pushError = lastGitError();
        return r;
    }
    if (!payload.rejected.empty()) {
        r.pushFailed = true;
        r.pushError = payload.rejected;
        return r;
    }
    r.pushed = true;
    // Track the pushed branch when nothing was tracked yet (ignored on failure).
    git_reference* up = nullptr;
    if (git_branch_upstream(&up, head.get()) == 0) git_reference_free(up);
    else git_branch_set_upstream(head.get(), (remoteName + "/" + branch).c_str());
    return r;
}

}  // namespace atelier::config
