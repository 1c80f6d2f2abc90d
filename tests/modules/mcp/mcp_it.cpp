// The mcp module over the real host and real sockets: the OpenKit registry and deployment
// into real-looking CLI config files, /mcp driven by the official MCP TypeScript SDK (HTTP
// and the `atelier mcp` stdio bridge), KrowForge's /api/mcp and tokens, Kombuse's MCP
// configuration API, and the real `claude` and `codex` CLIs reading what we wrote.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_server.hpp"

using atelier::test::HttpResult;
using atelier::test::TestServer;
namespace fs = std::filesystem;
using Poco::JSON::Object;

namespace {

std::string readFile(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
void writeFile(const std::string& p, const std::string& s) {
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << s;
}
std::string str(const Object::Ptr& o, const std::string& k) {
    return o && o->has(k) ? o->get(k).toString() : std::string();
}

const char* kClaudeJson = R"({
  "numStartups": 3,
  "theme": "dark",
  "mcpServers": {
    "keep-me": {
      "type": "stdio",
      "command": "node",
      "args": ["keep.js"]
    }
  },
  "projects": {}
}
)";

const char* kCodexToml = R"(# my codex settings
model = "gpt-5"          # default model
approval_policy = "on-request"

[profiles.quick]
model = "o4-mini"

[mcp_servers.keep-me]
command = "node"
args = ["keep.js"]
)";

const char* kGeminiJson = R"({
  // Gemini CLI settings
  "theme": "GitHub",
  "mcpServers": {
    "keep-me": { "command": "node" },
  },
}
)";

const char* kVsCodeJson = R"({
	"servers": {
		"keep-me": {
			"type": "stdio",
			"command": "node"
		}
	},
	"inputs": []
}
)";

class McpIt : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        home_ = new std::string(atelier::test::makeTempDir("atelier-mcp-home-"));
        repo_ = new std::string(atelier::test::makeGitRepo({{"README.md", "# mcp test\n"}}));
        TestServer::Options o;
        o.cwd = *repo_;
        o.env = {{"HOME", *home_}, {"CODEX_HOME", *home_ + "/.codex"}};
        server_ = new TestServer(o);
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
    static const std::string& home() { return *home_; }
    static const std::string& repo() { return *repo_; }

    static Object::Ptr createServer(const std::string& body) {
        auto r = s().post("/api/mcp-servers", body);
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json() ? r.json()->getObject("server") : nullptr;
    }
    static HttpResult callTool(const std::string& tool, const std::string& args,
                               const std::map<std::string, std::string>& headers = {}) {
        return s().request("POST", "/api/mcp", R"({"tool":")" + tool + R"(","arguments":)" + args + "}", headers);
    }

    static std::string* home_;
    static std::string* repo_;
    static TestServer* server_;
};
std::string* McpIt::home_ = nullptr;
std::string* McpIt::repo_ = nullptr;
TestServer* McpIt::server_ = nullptr;

