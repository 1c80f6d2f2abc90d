// agents over the real host and real sockets: projects + worktrees + agents loaded, real git
// repositories, the mock backend and a fake `claude` CLI (tests/modules/agents/fake_cli) that
// speaks stream-json and posts hook payloads through the run's hook forwarder.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <test_server.hpp>
#include <thread>
#include <wait.hpp>

using atelier::test::HttpResult;
using atelier::test::makeGitRepo;
using atelier::test::SseClient;
using atelier::test::TestServer;

namespace {

// Live processes of process group `pgid` other than its leader (from /proc/<pid>/stat).
int groupMembersBesidesLeader(int pgid) {
    int n = 0;
    for (auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos || std::stoi(name) == pgid)
            continue;
        std::ifstream in(entry.path() / "stat");
        std::string line;
        if (!std::getline(in, line) || line.rfind(')') == std::string::npos) continue;
        std::istringstream rest(line.substr(line.rfind(')') + 2));
        char state = 0;
        int ppid = 0, pgrp = 0;
        if (rest >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z') ++n;
    }
    return n;
}

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

// `only` limits the fake CLIs on PATH (the others then count as not installed).
TestServer::Options withFakeCli(std::string dataDir = {}, const std::vector<std::string>& only = {}) {
    TestServer::Options o;
    const char* path = std::getenv("PATH");
    std::string dir = AGENTS_FAKE_CLI_DIR;
    if (!only.empty()) {
        dir = atelier::test::makeTempDir("atelier-fake-cli-");
        for (auto& cli : only)
            std::filesystem::create_symlink(std::string(AGENTS_FAKE_CLI_DIR) + "/" + cli, dir + "/" + cli);
    }
    o.env["PATH"] = dir + ":" + (path ? path : "/usr/bin:/bin");
    o.dataDir = std::move(dataDir);
    return o;
}

struct Fixture {
    explicit Fixture(TestServer& s) : server(s) {}
    TestServer& server;
    std::string repo, projectId;

