// The terminal module through the fake host: routes, validation, scoped sessions, the
// worktree.removing hook, terminal.run_session, and the WebSocket protocol (simulated clients).
#include "test_util.hpp"

#include <atelier/sdk.hpp>
#include <atelier/testing/fake_host.hpp>
#include <atelier/util.hpp>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

extern "C" const atelier_module_v1* atelier_module_entry_v1(void);

using namespace atelier::terminal::testutil;
using atelier::testing::FakeHost;

namespace {

// A stand-in for the worktrees module (and the agents module's run hook).
class FakeWorktrees : public atelier::Module {
public:
    static inline std::string rootPath;
    void init() override {
        get("/api/worktrees/:id", "worktree", [](atelier::Request& req, atelier::Response& res) {
            std::string id = req.param("id");
            if (id == "ambiguous") throw atelier::HttpError(409, "WORKTREE_ID_AMBIGUOUS", "Worktree \"ambiguous\" is ambiguous. Matches: a, b");
            if (id != "feat-a" && id != "feat-b") throw atelier::HttpError(404, "WORKTREE_NOT_FOUND", "Worktree not found");
            auto o = atelier::makeObject();
            o->set("id", id);
            o->set("path", rootPath + "/" + id);
            o->set("branch", id);
            res.json(o);
        });
        del("/api/worktrees/:id", "remove", [this](atelier::Request& req, atelier::Response& res) {
            auto p = atelier::makeObject();
            p->set("projectId", "p1");
            p->set("worktreeId", req.param("id"));
            p->set("path", rootPath + "/" + req.param("id"));
            p->set("stoppedProcesses", 0);
            p->set("closedTerminals", 1);  // another handler already closed one
            auto r = runHook("worktree.removing", p);
            res.json(r.json());
        });
        hook("terminal.run_session", 100, [](std::string_view payload) {
            auto p = atelier::parseObject(payload);
            if (p->getValue<std::string>("runId") != "run-1") return atelier::HookOutcome::keep();
            p->set("cwd", rootPath);
            p->set("command", "echo run-session-started env:$ATELIER_RUN; exec cat");
            auto env = atelier::makeObject();
            env->set("ATELIER_RUN", "run-1");
            p->set("env", env);
            return atelier::HookOutcome::replace(p);
        });
    }
};

const atelier_module_v1* fakeWorktreesEntry() {
    static const atelier_requirement none[1] = {{nullptr, nullptr, nullptr}};
    static const atelier_module_v1 table = [] {
        auto t = atelier::initStruct<atelier_module_v1>();
        t.id = "worktrees";
        t.version = "0.1.0";
        t.description = "fake worktrees";
        t.requires_list = none;
        t.requires_count = 0;
        t.init = &atelier::ModuleGlue::init<FakeWorktrees>;
        t.start = &atelier::ModuleGlue::start;
        t.stop = &atelier::ModuleGlue::stop;
        t.destroy = &atelier::ModuleGlue::destroy;
        return t;
    }();
    return &table;
}

// Simulated WebSocket clients. FakeHost::wsOpen matches the route against string_views
// into a destroyed temporary (path.substr(...)), so long paths fail to match; this helper
// records the module's WebSocket routes itself and drives the callbacks directly.
class WsClients {
public:
    static inline WsClients* current = nullptr;
    void install(FakeHost& host) {
        current = this;
        auto* api = const_cast<atelier_host_v1*>(host.api());
        orig_ = api->ws_route_add;
        api->ws_route_add = [](atelier_module_ctx* c, atelier_str pattern, const atelier_ws_callbacks* cb, void* ud) -> int {
            current->routes_.push_back(Route{atelier::route::Pattern(atelier::view(pattern)), *cb, ud});
            return current->orig_(c, pattern, cb, ud);
        };
        // The loop thread sends and closes; waitSent() and waitClosed() let the test thread
        // wait for that safely.
        origSend_ = api->ws_send;
        api->ws_send = [](atelier_websocket* ws, atelier_str data, int binary) -> int {
            std::lock_guard lock(sendMu_);
            int r = origSend_(ws, data, binary);
            sendCv_.notify_all();
            return r;
        };
        origClose_ = api->ws_close;
        api->ws_close = [](atelier_websocket* ws, int code, atelier_str reason) {
            std::lock_guard lock(sendMu_);
            origClose_(ws, code, reason);
            sendCv_.notify_all();
        };
    }
    // Waits until `n` frames were sent to `ws` (the first one is the restore frame: output
    // produced after it is streamed, earlier output is part of its snapshot).
    bool waitSent(atelier_websocket* ws, size_t n, int ms = 5000) {
        std::unique_lock lock(sendMu_);
        return sendCv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return ws->sent.size() >= n; });
    }
    // Waits until the module closed `ws`; nothing is sent to it afterwards.
    bool waitClosed(atelier_websocket* ws, int ms = 5000) {
        std::unique_lock lock(sendMu_);
        return sendCv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return ws->closed; });
    }
    atelier_websocket* open(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
        std::string path = target.substr(0, target.find('?'));
        std::string query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
        auto parts = atelier::route::splitPath(path);
        for (auto& r : routes_) {
            atelier::route::Params params;
            if (!r.pattern.match(parts, params)) continue;
            atelier_request req;
            req.method = "GET";
            req.path = path;
            req.query = query;
            req.queryParams = atelier::route::parseQuery(req.query);
            req.params = params;
            for (auto& [k, v] : headers) {
                std::string lk = k;
                for (auto& ch : lk) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                req.headers[lk] = v;
            }
            auto& ws = sockets_.emplace_back(std::make_unique<atelier_websocket>());
            owner_[ws.get()] = &r;
            int code = r.cb.on_open(r.ud, ws.get(), &req);
            if (code != 0) {
                ws->closed = true;
                ws->closeCode = code;
            }
            return ws.get();
        }
        return nullptr;
    }
    void message(atelier_websocket* ws, const std::string& data, bool binary = false) {
        auto* r = owner_.at(ws);
        r->cb.on_message(r->ud, ws, data.data(), data.size(), binary ? 1 : 0);
    }
    void clientClose(atelier_websocket* ws, int code = 1000) {
        auto* r = owner_.at(ws);
        ws->closed = true;
        r->cb.on_close(r->ud, ws, code);
    }

