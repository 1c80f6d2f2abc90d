// Reading and atomically rewriting agent configuration files: a temporary file beside the
// target, fsync, rename, with the target's permissions kept. Writers to one path are
// serialised in process so concurrent deploys cannot interleave read-modify-write cycles.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>

namespace atelier::mcp {

struct ConfigText {
    bool exists = false;
    std::string text;
    mode_t mode = 0644;
};

// Refuses files larger than `maxBytes` (std::runtime_error) rather than loading them.
ConfigText readConfig(const std::string& path, size_t maxBytes = 8 * 1024 * 1024);

// Writes `text` to `path` through a temporary file and rename(2); creates parent directories.
void writeConfigAtomic(const std::string& path, const std::string& text, mode_t mode);

// The lock every read-modify-write of `path` holds.
std::mutex& configLock(const std::string& path);

}  // namespace atelier::mcp
