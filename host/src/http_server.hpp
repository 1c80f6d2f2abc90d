// The HTTP front: Poco's HTTPServer with keep-alive and a bounded worker pool, on the default
// listener (host:port) and every configured flavor listener. Each request
// passes the security checks (Host header, Origin, optional authentication), the body limit,
// and is then dispatched through the router. WebSocket upgrades and streaming responses leave
// the worker pool for the reactor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.hpp"

namespace Poco::Net {
class TCPServer;
}

namespace atelier::host {

class Host;
struct ConnectionStop;

class HttpServer {
public:
    explicit HttpServer(Host& host);
    ~HttpServer();
    // Binds (throws std::runtime_error with a clear message when the port is busy).
    void start();
    // Stops accepting and waits (bounded) for in-flight requests.
    void stop();
    // The default listener's bound port.
    int port() const { return listeners_.empty() ? 0 : listeners_.front().port; }
    // Every listener with its bound port, the default one first.
    const std::vector<Listener>& listeners() const { return listeners_; }

private:
    Host& host_;
    std::vector<std::unique_ptr<Poco::Net::TCPServer>> servers_;
    std::shared_ptr<ConnectionStop> stop_;
    std::vector<Listener> listeners_;
};

}  // namespace atelier::host
