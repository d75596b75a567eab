/*
 * ticker.c -- a FIPA subscribe participant (SC00035) written with the C SDK, for
 * `caxton messages subscribe` (docs/messaging.md, "Protocol drivers").
 *
 * A WebAssembly agent has no clock and acts only when a message comes, so it ticks on demand:
 *
 *   subscribe {"count": N}  replies agree {"subscribed": true}, then N informs {"tick": 1} ...
 *                           {"tick": N} at once (N from 0 to 100, default 3), and remembers the
 *                           subscription (conversation, subscriber, reply key, ticks so far);
 *   request (any content)   one more inform {"tick": k} to every open subscription, and the
 *                           request is answered inform {"subscriptions": n};
 *   cancel                  ends the subscription of that conversation: inform
 *                           {"cancelled": true, "ticks": k}, or failure {"reason": ...} when
 *                           there is none;
 *   query-ref               inform {"subscriptions": n}.
 *
 * The informs carry in_reply_to = the subscribe's reply key, so the server never takes a tick
 * crossing a cancel for the cancel's answer. Subscriptions are kept in state under "subs" as a
 * JSON array of {"c": conversation, "to": subscriber, "r": reply key, "n": ticks}; at most 64.
 * `failure` and `not-understood` are logged, never answered; other acts get `not-understood`.
 */
#include "caxton.h"

#define MAX_SUBSCRIPTIONS 64
#define MAX_TICKS_AT_ONCE 100

static int32_t answer(const char *performative, const char *key, const char *text,
                      int64_t number) {
    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_str(&w, "performative", performative);
    cx_w_key(&w, "content");
    cx_w_obj_begin(&w);
    if (text) cx_w_key_str(&w, key, text);
    else cx_w_key_int(&w, key, number);
    return cx_reply(&w);
}

static cx_json load(void) {
    const char *value;
    int32_t n = cx_state_get("subs", &value);
    if (n < 0) return cx_json_parse("[]", 2);
    return cx_json_parse(value, (uint32_t)n);
}

static int32_t store(cx_writer *w) {
    int32_t rc = cx_w_finish(w);
    return rc ? rc : cx_state_put("subs", w->buf, w->len);
}

/* One subscription record: the old one's fields with "n" replaced. */
static void write_record(cx_writer *w, cx_json sub, int64_t ticks) {
    cx_w_obj_begin(w);
    cx_w_key_raw(w, "c", cx_json_get(sub, "c"));
    cx_w_key_raw(w, "to", cx_json_get(sub, "to"));
    cx_w_key_raw(w, "r", cx_json_get(sub, "r"));
    cx_w_key_int(w, "n", ticks);
    cx_w_obj_end(w);
}

static int32_t tick_to(cx_json sub, int64_t tick) {
    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_str(&w, "performative", "inform");
    cx_w_key_raw(&w, "receiver", cx_json_get(sub, "to"));
    cx_w_key_raw(&w, "conversation_id", cx_json_get(sub, "c"));
    cx_w_key_str(&w, "protocol", "fipa-subscribe");
    cx_w_key_raw(&w, "in_reply_to", cx_json_get(sub, "r"));
    cx_w_key(&w, "content");
    cx_w_obj_begin(&w);
    cx_w_key_int(&w, "tick", tick);
    return cx_send(&w);
}

