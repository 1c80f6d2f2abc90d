// "Open with" targets: which editors, IDEs, terminals and the file manager are installed
// on this machine (found on PATH), and the argv that opens a directory in one of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace atelier::devservers {

struct OpenTarget {
    std::string target;  // file-manager, cursor, vscode, zed, intellij, webstorm, terminal, warp, ghostty, neovim
    std::string label;
    std::vector<std::string> argvPrefix;  // the directory is appended (or spliced for terminals)
    std::string program;                  // resolved executable path
};

const std::vector<std::string>& allOpenTargets();  // in priority order
bool isOpenTarget(const std::string& t);
// Installed targets, in priority order (PATH from the given value, usually $PATH).
std::vector<OpenTarget> detectOpenTargets(const std::string& pathEnv);
// argv that opens `dir` with `t`.
std::vector<std::string> openArgv(const OpenTarget& t, const std::string& dir);
// Full path of an executable found on `pathEnv`, or "".
std::string findExecutable(const std::string& name, const std::string& pathEnv);

}  // namespace atelier::devservers

namespace atelier::devservers {
// Starts argv detached (own session, stdio on /dev/null) in `cwd`; returns the pid to reap.
// Throws std::system_error when it cannot be started.
int launchDetached(const std::vector<std::string>& argv, const std::string& cwd);
}  // namespace atelier::devservers
