// Pure domain tests: stream-json parsing, hook interpretation, mock script parsing, tasks.
#include "hook_ingest.hpp"
#include "mock_script.hpp"
#include "run_engine.hpp"
#include "stream_json.hpp"

#include <gtest/gtest.h>

using namespace agents;

TEST(StreamJson, InitAssistantToolsAndResult) {
    auto init = parseClaudeStreamLine(
        R"({"type":"system","subtype":"init","session_id":"s-1","model":"claude-sonnet-4-6","claude_code_version":"2.0.14","tools":["Edit"]})");
    ASSERT_TRUE(init.parsed);
    ASSERT_EQ(init.events.size(), 1u);
    EXPECT_EQ(init.events[0].first, "session.init");
    EXPECT_EQ(*init.sessionId, "s-1");
    EXPECT_EQ(*init.cliVersion, "2.0.14");
    EXPECT_EQ(str(init.events[0].second, "model"), "claude-sonnet-4-6");

    auto asst = parseClaudeStreamLine(
        R"({"type":"assistant","session_id":"s-1","message":{"content":[{"type":"text","text":"Editing now"},{"type":"tool_use","id":"tu_1","name":"Edit","input":{"file_path":"a.txt"}}]}})");
    ASSERT_EQ(asst.events.size(), 2u);
    EXPECT_EQ(asst.events[0].first, "agent.message");
    EXPECT_EQ(str(asst.events[0].second, "text"), "Editing now");
    EXPECT_EQ(asst.events[1].first, "agent.tool_call");
    EXPECT_EQ(str(asst.events[1].second, "tool_name"), "Edit");
    EXPECT_EQ(str(asst.events[1].second, "tool_use_id"), "tu_1");
    EXPECT_EQ(str(obj(asst.events[1].second, "input"), "file_path"), "a.txt");

    auto user = parseClaudeStreamLine(
        R"({"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"tu_1","content":[{"type":"text","text":"done"}],"is_error":false}]}})");
    ASSERT_EQ(user.events.size(), 1u);
    EXPECT_EQ(user.events[0].first, "agent.tool_result");
    EXPECT_EQ(str(user.events[0].second, "output"), "done");

    auto tok = parseClaudeStreamLine(
        R"({"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"Hel"}}})");
    ASSERT_EQ(tok.events.size(), 1u);
    EXPECT_EQ(tok.events[0].first, "agent.token");
    EXPECT_EQ(str(tok.events[0].second, "text"), "Hel");

    auto res = parseClaudeStreamLine(
        R"({"type":"result","subtype":"success","is_error":false,"result":"All done","session_id":"s-1","total_cost_usd":0.0421,"num_turns":3,"usage":{"input_tokens":1200,"cache_read_input_tokens":300,"output_tokens":450}})");
    ASSERT_TRUE(res.result);
    EXPECT_EQ(res.result->tokensIn, 1500);
    EXPECT_EQ(res.result->tokensOut, 450);
    EXPECT_DOUBLE_EQ(res.result->costUsd, 0.0421);
    EXPECT_FALSE(res.result->isError);
    EXPECT_EQ(res.events.back().first, "run.result");
    EXPECT_EQ(num(res.events.back().second, "tokens_in"), 1500);

    auto err = parseClaudeStreamLine(R"({"type":"result","subtype":"error_max_turns","is_error":true,"session_id":"s"})");
    ASSERT_TRUE(err.result);
    EXPECT_TRUE(err.result->isError);
    EXPECT_EQ(err.result->text, "error_max_turns");
}

