#include "core_module.hpp"

#include <atelier/route_pattern.hpp>
#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <map>
#include <set>

namespace atelier::host {

namespace {

// Builds a minimal OpenAPI 3.0 document from the registered routes.
std::string openApi(const atelier::Host& host) {
    auto summary = parseObject(host.describe("summary"));
    auto routes = parseArray(host.describe("routes"));
    auto doc = makeObject();
    doc->set("openapi", "3.0.3");
    auto info = makeObject();
    info->set("title", "Atelier");
    info->set("version", ATELIER_VERSION);
    info->set("description", "Local control plane for AI coding agents. Generated from the routes registered by the running modules.");
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
        std::string method = r->optValue<std::string>("method", "GET");
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
        auto responses = makeObject();
        auto ok = makeObject();
        ok->set("description", "Success");
        responses->set("default", ok);
        op->set("responses", responses);
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
        get("/api/health", "Health check", [this](Request& req, Response& res) {
            if (req.header("accept").find("text/plain") != std::string::npos &&
                req.header("accept").find("json") == std::string::npos) {
                res.text("ok");
                return;
            }
            auto summary = parseObject(host().describe("summary"));
            res.status(200).header("Content-Type", "application/json");
            // Hand-built: this route is the benchmark's hot path.
            res.body(std::string("{\"data\":{\"status\":\"ok\",\"version\":\"") + ATELIER_VERSION + "\",\"modules\":" +
                     std::to_string(summary ? summary->optValue<int64_t>("modulesRunning", 0) : 0) + "}}");
        });
        get("/api/modules", "Loaded modules and why others were refused", [this](Request&, Response& res) {
            res.status(200)
                .header("Content-Type", "application/json")
                .body("{\"data\":" + host().describe("modules") + "}");
        });
        get("/api/openapi.json", "OpenAPI document of every registered route", [this](Request&, Response& res) {
            res.status(200).header("Content-Type", "application/json").body(openApi(host()));
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
