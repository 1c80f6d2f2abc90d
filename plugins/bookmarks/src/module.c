/* The bookmarks plugin: plain C99 against atelier/abi.h alone, no C++ SDK. It shows what a C
 * (or Rust, or any C-ABI) author needs: an entry table, routes that answer the uniform error
 * body, a table created by per-engine migrations, and an event subscription. */
#include <atelier/abi.h>
#include <stdlib.h>
#include <string.h>

#include "json_lite.h"
#include "store.h"

/* Set once in init, read-only afterwards: safe from every worker and bus thread. */
static bm_store g_store;

static atelier_str cstr(const char* s) {
    atelier_str v;
    v.ptr = s;
    v.len = strlen(s);
    return v;
}

/* ------------------------------------------------------------------ responses */

static void send_json(atelier_response* res, int status, const jl_buf* body) {
    const atelier_host_v1* h = g_store.host;
    h->response_set_status(res, status);
    h->response_set_header(res, cstr("Content-Type"), cstr("application/json"));
    if (body->ptr) {
        atelier_str b;
        b.ptr = body->ptr, b.len = body->len;
        h->response_set_body(res, b);
    }
}

typedef struct detail {
    const char* field;
    const char* message;
} detail;

/* The error body in the request's flavor shape (the uniform
 * {"success":false,"error":…,"code":…,"details":[{field,message}]} by default), rendered by the
 * host: the plugin hands over the details array as JSON. */
static void send_error(atelier_response* res, int status, const char* code, const char* message, const detail* details,
                       size_t ndetails) {
    jl_buf b = {NULL, 0, 0, 0};
    size_t i;
    if (ndetails) {
        jl_append(&b, "[", 1);
        for (i = 0; i < ndetails; ++i) {
            if (i) jl_append(&b, ",", 1);
            jl_append_cstr(&b, "{\"field\":");
            jl_append_string(&b, details[i].field, strlen(details[i].field));
            jl_append_cstr(&b, ",\"message\":");
            jl_append_string(&b, details[i].message, strlen(details[i].message));
            jl_append(&b, "}", 1);
        }
        jl_append(&b, "]", 1);
    }
    {
        atelier_str detailsJson;
        detailsJson.ptr = b.ptr;
        detailsJson.len = b.len;
        g_store.host->response_set_error(res, status, cstr(code), cstr(message), detailsJson);
    }
    jl_free(&b);
}

static void sink_append(void* data, const char* ptr, size_t len) { jl_append((jl_buf*)data, ptr, len); }

/* A database failure the handler does not expect: logged with the engine's message, answered
 * without it. */
static void send_db_error(atelier_response* res, int rc) {
    const atelier_host_v1* h = g_store.host;
    jl_buf msg = {NULL, 0, 0, 0};
    if (rc == ATELIER_ERR_BUSY) {
        send_error(res, 503, "DATABASE_BUSY", "The database is busy; retry", NULL, 0);
        return;
    }
    jl_append_cstr(&msg, "database error: ");
    h->db_last_error(g_store.ctx, sink_append, &msg);
    if (msg.ptr) h->log(g_store.ctx, ATELIER_LOG_ERROR, cstr(msg.ptr));
    jl_free(&msg);
    send_error(res, 500, "INTERNAL_ERROR", "Internal database error", NULL, 0);
}

static void send_result(atelier_response* res, int status, int rc, jl_buf* out) {
    if (rc == ATELIER_OK && !out->failed)
        send_json(res, status, out);
    else if (rc == ATELIER_OK)
        send_error(res, 500, "INTERNAL_ERROR", "Out of memory", NULL, 0);
    else if (rc == ATELIER_ERR_NOT_FOUND)
        send_error(res, 404, "BOOKMARK_NOT_FOUND", "Bookmark not found", NULL, 0);
    else
        send_db_error(res, rc);
    jl_free(out);
}

/* ------------------------------------------------------------------ input */

/* A positive decimal id, else 0. */
static int64_t parse_id(atelier_str s) {
    int64_t v = 0;
    size_t i;
    if (s.len == 0 || s.len > 18) return 0;
    for (i = 0; i < s.len; ++i) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return 0;
        v = v * 10 + (s.ptr[i] - '0');
    }
    return v;
}

static int has_prefix(const jl_buf* b, const char* prefix) {
    size_t n = strlen(prefix);
    return b->len >= n && memcmp(b->ptr, prefix, n) == 0;
}

static atelier_str view(const jl_buf* b) {
    atelier_str v;
    v.ptr = b->ptr ? b->ptr : "";
    v.len = b->len;
    return v;
}

/* ------------------------------------------------------------------ routes */

