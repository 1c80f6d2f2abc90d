#include "store.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <atelier/util.hpp>

namespace atelier::mcp {

std::string Store::sha256Hex(const std::string& s) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(s);
    return Poco::DigestEngine::digestToHex(engine.digest());
}

JsonObject Store::projectEnv(const std::string& projectId, const std::string& serverId) const {
    auto row = db_.one(sql::kEnvGet, {projectId, serverId});
    if (!row) return makeObject();
    auto o = parseObject(row->text("env"));
    return o ? o : makeObject();
}

void Store::setProjectEnv(const std::string& projectId, const std::string& serverId, const JsonObject& env) const {
    if (env->size() == 0)
        db_.exec(sql::kEnvDelete, {projectId, serverId});
    else
        db_.exec(sql::kEnvUpsert, {projectId, serverId, toJson(env), nowIso()});
}

JsonObject Store::createToken(const std::string& name, const std::vector<std::string>& scopes) const {
    std::string token = "mcp_" + randomHex(40);
    std::string id = newUuid();
    JsonArray sc = makeArray();
    for (auto& s : scopes) sc->add(s);
    std::string now = nowIso();
    db_.exec(sql::kTokenInsert, {id, name, sha256Hex(token), token.substr(0, 10), toJson(sc), now});
    JsonObject o = makeObject();
    o->set("id", id);
    o->set("name", name);
    o->set("scopes", sc);
    o->set("token", token);
    o->set("prefix", token.substr(0, 10));
    o->set("created_at", now);
    return o;
}

JsonArray Store::listTokens() const {
    JsonArray out = makeArray();
    for (auto& r : db_.query(sql::kTokenList)) {
        JsonObject o = makeObject();
        o->set("id", r.text("id"));
        o->set("name", r.text("name"));
        o->set("prefix", r.text("prefix"));
        auto sc = parseArray(r.text("scopes"));
        o->set("scopes", sc ? sc : makeArray());
        o->set("created_at", r.text("created_at"));
        o->set("last_used_at", r.var("last_used_at"));
        o->set("revoked_at", r.var("revoked_at"));
        o->set("active", r.isNull("revoked_at"));
        out->add(o);
    }
    return out;
}

bool Store::revokeToken(const std::string& id) const { return db_.exec(sql::kTokenRevoke, {nowIso(), id}).changes > 0; }

std::optional<TokenGrant> Store::checkToken(const std::string& token) const {
    auto row = db_.one(sql::kTokenByHash, {sha256Hex(token)});
    if (!row) return std::nullopt;
    TokenGrant g;
    g.id = row->text("id");
    if (auto sc = parseArray(row->text("scopes")))
        for (size_t i = 0; i < sc->size(); ++i) g.scopes.push_back(sc->get(static_cast<unsigned>(i)).toString());
    db_.exec(sql::kTokenTouch, {nowIso(), g.id});
    return g;
}

std::string Store::setting(const std::string& key, const std::string& fallback) const {
    auto row = db_.one(sql::kSettingGet, {key});
    return row ? row->text("value") : fallback;
}

void Store::setSetting(const std::string& key, const std::string& value) const {
    db_.exec(sql::kSettingUpsert, {key, value});
}

}  // namespace atelier::mcp
