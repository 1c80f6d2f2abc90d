// Real clients against the mcp module: the official MCP TypeScript SDK over Streamable HTTP
// and through `atelier mcp` (stdio), and the real `claude` and `codex` CLIs reading the
// configuration files we deploy. The npm packages are installed from the lockfile on first use.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_server.hpp"

using atelier::test::HttpResult;
using atelier::test::TestServer;
namespace fs = std::filesystem;
using Poco::JSON::Object;

#ifndef MCP_CLIENTS_DIR
#error "define MCP_CLIENTS_DIR"
#endif

namespace {

std::string str(const Object::Ptr& o, const std::string& k) {
    return o && o->has(k) ? o->get(k).toString() : std::string();
}

class McpClientsIt : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        std::string dir = MCP_CLIENTS_DIR;
        // ctest runs this suite's tests as parallel processes: one installs, the others wait for it.
        int lock = open((dir + "/.install.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        ASSERT_GE(lock, 0);
        flock(lock, LOCK_EX);
        if (!fs::exists(dir + "/node_modules/.bin/claude") || !fs::exists(dir + "/node_modules/.bin/codex") ||
            !fs::exists(dir + "/node_modules/@modelcontextprotocol/sdk/package.json")) {
            std::string out;
            int rc = atelier::test::run({"npm", "ci", "--no-audit", "--no-fund"}, dir, &out);
            flock(lock, LOCK_UN);
            close(lock);
            ASSERT_EQ(rc, 0) << out;
        } else {
            flock(lock, LOCK_UN);
            close(lock);
        }
        home_ = new std::string(atelier::test::makeTempDir("atelier-mcp-clients-home-"));
        repo_ = new std::string(atelier::test::makeGitRepo({{"README.md", "# clients\n"}}));
        TestServer::Options o;
        o.cwd = *repo_;
        o.env = {{"HOME", *home_}, {"CODEX_HOME", *home_ + "/.codex"}};
        server_ = new TestServer(o);
        seed();
    }
    static void TearDownTestSuite() {
        delete server_;
        std::error_code ec;
        fs::remove_all(*home_, ec);
        fs::remove_all(*repo_, ec);
        delete home_;
        delete repo_;
    }
    static TestServer& s() { return *server_; }

    static Object::Ptr must(const HttpResult& r, int status) {
        EXPECT_EQ(r.status, status) << r.body;
        return r.json();
    }

    static void seed() {
        auto p = must(s().get("/api/active-project"), 200);
        auto project = p->has("data") ? p->getObject("data") : p;
        Object::Ptr fx = new Object;
        fx->set("projectId", str(project, "slug").empty() ? str(project, "id") : str(project, "slug"));
        fx->set("projectUuid", str(project, "id"));
        std::string pid = str(project, "id");
        must(s().post("/api/profiles", R"({"id":"dev-user","type":"user","name":"Dev"})"), 201);
        auto t = must(
            s().post(
                "/api/tickets",
                R"({"project_id":")" + pid +
                    R"(","title":"Fix the flux capacitor","body":"It needs 1.21 gigawatts","author_id":"dev-user"})"),
            201);
        fx->set("ticketNumber", t->getValue<int>("ticket_number"));
        fx->set("ticketTitle", "Fix the flux capacitor");
        fx->set("searchWord", "capacitor");
        std::string big(40000, 'x');
        auto b = must(s().post("/api/tickets", R"({"project_id":")" + pid + R"(","title":"Huge","body":")" + big +
                                                   R"(","author_id":"dev-user"})"),
                      201);
        fx->set("bigTicketNumber", b->getValue<int>("ticket_number"));
        auto c = must(s().post("/api/projects/" + pid + "/tickets/by-number/" +
                                   std::to_string(t->getValue<int>("ticket_number")) + "/comments",
                               R"({"body":"first comment","author_id":"dev-user"})"),
                      201);
        fx->set("commentId", c->getValue<int>("id"));
        auto l = must(s().post("/api/projects/" + pid + "/labels", R"({"name":"mcp-label","color":"#ff0000"})"), 201);
        fx->set("labelId", l->getValue<int>("id"));
        fx->set("labelName", "mcp-label");
        auto allowed = must(
            s().post("/api/agents", R"({"name":"Reporter","description":"reports","system_prompt":"report progress",
            "permissions":[{"type":"resource","resource":"comment","actions":["create"],"scope":"global"},
                           {"type":"tool","tool":"mcp__atelier__create_worktree","scope":"global"}],
            "config":{"enabled_for_chat":true,"backend_type":"mock"}})"),
            201);
        auto limited =
            must(s().post("/api/agents", R"({"name":"Reader","description":"reads","system_prompt":"read only",
            "permissions":[{"type":"resource","resource":"ticket","actions":["read"],"scope":"global"}],
            "config":{"enabled_for_chat":true,"backend_type":"mock"}})"),
                 201);
        fx->set("allowedAgentId", str(allowed, "id"));
        fx->set("limitedAgentId", str(limited, "id"));
        auto s1 = must(
            s().post("/api/sessions", R"({"agent_id":")" + str(allowed, "id") + R"(","backend_type":"mock"})"), 201);
        auto s2 = must(
            s().post("/api/sessions", R"({"agent_id":")" + str(limited, "id") + R"(","backend_type":"mock"})"), 201);
        fx->set("allowedSession", str(s1, "kombuse_session_id"));
        fx->set("limitedSession", str(s2, "kombuse_session_id"));
        auto run = s().post("/api/runs", R"({"agent_id":")" + str(allowed, "id") + R"(","project_id":")" + pid +
                                             R"(","task":"say hello"})");
        ASSERT_EQ(run.status, 201) << run.body;
        fx->set("runId", str(run.json(), "id"));
        Poco::JSON::Array::Ptr names = new Poco::JSON::Array;
        for (auto n :
             {"get_ticket",      "get_ticket_comment", "add_comment",     "create_ticket",      "update_comment",
              "list_tickets",    "search_tickets",     "list_projects",   "list_labels",        "update_ticket",
              "query_db",        "list_tables",        "describe_table",  "list_api_endpoints", "call_api",
              "list_agents",     "create_agent",       "update_agent",    "list_worktrees",     "create_worktree",
              "delete_worktree", "start_dev_server",   "stop_dev_server", "start_run",          "get_run_events",
              "get_activity"})
            names->add(n);
        fx->set("expectTools", names);
        fixture_ = new Object::Ptr(fx);
    }

    static std::string fixture(const std::string& mode) {
        Object::Ptr fx = *fixture_;
        fx->set("mode", mode);
        fx->set("url", "http://127.0.0.1:" + std::to_string(s().port()) + "/mcp");
        fx->set("command", std::string(ATELIER_BINARY));
        Poco::JSON::Array::Ptr args = new Poco::JSON::Array;
        args->add("mcp");
        args->add("--data-dir");
        args->add(s().dataDir());
        fx->set("args", args);
        std::ostringstream os;
        fx->stringify(os);
        return os.str();
    }

    // Runs an agent CLI from node_modules with the test's HOME and no network chatter.
    static int cli(const std::string& name, const std::vector<std::string>& args, std::string* out) {
        std::vector<std::string> argv{std::string(MCP_CLIENTS_DIR) + "/node_modules/.bin/" + name};
        argv.insert(argv.end(), args.begin(), args.end());
        return atelier::test::run(argv, *repo_, out,
                                  {{"HOME", *home_},
                                   {"CODEX_HOME", *home_ + "/.codex"},
                                   {"DISABLE_AUTOUPDATER", "1"},
                                   {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"},
                                   {"DISABLE_TELEMETRY", "1"},
                                   {"NO_COLOR", "1"}});
    }

    static std::string* home_;
    static std::string* repo_;
    static TestServer* server_;
    static Object::Ptr* fixture_;
};
std::string* McpClientsIt::home_ = nullptr;
std::string* McpClientsIt::repo_ = nullptr;
TestServer* McpClientsIt::server_ = nullptr;
Object::Ptr* McpClientsIt::fixture_ = nullptr;

