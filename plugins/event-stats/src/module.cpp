#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include "event_counter.hpp"

class EventStatsModule : public atelier::Module {
public:
    void init() override {
        migrate(event_stats::EventCounter::migrations());
        subscribe("*", [this](const atelier::Event& e) { event_stats::EventCounter(db()).count(e); });
        get("/api/plugins/event-stats", "Event counts by type (optional ?project_id=, ?limit=)",
            [this](atelier::Request& req, atelier::Response& res) {
                auto limit = req.queryInt("limit", 100, 1, 1000);
                auto out = atelier::makeObject();
                out->set("data", event_stats::EventCounter(db()).summary(req.query("project_id"), limit));
                res.json(out);
            });
    }
};

ATELIER_MODULE(EventStatsModule)