private:
    struct Route {
        atelier::route::Pattern pattern;
        atelier_ws_callbacks cb;
        void* ud;
    };
    decltype(atelier_host_v1::ws_route_add) orig_ = nullptr;
    static inline decltype(atelier_host_v1::ws_send) origSend_ = nullptr;
    static inline decltype(atelier_host_v1::ws_close) origClose_ = nullptr;
    static inline std::mutex sendMu_;
    static inline std::condition_variable sendCv_;
    std::deque<Route> routes_;
    std::vector<std::unique_ptr<atelier_websocket>> sockets_;
    std::map<atelier_websocket*, Route*> owner_;
};

struct Env {
    TempDir root;
    WsClients ws;  // outlives the host: the loop thread may still send until the module stops
    FakeHost host;
    explicit Env(bool withWorktrees = true, const std::string& config = R"({"killGraceMs":300})") {
        FakeWorktrees::rootPath = root.path;
        std::filesystem::create_directories(root.path + "/feat-a");
        std::filesystem::create_directories(root.path + "/feat-b");
        setenv("SHELL", "/bin/sh", 1);  // a login bash takes seconds on this machine
        host.setConfig("terminal", config);
        ws.install(host);
        host.load(atelier_module_entry_v1());
        if (withWorktrees) host.load(fakeWorktreesEntry());
    }
    atelier::JsonObject info(const std::string& id) { return host.request("GET", "/api/pty/" + id).json(); }
    bool waitExited(const std::string& id, int ms = 5000) {
        return waitUntil([&] {
            auto o = info(id);
            return o && o->optValue<std::string>("status", "") == "exited";
        }, ms);
    }
    std::string spawn(const std::string& command) {
        auto r = host.request("POST", "/api/pty/spawn",
                              R"({"command":"/bin/sh","args":["-c",)" + atelier::toJson(command) + R"(],"cwd":")" + root.path + "\"}");
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json()->getValue<std::string>("id");
    }
};

