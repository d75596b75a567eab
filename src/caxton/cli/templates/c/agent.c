/*
 * {{name}} -- a Caxton agent in C, made by `caxton agents new`.
 *
 * It answers every message with
 *
 *     {"performative":"inform","content":{"agent":"{{name}}","count":N,"echo":<content>}}
 *
 * where N counts the messages it has handled (kept in host state, so it survives restarts).
 * The SDK (caxton.h, caxton.c) hides the ABI; see README.md.
 */
#include "caxton.h"

int32_t agent_handle(const cx_message *msg) {
    /* Never answer a complaint with another one: two agents could bounce them forever. */
    if (cx_msg_is(msg, "failure") || cx_msg_is(msg, "not-understood")) {
        cx_log(CX_WARNING, "{{name}}: got a failure or not-understood");
        return 0;
    }
    int64_t count = cx_state_get_int("count", 0) + 1;
    int32_t rc = cx_state_put_int("count", count);
    if (rc) return rc; /* fails the message: the sender gets a FIPA failure */

    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_str(&w, "performative", "inform");
    cx_w_key(&w, "content");
    cx_w_obj_begin(&w);
    cx_w_key_str(&w, "agent", "{{name}}");
    cx_w_key_int(&w, "count", count);
    cx_w_key_raw(&w, "echo", msg->content);
    return cx_reply(&w);
}
