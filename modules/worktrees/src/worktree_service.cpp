#include "worktree_service.hpp"

#include "fs_util.hpp"

#include <atelier/util.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace atelier::wt {

namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Maps a git failure to the uniform error shape.
[[noreturn]] void rethrowGit(const git::GitError& e, const std::string& notFoundCode = "NOT_FOUND") {
    using K = git::ErrorKind;
    switch (e.kind()) {
        case K::NotARepository: throw badRequest(e.what(), "NOT_A_REPOSITORY");
        case K::EmptyRepository: throw badRequest(e.what(), "EMPTY_REPOSITORY");
        case K::InvalidName: throw badRequest(e.what(), "INVALID_BRANCH_NAME");
        case K::NotFound: throw HttpError(404, notFoundCode, e.what());
        case K::Exists: throw conflict(e.what(), "ALREADY_EXISTS");
        case K::InUse: throw conflict(e.what(), "BRANCH_IN_USE");
        case K::Dirty: throw conflict(e.what(), "WORKTREE_DIRTY");
        case K::Nothing: throw badRequest(e.what(), "NOTHING_TO_COMMIT");
        case K::Auth: throw badRequest(e.what(), "PUSH_AUTH_FAILED");
        case K::Conflict: {
            HttpError err(409, "CONFLICT", e.what());
            err.extra = makeObject();
            JsonArray paths = makeArray();
            for (auto& p : e.paths()) paths->add(p);
            err.extra->set("conflicts", paths);
            throw err;
        }
        default: throw badRequest(e.what(), "GIT_ERROR");
    }
}

JsonObject withExtra(HttpError& e) {
    if (!e.extra) e.extra = makeObject();
    return e.extra;
}

}  // namespace

std::string deriveWorktreeId(const std::string& branch) {
    std::string b = branch;
    for (const char* prefix : {"feature/", "fix/", "chore/"}) {
        if (b.rfind(prefix, 0) == 0) {
            b = b.substr(std::string(prefix).size());
            break;
        }
    }
    std::string out;
    for (unsigned char c : b) out.push_back(std::isalnum(c) || c == '-' || c == ' ' ? static_cast<char>(c) : '-');
    while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(0, 1);
    return out;
}

bool isValidWorktreeId(const std::string& id) {
    if (id.empty() || id.size() > 120) return false;
    if (!std::isalnum(static_cast<unsigned char>(id[0]))) return false;
    for (unsigned char c : id)
        if (!(std::isalnum(c) || c == '-' || c == ' ' || c == '_' || c == '.')) return false;
    return id.find("..") == std::string::npos;
}

std::string sanitiseBranch(const std::string& branch) {
    std::string out;
    for (unsigned char c : branch) out.push_back(std::isalnum(c) || c == '-' || c == '_' || c == '.' ? static_cast<char>(c) : '-');
    while (out.find("..") != std::string::npos) out.replace(out.find(".."), 2, "-");
    while (!out.empty() && (out.front() == '.' || out.front() == '-')) out.erase(0, 1);
    return out.empty() ? "worktree" : out;
}

struct WorktreeService::Row {
    std::string key, projectId, id, name, repoPath, path, branch, baseBranch, adminName, status, kind, error;
    bool createdBranch = false;
    std::string createdAt, updatedAt;
    static Row from(const atelier::Row& r) {
        Row o;
        o.key = r.text("key");
        o.projectId = r.text("project_id");
        o.id = r.text("wt_id");
        o.name = r.text("name");
        o.repoPath = r.text("repo_path");
        o.path = r.text("path");
        o.branch = r.text("branch");
        o.baseBranch = r.text("base_branch");
        o.adminName = r.text("admin_name");
        o.status = r.text("status");
        o.kind = r.text("kind");
        o.error = r.text("error");
        o.createdBranch = r.integer("created_branch") != 0;
        o.createdAt = r.text("created_at");
        o.updatedAt = r.text("updated_at");
        return o;
    }
};

WorktreeService::WorktreeService(Module& module) : module_(module) {}

WorktreeService::~WorktreeService() { stop(); }

void WorktreeService::migrate() {
    module_.migrate({
        "CREATE TABLE worktrees_items ("
        " key TEXT PRIMARY KEY,"
        " project_id TEXT,"
        " wt_id TEXT NOT NULL,"
        " name TEXT,"
        " repo_path TEXT NOT NULL,"
        " path TEXT NOT NULL UNIQUE,"
        " branch TEXT NOT NULL,"
        " base_branch TEXT NOT NULL,"
        " admin_name TEXT,"
        " status TEXT NOT NULL,"
        " kind TEXT NOT NULL,"
        " error TEXT,"
        " created_branch INTEGER NOT NULL DEFAULT 0,"
        " created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL,"
        " UNIQUE(project_id, wt_id),"
        " UNIQUE(repo_path, branch))",
        "CREATE INDEX worktrees_items_project ON worktrees_items(project_id)",
    });
}

void WorktreeService::start() {
    auto cfg = module_.host().config();
    refreshMs_ = cfg->optValue<int64_t>("statusRefreshMs", 3000);
    // Creation jobs left half done by a crash are rolled back on start.
    for (auto& r : module_.db().query("SELECT * FROM worktrees_items WHERE status = 'creating'")) {
        Row row = Row::from(r);
        try {
            git::removeWorktree(row.repoPath, row.path);
            if (row.createdBranch) git::deleteBranch(row.repoPath, row.branch);
        } catch (const std::exception&) {
        }
        module_.db().exec("DELETE FROM worktrees_items WHERE key = ?", {row.key});
    }
    stopping_ = false;
    worker_ = std::thread([this] { workerLoop(); });
    if (refreshMs_ > 0) {
        refresher_ = std::thread([this] {
            std::unique_lock lock(jobsMutex_);
            while (!stopping_) {
                jobsCv_.wait_for(lock, std::chrono::milliseconds(refreshMs_), [this] { return stopping_; });
                if (stopping_) break;
                lock.unlock();
                try {
                    refreshStatuses();
                } catch (const std::exception& e) {
                    module_.host().warn(std::string("status refresh failed: ") + e.what());
                }
                lock.lock();
            }
        });
    }
}

void WorktreeService::stop() {
    {
        std::lock_guard lock(jobsMutex_);
        if (stopping_ && !worker_.joinable()) return;
        stopping_ = true;
    }
    jobsCv_.notify_all();
    if (worker_.joinable()) worker_.join();
    if (refresher_.joinable()) refresher_.join();
}

void WorktreeService::waitIdle() {
    std::unique_lock lock(jobsMutex_);
    jobsCv_.wait(lock, [this] { return (jobs_.empty() && running_ == 0) || stopping_; });
}

std::shared_ptr<std::mutex> WorktreeService::repoLock(const std::string& repoPath) {
    std::lock_guard lock(locksMutex_);
    auto& m = repoLocks_[normalPath(repoPath)];
    if (!m) m = std::make_shared<std::mutex>();
    return m;
}

// ------------------------------------------------------------------ projects and config

Project WorktreeService::projectFrom(const JsonObject& raw) {
    Project p;
    p.raw = raw;
    p.id = raw->optValue<std::string>("id", "");
    p.name = raw->optValue<std::string>("name", "");
    std::vector<std::string> candidates;
    if (raw->has("local_path") && !raw->isNull("local_path")) candidates.push_back(raw->getValue<std::string>("local_path"));
    if (auto repos = raw->getArray("repos")) {
        for (size_t i = 0; i < repos->size(); ++i) {
            auto r = repos->getObject(static_cast<unsigned>(i));
            if (!r) continue;
            for (const char* k : {"path", "repo_path"})
                if (r->has(k) && r->get(k).isString()) candidates.push_back(r->getValue<std::string>(k));
        }
    }
    for (auto& c : candidates) {
        if (c.empty() || !git::isRepository(c)) continue;
        p.repoPath = git::mainWorkdir(c);
        break;
    }
    if (p.repoPath.empty())
        throw badRequest("Project '" + p.name + "' has no git repository (set local_path or add a repo)", "NO_REPOSITORY");
    std::lock_guard lock(cacheMutex_);
    knownProjects_[p.id] = p;
    return p;
}

