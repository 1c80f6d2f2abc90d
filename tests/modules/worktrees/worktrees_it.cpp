// Integration tests: the real host with the projects and worktrees modules over real sockets,
// acting on real repositories. The server starts inside the repository, so it is the default
// (active) project.
#include "git_fixture.hpp"
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;
using atelier::test::HttpResult;
using atelier::test::TestServer;
using wtfix::git;

namespace {

std::string code(const HttpResult& r) {
    auto j = r.json();
    return j && j->has("code") ? j->getValue<std::string>("code") : "";
}

class WorktreesIt : public ::testing::Test {
protected:
    void SetUp() override {
        repo = wtfix::makeRepo({{"README.md", "hello\n"}, {"src/app.txt", "a\nb\n"}, {"deep/dir/keep.txt", "k\n"},
                                {".gitignore", ".env*\n"}});
        wtfix::write(repo + "/.env", "SECRET=1\n");
        wtfix::write(repo + "/deep/dir/.env.test", "T=1\n");
        TestServer::Options o;
        o.cwd = repo;
        server = std::make_unique<TestServer>(o);
        // Known host/projects issue at the time of writing: the first requests after start-up
        // can answer 500 "no column id" from GET /api/active-project (fresh reader
        // connections). Warm up so these tests exercise the worktrees module; reported.
        wtfix::waitFor([&] { return server->get("/api/active-project").status == 200; }, std::chrono::milliseconds(5000));
    }
    void TearDown() override {
        server.reset();
        std::error_code ec;
        fs::remove_all(repo, ec);
    }
    HttpResult waitReady(const std::string& id) {
        HttpResult last;
        wtfix::waitFor([&] {
            last = server->get("/api/worktrees/" + id);
            if (last.status != 200) return true;
            return last.json()->getValue<std::string>("status") != "creating";
        });
        return last;
    }
    std::unique_ptr<TestServer> server;
    std::string repo;
};

TEST_F(WorktreesIt, LifecycleOverHttp) {
    auto list = server->get("/api/worktrees");
    ASSERT_EQ(list.status, 200) << list.body << server->logText();
    auto arr = list.json()->getArray("worktrees");
    ASSERT_EQ(arr->size(), 1u);
    EXPECT_EQ(arr->getObject(0)->getValue<std::string>("id"), "root");
    EXPECT_EQ(arr->getObject(0)->getValue<std::string>("path"), repo);

    auto c = server->post("/api/worktrees", R"({"branch":"feature/PROJ-7 thing","name":"PROJ-7"})");
    EXPECT_EQ(c.status, 400) << "spaces are not valid in branch names: " << c.body;
    c = server->post("/api/worktrees", R"({"branch":"feature/proj-7","name":"PROJ-7"})");
    ASSERT_EQ(c.status, 201) << c.body;
    EXPECT_TRUE(c.json()->getValue<bool>("success"));
    EXPECT_EQ(c.json()->getObject("worktree")->getValue<std::string>("status"), "creating");
    auto ready = waitReady("proj-7");  // case-insensitive resolution
    ASSERT_EQ(ready.status, 200) << ready.body;
    auto wt = ready.json();
    EXPECT_EQ(wt->getValue<std::string>("id"), "PROJ-7");
    EXPECT_EQ(wt->getValue<std::string>("status"), "stopped");
    std::string path = wt->getValue<std::string>("path");
    EXPECT_EQ(path, repo + "/.atelier/worktrees/PROJ-7");
    EXPECT_EQ(wtfix::read(path + "/deep/dir/.env.test"), "T=1\n");
    EXPECT_EQ(git(path, {"rev-parse", "--abbrev-ref", "HEAD"}), "feature/proj-7");

    auto events = server->get("/api/events?event_type=worktree.created");
    ASSERT_EQ(events.status, 200) << events.body;
    EXPECT_NE(events.body.find("PROJ-7"), std::string::npos) << events.body;
    auto changed = server->get("/api/events?event_type=worktrees.changed");
    auto changedArr = changed.jsonArray();
    ASSERT_TRUE(changedArr && changedArr->size() >= 2) << changed.body;
    auto newest = changedArr->getObject(0)->getObject("payload");  // newest first
    ASSERT_TRUE(newest) << changed.body;
    auto listed = newest->getArray("worktrees");
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ(listed->getObject(1)->getValue<std::string>("status"), "stopped");

    // Edit, diff, commit, rename, delete.
    wtfix::write(path + "/src/app.txt", "a\nB\nc\n");
    wtfix::write(path + "/new.txt", "n\n");
    auto d = server->get("/api/worktrees/PROJ-7/diff");
    ASSERT_EQ(d.status, 200) << d.body;
    EXPECT_EQ(d.json()->getArray("files")->size(), 2u);
    auto f = server->get("/api/worktrees/PROJ-7/diff/file?path=src%2Fapp.txt");
    ASSERT_EQ(f.status, 200) << f.body;
    EXPECT_EQ(f.json()->getValue<std::string>("oldContent"), "a\nb\n");
    auto commit = server->post("/api/worktrees/PROJ-7/commit", R"({"message":"feat: work"})");
    ASSERT_EQ(commit.status, 200) << commit.body;
    EXPECT_EQ(git(path, {"log", "-1", "--format=%s"}), "feat: work");
    auto status = server->get("/api/worktrees/PROJ-7").json();
    EXPECT_EQ(status->getValue<int>("commitsAheadOfBase"), 1);
    EXPECT_FALSE(status->getValue<bool>("hasUncommitted"));

    auto ren = server->patch("/api/worktrees/PROJ-7", R"({"name":"proj-8","branch":"feature/proj-8"})");
    ASSERT_EQ(ren.status, 200) << ren.body;
    std::string newPath = repo + "/.atelier/worktrees/proj-8";
    EXPECT_TRUE(fs::exists(newPath + "/new.txt"));
    EXPECT_EQ(git(newPath, {"rev-parse", "--abbrev-ref", "HEAD"}), "feature/proj-8");

    auto del = server->del("/api/worktrees/proj-8");
    ASSERT_EQ(del.status, 200) << del.body;
    EXPECT_EQ(del.json()->getValue<std::string>("worktreeId"), "proj-8");
    EXPECT_FALSE(del.json()->getValue<bool>("removedRunningProcess"));
    EXPECT_FALSE(fs::exists(newPath));
    EXPECT_EQ(git(repo, {"worktree", "list"}).find(newPath), std::string::npos);
    EXPECT_EQ(server->get("/api/worktrees/proj-8").status, 404);
}

TEST_F(WorktreesIt, ConcurrentCreatesOfTheSameBranch) {
    std::atomic<int> created{0}, conflicts{0}, other{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 2; ++i)
        ts.emplace_back([&] {
            auto r = server->post("/api/worktrees", R"({"branch":"same-branch"})");
            if (r.status == 201) ++created;
            else if (r.status == 409 && code(r) == "WORKTREE_EXISTS") ++conflicts;
            else ++other;
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(created.load(), 1);
    EXPECT_EQ(conflicts.load(), 1);
    EXPECT_EQ(other.load(), 0);
    ASSERT_EQ(waitReady("same-branch").status, 200);
    std::string porcelain = git(repo, {"worktree", "list", "--porcelain"});
    size_t n = 0;
    for (size_t pos = 0; (pos = porcelain.find("refs/heads/same-branch", pos)) != std::string::npos; ++pos) ++n;
    EXPECT_EQ(n, 1u);
    size_t dirs = 0;
    for (auto& e : fs::directory_iterator(repo + "/.atelier/worktrees")) dirs += e.is_directory() ? 1 : 0;
    EXPECT_EQ(dirs, 1u);
}

TEST_F(WorktreesIt, ContractRoutesForOtherModules) {
    auto projects = server->get("/api/active-project");
    ASSERT_EQ(projects.status, 200) << projects.body;
    auto project = projects.json();
    if (project->has("data") && project->getObject("data")) project = project->getObject("data");
    std::string pid = project->getValue<std::string>("id");

    auto rc = server->post("/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"branch\":\"atelier/run-abcd\"}");
    ASSERT_EQ(rc.status, 201) << rc.body;
    std::string path = rc.json()->getValue<std::string>("path");
    EXPECT_EQ(path, repo + "/.atelier/worktrees/atelier-run-abcd");
    EXPECT_EQ(rc.json()->getValue<std::string>("head"), git(repo, {"rev-parse", "HEAD"}));
    EXPECT_EQ(server->post("/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"branch\":\"atelier/run-abcd\"}").status, 409);
    wtfix::write(path + "/README.md", "changed\n");
    auto diff = server->get("/api/repo-diff?path=" + path + "&base=main");
    ASSERT_EQ(diff.status, 200) << diff.body;
    auto files = diff.json()->getArray("files");
    ASSERT_EQ(files->size(), 1u);
    EXPECT_EQ(files->getObject(0)->getValue<std::string>("status"), "modified");

    // Branches of the project (Abbado): the run branch is linked to its worktree path.
    auto br = server->get("/api/projects/" + pid + "/branches");
    ASSERT_EQ(br.status, 200) << br.body;
    EXPECT_NE(br.body.find("atelier/run-abcd"), std::string::npos);
    EXPECT_NE(br.body.find(path), std::string::npos);

    auto del = server->request("DELETE", "/api/repo-worktrees",
                               "{\"repoPath\":\"" + repo + "\",\"path\":\"" + path + "\",\"deleteBranch\":true}",
                               {{"Content-Type", "application/json"}});
    ASSERT_EQ(del.status, 200) << del.body;
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ(git(repo, {"branch", "--list", "atelier/run-abcd"}), "");

    // GET /api/worktrees/:id?project= with the project's id and slug.
    ASSERT_EQ(server->post("/api/worktrees", R"({"branch":"contract"})").status, 201);
    ASSERT_EQ(waitReady("contract").status, 200);
    auto byId = server->get("/api/worktrees/contract?project=" + pid);
    ASSERT_EQ(byId.status, 200) << byId.body;
    EXPECT_EQ(byId.json()->getValue<std::string>("branch"), "contract");
    EXPECT_EQ(byId.json()->getValue<std::string>("path"), repo + "/.atelier/worktrees/contract");
    auto unknown = server->get("/api/worktrees/contract?project=no-such-project");
    EXPECT_EQ(unknown.status, 404) << unknown.body;
}

TEST_F(WorktreesIt, MergeConflictLeavesRepositoryUntouched) {
    auto project = server->get("/api/active-project").json();
    if (project->has("data") && project->getObject("data")) project = project->getObject("data");
    std::string pid = project->getValue<std::string>("id");
    auto repos = project->getArray("repos");
    ASSERT_TRUE(repos && repos->size() >= 1) << "project has no repos";
    std::string repoId = repos->getObject(0)->getValue<std::string>("id");

    git(repo, {"checkout", "-q", "-b", "topic"});
    wtfix::write(repo + "/README.md", "topic\n");
    git(repo, {"commit", "-q", "-am", "topic"});
    git(repo, {"checkout", "-q", "main"});
    wtfix::write(repo + "/README.md", "main\n");
    git(repo, {"commit", "-q", "-am", "main"});
    std::string before = git(repo, {"rev-parse", "main"});
    auto m = server->post("/api/projects/" + pid + "/branches/merge?branch=topic&repo_id=" + repoId, "{}");
    EXPECT_EQ(m.status, 409) << m.body;
    EXPECT_EQ(code(m), "MERGE_CONFLICT");
    EXPECT_NE(m.body.find("README.md"), std::string::npos);
    EXPECT_EQ(git(repo, {"rev-parse", "main"}), before);
    EXPECT_EQ(git(repo, {"status", "--porcelain"}), "");
    auto r = server->post("/api/projects/" + pid + "/branches/rebase?branch=topic&repo_id=" + repoId, "{}");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(code(r), "REBASE_CONFLICT");
    EXPECT_EQ(git(repo, {"status", "--porcelain"}), "");
}

TEST_F(WorktreesIt, SseStreamStartsWithWorktreesAndPushesChanges) {
    ASSERT_EQ(server->post("/api/worktrees", R"({"branch":"streamed"})").status, 201);
    ASSERT_EQ(waitReady("streamed").status, 200);
    atelier::test::SseClient sse(server->port(), "/api/events");
    ASSERT_EQ(sse.status(), 200) << sse.head();
    auto first = sse.nextData();
    auto o = Poco::JSON::Parser().parse(first.data).extract<Poco::JSON::Object::Ptr>();
    ASSERT_EQ(o->getValue<std::string>("type"), "worktrees") << first.data;
    auto list = o->getArray("worktrees");
    ASSERT_EQ(list->size(), 2u) << first.data;
    EXPECT_EQ(list->getObject(0)->getValue<std::string>("id"), "root");
    EXPECT_EQ(list->getObject(1)->getValue<std::string>("id"), "streamed");
    // A deletion is pushed as a new worktrees message without the entry.
    ASSERT_EQ(server->del("/api/worktrees/streamed").status, 200);
    bool seen = false;
    for (int i = 0; i < 20 && !seen; ++i) {
        auto m = sse.nextData();
        auto j = Poco::JSON::Parser().parse(m.data).extract<Poco::JSON::Object::Ptr>();
        if (j->optValue<std::string>("type", "") == "worktrees" && j->getArray("worktrees")->size() == 1) seen = true;
    }
    EXPECT_TRUE(seen);
}

TEST_F(WorktreesIt, BadInputIsA4xx) {
    EXPECT_EQ(code(server->post("/api/worktrees", "{nope")), "INVALID_JSON");
    EXPECT_EQ(code(server->post("/api/worktrees", R"({"branch":"a..b"})")), "INVALID_BRANCH_NAME");
    EXPECT_EQ(code(server->post("/api/worktrees", R"({"branch":"ok","id":"../../etc"})")), "INVALID_WORKTREE_ID");
    EXPECT_EQ(code(server->get("/api/worktrees/a..b")), "INVALID_WORKTREE_ID");
    EXPECT_EQ(code(server->get("/api/worktrees/nope")), "WORKTREE_NOT_FOUND");
    EXPECT_EQ(code(server->post("/api/repo-worktrees", R"({"repoPath":"/","branch":"x"})")), "NOT_A_REPOSITORY");
    EXPECT_EQ(code(server->post("/api/repo-worktrees", "{\"repoPath\":\"" + repo + "\",\"branch\":\"x\",\"path\":\"/tmp/elsewhere\"}")),
              "PATH_OUTSIDE_ALLOWED");
    EXPECT_EQ(server->get("/api/repo-diff?path=relative/path").status, 400);
    auto health = server->get("/api/health");
    EXPECT_EQ(health.status, 200);
}

TEST(WorktreesItNoProject, NoActiveProjectNamesBothWays) {
    TestServer server;  // starts in its (non-repository) data directory
    auto r = server.get("/api/worktrees");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(code(r), "NO_ACTIVE_PROJECT");
}

}  // namespace
