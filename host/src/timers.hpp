// One timer thread for every module's timers. Callbacks run on that thread, so they must be
// short; a module that needs real work posts it to its own worker.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "module_record.hpp"

namespace atelier::host {

class TimerService {
public:
    TimerService() = default;
    ~TimerService();
    void start();
    void stop();
    int64_t add(std::chrono::milliseconds delay, std::chrono::milliseconds interval, std::function<void()> fn,
                std::shared_ptr<ModuleRecord> owner);
    void cancel(int64_t id);
    void removeOwner(const ModuleRecord* owner);

private:
    struct Timer {
        int64_t id;
        std::chrono::milliseconds interval;
        std::function<void()> fn;
        std::shared_ptr<ModuleRecord> owner;
    };
    void run();
    std::mutex mutex_;
    std::condition_variable cv_;
    std::multimap<std::chrono::steady_clock::time_point, std::shared_ptr<Timer>> due_;
    int64_t nextId_ = 0;
    int64_t runningId_ = 0;
    const ModuleRecord* runningOwner_ = nullptr;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace atelier::host