TEST_F(McpIt, RegistryCrudSearchAndErrors) {
    auto srv = createServer(
        R"({"name":"Web Search","description":"searches","tags":["search","web"],"command":"npx","args":["-y","web-search"],"env":{"API_KEY":"k"}})");
    ASSERT_TRUE(srv);
    EXPECT_EQ(str(srv, "id"), "web-search");
    EXPECT_FALSE(str(srv, "createdAt").empty());
    auto dup = s().post("/api/mcp-servers", R"({"name":"Web Search","command":"x"})");
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(str(dup.json(), "code"), "SERVER_EXISTS");
    EXPECT_EQ(str(dup.json(), "success"), "false");
    auto none = s().post("/api/mcp-servers", R"({"name":"no transport"})");
    EXPECT_EQ(none.status, 400);
    EXPECT_EQ(str(none.json(), "code"), "VALIDATION_ERROR");
    EXPECT_EQ(s().post("/api/mcp-servers", "{oops").status, 400);
    EXPECT_EQ(s().post("/api/mcp-servers", R"({"name":"t","command":["a"]})").status, 400);
    EXPECT_EQ(s().post("/api/mcp-servers", R"({"name":"t","url":"ftp://example.com/x"})").status, 400);
    auto remote = createServer(R"({"name":"remote-mcp","type":"http","url":"https://mcp.example.com"})");
    EXPECT_EQ(str(remote, "type"), "http");

    auto q = s().get("/api/mcp-servers?q=SEARCHES");
    ASSERT_EQ(q.status, 200);
    EXPECT_EQ(q.json()->getArray("servers")->size(), 1u);
    EXPECT_EQ(s().get("/api/mcp-servers?tag=web").json()->getArray("servers")->size(), 1u);
    EXPECT_EQ(s().get("/api/mcp-servers?tag=none").json()->getArray("servers")->size(), 0u);
    EXPECT_EQ(s().get("/api/mcp-servers/web-search").json()->getObject("server")->getValue<std::string>("name"),
              "Web Search");
    auto missing = s().get("/api/mcp-servers/nope");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(str(missing.json(), "error"), "Server not found");
    auto patched = s().patch("/api/mcp-servers/remote-mcp",
                             R"({"description":"remote one","headers":{"Authorization":"Bearer x"}})");
    ASSERT_EQ(patched.status, 200) << patched.body;
    EXPECT_EQ(patched.json()->getObject("server")->getValue<std::string>("description"), "remote one");
    EXPECT_EQ(s().patch("/api/mcp-servers/nope", "{}").status, 404);
    EXPECT_EQ(s().patch("/api/mcp-servers/remote-mcp", R"({"tags":"x"})").status, 400);
    EXPECT_EQ(s().del("/api/mcp-servers/remote-mcp").status, 200);
    EXPECT_EQ(s().del("/api/mcp-servers/remote-mcp").status, 404);
    // The registry is OpenKit's versioned file, in the data directory.
    auto file = readFile(s().dataDir() + "/mcp-servers.json");
    EXPECT_NE(file.find("\"version\": 1"), std::string::npos);
    EXPECT_NE(file.find("\"web-search\""), std::string::npos);
}

TEST_F(McpIt, DeployUndeployRoundTripsKeepEveryOtherByte) {
    createServer(R"({"name":"roundtrip","command":"npx","args":["-y","rt"],"env":{"TOKEN":"global"}})");
    std::map<std::string, std::pair<std::string, std::string>> files{
        {"claude", {home() + "/.claude.json", kClaudeJson}},
        {"codex", {home() + "/.codex/config.toml", kCodexToml}},
        {"gemini", {home() + "/.gemini/settings.json", kGeminiJson}},
        {"cursor", {home() + "/.cursor/mcp.json", kClaudeJson}},
        {"vscode", {home() + "/.config/Code/User/mcp.json", kVsCodeJson}},
    };
    for (auto& [tool, f] : files) {
        writeFile(f.first, f.second);
        fs::permissions(f.first, fs::perms::owner_read | fs::perms::owner_write);
    }
    for (auto& [tool, f] : files) {
        auto r = s().post("/api/mcp-servers/roundtrip/deploy", R"({"tool":")" + tool + R"(","scope":"global"})");
        ASSERT_EQ(r.status, 200) << tool << ": " << r.body;
        EXPECT_EQ(str(r.json(), "configPath"), f.first);
        auto text = readFile(f.first);
        EXPECT_NE(text.find("roundtrip"), std::string::npos) << tool;
        EXPECT_NE(text.find("keep-me"), std::string::npos) << tool;
        EXPECT_NE(text.find("TOKEN"), std::string::npos) << tool;
        EXPECT_EQ(fs::status(f.first).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write)
            << tool;
    }
    EXPECT_NE(readFile(home() + "/.gemini/settings.json").find("// Gemini CLI settings"), std::string::npos);
    EXPECT_NE(readFile(home() + "/.codex/config.toml").find("# default model"), std::string::npos);
    EXPECT_NE(readFile(home() + "/.codex/config.toml").find("[mcp_servers.roundtrip.env]"), std::string::npos);

    // Project scope: the active project is the repository the server started in.
    for (auto& tool : {"claude", "codex", "gemini", "cursor", "vscode"}) {
        auto r = s().post("/api/mcp-servers/roundtrip/deploy",
                          R"({"tool":")" + std::string(tool) + R"(","scope":"project"})");
        ASSERT_EQ(r.status, 200) << tool << ": " << r.body;
        EXPECT_EQ(str(r.json(), "configPath").rfind(fs::canonical(repo()).string(), 0), 0u) << r.body;
    }
    EXPECT_TRUE(fs::exists(repo() + "/.mcp.json"));
    EXPECT_TRUE(fs::exists(repo() + "/.codex/config.toml"));
    EXPECT_TRUE(fs::exists(repo() + "/.vscode/mcp.json"));

    auto status = s().get("/api/mcp-servers/deployment-status");
    ASSERT_EQ(status.status, 200);
    auto rt = status.json()->getObject("status")->getObject("roundtrip");
    ASSERT_TRUE(rt);
    for (auto& tool : {"claude", "codex", "gemini", "cursor", "vscode"}) {
        EXPECT_TRUE(rt->getObject(tool)->getValue<bool>("global")) << tool;
        EXPECT_TRUE(rt->getObject(tool)->getValue<bool>("project")) << tool;
    }

    for (auto& [tool, f] : files) {
        auto r = s().post("/api/mcp-servers/roundtrip/undeploy", R"({"tool":")" + tool + R"(","scope":"global"})");
        ASSERT_EQ(r.status, 200) << tool << ": " << r.body;
        EXPECT_EQ(readFile(f.first), f.second) << tool << " is not byte-identical after the round trip";
    }
    for (auto& tool : {"claude", "codex", "gemini", "cursor", "vscode"})
        EXPECT_EQ(s().post("/api/mcp-servers/roundtrip/undeploy",
                           R"({"tool":")" + std::string(tool) + R"(","scope":"project"})")
                      .status,
                  200);
    auto after = s().get("/api/mcp-servers/deployment-status").json()->getObject("status")->getObject("roundtrip");
    EXPECT_FALSE(after->getObject("codex")->getValue<bool>("project"));

    EXPECT_EQ(s().post("/api/mcp-servers/roundtrip/deploy", R"({"tool":"emacs"})").status, 400);
    EXPECT_EQ(s().post("/api/mcp-servers/roundtrip/deploy", R"({"tool":"claude","scope":"galaxy"})").status, 400);
    EXPECT_EQ(s().post("/api/mcp-servers/roundtrip/deploy", R"({"scope":"global"})").status, 400);
    EXPECT_EQ(s().post("/api/mcp-servers/missing/deploy", R"({"tool":"claude"})").status, 404);
}

TEST_F(McpIt, InvalidConfigFilesAreRefusedAndLeftUntouched) {
    createServer(R"({"name":"careful","command":"c"})");
    std::string badJson = "{ \"mcpServers\": { \"x\": 1, } oops\n";
    std::string badToml = "[mcp_servers.x\ncommand = \n";
    writeFile(home() + "/.cursor/mcp.json", badJson);
    writeFile(home() + "/.codex/config.toml", badToml);
    for (auto& tool : {"cursor", "codex"}) {
        for (auto& action : {"deploy", "undeploy"}) {
            auto r =
                s().post(std::string("/api/mcp-servers/careful/") + action, R"({"tool":")" + std::string(tool) + "\"}");
            EXPECT_EQ(r.status, 422) << tool << " " << action << ": " << r.body;
            EXPECT_EQ(str(r.json(), "code"), "CONFIG_INVALID");
        }
    }
    EXPECT_EQ(readFile(home() + "/.cursor/mcp.json"), badJson);
    EXPECT_EQ(readFile(home() + "/.codex/config.toml"), badToml);
    writeFile(home() + "/.gemini/settings.json", "{\"mcpServers\": [1, 2]}");
    EXPECT_EQ(s().post("/api/mcp-servers/careful/deploy", R"({"tool":"gemini"})").status, 422);
    fs::remove(home() + "/.cursor/mcp.json");
    fs::remove(home() + "/.codex/config.toml");
    fs::remove(home() + "/.gemini/settings.json");
    // No temporary files are left behind by refused or completed writes.
    for (auto& e : fs::recursive_directory_iterator(home()))
        EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST_F(McpIt, ConcurrentDeploysNeverCorruptAFile) {
    const int n = 12;
    for (int i = 0; i < n; ++i)
        createServer(R"({"name":"conc-)" + std::to_string(i) + R"(","command":"c)" + std::to_string(i) + "\"}");
    writeFile(home() + "/.claude.json", kClaudeJson);
    writeFile(home() + "/.codex/config.toml", kCodexToml);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            for (auto tool : {"claude", "codex"}) {
                auto r = s().post("/api/mcp-servers/conc-" + std::to_string(i) + "/deploy",
                                  R"({"tool":")" + std::string(tool) + "\"}");
                if (r.status == 200) ++ok;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 2 * n);
    auto claude = Poco::JSON::Parser().parse(readFile(home() + "/.claude.json")).extract<Object::Ptr>();
    EXPECT_EQ(claude->getObject("mcpServers")->size(), static_cast<size_t>(n + 1));
    EXPECT_EQ(claude->getValue<int>("numStartups"), 3);
    std::string out;
    for (int i = 0; i < n; ++i)
        EXPECT_NE(readFile(home() + "/.codex/config.toml").find("[mcp_servers.conc-" + std::to_string(i) + "]"),
                  std::string::npos);
    for (int i = 0; i < n; ++i) {
        s().post("/api/mcp-servers/conc-" + std::to_string(i) + "/undeploy", R"({"tool":"claude"})");
        s().post("/api/mcp-servers/conc-" + std::to_string(i) + "/undeploy", R"({"tool":"codex"})");
    }
    EXPECT_EQ(readFile(home() + "/.claude.json"), kClaudeJson);
    EXPECT_EQ(readFile(home() + "/.codex/config.toml"), kCodexToml);
}

TEST_F(McpIt, ProjectEnvOverridesWinOverGlobalEnv) {
    createServer(R"({"name":"with-env","command":"c","env":{"A":"global","B":"global"}})");
    auto none = s().get("/api/mcp-env/with-env");
    ASSERT_EQ(none.status, 200) << none.body;
    EXPECT_EQ(none.json()->getObject("env")->size(), 0u);
    auto put = s().put("/api/mcp-env/with-env", R"({"env":{"B":"project"}})");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.json()->getObject("env")->getValue<std::string>("B"), "project");
    EXPECT_EQ(s().put("/api/mcp-env/with-env", R"({"env":{"B":1}})").status, 400);
    EXPECT_EQ(s().put("/api/mcp-env/with-env", R"({"env":"x"})").status, 400);
    EXPECT_EQ(s().put("/api/mcp-env/nope", R"({"env":{}})").status, 404);
    ASSERT_EQ(s().post("/api/mcp-servers/with-env/deploy", R"({"tool":"cursor","scope":"project"})").status, 200);
    auto cfg = Poco::JSON::Parser().parse(readFile(repo() + "/.cursor/mcp.json")).extract<Object::Ptr>();
    auto env = cfg->getObject("mcpServers")->getObject("with-env")->getObject("env");
    EXPECT_EQ(env->getValue<std::string>("A"), "global");
    EXPECT_EQ(env->getValue<std::string>("B"), "project");
    EXPECT_EQ(s().put("/api/mcp-env/with-env", R"({"env":{}})").json()->getObject("env")->size(), 0u);
    s().post("/api/mcp-servers/with-env/undeploy", R"({"tool":"cursor","scope":"project"})");
}

