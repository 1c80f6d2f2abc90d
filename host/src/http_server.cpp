#include "http_server.hpp"

#include <Poco/Base64Encoder.h>
#include <Poco/DeflatingStream.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Delegate.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/SHA1Engine.h>
#include <Poco/ThreadPool.h>
#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "host.hpp"

namespace atelier::host {

namespace {

std::atomic<uint64_t> requestCounter{0};
const std::string requestIdPrefix = randomHex(6);

std::string newRequestId() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s-%06llx", requestIdPrefix.c_str(),
                  static_cast<unsigned long long>(requestCounter.fetch_add(1) + 1));
    return buf;
}

bool validClientRequestId(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    for (unsigned char c : id)
        if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
    return true;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

const std::string* header(const atelier_request& r, const char* name) {
    for (auto& [k, v] : r.headers)
        if (k == name) return &v;
    return nullptr;
}

class RequestHandler : public Poco::Net::HTTPRequestHandler {
public:
    RequestHandler(Host& host, int flavor) : host_(host), listenerFlavor_(flavor) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        auto started = std::chrono::steady_clock::now();
        atelier_request req;
        atelier_response res;
        try {
            handle(request, response, req, res);
        } catch (const std::exception& e) {
            host_.log().log(Logger::Error, "http", std::string("request failed: ") + e.what());
            if (!response.sent()) {
                res = atelier_response{};
                res.flavor = req.flavor;
                setErrorResponse(res, 500, "INTERNAL_ERROR", "Internal error");
                send(request, response, req, res);
            }
        }
        finish(req, res, started);
    }

private:
    void fail(atelier_response& res, int status, const char* code, const std::string& message,
              const std::string& detailsJson = {}) {
        setErrorResponse(res, status, code, message, detailsJson);
    }

    void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response, atelier_request& req,
                atelier_response& res) {
        const auto& cfg = host_.config();
        req.method = request.getMethod();
        const std::string& uri = request.getURI();
        auto q = uri.find('?');
        req.path = uri.substr(0, q);
        if (q != std::string::npos) req.query = uri.substr(q + 1);
        auto hash = req.query.find('#');
        if (hash != std::string::npos) req.query.resize(hash);
        req.queryParams = route::parseQuery(req.query);
        req.headers.reserve(request.size());
        for (const auto& [k, v] : request) req.headers.emplace_back(lower(k), v);
        const std::string* clientId = header(req, "x-request-id");
        req.requestId = clientId && validClientRequestId(*clientId) ? *clientId : newRequestId();
        // The flavor: the listener's, unless the client names another one.
        req.flavor = listenerFlavor_;
        const std::string* flavorHeader = header(req, "x-atelier-flavor");
        int named = flavorHeader ? flavorFromName(*flavorHeader) : -1;
        if (named >= 0) req.flavor = named;
        res.flavor = req.flavor;

        // DNS-rebinding protection: only loopback names may address us.
        const std::string* hostHeader = header(req, "host");
        if (!hostHeader || !hostHeaderAllowed(*hostHeader)) {
            fail(res, 403, "FORBIDDEN_HOST", "Host header not allowed; use localhost, 127.0.0.1 or [::1]");
            return send(request, response, req, res);
        }
        const std::string* origin = header(req, "origin");
        if (origin && !originAllowed(cfg, *origin)) {
            fail(res, 403, "FORBIDDEN_ORIGIN", "Origin not allowed: " + origin->substr(0, 100));
            return send(request, response, req, res);
        }
        if (flavorHeader && named < 0) {
            fail(res, 400, "UNKNOWN_FLAVOR", "Unknown API flavor: " + flavorHeader->substr(0, 50),
                 errorDetailsJson({{"X-Atelier-Flavor", "must be one of " + flavorNameList()}}));
            return send(request, response, req, res);
        }
        if (req.method == "OPTIONS") {
            res.status = 204;
            res.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
            res.headers.emplace_back(
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization, X-Atelier-Project, X-Atelier-Flavor, X-Request-Id, Last-Event-ID");
            res.headers.emplace_back("Access-Control-Max-Age", "600");
            return send(request, response, req, res);
        }

        if (cfg.authEnabled && req.path != "/api/health") {
            auto payload = makeObject();
            const std::string* auth = header(req, "authorization");
            std::string token;
            if (auth && auth->rfind("Bearer ", 0) == 0) token = auth->substr(7);
            if (token.empty()) {
                for (auto& [k, v] : req.queryParams)
                    if (k == "token") token = v;
            }
            payload->set("token", token);
            payload->set("path", req.path);
            payload->set("method", req.method);
            payload->set("ok", false);
            auto d = host_.hooks().run("auth.authenticate", atelier::toJson(payload));
            auto out = parseObject(d.payload);
            bool ok = !d.vetoed && out && out->optValue<bool>("ok", false);
            if (!ok) {
                if (isUpgrade(req)) {
                    // Boards-product clients expect the socket to open and close with 4001.
                    return upgradeAndClose(request, response, req, res, 4001, "unauthorized");
                }
                fail(res, 401, "UNAUTHORIZED", "Authentication required");
                return send(request, response, req, res);
            }
            if (out->has("userId")) req.headers.emplace_back("x-atelier-user", out->getValue<std::string>("userId"));
        }

        if (isUpgrade(req)) return upgrade(request, response, req, res);

        // Body, bounded.
        if (request.hasContentLength() && request.getContentLength64() > static_cast<Poco::Int64>(cfg.maxBodyBytes)) {
            fail(res, 413, "PAYLOAD_TOO_LARGE", "Request body exceeds " + std::to_string(cfg.maxBodyBytes) + " bytes");
            response.setKeepAlive(false);
            drain(request);
            return send(request, response, req, res);
        }
        if (request.hasContentLength() || request.getChunkedTransferEncoding()) {
            std::istream& in = request.stream();
            if (request.hasContentLength()) req.body.reserve(static_cast<size_t>(request.getContentLength64()));
            char buf[16384];
            while (in) {
                in.read(buf, sizeof buf);
                auto n = in.gcount();
                if (n <= 0) break;
                req.body.append(buf, static_cast<size_t>(n));
                if (req.body.size() > cfg.maxBodyBytes) {
                    fail(res, 413, "PAYLOAD_TOO_LARGE", "Request body exceeds " + std::to_string(cfg.maxBodyBytes) + " bytes");
                    response.setKeepAlive(false);
                    req.body.clear();
                    drain(request);
                    return send(request, response, req, res);
                }
            }
        }
        const std::string* ctype = header(req, "content-type");
        // JSON-RPC (MCP's /mcp) answers a body that does not parse with its own parse error (-32700).
        bool jsonRpc = req.path == "/mcp";
        if (!jsonRpc && !req.body.empty() && ctype && ctype->find("json") != std::string::npos &&
            req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
            try {
                Poco::JSON::Parser().parse(req.body);
            } catch (...) {
                fail(res, 400, "INVALID_JSON", "Request body is not valid JSON");
                return send(request, response, req, res);
            }
        }

        host_.dispatch(req, res);
        if (res.stream) return startStream(request, response, req, res);
        send(request, response, req, res);
    }

    // Reads and discards a moderately oversized body so the client can read our 413 instead of
    // a connection reset; a body declared larger than that is not worth the bandwidth.
    static void drain(Poco::Net::HTTPServerRequest& request) {
        constexpr Poco::Int64 kMaxDrain = 64LL * 1024 * 1024;
        if (request.hasContentLength() && request.getContentLength64() > kMaxDrain) return;
        std::istream& in = request.stream();
        char buf[65536];
        Poco::Int64 total = 0;
        while (in && total < kMaxDrain) {
            in.read(buf, sizeof buf);
            if (in.gcount() <= 0) break;
            total += in.gcount();
        }
    }

    static bool isUpgrade(const atelier_request& req) {
        const std::string* up = header(req, "upgrade");
        return up && lower(*up) == "websocket";
    }

    bool handshake(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response, atelier_request& req,
                   atelier_response& res) {
        const std::string* key = header(req, "sec-websocket-key");
        const std::string* version = header(req, "sec-websocket-version");
        if (req.method != "GET" || !key || key->empty() || !version || *version != "13") {
            fail(res, 400, "BAD_WEBSOCKET_HANDSHAKE", "Invalid WebSocket handshake");
            send(request, response, req, res);
            return false;
        }
        Poco::SHA1Engine sha1;
        sha1.update(*key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
        const auto& digest = sha1.digest();
        std::ostringstream accept;
        {
            Poco::Base64Encoder enc(accept);
            enc.write(reinterpret_cast<const char*>(digest.data()), static_cast<std::streamsize>(digest.size()));
            enc.close();
        }
        response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_SWITCHING_PROTOCOLS);
        // setKeepAlive writes the Connection header, so it must come before "Connection: Upgrade".
        response.setKeepAlive(false);
        response.set("Upgrade", "websocket");
        response.set("Connection", "Upgrade");
        response.set("Sec-WebSocket-Accept", accept.str());
        response.set("X-Request-Id", req.requestId);
        response.setContentLength(Poco::Net::HTTPMessage::UNKNOWN_CONTENT_LENGTH);
        response.send().flush();
        res.status = 101;
        return true;
    }

    void upgradeAndClose(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                         atelier_request& req, atelier_response& res, int code, const std::string& reason) {
        if (!handshake(request, response, req, res)) return;
        auto socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).detachSocket();
        auto conn = host_.reactor().adopt(socket, Connection::Kind::WebSocket, host_.config().streamBufferBytes);
        host_.reactor().watch(conn);
        conn->close(code, reason);
    }

    void upgrade(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response, atelier_request& req,
                 atelier_response& res) {
        auto match = host_.router().findWebSocket(req.path);
        if (!match.route) {
            fail(res, 404, "NOT_FOUND", "No WebSocket endpoint at " + req.path.substr(0, 200));
            return send(request, response, req, res);
        }
        if (!handshake(request, response, req, res)) return;
        req.params = match.params;
        auto socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).detachSocket();
        auto conn = host_.reactor().adopt(socket, Connection::Kind::WebSocket, host_.config().streamBufferBytes);
        auto route = match.route;
        auto* ws = new atelier_websocket();  // the host's reference, dropped after on_close
        ws->conn = conn;
        int closeCode = 0;
        if (route->callbacks.on_open) {
            InflightGuard guard(route->owner.get());
            closeCode = route->callbacks.on_open(route->userData, ws, &req);
        }
        conn->onMessage = [route, ws](std::string_view data, bool binary) {
            if (!route->callbacks.on_message) return;
            InflightGuard guard(route->owner.get());
            route->callbacks.on_message(route->userData, ws, data.data(), data.size(), binary ? 1 : 0);
        };
        conn->onClosed = [route, ws](int code) {
            if (route->callbacks.on_close) {
                InflightGuard guard(route->owner.get());
                route->callbacks.on_close(route->userData, ws, code);
            }
            Host::releaseWebSocket(ws);
        };
        host_.reactor().watch(conn);
        if (closeCode != 0) conn->close(closeCode, closeCode == 1008 ? "policy violation" : "closed by server");
    }

    void startStream(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                     atelier_request& req, atelier_response& res) {
        response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(res.statusSet ? res.status : 200));
        response.setContentType(res.streamContentType);
        response.set("Cache-Control", "no-cache");
        response.set("X-Accel-Buffering", "no");
        response.set("X-Request-Id", req.requestId);
        addCors(req, response);
        for (auto& [k, v] : res.headers)
            if (Poco::icompare(k, "content-type") != 0) response.set(k, v);
        response.setKeepAlive(false);
        response.setContentLength(Poco::Net::HTTPMessage::UNKNOWN_CONTENT_LENGTH);
        response.setChunkedTransferEncoding(false);
        response.send().flush();
        auto socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).detachSocket();
        auto conn = host_.reactor().adopt(socket, Connection::Kind::Stream, host_.config().streamBufferBytes);
        host_.attachStream(res.stream, conn);
        host_.reactor().watch(conn);
        res.status = res.statusSet ? res.status : 200;
    }

    void addCors(const atelier_request& req, Poco::Net::HTTPServerResponse& response) {
        const std::string* origin = header(req, "origin");
        if (origin && originAllowed(host_.config(), *origin)) {
            response.set("Access-Control-Allow-Origin", *origin);
            response.set("Vary", "Origin");
            response.set("Access-Control-Expose-Headers", "X-Request-Id, Content-Disposition");
        }
    }

    void send(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response, const atelier_request& req,
              atelier_response& res) {
        if (response.sent()) return;
        response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(res.status));
        response.set("X-Request-Id", req.requestId);
        addCors(req, response);
        bool hasType = false;
        for (auto& [k, v] : res.headers) {
            if (Poco::icompare(k, "content-type") == 0) hasType = true;
            response.set(k, v);
        }
        if (res.status == 204 || res.status == 304) {
            response.setContentLength(0);
            response.send();
            return;
        }
        if (!hasType && !res.body.empty()) {
            char first = res.body[res.body.find_first_not_of(" \t\r\n") == std::string::npos
                                      ? 0
                                      : res.body.find_first_not_of(" \t\r\n")];
            response.setContentType(first == '{' || first == '[' ? "application/json" : "text/plain; charset=utf-8");
        }
        bool head = req.method == "HEAD";
        const std::string* accept = header(req, "accept-encoding");
        if (!head && res.body.size() >= 8192 && accept && accept->find("gzip") != std::string::npos &&
            !response.has("Content-Encoding")) {
            std::ostringstream gz;
            {
                Poco::DeflatingOutputStream deflater(gz, Poco::DeflatingStreamBuf::STREAM_GZIP, 1);
                deflater.write(res.body.data(), static_cast<std::streamsize>(res.body.size()));
                deflater.close();
            }
            std::string compressed = gz.str();
            response.set("Content-Encoding", "gzip");
            response.set("Vary", response.has("Vary") ? response.get("Vary") + ", Accept-Encoding" : "Accept-Encoding");
            response.sendBuffer(compressed.data(), compressed.size());
            return;
        }
        if (head) {
            response.setContentLength(static_cast<std::streamsize>(res.body.size()));
            response.send();
            return;
        }
        response.sendBuffer(res.body.data(), res.body.size());
        (void)request;
    }

    void finish(const atelier_request& req, const atelier_response& res, std::chrono::steady_clock::time_point started) {
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        if (host_.config().accessLog) {
            char buf[64];
            std::snprintf(buf, sizeof buf, " %d %.2fms ", res.status, ms);
            host_.log().access(nowIso() + " " + req.method + " " + req.path + buf + req.requestId);
        }
        host_.traceRequest(req, res, ms);
    }

    Host& host_;
    int listenerFlavor_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    HandlerFactory(Host& host, int flavor) : host_(host), flavor_(flavor) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new RequestHandler(host_, flavor_);
    }

