/*
 * caxton.c -- the Caxton agent SDK for C. See caxton.h for the API and sdk/c/README.md for how
 * to build an agent with it.
 */
#include "caxton.h"

#ifdef CAXTON_USE_MALLOC
#include <stdlib.h>
#endif

/* Host functions (module "caxton"); the linker keeps only the ones an agent uses. */
CX_IMPORT("send") int32_t cx_host_send(const void *ptr, int32_t len);
CX_IMPORT("reply") int32_t cx_host_reply(const void *ptr, int32_t len);
CX_IMPORT("log") void cx_host_log(int32_t level, const void *ptr, int32_t len);
CX_IMPORT("now") int64_t cx_host_now(void);
CX_IMPORT("random") int32_t cx_host_random(void *ptr, int32_t len);
CX_IMPORT("state_get") int32_t cx_host_state_get(const void *k, int32_t kl, void *v, int32_t vc);
CX_IMPORT("state_put") int32_t cx_host_state_put(const void *k, int32_t kl, const void *v,
                                                 int32_t vl);
CX_IMPORT("state_delete") int32_t cx_host_state_delete(const void *k, int32_t kl);

CX_EXPORT("caxton_abi_version") int32_t caxton_abi_version(void) { return 1; }

/* ========================================================================================== */
/* Memory                                                                                      */

#ifndef CAXTON_USE_MALLOC
/* A bump allocator over __heap_base. The host's inbox buffer is allocated before `handle` is
 * called, so it sits below the mark that `handle` takes; everything above the mark is scratch
 * and is released when `handle` returns. Memory therefore stays flat across messages. */
extern unsigned char __heap_base;
#define CX_PAGE 65536u
static uint32_t heap_top;

static uint32_t align8(uint32_t x) { return (x + 7u) & ~7u; }

static int heap_reserve(uint64_t end) {
    uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * CX_PAGE;
    if (end > 0xFFFFFFF8u) return 0;
    if (end > have) {
        uint64_t pages = (end - have + CX_PAGE - 1) / CX_PAGE;
        if (__builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1) return 0;
    }
    return 1;
}

static void *bump(uint32_t size) {
    if (heap_top == 0) heap_top = align8((uint32_t)(uintptr_t)&__heap_base);
    uint64_t start = heap_top;
    uint64_t end = (start + (uint64_t)size + 7u) & ~(uint64_t)7u;
    if (!heap_reserve(end)) return 0;
    heap_top = (uint32_t)end;
    return (void *)(uintptr_t)start;
}

CX_EXPORT("alloc") void *alloc(int32_t size) { return size < 0 ? 0 : bump((uint32_t)size); }

/* Only the most recent block can be given back; that is the inbox when the host resizes it. */
CX_EXPORT("dealloc") void dealloc(void *ptr, int32_t size) {
    uint32_t p = (uint32_t)(uintptr_t)ptr;
    if (size >= 0 && p != 0 && align8(p + (uint32_t)size) == heap_top) heap_top = p;
}

static uint32_t scratch_mark(void) {
    if (heap_top == 0) heap_top = align8((uint32_t)(uintptr_t)&__heap_base);
    return heap_top;
}
static void scratch_release(uint32_t mark) { heap_top = mark; }

void *cx_alloc(uint32_t size) { return bump(size); }

/* Grow the block [p, p+old) to `size` bytes: in place when it is the last one. */
static void *scratch_grow(void *p, uint32_t old, uint32_t size) {
    uint32_t at = (uint32_t)(uintptr_t)p;
    if (p && align8(at + old) == heap_top) {
        uint64_t end = ((uint64_t)at + size + 7u) & ~(uint64_t)7u;
        if (!heap_reserve(end)) return 0;
        heap_top = (uint32_t)end;
        return p;
    }
    void *q = bump(size);
    if (q && p && old) __builtin_memcpy(q, p, old);
    return q;
}

#else /* CAXTON_USE_MALLOC: libc owns the heap; scratch blocks are chained and freed. */

typedef struct cx_block { struct cx_block *next; uint64_t pad; } cx_block;
static cx_block *scratch;

CX_EXPORT("alloc") void *alloc(int32_t size) { return size < 0 ? 0 : malloc((size_t)size); }
CX_EXPORT("dealloc") void dealloc(void *ptr, int32_t size) { (void)size; free(ptr); }

