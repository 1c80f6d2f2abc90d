// Live dev-server output for SSE clients: `GET /api/worktrees/:id/logs/stream` and
// `GET /api/devservers/stream`. The host's own SSE stream only carries activity and
// worktree lists, so log lines are fanned out here, straight from the batching thread
// (≤ 50 ms after the line was read).
#pragma once

#include <atelier/sdk.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace atelier::devservers {

class LogHub : public std::enable_shared_from_this<LogHub> {
public:
    // Detaches `res` into an SSE stream filtered to a project (and a worktree when not
    // empty); `initial` is written first. Returns false when the host cannot stream.
    bool open(Response& res, const std::string& projectId, const std::string& worktreeId, const std::string& initial);
    // Sends one SSE message to the matching subscribers.
    void send(const std::string& projectId, const std::string& worktreeId, const std::string& event, const std::string& data);
    void closeAll();
    size_t size() const;

private:
    struct Sub {
        Stream stream;
        std::string projectId, worktreeId;
    };
    struct CloseCtx {
        std::weak_ptr<LogHub> hub;
        uint64_t id;
    };
    static void closed(void* ud, atelier_stream*);
    void remove(uint64_t id);
    mutable std::mutex mu_;
    std::map<uint64_t, std::shared_ptr<Sub>> subs_;
    uint64_t next_ = 0;
    bool closing_ = false;
};

}  // namespace atelier::devservers
