#include "project_init.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace projects {

namespace fs = std::filesystem;
using Kind = ProjectError::Kind;

namespace {

const char* kAgentsMarker = "<!-- atelier:agents -->";

std::string readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw ProjectError(Kind::Conflict, "FILE_UNREADABLE", "Cannot read " + p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// `rel` resolved under `root`; refused when it (or what its symlink points to) leaves root.
fs::path insideRoot(const fs::path& root, const std::string& rel) {
    fs::path target = root / rel;
    std::error_code ec;
    // Follow symlinks by hand: weakly_canonical leaves a dangling link unresolved.
    fs::path resolved = target;
    for (int hops = 0; hops < 40 && fs::is_symlink(resolved, ec); ++hops) {
        fs::path link = fs::read_symlink(resolved, ec);
        if (ec) break;
        resolved = link.is_absolute() ? link : resolved.parent_path() / link;
    }
    resolved = fs::weakly_canonical(resolved, ec);
    if (ec) throw ProjectError(Kind::Conflict, "PATH_OUTSIDE_PROJECT", "Cannot resolve " + target.string());
    auto r = resolved.lexically_relative(root);
    if (r.empty() || *r.begin() == "..")
        throw ProjectError(Kind::Conflict, "PATH_OUTSIDE_PROJECT",
                           rel + " resolves outside the project directory (" + resolved.string() + ")");
    return resolved;
}

void writeAtomically(const fs::path& target, const std::string& content) {
    fs::path tmp = target;
    tmp += ".atelier-tmp-" + atelier::randomHex(8);
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
        out << content;
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw std::runtime_error("cannot replace " + target.string());
    }
}

struct PlannedWrite {
    InitStep step;
    fs::path target;
    std::string content;
    bool mkdir = false;
};

std::string agentsSection() {
    return std::string(kAgentsMarker) +
           "\n## Atelier\n\n"
           "This project is managed by Atelier, a local control plane for coding agents.\n\n"
           "- The Atelier MCP server is configured in `.mcp.json` (server name `atelier`); use its tools to\n"
           "  read and update tickets instead of editing tracking files by hand.\n"
           "- Worktrees created by Atelier live in `.atelier/worktrees/<id>`; work only inside the worktree\n"
           "  you were started in.\n"
           "- Project configuration lives in `.atelier/config.json`.\n";
}

}  // namespace

std::string mcpEndpoint(const InitSettings& settings) {
    if (!settings.mcpUrl.empty()) return settings.mcpUrl;
    std::ifstream in(fs::path(settings.dataDir) / "server-port");
    int port = 0;
    if (in >> port && port > 0 && port < 65536) return "http://127.0.0.1:" + std::to_string(port) + "/mcp";
    throw ProjectError(Kind::Conflict, "SERVER_PORT_UNKNOWN",
                       "The server port is unknown (no server-port file); set the projects module's mcpUrl");
}

