#include "common.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>

namespace tickets {

int64_t nextSeq() {
    static std::atomic<int64_t> last{0};
    int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    int64_t prev = last.load();
    int64_t next;
    do {
        next = std::max(now, prev + 1);
    } while (!last.compare_exchange_weak(prev, next));
    return next;
}

std::string isoFromSeq(int64_t seq) { return atelier::isoFromMillis(seq / 1000); }

void Store::emit(const std::vector<PendingEvent>& events) const {
    if (events.empty()) return;
    std::vector<int64_t> ids;
    ids.reserve(events.size());
    for (const auto& p : events) {
        int64_t id = 0;
        try {
            if (publish) id = publish(p.event);
        } catch (...) {
            id = 0;  // the bus refused; the activity log still records it locally
        }
        ids.push_back(id);
    }
    // The project and the time are not stored: readers take them from the ticket and the seq.
    db.transaction([&](const Db& tx) {
        for (size_t i = 0; i < events.size(); ++i) {
            const auto& e = events[i].event;
            // The Kombuse fields travel in the payload (see atelier_event).
            auto p = e.payloadJson();
            auto num = [&](const char* k) {
                return p->has(k) && p->get(k).isInteger() ? Param(p->getValue<int64_t>(k)) : Param(nullptr);
            };
            Param commentId = num("comment_id"), ticketNumber = num("ticket_number");
            Param sessionId = p->has("kombuse_session_id") && p->get("kombuse_session_id").isString()
                                  ? Param(p->getValue<std::string>("kombuse_session_id"))
                                  : Param(nullptr);
            for (int64_t ticketId : events[i].ticketIds) {
                tx.exec(
                    "INSERT INTO tickets_activity (event_id, ticket_id, event_type, comment_id, actor_id,"
                    " actor_type, kombuse_session_id, ticket_number, payload, seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    {ids[i] == 0 ? Param(nullptr) : Param(ids[i]), ticketId, e.type, commentId,
                     e.actorId.empty() ? Param(nullptr) : Param(e.actorId), e.actorType, sessionId, ticketNumber,
                     e.payload, events[i].seq});
            }
        }
    });
}

DomainError validation(const std::string& field, const std::string& message) {
    return DomainError(DomainError::Kind::Invalid, "VALIDATION_ERROR", field + " " + message, {{field, message}});
}
DomainError notFound(const std::string& message, const std::string& code) {
    return DomainError(DomainError::Kind::NotFound, code, message);
}
DomainError conflict(const std::string& message, const std::string& code) {
    return DomainError(DomainError::Kind::Conflict, code, message);
}
DomainError unprocessable(const std::string& message, const std::string& code) {
    return DomainError(DomainError::Kind::Refused, code, message);
}

Nullable presence(const JsonObject& o, const std::string& key) {
    Nullable n;
    if (!o || !o->has(key)) return n;
    n.present = true;
    n.null = o->isNull(key);
    return n;
}

std::optional<int64_t> intField(const JsonObject& o, const std::string& key) {
    if (!atelier::has(o, key)) return std::nullopt;
    auto v = o->get(key);
    if (v.isBoolean() || !v.isNumeric()) throw validation(key, "must be an integer");
    try {
        if (!v.isInteger()) {
            double d = v.convert<double>();
            if (!(d >= -9.0e15 && d <= 9.0e15) || d != static_cast<double>(static_cast<int64_t>(d)))
                throw validation(key, "must be an integer");
            return static_cast<int64_t>(d);
        }
        return v.convert<int64_t>();
    } catch (const DomainError&) {
        throw;
    } catch (...) {
        throw validation(key, "is out of range");
    }
}

std::string stringField(const JsonObject& o, const std::string& key, size_t maxLen) {
    if (!atelier::has(o, key)) throw validation(key, "is required");
    auto v = o->get(key);
    if (!v.isString()) throw validation(key, "must be a string");
    auto s = v.extract<std::string>();
    bool blank = s.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank) throw validation(key, "must not be empty");
    if (s.size() > maxLen) throw validation(key, "must be at most " + std::to_string(maxLen) + " characters");
    return s;
}

std::optional<std::string> optStringField(const JsonObject& o, const std::string& key, size_t maxLen) {
    if (!atelier::has(o, key)) return std::nullopt;
    auto v = o->get(key);
    if (!v.isString()) throw validation(key, "must be a string");
    auto s = v.extract<std::string>();
    if (s.size() > maxLen) throw validation(key, "must be at most " + std::to_string(maxLen) + " characters");
    return s;
}

std::optional<bool> boolField(const JsonObject& o, const std::string& key) {
    if (!atelier::has(o, key)) return std::nullopt;
    auto v = o->get(key);
    if (!v.isBoolean()) throw validation(key, "must be a boolean");
    return v.extract<bool>();
}

