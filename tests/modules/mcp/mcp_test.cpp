// Unit tests of the mcp module's pure parts: JSONC and TOML splicing, the registry file,
// JSON-RPC framing and argument validation, get_ticket pruning.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atelier/util.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config_file.hpp"
#include "deployer.hpp"
#include "jsonc_edit.hpp"
#include "protocol.hpp"
#include "registry.hpp"
#include "toml_edit.hpp"
#include "tools.hpp"

namespace fs = std::filesystem;
using namespace atelier;
using namespace atelier::mcp;

namespace {

JsonObject obj(const std::string& s) { return parseObject(s); }

std::string tempDir() {
    std::string t = (fs::temp_directory_path() / "atelier-mcp-unit-XXXXXX").string();
    return mkdtemp(t.data());
}

const std::string kVsCodeSettings = R"({
    // Editor settings the user cares about
    "editor.fontSize": 14, /* keep */
    "mcpServers": {
        "existing": { "command": "node", "args": ["x.js"] }, // a comment after
    },
    "files.exclude": { "**/.git": true },
}
)";

}  // namespace

TEST(Jsonc, StrictKeepsOffsetsAndDropsCommentsAndTrailingCommas) {
    auto strict = jsonc::toStrict(kVsCodeSettings);
    EXPECT_EQ(strict.size(), kVsCodeSettings.size());
    auto o = jsonc::parseObject(kVsCodeSettings);
    EXPECT_EQ(o->getValue<int>("editor.fontSize"), 14);
    EXPECT_TRUE(jsonc::objectAt(o, {"mcpServers"})->has("existing"));
}

TEST(Jsonc, InsertThenRemoveIsByteIdentical) {
    auto entry = obj(R"({"command":"npx","args":["-y","srv"],"env":{"K":"v \"q\""}})");
    auto added = jsonc::setMember(kVsCodeSettings, {"mcpServers"}, "new-one", entry);
    auto parsed = jsonc::parseObject(added);
    auto servers = jsonc::objectAt(parsed, {"mcpServers"});
    ASSERT_TRUE(servers->has("new-one"));
    EXPECT_EQ(servers->getObject("new-one")->getObject("env")->getValue<std::string>("K"), "v \"q\"");
    EXPECT_NE(added.find("// Editor settings the user cares about"), std::string::npos);
    EXPECT_NE(added.find("/* keep */"), std::string::npos);
    auto removed = jsonc::removeMember(added, {"mcpServers"}, "new-one");
    ASSERT_TRUE(removed);
    EXPECT_EQ(*removed, kVsCodeSettings);
}

