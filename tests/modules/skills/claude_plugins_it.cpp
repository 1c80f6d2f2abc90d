// Claude plugins and marketplaces over real sockets, written into Claude Code's own files in a
// temporary HOME; a git marketplace is cloned with libgit2 from a real repository.
#include "skills_fixture.hpp"

using namespace skillsfix;

namespace {

// A marketplace repository with one plugin that has an agent, a skill, a command and an MCP server.
std::string makeMarketplaceRepo() {
    return atelier::test::makeGitRepo({
        {".claude-plugin/marketplace.json",
         R"({"name":"acme-market","owner":{"name":"Acme"},"plugins":[{"name":"tools","source":"./plugins/tools","description":"Acme tools","version":"1.2.0"}]})"},
        {"plugins/tools/.claude-plugin/plugin.json",
         R"({"name":"tools","version":"1.2.0","description":"Acme tools","author":{"name":"Acme"},"license":"MIT"})"},
        {"plugins/tools/agents/auditor.md",
         "---\nname: auditor\ndescription: Audits code\ntools: Read\n---\n\nAudit.\n"},
        {"plugins/tools/skills/fmt/SKILL.md", "---\nname: fmt\ndescription: Formats\n---\nFormat.\n"},
        {"plugins/tools/commands/ship.md", "---\ndescription: Ship it\n---\nShip.\n"},
        {"plugins/tools/.mcp.json", R"({"mcpServers":{"acme":{"command":"acme-mcp"}}})"},
        {"plugins/tools/README.md", "# Tools\n"},
    });
}

class ClaudePluginsIt : public SkillsServer {};

TEST_F(ClaudePluginsIt, MarketplaceInstallEnableDisableUninstall) {
    std::string market = makeMarketplaceRepo();
    write(fs::path(home) / ".claude/settings.json", "{\n  \"model\": \"opus\"\n}\n");
    HttpResult r;
    post("/api/claude/plugins/marketplaces", R"({"source":"file://)" + market + R"("})", 200, &r);
    auto ms = server->get("/api/claude/plugins/marketplaces");
    ASSERT_EQ(ms.status, 200);
    auto m = ms.json()->getArray("marketplaces");
    ASSERT_EQ(m->size(), 1u) << ms.body;
    EXPECT_EQ(m->getObject(0)->getValue<std::string>("name"), "acme-market");
    EXPECT_TRUE(
        fs::exists(fs::path(home) / ".claude/plugins/marketplaces/acme-market/.claude-plugin/marketplace.json"));

    auto av = server->get("/api/claude/plugins/available");
    ASSERT_EQ(av.status, 200);
    auto a = av.json()->getArray("available");
    ASSERT_EQ(a->size(), 1u) << av.body;
    EXPECT_EQ(a->getObject(0)->getValue<std::string>("pluginId"), "tools@acme-market");
    EXPECT_FALSE(a->getObject(0)->getValue<bool>("installed"));

    post("/api/claude/plugins/install", R"({"ref":"tools@acme-market","scope":"user"})", 200);
    auto installedDoc = atelier::test::HttpResult{};
    auto ip = Poco::JSON::Parser()
                  .parse(read(fs::path(home) / ".claude/plugins/installed_plugins.json"))
                  .extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(ip->getValue<int>("version"), 2);
    auto entry = ip->getObject("plugins")->getArray("tools@acme-market")->getObject(0);
    EXPECT_EQ(entry->getValue<std::string>("scope"), "user");
    EXPECT_EQ(entry->getValue<std::string>("installPath"), home + "/.claude/plugins/cache/acme-market/tools/1.2.0");
    auto settings =
        Poco::JSON::Parser().parse(read(fs::path(home) / ".claude/settings.json")).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(settings->getValue<std::string>("model"), "opus") << "other settings are kept";
    EXPECT_TRUE(settings->getObject("enabledPlugins")->getValue<bool>("tools@acme-market"));

    auto list = server->get("/api/claude/plugins");
    ASSERT_EQ(list.status, 200);
    auto p = list.json()->getArray("plugins")->getObject(0);
    EXPECT_EQ(p->getValue<std::string>("id"), "tools@acme-market");
    EXPECT_TRUE(p->getValue<bool>("enabled"));
    EXPECT_EQ(p->getValue<std::string>("author"), "Acme");
    auto counts = p->getObject("componentCounts");
    EXPECT_EQ(counts->getValue<int>("agents"), 1);
    EXPECT_EQ(counts->getValue<int>("skills"), 1);
    EXPECT_EQ(counts->getValue<int>("commands"), 1);
    EXPECT_EQ(counts->getValue<int>("mcpServers"), 1);

    auto detail = server->get("/api/claude/plugins/tools@acme-market");
    ASSERT_EQ(detail.status, 200) << detail.body;
    EXPECT_EQ(detail.json()->getObject("plugin")->getValue<std::string>("readme"), "# Tools\n");
    EXPECT_EQ(
        detail.json()->getObject("plugin")->getObject("components")->getArray("agents")->getElement<std::string>(0),
        "auditor");

    post("/api/claude/plugins/tools@acme-market/disable", "{}", 200);
    settings =
        Poco::JSON::Parser().parse(read(fs::path(home) / ".claude/settings.json")).extract<Poco::JSON::Object::Ptr>();
    EXPECT_FALSE(settings->getObject("enabledPlugins")->getValue<bool>("tools@acme-market"));

    // Plugin agents: copied into other CLIs, enabled through the plugin for Claude.
    auto agents = server->get("/api/claude/agents");
    ASSERT_EQ(agents.status, 200);
    ASSERT_EQ(agents.json()->getArray("agents")->size(), 1u) << agents.body;
    EXPECT_EQ(agents.json()->getArray("agents")->getObject(0)->getValue<std::string>("id"),
              "tools@acme-market::auditor");
    post("/api/claude/agents/deploy", R"({"id":"tools@acme-market::auditor","agent":"cursor","scope":"project"})", 200);
    EXPECT_EQ(read(fs::path(repo) / ".cursor/agents/auditor.md"),
              "---\nname: auditor\ndescription: Audits code\ntools: Read\n---\n\nAudit.\n");
    post("/api/claude/agents/deploy", R"({"id":"tools@acme-market::auditor","agent":"claude","scope":"global"})", 200);
    EXPECT_TRUE(
        server->get("/api/claude/plugins").json()->getArray("plugins")->getObject(0)->getValue<bool>("enabled"));
    auto ad = server->get("/api/claude/agents/detail?id=tools@acme-market::auditor");
    ASSERT_EQ(ad.status, 200) << ad.body;
    EXPECT_TRUE(
        ad.json()->getObject("agent")->getObject("deployments")->getObject("cursor")->getValue<bool>("project"));
    post("/api/claude/agents/undeploy", R"({"id":"tools@acme-market::auditor","agent":"cursor","scope":"project"})",
         200);
    EXPECT_FALSE(fs::exists(fs::path(repo) / ".cursor/agents/auditor.md"));
    EXPECT_EQ(server->get("/api/claude/agents/tools@acme-market::nobody").status, 404);
    EXPECT_EQ(server->get("/api/claude/agents/nonsense").status, 400);

    post("/api/claude/plugins/tools@acme-market/update", "{}", 200);
    post("/api/claude/plugins/tools@acme-market/uninstall", "{}", 200);
    EXPECT_FALSE(fs::exists(fs::path(home) / ".claude/plugins/cache/acme-market/tools/1.2.0"));
    EXPECT_EQ(server->get("/api/claude/plugins").json()->getArray("plugins")->size(), 0u);
    EXPECT_EQ(server->post("/api/claude/plugins/tools@acme-market/enable").status, 404);

    ASSERT_EQ(server->del("/api/claude/plugins/marketplaces/acme-market").status, 200);
    EXPECT_FALSE(fs::exists(fs::path(home) / ".claude/plugins/marketplaces/acme-market"));
    std::error_code ec;
    fs::remove_all(market, ec);
}

TEST_F(ClaudePluginsIt, RefusesBadInputAndUnreachableSources) {
    auto r = server->post("/api/claude/plugins/marketplaces", R"({"source":"http://127.0.0.1:1/none.git"})");
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_EQ(code(r), "SOURCE_UNREACHABLE");
    EXPECT_NE(r.json()->getValue<std::string>("error").find("127.0.0.1:1"), std::string::npos);
    EXPECT_EQ(server->post("/api/claude/plugins/marketplaces", R"({"source":"--upload-pack=evil"})").status, 400);
    EXPECT_EQ(server->post("/api/claude/plugins/marketplaces", R"({"source":42})").status, 400);
    EXPECT_EQ(server->post("/api/claude/plugins/install", R"({"ref":"x@nowhere"})").status, 404);
    EXPECT_EQ(server->post("/api/claude/plugins/install", R"({"ref":"../../x@y"})").status, 400);
    EXPECT_EQ(server->post("/api/claude/plugins/install", R"({"ref":"x@y","scope":"galaxy"})").status, 400);
    EXPECT_EQ(server->get("/api/claude/plugins/not-an-id").status, 400);
    // A settings file Claude Code cannot parse either is never overwritten.
    write(fs::path(home) / ".claude/settings.json", "{ broken");
    std::string market = makeMarketplaceRepo();
    EXPECT_EQ(server->post("/api/claude/plugins/marketplaces", R"({"source":")" + market + R"("})").status, 409);
    EXPECT_EQ(read(fs::path(home) / ".claude/settings.json"), "{ broken");
    std::error_code ec;
    fs::remove_all(market, ec);
}

}  // namespace
