// atelier: the command-line entry point. `atelier serve` runs the server; `atelier modules`
// explains what would load and why not.
#include <signal.h>
#include <unistd.h>

#include <atelier/sdk.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "config.hpp"
#include "core_module.hpp"
#include "host.hpp"
#include "http_server.hpp"
#include "mcp_bridge.hpp"
#include "module_manager.hpp"

namespace fs = std::filesystem;
using namespace atelier::host;
using atelier::flavorName;
using atelier::makeArray;
using atelier::makeObject;

namespace {

const char* kUsage =
    "Usage: atelier <command> [options]\n"
    "\n"
    "Commands:\n"
    "  serve      run the server (default)\n"
    "  modules    list the modules that would load, and why others would not\n"
    "  mcp        relay MCP over stdio to the running server (for CLIs that launch MCP servers)\n"
    "\n"
    "Options:\n"
    "  --port N             port to listen on (default 7333; 0 picks a free port)\n"
    "  --host H             address to bind (default 127.0.0.1; non-loopback is unsafe)\n"
    "  --data-dir D         data directory (default ~/.atelier; env ATELIER_DATA_DIR)\n"
    "  --modules-dir D      module directory (repeatable; env ATELIER_MODULES_DIR)\n"
    "  --config F           extra configuration file (JSON)\n"
    "  --disable-module ID  do not load module ID (repeatable)\n"
    "  --version            print the version\n"
    "  --help               print this help\n";

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string exeDir() {
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : p.parent_path().string();
}

struct Args {
    std::string command = "serve";
    HostConfig cfg;
    bool portSet = false, hostSet = false;
    std::vector<std::string> moduleDirs, disabled;
    std::string dataDir;
    int port = 0;
    std::string host;
};

// Defaults, then files, then environment, then flags.
HostConfig buildConfig(const Args& a) {
    HostConfig cfg;
    std::string dir = exeDir();
    for (auto& candidate : {dir + "/../etc/atelier/atelier.json", std::string(ATELIER_SOURCE_CONFIG)}) {
        if (fs::exists(candidate)) {
            applyConfigJson(cfg, readFile(candidate), candidate);
            break;
        }
    }
    cfg.dataDir = defaultDataDir();
    applyEnvironment(cfg);
    if (!a.dataDir.empty()) cfg.dataDir = a.dataDir;
    fs::create_directories(cfg.dataDir);
    cfg.dataDir = fs::canonical(cfg.dataDir).string();
    std::string dataConfig = cfg.dataDir + "/config.json";
    if (fs::exists(dataConfig)) applyConfigJson(cfg, readFile(dataConfig), dataConfig);
    if (!a.cfg.configFile.empty()) {
        if (!fs::exists(a.cfg.configFile)) throw std::runtime_error("config file not found: " + a.cfg.configFile);
        applyConfigJson(cfg, readFile(a.cfg.configFile), a.cfg.configFile);
    }
    applyEnvironment(cfg);  // environment beats files
    if (!a.dataDir.empty()) cfg.dataDir = fs::canonical(a.dataDir).string();
    if (a.portSet) cfg.port = a.port;
    if (a.hostSet) cfg.host = a.host;
    if (!a.moduleDirs.empty()) cfg.moduleDirs = a.moduleDirs;
    if (cfg.moduleDirs.empty()) {
        // In the build tree: build/bin/atelier → build/lib/atelier/modules; installed: prefix/lib/atelier/modules.
        for (auto& candidate : {dir + "/../lib/atelier/modules", dir + "/../lib/x86_64-linux-gnu/atelier/modules"})
            if (fs::is_directory(candidate)) cfg.moduleDirs.push_back(fs::canonical(candidate).string());
    }
    for (auto& d : a.disabled) cfg.disabledModules.push_back(d);
    cfg.startDir = fs::current_path().string();
    return cfg;
}

int parse(int argc, char** argv, Args& a) {
    std::vector<std::string> args(argv + 1, argv + argc);
    size_t i = 0;
    if (!args.empty() && args[0][0] != '-') {
        a.command = args[0];
        i = 1;
    }
    auto value = [&](const std::string& flag) -> std::string {
        if (i + 1 >= args.size()) throw std::runtime_error(flag + " needs a value");
        return args[++i];
    };
    for (; i < args.size(); ++i) {
        const std::string& f = args[i];
        if (f == "--help" || f == "-h") {
            std::cout << kUsage;
            return 1;
        } else if (f == "--version" || f == "-v") {
            std::cout << "atelier " << ATELIER_VERSION << " (ABI " << ATELIER_ABI_MAJOR << "." << ATELIER_ABI_MINOR << ")\n";
            return 1;
        } else if (f == "--port") {
            std::string v = value(f);
            if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || std::stol(v) > 65535)
                throw std::runtime_error("--port takes a number from 0 to 65535");
            a.port = std::stoi(v);
            a.portSet = true;
        } else if (f == "--host") {
            a.host = value(f);
            a.hostSet = true;
        } else if (f == "--data-dir") {
            a.dataDir = value(f);
        } else if (f == "--modules-dir") {
            a.moduleDirs.push_back(value(f));
        } else if (f == "--config") {
            a.cfg.configFile = value(f);
        } else if (f == "--disable-module") {
            a.disabled.push_back(value(f));
        } else {
            throw std::runtime_error("unknown option " + f + " (see --help)");
        }
    }
    if (a.command != "serve" && a.command != "modules" && a.command != "mcp") throw std::runtime_error("unknown command " + a.command + " (see --help)");
    return 0;
}