static void add_detail(detail* details, size_t* n, const char* field, const char* message) {
    details[*n].field = field;
    details[*n].message = message;
    ++*n;
}

static void create_bookmark(void* user_data, const atelier_request* req, atelier_response* res) {
    const atelier_host_v1* h = g_store.host;
    atelier_str body = h->request_body(req);
    jl_field f[3];
    detail details[3];
    size_t nd = 0, i;
    jl_buf out = {NULL, 0, 0, 0};
    int rc;
    (void)user_data;
    memset(f, 0, sizeof f);
    f[0].name = "url", f[1].name = "title", f[2].name = "project_id";
    rc = jl_read_object(body.ptr, body.len, f, 3);
    if (rc != JL_OK) {
        for (i = 0; i < 3; ++i) jl_free(&f[i].value);
        if (rc == JL_NO_MEMORY)
            send_error(res, 500, "INTERNAL_ERROR", "Out of memory", NULL, 0);
        else if (rc == JL_NOT_OBJECT)
            send_error(res, 400, "INVALID_JSON", "Request body must be a JSON object", NULL, 0);
        else
            send_error(res, 400, "INVALID_JSON", "Request body is not valid JSON", NULL, 0);
        return;
    }
    if (f[0].kind != JL_STRING)
        add_detail(details, &nd, "url", "required string");
    else if (!has_prefix(&f[0].value, "http://") && !has_prefix(&f[0].value, "https://"))
        add_detail(details, &nd, "url", "must start with http:// or https://");
    else if (f[0].value.len > 2048)
        add_detail(details, &nd, "url", "at most 2048 bytes");
    if (f[1].kind != JL_ABSENT && f[1].kind != JL_STRING)
        add_detail(details, &nd, "title", "must be a string");
    else if (f[1].value.len > 300)
        add_detail(details, &nd, "title", "at most 300 bytes");
    if (f[2].kind == JL_OTHER)
        add_detail(details, &nd, "project_id", "must be a string or null");
    else if (f[2].value.len > 200)
        add_detail(details, &nd, "project_id", "at most 200 bytes");
    if (nd) {
        send_error(res, 400, "VALIDATION_ERROR", details[0].message, details, nd);
    } else {
        /* No title: the URL stands in for it. */
        atelier_str title = f[1].kind == JL_STRING && f[1].value.len ? view(&f[1].value) : view(&f[0].value);
        rc = bm_create(&g_store, view(&f[2].value), view(&f[0].value), title, &out);
        if (rc == ATELIER_ERR_CONFLICT) {
            jl_free(&out);
            send_error(res, 409, "BOOKMARK_EXISTS", "This URL is already bookmarked in the project", NULL, 0);
        } else {
            send_result(res, 201, rc, &out);
        }
    }
    for (i = 0; i < 3; ++i) jl_free(&f[i].value);
}

static void list_bookmarks(void* user_data, const atelier_request* req, atelier_response* res) {
    const atelier_host_v1* h = g_store.host;
    atelier_str limit_text = h->request_query(req, cstr("limit"));
    int64_t limit = 100;
    jl_buf out = {NULL, 0, 0, 0};
    (void)user_data;
    if (h->request_query_has(req, cstr("limit"))) {
        limit = parse_id(limit_text);
        if (limit < 1 || limit > 100) {
            detail d;
            d.field = "limit", d.message = "must be an integer from 1 to 100";
            send_error(res, 400, "VALIDATION_ERROR", d.message, &d, 1);
            return;
        }
    }
    send_result(res, 200, bm_list(&g_store, h->request_query(req, cstr("project_id")), limit, &out), &out);
}

static void get_bookmark(void* user_data, const atelier_request* req, atelier_response* res) {
    jl_buf out = {NULL, 0, 0, 0};
    int64_t id = parse_id(g_store.host->request_param(req, cstr("id")));
    (void)user_data;
    if (id <= 0) {
        send_error(res, 404, "BOOKMARK_NOT_FOUND", "Bookmark not found", NULL, 0);
        return;
    }
    send_result(res, 200, bm_get(&g_store, id, &out), &out);
}

static void delete_bookmark(void* user_data, const atelier_request* req, atelier_response* res) {
    int64_t id = parse_id(g_store.host->request_param(req, cstr("id")));
    int rc = id > 0 ? bm_delete(&g_store, id) : ATELIER_ERR_NOT_FOUND;
    (void)user_data;
    if (rc == ATELIER_OK)
        g_store.host->response_set_status(res, 204);
    else if (rc == ATELIER_ERR_NOT_FOUND)
        send_error(res, 404, "BOOKMARK_NOT_FOUND", "Bookmark not found", NULL, 0);
    else
        send_db_error(res, rc);
}

