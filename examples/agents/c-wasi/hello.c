/*
 * hello.c -- a C agent built against WASI libc (zig cc --target=wasm32-wasi), to show that an
 * agent can use the C library: printf, snprintf, malloc. What it prints to stdout and stderr
 * appears in its log (`caxton agents logs NAME`), one line per line printed.
 *
 * On every message it prints a line about it and replies
 *
 *     {"performative":"inform","content":{"greeting":"hello, <sender>","seen":<n>}}
 *
 * where n counts the messages it has handled (kept in host state, so it survives restarts).
 *
 * It uses the C SDK (sdk/c) compiled with -DCAXTON_USE_MALLOC, so that the SDK allocates with
 * libc's malloc instead of its own bump allocator. It is a WASI *reactor*
 * (-mexec-model=reactor): no main; the host calls its _initialize export once, which runs the
 * C library's constructors. Build: bash scripts/build-examples.sh c-wasi
 */
#include <stdio.h>
#include <string.h>

#include "caxton.h"

int32_t agent_handle(const cx_message *msg) {
    const char *sender = cx_json_str(msg->sender, 0);
    const char *performative = cx_json_str(msg->performative, 0);
    int64_t seen = cx_state_get_int("seen", 0) + 1;
    int32_t rc = cx_state_put_int("seen", seen);
    if (rc) return rc;

    printf("hello.c: message %lld: %s from %s, %u bytes of content\n", (long long)seen,
           performative ? performative : "?", sender ? sender : "?", (unsigned)msg->content.len);
    fflush(stdout);

    char greeting[300];
    snprintf(greeting, sizeof greeting, "hello, %s", sender ? sender : "stranger");
    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_str(&w, "performative", "inform");
    cx_w_key(&w, "content");
    cx_w_obj_begin(&w);
    cx_w_key_str(&w, "greeting", greeting);
    cx_w_key_int(&w, "seen", seen);
    return cx_reply(&w);
}
