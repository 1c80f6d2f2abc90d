#include "hook_ingest.hpp"

namespace agents {

using atelier::makeObject;

HookEffect interpretHook(const JsonObject& p) {
    HookEffect e;
    for (auto key : {"hook_event_name", "event_name", "hookEventName"}) {
        if (p->has(key) && p->get(key).isString() && !p->getValue<std::string>(key).empty()) {
            e.eventName = p->getValue<std::string>(key);
            break;
        }
    }
    if (e.eventName.empty())
        throw invalidInput("hook_event_name is required", "VALIDATION_ERROR", {{"hook_event_name", "is required"}});
    if (!str(p, "session_id").empty()) e.sessionId = str(p, "session_id");
    // Gemini CLI names its tool hooks BeforeTool/AfterTool.
    if (e.eventName == "BeforeTool") e.eventName = "PreToolUse";
    if (e.eventName == "AfterTool") e.eventName = "PostToolUse";
    const std::string& n = e.eventName;
    auto toolPayload = [&](bool withResult) {
        auto o = makeObject();
        o->set("tool_name", str(p, "tool_name"));
        o->set("tool_use_id", str(p, "tool_use_id"));
        auto input = obj(p, "tool_input");
        o->set("input", input ? input : makeObject());
        if (withResult) {
            Poco::Dynamic::Var resp = p->has("tool_response") ? p->get("tool_response") : Poco::Dynamic::Var();
            if (resp.isEmpty() && p->has("error")) resp = p->get("error");
            o->set("output", resp);
            o->set("is_error", n == "PostToolUseFailure");
        }
        o->set("source", "hook");
        return o;
    };
    if (n == "UserPromptSubmit") {
        e.status = "running";
        auto o = makeObject();
        o->set("prompt", str(p, "prompt"));
        o->set("source", "hook");
        e.events.emplace_back("user.message", o);
    } else if (n == "PreToolUse") {
        e.tool = str(p, "tool_name");
        e.toolUseId = str(p, "tool_use_id");
        e.events.emplace_back("agent.tool_call", toolPayload(false));
    } else if (n == "PostToolUse" || n == "PostToolUseFailure") {
        e.tool = str(p, "tool_name");
        e.toolUseId = str(p, "tool_use_id");
        e.events.emplace_back("agent.tool_result", toolPayload(true));
    } else if (n == "Notification") {
        auto o = makeObject();
        o->set("reason", str(p, "notification_type", "notification"));
        o->set("message", str(p, "message"));
        e.events.emplace_back("agent.needs_attention", o);
    } else if (n == "PermissionRequest") {
        e.permissionRequest = true;
        e.tool = str(p, "tool_name");
        e.toolInput = obj(p, "tool_input");
        if (!e.toolInput) e.toolInput = makeObject();
        auto o = makeObject();
        o->set("reason", "permission_prompt");
        o->set("tool_name", e.tool);
        o->set("input", e.toolInput);
        e.events.emplace_back("agent.needs_attention", o);
    } else if (n == "SubagentStart" || n == "SubagentStop") {
        auto o = makeObject();
        o->set("agent_id", str(p, "agent_id"));
        o->set("agent_type", str(p, "agent_type"));
        e.events.emplace_back(n == "SubagentStart" ? "agent.subagent_start" : "agent.subagent_stop", o);
    } else if (n == "Stop") {
        e.status = "paused";
    } else if (n == "StopFailure") {
        e.status = "failed";
        e.reason = str(p, "error", str(p, "reason", "the CLI reported a failure"));
    } else if (n == "SessionEnd") {
        e.status = "completed";
    } else if (n == "SessionStart") {
        auto o = makeObject();
        o->set("session_id", str(p, "session_id"));
        o->set("source", str(p, "source", "hook"));
        e.events.emplace_back("session.init", o);
    }
    return e;
}

JsonObject hookReply(const HookEffect& effect, const std::string& decision, const std::string& message) {
    auto r = makeObject();
    if (effect.permissionRequest && !decision.empty()) {
        auto spec = makeObject();
        spec->set("hookEventName", "PermissionRequest");
        auto d = makeObject();
        d->set("behavior", decision);
        if (decision == "deny" && !message.empty()) d->set("message", message);
        spec->set("decision", d);
        r->set("hookSpecificOutput", spec);
    }
    return r;
}

}  // namespace agents
