/*
 * caxton.h -- the Caxton agent SDK for C (agent ABI version 1, docs/agent-abi.md).
 *
 * Freestanding: needs no libc (build with -nostdlib -ffreestanding), and works under WASI
 * libc too (define CAXTON_USE_MALLOC so that the SDK allocates with malloc/free instead of its
 * own bump allocator, which would fight with libc's malloc over the heap).
 *
 * The SDK exports `alloc`, `dealloc`, `handle`, `handle_batch` (several queued messages in one
 * call, each handled as `handle` would) and `caxton_abi_version`. You write one function:
 *
 *     #include "caxton.h"
 *
 *     int32_t agent_handle(const cx_message *msg) {
 *         cx_writer w;
 *         cx_w_begin(&w);                         // { starts the reply object
 *         cx_w_key_str(&w, "performative", "inform");
 *         cx_w_key_raw(&w, "content", msg->content);
 *         return cx_reply(&w);                    // 0, or the host's negative error code
 *     }
 *
 * and build it together with caxton.c (see sdk/c/README.md). Returning non-zero from
 * agent_handle fails the message: the host discards what it sent and state it wrote, and the
 * sender gets a FIPA failure naming the code.
 *
 * Memory: everything the SDK allocates while a message is handled (writers, unescaped strings,
 * state values) is scratch memory, released when agent_handle returns. Keep nothing in
 * pointers across messages; keep durable data in host state (cx_state_*).
 */
#ifndef CAXTON_H
#define CAXTON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CX_EXPORT(name) __attribute__((export_name(name)))
#define CX_IMPORT(name) __attribute__((import_module("caxton"), import_name(name)))

/* Result codes. The host's (negative) codes from send, reply and state_put, plus the SDK's. */
enum {
    CX_OK = 0,
    CX_NOT_FOUND = -1,  /* state: no such key */
    CX_INVALID = -2,    /* host: not UTF-8 JSON, not an object, or a field failed validation */
    CX_TOO_LARGE = -3,  /* host: message over max_message_bytes, or key/value over its limit */
    CX_NO_MESSAGE = -5, /* host: reply outside handle */
    CX_NO_MEMORY = -10, /* SDK: the agent's memory limit was reached */
    CX_BAD_JSON = -11,  /* SDK: a JSON value was not what was asked for */
};

/* Log levels for cx_log. */
enum { CX_DEBUG = 0, CX_INFO = 1, CX_WARNING = 2, CX_ERROR = 3 };

/* ------------------------------------------------------------------------------------------ */
/* Reading JSON: a cx_json is a view of one JSON value's bytes (no copy, no tree). An absent    */
/* value has ptr == NULL. Lookups walk the bytes, which is cheap for messages of a few KB.     */

typedef struct {
    const char *ptr;
    uint32_t len;
} cx_json;

typedef enum {
    CX_ABSENT = 0, CX_NULL, CX_FALSE, CX_TRUE, CX_NUMBER, CX_STRING, CX_ARRAY, CX_OBJECT
} cx_kind;

cx_json cx_json_parse(const char *ptr, uint32_t len); /* the value filling [ptr, ptr+len) */
cx_kind cx_json_kind(cx_json v);
int cx_json_exists(cx_json v);                         /* not absent */
cx_json cx_json_get(cx_json object, const char *key);  /* member, or absent */
cx_json cx_json_at(cx_json array, uint32_t index);     /* element, or absent */
uint32_t cx_json_count(cx_json array_or_object);       /* elements or members */
/* A string value unescaped into freshly allocated scratch memory, NUL-terminated; NULL when v
 * is not a string (or out of memory). *len (when not NULL) receives its length in bytes. */
const char *cx_json_str(cx_json v, uint32_t *len);
int cx_json_str_eq(cx_json v, const char *s);          /* v is the string s */
int cx_json_int(cx_json v, int64_t *out);              /* 1 when v is an integer that fits */
int cx_json_bool(cx_json v, int *out);                 /* 1 when v is true or false */

/* ------------------------------------------------------------------------------------------ */
/* The message being handled. Header fields are JSON strings (absent when the message has     */
/* none); content is any JSON value (JSON null when the sender gave none).                    */

typedef struct {
    cx_json raw;             /* the whole message object */
    cx_json performative;    /* e.g. "request", "cfp" */
    cx_json sender;
    cx_json conversation_id;
    cx_json reply_with;
    cx_json content;
} cx_message;

/* You provide this. 0 = handled; anything else fails the message with that code. */
int32_t agent_handle(const cx_message *msg);

