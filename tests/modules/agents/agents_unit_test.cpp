// agents module over the fake host: definitions CRUD and validation, mock-backend runs and
// their events, hook ingestion, SSE replay, sessions. Collaborators (projects, tickets) are
// small fake modules registered in the same fake host.
#include <gtest/gtest.h>

#include <algorithm>
#include <atelier/sdk.hpp>
#include <atelier/testing/fake_host.hpp>
#include <atelier/util.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "run_engine.hpp"
#include "sessions.hpp"
#include "wait.hpp"
extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

namespace {

namespace fs = std::filesystem;

// Projects + tickets stand-in: one project "p1" without repositories; records agent profiles.
class FakeCollaborators : public atelier::Module {
public:
    static inline std::vector<std::string> profiles;
    static inline std::string projectDir;
    static inline FakeCollaborators* self = nullptr;
    void init() override {
        self = this;
        get("/api/projects/:id", "project", [](atelier::Request& req, atelier::Response& res) {
            if (req.param("id") != "p1") throw atelier::notFound("Project not found");
            auto o = atelier::makeObject();
            o->set("id", "p1");
            o->set("name", "Demo");
            o->set("local_path", projectDir);
            o->set("repos", atelier::makeArray());
            res.json(o);
        });
        get("/api/projects", "projects", [](atelier::Request&, atelier::Response& res) {
            auto o = atelier::makeObject();
            o->set("id", "p1");
            o->set("local_path", projectDir);
            auto a = atelier::makeArray();
            a->add(o);
            res.json(a);
        });
        post("/api/profiles", "profiles", [](atelier::Request& req, atelier::Response& res) {
            profiles.push_back(std::string(req.body()));
            res.json(req.json(), 201);
        });
    }
};

const atelier_module_v1* fakeTable() {
    static const atelier_module_v1 t = [] {
        auto m = atelier::initStruct<atelier_module_v1>();
        m.id = "fakes";
        m.version = "0.1.0";
        m.description = "fake collaborators";
        m.init = &atelier::ModuleGlue::init<FakeCollaborators>;
        m.start = &atelier::ModuleGlue::start;
        m.stop = &atelier::ModuleGlue::stop;
        m.destroy = &atelier::ModuleGlue::destroy;
        return m;
    }();
    return &t;
}

class AgentsUnit : public ::testing::Test {
protected:
    void SetUp() override {
        FakeCollaborators::profiles.clear();
        FakeCollaborators::projectDir = host.dataDir() + "/project";
        fs::create_directories(FakeCollaborators::projectDir);
        host.load(fakeTable());
        host.load(atelier_module_entry_v1());
    }
    std::string createAgent(const std::string& extra = "") {
        auto r = host.request("POST", "/api/agents",
                              R"({"name":"Mock Builder","description":"d","system_prompt":"be brief","project_id":"p1","cli_name":"mock")" +
                                  extra + "}");
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json()->getValue<std::string>("id");
    }
    std::string waitStatus(const std::string& runId, const std::vector<std::string>& wanted, int ms = 5000) {
        std::string status;
        atelier::test::waitFor(
            [&] {
                status = host.request("GET", "/api/runs/" + runId).json()->getValue<std::string>("status");
                return std::find(wanted.begin(), wanted.end(), status) != wanted.end();
            },
            std::chrono::milliseconds(ms));
        return status;
    }
    std::vector<std::string> eventTypes(const std::string& runId) {
        auto arr = atelier::parseArray(host.request("GET", "/api/runs/" + runId + "/events").body);
        std::vector<std::string> out;
        for (size_t i = 0; arr && i < arr->size(); ++i) out.push_back(arr->getObject(static_cast<unsigned>(i))->getValue<std::string>("event_type"));
        return out;
    }
    atelier::testing::FakeHost host;
};

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_F(AgentsUnit, CreateAppliesBothReferencesDefaults) {
    auto r = host.request("POST", "/api/agents", R"({"project_id":"p1","name":"Feature Builder"})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto a = r.json();
    EXPECT_EQ(a->getValue<std::string>("cli_name"), "claude-code");
    EXPECT_EQ(a->getValue<std::string>("allowed_tools"), "Read,Edit,Write,Bash,Glob,Grep");
    EXPECT_EQ(a->getValue<int>("max_turns"), 100);
    EXPECT_EQ(atelier::toJson(a->get("provider_config")), "{}");
    EXPECT_EQ(a->getValue<std::string>("role"), "builder");
    EXPECT_EQ(a->getValue<std::string>("slug"), "feature-builder");
    EXPECT_TRUE(a->getValue<bool>("is_enabled"));
    auto preset = a->getObject("resolved_preset");
    ASSERT_TRUE(preset);
    EXPECT_EQ(preset->getValue<std::string>("type"), "coder");
    EXPECT_EQ(preset->getArray("autoApprovedTools")->size(), 6u);
    EXPECT_EQ(a->getValue<std::string>("created_at").back(), 'Z');
    ASSERT_EQ(FakeCollaborators::profiles.size(), 1u);
    EXPECT_NE(FakeCollaborators::profiles[0].find("\"type\":\"agent\""), std::string::npos);
    EXPECT_EQ(a->getValue<std::string>("profile_id"), a->getValue<std::string>("id"));

    // A second agent with the same name gets a distinct slug; an explicit duplicate slug is a 409.
    auto r2 = host.request("POST", "/api/agents", R"({"name":"Feature Builder"})");
    EXPECT_EQ(r2.json()->getValue<std::string>("slug"), "feature-builder-2");
    auto dup = host.request("POST", "/api/agents", R"({"name":"X","slug":"feature-builder"})");
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(dup.json()->getValue<std::string>("code"), "SLUG_EXISTS");
}

TEST_F(AgentsUnit, ValidationRejectsBadBodies) {
    auto expect400 = [&](const std::string& body, const std::string& field) {
        auto r = host.request("POST", "/api/agents", body);
        EXPECT_EQ(r.status, 400) << body << " → " << r.body;
        auto d = r.json() ? r.json()->getArray("details") : nullptr;
        if (!field.empty()) {
            ASSERT_TRUE(d) << r.body;
            EXPECT_EQ(d->getObject(0)->getValue<std::string>("field"), field);
        }
    };
    expect400("{not json", "");
    expect400(R"({"description":"no name"})", "name");
    expect400(R"({"name":5})", "name");
    expect400(R"({"name":"a","slug":"Not Kebab"})", "slug");
    expect400(R"({"name":"a","cli_name":"vim"})", "cli_name");
    expect400(R"({"name":"a","max_turns":"many"})", "max_turns");
    expect400(R"({"name":"a","max_turns":0})", "max_turns");
    expect400(R"({"name":"a","permissions":[{"type":"resource","resource":"ticket","actions":["fly"],"scope":"project"}]})",
              "permissions[0].actions");
    expect400(R"({"name":"a","permissions":[{"type":"tool","scope":"global"}]})", "permissions[0].tool");
    expect400(R"({"name":"a","config":{"backend_type":"nope"}})", "config.backend_type");
    expect400(R"({"name":"a","config":{"max_chain_depth":101}})", "config.max_chain_depth");
    expect400(R"({"name":"a","config":{"temperature":"hot"}})", "config.temperature");
    expect400(R"({"name":"a","provider_config":[]})", "provider_config");
    expect400(R"({"name":"a","id":"not-a-uuid"})", "id");
    auto unknownProject = host.request("POST", "/api/agents", R"({"name":"a","project_id":"nope"})");
    EXPECT_EQ(unknownProject.status, 404);
    EXPECT_EQ(host.request("GET", "/api/agents").body, "[]") << "no partial writes";
}

TEST_F(AgentsUnit, ReadUpdateDeleteAndFilters) {
    std::string id = createAgent(R"(,"slug":"mocky","config":{"enabled_for_chat":true,"backend_type":"mock"},"permissions":[{"type":"tool","tool":"Bash","scope":"project"}])");
    host.request("POST", "/api/agents", R"({"name":"Global","is_enabled":false})");

    EXPECT_EQ(host.request("GET", "/api/agents/" + id).json()->getValue<std::string>("slug"), "mocky");
    EXPECT_EQ(host.request("GET", "/api/agents/by-slug/mocky").json()->getValue<std::string>("id"), id);
    EXPECT_EQ(host.request("GET", "/api/agents/by-slug/none").status, 404);
    EXPECT_EQ(host.request("GET", "/api/agents/nope").status, 404);
    EXPECT_EQ(atelier::parseArray(host.request("GET", "/api/agents").body)->size(), 2u);
    EXPECT_EQ(atelier::parseArray(host.request("GET", "/api/agents?is_enabled=false").body)->size(), 1u);
    EXPECT_EQ(atelier::parseArray(host.request("GET", "/api/agents?enabled_for_chat=true").body)->size(), 1u);
    EXPECT_EQ(atelier::parseArray(host.request("GET", "/api/agents?project_id=p1").body)->size(), 2u) << "includes global agents";
    EXPECT_EQ(atelier::parseArray(host.request("GET", "/api/projects/p1/agents").body)->size(), 1u);
    EXPECT_EQ(host.request("GET", "/api/projects/zzz/agents").status, 404);
    EXPECT_EQ(host.request("GET", "/api/agents?is_enabled=maybe").status, 400);

    auto patched = host.request("PATCH", "/api/agents/" + id, R"({"system_prompt":"new","max_turns":50})");
    ASSERT_EQ(patched.status, 200) << patched.body;
    EXPECT_EQ(patched.json()->getValue<std::string>("system_prompt"), "new");
    EXPECT_EQ(patched.json()->getValue<int>("max_turns"), 50);
    EXPECT_EQ(patched.json()->getValue<std::string>("name"), "Mock Builder") << "partial";
    auto put = host.request("PUT", "/api/agents/" + id, R"({"name":"Renamed Agent"})");
    EXPECT_EQ(put.json()->getValue<std::string>("name"), "Renamed Agent");
    EXPECT_EQ(put.json()->getValue<int>("max_turns"), 50);
    EXPECT_EQ(host.request("PATCH", "/api/agents/" + id, R"({"max_turns":true})").status, 400);
    EXPECT_EQ(host.request("PATCH", "/api/agents/nope", R"({})").status, 404);

    EXPECT_EQ(host.request("POST", "/api/agents/" + id + "/reset-to-plugin-defaults").status, 409);
    auto plugin = host.request("POST", "/api/agents", R"({"name":"Plugged","plugin_id":"kit","system_prompt":"orig"})");
    std::string pid = plugin.json()->getValue<std::string>("id");
    host.request("PATCH", "/api/agents/" + pid, R"({"system_prompt":"changed"})");
    auto reset = host.request("POST", "/api/agents/" + pid + "/reset-to-plugin-defaults");
    ASSERT_EQ(reset.status, 200) << reset.body;
    EXPECT_EQ(reset.json()->getValue<std::string>("system_prompt"), "orig");

    EXPECT_EQ(host.request("DELETE", "/api/agents/" + id).status, 204);
    EXPECT_EQ(host.request("GET", "/api/agents/" + id).status, 404);
    EXPECT_EQ(host.request("DELETE", "/api/agents/" + id).status, 404);
}

TEST_F(AgentsUnit, ExportWritesMarkdownInsideAllowedDirectories) {
    std::string id = createAgent();
    std::string dir = FakeCollaborators::projectDir + "/agents-export";
    auto r = host.request("POST", "/api/agents/export", R"({"directory":")" + dir + R"(","agent_ids":[")" + id + R"("]})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()->getValue<int>("count"), 1);
    std::ifstream in(dir + "/mock-builder.md");
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().rfind("---\nid: \"" + id + "\"", 0), 0u) << ss.str();
    EXPECT_NE(ss.str().find("be brief"), std::string::npos);
    EXPECT_EQ(host.request("POST", "/api/agents/export", R"({"directory":"/etc/atelier-x"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/agents/export", R"({"directory":")" + dir + R"(/../../x"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/agents/export", R"({"directory":"relative"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/agents/export", R"({"directory":")" + dir + R"(","agent_ids":["nope"]})").status, 404);
}

TEST_F(AgentsUnit, MockRunCompletesWithEventsTokensAndFiles) {
    std::string agent = createAgent();
    auto r = host.request("POST", "/api/runs",
                          R"({"agent_id":")" + agent +
                              R"(","task":"Say hi\nemit: hello world\ntool: Edit notes.txt\nwrite: notes.txt=hi there\ntool: TaskCreate Ship it\ntokens: in=120 out=40 cost=0.25"})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto run = r.json();
    std::string id = run->getValue<std::string>("id");
    EXPECT_EQ(run->getValue<std::string>("run_branch").rfind("atelier/run-", 0), 0u);
    EXPECT_EQ(run->getValue<std::string>("run_branch").size(), std::string("atelier/run-").size() + 8);
    EXPECT_EQ(run->getValue<std::string>("source_branch"), "HEAD");
    EXPECT_EQ(run->getValue<std::string>("cli_name"), "mock");
    EXPECT_EQ(waitStatus(id, {"completed", "failed"}), "completed");
    auto done = host.request("GET", "/api/runs/" + id).json();
    EXPECT_EQ(done->getValue<int>("tokens_in"), 120);
    EXPECT_EQ(done->getValue<int>("tokens_out"), 40);
    EXPECT_DOUBLE_EQ(done->getValue<double>("cost_usd"), 0.25);
    EXPECT_EQ(done->getValue<std::string>("session_id").rfind("mock-", 0), 0u);
    auto types = eventTypes(id);
    ASSERT_GE(types.size(), 8u);
    EXPECT_EQ(types.front(), "run.created");
    EXPECT_EQ(types[1], "run.started");
    EXPECT_TRUE(contains(types, "session.init"));
    EXPECT_TRUE(contains(types, "agent.token"));
    EXPECT_TRUE(contains(types, "agent.message"));
    EXPECT_TRUE(contains(types, "agent.tool_call"));
    EXPECT_TRUE(contains(types, "agent.tool_result"));
    EXPECT_EQ(types[types.size() - 2], "run.result");
    EXPECT_EQ(types.back(), "run.completed");
    auto wt = done->getArray("worktrees")->getObject(0)->getValue<std::string>("path");
    std::ifstream f(wt + "/notes.txt");
    std::string content;
    std::getline(f, content);
    EXPECT_EQ(content, "hi there");
    auto tasks = atelier::parseArray(host.request("GET", "/api/runs/" + id + "/tasks").body);
    ASSERT_EQ(tasks->size(), 1u);
    EXPECT_EQ(tasks->getObject(0)->getValue<std::string>("subject"), "Ship it");
    EXPECT_NE(host.request("GET", "/api/runs/" + id + "/logs").body.find("[mock] hello world"), std::string::npos);
    // host bus got the lifecycle events
    bool sawCompleted = false;
    for (auto& e : host.events())
        if (e.type == "run.completed") sawCompleted = true;
    EXPECT_TRUE(sawCompleted);
}

