// The timer thread: removing a module's timers neither disturbs other modules' timers nor
// leaves the thread waiting on a deadline it no longer owns.
#include "timers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

using atelier::host::ModuleRecord;
using atelier::host::TimerService;
using namespace std::chrono_literals;

namespace {
template <class Pred>
bool waitFor(Pred pred, std::chrono::milliseconds limit = 3000ms) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

// A repeating 5 ms timer whose first run blocks until release(), so a test can act while the
// timer thread is inside it.
struct HeldTimer {
    std::atomic<int> fired{0};
    std::promise<void> entered, released;
    void start(TimerService& timers, std::shared_ptr<ModuleRecord> owner) {
        auto wait = released.get_future().share();
        timers.add(
            0ms, 5ms,
            [this, wait] {
                if (fired++ == 0) {
                    entered.set_value();
                    wait.wait();
                }
            },
            std::move(owner));
        entered.get_future().wait();
    }
    void release() { released.set_value(); }
};
}  // namespace

TEST(TimerServiceTest, RemovingTheTimerBeingWaitedOnKeepsTheThreadHealthy) {
    TimerService timers;
    timers.start();
    auto stopping = std::make_shared<ModuleRecord>();
    auto staying = std::make_shared<ModuleRecord>();
    // The thread sleeps until this far deadline; removing it erases the entry it waits on.
    timers.add(
        10s, 0ms, [] {}, stopping);
    std::this_thread::sleep_for(20ms);
    timers.removeOwner(stopping.get());
    std::atomic<int> fired{0};
    timers.add(
        10ms, 0ms, [&] { fired++; }, staying);
    EXPECT_TRUE(waitFor([&] { return fired.load() == 1; }));
    timers.stop();
}

TEST(TimerServiceTest, RemovingOneOwnerLetsAnotherOwnersRunningTimerRepeat) {
    TimerService timers;
    timers.start();
    auto stopping = std::make_shared<ModuleRecord>();
    auto staying = std::make_shared<ModuleRecord>();
    HeldTimer held;
    held.start(timers, staying);
    timers.removeOwner(stopping.get());  // while the other owner's timer runs
    held.release();
    EXPECT_TRUE(waitFor([&] { return held.fired.load() >= 3; })) << held.fired.load();
    timers.stop();
}

TEST(TimerServiceTest, RemovingTheOwnerOfTheRunningTimerStopsItRepeating) {
    TimerService timers;
    timers.start();
    auto owner = std::make_shared<ModuleRecord>();
    HeldTimer held;
    held.start(timers, owner);
    timers.removeOwner(owner.get());
    held.release();
    std::this_thread::sleep_for(60ms);
    EXPECT_EQ(held.fired.load(), 1);
    timers.stop();
}