    void makeProject(const std::string& name = "Demo") {
        repo = makeGitRepo({{"README.md", "# demo\n"}, {"src/app.txt", "v1\n"}});
        auto p = server.post("/api/projects", R"({"name":)" + jsonStr(name) + "}");
        ASSERT_EQ(p.status, 201) << p.body;
        projectId = p.json()->getValue<std::string>("id");
        auto check = server.get("/api/projects/" + projectId);
        auto repos = check.json() ? check.json()->getArray("repos") : nullptr;
        if (!repos || repos->size() == 0) {
            auto add = server.post("/api/projects/" + projectId + "/repos", R"({"name":"app","repo_path":)" + jsonStr(repo) + "}");
            ASSERT_TRUE(add.status == 201 || add.status == 200) << add.body;
        }
    }
    std::string agent(const std::string& cli, const std::string& extra = "",
                      const std::string& model = "claude-sonnet-4-6") {
        auto r = server.post("/api/agents", R"({"project_id":")" + projectId + R"(","name":"Builder )" + cli +
                                                R"(","cli_name":")" + cli + R"(","model":")" + model +
                                                R"(","instructions":"Be careful")" + extra + "}");
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json() ? r.json()->getValue<std::string>("id") : "";
    }
    HttpResult run(const std::string& agentId, const std::string& task) {
        return server.post("/api/runs", R"({"agent_id":")" + agentId + R"(","task":)" + jsonStr(task) + "}");
    }
    std::string waitStatus(const std::string& id, const std::vector<std::string>& wanted, int ms = 15000) {
        std::string st;
        atelier::test::waitFor(
            [&] {
                auto r = server.get("/api/runs/" + id);
                if (r.json()) st = r.json()->getValue<std::string>("status");
                return std::find(wanted.begin(), wanted.end(), st) != wanted.end();
            },
            std::chrono::milliseconds(ms), std::chrono::milliseconds(20));
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

namespace {

std::string git(const std::vector<std::string>& args, const std::string& cwd) {
    std::vector<std::string> argv{"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    atelier::test::run(argv, cwd, &out);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST(AgentsIt, ClaudeRunEndToEndThroughCommitPushAccept) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string bare = atelier::test::makeTempDir("atelier-remote-");
    git({"init", "-q", "--bare", bare}, "/");
    git({"remote", "add", "origin", bare}, f.repo);

    std::string agent = f.agent("claude-code");
    auto created = f.run(agent, "Update the app\nsay: Starting the edit\nedit: src/app.txt=v2\\n\ntask: Write docs");
    ASSERT_EQ(created.status, 201) << created.body;
    auto run = created.json();
    std::string id = run->getValue<std::string>("id");
    std::string branch = run->getValue<std::string>("run_branch");
    EXPECT_EQ(branch.rfind("atelier/run-", 0), 0u);
    std::string wt = run->getArray("worktrees")->getObject(0)->getValue<std::string>("path");
    EXPECT_TRUE(std::filesystem::exists(wt + "/.git")) << "worktree appears";
    EXPECT_EQ(git({"branch", "--show-current"}, wt), branch);

    ASSERT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed") << server.get("/api/runs/" + id).body << server.get("/api/runs/" + id + "/logs").body;
    auto done = server.get("/api/runs/" + id).json();
    EXPECT_EQ(done->getValue<int>("tokens_in"), 1334) << "input + cache tokens from the result message";
    EXPECT_EQ(done->getValue<int>("tokens_out"), 567);
    EXPECT_DOUBLE_EQ(done->getValue<double>("cost_usd"), 0.0789);
    EXPECT_EQ(done->getValue<std::string>("cli_version"), "9.9.9-fake");
    std::string session = done->getValue<std::string>("session_id");
    EXPECT_EQ(session.size(), 36u);

    auto types = f.types(id);
    for (auto t : {"run.created", "run.started", "session.init", "user.message", "agent.token", "agent.message", "agent.tool_call",
                   "agent.tool_result", "run.result", "run.completed"})
        EXPECT_TRUE(has(types, t)) << t;
    EXPECT_EQ(types.back(), "run.completed");
    EXPECT_EQ(std::count(types.begin(), types.end(), "agent.tool_call"), 2) << "hook + stream of one tool use count once";

    // the CLI was launched with the per-run settings file, the model and the instructions
    auto argv = readFile(server.dataDir() + "/modules/agents/runs/" + id + "/fake-argv.json");
    EXPECT_NE(argv.find("claude-settings.json"), std::string::npos) << argv;
    EXPECT_NE(argv.find("\"--model\", \"claude-sonnet-4-6\""), std::string::npos) << argv;
    EXPECT_NE(argv.find("Be careful"), std::string::npos);
    EXPECT_NE(argv.find("stream-json"), std::string::npos);
    // ... and with Atelier's own MCP server, on the listener the run reports to
    EXPECT_NE(argv.find("\"--mcp-config\""), std::string::npos) << argv;
    auto mcpConfig = readFile(server.dataDir() + "/modules/agents/runs/" + id + "/mcp-config.json");
    EXPECT_NE(mcpConfig.find("http://127.0.0.1:" + std::to_string(server.port()) + "/mcp"), std::string::npos) << mcpConfig;

    auto changes = server.get("/api/runs/" + id + "/changes");
    ASSERT_EQ(changes.status, 200) << changes.body;
    EXPECT_NE(changes.json()->getValue<std::string>("diff").find("+v2"), std::string::npos) << changes.body;
    auto stats = server.get("/api/runs/" + id + "/diff-stats").json();
    EXPECT_EQ(stats->getValue<int>("files"), 1);
    auto tasks = server.get("/api/runs/" + id + "/tasks").jsonArray();
    ASSERT_TRUE(tasks);
    ASSERT_EQ(tasks->size(), 1u);
    EXPECT_EQ(tasks->getObject(0)->getValue<std::string>("subject"), "Write docs");
    auto logs = server.get("/api/runs/" + id + "/logs");
    EXPECT_NE(logs.header("content-type").find("text/plain"), std::string::npos);
    EXPECT_NE(logs.body.find("\"type\": \"result\""), std::string::npos) << logs.body.substr(0, 400);

    auto commit = server.post("/api/runs/" + id + "/commit", R"({"message":"feat: app v2"})");
    ASSERT_EQ(commit.status, 200) << commit.body;
    EXPECT_EQ(git({"log", "-1", "--format=%s"}, wt), "feat: app v2");
    EXPECT_EQ(server.get("/api/runs/" + id + "/diff-stats").json()->getValue<int>("files"), 1) << "still relative to the base";
    auto push = server.post("/api/runs/" + id + "/push");
    ASSERT_EQ(push.status, 200) << push.body;
    EXPECT_EQ(git({"branch", "--list", branch, "--format=%(refname:short)"}, bare), branch);
    EXPECT_EQ(git({"rev-parse", branch}, bare), git({"rev-parse", "HEAD"}, wt));
    auto accept = server.post("/api/runs/" + id + "/accept");
    ASSERT_EQ(accept.status, 200) << accept.body;
    EXPECT_FALSE(accept.json()->isNull("accepted_at"));

    // continue resumes the CLI session
    auto cont = server.post("/api/runs/" + id + "/continue", R"({"message":"say: one more thing"})");
    ASSERT_EQ(cont.status, 200) << cont.body;
    ASSERT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed");
    argv = readFile(server.dataDir() + "/modules/agents/runs/" + id + "/fake-argv.json");
    EXPECT_NE(argv.find("\"--resume\", \"" + session + "\""), std::string::npos) << argv;
    EXPECT_EQ(server.get("/api/runs/" + id).json()->getValue<int>("tokens_in"), 2668) << "continued turns add up";

    auto pr = server.post("/api/runs/" + id + "/pull-request", R"({"title":"feat"})");
    EXPECT_EQ(pr.status, 501) << pr.body;
    EXPECT_EQ(pr.json()->getValue<std::string>("code"), "GITHUB_UNAVAILABLE");
    EXPECT_EQ(server.post("/api/runs/" + id + "/pull-request", R"({})").status, 400);
    auto renamed = server.post("/api/runs/" + id + "/rename-branch", R"({"name":"feat/app-v2"})");
    ASSERT_EQ(renamed.status, 200) << renamed.body;
    EXPECT_EQ(git({"branch", "--show-current"}, wt), "feat/app-v2");
    EXPECT_EQ(server.post("/api/runs/" + id + "/rename-branch", R"({"name":"bad..name"})").status, 400);
    auto revert = server.post("/api/runs/" + id + "/revert");
    ASSERT_EQ(revert.status, 200) << revert.body;
    EXPECT_EQ(readFile(wt + "/src/app.txt"), "v1\n");
}

namespace {

// The payloads of a run's events of one type, in order.
std::vector<Poco::JSON::Object::Ptr> payloads(TestServer& server, const std::string& id, const std::string& type) {
    std::vector<Poco::JSON::Object::Ptr> out;
    auto a = server.get("/api/runs/" + id + "/events").jsonArray();
    for (size_t i = 0; a && i < a->size(); ++i) {
        auto e = a->getObject(static_cast<unsigned>(i));
        if (e->getValue<std::string>("event_type") == type) out.push_back(e->getObject("payload"));
    }
    return out;
}

void expectEdited(TestServer& server, const std::string& id) {
    auto changes = server.get("/api/runs/" + id + "/changes");
    ASSERT_EQ(changes.status, 200) << changes.body;
    EXPECT_NE(changes.json()->getValue<std::string>("diff").find("+v2"), std::string::npos) << changes.body;
    EXPECT_EQ(server.get("/api/runs/" + id + "/diff-stats").json()->getValue<int>("files"), 1);
}

}  // namespace

TEST(AgentsIt, CodexRunEndToEndOverAppServerJsonRpc) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("codex", "", "gpt-5-codex");
    auto created = f.run(agent,
                         "Update the app\nsay: Starting the edit\nedit: src/app.txt=v2\\n\nrun: git status\n"
                         "retry: stream disconnected, reconnecting\nask: rm -rf build\nsay: Done");
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = created.json()->getValue<std::string>("id");
    std::string wt = created.json()->getArray("worktrees")->getObject(0)->getValue<std::string>("path");
    EXPECT_TRUE(std::filesystem::exists(wt + "/.git")) << "worktree appears";

    ASSERT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed")
        << server.get("/api/runs/" + id).body << server.get("/api/runs/" + id + "/logs").body;
    auto done = server.get("/api/runs/" + id).json();
    EXPECT_EQ(done->getValue<int>("tokens_in"), 2000) << "thread/tokenUsage/updated total";
    EXPECT_EQ(done->getValue<int>("tokens_out"), 300);
    std::string thread = done->getValue<std::string>("session_id");
    EXPECT_EQ(thread.size(), 36u) << "the thread id is the session";
    EXPECT_NE(done->getValue<std::string>("cli_version").find("9.9.9"), std::string::npos);

    auto types = f.types(id);
    for (auto t : {"run.started", "session.init", "user.message", "agent.token", "agent.message", "agent.tool_call",
                   "agent.tool_result", "agent.needs_attention", "run.result", "run.completed"})
        EXPECT_TRUE(has(types, t)) << t;
    EXPECT_EQ(types.back(), "run.completed");
    auto calls = payloads(server, id, "agent.tool_call");
    ASSERT_EQ(calls.size(), 2u) << "the fileChange and the commandExecution";
    EXPECT_EQ(calls[0]->getValue<std::string>("tool_name"), "Edit");
    EXPECT_EQ(calls[1]->getValue<std::string>("tool_name"), "Bash");
    EXPECT_EQ(calls[1]->getObject("input")->getValue<std::string>("command"), "git status");
    auto results = payloads(server, id, "agent.tool_result");
    ASSERT_EQ(results.size(), 2u);
    EXPECT_FALSE(results[0]->getValue<bool>("is_error"));
    EXPECT_EQ(results[1]->getValue<std::string>("output"), "ok\n");
    std::vector<std::string> said;
    for (auto& m : payloads(server, id, "agent.message")) said.push_back(m->getValue<std::string>("text"));
    EXPECT_TRUE(has(said, "Starting the edit"));
    EXPECT_TRUE(has(said, "permission: decline"))
        << "no permission handler: the approval request is declined; said: " << testing::PrintToString(said)
        << server.get("/api/runs/" + id + "/logs").body;
    EXPECT_TRUE(has(said, "Done")) << "a retried error does not end the turn";
    expectEdited(server, id);

    // the JSON-RPC conversation: initialize, initialized, thread/start, then turn/start on that thread
    auto rpc = Poco::JSON::Parser()
                   .parse(readFile(server.dataDir() + "/modules/agents/runs/" + id + "/fake-rpc.json"))
                   .extract<Poco::JSON::Object::Ptr>();
    auto msgs = rpc->getArray("messages");
    ASSERT_GE(msgs->size(), 4u);
    std::vector<std::string> methods;
    for (size_t i = 0; i < msgs->size(); ++i)
        methods.push_back(msgs->getObject(static_cast<unsigned>(i))->optValue<std::string>("method", ""));
    EXPECT_EQ(std::vector<std::string>(methods.begin(), methods.begin() + 4),
              (std::vector<std::string>{"initialize", "initialized", "thread/start", "turn/start"}));
    auto threadStart = msgs->getObject(2)->getObject("params");
    EXPECT_EQ(threadStart->getValue<std::string>("model"), "gpt-5-codex");
    EXPECT_EQ(threadStart->getValue<std::string>("developerInstructions"), "Be careful");
    EXPECT_EQ(threadStart->getValue<std::string>("cwd"), wt);
    auto turn = msgs->getObject(3)->getObject("params");
    EXPECT_EQ(turn->getValue<std::string>("threadId"), thread);
    EXPECT_NE(turn->getArray("input")->getObject(0)->getValue<std::string>("text").find("edit: src/app.txt"),
              std::string::npos);
    EXPECT_NE(rpc->getValue<std::string>("codex_home").find("/runs/" + id + "/codex-home"), std::string::npos);

    // continue resumes the thread
    auto cont = server.post("/api/runs/" + id + "/continue", R"({"message":"say: one more thing"})");
    ASSERT_EQ(cont.status, 200) << cont.body;
    ASSERT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed") << server.get("/api/runs/" + id).body;
    rpc = Poco::JSON::Parser()
              .parse(readFile(server.dataDir() + "/modules/agents/runs/" + id + "/fake-rpc.json"))
              .extract<Poco::JSON::Object::Ptr>();
    msgs = rpc->getArray("messages");
    ASSERT_GE(msgs->size(), 4u);
    EXPECT_EQ(msgs->getObject(2)->getValue<std::string>("method"), "thread/resume");
    EXPECT_EQ(msgs->getObject(2)->getObject("params")->getValue<std::string>("threadId"), thread);
    EXPECT_EQ(msgs->getObject(3)->getValue<std::string>("method"), "turn/start");
    EXPECT_EQ(msgs->getObject(3)->getObject("params")->getValue<std::string>("threadId"), thread);
    std::vector<std::string> later;
    for (auto& m : payloads(server, id, "agent.message")) later.push_back(m->getValue<std::string>("text"));
    EXPECT_TRUE(has(later, "one more thing"));

    // codex rejecting thread/resume (its rollout is gone) fails the run instead of leaving it waiting
    std::filesystem::remove(server.dataDir() + "/modules/agents/runs/" + id + "/codex-home/sessions/" + thread);
    ASSERT_EQ(server.post("/api/runs/" + id + "/continue", R"({"message":"say: again"})").status, 200);
    ASSERT_EQ(f.waitStatus(id, {"completed", "failed"}, 8000), "failed");
    EXPECT_NE(server.get("/api/runs/" + id).json()->getValue<std::string>("error").find("no rollout found"),
              std::string::npos)
        << server.get("/api/runs/" + id).body;

    // a failed turn fails the run with codex's message
    auto bad = f.run(agent, "say: trying\nfail: model overloaded");
    std::string bid = bad.json()->getValue<std::string>("id");
    ASSERT_EQ(f.waitStatus(bid, {"failed", "completed"}), "failed");
    EXPECT_EQ(server.get("/api/runs/" + bid).json()->getValue<std::string>("error"), "model overloaded");
}

TEST(AgentsIt, GeminiRunEndToEndWithStreamJsonAndToolHooks) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("gemini", "", "gemini-2.5-pro");
    auto created = f.run(agent, "Update the app\nsay: Starting the edit\nedit: src/app.txt=v2\\n\nsay: All done");
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = created.json()->getValue<std::string>("id");
    std::string wt = created.json()->getArray("worktrees")->getObject(0)->getValue<std::string>("path");
    EXPECT_TRUE(std::filesystem::exists(wt + "/.git")) << "worktree appears";

    ASSERT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed")
        << server.get("/api/runs/" + id).body << server.get("/api/runs/" + id + "/logs").body;
    auto done = server.get("/api/runs/" + id).json();
    EXPECT_EQ(done->getValue<int>("tokens_in"), 2000) << "result stats";
    EXPECT_EQ(done->getValue<int>("tokens_out"), 468);
    EXPECT_EQ(done->getValue<std::string>("session_id").size(), 36u);

    auto types = f.types(id);
    for (auto t : {"run.started", "session.init", "agent.token", "agent.message", "agent.tool_call",
                   "agent.tool_result", "run.result", "run.completed"})
        EXPECT_TRUE(has(types, t)) << t;
    EXPECT_EQ(types.back(), "run.completed");
    bool hookCall = false, streamCall = false, hookResult = false;
    for (auto& c : payloads(server, id, "agent.tool_call")) {
        EXPECT_EQ(c->getValue<std::string>("tool_name"), "write_file");
        EXPECT_EQ(c->getObject("input")->getValue<std::string>("file_path"), wt + "/src/app.txt");
        (c->getValue<std::string>("source") == "hook" ? hookCall : streamCall) = true;
    }
    EXPECT_TRUE(hookCall) << "BeforeTool hook from the system settings file";
    EXPECT_TRUE(streamCall);
    for (auto& r : payloads(server, id, "agent.tool_result"))
        if (r->getValue<std::string>("source") == "hook") hookResult = true;
    EXPECT_TRUE(hookResult) << "AfterTool hook";
    std::vector<std::string> said;
    for (auto& m : payloads(server, id, "agent.message")) said.push_back(m->getValue<std::string>("text"));
    EXPECT_EQ(said, (std::vector<std::string>{"Starting the edit", "All done"}))
        << "streamed chunks make up whole messages";
    expectEdited(server, id);

    auto argv = readFile(server.dataDir() + "/modules/agents/runs/" + id + "/fake-argv.json");
    EXPECT_NE(argv.find("gemini-settings.json"), std::string::npos) << argv;
    EXPECT_NE(argv.find("\"--model\", \"gemini-2.5-pro\""), std::string::npos) << argv;
    EXPECT_NE(argv.find("\"system_md\": \"Be careful\""), std::string::npos) << argv;

    auto bad = f.run(agent, "say: trying\nerror: Quota exceeded");
    std::string bid = bad.json()->getValue<std::string>("id");
    ASSERT_EQ(f.waitStatus(bid, {"failed", "completed"}), "failed");
    auto b = server.get("/api/runs/" + bid).json();
    EXPECT_EQ(b->getValue<std::string>("error"), "Quota exceeded");
    EXPECT_EQ(b->getValue<int>("tokens_out"), 468) << "tokens recorded even for failed runs";
}

TEST(AgentsIt, OpencodeRunEndToEndThenContinueTheSession) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("opencode", "", "anthropic/claude-sonnet-4-6");
    auto created = f.run(agent, "Update the app\nsay: Starting the edit\nedit: src/app.txt=v2\\n\nsay: Done");
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = created.json()->getValue<std::string>("id");
    std::string wt = created.json()->getArray("worktrees")->getObject(0)->getValue<std::string>("path");
    EXPECT_TRUE(std::filesystem::exists(wt + "/.git")) << "worktree appears";

    ASSERT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed")
        << server.get("/api/runs/" + id).body << server.get("/api/runs/" + id + "/logs").body;
    auto done = server.get("/api/runs/" + id).json();
    EXPECT_EQ(done->getValue<int>("tokens_in"), 3150) << "three steps of input + cache tokens";
    EXPECT_EQ(done->getValue<int>("tokens_out"), 600);
    EXPECT_NEAR(done->getValue<double>("cost_usd"), 0.0375, 1e-9);
    std::string session = done->getValue<std::string>("session_id");
    EXPECT_EQ(session.rfind("ses_", 0), 0u) << session;

    auto types = f.types(id);
    for (auto t :
         {"run.started", "agent.message", "agent.tool_call", "agent.tool_result", "run.result", "run.completed"})
        EXPECT_TRUE(has(types, t)) << t;
    EXPECT_EQ(types.back(), "run.completed");
    auto calls = payloads(server, id, "agent.tool_call");
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0]->getValue<std::string>("tool_name"), "write");
    EXPECT_EQ(calls[0]->getObject("input")->getValue<std::string>("filePath"), wt + "/src/app.txt");
    ASSERT_EQ(payloads(server, id, "agent.tool_result").size(), 1u);
    expectEdited(server, id);
    auto argv = readFile(server.dataDir() + "/modules/agents/runs/" + id + "/fake-argv.json");
    EXPECT_NE(argv.find("\"--model\", \"anthropic/claude-sonnet-4-6\""), std::string::npos) << argv;
    EXPECT_NE(argv.find("Be careful"), std::string::npos) << argv;

    auto cont = server.post("/api/runs/" + id + "/continue", R"({"message":"say: one more thing"})");
    ASSERT_EQ(cont.status, 200) << cont.body;
    ASSERT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed") << server.get("/api/runs/" + id).body;
    argv = readFile(server.dataDir() + "/modules/agents/runs/" + id + "/fake-argv.json");
    EXPECT_NE(argv.find("\"--session\", \"" + session + "\""), std::string::npos) << argv;
    auto again = server.get("/api/runs/" + id).json();
    EXPECT_EQ(again->getValue<int>("tokens_in"), 4200) << "continued turns add up";
    EXPECT_NEAR(again->getValue<double>("cost_usd"), 0.05, 1e-9);

    auto bad = f.run(agent, "say: trying\nerror: Model not found: nope");
    std::string bid = bad.json()->getValue<std::string>("id");
    ASSERT_EQ(f.waitStatus(bid, {"failed", "completed"}), "failed");
    auto b = server.get("/api/runs/" + bid).json();
    EXPECT_EQ(b->getValue<std::string>("error"), "Model not found: nope");
    EXPECT_EQ(b->getValue<int>("tokens_out"), 200) << "steps before the error still count";
}

