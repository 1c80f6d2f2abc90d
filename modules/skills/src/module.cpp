// skills: the skills registry, custom agents and their deployment into every agent CLI
// (OpenKit's skills and custom-agent routes). Routes validate their input shape here and
// hand typed values to the domain classes; DomainError is mapped to the uniform error shape.
#include <atelier/shared/active_project.hpp>
#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <memory>

#include "claude_plugins.hpp"
#include "custom_agents.hpp"
#include "domain_error.hpp"
#include "packages.hpp"
#include "skill_registry.hpp"

namespace atelier::skills {

class SkillsModule : public Module {
public:
    void init() override {
        registry_ = std::make_unique<SkillRegistry>(fs::path(host().path(ATELIER_PATH_DATA_DIR)) / "skills");
        agents_ = std::make_unique<CustomAgents>(host());
        migrate(Packages::migrations());
        auto cfg = host().config();
        packages_ = std::make_unique<Packages>(
            db(), host(), PackagePaths{host().path(ATELIER_PATH_DATA_DIR), host().path(ATELIER_PATH_MODULE_DIR)},
            cfg->optValue<std::string>("registryUrl", ""));
        if (cfg->has("maxPackageBytes") && cfg->get("maxPackageBytes").isInteger())
            Packages::limits().maxTotalBytes = cfg->getValue<uint64_t>("maxPackageBytes");
        if (cfg->has("maxPackageEntryBytes") && cfg->get("maxPackageEntryBytes").isInteger())
            Packages::limits().maxEntryBytes = cfg->getValue<uint64_t>("maxPackageEntryBytes");
        auto h = [this](void (SkillsModule::*fn)(Request&, Response&)) {
            return [this, fn](Request& rq, Response& rs) { guarded(rq, rs, fn); };
        };
        // OpenKit: skills registry
        get("/api/skills", "List registry skills", h(&SkillsModule::listSkills));
        get("/api/skills/deployment-status", "Per-agent deployment status of every skill",
            h(&SkillsModule::skillStatus));
        get("/api/skills/npx-available", "Is the npx skills CLI available", h(&SkillsModule::npxAvailable));
        post("/api/skills/scan", "Find skill directories in a project, folder or the home directory",
             h(&SkillsModule::scanSkills));
        post("/api/skills/import", "Copy discovered skills into the registry", h(&SkillsModule::importSkills));
        post("/api/skills/install", "Install skills with npx skills add", h(&SkillsModule::installSkill));
        get("/api/skills/:name", "Skill detail with SKILL.md, front matter, reference and examples",
            h(&SkillsModule::getSkill));
        post("/api/skills", "Create a skill", h(&SkillsModule::createSkill));
        patch("/api/skills/:name", "Update SKILL.md, front matter, reference.md or examples.md",
              h(&SkillsModule::updateSkill));
        del("/api/skills/:name", "Delete a skill and its deployments", h(&SkillsModule::deleteSkill));
        post("/api/skills/:name/deploy", "Link a skill into an agent CLI", h(&SkillsModule::deploySkill));
        post("/api/skills/:name/undeploy", "Remove a skill link from an agent CLI", h(&SkillsModule::undeploySkill));
        // OpenKit: custom agents (stored by the agents module)
        get("/api/claude/custom-agents", "List custom agents with their deployments", h(&SkillsModule::listAgents));
        post("/api/claude/custom-agents/scan", "Find agent definitions in CLI directories",
             h(&SkillsModule::scanAgents));
        post("/api/claude/custom-agents/import", "Import agent definitions (and deploy them)",
             h(&SkillsModule::importAgents));
        get("/api/claude/custom-agents/:id", "Custom agent with its Markdown", h(&SkillsModule::getAgent));
        post("/api/claude/custom-agents", "Create a custom agent", h(&SkillsModule::createAgent));
        patch("/api/claude/custom-agents/:id", "Update a custom agent and its deployed copies",
              h(&SkillsModule::updateAgent));
        del("/api/claude/custom-agents/:id", "Delete a custom agent and its deployed copies",
            h(&SkillsModule::deleteAgent));
        post("/api/claude/custom-agents/:id/deploy", "Copy a custom agent into an agent CLI",
             h(&SkillsModule::deployAgent));
        post("/api/claude/custom-agents/:id/undeploy", "Remove a custom agent from an agent CLI",
             h(&SkillsModule::undeployAgent));
        // OpenKit: Claude plugins, marketplaces and plugin agents (Claude Code's own files)
        get("/api/claude/plugins", "Installed Claude plugins with component counts",
            h(&SkillsModule::listClaudePlugins));
        get("/api/claude/plugins/debug", "Raw `claude plugin list --json`", h(&SkillsModule::debugClaudePlugins));
        get("/api/claude/plugins/available", "Plugins offered by the configured marketplaces",
            h(&SkillsModule::availableClaudePlugins));
        get("/api/claude/plugins/marketplaces", "Configured marketplaces", h(&SkillsModule::listMarketplaces));
        post("/api/claude/plugins/marketplaces", "Add a marketplace (directory, git URL or owner/repo)",
             h(&SkillsModule::addMarketplace));
        del("/api/claude/plugins/marketplaces/:name", "Remove a marketplace", h(&SkillsModule::removeMarketplace));
        post("/api/claude/plugins/marketplaces/:name/update", "Refetch a marketplace",
             h(&SkillsModule::updateMarketplace));
        post("/api/claude/plugins/install", "Install a plugin from a marketplace",
             h(&SkillsModule::installClaudePlugin));
        get("/api/claude/plugins/:id", "Plugin detail: manifest, components, README",
            h(&SkillsModule::getClaudePlugin));
        post("/api/claude/plugins/:id/uninstall", "Uninstall a plugin", h(&SkillsModule::uninstallClaudePlugin));
        post("/api/claude/plugins/:id/enable", "Enable a plugin", h(&SkillsModule::enableClaudePlugin));
        post("/api/claude/plugins/:id/disable", "Disable a plugin", h(&SkillsModule::disableClaudePlugin));
        post("/api/claude/plugins/:id/update", "Reinstall a plugin from its marketplace",
             h(&SkillsModule::updateClaudePlugin));
        get("/api/claude/agents", "Agents shipped by installed plugins", h(&SkillsModule::listPluginAgents));
        get("/api/claude/agents/detail", "A plugin agent's definition (?id=)", h(&SkillsModule::getPluginAgentByQuery));
        post("/api/claude/agents/deploy", "Deploy a plugin agent to a CLI", h(&SkillsModule::deployPluginAgent));
        post("/api/claude/agents/undeploy", "Undeploy a plugin agent from a CLI",
             h(&SkillsModule::undeployPluginAgent));
        get("/api/claude/agents/:id", "A plugin agent's definition", h(&SkillsModule::getPluginAgent));
        // Kombuse: plugins (agent packages), plugin files, plugin sources
        get("/api/plugins", "List installed plugins (?project_id=)", h(&SkillsModule::listPlugins));
        get("/api/plugins/available", "Packages in the project's sources that are not installed",
            h(&SkillsModule::availablePlugins));
        post("/api/plugins/install", "Install a local .tar.gz package (201)", h(&SkillsModule::installPlugin));
        post("/api/plugins/install-remote", "Install from a filesystem, git or HTTP source (201)",
             h(&SkillsModule::installRemotePlugin));
        post("/api/plugins/export", "Export project agents, labels, triggers and files as a package",
             h(&SkillsModule::exportPlugin));
        post("/api/plugins/publish", "Export and upload a package to a registry", h(&SkillsModule::publishPlugin));
        get("/api/plugins/:id", "Get a plugin", h(&SkillsModule::getPlugin));
        patch("/api/plugins/:id", "Enable or disable a plugin (cascades)", h(&SkillsModule::patchPlugin));
        del("/api/plugins/:id", "Uninstall a plugin (?mode=orphan|delete, 204)", h(&SkillsModule::deletePlugin));
        post("/api/plugins/:id/pull", "Reinstall the latest version from the plugin's source",
             h(&SkillsModule::pullPlugin));
        get("/api/plugins/:id/check-updates", "Is a newer version available", h(&SkillsModule::checkPluginUpdates));
        get("/api/plugins/:pluginId/files", "Files bundled with a plugin", h(&SkillsModule::listPluginFiles));
        get("/api/plugins/:pluginId/files/:fileId", "One plugin file", h(&SkillsModule::getPluginFile));
        patch("/api/plugins/:pluginId/files/:fileId", "Update a plugin file (kept on reinstall)",
              h(&SkillsModule::patchPluginFile));
        get("/api/plugin-sources", "Global, project and default plugin sources", h(&SkillsModule::getPluginSources));
        put("/api/plugin-sources", "Replace the project's plugin sources", h(&SkillsModule::putPluginSources));
    }

private:
    static JsonObject ok() {
        JsonObject o = makeObject();
        o->set("success", true);
        return o;
    }
    // The active project's directory for project-scope targets; empty when there is none.
    fs::path projectRoot(const Request& rq) const {
        try {
            return resolveActiveProject(*this, rq).localPath;
        } catch (const HttpError&) {
            return {};
        }
    }
    static Target target(const JsonObject& b) {
        return parseTarget(requireString(b, "agent"), atelier::has(b, "scope") ? requireString(b, "scope") : "global");
    }
    void guarded(Request& rq, Response& rs, void (SkillsModule::*fn)(Request&, Response&)) {
        try {
            (this->*fn)(rq, rs);
        } catch (const DomainError& e) {
            static const int status[] = {400, 404, 409, 403, 502, 413};
            std::vector<ErrorDetail> details;
            if (!e.field.empty()) details.push_back({e.field, e.what()});
            rs.error(status[static_cast<int>(e.kind)], e.code, e.what(), details);
        } catch (const fs::filesystem_error& e) {
            host().warn(std::string("skills: filesystem error: ") + e.what());
            rs.error(500, "FILESYSTEM_ERROR", std::string("Filesystem error: ") + e.code().message());
        }
    }

