// The storage contract modules see (abi.h, "database"): positional placeholders only,
// RETURNING instead of a last insert id, engine-neutral statuses, results written only as far
// as the module's struct reaches, and migrations per engine strided by the module's own
// struct_size.
#include <gtest/gtest.h>

#include <atelier/sdk.hpp>
#include <atelier/util.hpp>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "storage.hpp"

using atelier::host::Storage;

namespace {

class StorageContract : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("atelier-contract-" + atelier::randomHex(8));
        std::filesystem::create_directories(dir_);
        storage_ = std::make_unique<Storage>((dir_ / "db.sqlite").string(), 1);
    }
    void TearDown() override {
        storage_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    // As a module's db_exec: the contract's placeholder rule applies.
    int exec(const std::string& sql, std::vector<atelier_value> params = {}, atelier_db_result* result = nullptr) {
        auto local = atelier::initStruct<atelier_db_result>();
        return storage_->run(nullptr, sql, params.data(), params.size(), nullptr, nullptr, result ? result : &local,
                             Storage::Placeholders::PositionalOnly);
    }
    std::vector<int64_t> ids(const std::string& sql, std::vector<atelier_value> params = {}, bool withResult = false) {
        std::vector<int64_t> out;
        auto onRow = [](void* ud, size_t n, const atelier_str*, const atelier_value* v) -> int {
            if (n > 0) static_cast<std::vector<int64_t>*>(ud)->push_back(v[0].i);
            return 0;
        };
        auto result = atelier::initStruct<atelier_db_result>();
        last_ = storage_->run(nullptr, sql, params.data(), params.size(), onRow, &out, withResult ? &result : nullptr,
                              Storage::Placeholders::PositionalOnly);
        return out;
    }
    bool tableExists(const std::string& name) {
        return !ids("SELECT 1 FROM sqlite_master WHERE name = ?", {text(name)}).empty();
    }
    static atelier_value text(const std::string& s) {
        atelier_value v{};
        v.type = ATELIER_VALUE_TEXT;
        v.s = {s.data(), s.size()};
        return v;
    }
    static atelier_value integer(int64_t i) {
        atelier_value v{};
        v.type = ATELIER_VALUE_INT;
        v.i = i;
        return v;
    }
    static atelier_migration migration(int64_t version, const char* sql, int engine) {
        auto m = atelier::initStruct<atelier_migration>();
        m.version = version;
        m.sql = {sql, std::strlen(sql)};
        m.engine = engine;
        return m;
    }

    std::filesystem::path dir_;
    std::unique_ptr<Storage> storage_;
    int last_ = ATELIER_OK;
};

TEST_F(StorageContract, OnlyPositionalPlaceholdersCrossTheAbi) {
    ASSERT_EQ(exec("CREATE TABLE t_items (id INTEGER PRIMARY KEY, name TEXT)"), ATELIER_OK) << Storage::lastError();
    EXPECT_EQ(exec("INSERT INTO t_items (name) VALUES (?)", {text("a")}), ATELIER_OK) << Storage::lastError();
    for (const char* sql : {"INSERT INTO t_items (name) VALUES (?1)", "INSERT INTO t_items (name) VALUES (:name)",
                            "INSERT INTO t_items (name) VALUES (@name)", "INSERT INTO t_items (name) VALUES ($name)"}) {
        EXPECT_EQ(exec(sql, {text("b")}), ATELIER_ERR_INVALID) << sql;
        EXPECT_NE(Storage::lastError().find("placeholder"), std::string::npos) << Storage::lastError();
    }
    // The host's own SQL is not held to the contract.
    atelier_value v = text("c");
    EXPECT_EQ(storage_->run(nullptr, "INSERT INTO t_items (name) VALUES (?1)", &v, 1, nullptr, nullptr, nullptr),
              ATELIER_OK);
    EXPECT_EQ(ids("SELECT COUNT(*) FROM t_items"), std::vector<int64_t>{2});
}

