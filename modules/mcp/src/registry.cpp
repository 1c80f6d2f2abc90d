#include "registry.hpp"

#include <algorithm>
#include <atelier/util.hpp>

#include "config_file.hpp"
#include "jsonc_edit.hpp"

namespace atelier::mcp {

namespace {

HttpError invalid(const std::string& field, const std::string& message) {
    return badRequest(field + " " + message, "VALIDATION_ERROR", {{field, message}});
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool containsCi(const std::string& hay, const std::string& needle) {
    return lower(hay).find(needle) != std::string::npos;
}

JsonArray stringArray(const JsonObject& body, const std::string& field, size_t maxItems) {
    auto v = body->get(field);
    if (v.type() != typeid(JsonArray)) throw invalid(field, "must be an array of strings");
    auto a = v.extract<JsonArray>();
    if (a->size() > maxItems) throw invalid(field, "must have at most " + std::to_string(maxItems) + " items");
    JsonArray out = makeArray();
    for (size_t i = 0; i < a->size(); ++i) {
        auto e = a->get(static_cast<unsigned>(i));
        if (!e.isString()) throw invalid(field, "must be an array of strings");
        auto s = e.extract<std::string>();
        if (s.size() > 4096) throw invalid(field, "items must be at most 4096 characters");
        out->add(s);
    }
    return out;
}

JsonObject stringMap(const JsonObject& body, const std::string& field) {
    auto v = body->get(field);
    if (v.type() != typeid(JsonObject)) throw invalid(field, "must be an object of strings");
    auto o = v.extract<JsonObject>();
    if (o->size() > 200) throw invalid(field, "must have at most 200 entries");
    JsonObject out = makeObject();
    for (auto& k : o->getNames()) {
        auto e = o->get(k);
        if (!e.isString()) throw invalid(field + "." + k, "must be a string");
        if (k.empty() || k.size() > 256) throw invalid(field, "keys must be 1 to 256 characters");
        out->set(k, e.extract<std::string>());
    }
    return out;
}

std::string stringField(const JsonObject& body, const std::string& field, size_t max) {
    auto v = body->get(field);
    if (!v.isString()) throw invalid(field, "must be a string");
    auto s = v.extract<std::string>();
    if (s.size() > max) throw invalid(field, "must be at most " + std::to_string(max) + " characters");
    return s;
}

}  // namespace

std::string serverIdFromName(const std::string& name) {
    std::string out;
    for (unsigned char c : lower(name)) {
        if (std::isalnum(c))
            out.push_back(static_cast<char>(c));
        else if (!out.empty() && out.back() != '-')
            out.push_back('-');
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    if (out.size() > 60) out.resize(60);
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out;
}

JsonObject Registry::load() const {
    auto f = readConfig(path_);
    if (!f.exists) {
        JsonObject doc = makeObject();
        doc->set("version", 1);
        doc->set("servers", makeObject());
        return doc;
    }
    JsonObject doc;
    try {
        doc = jsonc::parseObject(f.text);
    } catch (const ConfigSyntaxError& e) {
        throw HttpError(500, "REGISTRY_CORRUPT", path_ + " is not valid JSON: " + e.what());
    }
    if (!doc->has("servers") || doc->get("servers").type() != typeid(JsonObject)) doc->set("servers", makeObject());
    return doc;
}

void Registry::save(const JsonObject& doc) const {
    // Server env may hold API keys: the registry is readable by its owner only.
    writeConfigAtomic(path_, jsonc::render(doc, "  ", 0) + "\n", 0600);
}

JsonObject Registry::validated(const JsonObject& body, const JsonObject& base, bool partial) {
    JsonObject s = base ? base : makeObject();
    if (!partial || atelier::has(body, "name")) {
        if (!atelier::has(body, "name")) throw invalid("name", "is required");
        auto name = stringField(body, "name", 200);
        if (name.find_first_not_of(" \t") == std::string::npos) throw invalid("name", "must not be empty");
        s->set("name", name);
    }
    if (body->has("description"))
        s->set("description", body->isNull("description") ? std::string() : stringField(body, "description", 4000));
    if (body->has("tags")) s->set("tags", body->isNull("tags") ? makeArray() : stringArray(body, "tags", 50));
    if (body->has("command")) {
        if (body->isNull("command"))
            s->remove("command");
        else
            s->set("command", stringField(body, "command", 4096));
    }
    if (body->has("args")) {
        if (body->isNull("args"))
            s->remove("args");
        else
            s->set("args", stringArray(body, "args", 200));
    }
    if (body->has("type")) {
        if (body->isNull("type"))
            s->remove("type");
        else {
            auto t = stringField(body, "type", 10);
            if (t != "http" && t != "sse" && t != "stdio") throw invalid("type", "must be http, sse or stdio");
            s->set("type", t);
        }
    }
    if (body->has("url")) {
        if (body->isNull("url"))
            s->remove("url");
        else {
            auto u = stringField(body, "url", 4096);
            if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
                throw invalid("url", "must be an http:// or https:// URL");
            s->set("url", u);
        }
    }
    if (body->has("env")) s->set("env", body->isNull("env") ? makeObject() : stringMap(body, "env"));
    if (body->has("headers")) s->set("headers", body->isNull("headers") ? makeObject() : stringMap(body, "headers"));
    if (body->has("source"))
        s->set("source", body->isNull("source") ? std::string() : stringField(body, "source", 4096));
    bool hasCommand = s->has("command") && !s->getValue<std::string>("command").empty();
    bool hasUrl = s->has("url");
    if (!hasCommand && !hasUrl)
        throw badRequest("Either command or url is required", "VALIDATION_ERROR",
                         {{"command", "either command or url is required"}});
    if (hasUrl && !s->has("type")) s->set("type", "http");
    if (!s->has("description")) s->set("description", "");
    if (!s->has("tags")) s->set("tags", makeArray());
    if (!s->has("env")) s->set("env", makeObject());
    return s;
}

JsonArray Registry::list(const std::optional<std::string>& q, const std::optional<std::string>& tag) const {
    std::lock_guard lock(mu_);
    auto servers = load()->getObject("servers");
    JsonArray out = makeArray();
    std::string needle = q ? lower(*q) : std::string();
    for (auto& id : servers->getNames()) {
        auto s = servers->getObject(id);
        if (!s) continue;
        if (!needle.empty()) {
            bool hit = containsCi(id, needle) || containsCi(s->optValue<std::string>("name", ""), needle) ||
                       containsCi(s->optValue<std::string>("description", ""), needle) ||
                       containsCi(s->optValue<std::string>("command", ""), needle) ||
                       containsCi(s->optValue<std::string>("url", ""), needle);
            if (!hit) continue;
        }
        if (tag && !tag->empty()) {
            bool hit = false;
            if (auto tags = s->getArray("tags"))
                for (size_t i = 0; i < tags->size(); ++i)
                    hit = hit || tags->get(static_cast<unsigned>(i)).toString() == *tag;
            if (!hit) continue;
        }
        out->add(s);
    }
    return out;
}

std::optional<JsonObject> Registry::find(const std::string& id) const {
    std::lock_guard lock(mu_);
    auto servers = load()->getObject("servers");
    if (!servers->has(id) || servers->get(id).type() != typeid(JsonObject)) return std::nullopt;
    return servers->getObject(id);
}

JsonObject Registry::get(const std::string& id) const {
    auto s = find(id);
    if (!s) throw notFound("Server not found", "SERVER_NOT_FOUND");
    return *s;
}

JsonObject Registry::create(const JsonObject& body) {
    std::string id;
    if (atelier::has(body, "id")) {
        id = stringField(body, "id", 60);
        if (id.empty() || serverIdFromName(id) != id)
            throw invalid("id", "must be lowercase letters, digits and dashes");
    }
    JsonObject s = validated(body, nullptr, false);
    if (id.empty()) id = serverIdFromName(s->getValue<std::string>("name"));
    if (id.empty()) throw invalid("name", "must contain a letter or digit to derive an id");
    std::lock_guard lock(mu_);
    auto doc = load();
    auto servers = doc->getObject("servers");
    if (servers->has(id)) throw conflict("Server \"" + id + "\" already exists", "SERVER_EXISTS");
    std::string now = nowIso();
    JsonObject out = makeObject();
    out->set("id", id);
    for (auto& k : s->getNames()) out->set(k, s->get(k));
    out->set("createdAt", now);
    out->set("updatedAt", now);
    servers->set(id, out);
    save(doc);
    return out;
}

JsonObject Registry::update(const std::string& id, const JsonObject& body) {
    if (body->has("id") && !(body->get("id").isString() && body->getValue<std::string>("id") == id))
        throw invalid("id", "cannot be changed");
    std::lock_guard lock(mu_);
    auto doc = load();
    auto servers = doc->getObject("servers");
    if (!servers->has(id)) throw notFound("Server not found", "SERVER_NOT_FOUND");
    JsonObject copy = makeObject();
    auto cur = servers->getObject(id);
    for (auto& k : cur->getNames()) copy->set(k, cur->get(k));
    auto s = validated(body, copy, true);
    s->set("updatedAt", nowIso());
    servers->set(id, s);
    save(doc);
    return s;
}

void Registry::remove(const std::string& id) {
    std::lock_guard lock(mu_);
    auto doc = load();
    auto servers = doc->getObject("servers");
    if (!servers->has(id)) throw notFound("Server not found", "SERVER_NOT_FOUND");
    servers->remove(id);
    save(doc);
}

JsonArray Registry::importMany(const JsonArray& items) {
    // Validate everything first: an import is all or nothing.
    std::vector<std::pair<std::string, JsonObject>> parsed;
    for (size_t i = 0; i < items->size(); ++i) {
        auto v = items->get(static_cast<unsigned>(i));
        std::string f = "servers[" + std::to_string(i) + "]";
        if (v.type() != typeid(JsonObject)) throw invalid(f, "must be an object");
        auto item = v.extract<JsonObject>();
        if (!atelier::has(item, "key") || !item->get("key").isString()) throw invalid(f + ".key", "is required");
        std::string id = serverIdFromName(item->getValue<std::string>("key"));
        if (id.empty()) throw invalid(f + ".key", "must contain a letter or digit");
        JsonObject body = makeObject();
        for (auto& k : item->getNames()) body->set(k, item->get(k));
        if (!atelier::has(body, "name")) body->set("name", item->getValue<std::string>("key"));
        JsonObject s;
        try {
            s = validated(body, nullptr, false);
        } catch (const HttpError& e) {
            std::vector<ErrorDetail> d;
            for (auto& x : e.details()) d.push_back({f + "." + x.field, x.message});
            throw badRequest(f + ": " + e.what(), "VALIDATION_ERROR", d);
        }
        parsed.emplace_back(id, s);
    }
    std::lock_guard lock(mu_);
    auto doc = load();
    auto servers = doc->getObject("servers");
    JsonArray imported = makeArray();
    std::string now = nowIso();
    for (auto& [id, s] : parsed) {
        if (servers->has(id)) continue;
        JsonObject out = makeObject();
        out->set("id", id);
        for (auto& k : s->getNames()) out->set(k, s->get(k));
        out->set("createdAt", now);
        out->set("updatedAt", now);
        servers->set(id, out);
        imported->add(id);
    }
    if (imported->size() > 0) save(doc);
    return imported;
}

}  // namespace atelier::mcp
