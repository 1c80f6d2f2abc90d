#include "timers.hpp"

namespace atelier::host {

TimerService::~TimerService() { stop(); }

void TimerService::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void TimerService::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

int64_t TimerService::add(std::chrono::milliseconds delay, std::chrono::milliseconds interval, std::function<void()> fn,
                          std::shared_ptr<ModuleRecord> owner) {
    std::lock_guard lock(mutex_);
    auto t = std::make_shared<Timer>(Timer{++nextId_, interval, std::move(fn), std::move(owner)});
    due_.emplace(std::chrono::steady_clock::now() + delay, t);
    cv_.notify_all();
    return t->id;
}

void TimerService::cancel(int64_t id) {
    std::lock_guard lock(mutex_);
    std::erase_if(due_, [&](const auto& kv) { return kv.second->id == id; });
    if (runningId_ == id) runningId_ = -id;  // tells the runner not to re-arm
}

void TimerService::removeOwner(const ModuleRecord* owner) {
    std::lock_guard lock(mutex_);
    std::erase_if(due_, [&](const auto& kv) { return kv.second->owner.get() == owner; });
    if (runningOwner_ == owner) runningId_ = -runningId_;  // the running one is not re-armed either
}

void TimerService::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (due_.empty()) {
            cv_.wait(lock);
            continue;
        }
        auto it = due_.begin();
        // A copy: wait_until reads the deadline again after waking, when the entry may be erased.
        const auto deadline = it->first;
        if (deadline > std::chrono::steady_clock::now()) {
            cv_.wait_until(lock, deadline);
            continue;
        }
        auto t = it->second;
        due_.erase(it);
        runningId_ = t->id;
        runningOwner_ = t->owner.get();
        lock.unlock();
        try {
            InflightGuard guard(t->owner.get());
            t->fn();
        } catch (...) {
        }
        lock.lock();
        if (t->interval.count() > 0 && runningId_ == t->id && !stopping_)
            due_.emplace(std::chrono::steady_clock::now() + t->interval, t);
        runningId_ = 0;
        runningOwner_ = nullptr;
    }
}

}  // namespace atelier::host
