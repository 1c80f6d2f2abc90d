#include "supervisor.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace atelier::devservers {

namespace {

constexpr size_t kMaxLine = 16 * 1024;
constexpr size_t kLogBufferMax = 256 * 1024;

using Clock = std::chrono::steady_clock;

// Reads "<pid> (comm) S ppid pgrp ..." fields after the comm.
bool statFields(pid_t pid, char& state, pid_t& pgrp, uint64_t& startTicks) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return false;
    buf[n] = 0;
    char* rp = std::strrchr(buf, ')');
    if (!rp) return false;
    std::istringstream in(rp + 2);
    long ppid = 0, pg = 0;
    in >> state >> ppid >> pg;
    std::string skip;
    for (int i = 0; i < 16 && in; ++i) in >> skip;  // fields 6..21
    uint64_t st = 0;
    in >> st;
    pgrp = static_cast<pid_t>(pg);
    startTicks = st;
    return true;
}

// True while a non-zombie process is left in the group.
bool groupAlive(pid_t pgid) {
    if (::kill(-pgid, 0) != 0 && errno == ESRCH) return false;
    DIR* d = ::opendir("/proc");
    if (!d) return true;
    bool alive = false;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
        char state = 0;
        pid_t pg = 0;
        uint64_t st = 0;
        if (statFields(pid, state, pg, st) && pg == pgid && state != 'Z' && state != 'X') {
            alive = true;
            break;
        }
    }
    ::closedir(d);
    return alive;
}

}  // namespace

uint64_t processStartTicks(pid_t pid) {
    char state = 0;
    pid_t pg = 0;
    uint64_t st = 0;
    if (!statFields(pid, state, pg, st)) return 0;
    if (state == 'Z' || state == 'X') return 0;
    return st;
}

struct Supervisor::Proc {
    std::string key;
    pid_t pid = 0;
    pid_t pgid = 0;
    int fd = -1;
    bool adopted = false;
    uint64_t startTicks = 0;
    std::string partial;
    std::deque<std::string> ring;
    size_t ringCap = 1000;
    std::vector<std::string> pending;
    size_t dropped = 0;
    int logFd = -1;
    std::string logPath;
    std::string logBuf;
    uint64_t logBytes = 0;
    uint64_t logMax = 0;
    int logKeep = 0;
    bool exited = false;
    bool stopRequested = false;
    ExitInfo exit;
    Stats stats;

    void emit(std::string line, size_t maxBatch) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        stats.lines++;
        if (pending.size() < maxBatch) pending.push_back(line);
        else dropped++;
        ring.push_back(std::move(line));
        while (ring.size() > ringCap) ring.pop_front();
    }
};

Supervisor::Supervisor(Callbacks cb, std::chrono::milliseconds flushEvery, size_t maxBatchLines)
    : cb_(std::move(cb)), flushEvery_(flushEvery), maxBatchLines_(maxBatchLines) {
    epollFd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epollFd_ < 0 || wakeFd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll/eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakeFd_;
    ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &ev);
    reader_ = std::thread([this] { readerLoop(); });
    notifier_ = std::thread([this] { notifierLoop(); });
}

Supervisor::~Supervisor() { shutdown(); }

void Supervisor::wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wakeFd_, &one, sizeof one);
}

void Supervisor::post(std::function<void()> fn) {
    {
        std::lock_guard lock(qmu_);
        queue_.push_back(std::move(fn));
    }
    qcv_.notify_one();
}

pid_t Supervisor::spawn(const SpawnSpec& spec) {
    if (spec.argv.empty()) throw std::invalid_argument("empty argv");
    {
        std::lock_guard lock(mu_);
        if (quit_) throw std::runtime_error("supervisor is shutting down");
        auto it = procs_.find(spec.key);
        if (it != procs_.end() && !it->second->exited) throw std::runtime_error("already running");
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    ::fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);  // chatty children block less often (best effort)

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t def, mask;
    sigfillset(&def);
    sigemptyset(&mask);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> argv, envp;
    for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        throw std::system_error(rc, std::generic_category(), "cannot start " + spec.argv[0]);
    }

    auto p = std::make_shared<Proc>();
    p->key = spec.key;
    p->pid = pid;
    p->pgid = pid;  // setsid: the child leads its own session and group
    p->fd = fds[0];
    p->ringCap = spec.ringLines ? spec.ringLines : 1;
    p->startTicks = processStartTicks(pid);
    p->logMax = spec.logFileMaxBytes;
    p->logKeep = spec.logFileKeep;
    if (!spec.logFile.empty()) {
        p->logPath = spec.logFile;
        p->logFd = ::open(spec.logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        struct stat st {};
        if (p->logFd >= 0 && ::fstat(p->logFd, &st) == 0) p->logBytes = static_cast<uint64_t>(st.st_size);
    }
    {
        std::lock_guard lock(mu_);
        procs_[spec.key] = p;
        byFd_[p->fd] = p;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = p->fd;
    ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, p->fd, &ev);
    return pid;
}

