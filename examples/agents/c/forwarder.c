/*
 * forwarder.c -- a Caxton example agent in C that talks to another agent (agent ABI version 1,
 * docs/agent-abi.md).
 *
 * For every message it receives it calls the host's `send` with
 *
 *     {"performative":<same>,"receiver":["<target>"],"reply_to":<its reply_to, else ["<sender>"]>,
 *      "conversation_id":<same, when present>,"content":<same content, byte for byte>}
 *
 * where <target> is the string user parameter "X-Forward-To" when the message has one, else
 * "echo". Because of reply_to, the target's reply goes straight back to the original sender.
 *
 * No JSON parser: the host guarantees that `content` is the last member and that the members
 * before it are strings, lists of strings or the trace_context object. So
 *   - the content is everything after the first `"content":` up to the final `}`, and
 *   - a header field is found by searching `"key":` in the bytes *before* `"content":` (never
 *     inside the content, which may contain the same keys), then copying the raw JSON string
 *     bytes up to the next unescaped quote. Raw bytes keep their escapes, so they stay valid.
 *
 * handle returns 0 on success; 1 no content, 2 no performative, 3 no sender, 4 invalid
 * X-Forward-To, 5 out of memory; a negative host code when `send` refuses the message.
 *
 * Build: bash scripts/build-examples.sh   (zig cc --target=wasm32-freestanding -nostdlib ...)
 */
#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(name) __attribute__((import_module("caxton"), import_name(name)))

/* Host functions (module "caxton"). An agent imports only what it uses. */
IMPORT("send") int32_t caxton_send(const void *ptr, int32_t len);
IMPORT("log") void caxton_log(int32_t level, const void *ptr, int32_t len);

#define LOG_ERROR 3

/* ------------------------------------------------------------------------------------------ */
/* Bump allocator over __heap_base (provided by the linker, just past data and stack).        */

extern unsigned char __heap_base;

#define WASM_PAGE 65536u
static uint32_t heap_top; /* next free byte; 0 until the first alloc */

static uint32_t align8(uint32_t x) { return (x + 7u) & ~7u; }

EXPORT("alloc") void *alloc(int32_t size) {
    if (size < 0) return 0;
    if (heap_top == 0) heap_top = align8((uint32_t)(uintptr_t)&__heap_base);
    uint64_t start = heap_top;
    uint64_t end = (start + (uint64_t)(uint32_t)size + 7u) & ~(uint64_t)7u;
    uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * WASM_PAGE;
    if (end > have) {
        uint64_t pages = (end - have + WASM_PAGE - 1) / WASM_PAGE;
        if (__builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1) return 0;
    }
    heap_top = (uint32_t)end;
    return (void *)(uintptr_t)start;
}

/* Optional export: only the most recent block can actually be given back. */
EXPORT("dealloc") void dealloc(void *ptr, int32_t size) {
    uint32_t p = (uint32_t)(uintptr_t)ptr;
    if (size >= 0 && p != 0 && align8(p + (uint32_t)size) == heap_top) heap_top = p;
}

EXPORT("caxton_abi_version") int32_t caxton_abi_version(void) { return 1; }

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */

typedef struct {
    const uint8_t *ptr;
    uint32_t len;
} span;

#define LIT(s) ((span){(const uint8_t *)(s), sizeof(s) - 1})

static int is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Index of the first occurrence of needle in hay[0..n), or -1. */
static int32_t find(const uint8_t *hay, uint32_t n, span needle) {
    if (needle.len > n) return -1;
    for (uint32_t i = 0; i + needle.len <= n; i++) {
        uint32_t j = 0;
        while (j < needle.len && hay[i + j] == needle.ptr[j]) j++;
        if (j == needle.len) return (int32_t)i;
    }
    return -1;
}

/* Locate the content JSON: [*start, *end) after the first `"content":`, up to the final `}`.
 * Returns the offset of the `"content":` key, or -1 when the message has no content. */
static int32_t content_span(const uint8_t *msg, uint32_t len, uint32_t *start, uint32_t *end) {
    span key = LIT("\"content\":");
    int32_t k = find(msg, len, key);
    if (k < 0) return -1;
    uint32_t s = (uint32_t)k + key.len, e = len;
    while (e > s && is_ws(msg[e - 1])) e--;
    if (e == s || msg[e - 1] != '}') return -1; /* not an object */
    e--;                                      /* drop the message's closing brace */
    while (s < e && is_ws(msg[s])) s++;
    while (e > s && is_ws(msg[e - 1])) e--;
    if (s == e) return -1;
    *start = s;
    *end = e;
    return k;
}

