#include "kombuse_events.hpp"

#include <atelier/util.hpp>

#include <algorithm>

namespace atelier::events {

namespace {
bool digits(const std::string& v) {
    return !v.empty() && v.size() <= 18 && v.find_first_not_of("0123456789") == std::string::npos;
}

// A payload field that is a string or an integer, as text.
std::string idField(const JsonObject& p, const char* key) {
    if (!p || !p->has(key) || p->isNull(key)) return {};
    auto v = p->get(key);
    return v.isString() || v.isInteger() ? v.toString() : std::string();
}
}  // namespace

KombuseFields kombuseFields(const Event& e, JsonObject* payloadOut) {
    KombuseFields k;
    if (e.subject.rfind("ticket/", 0) == 0) k.ticketId = e.subject.substr(7);
    JsonObject p;
    // Cheap pre-check: most events carry none of these keys.
    if (e.payload.size() > 2 && e.payload[0] == '{') p = parseObject(e.payload);
    if (p) {
        if (k.ticketId.empty()) k.ticketId = idField(p, "ticket_id");
        k.commentId = idField(p, "comment_id");
        k.sessionId = idField(p, "kombuse_session_id");
        std::string n = idField(p, "ticket_number");
        if (digits(n)) k.ticketNumber = std::stoll(n);
    }
    if (payloadOut) *payloadOut = p;
    return k;
}

std::string kombuseEventJson(const Event& e) {
    JsonObject payload;
    auto k = kombuseFields(e, &payload);
    auto o = makeObject();
    auto nullable = [&](const char* key, const std::string& v) {
        if (v.empty())
            o->set(key, Poco::Dynamic::Var());
        else
            o->set(key, v);
    };
    // Kombuse ids of tickets and comments are integers: emit digit strings as numbers.
    auto idValue = [&](const char* key, const std::string& v) {
        if (v.empty())
            o->set(key, Poco::Dynamic::Var());
        else if (digits(v))
            o->set(key, std::stoll(v));
        else
            o->set(key, v);
    };
    o->set("id", e.id);
    o->set("event_type", e.type);
    nullable("project_id", e.projectId);
    idValue("ticket_id", k.ticketId);
    if (k.ticketNumber)
        o->set("ticket_number", k.ticketNumber);
    else
        o->set("ticket_number", Poco::Dynamic::Var());
    idValue("comment_id", k.commentId);
    nullable("actor_id", e.actorId);
    o->set("actor_type", e.actorType.empty() ? std::string("system") : e.actorType);
    nullable("kombuse_session_id", k.sessionId);
    if (!payload) payload = parseObject(e.payload.empty() ? "{}" : e.payload);  // "{}" skipped kombuseFields' parse
    if (payload)
        o->set("payload", payload);
    else if (auto arr = parseArray(e.payload.empty() ? "{}" : e.payload))
        o->set("payload", arr);
    else if (e.payload.empty())
        o->set("payload", makeObject());
    else
        o->set("payload", e.payload);
    o->set("created_at", e.createdAt);
    return atelier::toJson(o);
}

std::vector<std::string> eventTopics(const Event& e) {
    std::vector<std::string> t;
    JsonObject p;
    auto k = kombuseFields(e, &p);
    if (!k.ticketId.empty()) t.push_back("ticket:" + k.ticketId);
    if (!e.projectId.empty() && k.ticketNumber > 0)
        t.push_back("ticket:" + e.projectId + ":" + std::to_string(k.ticketNumber));
    if (!e.projectId.empty()) t.push_back("project:" + e.projectId);
    if (!k.commentId.empty()) t.push_back("comment:" + k.commentId);
    if (!k.sessionId.empty()) t.push_back("session:" + k.sessionId);
    if (p) {
        static const std::pair<const char*, const char*> keys[] = {{"runId", "run"},
                                                                   {"run_id", "run"},
                                                                   {"sessionId", "session"},
                                                                   {"session_id", "session"},
                                                                   {"kombuseSessionId", "session"},
                                                                   {"worktreeId", "worktree"},
                                                                   {"agentId", "agent"},
                                                                   {"agent_id", "agent"},
                                                                   {"terminalId", "terminal"},
                                                                   {"connectionId", "connection"}};
        for (auto& [key, resource] : keys) {
            std::string v = idField(p, key);
            if (v.empty()) continue;
            std::string topic = std::string(resource) + ":" + v;
            if (std::find(t.begin(), t.end(), topic) == t.end()) t.push_back(topic);
        }
    }
    return t;
}

}  // namespace atelier::events
