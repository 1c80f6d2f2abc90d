// Kombuse event subscriptions: per-(subscriber, event type, project) cursors over the event
// log, stored in events_subscriptions. No HTTP here; errors are atelier::HttpError.
#pragma once

#include <atelier/sdk.hpp>

#include <optional>
#include <string>
#include <vector>

namespace atelier::events {

class SubscriptionStore {
public:
    explicit SubscriptionStore(const atelier::Module& module);

    std::vector<JsonObject> list(const std::string& subscriberId) const;
    // Returns the subscription and whether it was created (false: the existing one).
    std::pair<JsonObject, bool> create(const std::string& subscriberId, const std::string& eventType,
                                       const std::string& projectId);
    JsonObject get(int64_t id) const;  // 404 when unknown
    // Events after the cursor of the subscription's type (patterns `x.*` and `*` allowed) and
    // project, oldest first, at most `limit`.
    std::vector<Event> pending(const JsonObject& subscription, int64_t limit) const;
    JsonObject acknowledge(int64_t id, int64_t lastEventId);
    void remove(int64_t id);  // 404 when unknown

    static int64_t parseId(const std::string& text);  // 404 for a non-integer id

private:
    static JsonObject toJson(const Row& r);
    const atelier::Module& module_;
};

}  // namespace atelier::events
