// worktrees benchmark (issue 4): on a generated repository,
//  1. worktree creation time as a ratio to `git worktree add` in the same run (target <= 1.2),
//     both for the libgit2 core (git_ops::addWorktree) and the whole POST /api/worktrees flow;
//  2. GET /api/worktrees with 50 worktrees including the status fields (target p95 < 150 ms),
//     plus the cost of one full status recomputation (what the background refresher does);
//  3. GET /api/worktrees/:id/diff with 1,000 changed files (target < 300 ms).
// The module runs in the in-process fake host with a stand-in projects module.
//
// Usage: worktrees_bench [--files 20000] [--worktrees 50] [--diff-files 1000] [--runs 3] [--keep]
#include "fake_collaborators.hpp"
#include "git_fixture.hpp"
#include "git_ops.hpp"

#include <optional>
#include <atelier/shared/git.hpp>
#include <atelier/testing/fake_host.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t idx = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - 1;
    return v[std::min(idx, v.size() - 1)];
}
double median(const std::vector<double>& v) { return percentile(v, 50); }

void generateRepo(const std::string& dir, int files) {
    wtfix::git(dir, {"init", "-q", "-b", "main"});
    wtfix::git(dir, {"config", "user.name", "Bench"});
    wtfix::git(dir, {"config", "user.email", "bench@example.com"});
    for (int i = 0; i < files; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "/d%03d/f%05d.txt", i / 100, i);
        wtfix::write(dir + name, "file " + std::to_string(i) + "\nline two\nline three\n");
    }
    wtfix::write(dir + "/.gitignore", ".env*\n");
    wtfix::write(dir + "/.env", "A=1\n");
    wtfix::git(dir, {"add", "-A"});
    wtfix::git(dir, {"commit", "-q", "-m", "generated"});
}

bool waitCreated(atelier::testing::FakeHost& host, const std::string& id) {
    return wtfix::waitFor(
        [&] {
            auto r = host.request("GET", "/api/worktrees/" + id);
            if (r.status != 200) return true;
            return r.json()->getValue<std::string>("status") != "creating";
        },
        std::chrono::minutes(5));
}

}  // namespace

