// Real git repositories for the unit tests, made with libgit2 in temporary directories.
#pragma once

#include <git2.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace projects::testing {

namespace fs = std::filesystem;

// Removes every directory tempDir() made when the test program exits.
struct TempDirs {
    std::vector<std::string> dirs;
    ~TempDirs() {
        std::error_code ec;
        for (auto& d : dirs) fs::remove_all(d, ec);
    }
};
inline TempDirs& tempDirs() {
    static TempDirs t;
    return t;
}

inline std::string tempDir(const std::string& prefix = "projects-test-") {
    std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    auto dir = fs::canonical(buf.data()).string();
    tempDirs().dirs.push_back(dir);
    return dir;
}

inline void writeFile(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}

// A repository on branch `main`; with `commit`, every file is added and committed once.
inline std::string makeRepo(const std::map<std::string, std::string>& files = {{"README.md", "# test\n"}},
                            bool commit = true, std::string dir = {}) {
    git_libgit2_init();
    if (dir.empty()) dir = tempDir("projects-repo-");
    git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    opts.flags = GIT_REPOSITORY_INIT_MKPATH;
    opts.initial_head = "main";
    git_repository* repo = nullptr;
    if (git_repository_init_ext(&repo, dir.c_str(), &opts) != 0) throw std::runtime_error("git init failed");
    for (auto& [name, content] : files) writeFile(fs::path(dir) / name, content);
    if (commit) {
        git_index* idx = nullptr;
        git_repository_index(&idx, repo);
        git_index_add_all(idx, nullptr, 0, nullptr, nullptr);
        git_index_write(idx);
        git_oid treeId, commitId;
        git_index_write_tree(&treeId, idx);
        git_tree* tree = nullptr;
        git_tree_lookup(&tree, repo, &treeId);
        git_signature* sig = nullptr;
        git_signature_now(&sig, "Test", "test@example.com");
        if (git_commit_create_v(&commitId, repo, "HEAD", sig, sig, nullptr, "initial", tree, 0) != 0)
            throw std::runtime_error("git commit failed");
        git_signature_free(sig);
        git_tree_free(tree);
        git_index_free(idx);
    }
    git_repository_free(repo);
    git_libgit2_shutdown();
    return dir;
}

// A linked worktree of `repo` at `path` (parents are created) on a new branch `name`.
inline void addWorktree(const std::string& repo, const std::string& name, const std::string& path) {
    git_libgit2_init();
    fs::create_directories(fs::path(path).parent_path());
    git_repository* r = nullptr;
    if (git_repository_open(&r, repo.c_str()) != 0) throw std::runtime_error("open failed");
    git_worktree* wt = nullptr;
    if (git_worktree_add(&wt, r, name.c_str(), path.c_str(), nullptr) != 0) {
        git_repository_free(r);
        throw std::runtime_error(std::string("worktree add failed: ") + git_error_last()->message);
    }
    git_worktree_free(wt);
    git_repository_free(r);
    git_libgit2_shutdown();
}

// Changes the working directory for the lifetime of the object.
class ScopedCwd {
public:
    explicit ScopedCwd(const std::string& dir) : old_(fs::current_path()) { fs::current_path(dir); }
    ~ScopedCwd() {
        std::error_code ec;
        fs::current_path(old_, ec);
    }

private:
    fs::path old_;
};

}  // namespace projects::testing