/* ------------------------------------------------------------------ events */

/* A deleted project takes its bookmarks with it. Runs on a host bus thread. */
static void on_project_deleted(void* user_data, const atelier_event* event) {
    (void)user_data;
    if (event->project_id.len == 0) return;
    if (bm_delete_project(&g_store, event->project_id) < 0)
        g_store.host->log(g_store.ctx, ATELIER_LOG_WARN, cstr("could not drop the bookmarks of a deleted project"));
}

/* ------------------------------------------------------------------ lifecycle */

/* Every host function this plugin calls, checked once: a host whose table is too short for
 * one of them is refused with its name instead of crashing later. */
static const char* missing_function(const atelier_host_v1* h) {
#define BM_NEED(fn) \
    if (!ATELIER_HOST_HAS(h, fn)) return #fn
    BM_NEED(log);
    BM_NEED(set_error);
    BM_NEED(route_add);
    BM_NEED(request_param);
    BM_NEED(request_query_has);
    BM_NEED(request_query);
    BM_NEED(request_body);
    BM_NEED(response_set_status);
    BM_NEED(response_set_header);
    BM_NEED(response_set_body);
    BM_NEED(response_set_error);
    BM_NEED(db_exec);
    BM_NEED(db_query);
    BM_NEED(db_migrate);
    BM_NEED(db_last_error);
    BM_NEED(event_subscribe);
#undef BM_NEED
    return NULL;
}

static int add_route(const char* method, const char* pattern, const char* summary, atelier_route_fn fn) {
    atelier_route_desc d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.abi_major = ATELIER_ABI_MAJOR;
    d.abi_minor = ATELIER_ABI_MINOR;
    d.method = cstr(method);
    d.pattern = cstr(pattern);
    d.summary = cstr(summary);
    d.flavors = ATELIER_FLAVORS_DEFAULT;
    d.handler = fn;
    d.user_data = NULL;
    return g_store.host->route_add(g_store.ctx, &d);
}

static int bm_init(const atelier_host_v1* host, atelier_module_ctx* ctx, void** module_state) {
    const char* missing;
    int rc;
    *module_state = NULL;
    if (!host || host->abi_major != ATELIER_ABI_MAJOR) return ATELIER_ERR_UNSUPPORTED;
    missing = missing_function(host);
    if (missing) {
        /* set_error itself may be the missing one: check before using it. */
        if (ATELIER_HOST_HAS(host, set_error)) {
            char msg[128] = "the host does not offer ";
            strncat(msg, missing, sizeof msg - strlen(msg) - 1);
            host->set_error(ctx, cstr(msg));
        }
        return ATELIER_ERR_UNSUPPORTED;
    }
    g_store.host = host;
    g_store.ctx = ctx;
    rc = bm_migrate(&g_store);
    if (rc != ATELIER_OK) return rc; /* the host already recorded the migration's error */
    if ((rc = add_route("POST", "/api/bookmarks", "Create a bookmark", create_bookmark)) != ATELIER_OK ||
        (rc = add_route("GET", "/api/bookmarks", "List bookmarks (?project_id=, ?limit=)", list_bookmarks)) !=
            ATELIER_OK ||
        (rc = add_route("GET", "/api/bookmarks/:id", "Get a bookmark", get_bookmark)) != ATELIER_OK ||
        (rc = add_route("DELETE", "/api/bookmarks/:id", "Delete a bookmark", delete_bookmark)) != ATELIER_OK)
        return rc;
    if (host->event_subscribe(ctx, cstr("project.deleted"), on_project_deleted, NULL) <= 0) return ATELIER_ERR_INTERNAL;
    return ATELIER_OK;
}

static int bm_start(void* module_state) {
    (void)module_state;
    return ATELIER_OK;
}
static void bm_stop(void* module_state) { (void)module_state; }
static void bm_destroy(void* module_state) { (void)module_state; }

ATELIER_EXPORT const atelier_module_v1* atelier_module_entry_v1(void) {
    static const atelier_module_v1 table = {
        .struct_size = sizeof(atelier_module_v1),
        .abi_major = ATELIER_ABI_MAJOR,
        .abi_minor = ATELIER_ABI_MINOR,
        .id = "bookmarks",
        .version = "1.0.0",
        .description = "Bookmarks per project: a plugin written in plain C against abi.h alone",
        .requires_list = NULL,
        .requires_count = 0,
        .min_abi_minor = 0, /* runs on any 1.x host */
        .init = bm_init,
        .start = bm_start,
        .stop = bm_stop,
        .destroy = bm_destroy,
    };
    return &table;
}
