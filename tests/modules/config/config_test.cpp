// config module through the fake host, with a fake projects module pointing at a temp dir.
#include "fake_projects.hpp"

#include <atelier/testing/fake_host.hpp>
#include <atelier/util.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace fs = std::filesystem;
using atelier::testing::FakeHost;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
void write(const fs::path& p, const std::string& s) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << s;
}
int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("atelier-config-" + atelier::randomHex(8));
        fs::create_directories(dir);
        atelier::testing::fakeProjectPath() = dir.string();
        host.load(atelier::testing::fakeProjectsEntry());
        host.load(atelier_module_entry_v1());
    }
    void TearDown() override {
        host.unloadAll();
        fs::remove_all(dir);
    }
    void gitInit() {
        ASSERT_EQ(sh("cd '" + dir.string() + "' && git init -q -b main . && git -c user.name=T -c user.email=t@e commit -q --allow-empty -m init"), 0);
    }
    fs::path dir;
    FakeHost host;
};

}  // namespace

TEST_F(ConfigTest, GetReturnsDefaultsWithoutAnyFile) {
    auto r = host.request("GET", "/api/config");
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    EXPECT_FALSE(o->getValue<bool>("exists"));
    EXPECT_EQ(o->getValue<std::string>("projectName"), "Demo");
    EXPECT_FALSE(o->getValue<bool>("hasBranchNameRule"));
    auto c = o->getObject("config");
    EXPECT_EQ(c->getValue<std::string>("baseBranch"), "main");
    EXPECT_EQ(c->getObject("ports")->getValue<int>("offsetStep"), 1);
    EXPECT_EQ(c->getObject("ports")->getArray("discovered")->size(), 0u);
    EXPECT_FALSE(c->getValue<bool>("allowAgentCommits"));
    EXPECT_EQ(c->getObject("devServer")->getValue<int>("logLines"), 1000);
    EXPECT_FALSE(fs::exists(dir / ".atelier"));
}

TEST_F(ConfigTest, PatchRoutesLocalKeysAndDeepMergesPorts) {
    auto r = host.request("PATCH", "/api/config",
                          R"({"startCommand":"npm run dev","ports":{"discovered":[3000,5173]},"allowAgentCommits":true})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto c = r.json()->getObject("config");
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "npm run dev");
    EXPECT_TRUE(c->getValue<bool>("allowAgentCommits"));
    EXPECT_EQ(c->getObject("ports")->getValue<int>("offsetStep"), 1);
    auto shared = slurp(dir / ".atelier/config.json");
    auto local = slurp(dir / ".atelier/config.local.json");
    EXPECT_NE(shared.find("npm run dev"), std::string::npos);
    EXPECT_EQ(shared.find("allowAgentCommits"), std::string::npos);
    EXPECT_NE(local.find("\"allowAgentCommits\": true"), std::string::npos);
    EXPECT_EQ(slurp(dir / ".atelier/.gitignore"), "*\n!.gitignore\n!config.json\n");

    r = host.request("PATCH", "/api/config", R"({"ports":{"offsetStep":10}})");
    ASSERT_EQ(r.status, 200);
    auto ports = r.json()->getObject("config")->getObject("ports");
    EXPECT_EQ(ports->getValue<int>("offsetStep"), 10);
    EXPECT_EQ(ports->getArray("discovered")->size(), 2u);

    // null resets a field to its default
    r = host.request("PATCH", "/api/config", R"({"startCommand":null})");
    EXPECT_EQ(r.json()->getObject("config")->getValue<std::string>("startCommand"), "");

    auto events = host.events();
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().type, "config.updated");
    EXPECT_EQ(events.back().projectId, "p1");
}

TEST_F(ConfigTest, PatchValidationNeverWritesPartially) {
    auto bad = [&](const std::string& body, const std::string& field) {
        auto r = host.request("PATCH", "/api/config", body);
        EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
        auto o = r.json();
        ASSERT_TRUE(o) << r.body;
        EXPECT_FALSE(o->getValue<bool>("success"));
        EXPECT_EQ(o->getArray("details")->getObject(0)->getValue<std::string>("field"), field) << r.body;
    };
    bad(R"({"startCommand":"x","ports":{"discovered":[70000]}})", "ports.discovered");
    bad(R"({"projectDir":"../escape"})", "projectDir");
    bad(R"({"bogus":1})", "bogus");
    bad(R"({"envMapping":{"1BAD":"x"}})", "envMapping.1BAD");
    bad(R"({"autoInstall":"yes"})", "autoInstall");
    bad(R"({"openProjectTarget":"emacs"})", "openProjectTarget");
    bad(R"({"baseBranch":"a..b"})", "baseBranch");
    EXPECT_FALSE(fs::exists(dir / ".atelier/config.json"));
    EXPECT_EQ(host.request("PATCH", "/api/config", "{}").status, 200);
    EXPECT_FALSE(fs::exists(dir / ".atelier")) << "an empty patch writes nothing";
    auto r = host.request("PATCH", "/api/config", "{not json");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "INVALID_JSON");
}

