// agents over the real host and real sockets: projects + worktrees + agents loaded, real git
// repositories, the mock backend and a fake `claude` CLI (tests/modules/agents/fake_cli) that
// speaks stream-json and posts hook payloads through the run's hook forwarder.
#include <test_server.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using atelier::test::HttpResult;
using atelier::test::makeGitRepo;
using atelier::test::SseClient;
using atelier::test::TestServer;

namespace {

std::string jsonStr(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out + "\"";
}

TestServer::Options withFakeCli(std::string dataDir = {}) {
    TestServer::Options o;
    const char* path = std::getenv("PATH");
    o.env["PATH"] = std::string(AGENTS_FAKE_CLI_DIR) + ":" + (path ? path : "/usr/bin:/bin");
    o.dataDir = std::move(dataDir);
    return o;
}

struct Fixture {
    explicit Fixture(TestServer& s) : server(s) {}
    TestServer& server;
    std::string repo, projectId;

    void makeProject(const std::string& name = "Demo") {
        repo = makeGitRepo({{"README.md", "# demo\n"}, {"src/app.txt", "v1\n"}});
        auto p = server.post("/api/projects", R"({"name":)" + jsonStr(name) + R"(,"path":)" + jsonStr(repo) + "}");
        ASSERT_EQ(p.status, 201) << p.body;
        projectId = p.json()->getValue<std::string>("id");
        auto check = server.get("/api/projects/" + projectId);
        auto repos = check.json() ? check.json()->getArray("repos") : nullptr;
        if (!repos || repos->size() == 0) {
            auto add = server.post("/api/projects/" + projectId + "/repos", R"({"name":"app","repo_path":)" + jsonStr(repo) + "}");
            ASSERT_TRUE(add.status == 201 || add.status == 200) << add.body;
        }
    }
    std::string agent(const std::string& cli, const std::string& extra = "") {
        auto r = server.post("/api/agents", R"({"project_id":")" + projectId + R"(","name":"Builder )" + cli + R"(","cli_name":")" +
                                                 cli + R"(","model":"claude-sonnet-4-6","instructions":"Be careful")" + extra + "}");
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json() ? r.json()->getValue<std::string>("id") : "";
    }
    HttpResult run(const std::string& agentId, const std::string& task) {
        return server.post("/api/runs", R"({"agent_id":")" + agentId + R"(","task":)" + jsonStr(task) + "}");
    }
    std::string waitStatus(const std::string& id, const std::vector<std::string>& wanted, int ms = 15000) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        std::string st;
        while (std::chrono::steady_clock::now() < deadline) {
            auto r = server.get("/api/runs/" + id);
            if (r.json()) st = r.json()->getValue<std::string>("status");
            for (auto& w : wanted)
                if (st == w) return st;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return st;
    }
    std::vector<std::string> types(const std::string& id) {
        std::vector<std::string> out;
        auto a = server.get("/api/runs/" + id + "/events").jsonArray();
        for (size_t i = 0; a && i < a->size(); ++i) out.push_back(a->getObject(static_cast<unsigned>(i))->getValue<std::string>("event_type"));
        return out;
    }
};

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST(AgentsIt, MockRunInRealWorktreeThenCommitAndDelete) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("mock");
    auto r = f.run(agent, "emit: working\nwrite: src/app.txt=v2\\n\ntokens: in=10 out=5 cost=0.01");
    ASSERT_EQ(r.status, 201) << r.body;
    std::string id = r.json()->getValue<std::string>("id");
    EXPECT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed") << server.get("/api/runs/" + id).body;
    auto run = server.get("/api/runs/" + id).json();
    auto wt = run->getArray("worktrees")->getObject(0);
    std::string path = wt->getValue<std::string>("path");
    EXPECT_TRUE(std::filesystem::exists(path + "/.git")) << path;
    auto stats = server.get("/api/runs/" + id + "/diff-stats").json();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->getValue<int>("files"), 1);
    EXPECT_EQ(stats->getValue<int>("insertions"), 1);
    EXPECT_EQ(stats->getValue<int>("deletions"), 1);
    auto commit = server.post("/api/runs/" + id + "/commit", R"({"message":"feat: v2"})");
    ASSERT_EQ(commit.status, 200) << commit.body;
    EXPECT_EQ(server.post("/api/runs/" + id + "/commit", R"({"message":"again"})").status, 409);
    EXPECT_EQ(server.del("/api/runs/" + id).status, 204);
    EXPECT_FALSE(std::filesystem::exists(path));
    std::string branches;
    atelier::test::run({"git", "branch", "--list", "atelier/*"}, f.repo, &branches);
    EXPECT_EQ(branches, "") << "run branch deleted";
}
