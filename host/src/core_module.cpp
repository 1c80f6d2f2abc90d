#include "core_module.hpp"

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include <map>
#include <set>

#include "event_routes.hpp"
#include "host.hpp"
#include "module_manager.hpp"

namespace atelier::host {

namespace {
Host* g_host = nullptr;

// Builds a minimal OpenAPI 3.0 document from the registered routes.
std::string openApi(Host& host) {
    auto doc = makeObject();
    doc->set("openapi", "3.0.3");
    auto info = makeObject();
    info->set("title", "Atelier");
    info->set("version", ATELIER_VERSION);
    info->set("description", "Local control plane for AI coding agents. Generated from the routes registered by the running modules.");
    doc->set("info", info);
    auto servers = makeArray();
    auto server = makeObject();
    server->set("url", "http://127.0.0.1:" + std::to_string(host.boundPort()));
    servers->add(server);
    doc->set("servers", servers);
    std::map<std::string, JsonObject> paths;
    for (auto& r : host.router().routes()) {
        // ":param" → "{param}"
        std::string p;
        for (auto seg : route::splitPath(r->pattern.text())) {
            p += "/";
            if (!seg.empty() && seg[0] == ':') p += "{" + std::string(seg.substr(1)) + "}";
            else if (seg == "*") p += "{path}";
            else p += seg;
        }
        if (p.empty()) p = "/";
        auto& item = paths[p];
        if (!item) item = makeObject();
        auto op = makeObject();
        op->set("summary", r->summary.empty() ? r->method + " " + p : r->summary);
        auto tags = makeArray();
        tags->add(r->owner ? r->owner->id : std::string("host"));
        op->set("tags", tags);
        auto params = makeArray();
        for (auto seg : route::splitPath(r->pattern.text())) {
            if (seg.empty() || (seg[0] != ':' && seg != "*")) continue;
            auto prm = makeObject();
            prm->set("name", seg == "*" ? std::string("path") : std::string(seg.substr(1)));
            prm->set("in", "path");
            prm->set("required", true);
            auto schema = makeObject();
            schema->set("type", "string");
            prm->set("schema", schema);
            params->add(prm);
        }
        if (params->size()) op->set("parameters", params);
        auto responses = makeObject();
        auto ok = makeObject();
        ok->set("description", "Success");
        responses->set("default", ok);
        op->set("responses", responses);
        std::string method = r->method;
        for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        item->set(method, op);
    }
    auto pathsObj = makeObject();
    for (auto& [p, item] : paths) pathsObj->set(p, item);
    doc->set("paths", pathsObj);
    return atelier::toJson(doc);
}

class CoreModule : public Module {
public:
    void init() override {
        Host& host = *g_host;
        get("/api/health", "Health check", [&host](Request& req, Response& res) {
            if (req.header("accept").find("text/plain") != std::string::npos &&
                req.header("accept").find("json") == std::string::npos) {
                res.text("ok");
                return;
            }
            res.status(200).header("Content-Type", "application/json");
            // Hand-built: this route is the benchmark's hot path.
            res.body(std::string("{\"data\":{\"status\":\"ok\",\"version\":\"") + ATELIER_VERSION +
                     "\",\"modules\":" + std::to_string(host.modules().runningCount()) + "}}");
        });
        get("/api/modules", "Loaded modules and why others were refused", [&host](Request&, Response& res) {
            auto list = makeArray();
            for (auto& m : host.modules().records()) {
                auto o = makeObject();
                o->set("id", m->id);
                o->set("version", m->version);
                o->set("description", m->description);
                o->set("state", stateName(m->lifecycle));
                o->set("routes", m->routeCount.load());
                o->set("builtin", m->libraryPath.empty());
                auto reqs = makeArray();
                for (auto& r : m->requires_) reqs->add(r.id);
                o->set("requires", reqs);
                {
                    std::lock_guard lock(m->errorMutex);
                    if (m->lifecycle == ModuleState::Refused || m->lifecycle == ModuleState::Disabled)
                        o->set("error", m->error);
                    else
                        o->set("error", Poco::Dynamic::Var());
                }
                list->add(o);
            }
            auto out = makeObject();
            out->set("data", list);
            res.json(out);
        });
        get("/api/openapi.json", "OpenAPI document of every registered route",
            [&host](Request&, Response& res) { res.status(200).header("Content-Type", "application/json").body(openApi(host)); });
        registerEventRoutes(*this, host);
    }
    void start() override { startEventRoutes(*this, *g_host); }
    void stop() override { stopEventRoutes(*this, *g_host); }
};

}  // namespace

void setCoreHost(Host* host) { g_host = host; }
Host* coreHost() { return g_host; }

const atelier_module_v1* coreModuleTable() {
    static const atelier_module_v1 table = [] {
        auto t = initStruct<atelier_module_v1>();
        t.id = "host";
        t.version = ATELIER_VERSION;
        t.description = "Core routes: health, modules, OpenAPI, events, subscriptions, activity, operations log";
        t.requires_list = nullptr;
        t.requires_count = 0;
        t.init = &ModuleGlue::init<CoreModule>;
        t.start = &ModuleGlue::start;
        t.stop = &ModuleGlue::stop;
        t.destroy = &ModuleGlue::destroy;
        return t;
    }();
    return &table;
}

}  // namespace atelier::host
