// Routes registered by modules (and the host's core routes), matched by path segments, method
// and the request's API flavor. Static segments outrank parameters; on the same pattern a
// route registered for the request's flavor outranks the default one. Readers never block
// each other.
#pragma once

#include <atelier/abi.h>
#include <atelier/route_pattern.hpp>

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "module_record.hpp"

// A request as modules see it, for HTTP requests and in-process calls alike.
struct atelier_request {
    std::string method;
    std::string path;
    std::string query;
    std::string body;
    std::string requestId;
    atelier::route::Params params;
    atelier::route::Params queryParams;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    int flavor = ATELIER_FLAVOR_ATELIER;
};

struct atelier_response {
    int status = 200;
    bool statusSet = false;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    atelier_stream* stream = nullptr;  // set by response_start_stream
    std::string streamContentType;
    bool streamAllowed = true;  // false for in-process calls
    int flavor = ATELIER_FLAVOR_ATELIER;  // of the request: shapes response_set_error
};

namespace atelier::host {

struct RouteEntry {
    std::string method;
    route::Pattern pattern;
    std::string summary;
    atelier_route_fn fn;
    void* userData;
    std::shared_ptr<ModuleRecord> owner;  // null for host core routes
    uint32_t flavors = ATELIER_FLAVORS_DEFAULT;
    // Whether this route answers requests of `flavor` at all (its own or the default).
    bool serves(int flavor) const {
        return flavors == ATELIER_FLAVORS_DEFAULT || (flavors & ATELIER_FLAVOR_BIT(flavor)) != 0;
    }
};

struct WsRouteEntry {
    route::Pattern pattern;
    atelier_ws_callbacks callbacks;
    void* userData;
    std::shared_ptr<ModuleRecord> owner;
};

class Router {
public:
    void add(RouteEntry e);
    void addWebSocket(WsRouteEntry e);
    // Removes every route owned by `owner`.
    void removeOwner(const ModuleRecord* owner);

    struct Match {
        std::shared_ptr<const RouteEntry> route;
        route::Params params;
        bool pathMatched = false;  // some route matched the path with another method
        std::vector<std::string> allowed;
    };
    Match find(std::string_view method, std::string_view path, int flavor = ATELIER_FLAVOR_ATELIER) const;

    struct WsMatch {
        std::shared_ptr<const WsRouteEntry> route;
        route::Params params;
    };
    WsMatch findWebSocket(std::string_view path) const;

    std::vector<std::shared_ptr<const RouteEntry>> routes() const;
    // The routes a client of `flavor` sees: its own, and the default ones it has no own route for.
    std::vector<std::shared_ptr<const RouteEntry>> routesFor(int flavor) const;
    std::vector<std::shared_ptr<const WsRouteEntry>> webSocketRoutes() const;
    // Whether a route of the same method and pattern already covers one of `flavors` (two
    // default routes overlap).
    bool exists(std::string_view method, std::string_view pattern, uint32_t flavors = ATELIER_FLAVORS_DEFAULT) const;

private:
    mutable std::shared_mutex mutex_;
    std::vector<std::shared_ptr<const RouteEntry>> routes_;
    std::vector<std::shared_ptr<const WsRouteEntry>> wsRoutes_;
};

}  // namespace atelier::host
