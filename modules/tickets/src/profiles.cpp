#include "profiles.hpp"

#include <algorithm>

namespace tickets {

namespace {

bool validId(const std::string& id) {
    if (id.empty() || id.size() > 128) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
    });
}

JsonObject settingJson(const Row& r) {
    auto o = atelier::makeObject();
    o->set("id", r.var("id"));
    o->set("profile_id", r.var("profile_id"));
    o->set("setting_key", r.var("setting_key"));
    o->set("setting_value", r.var("setting_value"));
    o->set("created_at", r.var("created_at"));
    o->set("updated_at", r.var("updated_at"));
    return o;
}

const std::optional<std::string>& checkedEmail(const std::optional<std::string>& e) {
    if (e && (e->find('@') == std::string::npos || e->find(' ') != std::string::npos)) throw validation("email", "must be an email address");
    return e;
}

}  // namespace

JsonArray Profiles::list(const ProfileQuery& q) const {
    if (q.type && *q.type != "user" && *q.type != "agent") throw validation("type", "must be user or agent");
    std::string sql = "SELECT * FROM tickets_profiles WHERE 1 = 1";
    std::vector<Param> ps;
    if (q.type) sql += " AND type = ?", ps.emplace_back(*q.type);
    if (q.hasAgent) sql += *q.hasAgent ? " AND type = 'agent'" : " AND type <> 'agent'";
    if (q.isActive) sql += " AND is_active = ?", ps.emplace_back(*q.isActive ? 1 : 0);
    if (q.search && !q.search->empty()) {
        sql += " AND (instr(lower(name), lower(?)) > 0 OR instr(lower(coalesce(email, '')), lower(?)) > 0)";
        ps.emplace_back(*q.search);
        ps.emplace_back(*q.search);
    }
    sql += " ORDER BY name COLLATE NOCASE, id LIMIT ? OFFSET ?";
    ps.emplace_back(std::clamp<int64_t>(q.limit, 1, 100));
    ps.emplace_back(std::max<int64_t>(q.offset, 0));
    auto arr = atelier::makeArray();
    for (auto& r : s_.db.query(sql, ps)) arr->add(profileJson(r));
    return arr;
}

JsonObject Profiles::get(const std::string& id) const {
    auto p = findProfile(s_.db, id);
    if (!p) throw notFound("Profile " + id + " not found", "PROFILE_NOT_FOUND");
    return p;
}

JsonObject Profiles::create(const NewProfile& req) const {
    const auto& type = req.type;
    if (type != "user" && type != "agent") throw validation("type", "must be user or agent");
    const auto& name = req.name;
    const auto& id = req.id;
    if (id && !validId(*id)) throw validation("id", "must be 1-128 letters, digits, '-', '_', '.' or ':'");
    const auto& email = checkedEmail(req.email);
    const auto& description = req.description;
    const auto& avatar = req.avatarUrl;
    const auto& extSource = req.externalSource;
    const auto& extId = req.externalId;
    const auto& pluginId = req.pluginId;
    std::string newId = id.value_or(atelier::newUuid());
    s_.db.transaction([&](const Db& tx) {
        if (profileExists(tx, newId)) throw conflict("Profile " + newId + " already exists", "PROFILE_EXISTS");
        if (email && tx.one("SELECT 1 AS x FROM tickets_profiles WHERE email = ?", {*email}))
            throw conflict("A profile with this email already exists", "EMAIL_EXISTS");
        auto now = nowIso();
        tx.exec("INSERT INTO tickets_profiles (id, type, name, slug, email, description, avatar_url, external_source, external_id,"
                " plugin_id, is_active, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,1,?,?)",
                {newId, type, name, atelier::slugify(name), email, description, avatar, extSource, extId, pluginId, now, now});
    });
    return get(newId);
}

JsonObject Profiles::update(const std::string& id, const ProfileUpdate& req) const {
    get(id);
    std::vector<std::string> sets;
    std::vector<Param> ps;
    if (req.name) {
        sets.push_back("name = ?"), ps.emplace_back(*req.name);
        sets.push_back("slug = ?"), ps.emplace_back(atelier::slugify(*req.name));
    }
    auto setOpt = [&](const char* column, const Nullable& given, const std::optional<std::string>& value) {
        if (!given.present) return;
        sets.push_back(std::string(column) + " = ?");
        ps.emplace_back(value);
    };
    if (req.emailP.present) {
        const auto& email = checkedEmail(req.email);
        if (email && s_.db.one("SELECT 1 AS x FROM tickets_profiles WHERE email = ? AND id <> ?", {*email, id}))
            throw conflict("A profile with this email already exists", "EMAIL_EXISTS");
        sets.push_back("email = ?"), ps.emplace_back(email);
    }
    setOpt("description", req.descriptionP, req.description);
    setOpt("avatar_url", req.avatarUrlP, req.avatarUrl);
    if (req.isActive) sets.push_back("is_active = ?"), ps.emplace_back(*req.isActive ? 1 : 0);
    if (sets.empty()) throw validation("body", "must contain at least one field to update");
    std::string sql = "UPDATE tickets_profiles SET ";
    for (auto& s : sets) sql += s + ", ";
    sql += "updated_at = ? WHERE id = ?";
    ps.emplace_back(nowIso());
    ps.emplace_back(id);
    s_.db.exec(sql, ps);
    return get(id);
}

void Profiles::remove(const std::string& id) const {
    get(id);
    s_.db.exec("UPDATE tickets_profiles SET is_active = 0, updated_at = ? WHERE id = ?", {nowIso(), id});
}

JsonArray Profiles::settings(const std::string& profileId) const {
    get(profileId);
    auto arr = atelier::makeArray();
    for (auto& r : s_.db.query("SELECT * FROM tickets_profile_settings WHERE profile_id = ? ORDER BY setting_key", {profileId}))
        arr->add(settingJson(r));
    return arr;
}

JsonObject Profiles::setting(const std::string& profileId, const std::string& key) const {
    get(profileId);
    auto r = s_.db.one("SELECT * FROM tickets_profile_settings WHERE profile_id = ? AND setting_key = ?", {profileId, key});
    if (!r) throw notFound("Setting " + key + " not found", "SETTING_NOT_FOUND");
    return settingJson(*r);
}

JsonObject Profiles::putSetting(const ProfileSetting& req) const {
    const auto& profileId = req.profileId;
    const auto& key = req.key;
    const auto& value = req.value;
    if (value && value->size() > 100000) throw validation("setting_value", "must be at most 100000 characters");
    if (!profileExists(s_.db, profileId)) throw notFound("Profile " + profileId + " not found", "PROFILE_NOT_FOUND");
    auto now = nowIso();
    s_.db.exec("INSERT INTO tickets_profile_settings (profile_id, setting_key, setting_value, created_at, updated_at)"
               " VALUES (?,?,?,?,?) ON CONFLICT(profile_id, setting_key) DO UPDATE SET setting_value = excluded.setting_value,"
               " updated_at = excluded.updated_at",
               {profileId, key, value, now, now});
    return setting(profileId, key);
}

void Profiles::deleteSetting(const std::string& profileId, const std::string& key) const {
    get(profileId);
    auto r = s_.db.exec("DELETE FROM tickets_profile_settings WHERE profile_id = ? AND setting_key = ?", {profileId, key});
    if (r.changes == 0) throw notFound("Setting " + key + " not found", "SETTING_NOT_FOUND");
}

}  // namespace tickets
