/*
 * fipa_party.c -- a scriptable FIPA participant (C SDK): the message's content says how to
 * answer it, so one module can play every role of every interaction protocol in a test.
 *
 * A script is a JSON object in the content of the message to answer:
 *
 *   {"answer": ["agree", "inform"], "content": X}
 *       reply with these performatives, in order, each with content X (default: {"price": P}
 *       when the script has "price", else null). The host's reply copies the conversation id,
 *       protocol, language and ontology and sets in_reply_to, so each reply is a step of the
 *       conversation. An element may also be {"performative": P, "content": C}.
 *       {"answer": []} stays silent.
 *   {"price": N}
 *       shorthand for {"answer": ["propose"], "content": {"price": N}}: a bid or a proposal
 *       (an answer to a cfp).
 *   {"by": {"b1": SCRIPT, "b2": SCRIPT}, ...}
 *       one message to several parties, each with its own script: a party uses by[its name]
 *       when it has one, else the rest of the script. A party learns its name from
 *       {"iam": "b1"} (kept in state under "self"; not answered).
 *   {"answer": ["agree", "forward", "inform"], "forward": "t1", "mode": "relay" | "direct",
 *    "message": {"performative": "request", "content": SCRIPT}}
 *       the element "forward" sends the message to the agent "forward" names, in the same
 *       conversation and protocol (brokering and recruiting):
 *         relay (default): the target answers this agent, which relays every answer (any act)
 *                          to the initiator. The initiator's address (its reply_to, else its
 *                          sender) is kept in state under "relay:<conversation>:<target>" and
 *                          dropped after a final answer (inform, failure, refuse,
 *                          not-understood).
 *         direct:          the message carries "reply_to": [initiator], so the target answers
 *                          the initiator itself.
 *
 * Without a script: a cancel is answered with inform (cancelled; script it with
 * {"answer": ["failure"]} to refuse the cancel); a message that asks for something (request,
 * query-if, query-ref, request-when, request-whenever, subscribe, cfp, propose, proxy,
 * propagate) gets not-understood {"error": "no-script", ...}; anything else (an inform, an
 * agree, an accept or a reject without a script) is taken in silence. Never answered: whatever
 * the platform ("ams") says, failure and not-understood (so two agents can never bounce
 * complaints at each other). A script that is not what is described above (answer not a list,
 * "forward" with no target) is answered with not-understood too.
 *
 * handle returns 0, or the host's code when it refuses a reply or a send (for example an
 * unknown performative in "answer"): the message then fails, the replies made so far are
 * discarded, and the sender gets a failure.
 *
 * Used by tests/integration/test_protocol_flows.py.
 * Build: bash scripts/build-examples.sh c   (compiles it together with sdk/c/caxton.c)
 */
#include "caxton.h"

/* Concatenation of up to three strings into scratch memory, NUL-terminated (a state key). */
static const char *join3(const char *a, const char *b, const char *c) {
    uint32_t la = cx_strlen(a), lb = cx_strlen(b), lc = cx_strlen(c);
    char *k = cx_alloc(la + lb + lc + 1);
    if (!k) cx_abort("fipa_party: out of memory");
    __builtin_memcpy(k, a, la);
    __builtin_memcpy(k + la, b, lb);
    __builtin_memcpy(k + la + lb, c, lc + 1);
    return k;
}

static int is_one_of(cx_json perf, const char *const *names) {
    for (; *names; names++)
        if (cx_json_str_eq(perf, *names)) return 1;
    return 0;
}

static const char *const ASKING[] = {"request", "query-if", "query-ref", "request-when",
                                     "request-whenever", "subscribe", "cfp", "propose",
                                     "proxy", "propagate", 0};
static const char *const FINAL[] = {"inform", "failure", "refuse", "not-understood", 0};

static int32_t not_understood(const char *reason) {
    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_str(&w, "performative", "not-understood");
    cx_w_key(&w, "content");
    cx_w_obj_begin(&w);
    cx_w_key_str(&w, "error", "no-script");
    cx_w_key_str(&w, "reason", reason);
    return cx_reply(&w);
}

/* Reply with performative perf (a JSON string) and content (absent: null). */
static int32_t answer(cx_json perf, cx_json content) {
    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_raw(&w, "performative", perf);
    cx_w_key_raw(&w, "content", content);
    return cx_reply(&w);
}

/* Where the initiator wants replies: the first of its reply_to, else its sender. */
static cx_json reply_address(const cx_message *msg) {
    cx_json first = cx_json_at(cx_msg_get(msg, "reply_to"), 0);
    return cx_json_kind(first) == CX_STRING ? first : msg->sender;
}

