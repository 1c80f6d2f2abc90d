#include "stream_json.hpp"

namespace agents {

using atelier::makeObject;

namespace {

JsonObject parseLine(const std::string& line) {
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] != '{') return nullptr;
    return atelier::parseObject(line);
}

std::string contentText(const Poco::Dynamic::Var& content) {
    if (content.isString()) return content.extract<std::string>();
    if (!isArray(content)) return {};
    std::string out;
    auto a = content.extract<JsonArray>();
    for (size_t i = 0; i < a->size(); ++i) {
        if (!isObject(a->get(i))) continue;
        auto part = a->getObject(static_cast<unsigned>(i));
        if (str(part, "type") == "text") out += str(part, "text");
    }
    return out;
}

}  // namespace

CliUpdate parseClaudeStreamLine(const std::string& line) {
    CliUpdate u;
    auto o = parseLine(line);
    if (!o) return u;
    u.parsed = true;
    std::string type = str(o, "type");
    std::string sid = str(o, "session_id");
    if (type == "system" && str(o, "subtype") == "init") {
        auto p = makeObject();
        p->set("session_id", sid);
        std::string version = str(o, "claude_code_version", str(o, "version"));
        p->set("cli_version", version);
        p->set("model", str(o, "model"));
        if (auto tools = arr(o, "tools")) p->set("tools", tools);
        if (!sid.empty()) u.sessionId = sid;
        if (!version.empty()) u.cliVersion = version;
        u.events.emplace_back("session.init", p);
    } else if (type == "stream_event") {
        auto ev = obj(o, "event");
        auto delta = obj(ev, "delta");
        if (str(ev, "type") == "content_block_delta" && str(delta, "type") == "text_delta") {
            auto p = makeObject();
            p->set("text", str(delta, "text"));
            u.events.emplace_back("agent.token", p);
        }
    } else if (type == "assistant") {
        auto msg = obj(o, "message");
        auto content = arr(msg, "content");
        std::string text;
        for (size_t i = 0; content && i < content->size(); ++i) {
            if (!isObject(content->get(i))) continue;
            auto part = content->getObject(static_cast<unsigned>(i));
            std::string pt = str(part, "type");
            if (pt == "text") {
                text += str(part, "text");
            } else if (pt == "tool_use") {
                auto p = makeObject();
                p->set("tool_name", str(part, "name"));
                p->set("tool_use_id", str(part, "id"));
                auto input = obj(part, "input");
                p->set("input", input ? input : makeObject());
                p->set("source", "stream");
                u.events.emplace_back("agent.tool_call", p);
            }
        }
        if (!text.empty()) {
            auto p = makeObject();
            p->set("text", text);
            p->set("role", "assistant");
            if (msg && msg->has("model")) p->set("model", str(msg, "model"));
            if (!str(o, "parent_tool_use_id").empty()) p->set("parent_tool_use_id", str(o, "parent_tool_use_id"));
            u.events.insert(u.events.begin(), {"agent.message", p});
        }
    } else if (type == "user") {
        auto msg = obj(o, "message");
        auto content = arr(msg, "content");
        for (size_t i = 0; content && i < content->size(); ++i) {
            if (!isObject(content->get(i))) continue;
            auto part = content->getObject(static_cast<unsigned>(i));
            if (str(part, "type") != "tool_result") continue;
            auto p = makeObject();
            p->set("tool_use_id", str(part, "tool_use_id"));
            p->set("output", contentText(part->get("content")));
            p->set("is_error", part->optValue<bool>("is_error", false));
            p->set("source", "stream");
            u.events.emplace_back("agent.tool_result", p);
        }
    } else if (type == "result") {
        CliResult r;
        auto usage = obj(o, "usage");
        r.tokensIn = num(usage, "input_tokens") + num(usage, "cache_creation_input_tokens") + num(usage, "cache_read_input_tokens");
        r.tokensOut = num(usage, "output_tokens");
        r.costUsd = real(o, "total_cost_usd", real(o, "cost_usd"));
        r.subtype = str(o, "subtype");
        r.isError = o->optValue<bool>("is_error", false) || (!r.subtype.empty() && r.subtype != "success");
        r.text = str(o, "result");
        if (r.isError && r.text.empty()) {
            if (auto errs = arr(o, "errors"); errs && errs->size() > 0) r.text = errs->get(0).toString();
            else r.text = r.subtype;
        }
        auto p = makeObject();
        p->set("tokens_in", r.tokensIn);
        p->set("tokens_out", r.tokensOut);
        p->set("cost_usd", r.costUsd);
        p->set("session_id", sid);
        p->set("is_error", r.isError);
        p->set("subtype", r.subtype);
        p->set("num_turns", num(o, "num_turns"));
        p->set("duration_ms", num(o, "duration_ms"));
        p->set("result", r.text);
        if (!sid.empty()) u.sessionId = sid;
        u.result = r;
        u.events.emplace_back("run.result", p);
    }
    return u;
}

