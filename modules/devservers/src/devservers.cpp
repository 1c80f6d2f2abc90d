#include "devservers.hpp"

#include "ports.hpp"

#include <atelier/util.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

extern char** environ;

namespace atelier::devservers {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> hostEnvironment() {
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
    return out;
}

std::string userShell() {
    const char* sh = std::getenv("SHELL");
    if (sh && *sh && ::access(sh, X_OK) == 0) return sh;
    return "/bin/sh";
}

JsonArray intArray(const std::vector<int>& v) {
    auto a = makeArray();
    for (int x : v) a->add(x);
    return a;
}

std::vector<int> parsePorts(const std::string& s) {
    std::vector<int> out;
    if (auto a = parseArray(s))
        for (size_t i = 0; i < a->size(); ++i) out.push_back(a->getElement<int>(static_cast<unsigned>(i)));
    return out;
}

}  // namespace

RunConfig RunConfig::fromJson(const JsonObject& c) {
    RunConfig r;
    if (!c) return r;
    r.startCommand = c->optValue<std::string>("startCommand", "");
    r.projectDir = c->optValue<std::string>("projectDir", ".");
    if (auto ports = c->getObject("ports")) {
        if (auto d = ports->getArray("discovered"))
            for (size_t i = 0; i < d->size(); ++i) {
                auto v = d->get(static_cast<unsigned>(i));
                if (v.isInteger()) r.knownPorts.push_back(v.convert<int>());
            }
        r.offsetStep = std::max(1, ports->optValue<int>("offsetStep", 1));
    }
    if (auto m = c->getObject("envMapping"))
        for (auto& [k, v] : *m)
            if (v.isString()) r.envMapping[k] = v.extract<std::string>();
    if (auto d = c->getObject("devServer")) {
        r.logLines = static_cast<size_t>(std::max(1, d->optValue<int>("logLines", 1000)));
        r.logFileMaxBytes = static_cast<uint64_t>(d->optValue<int64_t>("logFileMaxBytes", 5 * 1024 * 1024));
        r.logFileKeep = d->optValue<int>("logFileKeep", 3);
        r.stopGraceMs = d->optValue<int>("stopGraceMs", 5000);
        r.readyTimeoutMs = d->optValue<int>("readyTimeoutMs", 60000);
    }
    return r;
}

JsonObject ServerView::toJson() const {
    auto o = makeObject();
    o->set("worktreeId", worktreeId);
    o->set("projectId", projectId);
    o->set("status", status);
    o->set("port", port ? Poco::Dynamic::Var(port) : Poco::Dynamic::Var());
    o->set("ports", intArray(ports));
    o->set("offset", offset);
    o->set("pid", pid ? Poco::Dynamic::Var(static_cast<int64_t>(pid)) : Poco::Dynamic::Var());
    o->set("exitCode", exitCode ? Poco::Dynamic::Var(*exitCode) : Poco::Dynamic::Var());
    if (signal) o->set("signal", signal);
    o->set("crashed", crashed);
    o->set("path", path);
    o->set("cwd", cwd);
    o->set("command", command);
    o->set("startedAt", startedAt.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(startedAt));
    if (!stoppedAt.empty()) o->set("stoppedAt", stoppedAt);
    return o;
}

DevServers::DevServers(Db db, Sinks sinks) : db_(db), sinks_(std::move(sinks)) {
    Supervisor::Callbacks cb;
    cb.onLines = [this](const std::string& k, pid_t, std::vector<std::string> lines, size_t dropped) {
        onLines(k, std::move(lines), dropped);
    };
    cb.onExit = [this](const std::string& k, pid_t pid, ExitInfo info) { onExit(k, pid, info); };
    sup_ = std::make_unique<Supervisor>(std::move(cb));
    monitor_ = std::thread([this] { monitorLoop(); });
}

DevServers::~DevServers() { shutdown(); }