static int32_t subscribe(const cx_message *msg) {
    int64_t count = 3;
    cx_json wanted = cx_json_get(msg->content, "count");
    if (cx_json_exists(wanted) && (!cx_json_int(wanted, &count) || count < 0 ||
                                   count > MAX_TICKS_AT_ONCE))
        return answer("refuse", "reason", "count must be an integer from 0 to 100", 0);
    cx_json subs = load();
    uint32_t open = cx_json_count(subs);
    if (open >= MAX_SUBSCRIPTIONS)
        return answer("refuse", "reason", "too many subscriptions", 0);
    if (!cx_json_exists(msg->conversation_id))
        return answer("refuse", "reason", "a subscription needs a conversation_id", 0);

    cx_json reply_to = cx_json_at(cx_msg_get(msg, "reply_to"), 0);
    cx_json key = cx_json_exists(msg->reply_with) ? msg->reply_with
                                                   : cx_msg_get(msg, "message_id");
    cx_writer w;
    cx_w_init(&w);
    cx_w_arr_begin(&w);
    for (uint32_t i = 0; i < open; i++) {
        cx_json sub = cx_json_at(subs, i);
        int64_t n = 0;
        cx_json_int(cx_json_get(sub, "n"), &n);
        write_record(&w, sub, n);
    }
    cx_w_obj_begin(&w);
    cx_w_key_raw(&w, "c", msg->conversation_id);
    cx_w_key_raw(&w, "to", cx_json_exists(reply_to) ? reply_to : msg->sender);
    cx_w_key_raw(&w, "r", key);
    cx_w_key_int(&w, "n", count);
    int32_t rc = store(&w);
    if (rc) return rc;

    cx_writer agree;
    cx_w_begin(&agree);
    cx_w_key_str(&agree, "performative", "agree");
    cx_w_key(&agree, "content");
    cx_w_obj_begin(&agree);
    cx_w_key(&agree, "subscribed");
    cx_w_bool(&agree, 1);
    if ((rc = cx_reply(&agree))) return rc;
    for (int64_t tick = 1; tick <= count; tick++) {
        if ((rc = answer("inform", "tick", 0, tick))) return rc;
    }
    return 0;
}

static int32_t tick_all(void) {
    cx_json subs = load();
    uint32_t open = cx_json_count(subs);
    cx_writer w;
    cx_w_init(&w);
    cx_w_arr_begin(&w);
    int32_t rc;
    for (uint32_t i = 0; i < open; i++) {
        cx_json sub = cx_json_at(subs, i);
        int64_t n = 0;
        cx_json_int(cx_json_get(sub, "n"), &n);
        if ((rc = tick_to(sub, n + 1))) return rc;
        write_record(&w, sub, n + 1);
    }
    if ((rc = store(&w))) return rc;
    return answer("inform", "subscriptions", 0, open);
}

static int32_t cancel(const cx_message *msg) {
    cx_json subs = load();
    uint32_t open = cx_json_count(subs);
    const char *conversation = cx_json_str(msg->conversation_id, 0);
    int64_t ticks = -1;
    cx_writer w;
    cx_w_init(&w);
    cx_w_arr_begin(&w);
    for (uint32_t i = 0; i < open; i++) {
        cx_json sub = cx_json_at(subs, i);
        int64_t n = 0;
        cx_json_int(cx_json_get(sub, "n"), &n);
        if (conversation && ticks < 0 && cx_json_str_eq(cx_json_get(sub, "c"), conversation)) {
            ticks = n;
            continue;
        }
        write_record(&w, sub, n);
    }
    if (ticks < 0) return answer("failure", "reason", "no subscription in this conversation", 0);
    int32_t rc = store(&w);
    if (rc) return rc;
    cx_writer done;
    cx_w_begin(&done);
    cx_w_key_str(&done, "performative", "inform");
    cx_w_key(&done, "content");
    cx_w_obj_begin(&done);
    cx_w_key(&done, "cancelled");
    cx_w_bool(&done, 1);
    cx_w_key_int(&done, "ticks", ticks);
    return cx_reply(&done);
}

int32_t agent_handle(const cx_message *msg) {
    if (cx_msg_is(msg, "subscribe")) return subscribe(msg);
    if (cx_msg_is(msg, "request")) return tick_all();
    if (cx_msg_is(msg, "cancel")) return cancel(msg);
    if (cx_msg_is(msg, "query-ref"))
        return answer("inform", "subscriptions", 0, cx_json_count(load()));
    if (cx_msg_is(msg, "failure") || cx_msg_is(msg, "not-understood")) {
        cx_log(CX_WARNING, "ticker: ignoring a failure or not-understood");
        return 0;
    }
    return answer("not-understood", "reason",
                  "the ticker takes subscribe, cancel, request and query-ref", 0);
}
