// What the skills module writes, read back by the real Claude Code CLI (npm
// @anthropic-ai/claude-code, installed by scripts/install-deps.sh): its offline commands list
// the plugins and marketplaces we installed and validate the skills and agents we deployed.
#include "skills_fixture.hpp"

using namespace skillsfix;

#ifndef SKILLS_CLAUDE_CLI
#error "define SKILLS_CLAUDE_CLI"
#endif

namespace {

class ClaudeCliIt : public SkillsServer {
protected:
    int claude(const std::vector<std::string>& args, std::string* out, const std::string& cwd = {}) {
        std::vector<std::string> argv{SKILLS_CLAUDE_CLI};
        argv.insert(argv.end(), args.begin(), args.end());
        // No account, no network: only the CLI's offline commands are used.
        return atelier::test::run(
            argv, cwd.empty() ? repo : cwd, out,
            {{"HOME", home}, {"DISABLE_AUTOUPDATER", "1"}, {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"}});
    }
    Poco::JSON::Array::Ptr jsonArrayIn(const std::string& out) {
        auto start = out.find('[');
        if (start == std::string::npos) return nullptr;
        try {
            return Poco::JSON::Parser().parse(out.substr(start)).extract<Poco::JSON::Array::Ptr>();
        } catch (...) {
            return nullptr;
        }
    }
};

TEST_F(ClaudeCliIt, ListsAndValidatesWhatWeDeployed) {
    ASSERT_TRUE(fs::exists(SKILLS_CLAUDE_CLI)) << "run scripts/install-deps.sh to install the Claude Code CLI";
    std::string market = atelier::test::makeGitRepo({
        {".claude-plugin/marketplace.json",
         R"({"name":"acme-market","owner":{"name":"Acme"},"plugins":[{"name":"tools","source":"./plugins/tools","description":"Acme tools","version":"1.2.0"}]})"},
        {"plugins/tools/.claude-plugin/plugin.json",
         R"({"name":"tools","version":"1.2.0","description":"Acme tools"})"},
        {"plugins/tools/agents/auditor.md", "---\nname: auditor\ndescription: Audits code\n---\n\nAudit.\n"},
    });
    post("/api/claude/plugins/marketplaces", R"({"source":"file://)" + market + R"("})", 200);
    post("/api/claude/plugins/install", R"({"ref":"tools@acme-market"})", 200);

    std::string out;
    ASSERT_EQ(claude({"plugin", "list", "--json"}, &out), 0) << out;
    auto list = jsonArrayIn(out);
    ASSERT_TRUE(list && list->size() == 1) << out;
    auto p = list->getObject(0);
    EXPECT_EQ(p->getValue<std::string>("id"), "tools@acme-market");
    EXPECT_EQ(p->getValue<std::string>("version"), "1.2.0");
    EXPECT_EQ(p->getValue<std::string>("scope"), "user");
    EXPECT_TRUE(p->getValue<bool>("enabled"));
    EXPECT_EQ(p->getValue<std::string>("installPath"), home + "/.claude/plugins/cache/acme-market/tools/1.2.0");

    post("/api/claude/plugins/tools@acme-market/disable", "{}", 200);
    ASSERT_EQ(claude({"plugin", "list", "--json"}, &out), 0) << out;
    list = jsonArrayIn(out);
    ASSERT_TRUE(list && list->size() == 1) << out;
    EXPECT_FALSE(list->getObject(0)->getValue<bool>("enabled"));

    ASSERT_EQ(claude({"plugin", "marketplace", "list", "--json"}, &out), 0) << out;
    auto markets = jsonArrayIn(out);
    ASSERT_TRUE(markets && markets->size() == 1) << out;
    EXPECT_EQ(markets->getObject(0)->getValue<std::string>("name"), "acme-market");

    // Agents are copies: the CLI validates them where they were deployed.
    post(
        "/api/claude/custom-agents",
        R"({"name":"reviewer","description":"Reviews code","tools":"Read, Grep","instructions":"Review.","scope":"global","deployAgents":["claude"]})",
        201);
    post("/api/claude/agents/deploy", R"({"id":"tools@acme-market::auditor","agent":"claude","scope":"global"})", 200);
    ASSERT_TRUE(fs::exists(fs::path(home) / ".claude/agents/reviewer.md"));
    EXPECT_EQ(claude({"plugin", "validate", "--strict", home + "/.claude"}, &out), 0) << out;
    ASSERT_EQ(claude({"plugin", "list", "--json"}, &out), 0) << out;
    EXPECT_TRUE(jsonArrayIn(out)->getObject(0)->getValue<bool>("enabled"))
        << "deploying the plugin agent to Claude enables its plugin";
    // Negative control: the same check fails on a definition the CLI finds wanting.
    write(fs::path(home) / ".claude/agents/undescribed.md", "---\nname: undescribed\n---\nx\n");
    EXPECT_NE(claude({"plugin", "validate", "--strict", home + "/.claude"}, &out), 0) << out;
    EXPECT_NE(out.find("undescribed.md"), std::string::npos) << out;
    fs::remove(fs::path(home) / ".claude/agents/undescribed.md");

    // Skills are links into the registry. The CLI follows them in sessions but validates real
    // paths, so: it sees the link, and the registry (a skills/ tree) validates strictly.
    post(
        "/api/skills",
        R"({"name":"lint-fix","description":"Fixes lint errors","allowedTools":"Read, Edit","instructions":"Run the linter.\n"})",
        201);
    post("/api/skills/lint-fix/deploy", R"({"agent":"claude","scope":"global"})", 200);
    post("/api/skills/lint-fix/deploy", R"({"agent":"claude","scope":"project"})", 200);
    for (auto dir : {home + "/.claude", repo + "/.claude"}) {
        EXPECT_EQ(claude({"plugin", "validate", dir}, &out), 0) << out;
        EXPECT_NE(out.find("1 entry here is a symlink"), std::string::npos) << out;
    }
    EXPECT_EQ(claude({"plugin", "validate", "--strict", server->dataDir()}, &out), 0) << out;
    post("/api/skills", R"({"name":"bare"})", 201);
    EXPECT_NE(claude({"plugin", "validate", "--strict", server->dataDir()}, &out), 0) << out;
    EXPECT_NE(out.find("skills/bare/SKILL.md"), std::string::npos) << out;
    std::error_code ec;
    fs::remove_all(market, ec);
}

}  // namespace
