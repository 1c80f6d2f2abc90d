// Figures for the projects module, measured in process through the fake host (no HTTP):
//  - POST /api/projects throughput
//  - GET /api/projects (a full page of 100 projects, each with repos) p50/p95
//  - GET /api/active-project from the start directory p50/p95
//  - GET /api/projects/:id/files on a generated repository with 20,000 tracked files p50/p95
#include <algorithm>
#include <atelier/testing/fake_host.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "git_fixture.hpp"

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Stats {
    double p50, p95, max;
};
Stats measure(int n, const std::function<void()>& fn) {
    std::vector<double> xs;
    xs.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        fn();
        xs.push_back(ms(Clock::now() - t0));
    }
    std::sort(xs.begin(), xs.end());
    return {xs[xs.size() / 2], xs[std::min(xs.size() - 1, xs.size() * 95 / 100)], xs.back()};
}

void check(const atelier::testing::FakeResponse& r, int status, const char* what) {
    if (r.status != status) {
        std::fprintf(stderr, "%s: expected %d, got %d: %s\n", what, status, r.status, r.body.substr(0, 300).c_str());
        std::exit(1);
    }
}

}  // namespace

int main() {
    using projects::testing::makeRepo;
    // A repository with 20,000 files in 200 directories; the server "starts" in it.
    std::map<std::string, std::string> files;
    for (int d = 0; d < 200; ++d)
        for (int f = 0; f < 100; ++f)
            files["dir" + std::to_string(d) + "/file" + std::to_string(f) + ".txt"] =
                "content " + std::to_string(d * 100 + f) + "\n";
    auto t0 = Clock::now();
    std::string big = makeRepo(files);
    std::printf("generated repository: 20000 files in %.0f ms\n", ms(Clock::now() - t0));
    std::vector<std::string> smallRepos;
    for (int i = 0; i < 3; ++i) smallRepos.push_back(makeRepo());

    projects::testing::ScopedCwd cwd(big);
    atelier::testing::FakeHost host;
    t0 = Clock::now();
    host.load(atelier_module_entry_v1());
    std::printf("module start (migrations + start-directory registration): %.1f ms\n", ms(Clock::now() - t0));

    const int n = 1000;
    t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        std::string body = R"({"name":"Project )" + std::to_string(i) + R"("})";
        check(host.request("POST", "/api/projects", body), 201, "create");
    }
    double createMs = ms(Clock::now() - t0);
    std::printf("POST /api/projects: %d creates in %.0f ms (%.0f/s, %.3f ms each)\n", n, createMs,
                n * 1000.0 / createMs, createMs / n);
    // Give the first page some repos.
    for (int i = 0; i < 30; ++i)
        for (auto& r : smallRepos)
            check(host.request("POST", "/api/projects/project-" + std::to_string(i) + "/repos",
                               R"({"repo_path":")" + r + "\"}"),
                  201, "add repo");

    auto list = measure(200, [&] { check(host.request("GET", "/api/projects?limit=100"), 200, "list"); });
    std::printf("GET /api/projects?limit=100 (of %d, 90 repos on the page): p50 %.2f ms  p95 %.2f ms  max %.2f ms\n",
                n + 1, list.p50, list.p95, list.max);
    auto search = measure(200, [&] { check(host.request("GET", "/api/projects?search=project%2099"), 200, "search"); });
    std::printf("GET /api/projects?search=…: p50 %.2f ms  p95 %.2f ms\n", search.p50, search.p95);
    auto one = measure(500, [&] { check(host.request("GET", "/api/projects/project-500"), 200, "get"); });
    std::printf("GET /api/projects/:slug: p50 %.3f ms  p95 %.3f ms\n", one.p50, one.p95);
    auto active = measure(500, [&] { check(host.request("GET", "/api/active-project"), 200, "active"); });
    std::printf("GET /api/active-project (start directory): p50 %.3f ms  p95 %.3f ms\n", active.p50, active.p95);
    auto activeQ =
        measure(500, [&] { check(host.request("GET", "/api/active-project?project=project-7"), 200, "active?"); });
    std::printf("GET /api/active-project?project=slug: p50 %.3f ms  p95 %.3f ms\n", activeQ.p50, activeQ.p95);
    std::string startId = host.request("GET", "/api/active-project").json()->getValue<std::string>("id");
    auto filesStats =
        measure(30, [&] { check(host.request("GET", "/api/projects/" + startId + "/files"), 200, "files"); });
    std::printf("GET /api/projects/:id/files (20000 tracked files): p50 %.1f ms  p95 %.1f ms  max %.1f ms\n",
                filesStats.p50, filesStats.p95, filesStats.max);

    std::error_code ec;
    fs::remove_all(big, ec);
    for (auto& r : smallRepos) fs::remove_all(r, ec);
    return 0;
}
