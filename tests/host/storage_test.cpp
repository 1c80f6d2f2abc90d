// Storage: WAL checkpoints happen off the writer's path but still keep the log bounded, and
// closing leaves no WAL behind.
#include "storage.hpp"

#include <gtest/gtest.h>

#include <atelier/util.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

using atelier::host::Storage;

namespace {
int exec(Storage& s, const std::string& sql, const atelier_value* params = nullptr, size_t n = 0) {
    return s.run(nullptr, sql, params, n, nullptr, nullptr, nullptr);
}
}  // namespace

TEST(StorageTest, BackgroundCheckpointsKeepTheWalBoundedAndCloseRemovesIt) {
    auto dir = std::filesystem::temp_directory_path() / ("atelier-storage-" + atelier::randomHex(8));
    std::filesystem::create_directories(dir);
    auto path = (dir / "db.sqlite").string();
    std::string blob(8192, 'x');
    {
        Storage storage(path, 1);
        ASSERT_EQ(exec(storage, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"), ATELIER_OK);
        // ~100 MiB of log in 6,000 commits: with no checkpoint, or checkpoints that never catch
        // up with the writer, the WAL would hold all of it.
        uintmax_t maxWal = 0;
        for (int i = 0; i < 6000; ++i) {
            atelier_value v{};
            v.type = ATELIER_VALUE_TEXT;
            v.s = {blob.data(), blob.size()};
            ASSERT_EQ(exec(storage, "INSERT INTO t (body) VALUES (?)", &v, 1), ATELIER_OK) << Storage::lastError();
            std::error_code ec;
            maxWal = std::max(maxWal, std::filesystem::file_size(path + "-wal", ec));
            if (i % 5 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        EXPECT_LT(maxWal, 32u << 20) << "the WAL grew to " << maxWal << " bytes";
        EXPECT_GT(std::filesystem::file_size(path), 32u << 20);  // the rows reached the database file
    }
    std::error_code ec;
    auto walAfter = std::filesystem::exists(path + "-wal") ? std::filesystem::file_size(path + "-wal", ec) : 0u;
    EXPECT_EQ(walAfter, 0u);
    std::filesystem::remove_all(dir, ec);
}
