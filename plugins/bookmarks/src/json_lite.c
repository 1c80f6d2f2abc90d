#include "json_lite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JL_MAX_DEPTH 64

void jl_free(jl_buf* b) {
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void jl_append(jl_buf* b, const char* data, size_t len) {
    if (b->failed || len == 0) return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char* p;
        while (cap < b->len + len + 1) cap *= 2;
        p = (char*)realloc(b->ptr, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->ptr = p;
        b->cap = cap;
    }
    memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
}

void jl_append_cstr(jl_buf* b, const char* s) { jl_append(b, s, strlen(s)); }

void jl_append_int(jl_buf* b, int64_t v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    if (n > 0) jl_append(b, tmp, (size_t)n);
}

void jl_append_string(jl_buf* b, const char* s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t i, start = 0;
    jl_append(b, "\"", 1);
    for (i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)s[i];
        const char* esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20) {
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = '\0';
            esc = u;
        }
        if (!esc) continue;
        jl_append(b, s + start, i - start);
        jl_append_cstr(b, esc);
        start = i + 1;
    }
    jl_append(b, s + start, len - start);
    jl_append(b, "\"", 1);
}

typedef struct jl_in {
    const char* p;
    const char* end;
    int depth;
} jl_in;

static void skip_ws(jl_in* in) {
    while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r')) in->p++;
}

static int hex4(jl_in* in, unsigned* out) {
    unsigned v = 0;
    int i;
    if (in->end - in->p < 4) return 0;
    for (i = 0; i < 4; ++i) {
        char c = *in->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

static void put_utf8(jl_buf* out, unsigned cp) {
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F)),
        n = 3;
    else
        u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    jl_append(out, u, n);
}

