/*
 * ledger.c -- records the outcome of Contract Net rounds (C SDK).
 *
 * The bidders (examples/agents/{rust,go,zig,assemblyscript}/bidder) send the ledger an
 * `inform` whenever a proposal of theirs is accepted or rejected:
 *
 *     {"event": "won", "price": 120}     or     {"event": "lost"}
 *
 * The ledger counts them per bidder in its state (keys `won:<agent>`, `lost:<agent>`,
 * `revenue:<agent>` and `events`) and answers each with a `confirm` carrying the running total,
 * which the bidder counts in turn. Anyone can ask for the figures with `query-ref`:
 *
 *     {"agent": "rust-bidder"}  ->  inform {"agent":"rust-bidder","won":1,"lost":0,"revenue":120}
 *     anything else             ->  inform {"events": 7}
 *
 * `failure` and `not-understood` are logged and not answered (so two agents can never bounce
 * complaints at each other); other performatives get `not-understood`.
 */
#include "caxton.h"

/* "prefix" + name as a NUL-terminated key in scratch memory. */
static const char *key(const char *prefix, const char *name) {
    uint32_t a = cx_strlen(prefix), b = cx_strlen(name);
    char *k = cx_alloc(a + b + 1);
    if (!k) cx_abort("ledger: out of memory");
    __builtin_memcpy(k, prefix, a);
    __builtin_memcpy(k + a, name, b + 1);
    return k;
}

static int32_t record(const cx_message *msg) {
    const char *sender = cx_json_str(msg->sender, 0);
    cx_json event = cx_json_get(msg->content, "event");
    int won = cx_json_str_eq(event, "won");
    if (!sender || (!won && !cx_json_str_eq(event, "lost"))) {
        cx_writer w;
        cx_w_begin(&w);
        cx_w_key_str(&w, "performative", "not-understood");
        cx_w_key(&w, "content");
        cx_w_obj_begin(&w);
        cx_w_key_str(&w, "reason", "expected {\"event\": \"won\" or \"lost\"}");
        return cx_reply(&w);
    }
    int32_t rc;
    if (won) {
        int64_t price = 0;
        cx_json_int(cx_json_get(msg->content, "price"), &price);
        const char *rk = key("revenue:", sender);
        if ((rc = cx_state_put_int(rk, cx_state_get_int(rk, 0) + price))) return rc;
    }
    const char *k = key(won ? "won:" : "lost:", sender);
    if ((rc = cx_state_put_int(k, cx_state_get_int(k, 0) + 1))) return rc;
    int64_t events = cx_state_get_int("events", 0) + 1;
    if ((rc = cx_state_put_int("events", events))) return rc;

    cx_writer w; /* the reply goes back to the bidder that reported */
    cx_w_begin(&w);
    cx_w_key_str(&w, "performative", "confirm");
    cx_w_key(&w, "content");
    cx_w_obj_begin(&w);
    cx_w_key_int(&w, "recorded", events);
    cx_w_key_raw(&w, "event", event);
    return cx_reply(&w);
}

static int32_t query(const cx_message *msg) {
    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_str(&w, "performative", "inform");
    cx_w_key(&w, "content");
    cx_w_obj_begin(&w);
    const char *agent = cx_json_str(cx_json_get(msg->content, "agent"), 0);
    if (agent) {
        cx_w_key_str(&w, "agent", agent);
        cx_w_key_int(&w, "won", cx_state_get_int(key("won:", agent), 0));
        cx_w_key_int(&w, "lost", cx_state_get_int(key("lost:", agent), 0));
        cx_w_key_int(&w, "revenue", cx_state_get_int(key("revenue:", agent), 0));
    } else {
        cx_w_key_int(&w, "events", cx_state_get_int("events", 0));
    }
    return cx_reply(&w);
}

int32_t agent_handle(const cx_message *msg) {
    if (cx_msg_is(msg, "inform")) return record(msg);
    if (cx_msg_is(msg, "query-ref")) return query(msg);
    if (cx_msg_is(msg, "failure") || cx_msg_is(msg, "not-understood")) {
        cx_log(CX_WARNING, "ledger: ignoring a failure or not-understood");
        return 0;
    }
    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_str(&w, "performative", "not-understood");
    cx_w_key(&w, "content");
    cx_w_obj_begin(&w);
    cx_w_key_str(&w, "reason", "the ledger takes inform and query-ref");
    return cx_reply(&w);
}
