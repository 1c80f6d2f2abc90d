// Integration with the real projects + worktrees modules: OpenKit worktree terminals resolve
// the canonical worktree in process, scoped sessions are reused/replaced, and removing a
// worktree (worktree.removing hook) kills its terminals and closes their WebSockets.
#include "test_server.hpp"
#include "test_util.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

using atelier::test::HttpResult;
using atelier::test::TestServer;
using namespace atelier::terminal::testutil;

namespace {

std::string quote(const std::string& in) {
    std::string out = "\"";
    for (char c : in) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

std::string field(const HttpResult& r, const std::string& key) {
    auto o = r.json();
    return o && o->has(key) && !o->isNull(key) ? o->get(key).toString() : std::string();
}

}  // namespace

TEST(TerminalWorktreesIT, ScopedSessionsAndWorktreeRemoval) {
    std::string repo = atelier::test::makeGitRepo({{"README.md", "hi\n"}, {".gitignore", ".atelier/\n"}});
    TestServer::Options o;
    o.cwd = repo;
    o.env["SHELL"] = "/bin/sh";
    TestServer server(o);
    waitUntil([&] { return server.get("/api/active-project").status == 200; }, 5000);
    auto mods = server.get("/api/modules");
    for (const char* m : {"\"terminal\"", "\"worktrees\"", "\"projects\""})
        if (mods.body.find(m) == std::string::npos) GTEST_SKIP() << "module " << m << " not loaded: " << mods.body;

    auto r = server.post("/api/worktrees/no-such-worktree/terminals", "{}");
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(field(r, "success"), "false");

    // Scoped sessions on the project root worktree.
    r = server.post("/api/worktrees/root/terminals", R"({"scope":"claude","cols":100,"rows":30})");
    ASSERT_EQ(r.status, 200) << r.body;
    std::string shell = field(r, "sessionId");
    EXPECT_EQ(field(r, "reusedScopedSession"), "false");
    auto info = server.get("/api/pty/" + shell).json();
    EXPECT_EQ(info->getValue<std::string>("cwd"), std::filesystem::canonical(repo).string());
    EXPECT_EQ(info->getValue<int>("cols"), 100);
    r = server.post("/api/worktrees/root/terminals", R"({"scope":"claude"})");
    EXPECT_EQ(field(r, "sessionId"), shell);
    EXPECT_EQ(field(r, "reusedScopedSession"), "true");
    r = server.post("/api/worktrees/root/terminals", R"({"scope":"claude","startupCommand":"exec sleep 300"})");
    std::string agent = field(r, "sessionId");
    EXPECT_NE(agent, shell);
    EXPECT_EQ(field(r, "replacedScopedShellSession"), "true");
    EXPECT_EQ(field(server.get("/api/worktrees/root/terminals/active?scope=claude"), "sessionId"), agent);
    r = server.get("/api/worktrees/root/terminals/active");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(field(r, "error"), "scope is required (\"terminal\", \"claude\", \"codex\", \"gemini\", or \"opencode\")");

    // A worktree with a terminal whose process group ignores SIGHUP, and a client attached.
    ASSERT_EQ(server.post("/api/worktrees", R"({"branch":"feat"})").status, 201);
    HttpResult wt;
    waitUntil([&] {
        wt = server.get("/api/worktrees/feat");
        return wt.status == 200 && field(wt, "status") != "creating";
    }, 20000);
    ASSERT_EQ(wt.status, 200) << wt.body;
    TempDir dir;
    std::string pidFile = dir.path + "/pids";
    r = server.post("/api/worktrees/feat/terminals",
                    R"({"scope":"codex","startupCommand":)" + quote("trap '' HUP; sleep 1000 & echo $$ $! > " + pidFile + "; wait") + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    std::string doomed = field(r, "sessionId");
    auto pids = waitPids(pidFile, 2, 5000);
    ASSERT_EQ(pids.size(), 2u);
    RawWs ws(server.port(), "/api/terminals/" + doomed + "/ws");
    EXPECT_EQ(ws.next().op, RawWs::Text);  // restore

    auto del = server.del("/api/worktrees/feat");
    ASSERT_EQ(del.status, 200) << del.body;
    EXPECT_EQ(field(del, "closedTerminals"), "1") << del.body;
    for (pid_t p : pids) EXPECT_TRUE(waitGone(p, 8000)) << "pid " << p << " of the removed worktree survived";
    RawWs::Frame f;
    try {
        do {
            f = ws.next();
        } while (f.op != RawWs::Close);
    } catch (const std::exception&) {
    }
    EXPECT_EQ(f.op, RawWs::Close);
    EXPECT_EQ(field(server.get("/api/pty/" + doomed), "status"), "exited");
    // the root worktree's sessions are untouched
    EXPECT_EQ(field(server.get("/api/pty/" + agent), "status"), "running");
    server.stop();
    std::error_code ec;
    std::filesystem::remove_all(repo, ec);
}
