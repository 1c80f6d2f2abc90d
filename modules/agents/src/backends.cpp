#include "backends.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <stdexcept>
#include <thread>

namespace agents {

namespace fs = std::filesystem;
using atelier::makeArray;
using atelier::makeObject;

const std::vector<CliSpec>& cliSpecs() {
    static const std::vector<CliSpec> specs{
        {"claude-code", "claude", "Claude", "claude", "@anthropic-ai/claude-code", "claude-code"},
        {"codex", "codex", "Codex", "codex", "@openai/codex", "codex"},
        {"gemini", "gemini", "Gemini", "gemini", "@google/gemini-cli", "gemini-cli"},
        {"opencode", "opencode", "OpenCode", "opencode", "opencode-ai", "opencode"},
    };
    return specs;
}

const CliSpec* cliForBackend(const std::string& backend) {
    for (auto& s : cliSpecs())
        if (s.backend == backend) return &s;
    return nullptr;
}

const CliSpec* cliForOpenkitName(const std::string& name) {
    for (auto& s : cliSpecs())
        if (s.openkitName == name) return &s;
    return nullptr;
}

namespace {
std::mutex loginPathMutex;
std::optional<std::string> loginPathCache;
std::thread probeThread;
ChildProcess* probeProc = nullptr;
bool probeRunning = false;
bool probeStopping = false;
}  // namespace

std::string loginShellPath() {
    std::lock_guard lock(loginPathMutex);
    return loginPathCache.value_or("");
}

void startLoginShellProbe() {
    std::lock_guard lock(loginPathMutex);
    if (probeRunning || probeStopping) return;
    if (probeThread.joinable()) probeThread.join();
    probeRunning = true;
    probeThread = std::thread([] {
        const char* shell = std::getenv("SHELL");
        std::string sh = shell && *shell ? shell : "/bin/sh";
        std::string out;
        ExitStatus st;
        try {
            ChildProcess p;
            SpawnSpec spec;
            // A constant command: prints the PATH the user's login shell sets up.
            spec.argv = {sh, "-lc", "printf '%s' \"$PATH\""};
            p.spawn(spec);
            p.closeStdin();
            p.setTimeout(30000);
            {
                std::lock_guard l(loginPathMutex);
                probeProc = &p;
                if (probeStopping) p.terminate(100);
            }
            st = p.pump([&](bool isErr, const std::string& line) {
                if (!isErr) out += line + "\n";
            });
            std::lock_guard l(loginPathMutex);
            probeProc = nullptr;
        } catch (...) {
            out.clear();
        }
        while (!out.empty() && out.back() == '\n') out.pop_back();
        if (auto nl = out.rfind('\n'); nl != std::string::npos) out = out.substr(nl + 1);
        std::lock_guard l(loginPathMutex);
        if (st.ok()) loginPathCache = out;
        probeRunning = false;
    });
}

void stopLoginShellProbe() {
    {
        std::lock_guard lock(loginPathMutex);
        probeStopping = true;
        if (probeProc) probeProc->terminate(100);
    }
    if (probeThread.joinable()) probeThread.join();
    std::lock_guard lock(loginPathMutex);
    probeStopping = false;
}

std::string locateCli(const std::string& command) {
    const char* path = std::getenv("PATH");
    std::string found = findExecutable(command, path ? path : "/usr/bin:/bin");
    if (!found.empty()) return found;
    return findExecutable(command, loginShellPath());
}

namespace {

void writeFile(const fs::path& p, const std::string& content, bool executable = false) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + p.string());
    if (executable) chmod(p.c_str(), 0755);
}

std::string shellSingleQuote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out.push_back(c);
    }
    return out + "'";
}

}  // namespace

