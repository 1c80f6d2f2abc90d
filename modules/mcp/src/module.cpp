// mcp module: registration only. OpenKit's MCP servers registry and its deployment into the
// agent CLIs, Atelier itself as an MCP server (/mcp), Kombuse's MCP configuration API and
// KrowForge's /api/mcp with tokens. Logic lives in registry, deployer, protocol and tools.
#include <unistd.h>

#include <atelier/shared/active_project.hpp>
#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "deployer.hpp"
#include "jsonc_edit.hpp"
#include "protocol.hpp"
#include "registry.hpp"
#include "store.hpp"
#include "tools.hpp"

namespace fs = std::filesystem;

namespace {

using atelier::HttpError;
using atelier::JsonObject;
using atelier::makeArray;
using atelier::makeObject;
using atelier::Request;
using atelier::Response;
using namespace atelier::mcp;

std::string envOr(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

void send(Response& res, const HttpReply& r) {
    res.status(r.status);
    for (auto& [k, v] : r.headers) res.header(k, v);
    if (!r.body.empty()) res.body(r.body);
}

class McpModule : public atelier::Module {
public:
    void init() override {
        auto cfg = host().config();
        std::string home = cfg->optValue<std::string>("home", envOr("HOME", "/root"));
        std::string codexHome = envOr("CODEX_HOME", (fs::path(home) / ".codex").string());
        dataDir_ = host().path(ATELIER_PATH_DATA_DIR);
        requireToken_ = cfg->optValue<bool>("requireToken", false);
        store_ = std::make_unique<Store>(db());
        registry_ = std::make_unique<Registry>((fs::path(dataDir_) / "mcp-servers.json").string());
        deployer_ = std::make_unique<Deployer>(home, codexHome);
        migrate(sql::kMigrations);

        ToolEnv env;
        env.call = [this](const std::string& m, const std::string& p, const std::string& b) {
            auto r = host().call(m, p, b);
            return CallAnswer{r.status, std::move(r.body)};
        };
        env.anonymousWriteAccess = [this] { return store_->setting("mcp.anonymous_write_access", cfg_anonymous_); };
        env.dbPath = (fs::path(dataDir_) / "atelier.db").string();
        cfg_anonymous_ = cfg->optValue<std::string>("anonymousWriteAccess", "allowed");
        protocol_ = std::make_unique<McpProtocol>(buildTools(env), cfg->optValue<bool>("sessions", true));
        auto h = [this](void (McpModule::*fn)(Request&, Response&)) {
            return [this, fn](Request& q, Response& s) { (this->*fn)(q, s); };
        };

        // ---- OpenKit: MCP servers registry
        get("/api/mcp-servers", "List registered MCP servers (?q, ?tag)", [this](Request& q, Response& s) {
            s.json(wrap("servers", registry_->list(q.queryOpt("q"), q.queryOpt("tag"))));
        });
        get("/api/mcp-servers/deployment-status", "Deployment of every server per agent and scope",
            h(&McpModule::deploymentStatus));
        get("/api/mcp-servers/:id", "Get an MCP server",
            [this](Request& q, Response& s) { s.json(wrap("server", registry_->get(q.param("id")))); });
        post("/api/mcp-servers", "Register an MCP server",
             [this](Request& q, Response& s) { s.json(ok("server", registry_->create(q.json()))); });
        patch("/api/mcp-servers/:id", "Update an MCP server",
              [this](Request& q, Response& s) { s.json(ok("server", registry_->update(q.param("id"), q.json()))); });
        del("/api/mcp-servers/:id", "Remove an MCP server", [this](Request& q, Response& s) {
            registry_->remove(q.param("id"));
            s.json(ok());
        });
        post("/api/mcp-servers/:id/deploy", "Write a server into an agent's config", h(&McpModule::deploy));
        post("/api/mcp-servers/:id/undeploy", "Remove a server from an agent's config", h(&McpModule::undeploy));
        post("/api/mcp-servers/scan", "Discover servers in agent config files", h(&McpModule::scan));
        post("/api/mcp-servers/import", "Import discovered servers", [this](Request& q, Response& s) {
            auto body = q.json();
            if (!body->has("servers") || body->get("servers").type() != typeid(atelier::JsonArray))
                throw atelier::badRequest("servers must be an array", "VALIDATION_ERROR",
                                          {{"servers", "must be an array"}});
            s.json(ok("imported", registry_->importMany(body->getArray("servers"))));
        });
        get("/api/mcp-env/:serverId", "Per-project env overrides of a server", [this](Request& q, Response& s) {
            s.json(wrap("env", store_->projectEnv(atelier::resolveActiveProject(*this, q).id, q.param("serverId"))));
        });
        put("/api/mcp-env/:serverId", "Set per-project env overrides", h(&McpModule::putEnv));

        // ---- Atelier as an MCP server (Kombuse's /mcp, Streamable HTTP)
        post("/mcp", "MCP JSON-RPC over Streamable HTTP", h(&McpModule::mcpPost));
        get("/mcp", "No server-initiated stream: 405", [](Request&, Response& s) {
            s.header("Allow", "POST, DELETE")
                .error(405, "METHOD_NOT_ALLOWED", "This MCP server sends no server-initiated stream; POST requests");
        });
        del("/mcp", "End an MCP session",
            [this](Request& q, Response& s) { send(s, protocol_->terminate(q.header("Mcp-Session-Id"))); });
        get("/api/mcp/settings", "MCP security settings", [this](Request&, Response& s) { s.json(settings()); });
        put("/api/mcp/settings", "Set anonymous write access", h(&McpModule::putSettings));

        // ---- Kombuse: Atelier's entry in the Claude Code and Codex configurations
        get("/api/claude-code/mcp", "Is Atelier configured in Claude Code",
            [this](Request&, Response& s) { s.json(ownStatus("claude")); });
        put("/api/claude-code/mcp", "Enable or disable Atelier in Claude Code",
            [this](Request& q, Response& s) { s.json(toggleOwn("claude", q)); });
        get("/api/codex/mcp", "Is Atelier configured in Codex",
            [this](Request&, Response& s) { s.json(ownStatus("codex")); });
        put("/api/codex/mcp", "Enable or disable Atelier in Codex",
            [this](Request& q, Response& s) { s.json(toggleOwn("codex", q)); });

        // ---- KrowForge: tool registry, invocation, tokens
        get("/api/mcp", "Tool registry", [this](Request& q, Response& s) {
            callerOf(q);
            s.json(wrap("tools", protocol_->listTools()));
        });
        post("/api/mcp", "Invoke a tool", h(&McpModule::invoke));
        get("/api/mcp/tokens", "List MCP tokens (never the secrets)",
            [this](Request&, Response& s) { s.json(wrap("tokens", store_->listTokens())); });
        post("/api/mcp/tokens", "Create a scoped MCP token (shown once)", h(&McpModule::createToken));
        del("/api/mcp/tokens/:id", "Revoke an MCP token", [this](Request& q, Response& s) {
            if (!store_->revokeToken(q.param("id")))
                throw atelier::notFound("Token not found or already revoked", "TOKEN_NOT_FOUND");
            s.json(ok());
        });
    }

private:
    static JsonObject wrap(const std::string& key, const Poco::Dynamic::Var& v) {
        auto o = makeObject();
        o->set(key, v);
        return o;
    }
    static JsonObject ok(const std::string& key = {}, const Poco::Dynamic::Var& v = {}) {
        auto o = makeObject();
        o->set("success", true);
        if (!key.empty()) o->set(key, v);
        return o;
    }

    std::string projectRoot(const Request& q, bool required) {
        try {
            return atelier::resolveActiveProject(*this, q).localPath;
        } catch (const HttpError&) {
            if (required) throw;
            return {};
        }
    }

    // The server with its env merged with the active project's overrides (overrides win).
    JsonObject mergedServer(const Request& q, const std::string& id) {
        auto server = registry_->get(id);
        JsonObject env = makeObject();
        if (auto e = server->getObject("env"))
            for (auto& k : e->getNames()) env->set(k, e->get(k));
        try {
            auto overrides = store_->projectEnv(atelier::resolveActiveProject(*this, q).id, id);
            for (auto& k : overrides->getNames()) env->set(k, overrides->get(k));
        } catch (const HttpError&) {
            // No active project: the registry env alone.
        }
        server->set("env", env);
        return server;
    }

    static std::pair<std::string, std::string> toolAndScope(const JsonObject& body) {
        auto tool = atelier::requireString(body, "tool");
        auto scope = atelier::optString(body, "scope").value_or("global");
        Deployer::target(tool);
        return {tool, scope};
    }

    void deploy(Request& q, Response& s) {
        auto body = q.json();
        auto [tool, scope] = toolAndScope(body);
        std::string id = q.param("id");
        auto server = mergedServer(q, id);
        std::string path =
            deployer_->configPath(tool, scope, scope == "project" ? projectRoot(q, true) : std::string());
        deployer_->deploy(path, tool, id, Deployer::entryFor(tool, server));
        auto o = ok();
        o->set("configPath", path);
        s.json(o);
    }

    void undeploy(Request& q, Response& s) {
        auto body = q.json();
        auto [tool, scope] = toolAndScope(body);
        std::string path =
            deployer_->configPath(tool, scope, scope == "project" ? projectRoot(q, true) : std::string());
        bool removed = deployer_->undeploy(path, tool, q.param("id"));
        auto o = ok();
        o->set("removed", removed);
        o->set("configPath", path);
        s.json(o);
    }

    void deploymentStatus(Request& q, Response& s) {
        std::string root = projectRoot(q, false);
        auto status = makeObject();
        auto servers = registry_->list(std::nullopt, std::nullopt);
        for (size_t i = 0; i < servers->size(); ++i) {
            std::string id = servers->getObject(static_cast<unsigned>(i))->getValue<std::string>("id");
            auto perTool = makeObject();
            for (auto& t : Deployer::targets()) {
                auto st = makeObject();
                std::string g = deployer_->configPath(t.tool, "global", "");
                st->set("global", deployer_->isDeployed(g, t.tool, id));
                st->set("project", !root.empty() && deployer_->isDeployed(
                                                        deployer_->configPath(t.tool, "project", root), t.tool, id));
                st->set("globalPath", g);
                st->set("projectPath", root.empty()
                                           ? Poco::Dynamic::Var()
                                           : Poco::Dynamic::Var(deployer_->configPath(t.tool, "project", root)));
                perTool->set(t.tool, st);
            }
            status->set(id, perTool);
        }
        s.json(wrap("status", status));
    }

    void scan(Request& q, Response& s) {
        auto body = q.json();
        std::string mode = atelier::optString(body, "mode").value_or("project");
        auto scanPath = atelier::optString(body, "scanPath");
        std::string root;
        int depth = 4;
        if (mode == "project") {
            root = scanPath ? *scanPath : projectRoot(q, true);
        } else if (mode == "folder") {
            if (!scanPath)
                throw atelier::badRequest("scanPath is required in folder mode", "VALIDATION_ERROR",
                                          {{"scanPath", "is required"}});
            root = *scanPath;
            depth = 8;
        } else if (mode == "device") {
            root = deployer_->home();
            depth = 5;
        } else {
            throw atelier::badRequest("mode must be project, folder or device", "VALIDATION_ERROR",
                                      {{"mode", "must be project, folder or device"}});
        }
        std::error_code ec;
        if (root.empty() || !fs::path(root).is_absolute() || !fs::is_directory(root, ec))
            throw atelier::badRequest("scanPath must be an existing absolute directory", "VALIDATION_ERROR",
                                      {{"scanPath", "must be an existing absolute directory"}});
        auto discovered = deployer_->scan(fs::canonical(root, ec).string(), depth);
        for (size_t i = 0; i < discovered->size(); ++i) {
            auto d = discovered->getObject(static_cast<unsigned>(i));
            d->set("alreadyInRegistry", registry_->find(serverIdFromName(d->getValue<std::string>("key"))).has_value());
        }
        s.json(wrap("discovered", discovered));
    }

    void putEnv(Request& q, Response& s) {
        auto body = q.json();
        if (!body->has("env") || body->get("env").type() != typeid(JsonObject))
            throw atelier::badRequest("env must be an object of strings", "VALIDATION_ERROR",
                                      {{"env", "must be an object of strings"}});
        auto env = body->getObject("env");
        auto clean = makeObject();
        for (auto& k : env->getNames()) {
            if (!env->get(k).isString() || k.empty() || k.size() > 256)
                throw atelier::badRequest("env values must be strings", "VALIDATION_ERROR",
                                          {{"env." + k, "must be a string"}});
            clean->set(k, env->get(k));
        }
        registry_->get(q.param("serverId"));  // 404 for an unknown server
        store_->setProjectEnv(atelier::resolveActiveProject(*this, q).id, q.param("serverId"), clean);
        s.json(ok("env", clean));
    }

    // ---- /mcp

    Caller callerOf(const Request& q) {
        Caller c;
        std::string auth = q.header("Authorization");
        if (auth.rfind("Bearer ", 0) == 0) {
            auto grant = store_->checkToken(auth.substr(7));
            if (!grant) throw HttpError(401, "INVALID_TOKEN", "The bearer token is unknown or revoked");
            c.hasToken = true;
            c.scopes = grant->scopes;
        } else if (requireToken_) {
            throw HttpError(401, "TOKEN_REQUIRED", "A bearer token is required");
        }
        return c;
    }

    void mcpPost(Request& q, Response& s) {
        std::string origin = q.header("Origin");
        if (!origin.empty() && origin.rfind("http://localhost", 0) != 0 && origin.rfind("http://127.0.0.1", 0) != 0 &&
            origin.rfind("http://[::1]", 0) != 0) {
            s.error(403, "FORBIDDEN_ORIGIN", "Origin not allowed");
            return;
        }
        McpRequestMeta meta;
        meta.sessionId = q.header("Mcp-Session-Id");
        meta.protocolVersion = q.header("MCP-Protocol-Version");
        meta.contentType = q.header("Content-Type");
        try {
            meta.caller = callerOf(q);
        } catch (const HttpError& e) {
            s.header("WWW-Authenticate", "Bearer");
            s.status(401)
                .header("Content-Type", "application/json")
                .body(atelier::toJson(rpcError(Poco::Dynamic::Var(), -32001, e.what())));
            return;
        }
        send(s, protocol_->post(q.body(), meta));
    }

    void invoke(Request& q, Response& s) {
        auto caller = callerOf(q);
        auto body = q.json();
        std::string name =
            body->has("tool") ? atelier::requireString(body, "tool") : atelier::requireString(body, "name");
        if (!protocol_->findTool(name)) throw atelier::notFound("Unknown tool: " + name, "TOOL_NOT_FOUND");
        JsonObject args = makeObject();
        for (auto key : {"arguments", "args"}) {
            if (!body->has(key) || body->isNull(key)) continue;
            if (body->get(key).type() != typeid(JsonObject))
                throw atelier::badRequest(std::string(key) + " must be an object", "VALIDATION_ERROR",
                                          {{key, "must be an object"}});
            args = body->getObject(key);
        }
        auto result = protocol_->callTool(name, args, caller);
        auto o = makeObject();
        o->set("success", !result->getValue<bool>("isError"));
        o->set("tool", name);
        o->set("result", result);
        s.json(o);
    }

    void createToken(Request& q, Response& s) {
        auto body = q.json();
        std::string name = atelier::boundedString(body, "name", 200, true);
        std::vector<std::string> scopes;
        if (body->has("scopes")) {
            if (body->get("scopes").type() != typeid(atelier::JsonArray))
                throw atelier::badRequest("scopes must be an array", "VALIDATION_ERROR",
                                          {{"scopes", "must be an array of read, write, * or tool:<name>"}});
            auto a = body->getArray("scopes");
            for (size_t i = 0; i < a->size(); ++i) {
                auto v = a->get(static_cast<unsigned>(i));
                std::string sc = v.isString() ? v.extract<std::string>() : std::string();
                bool valid = sc == "read" || sc == "write" || sc == "*" ||
                             (sc.rfind("tool:", 0) == 0 && protocol_->findTool(sc.substr(5)));
                if (!valid)
                    throw atelier::badRequest(
                        "unknown scope " + sc, "VALIDATION_ERROR",
                        {{"scopes[" + std::to_string(i) + "]", "must be read, write, * or tool:<known tool>"}});
                scopes.push_back(sc);
            }
        } else {
            scopes.push_back("read");
        }
        s.json(ok("token", store_->createToken(name, scopes)), 201);
    }

    JsonObject settings() {
        auto o = makeObject();
        o->set("anonymous_write_access", store_->setting("mcp.anonymous_write_access", cfg_anonymous_));
        o->set("sessions", protocol_->sessionCount());
        auto versions = makeArray();
        for (auto& v : McpProtocol::supportedVersions()) versions->add(v);
        o->set("protocol_versions", versions);
        return o;
    }

    void putSettings(Request& q, Response& s) {
        auto body = q.json();
        auto v = atelier::requireString(body, "anonymous_write_access");
        if (v != "allowed" && v != "denied")
            throw atelier::badRequest("anonymous_write_access must be allowed or denied", "VALIDATION_ERROR",
                                      {{"anonymous_write_access", "must be allowed or denied"}});
        store_->setSetting("mcp.anonymous_write_access", v);
        s.json(settings());
    }

    // ---- Atelier's own entry in Claude Code / Codex: the stdio bridge, which finds the
    // running server through <data-dir>/server-port whatever port it got.

    JsonObject ownEntry() const {
        std::error_code ec;
        auto exe = fs::read_symlink("/proc/self/exe", ec).string();
        auto e = makeObject();
        e->set("command", exe);
        auto args = makeArray();
        args->add("mcp");
        args->add("--data-dir");
        args->add(dataDir_);
        e->set("args", args);
        return e;
    }

    std::string ownPath(const std::string& tool) const { return deployer_->configPath(tool, "global", ""); }

    JsonObject ownStatus(const std::string& tool) {
        auto o = makeObject();
        auto entry = deployer_->deployedEntry(ownPath(tool), tool, "atelier");
        o->set("enabled", entry.has_value());
        o->set("config_path", ownPath(tool));
        o->set("server_name", "atelier");
        o->set("entry", entry ? Poco::Dynamic::Var(*entry) : Poco::Dynamic::Var());
        return o;
    }

    JsonObject toggleOwn(const std::string& tool, const Request& q) {
        auto body = q.json();
        auto enabled = atelier::optBool(body, "enabled");
        if (!enabled)
            throw atelier::badRequest("enabled is required", "VALIDATION_ERROR",
                                      {{"enabled", "is required (boolean)"}});
        bool before = deployer_->isDeployed(ownPath(tool), tool, "atelier");
        if (*enabled) {
            auto entry = ownEntry();
            if (tool == "claude") entry->set("type", "stdio");
            deployer_->deploy(ownPath(tool), tool, "atelier", Deployer::entryFor(tool, entry));
        } else {
            deployer_->undeploy(ownPath(tool), tool, "atelier");
        }
        auto o = ownStatus(tool);
        // A running CLI reads its MCP configuration at start: its sessions must restart to see the change.
        auto restart = makeArray();
        if (before != *enabled) {
            auto r = host().call("GET", "/api/sessions");
            auto list = atelier::parseArray(r.body);
            if (!list) {
                if (auto obj = atelier::parseObject(r.body); obj && obj->has("sessions"))
                    list = obj->getArray("sessions");
            }
            std::string backend = tool == "claude" ? "claude-code" : "codex";
            for (size_t i = 0; list && i < list->size(); ++i) {
                auto ss = list->getObject(static_cast<unsigned>(i));
                if (!ss || ss->optValue<std::string>("backend_type", "") != backend) continue;
                auto st = ss->optValue<std::string>("status", "");
                if (st == "running" || st == "active" || st == "pending") restart->add(ss->get("id"));
            }
        }
        o->set("stopped_sessions", 0);
        o->set("sessions_to_restart", restart);
        return o;
    }

    std::string dataDir_;
    std::string cfg_anonymous_ = "allowed";
    bool requireToken_ = false;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Registry> registry_;
    std::unique_ptr<Deployer> deployer_;
    std::unique_ptr<McpProtocol> protocol_;
};

}  // namespace

ATELIER_MODULE(McpModule)