TEST_F(AgentsUnit, RunValidationFailureCancelAndContinue) {
    std::string agent = createAgent();
    EXPECT_EQ(host.request("POST", "/api/runs", R"({"task":"x"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/runs", R"({"agent_id":"nope","task":"x"})").status, 404);
    EXPECT_EQ(host.request("POST", "/api/runs", R"({"agent_id":")" + agent + R"(","task":""})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/runs", R"({"agent_id":")" + agent + R"(","task":"x","source_branch":"-rf"})").status, 400);
    auto badScript = host.request("POST", "/api/runs", R"({"agent_id":")" + agent + R"(","task":"write: /etc/passwd=x"})");
    EXPECT_EQ(badScript.status, 400);
    EXPECT_EQ(badScript.json()->getValue<std::string>("code"), "INVALID_MOCK_SCRIPT");
    EXPECT_EQ(host.request("GET", "/api/runs").body, "[]");

    auto failed = host.request("POST", "/api/runs", R"({"agent_id":")" + agent + R"(","task":"emit: trying\nfail: compiler exploded"})");
    std::string fid = failed.json()->getValue<std::string>("id");
    EXPECT_EQ(waitStatus(fid, {"failed"}), "failed");
    EXPECT_EQ(host.request("GET", "/api/runs/" + fid).json()->getValue<std::string>("error"), "compiler exploded");
    EXPECT_EQ(eventTypes(fid).back(), "run.failed");

    auto hang = host.request("POST", "/api/runs", R"({"agent_id":")" + agent + R"(","task":"hang"})");
    std::string hid = hang.json()->getValue<std::string>("id");
    EXPECT_EQ(waitStatus(hid, {"running"}), "running");
    EXPECT_EQ(host.request("DELETE", "/api/runs/" + hid).status, 409);
    auto cancelled = host.request("POST", "/api/runs/" + hid + "/cancel");
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(cancelled.json()->getValue<std::string>("status"), "cancelled");
    EXPECT_EQ(host.request("POST", "/api/runs/" + hid + "/cancel").status, 409);

    auto cont = host.request("POST", "/api/runs/" + hid + "/continue", R"({"message":"emit: resumed"})");
    ASSERT_EQ(cont.status, 200) << cont.body;
    EXPECT_EQ(waitStatus(hid, {"completed"}), "completed");
    auto types = eventTypes(hid);
    EXPECT_TRUE(contains(types, "run.cancelled"));
    EXPECT_TRUE(contains(types, "user.message"));
    EXPECT_EQ(types.back(), "run.completed");
    EXPECT_EQ(host.request("POST", "/api/runs/" + hid + "/continue", R"({"message":7})").status, 400);

    auto paused = host.request("POST", "/api/runs", R"({"agent_id":")" + agent + R"(","task":"hang"})");
    std::string pid = paused.json()->getValue<std::string>("id");
    waitStatus(pid, {"running"});
    EXPECT_EQ(host.request("POST", "/api/runs/" + pid + "/pause").json()->getValue<std::string>("status"), "paused");
    EXPECT_EQ(host.request("POST", "/api/runs/" + pid + "/notify", R"({"notify":true})").json()->getValue<bool>("notify"), true);
    EXPECT_EQ(host.request("POST", "/api/runs/" + pid + "/notify", R"({})").status, 400);
    EXPECT_EQ(host.request("DELETE", "/api/runs/" + pid).status, 204);
    EXPECT_EQ(host.request("GET", "/api/runs/" + pid).status, 404);
    EXPECT_EQ(host.request("GET", "/api/runs/" + pid + "/events").status, 404);
}

