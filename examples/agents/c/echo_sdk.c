/*
 * echo_sdk.c -- the echo agent written with the C SDK (sdk/c): replies
 *
 *     {"performative":"inform","content":<the message's content>}
 *
 * to every message. Compare echo.c, which does the same on the bare ABI.
 *
 * Build: bash scripts/build-examples.sh c   (compiles it together with sdk/c/caxton.c)
 */
#include "caxton.h"

int32_t agent_handle(const cx_message *msg) {
    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_str(&w, "performative", "inform");
    cx_w_key_raw(&w, "content", msg->content); /* copied byte for byte, never re-encoded */
    return cx_reply(&w);                       /* 0, or the host's code: fails the message */
}