ProjectConfig WorktreeService::configFor(const Project& p) const {
    ProjectConfig c;
    auto r = module_.host().call("GET", "/api/config?project=" + urlEncode(p.id));
    if (r.status != 200) return c;  // config module absent (404) or no config: defaults
    auto o = r.json();
    if (!o) return c;
    // The config module answers {config, exists}; without a file its baseBranch is only a
    // default, and auto-detection (develop/main/master/HEAD) wins.
    bool fromFile = !(o->has("exists") && o->get("exists").isBoolean() && !o->getValue<bool>("exists"));
    if (o->has("config") && o->getObject("config")) o = o->getObject("config");
    if (fromFile && o->has("baseBranch") && o->get("baseBranch").isString())
        c.baseBranch = o->getValue<std::string>("baseBranch");
    if (o->has("installCommand") && o->get("installCommand").isString())
        c.installCommand = o->getValue<std::string>("installCommand");
    if (o->has("autoInstall") && o->get("autoInstall").isBoolean()) c.autoInstall = o->getValue<bool>("autoInstall");
    if (auto env = o->getArray("envFiles")) {
        c.envFiles.clear();
        for (size_t i = 0; i < env->size(); ++i) {
            auto v = env->get(static_cast<unsigned>(i));
            if (!v.isString()) continue;
            std::string s = v.extract<std::string>();
            while (!s.empty() && s.back() == '*') s.pop_back();  // ".env*" → prefix ".env"
            if (!s.empty() && s.find('/') == std::string::npos) c.envFiles.push_back(s);
        }
    }
    return c;
}

std::string WorktreeService::baseFor(const Project& p, const ProjectConfig& c,
                                     const std::optional<std::string>& explicitBase, bool strict) {
    try {
        if (explicitBase && !explicitBase->empty()) {
            if (git::revisionExists(p.repoPath, *explicitBase)) return *explicitBase;
            if (strict) throw badRequest("Base branch '" + *explicitBase + "' does not exist", "INVALID_BASE_BRANCH");
        }
        if (!c.baseBranch.empty() && git::revisionExists(p.repoPath, c.baseBranch)) return c.baseBranch;
        return git::resolveBase(p.repoPath, "");
    } catch (const git::GitError& e) {
        rethrowGit(e);
    }
}

// ------------------------------------------------------------------ rows and resolution

std::vector<WorktreeService::Row> WorktreeService::rows(const Project& p) {
    std::vector<Row> out;
    for (auto& r : module_.db().query(
             "SELECT * FROM worktrees_items WHERE project_id = ? AND kind = 'project' ORDER BY created_at, wt_id", {p.id}))
        out.push_back(Row::from(r));
    return out;
}

std::optional<WorktreeService::Row> WorktreeService::rowByKey(const std::string& key) {
    auto r = module_.db().one("SELECT * FROM worktrees_items WHERE key = ?", {key});
    if (!r) return std::nullopt;
    return Row::from(*r);
}

// Worktrees made by hand under <project>/.atelier/worktrees/ are adopted into the list.
void WorktreeService::adopt(const Project& p) {
    std::string dir = normalPath(p.repoPath + "/.atelier/worktrees");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    std::vector<git::WorktreeEntry> entries;
    try {
        entries = git::listWorktrees(p.repoPath);
    } catch (const git::GitError&) {
        return;
    }
    std::set<std::string> known;
    for (auto& r : module_.db().query("SELECT path FROM worktrees_items WHERE repo_path = ?", {p.repoPath}))
        known.insert(r.text("path"));
    for (auto& e : entries) {
        std::string path = normalPath(e.path);
        if (!e.valid || known.count(path) || !isWithin(dir, path) || fs::path(path).parent_path() != fs::path(dir)) continue;
        std::string id = fs::path(path).filename().string();
        if (!isValidWorktreeId(id)) continue;
        auto branch = git::currentBranch(path);
        std::string now = nowIso();
        try {
            module_.db().exec(
                "INSERT INTO worktrees_items (key, project_id, wt_id, name, repo_path, path, branch, base_branch, admin_name,"
                " status, kind, created_branch, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,'stopped','project',0,?,?)",
                {newUuid(), p.id, id, id, p.repoPath, path, branch.value_or(""), git::resolveBase(p.repoPath, ""), e.name, now,
                 now});
        } catch (const DbError&) {
            // A concurrent adoption or a branch already registered: skip.
        } catch (const git::GitError&) {
        }
    }
}

WorktreeService::Row WorktreeService::resolve(const Project& p, const std::string& id) {
    if (!isValidWorktreeId(id) || id.find('/') != std::string::npos)
        throw badRequest("Invalid worktree id \"" + id + "\"", "INVALID_WORKTREE_ID");
    auto all = rows(p);
    for (auto& r : all)
        if (r.id == id) return r;
    std::vector<Row> matches;
    for (auto& r : all)
        if (lower(r.id) == lower(id)) matches.push_back(r);
    if (matches.size() == 1) return matches.front();
    if (matches.size() > 1) {
        std::string names;
        for (auto& m : matches) names += (names.empty() ? "" : ", ") + m.id;
        throw conflict("Worktree \"" + id + "\" is ambiguous. Matches: " + names, "WORKTREE_ID_AMBIGUOUS");
    }
    throw notFound("Worktree \"" + id + "\" not found", "WORKTREE_NOT_FOUND");
}

// ------------------------------------------------------------------ status and info

git::Status WorktreeService::statusOf(const std::string& path, const std::string& base, bool fresh) {
    if (!fresh) {
        std::lock_guard lock(cacheMutex_);
        auto it = cache_.find(path);
        if (it != cache_.end()) return it->second.status;
    }
    CachedStatus c;
    try {
        c.status = git::computeStatus(path, base);
        c.ok = true;
    } catch (const git::GitError&) {
    }
    std::lock_guard lock(cacheMutex_);
    if (c.ok) cache_[path] = c;
    return c.status;
}

static void setCommonFields(JsonObject& o) {
    o->set("ports", makeArray());
    o->set("offset", Poco::Dynamic::Var());
    o->set("pid", Poco::Dynamic::Var());
    for (const char* k : {"jiraUrl", "jiraStatus", "githubPrUrl", "githubPrState", "linearUrl", "linearStatus",
                          "localIssueId", "localIssueStatus"})
        o->set(k, Poco::Dynamic::Var());
}

JsonObject WorktreeService::info(const Project& p, const Row& r, bool fresh) {
    JsonObject o = makeObject();
    o->set("id", r.id);
    o->set("name", r.name.empty() ? r.id : r.name);
    o->set("path", r.path);
    o->set("branch", r.branch);
    o->set("baseBranch", r.baseBranch);
    o->set("projectId", p.id);
    std::error_code ec;
    bool missing = r.status != "creating" && !fs::exists(fs::path(r.path) / ".git", ec);
    o->set("status", r.status == "creating" ? "creating" : "stopped");
    setCommonFields(o);
    o->set("lastActivity", r.updatedAt);
    git::Status st;
    if (r.status != "creating" && !missing) st = statusOf(r.path, r.baseBranch, fresh);
    o->set("hasUncommitted", st.hasUncommitted);
    o->set("hasUnpushed", st.commitsAhead > 0);
    o->set("commitsAhead", st.commitsAhead);
    o->set("commitsAheadOfBase", st.commitsAheadOfBase);
    o->set("missing", missing);
    o->set("createdAt", r.createdAt);
    o->set("updatedAt", r.updatedAt);
    return o;
}