TEST_F(AgentsUnit, HookEndpointAndSseReplay) {
    std::string agent = createAgent();
    auto r = host.request("POST", "/api/runs", R"({"agent_id":")" + agent + R"(","task":"emit: done"})");
    std::string id = r.json()->getValue<std::string>("id");
    waitStatus(id, {"completed"});
    EXPECT_EQ(host.request("POST", "/api/runs/nope/hook", R"({"hook_event_name":"Stop"})").status, 404);
    auto bad = host.request("POST", "/api/runs/" + id + "/hook", "{oops");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json()->getValue<std::string>("code"), "INVALID_JSON");
    EXPECT_EQ(host.request("POST", "/api/runs/" + id + "/hook", "[1,2]").status, 400);
    EXPECT_EQ(host.request("POST", "/api/runs/" + id + "/hook", R"({"tool_name":"Edit"})").status, 400);
    auto ok = host.request("POST", "/api/runs/" + id + "/hook",
                           R"({"hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"t9","tool_input":{"command":"ls"}})");
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.body, "{}");
    auto types = eventTypes(id);
    EXPECT_EQ(types.back(), "agent.tool_call");

    auto all = atelier::parseArray(host.request("GET", "/api/runs/" + id + "/events").body);
    int64_t secondId = all->getObject(1)->getValue<int64_t>("id");
    auto sse = host.request("GET", "/api/runs/" + id + "/events/stream?last_event_id=" + std::to_string(secondId));
    EXPECT_EQ(sse.status, 200);
    EXPECT_EQ(sse.body.find("id: " + std::to_string(secondId) + "\n"), std::string::npos) << "replay starts after last_event_id";
    EXPECT_NE(sse.body.find("id: " + std::to_string(secondId + 1) + "\n"), std::string::npos) << sse.body;
    EXPECT_NE(sse.body.find("event: agent.tool_call"), std::string::npos);
    EXPECT_EQ(host.request("GET", "/api/runs/nope/events/stream").status, 404);
    EXPECT_EQ(host.request("GET", "/api/runs/" + id + "/events/stream?last_event_id=abc").status, 400);
}