TEST(AgentsIt, CancelKillsTheWholeProcessGroup) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("claude-code");
    auto r = f.run(agent, "say: waiting\nhang");
    std::string id = r.json()->getValue<std::string>("id");
    ASSERT_EQ(f.waitStatus(id, {"running"}), "running");
    int pid = 0;
    atelier::test::waitFor([&] {
        auto j = server.get("/api/runs/" + id).json();
        if (!j->isNull("pid")) pid = j->getValue<int>("pid");
        return pid != 0;
    });
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(atelier::test::waitFor([&] { return groupMembersBesidesLeader(pid) > 0; }))
        << "the grandchild `sleep` starts";
    EXPECT_EQ(kill(-pid, 0), 0) << "the process group is alive";
    EXPECT_EQ(server.del("/api/runs/" + id).status, 409) << "cannot delete a running run";
    auto c = server.post("/api/runs/" + id + "/cancel");
    ASSERT_EQ(c.status, 200) << c.body;
    EXPECT_EQ(c.json()->getValue<std::string>("status"), "cancelled");
    // Every member of the group is gone; orphaned grandchildren are reaped by init shortly after.
    EXPECT_TRUE(atelier::test::waitFor([&] { return kill(-pid, 0) != 0; }, std::chrono::seconds(2)))
        << "no process of the group survives";
    EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid))) << "the CLI was reaped: no zombie";
    EXPECT_EQ(f.types(id).back(), "run.cancelled");
    EXPECT_EQ(server.post("/api/runs/" + id + "/cancel").status, 409);
    EXPECT_EQ(server.del("/api/runs/" + id).status, 204);
}

