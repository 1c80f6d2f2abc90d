// Committing and pushing the project's `.atelier/config.json` and `.atelier/.gitignore`
// with libgit2 (no git CLI). Only those two paths go into the commit, whatever else the
// user has staged.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace atelier::config {

struct SetupStatus {
    bool isRepo = false;
    std::vector<std::string> files;  // repo-relative paths that differ from HEAD
    int ahead = 0;                   // commits ahead of the upstream branch
    bool hasUpstream = false;
    bool needsPush() const { return !files.empty() || ahead > 0; }
};
SetupStatus setupStatus(const std::filesystem::path& projectRoot);

struct CommitSetupResult {
    bool alreadyCommitted = false;
    bool committed = false;
    std::string commit;  // new commit id
    bool pushed = false;
    bool pushFailed = false;
    std::string pushError;
};
// Throws DomainError when the project is not a git repository or nothing is configured.
CommitSetupResult commitSetup(const std::filesystem::path& projectRoot, const std::string& message);

// Stages the files in the repository index (used by init, like `git add`). Best effort.
void stageSetupFiles(const std::filesystem::path& projectRoot);

}  // namespace atelier::config