std::vector<int64_t> intArrayField(const JsonObject& o, const std::string& key) {
    std::vector<int64_t> out;
    if (!atelier::has(o, key)) return out;
    auto arr = o->getArray(key);
    if (!arr) throw validation(key, "must be an array of integers");
    for (size_t i = 0; i < arr->size(); ++i) {
        auto v = arr->get(i);
        if (v.isBoolean() || !v.isInteger()) throw validation(key, "must be an array of integers");
        try {
            out.push_back(v.convert<int64_t>());
        } catch (...) {
            throw validation(key, "is out of range");
        }
        if (out.size() > 100) throw validation(key, "must hold at most 100 ids");
    }
    return out;
}

std::vector<std::string> stringArrayField(const JsonObject& o, const std::string& key) {
    std::vector<std::string> out;
    if (!atelier::has(o, key)) return out;
    auto arr = o->getArray(key);
    if (!arr) throw validation(key, "must be an array of strings");
    for (size_t i = 0; i < arr->size(); ++i) {
        auto v = arr->get(i);
        if (!v.isString()) throw validation(key, "must be an array of strings");
        out.push_back(v.extract<std::string>());
        if (out.size() > 100) throw validation(key, "must hold at most 100 entries");
    }
    return out;
}

std::optional<bool> parseBool(const std::optional<std::string>& v, const std::string& name) {
    if (!v || v->empty()) return std::nullopt;
    if (*v == "true" || *v == "1") return true;
    if (*v == "false" || *v == "0") return false;
    throw validation(name, "must be true or false");
}

std::optional<int64_t> parseInt(const std::optional<std::string>& v, const std::string& name) {
    if (!v || v->empty()) return std::nullopt;
    try {
        size_t used = 0;
        long long n = std::stoll(*v, &used);
        if (used != v->size()) throw std::invalid_argument("trailing");
        return n;
    } catch (...) {
        throw validation(name, "must be an integer");
    }
}

std::string placeholders(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
    return s;
}

Var boolVar(const Row& r, std::string_view col) {
    if (r.isNull(col)) return Var();
    return Var(r.integer(col) != 0);
}

std::string nowIso() { return atelier::nowIso(); }

std::string isoPlusMinutes(int64_t minutes, const std::string& from) {
    int64_t base = atelier::nowMillis();
    if (!from.empty()) {
        std::tm tm{};
        int ms = 0;
        if (std::sscanf(from.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                        &tm.tm_min, &tm.tm_sec, &ms) >= 6) {
            tm.tm_year -= 1900;
            tm.tm_mon -= 1;
            int64_t parsed = static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
            if (parsed > base) base = parsed;
        }
    }
    return atelier::isoFromMillis(base + minutes * 60000);
}

std::string actorType(const Db& db, const std::string& actorId) {
    if (actorId.empty()) return "system";
    auto row = db.one("SELECT type FROM tickets_profiles WHERE id = ?", {actorId});
    return row ? row->text("type") : "system";
}

JsonObject profileJson(const Row& r) {
    auto o = atelier::makeObject();
    o->set("id", r.var("id"));
    o->set("type", r.var("type"));
    o->set("name", r.var("name"));
    o->set("slug", r.var("slug"));
    o->set("email", r.var("email"));
    o->set("description", r.var("description"));
    o->set("avatar_url", r.var("avatar_url"));
    o->set("external_source", r.var("external_source"));
    o->set("external_id", r.var("external_id"));
    o->set("plugin_id", r.var("plugin_id"));
    o->set("is_active", boolVar(r, "is_active"));
    o->set("created_at", r.var("created_at"));
    o->set("updated_at", r.var("updated_at"));
    return o;
}

JsonObject findProfile(const Db& db, const std::string& id) {
    if (id.empty()) return nullptr;
    auto row = db.one("SELECT * FROM tickets_profiles WHERE id = ?", {id});
    return row ? profileJson(*row) : nullptr;
}

bool profileExists(const Db& db, const std::string& id) {
    return db.one("SELECT 1 AS x FROM tickets_profiles WHERE id = ?", {id}).has_value();
}

atelier::Event makeEvent(const std::string& type, const std::string& projectId, int64_t ticketId, int64_t ticketNumber,
                         const std::string& actorId, const std::string& actorTypeName, const JsonObject& payload) {
    atelier::Event e;
    e.type = type;
    e.projectId = projectId;
    if (ticketId > 0) e.subject = "ticket/" + std::to_string(ticketId);
    e.actorId = actorId;
    e.actorType = actorTypeName.empty() ? "system" : actorTypeName;
    e.payload = payload ? atelier::toJson(payload) : "{}";
    if (ticketNumber > 0) e.set("ticket_number", ticketNumber);
    return e;
}

}  // namespace tickets