void DevServers::restore() {
    auto rows = db_.query(
        "SELECT project_id, worktree_id, pid, pgid, start_ticks, offset_value, port, ports, path, cwd, command, started_at "
        "FROM devservers_processes");
    for (auto& r : rows) {
        pid_t pid = static_cast<pid_t>(r.integer("pid"));
        uint64_t ticks = static_cast<uint64_t>(r.integer("start_ticks"));
        uint64_t now = processStartTicks(pid);
        auto pj = r.text("project_id"), wt = r.text("worktree_id");
        if (now == 0 || now != ticks) {
            db_.exec("DELETE FROM devservers_processes WHERE project_id = ? AND worktree_id = ?", {pj, wt});
            continue;
        }
        Server s;
        s.adopted = true;
        s.view.projectId = pj;
        s.view.worktreeId = wt;
        s.view.pid = pid;
        s.view.offset = static_cast<int>(r.integer("offset_value"));
        s.view.port = static_cast<int>(r.integer("port"));
        s.view.ports = parsePorts(r.text("ports"));
        s.view.path = r.text("path");
        s.view.cwd = r.text("cwd");
        s.view.command = r.text("command");
        s.view.startedAt = r.text("started_at");
        s.view.status = "running";
        sup_->adopt(key(pj, wt), pid, static_cast<pid_t>(r.integer("pgid")), 1000,
                    "[atelier] re-attached to pid " + std::to_string(pid) +
                        " after a server restart; earlier output is in .atelier/logs/devserver.log");
        std::lock_guard lock(mu_);
        servers_[key(pj, wt)] = std::move(s);
    }
}

std::string DevServers::resolveCwd(const WorktreeTarget& wt, const RunConfig& cfg) const {
    std::error_code ec;
    fs::path root = fs::weakly_canonical(wt.path, ec);
    if (ec || !fs::is_directory(root, ec))
        throw DevError(DevError::Kind::Invalid, "WORKTREE_PATH_MISSING", "Worktree directory does not exist: " + wt.path);
    fs::path cwd = root;
    if (!cfg.projectDir.empty() && cfg.projectDir != ".") cwd = fs::weakly_canonical(root / cfg.projectDir, ec);
    auto rel = cwd.lexically_relative(root).generic_string();
    if (rel.rfind("..", 0) == 0)
        throw DevError(DevError::Kind::Invalid, "INVALID_PROJECT_DIR", "projectDir must stay inside the worktree");
    if (!fs::is_directory(cwd, ec))
        throw DevError(DevError::Kind::Invalid, "INVALID_PROJECT_DIR", "projectDir does not exist: " + cwd.string());
    return cwd.string();
}

ServerView DevServers::start(const WorktreeTarget& wt, const RunConfig& cfg) {
    if (shuttingDown_) throw DevError(DevError::Kind::Conflict, "SHUTTING_DOWN", "The server is shutting down");
    if (cfg.startCommand.find_first_not_of(" \t\r\n") == std::string::npos)
        throw DevError(DevError::Kind::Invalid, "NO_START_COMMAND", "No startCommand configured for this project");
    std::string cwd = resolveCwd(wt, cfg);
    std::string k = key(wt.projectId, wt.worktreeId);
    std::vector<int> known = cfg.knownPorts;
    int firstPort = known.empty() ? 3000 : known.front();
    std::vector<int> probePorts = known.empty() ? std::vector<int>{firstPort} : known;

    ServerView view;
    {
        std::lock_guard lock(mu_);
        auto it = servers_.find(k);
        if (it != servers_.end() && it->second.view.status != "stopped")
            throw DevError(DevError::Kind::Invalid, "ALREADY_RUNNING", "Worktree \"" + wt.worktreeId + "\" is already running");
        std::set<int> usedOffsets, usedPorts;
        for (auto& [sk, s] : servers_) {
            if (s.view.status == "stopped") continue;
            if (s.view.projectId == wt.projectId) usedOffsets.insert(s.view.offset);
            for (int p : s.view.ports) usedPorts.insert(p);
        }
        int offset = allocateOffset(cfg.offsetStep, probePorts, usedOffsets, usedPorts, tcpPortFree);
        if (offset < 0) throw DevError(DevError::Kind::Conflict, "NO_FREE_OFFSET", "No free port offset is left");

        fs::path logDir = fs::path(wt.path) / ".atelier" / "logs";
        std::error_code ec;
        fs::create_directories(logDir, ec);
        if (!fs::exists(logDir / ".gitignore", ec)) std::ofstream(logDir / ".gitignore") << "*\n";

        std::map<std::string, std::string> extra{{"ATELIER_WORKTREE_ID", wt.worktreeId},
                                                 {"ATELIER_WORKTREE_PATH", wt.path},
                                                 {"ATELIER_PROJECT_ID", wt.projectId}};
        SpawnSpec spec;
        spec.key = k;
        spec.argv = {userShell(), "-lc", cfg.startCommand};
        spec.cwd = cwd;
        spec.env = buildEnvironment(hostEnvironment(), offset, known, firstPort, cfg.envMapping, extra);
        spec.logFile = ec ? "" : (logDir / "devserver.log").string();
        spec.ringLines = cfg.logLines;
        spec.logFileMaxBytes = cfg.logFileMaxBytes;
        spec.logFileKeep = cfg.logFileKeep;
        pid_t pid = 0;
        try {
            pid = sup_->spawn(spec);
        } catch (const std::exception& e) {
            throw DevError(DevError::Kind::Invalid, "START_FAILED", std::string("Failed to start: ") + e.what());
        }
        Server s;
        s.graceMs = cfg.stopGraceMs;
        s.readyDeadline = Clock::now() + std::chrono::milliseconds(cfg.readyTimeoutMs);
        s.view.projectId = wt.projectId;
        s.view.worktreeId = wt.worktreeId;
        s.view.path = wt.path;
        s.view.cwd = cwd;
        s.view.command = cfg.startCommand;
        s.view.status = "starting";
        s.view.offset = offset;
        s.view.port = firstPort + offset;
        for (int p : probePorts) s.view.ports.push_back(p + offset);
        s.view.pid = pid;
        s.view.startedAt = nowIso();
        view = s.view;
        servers_[k] = std::move(s);
        std::string portsText = toJson(intArray(view.ports));
        db_.exec(
            "INSERT OR REPLACE INTO devservers_processes (project_id, worktree_id, pid, pgid, start_ticks, offset_value, port, ports,"
            " path, cwd, command, started_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            {wt.projectId, wt.worktreeId, static_cast<int64_t>(pid), static_cast<int64_t>(pid),
             static_cast<int64_t>(processStartTicks(pid)), offset, view.port, portsText, wt.path, cwd, cfg.startCommand,
             view.startedAt});
    }
    if (sinks_.status) sinks_.status(view);
    monCv_.notify_all();
    return view;
}