static uint32_t scratch_mark(void) { return 0; }
static void scratch_release(uint32_t mark) {
    (void)mark;
    while (scratch) {
        cx_block *next = scratch->next;
        free(scratch);
        scratch = next;
    }
}

void *cx_alloc(uint32_t size) {
    cx_block *b = malloc(sizeof(cx_block) + (size_t)size);
    if (!b) return 0;
    b->next = scratch;
    scratch = b;
    return b + 1;
}

static void *scratch_grow(void *p, uint32_t old, uint32_t size) {
    void *q = cx_alloc(size);
    if (q && p && old) __builtin_memcpy(q, p, old);
    return q;
}
#endif

/* ========================================================================================== */
/* Small utilities                                                                             */

uint32_t cx_strlen(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

int cx_memeq(const void *a, const void *b, uint32_t n) {
    const uint8_t *x = a, *y = b;
    for (uint32_t i = 0; i < n; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

uint32_t cx_fmt_int(char *buf, int64_t v) {
    char tmp[20];
    uint32_t n = 0, len = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) buf[len++] = '-';
    while (n) buf[len++] = tmp[--n];
    return len;
}

const char *cx_error_name(int32_t code) {
    switch (code) {
    case CX_OK: return "ok";
    case CX_NOT_FOUND: return "not found";
    case CX_INVALID: return "invalid";
    case CX_TOO_LARGE: return "too large";
    case CX_NO_MESSAGE: return "no current message";
    case CX_NO_MEMORY: return "out of memory";
    case CX_BAD_JSON: return "unexpected JSON";
    default: return "error";
    }
}

void cx_logn(int32_t level, const char *text, uint32_t len) {
    cx_host_log(level, text, (int32_t)len);
}
void cx_log(int32_t level, const char *text) { cx_logn(level, text, cx_strlen(text)); }

void cx_abort(const char *why) {
    cx_log(CX_ERROR, why);
    __builtin_trap();
}

int64_t cx_now(void) { return cx_host_now(); }
int32_t cx_random(void *buf, uint32_t len) { return cx_host_random(buf, (int32_t)len); }

/* ========================================================================================== */
/* Reading JSON                                                                                */

static const char NULL_JSON[] = "null";

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && is_ws(*p)) p++;
    return p;
}

/* Past the string starting at p (which is '"'), or NULL. */
static const char *skip_string(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return 0;
}

/* Past the value starting at p, or NULL. Containers are skipped by counting brackets outside
 * strings, without recursion, so deep nesting cannot overflow the stack. */
