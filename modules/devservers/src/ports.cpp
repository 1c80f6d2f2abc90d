#include "ports.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

namespace atelier::devservers {

namespace fs = std::filesystem;

std::string applyPortOffset(const std::string& s, int offset) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        if (s[i] == '$' && i + 2 < s.size() && s[i + 1] == '{') {
            size_t j = i + 2;
            while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) && j - i < 9) ++j;
            if (j > i + 2 && j < s.size() && s[j] == '}') {
                out += std::to_string(std::stol(s.substr(i + 2, j - i - 2)) + offset);
                i = j + 1;
                continue;
            }
        }
        out.push_back(s[i++]);
    }
    return out;
}

std::vector<std::string> buildEnvironment(const std::vector<std::string>& base, int offset,
                                          const std::vector<int>& knownPorts, int firstPort,
                                          const std::map<std::string, std::string>& envMapping,
                                          const std::map<std::string, std::string>& extra) {
    std::map<std::string, std::string> vars;
    std::vector<std::string> order;
    for (auto& kv : base) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        auto k = kv.substr(0, eq);
        if (!vars.count(k)) order.push_back(k);
        vars[k] = kv.substr(eq + 1);
    }
    auto set = [&](const std::string& k, const std::string& v) {
        if (!vars.count(k)) order.push_back(k);
        vars[k] = v;
    };
    std::string known = "[";
    for (size_t i = 0; i < knownPorts.size(); ++i) known += (i ? "," : "") + std::to_string(knownPorts[i]);
    known += "]";
    set("ATELIER_PORT_OFFSET", std::to_string(offset));
    set("ATELIER_KNOWN_PORTS", known);
    if (firstPort > 0) set("PORT", std::to_string(firstPort + offset));
    for (auto& [k, v] : envMapping) set(k, applyPortOffset(v, offset));
    for (auto& [k, v] : extra) set(k, v);
    std::vector<std::string> out;
    out.reserve(order.size());
    for (auto& k : order) out.push_back(k + "=" + vars[k]);
    return out;
}

int allocateOffset(int step, const std::vector<int>& ports, const std::set<int>& usedOffsets,
                   const std::set<int>& usedPorts, const std::function<bool(int)>& portFree) {
    if (step < 1) step = 1;
    for (int k = 1; k <= 2000; ++k) {
        int offset = k * step;
        if (usedOffsets.count(offset)) continue;
        bool ok = true;
        for (int p : ports) {
            int q = p + offset;
            if (q > 65535) return -1;
            if (usedPorts.count(q) || (portFree && !portFree(q))) {
                ok = false;
                break;
            }
        }
        if (ok) return offset;
    }
    return -1;
}

bool tcpPortFree(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (!ok) return false;
    // also something listening on loopback only (e.g. bound to 127.0.0.1)
    return !tcpPortAnswers(port);
}

bool tcpPortAnswers(int port) {
    {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(static_cast<uint16_t>(port));
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(fd);
            if (ok) return true;
        }
    }
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    a.sin6_addr = in6addr_loopback;
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

namespace {

struct ProcInfo {
    pid_t pid, ppid, pgrp;
};

std::vector<ProcInfo> allProcesses() {
    std::vector<ProcInfo> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
        std::string text;
        std::getline(in, text);
        auto rp = text.rfind(')');
        if (rp == std::string::npos) continue;
        std::istringstream rest(text.substr(rp + 2));
        char state;
        long ppid = 0, pgrp = 0;
        rest >> state >> ppid >> pgrp;
        out.push_back({static_cast<pid_t>(std::atol(e->d_name)), static_cast<pid_t>(ppid), static_cast<pid_t>(pgrp)});
    }
    ::closedir(d);
    return out;
}

}  // namespace

