/*
 * faults.c -- misbehaves on request, to show how failures surface (C SDK). The content picks:
 *
 *   "bad-reply"  replies with malformed JSON: the host refuses it (-2, reason in the agent's
 *                log), the SDK returns the code and the message fails: agent_error
 *   "bad-send"   sends a message without a receiver: refused the same way (-2)
 *   "trap"       cx_abort: logs and traps (unreachable); the instance is replaced
 *   "spin"       loops until its fuel runs out: fuel_exhausted
 *   otherwise    replies inform "ok"
 */
#include "caxton.h"

static volatile uint32_t sink;

int32_t agent_handle(const cx_message *msg) {
    if (cx_json_str_eq(msg->content, "bad-reply")) {
        static const char bad[] = "{\"performative\":\"inform\",\"content\":";
        return cx_reply_raw(bad, sizeof bad - 1);
    }
    if (cx_json_str_eq(msg->content, "bad-send")) {
        cx_writer w;
        cx_w_begin(&w);
        cx_w_key_str(&w, "performative", "inform"); /* no receiver */
        return cx_send(&w);
    }
    if (cx_json_str_eq(msg->content, "trap")) cx_abort("faults: trap requested");
    if (cx_json_str_eq(msg->content, "spin")) {
        for (uint32_t i = 0;; i++) sink = i;
    }
    static const char ok[] = "{\"performative\":\"inform\",\"content\":\"ok\"}";
    return cx_reply_raw(ok, sizeof ok - 1);
}
