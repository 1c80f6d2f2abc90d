#include "reactor.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace atelier::host {

Connection::Connection(Reactor& reactor, Poco::Net::StreamSocket socket, Kind kind, size_t maxBuffered)
    : reactor_(reactor), socket_(std::move(socket)), fd_(socket_.impl()->sockfd()), kind_(kind), maxBuffered_(maxBuffered) {
    socket_.setBlocking(false);
    socket_.setNoDelay(true);
}

Connection::~Connection() {
    try {
        socket_.close();
    } catch (...) {
    }
}

size_t Connection::buffered() const {
    std::lock_guard lock(mutex_);
    return out_.size() - outOffset_;
}

bool Connection::sendSome(std::string_view data, size_t& sent) {
    while (sent < data.size()) {
        ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0 && errno == EINTR) continue;
        return false;
    }
    return true;
}

bool Connection::flushLocked() {
    if (!sendSome(out_, outOffset_)) return false;
    if (outOffset_ == out_.size()) {
        out_.clear();
        outOffset_ = 0;
    } else if (outOffset_ > (1u << 20)) {
        out_.erase(0, outOffset_);
        outOffset_ = 0;
    }
    return true;
}

int Connection::write(std::string_view data) {
    bool fatal = false;
    {
        std::lock_guard lock(mutex_);
        if (closed_.load() || closeAfterFlush_) return ATELIER_ERR_CLOSED;
        if (out_.size() - outOffset_ + data.size() > maxBuffered_) {
            closed_ = true;
            closeCode_ = 1008;
            fatal = true;
            if (kind_ == Kind::WebSocket) {  // a short close frame still goes out, past the limit
                static const char frame[] = "\x88\x11\x03\xf0" "client too slow";
                out_.append(frame, sizeof frame - 1);
            }
        } else if (!wantWrite_ && outOffset_ == out_.size()) {
            // Nothing queued: send straight from the caller's bytes and keep only what the
            // socket did not take (the fan-out's common case, thousands of times per turn).
            size_t sent = 0;
            if (!sendSome(data, sent)) {
                closed_ = true;
                fatal = true;
            } else if (sent < data.size()) {
                out_.assign(data.data() + sent, data.size() - sent);
                outOffset_ = 0;
                wantWrite_ = true;
                reactor_.wantWrite(*this);
            }
        } else {
            out_.append(data.data(), data.size());
            if (!wantWrite_) {
                if (!flushLocked()) {
                    closed_ = true;
                    fatal = true;
                } else if (outOffset_ < out_.size()) {
                    wantWrite_ = true;
                    reactor_.wantWrite(*this);
                }
            }
        }
    }
    if (fatal) {
        reactor_.requestFinish(*this);
        return closeCode_ == 1008 ? ATELIER_ERR_FULL : ATELIER_ERR_CLOSED;
    }
    return ATELIER_OK;
}

std::string encodeWebSocketFrame(int opcode, std::string_view payload) {
    std::string frame;
    frame.reserve(payload.size() + 10);
    frame.push_back(static_cast<char>(0x80 | (opcode & 0x0f)));
    size_t n = payload.size();
    if (n < 126) {
        frame.push_back(static_cast<char>(n));
    } else if (n <= 0xffff) {
        frame.push_back(126);
        frame.push_back(static_cast<char>((n >> 8) & 0xff));
        frame.push_back(static_cast<char>(n & 0xff));
    } else {
        frame.push_back(127);
        for (int i = 7; i >= 0; --i) frame.push_back(static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff));
    }
    frame.append(payload.data(), payload.size());
    return frame;
}

int Connection::sendFrame(int opcode, std::string_view payload) { return write(encodeWebSocketFrame(opcode, payload)); }

void Connection::close(int code, std::string_view reason) {
    if (kind_ == Kind::WebSocket) {
        std::string payload;
        payload.push_back(static_cast<char>((code >> 8) & 0xff));
        payload.push_back(static_cast<char>(code & 0xff));
        payload.append(reason.substr(0, 120));
        sendFrame(8, payload);
    }
    bool finishNow = false;
    {
        std::lock_guard lock(mutex_);
        closeCode_ = code;
        closeAfterFlush_ = true;
        finishNow = outOffset_ >= out_.size() || closed_.load();
        closed_ = true;
    }
    if (finishNow) reactor_.requestFinish(*this);
}

