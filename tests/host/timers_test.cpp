// The timer thread: removing a module's timers neither disturbs other modules' timers nor
// leaves the thread waiting on a deadline it no longer owns.
#include "timers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "wait.hpp"

using atelier::host::ModuleRecord;
using atelier::host::TimerService;
using namespace std::chrono_literals;

namespace {
using atelier::test::waitFor;

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
    // Once a one-shot timer has run, the thread has gone round its loop and waits on the far
    // deadline.
    std::atomic<int> ran{0};
    timers.add(
        0ms, 0ms, [&] { ran++; }, staying);
    EXPECT_TRUE(waitFor([&] { return ran.load() == 1; }));
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
    // A witness on the same period: by its tenth run the removed timer would have repeated too.
    auto witnessOwner = std::make_shared<ModuleRecord>();
    std::atomic<int> witness{0};
    timers.add(
        0ms, 5ms, [&] { witness++; }, witnessOwner);
    // EXPECT, not ASSERT: timers.stop() below must run before `witness` goes out of scope.
    EXPECT_TRUE(waitFor([&] { return witness.load() >= 10; }));
    EXPECT_EQ(held.fired.load(), 1);
    timers.stop();
}