TEST(AgentsIt, PauseCheckpointsThenContinueResumes) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("claude-code");
    auto r = f.run(agent, "edit: wip.txt=work in progress\nhang");
    std::string id = r.json()->getValue<std::string>("id");
    std::string wt = r.json()->getArray("worktrees")->getObject(0)->getValue<std::string>("path");
    // Wait for the whole edit, not just the file: the fake CLI creates it, then writes it, and
    // a pause in between would rightly checkpoint an empty file.
    atelier::test::waitFor([&] { return readFile(wt + "/wip.txt") == "work in progress"; });
    ASSERT_EQ(readFile(wt + "/wip.txt"), "work in progress");
    auto p = server.post("/api/runs/" + id + "/pause");
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_EQ(p.json()->getValue<std::string>("status"), "paused");
    EXPECT_EQ(git({"log", "-1", "--format=%s"}, wt), "atelier: checkpoint (run paused)");
    EXPECT_EQ(git({"status", "--porcelain"}, wt), "");
    auto events = server.get("/api/runs/" + id + "/events").jsonArray();
    auto last = events->getObject(static_cast<unsigned>(events->size() - 1));
    EXPECT_EQ(last->getValue<std::string>("event_type"), "run.paused");
    EXPECT_EQ(last->getObject("payload")->getArray("checkpoints")->size(), 1u);

    std::filesystem::remove_all(wt);  // continue re-creates a missing worktree on the run branch
    auto c = server.post("/api/runs/" + id + "/continue", R"({"message":"say: resumed"})");
    ASSERT_EQ(c.status, 200) << c.body;
    ASSERT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed") << server.get("/api/runs/" + id).body;
    EXPECT_EQ(readFile(wt + "/wip.txt"), "work in progress") << "checkpointed work is back";
    auto types = f.types(id);
    EXPECT_TRUE(has(types, "user.message"));
}

