#include "event_routes.hpp"

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include "host.hpp"

namespace atelier::host {

void registerEventRoutes(Module& module, Host& host) {
    module.get("/api/events", "List events (Kombuse filters)", [&host](Request& req, Response& res) {
        EventFilter f;
        f.eventType = req.query("event_type");
        f.projectId = req.query("project_id");
        f.ticketId = req.query("ticket_id");
        f.actorId = req.query("actor_id");
        f.actorType = req.query("actor_type");
        f.since = req.query("since");
        f.limit = req.queryInt("limit", 50, 1, 100);
        f.offset = req.queryInt("offset", 0, 0, INT64_MAX);
        std::string body = "[";
        bool first = true;
        for (auto& e : host.bus().query(f)) {
            if (!first) body += ",";
            first = false;
            body += e.toJson();
        }
        body += "]";
        res.status(200).header("Content-Type", "application/json").body(body);
    });
}

void startEventRoutes(Module&, Host&) {}
void stopEventRoutes(Module&, Host&) {}

}  // namespace atelier::host
