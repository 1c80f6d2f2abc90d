// A fixed set of threads that run one batch of independent jobs in parallel: the live-event
// fan-out writes one buffer to each of thousands of sockets, and on loopback each write
// does the receiver's TCP work too, so one thread is the bottleneck long before the cores
// are. The caller's thread takes a share; the pool's size never depends on the clients.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace atelier::events {

class FanoutPool {
public:
    // `threads` counts the caller: 1 runs everything on the caller's thread.
    explicit FanoutPool(int threads);
    ~FanoutPool();
    FanoutPool(const FanoutPool&) = delete;
    FanoutPool& operator=(const FanoutPool&) = delete;

    // Calls job(i) for every i in [0, count), spread over the threads in contiguous ranges,
    // and returns when all are done. Not reentrant: one batch at a time.
    void run(size_t count, const std::function<void(size_t)>& job);
    int threads() const { return static_cast<int>(threads_); }

private:
    void work(size_t index);

    const size_t threads_;
    std::mutex mutex_;
    std::condition_variable startCv_, doneCv_;
    std::vector<std::thread> workers_;
    const std::function<void(size_t)>* job_ = nullptr;
    size_t count_ = 0;
    uint64_t generation_ = 0;
    size_t pending_ = 0;
    bool stop_ = false;
};

}  // namespace atelier::events