JsonObject WorktreeService::rootInfo(const Project& p) {
    JsonObject o = makeObject();
    std::string branch;
    try {
        branch = git::currentBranch(p.repoPath).value_or("HEAD");
    } catch (const git::GitError&) {
    }
    std::string base;
    try {
        base = baseFor(p, ProjectConfig{}, std::nullopt, false);
    } catch (const HttpError&) {
    }
    o->set("id", "root");
    o->set("name", p.name.empty() ? "root" : p.name);
    o->set("path", p.repoPath);
    o->set("branch", branch);
    o->set("baseBranch", base);
    o->set("projectId", p.id);
    o->set("status", "stopped");
    o->set("isRoot", true);
    setCommonFields(o);
    o->set("lastActivity", Poco::Dynamic::Var());
    git::Status st = statusOf(p.repoPath, base == branch ? "" : base, false);
    o->set("hasUncommitted", st.hasUncommitted);
    o->set("hasUnpushed", st.hasUpstream && st.commitsAhead > 0);
    o->set("commitsAhead", st.hasUpstream ? st.commitsAhead : 0);
    o->set("commitsAheadOfBase", st.commitsAheadOfBase);
    o->set("missing", false);
    return o;
}

JsonArray WorktreeService::decorate(const Project& p, JsonArray list) {
    JsonObject payload = makeObject();
    payload->set("projectId", p.id);
    payload->set("worktrees", list);
    auto hr = module_.runHook("worktrees.decorate", payload);
    if (hr.vetoed) return list;
    auto o = hr.json();
    if (o && o->has("worktrees") && o->getArray("worktrees") && o->getArray("worktrees")->size() == list->size())
        return o->getArray("worktrees");
    return list;
}

JsonArray WorktreeService::buildList(const Project& p) {
    JsonArray arr = makeArray();
    arr->add(rootInfo(p));
    for (auto& r : rows(p)) arr->add(info(p, r));
    return decorate(p, arr);
}

JsonArray WorktreeService::list(const Project& p) {
    adopt(p);
    return buildList(p);
}

JsonObject WorktreeService::get(const Project& p, const std::string& id) {
    JsonArray one = makeArray();
    if (id == "root") {
        one->add(rootInfo(p));
    } else {
        adopt(p);
        one->add(info(p, resolve(p, id)));
    }
    return decorate(p, one)->getObject(0);
}

JsonArray WorktreeService::initialList(const JsonObject& payload) {
    std::string ref;
    for (const char* k : {"projectId", "project"})
        if (ref.empty() && payload && payload->has(k) && payload->get(k).isString()) ref = payload->getValue<std::string>(k);
    std::string path = "/api/active-project";
    if (!ref.empty()) path += "?project=" + urlEncode(ref);
    auto r = module_.host().call("GET", path);
    if (r.status != 200) return makeArray();
    auto o = r.json();
    if (!o) return makeArray();
    if (o->has("data") && o->getObject("data")) o = o->getObject("data");
    try {
        return list(projectFrom(o));
    } catch (const std::exception&) {
        return makeArray();
    }
}

void WorktreeService::projectChanged(const std::string& projectId) {
    std::optional<Project> p;
    {
        std::lock_guard lock(cacheMutex_);
        auto it = knownProjects_.find(projectId);
        if (it != knownProjects_.end()) p = it->second;
    }
    if (p) publishList(*p);
}

void WorktreeService::refreshStatuses() {
    std::map<std::string, Project> projects;
    {
        std::lock_guard lock(cacheMutex_);
        projects = knownProjects_;
    }
    for (auto& [id, p] : projects) {
        bool changed = false;
        auto check = [&](const std::string& path, const std::string& base) {
            git::Status before;
            bool had = false;
            {
                std::lock_guard lock(cacheMutex_);
                auto it = cache_.find(path);
                if (it != cache_.end()) {
                    before = it->second.status;
                    had = true;
                }
            }
            git::Status now = statusOf(path, base, true);
            if (!had || before.hasUncommitted != now.hasUncommitted || before.commitsAhead != now.commitsAhead ||
                before.commitsAheadOfBase != now.commitsAheadOfBase || before.head != now.head || before.branch != now.branch)
                changed = true;
        };
        try {
            std::string base = baseFor(p, ProjectConfig{}, std::nullopt, false);
            std::string branch = git::currentBranch(p.repoPath).value_or("HEAD");
            check(p.repoPath, base == branch ? "" : base);
            for (auto& r : rows(p)) {
                std::error_code ec;
                if (r.status == "creating" || !fs::exists(fs::path(r.path) / ".git", ec)) continue;
                check(r.path, r.baseBranch);
            }
        } catch (const std::exception&) {
            continue;
        }
        if (changed) publishList(p);
    }
}

// ------------------------------------------------------------------ events and activity

void WorktreeService::publish(const std::string& type, const std::string& projectId, const JsonObject& payload) {
    Event e;
    e.type = type;
    e.projectId = projectId;
    e.payload = toJson(payload);
    try {
        module_.publish(e);
    } catch (const std::exception& ex) {
        module_.host().warn("publish " + type + " failed: " + ex.what());
    }
}

void WorktreeService::publishList(const Project& p) {
    JsonObject payload = makeObject();
    payload->set("projectId", p.id);
    payload->set("worktrees", buildList(p));
    publish("worktrees.changed", p.id, payload);
}

void WorktreeService::activity(const Project& p, const std::string& type, const std::string& severity,
                               const std::string& title, const std::string& worktreeId, const std::string& detail) {
    JsonObject a = makeObject();
    a->set("category", "worktree");
    a->set("type", type);
    a->set("severity", severity);
    a->set("title", title);
    if (!detail.empty()) a->set("detail", detail);
    a->set("projectName", p.name);
    a->set("worktreeId", worktreeId);
    module_.host().call("POST", "/api/activity", toJson(a));
}

void WorktreeService::appendLog(const std::string& key, const std::string& line) {
    std::lock_guard lock(logsMutex_);
    auto& d = logs_[key];
    d.push_back(line);
    while (d.size() > 100) d.pop_front();
}

// ------------------------------------------------------------------ create