std::string textOf(const std::vector<std::pair<std::string, bool>>& frames, bool binary) {
    std::string out;
    for (auto& [d, b] : frames)
        if (b == binary) out += d;
    return out;
}

}  // namespace

TEST(TerminalModule, SpawnValidation) {
    Env env;
    auto& h = env.host;
    auto r = h.request("POST", "/api/pty/spawn", "{not json");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "INVALID_JSON");
    r = h.request("POST", "/api/pty/spawn", "{}");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getArray("details")->getObject(0)->getValue<std::string>("field"), "cwd");
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/no/such/dir"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "INVALID_CWD");
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"relative/dir"})");
    EXPECT_EQ(r.status, 400);
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/tmp","cols":0})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "VALIDATION_ERROR");
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/tmp","rows":1001})");
    EXPECT_EQ(r.status, 400);
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/tmp","cols":"80"})");
    EXPECT_EQ(r.status, 400);
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/tmp","args":["-c"]})");
    EXPECT_EQ(r.status, 400);
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/tmp","command":"no-such-binary-x","args":[]})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "INVALID_COMMAND");
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/tmp\u0000/etc"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "INVALID_CWD");
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/tmp","command":"/bin/sh","args":["-c","x\u0000y"]})");
    EXPECT_EQ(r.status, 400);
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/tmp","env":{"A":1}})");
    EXPECT_EQ(r.status, 400);
    r = h.request("POST", "/api/pty/spawn", R"({"cwd":"/tmp","env":[]})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(h.request("GET", "/api/pty/nope").status, 404);
    r = h.request("DELETE", "/api/terminals/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()->getValue<std::string>("error"), "Session not found");
    EXPECT_EQ(r.json()->getValue<bool>("success"), false);
}

TEST(TerminalModule, SpawnInputOutputResizeDelete) {
    Env env;
    auto& h = env.host;
    auto r = h.request("POST", "/api/pty/spawn",
                       R"({"command":"/bin/sh","args":["-c","stty -echo; echo ready:$GREETING; while read l; do echo line:$l; stty size; done"],"cwd":")" +
                           env.root.path + R"(","env":{"GREETING":"hi"},"cols":90,"rows":20})");
    ASSERT_EQ(r.status, 200) << r.body;
    std::string id = r.json()->getValue<std::string>("id");
    EXPECT_GT(r.json()->getValue<int64_t>("pid"), 0);
    auto out = [&] {
        auto o = h.request("GET", "/api/pty/" + id + "/output?offset=0").json();
        return o ? o->getValue<std::string>("data") : std::string();
    };
    EXPECT_TRUE(waitUntil([&] { return out().find("ready:hi") != std::string::npos; }, 5000)) << out();
    r = h.request("POST", "/api/pty/" + id + "/resize", R"({"cols":101,"rows":33})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(h.request("POST", "/api/pty/" + id + "/resize", R"({"cols":101})").status, 400);
    EXPECT_EQ(h.request("POST", "/api/pty/nope/resize", R"({"cols":10,"rows":10})").status, 404);
    r = h.request("POST", "/api/pty/" + id + "/input", R"({"data":"abc\n"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()->getValue<int64_t>("bytes"), 4);
    EXPECT_EQ(h.request("POST", "/api/pty/" + id + "/input", R"({"data":5})").status, 400);
    EXPECT_EQ(h.request("POST", "/api/pty/nope/input", R"({"data":"x"})").status, 404);
    EXPECT_TRUE(waitUntil([&] { return out().find("line:abc\r\n33 101") != std::string::npos; }, 5000)) << out();
    auto o = h.request("GET", "/api/pty/" + id + "/output?offset=3").json();
    EXPECT_EQ(o->getValue<int64_t>("offset"), 3);
    EXPECT_GT(o->getValue<int64_t>("nextOffset"), 3);
    EXPECT_EQ(h.request("GET", "/api/pty/" + id + "/output?offset=abc").status, 400);
    auto inf = env.info(id);
    EXPECT_EQ(inf->getValue<std::string>("status"), "running");
    EXPECT_EQ(inf->getValue<int>("cols"), 101);
    EXPECT_EQ(inf->getValue<std::string>("cwd"), env.root.path);
    auto list = h.request("GET", "/api/terminals").json();
    EXPECT_EQ(list->getArray("sessions")->size(), 1u);
    r = h.request("DELETE", "/api/terminals/" + id);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"success":true})");
    EXPECT_EQ(h.request("DELETE", "/api/terminals/" + id).status, 404);
    bool created = false, destroyed = false;
    for (auto& e : h.events()) {
        if (e.type == "terminal.created" && e.payload.find(id) != std::string::npos) created = true;
        if (e.type == "terminal.destroyed" && e.payload.find(id) != std::string::npos) destroyed = true;
    }
    EXPECT_TRUE(created);
    EXPECT_TRUE(destroyed);
    bool opsStarted = false;
    for (auto& e : h.opsEntries())
        if (e.find("\"action\":\"terminal.created\"") != std::string::npos && e.find("\"cwd\":\"" + env.root.path + "\"") != std::string::npos)
            opsStarted = true;
    EXPECT_TRUE(opsStarted);
}

