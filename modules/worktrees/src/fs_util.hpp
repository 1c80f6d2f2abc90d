// Filesystem and process helpers for the worktrees module (no HTTP, no git).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace atelier::wt {

// Copies every file whose name starts with one of `prefixes` (e.g. ".env") from `from` into
// the same relative place under `to`, recursively, skipping .git, node_modules and .atelier.
// Never overwrites an existing file. Returns the relative paths copied.
std::vector<std::string> copyEnvFiles(const std::string& from, const std::string& to,
                                      const std::vector<std::string>& prefixes);

// Splits a command on whitespace into an argv vector (no shell, as OpenKit does).
std::vector<std::string> splitCommand(const std::string& command);

struct ProcessResult {
    int exitCode = -1;  // -1: could not start / killed
    bool timedOut = false;
};
// Runs argv in `cwd`, feeding every output line to onLine; kills the group after `timeout`.
ProcessResult runProcess(const std::vector<std::string>& argv, const std::string& cwd,
                         const std::function<void(const std::string&)>& onLine, std::chrono::milliseconds timeout);

// Lexically normalised absolute path without a trailing slash.
std::string normalPath(const std::string& p);
// True when `child` is `parent` or lies below it (lexically, after normalisation).
bool isWithin(const std::string& parent, const std::string& child);
// A relative path that stays inside its root: no absolute paths, no `..` segments, no NUL.
bool isSafeRelative(const std::string& rel);

}  // namespace atelier::wt
