#include "pty_manager.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <future>

extern char** environ;

namespace atelier::terminal {

namespace {

using Clock = std::chrono::steady_clock;

int exitCodeFromStatus(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

bool isExecutableFile(const std::string& p) {
    struct stat st{};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

std::string resolveExecutable(const std::string& name, const std::string& pathVar) {
    if (name.empty()) return {};
    if (name.find('/') != std::string::npos) return isExecutableFile(name) ? name : std::string();
    size_t start = 0;
    while (start <= pathVar.size()) {
        size_t colon = pathVar.find(':', start);
        std::string dir = pathVar.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (dir.empty()) dir = ".";
        std::string candidate = dir + "/" + name;
        if (isExecutableFile(candidate)) return candidate;
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return {};
}

}  // namespace

std::string nowIsoUtc() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

std::string loginShell() {
    const char* sh = std::getenv("SHELL");
    if (sh && sh[0] == '/' && isExecutableFile(sh)) return sh;
    return "/bin/sh";
}

struct PtyManager::Session {
    Session(size_t scrollback) : scrollback(scrollback) {}
    std::string id;
    uint64_t seq = 0;
    pid_t pid = 0;
    std::string cwd;
    std::vector<std::string> argv;
    std::string createdAt;

    std::mutex mu;  // everything below
    int fd = -1;
    int cols = 80;
    int rows = 24;
    Scrollback scrollback;
    std::vector<std::pair<uint64_t, std::shared_ptr<Subscriber>>> subs;
    std::vector<std::pair<uint64_t, std::shared_ptr<Subscriber>>> pending;  // restore not yet sent
    std::string inQueue;
    bool wantOut = false;
    bool hup = false;
    bool reaped = false;
    int reapedExit = -1;      // the status the sweep collected, used when it finishes the session
    Clock::time_point reapedAt;
    bool finished = false;
};

PtyManager::PtyManager(PtyConfig cfg) : cfg_(cfg) {}

PtyManager::~PtyManager() { stop(); }

void PtyManager::start() {
    if (running_.load()) return;
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    evfd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epfd_ < 0 || evfd_ < 0) throw std::runtime_error(std::string("epoll setup failed: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
    stopping_ = false;
    running_ = true;
    thread_ = std::thread([this] { loop(); });
}

void PtyManager::stop() {
    if (!running_.load()) return;
    stopping_ = true;
    post([this] { shutdownAll(); });
    if (thread_.joinable()) thread_.join();
    running_ = false;
    ::close(epfd_);
    ::close(evfd_);
    epfd_ = evfd_ = -1;
}

void PtyManager::post(std::function<void()> fn) {
    {
        std::lock_guard lock(postMu_);
        posted_.push_back(std::move(fn));
    }
    uint64_t one = 1;
    ssize_t r = ::write(evfd_, &one, sizeof one);
    (void)r;
}

void PtyManager::sync() {
    if (!running_.load() || stopping_.load()) return;
    auto p = std::make_shared<std::promise<void>>();
    auto f = p->get_future();
    post([p] { p->set_value(); });
    f.wait();
}

std::string PtyManager::spawn(const SpawnSpec& spec) {
    if (!running_.load() || stopping_.load()) throw SpawnError(SpawnError::Kind::Failed, "terminal manager is not running");
    if (spec.cols < 1 || spec.cols > 1000 || spec.rows < 1 || spec.rows > 1000)
        throw SpawnError(SpawnError::Kind::BadSize, "cols and rows must be between 1 and 1000");
    if (spec.argv.empty() || spec.argv[0].empty()) throw SpawnError(SpawnError::Kind::BadCommand, "command is required");
    for (auto& a : spec.argv)
        if (a.find('\0') != std::string::npos) throw SpawnError(SpawnError::Kind::BadCommand, "command and args must not contain NUL");
    for (auto& [k, v] : spec.env)
        if (k.empty() || k.find('=') != std::string::npos || (k + v).find('\0') != std::string::npos)
            throw SpawnError(SpawnError::Kind::BadCommand, "invalid environment variable");
    if (spec.cwd.find('\0') != std::string::npos) throw SpawnError(SpawnError::Kind::BadCwd, "cwd must not contain NUL");
    struct stat st{};
    if (spec.cwd.empty() || spec.cwd[0] != '/' || ::stat(spec.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw SpawnError(SpawnError::Kind::BadCwd, "cwd does not exist or is not a directory: " + spec.cwd);

    // Environment: the host's, plus TERM/COLORTERM, plus the caller's overrides.
    std::vector<std::string> envStrings;
    std::string pathVar;
    {
        std::map<std::string, std::string> overrides{{"TERM", "xterm-256color"}, {"COLORTERM", "truecolor"}};
        for (auto& [k, v] : spec.env) overrides[k] = v;
        for (char** e = environ; e && *e; ++e) {
            std::string kv(*e);
            auto eq = kv.find('=');
            std::string key = kv.substr(0, eq);
            if (overrides.count(key)) continue;
            if (key == "PATH") pathVar = kv.substr(eq + 1);
            envStrings.push_back(std::move(kv));
        }
        for (auto& [k, v] : overrides) {
            if (k == "PATH") pathVar = v;
            envStrings.push_back(k + "=" + v);
        }
    }
    if (pathVar.empty()) pathVar = "/usr/local/bin:/usr/bin:/bin";
    std::string exe = resolveExecutable(spec.argv[0], pathVar);
    if (exe.empty()) throw SpawnError(SpawnError::Kind::BadCommand, "command not found: " + spec.argv[0]);

    std::string id;
    {
        std::lock_guard lock(mu_);
        if (sessions_.size() >= cfg_.maxSessions)
            throw SpawnError(SpawnError::Kind::TooManySessions,
                             "Too many terminal sessions (limit " + std::to_string(cfg_.maxSessions) + ")");
        if (!spec.id.empty()) {
            if (sessions_.count(spec.id)) throw SpawnError(SpawnError::Kind::DuplicateId, "session id already exists");
            id = spec.id;
        } else {
            do {
                id = "term-" + std::to_string(nextTerm_++);
            } while (sessions_.count(id));
        }
        sessions_[id] = nullptr;  // reserve the id and the slot while forking
    }
    auto unreserve = [&] {
        std::lock_guard lock(mu_);
        sessions_.erase(id);
    };

    std::vector<char*> argv;
    for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const char* cwd = spec.cwd.c_str();
    const char* exePath = exe.c_str();

    struct winsize wsz{};
    wsz.ws_col = static_cast<unsigned short>(spec.cols);
    wsz.ws_row = static_cast<unsigned short>(spec.rows);
    // posix_openpt with O_CLOEXEC on both ends, so neither leaks into processes that other
    // threads of the host fork in the meantime (forkpty leaves a window open for that).
    auto fail = [&](const char* what) {
        int err = errno;
        unreserve();
        throw SpawnError(SpawnError::Kind::Failed, std::string(what) + ": " + std::strerror(err));
    };
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (master < 0) fail("posix_openpt failed");
    char slaveName[128];
    if (::grantpt(master) != 0 || ::unlockpt(master) != 0 || ::ptsname_r(master, slaveName, sizeof slaveName) != 0) {
        ::close(master);
        fail("pty setup failed");
    }
    int slave = ::open(slaveName, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        ::close(master);
        fail("opening the pty slave failed");
    }
    ::ioctl(slave, TIOCSWINSZ, &wsz);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(slave);
        ::close(master);
        fail("fork failed");
    }
    if (pid == 0) {
        // Child: only async-signal-safe calls from here on.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        struct sigaction dfl{};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig) {
            if (sig == SIGKILL || sig == SIGSTOP) continue;
            sigaction(sig, &dfl, nullptr);
        }
        // New session and process group; the slave becomes the controlling terminal.
        if (::setsid() < 0) _exit(125);
        if (::ioctl(slave, TIOCSCTTY, 0) != 0) _exit(125);
        if (::dup2(slave, 0) < 0 || ::dup2(slave, 1) < 0 || ::dup2(slave, 2) < 0) _exit(125);
        if (::chdir(cwd) != 0) _exit(126);
        ::close_range(3, ~0U, 0);
        ::execve(exePath, argv.data(), envp.data());
        _exit(127);
    }
    ::close(slave);

    auto s = std::make_shared<Session>(cfg_.scrollbackBytes);
    s->id = id;
    s->pid = pid;
    s->cwd = spec.cwd;
    s->argv = spec.argv;
    s->createdAt = nowIsoUtc();
    s->fd = master;
    s->cols = spec.cols;
    s->rows = spec.rows;
    int added;
    int err = 0;
    {
        // Registered with epoll before the loop can see the session: its sweep may reap a fast
        // process and finish the session (closing the master) as soon as the lock is released.
        std::lock_guard lock(mu_);
        s->seq = nextSeq_++;
        sessions_[id] = s;
        bySeq_[s->seq] = s;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = s->seq;
        added = ::epoll_ctl(epfd_, EPOLL_CTL_ADD, master, &ev);
        if (added != 0) err = errno;
    }
    if (added != 0) {
        destroy(id);
        throw SpawnError(SpawnError::Kind::Failed, std::string("epoll_ctl failed: ") + std::strerror(err));
    }
    return id;
}

bool PtyManager::destroy(const std::string& id) {
    std::shared_ptr<Session> s;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || !it->second) return false;
        s = it->second;
        sessions_.erase(it);
        SessionInfo rec;
        rec.id = id;
        rec.pid = s->pid;
        rec.cwd = s->cwd;
        rec.argv = s->argv;
        rec.createdAt = s->createdAt;
        rec.running = false;
        rec.exitedAt = nowIsoUtc();
        recent_.push_back(std::move(rec));
        while (recent_.size() > cfg_.recentExits) recent_.pop_front();
    }
    ++pendingKills_;  // counted by dyingCount() until the loop has signalled the group
    post([this, s] {
        std::vector<std::shared_ptr<Subscriber>> subs;
        {
            std::lock_guard lock(s->mu);
            if (s->finished) {
                --pendingKills_;
                return;
            }
            s->finished = true;
            for (auto& [id2, sub] : s->subs) subs.push_back(sub);
            for (auto& [id2, sub] : s->pending) subs.push_back(sub);
            s->subs.clear();
            s->pending.clear();
        }
        for (auto& sub : subs)
            if (sub->onClosed) sub->onClosed();
        closeMaster(s);
        killGroup(s->pid, s->reaped);
        --pendingKills_;
        std::lock_guard lock(mu_);
        bySeq_.erase(s->seq);
    });
    return true;
}

WriteResult PtyManager::write(const std::string& id, std::string_view data) {
    std::shared_ptr<Session> s;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || !it->second) return WriteResult::NotFound;
        s = it->second;
    }
    std::lock_guard lock(s->mu);
    if (s->fd < 0 || s->finished) return WriteResult::NotFound;
    if (s->inQueue.empty()) {
        while (!data.empty()) {
            ssize_t n = ::write(s->fd, data.data(), data.size());
            if (n > 0) {
                data.remove_prefix(static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return WriteResult::Ok;  // EIO: the process is going away
            break;
        }
    }
    if (data.empty()) return WriteResult::Ok;
    if (s->inQueue.size() + data.size() > cfg_.maxInputQueueBytes) return WriteResult::Full;
    s->inQueue.append(data);
    if (!s->wantOut) {
        s->wantOut = true;
        updateEpoll(*s);
    }
    return WriteResult::Ok;
}

void PtyManager::updateEpoll(Session& s) {  // s.mu held
    if (s.fd < 0 || s.hup) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (s.wantOut ? EPOLLOUT : 0u);
    ev.data.u64 = s.seq;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, s.fd, &ev);
}

bool PtyManager::resize(const std::string& id, int cols, int rows) {
    if (cols < 1 || cols > 1000 || rows < 1 || rows > 1000)
        throw SpawnError(SpawnError::Kind::BadSize, "cols and rows must be between 1 and 1000");
    std::shared_ptr<Session> s;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || !it->second) return false;
        s = it->second;
    }
    std::lock_guard lock(s->mu);
    if (s->fd < 0) return false;
    struct winsize wsz{};
    wsz.ws_col = static_cast<unsigned short>(cols);
    wsz.ws_row = static_cast<unsigned short>(rows);
    if (::ioctl(s->fd, TIOCSWINSZ, &wsz) != 0) return false;
    s->cols = cols;
    s->rows = rows;
    return true;
}

