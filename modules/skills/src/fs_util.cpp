#include "fs_util.hpp"

#include <Poco/SHA2Engine.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "domain_error.hpp"

namespace atelier::skills {

fs::path homeDir() {
    const char* h = std::getenv("HOME");
    return fs::path(h && *h ? h : "/");
}

ScanRoot scanRoot(const std::string& mode, const std::string& scanPath, const fs::path& projectRoot) {
    if (mode == "project") {
        if (projectRoot.empty())
            throw invalid("mode", "project mode needs an active project with a local path", "NO_PROJECT");
        return {projectRoot, 4};
    }
    if (mode == "folder") {
        if (scanPath.empty()) throw invalid("scanPath", "is required in folder mode");
        return {scanPath, 8};
    }
    if (mode == "device") return {homeDir(), 5};
    throw invalid("mode", "must be project, folder or device");
}

bool isSafeName(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    if (!std::isalnum(static_cast<unsigned char>(name[0]))) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

std::string skillDirName(std::string_view name) {
    std::string out;
    for (unsigned char c : name) {
        char l = static_cast<char>(std::tolower(c));
        out.push_back((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '-' ? l : '-');
    }
    return out;
}

std::optional<std::string> readFileIfExists(const fs::path& p, size_t maxBytes) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return std::nullopt;
    return readFile(p, maxBytes);
}

std::string readFile(const fs::path& p, size_t maxBytes) {
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec) throw notFoundError("FILE_NOT_FOUND", "Cannot read " + p.string());
    if (size > maxBytes)
        throw DomainError(DomainError::Kind::TooLarge, "FILE_TOO_LARGE", p.filename().string() + " is too large");
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void writeFileAtomic(const fs::path& p, std::string_view content) {
    fs::create_directories(p.parent_path());
    fs::path tmp = p.parent_path() / ("." + p.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.flush();
        if (!out) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw std::runtime_error("cannot write " + p.string());
        }
    }
    fs::rename(tmp, p);
}

void copyTree(const fs::path& from, const fs::path& to, uint64_t maxBytes) {
    uint64_t total = 0;
    fs::create_directories(to);
    for (auto it = fs::recursive_directory_iterator(from, fs::directory_options::none);
         it != fs::recursive_directory_iterator(); ++it) {
        auto st = it->symlink_status();
        fs::path rel = it->path().lexically_relative(from);
        if (fs::is_directory(st)) {
            if (rel.filename() == ".git" || rel.filename() == "node_modules") {
                it.disable_recursion_pending();
                continue;
            }
            fs::create_directories(to / rel);
        } else if (fs::is_regular_file(st)) {
            total += fs::file_size(it->path());
            if (total > maxBytes)
                throw DomainError(DomainError::Kind::TooLarge, "TOO_LARGE",
                                  from.filename().string() + " is larger than the copy limit");
            fs::create_directories((to / rel).parent_path());
            fs::copy_file(it->path(), to / rel, fs::copy_options::overwrite_existing);
        }
    }
}

std::vector<std::string> listFiles(const fs::path& root) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (fs::is_regular_file(it->symlink_status()))
            out.push_back(it->path().lexically_relative(root).generic_string());
    std::sort(out.begin(), out.end());
    return out;
}

bool isInside(const fs::path& root, const fs::path& p) {
    auto rel = p.lexically_normal().lexically_relative(root.lexically_normal());
    return !rel.empty() && *rel.begin() != ".." && !rel.is_absolute();
}

bool isSymlink(const fs::path& p) {
    std::error_code ec;
    return fs::is_symlink(fs::symlink_status(p, ec));
}

std::string sha256Hex(std::string_view data) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(data.data(), static_cast<unsigned>(data.size()));
    return Poco::DigestEngine::digestToHex(engine.digest());
}

std::optional<fs::path> findOnPath(const std::string& name) {
    const char* path = std::getenv("PATH");
    if (!path) return std::nullopt;
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty()) continue;
        fs::path candidate = fs::path(dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
    }
    return std::nullopt;
}

ProcessResult runProcess(const std::vector<std::string>& argv, const fs::path& cwd,
                         const std::map<std::string, std::string>& env, int timeoutMs) {
    ProcessResult r;
    if (argv.empty()) return r;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return r;
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return r;
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
        for (auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        _exit(127);
    }
    ::close(fds[1]);
    r.started = true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    char buf[8192];
    while (true) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            r.timedOut = true;
            ::kill(-pid, SIGKILL);
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min<long>(left, 1000)));
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) continue;
        ssize_t got = ::read(fds[0], buf, sizeof buf);
        if (got <= 0) break;
        if (r.output.size() < 256 * 1024) r.output.append(buf, static_cast<size_t>(got));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!r.timedOut && WIFEXITED(status)) r.exitCode = WEXITSTATUS(status);
    if (r.exitCode == 127) r.started = false;
    return r;
}

}  // namespace atelier::skills