TEST(TerminalModule, SessionCapIs429) {
    Env env(true, R"({"maxSessions":2,"killGraceMs":300})");
    env.spawn("sleep 30");
    env.spawn("sleep 30");
    auto r = env.host.request("POST", "/api/pty/spawn", R"({"command":"sleep 30","cwd":"/tmp"})");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "TOO_MANY_SESSIONS");
}

TEST(TerminalModule, WorktreeTerminalsScopeReuseAndReplacement) {
    Env env;
    auto& h = env.host;
    // no scope → fresh session each time
    auto r = h.request("POST", "/api/worktrees/feat-a/terminals", "");
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = r.json();
    EXPECT_TRUE(o->getValue<bool>("success"));
    EXPECT_FALSE(o->getValue<bool>("reusedScopedSession"));
    EXPECT_FALSE(o->getValue<bool>("replacedScopedShellSession"));
    std::string plain = o->getValue<std::string>("sessionId");
    auto info = env.info(plain);
    EXPECT_EQ(info->getValue<int>("cols"), 80);
    EXPECT_EQ(info->getValue<int>("rows"), 24);
    EXPECT_EQ(info->getValue<std::string>("cwd"), env.root.path + "/feat-a");

    // shell session in scope "claude"
    r = h.request("POST", "/api/worktrees/feat-a/terminals", R"({"scope":"claude","cols":120,"rows":40})");
    std::string shell = r.json()->getValue<std::string>("sessionId");
    EXPECT_NE(shell, plain);
    EXPECT_FALSE(r.json()->getValue<bool>("reusedScopedSession"));
    // same scope without a command → reused
    r = h.request("POST", "/api/worktrees/feat-a/terminals", R"({"scope":"claude"})");
    EXPECT_EQ(r.json()->getValue<std::string>("sessionId"), shell);
    EXPECT_TRUE(r.json()->getValue<bool>("reusedScopedSession"));
    EXPECT_FALSE(r.json()->getValue<bool>("replacedScopedShellSession"));
    // a startup command replaces the shell-only session
    r = h.request("POST", "/api/worktrees/feat-a/terminals", R"({"scope":"claude","startupCommand":"exec sleep 100"})");
    std::string agent = r.json()->getValue<std::string>("sessionId");
    EXPECT_NE(agent, shell);
    EXPECT_FALSE(r.json()->getValue<bool>("reusedScopedSession"));
    EXPECT_TRUE(r.json()->getValue<bool>("replacedScopedShellSession"));
    EXPECT_EQ(h.request("GET", "/api/pty/" + shell).json()->getValue<std::string>("status"), "exited");
    // an agent session is reused even with a new command
    r = h.request("POST", "/api/worktrees/feat-a/terminals", R"({"scope":"claude","startupCommand":"exec sleep 200"})");
    EXPECT_EQ(r.json()->getValue<std::string>("sessionId"), agent);
    EXPECT_TRUE(r.json()->getValue<bool>("reusedScopedSession"));
    // scopes are per worktree
    r = h.request("POST", "/api/worktrees/feat-b/terminals", R"({"scope":"claude"})");
    EXPECT_NE(r.json()->getValue<std::string>("sessionId"), agent);

    // active lookup
    r = h.request("GET", "/api/worktrees/feat-a/terminals/active?scope=claude");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()->getValue<std::string>("sessionId"), agent);
    r = h.request("GET", "/api/worktrees/feat-a/terminals/active?scope=codex");
    EXPECT_EQ(r.body, R"({"success":true,"sessionId":null})");
    r = h.request("GET", "/api/worktrees/feat-a/terminals/active");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()->getValue<std::string>("error"),
              "scope is required (\"terminal\", \"claude\", \"codex\", \"gemini\", or \"opencode\")");
    EXPECT_EQ(h.request("GET", "/api/worktrees/feat-a/terminals/active?scope=bash").status, 400);

    // an agent session whose process died is replaced, not reused
    ASSERT_EQ(h.request("POST", "/api/worktrees/feat-a/terminals", R"({"scope":"codex","startupCommand":"exit 0"})").status, 200);
    std::string dead = h.request("GET", "/api/worktrees/feat-a/terminals/active?scope=codex").json()->optValue<std::string>("sessionId", "");
    ASSERT_FALSE(dead.empty());
    ASSERT_TRUE(env.waitExited(dead, 15000));
    r = h.request("POST", "/api/worktrees/feat-a/terminals", R"({"scope":"codex","startupCommand":"exec sleep 100"})");
    EXPECT_FALSE(r.json()->getValue<bool>("reusedScopedSession"));
    EXPECT_NE(r.json()->getValue<std::string>("sessionId"), dead);
}

