// Milestones per project, with open/closed/total ticket counts.
#pragma once

#include "common.hpp"

namespace tickets {

struct NewMilestone {
    std::string title;
    std::optional<std::string> description, dueDate;  // dueDate: ISO 8601 date
};
struct MilestoneUpdate {
    std::optional<std::string> title;
    Nullable descriptionP, dueDateP;  // named, null included (null clears)
    std::optional<std::string> description, dueDate;
    std::optional<std::string> status;  // open | closed
};

class Milestones {
public:
    explicit Milestones(const Store& store) : s_(store) {}

    JsonArray list(const std::string& projectId, const std::optional<std::string>& status) const;
    JsonObject get(int64_t id) const;
    JsonObject create(const std::string& projectId, const NewMilestone& req) const;
    JsonObject update(int64_t id, const MilestoneUpdate& req) const;
    void remove(int64_t id) const;

private:
    Row requireRow(int64_t id) const;
    const Store& s_;
};

// YYYY-MM-DD, optionally followed by a time (ISO 8601).
bool validIsoDate(const std::string& s);

}  // namespace tickets