    void listSkills(Request&, Response& rs) {
        JsonObject o = makeObject();
        o->set("skills", registry_->list());
        rs.json(o);
    }
    void skillStatus(Request& rq, Response& rs) { rs.json(registry_->deploymentStatus(projectRoot(rq))); }
    void npxAvailable(Request&, Response& rs) {
        JsonObject o = makeObject();
        o->set("available", SkillRegistry::npxAvailable());
        rs.json(o);
    }
    void scanSkills(Request& rq, Response& rs) {
        auto b = rq.json();
        JsonObject o = makeObject();
        o->set("discovered", registry_->scan(atelier::has(b, "mode") ? requireString(b, "mode") : "project",
                                             optString(b, "scanPath").value_or(""), projectRoot(rq)));
        rs.json(o);
    }
    void importSkills(Request& rq, Response& rs) { rs.json(registry_->import(rq.json())); }
    void installSkill(Request& rq, Response& rs) { rs.json(registry_->install(rq.json(), projectRoot(rq))); }
    void getSkill(Request& rq, Response& rs) {
        JsonObject o = makeObject();
        o->set("skill", registry_->get(rq.param("name")));
        rs.json(o);
    }
    void createSkill(Request& rq, Response& rs) {
        auto o = ok();
        o->set("skill", registry_->create(rq.json()));
        rs.json(o, 201);
    }
    void updateSkill(Request& rq, Response& rs) {
        registry_->update(rq.param("name"), rq.json());
        rs.json(ok());
    }
    void deleteSkill(Request& rq, Response& rs) {
        registry_->remove(rq.param("name"), projectRoot(rq));
        rs.json(ok());
    }
    void deploySkill(Request& rq, Response& rs) {
        registry_->deploy(rq.param("name"), target(rq.json()), projectRoot(rq));
        rs.json(ok());
    }
    void undeploySkill(Request& rq, Response& rs) {
        registry_->undeploy(rq.param("name"), target(rq.json()), projectRoot(rq));
        rs.json(ok());
    }

