#include "storage.hpp"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <sqlite3.h>

#include <regex>
#include <stdexcept>

namespace atelier::host {

namespace {
thread_local std::string tlsLastError;

// SQLite's codes onto the engine-neutral statuses of the storage contract (abi.h).
int mapError(int extended) {
    switch (extended) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_ROWID:
            return ATELIER_ERR_CONFLICT;
        default:
            break;
    }
    switch (extended & 0xff) {
        case SQLITE_CONSTRAINT:
            return ATELIER_ERR_CONSTRAINT;
        case SQLITE_BUSY:
        case SQLITE_LOCKED: return ATELIER_ERR_BUSY;
        case SQLITE_ERROR:
        case SQLITE_RANGE:
        case SQLITE_MISMATCH:
        case SQLITE_TOOBIG: return ATELIER_ERR_INVALID;
        default: return ATELIER_ERR_INTERNAL;
    }
}
}  // namespace

struct Storage::Connection {
    Poco::Data::Session session;
    sqlite3* db = nullptr;
    std::unordered_map<std::string, sqlite3_stmt*> cache;

    explicit Connection(const std::string& path) : session("SQLite", path) {
        db = Poco::Data::SQLite::Utility::dbHandle(session);
        sqlite3_busy_timeout(db, 5000);
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=NORMAL");
        exec("PRAGMA foreign_keys=ON");
        exec("PRAGMA temp_store=MEMORY");
    }
    ~Connection() {
        for (auto& [sql, st] : cache) sqlite3_finalize(st);
    }
    void exec(const char* sql) {
        char* err = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : "sqlite error";
            sqlite3_free(err);
            throw std::runtime_error(msg);
        }
    }
};

Storage::Storage(const std::string& path, int readerCount) : path_(path) {
    Poco::Data::SQLite::Connector::registerConnector();
    writer_ = std::make_unique<Connection>(path);
    writer_->exec(
        "CREATE TABLE IF NOT EXISTS host_migrations (module_id TEXT NOT NULL, version INTEGER NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), PRIMARY KEY (module_id, version))");
    for (int i = 0; i < readerCount; ++i) {
        readers_.push_back(std::make_unique<Connection>(path));
        freeReaders_.push_back(readers_.back().get());
    }
    checkpointer_ = std::make_unique<Connection>(path);
    writer_->exec("PRAGMA wal_autocheckpoint=0");  // before the hook: this pragma installs its own
    sqlite3_wal_hook(writer_->db, &Storage::walHook, this);
    checkpointThread_ = std::thread([this] { checkpointLoop(); });
}

namespace {
constexpr int kCheckpointPages = 1000;  // SQLite's own autocheckpoint threshold
constexpr int kRestartPages = 4 * kCheckpointPages;
}

int Storage::walHook(void* self, sqlite3*, const char*, int pages) {
    if (pages < kCheckpointPages) return 0;
    auto* s = static_cast<Storage*>(self);
    {
        std::lock_guard lock(s->checkpointMutex_);
        if (s->checkpointWanted_) return 0;
        s->checkpointWanted_ = true;
    }
    s->checkpointCv_.notify_one();
    return 0;
}