static const char *skip_value(const char *p, const char *end) {
    if (p >= end) return 0;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        uint32_t depth = 0;
        while (p < end) {
            char c = *p;
            if (c == '"') {
                p = skip_string(p, end);
                if (!p) return 0;
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return 0;
    }
    const char *start = p;
    while (p < end && !is_ws(*p) && *p != ',' && *p != '}' && *p != ']') p++;
    return p > start ? p : 0;
}

cx_json cx_json_parse(const char *ptr, uint32_t len) {
    cx_json v = {0, 0};
    const char *end = ptr + len, *p = skip_ws(ptr, end);
    const char *q = skip_value(p, end);
    if (q && skip_ws(q, end) == end) {
        v.ptr = p;
        v.len = (uint32_t)(q - p);
    }
    return v;
}

cx_kind cx_json_kind(cx_json v) {
    if (!v.ptr || !v.len) return CX_ABSENT;
    switch (v.ptr[0]) {
    case 'n': return CX_NULL;
    case 'f': return CX_FALSE;
    case 't': return CX_TRUE;
    case '"': return CX_STRING;
    case '[': return CX_ARRAY;
    case '{': return CX_OBJECT;
    default: return CX_NUMBER;
    }
}

int cx_json_exists(cx_json v) { return v.ptr != 0 && v.len != 0; }

/* Decode the JSON string body [p, end) into dst (when not NULL); returns the decoded length,
 * or -1 on a bad escape. */
static int32_t unescape(const char *p, const char *end, char *dst) {
    uint32_t n = 0;
    while (p < end) {
        char c = *p++;
        if (c != '\\') {
            if (dst) dst[n] = c;
            n++;
            continue;
        }
        if (p >= end) return -1;
        char e = *p++;
        uint32_t cp;
        switch (e) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u': {
            cp = 0;
            for (int pair = 0; pair < 2; pair++) {
                uint32_t u = 0;
                if (end - p < 4) return -1;
                for (int i = 0; i < 4; i++) {
                    char h = *p++;
                    u <<= 4;
                    if (h >= '0' && h <= '9') u |= (uint32_t)(h - '0');
                    else if (h >= 'a' && h <= 'f') u |= (uint32_t)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') u |= (uint32_t)(h - 'A' + 10);
                    else return -1;
                }
                if (pair == 0) {
                    cp = u;
                    /* a high surrogate followed by \uDC00..DFFF makes one code point */
                    if (u < 0xD800 || u > 0xDBFF || end - p < 6 || p[0] != '\\' || p[1] != 'u')
                        break;
                    p += 2;
                } else if (u >= 0xDC00 && u <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (u - 0xDC00);
                } else {
                    p -= 6; /* not a low surrogate: leave it for the next round */
                }
            }
            break;
        }
        default: return -1;
        }
        char out[4];
        uint32_t k;
        if (cp < 0x80) { out[0] = (char)cp; k = 1; }
        else if (cp < 0x800) {
            out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); k = 2;
        } else if (cp < 0x10000) {
            out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[2] = (char)(0x80 | (cp & 0x3F)); k = 3;
        } else {
            out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        for (uint32_t i = 0; i < k; i++) {
            if (dst) dst[n + i] = out[i];
        }
        n += k;
    }
    return (int32_t)n;
}

const char *cx_json_str(cx_json v, uint32_t *len) {
    if (cx_json_kind(v) != CX_STRING || v.len < 2) return 0;
    const char *p = v.ptr + 1, *end = v.ptr + v.len - 1;
    int32_t n = unescape(p, end, 0);
    if (n < 0) return 0;
    char *out = cx_alloc((uint32_t)n + 1);
    if (!out) return 0;
    unescape(p, end, out);
    out[n] = 0;
    if (len) *len = (uint32_t)n;
    return out;
}

/* The raw string token [p, q) (quotes included) equals the NUL-terminated s. */
static int token_eq(const char *p, const char *q, const char *s, uint32_t slen) {
    const char *body = p + 1, *end = q - 1;
    int escaped = 0;
    for (const char *c = body; c < end; c++) {
        if (*c == '\\') { escaped = 1; break; }
    }
    if (!escaped) return (uint32_t)(end - body) == slen && cx_memeq(body, s, slen);
    int32_t n = unescape(body, end, 0);
    if (n != (int32_t)slen) return 0;
    char *tmp = cx_alloc((uint32_t)n);
    if (!tmp) return 0;
    unescape(body, end, tmp);
    return cx_memeq(tmp, s, slen);
}

int cx_json_str_eq(cx_json v, const char *s) {
    if (cx_json_kind(v) != CX_STRING) return 0;
    return token_eq(v.ptr, v.ptr + v.len, s, cx_strlen(s));
}

cx_json cx_json_get(cx_json obj, const char *key) {
    cx_json none = {0, 0};
    if (cx_json_kind(obj) != CX_OBJECT) return none;
    uint32_t klen = cx_strlen(key);
    const char *end = obj.ptr + obj.len - 1, *p = obj.ptr + 1; /* inside the braces */
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"') return none;
        const char *k = p;
        p = skip_string(p, end);
        if (!p) return none;
        const char *kend = p;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') return none;
        p = skip_ws(p + 1, end);
        const char *v = p;
        p = skip_value(p, end);
        if (!p) return none;
        if (token_eq(k, kend, key, klen)) {
            cx_json out = {v, (uint32_t)(p - v)};
            return out;
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ',') return none;
        p++;
    }
}

/* The index-th element (or member value) of an array (or object); *count (when not NULL)
 * receives the number of elements when index is past the end. */
