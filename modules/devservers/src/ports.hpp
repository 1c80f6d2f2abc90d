// Ports and offsets: environment for an offset child, envMapping placeholders, listening
// ports of a process tree read from /proc, and `.env*` variables that mention known ports.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace atelier::devservers {

// Replaces every `${<digits>}` with <digits> + offset (other text untouched).
std::string applyPortOffset(const std::string& tmpl, int offset);

// `base` environment ("K=V") with ATELIER_PORT_OFFSET, ATELIER_KNOWN_PORTS (JSON array),
// PORT (= firstPort + offset) and the rendered envMapping set (replacing earlier values).
std::vector<std::string> buildEnvironment(const std::vector<std::string>& base, int offset,
                                          const std::vector<int>& knownPorts, int firstPort,
                                          const std::map<std::string, std::string>& envMapping,
                                          const std::map<std::string, std::string>& extra);

// Smallest k ≥ 1 such that offset = k*step is not in `usedOffsets`, none of the shifted
// ports is in `usedPorts`, and `portFree` accepts each of them. -1 when none fits.
int allocateOffset(int step, const std::vector<int>& ports, const std::set<int>& usedOffsets,
                   const std::set<int>& usedPorts, const std::function<bool(int)>& portFree);

// True when nothing listens on the TCP port (a bind to it succeeds).
bool tcpPortFree(int port);
// True when something accepts connections on 127.0.0.1:port (or [::1]:port).
bool tcpPortAnswers(int port);

// `root` and all its descendants, plus every process in root's process group.
std::set<pid_t> processTree(pid_t root);
// TCP ports in LISTEN state owned by sockets of these processes (/proc/net/tcp{,6} +
// /proc/<pid>/fd socket inodes).
std::vector<int> listeningPorts(const std::set<pid_t>& pids);

// KEY -> template for `.env*` variables (in `root`, recursively, skipping node_modules,
// .git and .atelier) whose value mentions one of `ports`: "http://localhost:3000" becomes
// "http://localhost:${3000}".
std::map<std::string, std::string> detectEnvMapping(const std::filesystem::path& root, const std::vector<int>& ports);

}  // namespace atelier::devservers