void Supervisor::adopt(const std::string& key, pid_t pid, pid_t pgid, size_t ringLines, const std::string& note) {
    auto p = std::make_shared<Proc>();
    p->key = key;
    p->pid = pid;
    p->pgid = pgid;
    p->adopted = true;
    p->ringCap = ringLines ? ringLines : 1;
    p->startTicks = processStartTicks(pid);
    if (!note.empty()) p->ring.push_back(note);
    std::lock_guard lock(mu_);
    procs_[key] = p;
}

bool Supervisor::alive(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = procs_.find(key);
    return it != procs_.end() && !it->second->exited;
}

std::optional<pid_t> Supervisor::pid(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = procs_.find(key);
    if (it == procs_.end()) return std::nullopt;
    return it->second->pid;
}

std::vector<std::string> Supervisor::logs(const std::string& key, size_t limit) const {
    std::lock_guard lock(mu_);
    auto it = procs_.find(key);
    if (it == procs_.end()) return {};
    auto& ring = it->second->ring;
    size_t from = limit && ring.size() > limit ? ring.size() - limit : 0;
    return std::vector<std::string>(ring.begin() + static_cast<long>(from), ring.end());
}

Supervisor::Stats Supervisor::stats(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = procs_.find(key);
    return it == procs_.end() ? Stats{} : it->second->stats;
}

void Supervisor::forget(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = procs_.find(key);
    if (it != procs_.end() && it->second->exited) procs_.erase(it);
}

void Supervisor::reapLater(pid_t pid) {
    std::lock_guard lock(mu_);
    helpers_.push_back(pid);
}

void Supervisor::readFrom(const std::shared_ptr<Proc>& p) {
    static thread_local std::vector<char> buf(64 * 1024);
    for (int round = 0; round < 16; ++round) {
        if (p->fd < 0) return;
        ssize_t n = ::read(p->fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            closePipe(p);
            return;
        }
        if (n == 0) {
            closePipe(p);
            return;
        }
        const char* data = buf.data();
        size_t len = static_cast<size_t>(n);
        {
            std::lock_guard lock(mu_);
            p->stats.bytes += len;
            size_t start = 0;
            while (start < len) {
                const void* nl = std::memchr(data + start, '\n', len - start);
                if (!nl) {
                    p->partial.append(data + start, len - start);
                    if (p->partial.size() >= kMaxLine) {
                        p->emit(std::move(p->partial), maxBatchLines_);
                        p->partial.clear();
                    }
                    break;
                }
                size_t end = static_cast<size_t>(static_cast<const char*>(nl) - data);
                if (p->partial.empty()) {
                    p->emit(std::string(data + start, end - start), maxBatchLines_);
                } else {
                    p->partial.append(data + start, end - start);
                    p->emit(std::move(p->partial), maxBatchLines_);
                    p->partial.clear();
                }
                start = end + 1;
            }
        }
        if (p->logFd >= 0) {
            p->logBuf.append(data, len);
            if (p->logBuf.size() >= kLogBufferMax) {
                std::string out;
                out.swap(p->logBuf);
                writeLog(*p, out);
            }
        }
        if (len < buf.size()) return;
    }
}

void Supervisor::closePipe(const std::shared_ptr<Proc>& p) {
    if (p->fd < 0) return;
    ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, p->fd, nullptr);
    ::close(p->fd);
    std::lock_guard lock(mu_);
    byFd_.erase(p->fd);
    p->fd = -1;
    if (!p->partial.empty()) {
        p->emit(std::move(p->partial), maxBatchLines_);
        p->partial.clear();
    }
}

void Supervisor::writeLog(Proc& p, const std::string& data) {
    if (p.logFd < 0 || data.empty()) return;
    auto rotate = [&p] {
        ::close(p.logFd);
        if (p.logKeep > 0) {
            for (int i = p.logKeep - 1; i >= 1; --i)
                ::rename((p.logPath + "." + std::to_string(i)).c_str(), (p.logPath + "." + std::to_string(i + 1)).c_str());
            ::rename(p.logPath.c_str(), (p.logPath + ".1").c_str());
        } else {
            ::unlink(p.logPath.c_str());
        }
        p.logFd = ::open(p.logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0644);
        p.logBytes = 0;
    };
    size_t off = 0;
    while (off < data.size() && p.logFd >= 0) {
        size_t n = data.size() - off;
        if (p.logMax > 0) {
            if (p.logBytes >= p.logMax) {
                rotate();
                continue;
            }
            size_t room = static_cast<size_t>(p.logMax - p.logBytes);
            if (n > room) {
                // cut after the last whole line that fits; a file never exceeds the limit
                size_t nl = data.rfind('\n', off + room - 1);
                if (nl != std::string::npos && nl >= off) n = nl - off + 1;
                else if (p.logBytes > 0) {
                    rotate();
                    continue;
                } else {
                    n = room;  // one line longer than the whole file: split it
                }
            }
        }
        ssize_t w = ::write(p.logFd, data.data() + off, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            break;
        }
        off += static_cast<size_t>(w);
        p.logBytes += static_cast<uint64_t>(w);
    }
}

