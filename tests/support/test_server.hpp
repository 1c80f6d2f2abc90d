// Integration-test support: starts the real `atelier` binary on 127.0.0.1 with an ephemeral
// port and a temporary data directory, and speaks HTTP, SSE and WebSocket to it over real
// sockets. Header-only; link Poco::Net and Poco::JSON.
#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/WebSocket.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef ATELIER_BINARY
#error "define ATELIER_BINARY (path of build/bin/atelier)"
#endif
#ifndef ATELIER_MODULES_DIR
#error "define ATELIER_MODULES_DIR (path of build/lib/atelier/modules)"
#endif

namespace atelier::test {

namespace fs = std::filesystem;

inline std::string makeTempDir(const std::string& prefix = "atelier-test-") {
    std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    return buf.data();
}

// Runs a command (argv, no shell) in `cwd`; returns exit code; output captured into *out.
inline int run(const std::vector<std::string>& argv, const std::string& cwd = {}, std::string* out = nullptr,
               const std::map<std::string, std::string>& env = {}) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
        for (auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(pipefd[1]);
    std::string buf;
    char tmp[4096];
    ssize_t n;
    while ((n = read(pipefd[0], tmp, sizeof tmp)) > 0) buf.append(tmp, static_cast<size_t>(n));
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (out) *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A git repository in a temporary directory with one commit on `main`.
inline std::string makeGitRepo(const std::map<std::string, std::string>& files = {{"README.md", "# test\n"}}) {
    std::string dir = makeTempDir("atelier-repo-");
    std::map<std::string, std::string> env{{"GIT_AUTHOR_NAME", "Test"}, {"GIT_AUTHOR_EMAIL", "test@example.com"},
                                           {"GIT_COMMITTER_NAME", "Test"}, {"GIT_COMMITTER_EMAIL", "test@example.com"}};
    run({"git", "init", "-q", "-b", "main", dir});
    for (auto& [name, content] : files) {
        fs::path p = fs::path(dir) / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << content;
    }
    run({"git", "add", "-A"}, dir, nullptr, env);
    run({"git", "commit", "-q", "-m", "initial"}, dir, nullptr, env);
    return dir;
}

struct HttpResult {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
    Poco::JSON::Object::Ptr json() const {
        try {
            return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
        } catch (...) {
            return nullptr;
        }
    }
    Poco::JSON::Array::Ptr jsonArray() const {
        try {
            return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Array::Ptr>();
        } catch (...) {
            return nullptr;
        }
    }
    std::string header(const std::string& lowerName) const {
        auto it = headers.find(lowerName);
        return it == headers.end() ? std::string() : it->second;
    }
};

// An HTTP request to 127.0.0.1:port (any listener of a test server).
inline HttpResult httpRequest(int port, const std::string& method, const std::string& path,
                              const std::string& body = {}, const std::map<std::string, std::string>& headers = {}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    bool hostSet = false;
    for (auto& [k, v] : headers) {
        req.set(k, v);
        if (Poco::icompare(k, "host") == 0) hostSet = true;
    }
    if (!hostSet) req.setHost("127.0.0.1", static_cast<Poco::UInt16>(port));
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        if (!req.has("Content-Type")) req.setContentType("application/json");
        req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    std::ostream& os = session.sendRequest(req);
    os << body;
    Poco::Net::HTTPResponse res;
    std::istream& is = session.receiveResponse(res);
    HttpResult out;
    out.status = res.getStatus();
    std::stringstream ss;
    ss << is.rdbuf();
    out.body = ss.str();
    for (auto& [k, v] : res) out.headers[Poco::toLower(k)] = v;
    return out;
}

class TestServer {
public:
    struct Options {
        std::vector<std::string> extraArgs;
        std::map<std::string, std::string> env;
        std::string cwd;      // where `atelier serve` starts (default: the data dir)
        std::string dataDir;  // default: a fresh temporary directory
    };

    TestServer() : TestServer(Options{}) {}
    explicit TestServer(Options opts) : opts_(std::move(opts)) { start(); }
    ~TestServer() {
        stop();
        if (ownsDataDir_) {
            std::error_code ec;
            fs::remove_all(dataDir_, ec);
        }
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string& dataDir() const { return dataDir_; }
    std::string logText() const {
        std::ifstream in(dataDir_ + "/test-server.log");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    void start() {
        if (opts_.dataDir.empty()) {
            dataDir_ = makeTempDir();
            ownsDataDir_ = true;
        } else {
            dataDir_ = opts_.dataDir;
        }
        fs::remove(dataDir_ + "/server-port");
        std::vector<std::string> argv{ATELIER_BINARY, "serve", "--port", "0", "--data-dir", dataDir_, "--modules-dir",
                                      ATELIER_MODULES_DIR};
        for (auto& a : opts_.extraArgs) argv.push_back(a);
        std::string logPath = dataDir_ + "/test-server.log";
        pid_ = fork();
        if (pid_ == 0) {
            setpgid(0, 0);
            std::string cwd = opts_.cwd.empty() ? dataDir_ : opts_.cwd;
            if (chdir(cwd.c_str()) != 0) _exit(127);
            for (auto& [k, v] : opts_.env) setenv(k.c_str(), v.c_str(), 1);
            FILE* log = fopen(logPath.c_str(), "a");
            if (log) {
                dup2(fileno(log), 1);
                dup2(fileno(log), 2);
            }
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            execv(args[0], args.data());
            _exit(127);
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            std::ifstream in(dataDir_ + "/server-port");
            int p = 0;
            if (in >> p && p > 0) {
                port_ = p;
                return;
            }
            int status;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("atelier exited during start-up:\n" + logText());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        throw std::runtime_error("atelier did not start:\n" + logText());
    }

    // SIGTERM and wait; returns the exit status (-1 if it had to be killed).
    int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000)) {
        if (pid_ <= 0) return lastExit_;
        kill(pid_, SIGTERM);
        auto deadline = std::chrono::steady_clock::now() + grace;
        int status = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                lastExit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                return lastExit_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        lastExit_ = -1;
        return lastExit_;
    }

    HttpResult request(const std::string& method, const std::string& path, const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {}) const {
        return httpRequest(port_, method, path, body, headers);
    }
    HttpResult get(const std::string& path) const { return request("GET", path); }
    HttpResult post(const std::string& path, const std::string& body = "{}") const { return request("POST", path, body); }
    HttpResult patch(const std::string& path, const std::string& body) const { return request("PATCH", path, body); }
    HttpResult put(const std::string& path, const std::string& body) const { return request("PUT", path, body); }
    HttpResult del(const std::string& path) const { return request("DELETE", path); }

    // Opens a WebSocket; throws Poco::Net::WebSocketException when refused at the handshake.
    std::unique_ptr<Poco::Net::WebSocket> websocket(const std::string& path, const std::string& origin = {}) const {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port_));
        Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
        req.setHost("127.0.0.1", static_cast<Poco::UInt16>(port_));
        if (!origin.empty()) req.set("Origin", origin);
        Poco::Net::HTTPResponse res;
        auto ws = std::make_unique<Poco::Net::WebSocket>(session, req, res);
        ws->setReceiveTimeout(Poco::Timespan(10, 0));
        return ws;
    }

private:
    Options opts_;
    std::string dataDir_;
    bool ownsDataDir_ = false;
    pid_t pid_ = -1;
    int port_ = 0;
    int lastExit_ = 0;
};

// Receives one WebSocket frame as text; returns flags via *flags. Empty on close.
inline std::string wsReceive(Poco::Net::WebSocket& ws, int* flagsOut = nullptr) {
    Poco::Buffer<char> buf(0);
    int flags = 0;
    int n = ws.receiveFrame(buf, flags);
    if (flagsOut) *flagsOut = flags;
    return std::string(buf.begin(), static_cast<size_t>(n > 0 ? n : 0));
}

// A raw SSE client over a plain socket: sends the request, then reads messages.
class SseClient {
public:
    SseClient(int port, const std::string& path, const std::map<std::string, std::string>& headers = {}) {
        sock_.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
        sock_.setReceiveTimeout(Poco::Timespan(10, 0));
        std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
        for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
        req += "\r\n";
        sock_.sendBytes(req.data(), static_cast<int>(req.size()));
        // Read the status line and headers.
        while (buffer_.find("\r\n\r\n") == std::string::npos) fill();
        auto end = buffer_.find("\r\n\r\n");
        head_ = buffer_.substr(0, end);
        buffer_.erase(0, end + 4);
    }
    const std::string& head() const { return head_; }
    int status() const { return std::stoi(head_.substr(9, 3)); }