std::optional<ServerView> DevServers::stop(const std::string& projectId, const std::string& worktreeId, int graceMs) {
    std::string k = key(projectId, worktreeId);
    int grace;
    {
        std::lock_guard lock(mu_);
        auto it = servers_.find(k);
        if (it == servers_.end() || it->second.view.status == "stopped") return std::nullopt;
        grace = graceMs >= 0 ? graceMs : it->second.graceMs;
    }
    auto pid = sup_->pid(k);
    auto info = sup_->stop(k, std::chrono::milliseconds(grace));
    ExitInfo ei = info.value_or(ExitInfo{});
    ei.stopRequested = true;
    if (pid) finish(k, *pid, ei);
    return get(projectId, worktreeId);
}

void DevServers::finish(const std::string& k, pid_t pid, const ExitInfo& info) {
    ServerView view;
    std::vector<std::string> tail;
    {
        std::lock_guard lock(mu_);
        auto it = servers_.find(k);
        if (it == servers_.end() || it->second.view.pid != pid || it->second.view.status == "stopped") return;
        auto& v = it->second.view;
        v.status = "stopped";
        v.stoppedAt = nowIso();
        if (info.exitCode >= 0) v.exitCode = info.exitCode;
        else v.exitCode.reset();
        v.signal = info.signal;
        v.crashed = !info.stopRequested && !shuttingDown_ && (info.exitCode != 0 || info.signal != 0);
        view = v;
        try {
            db_.exec("DELETE FROM devservers_processes WHERE project_id = ? AND worktree_id = ?", {v.projectId, v.worktreeId});
        } catch (...) {
        }
    }
    if (view.crashed) tail = sup_->logs(k, 20);
    if (sinks_.status) sinks_.status(view);
    if (view.crashed && sinks_.crash) sinks_.crash(view, tail);
}

void DevServers::onExit(const std::string& k, pid_t pid, ExitInfo info) { finish(k, pid, info); }

void DevServers::onLines(const std::string& k, std::vector<std::string> lines, size_t dropped) {
    std::string projectId, worktreeId;
    {
        std::lock_guard lock(mu_);
        auto it = servers_.find(k);
        if (it == servers_.end()) return;  // discovery runs are not published
        projectId = it->second.view.projectId;
        worktreeId = it->second.view.worktreeId;
    }
    if (sinks_.log) sinks_.log(projectId, worktreeId, lines, dropped);
}

std::vector<std::string> DevServers::logs(const std::string& projectId, const std::string& worktreeId) const {
    return sup_->logs(key(projectId, worktreeId));
}

std::optional<ServerView> DevServers::get(const std::string& projectId, const std::string& worktreeId) const {
    std::lock_guard lock(mu_);
    auto it = servers_.find(key(projectId, worktreeId));
    if (it == servers_.end()) return std::nullopt;
    return it->second.view;
}

std::vector<ServerView> DevServers::list(const std::string& projectId) const {
    std::vector<ServerView> out;
    std::lock_guard lock(mu_);
    for (auto& [k, s] : servers_)
        if (s.view.status != "stopped" && (projectId.empty() || s.view.projectId == projectId)) out.push_back(s.view);
    return out;
}