void Supervisor::flushAll() {
    std::vector<std::shared_ptr<Proc>> all;
    {
        std::lock_guard lock(mu_);
        for (auto& [k, p] : procs_) all.push_back(p);
    }
    for (auto& p : all) {
        std::vector<std::string> lines;
        size_t dropped = 0;
        {
            std::lock_guard lock(mu_);
            lines.swap(p->pending);
            dropped = std::exchange(p->dropped, 0);
        }
        if (!p->logBuf.empty()) {
            std::string out;
            out.swap(p->logBuf);
            writeLog(*p, out);
        }
        if ((!lines.empty() || dropped) && cb_.onLines) {
            post([this, key = p->key, pid = p->pid, l = std::move(lines), dropped]() mutable {
                cb_.onLines(key, pid, std::move(l), dropped);
            });
        }
    }
}

void Supervisor::reapAll() {
    std::vector<std::shared_ptr<Proc>> live;
    std::vector<pid_t> helpers;
    {
        std::lock_guard lock(mu_);
        for (auto& [k, p] : procs_)
            if (!p->exited) live.push_back(p);
        helpers = helpers_;
    }
    for (auto& p : live) {
        ExitInfo info;
        if (!p->adopted) {
            int status = 0;
            pid_t r = ::waitpid(p->pid, &status, WNOHANG);
            if (r == 0) continue;
            if (r == p->pid) {
                if (WIFEXITED(status)) info.exitCode = WEXITSTATUS(status);
                else if (WIFSIGNALED(status)) info.signal = WTERMSIG(status);
            } else if (!(r < 0 && errno == ECHILD)) {
                continue;
            }
        } else {
            uint64_t st = processStartTicks(p->pid);
            if (st != 0 && st == p->startTicks) continue;
        }
        // Last output first, then the exit.
        if (p->fd >= 0) {
            readFrom(p);
            closePipe(p);
        }
        if (groupAlive(p->pgid)) {
            ::kill(-p->pgid, SIGTERM);
            std::lock_guard lock(mu_);
            pendingKills_.emplace_back(p->pgid, Clock::now() + std::chrono::seconds(2));
        }
        std::vector<std::string> lines;
        size_t dropped = 0;
        {
            std::lock_guard lock(mu_);
            info.stopRequested = p->stopRequested;
            p->exit = info;
            p->exited = true;
            lines.swap(p->pending);
            dropped = std::exchange(p->dropped, 0);
        }
        if (!p->logBuf.empty()) {
            std::string out;
            out.swap(p->logBuf);
            writeLog(*p, out);
        }
        if (p->logFd >= 0) {
            ::close(p->logFd);
            p->logFd = -1;
        }
        exitCv_.notify_all();
        if ((!lines.empty() || dropped) && cb_.onLines)
            post([this, key = p->key, pid = p->pid, l = std::move(lines), dropped]() mutable {
                cb_.onLines(key, pid, std::move(l), dropped);
            });
        if (cb_.onExit) post([this, key = p->key, pid = p->pid, info] { cb_.onExit(key, pid, info); });
    }
    std::vector<pid_t> reaped;
    for (pid_t h : helpers) {
        int status = 0;
        pid_t r = ::waitpid(h, &status, WNOHANG);
        if (r == h || (r < 0 && errno == ECHILD)) reaped.push_back(h);
    }
    std::lock_guard lock(mu_);
    for (pid_t h : reaped) std::erase(helpers_, h);
    auto now = Clock::now();
    for (auto it = pendingKills_.begin(); it != pendingKills_.end();) {
        if (it->second <= now) {
            if (groupAlive(it->first)) ::kill(-it->first, SIGKILL);
            it = pendingKills_.erase(it);
        } else {
            ++it;
        }
    }
}