std::optional<uint64_t> PtyManager::attach(const std::string& id, Subscriber sub) {
    std::shared_ptr<Session> s;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || !it->second) return std::nullopt;
        s = it->second;
    }
    uint64_t subId = nextSub_++;
    {
        std::lock_guard lock(s->mu);
        if (s->finished) return std::nullopt;
        s->pending.emplace_back(subId, std::make_shared<Subscriber>(std::move(sub)));
    }
    post([this, s] {
        std::vector<std::shared_ptr<Subscriber>> fresh;
        std::string snapshot;
        {
            std::lock_guard lock(s->mu);
            if (s->finished || s->pending.empty()) return;
            snapshot = s->scrollback.snapshot();
            for (auto& p : s->pending) {
                fresh.push_back(p.second);
                s->subs.push_back(std::move(p));
            }
            s->pending.clear();
        }
        for (auto& f : fresh)
            if (f->onRestore) f->onRestore(snapshot);
    });
    return subId;
}

void PtyManager::detach(const std::string& id, uint64_t subscriberId) {
    std::shared_ptr<Session> s;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || !it->second) return;
        s = it->second;
    }
    std::lock_guard lock(s->mu);
    auto drop = [&](auto& v) {
        for (auto it = v.begin(); it != v.end(); ++it)
            if (it->first == subscriberId) {
                v.erase(it);
                return;
            }
    };
    drop(s->subs);
    drop(s->pending);
}

