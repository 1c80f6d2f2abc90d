// The skills registry: <data>/skills/<name>/SKILL.md (+ reference.md, examples.md), deployed
// into each agent CLI's skills directory as a relative symlink. Knows nothing of HTTP.
#pragma once

#include <atelier/sdk.hpp>
#include <mutex>

#include "targets.hpp"

namespace atelier::skills {

// SKILL.md front matter keys in the order they are written (OpenKit's buildSkillMd).
const std::vector<std::string>& skillFrontMatterKeys();

class SkillRegistry {
public:
    explicit SkillRegistry(fs::path root) : root_(std::move(root)) {}
    const fs::path& root() const { return root_; }

    JsonArray list() const;
    JsonObject get(const std::string& name) const;
    JsonObject create(const JsonObject& body);
    void update(const std::string& name, const JsonObject& body);
    // Removes the skill and every symlink to it in the CLIs' global and project directories.
    void remove(const std::string& name, const fs::path& projectRoot);
    void deploy(const std::string& name, const Target& t, const fs::path& projectRoot);
    void undeploy(const std::string& name, const Target& t, const fs::path& projectRoot);
    JsonObject deploymentStatus(const fs::path& projectRoot) const;
    JsonArray scan(const std::string& mode, const std::string& scanPath, const fs::path& projectRoot) const;
    JsonObject import(const JsonObject& body);
    // `npx skills add` with an argv vector, then copies the new skill directories in.
    JsonObject install(const JsonObject& body, const fs::path& projectRoot);
    static bool npxAvailable();

private:
    fs::path skillDir(const std::string& name) const;  // validated; must exist
    JsonObject summary(const std::string& name) const;
    bool deployedAt(const std::string& name, const Target& t, const fs::path& projectRoot) const;
    void importDir(const fs::path& from, const std::string& name);

    fs::path root_;
    mutable std::mutex mu_;
};

}  // namespace atelier::skills