CliUpdate parseCodexLine(const std::string& line) {
    CliUpdate u;
    auto o = parseLine(line);
    if (!o) return u;
    u.parsed = true;
    std::string method = str(o, "method");
    auto params = obj(o, "params");
    if (!params) params = makeObject();
    if (o->has("id") && !method.empty()) {  // a server → client request (approvals)
        u.requestId = o->get("id").toString();
        u.requestIdValue = o->get("id");
        u.requestMethod = method;
        u.requestParams = params;
        auto p = makeObject();
        p->set("reason", "permission_prompt");
        p->set("method", method);
        p->set("params", params);
        u.events.emplace_back("agent.needs_attention", p);
        return u;
    }
    if (o->has("id") && o->has("result")) {  // responses to our requests
        auto res = obj(o, "result");
        auto thread = obj(res, "thread");
        if (thread && !str(thread, "id").empty()) u.sessionId = str(thread, "id");
        if (res && !str(res, "userAgent").empty()) u.cliVersion = str(res, "userAgent");
        return u;
    }
    // A rejected request (e.g. thread/resume of an unknown thread): no turn will follow.
    if (o->has("id") && o->has("error")) {
        CliResult r;
        r.isError = true;
        r.subtype = "error";
        r.text = "codex: " + str(obj(o, "error"), "message", "request failed");
        u.result = r;
        return u;
    }
    if (method == "thread/started") {
        auto thread = obj(params, "thread");
        std::string id = str(thread, "id");
        auto p = makeObject();
        p->set("session_id", id);
        if (!id.empty()) u.sessionId = id;
        u.events.emplace_back("session.init", p);
    } else if (method == "item/agentMessage/delta") {
        auto p = makeObject();
        p->set("text", str(params, "delta"));
        u.events.emplace_back("agent.token", p);
    } else if (method == "item/started" || method == "item/completed") {
        auto item = obj(params, "item");
        std::string t = str(item, "type");
        bool done = method == "item/completed";
        if (t == "agentMessage" && done) {
            auto p = makeObject();
            p->set("text", str(item, "text"));
            p->set("role", "assistant");
            u.events.emplace_back("agent.message", p);
        } else if (t == "commandExecution" || t == "fileChange" || t == "mcpToolCall") {
            auto p = makeObject();
            p->set("tool_name", t == "commandExecution" ? "Bash" : t == "fileChange" ? "Edit" : str(item, "tool", t));
            p->set("tool_use_id", str(item, "id"));
            if (done) {
                p->set("output", str(item, "aggregatedOutput"));
                p->set("is_error", str(item, "status") == "failed");
            } else {
                auto input = makeObject();
                if (t == "commandExecution") input->set("command", item->get("command"));
                if (t == "fileChange") input->set("changes", item->get("changes"));
                p->set("input", input);
            }
            p->set("source", "stream");
            u.events.emplace_back(done ? "agent.tool_result" : "agent.tool_call", p);
        }
    } else if (method == "thread/tokenUsage/updated") {
        auto usage = obj(obj(params, "tokenUsage"), "total");
        CliResult r;
        r.tokensIn = num(usage, "inputTokens");
        r.tokensOut = num(usage, "outputTokens");
        r.subtype = "usage";
        u.result = r;
    } else if (method == "turn/completed") {
        auto turn = obj(params, "turn");
        CliResult r;
        r.subtype = str(turn, "status", "completed");
        r.isError = r.subtype == "failed";
        r.text = str(obj(turn, "error"), "message");
        u.result = r;
        auto p = makeObject();
        p->set("status", r.subtype);
        u.events.emplace_back("run.result", p);
    } else if (method == "error" && !params->optValue<bool>("willRetry", false)) {  // a retried error is not the end
        CliResult r;
        r.isError = true;
        r.subtype = "error";
        r.text = str(obj(params, "error"), "message", "codex error");
        u.result = r;
    }
    return u;
}