TEST(TerminalModule, WorktreeResolutionErrors) {
    Env env;
    auto& h = env.host;
    auto r = h.request("POST", "/api/worktrees/missing/terminals", "{}");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()->getValue<std::string>("error"), "Worktree not found");
    r = h.request("POST", "/api/worktrees/ambiguous/terminals", "{}");
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "WORKTREE_ID_AMBIGUOUS");
    EXPECT_EQ(r.json()->getValue<std::string>("error"), "Worktree \"ambiguous\" is ambiguous. Matches: a, b");
    r = h.request("GET", "/api/worktrees/ambiguous/terminals/active?scope=claude");
    EXPECT_EQ(r.status, 409);
    r = h.request("POST", "/api/worktrees/feat-a/terminals", R"({"scope":"bash"})");
    EXPECT_EQ(r.status, 400);
    r = h.request("POST", "/api/worktrees/feat-a/terminals", R"({"cols":0})");
    EXPECT_EQ(r.status, 400);
    r = h.request("POST", "/api/worktrees/feat-a/terminals", R"({"startupCommand":42})");
    EXPECT_EQ(r.status, 400);
    r = h.request("POST", "/api/worktrees/feat-a/terminals", "[1]");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(h.request("GET", "/api/terminals").json()->getArray("sessions")->size(), 0u);
}

TEST(TerminalModule, WorktreeRoutesWithoutTheWorktreesModule) {
    Env env(false);
    auto r = env.host.request("POST", "/api/worktrees/feat-a/terminals", "{}");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json()->getValue<std::string>("code"), "WORKTREE_NOT_FOUND");
    EXPECT_EQ(r.json()->getValue<bool>("success"), false);
}