TEST_F(McpIt, ScanFindsServersAndImportAddsThem) {
    auto ws = s().post("/api/mcp-servers", R"({"name":"web-search","command":"npx"})");
    EXPECT_TRUE(ws.status == 200 || ws.status == 409) << ws.body;  // another test of this suite may have made it
    writeFile(home() + "/scanme/a/.mcp.json",
              R"({"mcpServers":{"found-one":{"command":"npx","args":["f1"]},"web-search":{"command":"npx"}}})");
    writeFile(home() + "/scanme/b/c/config.toml", "[mcp_servers.found-two]\nurl = \"https://two.example.com/mcp\"\n");
    writeFile(home() + "/scanme/d/settings.json",
              "{ // vscode-ish\n \"mcp\": { \"servers\": { \"found-three\": { \"type\": \"sse\", \"url\": "
              "\"http://x/sse\" } } } }");
    writeFile(home() + "/scanme/e/mcp.json", "{ not json");
    auto r = s().post("/api/mcp-servers/scan", R"({"mode":"folder","scanPath":")" + home() + R"(/scanme"})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto found = r.json()->getArray("discovered");
    std::map<std::string, Object::Ptr> byKey;
    for (size_t i = 0; i < found->size(); ++i) byKey[str(found->getObject(i), "key")] = found->getObject(i);
    ASSERT_TRUE(byKey.count("found-one") && byKey.count("found-two") && byKey.count("found-three")) << r.body;
    EXPECT_EQ(str(byKey["found-two"], "url"), "https://two.example.com/mcp");
    EXPECT_EQ(str(byKey["found-three"], "type"), "sse");
    EXPECT_TRUE(byKey["web-search"]->getValue<bool>("alreadyInRegistry"));
    EXPECT_FALSE(byKey["found-one"]->getValue<bool>("alreadyInRegistry"));
    EXPECT_NE(str(byKey["found-one"]->getArray("foundIn")->getObject(0), "configPath").find("/scanme/a/.mcp.json"),
              std::string::npos);

    auto imp = s().post(
        "/api/mcp-servers/import",
        R"({"servers":[{"key":"found-one","name":"Found One","command":"npx","args":["f1"],"source":"scan"},{"key":"found-two","type":"http","url":"https://two.example.com/mcp"}]})");
    ASSERT_EQ(imp.status, 200) << imp.body;
    EXPECT_EQ(imp.json()->getArray("imported")->size(), 2u);
    EXPECT_EQ(s().get("/api/mcp-servers/found-one").json()->getObject("server")->getValue<std::string>("name"),
              "Found One");
    EXPECT_EQ(s().post("/api/mcp-servers/import", R"({"servers":[{"key":"found-one","command":"npx"}]})")
                  .json()
                  ->getArray("imported")
                  ->size(),
              0u);
    EXPECT_EQ(s().post("/api/mcp-servers/import", R"({"servers":[{"name":"nokey"}]})").status, 400);
    EXPECT_EQ(s().post("/api/mcp-servers/import", R"({"servers":"x"})").status, 400);
    EXPECT_EQ(s().post("/api/mcp-servers/scan", R"({"mode":"folder","scanPath":"relative/path"})").status, 400);
    EXPECT_EQ(s().post("/api/mcp-servers/scan", R"({"mode":"folder"})").status, 400);
    EXPECT_EQ(s().post("/api/mcp-servers/scan", R"({"mode":"galaxy"})").status, 400);
    auto device = s().post("/api/mcp-servers/scan", R"({"mode":"device"})");
    ASSERT_EQ(device.status, 200);
    auto project = s().post("/api/mcp-servers/scan", R"({})");
    EXPECT_EQ(project.status, 200) << project.body;
    fs::remove_all(home() + "/scanme");
}

TEST_F(McpIt, TokensAreScopedRevocableAndStoredAsHashes) {
    auto mk = s().post("/api/mcp/tokens", R"({"name":"reader","scopes":["read"]})");
    ASSERT_EQ(mk.status, 201) << mk.body;
    std::string token = mk.json()->getObject("token")->getValue<std::string>("token");
    std::string id = mk.json()->getObject("token")->getValue<std::string>("id");
    EXPECT_EQ(token.rfind("mcp_", 0), 0u);
    auto list = s().get("/api/mcp/tokens");
    EXPECT_EQ(list.body.find(token), std::string::npos);  // the secret is shown once, never listed
    EXPECT_NE(list.body.find("reader"), std::string::npos);
    std::string db = readFile(s().dataDir() + "/atelier.db");
    EXPECT_EQ(db.find(token), std::string::npos);
    EXPECT_EQ(s().post("/api/mcp/tokens", R"({"name":"x","scopes":["root"]})").status, 400);
    EXPECT_EQ(s().post("/api/mcp/tokens", R"({"scopes":["read"]})").status, 400);

    std::map<std::string, std::string> auth{{"Authorization", "Bearer " + token}};
    auto tools = s().request("GET", "/api/mcp", {}, auth);
    ASSERT_EQ(tools.status, 200);
    EXPECT_GE(tools.json()->getArray("tools")->size(), 26u);
    auto read = callTool("list_projects", "{}", auth);
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_TRUE(read.json()->getValue<bool>("success"));
    auto write = callTool("create_ticket", R"({"project_id":"x","title":"t"})", auth);
    ASSERT_EQ(write.status, 200);
    EXPECT_FALSE(write.json()->getValue<bool>("success"));
    EXPECT_NE(write.body.find("Permission denied"), std::string::npos);
    EXPECT_EQ(s().request("GET", "/api/mcp", {}, {{"Authorization", "Bearer mcp_wrong"}}).status, 401);
    auto mcp401 = s().request("POST", "/mcp", R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                              {{"Authorization", "Bearer mcp_wrong"}});
    EXPECT_EQ(mcp401.status, 401);
    EXPECT_EQ(s().del("/api/mcp/tokens/" + id).status, 200);
    EXPECT_EQ(s().del("/api/mcp/tokens/" + id).status, 404);
    EXPECT_EQ(s().request("GET", "/api/mcp", {}, auth).status, 401);
    EXPECT_EQ(callTool("nope", "{}").status, 404);
    EXPECT_EQ(s().post("/api/mcp", R"({"tool":"list_projects","arguments":[1]})").status, 400);
    EXPECT_EQ(s().post("/api/mcp", R"({})").status, 400);
}

TEST_F(McpIt, AnonymousWritesFollowTheSetting) {
    auto proj = s().get("/api/active-project").json();
    ASSERT_TRUE(proj) << "no active project";
    std::string pid = str(proj->has("data") ? proj->getObject("data") : proj, "id");
    ASSERT_EQ(s().put("/api/mcp/settings", R"({"anonymous_write_access":"denied"})").status, 200);
    auto refused = callTool("create_ticket", R"({"project_id":")" + pid + R"(","title":"anon"})");
    EXPECT_NE(refused.body.find("anonymous MCP writes are disabled"), std::string::npos) << refused.body;
    EXPECT_EQ(s().put("/api/mcp/settings", R"({"anonymous_write_access":"maybe"})").status, 400);
    ASSERT_EQ(s().put("/api/mcp/settings", R"({"anonymous_write_access":"allowed"})").status, 200);
    auto allowed = callTool("create_ticket", R"({"project_id":")" + pid + R"(","title":"anon"})");
    EXPECT_TRUE(allowed.json()->getValue<bool>("success")) << allowed.body;
}

TEST_F(McpIt, OwnEntryTogglesInClaudeAndCodexConfigs) {
    writeFile(home() + "/.claude.json", kClaudeJson);
    writeFile(home() + "/.codex/config.toml", kCodexToml);
    for (auto [route, file] :
         {std::pair{"/api/claude-code/mcp", "/.claude.json"}, std::pair{"/api/codex/mcp", "/.codex/config.toml"}}) {
        EXPECT_FALSE(s().get(route).json()->getValue<bool>("enabled"));
        auto on = s().put(route, R"({"enabled":true})");
        ASSERT_EQ(on.status, 200) << on.body;
        EXPECT_TRUE(on.json()->getValue<bool>("enabled"));
        EXPECT_TRUE(on.json()->has("stopped_sessions"));
        std::string text = readFile(home() + file);
        EXPECT_NE(text.find("atelier"), std::string::npos);
        EXPECT_NE(text.find(s().dataDir()), std::string::npos);  // the bridge finds the server through the data dir
        EXPECT_TRUE(s().get(route).json()->getValue<bool>("enabled"));
        ASSERT_EQ(s().put(route, R"({"enabled":false})").status, 200);
        EXPECT_FALSE(s().get(route).json()->getValue<bool>("enabled"));
        EXPECT_EQ(s().put(route, R"({})").status, 400);
        EXPECT_EQ(s().put(route, R"({"enabled":"yes"})").status, 400);
    }
    EXPECT_EQ(readFile(home() + "/.claude.json"), kClaudeJson);
    EXPECT_EQ(readFile(home() + "/.codex/config.toml"), kCodexToml);
}

TEST_F(McpIt, GetOnMcpIsNotAStreamAndUnknownSessionsEnd) {
    EXPECT_EQ(s().get("/mcp").status, 405);
    EXPECT_EQ(s().request("DELETE", "/mcp", {}, {{"Mcp-Session-Id", "nope"}}).status, 404);
    auto bad =
        s().request("POST", "/mcp", R"({"jsonrpc":"2.0","id":1,"method":"ping"})", {{"Origin", "http://evil.example"}});
    EXPECT_EQ(bad.status, 403);
    auto text = s().request("POST", "/mcp", "x", {{"Content-Type", "text/plain"}});
    EXPECT_EQ(text.status, 415);
}

}  // namespace
