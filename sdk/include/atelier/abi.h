/*
 * Atelier module ABI 1.0.
 *
 * The only binary contract between the Atelier host and a module. Pure C99: this header
 * includes nothing but <stdint.h> and <stddef.h>, compiles with `-std=c99 -pedantic`, and no
 * C++ type, exception, vtable or deleter crosses it. docs/modules.md explains it for plugin
 * authors (C, C++ or any language that can export a C function).
 *
 * Versioning (enforced on both sides):
 *  - Every versioned struct begins with `struct_size`, `abi_major`, `abi_minor`, filled by
 *    whoever writes the struct. A reader touches a field only if it lies inside the writer's
 *    `struct_size` (ATELIER_HAS_FIELD); a field outside it reads as zero/absent.
 *  - Fields and host functions are only ever appended, and each append bumps
 *    ATELIER_ABI_MINOR. A breaking change gets a `_v2` name and a new major.
 *  - The host refuses a module whose major differs, or whose `min_abi_minor` is above the
 *    host's minor. A module calls a host function appended after 1.0 only if
 *    ATELIER_HOST_HAS says the host's table has it; otherwise it reports
 *    ATELIER_ERR_UNSUPPORTED (the C++ SDK does this for you).
 *  - An array of versioned structs is strided by the struct_size of its first element, never
 *    by the reader's sizeof (see atelier_migration). Element types without a header
 *    (atelier_str, atelier_value, atelier_requirement) are frozen: they never change; a
 *    successor gets a new name.
 *  - Every function carries `@since <major>.<minor>`: the first version that has it.
 *  - scripts/abi-freeze.py records the layout and a hash of this header per version; its
 *    `check` fails when the header changes without a version bump.
 *
 * Calls:
 *  - Strings cross as atelier_str views. A view handed to a callee is valid only for the
 *    duration of that call; whoever keeps it copies it.
 *  - Variable-length results come back through an atelier_sink callback, which the host
 *    calls zero or more times before the function returns.
 *  - Every host function that acts for a module takes the module's context token, so the
 *    host knows who owns each route, subscription, hook and timer.
 *  - No C++ exception or longjmp crosses the boundary in either direction: the host catches
 *    its own, and a module's callbacks must catch theirs.
 *
 * Ownership words used below:
 *  BORROWED    valid until the call returns; copy to keep.
 *  COPIED      the callee copies what it keeps; the caller may free it as soon as it returns.
 *  HOST-OWNED  memory belongs to the host; never free it.
 *  MODULE-OWNED memory belongs to the module and must stay valid as long as documented.
 *  RETAINED    a handle the module must give back with the matching *_release call.
 *
 * Threading words used below:
 *  ANY-THREAD  callable from any thread, including threads the module owns.
 *  HANDLER     callable only inside the handler callback that received the handle, on its thread.
 *  INIT        callable only during the module's `init`.
 */
#ifndef ATELIER_ABI_H
#define ATELIER_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes. A module records both in every struct it writes
 * (ATELIER_ABI_MINOR is the minor it was built against, not the minor it needs: see
 * atelier_module_v1.min_abi_minor). Bump the minor with every append; bump the major (and
 * rename with _v2) for anything else. */
#define ATELIER_ABI_MAJOR 1
#define ATELIER_ABI_MINOR 0

#if defined(_WIN32)
#define ATELIER_EXPORT __declspec(dllexport)
#else
#define ATELIER_EXPORT __attribute__((visibility("default")))
#endif

/* Name of the single symbol a module exports. */
#define ATELIER_MODULE_ENTRY_SYMBOL "atelier_module_entry_v1"

/* True when `field` of struct pointer `p` fits inside the writer's `p->struct_size`. The only
 * correct test for an optional field: never compare struct_size with the reader's sizeof. */
