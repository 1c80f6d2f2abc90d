/* Bookmark storage: portable SQL through the host's db_* functions, nothing HTTP. Each call
 * renders its result as JSON into `out` (an object, or an array for list). */
#ifndef BOOKMARKS_STORE_H
#define BOOKMARKS_STORE_H

#include <atelier/abi.h>

#include "json_lite.h"

typedef struct bm_store {
    const atelier_host_v1* host;
    atelier_module_ctx* ctx;
} bm_store;

/* Creates the table (per engine) and its index. INIT only. */
int bm_migrate(const bm_store* s);
/* Returns ATELIER_OK with the new bookmark in `out`, or ATELIER_ERR_CONFLICT when the project
 * already has this URL. `project_id` may be empty. */
int bm_create(const bm_store* s, atelier_str project_id, atelier_str url, atelier_str title, jl_buf* out);
/* ATELIER_OK with a JSON array, newest last. An empty `project_id` lists every bookmark. */
int bm_list(const bm_store* s, atelier_str project_id, int64_t limit, jl_buf* out);
/* ATELIER_OK, or ATELIER_ERR_NOT_FOUND. */
int bm_get(const bm_store* s, int64_t id, jl_buf* out);
int bm_delete(const bm_store* s, int64_t id);
/* Drops every bookmark of a project; returns how many. */
int64_t bm_delete_project(const bm_store* s, atelier_str project_id);

#endif