/* The raw bytes of the top-level string member `key` (given as `"name":`), searched in the
 * message header hdr[0..n) (the bytes before `"content":`). Escapes are kept as they are.
 * Returns 1 and sets *out, or 0 when the member is absent or not a string. */
static int string_member(const uint8_t *hdr, uint32_t n, span key, span *out) {
    int32_t k = find(hdr, n, key);
    if (k < 0) return 0;
    uint32_t i = (uint32_t)k + key.len;
    while (i < n && is_ws(hdr[i])) i++;
    if (i >= n || hdr[i] != '"') return 0;
    uint32_t s = ++i;
    while (i < n && hdr[i] != '"') i += hdr[i] == '\\' ? 2 : 1; /* skip escaped bytes */
    if (i >= n) return 0;                                       /* unterminated */
    out->ptr = hdr + s;
    out->len = i - s;
    return 1;
}

/* The raw bytes of the top-level array member `key` (e.g. `"reply_to":`), brackets included.
 * Addresses never contain brackets or quotes, so the first `]` closes it. */
static int array_member(const uint8_t *hdr, uint32_t n, span key, span *out) {
    int32_t k = find(hdr, n, key);
    if (k < 0) return 0;
    uint32_t i = (uint32_t)k + key.len;
    while (i < n && is_ws(hdr[i])) i++;
    if (i >= n || hdr[i] != '[') return 0;
    uint32_t s = i;
    while (i < n && hdr[i] != ']') i++;
    if (i >= n) return 0;
    out->ptr = hdr + s;
    out->len = i + 1 - s;
    return 1;
}

/* ^[A-Za-z][A-Za-z0-9_.-]{0,63}$ -- also guarantees the name needs no JSON escaping. */
static int valid_agent_name(span s) {
    if (s.len < 1 || s.len > 64) return 0;
    for (uint32_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        int other = (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!(alpha || (i > 0 && other))) return 0;
    }
    return 1;
}

static void log_error(span text) { caxton_log(LOG_ERROR, text.ptr, (int32_t)text.len); }

/* Output buffer being assembled. */
static uint8_t *out;
static uint32_t out_len;

static void put(span s) {
    __builtin_memcpy(out + out_len, s.ptr, s.len);
    out_len += s.len;
}

/* ------------------------------------------------------------------------------------------ */
/* The handler                                                                                 */

EXPORT("handle") int32_t handle(const uint8_t *msg, int32_t len) {
    uint32_t cs, ce;
    int32_t hdr_len = len > 0 ? content_span(msg, (uint32_t)len, &cs, &ce) : -1;
    if (hdr_len < 0) return 1; /* no content */
    span content = {msg + cs, ce - cs};

    span performative, sender, conversation, target = LIT("echo");
    if (!string_member(msg, (uint32_t)hdr_len, LIT("\"performative\":"), &performative)) return 2;
    if (!string_member(msg, (uint32_t)hdr_len, LIT("\"sender\":"), &sender)) return 3;
    int has_conversation =
        string_member(msg, (uint32_t)hdr_len, LIT("\"conversation_id\":"), &conversation);
    if (string_member(msg, (uint32_t)hdr_len, LIT("\"X-Forward-To\":"), &target) &&
        !valid_agent_name(target)) {
        log_error(LIT("forwarder: X-Forward-To is not a valid agent name"));
        return 4;
    }

    /* All pieces are disjoint slices of the message, so len + the literals is an upper bound. */
    uint32_t mark = heap_top; /* everything allocated below is released on return */
    out = alloc((int32_t)((uint32_t)len + 128u)); /* negative (too big) -> 0 */
    if (!out) return 5;
    out_len = 0;

    put(LIT("{\"performative\":\""));
    put(performative);
    put(LIT("\",\"receiver\":[\""));
    put(target);
    span reply_to;
    if (array_member(msg, (uint32_t)hdr_len, LIT("\"reply_to\":"), &reply_to)) {
        /* Someone already chose where replies go (FIPA reply-to): keep it. */
        put(LIT("\"],\"reply_to\":"));
        put(reply_to);
    } else {
        put(LIT("\"],\"reply_to\":[\""));
        put(sender);
        put(LIT("\"]"));
    }
    if (has_conversation) {
        put(LIT(",\"conversation_id\":\""));
        put(conversation);
        put(LIT("\""));
    }
    put(LIT(",\"content\":"));
    put(content);
    put(LIT("}"));

    int32_t rc = caxton_send(out, (int32_t)out_len);
    heap_top = mark;
    return rc < 0 ? rc : 0; /* a refused send fails the message with the host's code (-2..-5) */
}
