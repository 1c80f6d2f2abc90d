#include "git_repo.hpp"

#include <atelier/shared/git.hpp>
#include <filesystem>
#include <memory>

namespace projects::git {

namespace fs = std::filesystem;

namespace {

using RepoPtr = ::atelier::git::Repo;

std::string lastGitError() { return ::atelier::git::lastError(); }

std::string canonical(const std::string& p) {
    std::error_code ec;
    auto c = fs::weakly_canonical(fs::path(p), ec);
    std::string s = ec ? fs::path(p).lexically_normal().string() : c.string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

RepoPtr open(const std::string& path, unsigned flags) {
    git_repository* raw = nullptr;
    if (git_repository_open_ext(&raw, path.c_str(), flags, nullptr) != 0) return nullptr;
    return RepoPtr(raw);
}

std::optional<std::string> workdirOf(git_repository* repo) {
    if (!repo || git_repository_is_bare(repo)) return std::nullopt;
    const char* wd = git_repository_workdir(repo);
    if (!wd) return std::nullopt;
    return canonical(wd);
}

}  // namespace

std::optional<std::string> discoverRoot(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::nullopt;
    auto repo = open(path, 0);
    if (!repo) return std::nullopt;
    return workdirOf(repo.get());
}

std::optional<std::string> discoverMainRoot(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::nullopt;
    auto repo = open(path, 0);
    if (!repo) return std::nullopt;
    if (git_repository_is_worktree(repo.get()) == 1) {
        const char* common = git_repository_commondir(repo.get());
        if (common) {
            auto main = open(common, GIT_REPOSITORY_OPEN_NO_SEARCH);
            if (auto wd = workdirOf(main.get())) return wd;
        }
    }
    return workdirOf(repo.get());
}

bool isRepositoryRoot(const std::string& path) {
    std::error_code ec;
    if (!fs::is_directory(path, ec)) return false;
    auto repo = open(path, GIT_REPOSITORY_OPEN_NO_SEARCH);
    if (!repo) return false;
    auto wd = workdirOf(repo.get());
    return wd && *wd == canonical(path);
}

std::optional<std::string> headBranch(const std::string& root) {
    auto repo = open(root, GIT_REPOSITORY_OPEN_NO_SEARCH);
    if (!repo) return std::nullopt;
    if (git_repository_head_detached(repo.get()) == 1) return std::nullopt;
    git_reference* head = nullptr;
    if (git_reference_lookup(&head, repo.get(), "HEAD") != 0) return std::nullopt;
    std::optional<std::string> out;
    if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
        std::string target = git_reference_symbolic_target(head);
        const std::string prefix = "refs/heads/";
        if (target.rfind(prefix, 0) == 0) out = target.substr(prefix.size());
    }
    git_reference_free(head);
    return out;
}

std::vector<std::string> trackedFiles(const std::string& root, const std::string& subdir) {
    auto repo = open(root, GIT_REPOSITORY_OPEN_NO_SEARCH);
    if (!repo) throw GitError("cannot open repository: " + lastGitError());
    git_index* index = nullptr;
    if (git_repository_index(&index, repo.get()) != 0) throw GitError("cannot read the index: " + lastGitError());
    std::string prefix;
    if (!subdir.empty()) {
        auto rel = fs::path(canonical(subdir)).lexically_relative(canonical(root)).generic_string();
        if (!rel.empty() && rel != ".") prefix = rel + "/";
    }
    std::vector<std::string> out;
    size_t n = git_index_entrycount(index);
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const git_index_entry* e = git_index_get_byindex(index, i);
        if (!e || !e->path) continue;
        std::string p = e->path;
        if (!prefix.empty()) {
            if (p.compare(0, prefix.size(), prefix) != 0) continue;
            p.erase(0, prefix.size());
        }
        // Conflicted paths appear once per stage; the index is sorted, so skip repeats.
        if (!out.empty() && out.back() == p) continue;
        out.push_back(std::move(p));
    }
    git_index_free(index);
    return out;
}

}  // namespace projects::git