/* Reads a string starting at its opening quote; decodes into `out` unless it is NULL. */
static int read_string(jl_in* in, jl_buf* out) {
    if (in->p >= in->end || *in->p != '"') return 0;
    in->p++;
    while (in->p < in->end) {
        const char* run = in->p;
        while (in->p < in->end && *in->p != '"' && *in->p != '\\' && (unsigned char)*in->p >= 0x20) in->p++;
        if (out) jl_append(out, run, (size_t)(in->p - run));
        if (in->p >= in->end || (unsigned char)*in->p < 0x20) return 0;
        if (*in->p == '"') {
            in->p++;
            return 1;
        }
        in->p++; /* backslash */
        if (in->p >= in->end) return 0;
        {
            char e = *in->p++;
            unsigned cp;
            switch (e) {
                case '"':
                    cp = '"';
                    break;
                case '\\':
                    cp = '\\';
                    break;
                case '/':
                    cp = '/';
                    break;
                case 'b':
                    cp = '\b';
                    break;
                case 'f':
                    cp = '\f';
                    break;
                case 'n':
                    cp = '\n';
                    break;
                case 'r':
                    cp = '\r';
                    break;
                case 't':
                    cp = '\t';
                    break;
                case 'u':
                    if (!hex4(in, &cp)) return 0;
                    if (cp >= 0xDC00 && cp <= 0xDFFF) return 0; /* lone low surrogate */
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        unsigned lo;
                        if (in->end - in->p < 6 || in->p[0] != '\\' || in->p[1] != 'u') return 0;
                        in->p += 2;
                        if (!hex4(in, &lo) || lo < 0xDC00 || lo > 0xDFFF) return 0;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    break;
                default:
                    return 0;
            }
            if (out) put_utf8(out, cp);
        }
    }
    return 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static int valid_utf8(const unsigned char* s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i], need, cp;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            need = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            need = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            need = 3, cp = c & 0x07;
        else
            return 0;
        if (len - i <= need) return 0;
        for (++i; need > 0; --need, ++i) {
            if ((s[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || (cp < 0x800 && c >= 0xE0) || (cp < 0x10000 && c >= 0xF0))
            return 0;
    }
    return 1;
}

static int is_digit(jl_in* in) { return in->p < in->end && *in->p >= '0' && *in->p <= '9'; }

static int read_number(jl_in* in) {
    if (in->p < in->end && *in->p == '-') in->p++;
    if (!is_digit(in)) return 0;
    if (*in->p == '0')
        in->p++;
    else
        while (is_digit(in)) in->p++;
    if (in->p < in->end && *in->p == '.') {
        in->p++;
        if (!is_digit(in)) return 0;
        while (is_digit(in)) in->p++;
    }
    if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
        in->p++;
        if (in->p < in->end && (*in->p == '+' || *in->p == '-')) in->p++;
        if (!is_digit(in)) return 0;
        while (is_digit(in)) in->p++;
    }
    return 1;
}

static int literal(jl_in* in, const char* word) {
    size_t n = strlen(word);
    if ((size_t)(in->end - in->p) < n || memcmp(in->p, word, n) != 0) return 0;
    in->p += n;
    return 1;
}

static int skip_value(jl_in* in);

static int skip_container(jl_in* in, char close, int object) {
    if (++in->depth > JL_MAX_DEPTH) return 0;
    in->p++;
    skip_ws(in);
    if (in->p < in->end && *in->p == close) {
        in->p++;
        in->depth--;
        return 1;
    }
    for (;;) {
        skip_ws(in);
        if (object) {
            if (!read_string(in, NULL)) return 0;
            skip_ws(in);
            if (in->p >= in->end || *in->p++ != ':') return 0;
        }
        if (!skip_value(in)) return 0;
        skip_ws(in);
        if (in->p >= in->end) return 0;
        if (*in->p == ',') {
            in->p++;
            continue;
        }
        if (*in->p++ != close) return 0;
        in->depth--;
        return 1;
    }
}

static int skip_value(jl_in* in) {
    skip_ws(in);
    if (in->p >= in->end) return 0;
    switch (*in->p) {
        case '"':
            return read_string(in, NULL);
        case '{':
            return skip_container(in, '}', 1);
        case '[':
            return skip_container(in, ']', 0);
        case 't':
            return literal(in, "true");
        case 'f':
            return literal(in, "false");
        case 'n':
            return literal(in, "null");
        default:
            return read_number(in);
    }
}

int jl_read_object(const char* json, size_t len, jl_field* fields, size_t nfields) {
    jl_in in;
    jl_buf key = {NULL, 0, 0, 0};
    size_t i;
    int rc = JL_MALFORMED;
    in.p = json ? json : "";
    in.end = in.p + (json ? len : 0);
    in.depth = 1;
    for (i = 0; i < nfields; ++i) fields[i].kind = JL_ABSENT;
    if (!valid_utf8((const unsigned char*)in.p, (size_t)(in.end - in.p))) return JL_MALFORMED;
    skip_ws(&in);
    if (in.p >= in.end) return JL_NOT_OBJECT;
    if (*in.p != '{') return skip_value(&in) ? JL_NOT_OBJECT : JL_MALFORMED;
    in.p++;
    skip_ws(&in);
    if (in.p < in.end && *in.p == '}') {
        in.p++;
        goto done;
    }
    for (;;) {
        jl_field* target = NULL;
        skip_ws(&in);
        key.len = 0;
        if (!read_string(&in, &key)) goto fail;
        if (key.failed) {
            rc = JL_NO_MEMORY;
            goto fail;
        }
        for (i = 0; i < nfields; ++i)
            if (key.ptr && strlen(fields[i].name) == key.len && memcmp(fields[i].name, key.ptr, key.len) == 0)
                target = &fields[i];
        skip_ws(&in);
        if (in.p >= in.end || *in.p++ != ':') goto fail;
        skip_ws(&in);
        if (target && in.p < in.end && *in.p == '"') {
            target->value.len = 0;
            if (!read_string(&in, &target->value)) goto fail;
            if (target->value.failed) {
                rc = JL_NO_MEMORY;
                goto fail;
            }
            target->kind = JL_STRING;
        } else {
            const char* start = in.p;
            if (!skip_value(&in)) goto fail;
            if (target) target->kind = (in.p - start == 4 && memcmp(start, "null", 4) == 0) ? JL_NULL : JL_OTHER;
        }
        skip_ws(&in);
        if (in.p >= in.end) goto fail;
        if (*in.p == ',') {
            in.p++;
            continue;
        }
        if (*in.p++ != '}') goto fail;
        break;
    }
done:
    skip_ws(&in);
    rc = in.p == in.end ? JL_OK : JL_MALFORMED;
fail:
    jl_free(&key);
    return rc;
}