TEST_F(McpClientsIt, OfficialSdkOverStreamableHttp) {
    std::string out;
    int rc = atelier::test::run({"node", std::string(MCP_CLIENTS_DIR) + "/sdk_client.mjs", fixture("http")},
                                MCP_CLIENTS_DIR, &out);
    EXPECT_EQ(rc, 0) << out << "\n--- server log ---\n" << s().logText().substr(0, 4000);
    EXPECT_NE(out.find(" passed, 0 failed"), std::string::npos) << out;
}

TEST_F(McpClientsIt, OfficialSdkThroughTheStdioBridge) {
    std::string out;
    int rc = atelier::test::run({"node", std::string(MCP_CLIENTS_DIR) + "/sdk_client.mjs", fixture("stdio")},
                                MCP_CLIENTS_DIR, &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find(" passed, 0 failed"), std::string::npos) << out;
}

TEST_F(McpClientsIt, ClaudeAndCodexSeeWhatWeDeploy) {
    std::string url = "http://127.0.0.1:" + std::to_string(s().port()) + "/mcp";
    must(s().post("/api/mcp-servers", R"({"name":"atelier-http","type":"http","url":")" + url + R"("})"), 200);
    must(s().post("/api/mcp-servers",
                  R"({"name":"docs-stdio","command":"npx","args":["-y","some-docs-server"],"env":{"DOCS_KEY":"k"}})"),
         200);
    for (auto tool : {"claude", "codex"})
        for (auto id : {"atelier-http", "docs-stdio"})
            must(s().post(std::string("/api/mcp-servers/") + id + "/deploy",
                          R"({"tool":")" + std::string(tool) + R"(","scope":"global"})"),
                 200);
    must(s().put("/api/claude-code/mcp", R"({"enabled":true})"), 200);
    must(s().put("/api/codex/mcp", R"({"enabled":true})"), 200);

    std::string out;
    ASSERT_EQ(cli("claude", {"mcp", "list"}, &out), 0) << out;
    auto line = [&](const std::string& name) {
        auto at = out.find("\n" + name + ": ");
        if (at == std::string::npos) return std::string();
        return out.substr(at + 1, out.find('\n', at + 1) - at - 1);
    };
    EXPECT_NE(line("atelier-http").find("Connected"), std::string::npos) << out;
    EXPECT_EQ(line("atelier-http").find("Failed"), std::string::npos) << out;
    // Atelier's own entry is the stdio bridge, which must reach the running server.
    EXPECT_NE(line("atelier").find("Connected"), std::string::npos) << out;
    EXPECT_EQ(line("atelier").find("Failed"), std::string::npos) << out;
    EXPECT_NE(line("docs-stdio").find("npx"), std::string::npos) << out;

    ASSERT_EQ(cli("claude", {"mcp", "get", "atelier-http"}, &out), 0) << out;
    EXPECT_NE(out.find("Connected"), std::string::npos) << out;
    EXPECT_NE(out.find(url), std::string::npos) << out;

    ASSERT_EQ(cli("codex", {"mcp", "list", "--json"}, &out), 0) << out;
    auto json = out.substr(out.find('['));
    auto arr = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Array::Ptr>();
    std::map<std::string, Object::Ptr> byName;
    for (size_t i = 0; i < arr->size(); ++i) byName[str(arr->getObject(i), "name")] = arr->getObject(i);
    ASSERT_TRUE(byName.count("atelier-http") && byName.count("docs-stdio") && byName.count("atelier")) << out;
    EXPECT_EQ(str(byName["atelier-http"]->getObject("transport"), "url"), url);
    EXPECT_EQ(str(byName["docs-stdio"]->getObject("transport"), "command"), "npx");
    EXPECT_EQ(str(byName["atelier"]->getObject("transport"), "command"), ATELIER_BINARY);

    // Undeploying removes them from what the CLIs see.
    must(s().post("/api/mcp-servers/docs-stdio/undeploy", R"({"tool":"codex"})"), 200);
    ASSERT_EQ(cli("codex", {"mcp", "list", "--json"}, &out), 0) << out;
    EXPECT_EQ(out.find("docs-stdio"), std::string::npos) << out;
}

}  // namespace
