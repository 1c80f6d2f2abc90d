// The project store: projects and their repositories in the module's SQLite tables, with
// every rule of the resource (slugs, paths, repos, ordering, the active project). Knows
// nothing of HTTP; failures are ProjectError with a kind the registration layer maps.
#pragma once

#include <atelier/sdk.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace projects {

class ProjectError : public std::runtime_error {
public:
    enum class Kind { Invalid, NotFound, Conflict };
    ProjectError(Kind kind, std::string code, std::string message, std::string field = {})
        : std::runtime_error(std::move(message)), kind(kind), code(std::move(code)), field(std::move(field)) {}
    Kind kind;
    std::string code;
    std::string field;  // the offending input field, if any
};

inline constexpr const char* kDefaultOwner = "user-1";

struct Repo {
    std::string id;
    std::string projectId;
    std::string path;
    std::string name;
    std::optional<std::string> defaultBranch;
    bool primary = false;  // the repository of the project's local_path
    std::string createdAt;
};

struct Project {
    std::string id;
    std::string name;
    std::string slug;
    std::optional<std::string> description;
    std::string ownerId;
    std::optional<std::string> localPath;
    std::optional<std::string> repoSource;
    std::optional<std::string> repoOwner;
    std::optional<std::string> repoName;
    std::optional<std::string> organizationId;
    int64_t position = 0;
    std::optional<std::string> lastOpenedAt;
    std::string createdAt;
    std::string updatedAt;
    std::vector<Repo> repos;
};

// A nullable field of an update: absent (outer nullopt), cleared (inner nullopt) or set.
using NullableField = std::optional<std::optional<std::string>>;

struct CreateInput {
    std::optional<std::string> id;
    std::string name;
    std::optional<std::string> slug;
    std::optional<std::string> description;
    std::optional<std::string> ownerId;
    std::optional<std::string> localPath;
    std::optional<std::string> repoSource;
    std::optional<std::string> repoOwner;
    std::optional<std::string> repoName;
    std::optional<std::string> organizationId;
};

struct UpdateInput {
    std::optional<std::string> name;
    std::optional<std::string> slug;
    std::optional<std::string> ownerId;
    NullableField description;
    NullableField localPath;
    NullableField repoSource;
    NullableField repoOwner;
    NullableField repoName;
    NullableField organizationId;
    bool empty() const {
        return !name && !slug && !ownerId && !description && !localPath && !repoSource && !repoOwner && !repoName &&
               !organizationId;
    }
};

struct ListFilter {
    std::optional<std::string> ownerId;
    std::optional<std::string> repoSource;
    std::optional<std::string> search;
    std::optional<std::string> organizationId;
    int64_t limit = 100;
    int64_t offset = 0;
};

struct UpdateResult {
    Project project;
    std::vector<std::string> changes;  // names of the fields that changed
};

// Validation helpers (throw ProjectError Invalid with the field name).
// Absolute, no `..` segment, no NUL; returns the normalised path (symlinks resolved when it exists).
std::string normalizePath(const std::string& raw, const std::string& field);

class ProjectStore {
public:
    explicit ProjectStore(atelier::Db db) : db_(db) {}

    // Table definitions, in migration order.
    static std::vector<std::string> migrations();

    std::vector<Project> list(const ListFilter& f) const;
    int64_t count(const ListFilter& f) const;
    std::optional<Project> find(const std::string& idOrSlug) const;
    Project get(const std::string& idOrSlug) const;  // NotFound → PROJECT_NOT_FOUND
    std::optional<Project> findByLocalPath(const std::string& path) const;

    Project create(const CreateInput& in);
    UpdateResult update(const std::string& idOrSlug, const UpdateInput& in);
    Project remove(const std::string& idOrSlug);  // returns what was deleted

    // Orders projects as `ids` (every id must exist, no repeats); the rest follow in their
    // current order. Returns the ids whose position changed.
    std::vector<std::string> reorder(const std::vector<std::string>& ids);
    Project touchLastOpened(const std::string& idOrSlug);

    Repo addRepo(const std::string& idOrSlug, const std::string& path, const std::optional<std::string>& name);
    Repo removeRepo(const std::string& idOrSlug, const std::string& repoId);

    // Registers the repository containing `startDir` (if any) as a project unless one
    // already has that local_path. Returns the project when it created one.
    std::optional<Project> registerStartDirectory(const std::string& startDir);

    // `?project=` / header value if given (PROJECT_NOT_FOUND when unknown), else the project
    // whose local_path is the start directory or its repository root; NO_ACTIVE_PROJECT otherwise.
    Project resolveActive(const std::optional<std::string>& explicitRef, const std::string& startDir) const;

private:
    std::vector<Repo> reposOf(const std::string& projectId) const;
    std::string uniqueSlug(const atelier::Db& tx, const std::string& base) const;
    void dropPrimaryRepo(const atelier::Db& tx, const std::string& projectId) const;

    atelier::Db db_;
};

}  // namespace projects