void Supervisor::readerLoop() {
    epoll_event evs[64];
    auto lastFlush = Clock::now();
    auto lastReap = lastFlush;
    while (true) {
        int n = ::epoll_wait(epollFd_, evs, 64, 10);
        {
            std::lock_guard lock(mu_);
            if (quit_) break;
        }
        for (int i = 0; i < n; ++i) {
            int fd = evs[i].data.fd;
            if (fd == wakeFd_) {
                uint64_t v;
                [[maybe_unused]] auto r = ::read(wakeFd_, &v, sizeof v);
                continue;
            }
            std::shared_ptr<Proc> p;
            {
                std::lock_guard lock(mu_);
                auto it = byFd_.find(fd);
                if (it != byFd_.end()) p = it->second;
            }
            if (p) readFrom(p);
        }
        auto now = Clock::now();
        if (now - lastReap >= std::chrono::milliseconds(10)) {
            reapAll();
            lastReap = now;
        }
        if (now - lastFlush >= flushEvery_) {
            flushAll();
            lastFlush = now;
        }
    }
    flushAll();
}

void Supervisor::notifierLoop() {
    while (true) {
        std::function<void()> fn;
        {
            std::unique_lock lock(qmu_);
            qcv_.wait(lock, [this] { return qquit_ || !queue_.empty(); });
            if (queue_.empty()) return;
            fn = std::move(queue_.front());
            queue_.pop_front();
        }
        try {
            fn();
        } catch (...) {
        }
    }
}

std::optional<ExitInfo> Supervisor::stop(const std::string& key, std::chrono::milliseconds grace) {
    std::shared_ptr<Proc> p;
    {
        std::lock_guard lock(mu_);
        auto it = procs_.find(key);
        if (it == procs_.end()) return std::nullopt;
        p = it->second;
        if (p->exited) return std::nullopt;
        p->stopRequested = true;
    }
    ::kill(-p->pgid, SIGTERM);
    auto deadline = Clock::now() + grace;
    {
        std::unique_lock lock(mu_);
        exitCv_.wait_until(lock, deadline, [&] { return p->exited; });
    }
    while (Clock::now() < deadline && groupAlive(p->pgid)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    bool exited;
    {
        std::lock_guard lock(mu_);
        exited = p->exited;
    }
    if (!exited || groupAlive(p->pgid)) {
        ::kill(-p->pgid, SIGKILL);
        if (p->adopted) ::kill(p->pid, SIGKILL);
        auto hard = Clock::now() + std::chrono::seconds(3);
        std::unique_lock lock(mu_);
        exitCv_.wait_until(lock, hard, [&] { return p->exited; });
        lock.unlock();
        while (Clock::now() < hard && groupAlive(p->pgid)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::lock_guard lock(mu_);
    ExitInfo info = p->exit;
    info.stopRequested = true;
    return info;
}

void Supervisor::stopAll(std::chrono::milliseconds grace) {
    std::vector<std::shared_ptr<Proc>> live;
    {
        std::lock_guard lock(mu_);
        for (auto& [k, p] : procs_)
            if (!p->exited) {
                p->stopRequested = true;
                live.push_back(p);
            }
    }
    if (live.empty()) return;
    for (auto& p : live) ::kill(-p->pgid, SIGTERM);
    auto deadline = Clock::now() + grace;
    auto allDone = [&] {
        for (auto& p : live)
            if (!p->exited) return false;
        return true;
    };
    {
        std::unique_lock lock(mu_);
        exitCv_.wait_until(lock, deadline, allDone);
    }
    for (auto& p : live) {
        while (Clock::now() < deadline && groupAlive(p->pgid)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (groupAlive(p->pgid) || !p->exited) {
            ::kill(-p->pgid, SIGKILL);
            if (p->adopted) ::kill(p->pid, SIGKILL);
        }
    }
    std::unique_lock lock(mu_);
    exitCv_.wait_until(lock, Clock::now() + std::chrono::seconds(3), allDone);
}

void Supervisor::shutdown() {
    {
        std::lock_guard lock(mu_);
        if (quit_ && !reader_.joinable() && !notifier_.joinable()) return;
    }
    // Nothing may be left behind, even if the owner forgot stopAll.
    stopAll(std::chrono::milliseconds(0));
    {
        std::lock_guard lock(mu_);
        quit_ = true;
    }
    wake();
    if (reader_.joinable()) reader_.join();
    reapAll();
    {
        std::lock_guard lock(qmu_);
        qquit_ = true;
    }
    qcv_.notify_all();
    if (notifier_.joinable()) notifier_.join();
    std::lock_guard lock(mu_);
    for (auto& [fd, p] : byFd_) ::close(fd);
    byFd_.clear();
    for (auto& [k, p] : procs_)
        if (p->logFd >= 0) {
            ::close(p->logFd);
            p->logFd = -1;
        }
    if (epollFd_ >= 0) ::close(epollFd_);
    if (wakeFd_ >= 0) ::close(wakeFd_);
    epollFd_ = wakeFd_ = -1;
}

}  // namespace atelier::devservers
