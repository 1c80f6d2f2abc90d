#include "process.hpp"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace agents {

std::string ExitStatus::describe() const {
    if (signal) return "terminated by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    return "exited with code " + std::to_string(code);
}

std::string findExecutable(const std::string& name, const std::string& pathEnv) {
    auto executable = [](const std::string& p) {
        struct stat st{};
        return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
    };
    if (name.find('/') != std::string::npos) return executable(name) ? name : std::string();
    std::stringstream ss(pathEnv);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty()) continue;
        std::string p = dir + "/" + name;
        if (executable(p)) return p;
    }
    return {};
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
        killGroup(SIGKILL);
        int st;
        waitpid(pid_, &st, 0);
    }
    for (int fd : {in_, out_, err_, wake_})
        if (fd >= 0) close(fd);
}

void ChildProcess::spawn(const SpawnSpec& spec) {
    if (spec.argv.empty()) throw std::runtime_error("empty command");
    // Everything the child needs is prepared before fork (only async-signal-safe calls after).
    std::map<std::string, std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (auto& u : spec.unsetEnv) env.erase(u);
    for (auto& [k, v] : spec.env) env[k] = v;
    std::string exe = findExecutable(spec.argv[0], env.count("PATH") ? env["PATH"] : "/usr/bin:/bin");
    if (exe.empty()) throw std::runtime_error(spec.argv[0] + ": command not found on PATH");
    std::vector<std::string> envStrings;
    for (auto& [k, v] : env) envStrings.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : envStrings) envp.push_back(const_cast<char*>(s.c_str()));
    envp.push_back(nullptr);
    for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    int inP[2], outP[2], errP[2], execP[2];
    if (pipe2(inP, O_CLOEXEC) || pipe2(outP, O_CLOEXEC) || pipe2(errP, O_CLOEXEC) || pipe2(execP, O_CLOEXEC))
        throw std::runtime_error(std::string("pipe failed: ") + strerror(errno));
    const char* cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
    pid_t pid = fork();
    if (pid < 0) {
        for (int fd : {inP[0], inP[1], outP[0], outP[1], errP[0], errP[1], execP[0], execP[1]}) close(fd);
        throw std::runtime_error(std::string("fork failed: ") + strerror(errno));
    }
    if (pid == 0) {
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        signal(SIGPIPE, SIG_DFL);
        dup2(inP[0], 0);
        dup2(outP[1], 1);
        dup2(errP[1], 2);
        if (cwd && chdir(cwd) != 0) {
            int e = errno;
            (void)!write(execP[1], &e, sizeof e);
            _exit(127);
        }
        execve(exe.c_str(), argv.data(), envp.data());
        int e = errno;
        (void)!write(execP[1], &e, sizeof e);
        _exit(127);
    }
    setpgid(pid, pid);  // both sides, so the group exists before anyone signals it
    close(inP[0]);
    close(outP[1]);
    close(errP[1]);
    close(execP[1]);
    int childErr = 0;
    ssize_t n;
    do {
        n = read(execP[0], &childErr, sizeof childErr);
    } while (n < 0 && errno == EINTR);
    close(execP[0]);
    if (n == sizeof childErr) {
        int st;
        waitpid(pid, &st, 0);
        for (int fd : {inP[1], outP[0], errP[0]}) close(fd);
        throw std::runtime_error(spec.argv[0] + ": " + (cwd ? "cannot start in " + spec.cwd + ": " : "") + strerror(childErr));
    }
    pid_ = pid;
    in_ = inP[1];
    out_ = outP[0];
    err_ = errP[0];
    wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

void ChildProcess::killGroup(int sig) {
    if (pid_ > 0 && !reaped_) {
        if (kill(-pid_, sig) != 0) kill(pid_, sig);
    }
}

void ChildProcess::terminate(int graceMs) {
    graceMs_ = graceMs;
    terminating_ = true;
    if (wake_ >= 0) {
        uint64_t one = 1;
        (void)!write(wake_, &one, sizeof one);
    }
}