TEST(AgentsIt, CrashAndErrorResultFailWithReason) {
    TestServer server(withFakeCli({}, {"claude"}));
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("claude-code");
    auto crash = f.run(agent, "say: about to crash\ncrash: segmentation fault in parser");
    std::string cid = crash.json()->getValue<std::string>("id");
    ASSERT_EQ(f.waitStatus(cid, {"failed", "completed"}), "failed");
    std::string err = server.get("/api/runs/" + cid).json()->getValue<std::string>("error");
    EXPECT_NE(err.find("exited with code 3"), std::string::npos) << err;
    EXPECT_NE(err.find("segmentation fault in parser"), std::string::npos) << err;
    EXPECT_EQ(f.types(cid).back(), "run.failed");

    auto bad = f.run(agent, "error: rate limited");
    std::string bid = bad.json()->getValue<std::string>("id");
    ASSERT_EQ(f.waitStatus(bid, {"failed", "completed"}), "failed");
    auto b = server.get("/api/runs/" + bid).json();
    EXPECT_EQ(b->getValue<std::string>("error"), "rate limited");
    EXPECT_EQ(b->getValue<int>("tokens_out"), 567) << "tokens recorded even for failed runs";

    // a missing CLI fails the run with install instructions
    std::string codex = f.agent("codex");
    auto none = f.run(codex, "do it");
    std::string nid = none.json()->getValue<std::string>("id");
    ASSERT_EQ(f.waitStatus(nid, {"failed"}), "failed");
    EXPECT_NE(server.get("/api/runs/" + nid).json()->getValue<std::string>("error").find("/api/agents/codex/cli/install"),
              std::string::npos);
}