    void listAgents(Request& rq, Response& rs) {
        JsonObject o = makeObject();
        o->set("agents", agents_->list(projectRoot(rq)));
        rs.json(o);
    }
    void scanAgents(Request& rq, Response& rs) {
        auto b = rq.json();
        JsonObject o = makeObject();
        o->set("discovered", agents_->scan(atelier::has(b, "mode") ? requireString(b, "mode") : "project",
                                           optString(b, "scanPath").value_or(""), projectRoot(rq)));
        rs.json(o);
    }
    void importAgents(Request& rq, Response& rs) { rs.json(agents_->import(rq.json(), projectRoot(rq))); }
    void getAgent(Request& rq, Response& rs) {
        JsonObject o = makeObject();
        o->set("agent", agents_->get(rq.param("id"), projectRoot(rq)));
        rs.json(o);
    }
    void createAgent(Request& rq, Response& rs) {
        auto o = ok();
        o->set("agent", agents_->create(rq.json(), projectRoot(rq)));
        rs.json(o, 201);
    }
    void updateAgent(Request& rq, Response& rs) {
        auto o = ok();
        o->set("agent", agents_->update(rq.param("id"), rq.json(), projectRoot(rq)));
        rs.json(o);
    }
    void deleteAgent(Request& rq, Response& rs) {
        agents_->remove(rq.param("id"), projectRoot(rq));
        rs.json(ok());
    }
    void deployAgent(Request& rq, Response& rs) {
        agents_->deploy(rq.param("id"), target(rq.json()), projectRoot(rq));
        rs.json(ok());
    }
    void undeployAgent(Request& rq, Response& rs) {
        agents_->undeploy(rq.param("id"), target(rq.json()), projectRoot(rq));
        rs.json(ok());
    }

