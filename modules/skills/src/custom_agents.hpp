// Custom agents (OpenKit's /api/claude/custom-agents) kept in the agents module's store, so
// there is one definition per agent; `source` records where it came from. Deployed by copying
// <slug>.md (front matter name, description, tools, model + the system prompt) into each CLI's
// agents directory. Knows nothing of HTTP.
#pragma once

#include <atelier/sdk.hpp>

#include "targets.hpp"

namespace atelier::skills {

class CustomAgents {
public:
    explicit CustomAgents(Host host) : host_(std::move(host)) {}

    JsonArray list(const fs::path& projectRoot) const;
    JsonObject get(const std::string& id, const fs::path& projectRoot) const;
    JsonObject create(const JsonObject& body, const fs::path& projectRoot);
    JsonObject update(const std::string& id, const JsonObject& body, const fs::path& projectRoot);
    void remove(const std::string& id, const fs::path& projectRoot);
    void deploy(const std::string& id, const Target& t, const fs::path& projectRoot);
    void undeploy(const std::string& id, const Target& t, const fs::path& projectRoot);
    JsonArray scan(const std::string& mode, const std::string& scanPath, const fs::path& projectRoot) const;
    JsonObject import(const JsonObject& body, const fs::path& projectRoot);

    static std::string markdown(const JsonObject& agent);
    // Deployment map {agent: {global, project}} for a file name in the CLIs' agents directories.
    static JsonObject deployments(const std::string& fileName, const fs::path& projectRoot);

private:
    JsonObject stored(const std::string& id) const;  // the agents-module object for custom::<slug>
    JsonObject view(const JsonObject& agent, const fs::path& projectRoot) const;
    void syncDeployed(const JsonObject& agent, const fs::path& projectRoot) const;

    Host host_;
};

}  // namespace atelier::skills
