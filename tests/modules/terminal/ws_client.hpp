// A small RFC 6455 client over a plain socket for the terminal integration tests and the
// benchmark. Poco::Net::WebSocket refuses the host's handshake today (the host answers
// "Connection: Close" instead of "Connection: Upgrade"; see the report), and a raw client
// also keeps the benchmark's client cost identical for Atelier and the Node baseline.
#pragma once

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace atelier::terminal::testutil {

class RawWs {
public:
    enum Op { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };
    struct Frame {
        int op = 0;
        std::string data;
        int closeCode() const {
            return data.size() >= 2 ? (static_cast<unsigned char>(data[0]) << 8) | static_cast<unsigned char>(data[1]) : 0;
        }
        std::string closeReason() const { return data.size() > 2 ? data.substr(2) : std::string(); }
    };

    RawWs(int port, const std::string& path, const std::string& origin = {}, int timeoutSec = 10) {
        sock_.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
        sock_.setNoDelay(true);
        sock_.setReceiveTimeout(Poco::Timespan(timeoutSec, 0));
        std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        if (!origin.empty()) req += "Origin: " + origin + "\r\n";
        req += "\r\n";
        sendAll(req.data(), req.size());
        size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos) fill();
        std::string head = buf_.substr(0, end);
        buf_.erase(0, end + 4);
        if (head.find(" 101 ") == std::string::npos)
            throw std::runtime_error("WebSocket handshake refused: " + head.substr(0, head.find("\r\n")));
    }
    ~RawWs() {
        try {
            sock_.close();
        } catch (...) {
        }
    }
    RawWs(const RawWs&) = delete;
    RawWs& operator=(const RawWs&) = delete;

    void setTimeout(int seconds) { sock_.setReceiveTimeout(Poco::Timespan(seconds, 0)); }

    // Next data or close frame (fragments joined, pings answered).
    Frame next() {
        Frame out;
        bool first = true;
        while (true) {
            need(2);
            auto b0 = static_cast<unsigned char>(buf_[pos_]);
            auto b1 = static_cast<unsigned char>(buf_[pos_ + 1]);
            bool fin = b0 & 0x80;
            int op = b0 & 0x0F;
            bool masked = b1 & 0x80;
            uint64_t len = b1 & 0x7F;
            size_t hdr = 2;
            if (len == 126) {
                need(4);
                len = (static_cast<unsigned char>(buf_[pos_ + 2]) << 8) | static_cast<unsigned char>(buf_[pos_ + 3]);
                hdr = 4;
            } else if (len == 127) {
                need(10);
                len = 0;
                for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(buf_[pos_ + 2 + static_cast<size_t>(i)]);
                hdr = 10;
            }
            size_t maskAt = hdr;
            if (masked) hdr += 4;
            need(hdr + len);
            std::string payload = buf_.substr(pos_ + hdr, static_cast<size_t>(len));
            if (masked)
                for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ buf_[pos_ + maskAt + (i % 4)]);
            pos_ += hdr + static_cast<size_t>(len);
            if (pos_ > 1 << 20) {
                buf_.erase(0, pos_);
                pos_ = 0;
            }
            if (op == Ping) {
                send(Pong, payload);
                continue;
            }
            if (op == Pong) continue;
            if (first) {
                out.op = op;
                first = false;
            }
            out.data += payload;
            if (fin || op == Close) return out;
        }
    }
    void send(int op, std::string_view data) {
        std::string f;
        f.push_back(static_cast<char>(0x80 | op));
        if (data.size() < 126) {
            f.push_back(static_cast<char>(0x80 | data.size()));
        } else if (data.size() < 65536) {
            f.push_back(static_cast<char>(0x80 | 126));
            f.push_back(static_cast<char>((data.size() >> 8) & 0xFF));
            f.push_back(static_cast<char>(data.size() & 0xFF));
        } else {
            f.push_back(static_cast<char>(0x80 | 127));
            for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((static_cast<uint64_t>(data.size()) >> (8 * i)) & 0xFF));
        }
        const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
        for (unsigned char m : mask) f.push_back(static_cast<char>(m));
        size_t start = f.size();
        f.append(data);
        for (size_t i = start; i < f.size(); ++i) f[i] = static_cast<char>(f[i] ^ mask[(i - start) % 4]);
        sendAll(f.data(), f.size());
    }
    void text(std::string_view s) { send(Text, s); }
    void binary(std::string_view s) { send(Binary, s); }
    void close(int code = 1000) {
        std::string p{static_cast<char>((code >> 8) & 0xFF), static_cast<char>(code & 0xFF)};
        try {
            send(Close, p);
        } catch (...) {
        }
    }

private:
    void sendAll(const char* p, size_t n) {
        while (n > 0) {
            int k = sock_.sendBytes(p, static_cast<int>(n));
            if (k <= 0) throw std::runtime_error("WebSocket send failed");
            p += k;
            n -= static_cast<size_t>(k);
        }
    }
    void fill() {
        char tmp[65536];
        int n = sock_.receiveBytes(tmp, sizeof tmp);
        if (n <= 0) throw std::runtime_error("WebSocket connection closed");
        buf_.append(tmp, static_cast<size_t>(n));
    }
    void need(size_t n) {
        while (buf_.size() - pos_ < n) fill();
    }

    Poco::Net::StreamSocket sock_;
    std::string buf_;
    size_t pos_ = 0;
};

}  // namespace atelier::terminal::testutil