    void listClaudePlugins(Request& rq, Response& rs) { rs.json(claude_.list(projectRoot(rq))); }
    void debugClaudePlugins(Request&, Response& rs) { rs.json(claude_.debug()); }
    void availableClaudePlugins(Request&, Response& rs) { rs.json(claude_.available()); }
    void listMarketplaces(Request&, Response& rs) { rs.json(claude_.marketplaces()); }
    void addMarketplace(Request& rq, Response& rs) {
        claude_.addMarketplace(rq.json());
        rs.json(ok());
    }
    void removeMarketplace(Request& rq, Response& rs) {
        claude_.removeMarketplace(rq.param("name"));
        rs.json(ok());
    }
    void updateMarketplace(Request& rq, Response& rs) {
        claude_.updateMarketplace(rq.param("name"));
        rs.json(ok());
    }
    void installClaudePlugin(Request& rq, Response& rs) {
        claude_.install(rq.json(), projectRoot(rq));
        rs.json(ok());
    }
    void getClaudePlugin(Request& rq, Response& rs) { rs.json(claude_.detail(rq.param("id"), projectRoot(rq))); }
    void uninstallClaudePlugin(Request& rq, Response& rs) {
        claude_.uninstall(rq.param("id"), rq.json(), projectRoot(rq));
        rs.json(ok());
    }
    void enableClaudePlugin(Request& rq, Response& rs) {
        claude_.setEnabled(rq.param("id"), rq.json(), true, projectRoot(rq));
        rs.json(ok());
    }
    void disableClaudePlugin(Request& rq, Response& rs) {
        claude_.setEnabled(rq.param("id"), rq.json(), false, projectRoot(rq));
        rs.json(ok());
    }
    void updateClaudePlugin(Request& rq, Response& rs) {
        claude_.update(rq.param("id"), projectRoot(rq));
        rs.json(ok());
    }
    void listPluginAgents(Request& rq, Response& rs) { rs.json(claude_.agents(projectRoot(rq))); }
    void getPluginAgentByQuery(Request& rq, Response& rs) { rs.json(claude_.agent(rq.query("id"), projectRoot(rq))); }
    void getPluginAgent(Request& rq, Response& rs) { rs.json(claude_.agent(rq.param("id"), projectRoot(rq))); }
    void deployPluginAgent(Request& rq, Response& rs) {
        claude_.deployAgent(rq.json(), true, projectRoot(rq));
        rs.json(ok());
    }
    void undeployPluginAgent(Request& rq, Response& rs) {
        claude_.deployAgent(rq.json(), false, projectRoot(rq));
        rs.json(ok());
    }

    void listPlugins(Request& rq, Response& rs) { rs.json(packages_->list(rq.query("project_id"))); }
    void availablePlugins(Request& rq, Response& rs) {
        if (!rq.hasQuery("project_id"))
            throw badRequest("project_id is required", "VALIDATION_ERROR", {{"project_id", "is required"}});
        rs.json(packages_->available(rq.query("project_id")));
    }
    void installPlugin(Request& rq, Response& rs) { rs.json(packages_->install(rq.json()), 201); }
    void installRemotePlugin(Request& rq, Response& rs) { rs.json(packages_->installRemote(rq.json()), 201); }
    void exportPlugin(Request& rq, Response& rs) { rs.json(packages_->exportPackage(rq.json())); }
    void publishPlugin(Request& rq, Response& rs) { rs.json(packages_->publish(rq.json())); }
    void getPlugin(Request& rq, Response& rs) { rs.json(packages_->get(rq.param("id"))); }
    void patchPlugin(Request& rq, Response& rs) { rs.json(packages_->setEnabled(rq.param("id"), rq.json())); }
    void deletePlugin(Request& rq, Response& rs) {
        packages_->uninstall(rq.param("id"), rq.query("mode", "orphan"));
        rs.noContent();
    }
    void pullPlugin(Request& rq, Response& rs) { rs.json(packages_->pull(rq.param("id"))); }
    void checkPluginUpdates(Request& rq, Response& rs) { rs.json(packages_->checkUpdates(rq.param("id"))); }
    void listPluginFiles(Request& rq, Response& rs) { rs.json(packages_->files(rq.param("pluginId"))); }
    void getPluginFile(Request& rq, Response& rs) {
        rs.json(packages_->file(rq.param("pluginId"), rq.param("fileId")));
    }
    void patchPluginFile(Request& rq, Response& rs) {
        rs.json(packages_->updateFile(rq.param("pluginId"), rq.param("fileId"), rq.json()));
    }
    void getPluginSources(Request& rq, Response& rs) {
        if (!rq.hasQuery("project_id"))
            throw badRequest("project_id is required", "VALIDATION_ERROR", {{"project_id", "is required"}});
        rs.json(packages_->sources(rq.query("project_id")));
    }
    void putPluginSources(Request& rq, Response& rs) { rs.json(packages_->putSources(rq.json())); }

    ClaudePlugins claude_;
    std::unique_ptr<SkillRegistry> registry_;
    std::unique_ptr<Packages> packages_;
    std::unique_ptr<CustomAgents> agents_;
};

}  // namespace atelier::skills

ATELIER_MODULE(atelier::skills::SkillsModule)
