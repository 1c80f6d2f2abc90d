#include "mcp_bridge.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace atelier::host {

namespace {

int readPort(const std::string& dataDir) {
    std::ifstream in(dataDir + "/server-port");
    int port = 0;
    if (in >> port && port > 0 && port < 65536) return port;
    return 0;
}

// A JSON-RPC error for the request on `line`, or "" when it was a notification.
std::string errorFor(const std::string& line, const std::string& message) {
    Poco::Dynamic::Var id;
    try {
        auto o = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
        if (!o->has("id") || !o->has("method")) return {};
        id = o->get("id");
    } catch (...) {
    }
    Poco::JSON::Object::Ptr err = new Poco::JSON::Object;
    err->set("code", -32000);
    err->set("message", message);
    Poco::JSON::Object::Ptr res = new Poco::JSON::Object;
    res->set("jsonrpc", "2.0");
    res->set("id", id);
    res->set("error", err);
    std::ostringstream os;
    Poco::JSON::Stringifier::condense(res, os);
    return os.str();
}

// Writes each message of an answer: one JSON body, or the `data:` events of an SSE body.
void relay(const std::string& contentType, const std::string& body, std::ostream& out) {
    if (contentType.find("text/event-stream") != std::string::npos) {
        std::istringstream is(body);
        std::string line, data;
        while (std::getline(is, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.rfind("data:", 0) == 0)
                data += line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
            else if (line.empty() && !data.empty()) {
                out << data << "\n";
                data.clear();
            }
        }
        if (!data.empty()) out << data << "\n";
    } else if (!body.empty()) {
        out << body << "\n";
    }
    out.flush();
}

}  // namespace

int runMcpBridge(const std::string& dataDir, std::istream& in, std::ostream& out) {
    std::string sessionId;
    int port = 0;
    std::unique_ptr<Poco::Net::HTTPClientSession> http;
    auto post = [&](const std::string& line, std::string* contentType, std::string* body) -> int {
        int current = readPort(dataDir);
        if (current == 0) throw std::runtime_error("Atelier is not running (no server-port in " + dataDir + ")");
        if (!http || current != port) {
            port = current;
            http = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", static_cast<Poco::UInt16>(port));
            http->setKeepAlive(true);
            http->setTimeout(Poco::Timespan(300, 0));
        }
        Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, "/mcp", Poco::Net::HTTPMessage::HTTP_1_1);
        req.setHost("127.0.0.1", static_cast<Poco::UInt16>(port));
        req.setContentType("application/json");
        req.set("Accept", "application/json, text/event-stream");
        if (!sessionId.empty()) req.set("Mcp-Session-Id", sessionId);
        req.setContentLength(static_cast<std::streamsize>(line.size()));
        req.setKeepAlive(true);
        http->sendRequest(req) << line;
        Poco::Net::HTTPResponse res;
        std::istream& rs = http->receiveResponse(res);
        std::ostringstream os;
        os << rs.rdbuf();
        *body = os.str();
        *contentType = res.getContentType();
        if (res.has("Mcp-Session-Id")) sessionId = res.get("Mcp-Session-Id");
        return res.getStatus();
    };
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        std::string contentType, body;
        try {
            int status = 0;
            try {
                status = post(line, &contentType, &body);
            } catch (const Poco::Exception&) {
                http.reset();  // a stale keep-alive connection or a restarted server: one fresh attempt
                status = post(line, &contentType, &body);
            }
            if (status == 404 && !sessionId.empty()) {  // the server forgot our session (restart): go stateless
                sessionId.clear();
                status = post(line, &contentType, &body);
            }
            relay(contentType, body, out);
        } catch (const Poco::Exception& e) {
            std::string err = errorFor(line, e.displayText());
            if (!err.empty()) out << err << "\n" << std::flush;
        } catch (const std::exception& e) {
            std::string err = errorFor(line, e.what());
            if (!err.empty()) out << err << "\n" << std::flush;
        }
    }
    if (!sessionId.empty() && http) {
        try {
            Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_DELETE, "/mcp", Poco::Net::HTTPMessage::HTTP_1_1);
            req.setHost("127.0.0.1", static_cast<Poco::UInt16>(port));
            req.set("Mcp-Session-Id", sessionId);
            http->sendRequest(req);
            Poco::Net::HTTPResponse res;
            http->receiveResponse(res).ignore(1 << 20);
        } catch (...) {
        }
    }
    return 0;
}

}  // namespace atelier::host
