/*
 * Atelier module ABI, version 1.
 *
 * The only binary contract between the Atelier host and a module. Pure C: this header
 * includes nothing but <stdint.h> and <stddef.h>, and no C++ type, exception, vtable or
 * deleter crosses it.
 *
 * Rules (see ARCHITECTURE.md, section 2):
 *  - Every struct begins with `struct_size`, `abi_major`, `abi_minor`. A reader touches a
 *    field only if it lies inside the writer's `struct_size` (ATELIER_HAS_FIELD).
 *  - Fields and host functions are only ever appended. A breaking change gets a `_v2` name.
 *  - Strings cross as atelier_str views. A view handed to a callee is valid only for the
 *    duration of that call; whoever keeps it copies it.
 *  - Variable-length results come back through an atelier_sink callback, which the host
 *    calls zero or more times before the function returns.
 *  - Every host function takes the calling module's context token, so the host knows who
 *    owns each route, subscription, hook and timer.
 *
 * Ownership words used below:
 *  BORROWED  valid until the call returns; copy to keep.
 *  HOST-OWNED  memory belongs to the host; never free it.
 *  RETAINED  a handle the module must give back with the matching *_release call.
 *
 * Threading words used below:
 *  ANY-THREAD  callable from any thread, including threads the module owns.
 *  HANDLER  callable only inside the handler callback that received the handle.
 *  INIT  callable only during the module's `init`.
 */
#ifndef ATELIER_ABI_H
#define ATELIER_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATELIER_ABI_MAJOR 1
#define ATELIER_ABI_MINOR 0

#if defined(_WIN32)
#define ATELIER_EXPORT __declspec(dllexport)
#else
#define ATELIER_EXPORT __attribute__((visibility("default")))
#endif

/* Name of the single symbol a module exports. */
#define ATELIER_MODULE_ENTRY_SYMBOL "atelier_module_entry_v1"