std::set<pid_t> processTree(pid_t root) {
    auto procs = allProcesses();
    std::multimap<pid_t, pid_t> children;
    pid_t rootGroup = 0;
    for (auto& p : procs) {
        children.emplace(p.ppid, p.pid);
        if (p.pid == root) rootGroup = p.pgrp;
    }
    std::set<pid_t> out{root};
    std::vector<pid_t> stack{root};
    while (!stack.empty()) {
        pid_t cur = stack.back();
        stack.pop_back();
        auto [b, e] = children.equal_range(cur);
        for (auto it = b; it != e; ++it)
            if (out.insert(it->second).second) stack.push_back(it->second);
    }
    if (rootGroup > 1) {
        for (auto& p : procs)
            if (p.pgrp == rootGroup && out.insert(p.pid).second) {
                // descendants of group members (which may have changed group) too
                std::vector<pid_t> st{p.pid};
                while (!st.empty()) {
                    pid_t cur = st.back();
                    st.pop_back();
                    auto [b, e] = children.equal_range(cur);
                    for (auto it = b; it != e; ++it)
                        if (out.insert(it->second).second) st.push_back(it->second);
                }
            }
    }
    return out;
}

std::vector<int> listeningPorts(const std::set<pid_t>& pids) {
    std::set<unsigned long> inodes;
    for (pid_t pid : pids) {
        std::string dir = "/proc/" + std::to_string(pid) + "/fd";
        DIR* d = ::opendir(dir.c_str());
        if (!d) continue;
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;
            char target[128];
            ssize_t n = ::readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
            if (n <= 0) continue;
            target[n] = 0;
            unsigned long ino = 0;
            if (std::sscanf(target, "socket:[%lu]", &ino) == 1) inodes.insert(ino);
        }
        ::closedir(d);
    }
    std::set<int> ports;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
            std::istringstream ls(line);
            std::string sl, local, remote, st, txrx, trtm, retr, uid, timeout;
            unsigned long inode = 0;
            ls >> sl >> local >> remote >> st >> txrx >> trtm >> retr >> uid >> timeout >> inode;
            if (st != "0A" || !inodes.count(inode)) continue;
            auto colon = local.rfind(':');
            if (colon == std::string::npos) continue;
            ports.insert(static_cast<int>(std::stoul(local.substr(colon + 1), nullptr, 16)));
        }
    }
    return {ports.begin(), ports.end()};
}

std::map<std::string, std::string> detectEnvMapping(const fs::path& root, const std::vector<int>& ports) {
    std::map<std::string, std::string> out;
    if (ports.empty()) return out;
    std::vector<fs::path> files;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        auto name = it->path().filename().string();
        if (it->is_directory(ec)) {
            if (name == "node_modules" || name == ".git" || name == ".atelier" || it.depth() >= 3) it.disable_recursion_pending();
            continue;
        }
        if (name.rfind(".env", 0) == 0 && it->is_regular_file(ec) && it->file_size(ec) < 1024 * 1024) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
        std::ifstream in(f);
        std::string line;
        while (std::getline(in, line)) {
            auto b = line.find_first_not_of(" \t");
            if (b == std::string::npos || line[b] == '#') continue;
            line = line.substr(b);
            if (line.rfind("export ", 0) == 0) line = line.substr(7);
            auto eq = line.find('=');
            if (eq == std::string::npos) continue;
            std::string key = line.substr(0, eq);
            while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
            bool validKey = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
            for (char c : key)
                if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') validKey = false;
            if (!validKey) continue;
            std::string value = line.substr(eq + 1);
            while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
            if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
                value = value.substr(1, value.size() - 2);
            // replace whole-number occurrences of known ports
            std::string tmpl;
            bool hit = false;
            size_t i = 0;
            while (i < value.size()) {
                if (std::isdigit(static_cast<unsigned char>(value[i])) &&
                    (i == 0 || !std::isdigit(static_cast<unsigned char>(value[i - 1])))) {
                    size_t j = i;
                    while (j < value.size() && std::isdigit(static_cast<unsigned char>(value[j]))) ++j;
                    std::string num = value.substr(i, j - i);
                    bool known = false;
                    if (num.size() <= 5)
                        for (int p : ports)
                            if (std::to_string(p) == num) known = true;
                    tmpl += known ? "${" + num + "}" : num;
                    hit = hit || known;
                    i = j;
                    continue;
                }
                tmpl.push_back(value[i++]);
            }
            if (hit && !out.count(key)) out[key] = tmpl;
        }
    }
    return out;
}

}  // namespace atelier::devservers