int main(int argc, char** argv) {
    int files = 20000, worktrees = 50, diffFiles = 1000, runs = 3;
    bool keep = false;
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
    for (int i = 1; i < argc; ++i) {
        auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
        if (!std::strcmp(argv[i], "--files")) files = next();
        else if (!std::strcmp(argv[i], "--worktrees")) worktrees = next();
        else if (!std::strcmp(argv[i], "--diff-files")) diffFiles = next();
        else if (!std::strcmp(argv[i], "--runs")) runs = next();
        else if (!std::strcmp(argv[i], "--keep")) keep = true;
    }
    std::string repo = wtfix::tempDir("wt-bench-repo-");
    std::string scratch = wtfix::tempDir("wt-bench-scratch-");
    std::printf("worktrees benchmark: %d files, %d worktrees, %d changed files, %d runs\n", files, worktrees, diffFiles, runs);
    auto t0 = Clock::now();
    generateRepo(repo, files);
    std::printf("generated repository in %.0f ms: %s\n", ms(Clock::now() - t0), repo.c_str());

    std::optional<atelier::git::Library> libgit2(std::in_place);
    auto& st = wtfake::state();
    st.localPath = repo;
    atelier::testing::FakeHost host;
    host.setConfig("worktrees", R"({"statusRefreshMs":0})");
    host.load(wtfake::fakeProjectsEntry());
    host.load(atelier_module_entry_v1());

    // ---- 1. creation vs git worktree add (interleaved so both see the same cache state)
    std::vector<double> gitMs, coreMs, apiMs;
    for (int r = 0; r < runs; ++r) {
        std::string gp = scratch + "/git-" + std::to_string(r);
        auto a = Clock::now();
        wtfix::git(repo, {"worktree", "add", "-q", "-b", "bench-git-" + std::to_string(r), gp, "main"});
        gitMs.push_back(ms(Clock::now() - a));

        std::string cp = scratch + "/core-" + std::to_string(r);
        a = Clock::now();
        atelier::wt::git::addWorktree(repo, "core-" + std::to_string(r), cp, "bench-core-" + std::to_string(r), "main", false, false);
        coreMs.push_back(ms(Clock::now() - a));

        a = Clock::now();
        auto c = host.request("POST", "/api/worktrees", "{\"branch\":\"bench-api-" + std::to_string(r) + "\"}");
        if (c.status != 201 || !waitCreated(host, "bench-api-" + std::to_string(r))) {
            std::fprintf(stderr, "create failed: %s\n", c.body.c_str());
            return 1;
        }
        apiMs.push_back(ms(Clock::now() - a));

        wtfix::git(repo, {"worktree", "remove", "--force", gp});
        atelier::wt::git::removeWorktree(repo, cp);
        host.request("DELETE", "/api/worktrees/bench-api-" + std::to_string(r));
    }
    double g = median(gitMs), c = median(coreMs), api = median(apiMs);
    std::printf("\n[create] git worktree add     median %8.1f ms\n", g);
    std::printf("[create] libgit2 core (module) median %8.1f ms   ratio %.2f (target <= 1.2)\n", c, c / g);
    std::printf("[create] POST /api/worktrees   median %8.1f ms   ratio %.2f (incl. env copy, events, polling)\n", api, api / g);

    // ---- 2. list with N worktrees
    auto a = Clock::now();
    for (int i = 0; i < worktrees; ++i) {
        std::string b = "list-" + std::to_string(i);
        auto r = host.request("POST", "/api/worktrees", "{\"branch\":\"" + b + "\"}");
        if (r.status != 201) {
            std::fprintf(stderr, "create %s failed: %s\n", b.c_str(), r.body.c_str());
            return 1;
        }
    }
    for (int i = 0; i < worktrees; ++i) waitCreated(host, "list-" + std::to_string(i));
    std::printf("\ncreated %d worktrees in %.0f ms\n", worktrees, ms(Clock::now() - a));
    std::vector<double> listMs;
    size_t count = 0;
    for (int i = 0; i < 100; ++i) {
        a = Clock::now();
        auto r = host.request("GET", "/api/worktrees");
        listMs.push_back(ms(Clock::now() - a));
        count = r.json()->getArray("worktrees")->size();
    }
    std::printf("[list] GET /api/worktrees (%zu entries)  p50 %.1f ms  p95 %.1f ms (target p95 < 150)\n", count,
                median(listMs), percentile(listMs, 95));
    a = Clock::now();
    for (int i = 0; i < worktrees; ++i)
        atelier::wt::git::computeStatus(repo + "/.atelier/worktrees/list-" + std::to_string(i), "main");
    std::printf("[list] full status recomputation of %d worktrees (background refresher): %.0f ms\n", worktrees,
                ms(Clock::now() - a));

    // ---- 3. diff with K changed files
    std::string dpath = repo + "/.atelier/worktrees/list-0";
    for (int i = 0; i < diffFiles && i < files; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "/d%03d/f%05d.txt", i / 100, i);
        std::ofstream(dpath + name, std::ios::app) << "appended line\n";
    }
    std::vector<double> diffMs;
    size_t changed = 0;
    for (int i = 0; i < 20; ++i) {
        a = Clock::now();
        auto r = host.request("GET", "/api/worktrees/list-0/diff");
        diffMs.push_back(ms(Clock::now() - a));
        changed = r.json()->getArray("files")->size();
    }
    std::printf("[diff] GET /api/worktrees/:id/diff (%zu files)  p50 %.1f ms  p95 %.1f ms (target < 300)\n", changed,
                median(diffMs), percentile(diffMs, 95));

    host.unloadAll();
    libgit2.reset();
    if (!keep) {
        std::error_code ec;
        fs::remove_all(repo, ec);
        fs::remove_all(scratch, ec);
    }
    return 0;
}