TEST(TerminalModule, WorktreeRemovingHookKillsItsSessions) {
    Env env;
    auto& h = env.host;
    std::string a1 = h.request("POST", "/api/worktrees/feat-a/terminals", "{}").json()->getValue<std::string>("sessionId");
    std::string a2 = h.request("POST", "/api/worktrees/feat-a/terminals", R"({"scope":"claude"})").json()->getValue<std::string>("sessionId");
    std::string b1 = h.request("POST", "/api/worktrees/feat-b/terminals", "{}").json()->getValue<std::string>("sessionId");
    auto pidA1 = env.info(a1)->getValue<int64_t>("pid");
    auto r = h.request("DELETE", "/api/worktrees/feat-a");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()->getValue<int64_t>("closedTerminals"), 3);  // 1 before + 2 of ours
    EXPECT_EQ(r.json()->getValue<std::string>("worktreeId"), "feat-a");
    EXPECT_EQ(env.info(a1)->getValue<std::string>("status"), "exited");
    EXPECT_EQ(env.info(a2)->getValue<std::string>("status"), "exited");
    EXPECT_EQ(env.info(b1)->getValue<std::string>("status"), "running");
    EXPECT_TRUE(waitGone(static_cast<pid_t>(pidA1), 5000));
    EXPECT_EQ(h.request("GET", "/api/worktrees/feat-a/terminals/active?scope=claude").body, R"({"success":true,"sessionId":null})");
}

TEST(TerminalModule, WebSocketProtocolEchoRestoreExit) {
    Env env;
    auto& h = env.host;
    std::string id = env.spawn("echo before-attach; stty -echo; read x; echo got-$x; exit 3");
    EXPECT_TRUE(waitUntil([&] { return h.request("GET", "/api/pty/" + id + "/output").body.find("before-attach") != std::string::npos; }, 5000));
    auto* ws = env.ws.open("/api/terminals/" + id + "/ws");
    ASSERT_NE(ws, nullptr);
    EXPECT_FALSE(ws->closed);
    // The loop thread takes the restore snapshot after on_open returned; input sent before
    // that can have its output end up in the snapshot instead of in a binary frame.
    ASSERT_TRUE(env.ws.waitSent(ws, 1));
    env.ws.message(ws, R"({"type":"resize","cols":50,"rows":10})");
    EXPECT_TRUE(waitUntil([&] { return env.info(id)->getValue<int>("cols") == 50; }, 2000));
    env.ws.message(ws, "hello\r");
    ASSERT_TRUE(env.waitExited(id));
    // The exit frame and the close follow the exit record; after the close the frames are stable.
    ASSERT_TRUE(env.ws.waitClosed(ws));
    ASSERT_GE(ws->sent.size(), 2u);
    EXPECT_FALSE(ws->sent.front().second);
    auto restore = atelier::parseObject(ws->sent.front().first);
    ASSERT_TRUE(restore);
    EXPECT_EQ(restore->getValue<std::string>("type"), "restore");
    EXPECT_NE(restore->getValue<std::string>("payload").find("before-attach"), std::string::npos);
    EXPECT_NE(textOf(ws->sent, true).find("got-hello"), std::string::npos);
    EXPECT_EQ(ws->sent.back().first, R"({"type":"exit","exitCode":3})");
    EXPECT_TRUE(ws->closed);
    EXPECT_EQ(ws->closeCode, 1000);
    EXPECT_EQ(env.info(id)->getValue<int>("exitCode"), 3);
    env.ws.clientClose(ws);
    bool exited = false;
    for (auto& e : h.events())
        if (e.type == "terminal.exited" && e.payload.find("\"exitCode\":3") != std::string::npos) exited = true;
    EXPECT_TRUE(exited);
}

TEST(TerminalModule, WebSocketRefusals) {
    Env env(true, R"({"maxInputFrameBytes":16,"killGraceMs":300})");
    auto* ws = env.ws.open("/api/terminals/term-999/ws");
    ASSERT_NE(ws, nullptr);
    EXPECT_TRUE(ws->closed);
    EXPECT_EQ(ws->closeCode, 1008);
    EXPECT_EQ(ws->closeReason, "session-not-found");
    ws = env.ws.open("/api/pty/term-999/stream");
    EXPECT_EQ(ws->closeCode, 1008);
    std::string id = env.spawn("exec cat");
    ws = env.ws.open("/api/pty/" + id + "/stream");
    ASSERT_FALSE(ws->closed);
    ASSERT_TRUE(env.ws.waitSent(ws, 1)) << "the restore frame";  // before the test thread touches the socket
    env.ws.message(ws, std::string(17, 'x'));
    EXPECT_TRUE(ws->closed);
    EXPECT_EQ(ws->closeCode, 1009);
    env.ws.clientClose(ws);
}

