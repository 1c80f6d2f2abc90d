#include "fs_util.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;

namespace atelier::wt {

std::vector<std::string> copyEnvFiles(const std::string& from, const std::string& to,
                                      const std::vector<std::string>& prefixes) {
    std::vector<std::string> copied;
    std::error_code ec;
    fs::recursive_directory_iterator it(from, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const auto& entry = *it;
        std::string name = entry.path().filename().string();
        std::error_code sec;
        if (entry.is_directory(sec)) {
            if (name == ".git" || name == "node_modules" || name == ".atelier" || name == ".openkit")
                it.disable_recursion_pending();
            continue;
        }
        if (!entry.is_regular_file(sec)) continue;
        bool match = false;
        for (auto& p : prefixes)
            if (name.rfind(p, 0) == 0) match = true;
        if (!match) continue;
        fs::path rel = fs::relative(entry.path(), from, sec);
        if (sec) continue;
        fs::path dest = fs::path(to) / rel;
        if (fs::exists(dest, sec)) continue;
        fs::create_directories(dest.parent_path(), sec);
        if (fs::copy_file(entry.path(), dest, fs::copy_options::skip_existing, sec)) copied.push_back(rel.string());
    }
    return copied;
}

std::vector<std::string> splitCommand(const std::string& command) {
    std::vector<std::string> out;
    std::istringstream in(command);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

ProcessResult runProcess(const std::vector<std::string>& argv, const std::string& cwd,
                         const std::function<void(const std::string&)>& onLine, std::chrono::milliseconds timeout) {
    ProcessResult result;
    if (argv.empty()) return result;
    // Everything the child needs is prepared before fork: only async-signal-safe calls after.
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const char* dir = cwd.c_str();
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return result;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return result;
    }
    if (pid == 0) {
        setpgid(0, 0);
        if (chdir(dir) != 0) _exit(127);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(fds[1]);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string buf;
    char tmp[4096];
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            result.timedOut = true;
            kill(-pid, SIGKILL);
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        int pr = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 200)));
        if (pr < 0) break;
        if (pr == 0) continue;
        ssize_t n = read(fds[0], tmp, sizeof tmp);
        if (n <= 0) break;
        buf.append(tmp, static_cast<size_t>(n));
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            onLine(buf.substr(0, nl));
            buf.erase(0, nl + 1);
        }
    }
    if (!buf.empty()) onLine(buf);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!result.timedOut && WIFEXITED(status)) result.exitCode = WEXITSTATUS(status);
    return result;
}

std::string normalPath(const std::string& p) {
    fs::path path = fs::path(p).lexically_normal();
    if (path.is_relative()) path = (fs::current_path() / path).lexically_normal();
    std::string s = path.string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

bool isWithin(const std::string& parent, const std::string& child) {
    std::string a = normalPath(parent), b = normalPath(child);
    if (a == b) return true;
    if (a == "/") return true;
    return b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '/';
}

bool isSafeRelative(const std::string& rel) {
    if (rel.empty() || rel.find('\0') != std::string::npos) return false;
    fs::path p(rel);
    if (p.is_absolute()) return false;
    for (auto& part : p)
        if (part == "..") return false;
    return true;
}

}  // namespace atelier::wt