JsonObject WorktreeService::create(const Project& p, const CreateRequest& req) {
    if (!git::isValidBranchName(req.branch))
        throw badRequest("Invalid branch name \"" + req.branch + "\"", "INVALID_BRANCH_NAME", {{"branch", "invalid git branch name"}});
    std::string id = req.name && !req.name->empty() ? *req.name : req.id && !req.id->empty() ? *req.id : deriveWorktreeId(req.branch);
    if (id.find('/') != std::string::npos || id.find("..") != std::string::npos || !isValidWorktreeId(id))
        throw badRequest("Invalid worktree id \"" + id + "\": use letters, digits, spaces and dashes", "INVALID_WORKTREE_ID",
                         {{req.name ? "name" : req.id ? "id" : "branch", "invalid worktree id"}});
    if (lower(id) == "root") throw badRequest("\"root\" is reserved for the project root", "INVALID_WORKTREE_ID");
    try {
        if (!git::hasCommits(p.repoPath)) throw badRequest("Repository has no commits yet", "EMPTY_REPOSITORY");
    } catch (const git::GitError& e) {
        rethrowGit(e);
    }
    ProjectConfig cfg = configFor(p);
    std::string base = baseFor(p, cfg, req.baseBranch, true);
    std::string path = normalPath(p.repoPath + "/.atelier/worktrees/" + id);

    auto lock = repoLock(p.repoPath);
    std::unique_lock guard(*lock);
    adopt(p);
    auto existsError = [&](const std::string& canonical, const std::string& msg) {
        HttpError e(409, "WORKTREE_EXISTS", msg);
        withExtra(e)->set("worktreeId", canonical);
        return e;
    };
    for (auto& r : rows(p)) {
        if (lower(r.id) == lower(id)) throw existsError(r.id, "Worktree \"" + r.id + "\" already exists");
        if (r.branch == req.branch) throw existsError(r.id, "Branch \"" + req.branch + "\" already has worktree \"" + r.id + "\"");
    }
    if (git::currentBranch(p.repoPath).value_or("") == req.branch)
        throw existsError("root", "Branch \"" + req.branch + "\" is checked out in the project root");
    std::error_code ec;
    if (fs::exists(path, ec)) throw existsError(id, "Directory " + path + " already exists");
    // Another repo worktree (agent run) may hold the branch.
    if (module_.db().one("SELECT key FROM worktrees_items WHERE repo_path = ? AND branch = ?", {p.repoPath, req.branch}))
        throw HttpError(409, "WORKTREE_EXISTS", "Branch \"" + req.branch + "\" is used by another worktree");

    JsonObject hookPayload = makeObject();
    hookPayload->set("projectId", p.id);
    hookPayload->set("worktreeId", id);
    hookPayload->set("branch", req.branch);
    hookPayload->set("path", path);
    auto veto = module_.runHook("worktree.creating", hookPayload);
    if (veto.vetoed) throw HttpError(409, "WORKTREE_CREATE_VETOED", "Worktree creation was vetoed: " + veto.payload);

    Row row;
    row.key = newUuid();
    row.projectId = p.id;
    row.id = id;
    row.name = req.name.value_or(id);
    row.repoPath = p.repoPath;
    row.path = path;
    row.branch = req.branch;
    row.baseBranch = base;
    row.status = "creating";
    row.kind = "project";
    row.createdAt = row.updatedAt = nowIso();
    try {
        module_.db().exec(
            "INSERT INTO worktrees_items (key, project_id, wt_id, name, repo_path, path, branch, base_branch, status, kind,"
            " created_branch, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,'creating','project',0,?,?)",
            {row.key, p.id, id, row.name, p.repoPath, path, req.branch, base, row.createdAt, row.updatedAt});
    } catch (const DbError& e) {
        if (e.status() == ATELIER_ERR_CONFLICT) throw existsError(id, "Worktree \"" + id + "\" already exists");
        throw;
    }
    guard.unlock();
    appendLog(row.key, "Creating worktree " + id + " on branch " + req.branch + " from " + base);
    {
        std::lock_guard jl(jobsMutex_);
        jobs_.push_back(Job{row.key, p, cfg, base});
    }
    jobsCv_.notify_all();
    activity(p, "creation_started", "info", "Creating worktree " + id, id);
    publishList(p);
    return info(p, row);
}

void WorktreeService::workerLoop() {
    while (true) {
        Job job;
        {
            std::unique_lock lock(jobsMutex_);
            jobsCv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping with nothing queued
            job = std::move(jobs_.front());
            jobs_.pop_front();
            ++running_;
        }
        try {
            runJob(job);
        } catch (const std::exception& e) {
            module_.host().error(std::string("worktree job failed: ") + e.what());
        }
        {
            std::lock_guard lock(jobsMutex_);
            --running_;
        }
        jobsCv_.notify_all();
    }
}

void WorktreeService::runJob(const Job& job) {
    auto rowOpt = rowByKey(job.key);
    if (!rowOpt) return;
    Row row = *rowOpt;
    const Project& p = job.project;
    git::AddResult added;
    bool addedOk = false;
    try {
        {
            auto lock = repoLock(p.repoPath);
            std::lock_guard guard(*lock);
            git::pruneStale(p.repoPath);
            git::ensureExcluded(p.repoPath, "/.atelier/worktrees/");
            added = git::addWorktree(p.repoPath, row.id, row.path, row.branch, job.base, true, false);
            addedOk = true;
            module_.db().exec("UPDATE worktrees_items SET created_branch = ?, admin_name = ? WHERE key = ?",
                              {added.createdBranch ? 1 : 0, added.adminName, row.key});
        }
        appendLog(row.key, std::string(added.mode == git::AddMode::NewBranch ? "Created branch " : "Checked out existing branch ") +
                               row.branch + " at " + added.head);
        for (auto& f : copyEnvFiles(p.repoPath, row.path, job.config.envFiles)) appendLog(row.key, "Copied " + f);
        if (!job.config.installCommand.empty() && job.config.autoInstall) {
            auto argv = splitCommand(job.config.installCommand);
            appendLog(row.key, "$ " + job.config.installCommand);
            auto timeoutMs = module_.host().config()->optValue<int64_t>("installTimeoutMs", 600000);
            auto res = runProcess(argv, row.path, [&](const std::string& l) { appendLog(row.key, l); },
                                  std::chrono::milliseconds(timeoutMs));
            if (res.exitCode != 0)
                throw std::runtime_error("installCommand \"" + job.config.installCommand + "\" " +
                                         (res.timedOut ? std::string("timed out") : "exited with " + std::to_string(res.exitCode)));
        }
        row.updatedAt = nowIso();
        module_.db().exec("UPDATE worktrees_items SET status = 'stopped', updated_at = ? WHERE key = ?", {row.updatedAt, row.key});
        row.status = "stopped";
    } catch (const std::exception& e) {
        std::string reason = e.what();
        appendLog(row.key, "Creation failed: " + reason);
        {
            auto lock = repoLock(p.repoPath);
            std::lock_guard guard(*lock);
            try {
                if (addedOk) git::removeWorktree(p.repoPath, row.path);
            } catch (const std::exception&) {
            }
            std::error_code ec;
            fs::remove_all(row.path, ec);
            try {
                if (addedOk && added.createdBranch) git::deleteBranch(p.repoPath, row.branch);
            } catch (const std::exception&) {
            }
            module_.db().exec("DELETE FROM worktrees_items WHERE key = ?", {row.key});
        }
        JsonObject payload = makeObject();
        payload->set("projectId", p.id);
        payload->set("worktreeId", row.id);
        payload->set("path", row.path);
        payload->set("reason", "creation_failed");
        payload->set("error", reason);
        publish("worktree.removed", p.id, payload);
        activity(p, "creation_failed", "error", "Failed to create worktree " + row.id, row.id, reason);
        publishList(p);
        return;
    }
    JsonObject hookPayload = makeObject();
    hookPayload->set("projectId", p.id);
    hookPayload->set("worktreeId", row.id);
    hookPayload->set("branch", row.branch);
    hookPayload->set("path", row.path);
    module_.runHook("worktree.created", hookPayload);
    JsonObject payload = makeObject();
    payload->set("projectId", p.id);
    payload->set("worktree", info(p, row, true));
    publish("worktree.created", p.id, payload);
    appendLog(row.key, "Worktree ready");
    activity(p, "creation_completed", "success", "Worktree " + row.id + " created", row.id);
    publishList(p);
}

// ------------------------------------------------------------------ remove, rename, recover, logs

