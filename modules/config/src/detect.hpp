// Detects configuration values from a project directory: package.json scripts and the
// lockfile's package manager, Makefile, CMakeLists.txt, Cargo.toml, go.mod,
// pyproject.toml, and the repository's default branch (libgit2).
#pragma once

#include <atelier/sdk.hpp>

#include <filesystem>

namespace atelier::config {

// {startCommand, installCommand, baseBranch, packageManager, framework, detectedFrom:[...]}
JsonObject detectConfig(const std::filesystem::path& root);

// The repository's default branch: origin/HEAD's target, else main/master/develop if they
// exist, else the current branch, else "main".
std::string detectDefaultBranch(const std::filesystem::path& root);

}  // namespace atelier::config