InitReport initProject(const Project& project, const InitOptions& options, const InitSettings& settings) {
    if (!project.localPath)
        throw ProjectError(Kind::Invalid, "NO_LOCAL_PATH", "The project has no local_path configured", "local_path");
    std::error_code ec;
    if (!fs::is_directory(*project.localPath, ec))
        throw ProjectError(Kind::Invalid, "LOCAL_PATH_NOT_FOUND",
                           "The project's local_path is not an existing directory: " + *project.localPath,
                           "local_path");
    fs::path root = fs::canonical(*project.localPath, ec);
    if (ec)
        throw ProjectError(Kind::Invalid, "LOCAL_PATH_NOT_FOUND", "Cannot resolve " + *project.localPath, "local_path");

    InitReport report;
    report.root = root.string();
    std::vector<PlannedWrite> plan;

    // .mcp.json: add (or refresh) the `atelier` server, keeping every other entry.
    if (options.skipMcpJson) {
        report.steps.push_back({"mcpJson", ".mcp.json", "skipped"});
    } else {
        auto target = insideRoot(root, ".mcp.json");
        atelier::JsonObject doc = atelier::makeObject();
        bool exists = fs::exists(target, ec);
        std::string before;
        if (exists) {
            before = readFile(target);
            if (before.find_first_not_of(" \t\r\n") != std::string::npos) {
                doc = atelier::parseObject(before);
                if (!doc)
                    throw ProjectError(Kind::Conflict, "INVALID_MCP_JSON",
                                       ".mcp.json exists but is not a JSON object; fix or remove it first");
            } else {
                doc = atelier::makeObject();
            }
        }
        atelier::JsonObject servers;
        if (doc->has("mcpServers")) {
            auto v = doc->get("mcpServers");
            if (v.type() != typeid(atelier::JsonObject))
                throw ProjectError(Kind::Conflict, "INVALID_MCP_JSON",
                                   ".mcp.json has an mcpServers field that is not an object");
            servers = v.extract<atelier::JsonObject>();
        } else {
            servers = atelier::makeObject();
            doc->set("mcpServers", servers);
        }
        auto entry = atelier::makeObject();
        entry->set("type", "http");
        entry->set("url", mcpEndpoint(settings));
        std::string oldEntry = servers->has("atelier") ? atelier::toJson(servers->get("atelier")) : "";
        servers->set("atelier", entry);
        std::ostringstream os;
        Poco::JSON::Stringifier::stringify(doc, os, 2);
        std::string content = os.str() + "\n";
        std::string action = !exists ? "created" : oldEntry == atelier::toJson(entry) ? "unchanged" : "updated";
        plan.push_back({{"mcpJson", ".mcp.json", action}, target, content});
    }

    // AGENTS.md: create, or append the Atelier section once.
    if (options.skipAgentsMd) {
        report.steps.push_back({"agentsMd", "AGENTS.md", "skipped"});
    } else {
        auto target = insideRoot(root, "AGENTS.md");
        if (!fs::exists(target, ec)) {
            plan.push_back(
                {{"agentsMd", "AGENTS.md", "created"}, target, "# Agent instructions\n\n" + agentsSection()});
        } else {
            std::string before = readFile(target);
            if (before.find(kAgentsMarker) != std::string::npos) {
                plan.push_back({{"agentsMd", "AGENTS.md", "unchanged"}, target, before});
            } else {
                std::string sep = before.empty() || before.back() == '\n' ? "\n" : "\n\n";
                plan.push_back({{"agentsMd", "AGENTS.md", "updated"}, target, before + sep + agentsSection()});
            }
        }
    }

    // .atelier/: the project's Atelier directory; only config.json is meant to be committed.
    if (options.skipAtelierDir) {
        report.steps.push_back({"atelierDir", ".atelier/", "skipped"});
    } else {
        auto dir = insideRoot(root, ".atelier");
        if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
            throw ProjectError(Kind::Conflict, "PATH_CONFLICT", ".atelier exists and is not a directory");
        bool dirExists = fs::is_directory(dir, ec);
        plan.push_back({{"atelierDir", ".atelier/", dirExists ? "unchanged" : "created"}, dir, "", true});
        auto ignore = dirExists ? insideRoot(root, ".atelier/.gitignore") : dir / ".gitignore";
        if (!fs::exists(ignore, ec))
            plan.push_back(
                {{"atelierDir", ".atelier/.gitignore", "created"}, ignore, "*\n!.gitignore\n!config.json\n"});
    }

    // .gitignore: the entries that keep worktrees and local state out of the repository.
    if (options.skipGitignore) {
        report.steps.push_back({"gitignore", ".gitignore", "skipped"});
    } else {
        auto target = insideRoot(root, ".gitignore");
        bool exists = fs::exists(target, ec);
        std::string before = exists ? readFile(target) : "";
        std::vector<std::string> lines;
        {
            std::istringstream in(before);
            std::string l;
            while (std::getline(in, l)) {
                if (!l.empty() && l.back() == '\r') l.pop_back();
                lines.push_back(l);
            }
        }
        std::string add;
        for (const char* entry : {".atelier/worktrees/", ".atelier/*.local.json"}) {
            if (std::find(lines.begin(), lines.end(), entry) == lines.end()) add += std::string(entry) + "\n";
        }
        if (add.empty()) {
            plan.push_back({{"gitignore", ".gitignore", "unchanged"}, target, before});
        } else {
            std::string content = before;
            if (!content.empty() && content.back() != '\n') content += "\n";
            if (!content.empty()) content += "\n";
            content += "# Atelier\n" + add;
            plan.push_back({{"gitignore", ".gitignore", exists ? "updated" : "created"}, target, content});
        }
    }

    for (auto& w : plan) {
        if (w.mkdir) {
            fs::create_directories(w.target, ec);
            if (ec) throw std::runtime_error("cannot create " + w.target.string());
        } else if (w.step.action != "unchanged") {
            writeAtomically(w.target, w.content);
        }
        report.steps.push_back(w.step);
    }
    return report;
}

}  // namespace projects
