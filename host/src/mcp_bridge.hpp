// `atelier mcp`: a stdio ↔ Streamable HTTP relay for CLIs that only launch MCP servers as
// processes. It finds the running server through <data-dir>/server-port on every message,
// so a server restart on another port is picked up without reconfiguring the CLI.
#pragma once

#include <istream>
#include <ostream>
#include <string>

namespace atelier::host {

int runMcpBridge(const std::string& dataDir, std::istream& in, std::ostream& out);

}  // namespace atelier::host
