// SQLite storage owned by the host: one database file, WAL, one serialized writer connection
// and a small pool of reader connections. Connections are opened through Poco::Data (session
// management, the SQLite connector); statements run on the raw handle with a per-connection
// prepared-statement cache, because module parameters arrive as dynamically typed C values.
#pragma once

#include <atelier/abi.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace atelier::host {

class Storage {
public:
    Storage(const std::string& path, int readerCount);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    // The engine behind this storage, as modules see it through db_engine.
    static constexpr int kEngine = ATELIER_DB_SQLITE;

    // Host SQL may use any SQLite placeholder; module SQL is held to the storage contract's
    // positional `?` (abi.h), so that it runs unchanged on another engine.
    enum class Placeholders { Any, PositionalOnly };

    // Executes one statement. `onRow` may be null. A null `txnDb` means autocommit: reads go to
    // a reader connection, writes to the writer (serialized); a call with both `onRow` and
    // `result` goes straight to the writer (INSERT ... RETURNING). Returns an atelier_status;
    // the message of a failure is available from lastError() on this thread.
    int run(void* txnDb, const std::string& sql, const atelier_value* params, size_t nparams, atelier_row_fn onRow,
            void* userData, atelier_db_result* result, Placeholders placeholders = Placeholders::Any);

    // BEGIN IMMEDIATE on the writer; fn gets the writer handle as its transaction token.
    int transaction(const std::function<int(void* txnDb)>& fn);

    // Applies the migrations for this engine (ATELIER_DB_ANY or kEngine) not yet recorded for
    // `moduleId`, each in its own transaction; the array is strided by its first element's
    // struct_size. Rejects SQL creating or altering objects not prefixed with the module's
    // table prefix.
    int migrate(const std::string& moduleId, const atelier_migration* migrations, size_t n);

    static const std::string& lastError();
    static void setLastError(std::string message);
    static std::string tablePrefix(const std::string& moduleId);
    // Returns an empty string when every object the SQL creates/alters/drops has the prefix,
    // else the offending name.
    static std::string checkObjectNames(const std::string& sql, const std::string& prefix);

    const std::string& path() const { return path_; }

private:
    struct Connection;
    Connection* acquireReader();
    void releaseReader(Connection* c);
    int runOn(Connection& c, const std::string& sql, const atelier_value* params, size_t nparams, atelier_row_fn onRow,
              void* userData, atelier_db_result* result, bool* notReadOnly, Placeholders placeholders);

    std::string path_;
    std::unique_ptr<Connection> writer_;
    std::recursive_mutex writerMutex_;
    std::vector<std::unique_ptr<Connection>> readers_;
    std::vector<Connection*> freeReaders_;
    std::mutex readerMutex_;
    std::condition_variable readerCv_;

    // WAL checkpoints run on their own connection and thread, started by the writer's WAL hook
    // when the log passes kCheckpointPages, instead of inside whichever commit crossed the
    // line: a checkpoint's two fsyncs would otherwise stall that writer and everyone queued
    // behind it (the event bus, hook ingestion) for milliseconds.
    static int walHook(void* self, sqlite3* db, const char* name, int pages);
    void checkpointLoop();
    std::unique_ptr<Connection> checkpointer_;
    std::thread checkpointThread_;
    std::mutex checkpointMutex_;
    std::condition_variable checkpointCv_;
    bool checkpointWanted_ = false, checkpointStop_ = false;
};

}  // namespace atelier::host
