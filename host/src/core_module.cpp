#include "core_module.hpp"

#include <atelier/route_pattern.hpp>
#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <map>
#include <set>

namespace atelier::host {

namespace {

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
std::string openApi(const atelier::Host& host, int flavor) {
    auto summary = parseObject(host.describe("summary"));
    auto routes = parseArray(host.describe("routes/" + std::string(flavorName(flavor))));
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
    server->set("url", "http://127.0.0.1:" + std::to_string(summary ? summary->optValue<int>("port", 0) : 0));
    servers->add(server);
    doc->set("servers", servers);
    std::map<std::string, JsonObject> paths;
    for (size_t i = 0; routes && i < routes->size(); ++i) {
        auto r = routes->getObject(static_cast<unsigned>(i));
        std::string pattern = r->optValue<std::string>("pattern", "");
        std::string routeSummary = r->optValue<std::string>("summary", "");
        std::string method = r->optValue<std::string>("method", "GET");
        // ":param" → "{param}"
        std::string p;
        for (auto seg : route::splitPath(pattern)) {
            p += "/";
            if (!seg.empty() && seg[0] == ':') p += "{" + std::string(seg.substr(1)) + "}";
            else if (seg == "*") p += "{path}";
            else p += seg;
        }
        if (p.empty()) p = "/";
        auto& item = paths[p];
        if (!item) item = makeObject();
        auto op = makeObject();
        op->set("summary", routeSummary.empty() ? method + " " + p : routeSummary);
        auto tags = makeArray();
        tags->add(r->optValue<std::string>("module", "host"));
        op->set("tags", tags);
        auto params = makeArray();
        for (auto seg : route::splitPath(pattern)) {
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
        if (auto fl = r->getArray("flavors"); fl && fl->size() > 0) op->set("x-atelier-flavors", fl);
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

class CoreModule : public Module {
public:
    void init() override {
        // Hand-built bodies: this route is the benchmark's hot path.
        get("/api/health", "Health check: {status, version, modules}; text/plain \"ok\" on request",
            [this](Request& req, Response& res) {
                if (req.header("accept").find("text/plain") != std::string::npos &&
                    req.header("accept").find("json") == std::string::npos) {
                    res.text("ok");
                    return;
                }
                res.status(200).header("Content-Type", "application/json");
                res.body(healthJson());
            });
        get("/api/health", "Health check in the boards product's envelope: {data: {status, version, modules}}",
            flavors(ATELIER_FLAVOR_KANBAN), [this](Request&, Response& res) {
                res.status(200).header("Content-Type", "application/json");
                res.body("{\"data\":" + healthJson() + "}");
            });
        get("/api/health", "Health check as Abbado answers it: ok", flavors(ATELIER_FLAVOR_ABBADO),
            [](Request&, Response& res) { res.text("ok"); });
        get("/api/modules", "Loaded modules and why others were refused", [this](Request&, Response& res) {
            res.status(200)
                .header("Content-Type", "application/json")
                .body("{\"data\":" + host().describe("modules") + "}");
        });
        get("/api/openapi.json", "OpenAPI document of the routes a flavor sees (?flavor=, default the request's)",
            [this](Request& req, Response& res) {
                int flavor = req.flavor();
                if (req.hasQuery("flavor")) {
                    flavor = flavorFromName(req.query("flavor"));
                    if (flavor < 0)
                        throw badRequest("Unknown API flavor: " + req.query("flavor").substr(0, 50), "UNKNOWN_FLAVOR",
                                         {{"flavor", "must be one of " + flavorNameList()}});
                }
                res.status(200).header("Content-Type", "application/json").body(openApi(host(), flavor));
            });

        // Static tokens for `auth.authenticate` (`modules.config.host.authTokens`); runs last
        // and never overrides a decision.
        if (auto tokens = host().config()->getArray("authTokens")) {
            for (size_t i = 0; i < tokens->size(); ++i)
                if (tokens->get(static_cast<unsigned>(i)).isString())
                    authTokens_.insert(tokens->getElement<std::string>(static_cast<unsigned>(i)));
        }
        if (!authTokens_.empty()) {
            hook("auth.authenticate", 1000000, [this](std::string_view payload) {
                auto o = parseObject(payload);
                if (!o || o->optValue<bool>("ok", false)) return HookOutcome::keep();
                std::string token =
                    o->has("token") && o->get("token").isString() ? o->getValue<std::string>("token") : "";
                if (token.empty() || !authTokens_.count(token)) return HookOutcome::keep();
                o->set("ok", true);
                o->set("userId", "token");
                return HookOutcome::replace(o);
            });
        }
    }

private:
    std::string healthJson() {
        auto summary = parseObject(host().describe("summary"));
        return std::string("{\"status\":\"ok\",\"version\":\"") + ATELIER_VERSION + "\",\"modules\":" +
               std::to_string(summary ? summary->optValue<int64_t>("modulesRunning", 0) : 0) + "}";
    }

    std::set<std::string> authTokens_;
};

}  // namespace

const atelier_module_v1* coreModuleTable() {
    static const atelier_module_v1 table = [] {
        auto t = initStruct<atelier_module_v1>();
        t.id = "host";
        t.version = ATELIER_VERSION;
        t.description = "Core routes: health, modules, OpenAPI";
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
