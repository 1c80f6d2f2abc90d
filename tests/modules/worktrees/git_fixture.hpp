// Test fixtures for the worktrees module: real repositories in temporary directories built
// with the git CLI (tests may use it; the module never does).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "wait.hpp"

namespace wtfix {

namespace fs = std::filesystem;

inline std::string tempDir(const std::string& prefix = "wt-test-") {
    std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    return fs::canonical(buf.data()).string();
}

// Runs argv in cwd (no shell); returns the exit code, output in *out.
inline int run(const std::vector<std::string>& argv, const std::string& cwd = {}, std::string* out = nullptr) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
        setenv("GIT_AUTHOR_NAME", "Test", 1);
        setenv("GIT_AUTHOR_EMAIL", "test@example.com", 1);
        setenv("GIT_COMMITTER_NAME", "Test", 1);
        setenv("GIT_COMMITTER_EMAIL", "test@example.com", 1);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(fds[1]);
    std::string output;
    char tmp[4096];
    ssize_t n;
    while ((n = read(fds[0], tmp, sizeof tmp)) > 0) output.append(tmp, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (out) *out = output;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string git(const std::string& cwd, std::vector<std::string> args) {
    args.insert(args.begin(), "git");
    std::string out;
    int rc = run(args, cwd, &out);
    if (rc != 0) throw std::runtime_error("git failed (" + std::to_string(rc) + "): " + out);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}
inline int gitRc(const std::string& cwd, std::vector<std::string> args, std::string* out = nullptr) {
    args.insert(args.begin(), "git");
    return run(args, cwd, out);
}

inline void write(const std::string& path, const std::string& content) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
}
inline std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A repository on `main` with files, nested .env files and one commit.
inline std::string makeRepo(const std::map<std::string, std::string>& files = {}, bool commit = true) {
    std::string dir = tempDir("wt-repo-");
    git(dir, {"init", "-q", "-b", "main"});
    git(dir, {"config", "user.name", "Test"});
    git(dir, {"config", "user.email", "test@example.com"});
    std::map<std::string, std::string> all = files;
    if (all.empty()) {
        all["README.md"] = "hello\n";
        all["src/app.txt"] = "line1\nline2\nline3\n";
        all["src/lib/util.txt"] = "util\n";
        all[".gitignore"] = ".env*\n";
    }
    for (auto& [name, content] : all) write(dir + "/" + name, content);
    if (commit) {
        git(dir, {"add", "-A"});
        git(dir, {"commit", "-q", "-m", "initial"});
    }
    return dir;
}

// A bare repository configured as `origin` of repo, with main pushed.
inline std::string addBareRemote(const std::string& repo) {
    std::string bare = tempDir("wt-bare-");
    git(bare, {"init", "-q", "--bare"});
    git(repo, {"remote", "add", "origin", bare});
    git(repo, {"push", "-q", "origin", "main"});
    git(repo, {"fetch", "-q", "origin"});
    return bare;
}

using atelier::test::waitFor;

}  // namespace wtfix
