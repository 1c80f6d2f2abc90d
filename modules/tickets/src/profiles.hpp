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

class Profiles {
public:
    explicit Profiles(const Store& store) : s_(store) {}

    JsonArray list(const ProfileQuery& q) const;
    JsonObject get(const std::string& id) const;
    JsonObject create(const JsonObject& body) const;
    JsonObject update(const std::string& id, const JsonObject& body) const;
    void remove(const std::string& id) const;

    JsonArray settings(const std::string& profileId) const;
    JsonObject setting(const std::string& profileId, const std::string& key) const;
    JsonObject putSetting(const JsonObject& body) const;
    void deleteSetting(const std::string& profileId, const std::string& key) const;

private:
    const Store& s_;
};

}  // namespace tickets
