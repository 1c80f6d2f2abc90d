// Package archives through libarchive. Extraction refuses what could escape or exhaust the
// destination: absolute paths, "..", links of any kind, devices, too many entries, entries or
// totals beyond the limits (counted from the data actually read, not the headers).
#pragma once

#include "fs_util.hpp"

namespace atelier::skills {

struct ArchiveLimits {
    uint64_t maxEntryBytes = 10ull * 1024 * 1024;
    uint64_t maxTotalBytes = 64ull * 1024 * 1024;
    size_t maxEntries = 5000;
};

// Extracts into `dest`, which must not exist; on any error `dest` is removed and a DomainError
// (Invalid ARCHIVE_UNSAFE / ARCHIVE_INVALID, or TooLarge ARCHIVE_TOO_LARGE) is thrown.
void extractArchive(const fs::path& archive, const fs::path& dest, const ArchiveLimits& limits = {});
// Writes the regular files under `root` (sorted, relative paths) as a gzip-compressed tar.
void createTarGz(const fs::path& root, const fs::path& out);

}  // namespace atelier::skills
