// The fan-out pool: every job runs exactly once per batch, batches do not overlap, and
// small batches stay on the caller's thread.
#include "fanout_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using atelier::events::FanoutPool;

TEST(FanoutPoolTest, EveryJobRunsOnceAcrossThreads) {
    FanoutPool pool(3);
    EXPECT_EQ(pool.threads(), 3);
    for (size_t count : {0u, 1u, 5u, 6u, 7u, 1000u, 2501u}) {
        std::vector<std::atomic<int>> runs(count);
        std::mutex m;
        std::set<std::thread::id> threads;
        pool.run(count, [&](size_t i) {
            runs[i]++;
            std::lock_guard l(m);
            threads.insert(std::this_thread::get_id());
        });
        for (size_t i = 0; i < count; ++i) EXPECT_EQ(runs[i].load(), 1) << "count " << count << " job " << i;
        if (count < 6) {
            EXPECT_LE(threads.size(), 1u) << count;  // not worth waking the workers
        }
    }
}

TEST(FanoutPoolTest, LargeBatchesUseTheWorkersAndBatchesDoNotOverlap) {
    FanoutPool pool(2);
    std::atomic<int> inBatch{0};
    for (int batch = 0; batch < 200; ++batch) {
        std::mutex m;
        std::set<std::thread::id> threads;
        std::atomic<int> done{0};
        pool.run(64, [&](size_t) {
            inBatch++;
            {
                std::lock_guard l(m);
                threads.insert(std::this_thread::get_id());
            }
            std::this_thread::yield();
            done++;
            inBatch--;
        });
        // run() returned: nothing of this batch is still running.
        EXPECT_EQ(done.load(), 64);
        EXPECT_EQ(inBatch.load(), 0);
        EXPECT_LE(threads.size(), 2u);
        EXPECT_TRUE(threads.count(std::this_thread::get_id()));  // the caller takes a share
    }
}

TEST(FanoutPoolTest, OneThreadRunsOnTheCaller) {
    FanoutPool pool(1);
    std::set<std::thread::id> threads;
    pool.run(100, [&](size_t) { threads.insert(std::this_thread::get_id()); });
    ASSERT_EQ(threads.size(), 1u);
    EXPECT_EQ(*threads.begin(), std::this_thread::get_id());
}
