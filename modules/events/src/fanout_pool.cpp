#include "fanout_pool.hpp"

#include <algorithm>

namespace atelier::events {

FanoutPool::FanoutPool(int threads) : threads_(static_cast<size_t>(std::max(threads, 1))) {
    for (size_t i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { work(i); });
}

FanoutPool::~FanoutPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    startCv_.notify_all();
    for (auto& t : workers_) t.join();
}

namespace {
// The contiguous share of [0, count) that thread `index` of `threads` takes.
std::pair<size_t, size_t> share(size_t count, size_t index, size_t threads) {
    size_t per = count / threads, extra = count % threads;
    size_t begin = index * per + std::min(index, extra);
    return {begin, begin + per + (index < extra ? 1 : 0)};
}
}  // namespace

void FanoutPool::run(size_t count, const std::function<void(size_t)>& job) {
    size_t threads = threads_;
    // Small batches are not worth waking anyone for.
    if (threads == 1 || count < 2 * threads) {
        for (size_t i = 0; i < count; ++i) job(i);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        job_ = &job;
        count_ = count;
        pending_ = threads_ - 1;
        ++generation_;
    }
    startCv_.notify_all();
    auto [begin, end] = share(count, 0, threads);
    for (size_t i = begin; i < end; ++i) job(i);
    std::unique_lock lock(mutex_);
    doneCv_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
}

void FanoutPool::work(size_t index) {
    uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    while (true) {
        startCv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        const auto* job = job_;
        auto [begin, end] = share(count_, index, threads_);
        lock.unlock();
        for (size_t i = begin; i < end; ++i) (*job)(i);
        lock.lock();
        if (--pending_ == 0) doneCv_.notify_one();
    }
}

}  // namespace atelier::events
