// The reactor serves long-lived connections (SSE streams and WebSockets) detached from the
// HTTP worker pool: a fixed number of epoll threads, whatever the number of clients. Every
// connection has a bounded send buffer; a client that falls too far behind is closed with a
// reason and resumes by id (Last-Event-ID) from the persisted log.
#pragma once

#include <atelier/abi.h>

#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "module_record.hpp"

namespace atelier::host {

class Reactor;

// One unmasked server-to-client WebSocket frame (RFC 6455 5.2), FIN set.
std::string encodeWebSocketFrame(int opcode, std::string_view payload);

class Connection : public std::enable_shared_from_this<Connection> {
public:
    enum class Kind { Stream, WebSocket };
    Connection(Reactor& reactor, Poco::Net::StreamSocket socket, Kind kind, size_t maxBuffered);
    ~Connection();

    Kind kind() const { return kind_; }
    int fd() const { return fd_; }
    // Queue raw bytes (SSE) — returns ATELIER_OK, ATELIER_ERR_CLOSED or ATELIER_ERR_FULL.
    int write(std::string_view data);
    // Queue one WebSocket frame (opcode 1 text, 2 binary, 8 close, 9 ping, 10 pong).
    int sendFrame(int opcode, std::string_view payload);
    // Close: WebSocket sends a close frame first; SSE flushes what is queued then closes.
    void close(int code, std::string_view reason);
    bool closed() const { return closed_.load(); }
    size_t buffered() const;
    // The most this connection buffers before it is closed as too slow.
    size_t capacity() const { return maxBuffered_; }

    // Callbacks, run on the reactor thread.
    std::function<void(std::string_view data, bool binary)> onMessage;
    std::function<void(int code)> onClosed;

private:
    friend class Reactor;
    void handleReadable();
    void handleWritable();
    // Sends data from `sent` on until the socket would block; false on a fatal socket error.
    bool sendSome(std::string_view data, size_t& sent);
    bool flushLocked();  // false on a fatal socket error
    void finish(int code);
    void parseFrames();

    Reactor& reactor_;
    Poco::Net::StreamSocket socket_;
    int fd_;
    Kind kind_;
    size_t maxBuffered_;
    mutable std::mutex mutex_;
    std::string out_;
    size_t outOffset_ = 0;
    bool wantWrite_ = false;
    bool closeAfterFlush_ = false;
    std::atomic<bool> closed_{false};
    std::atomic<bool> finished_{false};
    int closeCode_ = 1000;
    std::string in_;
    std::string fragment_;
    int fragmentOpcode_ = 0;
    size_t maxMessage_ = 16 * 1024 * 1024;
    int loop_ = 0;
};

class Reactor {
public:
    explicit Reactor(int threads);
    ~Reactor();
    void start();
    // Closes every connection (running their onClosed) and joins the threads.
    void stop();

    // Takes over a detached socket; call watch() once its callbacks are set.
    std::shared_ptr<Connection> adopt(Poco::Net::StreamSocket socket, Connection::Kind kind, size_t maxBuffered);
    void watch(const std::shared_ptr<Connection>& c);
    size_t connectionCount() const;
    int threadCount() const { return static_cast<int>(loops_.size()); }

private:
    friend class Connection;
    struct Loop {
        int epfd = -1;
        int wakeFd = -1;
        std::thread thread;
        std::mutex mutex;
        std::unordered_map<int, std::shared_ptr<Connection>> conns;
        std::vector<std::shared_ptr<Connection>> pendingClose;
    };
    void run(Loop& loop);
    void wantWrite(Connection& c);
    void requestFinish(Connection& c);

    std::vector<std::unique_ptr<Loop>> loops_;
    std::atomic<size_t> next_{0};
    std::atomic<bool> running_{false};
};

}  // namespace atelier::host