TEST(StreamJson, NonJsonAndOtherCliFormats) {
    EXPECT_FALSE(parseClaudeStreamLine("plain text output").parsed);
    EXPECT_FALSE(parseClaudeStreamLine("{not json").parsed);
    EXPECT_TRUE(parseClaudeStreamLine(R"({"type":"unknown"})").events.empty());

    auto g = parseGeminiLine(R"({"type":"result","status":"success","stats":{"input_tokens":10,"output_tokens":5}})");
    ASSERT_TRUE(g.result);
    EXPECT_EQ(g.result->tokensIn, 10);
    auto o = parseOpencodeLine(R"({"type":"step_finish","sessionID":"ses_1","part":{"tokens":{"input":7,"output":3},"cost":0.01}})");
    ASSERT_TRUE(o.result);
    EXPECT_EQ(*o.sessionId, "ses_1");
    EXPECT_DOUBLE_EQ(o.result->costUsd, 0.01);
    auto c = parseCodexLine(R"({"method":"thread/started","params":{"thread":{"id":"th_1"}}})");
    EXPECT_EQ(*c.sessionId, "th_1");
    auto appr = parseCodexLine(R"({"id":7,"method":"item/commandExecution/requestApproval","params":{"command":"ls"}})");
    ASSERT_TRUE(appr.requestId);
    EXPECT_EQ(*appr.requestId, "7");
    EXPECT_TRUE(appr.requestIdValue.isInteger()) << "answered with the same JSON type";
    EXPECT_EQ(appr.events[0].first, "agent.needs_attention");
}

TEST(StreamJson, CodexErrorsAndOpencodeDetails) {
    auto retried =
        parseCodexLine(R"({"method":"error","params":{"error":{"message":"reconnecting"},"willRetry":true}})");
    EXPECT_FALSE(retried.result) << "codex retries: the turn goes on";
    auto fatal = parseCodexLine(R"({"method":"error","params":{"error":{"message":"quota"},"willRetry":false}})");
    ASSERT_TRUE(fatal.result);
    EXPECT_EQ(fatal.result->text, "quota");
    auto rejected = parseCodexLine(R"({"id":2,"error":{"code":-32600,"message":"no rollout found"}})");
    ASSERT_TRUE(rejected.result);
    EXPECT_TRUE(rejected.result->isError);
    EXPECT_EQ(rejected.result->text, "codex: no rollout found");

    auto step = parseOpencodeLine(
        R"({"type":"step_finish","sessionID":"ses_1","part":{"tokens":{"input":7,"output":3,"cache":{"read":5,"write":1}},"cost":0.01}})");
    ASSERT_TRUE(step.result);
    EXPECT_EQ(step.result->tokensIn, 13);
    auto err = parseOpencodeLine(
        R"({"type":"error","sessionID":"ses_1","error":{"name":"APIError","data":{"message":"bad key"}}})");
    ASSERT_TRUE(err.result);
    EXPECT_EQ(err.result->text, "bad key");
}

TEST(StreamJson, GeminiDeltasJoinIntoMessages) {
    std::string pending;
    std::vector<std::pair<std::string, JsonObject>> events;
    for (auto chunk : {"Hello", " world"}) {
        auto u = parseGeminiLine(std::string(R"({"type":"message","role":"assistant","delta":true,"content":")") +
                                 chunk + "\"}");
        joinAssistantDeltas(u.events, pending, false);
        events.insert(events.end(), u.events.begin(), u.events.end());
    }
    auto tool = parseGeminiLine(R"({"type":"tool_use","tool_name":"write_file","tool_id":"t1","parameters":{}})");
    joinAssistantDeltas(tool.events, pending, false);
    ASSERT_EQ(tool.events.size(), 2u);
    EXPECT_EQ(tool.events[0].first, "agent.message");
    EXPECT_EQ(str(tool.events[0].second, "text"), "Hello world");
    EXPECT_EQ(tool.events[1].first, "agent.tool_call");
    EXPECT_EQ(events.size(), 2u) << "chunks stay tokens";
    std::vector<std::pair<std::string, JsonObject>> none;
    joinAssistantDeltas(none, pending, true);
    EXPECT_TRUE(none.empty());
}

