// Labels per project and their association with tickets (with audit ids and events).
// Smart-label data (triggers) belongs to the agents module and is asked for through hooks.
#pragma once

#include "common.hpp"
#include "tickets.hpp"

namespace tickets {

JsonObject labelJson(const Row& r);

struct NewLabel {
    std::string name;
    std::optional<std::string> color;  // #rrggbb, any case; default grey
    std::optional<std::string> description;
};
struct LabelUpdate {
    std::optional<std::string> name, color;
    Nullable colorP;        // named; null resets to the default
    Nullable descriptionP;  // named, null included (null clears)
    std::optional<std::string> description;
    std::optional<bool> isEnabled;
};

struct LabelQuery {
    std::optional<std::string> search;
    std::string sort = "name";  // name | usage
    std::optional<std::string> usageScope;  // open
    std::optional<bool> isEnabled;
};

class Labels {
public:
    Labels(const Store& store, const Tickets& tickets) : s_(store), t_(tickets) {}

    JsonArray list(const std::string& projectId, const LabelQuery& q) const;
    JsonObject get(int64_t id) const;
    JsonObject create(const std::string& projectId, const NewLabel& req) const;
    JsonObject update(int64_t id, const LabelUpdate& req) const;
    void remove(int64_t id) const;
    Row requireRow(int64_t id) const;

    JsonArray ticketLabels(const std::string& projectId, int64_t number) const;
    JsonObject addToTicket(const std::string& projectId, int64_t number, int64_t labelId,
                           const std::optional<std::string>& addedById) const;
    void removeFromTicket(const std::string& projectId, int64_t number, int64_t labelId,
                          const std::optional<std::string>& removedById) const;

    // Label ids by name in a project, creating missing ones (OpenKit task labels).
    static std::vector<int64_t> ensureByName(const Db& tx, const std::string& projectId, const std::vector<std::string>& names);

    // Hooks answered by the agents module (empty until it is loaded).
    JsonArray triggers(int64_t labelId) const;
    JsonArray smartLabelIds(const std::string& projectId) const;

private:
    const Store& s_;
    const Tickets& t_;
};

}  // namespace tickets