JsonObject WorktreeService::remove(const Project& p, const std::string& id) {
    std::string opId = newUuid();
    auto fail = [&](HttpError e) {
        withExtra(e)->set("deleteOpId", opId);
        return e;
    };
    Row row;
    try {
        row = resolve(p, id);
    } catch (HttpError& e) {
        throw fail(e);
    }
    if (row.status == "creating") throw fail(conflict("Worktree \"" + row.id + "\" is still being created", "WORKTREE_BUSY"));
    JsonObject hookPayload = makeObject();
    hookPayload->set("projectId", p.id);
    hookPayload->set("worktreeId", row.id);
    hookPayload->set("path", row.path);
    hookPayload->set("stoppedProcesses", 0);
    hookPayload->set("closedTerminals", 0);
    hookPayload->set("clearedLinks", 0);
    auto hr = module_.runHook("worktree.removing", hookPayload);
    if (hr.vetoed) throw fail(badRequest("Removal was refused: " + hr.payload, "WORKTREE_REMOVE_FAILED"));
    auto counters = hr.json();
    int64_t stopped = counters->optValue<int64_t>("stoppedProcesses", 0);
    int64_t closed = counters->optValue<int64_t>("closedTerminals", 0);
    int64_t links = counters->optValue<int64_t>("clearedLinks", 0);
    {
        auto lock = repoLock(p.repoPath);
        std::lock_guard guard(*lock);
        try {
            git::removeWorktree(p.repoPath, row.path);
        } catch (const git::GitError& e) {
            throw fail(badRequest(std::string("Could not remove worktree: ") + e.what(), "WORKTREE_REMOVE_FAILED"));
        }
        module_.db().exec("DELETE FROM worktrees_items WHERE key = ?", {row.key});
    }
    {
        std::lock_guard lock(cacheMutex_);
        cache_.erase(row.path);
    }
    {
        std::lock_guard lock(logsMutex_);
        logs_.erase(row.key);
    }
    JsonObject removed = makeObject();
    removed->set("projectId", p.id);
    removed->set("worktreeId", row.id);
    removed->set("path", row.path);
    module_.runHook("worktree.removed", removed);
    publish("worktree.removed", p.id, removed);
    publishList(p);
    activity(p, "removed", "info", "Worktree " + row.id + " removed", row.id);
    JsonObject op = makeObject();
    op->set("source", "worktrees");
    op->set("action", "worktree.delete");
    op->set("message", "Removed worktree " + row.id);
    op->set("level", "info");
    op->set("status", "success");
    op->set("worktreeId", row.id);
    op->set("projectName", p.name);
    JsonObject meta = makeObject();
    meta->set("deleteOpId", opId);
    meta->set("stoppedProcesses", stopped);
    meta->set("closedTerminals", closed);
    op->set("metadata", meta);
    module_.host().opsRecord(op);

    JsonObject out = makeObject();
    out->set("success", true);
    out->set("worktreeId", row.id);
    out->set("removedTerminalSessions", closed);
    out->set("removedRunningProcess", stopped > 0);
    out->set("stoppedProcesses", stopped);
    out->set("closedTerminals", closed);
    out->set("clearedLinks", links);
    out->set("deleteOpId", opId);
    return out;
}

JsonObject WorktreeService::rename(const Project& p, const std::string& id, const std::optional<std::string>& name,
                                   const std::optional<std::string>& branch) {
    if (!name && !branch) throw badRequest("Provide name and/or branch", "VALIDATION_ERROR", {{"name", "name or branch required"}});
    if (branch && !git::isValidBranchName(*branch))
        throw badRequest("Invalid branch name \"" + *branch + "\"", "INVALID_BRANCH_NAME", {{"branch", "invalid git branch name"}});
    if (name && (!isValidWorktreeId(*name) || lower(*name) == "root"))
        throw badRequest("Invalid worktree name \"" + *name + "\"", "INVALID_WORKTREE_ID", {{"name", "invalid worktree name"}});
    auto lock = repoLock(p.repoPath);
    std::lock_guard guard(*lock);
    Row row = resolve(p, id);
    if (row.status == "creating") throw conflict("Worktree \"" + row.id + "\" is still being created", "WORKTREE_BUSY");
    std::string newId = name.value_or(row.id);
    std::string newPath = row.path;
    bool moved = false;
    if (name && *name != row.id) {
        for (auto& r : rows(p)) {
            if (r.key != row.key && lower(r.id) == lower(*name)) {
                HttpError e(409, "WORKTREE_EXISTS", "Worktree \"" + r.id + "\" already exists");
                withExtra(e)->set("worktreeId", r.id);
                throw e;
            }
        }
        newPath = normalPath(p.repoPath + "/.atelier/worktrees/" + *name);
        try {
            git::moveWorktree(p.repoPath, row.path, newPath);
        } catch (const git::GitError& e) {
            rethrowGit(e, "WORKTREE_NOT_FOUND");
        }
        moved = true;
    }
    std::string newBranch = branch.value_or(row.branch);
    if (branch && *branch != row.branch) {
        try {
            git::renameBranch(p.repoPath, row.branch, *branch);
        } catch (const git::GitError& e) {
            if (moved) {
                try {
                    git::moveWorktree(p.repoPath, newPath, row.path);
                } catch (const git::GitError&) {
                }
            }
            if (e.kind() == git::ErrorKind::Exists) throw conflict(e.what(), "BRANCH_EXISTS");
            rethrowGit(e);
        }
    }
    std::string now = nowIso();
    module_.db().exec("UPDATE worktrees_items SET wt_id = ?, name = ?, path = ?, branch = ?, updated_at = ? WHERE key = ?",
                      {newId, name ? *name : row.name, newPath, newBranch, now, row.key});
    {
        std::lock_guard l(cacheMutex_);
        cache_.erase(row.path);
    }
    Row updated = *rowByKey(row.key);
    JsonObject wt = info(p, updated, true);
    JsonObject payload = makeObject();
    payload->set("projectId", p.id);
    payload->set("previousId", row.id);
    payload->set("worktree", wt);
    publish("worktree.updated", p.id, payload);
    publishList(p);
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("previousId", row.id);
    out->set("worktree", wt);
    return out;
}

JsonObject WorktreeService::recover(const Project& p, const std::string& id, const std::string& action,
                                    const std::optional<std::string>& branch) {
    if (action != "reuse" && action != "recreate")
        throw badRequest("action must be \"reuse\" or \"recreate\"", "VALIDATION_ERROR", {{"action", "must be reuse or recreate"}});
    if (branch && !git::isValidBranchName(*branch))
        throw badRequest("Invalid branch name \"" + *branch + "\"", "INVALID_BRANCH_NAME", {{"branch", "invalid git branch name"}});
    auto lock = repoLock(p.repoPath);
    std::lock_guard guard(*lock);
    Row row = resolve(p, id);
    if (row.status == "creating") throw conflict("Worktree \"" + row.id + "\" is still being created", "WORKTREE_BUSY");
    std::string useBranch = branch.value_or(row.branch);
    std::string base = git::revisionExists(p.repoPath, row.baseBranch) ? row.baseBranch : baseFor(p, configFor(p), std::nullopt, false);
    bool repaired = false;
    try {
        std::error_code ec;
        bool intact = fs::exists(fs::path(row.path) / ".git", ec) && git::isRepository(row.path);
        if (action == "reuse") {
            if (!intact) {
                git::pruneStale(p.repoPath);
                if (fs::exists(row.path, ec)) git::removeWorktree(p.repoPath, row.path);
                git::addWorktree(p.repoPath, row.id, row.path, useBranch, base, true, false);
                repaired = true;
            } else if (useBranch != row.branch) {
                throw badRequest("The worktree is intact; use PATCH to rename its branch", "VALIDATION_ERROR");
            }
        } else {
            git::removeWorktree(p.repoPath, row.path);
            git::pruneStale(p.repoPath);
            bool exists = git::branchExists(p.repoPath, useBranch);
            git::addWorktree(p.repoPath, row.id, row.path, useBranch, base, false, exists);
            repaired = true;
        }
    } catch (const git::GitError& e) {
        rethrowGit(e);
    }
    if (repaired) {
        ProjectConfig cfg = configFor(p);
        for (auto& f : copyEnvFiles(p.repoPath, row.path, cfg.envFiles)) appendLog(row.key, "Copied " + f);
    }
    std::string now = nowIso();
    module_.db().exec("UPDATE worktrees_items SET branch = ?, base_branch = ?, updated_at = ? WHERE key = ?",
                      {useBranch, base, now, row.key});
    {
        std::lock_guard l(cacheMutex_);
        cache_.erase(row.path);
    }
    appendLog(row.key, "Recovered (" + action + ")");
    Row updated = *rowByKey(row.key);
    JsonObject wt = info(p, updated, true);
    JsonObject payload = makeObject();
    payload->set("projectId", p.id);
    payload->set("worktree", wt);
    publish("worktree.updated", p.id, payload);
    publishList(p);
    JsonObject out = makeObject();
    out->set("success", true);
    out->set("action", action);
    out->set("repaired", repaired);
    out->set("worktree", wt);
    return out;
}