TEST_F(ConfigTest, InitUsesDetectionAndRefusesWithoutForce) {
    gitInit();
    write(dir / "package.json", R"({"scripts":{"dev":"vite","build":"vite build"}})");
    write(dir / "pnpm-lock.yaml", "lockfileVersion: 9\n");
    auto r = host.request("POST", "/api/config/init", "{}");
    ASSERT_EQ(r.status, 200) << r.body;
    auto c = r.json()->getObject("config");
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "pnpm dev");
    EXPECT_EQ(c->getValue<std::string>("installCommand"), "pnpm install");
    EXPECT_EQ(c->getValue<std::string>("baseBranch"), "main");
    EXPECT_TRUE(fs::exists(dir / ".atelier/config.json"));
    EXPECT_TRUE(fs::exists(dir / ".atelier/.gitignore"));

    r = host.request("POST", "/api/config/init", R"({"startCommand":"other"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("error"), "Config already exists");
    EXPECT_NE(slurp(dir / ".atelier/config.json").find("pnpm dev"), std::string::npos);

    r = host.request("POST", "/api/config/init", R"({"startCommand":"other","force":true})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()->getObject("config")->getValue<std::string>("startCommand"), "other");
    r = host.request("POST", "/api/config/init", R"({"force":"yes"})");
    EXPECT_EQ(r.status, 400);

    // init stages both files (like git add)
    std::string out;
    FILE* f = popen(("cd '" + dir.string() + "' && git diff --cached --name-only").c_str(), "r");
    char buf[256];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
    EXPECT_NE(out.find(".atelier/config.json"), std::string::npos);
    EXPECT_NE(out.find(".atelier/.gitignore"), std::string::npos);
}

TEST_F(ConfigTest, DetectOnSampleLayouts) {
    auto detect = [&](const std::map<std::string, std::string>& files) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        for (auto& [n, c] : files) write(dir / n, c);
        auto r = host.request("GET", "/api/config/detect");
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_TRUE(r.json()->getValue<bool>("success"));
        return r.json()->getObject("config");
    };
    auto c = detect({{"package.json", R"({"scripts":{"start":"node s.js"}})"}, {"yarn.lock", ""}});
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "yarn start");
    EXPECT_EQ(c->getValue<std::string>("installCommand"), "yarn install");
    EXPECT_EQ(c->getValue<std::string>("packageManager"), "yarn");
    c = detect({{"package.json", R"({"scripts":{"dev":"next dev"}})"}, {"package-lock.json", "{}"}});
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "npm run dev");
    c = detect({{"package.json", R"({"scripts":{"dev":"x"}})"}, {"bun.lockb", ""}});
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "bun run dev");
    EXPECT_EQ(c->getValue<std::string>("installCommand"), "bun install");
    c = detect({{"package.json", R"({"dependencies":{"expo":"50"},"scripts":{"start":"expo start"}})"}});
    EXPECT_EQ(c->getValue<std::string>("framework"), "expo");
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "npm start");
    c = detect({{"Cargo.toml", "[package]\nname='x'\n"}});
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "cargo run");
    EXPECT_EQ(c->getValue<std::string>("installCommand"), "cargo build");
    c = detect({{"go.mod", "module x\n"}});
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "go run .");
    c = detect({{"pyproject.toml", "[project]\n"}, {"uv.lock", ""}, {"main.py", ""}});
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "uv run python main.py");
    EXPECT_EQ(c->getValue<std::string>("installCommand"), "uv sync");
    c = detect({{"Makefile", "all:\n\tcc x.c\nserve: all\n\t./x\ninstall:\n\tcp x /usr\n"}});
    EXPECT_EQ(c->getValue<std::string>("startCommand"), "make serve");
    EXPECT_EQ(c->getValue<std::string>("installCommand"), "make install");
    c = detect({{"CMakeLists.txt", "project(x)\n"}});
    EXPECT_EQ(c->getValue<std::string>("installCommand"), "cmake -S . -B build && cmake --build build");
    EXPECT_EQ(c->getArray("detectedFrom")->getElement<std::string>(0), "CMakeLists.txt");
    // default branch from the repository
    fs::remove_all(dir);
    fs::create_directories(dir);
    ASSERT_EQ(sh("cd '" + dir.string() + "' && git init -q -b trunk . && git -c user.name=T -c user.email=t@e commit -q --allow-empty -m i"), 0);
    EXPECT_EQ(host.request("GET", "/api/config/detect").json()->getObject("config")->getValue<std::string>("baseBranch"), "trunk");
}