TEST_F(StorageContract, GeneratedKeysComeBackThroughReturning) {
    ASSERT_EQ(exec("CREATE TABLE t_items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)"), ATELIER_OK);
    // A row callback alone tries a reader first and must still end up on the writer.
    EXPECT_EQ(ids("INSERT INTO t_items (name) VALUES (?) RETURNING id", {text("a")}), std::vector<int64_t>{1});
    EXPECT_EQ(last_, ATELIER_OK) << Storage::lastError();
    EXPECT_EQ(ids("INSERT INTO t_items (name) VALUES (?) RETURNING id", {text("b")}, true), std::vector<int64_t>{2});
    EXPECT_EQ(ids("SELECT COUNT(*) FROM t_items"), std::vector<int64_t>{2});
}

TEST_F(StorageContract, FailuresMapToEngineNeutralStatuses) {
    ASSERT_EQ(exec("CREATE TABLE t_parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"), ATELIER_OK);
    ASSERT_EQ(
        exec("CREATE TABLE t_children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES t_parents(id),"
             " qty INTEGER CHECK (qty >= 0))"),
        ATELIER_OK);
    ASSERT_EQ(exec("INSERT INTO t_parents (id, name) VALUES (1, 'a')"), ATELIER_OK);
    EXPECT_EQ(exec("INSERT INTO t_parents (name) VALUES ('a')"), ATELIER_ERR_CONFLICT);                 // unique
    EXPECT_EQ(exec("INSERT INTO t_parents (id, name) VALUES (1, 'b')"), ATELIER_ERR_CONFLICT);          // primary key
    EXPECT_EQ(exec("INSERT INTO t_children (parent_id, qty) VALUES (9, 1)"), ATELIER_ERR_CONSTRAINT);   // foreign key
    EXPECT_EQ(exec("INSERT INTO t_children (parent_id, qty) VALUES (1, -1)"), ATELIER_ERR_CONSTRAINT);  // check
    EXPECT_EQ(exec("INSERT INTO t_parents (id) VALUES (2)"), ATELIER_ERR_CONSTRAINT);                   // not null
    EXPECT_EQ(exec("INSERT INTO t_nowhere VALUES (1)"), ATELIER_ERR_INVALID);
    EXPECT_EQ(ids("SELECT COUNT(*) FROM t_children"), std::vector<int64_t>{0});
}

TEST_F(StorageContract, ResultIsWrittenOnlyAsFarAsTheModulesStructReaches) {
    ASSERT_EQ(exec("CREATE TABLE t_items (id INTEGER PRIMARY KEY)"), ATELIER_OK);
    ASSERT_EQ(exec("INSERT INTO t_items (id) VALUES (1), (2), (3)"), ATELIER_OK);
    // A module built before `changes` existed: its struct is the header alone.
    struct {
        atelier_db_result r;
        int64_t guard;
    } old;
    std::memset(&old, 0x5A, sizeof old);
    old.r.struct_size = offsetof(atelier_db_result, changes);
    old.r.abi_major = ATELIER_ABI_MAJOR;
    old.r.abi_minor = 0;
    int64_t untouched;
    std::memset(&untouched, 0x5A, sizeof untouched);
    ASSERT_EQ(exec("DELETE FROM t_items WHERE id = 1", {}, &old.r), ATELIER_OK);
    EXPECT_EQ(old.r.changes, untouched);
    EXPECT_EQ(old.guard, untouched);
    // A current one gets the count.
    auto now = atelier::initStruct<atelier_db_result>();
    ASSERT_EQ(exec("DELETE FROM t_items WHERE id > ?", {integer(1)}, &now), ATELIER_OK);
    EXPECT_EQ(now.changes, 2);
}

