// terminal: PTY sessions over WebSocket for OpenKit (worktree terminals), Abbado
// (/api/terminal) and KrowForge (/api/pty), plus the in-process API other modules use.
#include "terminal_module.hpp"

#include <algorithm>

namespace atelier::terminal {

void TerminalModule::init() {
    auto cfg = host().config();
    auto num = [&](const char* key, int64_t fallback, int64_t lo, int64_t hi) {
        int64_t v = fallback;
        if (cfg->has(key) && cfg->get(key).isNumeric()) v = cfg->get(key).convert<int64_t>();
        else if (cfg->has(key)) host().warn(std::string("terminal: config ") + key + " must be a number; using the default");
        return std::clamp(v, lo, hi);
    };
    PtyConfig pc;
    pc.scrollbackBytes = static_cast<size_t>(num("scrollbackBytes", 2 * 1024 * 1024, 0, int64_t{1} << 30));
    pc.maxSessions = static_cast<size_t>(num("maxSessions", 64, 1, 100000));
    pc.killGraceMs = static_cast<int>(num("killGraceMs", 2000, 0, 60000));
    pc.maxInputQueueBytes = static_cast<size_t>(num("maxInputQueueBytes", 4 * 1024 * 1024, 4096, int64_t{1} << 30));
    settings_.maxInputFrameBytes = static_cast<size_t>(num("maxInputFrameBytes", 256 * 1024, 1, 64 * 1024 * 1024));
    if (cfg->has("allowedOrigins") && cfg->isArray("allowedOrigins")) {
        for (auto& o : *cfg->getArray("allowedOrigins"))
            settings_.allowedOrigins += (settings_.allowedOrigins.empty() ? "" : ",") + o.toString();
    }
    pty_ = std::make_unique<PtyManager>(pc);
    service_ = std::make_unique<TerminalService>(*pty_);
    auto h = [this](void (TerminalModule::*fn)(Request&, Response&)) {
        return [this, fn](Request& rq, Response& rs) { (this->*fn)(rq, rs); };
    };

    // OpenKit
    post("/api/worktrees/:id/terminals", "Create (or reuse a scoped) terminal session for a worktree", h(&TerminalModule::createWorktreeTerminal));
    get("/api/worktrees/:id/terminals/active", "Active scoped terminal session of a worktree", h(&TerminalModule::activeWorktreeTerminal));
    del("/api/terminals/:sessionId", "Destroy a terminal session", h(&TerminalModule::deleteTerminal));
    get("/api/terminals", "List live terminal sessions", h(&TerminalModule::listTerminals));
    websocket("/api/terminals/:sessionId/ws", {[this](const WebSocket& ws, const Request& rq) { return openSessionSocket(ws, rq, "sessionId"); },
                                               [this](const WebSocket& ws, std::string_view d, bool b) { onSocketMessage(ws, d, b); },
                                               [this](const WebSocket& ws, int c) { onSocketClose(ws, c); }});
    // KrowForge + in-process API (agents module)
    post("/api/pty/spawn", "Spawn a PTY session", h(&TerminalModule::ptySpawn));
    get("/api/pty/:id", "PTY session state (live or recently exited)", h(&TerminalModule::ptyInfo));
    post("/api/pty/:id/input", "Write input to a PTY session", h(&TerminalModule::ptyInput));
    post("/api/pty/:id/resize", "Resize a PTY session", h(&TerminalModule::ptyResize));
    get("/api/pty/:id/output", "PTY output since an offset (bounded scrollback)", h(&TerminalModule::ptyOutput));
    del("/api/pty/:id", "Destroy a PTY session", [this](Request& rq, Response& rs) { deleteTerminal(rq, rs); });
    websocket("/api/pty/:id/stream", {[this](const WebSocket& ws, const Request& rq) { return openSessionSocket(ws, rq, "id"); },
                                      [this](const WebSocket& ws, std::string_view d, bool b) { onSocketMessage(ws, d, b); },
                                      [this](const WebSocket& ws, int c) { onSocketClose(ws, c); }});
    // Abbado
    websocket("/api/terminal", {[this](const WebSocket& ws, const Request& rq) { return openAbbadoSocket(ws, rq); },
                                [this](const WebSocket& ws, std::string_view d, bool b) { onSocketMessage(ws, d, b); },
                                [this](const WebSocket& ws, int c) { onSocketClose(ws, c); }});

    hook("worktree.removing", 100, [this](std::string_view p) { return onWorktreeRemoving(p); });

    pty_->onSessionExit([this](const SessionInfo& info) {
        auto meta = service_->meta(info.id);
        service_->forget(info.id);
        JsonObject p = makeObject();
        p->set("sessionId", info.id);
        p->set("exitCode", info.exitCode.value_or(-1));
        if (meta && !meta->runId.empty()) p->set("runId", meta->runId);
        if (meta && !meta->worktreeId.empty()) p->set("worktreeId", meta->worktreeId);
        publishEvent("terminal.exited", p);
        recordExit(info);
    });
}

void TerminalModule::start() { pty_->start(); }

void TerminalModule::stop() {
    pty_->stop();
    std::lock_guard lock(clientsMu_);
    clients_.clear();
}

}  // namespace atelier::terminal

ATELIER_MODULE(atelier::terminal::TerminalModule)
