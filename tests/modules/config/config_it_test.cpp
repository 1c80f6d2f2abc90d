// config over the real host with the real projects module and real git.
#include "test_server.hpp"

#include <gtest/gtest.h>

using namespace atelier::test;

namespace {

struct Env {
    TestServer server;
    std::string repo, q;
    Env() {
        repo = makeGitRepo({{"README.md", "# x\n"}, {"package.json", R"({"scripts":{"dev":"vite"}})"}, {"pnpm-lock.yaml", ""}});
        auto r = server.post("/api/projects", R"({"name":"cfg","local_path":")" + repo + "\"}");
        if (r.status != 201) throw std::runtime_error(r.body);
        q = "?project=" + r.json()->getValue<std::string>("id");
    }
    ~Env() { fs::remove_all(repo); }
};

}  // namespace

TEST(ConfigIT, DefaultsPatchInitAndRules) {
    Env e;
    auto& s = e.server;
    auto r = s.get("/api/config" + e.q);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(r.json()->getValue<bool>("exists"));
    EXPECT_EQ(r.json()->getObject("config")->getObject("ports")->getValue<int>("offsetStep"), 1);

    r = s.get("/api/config/detect" + e.q);
    EXPECT_EQ(r.json()->getObject("config")->getValue<std::string>("startCommand"), "pnpm dev");

    r = s.post("/api/config/init" + e.q, "{}");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()->getObject("config")->getValue<std::string>("installCommand"), "pnpm install");
    r = s.post("/api/config/init" + e.q, "{}");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("error"), "Config already exists");

    r = s.patch("/api/config" + e.q, R"({"ports":{"discovered":[5173]},"allowAgentPRs":true})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.json()->getObject("config")->getValue<bool>("allowAgentPRs"));
    r = s.patch("/api/config" + e.q, R"({"ports":{"discovered":["x"]}})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getArray("details")->getObject(0)->getValue<std::string>("field"), "ports.discovered");

    r = s.put("/api/config/branch-name-rule" + e.q, R"({"content":"feat/${name|slugg}"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<int>("position"), 12);
    r = s.put("/api/config/branch-name-rule" + e.q, R"({"content":"feat/${issueId|lower}-${name|slug|truncate:10}"})");
    ASSERT_EQ(r.status, 200);
    r = s.post("/api/config/branch-name-rule/evaluate" + e.q, R"({"issueId":"AB-1","name":"A very long title here"})");
    EXPECT_EQ(r.json()->getValue<std::string>("branchName"), "feat/ab-1-a-very-lon");

    r = s.put("/api/agent-rules/agents-md" + e.q, R"({"content":"# Agents\n"})");
    ASSERT_EQ(r.status, 200);
    r = s.get("/api/agent-rules/agents-md" + e.q);
    EXPECT_EQ(r.json()->getValue<std::string>("content"), "# Agents\n");
    r = s.get("/api/agent-rules/readme" + e.q);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()->getValue<std::string>("error"), "Unknown file");
}

TEST(ConfigIT, CommitSetupPushesToABareRemote) {
    Env e;
    auto& s = e.server;
    std::string remote = makeTempDir("atelier-remote-");
    ASSERT_EQ(run({"git", "init", "-q", "--bare", remote}), 0);
    ASSERT_EQ(run({"git", "remote", "add", "origin", remote}, e.repo), 0);
    ASSERT_EQ(run({"git", "push", "-q", "-u", "origin", "main"}, e.repo), 0);
    ASSERT_EQ(s.post("/api/config/init" + e.q, "{}").status, 200);
    auto st = s.get("/api/config/setup-status" + e.q).json();
    EXPECT_TRUE(st->getValue<bool>("needsPush"));
    EXPECT_EQ(st->getArray("files")->size(), 2u);
    auto r = s.post("/api/config/commit-setup" + e.q, R"({"message":"chore: atelier"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(r.json()->has("pushFailed")) << r.body;
    std::string out;
    run({"git", "--git-dir", remote, "log", "-1", "--format=%s", "main"}, {}, &out);
    EXPECT_EQ(out, "chore: atelier\n");
    r = s.post("/api/config/commit-setup" + e.q, "{}");
    EXPECT_TRUE(r.json()->getValue<bool>("alreadyCommitted"));
    fs::remove_all(remote);
}