TEST(Jsonc, ReplaceKeepsOtherMembersAndCreatesMissingContainers) {
    std::string text = "{\n  \"a\": 1\n}\n";
    auto withNested = jsonc::setMember(text, {"mcp", "servers"}, "s", obj(R"({"url":"http://x"})"));
    auto p = jsonc::parseObject(withNested);
    EXPECT_EQ(jsonc::objectAt(p, {"mcp", "servers", "s"})->getValue<std::string>("url"), "http://x");
    EXPECT_EQ(p->getValue<int>("a"), 1);
    auto replaced = jsonc::setMember(withNested, {"mcp", "servers"}, "s", obj(R"({"url":"http://y"})"));
    EXPECT_EQ(jsonc::objectAt(jsonc::parseObject(replaced), {"mcp", "servers", "s"})->getValue<std::string>("url"),
              "http://y");
    EXPECT_EQ(replaced.find("http://x"), std::string::npos);
    auto fresh = jsonc::setMember("", {"mcpServers"}, "z", obj(R"({"command":"c"})"));
    EXPECT_EQ(jsonc::objectAt(jsonc::parseObject(fresh), {"mcpServers", "z"})->getValue<std::string>("command"), "c");
}

TEST(Jsonc, RemovingFirstMiddleAndOnlyMembers) {
    std::string text = "{\n  \"s\": {\n    \"a\": 1,\n    \"b\": 2,\n    \"c\": 3\n  }\n}\n";
    auto noA = *jsonc::removeMember(text, {"s"}, "a");
    EXPECT_EQ(noA, "{\n  \"s\": {\n    \"b\": 2,\n    \"c\": 3\n  }\n}\n");
    auto noB = *jsonc::removeMember(text, {"s"}, "b");
    EXPECT_EQ(noB, "{\n  \"s\": {\n    \"a\": 1,\n    \"c\": 3\n  }\n}\n");
    auto only = *jsonc::removeMember("{\"s\": {\"x\": 1}}", {"s"}, "x");
    EXPECT_EQ(only, "{\"s\": {}}");
    EXPECT_FALSE(jsonc::removeMember(text, {"s"}, "missing"));
    EXPECT_FALSE(jsonc::removeMember(text, {"nope"}, "a"));
}

TEST(Jsonc, InvalidInputIsRefused) {
    EXPECT_THROW(jsonc::parseObject("{\"a\": }"), ConfigSyntaxError);
    EXPECT_THROW(jsonc::parseObject("[1,2]"), ConfigSyntaxError);
    EXPECT_THROW(jsonc::setMember("{\"mcpServers\": 3}", {"mcpServers"}, "x", obj("{}")), ConfigSyntaxError);
    EXPECT_THROW(jsonc::setMember("{ /* unterminated", {"mcpServers"}, "x", obj("{}")), ConfigSyntaxError);
}

const std::string kCodexConfig = R"(# Codex configuration
model = "o4-mini"  # the default model

[profiles.fast]
model = "gpt-5"
notes = """
[not.a.header]
"""

[mcp_servers.other]
command = "other-server"
args = ["--flag"]
)";

TEST(Toml, AppendThenRemoveIsByteIdentical) {
    auto server = obj(R"({"command":"npx","args":["-y","pkg"],"env":{"API_KEY":"k\"1"}})");
    auto added = toml_edit::setServer(kCodexConfig, "mcp_servers", "my-srv", server);
    auto servers = toml_edit::servers(added, "mcp_servers");
    ASSERT_TRUE(servers->has("my-srv"));
    ASSERT_TRUE(servers->has("other"));
    EXPECT_EQ(servers->getObject("my-srv")->getObject("env")->getValue<std::string>("API_KEY"), "k\"1");
    EXPECT_EQ(servers->getObject("my-srv")->getArray("args")->size(), 2u);
    auto removed = toml_edit::removeServer(added, "mcp_servers", "my-srv");
    ASSERT_TRUE(removed);
    EXPECT_EQ(*removed, kCodexConfig);
}

TEST(Toml, ReplaceAndRemoveMiddleSectionKeepsTheRest) {
    auto twice = toml_edit::setServer(kCodexConfig, "mcp_servers", "other", obj(R"({"command":"new-cmd"})"));
    auto s = toml_edit::servers(twice, "mcp_servers");
    EXPECT_EQ(s->getObject("other")->getValue<std::string>("command"), "new-cmd");
    EXPECT_FALSE(s->getObject("other")->has("args"));
    EXPECT_NE(twice.find("# the default model"), std::string::npos);
    EXPECT_NE(twice.find("[not.a.header]"), std::string::npos);  // inside a multi-line string: untouched
    std::string mid = "[mcp_servers.a]\ncommand = \"a\"\n\n[mcp_servers.a.env]\nX = \"1\"\n\n[other]\nk = 1\n";
    auto r = toml_edit::removeServer(mid, "mcp_servers", "a");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "[other]\nk = 1\n");
    EXPECT_FALSE(toml_edit::removeServer(mid, "mcp_servers", "zzz"));
}

