// Milestones per project, with open/closed/total ticket counts.
#pragma once

#include "common.hpp"

namespace tickets {

class Milestones {
public:
    explicit Milestones(const Store& store) : s_(store) {}

    JsonArray list(const std::string& projectId, const std::optional<std::string>& status) const;
    JsonObject get(int64_t id) const;
    JsonObject create(const std::string& projectId, const JsonObject& body) const;
    JsonObject update(int64_t id, const JsonObject& body) const;
    void remove(int64_t id) const;

private:
    Row requireRow(int64_t id) const;
    const Store& s_;
};

// YYYY-MM-DD, optionally followed by a time (ISO 8601).
bool validIsoDate(const std::string& s);

}  // namespace tickets
