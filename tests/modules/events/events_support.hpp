// Shared helpers for the host event-stream integration tests (events_*_it.cpp).
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <fstream>
#include <regex>

#include "test_server.hpp"

namespace atelier::test::events {

inline Poco::JSON::Object::Ptr parse(const std::string& text) {
    try {
        return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
    } catch (...) {
        return nullptr;
    }
}

// A server started with an extra JSON configuration file.
inline TestServer::Options withConfig(const std::string& json) {
    std::string dir = makeTempDir("atelier-events-cfg-");
    std::string path = dir + "/config.json";
    std::ofstream(path) << json;
    TestServer::Options o;
    o.extraArgs = {"--config", path};
    return o;
}

inline std::string activityBody(const std::string& title, const std::string& category = "agent",
                                const std::string& extra = "") {
    return "{\"category\":\"" + category + "\",\"type\":\"test\",\"title\":\"" + title + "\"" + extra + "}";
}

// A raw SSE client with an optional small receive buffer (set before connecting) and a
// parser that tolerates a connection cut mid-message.
class RawSse {
public:
    RawSse(int port, const std::string& path, const std::string& lastEventId = {}, int rcvbuf = 0) {
        if (rcvbuf > 0) {
            sock_ = Poco::Net::StreamSocket(Poco::Net::SocketAddress::IPv4);
            int v = rcvbuf;
            ::setsockopt(sock_.impl()->sockfd(), SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
        }
        sock_.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
        sock_.setReceiveTimeout(Poco::Timespan(10, 0));
        std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
        if (!lastEventId.empty()) req += "Last-Event-ID: " + lastEventId + "\r\n";
        req += "\r\n";
        sock_.sendBytes(req.data(), static_cast<int>(req.size()));
    }
    struct Message {
        std::string id, data;
        bool comment = false;
    };
    // Next complete message, or nullopt when the server closed the connection.
    std::optional<Message> next() {
        while (true) {
            if (!headDone_) {
                auto end = buf_.find("\r\n\r\n");
                if (end != std::string::npos) {
                    head_ = buf_.substr(0, end);
                    buf_.erase(0, end + 4);
                    headDone_ = true;
                    continue;
                }
            } else {
                auto end = buf_.find("\n\n");
                if (end != std::string::npos) {
                    std::string block = buf_.substr(0, end);
                    buf_.erase(0, end + 2);
                    Message m;
                    std::istringstream in(block);
                    std::string line;
                    while (std::getline(in, line)) {
                        if (line.rfind(":", 0) == 0) m.comment = true;
                        else if (line.rfind("id: ", 0) == 0) m.id = line.substr(4);
                        else if (line.rfind("data: ", 0) == 0) m.data += line.substr(6);
                    }
                    return m;
                }
            }
            if (eof_) return std::nullopt;
            char tmp[65536];
            int n = 0;
            try {
                n = sock_.receiveBytes(tmp, sizeof tmp);
            } catch (const Poco::TimeoutException&) {
                throw;
            } catch (...) {
                n = 0;  // reset by peer
            }
            if (n <= 0) {
                eof_ = true;
                continue;
            }
            buf_.append(tmp, static_cast<size_t>(n));
        }
    }
    // Next message that is not a comment (throws on close).
    Message nextData() {
        while (true) {
            auto m = next();
            if (!m) throw std::runtime_error("SSE connection closed");
            if (!m->comment || !m->data.empty()) return *m;
        }
    }
    const std::string& head() {
        while (!headDone_) {
            char tmp[4096];
            int n = sock_.receiveBytes(tmp, sizeof tmp);
            if (n <= 0) throw std::runtime_error("closed before headers");
            buf_.append(tmp, static_cast<size_t>(n));
            auto end = buf_.find("\r\n\r\n");
            if (end != std::string::npos) {
                head_ = buf_.substr(0, end);
                buf_.erase(0, end + 4);
                headDone_ = true;
            }
        }
        return head_;
    }
    Poco::Net::StreamSocket& socket() { return sock_; }

private:
    Poco::Net::StreamSocket sock_;
    std::string buf_, head_;
    bool headDone_ = false, eof_ = false;
};

// A minimal RFC 6455 client over a raw socket (masked client frames), so these tests check
// the hub's protocol independently of the client library's header strictness.
class RawWs {
public:
    struct Refused : std::runtime_error {
        int status;
        explicit Refused(int s) : std::runtime_error("WebSocket refused with HTTP " + std::to_string(s)), status(s) {}
    };
    RawWs(int port, const std::string& path, const std::string& origin = {}) {
        sock_.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
        sock_.setReceiveTimeout(Poco::Timespan(10, 0));
        std::string req = "GET " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        if (!origin.empty()) req += "Origin: " + origin + "\r\n";
        req += "\r\n";
        sock_.sendBytes(req.data(), static_cast<int>(req.size()));
        while (buf_.find("\r\n\r\n") == std::string::npos) fill();
        auto end = buf_.find("\r\n\r\n");
        head_ = buf_.substr(0, end);
        buf_.erase(0, end + 4);
        int status = std::stoi(head_.substr(9, 3));
        if (status != 101) throw Refused(status);
        if (head_.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos) throw std::runtime_error("bad accept key");
    }
    const std::string& head() const { return head_; }
    void send(const std::string& text, int opcode = 1) {
        std::string f;
        f.push_back(static_cast<char>(0x80 | opcode));
        size_t n = text.size();
        if (n < 126) {
            f.push_back(static_cast<char>(0x80 | n));
        } else {
            f.push_back(static_cast<char>(0x80 | 126));
            f.push_back(static_cast<char>((n >> 8) & 0xff));
            f.push_back(static_cast<char>(n & 0xff));
        }
        const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
        f.append(reinterpret_cast<const char*>(mask), 4);
        for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(text[i] ^ mask[i & 3]));
        sock_.sendBytes(f.data(), static_cast<int>(f.size()));
    }
    struct Frame {
        int opcode = 0;
        std::string payload;
        int closeCode() const {
            return payload.size() >= 2 ? (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1])
                                       : 1005;
        }
    };
    Frame receive() {
        while (true) {
            if (buf_.size() >= 2) {
                auto b = [&](size_t i) { return static_cast<unsigned char>(buf_[i]); };
                uint64_t len = b(1) & 0x7f;
                size_t header = 2;
                if (len == 126 && buf_.size() >= 4) {
                    len = (b(2) << 8) | b(3);
                    header = 4;
                } else if (len == 127 && buf_.size() >= 10) {
                    len = 0;
                    for (size_t i = 0; i < 8; ++i) len = (len << 8) | b(2 + i);
                    header = 10;
                } else if (len >= 126) {
                    header = 0;
                }
                if (header && buf_.size() >= header + len) {
                    Frame f;
                    f.opcode = b(0) & 0x0f;
                    f.payload = buf_.substr(header, static_cast<size_t>(len));
                    buf_.erase(0, header + static_cast<size_t>(len));
                    return f;
                }
            }
            fill();
        }
    }
    Poco::JSON::Object::Ptr receiveJson() {
        auto f = receive();
        if (f.opcode == 8) throw std::runtime_error("closed by server with " + std::to_string(f.closeCode()));
        auto o = parse(f.payload);
        if (!o) throw std::runtime_error("not JSON: " + f.payload);
        return o;
    }

private:
    void fill() {
        char tmp[65536];
        int n = sock_.receiveBytes(tmp, sizeof tmp);
        if (n <= 0) throw std::runtime_error("WebSocket connection closed");
        buf_.append(tmp, static_cast<size_t>(n));
    }
    Poco::Net::StreamSocket sock_;
    std::string buf_, head_;
};

// "<bus>:<ops>" → pair; throws when malformed.
inline std::pair<long long, long long> cursorOf(const std::string& id) {
    static const std::regex re(R"(^(\d+):(\d+)$)");
    std::smatch m;
    if (!std::regex_match(id, m, re)) throw std::runtime_error("bad SSE id: " + id);
    return {std::stoll(m[1]), std::stoll(m[2])};
}

}  // namespace atelier::test::events