TEST_F(AgentsUnit, SessionsBackendResolutionAndSweep) {
    std::string chat = createAgent(R"(,"config":{"enabled_for_chat":true,"backend_type":"codex"})");
    std::string noChat = createAgent(R"(,"slug":"no-chat")");
    auto s1 = host.request("POST", "/api/sessions", R"({"agent_id":")" + chat + R"("})");
    ASSERT_EQ(s1.status, 201) << s1.body;
    EXPECT_EQ(s1.json()->getValue<std::string>("backend_type"), "codex");
    EXPECT_EQ(s1.json()->getValue<std::string>("id").rfind("chat-", 0), 0u);
    EXPECT_EQ(s1.json()->getValue<std::string>("agent_name"), "Mock Builder");
    EXPECT_EQ(s1.json()->getValue<std::string>("status"), "pending");
    auto s2 = host.request("POST", "/api/sessions", R"({"agent_id":")" + chat + R"(","backend_type":"mock"})");
    EXPECT_EQ(s2.json()->getValue<std::string>("effective_backend"), "mock");
    auto s3 = host.request("POST", "/api/sessions", R"({})");
    EXPECT_EQ(s3.json()->getValue<std::string>("backend_type"), "claude-code");
    EXPECT_EQ(host.request("POST", "/api/sessions", R"({"agent_id":")" + noChat + R"("})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/sessions", R"({"backend_type":"emacs"})").status, 400);
    EXPECT_EQ(host.request("POST", "/api/sessions", R"({"agent_id":"nope"})").status, 404);

    std::string sid = s1.json()->getValue<std::string>("id");
    auto evs = host.request("GET", "/api/sessions/" + sid + "/events?since_seq=0").json();
    EXPECT_EQ(evs->getValue<int>("total"), 1);
    EXPECT_EQ(evs->getArray("events")->getObject(0)->getValue<std::string>("event_type"), "session.created");
    EXPECT_EQ(host.request("GET", "/api/sessions/" + sid + "/events?since_seq=1").json()->getArray("events")->size(), 0u);
    EXPECT_EQ(atelier::parseArray(host.request("GET", "/api/sessions?agent_id=" + chat).body)->size(), 2u);
    EXPECT_EQ(host.request("GET", "/api/sessions?status=weird").status, 400);
    EXPECT_EQ(host.request("GET", "/api/sessions/nope").status, 404);

    // Age every session and sweep: pending sessions are orphaned → aborted.
    sqlite3_exec(host.sqlite(), "UPDATE agents_sessions SET last_activity_at = 0", nullptr, nullptr, nullptr);
    host.runTimers();
    auto aborted = host.request("GET", "/api/sessions/" + sid).json();
    EXPECT_EQ(aborted->getValue<std::string>("status"), "aborted");
    EXPECT_EQ(aborted->getValue<std::string>("terminal_reason"), "orphaned");
    auto diag = host.request("GET", "/api/sessions/diagnostics").json();
    EXPECT_EQ(diag->getValue<int>("aborted_count"), 3);
    EXPECT_EQ(diag->getObject("abort_reasons")->getValue<int>("orphaned"), 3);
    EXPECT_EQ(host.request("DELETE", "/api/sessions/" + sid).status, 204);
    EXPECT_EQ(host.request("GET", "/api/sessions/" + sid).status, 404);
    EXPECT_TRUE(agents::canTransition("completed", "running"));
    EXPECT_FALSE(agents::canTransition("pending", "completed"));
}