    struct Message {
        std::string id, event, data;
        bool comment = false;
    };
    // Next message (a comment line counts as a message with comment = true).
    Message next() {
        while (true) {
            auto end = buffer_.find("\n\n");
            if (end != std::string::npos) {
                std::string block = buffer_.substr(0, end);
                buffer_.erase(0, end + 2);
                Message m;
                std::istringstream in(block);
                std::string line;
                while (std::getline(in, line)) {
                    if (!line.empty() && line.back() == '\r') line.pop_back();
                    if (line.rfind(":", 0) == 0) {
                        m.comment = true;
                        continue;
                    }
                    auto colon = line.find(':');
                    std::string field = line.substr(0, colon);
                    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
                    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
                    if (field == "id") m.id = value;
                    else if (field == "event") m.event = value;
                    else if (field == "data") m.data += (m.data.empty() ? "" : "\n") + value;
                }
                return m;
            }
            fill();
        }
    }
    // Next non-comment message.
    Message nextData() {
        while (true) {
            auto m = next();
            if (!m.comment || !m.data.empty()) return m;
        }
    }
    Poco::Net::StreamSocket& socket() { return sock_; }

private:
    void fill() {
        char tmp[8192];
        int n = sock_.receiveBytes(tmp, sizeof tmp);
        if (n <= 0) throw std::runtime_error("SSE connection closed");
        buffer_.append(tmp, static_cast<size_t>(n));
        // Strip chunked-encoding framing if the server used it (it should not for SSE).
    }
    Poco::Net::StreamSocket sock_;
    std::string buffer_, head_;
};

}  // namespace atelier::test