JsonArray WorktreeService::logs(const Project& p, const std::string& id) {
    Row row = resolve(p, id);
    JsonArray arr = makeArray();
    {
        std::lock_guard lock(logsMutex_);
        auto it = logs_.find(row.key);
        if (it != logs_.end())
            for (auto& l : it->second) arr->add(l);
    }
    // Other modules (dev servers) append their output.
    JsonObject payload = makeObject();
    payload->set("projectId", p.id);
    payload->set("worktreeId", row.id);
    payload->set("logs", arr);
    auto hr = module_.runHook("worktree.logs", payload);
    if (!hr.vetoed) {
        auto o = hr.json();
        if (o && o->getArray("logs")) return o->getArray("logs");
    }
    return arr;
}

// ------------------------------------------------------------------ diffs, commit, push

static JsonObject diffBody(const std::vector<git::FileChange>& files, const std::string& base) {
    JsonObject o = makeObject();
    o->set("success", true);
    JsonArray arr = makeArray();
    for (auto& f : files) {
        JsonObject e = makeObject();
        e->set("path", f.path);
        if (!f.oldPath.empty()) e->set("oldPath", f.oldPath);
        e->set("status", f.status);
        e->set("linesAdded", f.linesAdded);
        e->set("linesRemoved", f.linesRemoved);
        e->set("isBinary", f.isBinary);
        arr->add(e);
    }
    o->set("files", arr);
    o->set("baseBranch", base);
    return o;
}

static std::string pathFor(const Project& p, const std::string& id, const std::function<std::string(const std::string&)>& resolveRow) {
    return id == "root" ? p.repoPath : resolveRow(id);
}

JsonObject WorktreeService::diff(const Project& p, const std::string& id, bool includeCommitted) {
    try {
        std::string base, path;
        if (id == "root") {
            path = p.repoPath;
            base = baseFor(p, configFor(p), std::nullopt, false);
        } else {
            Row r = resolve(p, id);
            if (r.status == "creating") throw conflict("Worktree is still being created", "WORKTREE_BUSY");
            path = r.path;
            base = r.baseBranch;
        }
        std::string spec = includeCommitted ? git::remoteOrLocalBase(p.repoPath, base) : "HEAD";
        return diffBody(git::diffWorkdir(path, spec), base);
    } catch (const git::GitError& e) {
        try {
            rethrowGit(e);
        } catch (HttpError& h) {
            withExtra(h)->set("files", makeArray());
            withExtra(h)->set("baseBranch", "");
            throw;
        }
    } catch (HttpError& h) {
        withExtra(h)->set("files", makeArray());
        withExtra(h)->set("baseBranch", "");
        throw;
    }
}

JsonObject WorktreeService::diffFile(const Project& p, const std::string& id, const std::string& file,
                                     const std::string& status, bool includeCommitted,
                                     const std::optional<std::string>& oldPath) {
    auto decorate = [](HttpError& h) {
        withExtra(h)->set("oldContent", "");
        withExtra(h)->set("newContent", "");
    };
    try {
        static const std::set<std::string> statuses{"modified", "added", "deleted", "renamed", "untracked"};
        if (!statuses.count(status))
            throw badRequest("status must be one of modified, added, deleted, renamed, untracked", "VALIDATION_ERROR",
                             {{"status", "invalid"}});
        if (!isSafeRelative(file)) throw badRequest("path must be relative to the worktree root", "INVALID_PATH", {{"path", "invalid"}});
        if (oldPath && !isSafeRelative(*oldPath))
            throw badRequest("oldPath must be relative to the worktree root", "INVALID_PATH", {{"oldPath", "invalid"}});
        std::string base, root;
        if (id == "root") {
            root = p.repoPath;
            base = baseFor(p, configFor(p), std::nullopt, false);
        } else {
            Row r = resolve(p, id);
            root = r.path;
            base = r.baseBranch;
        }
        std::string spec = includeCommitted ? git::remoteOrLocalBase(p.repoPath, base) : "HEAD";
        JsonObject o = makeObject();
        o->set("success", true);
        std::string oldContent, newContent;
        if (status != "added" && status != "untracked")
            oldContent = git::blobAt(root, spec, oldPath.value_or(file)).value_or("");
        if (status != "deleted") {
            fs::path full = fs::path(root) / file;
            std::error_code ec;
            auto canon = fs::weakly_canonical(full, ec);
            auto rootCanon = fs::weakly_canonical(root, ec);
            if (!isWithin(rootCanon.string(), canon.string()))
                throw badRequest("path escapes the worktree", "INVALID_PATH", {{"path", "outside the worktree"}});
            if (fs::is_regular_file(canon, ec)) {
                std::ifstream in(canon, std::ios::binary);
                std::stringstream ss;
                ss << in.rdbuf();
                newContent = ss.str();
            } else if (!git::blobAt(root, spec, file)) {
                throw notFound("File \"" + file + "\" not found", "FILE_NOT_FOUND");
            }
        }
        o->set("oldContent", oldContent);
        o->set("newContent", newContent);
        return o;
    } catch (const git::GitError& e) {
        try {
            rethrowGit(e);
        } catch (HttpError& h) {
            decorate(h);
            throw;
        }
    } catch (HttpError& h) {
        decorate(h);
        throw;
    }
}

JsonObject WorktreeService::commit(const Project& p, const std::string& id, const std::string& message) {
    std::string path = pathFor(p, id, [&](const std::string& i) { return resolve(p, i).path; });
    try {
        auto r = git::commitAll(path, message);
        {
            std::lock_guard l(cacheMutex_);
            cache_.erase(path);
        }
        JsonObject o = makeObject();
        o->set("success", true);
        o->set("commit", r.sha);
        o->set("message", message);
        o->set("filesChanged", r.filesChanged);
        publishList(p);
        return o;
    } catch (const git::GitError& e) {
        rethrowGit(e);
    }
}

JsonObject WorktreeService::push(const Project& p, const std::string& id, const std::string& remote) {
    std::string path = pathFor(p, id, [&](const std::string& i) { return resolve(p, i).path; });
    auto cfg = module_.host().config();
    std::string token = cfg->optValue<std::string>("gitToken", "");
    if (token.empty())
        if (const char* t = std::getenv("ATELIER_GIT_TOKEN")) token = t;
    try {
        auto r = git::push(path, remote, token);
        {
            std::lock_guard l(cacheMutex_);
            cache_.erase(path);
        }
        JsonObject o = makeObject();
        o->set("success", true);
        o->set("remote", r.remote);
        o->set("branch", r.branch);
        o->set("head", r.head);
        publishList(p);
        return o;
    } catch (const git::GitError& e) {
        if (e.kind() == git::ErrorKind::NotFound) throw badRequest(e.what(), "NO_REMOTE");
        if (e.kind() == git::ErrorKind::Conflict) throw conflict(e.what(), "PUSH_REJECTED");
        rethrowGit(e);
    }
}

