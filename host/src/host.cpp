#include "host.hpp"

#include <Poco/String.h>

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <cmath>
#include <filesystem>

#include "core_module.hpp"
#include "module_manager.hpp"

namespace atelier::host {

void setErrorResponse(atelier_response& res, int status, std::string_view code, std::string_view message,
                      std::string_view detailsJson) {
    std::vector<ErrorDetail> details;
    JsonObject extra;
    if (!parseErrorDetails(detailsJson, details, extra)) {
        details.clear();
        extra = nullptr;
    }
    if (status < 400 || status > 599) status = 500;
    auto rendered = renderError(res.flavor, status, code, message, details, extra);
    res.status = status;
    res.statusSet = true;
    res.body = std::move(rendered.body);
    std::erase_if(res.headers, [](const auto& h) { return Poco::icompare(h.first, "content-type") == 0; });
    res.headers.emplace_back("Content-Type", rendered.contentType);
}

Host::Host(HostConfig cfg) : cfg_(std::move(cfg)) {
    std::filesystem::create_directories(cfg_.dataDir + "/logs");
    log_ = std::make_unique<Logger>(cfg_.accessLog ? cfg_.dataDir + "/logs/access.log" : std::string());
    storage_ = std::make_unique<Storage>(cfg_.dataDir + "/atelier.db", cfg_.dbReaders);
    bus_ = std::make_unique<EventBus>(*storage_);
    reactor_ = std::make_unique<Reactor>(cfg_.reactorThreads);
    modules_ = std::make_unique<ModuleManager>(*this);
    startedAt_ = nowIso();
}

Host::~Host() {
    stopAll();
}

const atelier_host_v1* Host::api() const { return hostTable(const_cast<Host*>(this)); }

void Host::startAll() {
    bus_->start();
    timers_.start();
    reactor_->start();
    modules_->addBuiltin(coreModuleTable());
    modules_->discover();
    modules_->startAll();
}

void Host::stopAll() {
    if (!modules_) return;
    // Long-lived connections first: their close callbacks still reach running modules.
    reactor_->stop();
    modules_->stopAll();
    timers_.stop();
    bus_->stop();
    modules_.reset();
}

void Host::dispatch(atelier_request& req, atelier_response& res) {
    res.flavor = req.flavor;
    auto match = router_.find(req.method, req.path, req.flavor);
    if (!match.route) {
        if (match.pathMatched) {
            std::string allow;
            for (auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
            res.headers.emplace_back("Allow", allow);
            setErrorResponse(res, 405, "METHOD_NOT_ALLOWED",
                             "Method " + req.method + " is not allowed on " + req.path.substr(0, 200));
        } else {
            setErrorResponse(res, 404, "NOT_FOUND", "No route for " + req.method + " " + req.path.substr(0, 200));
        }
        return;
    }
    req.params = std::move(match.params);
    const auto& route = *match.route;
    try {
        InflightGuard guard(route.owner.get());
        route.fn(route.userData, &req, &res);
    } catch (...) {
        res = atelier_response{};
        res.flavor = req.flavor;
        setErrorResponse(res, 500, "INTERNAL_ERROR", "Internal error");
        log_->log(Logger::Error, route.owner ? route.owner->id : "host", "handler threw across the ABI: " + req.method + " " + req.path);
    }
    if (res.status >= 500 && route.owner) {
        log_->log(Logger::Error, route.owner->id, req.method + " " + req.path + " answered " + std::to_string(res.status));
    }
}

namespace {
// At most this much of a body travels to the trace hook; the handler bounds it further.
constexpr size_t kTraceBodyMax = 4096;

void setBody(JsonObject o, const char* key, const std::string& body) {
    if (body.empty()) return;
    std::string k(key);
    o->set(k, body.size() > kTraceBodyMax ? body.substr(0, kTraceBodyMax) : body);
    if (body.size() > kTraceBodyMax) o->set(k + "Truncated", true);
}
}  // namespace

void Host::traceRequest(const atelier_request& req, const atelier_response& res, double ms) {
    static const std::string kHook = "http.request_finished";
    if (!hooks_.has(kHook)) return;
    auto o = makeObject();
    o->set("method", req.method);
    o->set("path", req.path);
    o->set("query", req.query);
    o->set("status", res.status);
    o->set("durationMs", std::round(ms * 100) / 100);
    o->set("requestId", req.requestId);
    o->set("streaming", res.stream != nullptr);
    std::string reqType, resType;
    for (auto& [k, v] : req.headers)
        if (k == "content-type") reqType = v;
    for (auto& [k, v] : res.headers)
        if (Poco::icompare(k, "content-type") == 0) resType = v;
    o->set("requestContentType", reqType);
    o->set("responseContentType", resType);
    setBody(o, "requestBody", req.body);
    if (!res.stream) setBody(o, "responseBody", res.body);
    hooks_.run(kHook, atelier::toJson(o));
}

}  // namespace atelier::host