std::string writeHookForwarder(const std::string& runDir, const std::string& hookUrl) {
    fs::path p = fs::path(runDir) / "hook-forward.sh";
    // The URL is built by the module from the loopback port and the run's UUID.
    writeFile(p,
              "#!/bin/sh\n"
              "# Forwards a CLI hook payload (stdin) to the run's hook endpoint and prints the reply.\n"
              "exec curl -sS --max-time 60 -X POST -H 'Content-Type: application/json' --data-binary @- " +
                  shellSingleQuote(hookUrl) + "\n",
              true);
    return p.string();
}

JsonObject claudeHookSettings(const std::string& forwarder) {
    auto hooks = makeObject();
    const std::vector<std::pair<std::string, bool>> events{
        {"UserPromptSubmit", false}, {"Stop", false},         {"StopFailure", false},      {"SessionStart", false},
        {"SessionEnd", false},       {"PreToolUse", true},    {"PostToolUse", true},       {"PostToolUseFailure", true},
        {"Notification", false},     {"PermissionRequest", true}, {"SubagentStart", true}, {"SubagentStop", true}};
    for (auto& [name, matcher] : events) {
        auto cmd = makeObject();
        cmd->set("type", "command");
        cmd->set("command", forwarder);
        auto list = makeArray();
        list->add(cmd);
        auto entry = makeObject();
        if (matcher) entry->set("matcher", "*");
        entry->set("hooks", list);
        auto arr = makeArray();
        arr->add(entry);
        hooks->set(name, arr);
    }
    auto settings = makeObject();
    settings->set("hooks", hooks);
    return settings;
}

void seedCodexHome(const std::string& codexHome, const std::string& userHome, const std::string& trustedDir,
                   const std::string& forwarder, const std::string& mcpUrl) {
    fs::create_directories(codexHome);
    std::error_code ec;
    std::string config;
    for (auto name : {"auth.json", "config.toml", "models_cache.json", "version.json"}) {
        fs::path src = fs::path(userHome) / ".codex" / name;
        if (!fs::exists(src, ec)) continue;
        fs::copy_file(src, fs::path(codexHome) / name, fs::copy_options::overwrite_existing, ec);
    }
    {
        std::ifstream in(fs::path(codexHome) / "config.toml");
        std::stringstream ss;
        ss << in.rdbuf();
        config = ss.str();
    }
    std::string escaped;
    for (char c : trustedDir) {
        if (c == '"' || c == '\\') escaped.push_back('\\');
        escaped.push_back(c);
    }
    config += "\n[projects.\"" + escaped + "\"]\ntrust_level = \"trusted\"\n";
    // Atelier's MCP server, unless the user's configuration already names one `atelier`.
    if (!mcpUrl.empty() && config.find("[mcp_servers.atelier]") == std::string::npos)
        config += "\n[mcp_servers.atelier]\nurl = \"" + mcpUrl + "\"\n";
    writeFile(fs::path(codexHome) / "config.toml", config);
    auto hooks = makeObject();
    for (auto name : {"UserPromptSubmit", "Stop", "PreToolUse", "PostToolUse", "SessionStart"}) {
        auto cmd = makeObject();
        cmd->set("type", "command");
        cmd->set("command", forwarder);
        auto list = makeArray();
        list->add(cmd);
        auto entry = makeObject();
        entry->set("hooks", list);
        auto arr = makeArray();
        arr->add(entry);
        hooks->set(name, arr);
    }
    auto root = makeObject();
    root->set("hooks", hooks);
    writeFile(fs::path(codexHome) / "hooks.json", atelier::toJson(root));
}

