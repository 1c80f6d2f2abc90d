// The terminal module class: HTTP/WebSocket adapters over TerminalService + PtyManager.
// Registration lives in module.cpp; the handlers in handlers.cpp.
#pragma once

#include "pty_manager.hpp"
#include "terminal_service.hpp"

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace atelier::terminal {

struct ModuleSettings {
    size_t maxInputFrameBytes = 256 * 1024;
    std::string allowedOrigins;  // comma-separated extra origins
    int defaultCols = 80;
    int defaultRows = 24;
};

class TerminalModule : public atelier::Module {
public:
    void init() override;
    void start() override;
    void stop() override;

    PtyManager& pty() { return *pty_; }
    TerminalService& service() { return *service_; }

private:
    // HTTP
    void createWorktreeTerminal(Request& req, Response& res);
    void activeWorktreeTerminal(Request& req, Response& res);
    void deleteTerminal(Request& req, Response& res);
    void listTerminals(Request& req, Response& res);
    void ptySpawn(Request& req, Response& res);
    void ptyInfo(Request& req, Response& res);
    void ptyInput(Request& req, Response& res);
    void ptyResize(Request& req, Response& res);
    void ptyOutput(Request& req, Response& res);
    HookOutcome onWorktreeRemoving(std::string_view payload);

    // WebSockets
    int openSessionSocket(const WebSocket& ws, const Request& req, const std::string& param);
    int openAbbadoSocket(const WebSocket& ws, const Request& req);
    void onSocketMessage(const WebSocket& ws, std::string_view data, bool binary);
    void onSocketClose(const WebSocket& ws, int code);
    bool attachSocket(const WebSocket& ws, const std::string& sessionId, bool ephemeral);
    int refuse(const WebSocket& ws, int code, const std::string& reason);

    struct WorktreeRef {
        std::string id;
        std::string path;
    };
    WorktreeRef resolveWorktree(const Request& req, const std::string& id) const;
    [[noreturn]] void throwSpawnError(const SpawnError& e) const;
    void publishEvent(const std::string& type, const JsonObject& payload) const;
    void announceCreated(JsonObject event) const;  // event + ops-log entry
    void recordExit(const SessionInfo& info) const;
    JsonObject infoJson(const SessionInfo& i) const;

    struct Client {
        std::string sessionId;
        uint64_t subscriberId = 0;
        bool ephemeral = false;
    };
    std::mutex clientsMu_;
    std::map<atelier_websocket*, Client> clients_;

    ModuleSettings settings_;
    std::unique_ptr<PtyManager> pty_;
    std::unique_ptr<TerminalService> service_;
};

}  // namespace atelier::terminal
