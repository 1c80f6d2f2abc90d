#include "project_store.hpp"

#include <algorithm>
#include <atelier/util.hpp>
#include <filesystem>
#include <map>
#include <set>

#include "git_repo.hpp"

namespace projects {

namespace fs = std::filesystem;
using atelier::Db;
using atelier::Param;
using atelier::Row;
using Kind = ProjectError::Kind;

namespace {

const char* kProjectColumns =
    "id, name, slug, description, owner_id, local_path, repo_source, repo_owner, repo_name, organization_id,"
    " position, last_opened_at, created_at, updated_at";

Project projectFromRow(const Row& r) {
    Project p;
    p.id = r.text("id");
    p.name = r.text("name");
    p.slug = r.text("slug");
    p.description = r.textOpt("description");
    p.ownerId = r.text("owner_id");
    p.localPath = r.textOpt("local_path");
    p.repoSource = r.textOpt("repo_source");
    p.repoOwner = r.textOpt("repo_owner");
    p.repoName = r.textOpt("repo_name");
    p.organizationId = r.textOpt("organization_id");
    p.position = r.integer("position");
    p.lastOpenedAt = r.textOpt("last_opened_at");
    p.createdAt = r.text("created_at");
    p.updatedAt = r.text("updated_at");
    return p;
}

Repo repoFromRow(const Row& r) {
    Repo x;
    x.id = r.text("id");
    x.projectId = r.text("project_id");
    x.path = r.text("path");
    x.name = r.text("name");
    x.defaultBranch = r.textOpt("default_branch");
    x.primary = r.integer("is_primary") != 0;
    x.createdAt = r.text("created_at");
    return x;
}

void checkRepoSource(const std::optional<std::string>& s) {
    if (s && *s != "github" && *s != "gitlab" && *s != "bitbucket")
        throw ProjectError(Kind::Invalid, "VALIDATION_ERROR", "repo_source must be one of github, gitlab, bitbucket",
                           "repo_source");
}

std::string checkName(const std::string& raw) {
    auto b = raw.find_first_not_of(" \t\r\n");
    auto e = raw.find_last_not_of(" \t\r\n");
    std::string name = b == std::string::npos ? "" : raw.substr(b, e - b + 1);
    if (name.empty()) throw ProjectError(Kind::Invalid, "VALIDATION_ERROR", "name must not be empty", "name");
    if (name.size() > 200)
        throw ProjectError(Kind::Invalid, "VALIDATION_ERROR", "name must be at most 200 characters", "name");
    return name;
}

void checkSlug(const std::string& slug) {
    if (!atelier::isKebabCase(slug) || slug.size() > 100)
        throw ProjectError(Kind::Invalid, "VALIDATION_ERROR",
                           "slug must be kebab-case (lowercase letters and digits separated by single dashes)", "slug");
    if (atelier::isUuid(slug))
        throw ProjectError(Kind::Invalid, "VALIDATION_ERROR", "slug must not have the form of a UUID", "slug");
}

void checkOwner(const std::string& owner) {
    if (owner.empty()) throw ProjectError(Kind::Invalid, "VALIDATION_ERROR", "owner_id must not be empty", "owner_id");
}

// local_path may name a directory that does not exist yet, but never a file.
std::string checkLocalPath(const std::string& raw) {
    std::string path = normalizePath(raw, "local_path");
    std::error_code ec;
    if (fs::exists(path, ec) && !fs::is_directory(path, ec))
        throw ProjectError(Kind::Invalid, "NOT_A_DIRECTORY", "local_path is not a directory: " + path, "local_path");
    return path;
}

// The repository of a local_path, looked up before a write transaction.
struct PrimaryCandidate {
    std::string root;
    std::optional<std::string> branch;
};

std::optional<PrimaryCandidate> primaryFor(const std::optional<std::string>& localPath) {
    if (!localPath) return std::nullopt;
    auto root = git::discoverRoot(*localPath);
    if (!root) return std::nullopt;
    return PrimaryCandidate{*root, git::headBranch(*root)};
}

std::string baseName(const std::string& path) {
    auto name = fs::path(path).filename().string();
    return name.empty() ? path : name;
}

}  // namespace

std::string normalizePath(const std::string& raw, const std::string& field) {
    if (raw.empty()) throw ProjectError(Kind::Invalid, "INVALID_PATH", field + " must not be empty", field);
    if (raw.find('\0') != std::string::npos)
        throw ProjectError(Kind::Invalid, "INVALID_PATH", field + " must not contain NUL characters", field);
    if (raw.front() != '/')
        throw ProjectError(Kind::Invalid, "INVALID_PATH", field + " must be an absolute path", field);
    fs::path p(raw);
    for (auto& part : p)
        if (part == "..")
            throw ProjectError(Kind::Invalid, "INVALID_PATH", field + " must not contain '..' segments", field);
    std::error_code ec;
    std::string out;
    if (fs::exists(p, ec)) {
        auto c = fs::canonical(p, ec);
        out = ec ? p.lexically_normal().string() : c.string();
    } else {
        out = p.lexically_normal().string();
    }
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

std::vector<std::string> ProjectStore::migrations() {
    return {
        "CREATE TABLE projects_items ("
        " id TEXT PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " slug TEXT NOT NULL UNIQUE,"
        " description TEXT,"
        " owner_id TEXT NOT NULL,"
        " local_path TEXT UNIQUE,"
        " repo_source TEXT CHECK (repo_source IN ('github','gitlab','bitbucket')),"
        " repo_owner TEXT,"
        " repo_name TEXT,"
        " organization_id TEXT,"
        " position INTEGER NOT NULL DEFAULT 0,"
        " last_opened_at TEXT,"
        " created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL);"
        "CREATE INDEX projects_items_owner ON projects_items(owner_id);"
        "CREATE INDEX projects_items_position ON projects_items(position, created_at);"
        "CREATE TABLE projects_repos ("
        " id TEXT PRIMARY KEY,"
        " project_id TEXT NOT NULL REFERENCES projects_items(id) ON DELETE CASCADE,"
        " path TEXT NOT NULL,"
        " name TEXT NOT NULL,"
        " default_branch TEXT,"
        " is_primary INTEGER NOT NULL DEFAULT 0,"
        " position INTEGER NOT NULL DEFAULT 0,"
        " created_at TEXT NOT NULL,"
        " UNIQUE(project_id, path));"
        "CREATE INDEX projects_repos_project ON projects_repos(project_id, is_primary DESC, position);",
    };
}

// ------------------------------------------------------------------ reads

std::vector<Repo> ProjectStore::reposOf(const std::string& projectId) const {
    std::vector<Repo> out;
    for (auto& r :
         db_.query("SELECT id, project_id, path, name, default_branch, is_primary, created_at FROM projects_repos"
                   " WHERE project_id = ? ORDER BY is_primary DESC, position, created_at, id",
                   {projectId}))
        out.push_back(repoFromRow(r));
    return out;
}

namespace {
std::string whereClause(const ListFilter& f, std::vector<Param>& params) {
    std::string w = " WHERE 1=1";
    if (f.ownerId) {
        w += " AND owner_id = ?";
        params.emplace_back(*f.ownerId);
    }
    if (f.repoSource) {
        w += " AND repo_source = ?";
        params.emplace_back(*f.repoSource);
    }
    if (f.organizationId) {
        w += " AND organization_id = ?";
        params.emplace_back(*f.organizationId);
    }
    if (f.search && !f.search->empty()) {
        // instr() rather than LIKE with a bound pattern: no wildcard escaping, and SQLite does
        // not re-prepare the statement on its first step (the real host reads column names
        // before stepping, which a LIKE re-prepare invalidates).
        w += " AND instr(lower(name), lower(?)) > 0";
        params.emplace_back(*f.search);
    }
    return w;
}
}  // namespace

std::vector<Project> ProjectStore::list(const ListFilter& f) const {
    checkRepoSource(f.repoSource);
    std::vector<Param> params;
    std::string sql = std::string("SELECT ") + kProjectColumns + " FROM projects_items" + whereClause(f, params) +
                      " ORDER BY position, created_at, id LIMIT ? OFFSET ?";
    params.emplace_back(f.limit);
    params.emplace_back(f.offset);
    std::vector<Project> out;
    for (auto& r : db_.query(sql, params)) out.push_back(projectFromRow(r));
    if (out.empty()) return out;
    // The repos of the whole page in one query.
    std::string in;
    std::vector<Param> ids;
    for (auto& p : out) {
        in += in.empty() ? "?" : ",?";
        ids.emplace_back(p.id);
    }
    std::map<std::string, std::vector<Repo>> byProject;
    for (auto& r :
         db_.query("SELECT id, project_id, path, name, default_branch, is_primary, created_at FROM projects_repos"
                   " WHERE project_id IN (" +
                       in + ") ORDER BY is_primary DESC, position, created_at, id",
                   ids)) {
        auto repo = repoFromRow(r);
        byProject[repo.projectId].push_back(std::move(repo));
    }
    for (auto& p : out) {
        auto it = byProject.find(p.id);
        if (it != byProject.end()) p.repos = std::move(it->second);
    }
    return out;
}

int64_t ProjectStore::count(const ListFilter& f) const {
    checkRepoSource(f.repoSource);
    std::vector<Param> params;
    auto row = db_.one("SELECT COUNT(*) AS n FROM projects_items" + whereClause(f, params), params);
    return row ? row->integer("n") : 0;
}

std::optional<Project> ProjectStore::find(const std::string& idOrSlug) const {
    if (idOrSlug.empty()) return std::nullopt;
    auto row = db_.one(std::string("SELECT ") + kProjectColumns + " FROM projects_items WHERE id = ?", {idOrSlug});
    if (!row)
        row = db_.one(std::string("SELECT ") + kProjectColumns + " FROM projects_items WHERE slug = ?", {idOrSlug});
    if (!row) return std::nullopt;
    auto p = projectFromRow(*row);
    p.repos = reposOf(p.id);
    return p;
}

Project ProjectStore::get(const std::string& idOrSlug) const {
    auto p = find(idOrSlug);
    if (!p) throw ProjectError(Kind::NotFound, "PROJECT_NOT_FOUND", "Project not found: " + idOrSlug);
    return *p;
}

std::optional<Project> ProjectStore::findByLocalPath(const std::string& path) const {
    auto row = db_.one(std::string("SELECT ") + kProjectColumns + " FROM projects_items WHERE local_path = ?", {path});
    if (!row) return std::nullopt;
    auto p = projectFromRow(*row);
    p.repos = reposOf(p.id);
    return p;
}

// ------------------------------------------------------------------ writes

std::string ProjectStore::uniqueSlug(const Db& tx, const std::string& base) const {
    std::string candidate = base;
    for (int n = 2;; ++n) {
        if (!tx.one("SELECT 1 AS x FROM projects_items WHERE slug = ?", {candidate})) return candidate;
        candidate = base + "-" + std::to_string(n);
    }
}

void ProjectStore::dropPrimaryRepo(const Db& tx, const std::string& projectId) const {
    tx.exec("DELETE FROM projects_repos WHERE project_id = ? AND is_primary = 1", {projectId});
}

Project ProjectStore::create(const CreateInput& in) {
    CreateInput v = in;
    v.name = checkName(in.name);
    if (v.id && !atelier::isUuid(*v.id))
        throw ProjectError(Kind::Invalid, "VALIDATION_ERROR", "id must be a UUID", "id");
    if (v.slug) checkSlug(*v.slug);
    if (v.ownerId) checkOwner(*v.ownerId);
    checkRepoSource(v.repoSource);
    if (v.localPath) v.localPath = checkLocalPath(*v.localPath);
    auto primary = primaryFor(v.localPath);

    std::string id = v.id ? *v.id : atelier::newUuid();
    std::string now = atelier::nowIso();
    db_.transaction([&](const Db& tx) {
        if (tx.one("SELECT 1 AS x FROM projects_items WHERE id = ?", {id}))
            throw ProjectError(Kind::Conflict, "PROJECT_EXISTS", "A project with id " + id + " already exists", "id");
        std::string slug;
        if (v.slug) {
            if (tx.one("SELECT 1 AS x FROM projects_items WHERE slug = ?", {*v.slug}))
                throw ProjectError(Kind::Conflict, "DUPLICATE_SLUG",
                                   "A project with slug '" + *v.slug + "' already exists", "slug");
            slug = *v.slug;
        } else {
            std::string base = atelier::slugify(v.name);
            if (base.size() > 90) base.resize(90);
            while (!base.empty() && base.back() == '-') base.pop_back();
            if (base.empty()) base = "project";
            slug = uniqueSlug(tx, base);
        }
        if (v.localPath) {
            if (auto other = tx.one("SELECT name FROM projects_items WHERE local_path = ?", {*v.localPath}))
                throw ProjectError(Kind::Conflict, "LOCAL_PATH_IN_USE",
                                   "Project '" + other->text("name") + "' already uses local_path " + *v.localPath,
                                   "local_path");
        }
        auto pos = tx.one("SELECT COALESCE(MAX(position), -1) + 1 AS p FROM projects_items");
        tx.exec(
            "INSERT INTO projects_items (id, name, slug, description, owner_id, local_path, repo_source, repo_owner,"
            " repo_name, organization_id, position, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            {id, v.name, slug, v.description, v.ownerId ? *v.ownerId : std::string(kDefaultOwner), v.localPath,
             v.repoSource, v.repoOwner, v.repoName, v.organizationId, pos ? pos->integer("p") : 0, now, now});
        if (primary)
            tx.exec(
                "INSERT INTO projects_repos (id, project_id, path, name, default_branch, is_primary, position, "
                "created_at)"
                " VALUES (?,?,?,?,?,1,0,?)",
                {atelier::newUuid(), id, primary->root, baseName(primary->root), primary->branch, now});
    });
    return get(id);
}

UpdateResult ProjectStore::update(const std::string& idOrSlug, const UpdateInput& in) {
    std::string id = get(idOrSlug).id;
    UpdateInput v = in;
    if (v.name) v.name = checkName(*v.name);
    if (v.slug) checkSlug(*v.slug);
    if (v.ownerId) checkOwner(*v.ownerId);
    if (v.repoSource) checkRepoSource(*v.repoSource);
    if (v.localPath && *v.localPath) *v.localPath = checkLocalPath(**v.localPath);
    // libgit2 work happens before the write transaction.
    std::optional<PrimaryCandidate> primary;
    if (v.localPath) primary = primaryFor(*v.localPath);

    UpdateResult result;
    std::string now = atelier::nowIso();
    db_.transaction([&](const Db& tx) {
        // Read-modify-write inside the transaction, so concurrent patches of different
        // fields do not undo each other.
        auto row = tx.one(std::string("SELECT ") + kProjectColumns + " FROM projects_items WHERE id = ?", {id});
        if (!row) throw ProjectError(Kind::NotFound, "PROJECT_NOT_FOUND", "Project not found: " + idOrSlug);
        Project cur = projectFromRow(*row);
        Project next = cur;
        auto& changes = result.changes;
        auto setText = [&](std::string& field, const std::optional<std::string>& value, const char* name) {
            if (value && *value != field) {
                field = *value;
                changes.emplace_back(name);
            }
        };
        auto setNullable = [&](std::optional<std::string>& field, const NullableField& value, const char* name) {
            if (value && *value != field) {
                field = *value;
                changes.emplace_back(name);
            }
        };
        setText(next.name, v.name, "name");
        setText(next.slug, v.slug, "slug");
        setText(next.ownerId, v.ownerId, "owner_id");
        setNullable(next.description, v.description, "description");
        setNullable(next.localPath, v.localPath, "local_path");
        setNullable(next.repoSource, v.repoSource, "repo_source");
        setNullable(next.repoOwner, v.repoOwner, "repo_owner");
        setNullable(next.repoName, v.repoName, "repo_name");
        setNullable(next.organizationId, v.organizationId, "organizationId");
        if (changes.empty()) return;
        bool pathChanged = next.localPath != cur.localPath;
        if (next.slug != cur.slug &&
            tx.one("SELECT 1 AS x FROM projects_items WHERE slug = ? AND id <> ?", {next.slug, id}))
            throw ProjectError(Kind::Conflict, "DUPLICATE_SLUG",
                               "A project with slug '" + next.slug + "' already exists", "slug");
        if (pathChanged && next.localPath) {
            if (auto other =
                    tx.one("SELECT name FROM projects_items WHERE local_path = ? AND id <> ?", {*next.localPath, id}))
                throw ProjectError(Kind::Conflict, "LOCAL_PATH_IN_USE",
                                   "Project '" + other->text("name") + "' already uses local_path " + *next.localPath,
                                   "local_path");
        }
        tx.exec(
            "UPDATE projects_items SET name = ?, slug = ?, description = ?, owner_id = ?, local_path = ?, repo_source "
            "= ?,"
            " repo_owner = ?, repo_name = ?, organization_id = ?, updated_at = ? WHERE id = ?",
            {next.name, next.slug, next.description, next.ownerId, next.localPath, next.repoSource, next.repoOwner,
             next.repoName, next.organizationId, now, id});
        if (pathChanged) {
            dropPrimaryRepo(tx, id);
            if (primary) {
                // An explicitly added repo at the same path becomes the primary one.
                auto existing =
                    tx.one("SELECT id FROM projects_repos WHERE project_id = ? AND path = ?", {id, primary->root});
                if (existing)
                    tx.exec("UPDATE projects_repos SET is_primary = 1, position = 0 WHERE id = ?",
                            {existing->text("id")});
                else
                    tx.exec(
                        "INSERT INTO projects_repos (id, project_id, path, name, default_branch, is_primary, position,"
                        " created_at) VALUES (?,?,?,?,?,1,0,?)",
                        {atelier::newUuid(), id, primary->root, baseName(primary->root), primary->branch, now});
            }
        }
    });
    result.project = get(id);
    return result;
}

Project ProjectStore::remove(const std::string& idOrSlug) {
    Project cur = get(idOrSlug);
    db_.transaction([&](const Db& tx) {
        tx.exec("DELETE FROM projects_repos WHERE project_id = ?", {cur.id});
        auto r = tx.exec("DELETE FROM projects_items WHERE id = ?", {cur.id});
        if (r.changes == 0) throw ProjectError(Kind::NotFound, "PROJECT_NOT_FOUND", "Project not found: " + idOrSlug);
    });
    return cur;
}

std::vector<std::string> ProjectStore::reorder(const std::vector<std::string>& ids) {
    std::set<std::string> seen;
    for (auto& id : ids) {
        if (id.empty())
            throw ProjectError(Kind::Invalid, "VALIDATION_ERROR", "ids must not contain empty strings", "ids");
        if (!seen.insert(id).second)
            throw ProjectError(Kind::Invalid, "VALIDATION_ERROR", "ids must not repeat a project: " + id, "ids");
    }
    std::vector<std::string> changed;
    std::string now = atelier::nowIso();
    db_.transaction([&](const Db& tx) {
        std::vector<std::pair<std::string, int64_t>> current;
        for (auto& r : tx.query("SELECT id, slug, position FROM projects_items ORDER BY position, created_at, id"))
            current.emplace_back(r.text("id"), r.integer("position"));
        std::vector<std::string> order;
        std::set<std::string> placed;
        for (auto& ref : ids) {
            auto row = tx.one("SELECT id FROM projects_items WHERE id = ? OR slug = ?", {ref, ref});
            if (!row) throw ProjectError(Kind::NotFound, "PROJECT_NOT_FOUND", "Project not found: " + ref, "ids");
            if (!placed.insert(row->text("id")).second)
                throw ProjectError(Kind::Invalid, "VALIDATION_ERROR", "ids must not repeat a project: " + ref, "ids");
            order.push_back(row->text("id"));
        }
        for (auto& [id, pos] : current)
            if (!placed.count(id)) order.push_back(id);
        for (size_t i = 0; i < order.size(); ++i) {
            auto it = std::find_if(current.begin(), current.end(), [&](auto& c) { return c.first == order[i]; });
            if (it != current.end() && it->second == static_cast<int64_t>(i)) continue;
            tx.exec("UPDATE projects_items SET position = ?, updated_at = ? WHERE id = ?",
                    {static_cast<int64_t>(i), now, order[i]});
            changed.push_back(order[i]);
        }
    });
    return changed;
}

Project ProjectStore::touchLastOpened(const std::string& idOrSlug) {
    Project cur = get(idOrSlug);
    db_.exec("UPDATE projects_items SET last_opened_at = ? WHERE id = ?", {atelier::nowIso(), cur.id});
    return get(cur.id);
}

Repo ProjectStore::addRepo(const std::string& idOrSlug, const std::string& rawPath,
                           const std::optional<std::string>& rawName) {
    Project cur = get(idOrSlug);
    std::string path = normalizePath(rawPath, "repo_path");
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw ProjectError(Kind::Invalid, "PATH_NOT_FOUND", "repo_path does not exist: " + path, "repo_path");
    if (!fs::is_directory(path, ec))
        throw ProjectError(Kind::Invalid, "NOT_A_DIRECTORY", "repo_path is not a directory: " + path, "repo_path");
    if (!git::isRepositoryRoot(path))
        throw ProjectError(Kind::Invalid, "NOT_A_GIT_REPOSITORY",
                           "repo_path is not the root of a git repository (no .git): " + path, "repo_path");
    std::string name = rawName ? checkName(*rawName) : baseName(path);
    auto branch = git::headBranch(path);
    Repo repo;
    repo.id = atelier::newUuid();
    repo.projectId = cur.id;
    repo.path = path;
    repo.name = name;
    repo.defaultBranch = branch;
    repo.createdAt = atelier::nowIso();
    db_.transaction([&](const Db& tx) {
        if (!tx.one("SELECT 1 AS x FROM projects_items WHERE id = ?", {cur.id}))
            throw ProjectError(Kind::NotFound, "PROJECT_NOT_FOUND", "Project not found: " + idOrSlug);
        if (tx.one("SELECT 1 AS x FROM projects_repos WHERE project_id = ? AND path = ?", {cur.id, path}))
            throw ProjectError(Kind::Conflict, "REPO_EXISTS", "The project already has the repository " + path,
                               "repo_path");
        auto pos =
            tx.one("SELECT COALESCE(MAX(position), 0) + 1 AS p FROM projects_repos WHERE project_id = ?", {cur.id});
        tx.exec(
            "INSERT INTO projects_repos (id, project_id, path, name, default_branch, is_primary, position, created_at)"
            " VALUES (?,?,?,?,?,0,?,?)",
            {repo.id, repo.projectId, repo.path, repo.name, repo.defaultBranch, pos ? pos->integer("p") : 1,
             repo.createdAt});
        tx.exec("UPDATE projects_items SET updated_at = ? WHERE id = ?", {repo.createdAt, cur.id});
    });
    return repo;
}

Repo ProjectStore::removeRepo(const std::string& idOrSlug, const std::string& repoId) {
    Project cur = get(idOrSlug);
    auto it = std::find_if(cur.repos.begin(), cur.repos.end(), [&](const Repo& r) { return r.id == repoId; });
    if (it == cur.repos.end())
        throw ProjectError(Kind::NotFound, "REPO_NOT_FOUND",
                           "Repository " + repoId + " not found in project " + cur.id);
    if (it->primary)
        throw ProjectError(Kind::Conflict, "PRIMARY_REPO",
                           "This repository is the project's local_path; change or clear local_path instead");
    std::string now = atelier::nowIso();
    db_.transaction([&](const Db& tx) {
        tx.exec("DELETE FROM projects_repos WHERE id = ? AND project_id = ?", {repoId, cur.id});
        tx.exec("UPDATE projects_items SET updated_at = ? WHERE id = ?", {now, cur.id});
    });
    return *it;
}

std::optional<Project> ProjectStore::registerStartDirectory(const std::string& startDir) {
    if (startDir.empty()) return std::nullopt;
    auto root = git::discoverMainRoot(startDir);
    if (!root) return std::nullopt;
    if (findByLocalPath(*root)) return std::nullopt;
    CreateInput in;
    in.name = baseName(*root);
    in.localPath = *root;
    try {
        return create(in);
    } catch (const ProjectError& e) {
        if (e.kind == Kind::Conflict) return std::nullopt;  // registered concurrently
        throw;
    }
}

Project ProjectStore::resolveActive(const std::optional<std::string>& explicitRef, const std::string& startDir) const {
    if (explicitRef && !explicitRef->empty()) return get(*explicitRef);
    if (!startDir.empty()) {
        std::string dir = startDir;
        try {
            dir = normalizePath(startDir, "start_dir");
        } catch (const ProjectError&) {
        }
        if (auto p = findByLocalPath(dir)) return *p;
        if (auto root = git::discoverRoot(dir)) {
            if (auto p = findByLocalPath(*root)) return *p;
        }
        if (auto main = git::discoverMainRoot(dir)) {
            if (auto p = findByLocalPath(*main)) return *p;
        }
    }
    throw ProjectError(Kind::Invalid, "NO_ACTIVE_PROJECT",
                       "No active project: pass ?project=<id|slug> or the X-Atelier-Project header");
}

}  // namespace projects