static cx_json nth(cx_json v, uint32_t index, uint32_t *count) {
    cx_json none = {0, 0};
    cx_kind kind = cx_json_kind(v);
    if (kind != CX_ARRAY && kind != CX_OBJECT) return none;
    const char *end = v.ptr + v.len - 1, *p = skip_ws(v.ptr + 1, end);
    uint32_t i = 0;
    while (p < end) {
        if (kind == CX_OBJECT) {
            p = skip_string(p, end);
            if (!p) break;
            p = skip_ws(p, end);
            if (p >= end || *p != ':') break;
            p = skip_ws(p + 1, end);
        }
        const char *start = p;
        p = skip_value(p, end);
        if (!p) break;
        if (i == index) {
            cx_json out = {start, (uint32_t)(p - start)};
            return out;
        }
        i++;
        p = skip_ws(p, end);
        if (p >= end || *p != ',') break;
        p = skip_ws(p + 1, end);
    }
    if (count) *count = i;
    return none;
}

cx_json cx_json_at(cx_json array, uint32_t index) {
    if (cx_json_kind(array) != CX_ARRAY) {
        cx_json none = {0, 0};
        return none;
    }
    return nth(array, index, 0);
}

uint32_t cx_json_count(cx_json v) {
    uint32_t n = 0;
    nth(v, 0xFFFFFFFFu, &n);
    return n;
}

int cx_json_int(cx_json v, int64_t *out) {
    if (cx_json_kind(v) != CX_NUMBER) return 0;
    const char *p = v.ptr, *end = v.ptr + v.len;
    int neg = 0;
    if (*p == '-') { neg = 1; p++; }
    if (p == end) return 0;
    uint64_t u = 0, limit = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return 0;
        uint64_t d = (uint64_t)(*p - '0');
        if (u > (limit - d) / 10) return 0;
        u = u * 10 + d;
    }
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 1;
}

int cx_json_bool(cx_json v, int *out) {
    cx_kind k = cx_json_kind(v);
    if (k != CX_TRUE && k != CX_FALSE) return 0;
    *out = k == CX_TRUE;
    return 1;
}

/* ========================================================================================== */
/* The message                                                                                 */

int cx_msg_is(const cx_message *msg, const char *performative) {
    return cx_json_str_eq(msg->performative, performative);
}

cx_json cx_msg_get(const cx_message *msg, const char *field) {
    return cx_json_get(msg->raw, field);
}

/* Fill in the named fields with one walk over the members. */
static int parse_message(const char *ptr, uint32_t len, cx_message *m) {
    __builtin_memset(m, 0, sizeof *m);
    m->raw = cx_json_parse(ptr, len);
    m->content.ptr = NULL_JSON;
    m->content.len = 4;
    if (cx_json_kind(m->raw) != CX_OBJECT) return 0;
    const char *end = m->raw.ptr + m->raw.len - 1, *p = m->raw.ptr + 1;
    static const char *const names[] = {"performative", "sender", "conversation_id",
                                        "reply_with", "content"};
    cx_json *slots[] = {&m->performative, &m->sender, &m->conversation_id, &m->reply_with,
                        &m->content};
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"') break;
        const char *k = p;
        p = skip_string(p, end);
        if (!p) return 0;
        const char *kend = p;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') return 0;
        p = skip_ws(p + 1, end);
        const char *v = p;
        p = skip_value(p, end);
        if (!p) return 0;
        for (uint32_t i = 0; i < 5; i++) {
            if (token_eq(k, kend, names[i], cx_strlen(names[i]))) {
                slots[i]->ptr = v;
                slots[i]->len = (uint32_t)(p - v);
            }
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ',') break;
        p++;
    }
    return 1;
}

/* One message: parse it, call the agent, release the scratch memory it used. */
static int32_t handle_one(const char *ptr, uint32_t len) {
    uint32_t mark = scratch_mark();
    cx_message m;
    int32_t rc = len > 0 && parse_message(ptr, len, &m) ? agent_handle(&m) : CX_BAD_JSON;
    scratch_release(mark);
    return rc;
}

CX_EXPORT("handle") int32_t handle(const char *ptr, int32_t len) {
    return len > 0 ? handle_one(ptr, (uint32_t)len) : CX_BAD_JSON;
}