void Storage::checkpointLoop() {
    std::unique_lock lock(checkpointMutex_);
    while (true) {
        checkpointCv_.wait(lock, [&] { return checkpointWanted_ || checkpointStop_; });
        if (checkpointStop_) return;
        lock.unlock();
        // Passive: copies what it can while the writer goes on.
        int log = 0, done = 0;
        sqlite3_wal_checkpoint_v2(checkpointer_->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (log >= kRestartPages) {
            // The log only restarts when a write transaction begins with every frame copied,
            // which a checkpoint running beside a busy writer never arranges: the log would
            // grow without bound. So every kRestartPages the writer is held back while the
            // frames written meanwhile are copied; the bulk was copied above.
            std::lock_guard writer(writerMutex_);
            sqlite3_wal_checkpoint_v2(checkpointer_->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        }
        lock.lock();
        checkpointWanted_ = false;
    }
}

Storage::~Storage() {
    {
        std::lock_guard lock(checkpointMutex_);
        checkpointStop_ = true;
    }
    checkpointCv_.notify_all();
    if (checkpointThread_.joinable()) checkpointThread_.join();
    checkpointer_.reset();
    try {
        std::lock_guard lock(writerMutex_);
        sqlite3_wal_checkpoint_v2(writer_->db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    } catch (...) {
    }
    readers_.clear();
    writer_.reset();
}


const std::string& Storage::lastError() { return tlsLastError; }
void Storage::setLastError(std::string message) { tlsLastError = std::move(message); }

std::string Storage::tablePrefix(const std::string& moduleId) {
    std::string p = moduleId;
    for (auto& c : p)
        if (c == '-') c = '_';
    return p + "_";
}

std::string Storage::checkObjectNames(const std::string& sql, const std::string& prefix) {
    static const std::regex create(
        R"((?:CREATE\s+(?:UNIQUE\s+|VIRTUAL\s+|TEMP\s+|TEMPORARY\s+)*(?:TABLE|INDEX|TRIGGER|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?|(?:ALTER|DROP)\s+(?:TABLE|INDEX|TRIGGER|VIEW)\s+(?:IF\s+EXISTS\s+)?)["`\[]?([A-Za-z0-9_]+))",
        std::regex::icase);
    for (auto it = std::sregex_iterator(sql.begin(), sql.end(), create); it != std::sregex_iterator(); ++it) {
        std::string name = (*it)[1].str();
        std::string lower = name;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower.rfind(prefix, 0) != 0) return name;
    }
    return {};
}

Storage::Connection* Storage::acquireReader() {
    std::unique_lock lock(readerMutex_);
    readerCv_.wait(lock, [&] { return !freeReaders_.empty(); });
    auto* c = freeReaders_.back();
    freeReaders_.pop_back();
    return c;
}

void Storage::releaseReader(Connection* c) {
    {
        std::lock_guard lock(readerMutex_);
        freeReaders_.push_back(c);
    }
    readerCv_.notify_one();
}

int Storage::runOn(Connection& c, const std::string& sql, const atelier_value* params, size_t nparams,
                   atelier_row_fn onRow, void* userData, atelier_db_result* result, bool* notReadOnly,
                   Placeholders placeholders) {
    sqlite3_stmt* st = nullptr;
    auto cached = c.cache.find(sql);
    if (cached != c.cache.end()) {
        st = cached->second;
    } else {
        const char* tail = nullptr;
        int rc = sqlite3_prepare_v3(c.db, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st, &tail);
        if (rc != SQLITE_OK) {
            tlsLastError = sqlite3_errmsg(c.db);
            return ATELIER_ERR_INVALID;
        }
        if (!st) {  // empty statement
            return ATELIER_OK;
        }
        while (tail && *tail && std::isspace(static_cast<unsigned char>(*tail))) ++tail;
        if (tail && *tail && *tail != ';') {
            sqlite3_finalize(st);
            tlsLastError = "only one statement per call";
            return ATELIER_ERR_INVALID;
        }
        if (c.cache.size() > 512) {
            for (auto& [k, v] : c.cache) sqlite3_finalize(v);
            c.cache.clear();
        }
        c.cache.emplace(sql, st);
    }
    if (notReadOnly && !sqlite3_stmt_readonly(st)) {
        *notReadOnly = true;
        return ATELIER_OK;
    }
    struct Reset {
        sqlite3_stmt* st;
        ~Reset() {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        }
    } reset{st};
    int expected = sqlite3_bind_parameter_count(st);
    if (placeholders == Placeholders::PositionalOnly) {
        // `?NNN`, `:name`, `@name` and `$name` are SQLite dialect: a module that used them
        // would not run on another engine, so the contract refuses them here.
        for (int i = 1; i <= expected; ++i) {
            if (const char* name = sqlite3_bind_parameter_name(st, i)) {
                tlsLastError =
                    std::string("placeholder '") + name + "' is not allowed: use positional '?' placeholders";
                return ATELIER_ERR_INVALID;
            }
        }
    }
    if (static_cast<size_t>(expected) != nparams) {
        tlsLastError = "statement expects " + std::to_string(expected) + " parameters, got " + std::to_string(nparams);
        return ATELIER_ERR_INVALID;
    }
    for (size_t i = 0; i < nparams; ++i) {
        int idx = static_cast<int>(i + 1);
        const atelier_value& v = params[i];
        switch (v.type) {
            case ATELIER_VALUE_INT: sqlite3_bind_int64(st, idx, v.i); break;
            case ATELIER_VALUE_REAL: sqlite3_bind_double(st, idx, v.r); break;
            case ATELIER_VALUE_TEXT:
                sqlite3_bind_text64(st, idx, v.s.ptr ? v.s.ptr : "", v.s.len, SQLITE_STATIC, SQLITE_UTF8);
                break;
            case ATELIER_VALUE_BLOB: sqlite3_bind_blob64(st, idx, v.s.ptr ? v.s.ptr : "", v.s.len, SQLITE_STATIC); break;
            default: sqlite3_bind_null(st, idx);
        }
    }
    // Column names are read after the first step: sqlite3_step may re-prepare the statement
    // (e.g. a LIKE with a bound pattern), which invalidates name pointers taken before it.
    int ncols = 0;
    std::vector<std::string> nameStore;
    std::vector<atelier_str> names;
    std::vector<atelier_value> values;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!onRow) continue;
        if (names.empty()) {
            ncols = sqlite3_column_count(st);
            nameStore.resize(static_cast<size_t>(ncols));
            names.resize(static_cast<size_t>(ncols));
            values.resize(static_cast<size_t>(ncols));
            for (int i = 0; i < ncols; ++i) {
                const char* n = sqlite3_column_name(st, i);
                nameStore[static_cast<size_t>(i)] = n ? n : "";
                names[static_cast<size_t>(i)] = atelier_str{nameStore[static_cast<size_t>(i)].data(), nameStore[static_cast<size_t>(i)].size()};
            }
        }
        for (int i = 0; i < ncols; ++i) {
            atelier_value& v = values[static_cast<size_t>(i)];
            v = atelier_value{};
            switch (sqlite3_column_type(st, i)) {
                case SQLITE_INTEGER:
                    v.type = ATELIER_VALUE_INT;
                    v.i = sqlite3_column_int64(st, i);
                    break;
                case SQLITE_FLOAT:
                    v.type = ATELIER_VALUE_REAL;
                    v.r = sqlite3_column_double(st, i);
                    break;
                case SQLITE_TEXT:
                    v.type = ATELIER_VALUE_TEXT;
                    v.s.ptr = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
                    v.s.len = static_cast<size_t>(sqlite3_column_bytes(st, i));
                    break;
                case SQLITE_BLOB:
                    v.type = ATELIER_VALUE_BLOB;
                    v.s.ptr = static_cast<const char*>(sqlite3_column_blob(st, i));
                    v.s.len = static_cast<size_t>(sqlite3_column_bytes(st, i));
                    break;
                default: v.type = ATELIER_VALUE_NULL;
            }
        }
        if (onRow(userData, static_cast<size_t>(ncols), names.data(), values.data()) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        tlsLastError = sqlite3_errmsg(c.db);
        return mapError(sqlite3_extended_errcode(c.db));
    }
    if (result && ATELIER_HAS_FIELD(result, atelier_db_result, changes)) result->changes = sqlite3_changes64(c.db);
    return ATELIER_OK;
}

int Storage::run(void* txnDb, const std::string& sql, const atelier_value* params, size_t nparams, atelier_row_fn onRow,
                 void* userData, atelier_db_result* result, Placeholders placeholders) {
    try {
        if (txnDb) {  // inside a transaction: the caller's thread holds the writer
            return runOn(*writer_, sql, params, nparams, onRow, userData, result, nullptr, placeholders);
        }
        if (onRow && !result) {  // a query: try a reader first
            Connection* r = acquireReader();
            bool writes = false;
            int rc = runOn(*r, sql, params, nparams, onRow, userData, result, &writes, placeholders);
            releaseReader(r);
            if (!writes) return rc;
        }
        std::lock_guard lock(writerMutex_);
        return runOn(*writer_, sql, params, nparams, onRow, userData, result, nullptr, placeholders);
    } catch (const std::exception& e) {
        tlsLastError = e.what();
        return ATELIER_ERR_INTERNAL;
    }
}

int Storage::transaction(const std::function<int(void*)>& fn) {
    std::lock_guard lock(writerMutex_);
    Connection& w = *writer_;
    if (!sqlite3_get_autocommit(w.db)) {  // nested on this thread: join the outer transaction
        return fn(&w);
    }
    if (sqlite3_exec(w.db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
        tlsLastError = sqlite3_errmsg(w.db);
        return mapError(sqlite3_extended_errcode(w.db));
    }
    int rc;
    try {
        rc = fn(&w);
    } catch (...) {
        rc = ATELIER_ERR_INTERNAL;
    }
    if (rc == ATELIER_OK) {
        if (sqlite3_exec(w.db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
            tlsLastError = sqlite3_errmsg(w.db);
            rc = mapError(sqlite3_extended_errcode(w.db));
            sqlite3_exec(w.db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
    } else {
        std::string keep = tlsLastError;
        sqlite3_exec(w.db, "ROLLBACK", nullptr, nullptr, nullptr);
        tlsLastError = keep;
    }
    return rc;
}

int Storage::migrate(const std::string& moduleId, const atelier_migration* migrations, size_t n) {
    std::string prefix = tablePrefix(moduleId);
    if (n == 0) return ATELIER_OK;
    // Strided by the module's own struct_size: a module built against a later minor passes
    // larger elements, one built against an earlier minor smaller ones.
    const size_t stride = migrations->struct_size;
    if (migrations->abi_major != ATELIER_ABI_MAJOR || !ATELIER_HAS_FIELD(migrations, atelier_migration, sql)) {
        tlsLastError = "migrations of module " + moduleId + " have an unknown layout (struct_size " +
                       std::to_string(stride) + ", ABI major " + std::to_string(migrations->abi_major) + ")";
        return ATELIER_ERR_INVALID;
    }
    struct Step {
        int64_t version;
        std::string sql;
    };
    std::vector<Step> steps;
    for (size_t i = 0; i < n; ++i) {
        const auto* m =
            reinterpret_cast<const atelier_migration*>(reinterpret_cast<const char*>(migrations) + i * stride);
        int32_t engine = ATELIER_HAS_FIELD(m, atelier_migration, engine) ? m->engine : ATELIER_DB_ANY;
        if (engine != ATELIER_DB_ANY && engine != ATELIER_DB_SQLITE && engine != ATELIER_DB_POSTGRESQL) {
            tlsLastError = "migration " + std::to_string(m->version) + " of module " + moduleId +
                           " names unknown engine " + std::to_string(engine);
            return ATELIER_ERR_INVALID;
        }
        if (engine != ATELIER_DB_ANY && engine != kEngine) continue;  // another engine's step
        if (m->version <= (steps.empty() ? 0 : steps.back().version)) {
            tlsLastError = "migration versions must increase (module " + moduleId + ")";
            return ATELIER_ERR_INVALID;
        }
        std::string sql(m->sql.ptr ? m->sql.ptr : "", m->sql.len);
        std::string bad = checkObjectNames(sql, prefix);
        if (!bad.empty()) {
            tlsLastError = "migration " + std::to_string(m->version) + " of module " + moduleId + " touches '" + bad +
                           "', which does not start with '" + prefix + "'";
            return ATELIER_ERR_INVALID;
        }
        steps.push_back(Step{m->version, std::move(sql)});
    }
    for (const auto& m : steps) {
        int rc = transaction([&](void*) -> int {
            Connection& w = *writer_;
            sqlite3_stmt* st = nullptr;
            sqlite3_prepare_v2(w.db, "SELECT 1 FROM host_migrations WHERE module_id = ? AND version = ?", -1, &st, nullptr);
            sqlite3_bind_text(st, 1, moduleId.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, m.version);
            bool applied = sqlite3_step(st) == SQLITE_ROW;
            sqlite3_finalize(st);
            if (applied) return ATELIER_OK;
            char* err = nullptr;
            if (sqlite3_exec(w.db, m.sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
                tlsLastError = "migration " + std::to_string(m.version) + " of module " + moduleId + " failed: " +
                               (err ? err : "error");
                sqlite3_free(err);
                return ATELIER_ERR_INVALID;
            }
            sqlite3_prepare_v2(w.db, "INSERT INTO host_migrations (module_id, version) VALUES (?, ?)", -1, &st, nullptr);
            sqlite3_bind_text(st, 1, moduleId.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, m.version);
            int src = sqlite3_step(st);
            sqlite3_finalize(st);
            return src == SQLITE_DONE ? ATELIER_OK : ATELIER_ERR_INTERNAL;
        });
        if (rc != ATELIER_OK) return rc;
    }
    // Statement caches may hold plans for an older schema; SQLite re-prepares them itself.
    return ATELIER_OK;
}

}  // namespace atelier::host
