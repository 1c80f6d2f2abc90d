// The HTTP front: Poco's HTTPServer with keep-alive and a bounded worker pool. Each request
// passes the security checks (Host header, Origin, optional authentication), the body limit,
// and is then dispatched through the router. WebSocket upgrades and streaming responses leave
// the worker pool for the reactor.
#pragma once

#include <memory>
#include <string>

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
    int port() const { return port_; }

private:
    Host& host_;
    std::unique_ptr<Poco::Net::TCPServer> server_;
    std::shared_ptr<ConnectionStop> stop_;
    int port_ = 0;
};

}  // namespace atelier::host