TEST_F(StorageContract, MigrationsRunPerEngineInVersionOrder) {
    // Version 1 exists once per engine; the PostgreSQL one is not SQLite and must never run here.
    std::vector<atelier_migration> ms = {
        migration(1, "CREATE TABLE mod_items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)", ATELIER_DB_SQLITE),
        migration(1,
                  "CREATE TABLE mod_items (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT) USING heap",
                  ATELIER_DB_POSTGRESQL),
        migration(2, "CREATE INDEX mod_items_name ON mod_items (name)", ATELIER_DB_ANY),
    };
    ASSERT_EQ(storage_->migrate("mod", ms.data(), ms.size()), ATELIER_OK) << Storage::lastError();
    EXPECT_TRUE(tableExists("mod_items"));
    EXPECT_TRUE(tableExists("mod_items_name"));
    EXPECT_EQ(ids("SELECT version FROM host_migrations WHERE module_id = 'mod' ORDER BY version"),
              (std::vector<int64_t>{1, 2}));
    // Applying again is a no-op.
    ASSERT_EQ(storage_->migrate("mod", ms.data(), ms.size()), ATELIER_OK) << Storage::lastError();

    // Versions must increase among the steps of one engine.
    std::vector<atelier_migration> unordered = {migration(2, "CREATE TABLE mod2_a (x)", ATELIER_DB_ANY),
                                                migration(2, "CREATE TABLE mod2_b (x)", ATELIER_DB_SQLITE)};
    EXPECT_EQ(storage_->migrate("mod2", unordered.data(), unordered.size()), ATELIER_ERR_INVALID);
    EXPECT_FALSE(tableExists("mod2_a"));
    std::vector<atelier_migration> unknown = {migration(1, "CREATE TABLE mod3_a (x)", 7)};
    EXPECT_EQ(storage_->migrate("mod3", unknown.data(), unknown.size()), ATELIER_ERR_INVALID);
    EXPECT_NE(Storage::lastError().find("unknown engine"), std::string::npos) << Storage::lastError();
}

TEST_F(StorageContract, MigrationArraysAreStridedByTheModulesStructSize) {
    // A module built against a later minor: each element is larger than the host's struct.
    struct Newer {
        atelier_migration m;
        int64_t appendedField;
    };
    Newer newer[2]{};
    const char* sql[] = {"CREATE TABLE newer_a (x)", "CREATE TABLE newer_b (x)"};
    for (int i = 0; i < 2; ++i) {
        newer[i].m = migration(i + 1, sql[i], ATELIER_DB_ANY);
        newer[i].m.struct_size = sizeof(Newer);
        newer[i].appendedField = -1;
    }
    ASSERT_EQ(storage_->migrate("newer", &newer[0].m, 2), ATELIER_OK) << Storage::lastError();
    EXPECT_TRUE(tableExists("newer_a"));
    EXPECT_TRUE(tableExists("newer_b"));

    // A module built before `engine` existed: smaller elements, every step portable.
    constexpr size_t oldSize = offsetof(atelier_migration, engine);
    alignas(atelier_migration) unsigned char packed[2 * oldSize + sizeof(atelier_migration)]{};
    const char* oldSql[] = {"CREATE TABLE older_a (x)", "CREATE TABLE older_b (x)"};
    for (int i = 0; i < 2; ++i) {
        auto m = migration(i + 1, oldSql[i], 99);  // the engine slot is past struct_size: never read
        m.struct_size = oldSize;
        std::memcpy(packed + i * oldSize, &m, oldSize);
    }
    ASSERT_EQ(storage_->migrate("older", reinterpret_cast<const atelier_migration*>(packed), 2), ATELIER_OK)
        << Storage::lastError();
    EXPECT_TRUE(tableExists("older_a"));
    EXPECT_TRUE(tableExists("older_b"));

    // Too small to hold the SQL: refused, nothing applied.
    auto tiny = migration(1, "CREATE TABLE tiny_a (x)", ATELIER_DB_ANY);
    tiny.struct_size = offsetof(atelier_migration, sql);
    EXPECT_EQ(storage_->migrate("tiny", &tiny, 1), ATELIER_ERR_INVALID);
    EXPECT_FALSE(tableExists("tiny_a"));
}

}  // namespace
