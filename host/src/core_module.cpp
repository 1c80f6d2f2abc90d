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

// The JSON schema of an error body in `flavor`'s shape (see renderError).
JsonObject errorSchema(int flavor) {
    auto prop = [](const char* type) {
        auto o = makeObject();
        o->set("type", type);
        return o;
    };
    auto schema = makeObject();
    if (flavor == ATELIER_FLAVOR_ABBADO) {
        schema->set("type", "string");
        schema->set("description", "The message as text/plain");
        return schema;
    }
    schema->set("type", "object");
    auto props = makeObject();
    auto required = makeArray();
    if (flavor == ATELIER_FLAVOR_KOMBUSE) {
        auto error = makeObject();
        error->set("description", "The message, or the validation issues ({code, path, message}) when there are any");
        auto oneOf = makeArray();
        oneOf->add(prop("string"));
        oneOf->add(prop("array"));
        error->set("oneOf", oneOf);
        props->set("error", error);
        required->add("error");
    } else if (flavor == ATELIER_FLAVOR_KROWFORGE) {
        auto error = prop("object");
        auto inner = makeObject();
        inner->set("code", prop("string"));
        inner->set("message", prop("string"));
        error->set("properties", inner);
        props->set("error", error);
        required->add("error");
    } else {
        props->set("success", prop("boolean"));
        props->set("error", prop("string"));
        props->set("code", prop("string"));
        props->set("details", prop("array"));
        for (auto r : {"success", "error", "code"}) required->add(r);
    }
    schema->set("properties", props);
    schema->set("required", required);
    return schema;
}

// Builds a minimal OpenAPI 3.0 document from the routes a client of `flavor` sees.
std::string openApi(Host& host, int flavor) {
    auto doc = makeObject();
    doc->set("openapi", "3.0.3");
    auto info = makeObject();
    info->set("title", "Atelier");
    info->set("version", ATELIER_VERSION);
    info->set("description",
              "Local control plane for AI coding agents. Generated from the routes registered by the running modules, "
              "as a client of the `" +
                  std::string(flavorName(flavor)) +
                  "` API flavor sees them (its listener, or the X-Atelier-Flavor header).");
    info->set("x-atelier-flavor", std::string(flavorName(flavor)));
    doc->set("info", info);
    auto servers = makeArray();
    auto server = makeObject();
    server->set("url", "http://127.0.0.1:" + std::to_string(host.boundPort()));
    servers->add(server);
    doc->set("servers", servers);
    std::map<std::string, JsonObject> paths;
    for (auto& r : host.router().routesFor(flavor)) {
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
        if (r->flavors != ATELIER_FLAVORS_DEFAULT) {
            auto fl = makeArray();
            for (int f = 0; f < kFlavorCount; ++f)
                if (r->flavors & ATELIER_FLAVOR_BIT(f)) fl->add(std::string(flavorName(f)));
            op->set("x-atelier-flavors", fl);
        }
        auto responses = makeObject();
        auto ok = makeObject();
        ok->set("description", "Success");
        responses->set("2XX", ok);
        auto err = makeObject();
        err->set("description", "Error");
        auto content = makeObject();
        auto media = makeObject();
        auto ref = makeObject();
        ref->set("$ref", "#/components/schemas/Error");
        media->set("schema", ref);
        content->set(flavor == ATELIER_FLAVOR_ABBADO ? "text/plain" : "application/json", media);
        err->set("content", content);
        responses->set("default", err);
        op->set("responses", responses);
        std::string method = r->method;
        for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        item->set(method, op);
    }
    auto pathsObj = makeObject();
    for (auto& [p, item] : paths) pathsObj->set(p, item);
    doc->set("paths", pathsObj);
    auto components = makeObject();
    auto schemas = makeObject();
    schemas->set("Error", errorSchema(flavor));
    components->set("schemas", schemas);
    doc->set("components", components);
    return atelier::toJson(doc);
}

std::string healthJson(Host& host) {
    return std::string("{\"status\":\"ok\",\"version\":\"") + ATELIER_VERSION +
           "\",\"modules\":" + std::to_string(host.modules().runningCount()) + "}";
}

class CoreModule : public Module {
public:
    void init() override {
        Host& host = *g_host;
        // Hand-built bodies: this route is the benchmark's hot path.
        get("/api/health", "Health check: {status, version, modules}; text/plain \"ok\" on request",
            [&host](Request& req, Response& res) {
                if (req.header("accept").find("text/plain") != std::string::npos &&
                    req.header("accept").find("json") == std::string::npos) {
                    res.text("ok");
                    return;
                }
                res.status(200).header("Content-Type", "application/json");
                res.body(healthJson(host));
            });
        get("/api/health", "Health check in the boards product's envelope: {data: {status, version, modules}}",
            flavors(ATELIER_FLAVOR_KANBAN), [&host](Request&, Response& res) {
                res.status(200).header("Content-Type", "application/json");
                res.body("{\"data\":" + healthJson(host) + "}");
            });
        get("/api/health", "Health check as Abbado answers it: ok", flavors(ATELIER_FLAVOR_ABBADO),
            [](Request&, Response& res) { res.text("ok"); });
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
        get("/api/openapi.json", "OpenAPI document of the routes a flavor sees (?flavor=, default the request's)",
            [&host](Request& req, Response& res) {
                int flavor = req.flavor();
                if (req.hasQuery("flavor")) {
                    flavor = flavorFromName(req.query("flavor"));
                    if (flavor < 0)
                        throw badRequest("Unknown API flavor: " + req.query("flavor").substr(0, 50), "UNKNOWN_FLAVOR",
                                         {{"flavor", "must be one of " + flavorNameList()}});
                }
                res.status(200).header("Content-Type", "application/json").body(openApi(host, flavor));
            });
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