int serve(const HostConfig& cfg) {
    // Signals are taken synchronously by the main thread; every other thread blocks them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);

    std::vector<std::string> hosts{cfg.host};
    for (auto& l : cfg.listeners) hosts.push_back(l.host);
    for (auto& h : hosts) {
        if (isLoopbackAddress(h)) continue;
        std::cerr << "WARNING: binding to " << h
                  << ", which is not a loopback address. Anyone who can reach this machine can control your "
                     "projects and run commands. Use --host 127.0.0.1 unless you know why not.\n";
    }
    Host host(cfg);
    HttpServer http(host);
    try {
        http.start();
    } catch (const std::exception& e) {
        std::cerr << "atelier: " << e.what() << "\n";
        return 2;
    }
    host.setBoundPort(http.port());
    host.startAll();
    // Logged before server-port appears, so whoever waits for the file finds the lines.
    host.log().log(Logger::Info, "host",
                   "listening on http://" + cfg.host + ":" + std::to_string(http.port()) + " (data " + cfg.dataDir +
                       ", " + std::to_string(host.modules().runningCount()) + " modules)");
    for (size_t i = 1; i < http.listeners().size(); ++i) {
        const auto& l = http.listeners()[i];
        host.log().log(Logger::Info, "host",
                       "listening on http://" + l.host + ":" + std::to_string(l.port) + " for " +
                           std::string(flavorName(l.flavor)) + " clients");
    }
    host.log().flush();
    {
        // Every listener with its bound port, written before server-port, which tells
        // watchers the server is up.
        auto list = makeArray();
        for (auto& l : http.listeners()) {
            auto o = makeObject();
            o->set("host", l.host);
            o->set("port", l.port);
            o->set("flavor", std::string(flavorName(l.flavor)));
            list->add(o);
        }
        std::string listenersFile = cfg.dataDir + "/server-listeners.json";
        std::ofstream(listenersFile + ".tmp") << atelier::toJson(list) << "\n";
        fs::rename(listenersFile + ".tmp", listenersFile);
    }
    {
        std::string portFile = cfg.dataDir + "/server-port";
        std::string tmp = portFile + ".tmp";
        std::ofstream(tmp) << http.port() << "\n";
        fs::rename(tmp, portFile);
    }

    int sig = 0;
    sigwait(&set, &sig);
    host.log().log(Logger::Info, "host", std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
    http.stop();
    host.stopAll();
    std::error_code ec;
    fs::remove(cfg.dataDir + "/server-port", ec);
    fs::remove(cfg.dataDir + "/server-listeners.json", ec);
    host.log().log(Logger::Info, "host", "stopped cleanly");
    host.log().flush();
    return 0;
}

int listModules(const HostConfig& cfg) {
    HostConfig quiet = cfg;
    quiet.accessLog = false;
    Host host(quiet);
    host.modules().discover();
    // A dry run of the dependency checks, without loading anything.
    std::map<std::string, std::shared_ptr<ModuleRecord>> byId;
    for (auto& m : host.modules().records()) byId[m->id] = m;
    std::cout << "Module directories:\n";
    for (auto& d : cfg.moduleDirs) std::cout << "  " << d << "\n";
    std::cout << "\n";
    for (auto& m : host.modules().records()) {
        std::string status = m->lifecycle == ModuleState::Discovered ? "would load" : stateName(m->lifecycle);
        std::string why = m->error;
        if (m->lifecycle == ModuleState::Discovered) {
            for (auto& r : m->requires_) {
                auto it = byId.find(r.id);
                if (it == byId.end() || it->second->lifecycle == ModuleState::Refused ||
                    it->second->lifecycle == ModuleState::Disabled) {
                    status = "would be refused";
                    why = "requires '" + r.id + "'" + (it == byId.end() ? " (not installed)" : " (" + std::string(stateName(it->second->lifecycle)) + ")");
                    m->lifecycle = ModuleState::Refused;
                    break;
                }
                if (!versionInRange(it->second->version, r.min, r.max)) {
                    status = "would be refused";
                    why = "requires '" + r.id + "' " + r.min + ".." + r.max + ", found " + it->second->version;
                    m->lifecycle = ModuleState::Refused;
                    break;
                }
            }
        }
        std::printf("  %-12s %-8s %-16s %s\n", m->id.c_str(), m->version.c_str(), status.c_str(), why.c_str());
    }
    host.log().flush();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    try {
        if (parse(argc, argv, a) != 0) return 0;
        HostConfig cfg = buildConfig(a);
        if (a.command == "modules") return listModules(cfg);
        if (a.command == "mcp") return runMcpBridge(cfg.dataDir, std::cin, std::cout);
        return serve(cfg);
    } catch (const std::exception& e) {
        std::cerr << "atelier: " << e.what() << "\n";
        return 2;
    }
}