TEST(AgentsIt, RestartMarksRunsInterruptedAndContinueWorks) {
    std::string dataDir = atelier::test::makeTempDir();
    std::string id, wt;
    {
        TestServer server(withFakeCli(dataDir));
        Fixture f(server);
        f.makeProject();
        std::string agent = f.agent("mock");
        auto r = f.run(agent, "write: half.txt=half\nhang");
        id = r.json()->getValue<std::string>("id");
        wt = r.json()->getArray("worktrees")->getObject(0)->getValue<std::string>("path");
        ASSERT_EQ(f.waitStatus(id, {"running"}), "running");
        atelier::test::waitFor([&] { return std::filesystem::exists(wt + "/half.txt"); });
        kill(server.pid(), SIGKILL);  // a crash: no orderly shutdown
        server.stop();
    }
    TestServer server(withFakeCli(dataDir));
    Fixture f(server);
    auto run = server.get("/api/runs/" + id).json();
    ASSERT_TRUE(run);
    EXPECT_EQ(run->getValue<std::string>("status"), "interrupted");
    EXPECT_TRUE(std::filesystem::exists(wt + "/half.txt")) << "worktree left intact";
    auto c = server.post("/api/runs/" + id + "/continue", R"({"message":"emit: after restart"})");
    ASSERT_EQ(c.status, 200) << c.body;
    EXPECT_EQ(f.waitStatus(id, {"completed", "failed"}), "completed");
    server.stop();
    std::filesystem::remove_all(dataDir);
}