TEST_F(ConfigTest, SetupStatusAndCommitSetupPushToBareRemote) {
    gitInit();
    fs::path remote = dir.string() + "-remote.git";
    ASSERT_EQ(sh("git init -q --bare '" + remote.string() + "' && cd '" + dir.string() + "' && git remote add origin '" +
                 remote.string() + "' && git push -q -u origin main 2>/dev/null"),
              0);
    write(dir / "unrelated.txt", "staged but not ours\n");
    sh("cd '" + dir.string() + "' && git add unrelated.txt");
    ASSERT_EQ(host.request("POST", "/api/config/init", R"({"startCommand":"make dev"})").status, 200);

    auto s = host.request("GET", "/api/config/setup-status").json();
    EXPECT_TRUE(s->getValue<bool>("needsPush"));
    auto files = s->getArray("files");
    ASSERT_EQ(files->size(), 2u);

    auto r = host.request("POST", "/api/config/commit-setup", R"({"message":"chore: atelier setup"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.json()->getValue<bool>("success"));
    EXPECT_FALSE(r.json()->has("pushFailed")) << r.body;
    std::string out;
    FILE* f = popen(("git --git-dir='" + remote.string() + "' log -1 --name-only --format=%s main").c_str(), "r");
    char buf[256];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
    EXPECT_NE(out.find("chore: atelier setup"), std::string::npos) << out;
    EXPECT_NE(out.find(".atelier/config.json"), std::string::npos);
    EXPECT_EQ(out.find("unrelated.txt"), std::string::npos) << "only the setup files are committed";

    s = host.request("GET", "/api/config/setup-status").json();
    EXPECT_FALSE(s->getValue<bool>("needsPush"));
    EXPECT_EQ(s->getArray("files")->size(), 0u);
    r = host.request("POST", "/api/config/commit-setup");
    EXPECT_TRUE(r.json()->getValue<bool>("alreadyCommitted")) << r.body;
    fs::remove_all(remote);
}

TEST_F(ConfigTest, CommitSetupReportsPushFailure) {
    gitInit();
    ASSERT_EQ(host.request("POST", "/api/config/init", "{}").status, 200);
    auto r = host.request("POST", "/api/config/commit-setup");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.json()->getValue<bool>("pushFailed"));
    EXPECT_TRUE(r.json()->has("commit"));
}

TEST_F(ConfigTest, LocalConfigMergesShortcuts) {
    auto r = host.request("GET", "/api/local-config");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()->getObject("config")->getObject("shortcuts")->getValue<std::string>("nav-worktrees"), "meta+w");
    r = host.request("PATCH", "/api/local-config", R"({"shortcuts":{"nav-worktrees":"meta+shift+w"},"allowAgentPushes":true})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto c = r.json()->getObject("config");
    EXPECT_EQ(c->getObject("shortcuts")->getValue<std::string>("nav-worktrees"), "meta+shift+w");
    EXPECT_EQ(c->getObject("shortcuts")->getValue<std::string>("nav-issues"), "meta+i");
    EXPECT_TRUE(c->getValue<bool>("allowAgentPushes"));
    EXPECT_TRUE(host.request("GET", "/api/config").json()->getObject("config")->getValue<bool>("allowAgentPushes"));
    EXPECT_EQ(host.request("PATCH", "/api/local-config", R"({"allowAgentPushes":1})").status, 400);
    EXPECT_EQ(host.request("PATCH", "/api/local-config", R"({"shortcuts":{"x":5}})").status, 400);
    EXPECT_EQ(host.request("PATCH", "/api/local-config", R"({"startCommand":"x"})").status, 400);
}