LaunchPlan buildLaunch(const LaunchInput& in) {
    LaunchPlan plan;
    fs::create_directories(in.runDir);
    std::string forwarder = writeHookForwarder(in.runDir, in.hookUrl);
    auto& spec = plan.spec;
    spec.cwd = in.cwd;
    spec.env["ATELIER_RUN_ID"] = in.runId;
    spec.env["ATELIER_HOOK_URL"] = in.hookUrl;
    spec.env["ATELIER_HOOK_FORWARDER"] = forwarder;
    std::string exe = in.executable;
    // The run reaches Atelier's own MCP server (tickets, runs, worktrees) on the same listener
    // as its hooks, so an agent can read its ticket and report progress.
    std::string mcpUrl;
    if (auto api = in.hookUrl.find("/api/"); api != std::string::npos) mcpUrl = in.hookUrl.substr(0, api) + "/mcp";
    if (!mcpUrl.empty()) spec.env["ATELIER_MCP_URL"] = mcpUrl;
    if (in.backend == "claude-code") {
        fs::path settings = fs::path(in.runDir) / "claude-settings.json";
        writeFile(settings, atelier::toJson(claudeHookSettings(forwarder)));
        spec.argv = {exe, "-p", in.prompt, "--output-format", "stream-json", "--verbose", "--include-partial-messages",
                     "--settings", settings.string(), "--max-turns", std::to_string(in.maxTurns)};
        if (!in.model.empty()) spec.argv.insert(spec.argv.end(), {"--model", in.model});
        if (!in.instructions.empty()) spec.argv.insert(spec.argv.end(), {"--append-system-prompt", in.instructions});
        if (!in.allowedTools.empty()) spec.argv.insert(spec.argv.end(), {"--allowedTools", in.allowedTools});
        for (auto& d : in.extraDirs) spec.argv.insert(spec.argv.end(), {"--add-dir", d});
        if (!in.resumeSessionId.empty()) spec.argv.insert(spec.argv.end(), {"--resume", in.resumeSessionId});
        if (!mcpUrl.empty()) {
            auto server = makeObject();
            server->set("type", "http");
            server->set("url", mcpUrl);
            auto servers = makeObject();
            servers->set("atelier", server);
            auto root = makeObject();
            root->set("mcpServers", servers);
            fs::path mcpConfig = fs::path(in.runDir) / "mcp-config.json";
            writeFile(mcpConfig, atelier::toJson(root));
            spec.argv.insert(spec.argv.end(), {"--mcp-config", mcpConfig.string()});
        }
        spec.unsetEnv.push_back("ANTHROPIC_API_KEY");  // use the user's CLI login, as Kombuse does
    } else if (in.backend == "codex") {
        std::string codexHome = (fs::path(in.runDir) / "codex-home").string();
        const char* home = std::getenv("HOME");
        seedCodexHome(codexHome, home ? home : "/root", in.cwd, forwarder, mcpUrl);
        spec.env["CODEX_HOME"] = codexHome;
        spec.argv = {exe, "app-server", "--listen", "stdio://"};
        auto initParams = makeObject();
        auto client = makeObject();
        client->set("name", "atelier");
        client->set("version", "0.1.0");
        initParams->set("clientInfo", client);
        auto req = [](int id, const std::string& method, const JsonObject& params) {
            auto o = makeObject();
            o->set("jsonrpc", "2.0");
            o->set("id", id);
            o->set("method", method);
            o->set("params", params);
            return atelier::toJson(o);
        };
        plan.initialStdin.push_back(req(1, "initialize", initParams));
        auto note = makeObject();
        note->set("jsonrpc", "2.0");
        note->set("method", "initialized");
        plan.initialStdin.push_back(atelier::toJson(note));
        auto threadParams = makeObject();
        threadParams->set("cwd", in.cwd);
        if (!in.model.empty()) threadParams->set("model", in.model);
        if (!in.instructions.empty()) threadParams->set("developerInstructions", in.instructions);
        threadParams->set("approvalPolicy", "on-request");
        if (!in.resumeSessionId.empty()) {
            threadParams->set("threadId", in.resumeSessionId);
            plan.initialStdin.push_back(req(2, "thread/resume", threadParams));
        } else {
            plan.initialStdin.push_back(req(2, "thread/start", threadParams));
        }
        plan.closeStdinAfterInit = false;  // turn/start follows once the thread id is known
    } else if (in.backend == "gemini") {
        fs::path settings = fs::path(in.runDir) / "gemini-settings.json";
        auto hooks = makeObject();
        for (auto name : {"BeforeTool", "AfterTool", "SessionStart", "SessionEnd", "Notification"}) {
            auto cmd = makeObject();
            cmd->set("type", "command");
            cmd->set("command", forwarder);
            auto list = makeArray();
            list->add(cmd);
            auto entry = makeObject();
            entry->set("matcher", "*");
            entry->set("hooks", list);
            auto arr = makeArray();
            arr->add(entry);
            hooks->set(name, arr);
        }
        auto root = makeObject();
        root->set("hooks", hooks);
        writeFile(settings, atelier::toJson(root));
        spec.env["GEMINI_CLI_SYSTEM_SETTINGS_PATH"] = settings.string();
        spec.argv = {exe, "-p", in.prompt, "--output-format", "stream-json", "--approval-mode", "auto_edit"};
        if (!in.model.empty()) spec.argv.insert(spec.argv.end(), {"--model", in.model});
        for (auto& d : in.extraDirs) spec.argv.insert(spec.argv.end(), {"--include-directories", d});
        if (!in.resumeSessionId.empty()) spec.argv.insert(spec.argv.end(), {"--resume", in.resumeSessionId});
        if (!in.instructions.empty()) {
            fs::path sys = fs::path(in.runDir) / "gemini-system.md";
            writeFile(sys, in.instructions);
            spec.env["GEMINI_SYSTEM_MD"] = sys.string();
        }
    } else if (in.backend == "opencode") {
        spec.argv = {exe, "run", "--format", "json"};
        if (!in.model.empty()) spec.argv.insert(spec.argv.end(), {"--model", in.model});
        if (!in.resumeSessionId.empty()) spec.argv.insert(spec.argv.end(), {"--session", in.resumeSessionId});
        std::string prompt = in.instructions.empty() ? in.prompt : in.instructions + "\n\n" + in.prompt;
        spec.argv.push_back(prompt);
    } else {
        throw std::runtime_error("backend " + in.backend + " is not a CLI backend");
    }
    return plan;
}

