#include "archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include "domain_error.hpp"

namespace atelier::skills {

namespace {

DomainError unsafe(const std::string& entry, const std::string& why) {
    return DomainError(DomainError::Kind::Invalid, "ARCHIVE_UNSAFE",
                       "Refused archive entry \"" + entry.substr(0, 200) + "\": " + why, "package_path");
}

// Validates an entry path and returns it relative to the destination.
fs::path safeRelative(const std::string& raw) {
    if (raw.empty()) throw unsafe(raw, "empty path");
    if (raw.find('\0') != std::string::npos || raw.find('\\') != std::string::npos)
        throw unsafe(raw, "invalid characters");
    fs::path p(raw);
    if (p.is_absolute() || raw[0] == '/') throw unsafe(raw, "absolute path");
    fs::path out;
    for (const auto& part : p) {
        if (part == "..") throw unsafe(raw, "parent-directory component");
        if (part == "." || part.empty()) continue;
        out /= part;
    }
    // Kombuse packs may wrap everything in a top-level package/ directory.
    return out;
}

}  // namespace

void extractArchive(const fs::path& archivePath, const fs::path& dest, const ArchiveLimits& limits) {
    std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), &archive_read_free);
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_format_zip(a.get());
    if (archive_read_open_filename(a.get(), archivePath.c_str(), 64 * 1024) != ARCHIVE_OK)
        throw DomainError(DomainError::Kind::Invalid, "ARCHIVE_INVALID",
                          std::string("Cannot open package: ") + archive_error_string(a.get()), "package_path");
    std::error_code ec;
    if (fs::exists(dest, ec)) throw std::runtime_error("extraction target exists");
    fs::create_directories(dest);
    try {
        uint64_t total = 0;
        size_t entries = 0;
        archive_entry* entry = nullptr;
        while (true) {
            int rc = archive_read_next_header(a.get(), &entry);
            if (rc == ARCHIVE_EOF) break;
            if (rc < ARCHIVE_WARN)
                throw DomainError(DomainError::Kind::Invalid, "ARCHIVE_INVALID",
                                  std::string("Corrupt package: ") + archive_error_string(a.get()), "package_path");
            if (++entries > limits.maxEntries)
                throw DomainError(DomainError::Kind::TooLarge, "ARCHIVE_TOO_LARGE", "Package has too many entries");
            const char* name = archive_entry_pathname(entry);
            std::string raw = name ? name : "";
            fs::path rel = safeRelative(raw);
            auto type = archive_entry_filetype(entry);
            if (archive_entry_symlink(entry) || archive_entry_hardlink(entry) || type == AE_IFLNK)
                throw unsafe(raw, "links are not allowed in packages");
            if (type == AE_IFDIR) {
                if (!rel.empty()) fs::create_directories(dest / rel);
                continue;
            }
            if (type != AE_IFREG) throw unsafe(raw, "only regular files and directories are allowed");
            if (rel.empty()) throw unsafe(raw, "empty path");
            if (archive_entry_size_is_set(entry) &&
                static_cast<uint64_t>(archive_entry_size(entry)) > limits.maxEntryBytes)
                throw DomainError(DomainError::Kind::TooLarge, "ARCHIVE_TOO_LARGE",
                                  "Package entry \"" + raw.substr(0, 200) + "\" is too large");
            fs::path target = dest / rel;
            // Parents are created here, never through a link (links are refused above).
            fs::create_directories(target.parent_path());
            int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (fd < 0) throw unsafe(raw, "duplicate or unwritable entry");
            uint64_t written = 0;
            char buf[64 * 1024];
            try {
                while (true) {
                    la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
                    if (n == 0) break;
                    if (n < 0)
                        throw DomainError(DomainError::Kind::Invalid, "ARCHIVE_INVALID",
                                          std::string("Corrupt package: ") + archive_error_string(a.get()),
                                          "package_path");
                    written += static_cast<uint64_t>(n);
                    total += static_cast<uint64_t>(n);
                    if (written > limits.maxEntryBytes)
                        throw DomainError(DomainError::Kind::TooLarge, "ARCHIVE_TOO_LARGE",
                                          "Package entry \"" + raw.substr(0, 200) + "\" is too large");
                    if (total > limits.maxTotalBytes)
                        throw DomainError(DomainError::Kind::TooLarge, "ARCHIVE_TOO_LARGE",
                                          "Package expands beyond the size limit");
                    if (::write(fd, buf, static_cast<size_t>(n)) != n) throw std::runtime_error("write failed");
                }
            } catch (...) {
                ::close(fd);
                throw;
            }
            ::close(fd);
        }
    } catch (...) {
        fs::remove_all(dest, ec);
        throw;
    }
}

void createTarGz(const fs::path& root, const fs::path& out) {
    std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), &archive_write_free);
    archive_write_add_filter_gzip(a.get());
    archive_write_set_format_pax_restricted(a.get());
    fs::create_directories(out.parent_path());
    if (archive_write_open_filename(a.get(), out.c_str()) != ARCHIVE_OK)
        throw std::runtime_error(std::string("cannot create archive: ") + archive_error_string(a.get()));
    for (const auto& rel : listFiles(root)) {
        std::string data = readFile(root / rel, 64ull * 1024 * 1024);
        std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), &archive_entry_free);
        archive_entry_set_pathname(e.get(), rel.c_str());
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0644);
        archive_entry_set_mtime(e.get(), ::time(nullptr), 0);
        if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK ||
            archive_write_data(a.get(), data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
            throw std::runtime_error(std::string("cannot write archive: ") + archive_error_string(a.get()));
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) throw std::runtime_error("cannot finish archive");
}

}  // namespace atelier::skills
