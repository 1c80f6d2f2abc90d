#include "project_config.hpp"

#include "config_schema.hpp"
#include "domain_error.hpp"

#include <atelier/util.hpp>

#include <Poco/JSON/Parser.h>

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace atelier::config {

std::mutex& configWriteMutex() {
    static std::mutex m;
    return m;
}

std::string readTextFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

JsonObject readJsonFile(const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return nullptr;
    std::string text = readTextFile(p);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return makeObject();
    try {
        auto v = Poco::JSON::Parser().parse(text);
        if (v.type() == typeid(JsonObject)) return v.extract<JsonObject>();
    } catch (...) {
    }
    throw DomainError(DomainError::Kind::Conflict, "CONFIG_INVALID",
                      p.filename().string() + " is not a valid JSON object; fix or delete it");
}

void writeTextFile(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    fs::path tmp = p;
    tmp += ".tmp-" + std::to_string(::getpid()) + "-" + randomHex(6);
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw DomainError(DomainError::Kind::Failed, "WRITE_FAILED", "Cannot write " + p.string());
        out << text;
        out.flush();
        if (!out) throw DomainError(DomainError::Kind::Failed, "WRITE_FAILED", "Cannot write " + p.string());
    }
    std::error_code ec;
    fs::rename(tmp, p, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw DomainError(DomainError::Kind::Failed, "WRITE_FAILED", "Cannot write " + p.string());
    }
}

void writeJsonFile(const fs::path& p, const JsonObject& o) {
    std::ostringstream os;
    Poco::JSON::Stringifier::stringify(o, os, 2);
    writeTextFile(p, os.str() + "\n");
}

ProjectConfig::ProjectConfig(fs::path root) : root_(std::move(root)) {}

bool ProjectConfig::exists() const {
    std::error_code ec;
    return fs::is_regular_file(configPath(), ec);
}

void ProjectConfig::ensureDir() const { fs::create_directories(dir()); }

const char* ProjectConfig::gitignoreText() { return "*\n!.gitignore\n!config.json\n"; }

JsonObject ProjectConfig::merged() const {
    auto stored = readJsonFile(configPath());
    auto out = overlay(defaultConfig(), stored);
    auto local = localMerged();
    for (auto& k : localOnlyKeys()) out->set(k, local->get(k));
    return out;
}

JsonObject ProjectConfig::localMerged() const { return overlay(defaultLocalConfig(), readJsonFile(localPath())); }

JsonObject ProjectConfig::patch(const JsonObject& updates) {
    validateConfigPatch(updates);
    std::lock_guard lock(configWriteMutex());
    auto shared = makeObject();
    auto local = makeObject();
    for (auto& [k, v] : *updates) (localOnlyKeys().count(k) ? local : shared)->set(k, v);
    // Read both before writing either, so a broken file fails the whole request.
    auto stored = readJsonFile(configPath());
    auto storedLocal = readJsonFile(localPath());
    if (shared->size() > 0) {
        if (!stored) stored = makeObject();
        mergeInto(stored, shared, {"ports", "activity", "opsLog", "devServer"});
    }
    if (local->size() > 0) {
        if (!storedLocal) storedLocal = makeObject();
        mergeInto(storedLocal, local, {});
    }
    if (shared->size() == 0 && local->size() == 0) return merged();  // nothing to write
    ensureDir();
    if (shared->size() > 0) writeJsonFile(configPath(), stored);
    if (local->size() > 0) writeJsonFile(localPath(), storedLocal);
    std::error_code ec;
    if (!fs::exists(gitignorePath(), ec)) writeTextFile(gitignorePath(), gitignoreText());
    return merged();
}

JsonObject ProjectConfig::patchLocal(const JsonObject& updates) {
    validateLocalConfigPatch(updates);
    std::lock_guard lock(configWriteMutex());
    auto stored = readJsonFile(localPath());
    if (!stored) stored = makeObject();
    mergeInto(stored, updates, {"shortcuts"});
    ensureDir();
    writeJsonFile(localPath(), stored);
    std::error_code ec;
    if (!fs::exists(gitignorePath(), ec)) writeTextFile(gitignorePath(), gitignoreText());
    return localMerged();
}

JsonObject ProjectConfig::init(const JsonObject& values, bool force) {
    validateConfigPatch(values);
    std::lock_guard lock(configWriteMutex());
    if (exists() && !force)
        throw DomainError(DomainError::Kind::Invalid, "CONFIG_EXISTS", "Config already exists");
    auto cfg = makeObject();
    cfg->set("projectDir", ".");
    cfg->set("startCommand", "");
    cfg->set("installCommand", "");
    cfg->set("baseBranch", "main");
    auto ports = makeObject();
    ports->set("discovered", makeArray());
    ports->set("offsetStep", 1);
    cfg->set("ports", ports);
    cfg->set("envMapping", makeObject());
    cfg->set("autoInstall", true);
    cfg->set("localIssuePrefix", "LOCAL");
    for (auto& [k, v] : *values) {
        if (localOnlyKeys().count(k) || v.isEmpty()) continue;
        cfg->set(k, deepCopy(v));
    }
    ensureDir();
    writeJsonFile(configPath(), cfg);
    writeTextFile(gitignorePath(), gitignoreText());
    return merged();
}

}  // namespace atelier::config