void Connection::handleWritable() {
    bool done = false, fatal = false;
    {
        std::lock_guard lock(mutex_);
        if (!flushLocked()) fatal = true;
        if (outOffset_ >= out_.size()) {
            wantWrite_ = false;
            done = closeAfterFlush_;
            struct epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP;
            ev.data.fd = fd_;
            epoll_ctl(reactor_.loops_[static_cast<size_t>(loop_)]->epfd, EPOLL_CTL_MOD, fd_, &ev);
        }
    }
    if (fatal || done) finish(closeCode_);
}

void Connection::handleReadable() {
    char buf[65536];
    while (true) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            if (kind_ == Kind::WebSocket) in_.append(buf, static_cast<size_t>(n));
            if (in_.size() > maxMessage_ + 16) break;
            continue;
        }
        if (n == 0) {
            if (kind_ == Kind::WebSocket) parseFrames();
            finish(kind_ == Kind::WebSocket ? 1006 : 1000);
            return;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        finish(1006);
        return;
    }
    if (kind_ == Kind::WebSocket) parseFrames();
}

void Connection::parseFrames() {
    size_t pos = 0;
    while (!finished_.load()) {
        size_t avail = in_.size() - pos;
        if (avail < 2) break;
        auto byte = [&](size_t i) { return static_cast<unsigned char>(in_[pos + i]); };
        bool fin = byte(0) & 0x80;
        int opcode = byte(0) & 0x0f;
        bool masked = byte(1) & 0x80;
        uint64_t len = byte(1) & 0x7f;
        size_t header = 2;
        if (len == 126) {
            if (avail < 4) break;
            len = (static_cast<uint64_t>(byte(2)) << 8) | byte(3);
            header = 4;
        } else if (len == 127) {
            if (avail < 10) break;
            len = 0;
            for (int i = 0; i < 8; ++i) len = (len << 8) | byte(2 + static_cast<size_t>(i));
            header = 10;
        }
        if (!masked) {  // clients must mask (RFC 6455 5.1)
            close(1002, "unmasked client frame");
            return;
        }
        if (len > maxMessage_ || fragment_.size() + len > maxMessage_) {
            close(1009, "message too big");
            return;
        }
        if (avail < header + 4 + len) break;
        unsigned char mask[4];
        for (int i = 0; i < 4; ++i) mask[i] = byte(header + static_cast<size_t>(i));
        std::string payload = in_.substr(pos + header + 4, static_cast<size_t>(len));
        for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
        pos += header + 4 + static_cast<size_t>(len);

        switch (opcode) {
            case 0x0:
                fragment_ += payload;
                if (fin) {
                    std::string msg;
                    msg.swap(fragment_);
                    if (onMessage && !closed_.load()) onMessage(msg, fragmentOpcode_ == 2);
                }
                break;
            case 0x1:
            case 0x2:
                if (fin) {
                    if (onMessage && !closed_.load()) onMessage(payload, opcode == 2);
                } else {
                    fragment_ = std::move(payload);
                    fragmentOpcode_ = opcode;
                }
                break;
            case 0x8: {
                int code = payload.size() >= 2
                               ? (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1])
                               : 1005;
                if (!closed_.load()) {
                    close(code == 1005 ? 1000 : code, "");
                }
                {
                    std::lock_guard lock(mutex_);
                    closeCode_ = code;
                }
                in_.clear();
                return;
            }
            case 0x9: sendFrame(0xA, payload); break;
            case 0xA: break;
            default: close(1002, "unknown opcode"); return;
        }
    }
    in_.erase(0, pos);
}

void Connection::finish(int code) {
    if (finished_.exchange(true)) return;
    closed_ = true;
    auto& loop = *reactor_.loops_[static_cast<size_t>(loop_)];
    epoll_ctl(loop.epfd, EPOLL_CTL_DEL, fd_, nullptr);
    try {
        socket_.shutdown();
    } catch (...) {
    }
    auto cb = std::move(onClosed);
    onClosed = nullptr;
    onMessage = nullptr;
    auto self = shared_from_this();
    {
        std::lock_guard lock(loop.mutex);
        loop.conns.erase(fd_);
    }
    if (cb) cb(code);
}