TEST_F(AgentsUnit, BackendStatusModelsAndCliStatus) {
    auto st = atelier::parseArray(host.request("GET", "/api/backend-status").body);
    ASSERT_EQ(st->size(), 5u);
    EXPECT_EQ(st->getObject(4)->getValue<std::string>("backend_type"), "mock");
    EXPECT_TRUE(st->getObject(4)->getValue<bool>("available"));
    EXPECT_EQ(host.request("POST", "/api/backend-status/refresh").status, 200);
    auto models = host.request("GET", "/api/models").json();
    EXPECT_EQ(models->getValue<std::string>("default_model_id"), "claude-sonnet-4-6");
    EXPECT_EQ(models->getArray("backends")->size(), 5u);
    auto cli = host.request("GET", "/api/agents/codex/cli/status").json();
    EXPECT_EQ(cli->getValue<std::string>("command"), "codex");
    EXPECT_EQ(cli->getValue<std::string>("label"), "Codex");
    EXPECT_TRUE(cli->has("installed"));
    EXPECT_EQ(host.request("GET", "/api/agents/vim/cli/status").status, 404);
    EXPECT_EQ(host.request("POST", "/api/agents/vim/cli/install").status, 404);
}

TEST_F(AgentsUnit, TerminalRunSessionHook) {
    std::string agent = createAgent();
    auto r = host.request("POST", "/api/runs", R"({"agent_id":")" + agent + R"(","task":"emit: x"})");
    std::string id = r.json()->getValue<std::string>("id");
    waitStatus(id, {"completed"});
    auto out = FakeCollaborators::self->runHook("terminal.run_session", R"({"runId":")" + id + R"("})");
    auto o = atelier::parseObject(out.payload);
    ASSERT_TRUE(o) << out.payload;
    EXPECT_NE(o->getValue<std::string>("cwd").find(id), std::string::npos);
    EXPECT_EQ(o->getObject("env")->getValue<std::string>("ATELIER_RUN_ID"), id);
    auto none = atelier::parseObject(FakeCollaborators::self->runHook("terminal.run_session", R"({"runId":"nope"})").payload);
    EXPECT_FALSE(none->has("cwd"));
}