TEST_F(ConfigTest, BranchAndCommitRules) {
    auto r = host.request("GET", "/api/config/branch-name-rule");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()->getValue<std::string>("content"), "${issueId}/${name | slug | truncate:60}");
    EXPECT_FALSE(r.json()->getValue<bool>("hasOverride"));

    r = host.request("PUT", "/api/config/branch-name-rule", R"({"content":"feature/${issueId}-${name | wat}"})");
    ASSERT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "RULE_PARSE_ERROR");
    EXPECT_EQ(r.json()->getValue<int>("position"), 28);
    EXPECT_NE(r.json()->getValue<std::string>("error").find("position 28"), std::string::npos);

    r = host.request("PUT", "/api/config/branch-name-rule", R"({"content":"feature/${issueId}-${name|slug}"})");
    ASSERT_EQ(r.status, 200) << r.body;
    r = host.request("PUT", "/api/config/branch-name-rule", R"({"content":"return `jira/${issueId|lower}`","source":"jira"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(host.request("GET", "/api/config/branch-name-rule?source=jira").json()->getValue<std::string>("content"),
              "jira/${issueId|lower}");
    auto st = host.request("GET", "/api/config/branch-name-rule/status").json()->getObject("overrides");
    EXPECT_TRUE(st->getValue<bool>("jira"));
    EXPECT_FALSE(st->getValue<bool>("linear"));
    EXPECT_TRUE(host.request("GET", "/api/config").json()->getValue<bool>("hasBranchNameRule"));

    r = host.request("POST", "/api/config/branch-name-rule/evaluate", R"({"issueId":"PROJ-9","name":"Fix Login Crash"})");
    EXPECT_EQ(r.json()->getValue<std::string>("branchName"), "feature/PROJ-9-fix-login-crash");
    r = host.request("POST", "/api/config/branch-name-rule/evaluate", R"({"issueId":"PROJ-9","name":"x","source":"jira"})");
    EXPECT_EQ(r.json()->getValue<std::string>("branchName"), "jira/proj-9");
    EXPECT_EQ(host.request("GET", "/api/config/branch-name-rule?source=github").status, 400);

    // empty content deletes
    ASSERT_EQ(host.request("PUT", "/api/config/branch-name-rule", R"({"content":"","source":"jira"})").status, 200);
    EXPECT_FALSE(host.request("GET", "/api/config/branch-name-rule/status").json()->getObject("overrides")->getValue<bool>("jira"));

    r = host.request("POST", "/api/config/commit-message-rule/evaluate", R"({"message":"fix it","issueId":"A-1"})");
    EXPECT_EQ(r.json()->getValue<std::string>("message"), "fix it");
    ASSERT_EQ(host.request("PUT", "/api/config/commit-message-rule", R"({"content":"[${issueId}] ${message}"})").status, 200);
    r = host.request("POST", "/api/config/commit-message-rule/evaluate", R"({"message":"fix it","issueId":"A-1"})");
    EXPECT_EQ(r.json()->getValue<std::string>("message"), "[A-1] fix it");
    EXPECT_EQ(host.request("PUT", "/api/config/commit-message-rule", R"({"content":"${name}"})").status, 400);
    EXPECT_EQ(host.request("PUT", "/api/config/commit-message-rule", R"({"content":5})").status, 400);
}

TEST_F(ConfigTest, AgentRuleFiles) {
    auto r = host.request("GET", "/api/agent-rules/claude-md");
    ASSERT_EQ(r.status, 200);
    EXPECT_FALSE(r.json()->getValue<bool>("exists"));
    EXPECT_EQ(r.json()->getValue<std::string>("content"), "");
    ASSERT_EQ(host.request("PUT", "/api/agent-rules/claude-md", R"({"content":"# Rules\n"})").status, 200);
    EXPECT_EQ(slurp(dir / "CLAUDE.md"), "# Rules\n");
    r = host.request("GET", "/api/agent-rules/claude-md");
    EXPECT_TRUE(r.json()->getValue<bool>("exists"));
    EXPECT_EQ(r.json()->getValue<std::string>("content"), "# Rules\n");
    ASSERT_EQ(host.request("PUT", "/api/agent-rules/agents-md", R"({"content":"a"})").status, 200);
    EXPECT_TRUE(fs::exists(dir / "AGENTS.md"));
    ASSERT_EQ(host.request("DELETE", "/api/agent-rules/claude-md").status, 200);
    EXPECT_FALSE(fs::exists(dir / "CLAUDE.md"));
    r = host.request("GET", "/api/agent-rules/..%2Fetc");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()->getValue<std::string>("error"), "Unknown file");
    EXPECT_EQ(host.request("DELETE", "/api/agent-rules/readme").status, 404);
    EXPECT_EQ(host.request("PUT", "/api/agent-rules/claude-md", R"({"content":3})").status, 400);
    EXPECT_EQ(host.request("PUT", "/api/agent-rules/claude-md", R"({})").status, 400);
}

TEST_F(ConfigTest, UnknownProjectPropagates) {
    auto r = host.request("GET", "/api/config?project=missing");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "PROJECT_NOT_FOUND");
}