TEST(Toml, InvalidAndInlineDefinitionsAreRefused) {
    EXPECT_THROW(toml_edit::servers("model = \n", "mcp_servers"), ConfigSyntaxError);
    EXPECT_THROW(toml_edit::setServer("[a\n", "mcp_servers", "x", obj(R"({"command":"c"})")), ConfigSyntaxError);
    EXPECT_THROW(toml_edit::removeServer("mcp_servers = { x = { command = \"c\" } }\n", "mcp_servers", "x"),
                 ConfigSyntaxError);
    auto url =
        toml_edit::setServer("", "mcp_servers", "remote",
                             obj(R"({"url":"http://127.0.0.1:1/mcp","http_headers":{"Authorization":"Bearer t"}})"));
    auto s = toml_edit::servers(url, "mcp_servers");
    EXPECT_EQ(s->getObject("remote")->getValue<std::string>("url"), "http://127.0.0.1:1/mcp");
    EXPECT_EQ(s->getObject("remote")->getObject("http_headers")->getValue<std::string>("Authorization"), "Bearer t");
}

TEST(ConfigFile, AtomicWriteKeepsPermissions) {
    auto dir = tempDir();
    std::string path = dir + "/sub/c.json";
    writeConfigAtomic(path, "{}\n", 0600);
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto f = readConfig(path);
    EXPECT_TRUE(f.exists);
    EXPECT_EQ(f.text, "{}\n");
    EXPECT_EQ(f.mode, 0600u);
    EXPECT_THROW(readConfig(path, 1), std::runtime_error);
    EXPECT_FALSE(readConfig(dir + "/missing.json").exists);
    fs::remove_all(dir);
}

TEST(Registry, CrudSearchTagsAndConflicts) {
    auto dir = tempDir();
    Registry r(dir + "/mcp-servers.json");
    auto s = r.create(obj(
        R"({"name":"My MCP Server!","description":"Searches the web","tags":["search"],"command":"npx","args":["-y","x"]})"));
    EXPECT_EQ(s->getValue<std::string>("id"), "my-mcp-server");
    EXPECT_THROW(r.create(obj(R"({"name":"My MCP Server","command":"npx"})")), HttpError);
    auto remote = r.create(obj(R"({"name":"remote-mcp","url":"https://mcp.example.com"})"));
    EXPECT_EQ(remote->getValue<std::string>("type"), "http");
    EXPECT_EQ(r.list(std::string("web"), std::nullopt)->size(), 1u);
    EXPECT_EQ(r.list(std::nullopt, std::string("search"))->size(), 1u);
    EXPECT_EQ(r.list(std::nullopt, std::nullopt)->size(), 2u);
    try {
        r.create(obj(R"({"name":"nothing"})"));
        FAIL();
    } catch (const HttpError& e) {
        EXPECT_EQ(e.status(), 400);
    }
    EXPECT_THROW(r.create(obj(R"({"name":"bad-url","url":"file:///etc/passwd"})")), HttpError);
    EXPECT_THROW(r.create(obj(R"({"name":"x","command":"c","env":{"A":1}})")), HttpError);
    auto u = r.update("remote-mcp", obj(R"({"description":"now described","headers":{"X":"y"}})"));
    EXPECT_EQ(u->getValue<std::string>("description"), "now described");
    EXPECT_THROW(r.update("missing", obj("{}")), HttpError);
    r.remove("remote-mcp");
    EXPECT_THROW(r.get("remote-mcp"), HttpError);
    struct stat st {};
    ASSERT_EQ(stat(r.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);  // env may hold secrets
    auto imported = r.importMany(parseArray(R"([{"key":"a-b","command":"x"},{"key":"my-mcp-server","command":"y"}])"));
    ASSERT_EQ(imported->size(), 1u);
    EXPECT_EQ(imported->get(0).toString(), "a-b");
    EXPECT_THROW(r.importMany(parseArray(R"([{"key":"ok","command":"x"},{"key":"bad"}])")), HttpError);
    EXPECT_FALSE(r.find("ok"));  // all or nothing
    fs::remove_all(dir);
}

TEST(Deployer, EntriesFollowEachCliFormat) {
    auto stdio = obj(R"({"command":"npx","args":["-y","s"],"env":{"K":"v"}})");
    auto remote = obj(R"({"type":"http","url":"http://h/mcp","headers":{"A":"b"}})");
    EXPECT_EQ(Deployer::entryFor("claude", stdio)->getValue<std::string>("type"), "stdio");
    EXPECT_EQ(Deployer::entryFor("vscode", remote)->getValue<std::string>("type"), "http");
    EXPECT_EQ(Deployer::entryFor("gemini", remote)->getValue<std::string>("httpUrl"), "http://h/mcp");
    EXPECT_FALSE(Deployer::entryFor("cursor", stdio)->has("type"));
    EXPECT_TRUE(Deployer::entryFor("codex", remote)->has("http_headers"));
    EXPECT_THROW(Deployer::target("emacs"), HttpError);
    Deployer d("/home/u", "/home/u/.codex");
    EXPECT_EQ(d.configPath("codex", "global", ""), "/home/u/.codex/config.toml");
    EXPECT_EQ(d.configPath("vscode", "project", "/p"), "/p/.vscode/mcp.json");
    EXPECT_THROW(d.configPath("claude", "project", ""), HttpError);
    EXPECT_THROW(d.configPath("claude", "galaxy", "/p"), HttpError);
}

namespace {

McpProtocol testProtocol() {
    std::vector<Tool> tools;
    auto schema = obj(
        R"({"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":5},"s":{"type":"string","enum":["a","b"]}},"required":["n"]})");
    tools.push_back(Tool{"echo", "Echo", schema, false, [](const ToolCall& c) { return Poco::Dynamic::Var(c.args); }});
    tools.push_back(Tool{"boom", "Fails", obj(R"({"type":"object"})"), true,
                         [](const ToolCall&) -> Poco::Dynamic::Var { throw ToolError("it broke"); }});
    return McpProtocol(std::move(tools), true);
}

JsonObject rpc(McpProtocol& p, const std::string& body, HttpReply* out = nullptr, const std::string& session = {}) {
    McpRequestMeta m;
    m.sessionId = session;
    auto r = p.post(body, m);
    if (out) *out = r;
    return r.body.empty() ? nullptr : parseObject(r.body);
}

}  // namespace

TEST(Protocol, InitializeNegotiatesVersionsAndIssuesSessions) {
    auto p = testProtocol();
    HttpReply r;
    auto res = rpc(
        p,
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})",
        &r);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(res->getObject("result")->getValue<std::string>("protocolVersion"), "2025-03-26");
    std::string session;
    for (auto& [k, v] : r.headers)
        if (k == "Mcp-Session-Id") session = v;
    ASSERT_FALSE(session.empty());
    res = rpc(p, R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"1999-01-01"}})");
    EXPECT_EQ(res->getObject("result")->getValue<std::string>("protocolVersion"),
              McpProtocol::supportedVersions().front());
    rpc(p, R"({"jsonrpc":"2.0","id":3,"method":"ping"})", &r, session);
    EXPECT_EQ(r.status, 200);
    rpc(p, R"({"jsonrpc":"2.0","id":3,"method":"ping"})", &r, "unknown-session");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(p.terminate(session).status, 204);
    EXPECT_EQ(p.terminate(session).status, 404);
    rpc(p, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", &r);
    EXPECT_EQ(r.status, 202);
    EXPECT_TRUE(r.body.empty());
}

TEST(Protocol, ErrorsFollowJsonRpc) {
    auto p = testProtocol();
    HttpReply r;
    auto code = [](const JsonObject& o) { return o->getObject("error")->getValue<int>("code"); };
    EXPECT_EQ(code(rpc(p, "{not json", &r)), -32700);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(code(rpc(p, R"({"jsonrpc":"1.0","id":1,"method":"ping"})", &r)), -32600);
    EXPECT_EQ(code(rpc(p, R"({"jsonrpc":"2.0","id":1,"method":"no/such"})", &r)), -32601);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(code(rpc(p, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}})")), -32602);
    EXPECT_EQ(code(rpc(p, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}})")), -32602);
    EXPECT_EQ(
        code(rpc(p, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":[1]}})")),
        -32602);
    EXPECT_EQ(code(rpc(p, R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})")), -32602);
    EXPECT_EQ(code(rpc(p, R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})")), -32600);
    auto batch = p.post(
        R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":2,"method":"zzz"}])",
        {});
    auto arr = parseArray(batch.body);
    ASSERT_TRUE(arr);
    EXPECT_EQ(arr->size(), 2u);
    McpRequestMeta badVersion;
    badVersion.protocolVersion = "2000-01-01";
    EXPECT_EQ(p.post(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", badVersion).status, 400);
}

TEST(Protocol, ToolCallsValidateArgumentsAndReportToolErrors) {
    auto p = testProtocol();
    auto call = [&](const std::string& args, const std::string& name = "echo") {
        return rpc(p, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":")" + name +
                          R"(","arguments":)" + args + "}}")
            ->getObject("result");
    };
    auto ok = call(R"({"n":3,"s":"a"})");
    EXPECT_FALSE(ok->getValue<bool>("isError"));
    EXPECT_NE(ok->getArray("content")->getObject(0)->getValue<std::string>("text").find("\"n\":3"), std::string::npos);
    EXPECT_TRUE(call(R"({})")->getValue<bool>("isError"));
    EXPECT_TRUE(call(R"({"n":9})")->getValue<bool>("isError"));
    EXPECT_TRUE(call(R"({"n":"3"})")->getValue<bool>("isError"));
    EXPECT_TRUE(call(R"({"n":1,"s":"c"})")->getValue<bool>("isError"));
    auto boom = call("{}", "boom");
    EXPECT_TRUE(boom->getValue<bool>("isError"));
    EXPECT_EQ(boom->getArray("content")->getObject(0)->getValue<std::string>("text"), "it broke");
}

TEST(Tools, GetTicketIsPrunedUnderTheCap) {
    auto payload = makeObject();
    auto ticket = makeObject();
    ticket->set("id", 1);
    ticket->set("title", "t");
    ticket->set("body", std::string(40000, 'b'));
    payload->set("ticket", ticket);
    auto comments = makeArray();
    for (int i = 0; i < 60; ++i) {
        auto c = makeObject();
        c->set("id", i);
        c->set("body", std::string(3000, 'c'));
        comments->add(c);
    }
    payload->set("comments", comments);
    auto out = pruneToFit(payload, kGetTicketMaxBytes);
    EXPECT_LE(toJson(out).size(), kGetTicketMaxBytes);
    EXPECT_TRUE(out->has("pruned"));
    auto small = makeObject();
    small->set("ticket", makeObject());
    EXPECT_FALSE(pruneToFit(small, kGetTicketMaxBytes)->has("pruned"));
}

TEST(Tools, EveryKombuseToolIsRegistered) {
    ToolEnv env;
    env.call = [](const std::string&, const std::string&, const std::string&) { return CallAnswer{404, "{}"}; };
    env.anonymousWriteAccess = [] { return std::string("allowed"); };
    auto tools = buildTools(env);
    std::set<std::string> names;
    for (auto& t : tools) names.insert(t.name);
    for (auto n : {"get_ticket",      "get_ticket_comment", "add_comment",     "create_ticket",      "update_comment",
                   "list_tickets",    "search_tickets",     "list_projects",   "list_labels",        "update_ticket",
                   "query_db",        "list_tables",        "describe_table",  "list_api_endpoints", "call_api",
                   "list_agents",     "create_agent",       "update_agent",    "list_worktrees",     "create_worktree",
                   "delete_worktree", "start_dev_server",   "stop_dev_server", "start_run",          "get_run_events",
                   "get_activity"})
        EXPECT_TRUE(names.count(n)) << n;
}