TEST(AgentsIt, SseReplaysThenStreamsLive) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("mock");
    auto r = f.run(agent, "emit: first\nsleep: 400\nemit: second");
    std::string id = r.json()->getValue<std::string>("id");
    SseClient sse(server.port(), "/api/runs/" + id + "/events/stream?last_event_id=0");
    EXPECT_EQ(sse.status(), 200);
    EXPECT_NE(sse.head().find("text/event-stream"), std::string::npos);
    std::vector<std::pair<long, std::string>> seen;
    while (true) {
        auto m = sse.nextData();
        ASSERT_FALSE(m.id.empty()) << m.data;
        seen.emplace_back(std::stol(m.id), m.event);
        auto j = Poco::JSON::Parser().parse(m.data).extract<Poco::JSON::Object::Ptr>();
        EXPECT_EQ(j->getValue<std::string>("event_type"), m.event);
        EXPECT_EQ(j->getValue<std::string>("run_id"), id);
        if (m.event == "run.completed") break;
    }
    ASSERT_GE(seen.size(), 6u);
    EXPECT_EQ(seen.front().second, "run.created");
    for (size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i].first, seen[i - 1].first);
    // reconnect from the middle: only later events are replayed
    long mid = seen[2].first;
    SseClient again(server.port(), "/api/runs/" + id + "/events/stream?last_event_id=" + std::to_string(mid));
    auto m = again.nextData();
    EXPECT_EQ(std::stol(m.id), seen[3].first);
    SseClient header(server.port(), "/api/runs/" + id + "/events/stream", {{"Last-Event-ID", std::to_string(mid)}});
    EXPECT_EQ(std::stol(header.nextData().id), seen[3].first);
    EXPECT_EQ(server.get("/api/runs/nope/events/stream").status, 404);
}

