#include "protocol.hpp"

#include <algorithm>
#include <atelier/util.hpp>

namespace atelier::mcp {

namespace {

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr size_t kMaxSessions = 10000;

std::string typeName(const Poco::Dynamic::Var& v) {
    if (v.isEmpty()) return "null";
    if (v.type() == typeid(JsonObject)) return "object";
    if (v.type() == typeid(JsonArray)) return "array";
    if (v.isBoolean()) return "boolean";
    if (v.isInteger()) return "integer";
    if (v.isNumeric()) return "number";
    if (v.isString()) return "string";
    return "unknown";
}

bool matchesType(const Poco::Dynamic::Var& v, const std::string& type) {
    std::string t = typeName(v);
    if (type == "number") return t == "integer" || t == "number";
    return t == type;
}

std::string checkValue(const std::string& field, const Poco::Dynamic::Var& v, const JsonObject& schema) {
    if (!schema) return {};
    if (schema->has("type")) {
        auto tv = schema->get("type");
        bool ok = false;
        if (tv.isString())
            ok = matchesType(v, tv.toString());
        else if (tv.type() == typeid(JsonArray)) {
            auto a = tv.extract<JsonArray>();
            for (size_t i = 0; i < a->size(); ++i)
                ok = ok || matchesType(v, a->get(static_cast<unsigned>(i)).toString());
        }
        if (!ok) return field + " must be " + (tv.isString() ? tv.toString() : std::string("of the allowed types"));
    }
    if (schema->has("enum") && !v.isEmpty()) {
        auto e = schema->getArray("enum");
        bool ok = false;
        for (size_t i = 0; i < e->size(); ++i) ok = ok || e->get(static_cast<unsigned>(i)).toString() == v.toString();
        if (!ok) return field + " must be one of " + toJson(e);
    }
    if (v.isNumeric() && !v.isBoolean()) {
        double d = v.convert<double>();
        if (schema->has("minimum") && d < schema->getValue<double>("minimum"))
            return field + " must be at least " + schema->get("minimum").toString();
        if (schema->has("maximum") && d > schema->getValue<double>("maximum"))
            return field + " must be at most " + schema->get("maximum").toString();
    }
    if (v.isString() && schema->has("maxLength") &&
        v.extract<std::string>().size() > schema->getValue<size_t>("maxLength"))
        return field + " must be at most " + schema->get("maxLength").toString() + " characters";
    if (v.type() == typeid(JsonArray) && schema->has("items")) {
        auto a = v.extract<JsonArray>();
        for (size_t i = 0; i < a->size(); ++i) {
            auto p = checkValue(field + "[" + std::to_string(i) + "]", a->get(static_cast<unsigned>(i)),
                                schema->getObject("items"));
            if (!p.empty()) return p;
        }
    }
    return {};
}

}  // namespace

JsonObject rpcError(const Poco::Dynamic::Var& id, int code, const std::string& message) {
    JsonObject e = makeObject();
    e->set("code", code);
    e->set("message", message);
    JsonObject o = makeObject();
    o->set("jsonrpc", "2.0");
    o->set("id", id);
    o->set("error", e);
    return o;
}

std::string validateArgs(const JsonObject& schema, const JsonObject& args) {
    auto props = schema->getObject("properties");
    if (auto req = schema->getArray("required")) {
        for (size_t i = 0; i < req->size(); ++i) {
            auto k = req->get(static_cast<unsigned>(i)).toString();
            if (!args->has(k) || args->isNull(k)) return k + " is required";
        }
    }
    for (auto& k : args->getNames()) {
        if (!props || !props->has(k)) {
            if (schema->has("additionalProperties") && !schema->getValue<bool>("additionalProperties"))
                return "unknown argument " + k;
            continue;
        }
        auto v = args->get(k);
        auto ps = props->getObject(k);
        if (v.isEmpty() && ps && ps->has("nullable")) continue;
        auto p = checkValue(k, v, ps);
        if (!p.empty()) return p;
    }
    return {};
}

const std::vector<std::string>& McpProtocol::supportedVersions() {
    static const std::vector<std::string> v{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
    return v;
}

const Tool* McpProtocol::findTool(const std::string& name) const {
    for (auto& t : tools_)
        if (t.name == name) return &t;
    return nullptr;
}

size_t McpProtocol::sessionCount() const {
    std::lock_guard lock(mu_);
    return sessionsById_.size();
}

JsonArray McpProtocol::listTools() const {
    JsonArray out = makeArray();
    for (auto& t : tools_) {
        JsonObject o = makeObject();
        o->set("name", t.name);
        o->set("description", t.description);
        o->set("inputSchema", t.inputSchema);
        JsonObject ann = makeObject();
        ann->set("readOnlyHint", !t.write);
        o->set("annotations", ann);
        out->add(o);
    }
    return out;
}

JsonObject McpProtocol::callTool(const std::string& name, const JsonObject& args, const Caller& caller) const {
    const Tool* tool = findTool(name);
    auto result = [](const std::string& text, bool isError) {
        JsonObject r = makeObject();
        JsonArray content = makeArray();
        JsonObject c = makeObject();
        c->set("type", "text");
        c->set("text", text);
        content->add(c);
        r->set("content", content);
        r->set("isError", isError);
        return r;
    };
    std::string problem = validateArgs(tool->inputSchema, args);
    if (!problem.empty()) return result("Invalid arguments for " + name + ": " + problem, true);
    try {
        auto v = tool->run(ToolCall{args, caller});
        return result(v.isString() ? v.extract<std::string>() : toJson(v), false);
    } catch (const ToolError& e) {
        return result(e.what(), true);
    } catch (const HttpError& e) {
        return result(e.what(), true);
    }
}

JsonObject McpProtocol::initialize(const Poco::Dynamic::Var& id, const JsonObject& params, std::string* newSession) {
    if (!params || !params->has("protocolVersion") || !params->get("protocolVersion").isString())
        return rpcError(id, kInvalidParams, "initialize needs params.protocolVersion");
    std::string requested = params->getValue<std::string>("protocolVersion");
    const auto& versions = supportedVersions();
    std::string version =
        std::find(versions.begin(), versions.end(), requested) != versions.end() ? requested : versions.front();
    if (sessions_ && newSession) {
        std::lock_guard lock(mu_);
        if (sessionsById_.size() >= kMaxSessions) {  // forget the longest idle one
            auto oldest = std::min_element(sessionsById_.begin(), sessionsById_.end(),
                                           [](auto& a, auto& b) { return a.second.lastSeen < b.second.lastSeen; });
            sessionsById_.erase(oldest);
        }
        *newSession = newUuid();
        sessionsById_[*newSession] = Session{version, std::chrono::steady_clock::now()};
    }
    JsonObject result = makeObject();
    result->set("protocolVersion", version);
    JsonObject caps = makeObject();
    JsonObject tools = makeObject();
    tools->set("listChanged", false);
    caps->set("tools", tools);
    result->set("capabilities", caps);
    JsonObject info = makeObject();
    info->set("name", "atelier");
    info->set("title", "Atelier");
    info->set("version", "0.1.0");
    result->set("serverInfo", info);
    result->set(
        "instructions",
        "Atelier: tickets, comments, projects, labels, agents, worktrees, dev servers, runs and the activity feed "
        "of this developer's workspace. Pass kombuse_session_id on writes to act as your agent.");
    JsonObject o = makeObject();
    o->set("jsonrpc", "2.0");
    o->set("id", id);
    o->set("result", result);
    return o;
}

JsonObject McpProtocol::dispatch(const JsonObject& msg, const McpRequestMeta& meta, std::string* newSession) {
    Poco::Dynamic::Var id = msg->has("id") ? msg->get("id") : Poco::Dynamic::Var();
    bool idOk = id.isEmpty() || id.isString() || (id.isInteger() && !id.isBoolean());
    if (!msg->has("jsonrpc") || msg->get("jsonrpc").toString() != "2.0" || !idOk)
        return rpcError(idOk ? id : Poco::Dynamic::Var(), kInvalidRequest,
                        "Invalid Request: not a JSON-RPC 2.0 message");
    if (!msg->has("method")) {
        if (msg->has("result") || msg->has("error")) return nullptr;  // a response to a request we never send: ignore
        return rpcError(id, kInvalidRequest, "Invalid Request: method is missing");
    }
    if (!msg->get("method").isString())
        return rpcError(id, kInvalidRequest, "Invalid Request: method must be a string");
    std::string method = msg->getValue<std::string>("method");
    bool notification = !msg->has("id");
    Poco::Dynamic::Var pv = msg->has("params") ? msg->get("params") : Poco::Dynamic::Var();
    if (!pv.isEmpty() && pv.type() != typeid(JsonObject) && pv.type() != typeid(JsonArray))
        return notification ? nullptr : rpcError(id, kInvalidRequest, "Invalid Request: params must be an object");
    JsonObject params = pv.type() == typeid(JsonObject) ? pv.extract<JsonObject>() : JsonObject();
    if (notification) return nullptr;  // notifications/initialized, notifications/cancelled, ...: nothing to answer

    auto ok = [&](const Poco::Dynamic::Var& result) {
        JsonObject o = makeObject();
        o->set("jsonrpc", "2.0");
        o->set("id", id);
        o->set("result", result);
        return o;
    };
    try {
        if (method == "initialize") return initialize(id, params, newSession);
        if (method == "ping") return ok(makeObject());
        if (method == "tools/list") {
            JsonObject r = makeObject();
            r->set("tools", listTools());
            return ok(r);
        }
        if (method == "tools/call") {
            if (!params || !params->has("name") || !params->get("name").isString())
                return rpcError(id, kInvalidParams, "tools/call needs params.name (string)");
            std::string name = params->getValue<std::string>("name");
            if (!findTool(name)) return rpcError(id, kInvalidParams, "Unknown tool: " + name);
            JsonObject args = makeObject();
            if (params->has("arguments") && !params->isNull("arguments")) {
                if (params->get("arguments").type() != typeid(JsonObject))
                    return rpcError(id, kInvalidParams, "tools/call params.arguments must be an object");
                args = params->getObject("arguments");
            }
            return ok(callTool(name, args, meta.caller));
        }
        return rpcError(id, kMethodNotFound, "Method not found: " + method);
    } catch (const std::exception& e) {
        return rpcError(id, kInternalError, std::string("Internal error: ") + e.what());
    }
}

HttpReply McpProtocol::post(std::string_view body, const McpRequestMeta& meta) {
    HttpReply reply;
    reply.headers.emplace_back("Content-Type", "application/json");
    auto fail = [&](int status, int code, const std::string& message) {
        reply.status = status;
        reply.body = toJson(rpcError(Poco::Dynamic::Var(), code, message));
        return reply;
    };
    if (!meta.contentType.empty() && meta.contentType.find("application/json") == std::string::npos)
        return fail(415, kInvalidRequest, "Content-Type must be application/json");
    if (!meta.protocolVersion.empty()) {
        const auto& v = supportedVersions();
        if (std::find(v.begin(), v.end(), meta.protocolVersion) == v.end())
            return fail(400, kInvalidRequest, "Unsupported MCP-Protocol-Version: " + meta.protocolVersion);
    }
    Poco::Dynamic::Var parsed;
    try {
        parsed = Poco::JSON::Parser().parse(std::string(body));
    } catch (...) {
        return fail(400, kParseError, "Parse error: the body is not valid JSON");
    }
    std::vector<JsonObject> messages;
    bool batch = parsed.type() == typeid(JsonArray);
    if (batch) {
        auto a = parsed.extract<JsonArray>();
        if (a->size() == 0) return fail(400, kInvalidRequest, "Invalid Request: empty batch");
        for (size_t i = 0; i < a->size(); ++i) {
            auto e = a->get(static_cast<unsigned>(i));
            messages.push_back(e.type() == typeid(JsonObject) ? e.extract<JsonObject>() : JsonObject());
        }
    } else if (parsed.type() == typeid(JsonObject)) {
        messages.push_back(parsed.extract<JsonObject>());
    } else {
        return fail(400, kInvalidRequest, "Invalid Request: expected a JSON-RPC object");
    }

    bool initializing = false;
    for (auto& m : messages)
        if (m && m->has("method") && m->get("method").toString() == "initialize") initializing = true;
    if (sessions_ && !meta.sessionId.empty() && !initializing) {
        std::lock_guard lock(mu_);
        auto it = sessionsById_.find(meta.sessionId);
        if (it == sessionsById_.end()) return fail(404, -32001, "Session not found");
        it->second.lastSeen = std::chrono::steady_clock::now();
    }

    std::string newSession;
    JsonArray responses = makeArray();
    bool invalidOnly = true;
    for (auto& m : messages) {
        JsonObject r = m ? dispatch(m, meta, &newSession)
                         : rpcError(Poco::Dynamic::Var(), kInvalidRequest, "Invalid Request: not an object");
        if (!r) {
            invalidOnly = false;
            continue;
        }
        if (!r->has("error") || r->getObject("error")->getValue<int>("code") != kInvalidRequest) invalidOnly = false;
        responses->add(r);
    }
    if (!newSession.empty()) reply.headers.emplace_back("Mcp-Session-Id", newSession);
    if (responses->size() == 0) {
        reply.status = 202;
        reply.headers.clear();
        return reply;
    }
    reply.status = !batch && invalidOnly ? 400 : 200;
    reply.body = batch ? toJson(responses) : toJson(responses->get(0));
    return reply;
}

HttpReply McpProtocol::terminate(const std::string& sessionId) {
    HttpReply reply;
    if (!sessions_) {
        reply.status = 405;
        return reply;
    }
    std::lock_guard lock(mu_);
    if (sessionId.empty() || !sessionsById_.erase(sessionId)) {
        reply.status = 404;
        reply.headers.emplace_back("Content-Type", "application/json");
        reply.body = toJson(rpcError(Poco::Dynamic::Var(), -32001, "Session not found"));
        return reply;
    }
    reply.status = 204;
    return reply;
}

}  // namespace atelier::mcp
