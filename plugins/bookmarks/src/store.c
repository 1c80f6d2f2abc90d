#define _POSIX_C_SOURCE 200809L /* gmtime_r, clock_gettime */

#include "store.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Identity columns differ per engine, so the table is created by one migration per engine;
 * the index after it is portable. */
static const char kSqliteTable[] =
    "CREATE TABLE bookmarks_items (id INTEGER PRIMARY KEY AUTOINCREMENT, project_id TEXT NOT NULL DEFAULT '',"
    " url TEXT NOT NULL, title TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (project_id, url))";
static const char kPostgresTable[] =
    "CREATE TABLE bookmarks_items (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, project_id TEXT NOT NULL"
    " DEFAULT '', url TEXT NOT NULL, title TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (project_id, url))";
static const char kIndex[] = "CREATE INDEX bookmarks_items_project ON bookmarks_items (project_id, id)";

static const char kColumns[] = "id, project_id, url, title, created_at";

static atelier_str cstr(const char* s) {
    atelier_str v;
    v.ptr = s;
    v.len = strlen(s);
    return v;
}

static atelier_value text(atelier_str s) {
    atelier_value v;
    memset(&v, 0, sizeof v);
    v.type = ATELIER_VALUE_TEXT;
    v.s = s;
    return v;
}

static atelier_value integer(int64_t i) {
    atelier_value v;
    memset(&v, 0, sizeof v);
    v.type = ATELIER_VALUE_INT;
    v.i = i;
    return v;
}

int bm_migrate(const bm_store* s) {
    atelier_migration ms[3];
    size_t i;
    memset(ms, 0, sizeof ms);
    for (i = 0; i < 3; ++i) {
        ms[i].struct_size = sizeof(atelier_migration);
        ms[i].abi_major = ATELIER_ABI_MAJOR;
        ms[i].abi_minor = ATELIER_ABI_MINOR;
    }
    ms[0].version = 1, ms[0].sql = cstr(kSqliteTable), ms[0].engine = ATELIER_DB_SQLITE;
    ms[1].version = 1, ms[1].sql = cstr(kPostgresTable), ms[1].engine = ATELIER_DB_POSTGRESQL;
    ms[2].version = 2, ms[2].sql = cstr(kIndex), ms[2].engine = ATELIER_DB_ANY;
    return s->host->db_migrate(s->ctx, ms, 3);
}

/* Renders each row as a JSON object; the project id "" reads back as null. */
typedef struct rows {
    jl_buf* out;
    size_t count;
} rows;

static int on_row(void* user_data, size_t ncols, const atelier_str* names, const atelier_value* values) {
    rows* r = (rows*)user_data;
    size_t i;
    if (r->count++) jl_append(r->out, ",", 1);
    jl_append(r->out, "{", 1);
    for (i = 0; i < ncols; ++i) {
        if (i) jl_append(r->out, ",", 1);
        jl_append_string(r->out, names[i].ptr, names[i].len);
        jl_append(r->out, ":", 1);
        if (values[i].type == ATELIER_VALUE_INT)
            jl_append_int(r->out, values[i].i);
        else if (values[i].type == ATELIER_VALUE_TEXT && values[i].s.len > 0)
            jl_append_string(r->out, values[i].s.ptr, values[i].s.len);
        else
            jl_append_cstr(r->out, "null");
    }
    jl_append(r->out, "}", 1);
    return 0;
}

static void now_iso(char* buf, size_t size) {
    struct timespec ts;
    struct tm tm;
    char date[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03ldZ", date, ts.tv_nsec / 1000000L);
}

int bm_create(const bm_store* s, atelier_str project_id, atelier_str url, atelier_str title, jl_buf* out) {
    char sql[256], created[48];
    atelier_value params[4];
    rows r;
    int rc;
    now_iso(created, sizeof created);
    params[0] = text(project_id), params[1] = text(url), params[2] = text(title), params[3] = text(cstr(created));
    /* The new row comes back through RETURNING: the contract has no "last insert id". */
    snprintf(sql, sizeof sql,
             "INSERT INTO bookmarks_items (project_id, url, title, created_at) VALUES (?, ?, ?, ?) RETURNING %s",
             kColumns);
    r.out = out, r.count = 0;
    rc = s->host->db_query(s->ctx, NULL, cstr(sql), params, 4, on_row, &r);
    if (rc == ATELIER_OK && r.count != 1) rc = ATELIER_ERR_INTERNAL;
    return rc;
}

int bm_list(const bm_store* s, atelier_str project_id, int64_t limit, jl_buf* out) {
    char sql[256];
    atelier_value params[2];
    rows r;
    int rc;
    r.out = out, r.count = 0;
    jl_append(out, "[", 1);
    if (project_id.len) {
        snprintf(sql, sizeof sql, "SELECT %s FROM bookmarks_items WHERE project_id = ? ORDER BY id LIMIT ?", kColumns);
        params[0] = text(project_id), params[1] = integer(limit);
        rc = s->host->db_query(s->ctx, NULL, cstr(sql), params, 2, on_row, &r);
    } else {
        snprintf(sql, sizeof sql, "SELECT %s FROM bookmarks_items ORDER BY id LIMIT ?", kColumns);
        params[0] = integer(limit);
        rc = s->host->db_query(s->ctx, NULL, cstr(sql), params, 1, on_row, &r);
    }
    jl_append(out, "]", 1);
    return rc;
}

int bm_get(const bm_store* s, int64_t id, jl_buf* out) {
    char sql[256];
    atelier_value param = integer(id);
    rows r;
    int rc;
    r.out = out, r.count = 0;
    snprintf(sql, sizeof sql, "SELECT %s FROM bookmarks_items WHERE id = ?", kColumns);
    rc = s->host->db_query(s->ctx, NULL, cstr(sql), &param, 1, on_row, &r);
    if (rc == ATELIER_OK && r.count == 0) rc = ATELIER_ERR_NOT_FOUND;
    return rc;
}

int bm_delete(const bm_store* s, int64_t id) {
    atelier_value param = integer(id);
    atelier_db_result result;
    int rc;
    memset(&result, 0, sizeof result);
    result.struct_size = sizeof result, result.abi_major = ATELIER_ABI_MAJOR, result.abi_minor = ATELIER_ABI_MINOR;
    rc = s->host->db_exec(s->ctx, NULL, cstr("DELETE FROM bookmarks_items WHERE id = ?"), &param, 1, &result);
    if (rc == ATELIER_OK && result.changes == 0) rc = ATELIER_ERR_NOT_FOUND;
    return rc;
}

int64_t bm_delete_project(const bm_store* s, atelier_str project_id) {
    atelier_value param = text(project_id);
    atelier_db_result result;
    memset(&result, 0, sizeof result);
    result.struct_size = sizeof result, result.abi_major = ATELIER_ABI_MAJOR, result.abi_minor = ATELIER_ABI_MINOR;
    if (s->host->db_exec(s->ctx, NULL, cstr("DELETE FROM bookmarks_items WHERE project_id = ?"), &param, 1, &result) !=
        ATELIER_OK)
        return -1;
    return result.changes;
}