private:
    Host& host_;
    int flavor_;
};

// Poco's HTTPServerSession waits for the next keep-alive request with Socket::poll, which
// creates, fills and closes an epoll instance each time: four system calls per request where
// one poll(2) does. The connection loop below is Poco's HTTPServerConnection::run with that
// wait replaced; everything else (request/response objects, errors, stop) is the same.
class KeepAliveSession : public Poco::Net::HTTPServerSession {
public:
    KeepAliveSession(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params)
        : HTTPServerSession(socket, params), params_(params) {}

    bool moreRequests() {
        if (first_) {
            first_ = false;
            return hasMoreRequests();  // once per connection; it also starts the keep-alive count
        }
        if (!canKeepAlive() || !getKeepAlive()) return false;
        if (!socket().impl()->initialized()) return false;
        return buffered() > 0 || readable(params_->getKeepAliveTimeout());
    }

private:
    bool readable(const Poco::Timespan& timeout) {
        pollfd p{socket().impl()->sockfd(), POLLIN, 0};
        int ms = static_cast<int>(timeout.totalMilliseconds());
        while (true) {
            int n = ::poll(&p, 1, ms);
            if (n >= 0) return n > 0;
            if (errno != EINTR) return false;
        }
    }
    Poco::Net::HTTPServerParams::Ptr params_;
    bool first_ = true;
};

}  // namespace

