#include "config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atelier/util.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>

namespace fs = std::filesystem;

namespace atelier::mcp {

ConfigText readConfig(const std::string& path, size_t maxBytes) {
    ConfigText out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return out;
        throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw std::runtime_error(path + " is not a regular file");
    }
    if (static_cast<size_t>(st.st_size) > maxBytes) {
        ::close(fd);
        throw std::runtime_error(path + " is larger than " + std::to_string(maxBytes) + " bytes");
    }
    out.exists = true;
    out.mode = st.st_mode & 07777;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        out.text.append(buf, static_cast<size_t>(n));
        if (out.text.size() > maxBytes) {
            ::close(fd);
            throw std::runtime_error(path + " is larger than " + std::to_string(maxBytes) + " bytes");
        }
    }
    ::close(fd);
    return out;
}

void writeConfigAtomic(const std::string& path, const std::string& text, mode_t mode) {
    fs::path p(path);
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    std::string tmp = path + ".tmp-" + randomHex(8);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    fchmod(fd, mode);  // the umask must not narrow or widen what the file had
    size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::runtime_error("cannot write " + path + ": " + std::strerror(e));
        }
        off += static_cast<size_t>(n);
    }
    fsync(fd);
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot replace " + path + ": " + std::strerror(e));
    }
}

std::mutex& configLock(const std::string& path) {
    static std::mutex mapMutex;
    static std::map<std::string, std::unique_ptr<std::mutex>> locks;
    std::lock_guard lock(mapMutex);
    auto& m = locks[path];
    if (!m) m = std::make_unique<std::mutex>();
    return *m;
}

}  // namespace atelier::mcp