TEST(AgentsIt, HookBodiesMalformedOrForUnknownRuns) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("mock");
    auto r = f.run(agent, "emit: x");
    std::string id = r.json()->getValue<std::string>("id");
    f.waitStatus(id, {"completed"});
    auto unknown = server.post("/api/runs/00000000-0000-4000-8000-000000000000/hook", R"({"hook_event_name":"Stop"})");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.json()->getValue<std::string>("code"), "RUN_NOT_FOUND");
    auto bad = server.post("/api/runs/" + id + "/hook", "{\"hook_event_name\":");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json()->getValue<std::string>("code"), "INVALID_JSON");
    EXPECT_EQ(server.post("/api/runs/" + id + "/hook", "\"Stop\"").status, 400);
    auto noName = server.post("/api/runs/" + id + "/hook", R"({"hook_event_name":42})");
    EXPECT_EQ(noName.status, 400);
    EXPECT_EQ(noName.json()->getArray("details")->getObject(0)->getValue<std::string>("field"), "hook_event_name");
    auto perm = server.post("/api/runs/" + id + "/hook", R"({"hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"ls"}})");
    ASSERT_EQ(perm.status, 200) << perm.body;
    EXPECT_EQ(perm.body, "{}") << "no decision without a permission handler: the CLI asks the user";
    EXPECT_EQ(f.types(id).back(), "agent.needs_attention");
    EXPECT_EQ(server.get("/api/runs/" + id).json()->getValue<std::string>("status"), "completed") << "bad hooks change nothing";
}

TEST(AgentsIt, TwentyConcurrentMockRunsComplete) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("mock");
    std::vector<std::string> ids(20);
    std::vector<std::thread> threads;
    for (int i = 0; i < 20; ++i)
        threads.emplace_back([&, i] {
            auto r = f.run(agent, "emit: run " + std::to_string(i) + "\nsleep: 100\nwrite: out.txt=" + std::to_string(i));
            if (r.status == 201) ids[i] = r.json()->getValue<std::string>("id");
        });
    for (auto& t : threads) t.join();
    std::set<std::string> paths;
    for (int i = 0; i < 20; ++i) {
        ASSERT_FALSE(ids[i].empty()) << i;
        EXPECT_EQ(f.waitStatus(ids[i], {"completed", "failed"}, 30000), "completed") << i;
        auto run = server.get("/api/runs/" + ids[i]).json();
        std::string wt = run->getArray("worktrees")->getObject(0)->getValue<std::string>("path");
        paths.insert(wt);
        EXPECT_EQ(readFile(wt + "/out.txt"), std::to_string(i));
        EXPECT_EQ(f.types(ids[i]).back(), "run.completed");
    }
    EXPECT_EQ(paths.size(), 20u);
    EXPECT_EQ(server.get("/api/runs?status=completed").jsonArray()->size(), 20u);
}

// Concurrent hook posts for one run are group-committed: every event is stored once, with
// consecutive sequence numbers in id order, and a live subscriber gets each one in that order.
TEST(AgentsIt, ConcurrentHooksArePersistedOnceInOrderAndStreamed) {
    TestServer server(withFakeCli());
    Fixture f(server);
    f.makeProject();
    std::string agent = f.agent("mock");
    auto r = f.run(agent, "emit: x");
    std::string id = r.json()->getValue<std::string>("id");
    ASSERT_EQ(f.waitStatus(id, {"completed"}), "completed");
    size_t before = f.types(id).size();
    SseClient sse(server.port(), "/api/runs/" + id + "/events/stream?last_event_id=0");
    for (size_t i = 0; i < before; ++i) sse.nextData();

    constexpr int kThreads = 8, kEach = 60;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                auto h = server.post("/api/runs/" + id + "/hook",
                                     R"({"hook_event_name":"PreToolUse","tool_name":"Edit","tool_use_id":"c)" +
                                         std::to_string(t) + "-" + std::to_string(i) + R"(","tool_input":{}})");
                if (h.status != 200) ++failures;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);

    auto events = server.get("/api/runs/" + id + "/events").jsonArray();
    ASSERT_EQ(events->size(), before + kThreads * kEach);
    std::set<std::string> toolIds;
    int64_t lastId = 0, lastSeq = 0;
    for (size_t i = 0; i < events->size(); ++i) {
        auto e = events->getObject(static_cast<unsigned>(i));
        EXPECT_GT(e->getValue<int64_t>("id"), lastId);
        EXPECT_EQ(e->getValue<int64_t>("sequence"), lastSeq + 1) << "sequence numbers have no gaps or repeats";
        lastId = e->getValue<int64_t>("id");
        lastSeq = e->getValue<int64_t>("sequence");
        if (i >= before) toolIds.insert(e->getObject("payload")->getValue<std::string>("tool_use_id"));
    }
    EXPECT_EQ(toolIds.size(), static_cast<size_t>(kThreads * kEach));

    int64_t streamedLast = 0;
    for (int i = 0; i < kThreads * kEach; ++i) {
        auto m = sse.nextData();
        ASSERT_EQ(m.event, "agent.tool_call");
        EXPECT_GT(std::stoll(m.id), streamedLast);
        streamedLast = std::stoll(m.id);
    }
    EXPECT_EQ(streamedLast, lastId);
}