// Poco's factory keeps its own stop event to itself; ours is told when the server stops.
struct ConnectionStop {
    Poco::BasicEvent<const bool> stopped;
};

namespace {

class KeepAliveConnection : public Poco::Net::TCPServerConnection {
public:
    KeepAliveConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                        Poco::Net::HTTPRequestHandlerFactory::Ptr factory, std::shared_ptr<ConnectionStop> stop)
        : TCPServerConnection(socket), params_(params), factory_(factory), stop_(std::move(stop)) {
        stop_->stopped += Poco::delegate(this, &KeepAliveConnection::onServerStopped);
    }
    ~KeepAliveConnection() override {
        try {
            stop_->stopped -= Poco::delegate(this, &KeepAliveConnection::onServerStopped);
        } catch (...) {
        }
    }

    void run() override {
        using Poco::Net::HTTPResponse;
        std::string server = params_->getSoftwareVersion();
        KeepAliveSession session(socket(), params_);
        while (!stopped_ && session.moreRequests()) {
            try {
                Poco::FastMutex::ScopedLock lock(mutex_);
                if (stopped_) break;
                Poco::Net::HTTPServerResponseImpl response(session);
                Poco::Net::HTTPServerRequestImpl request(response, session, params_);
                response.setDate(Poco::Timestamp());
                response.setVersion(request.getVersion());
                response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() && session.canKeepAlive());
                if (!server.empty()) response.set("Server", server);
                try {
                    std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(factory_->createRequestHandler(request));
                    if (handler) {
                        if (request.getExpectContinue() && response.getStatus() == HTTPResponse::HTTP_OK)
                            response.sendContinue();
                        handler->handleRequest(request, response);
                        session.setKeepAlive(params_->getKeepAlive() && response.getKeepAlive() && session.canKeepAlive());
                    } else {
                        sendError(session, HTTPResponse::HTTP_NOT_IMPLEMENTED);
                    }
                } catch (Poco::Exception&) {
                    if (!response.sent()) {
                        try {
                            sendError(session, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
                        } catch (...) {
                        }
                    }
                    throw;
                }
            } catch (Poco::Net::NoMessageException&) {
                break;
            } catch (Poco::Net::MessageException&) {
                sendError(session, HTTPResponse::HTTP_BAD_REQUEST);
            } catch (Poco::Exception&) {
                if (session.networkException()) session.networkException()->rethrow();
                throw;
            }
        }
    }

private:
    static void sendError(Poco::Net::HTTPServerSession& session, Poco::Net::HTTPResponse::HTTPStatus status) {
        Poco::Net::HTTPServerResponseImpl response(session);
        response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
        response.setStatusAndReason(status);
        response.setKeepAlive(false);
        response.send();
        session.setKeepAlive(false);
    }
    // Stop: idle keep-alive connections close at once; one busy with a request is shut down
    // when it finishes (the lock waits for it) unless the stop aborts current requests.
    void onServerStopped(const bool& abortCurrent) {
        stopped_ = true;
        if (abortCurrent) {
            try {
                socket().shutdown();
            } catch (...) {
            }
        } else {
            Poco::FastMutex::ScopedLock lock(mutex_);
            try {
                socket().shutdown();
            } catch (...) {
            }
        }
    }

    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
    std::shared_ptr<ConnectionStop> stop_;
    std::atomic<bool> stopped_{false};
    Poco::FastMutex mutex_;
};

class KeepAliveConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
public:
    KeepAliveConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                               std::shared_ptr<ConnectionStop> stop)
        : params_(params), factory_(factory), stop_(std::move(stop)) {}
    Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
        return new KeepAliveConnection(socket, params_, factory_, stop_);
    }

private:
    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
    std::shared_ptr<ConnectionStop> stop_;
};

}  // namespace

HttpServer::HttpServer(Host& host) : host_(host) {}
HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
    const auto& cfg = host_.config();
    std::vector<Listener> wanted{Listener{cfg.host, cfg.port, ATELIER_FLAVOR_ATELIER}};
    wanted.insert(wanted.end(), cfg.listeners.begin(), cfg.listeners.end());
    // Bind every address before serving any, so a busy port fails the start as a whole.
    std::vector<Poco::Net::ServerSocket> sockets;
    for (const auto& l : wanted) {
        Poco::Net::ServerSocket socket;
        try {
            Poco::Net::SocketAddress addr(l.host, static_cast<Poco::UInt16>(l.port));
            socket.bind(addr, /*reuseAddress=*/true, /*reusePort=*/false);
            socket.listen(256);
        } catch (const Poco::Exception& e) {
            throw std::runtime_error(
                "cannot listen on " + l.host + ":" + std::to_string(l.port) +
                (sockets.empty() ? "" : " (" + std::string(flavorName(l.flavor)) + " listener)") + ": " +
                e.displayText() +
                (e.displayText().find("in use") != std::string::npos
                     ? (sockets.empty() ? " (another process is using the port; choose one with --port)"
                                        : " (another process is using the port; change `listeners`)")
                     : ""));
        }
        listeners_.push_back(Listener{l.host, socket.address().port(), l.flavor});
        sockets.push_back(socket);
    }
    static Poco::ThreadPool pool(2, cfg.workerThreads + 8, 60);
    stop_ = std::make_shared<ConnectionStop>();
    for (size_t i = 0; i < sockets.size(); ++i) {
        auto* params = new Poco::Net::HTTPServerParams();
        params->setMaxThreads(cfg.workerThreads);
        params->setMaxQueued(cfg.maxQueued);
        params->setKeepAlive(true);
        params->setMaxKeepAliveRequests(0);
        params->setKeepAliveTimeout(Poco::Timespan(15, 0));
        params->setTimeout(Poco::Timespan(60, 0));
        params->setServerName("atelier");
        auto factory = new KeepAliveConnectionFactory(params, new HandlerFactory(host_, listeners_[i].flavor), stop_);
        servers_.push_back(std::make_unique<Poco::Net::TCPServer>(factory, pool, sockets[i], params));
    }
    for (auto& server : servers_) server->start();
}

void HttpServer::stop() {
    if (servers_.empty()) return;
    // Stop accepting; idle keep-alive connections close at once, requests in flight finish.
    // stopAll(false) waits for them, so it runs on a helper thread and we bound the wait.
    auto done = std::make_shared<std::atomic<bool>>(false);
    // As Poco's HTTPServer::stopAll: stop accepting, then tell every connection.
    auto stopAll = [this](bool abortCurrent) {
        for (auto& server : servers_) server->stop();
        stop_->stopped(this, abortCurrent);
    };
    std::thread graceful([stopAll, done] {
        stopAll(false);
        *done = true;
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(host_.config().shutdownGraceMs);
    while (!*done && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!*done) {
        host_.log().log(Logger::Warn, "http", "requests still running after the grace period; aborting them");
        stopAll(true);
    }
    graceful.join();
    servers_.clear();
}

}  // namespace atelier::host