TEST(HookIngest, MapsEventsAndStatus) {
    auto pre = interpretHook(atelier::parseObject(
        R"({"hook_event_name":"PreToolUse","session_id":"s","tool_name":"Edit","tool_use_id":"tu","tool_input":{"file_path":"x"}})"));
    ASSERT_EQ(pre.events.size(), 1u);
    EXPECT_EQ(pre.events[0].first, "agent.tool_call");
    EXPECT_EQ(*pre.sessionId, "s");
    auto post = interpretHook(atelier::parseObject(R"({"event_name":"PostToolUseFailure","tool_name":"Bash","error":"boom"})"));
    EXPECT_EQ(post.events[0].first, "agent.tool_result");
    EXPECT_TRUE(post.events[0].second->getValue<bool>("is_error"));
    EXPECT_EQ(*interpretHook(atelier::parseObject(R"({"hookEventName":"UserPromptSubmit","prompt":"hi"})")).status, "running");
    EXPECT_EQ(*interpretHook(atelier::parseObject(R"({"hook_event_name":"Stop"})")).status, "paused");
    auto fail = interpretHook(atelier::parseObject(R"({"hook_event_name":"StopFailure","error":"rate limited"})"));
    EXPECT_EQ(*fail.status, "failed");
    EXPECT_EQ(fail.reason, "rate limited");
    EXPECT_EQ(*interpretHook(atelier::parseObject(R"({"hook_event_name":"SessionEnd"})")).status, "completed");
    auto note = interpretHook(atelier::parseObject(R"({"hook_event_name":"Notification","notification_type":"idle_prompt","message":"waiting"})"));
    EXPECT_EQ(note.events[0].first, "agent.needs_attention");
    EXPECT_EQ(str(note.events[0].second, "reason"), "idle_prompt");
    EXPECT_EQ(interpretHook(atelier::parseObject(R"({"hook_event_name":"SubagentStart","agent_id":"a"})")).events[0].first,
              "agent.subagent_start");
    EXPECT_EQ(interpretHook(atelier::parseObject(R"({"hook_event_name":"BeforeTool","tool_name":"x"})")).events[0].first,
              "agent.tool_call");

    auto perm = interpretHook(atelier::parseObject(R"({"hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"rm"}})"));
    EXPECT_TRUE(perm.permissionRequest);
    auto reply = hookReply(perm, "deny", "not allowed");
    EXPECT_EQ(atelier::toJson(reply),
              R"({"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"deny","message":"not allowed"}}})");
    EXPECT_EQ(atelier::toJson(hookReply(pre, "", "")), "{}");

    try {
        interpretHook(atelier::parseObject(R"({"tool_name":"x"})"));
        FAIL() << "expected an invalid-input error";
    } catch (const agents::DomainError& e) {
        EXPECT_EQ(e.kind, agents::DomainError::Kind::Invalid);
        EXPECT_EQ(e.code, "VALIDATION_ERROR");
        EXPECT_EQ(e.details.at(0).field, "hook_event_name");
    }
}

TEST(MockScript, ParsesDirectivesAndRejectsBadOnes) {
    auto s = parseMockScript("Implement the thing\nemit: hello world\ntool: Edit file.txt\nwrite: dir/a.txt=line1\\nline2\n"
                             "sleep: 20\ntokens: in=100 out=20 cost=0.5\nfail: broke\nhang\nNote: just text");
    EXPECT_TRUE(s.errors.empty());
    ASSERT_EQ(s.steps.size(), 7u);
    EXPECT_EQ(s.steps[0].kind, MockStep::Kind::Emit);
    EXPECT_EQ(s.steps[0].text, "hello world");
    EXPECT_EQ(s.steps[1].kind, MockStep::Kind::Tool);
    EXPECT_EQ(s.steps[1].text, "Edit");
    EXPECT_EQ(s.steps[1].arg, "file.txt");
    EXPECT_EQ(s.steps[2].text, "dir/a.txt");
    EXPECT_EQ(s.steps[2].arg, "line1\nline2");
    EXPECT_EQ(s.steps[3].ms, 20);
    EXPECT_EQ(s.steps[4].tokensIn, 100);
    EXPECT_DOUBLE_EQ(s.steps[4].cost, 0.5);
    EXPECT_EQ(s.steps[5].text, "broke");
    EXPECT_EQ(s.steps[6].kind, MockStep::Kind::Hang);

    auto bad = parseMockScript("write: ../escape.txt=x\nsleep: soon\nwrite: nothing\ntokens: in=abc");
    EXPECT_EQ(bad.errors.size(), 4u);
    EXPECT_NE(bad.errors[0].find("line 1"), std::string::npos);
    EXPECT_FALSE(isSafeRelativePath("/etc/passwd"));
    EXPECT_FALSE(isSafeRelativePath(".git/config"));
    EXPECT_TRUE(isSafeRelativePath("src/x.cpp"));
}