// ------------------------------------------------------------------ repository worktrees

JsonObject WorktreeService::repoCreate(const std::string& repoPathIn, const std::string& branch,
                                       const std::optional<std::string>& baseBranch, const std::optional<std::string>& pathIn) {
    if (!git::isRepository(repoPathIn)) throw badRequest("repoPath is not a git repository", "NOT_A_REPOSITORY", {{"repoPath", "not a git repository"}});
    std::string repoPath = git::mainWorkdir(repoPathIn);
    if (!git::isValidBranchName(branch))
        throw badRequest("Invalid branch name \"" + branch + "\"", "INVALID_BRANCH_NAME", {{"branch", "invalid git branch name"}});
    try {
        if (!git::hasCommits(repoPath)) throw badRequest("Repository has no commits yet", "EMPTY_REPOSITORY");
    } catch (const git::GitError& e) {
        rethrowGit(e);
    }
    std::string path;
    if (pathIn && !pathIn->empty()) {
        if (!fs::path(*pathIn).is_absolute()) throw badRequest("path must be absolute", "INVALID_PATH", {{"path", "must be absolute"}});
        path = normalPath(*pathIn);
        std::string dataDir = module_.host().path(ATELIER_PATH_DATA_DIR);
        bool inRepo = isWithin(repoPath, path) && path != normalPath(repoPath);
        bool inData = !dataDir.empty() && isWithin(dataDir, path) && path != normalPath(dataDir);
        if (inRepo && isWithin(repoPath + "/.git", path))
            throw badRequest("path must not lie inside .git", "PATH_OUTSIDE_ALLOWED", {{"path", "inside .git"}});
        if (!inRepo && !inData)
            throw badRequest("path must lie inside the repository or the Atelier data directory", "PATH_OUTSIDE_ALLOWED",
                             {{"path", "outside the repository and data directory"}});
    } else {
        path = normalPath(repoPath + "/.atelier/worktrees/" + sanitiseBranch(branch));
    }
    std::string base;
    try {
        if (baseBranch && !baseBranch->empty()) {
            if (!git::revisionExists(repoPath, *baseBranch))
                throw badRequest("Base branch '" + *baseBranch + "' does not exist", "INVALID_BASE_BRANCH", {{"baseBranch", "unknown"}});
            base = *baseBranch;
        } else {
            base = git::resolveBase(repoPath, "");
        }
    } catch (const git::GitError& e) {
        rethrowGit(e);
    }

    auto lock = repoLock(repoPath);
    std::lock_guard guard(*lock);
    if (git::branchExists(repoPath, branch)) throw conflict("Branch \"" + branch + "\" already exists", "BRANCH_EXISTS");
    std::error_code ec;
    if (fs::exists(path, ec)) throw conflict("Path " + path + " already exists", "PATH_EXISTS");
    std::string key = newUuid(), now = nowIso();
    try {
        module_.db().exec(
            "INSERT INTO worktrees_items (key, project_id, wt_id, name, repo_path, path, branch, base_branch, status, kind,"
            " created_branch, created_at, updated_at) VALUES (?,NULL,?,?,?,?,?,?,'creating','repo',1,?,?)",
            {key, sanitiseBranch(branch), branch, repoPath, path, branch, base, now, now});
    } catch (const DbError& e) {
        if (e.status() == ATELIER_ERR_CONFLICT) throw conflict("A worktree for branch \"" + branch + "\" already exists", "BRANCH_EXISTS");
        throw;
    }
    git::AddResult added;
    try {
        if (isWithin(repoPath, path)) git::ensureExcluded(repoPath, "/.atelier/worktrees/");
        added = git::addWorktree(repoPath, sanitiseBranch(branch), path, branch, base, false, false);
    } catch (const git::GitError& e) {
        module_.db().exec("DELETE FROM worktrees_items WHERE key = ?", {key});
        if (e.kind() == git::ErrorKind::Exists) throw conflict(e.what(), "BRANCH_EXISTS");
        rethrowGit(e);
    }
    copyEnvFiles(repoPath, path, {".env"});
    module_.db().exec("UPDATE worktrees_items SET status = 'stopped', admin_name = ? WHERE key = ?", {added.adminName, key});
    JsonObject o = makeObject();
    o->set("path", path);
    o->set("branch", branch);
    o->set("baseBranch", base);
    o->set("head", added.head);
    o->set("repoPath", repoPath);
    return o;
}

JsonObject WorktreeService::repoRemove(const std::string& repoPathIn, const std::string& pathIn, bool deleteBranch) {
    if (!git::isRepository(repoPathIn)) throw badRequest("repoPath is not a git repository", "NOT_A_REPOSITORY", {{"repoPath", "not a git repository"}});
    std::string repoPath = git::mainWorkdir(repoPathIn);
    if (!fs::path(pathIn).is_absolute()) throw badRequest("path must be absolute", "INVALID_PATH", {{"path", "must be absolute"}});
    std::string path = normalPath(pathIn);
    if (path == normalPath(repoPath)) throw badRequest("Refusing to remove the repository's main work directory", "INVALID_PATH");
    auto lock = repoLock(repoPath);
    std::lock_guard guard(*lock);
    std::vector<git::WorktreeEntry> entries;
    try {
        entries = git::listWorktrees(repoPath);
    } catch (const git::GitError& e) {
        rethrowGit(e);
    }
    auto row = module_.db().one("SELECT * FROM worktrees_items WHERE repo_path = ? AND path = ?", {repoPath, path});
    bool registered = std::any_of(entries.begin(), entries.end(), [&](const git::WorktreeEntry& e) { return normalPath(e.path) == path; });
    if (!registered && !row) throw notFound("No worktree of this repository at " + path, "WORKTREE_NOT_FOUND");
    if (row && row->text("kind") == "project")
        throw conflict("This worktree belongs to a project; delete it with DELETE /api/worktrees/:id", "WORKTREE_IN_PROJECT");
    std::string branch = row ? row->text("branch") : "";
    if (registered && git::isRepository(path)) branch = git::currentBranch(path).value_or(branch);
    try {
        git::removeWorktree(repoPath, path);
    } catch (const git::GitError& e) {
        throw badRequest(std::string("Could not remove worktree: ") + e.what(), "WORKTREE_REMOVE_FAILED");
    }
    bool branchDeleted = false;
    if (deleteBranch && !branch.empty()) {
        try {
            git::deleteBranch(repoPath, branch);
            branchDeleted = true;
        } catch (const git::GitError& e) {
            if (e.kind() != git::ErrorKind::NotFound) throw conflict(e.what(), "BRANCH_IN_USE");
        }
    }
    module_.db().exec("DELETE FROM worktrees_items WHERE repo_path = ? AND path = ?", {repoPath, path});
    {
        std::lock_guard l(cacheMutex_);
        cache_.erase(path);
    }
    JsonObject o = makeObject();
    o->set("success", true);
    o->set("path", path);
    o->set("branch", branch);
    o->set("branchDeleted", branchDeleted);
    return o;
}

