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
    std::atomic<int> fired{0};
    std::promise<void> entered, release;
    auto released = release.get_future().share();
    timers.add(
        0ms, 5ms,
        [&, released] {
            if (fired++ == 0) {
                entered.set_value();
                released.wait();  // hold the first run while the other owner is removed
            }
        },
        staying);
    entered.get_future().wait();
    timers.removeOwner(stopping.get());
    release.set_value();
    EXPECT_TRUE(waitFor([&] { return fired.load() >= 3; })) << fired.load();
    timers.stop();
}

TEST(TimerServiceTest, RemovingTheOwnerOfTheRunningTimerStopsItRepeating) {
    TimerService timers;
    timers.start();
    auto owner = std::make_shared<ModuleRecord>();
    std::atomic<int> fired{0};
    std::promise<void> entered, release;
    auto released = release.get_future().share();
    timers.add(
        0ms, 5ms,
        [&, released] {
            if (fired++ == 0) {
                entered.set_value();
                released.wait();
            }
        },
        owner);
    entered.get_future().wait();
    timers.removeOwner(owner.get());
    release.set_value();
    std::this_thread::sleep_for(60ms);
    EXPECT_EQ(fired.load(), 1);
    timers.stop();
}