TEST(TerminalModule, AbbadoRunSessionsThroughTheHook) {
    Env env;
    auto& h = env.host;
    auto* none = env.ws.open("/api/terminal?run_id=unknown-run");
    ASSERT_NE(none, nullptr);
    EXPECT_EQ(none->closeCode, 4404);
    EXPECT_EQ(none->closeReason, "run not found");
    auto* a = env.ws.open("/api/terminal?run_id=run-1&cols=100&rows=20");
    ASSERT_FALSE(a->closed) << a->closeReason;
    auto sessions = h.request("GET", "/api/terminals").json()->getArray("sessions");
    ASSERT_EQ(sessions->size(), 1u);
    auto s = sessions->getObject(0);
    std::string id = s->getValue<std::string>("id");
    EXPECT_EQ(s->getValue<std::string>("runId"), "run-1");
    EXPECT_EQ(s->getValue<int>("cols"), 100);
    EXPECT_EQ(s->getValue<std::string>("cwd"), env.root.path);
    ASSERT_TRUE(env.ws.waitSent(a, 1)) << "the restore frame";
    // closing the socket keeps the run's PTY; a second socket attaches to the same one
    env.ws.clientClose(a);
    auto* b = env.ws.open("/api/terminal?run_id=run-1");
    ASSERT_FALSE(b->closed);
    sessions = h.request("GET", "/api/terminals").json()->getArray("sessions");
    ASSERT_EQ(sessions->size(), 1u);
    EXPECT_EQ(sessions->getObject(0)->getValue<std::string>("id"), id);
    EXPECT_TRUE(waitUntil([&] { return h.request("GET", "/api/pty/" + id + "/output").body.find("run-session-started") != std::string::npos; }, 5000));
    EXPECT_NE(h.request("GET", "/api/pty/" + id + "/output").body.find("run-session-started env:run-1"), std::string::npos);
    env.ws.message(b, "typed-into-run\r");
    EXPECT_TRUE(waitUntil([&] { return h.request("GET", "/api/pty/" + id + "/output").json()->getValue<std::string>("data").find("typed-into-run\r\ntyped-into-run") != std::string::npos; }, 5000))
        << h.request("GET", "/api/pty/" + id + "/output").body;
    env.ws.clientClose(b);
}

TEST(TerminalModule, AbbadoEphemeralTerminalEndsWithTheSocket) {
    Env env;
    auto& h = env.host;
    auto* refused = env.ws.open("/api/terminal?cli=cat", {{"Origin", "http://evil.example"}});
    EXPECT_EQ(refused->closeCode, 1008);
    EXPECT_EQ(refused->closeReason, "origin-not-allowed");
    auto* bad = env.ws.open("/api/terminal?cwd=/no/such/dir&cli=cat");
    EXPECT_EQ(bad->closeCode, 4400);
    bad = env.ws.open("/api/terminal?cli=rm%20-rf");
    EXPECT_EQ(bad->closeCode, 4400);
    bad = env.ws.open("/api/terminal?cli=cat&cols=0");
    EXPECT_EQ(bad->closeCode, 4400);
    auto* ws = env.ws.open("/api/terminal?cli=cat&cwd=" + env.root.path);
    ASSERT_FALSE(ws->closed) << ws->closeReason;
    auto sessions = h.request("GET", "/api/terminals").json()->getArray("sessions");
    ASSERT_EQ(sessions->size(), 1u);
    auto s = sessions->getObject(0);
    std::string id = s->getValue<std::string>("id");
    EXPECT_EQ(s->getValue<std::string>("kind"), "ephemeral");
    EXPECT_EQ(s->getValue<int>("cols"), 120);
    EXPECT_EQ(s->getValue<int>("rows"), 30);
    auto pid = s->getValue<int64_t>("pid");
    ASSERT_TRUE(env.ws.waitSent(ws, 1)) << "the restore frame";
    env.ws.clientClose(ws);
    EXPECT_EQ(env.info(id)->getValue<std::string>("status"), "exited");
    EXPECT_TRUE(waitGone(static_cast<pid_t>(pid), 5000));
}