CliUpdate parseGeminiLine(const std::string& line) {
    CliUpdate u;
    auto o = parseLine(line);
    if (!o) return u;
    u.parsed = true;
    std::string type = str(o, "type");
    if (type == "init") {
        auto p = makeObject();
        p->set("session_id", str(o, "session_id"));
        p->set("model", str(o, "model"));
        if (!str(o, "session_id").empty()) u.sessionId = str(o, "session_id");
        u.events.emplace_back("session.init", p);
    } else if (type == "message" && str(o, "role") == "assistant") {
        auto p = makeObject();
        p->set("text", str(o, "content"));
        u.events.emplace_back(o->optValue<bool>("delta", false) ? "agent.token" : "agent.message", p);
    } else if (type == "tool_use") {
        auto p = makeObject();
        p->set("tool_name", str(o, "tool_name"));
        p->set("tool_use_id", str(o, "tool_id"));
        auto params = obj(o, "parameters");
        p->set("input", params ? params : makeObject());
        p->set("source", "stream");
        u.events.emplace_back("agent.tool_call", p);
    } else if (type == "tool_result") {
        auto p = makeObject();
        p->set("tool_use_id", str(o, "tool_id"));
        p->set("output", str(o, "output"));
        p->set("is_error", str(o, "status") == "error");
        p->set("source", "stream");
        u.events.emplace_back("agent.tool_result", p);
    } else if (type == "result") {
        auto stats = obj(o, "stats");
        CliResult r;
        r.tokensIn = num(stats, "input_tokens");
        r.tokensOut = num(stats, "output_tokens");
        r.subtype = str(o, "status", "success");
        r.isError = r.subtype != "success";
        r.text = str(obj(o, "error"), "message");
        u.result = r;
        auto p = makeObject();
        p->set("tokens_in", r.tokensIn);
        p->set("tokens_out", r.tokensOut);
        p->set("cost_usd", 0.0);
        p->set("is_error", r.isError);
        u.events.emplace_back("run.result", p);
    }
    return u;
}

CliUpdate parseOpencodeLine(const std::string& line) {
    CliUpdate u;
    auto o = parseLine(line);
    if (!o) return u;
    u.parsed = true;
    std::string type = str(o, "type");
    auto part = obj(o, "part");
    std::string sid = str(o, "sessionID", str(part, "sessionID"));
    if (!sid.empty()) u.sessionId = sid;
    if (type == "text") {
        auto p = makeObject();
        p->set("text", str(part, "text"));
        p->set("role", "assistant");
        u.events.emplace_back("agent.message", p);
    } else if (type == "tool_use") {
        auto state = obj(part, "state");
        auto call = makeObject();
        call->set("tool_name", str(part, "tool"));
        call->set("tool_use_id", str(part, "callID", str(part, "id")));
        auto input = obj(state, "input");
        call->set("input", input ? input : makeObject());
        call->set("source", "stream");
        u.events.emplace_back("agent.tool_call", call);
        if (state && (str(state, "status") == "completed" || str(state, "status") == "error")) {
            auto res = makeObject();
            res->set("tool_use_id", str(part, "callID", str(part, "id")));
            res->set("output", str(state, "output", str(state, "error")));
            res->set("is_error", str(state, "status") == "error");
            res->set("source", "stream");
            u.events.emplace_back("agent.tool_result", res);
        }
    } else if (type == "step_finish") {
        auto tokens = obj(part, "tokens");
        CliResult r;
        // As for Claude, cached input counts as input.
        r.tokensIn = num(tokens, "input") + num(obj(tokens, "cache"), "read") + num(obj(tokens, "cache"), "write");
        r.tokensOut = num(tokens, "output");
        r.costUsd = real(part, "cost");
        r.subtype = "step";
        u.result = r;
    } else if (type == "error") {
        CliResult r;
        r.isError = true;
        r.subtype = "error";
        // opencode writes session errors as {name, data: {message}}.
        auto err = obj(o, "error");
        r.text = str(obj(err, "data"), "message", str(err, "message", str(err, "name", "opencode error")));
        u.result = r;
    }
    return u;
}

void joinAssistantDeltas(std::vector<std::pair<std::string, JsonObject>>& events, std::string& pending, bool flush) {
    std::vector<std::pair<std::string, JsonObject>> out;
    auto put = [&] {
        if (pending.empty()) return;
        auto p = makeObject();
        p->set("text", pending);
        p->set("role", "assistant");
        out.emplace_back("agent.message", p);
        pending.clear();
    };
    for (auto& ev : events) {
        if (ev.first == "agent.token")
            pending += str(ev.second, "text");
        else
            put();
        out.push_back(std::move(ev));
    }
    if (flush) put();
    events = std::move(out);
}

CliUpdate parseCliLine(const std::string& backend, const std::string& line) {
    if (backend == "codex") return parseCodexLine(line);
    if (backend == "gemini") return parseGeminiLine(line);
    if (backend == "opencode") return parseOpencodeLine(line);
    return parseClaudeStreamLine(line);
}

}  // namespace agents