/* Frames are not aligned: read little-endian words byte by byte. */
static uint32_t read_u32(const char *p) {
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Several queued messages in one call (docs/agent-abi.md, "Batches"): at ptr a u32 `current`
 * (the one word the agent writes), a u32 count, then count frames of u32 length + JSON. Each
 * message is handled exactly as `handle` would (own scratch memory), after its index is
 * written to `current` so that the host attributes its replies, sends, state and a failure to
 * it. The first non-zero code stops the batch: the host delivers the rest again. The word is
 * written with volatile stores so that the compiler keeps each one, in order, before the
 * handler runs (the host reads it during host calls and after a trap). */
CX_EXPORT("handle_batch") int32_t handle_batch(const char *ptr, int32_t len) {
    if (len < 8) return CX_BAD_JSON;
    volatile uint8_t *current = (volatile uint8_t *)(uintptr_t)ptr;
    uint32_t size = (uint32_t)len, count = read_u32(ptr + 4), at = 8;
    for (uint32_t i = 0; i < count; i++) {
        current[0] = (uint8_t)i;
        current[1] = (uint8_t)(i >> 8);
        current[2] = (uint8_t)(i >> 16);
        current[3] = (uint8_t)(i >> 24);
        if (size - at < 4) return CX_BAD_JSON;
        uint32_t n = read_u32(ptr + at);
        at += 4;
        if (size - at < n) return CX_BAD_JSON;
        int32_t rc = handle_one(ptr + at, n);
        if (rc) return rc;
        at += n;
    }
    return 0;
}

/* ========================================================================================== */
/* Writing JSON                                                                                */

static void w_put(cx_writer *w, const char *s, uint32_t n) {
    if (w->error) return;
    if (w->len + n > w->cap) {
        uint64_t want = (uint64_t)w->cap * 2;
        if (want < 256) want = 256;
        while (want < (uint64_t)w->len + n) want *= 2;
        if (want > 0x7FFFFFFF) { w->error = CX_NO_MEMORY; return; }
        char *b = scratch_grow(w->buf, w->len, (uint32_t)want);
        if (!b) { w->error = CX_NO_MEMORY; return; }
        w->buf = b;
        w->cap = (uint32_t)want;
    }
    __builtin_memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void w_char(cx_writer *w, char c) { w_put(w, &c, 1); }

/* Before any value: the comma between array elements. */
static void w_value(cx_writer *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth) {
        if (w->open[w->depth - 1] == '{') { w->error = w->error ? w->error : CX_BAD_JSON; }
        if (w->nonempty[w->depth - 1]) w_char(w, ',');
        w->nonempty[w->depth - 1] = 1;
    }
}

void cx_w_init(cx_writer *w) { __builtin_memset(w, 0, sizeof *w); }

static void w_open(cx_writer *w, char c) {
    w_value(w);
    if (w->depth == CX_W_MAX_DEPTH) { w->error = CX_BAD_JSON; return; }
    w->open[w->depth] = c;
    w->nonempty[w->depth] = 0;
    w->depth++;
    w_char(w, c);
}

static void w_close(cx_writer *w, char open, char close) {
    if (!w->depth || w->open[w->depth - 1] != open || w->after_key) {
        w->error = w->error ? w->error : CX_BAD_JSON;
        return;
    }
    w->depth--;
    w_char(w, close);
}

void cx_w_begin(cx_writer *w) { cx_w_init(w); w_open(w, '{'); }
void cx_w_obj_begin(cx_writer *w) { w_open(w, '{'); }
void cx_w_obj_end(cx_writer *w) { w_close(w, '{', '}'); }
void cx_w_arr_begin(cx_writer *w) { w_open(w, '['); }
void cx_w_arr_end(cx_writer *w) { w_close(w, '[', ']'); }

static void w_string(cx_writer *w, const char *s, uint32_t n) {
    static const char hex[] = "0123456789abcdef";
    w_char(w, '"');
    uint32_t run = 0; /* bytes that need no escaping, copied in one go */
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') { run++; continue; }
        w_put(w, s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') { esc[1] = (char)c; w_put(w, esc, 2); }
        else if (c == '\n') { esc[1] = 'n'; w_put(w, esc, 2); }
        else if (c == '\r') { esc[1] = 'r'; w_put(w, esc, 2); }
        else if (c == '\t') { esc[1] = 't'; w_put(w, esc, 2); }
        else w_put(w, esc, 6);
    }
    w_put(w, s + n - run, run);
    w_char(w, '"');
}

void cx_w_key(cx_writer *w, const char *key) {
    if (!w->depth || w->open[w->depth - 1] != '{' || w->after_key) {
        w->error = w->error ? w->error : CX_BAD_JSON;
        return;
    }
    if (w->nonempty[w->depth - 1]) w_char(w, ',');
    w->nonempty[w->depth - 1] = 1;
    w_string(w, key, cx_strlen(key));
    w_char(w, ':');
    w->after_key = 1;
}

void cx_w_strn(cx_writer *w, const char *s, uint32_t n) { w_value(w); w_string(w, s, n); }
void cx_w_str(cx_writer *w, const char *s) { cx_w_strn(w, s, cx_strlen(s)); }

void cx_w_int(cx_writer *w, int64_t v) {
    char buf[21];
    w_value(w);
    w_put(w, buf, cx_fmt_int(buf, v));
}

void cx_w_bool(cx_writer *w, int v) {
    w_value(w);
    if (v) w_put(w, "true", 4);
    else w_put(w, "false", 5);
}

void cx_w_null(cx_writer *w) { w_value(w); w_put(w, "null", 4); }

void cx_w_rawn(cx_writer *w, const char *json, uint32_t n) { w_value(w); w_put(w, json, n); }

void cx_w_raw(cx_writer *w, cx_json v) {
    if (cx_json_exists(v)) cx_w_rawn(w, v.ptr, v.len);
    else cx_w_null(w);
}

void cx_w_key_str(cx_writer *w, const char *key, const char *s) { cx_w_key(w, key); cx_w_str(w, s); }
void cx_w_key_int(cx_writer *w, const char *key, int64_t v) { cx_w_key(w, key); cx_w_int(w, v); }
void cx_w_key_raw(cx_writer *w, const char *key, cx_json v) { cx_w_key(w, key); cx_w_raw(w, v); }

int32_t cx_w_finish(cx_writer *w) {
    if (w->after_key) cx_w_null(w);
    while (w->depth && !w->error) {
        if (w->open[w->depth - 1] == '{') cx_w_obj_end(w);
        else cx_w_arr_end(w);
    }
    return w->error;
}

/* ========================================================================================== */
/* Host calls                                                                                  */

int32_t cx_send_raw(const char *json, uint32_t len) { return cx_host_send(json, (int32_t)len); }
int32_t cx_reply_raw(const char *json, uint32_t len) { return cx_host_reply(json, (int32_t)len); }

int32_t cx_send(cx_writer *w) {
    int32_t rc = cx_w_finish(w);
    return rc ? rc : cx_send_raw(w->buf, w->len);
}

int32_t cx_reply(cx_writer *w) {
    int32_t rc = cx_w_finish(w);
    return rc ? rc : cx_reply_raw(w->buf, w->len);
}

int32_t cx_state_get(const char *key, const char **value) {
    uint32_t klen = cx_strlen(key), cap = 256;
    for (;;) {
        char *buf = cx_alloc(cap);
        if (!buf) return CX_NO_MEMORY;
        int32_t n = cx_host_state_get(key, (int32_t)klen, buf, (int32_t)cap);
        if (n < 0) return n;
        if ((uint32_t)n <= cap) {
            *value = buf;
            return n;
        }
        cap = (uint32_t)n; /* too small: the host told us the size; try once more */
    }
}

int32_t cx_state_put(const char *key, const void *value, uint32_t len) {
    return cx_host_state_put(key, (int32_t)cx_strlen(key), value, (int32_t)len);
}

int32_t cx_state_put_str(const char *key, const char *value) {
    return cx_state_put(key, value, cx_strlen(value));
}

int32_t cx_state_delete(const char *key) {
    return cx_host_state_delete(key, (int32_t)cx_strlen(key));
}

int64_t cx_state_get_int(const char *key, int64_t otherwise) {
    const char *v;
    int32_t n = cx_state_get(key, &v);
    int64_t out;
    if (n <= 0) return otherwise;
    cx_json j = {v, (uint32_t)n};
    return cx_json_int(j, &out) ? out : otherwise;
}

int32_t cx_state_put_int(const char *key, int64_t value) {
    char buf[21];
    return cx_state_put(key, buf, cx_fmt_int(buf, value));
}