TEST(RunTasks, RebuiltFromTaskEvents) {
    std::vector<RunEvent> evs;
    auto add = [&](const std::string& json) {
        RunEvent e;
        e.type = "agent.tool_call";
        e.payload = json;
        e.createdAt = "2026-01-01T00:00:00.000Z";
        evs.push_back(e);
    };
    add(R"({"tool_name":"TaskCreate","input":{"subject":"Write tests","activeForm":"Writing tests"}})");
    add(R"({"tool_name":"TaskCreate","input":{"subject":"Fix bug"}})");
    add(R"({"tool_name":"TaskUpdate","input":{"taskId":"1","status":"completed"}})");
    add(R"({"tool_name":"Edit","input":{"file_path":"x"}})");
    auto tasks = RunEngine::tasksFromEvents(evs);
    ASSERT_EQ(tasks->size(), 2u);
    EXPECT_EQ(str(tasks->getObject(0), "status"), "completed");
    EXPECT_EQ(str(tasks->getObject(0), "active_form"), "Writing tests");
    EXPECT_EQ(str(tasks->getObject(1), "subject"), "Fix bug");
    EXPECT_EQ(str(tasks->getObject(1), "status"), "pending");
}

// SSE frames are written from the stored payload text; they must carry exactly what the
// JSON object view carries, escaping included (payload keys keep their stored order).
TEST(RunEventText, MatchesTheObjectView) {
    RunEvent e;
    e.id = 42;
    e.runId = "run-\"1\"";
    e.sequence = 7;
    e.type = "agent.message";
    // Payloads are stored as the SDK prints them (append() writes them so).
    auto p = atelier::makeObject();
    p->set("text", "line\nnext \"quoted\" \xc3\xa9 \t");
    p->set("n", atelier::parseArray("[1,2]"));
    e.payload = atelier::toJson(p);
    e.createdAt = "2026-11-23T10:00:00.000Z";
    std::string text = e.toJsonText();
    EXPECT_EQ(text, R"({"id":42,"run_id":"run-\"1\"","sequence":7,"event_type":"agent.message","payload":)" + e.payload +
                        R"(,"created_at":"2026-11-23T10:00:00.000Z"})");
    auto back = atelier::parseObject(text);
    ASSERT_TRUE(back);
    auto view = e.toJson();
    for (auto key : {"id", "sequence"}) EXPECT_EQ(back->getValue<int64_t>(key), view->getValue<int64_t>(key)) << key;
    for (auto key : {"run_id", "event_type", "created_at"})
        EXPECT_EQ(back->getValue<std::string>(key), view->getValue<std::string>(key)) << key;
    EXPECT_EQ(back->getObject("payload")->getValue<std::string>("text"), "line\nnext \"quoted\" \xc3\xa9 \t");
    EXPECT_EQ(back->getObject("payload")->getArray("n")->size(), 2u);
    e.payload.clear();
    EXPECT_EQ(atelier::parseObject(e.toJsonText())->getObject("payload")->size(), 0u);
}