bool ChildProcess::writeStdin(const std::string& data) {
    std::lock_guard lock(stdinMutex_);
    if (in_ < 0) return false;
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = write(in_, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        off += static_cast<size_t>(n);
    }
    return true;
}

void ChildProcess::closeStdin() {
    std::lock_guard lock(stdinMutex_);
    if (in_ >= 0) close(in_);
    in_ = -1;
}

ExitStatus ChildProcess::pump(const LineFn& onLine) {
    using Clock = std::chrono::steady_clock;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = out_;
    epoll_ctl(ep, EPOLL_CTL_ADD, out_, &ev);
    ev.data.fd = err_;
    epoll_ctl(ep, EPOLL_CTL_ADD, err_, &ev);
    ev.data.fd = wake_;
    epoll_ctl(ep, EPOLL_CTL_ADD, wake_, &ev);
    std::string buf[2];
    bool open[2] = {true, true};
    bool sentTerm = false, sentKill = false;
    Clock::time_point killAt{}, exitedAt{};
    bool exited = false;
    int status = 0;
    auto flushLines = [&](int idx, bool all) {
        auto& b = buf[idx];
        size_t start = 0, nl;
        while ((nl = b.find('\n', start)) != std::string::npos) {
            onLine(idx == 1, b.substr(start, nl - start));
            start = nl + 1;
        }
        b.erase(0, start);
        if (all && !b.empty()) {
            onLine(idx == 1, b);
            b.clear();
        }
    };
    auto started = Clock::now();
    while (open[0] || open[1] || !exited) {
        if (timeoutMs_ > 0 && !terminating_ && Clock::now() - started > std::chrono::milliseconds(timeoutMs_)) {
            graceMs_ = 500;
            terminating_ = true;
        }
        if (terminating_ && !sentTerm) {
            sentTerm = true;
            killGroup(SIGTERM);
            killAt = Clock::now() + std::chrono::milliseconds(graceMs_.load());
        }
        if (sentTerm && !sentKill && Clock::now() >= killAt) {
            sentKill = true;
            killGroup(SIGKILL);
        }
        if (!exited) {
            pid_t r = waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exited = true;
                reaped_ = true;
                exitedAt = Clock::now();
            }
        }
        if (exited && (open[0] || open[1]) && Clock::now() - exitedAt > std::chrono::milliseconds(500)) {
            // The leader is gone but descendants still hold the pipes: end the group.
            if (kill(-pid_, SIGKILL) != 0) {
                open[0] = open[1] = false;
            }
        }
        if (!open[0] && !open[1] && exited) break;
        struct epoll_event events[4];
        int n = epoll_wait(ep, events, 4, (open[0] || open[1]) ? 100 : 20);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == wake_) {
                uint64_t v;
                (void)!read(wake_, &v, sizeof v);
                continue;
            }
            int idx = fd == out_ ? 0 : 1;
            char tmp[65536];
            ssize_t got = read(fd, tmp, sizeof tmp);
            if (got > 0) {
                buf[idx].append(tmp, static_cast<size_t>(got));
                flushLines(idx, false);
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                open[idx] = false;
                flushLines(idx, true);
            }
        }
    }
    close(ep);
    flushLines(0, true);
    flushLines(1, true);
    ExitStatus es;
    if (WIFEXITED(status)) es.code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) es.signal = WTERMSIG(status);
    return es;
}

ExitStatus runCapture(const std::vector<std::string>& argv, std::string& output, int timeoutMs, const std::string& cwd) {
    ChildProcess p;
    SpawnSpec spec;
    spec.argv = argv;
    spec.cwd = cwd;
    p.spawn(spec);
    p.closeStdin();
    p.setTimeout(timeoutMs);
    return p.pump([&](bool, const std::string& line) { output += line + "\n"; });
}

}  // namespace agents
