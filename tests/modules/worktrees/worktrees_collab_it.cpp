// Integration with the real collaborators: deleting a worktree while a dev server (devservers
// module, a real process) and a terminal (terminal module, a real PTY) run in it. The
// worktree.removing hook stops both and the DELETE answer carries their counts.
#include "git_fixture.hpp"
#include "test_server.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

namespace fs = std::filesystem;
using atelier::test::HttpResult;
using atelier::test::TestServer;

namespace {

TEST(WorktreesCollab, DeleteStopsProcessAndTerminal) {
    std::string repo = wtfix::makeRepo({{"README.md", "hi\n"}, {".gitignore", ".env*\n.atelier/\n"}});
    TestServer::Options o;
    o.cwd = repo;
    TestServer server(o);
    // See worktrees_it.cpp: warm up past the known start-up 500 of GET /api/active-project.
    wtfix::waitFor([&] { return server.get("/api/active-project").status == 200; }, std::chrono::milliseconds(5000));
    auto mods = server.get("/api/modules");
    for (const char* m : {"\"terminal\"", "\"devservers\"", "\"config\""})
        if (mods.body.find(m) == std::string::npos) GTEST_SKIP() << "module " << m << " not loaded: " << mods.body;

    auto cfg = server.patch("/api/config", R"({"startCommand":"sleep 300"})");
    ASSERT_EQ(cfg.status, 200) << cfg.body;
    ASSERT_EQ(server.post("/api/worktrees", R"({"branch":"busy"})").status, 201);
    HttpResult wt;
    wtfix::waitFor([&] {
        wt = server.get("/api/worktrees/busy");
        return wt.status == 200 && wt.json()->getValue<std::string>("status") != "creating";
    });
    ASSERT_EQ(wt.status, 200) << wt.body;
    std::string path = wt.json()->getValue<std::string>("path");

    auto start = server.post("/api/worktrees/busy/start", "{}");
    ASSERT_EQ(start.status, 200) << start.body;
    int pid = start.json()->optValue<int>("pid", 0);
    ASSERT_GT(pid, 0) << start.body;
    // The list is decorated by the devservers module.
    auto listed = server.get("/api/worktrees/busy").json();
    EXPECT_NE(listed->getValue<std::string>("status"), "stopped") << "dev server state decorates WorktreeInfo";

    auto term = server.post("/api/worktrees/busy/terminals", R"({"cols":80,"rows":24,"startupCommand":"sleep 300"})");
    ASSERT_TRUE(term.status == 200 || term.status == 201) << term.body;

    auto del = server.del("/api/worktrees/busy");
    ASSERT_EQ(del.status, 200) << del.body;
    auto d = del.json();
    EXPECT_TRUE(d->getValue<bool>("removedRunningProcess")) << del.body;
    EXPECT_EQ(d->getValue<int>("removedTerminalSessions"), 1) << del.body;
    EXPECT_EQ(d->getValue<int>("stoppedProcesses"), 1);
    EXPECT_EQ(d->getValue<int>("closedTerminals"), 1);
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(wtfix::waitFor([&] { return kill(pid, 0) != 0; }, std::chrono::milliseconds(10000)))
        << "the dev server process is gone";
    EXPECT_EQ(server.get("/api/worktrees/busy").status, 404);
    server.stop();
    fs::remove_all(repo);
}

}  // namespace