SessionInfo PtyManager::infoOf(const Session& s) const {  // s.mu held by caller
    SessionInfo i;
    i.id = s.id;
    i.pid = s.pid;
    i.cols = s.cols;
    i.rows = s.rows;
    i.cwd = s.cwd;
    i.argv = s.argv;
    i.createdAt = s.createdAt;
    // A session counts as running until finish() has read its last output and replaced it
    // with the exit record (running=false, exitCode), even while its reaped process's output
    // is still being drained: "exited" always comes with the exit code and the exit event.
    // alive() tells whether the process itself is still there.
    i.running = true;
    i.outputBytes = s.scrollback.total();
    i.subscribers = s.subs.size() + s.pending.size();
    i.scrollbackBytes = s.scrollback.size();
    return i;
}

std::optional<SessionInfo> PtyManager::info(const std::string& id) const {
    std::shared_ptr<Session> s;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || !it->second) {
            for (auto r = recent_.rbegin(); r != recent_.rend(); ++r)
                if (r->id == id) return *r;
            return std::nullopt;
        }
        s = it->second;
    }
    std::lock_guard lock(s->mu);
    return infoOf(*s);
}

bool PtyManager::alive(const std::string& id) const {
    std::shared_ptr<Session> s;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || !it->second) return false;
        s = it->second;
    }
    std::lock_guard lock(s->mu);
    if (s->finished || s->reaped) return false;
    return ::kill(s->pid, 0) == 0;
}

