// `<project>/.atelier/`: config.json (committed), config.local.json (local only) and the
// .gitignore that keeps only what should be committed. No HTTP here.
#pragma once

#include <atelier/sdk.hpp>

#include <filesystem>
#include <mutex>
#include <string>

namespace atelier::config {

namespace fs = std::filesystem;

// Reads a JSON object file; nullptr when missing. Throws DomainError when not an object.
JsonObject readJsonFile(const fs::path& p);
// Writes pretty JSON + "\n" through a temporary file and rename (never a partial file).
void writeJsonFile(const fs::path& p, const JsonObject& o);
void writeTextFile(const fs::path& p, const std::string& text);
std::string readTextFile(const fs::path& p);

class ProjectConfig {
public:
    explicit ProjectConfig(fs::path root);

    const fs::path& root() const { return root_; }
    fs::path dir() const { return root_ / ".atelier"; }
    fs::path configPath() const { return dir() / "config.json"; }
    fs::path localPath() const { return dir() / "config.local.json"; }
    fs::path gitignorePath() const { return dir() / ".gitignore"; }
    bool exists() const;

    // Defaults + config.json + the local-only keys of config.local.json.
    JsonObject merged() const;
    // Defaults + config.local.json.
    JsonObject localMerged() const;

    // Validates the partial update, routes local-only keys to config.local.json and the rest
    // to config.json, and returns the new merged config.
    JsonObject patch(const JsonObject& updates);
    JsonObject patchLocal(const JsonObject& updates);

    // Writes config.json from `values` (already validated) and the .gitignore. Throws
    // DomainError CONFIG_EXISTS unless `force`.
    JsonObject init(const JsonObject& values, bool force);

    static const char* gitignoreText();

private:
    void ensureDir() const;
    fs::path root_;
};

// Serialises writers of one project's .atelier files across threads.
std::mutex& configWriteMutex();

}  // namespace atelier::config
