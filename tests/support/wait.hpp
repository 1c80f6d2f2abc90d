// Waiting on a condition instead of sleeping: every test that needs "until X holds" uses this.
#pragma once

#include <chrono>
#include <thread>

namespace atelier::test {

// Polls `pred` every `interval` until it holds or `timeout` has passed; returns whether it
// held (checked once more at the deadline, so a slow machine still gets a last chance).
template <typename Pred>
bool waitFor(Pred&& pred, std::chrono::milliseconds timeout = std::chrono::seconds(20),
             std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(interval);
    }
    return static_cast<bool>(pred());
}

}  // namespace atelier::test
