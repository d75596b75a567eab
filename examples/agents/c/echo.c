/*
 * echo.c -- a Caxton example agent in C (agent ABI version 1, docs/agent-abi.md).
 *
 * On every message it calls the host's `reply` with
 *
 *     {"performative":"inform","content":<the message's content, byte for byte>}
 *
 * and the host fills in receiver, in_reply_to and conversation_id.
 *
 * It needs no JSON parser: the host guarantees that `content` is the message's last member, so
 * the content is everything after the first `"content":` up to the final `}`.
 *
 * handle returns 0 on success; 1 when the message has no content, 2 when out of memory, and the
 * host's negative code when `reply` refuses the message.
 *
 * Freestanding: no libc. Memory comes from a bump allocator over `__heap_base`; whatever
 * `handle` allocates is released when it returns (the host's inbox buffer lives below it).
 *
 * Build: bash scripts/build-examples.sh   (zig cc --target=wasm32-freestanding -nostdlib ...)
 */
#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(name) __attribute__((import_module("caxton"), import_name(name)))

/* Host functions (module "caxton"). An agent imports only what it uses. */
IMPORT("reply") int32_t caxton_reply(const void *ptr, int32_t len);

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

static int is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Index of the first occurrence of needle[0..m) in hay[0..n), or -1. */
static int32_t find(const uint8_t *hay, uint32_t n, const char *needle, uint32_t m) {
    if (m > n) return -1;
    for (uint32_t i = 0; i + m <= n; i++) {
        uint32_t j = 0;
        while (j < m && hay[i + j] == (uint8_t)needle[j]) j++;
        if (j == m) return (int32_t)i;
    }
    return -1;
}

/* Locate the content JSON: [*start, *end) after the first `"content":`, up to the final `}`.
 * Returns the offset of the `"content":` key, or -1 when the message has no content. */
static int32_t content_span(const uint8_t *msg, uint32_t len, uint32_t *start, uint32_t *end) {
    static const char key[] = "\"content\":";
    int32_t k = find(msg, len, key, sizeof key - 1);
    if (k < 0) return -1;
    uint32_t s = (uint32_t)k + sizeof key - 1, e = len;
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

/* ------------------------------------------------------------------------------------------ */
/* The handler                                                                                 */

static const char REPLY_HEAD[] = "{\"performative\":\"inform\",\"content\":";

EXPORT("handle") int32_t handle(const uint8_t *msg, int32_t len) {
    uint32_t cs, ce;
    if (len <= 0 || content_span(msg, (uint32_t)len, &cs, &ce) < 0) return 1; /* no content */

    uint32_t clen = ce - cs;
    uint32_t mark = heap_top; /* everything allocated below is released on return */
    uint32_t n = (uint32_t)(sizeof REPLY_HEAD - 1) + clen + 1;
    uint8_t *out = alloc((int32_t)n);
    if (!out) return 2; /* out of memory (the agent's memory limit) */

    __builtin_memcpy(out, REPLY_HEAD, sizeof REPLY_HEAD - 1);
    __builtin_memcpy(out + sizeof REPLY_HEAD - 1, msg + cs, clen);
    out[n - 1] = '}';

    int32_t rc = caxton_reply(out, (int32_t)n);
    heap_top = mark;
    return rc < 0 ? rc : 0; /* a refused reply fails the message with the host's code (-2..-5) */
}
