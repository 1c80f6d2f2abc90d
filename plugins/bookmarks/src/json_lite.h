/* Just enough JSON for the bookmarks plugin: a growable byte buffer that writes JSON, and a
 * reader that pulls the string members out of a flat request object. Strict: anything that
 * is not one well-formed JSON object is reported as malformed, nesting is bounded, and
 * escapes (including surrogate pairs) are decoded to UTF-8. */
#ifndef BOOKMARKS_JSON_LITE_H
#define BOOKMARKS_JSON_LITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct jl_buf {
    char* ptr;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: the content is incomplete */
} jl_buf;

void jl_free(jl_buf* b);
void jl_append(jl_buf* b, const char* data, size_t len);
void jl_append_cstr(jl_buf* b, const char* s);
void jl_append_int(jl_buf* b, int64_t v);
/* Appends `s` as a quoted JSON string. */
void jl_append_string(jl_buf* b, const char* s, size_t len);

enum jl_kind { JL_ABSENT = 0, JL_STRING = 1, JL_NULL = 2, JL_OTHER = 3 };

typedef struct jl_field {
    const char* name; /* set by the caller */
    int kind;         /* jl_kind, set by jl_read_object */
    jl_buf value;     /* the decoded string when kind == JL_STRING; jl_free it */
} jl_field;

enum jl_result { JL_OK = 0, JL_MALFORMED = 1, JL_NOT_OBJECT = 2, JL_NO_MEMORY = 3 };

/* Parses `json` as one object and fills the fields named in `fields`; members not asked
 * for are validated and skipped. A repeated member keeps its last value. */
int jl_read_object(const char* json, size_t len, jl_field* fields, size_t nfields);

#endif