Reactor::Reactor(int threads) {
    if (threads < 1) threads = 1;
    for (int i = 0; i < threads; ++i) {
        auto loop = std::make_unique<Loop>();
        loop->epfd = epoll_create1(EPOLL_CLOEXEC);
        loop->wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        struct epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = loop->wakeFd;
        epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakeFd, &ev);
        loops_.push_back(std::move(loop));
    }
}

Reactor::~Reactor() {
    stop();
    for (auto& l : loops_) {
        ::close(l->epfd);
        ::close(l->wakeFd);
    }
}

void Reactor::start() {
    if (running_.exchange(true)) return;
    for (auto& l : loops_) {
        Loop* lp = l.get();
        lp->thread = std::thread([this, lp] { run(*lp); });
    }
}

void Reactor::stop() {
    if (!running_.exchange(false)) return;
    for (auto& l : loops_) {
        uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(l->wakeFd, &one, sizeof one);
    }
    for (auto& l : loops_)
        if (l->thread.joinable()) l->thread.join();
    // Close what is left, running the close callbacks on this thread.
    for (auto& l : loops_) {
        std::vector<std::shared_ptr<Connection>> rest;
        {
            std::lock_guard lock(l->mutex);
            for (auto& [fd, c] : l->conns) rest.push_back(c);
        }
        for (auto& c : rest) {
            if (c->kind() == Connection::Kind::WebSocket) c->sendFrame(8, std::string("\x03\xe9", 2));  // 1001 going away
            c->finish(1001);
        }
    }
}

std::shared_ptr<Connection> Reactor::adopt(Poco::Net::StreamSocket socket, Connection::Kind kind, size_t maxBuffered) {
    auto c = std::make_shared<Connection>(*this, std::move(socket), kind, maxBuffered);
    size_t idx = next_.fetch_add(1) % loops_.size();
    c->loop_ = static_cast<int>(idx);
    auto& loop = *loops_[idx];
    {
        std::lock_guard lock(loop.mutex);
        loop.conns[c->fd()] = c;
    }
    return c;
}

void Reactor::watch(const std::shared_ptr<Connection>& c) {
    struct epoll_event ev{};
    std::lock_guard lock(c->mutex_);
    ev.events = EPOLLIN | EPOLLRDHUP | (c->wantWrite_ ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    ev.data.fd = c->fd();
    epoll_ctl(loops_[static_cast<size_t>(c->loop_)]->epfd, EPOLL_CTL_ADD, c->fd(), &ev);
}

void Reactor::wantWrite(Connection& c) {
    struct epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
    ev.data.fd = c.fd();
    epoll_ctl(loops_[static_cast<size_t>(c.loop_)]->epfd, EPOLL_CTL_MOD, c.fd(), &ev);
}

void Reactor::requestFinish(Connection& c) {
    auto& loop = *loops_[static_cast<size_t>(c.loop_)];
    {
        std::lock_guard lock(loop.mutex);
        loop.pendingClose.push_back(c.shared_from_this());
    }
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(loop.wakeFd, &one, sizeof one);
}

size_t Reactor::connectionCount() const {
    size_t n = 0;
    for (auto& l : loops_) {
        std::lock_guard lock(l->mutex);
        n += l->conns.size();
    }
    return n;
}

void Reactor::run(Loop& loop) {
    struct epoll_event events[256];
    while (running_.load()) {
        int n = epoll_wait(loop.epfd, events, 256, 1000);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == loop.wakeFd) {
                uint64_t v;
                while (::read(loop.wakeFd, &v, sizeof v) > 0) {
                }
                continue;
            }
            std::shared_ptr<Connection> c;
            {
                std::lock_guard lock(loop.mutex);
                auto it = loop.conns.find(fd);
                if (it != loop.conns.end()) c = it->second;
            }
            if (!c) continue;
            uint32_t ev = events[i].events;
            if (ev & EPOLLOUT) c->handleWritable();
            if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->handleReadable();
        }
        std::vector<std::shared_ptr<Connection>> closing;
        {
            std::lock_guard lock(loop.mutex);
            closing.swap(loop.pendingClose);
        }
        for (auto& c : closing) {
            // Flush what we can (e.g. a close frame) before shutting down.
            {
                std::lock_guard lock(c->mutex_);
                c->flushLocked();
            }
            c->finish(c->closeCode_);
        }
    }
}

}  // namespace atelier::host