std::vector<SessionInfo> PtyManager::list() const {
    std::vector<std::shared_ptr<Session>> all;
    {
        std::lock_guard lock(mu_);
        for (auto& [id, s] : sessions_)
            if (s) all.push_back(s);
    }
    std::vector<SessionInfo> out;
    for (auto& s : all) {
        std::lock_guard lock(s->mu);
        out.push_back(infoOf(*s));
    }
    return out;
}

size_t PtyManager::count() const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (auto& [id, s] : sessions_)
        if (s) ++n;
    return n;
}

std::optional<std::string> PtyManager::output(const std::string& id, uint64_t from, uint64_t* start, uint64_t* total) const {
    std::shared_ptr<Session> s;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || !it->second) return std::nullopt;
        s = it->second;
    }
    std::lock_guard lock(s->mu);
    if (total) *total = s->scrollback.total();
    return s->scrollback.since(from, start);
}

size_t PtyManager::dyingCount() const {
    std::lock_guard lock(dyingMu_);
    return dyingCount_ + pendingKills_.load();
}

// ------------------------------------------------------------------ loop thread

void PtyManager::loop() {
    epoll_event events[64];
    auto lastSweep = Clock::now();
    std::vector<std::function<void()>> work;
    while (true) {
        bool urgent;
        {
            std::lock_guard lock(dyingMu_);
            urgent = !dying_.empty();
        }
        {
            std::lock_guard lock(mu_);
            for (auto& [seq, s] : bySeq_)
                if (s->hup) {
                    urgent = true;
                    break;
                }
        }
        int interval = urgent ? 20 : cfg_.reapCheckMs;
        int n = ::epoll_wait(epfd_, events, 64, interval);
        for (int i = 0; i < n; ++i) {
            uint64_t key = events[i].data.u64;
            if (key == 0) {
                uint64_t v;
                while (::read(evfd_, &v, sizeof v) > 0) {
                }
                continue;
            }
            std::shared_ptr<Session> s;
            {
                std::lock_guard lock(mu_);
                auto it = bySeq_.find(key);
                if (it != bySeq_.end()) s = it->second;
            }
            if (!s) continue;
            if (events[i].events & EPOLLOUT) handleWritable(s);
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                handleReadable(s, (events[i].events & (EPOLLHUP | EPOLLERR)) != 0);
        }
        {
            std::lock_guard lock(postMu_);
            work.swap(posted_);
        }
        for (auto& fn : work) fn();
        work.clear();
        auto now = Clock::now();
        if (now - lastSweep >= std::chrono::milliseconds(interval) || n == 0) {
            sweep();
            lastSweep = now;
        }
        if (stopping_.load()) {
            bool done;
            {
                std::lock_guard lock(mu_);
                done = bySeq_.empty();
            }
            {
                std::lock_guard lock(postMu_);
                done = done && posted_.empty();
            }
            if (done && dying_.empty()) break;
        }
    }
}

