#include "router.hpp"

#include <algorithm>
#include <mutex>

namespace atelier::host {

void Router::add(RouteEntry e) {
    std::unique_lock lock(mutex_);
    auto entry = std::make_shared<const RouteEntry>(std::move(e));
    // Keep the most specific patterns first so the first full match wins.
    auto pos = std::upper_bound(routes_.begin(), routes_.end(), entry, [](const auto& a, const auto& b) {
        return a->pattern.specificity() > b->pattern.specificity();
    });
    routes_.insert(pos, std::move(entry));
}

void Router::addWebSocket(WsRouteEntry e) {
    std::unique_lock lock(mutex_);
    wsRoutes_.push_back(std::make_shared<const WsRouteEntry>(std::move(e)));
    std::stable_sort(wsRoutes_.begin(), wsRoutes_.end(),
                     [](const auto& a, const auto& b) { return a->pattern.specificity() > b->pattern.specificity(); });
}

void Router::removeOwner(const ModuleRecord* owner) {
    std::unique_lock lock(mutex_);
    std::erase_if(routes_, [&](const auto& r) { return r->owner.get() == owner; });
    std::erase_if(wsRoutes_, [&](const auto& r) { return r->owner.get() == owner; });
}

Router::Match Router::find(std::string_view method, std::string_view path, int flavor) const {
    Match m;
    auto parts = route::splitPath(path);
    std::shared_lock lock(mutex_);
    route::Params params;
    bool ownFlavor = false;
    for (const auto& r : routes_) {
        // Sorted by specificity: once a default route matched, only an equally specific route
        // registered for the request's flavor can still take its place.
        if (m.route && (ownFlavor || r->pattern.specificity() < m.route->pattern.specificity())) break;
        if (!r->serves(flavor) || !r->pattern.match(parts, params)) continue;
        if (r->method == method || (method == "HEAD" && r->method == "GET")) {
            bool own = r->flavors != ATELIER_FLAVORS_DEFAULT;
            if (!m.route || (own && r->pattern.specificity() == m.route->pattern.specificity())) {
                m.route = r;
                m.params = params;
                ownFlavor = own;
            }
        } else if (!m.route) {
            m.pathMatched = true;
            if (std::find(m.allowed.begin(), m.allowed.end(), r->method) == m.allowed.end()) m.allowed.push_back(r->method);
        }
    }
    return m;
}

Router::WsMatch Router::findWebSocket(std::string_view path) const {
    WsMatch m;
    auto parts = route::splitPath(path);
    std::shared_lock lock(mutex_);
    route::Params params;
    for (const auto& r : wsRoutes_) {
        if (r->pattern.match(parts, params)) {
            m.route = r;
            m.params = params;
            break;
        }
    }
    return m;
}

std::vector<std::shared_ptr<const RouteEntry>> Router::routes() const {
    std::shared_lock lock(mutex_);
    return routes_;
}

std::vector<std::shared_ptr<const WsRouteEntry>> Router::webSocketRoutes() const {
    std::shared_lock lock(mutex_);
    return wsRoutes_;
}

std::vector<std::shared_ptr<const RouteEntry>> Router::routesFor(int flavor) const {
    std::shared_lock lock(mutex_);
    std::vector<std::shared_ptr<const RouteEntry>> out;
    for (const auto& r : routes_) {
        if (!r->serves(flavor)) continue;
        if (r->flavors == ATELIER_FLAVORS_DEFAULT) {
            bool shadowed = std::any_of(routes_.begin(), routes_.end(), [&](const auto& o) {
                return o->flavors != ATELIER_FLAVORS_DEFAULT && o->serves(flavor) && o->method == r->method &&
                       o->pattern.text() == r->pattern.text();
            });
            if (shadowed) continue;
        }
        out.push_back(r);
    }
    return out;
}

bool Router::exists(std::string_view method, std::string_view pattern, uint32_t flavors) const {
    std::shared_lock lock(mutex_);
    for (const auto& r : routes_) {
        if (r->method != method || r->pattern.text() != pattern) continue;
        if (r->flavors == flavors || (r->flavors & flavors) != 0) return true;
    }
    return false;
}

}  // namespace atelier::host