int cx_msg_is(const cx_message *msg, const char *performative);
/* Any member of the message by name (for example "protocol" or "X-Forward-To"). */
cx_json cx_msg_get(const cx_message *msg, const char *field);

/* ------------------------------------------------------------------------------------------ */
/* Writing JSON: a growable buffer of scratch memory with a nesting stack, so commas are put   */
/* in for you. Errors (out of memory, too deep) are remembered and reported by cx_w_finish,    */
/* cx_reply and cx_send.                                                                        */

#define CX_W_MAX_DEPTH 32

typedef struct {
    char *buf;
    uint32_t len, cap;
    int32_t error;                    /* 0 or a CX_ code */
    uint32_t depth;                   /* open objects and arrays */
    uint8_t after_key;                /* a key was written; its value comes next */
    char open[CX_W_MAX_DEPTH];        /* '{' or '[' at each level */
    uint8_t nonempty[CX_W_MAX_DEPTH]; /* something was written at that level */
} cx_writer;

void cx_w_init(cx_writer *w);                 /* empty writer: write any value */
void cx_w_begin(cx_writer *w);                /* cx_w_init + cx_w_obj_begin: a message object */
void cx_w_obj_begin(cx_writer *w);
void cx_w_obj_end(cx_writer *w);
void cx_w_arr_begin(cx_writer *w);
void cx_w_arr_end(cx_writer *w);
void cx_w_key(cx_writer *w, const char *key); /* then write the member's value */
void cx_w_str(cx_writer *w, const char *s);   /* a NUL-terminated UTF-8 string, escaped */
void cx_w_strn(cx_writer *w, const char *s, uint32_t n);
void cx_w_int(cx_writer *w, int64_t v);
void cx_w_bool(cx_writer *w, int v);
void cx_w_null(cx_writer *w);
void cx_w_raw(cx_writer *w, cx_json v);       /* a JSON value verbatim (absent writes null) */
void cx_w_rawn(cx_writer *w, const char *json, uint32_t n);
/* Shorthands for members: key then value. */
void cx_w_key_str(cx_writer *w, const char *key, const char *s);
void cx_w_key_int(cx_writer *w, const char *key, int64_t v);
void cx_w_key_raw(cx_writer *w, const char *key, cx_json v);
/* Closes any open objects/arrays; returns 0 or the writer's error. */
int32_t cx_w_finish(cx_writer *w);

/* ------------------------------------------------------------------------------------------ */
/* Host functions.                                                                             */

/* Send the writer's message (an object with at least "receiver" and "performative"). */
int32_t cx_send(cx_writer *w);
/* Reply to the message being handled (needs "performative"; the host fills in the rest). */
int32_t cx_reply(cx_writer *w);
int32_t cx_send_raw(const char *json, uint32_t len);
int32_t cx_reply_raw(const char *json, uint32_t len);

void cx_log(int32_t level, const char *text);          /* NUL-terminated */
void cx_logn(int32_t level, const char *text, uint32_t len);
int64_t cx_now(void);                                   /* ns since the Unix epoch */
int32_t cx_random(void *buf, uint32_t len);             /* 0, or CX_TOO_LARGE over 64 KiB */

/* State: per agent, UTF-8 keys (<= 1 KiB), byte values (<= 1 MiB). Writes made while handling
 * a message are committed only if the handler succeeds. */
/* Read a value into scratch memory: returns its length and sets *value, or CX_NOT_FOUND. */
int32_t cx_state_get(const char *key, const char **value);
int32_t cx_state_put(const char *key, const void *value, uint32_t len);
int32_t cx_state_put_str(const char *key, const char *value);
int32_t cx_state_delete(const char *key);               /* 0, or CX_NOT_FOUND */
/* Integers stored as decimal text. */
int64_t cx_state_get_int(const char *key, int64_t otherwise);
int32_t cx_state_put_int(const char *key, int64_t value);

/* ------------------------------------------------------------------------------------------ */
/* Utilities.                                                                                  */

void *cx_alloc(uint32_t size);                /* scratch memory, released after the message */
const char *cx_error_name(int32_t code);      /* "invalid", "too large", ... */
uint32_t cx_strlen(const char *s);
int cx_memeq(const void *a, const void *b, uint32_t n);
/* Decimal text of v into buf (at least 21 bytes); returns the length (no NUL written). */
uint32_t cx_fmt_int(char *buf, int64_t v);
/* Log an error and trap: the message fails with "unreachable" and the instance is replaced. */
__attribute__((noreturn)) void cx_abort(const char *why);

#ifdef __cplusplus
}
#endif
#endif /* CAXTON_H */
