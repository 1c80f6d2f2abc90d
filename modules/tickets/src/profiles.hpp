// Profiles (users and agents, soft delete) and per-profile settings. The local user
// `user-1` is created by the first migration.
#pragma once

#include "common.hpp"

namespace tickets {

struct ProfileQuery {
    std::optional<std::string> type, search;
    std::optional<bool> isActive, hasAgent;
    int64_t limit = 100, offset = 0;
};

struct NewProfile {
    std::string type;  // user | agent
    std::string name;
    std::optional<std::string> id, email, description, avatarUrl, externalSource, externalId, pluginId;
};
struct ProfileUpdate {
    std::optional<std::string> name;
    Nullable emailP, descriptionP, avatarUrlP;  // named, null included (null clears)
    std::optional<std::string> email, description, avatarUrl;
    std::optional<bool> isActive;
};
struct ProfileSetting {
    std::string profileId;
    std::string key;
    std::optional<std::string> value;  // null clears; JSON values are stored as their text
};

class Profiles {
public:
    explicit Profiles(const Store& store) : s_(store) {}

    JsonArray list(const ProfileQuery& q) const;
    JsonObject get(const std::string& id) const;
    JsonObject create(const NewProfile& req) const;
    JsonObject update(const std::string& id, const ProfileUpdate& req) const;
    void remove(const std::string& id) const;

    JsonArray settings(const std::string& profileId) const;
    JsonObject setting(const std::string& profileId, const std::string& key) const;
    JsonObject putSetting(const ProfileSetting& req) const;
    void deleteSetting(const std::string& profileId, const std::string& key) const;

private:
    const Store& s_;
};

}  // namespace tickets