/* The "forward" step: send the script's message to its target (see the header). */
static int32_t forward(const cx_message *msg, cx_json script) {
    const char *target = cx_json_str(cx_json_get(script, "forward"), 0);
    cx_json message = cx_json_get(script, "message");
    cx_json perf = cx_json_get(message, "performative");
    const char *cid = cx_json_str(msg->conversation_id, 0);
    if (!target || !cid || cx_json_kind(perf) != CX_STRING)
        return not_understood("forward needs \"forward\": TARGET and \"message\": "
                              "{\"performative\": ..., \"content\": ...} in a conversation");
    int direct = cx_json_str_eq(cx_json_get(script, "mode"), "direct");
    cx_json initiator = reply_address(msg);
    cx_json protocol = cx_msg_get(msg, "protocol");

    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_raw(&w, "performative", perf);
    cx_w_key(&w, "receiver");
    cx_w_arr_begin(&w);
    cx_w_str(&w, target);
    cx_w_arr_end(&w);
    cx_w_key_raw(&w, "conversation_id", msg->conversation_id);
    if (cx_json_exists(protocol)) cx_w_key_raw(&w, "protocol", protocol);
    if (direct) {
        cx_w_key(&w, "reply_to");
        cx_w_arr_begin(&w);
        cx_w_raw(&w, initiator);
        cx_w_arr_end(&w);
    }
    cx_w_key_raw(&w, "content", cx_json_get(message, "content"));
    int32_t rc = cx_send(&w);
    if (rc || direct) return rc;
    /* Relay: remember whom to pass the target's answers to (the raw JSON string). */
    return cx_state_put(join3("relay:", cid, join3(":", target, "")), initiator.ptr,
                        initiator.len);
}

/* An answer from a target we forwarded to: pass it on to the initiator. */
static int32_t relay(const cx_message *msg, const char *key, cx_json initiator) {
    cx_json perf = msg->performative;
    cx_json protocol = cx_msg_get(msg, "protocol");
    cx_writer w;
    cx_w_begin(&w);
    cx_w_key_raw(&w, "performative", perf);
    cx_w_key(&w, "receiver");
    cx_w_arr_begin(&w);
    cx_w_raw(&w, initiator);
    cx_w_arr_end(&w);
    cx_w_key_raw(&w, "conversation_id", msg->conversation_id);
    if (cx_json_exists(protocol)) cx_w_key_raw(&w, "protocol", protocol);
    cx_w_key_raw(&w, "content", msg->content);
    int32_t rc = cx_send(&w);
    if (rc == 0 && is_one_of(perf, FINAL)) cx_state_delete(key);
    return rc;
}

int32_t agent_handle(const cx_message *msg) {
    if (cx_json_str_eq(msg->sender, "ams")) return 0; /* bounces, timeouts, violations */

    const char *cid = cx_json_str(msg->conversation_id, 0);
    const char *sender = cx_json_str(msg->sender, 0);
    if (cid && sender) {
        const char *key = join3("relay:", cid, join3(":", sender, ""));
        const char *stored;
        int32_t n = cx_state_get(key, &stored);
        if (n > 0) return relay(msg, key, cx_json_parse(stored, (uint32_t)n));
    }
    if (cx_msg_is(msg, "failure") || cx_msg_is(msg, "not-understood")) return 0;

    cx_json script = msg->content;
    if (cx_json_kind(script) == CX_OBJECT) {
        cx_json iam = cx_json_get(script, "iam");
        if (cx_json_kind(iam) == CX_STRING)
            return cx_state_put("self", iam.ptr + 1, iam.len - 2); /* the name needs no escapes */
        cx_json by = cx_json_get(script, "by");
        const char *self;
        int32_t n = cx_state_get("self", &self);
        if (cx_json_kind(by) == CX_OBJECT && n > 0 && n < 256) {
            ((char *)self)[n] = 0; /* a scratch copy of at least 256 bytes: make it a C string */
            cx_json mine = cx_json_get(by, self);
            if (cx_json_kind(mine) == CX_OBJECT) script = mine;
        }
    }
    cx_json answers = cx_json_get(script, "answer");
    cx_json price = cx_json_get(script, "price");
    int scripted = cx_json_exists(answers) || cx_json_exists(price);
    if (cx_json_kind(script) != CX_OBJECT || !scripted) {
        if (cx_msg_is(msg, "cancel")) {
            static const char done[] =
                "{\"performative\":\"inform\",\"content\":{\"cancelled\":true}}";
            return cx_reply_raw(done, sizeof done - 1);
        }
        if (is_one_of(msg->performative, ASKING))
            return not_understood("expected a script such as "
                                  "{\"answer\": [\"agree\", \"inform\"]}");
        return 0;
    }

    cx_json content = cx_json_get(script, "content");
    char *bid = 0;
    if (!cx_json_exists(content) && cx_json_exists(price)) { /* {"price": N} */
        bid = cx_alloc(price.len + 16);
        if (!bid) return CX_NO_MEMORY;
        __builtin_memcpy(bid, "{\"price\":", 9);
        __builtin_memcpy(bid + 9, price.ptr, price.len);
        bid[9 + price.len] = '}';
        content = cx_json_parse(bid, price.len + 10);
    }
    if (!cx_json_exists(answers)) {
        static const char propose[] = "\"propose\"";
        return answer(cx_json_parse(propose, sizeof propose - 1), content);
    }
    if (cx_json_kind(answers) != CX_ARRAY) return not_understood("\"answer\" must be a list");

    uint32_t count = cx_json_count(answers);
    for (uint32_t i = 0; i < count; i++) {
        cx_json step = cx_json_at(answers, i);
        int32_t rc;
        if (cx_json_str_eq(step, "forward")) {
            rc = forward(msg, script);
        } else if (cx_json_kind(step) == CX_OBJECT) {
            cx_json own = cx_json_get(step, "content");
            rc = answer(cx_json_get(step, "performative"), cx_json_exists(own) ? own : content);
        } else {
            rc = answer(step, content);
        }
        if (rc) return rc;
    }
    return 0;
}
