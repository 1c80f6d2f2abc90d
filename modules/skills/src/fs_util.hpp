// Filesystem and process helpers for the skills module: safe names, atomic writes, bounded
// copies that never follow links, hashing, and argv-only child processes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atelier::skills {

namespace fs = std::filesystem;

// The user's home directory ($HOME), where the agent CLIs keep their global files.
fs::path homeDir();

// Where a scan of `mode` starts and how deep it goes: "project" (the active project's root,
// depth 4), "folder" (`scanPath`, depth 8) or "device" (the home directory, depth 5). Throws an
// invalid-input DomainError for another mode, or for a mode missing what it needs.
struct ScanRoot {
    fs::path root;
    int depth = 4;
};
ScanRoot scanRoot(const std::string& mode, const std::string& scanPath, const fs::path& projectRoot);

// Lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 64 bytes:
// what a skill directory, agent file or package name may be (no '/', no "..").
bool isSafeName(std::string_view name);
// OpenKit's directory name for a skill: lowercase, every other character becomes '-'.
std::string skillDirName(std::string_view name);

std::optional<std::string> readFileIfExists(const fs::path& p, size_t maxBytes = 16 * 1024 * 1024);
std::string readFile(const fs::path& p, size_t maxBytes = 16 * 1024 * 1024);
// Writes through a temporary file in the same directory and renames it into place.
void writeFileAtomic(const fs::path& p, std::string_view content);

// Copies regular files and directories (symlinks, devices and sockets are skipped) from `from`
// into `to`, refusing more than `maxBytes` in total. `to` must not exist.
void copyTree(const fs::path& from, const fs::path& to, uint64_t maxBytes = 64ull * 1024 * 1024);
// Regular files under `root`, relative paths with '/' separators, sorted.
std::vector<std::string> listFiles(const fs::path& root);

bool isInside(const fs::path& root, const fs::path& p);
bool isSymlink(const fs::path& p);

std::string sha256Hex(std::string_view data);

struct ProcessResult {
    int exitCode = -1;
    bool started = false;
    bool timedOut = false;
    std::string output;  // stdout and stderr interleaved, bounded
};
// Runs argv (no shell) in `cwd` with `env` added to the environment; kills the process group
// after `timeoutMs`.
ProcessResult runProcess(const std::vector<std::string>& argv, const fs::path& cwd,
                         const std::map<std::string, std::string>& env = {}, int timeoutMs = 120000);
std::optional<fs::path> findOnPath(const std::string& name);

}  // namespace atelier::skills
