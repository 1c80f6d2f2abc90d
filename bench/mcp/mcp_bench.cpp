// MCP benchmark: `tools/call` of list_tickets over Streamable HTTP against the real server
// with 10,000 tickets. Keep-alive clients each send one JSON-RPC request at a time for a
// fixed duration; prints calls/s and p50/p99 latency.
//
// Usage: mcp_bench [--tickets N] [--clients N] [--seconds S] [--limit N]
#include <Poco/Net/HTTPClientSession.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "test_server.hpp"

using atelier::test::TestServer;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    int tickets = 10000, clients = 4, seconds = 10, limit = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--tickets"))
            tickets = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--clients"))
            clients = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seconds"))
            seconds = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--limit"))
            limit = std::atoi(argv[i + 1]);
    }
    std::string repo = atelier::test::makeGitRepo();
    TestServer::Options o;
    o.cwd = repo;
    TestServer server(o);
    auto p = server.get("/api/active-project").json();
    std::string pid = (p->has("data") ? p->getObject("data") : p)->getValue<std::string>("id");
    server.post("/api/profiles", R"({"id":"bench-user","type":"user","name":"Bench"})");

    auto t0 = Clock::now();
    {
        std::atomic<int> next{0};
        std::vector<std::thread> loaders;
        for (int c = 0; c < 4; ++c)
            loaders.emplace_back([&] {
                Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
                s.setKeepAlive(true);
                for (int i; (i = next++) < tickets;) {
                    std::string body = R"({"project_id":")" + pid + R"(","title":"Ticket )" + std::to_string(i) +
                                       R"( about the flux capacitor","body":"Body of ticket )" + std::to_string(i) +
                                       R"(","author_id":"bench-user"})";
                    Poco::Net::HTTPRequest req("POST", "/api/tickets", Poco::Net::HTTPMessage::HTTP_1_1);
                    req.setHost("127.0.0.1");
                    req.setContentType("application/json");
                    req.setContentLength(static_cast<std::streamsize>(body.size()));
                    req.setKeepAlive(true);
                    s.sendRequest(req) << body;
                    Poco::Net::HTTPResponse res;
                    s.receiveResponse(res).ignore(1 << 30);
                    if (res.getStatus() != 201) {
                        std::fprintf(stderr, "ticket create failed: %d\n", res.getStatus());
                        std::exit(1);
                    }
                }
            });
        for (auto& t : loaders) t.join();
    }
    double loadSecs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("loaded %d tickets in %.1f s\n", tickets, loadSecs);

    std::string call =
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_tickets","arguments":{"project_id":")" +
        pid + R"(","limit":)" + std::to_string(limit) + "}}}";
    std::string restPath = "/api/tickets?project_id=" + pid + "&limit=" + std::to_string(limit);
    int totalErrors = 0;
    // One measured phase: `clients` keep-alive connections, one request in flight each.
    auto measure = [&](const std::string& label, const std::string& method, const std::string& path,
                       const std::string& payload, const std::string& okMarker) {
        std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
        std::atomic<bool> stop{false};
        std::atomic<int> errors{0};
        std::vector<std::thread> workers;
        auto start = Clock::now();
        for (int c = 0; c < clients; ++c)
            workers.emplace_back([&, c] {
                Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
                s.setKeepAlive(true);
                std::string body;
                while (!stop) {
                    auto a = Clock::now();
                    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
                    req.setHost("127.0.0.1");
                    req.setKeepAlive(true);
                    if (!payload.empty()) {
                        req.setContentType("application/json");
                        req.set("Accept", "application/json, text/event-stream");
                        req.setContentLength(static_cast<std::streamsize>(payload.size()));
                    }
                    s.sendRequest(req) << payload;
                    Poco::Net::HTTPResponse res;
                    std::istream& is = s.receiveResponse(res);
                    body.assign(std::istreambuf_iterator<char>(is), {});
                    if (res.getStatus() != 200 || body.find(okMarker) == std::string::npos) ++errors;
                    lat[static_cast<size_t>(c)].push_back(
                        std::chrono::duration<double, std::milli>(Clock::now() - a).count());
                }
            });
        std::this_thread::sleep_for(std::chrono::seconds(seconds));
        stop = true;
        for (auto& w : workers) w.join();
        double secs = std::chrono::duration<double>(Clock::now() - start).count();
        std::vector<double> all;
        for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
        std::sort(all.begin(), all.end());
        auto pct = [&](double q) {
            return all.empty()
                       ? 0.0
                       : all[std::min(all.size() - 1, static_cast<size_t>(q * static_cast<double>(all.size())))];
        };
        std::printf("%s (limit %d), %d tickets, %d keep-alive clients, %.1f s\n", label.c_str(), limit, tickets,
                    clients, secs);
        std::printf("  calls: %zu (%d errors)  throughput: %.0f calls/s\n", all.size(), errors.load(),
                    static_cast<double>(all.size()) / secs);
        std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", pct(0.50), pct(0.90), pct(0.99),
                    all.empty() ? 0.0 : all.back());
        totalErrors += errors.load();
    };
    measure("MCP tools/call list_tickets over HTTP", "POST", "/mcp", call, "\"isError\":false");
    // The REST route the tool wraps, for comparison: the difference is the MCP layer.
    measure("REST GET /api/tickets (baseline)", "GET", restPath, "", "\"id\"");
    std::error_code ec;
    std::filesystem::remove_all(repo, ec);
    return totalErrors == 0 ? 0 : 1;
}
