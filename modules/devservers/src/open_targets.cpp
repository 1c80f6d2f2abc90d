#include "open_targets.hpp"

#include <unistd.h>

#include <algorithm>
#include <sys/stat.h>

namespace atelier::devservers {

const std::vector<std::string>& allOpenTargets() {
    static const std::vector<std::string> t{"cursor", "vscode", "zed", "intellij", "webstorm",
                                            "ghostty", "warp", "terminal", "neovim", "file-manager"};
    return t;
}

bool isOpenTarget(const std::string& t) {
    auto& all = allOpenTargets();
    return std::find(all.begin(), all.end(), t) != all.end();
}

std::string findExecutable(const std::string& name, const std::string& pathEnv) {
    size_t start = 0;
    while (start <= pathEnv.size()) {
        size_t colon = pathEnv.find(':', start);
        std::string dir = pathEnv.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!dir.empty()) {
            std::string full = dir + "/" + name;
            struct stat st {};
            if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(full.c_str(), X_OK) == 0) return full;
        }
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return "";
}

namespace {

struct Candidate {
    std::string target, label;
    std::vector<std::string> programs;  // first found wins
};

const std::vector<Candidate>& candidates() {
    static const std::vector<Candidate> c{
        {"cursor", "Cursor", {"cursor"}},
        {"vscode", "VSCode", {"code", "code-insiders", "codium"}},
        {"zed", "Zed", {"zed", "zeditor", "zedit"}},
        {"intellij", "IntelliJ IDEA", {"idea", "idea.sh", "intellij-idea-ultimate", "intellij-idea-community"}},
        {"webstorm", "WebStorm", {"webstorm", "webstorm.sh"}},
        {"ghostty", "Ghostty", {"ghostty"}},
        {"warp", "Warp", {"warp-terminal", "warp"}},
        {"terminal", "Terminal",
         {"x-terminal-emulator", "gnome-terminal", "konsole", "xfce4-terminal", "kitty", "alacritty", "wezterm", "foot", "xterm"}},
        {"file-manager", "File Manager", {"xdg-open"}},
    };
    return c;
}

}  // namespace

std::vector<OpenTarget> detectOpenTargets(const std::string& pathEnv) {
    std::vector<OpenTarget> found;
    std::optional<OpenTarget> terminal;
    for (auto& c : candidates()) {
        for (auto& prog : c.programs) {
            auto full = findExecutable(prog, pathEnv);
            if (full.empty()) continue;
            OpenTarget t{c.target, c.label, {full}, full};
            if (c.target == "terminal") terminal = t;
            found.push_back(t);
            break;
        }
    }
    // Neovim needs a terminal emulator to run in.
    auto nvim = findExecutable("nvim", pathEnv);
    if (!nvim.empty() && terminal) {
        OpenTarget t{"neovim", "Neovim", {terminal->program, "-e", nvim}, nvim};
        found.push_back(t);
    }
    std::vector<OpenTarget> ordered;
    for (auto& id : allOpenTargets())
        for (auto& t : found)
            if (t.target == id) ordered.push_back(t);
    return ordered;
}

std::vector<std::string> openArgv(const OpenTarget& t, const std::string& dir) {
    auto argv = t.argvPrefix;
    auto base = t.program.substr(t.program.rfind('/') + 1);
    if (t.target == "terminal" || t.target == "ghostty" || t.target == "warp") {
        if (base == "gnome-terminal" || base == "xfce4-terminal" || base == "ghostty") argv.push_back("--working-directory=" + dir);
        else if (base == "konsole") argv.insert(argv.end(), {"--workdir", dir});
        else if (base == "kitty") argv.insert(argv.end(), {"--directory", dir});
        else if (base == "alacritty") argv.insert(argv.end(), {"--working-directory", dir});
        else if (base == "wezterm") argv.insert(argv.end(), {"start", "--cwd", dir});
        else if (base == "foot") argv.push_back("--working-directory=" + dir);
        // x-terminal-emulator / xterm / warp: the process is started in `dir` (cwd)
        return argv;
    }
    argv.push_back(dir);
    return argv;
}

}  // namespace atelier::devservers

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <system_error>

extern char** environ;

namespace atelier::devservers {

int launchDetached(const std::vector<std::string>& argv, const std::string& cwd) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t def, mask;
    sigfillset(&def);
    sigemptyset(&mask);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "cannot start " + argv[0]);
    return pid;
}

}  // namespace atelier::devservers