JsonArray BackendStatusCache::get(bool refresh) {
    std::lock_guard lock(mutex_);
    if (cached_ && !refresh) return cached_;
    if (refresh) startLoginShellProbe();
    auto out = makeArray();
    std::string now = atelier::nowIso();
    for (auto& spec : cliSpecs()) {
        auto o = makeObject();
        o->set("backend_type", spec.backend);
        o->set("label", spec.label);
        o->set("command", spec.command);
        std::string path = locateCli(spec.command);
        o->set("available", !path.empty());
        o->set("path", path.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(path));
        Poco::Dynamic::Var version;
        if (!path.empty()) {
            std::string text;
            try {
                if (runCapture({path, "--version"}, text, 5000).ok()) {
                    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
                    if (auto nl = text.find('\n'); nl != std::string::npos) text = text.substr(0, nl);
                    version = text;
                }
            } catch (...) {
            }
        }
        o->set("version", version);
        o->set("checked_at", now);
        out->add(o);
    }
    auto mock = makeObject();
    mock->set("backend_type", "mock");
    mock->set("label", "Mock");
    mock->set("command", Poco::Dynamic::Var());
    mock->set("available", true);
    mock->set("path", Poco::Dynamic::Var());
    mock->set("version", "0.1.0");
    mock->set("checked_at", now);
    out->add(mock);
    cached_ = out;
    return out;
}