TEST_F(AgentsUnit, TerminalRunSessionResumesTheCliSessionInThePty) {
    std::string agent = createAgent(R"(,"slug":"claude-one","cli_name":"claude-code")");
    std::string dir = host.dataDir() + "/wt";
    fs::create_directories(dir);
    std::string sql = "INSERT INTO agents_runs (id, project_id, agent_id, task, status, source_branch, run_branch, cli_name,"
                      " session_id, worktrees, created_at, updated_at) VALUES ('r1','p1','" + agent +
                      "','t','completed','HEAD','atelier/run-00000000','claude-code','sess-1','[{\"path\":\"" + dir +
                      "\"}]','2026-01-01T00:00:00.000Z','2026-01-01T00:00:00.000Z')";
    ASSERT_EQ(sqlite3_exec(host.sqlite(), sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    std::string oldPath = getenv("PATH") ? getenv("PATH") : "";
    setenv("PATH", (std::string(AGENTS_FAKE_CLI_DIR) + ":" + oldPath).c_str(), 1);
    auto o = atelier::parseObject(FakeCollaborators::self->runHook("terminal.run_session", R"({"runId":"r1"})").payload);
    setenv("PATH", oldPath.c_str(), 1);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->getValue<std::string>("cwd"), dir);
    auto cmd = o->getArray("command");
    ASSERT_TRUE(cmd);
    EXPECT_EQ(cmd->getElement<std::string>(0), std::string(AGENTS_FAKE_CLI_DIR) + "/claude");
    EXPECT_EQ(cmd->getElement<std::string>(1), "--resume");
    EXPECT_EQ(cmd->getElement<std::string>(2), "sess-1");
}
