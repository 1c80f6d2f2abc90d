#include "log_hub.hpp"

#include <vector>

namespace atelier::devservers {

bool LogHub::open(Response& res, const std::string& projectId, const std::string& worktreeId, const std::string& initial) {
    auto sub = std::make_shared<Sub>();
    sub->projectId = projectId;
    sub->worktreeId = worktreeId;
    uint64_t id;
    {
        std::lock_guard lock(mu_);
        if (closing_) return false;
        id = ++next_;
    }
    auto* ctx = new CloseCtx{weak_from_this(), id};
    sub->stream = res.stream("text/event-stream", &LogHub::closed, ctx);
    if (!sub->stream) {
        delete ctx;
        return false;
    }
    res.header("Cache-Control", "no-cache");
    std::lock_guard lock(mu_);
    if (!initial.empty()) sub->stream.write(initial);
    subs_[id] = sub;
    return true;
}

void LogHub::send(const std::string& projectId, const std::string& worktreeId, const std::string& event, const std::string& data) {
    std::vector<std::pair<uint64_t, std::shared_ptr<Sub>>> targets;
    {
        std::lock_guard lock(mu_);
        for (auto& [id, s] : subs_)
            if (s->projectId == projectId && (s->worktreeId.empty() || s->worktreeId == worktreeId)) targets.emplace_back(id, s);
    }
    std::vector<uint64_t> dead;
    for (auto& [id, s] : targets)
        if (!s->stream.sse(event, data)) dead.push_back(id);
    for (auto id : dead) remove(id);
}

void LogHub::closed(void* ud, atelier_stream*) {
    auto* ctx = static_cast<CloseCtx*>(ud);
    if (auto hub = ctx->hub.lock()) hub->remove(ctx->id);
    delete ctx;
}

void LogHub::remove(uint64_t id) {
    std::shared_ptr<Sub> gone;
    {
        std::lock_guard lock(mu_);
        auto it = subs_.find(id);
        if (it == subs_.end()) return;
        gone = std::move(it->second);
        subs_.erase(it);
    }
}

void LogHub::closeAll() {
    std::map<uint64_t, std::shared_ptr<Sub>> all;
    {
        std::lock_guard lock(mu_);
        closing_ = true;
        all.swap(subs_);
    }
    for (auto& [id, s] : all) s->stream.close();
}

size_t LogHub::size() const {
    std::lock_guard lock(mu_);
    return subs_.size();
}

}  // namespace atelier::devservers