namespace {
struct ModelDef {
    const char* backend;
    std::vector<std::pair<const char*, const char*>> models;
};
const std::vector<ModelDef>& builtinModels() {
    static const std::vector<ModelDef> defs{
        {"claude-code", {{"claude-sonnet-4-6", "Claude Sonnet 4.6"}, {"claude-opus-4-6", "Claude Opus 4.6"}, {"claude-haiku-4-5", "Claude Haiku 4.5"}}},
        {"codex", {{"gpt-5-codex", "GPT-5 Codex"}, {"gpt-5", "GPT-5"}}},
        {"gemini", {{"gemini-2.5-pro", "Gemini 2.5 Pro"}, {"gemini-2.5-flash", "Gemini 2.5 Flash"}}},
        {"opencode", {{"anthropic/claude-sonnet-4-6", "Claude Sonnet 4.6 (opencode)"}, {"openai/gpt-5", "GPT-5 (opencode)"}}},
        {"mock", {{"mock-1", "Mock model"}}},
    };
    return defs;
}
}  // namespace

std::string defaultModelFor(const std::string& backend, const JsonObject& cfg) {
    auto overrides = obj(obj(cfg, "models"), backend);
    if (overrides && !str(overrides, "default_model_id").empty()) return str(overrides, "default_model_id");
    for (auto& d : builtinModels())
        if (backend == d.backend) return d.models.front().first;
    return {};
}

JsonObject modelsCatalog(const JsonObject& cfg) {
    auto backends = makeArray();
    for (auto& d : builtinModels()) {
        auto b = makeObject();
        b->set("backend_type", d.backend);
        auto models = makeArray();
        auto overrides = obj(obj(cfg, "models"), d.backend);
        if (auto list = arr(overrides, "models")) {
            models = list;
        } else {
            for (auto& [id, name] : d.models) {
                auto m = makeObject();
                m->set("id", id);
                m->set("name", name);
                models->add(m);
            }
        }
        b->set("models", models);
        b->set("default_model_id", defaultModelFor(d.backend, cfg));
        backends->add(b);
    }
    auto out = makeObject();
    out->set("backends", backends);
    out->set("default_backend", str(cfg, "default_backend", "claude-code"));
    out->set("default_model_id", defaultModelFor(str(cfg, "default_backend", "claude-code"), cfg));
    return out;
}

JsonObject cliStatus(const CliSpec& spec) {
    auto o = makeObject();
    o->set("success", true);
    o->set("agent", spec.openkitName);
    o->set("label", spec.label);
    o->set("command", spec.command);
    o->set("installed", !locateCli(spec.command).empty());
    o->set("brewPackage", spec.brewPackage);
    o->set("npmPackage", spec.npmPackage);
    return o;
}

JsonObject cliInstall(const CliSpec& spec) {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    std::string npm = findExecutable("npm", p);
    std::string brew = findExecutable("brew", p);
    std::vector<std::string> argv;
    std::string via;
    if (!npm.empty()) {
        argv = {npm, "install", "-g", spec.npmPackage};
        via = "npm";
    } else if (!brew.empty()) {
        argv = {brew, "install", spec.brewPackage};
        via = "brew";
    } else {
        throw invalidInput("Cannot install " + spec.label + ": neither npm nor Homebrew (brew) is installed",
                           "PACKAGE_MANAGER_MISSING");
    }
    std::string output;
    ExitStatus st;
    try {
        st = runCapture(argv, output, 600000);
    } catch (const std::exception& e) {
        throw invalidInput(std::string("Install failed: ") + e.what(), "INSTALL_FAILED");
    }
    if (!st.ok()) {
        if (output.size() > 2000) output = output.substr(output.size() - 2000);
        throw invalidInput(via + " install of " + (via == "npm" ? spec.npmPackage : spec.brewPackage) + " failed (" +
                               st.describe() + "): " + output,
                           "INSTALL_FAILED");
    }
    auto o = makeObject();
    o->set("success", true);
    o->set("agent", spec.openkitName);
    o->set("label", spec.label);
    o->set("command", spec.command);
    o->set("brewPackage", spec.brewPackage);
    o->set("npmPackage", spec.npmPackage);
    o->set("installedWith", via);
    o->set("installed", !locateCli(spec.command).empty());
    return o;
}

}  // namespace agents