std::optional<ServerView> DevServers::findByPath(const std::string& path) const {
    std::lock_guard lock(mu_);
    std::error_code ec;
    auto want = fs::weakly_canonical(path, ec);
    std::optional<ServerView> stopped;
    for (auto& [k, s] : servers_) {
        if (fs::weakly_canonical(s.view.path, ec) != want) continue;
        if (s.view.status != "stopped") return s.view;
        stopped = s.view;
    }
    return stopped;
}

void DevServers::monitorLoop() {
    while (true) {
        {
            std::unique_lock lock(monMu_);
            monCv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return monQuit_; });
            if (monQuit_) return;
        }
        std::vector<std::pair<std::string, int>> starting;
        {
            std::lock_guard lock(mu_);
            for (auto& [k, s] : servers_)
                if (s.view.status == "starting") starting.emplace_back(k, s.view.port);
        }
        for (auto& [k, port] : starting) {
            bool ready = tcpPortAnswers(port);
            ServerView view;
            {
                std::lock_guard lock(mu_);
                auto it = servers_.find(k);
                if (it == servers_.end() || it->second.view.status != "starting") continue;
                if (!ready && Clock::now() < it->second.readyDeadline) continue;
                it->second.view.status = "running";
                view = it->second.view;
            }
            if (sinks_.status) sinks_.status(view);
        }
    }
}

DevServers::Discovery DevServers::discover(const std::string& projectId, const std::string& root, const RunConfig& cfg,
                                           int timeoutMs) {
    Discovery d;
    if (cfg.startCommand.find_first_not_of(" \t\r\n") == std::string::npos)
        throw DevError(DevError::Kind::Invalid, "NO_START_COMMAND", "No startCommand configured for this project");
    WorktreeTarget wt{projectId, "", root};
    std::string cwd = resolveCwd(wt, cfg);
    std::string k = "discover:" + projectId;
    if (sup_->alive(k)) throw DevError(DevError::Kind::Conflict, "DISCOVERY_RUNNING", "Port discovery is already running");
    SpawnSpec spec;
    spec.key = k;
    spec.argv = {userShell(), "-lc", cfg.startCommand};
    spec.cwd = cwd;
    std::map<std::string, std::string> extra{{"ATELIER_DISCOVERY", "1"}};
    int first = cfg.knownPorts.empty() ? 0 : cfg.knownPorts.front();
    spec.env = buildEnvironment(hostEnvironment(), 0, cfg.knownPorts, first, cfg.envMapping, extra);
    spec.ringLines = cfg.logLines;
    pid_t pid;
    try {
        pid = sup_->spawn(spec);
    } catch (const std::exception& e) {
        throw DevError(DevError::Kind::Invalid, "START_FAILED", std::string("Failed to start: ") + e.what());
    }
    auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    std::vector<int> last;
    auto stableSince = Clock::now();
    while (Clock::now() < deadline && sup_->alive(k) && !shuttingDown_) {
        auto ports = listeningPorts(processTree(pid));
        if (ports != last) {
            last = ports;
            stableSince = Clock::now();
        } else if (!ports.empty() && Clock::now() - stableSince >= std::chrono::milliseconds(1200)) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
    bool exitedEarly = !sup_->alive(k);
    sup_->stop(k, std::chrono::milliseconds(2000));
    d.ports = last;
    d.logs = sup_->logs(k);
    sup_->forget(k);
    d.success = !d.ports.empty();
    if (!d.success)
        d.error = exitedEarly ? "The start command exited before listening on any port"
                              : "No listening ports found within " + std::to_string(timeoutMs) + " ms";
    return d;
}

void DevServers::shutdown() {
    if (shuttingDown_.exchange(true)) return;
    int grace = 0;
    {
        std::lock_guard lock(mu_);
        for (auto& [k, s] : servers_)
            if (s.view.status != "stopped") grace = std::max(grace, s.graceMs);
    }
    sup_->stopAll(std::chrono::milliseconds(std::min(grace, 5000)));
    // Everything this module started is gone: forget the rows so nothing is re-attached.
    std::vector<std::pair<std::string, pid_t>> live;
    {
        std::lock_guard lock(mu_);
        for (auto& [k, s] : servers_)
            if (s.view.status != "stopped") live.emplace_back(k, s.view.pid);
    }
    for (auto& [k, pid] : live) {
        ExitInfo info;
        info.stopRequested = true;
        finish(k, pid, info);
    }
    sup_->shutdown();
    {
        std::lock_guard lock(monMu_);
        monQuit_ = true;
    }
    monCv_.notify_all();
    if (monitor_.joinable()) monitor_.join();
}

}  // namespace atelier::devservers