#define ATELIER_HAS_FIELD(p, type, field) \
    ((p)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* True when host table `host` (const atelier_host_v1*) offers function `fn`: the slot lies
 * inside the host's struct_size and is set. Required before calling any function whose
 * @since is later than 1.0. */
#define ATELIER_HOST_HAS(host, fn) (ATELIER_HAS_FIELD(host, atelier_host_v1, fn) && (host)->fn != NULL)

/* ------------------------------------------------------------------ basic types */

/* A string or byte view. Frozen element type (no header). */
typedef struct atelier_str {
    const char* ptr; /* not NUL-terminated; may be NULL when len == 0 */
    size_t len;
} atelier_str;

typedef enum atelier_status {
    ATELIER_OK = 0,
    ATELIER_ERR_INVALID = 1,     /* bad argument or malformed input */
    ATELIER_ERR_NOT_FOUND = 2,   /* unknown id, route, hook or key */
    ATELIER_ERR_CONFLICT = 3,    /* already exists: a unique or primary key was violated */
    ATELIER_ERR_INTERNAL = 4,    /* unexpected failure; details via last_error */
    ATELIER_ERR_VETOED = 5,      /* a hook handler refused the operation */
    ATELIER_ERR_CLOSED = 6,      /* the stream or socket is closed */
    ATELIER_ERR_UNSUPPORTED = 7, /* the host does not offer this (older minor) */
    ATELIER_ERR_BUSY = 8,        /* the database stayed locked past the busy timeout, or a
                                    serialization failure/deadlock: retry the whole operation */
    ATELIER_ERR_FULL = 9,        /* a bounded buffer is full */
    ATELIER_ERR_CONSTRAINT = 10  /* a foreign key, CHECK or NOT NULL constraint was violated */
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

/* ------------------------------------------------------------------ database
 *
 * The storage contract, the same on every engine:
 *  - SQL takes positional `?` placeholders only, bound in order from `params`; the host
 *    translates them for its engine. Named or numbered placeholders (`:x`, `?1`, `$1`) are
 *    refused with ATELIER_ERR_INVALID.
 *  - One statement per db_exec/db_query call. A generated key comes back through
 *    `INSERT ... RETURNING <column>` read with db_query; there is no "last insert id".
 *  - Failures map to engine-neutral statuses: ATELIER_ERR_CONFLICT (unique/primary key),
 *    ATELIER_ERR_CONSTRAINT (foreign key, CHECK, NOT NULL), ATELIER_ERR_BUSY (lock timeout,
 *    serialization failure: retry), ATELIER_ERR_INVALID (SQL or parameter error),
 *    ATELIER_ERR_INTERNAL (anything else). db_last_error has the engine's message.
 *  - Portable SQL runs everywhere; SQL only one engine understands goes into migrations
 *    registered for that engine (atelier_migration.engine) and into statements the module
 *    chooses after asking db_engine.
 */

typedef enum atelier_db_engine {
    ATELIER_DB_ANY = 0,       /* migrations only: portable SQL, applied on every engine */
    ATELIER_DB_SQLITE = 1,    /* SQLite 3.35 or later (RETURNING) */
    ATELIER_DB_POSTGRESQL = 2 /* PostgreSQL 13 or later */
} atelier_db_engine;

typedef enum atelier_value_type {
    ATELIER_VALUE_NULL = 0,
    ATELIER_VALUE_INT = 1,
    ATELIER_VALUE_REAL = 2,
    ATELIER_VALUE_TEXT = 3,
    ATELIER_VALUE_BLOB = 4
} atelier_value_type;

/* A bound parameter or a column value. Frozen element type (no header): arrays of it are
 * strided by sizeof(atelier_value). Only the member named by `type` is meaningful. */
typedef struct atelier_value {
    int32_t type; /* atelier_value_type */
    int64_t i;
    double r;
    atelier_str s; /* TEXT (UTF-8) or BLOB bytes, BORROWED */
} atelier_value;

/* One result row: `ncols` column names and values, BORROWED (valid until the callback
 * returns). Runs on the calling thread, before db_query returns. Return 0 to continue,
 * non-zero to stop early (db_query then still returns ATELIER_OK). */
typedef int (*atelier_row_fn)(void* user_data, size_t ncols, const atelier_str* names,
                              const atelier_value* values);

/* Filled by db_exec. The module sets the header (struct_size of its own build); the host
 * writes only the fields that fit inside it. */
typedef struct atelier_db_result {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    int64_t changes; /* rows inserted, updated or deleted by the statement */
} atelier_db_result;

/* Runs inside a write transaction, on the thread that called db_transaction; return
 * ATELIER_OK to commit, anything else rolls back. `txn` is valid only inside the callback. */
typedef int (*atelier_txn_fn)(void* user_data, atelier_db_txn* txn);

/* One schema step. Passed as an array strided by the first element's struct_size. */
typedef struct atelier_migration {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    int64_t version; /* strictly increasing among the migrations applied on one engine,
                        starting at 1 */
    atelier_str sql; /* one or more statements; every table/index/trigger/view name must
                        start with the module id (dashes become underscores) followed by '_' */
    int32_t engine;  /* atelier_db_engine: ATELIER_DB_ANY, or the only engine to apply it on */
} atelier_migration;

/* ------------------------------------------------------------------ HTTP */

/* Handles one request on an HTTP worker thread. `req` and `res` are HANDLER handles: valid
 * only until the handler returns. Nothing is returned: a handler reports an error by writing
 * an error response (response_set_error). */
typedef void (*atelier_route_fn)(void* user_data, const atelier_request* req,
                                 atelier_response* res);

/* API flavors. Each reference product Atelier serves is a flavor; a request's flavor decides
 * which of the routes registered for its method and path answers it, and the shape of its
 * error bodies. It comes from the listener the request arrived on (configuration
 * `listeners: [{host, port, flavor}]`) or from an `X-Atelier-Flavor` header naming one
 * ("atelier", "kombuse", "openkit", "kanban", "abbado", "krowforge"). Values are stable:
 * new flavors are only appended. @since 1.0 */
typedef enum atelier_flavor {
    ATELIER_FLAVOR_ATELIER = 0,  /* the default, merged API */
    ATELIER_FLAVOR_KOMBUSE = 1,  /* Kombuse (port 3331) */
    ATELIER_FLAVOR_OPENKIT = 2,  /* OpenKit (port 4040) */
    ATELIER_FLAVOR_KANBAN = 3,   /* the boards product (port 37100) */
    ATELIER_FLAVOR_ABBADO = 4,   /* Abbado (port 3000) */
    ATELIER_FLAVOR_KROWFORGE = 5 /* KrowForge */
} atelier_flavor;

/* The bit of one flavor in a route's flavor set. */
#define ATELIER_FLAVOR_BIT(flavor) (1u << (unsigned)(flavor))
/* The empty flavor set: the route is the default for its method and path, answering every
 * flavor that has no route of its own there. */
#define ATELIER_FLAVORS_DEFAULT 0u

/* One route, as given to route_add. BORROWED: the host copies the strings. @since 1.0 */
typedef struct atelier_route_desc {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    atelier_str method;  /* GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS */
    atelier_str pattern; /* "/api/things/:id"; ':' segments are parameters, a final "*"
                            matches the rest */
    atelier_str summary; /* documents the route in /api/openapi.json; may be empty */
    uint32_t flavors;    /* ATELIER_FLAVORS_DEFAULT or an OR of ATELIER_FLAVOR_BIT(...):
                            the route answers only requests of those flavors, and wins
                            over the default route of the same method and path */
    atelier_route_fn handler;
    void* user_data; /* passed to handler; module-owned, must outlive the route */
} atelier_route_desc;

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

/* The host's functions, HOST-OWNED, valid from `init` until `destroy` returns. A module
 * built against a later minor checks ATELIER_HOST_HAS before calling anything the host's
 * struct_size may not cover. Unless stated otherwise a function returns an atelier_status. */
typedef struct atelier_host_v1 {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;       /* the minor the host implements */
    atelier_str host_version; /* HOST-OWNED, the host's semver */

    /* --- logging and errors (ANY-THREAD). `message` is COPIED. */
    /* Writes one line to the host log under the module's id (level: atelier_log_level).
     * @since 1.0 */
    void (*log)(atelier_module_ctx* ctx, int level, atelier_str message);
    /* Records why the module's current init/start call failed; shown in /api/modules.
     * @since 1.0 */
    void (*set_error)(atelier_module_ctx* ctx, atelier_str message);

    /* --- configuration (ANY-THREAD). */
    /* The module's config object as JSON ("{}" if none), BORROWED through sink. @since 1.0 */
    void (*config_get)(atelier_module_ctx* ctx, atelier_sink sink, void* sink_data);
    /* A host path of `kind` (atelier_path_kind) through sink; ATELIER_ERR_INVALID for an
     * unknown kind. @since 1.0 */
    int (*path_get)(atelier_module_ctx* ctx, int kind, atelier_sink sink, void* sink_data);

    /* --- routes (INIT). Registers `route` (BORROWED). The handler runs on an HTTP worker
     * thread, concurrently with other requests. When several routes match a request, the most
     * specific pattern wins (static segments outrank parameters); between routes of the same
     * pattern, the one whose flavor set holds the request's flavor wins over the default.
     * Returns ATELIER_ERR_CONFLICT when a route of the same method and pattern already covers
     * one of the same flavors (two default routes conflict), ATELIER_ERR_INVALID for a bad
     * method, pattern or flavor bit. @since 1.0 */
    int (*route_add)(atelier_module_ctx* ctx, const atelier_route_desc* route);
    /* WebSocket route (INIT). on_open runs on the HTTP worker that did the handshake; on_message
     * and on_close run on a host reactor thread: keep them short and never block. */
    int (*ws_route_add)(atelier_module_ctx* ctx, atelier_str pattern,
                        const atelier_ws_callbacks* callbacks, void* user_data);

    /* --- request accessors (HANDLER, BORROWED results; missing → {NULL,0} and
     * the *_has variants tell missing from empty). Header names match case-insensitively.
     * All @since 1.0. */
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
    /* The request's flavor (an atelier_flavor value; ATELIER_FLAVOR_ATELIER for in-process
     * calls unless their headers name one). HANDLER. @since 1.0 */
    int (*request_flavor)(const atelier_request* req);

    /* --- response setters (HANDLER; arguments are COPIED). All @since 1.0. */
    void (*response_set_status)(atelier_response* res, int status);
    void (*response_set_header)(atelier_response* res, atelier_str name, atelier_str value);
    void (*response_set_body)(atelier_response* res, atelier_str body);
    /* Answers with an error in the shape the request's flavor documents: by default (and for
     * openkit, kanban) {"success":false,"error":message,"code":code,"details":[…]}; kombuse
     * {"error":message}, or {"error":[issue…]} with validation details; krowforge
     * {"error":{"code","message","details"}}; abbado the message as text/plain. Sets status
     * (outside 400..599 becomes 500), Content-Type and body. `code` is UPPER_SNAKE (empty:
     * derived from the status). `details_json` (BORROWED, may be empty) is either a JSON array
     * of {"field","message"} objects or a JSON object whose "details" member is that array and
     * whose other members are extra top-level fields of the body (e.g. the conflicting
     * "ticket" of a claim conflict); text that is not JSON is ignored and logged. HANDLER.
     * @since 1.0 */
    void (*response_set_error)(atelier_response* res, int status, atelier_str code, atelier_str message,
                               atelier_str details_json);
    /* Turns the response into a stream that outlives the handler: the host sends the status
     * and headers (plus `content_type`) when the handler returns, detaches the connection
     * from the worker pool and serves it from its reactor. RETAINED: the module calls
     * stream_release when done. Writes are buffered up to the host's per-client limit.
     * NULL when the request cannot stream (an in-process call). @since 1.0 */
    atelier_stream* (*response_start_stream)(atelier_response* res, atelier_str content_type,
                                             atelier_stream_closed_fn on_closed,
                                             void* user_data);

    /* --- streams (ANY-THREAD; data is COPIED). All @since 1.0. */
    int (*stream_write)(atelier_stream* stream, atelier_str data); /* CLOSED when gone, FULL
                                                                      when the client is too slow
                                                                      (the host then closes it) */
    void (*stream_close)(atelier_stream* stream);
    void (*stream_release)(atelier_stream* stream);
    /* Bytes queued for the client and not yet sent (written before the connection was
     * attached included); -1 once the stream is closed. `out_capacity` (may be NULL) gets
     * how much the host buffers for this client before it closes it as too slow. Lets a
     * module replaying history wait for a slow client to drain instead of overflowing it. @since 1.0 */
    int64_t (*stream_buffered)(atelier_stream* stream, int64_t* out_capacity);
    /* Writes the same bytes to each of `n` streams (one rendered message to a group of
     * clients) without copying them per stream in the module. `statuses` (may be NULL) gets
     * each stream's stream_write status. The streams are BORROWED; the module holds them.
     * Returns ATELIER_OK, or ATELIER_ERR_INVALID for a NULL array with n > 0. @since 1.0 */
    int (*stream_write_group)(atelier_stream* const* streams, size_t n, atelier_str data, int* statuses);

    /* --- WebSockets (ANY-THREAD once retained; data is COPIED). All @since 1.0. */
    int (*ws_send)(atelier_websocket* ws, atelier_str data, int is_binary);
    /* Sends `nmessages` messages, one frame each and framed once for all, to each of `n`
     * sockets in one write per socket. `statuses` as for stream_write_group. @since 1.0 */
    int (*ws_send_group)(atelier_websocket* const* sockets, size_t n, const atelier_str* messages, size_t nmessages,
                         int is_binary, int* statuses);
    void (*ws_close)(atelier_websocket* ws, int code, atelier_str reason);
    void (*ws_retain)(atelier_websocket* ws);
    void (*ws_release)(atelier_websocket* ws);

    /* --- database (ANY-THREAD; see "database" above for the contract). `txn` NULL =
     * autocommit, else the token of a transaction running on this thread. `sql` and `params`
     * are BORROWED. Writers are serialized; readers run concurrently. */
    /* Runs one statement and fills `result` (may be NULL) with what fits in its struct_size.
     * @since 1.0 */
    int (*db_exec)(atelier_module_ctx* ctx, atelier_db_txn* txn, atelier_str sql,
                   const atelier_value* params, size_t nparams, atelier_db_result* result);
    /* Runs one statement and calls on_row for every row, on this thread, before returning.
     * Also the way to run `INSERT ... RETURNING`. @since 1.0 */
    int (*db_query)(atelier_module_ctx* ctx, atelier_db_txn* txn, atelier_str sql,
                    const atelier_value* params, size_t nparams, atelier_row_fn on_row,
                    void* user_data);
    /* Runs fn inside a write transaction on this thread; any non-OK return rolls back. Called
     * again inside fn's transaction on the same thread, it joins it. @since 1.0 */
    int (*db_transaction)(atelier_module_ctx* ctx, atelier_txn_fn fn, void* user_data);
    /* Applies the migrations for the running engine (engine ATELIER_DB_ANY or db_engine())
     * not yet recorded for this module, in version order, each in its own transaction.
     * `migrations` is BORROWED, strided by migrations[0].struct_size. INIT. @since 1.0 */
    int (*db_migrate)(atelier_module_ctx* ctx, const atelier_migration* migrations, size_t n);
    /* Message of the last failed db_* call on this thread. @since 1.0 */
    void (*db_last_error)(atelier_module_ctx* ctx, atelier_sink sink, void* sink_data);
    /* The engine the module's statements run on (atelier_db_engine). @since 1.0 */
    int (*db_engine)(atelier_module_ctx* ctx);

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
     * (may be NULL) gets the number of matches without limit and offset. @since 1.0 */
    int (*event_query)(atelier_module_ctx* ctx, const atelier_event_query* query, atelier_event_fn fn, void* user_data,
                       int64_t* out_total);
    /* Id of the newest persisted event (0 when none): a live client's starting cursor.
     * @since 1.0 */
    int64_t (*event_last_id)(atelier_module_ctx* ctx);

    /* --- hooks (register: INIT; run: ANY-THREAD). Handlers run in ascending priority, on
     * the thread that runs the hook. */
    /* @since 1.0 */
    int (*hook_register)(atelier_module_ctx* ctx, atelier_str name, int32_t priority,
                         atelier_hook_fn fn, void* user_data);
    /* Runs every handler of `name` in order over `payload`; the final payload goes to sink.
     * Returns ATELIER_ERR_VETOED (with the reason in the sink instead) if one vetoed.
     * @since 1.0 */
    int (*hook_run)(atelier_module_ctx* ctx, atelier_str name, atelier_str payload,
                    atelier_sink sink, void* sink_data);
    /* HANDLER, COPIED: replaces the payload the next handler sees. @since 1.0 */
    void (*hook_result_set_payload)(atelier_hook_result* result, atelier_str payload);
    /* HANDLER, COPIED: stops the hook; hook_run reports `reason`. @since 1.0 */
    void (*hook_result_veto)(atelier_hook_result* result, atelier_str reason);

    /* --- timers (ANY-THREAD). Callbacks run on the host's timer thread. */
    /* Runs fn after delay_ms, then every interval_ms (0 = once). Returns a timer id > 0, or
     * 0 on failure. @since 1.0 */
    int64_t (*timer_add)(atelier_module_ctx* ctx, uint64_t delay_ms, uint64_t interval_ms,
                         atelier_timer_fn fn, void* user_data);
    /* Cancels a timer; a run already in progress finishes. @since 1.0 */
    void (*timer_cancel)(atelier_module_ctx* ctx, int64_t timer_id);

    /* --- in-process call of any route (ANY-THREAD, not from inside a db transaction).
     * `headers_json` is an object of header name → value (may be empty). Everything is
     * COPIED; the response body arrives through body_sink before the call returns.
     * @since 1.0 */
    int (*call)(atelier_module_ctx* ctx, atelier_str method, atelier_str path_and_query,
                atelier_str headers_json, atelier_str body, int* out_status,
                atelier_sink body_sink, void* sink_data);

    /* --- operations log (ANY-THREAD): hands one entry (JSON object with `level`, `source`,
     * `message` and free fields such as command, args, cwd, pid, exitCode, signal,
     * durationMs, stdout, stderr; `source` defaults to the module id) to the handlers of the
     * hook "ops.record", i.e. to whichever module keeps the operations log. Finished HTTP
     * requests reach the hook "http.request_finished" the same way. ATELIER_OK also when no
     * module keeps the log; ATELIER_ERR_INVALID when the entry is not a JSON object.
     * The entry is COPIED. @since 1.0 */
    int (*ops_record)(atelier_module_ctx* ctx, atelier_str entry_json);

    /* --- introspection (ANY-THREAD): a JSON document about the running host, to `sink`.
     * `what` is "summary" ({version, startedAt, port, modulesRunning}), "modules" (array of
     * {id, version, description, state, routes, builtin, requires, error}) or "routes" (array
     * of {method, pattern, summary, module, flavors}: every registered route; `flavors` empty
     * for a default route) or "routes/<flavor>" (the routes a client of that flavor sees).
     * ATELIER_ERR_INVALID for anything else. @since 1.0 */
    int (*host_describe)(atelier_module_ctx* ctx, atelier_str what, atelier_sink sink, void* sink_data);
} atelier_host_v1;

/* ------------------------------------------------------------------ module table */

/* A module this one needs, with an accepted version range. Frozen element type (no
 * header): arrays of it are strided by sizeof(atelier_requirement). */
typedef struct atelier_requirement {
    const char* id;          /* module id, NUL-terminated, MODULE-OWNED static */
    const char* min_version; /* inclusive, "" = any */
    const char* max_version; /* exclusive, "" = any */
} atelier_requirement;

/* What a module exports: MODULE-OWNED static data, read by the host before `init`. */
typedef struct atelier_module_v1 {
    uint32_t struct_size;
    uint16_t abi_major;      /* must equal the host's */
    uint16_t abi_minor;      /* the minor the module was built against */
    const char* id;          /* [a-z][a-z0-9-]*, matches module.json */
    const char* version;     /* semver */
    const char* description;
    const atelier_requirement* requires_list;
    size_t requires_count;
    /* The lowest host minor the module runs on (0 = any 1.x host). The host refuses the
     * module when its own minor is lower. */
    uint32_t min_abi_minor;
    /* Register routes, hooks, migrations. Return ATELIER_OK or an error (see set_error).
     * `*module_state` may be set to the module's own state pointer. Called once, on the
     * host's main thread. @since 1.0 */
    int (*init)(const atelier_host_v1* host, atelier_module_ctx* ctx, void** module_state);
    /* All modules are initialised; dependencies are started. Main thread. @since 1.0 */
    int (*start)(void* module_state);
    /* Join threads, cancel work. Routes and subscriptions are already removed and in-flight
     * calls have returned. Main thread. @since 1.0 */
    void (*stop)(void* module_state);
    /* Free the module state. Nothing of the module runs any more. @since 1.0 */
    void (*destroy)(void* module_state);
} atelier_module_v1;

/* The single symbol a module exports. Returns a static table (module-owned). */
typedef const atelier_module_v1* (*atelier_module_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* ATELIER_ABI_H */
