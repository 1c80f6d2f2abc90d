// Host configuration: built-in defaults, then config/atelier.json (installed or in-tree),
// then <data-dir>/config.json, then an explicit --config file, then environment variables,
// then command-line flags.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace atelier::host {

// One more address to listen on; requests arriving there get `flavor` (an atelier_flavor)
// unless they name another one in X-Atelier-Flavor.
struct Listener {
    std::string host = "127.0.0.1";
    int port = 0;  // 0 picks a free port
    int flavor = 0;
};

struct HostConfig {
    std::string host = "127.0.0.1";
    int port = 7333;                  // the default-flavor listener
    std::vector<Listener> listeners;  // `listeners: [{host, port, flavor}]`, in addition to host:port
    std::string dataDir;  // default ~/.atelier
    std::vector<std::string> moduleDirs;
    std::vector<std::string> enabledModules;  // empty = all found
    std::vector<std::string> disabledModules;
    std::map<std::string, std::string> moduleConfig;  // id -> JSON object text
    int workerThreads = 32;
    int maxQueued = 256;
    int reactorThreads = 2;
    int fanoutThreads = 0;  // threads writing live events to stream clients; 0 = one per core, at most 4
    int streamFlushMs = 10;  // under load, live events are gathered this long into one write per client
    int dbReaders = 4;
    size_t maxBodyBytes = 10 * 1024 * 1024;
    size_t streamBufferBytes = 4 * 1024 * 1024;
    std::vector<std::string> allowedOrigins{"app://.", "http://localhost:*", "http://127.0.0.1:*",
                                            "http://[::1]:*"};
    bool accessLog = true;
    bool authEnabled = false;
    int activityRetentionDays = 30;
    int opsLogRetentionDays = 7;
    int shutdownGraceMs = 5000;
    std::string configFile;  // --config
    std::string startDir;
};

// Applies a JSON document (object) onto the config; throws std::runtime_error on bad JSON.
void applyConfigJson(HostConfig& cfg, const std::string& json, const std::string& source);
void applyEnvironment(HostConfig& cfg);
std::string defaultDataDir();
// Whether `origin` matches the allow-list (patterns may end in ":*" for any port).
bool originAllowed(const HostConfig& cfg, const std::string& origin);
bool hostHeaderAllowed(const std::string& hostHeader);
bool isLoopbackAddress(const std::string& host);

}  // namespace atelier::host