JsonObject WorktreeService::repoDiff(const std::string& pathIn, const std::string& base) {
    if (!fs::path(pathIn).is_absolute()) throw badRequest("path must be absolute", "INVALID_PATH", {{"path", "must be absolute"}});
    std::string path = normalPath(pathIn);
    if (!git::isRepository(path)) throw badRequest("path is not a git work directory", "NOT_A_REPOSITORY", {{"path", "not a git work directory"}});
    std::string spec = base.empty() ? "HEAD" : base;
    try {
        if (spec != "HEAD" && !git::revisionExists(path, spec))
            throw badRequest("Unknown base revision '" + spec + "'", "INVALID_REF", {{"base", "unknown revision"}});
        return diffBody(git::diffWorkdir(path, spec), spec);
    } catch (const git::GitError& e) {
        rethrowGit(e);
    }
}

// ------------------------------------------------------------------ Abbado branches

std::string WorktreeService::repoFromProject(const JsonObject& project, const std::string& repoId) {
    auto repos = project->getArray("repos");
    if (repos) {
        for (size_t i = 0; i < repos->size(); ++i) {
            auto r = repos->getObject(static_cast<unsigned>(i));
            if (!r || r->optValue<std::string>("id", "") != repoId) continue;
            std::string path = r->has("path") ? r->optValue<std::string>("path", "") : r->optValue<std::string>("repo_path", "");
            if (!git::isRepository(path)) throw badRequest("Repository path is not a git repository", "NOT_A_REPOSITORY");
            return git::mainWorkdir(path);
        }
    }
    throw notFound("Repository \"" + repoId + "\" not found in project", "REPO_NOT_FOUND");
}

JsonArray WorktreeService::branches(const JsonObject& project) {
    JsonArray out = makeArray();
    auto repos = project->getArray("repos");
    if (!repos) return out;
    std::string projectId = project->optValue<std::string>("id", "");
    for (size_t i = 0; i < repos->size(); ++i) {
        auto repo = repos->getObject(static_cast<unsigned>(i));
        if (!repo) continue;
        std::string path = repo->has("path") ? repo->optValue<std::string>("path", "") : repo->optValue<std::string>("repo_path", "");
        if (!git::isRepository(path)) continue;
        std::string root = git::mainWorkdir(path);
        std::string base;
        try {
            base = git::resolveBase(root, "");
        } catch (const git::GitError&) {
            continue;  // no commits
        }
        std::map<std::string, std::pair<std::string, std::string>> linked;  // branch → (id, path)
        for (auto& r : module_.db().query("SELECT wt_id, path, branch, kind FROM worktrees_items WHERE repo_path = ?", {root}))
            linked[r.text("branch")] = {r.text("kind") == "project" ? r.text("wt_id") : "", r.text("path")};
        for (auto& b : git::listBranches(root, base)) {
            JsonObject o = makeObject();
            o->set("name", b.name);
            o->set("repo_id", repo->optValue<std::string>("id", ""));
            o->set("repo_name", repo->optValue<std::string>("name", ""));
            o->set("repo_path", root);
            o->set("head", b.head);
            o->set("base", base);
            o->set("ahead", b.ahead);
            o->set("behind", b.behind);
            o->set("upstream", b.upstream.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(b.upstream));
            o->set("pushed", b.pushed);
            o->set("is_head", b.isHead);
            auto it = linked.find(b.name);
            if (it != linked.end()) {
                JsonObject w = makeObject();
                w->set("id", it->second.first.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(it->second.first));
                w->set("path", it->second.second);
                o->set("worktree", w);
            } else if (!b.checkedOutAt.empty()) {
                JsonObject w = makeObject();
                w->set("id", normalPath(b.checkedOutAt) == normalPath(root) ? Poco::Dynamic::Var("root") : Poco::Dynamic::Var());
                w->set("path", b.checkedOutAt);
                o->set("worktree", w);
            } else {
                o->set("worktree", Poco::Dynamic::Var());
            }
            out->add(o);
        }
    }
    return out;
}

void WorktreeService::deleteBranch(const JsonObject& project, const std::string& repoId, const std::string& branch) {
    std::string root = repoFromProject(project, repoId);
    if (!git::isValidBranchName(branch)) throw badRequest("Invalid branch name \"" + branch + "\"", "INVALID_BRANCH_NAME");
    auto lock = repoLock(root);
    std::lock_guard guard(*lock);
    if (module_.db().one("SELECT key FROM worktrees_items WHERE repo_path = ? AND branch = ?", {root, branch}))
        throw conflict("Branch \"" + branch + "\" has a linked worktree; remove it first", "BRANCH_IN_USE");
    try {
        git::deleteBranch(root, branch);
    } catch (const git::GitError& e) {
        rethrowGit(e, "BRANCH_NOT_FOUND");
    }
}

JsonObject WorktreeService::merge(const JsonObject& project, const std::string& repoId, const std::string& branch,
                                  const std::optional<std::string>& into) {
    std::string root = repoFromProject(project, repoId);
    if (!git::isValidBranchName(branch)) throw badRequest("Invalid branch name \"" + branch + "\"", "INVALID_BRANCH_NAME");
    if (into && !git::isValidBranchName(*into)) throw badRequest("Invalid branch name \"" + *into + "\"", "INVALID_BRANCH_NAME");
    auto lock = repoLock(root);
    std::lock_guard guard(*lock);
    try {
        std::string target = into.value_or("");
        if (target.empty()) {
            target = git::resolveBase(root, "");
            if (target == "HEAD") target = git::currentBranch(root).value_or("");
            if (target.empty()) throw badRequest("Cannot determine the branch to merge into", "VALIDATION_ERROR", {{"into", "required"}});
        }
        if (target == branch) throw badRequest("Cannot merge a branch into itself", "VALIDATION_ERROR");
        auto r = git::mergeBranch(root, branch, target);
        JsonObject o = makeObject();
        o->set("success", true);
        o->set("branch", branch);
        o->set("into", target);
        o->set("commit", r.commit);
        o->set("fastForward", r.fastForward);
        o->set("upToDate", r.upToDate);
        return o;
    } catch (const git::GitError& e) {
        if (e.kind() == git::ErrorKind::Conflict) {
            HttpError h(409, "MERGE_CONFLICT", e.what());
            JsonArray paths = makeArray();
            for (auto& p : e.paths()) paths->add(p);
            withExtra(h)->set("conflicts", paths);
            throw h;
        }
        rethrowGit(e, "BRANCH_NOT_FOUND");
    }
}

JsonObject WorktreeService::rebase(const JsonObject& project, const std::string& repoId, const std::string& branch,
                                   const std::optional<std::string>& onto) {
    std::string root = repoFromProject(project, repoId);
    if (!git::isValidBranchName(branch)) throw badRequest("Invalid branch name \"" + branch + "\"", "INVALID_BRANCH_NAME");
    auto lock = repoLock(root);
    std::lock_guard guard(*lock);
    try {
        std::string target = onto.value_or("");
        if (target.empty()) target = git::resolveBase(root, "");
        if (!git::revisionExists(root, target)) throw badRequest("Unknown revision '" + target + "'", "INVALID_REF", {{"onto", "unknown"}});
        if (target == branch) throw badRequest("Cannot rebase a branch onto itself", "VALIDATION_ERROR");
        auto r = git::rebaseBranch(root, branch, target);
        JsonObject o = makeObject();
        o->set("success", true);
        o->set("branch", branch);
        o->set("onto", target);
        o->set("head", r.head);
        o->set("rebased", r.rebased);
        return o;
    } catch (const git::GitError& e) {
        if (e.kind() == git::ErrorKind::Conflict) {
            HttpError h(409, "REBASE_CONFLICT", e.what());
            JsonArray paths = makeArray();
            for (auto& p : e.paths()) paths->add(p);
            withExtra(h)->set("conflicts", paths);
            throw h;
        }
        rethrowGit(e, "BRANCH_NOT_FOUND");
    }
}

}  // namespace atelier::wt