void PtyManager::deliver(const std::shared_ptr<Session>& s, std::string_view data) {
    std::vector<std::shared_ptr<Subscriber>> subs;
    {
        std::lock_guard lock(s->mu);
        s->scrollback.append(data);
        subs.reserve(s->subs.size());
        for (auto& p : s->subs) subs.push_back(p.second);
    }
    for (auto& sub : subs)
        if (sub->onOutput) sub->onOutput(data);
}

void PtyManager::handleReadable(const std::shared_ptr<Session>& s, bool hup) {
    static thread_local std::vector<char> buf(64 * 1024);
    int fd;
    {
        std::lock_guard lock(s->mu);
        fd = s->fd;
        if (fd < 0 || s->finished) return;
    }
    // Reads until EAGAIN, coalescing the PTY's small (~4 KiB) chunks into one delivery per
    // 64 KiB, so a fast writer costs one WebSocket frame per 64 KiB instead of per 4 KiB.
    size_t budget = 1024 * 1024;  // fairness between sessions
    bool eof = false;
    size_t used = 0;
    while (budget > 0) {
        ssize_t n = ::read(fd, buf.data() + used, buf.size() - used);
        if (n > 0) {
            used += static_cast<size_t>(n);
            budget = budget > static_cast<size_t>(n) ? budget - static_cast<size_t>(n) : 0;
            if (used == buf.size()) {
                deliver(s, std::string_view(buf.data(), used));
                used = 0;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        eof = true;  // 0 or EIO: every slave fd is closed
        break;
    }
    if (used > 0) deliver(s, std::string_view(buf.data(), used));
    if (!eof && hup && budget > 0) eof = true;  // HUP with nothing left to read
    if (!eof) return;
    int reapedExit = -1;
    bool alreadyReaped = false;
    {
        std::lock_guard lock(s->mu);
        s->hup = true;
        if (s->fd >= 0) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s->fd, nullptr);
        alreadyReaped = s->reaped;
        reapedExit = s->reapedExit;
    }
    if (alreadyReaped) {  // the sweep reaped it first; EOF means every byte has been read now
        finish(s, reapedExit);
        return;
    }
    int status = 0;
    pid_t r = ::waitpid(s->pid, &status, WNOHANG);
    if (r == s->pid || (r < 0 && errno == ECHILD)) {
        {
            std::lock_guard lock(s->mu);
            s->reaped = true;
        }
        finish(s, r == s->pid ? exitCodeFromStatus(status) : -1);
    }
    // else: the periodic sweep reaps it shortly (the loop polls faster while a HUP is pending).
}

void PtyManager::handleWritable(const std::shared_ptr<Session>& s) {
    std::lock_guard lock(s->mu);
    if (s->fd < 0) return;
    size_t off = 0;
    while (off < s->inQueue.size()) {
        ssize_t n = ::write(s->fd, s->inQueue.data() + off, s->inQueue.size() - off);
        if (n > 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        off = s->inQueue.size();  // the process is going away: drop pending input
        break;
    }
    s->inQueue.erase(0, off);
    if (s->inQueue.empty() && s->wantOut) {
        s->wantOut = false;
        updateEpoll(*s);
    }
}

void PtyManager::closeMaster(const std::shared_ptr<Session>& s) {
    int fd;
    {
        std::lock_guard lock(s->mu);
        fd = s->fd;
        s->fd = -1;
    }
    if (fd >= 0) {
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
    }
}

void PtyManager::finish(const std::shared_ptr<Session>& s, int exitCode) {
    std::vector<std::shared_ptr<Subscriber>> subs, fresh;
    std::string snapshot;
    SessionInfo rec;
    {
        std::lock_guard lock(s->mu);
        if (s->finished) return;
        s->finished = true;  // every byte read so far has been delivered; nothing follows
        if (!s->pending.empty()) snapshot = s->scrollback.snapshot();
        for (auto& p : s->pending) fresh.push_back(p.second);
        for (auto& p : s->subs) subs.push_back(p.second);
        s->subs.clear();
        s->pending.clear();
        rec = infoOf(*s);
    }
    rec.running = false;
    rec.exitCode = exitCode;
    rec.exitedAt = nowIsoUtc();
    closeMaster(s);
    killGroup(s->pid, true);  // leftovers of the process group, counted by dyingCount() from now
    // First the hook (terminal.exited, the ops log), then the record, then the clients: whoever
    // finds the session exited also finds its exit event, and a client that got the exit frame
    // finds the session exited.
    if (exitHook_) exitHook_(rec);
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(s->id);
        if (it != sessions_.end() && it->second == s) sessions_.erase(it);
        bySeq_.erase(s->seq);
        recent_.push_back(std::move(rec));
        while (recent_.size() > cfg_.recentExits) recent_.pop_front();
    }
    for (auto& f : fresh)
        if (f->onRestore) f->onRestore(snapshot);
    subs.insert(subs.end(), fresh.begin(), fresh.end());
    for (auto& sub : subs)
        if (sub->onExit) sub->onExit(exitCode);
}

void PtyManager::killGroup(pid_t pid, bool alreadyReaped) {
    if (pid <= 0) return;
    if (::kill(-pid, SIGHUP) != 0 && alreadyReaped) return;  // nothing left of the group
    ::kill(-pid, SIGCONT);
    auto now = Clock::now();
    Dying d{alreadyReaped ? 0 : pid, pid, now + std::chrono::milliseconds(cfg_.killGraceMs), false,
            now + std::chrono::milliseconds(cfg_.killGraceMs) + std::chrono::seconds(5)};
    std::lock_guard lock(dyingMu_);
    dying_.push_back(d);
    dyingCount_ = dying_.size();
}

void PtyManager::sweep() {
    // Live sessions whose process exited without a HUP (a grandchild still holds the slave).
    std::vector<std::shared_ptr<Session>> live;
    {
        std::lock_guard lock(mu_);
        for (auto& [seq, s] : bySeq_) live.push_back(s);
    }
    for (auto& s : live) {
        bool reapedEarlier = false;
        int reapedExit = -1;
        Clock::time_point reapedAt;
        {
            std::lock_guard lock(s->mu);
            if (s->finished) continue;
            reapedEarlier = s->reaped;
            reapedExit = s->reapedExit;
            reapedAt = s->reapedAt;
        }
        if (reapedEarlier) {
            // The kernel moves slave output to the master asynchronously, so bytes written just
            // before exit can arrive after waitpid reports it. Give them a moment, then finish
            // (a grandchild may hold the slave open, so EOF may never come).
            if (Clock::now() - reapedAt >= std::chrono::milliseconds(100)) {
                handleReadable(s, false);
                finish(s, reapedExit);
            }
            continue;
        }
        int status = 0;
        pid_t r = ::waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid || (r < 0 && errno == ECHILD)) {
            {
                std::lock_guard lock(s->mu);
                s->reaped = true;
                s->reapedExit = r == s->pid ? exitCodeFromStatus(status) : -1;
                s->reapedAt = Clock::now();
            }
            handleReadable(s, false);  // drain what is there; EOF here finishes the session
        }
    }
    // Killed or exited process groups: reap, escalate to SIGKILL after the grace period.
    std::lock_guard lock(dyingMu_);
    auto now = Clock::now();
    for (auto it = dying_.begin(); it != dying_.end();) {
        auto& d = *it;
        if (d.pid > 0) {
            int status = 0;
            pid_t r = ::waitpid(d.pid, &status, WNOHANG);
            if (r == d.pid || (r < 0 && errno == ECHILD)) d.pid = 0;
        }
        bool groupAlive = ::kill(-d.pgid, 0) == 0;
        if (d.pid == 0 && (!groupAlive || d.killed)) {
            it = dying_.erase(it);
            continue;
        }
        if (!d.killed && now >= d.killAt) {
            ::kill(-d.pgid, SIGKILL);
            d.killed = true;
        } else if (now >= d.giveUpAt) {
            it = dying_.erase(it);
            continue;
        }
        ++it;
    }
    dyingCount_ = dying_.size();
}

void PtyManager::shutdownAll() {
    std::vector<std::shared_ptr<Session>> all;
    {
        std::lock_guard lock(mu_);
        for (auto& [seq, s] : bySeq_) all.push_back(s);
        sessions_.clear();
    }
    for (auto& s : all) {
        std::vector<std::shared_ptr<Subscriber>> subs;
        {
            std::lock_guard lock(s->mu);
            if (s->finished) continue;
            s->finished = true;
            for (auto& p : s->subs) subs.push_back(p.second);
            for (auto& p : s->pending) subs.push_back(p.second);
            s->subs.clear();
            s->pending.clear();
        }
        for (auto& sub : subs)
            if (sub->onClosed) sub->onClosed();
        closeMaster(s);
        killGroup(s->pid, s->reaped);
    }
    std::lock_guard lock(mu_);
    bySeq_.clear();
}

}  // namespace atelier::terminal