/* True when `field` of struct pointer `p` fits inside `p->struct_size`. */
#define ATELIER_HAS_FIELD(p, type, field) \
    ((p)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* ------------------------------------------------------------------ basic types */

typedef struct atelier_str {
    const char* ptr; /* not NUL-terminated; may be NULL when len == 0 */
    size_t len;
} atelier_str;

typedef enum atelier_status {
    ATELIER_OK = 0,
    ATELIER_ERR_INVALID = 1,     /* bad argument or malformed input */
    ATELIER_ERR_NOT_FOUND = 2,   /* unknown id, route, hook or key */
    ATELIER_ERR_CONFLICT = 3,    /* already exists / constraint violated */
    ATELIER_ERR_INTERNAL = 4,    /* unexpected failure; details via last_error */
    ATELIER_ERR_VETOED = 5,      /* a hook handler refused the operation */
    ATELIER_ERR_CLOSED = 6,      /* the stream or socket is closed */
    ATELIER_ERR_UNSUPPORTED = 7, /* the host does not offer this (older minor) */
    ATELIER_ERR_BUSY = 8,        /* database locked past the busy timeout */
    ATELIER_ERR_FULL = 9         /* a bounded buffer is full */
} atelier_status;

typedef enum atelier_log_level {
    ATELIER_LOG_DEBUG = 0,
    ATELIER_LOG_INFO = 1,
    ATELIER_LOG_WARN = 2,
    ATELIER_LOG_ERROR = 3
} atelier_log_level;

/* Receives variable-length output. Called by the host zero or more times; the bytes are
 * BORROWED and must be copied. */
typedef void (*atelier_sink)(void* sink_data, const char* ptr, size_t len);

/* Opaque handles. */
typedef struct atelier_module_ctx atelier_module_ctx; /* the module's token, HOST-OWNED */
typedef struct atelier_request atelier_request;       /* HANDLER */
typedef struct atelier_response atelier_response;     /* HANDLER */
typedef struct atelier_stream atelier_stream;         /* RETAINED, ANY-THREAD */
typedef struct atelier_websocket atelier_websocket;   /* RETAINED, ANY-THREAD */
typedef struct atelier_db_txn atelier_db_txn;         /* valid inside a transaction callback */
typedef struct atelier_hook_result atelier_hook_result; /* HANDLER */

/* ------------------------------------------------------------------ database values */

typedef enum atelier_value_type {
    ATELIER_VALUE_NULL = 0,
    ATELIER_VALUE_INT = 1,
    ATELIER_VALUE_REAL = 2,
    ATELIER_VALUE_TEXT = 3,
    ATELIER_VALUE_BLOB = 4
} atelier_value_type;

typedef struct atelier_value {
    int32_t type; /* atelier_value_type */
    int64_t i;
    double r;
    atelier_str s; /* TEXT or BLOB bytes, BORROWED */
} atelier_value;

/* One result row: `ncols` values and column names, BORROWED. Return 0 to continue,
 * non-zero to stop early. */
typedef int (*atelier_row_fn)(void* user_data, size_t ncols, const atelier_str* names,
                              const atelier_value* values);

typedef struct atelier_db_result {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    int64_t changes;        /* rows changed by the last statement */
    int64_t last_insert_id; /* sqlite3_last_insert_rowid after the statement */
} atelier_db_result;

/* Runs inside a write transaction; return ATELIER_OK to commit, anything else rolls back. */
typedef int (*atelier_txn_fn)(void* user_data, atelier_db_txn* txn);

typedef struct atelier_migration {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    int64_t version; /* strictly increasing per module, starting at 1 */
    atelier_str sql; /* one or more statements; every table/index/trigger name must start
                        with the module id (dashes become underscores) followed by '_' */
} atelier_migration;

/* ------------------------------------------------------------------ HTTP */

/* Returns the HTTP status the host should use if the handler set none (normally 0 = "use
 * what the response says"). A non-zero atelier_status-style failure is never returned:
 * handlers report errors by writing an error response. */
typedef void (*atelier_route_fn)(void* user_data, const atelier_request* req,
                                 atelier_response* res);

/* Called once, on any thread, when a stream's client goes away or the stream is closed. */
typedef void (*atelier_stream_closed_fn)(void* user_data, atelier_stream* stream);

/* WebSocket callbacks. `ws` is valid from on_open until on_close returns; retain it to keep
 * using it outside the callbacks. on_open returns 0 to accept, or a close code (e.g. 1008,
 * 4001) to close immediately after the handshake. */
typedef struct atelier_ws_callbacks {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    int (*on_open)(void* user_data, atelier_websocket* ws, const atelier_request* req);
    void (*on_message)(void* user_data, atelier_websocket* ws, const char* data, size_t len,
                       int is_binary);
    void (*on_close)(void* user_data, atelier_websocket* ws, int code);
} atelier_ws_callbacks;

/* ------------------------------------------------------------------ events */

/* The bus's envelope. No field names a domain: what an event is about goes in `subject`
 * ("<kind>/<id>", e.g. "ticket/42") and every domain field (a ticket number, a comment id,
 * a product's session id) travels in `payload`. */
typedef struct atelier_event {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    int64_t id;             /* assigned by the host on publish; 0 on input */
    atelier_str type;       /* e.g. "ticket.created" (required, at most 200 bytes) */
    atelier_str subject;    /* "<kind>/<id>" the event is about; empty = none */
    atelier_str project_id; /* empty = none */
    atelier_str actor_id;   /* empty = none */
    atelier_str actor_type; /* "user" | "agent" | "system" (empty = "system") */
    atelier_str payload;    /* JSON object text; empty = {} */
    atelier_str created_at; /* ISO 8601 UTC, set by the host; ignored on input */
} atelier_event;

/* Receives a published or persisted event. The event and its strings are BORROWED. */
typedef void (*atelier_event_fn)(void* user_data, const atelier_event* event);

/* A query over the persisted events. Empty strings and zero numbers do not filter. */
typedef struct atelier_event_query {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    int64_t after_id;       /* only ids > after_id (a replay cursor) */
    int64_t max_id;         /* only ids <= max_id; 0 = no bound */
    atelier_str types;      /* comma-separated patterns: exact type, "prefix.*" or "*" */
    atelier_str subject;    /* exact subject */
    atelier_str project_id; /* exact project id */
    atelier_str actor_id;   /* exact actor id */
    atelier_str actor_type; /* exact actor type */
    atelier_str since;      /* only created_at > since (ISO 8601 UTC) */
    int64_t limit;          /* 1..10000; 0 = 100 */
    int64_t offset;         /* rows to skip */
    int32_t newest_first;   /* non-zero: descending ids, else ascending */
} atelier_event_query;

/* ------------------------------------------------------------------ hooks */

/* A hook handler sees the current payload (JSON, BORROWED) and may replace it with
 * hook_result_set_payload or refuse the operation with hook_result_veto. */
typedef void (*atelier_hook_fn)(void* user_data, atelier_str payload, atelier_hook_result* result);

/* ------------------------------------------------------------------ timers */

typedef void (*atelier_timer_fn)(void* user_data);

/* ------------------------------------------------------------------ paths */

typedef enum atelier_path_kind {
    ATELIER_PATH_DATA_DIR = 0,   /* the host's data directory (~/.atelier by default) */
    ATELIER_PATH_MODULE_DIR = 1, /* <data-dir>/modules/<id>, created on demand */
    ATELIER_PATH_START_DIR = 2   /* the working directory `atelier serve` started in */
} atelier_path_kind;

/* ------------------------------------------------------------------ host table */

typedef struct atelier_host_v1 {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    atelier_str host_version; /* HOST-OWNED */

    /* --- logging and errors (ANY-THREAD) */
    void (*log)(atelier_module_ctx* ctx, int level, atelier_str message);
    /* Records why the module's current init/start call failed; shown in /api/modules. */
    void (*set_error)(atelier_module_ctx* ctx, atelier_str message);

    /* --- configuration (ANY-THREAD): the module's config object as JSON ("{}" if none). */
    void (*config_get)(atelier_module_ctx* ctx, atelier_sink sink, void* sink_data);
    /* A host path of `kind`; ATELIER_ERR_INVALID for an unknown kind. */
    int (*path_get)(atelier_module_ctx* ctx, int kind, atelier_sink sink, void* sink_data);

    /* --- routes (INIT). `pattern` segments starting with ':' are parameters, a final "*"
     * matches the rest. `summary` documents the route in /api/openapi.json. The handler runs on
     * an HTTP worker thread, concurrently with other requests. */
    int (*route_add)(atelier_module_ctx* ctx, atelier_str method, atelier_str pattern,
                     atelier_str summary, atelier_route_fn handler, void* user_data);
    /* WebSocket route (INIT). on_open runs on the HTTP worker that did the handshake; on_message
     * and on_close run on a host reactor thread: keep them short and never block. */
    int (*ws_route_add)(atelier_module_ctx* ctx, atelier_str pattern,
                        const atelier_ws_callbacks* callbacks, void* user_data);

    /* --- request accessors (HANDLER, BORROWED results; missing → {NULL,0} and
     * the *_has variants tell missing from empty). */
    atelier_str (*request_method)(const atelier_request* req);
    atelier_str (*request_path)(const atelier_request* req); /* without the query string */
    atelier_str (*request_query_string)(const atelier_request* req);
    atelier_str (*request_param)(const atelier_request* req, atelier_str name);
    int (*request_query_has)(const atelier_request* req, atelier_str name);
    atelier_str (*request_query)(const atelier_request* req, atelier_str name);
    int (*request_header_has)(const atelier_request* req, atelier_str name);
    atelier_str (*request_header)(const atelier_request* req, atelier_str name);
    atelier_str (*request_body)(const atelier_request* req);
    atelier_str (*request_id)(const atelier_request* req);
    /* Every header as a JSON object of name → value. */
    void (*request_headers_json)(const atelier_request* req, atelier_sink sink, void* sink_data);

    /* --- response setters (HANDLER; the host copies everything). */
    void (*response_set_status)(atelier_response* res, int status);
    void (*response_set_header)(atelier_response* res, atelier_str name, atelier_str value);
    void (*response_set_body)(atelier_response* res, atelier_str body);
    /* Turns the response into a stream that outlives the handler: the host sends the status
     * and headers (plus `content_type`) when the handler returns, detaches the connection
     * from the worker pool and serves it from its reactor. RETAINED: the module calls
     * stream_release when done. Writes are buffered up to the host's per-client limit. */
    atelier_stream* (*response_start_stream)(atelier_response* res, atelier_str content_type,
                                             atelier_stream_closed_fn on_closed,
                                             void* user_data);

    /* --- streams (ANY-THREAD). */
    int (*stream_write)(atelier_stream* stream, atelier_str data); /* CLOSED when gone, FULL
                                                                      when the client is too slow
                                                                      (the host then closes it) */
    void (*stream_close)(atelier_stream* stream);
    void (*stream_release)(atelier_stream* stream);
    /* Bytes queued for the client and not yet sent (written before the connection was
     * attached included); -1 once the stream is closed. `out_capacity` (may be NULL) gets
     * how much the host buffers for this client before it closes it as too slow. Lets a
     * module replaying history wait for a slow client to drain instead of overflowing it. */
    int64_t (*stream_buffered)(atelier_stream* stream, int64_t* out_capacity);
    /* Writes the same bytes to each of `n` streams (one rendered message to a group of
     * clients) without copying them per stream in the module. `statuses` (may be NULL) gets
     * each stream's stream_write status. The streams are BORROWED; the module holds them.
     * Returns ATELIER_OK, or ATELIER_ERR_INVALID for a NULL array with n > 0. */
    int (*stream_write_group)(atelier_stream* const* streams, size_t n, atelier_str data, int* statuses);

    /* --- WebSockets (ANY-THREAD once retained). */
    int (*ws_send)(atelier_websocket* ws, atelier_str data, int is_binary);
    /* Sends `nmessages` messages, one frame each and framed once for all, to each of `n`
     * sockets in one write per socket. `statuses` as for stream_write_group. */
    int (*ws_send_group)(atelier_websocket* const* sockets, size_t n, const atelier_str* messages, size_t nmessages,
                         int is_binary, int* statuses);
    void (*ws_close)(atelier_websocket* ws, int code, atelier_str reason);
    void (*ws_retain)(atelier_websocket* ws);
    void (*ws_release)(atelier_websocket* ws);

    /* --- database (ANY-THREAD). `txn` NULL = autocommit. Statements with bound parameters
     * only; `params` is BORROWED. Writers are serialized; readers run concurrently. */
    int (*db_exec)(atelier_module_ctx* ctx, atelier_db_txn* txn, atelier_str sql,
                   const atelier_value* params, size_t nparams, atelier_db_result* result);
    int (*db_query)(atelier_module_ctx* ctx, atelier_db_txn* txn, atelier_str sql,
                    const atelier_value* params, size_t nparams, atelier_row_fn on_row,
                    void* user_data);
    /* Runs fn inside BEGIN IMMEDIATE … COMMIT; any non-OK return or error rolls back. */
    int (*db_transaction)(atelier_module_ctx* ctx, atelier_txn_fn fn, void* user_data);
    /* Applies the module's migrations not yet recorded, each in its own transaction (INIT). */
    int (*db_migrate)(atelier_module_ctx* ctx, const atelier_migration* migrations, size_t n);
    /* Message of the last failed db_* call on this thread. */
    void (*db_last_error)(atelier_module_ctx* ctx, atelier_sink sink, void* sink_data);

    /* --- events (ANY-THREAD). publish persists first, then fans out; `out_id` may be NULL. */
    int (*event_publish)(atelier_module_ctx* ctx, const atelier_event* event, int64_t* out_id);
    /* `type_pattern`: exact type, "prefix.*" or "*". Returns a subscription id > 0. The
     * handler runs on the host's bus thread, in id order, after the event is persisted. */
    int64_t (*event_subscribe)(atelier_module_ctx* ctx, atelier_str type_pattern,
                               atelier_event_fn fn, void* user_data);
    void (*event_unsubscribe)(atelier_module_ctx* ctx, int64_t subscription_id);
    /* Replays persisted events with id > after_id matching `type_pattern` (empty = all),
     * at most `limit`, oldest first: the resume source of a client that kept a cursor. */
    int (*event_replay)(atelier_module_ctx* ctx, int64_t after_id, atelier_str type_pattern,
                        int64_t limit, atelier_event_fn fn, void* user_data);
    /* Persisted events matching `query`, in its order, on the calling thread; `out_total`
     * (may be NULL) gets the number of matches without limit and offset. */
    int (*event_query)(atelier_module_ctx* ctx, const atelier_event_query* query, atelier_event_fn fn, void* user_data,
                       int64_t* out_total);
    /* Id of the newest persisted event (0 when none): a live client's starting cursor. */
    int64_t (*event_last_id)(atelier_module_ctx* ctx);

    /* --- hooks (register: INIT; run: ANY-THREAD). Handlers run in ascending priority. */
    int (*hook_register)(atelier_module_ctx* ctx, atelier_str name, int32_t priority,
                         atelier_hook_fn fn, void* user_data);
    /* Runs every handler of `name` in order over `payload`; the final payload goes to sink.
     * Returns ATELIER_ERR_VETOED (with the reason in the sink instead) if one vetoed. */
    int (*hook_run)(atelier_module_ctx* ctx, atelier_str name, atelier_str payload,
                    atelier_sink sink, void* sink_data);
    void (*hook_result_set_payload)(atelier_hook_result* result, atelier_str payload);
    void (*hook_result_veto)(atelier_hook_result* result, atelier_str reason);

    /* --- timers (ANY-THREAD). Callbacks run on the host's timer thread. interval 0 = once. */
    int64_t (*timer_add)(atelier_module_ctx* ctx, uint64_t delay_ms, uint64_t interval_ms,
                         atelier_timer_fn fn, void* user_data);
    void (*timer_cancel)(atelier_module_ctx* ctx, int64_t timer_id);

    /* --- in-process call of any route (ANY-THREAD, not from inside a db transaction).
     * `headers_json` is an object of header name → value (may be empty). */
    int (*call)(atelier_module_ctx* ctx, atelier_str method, atelier_str path_and_query,
                atelier_str headers_json, atelier_str body, int* out_status,
                atelier_sink body_sink, void* sink_data);

    /* --- operations log (ANY-THREAD): hands one entry (JSON object with `level`, `source`,
     * `message` and free fields such as command, args, cwd, pid, exitCode, signal,
     * durationMs, stdout, stderr; `source` defaults to the module id) to the handlers of the
     * hook "ops.record", i.e. to whichever module keeps the operations log. Finished HTTP
     * requests reach the hook "http.request_finished" the same way. ATELIER_OK also when no
     * module keeps the log; ATELIER_ERR_INVALID when the entry is not a JSON object. */
    int (*ops_record)(atelier_module_ctx* ctx, atelier_str entry_json);

    /* --- introspection (ANY-THREAD): a JSON document about the running host, to `sink`.
     * `what` is "summary" ({version, startedAt, port, modulesRunning}), "modules" (array of
     * {id, version, description, state, routes, builtin, requires, error}) or "routes" (array
     * of {method, pattern, summary, module}). ATELIER_ERR_INVALID for anything else. */
    int (*host_describe)(atelier_module_ctx* ctx, atelier_str what, atelier_sink sink, void* sink_data);
} atelier_host_v1;

/* ------------------------------------------------------------------ module table */

typedef struct atelier_requirement {
    const char* id;          /* module id, NUL-terminated, module-owned static */
    const char* min_version; /* inclusive, "" = any */
    const char* max_version; /* exclusive, "" = any */
} atelier_requirement;

typedef struct atelier_module_v1 {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char* id;          /* [a-z][a-z0-9-]*, matches module.json */
    const char* version;     /* semver */
    const char* description;
    const atelier_requirement* requires_list;
    size_t requires_count;
    /* Register routes, hooks, migrations. Return ATELIER_OK or an error (see set_error).
     * `*module_state` may be set to the module's own state pointer. */
    int (*init)(const atelier_host_v1* host, atelier_module_ctx* ctx, void** module_state);
    /* All modules are initialised; dependencies are started. */
    int (*start)(void* module_state);
    /* Join threads, cancel work. Routes and subscriptions are already removed. */
    void (*stop)(void* module_state);
    void (*destroy)(void* module_state);
} atelier_module_v1;

/* The single symbol a module exports. Returns a static table (module-owned). */
typedef const atelier_module_v1* (*atelier_module_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* ATELIER_ABI_H */
