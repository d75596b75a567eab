// bidder: a Contract Net participant (FIPA SC00029) that keeps its book in state.
//
// - cfp {"task": "...", "size": N}: proposes size*rate (rate from state, default 10),
//   remembers the bid under bid:<conversation> and counts the call in cfps; replies
//   propose {"price": P, "task": "..."}, or refuse when size is not a positive integer.
// - accept-proposal: replies inform {"done": true, "price": P} and tells the ledger
//   (X-Ledger of the message, default "ledger") inform {"event": "won", "price": P}.
// - reject-proposal: forgets the bid and tells the ledger {"event": "lost"}.
// - confirm (the ledger's answer): counted in confirmed.
// - request {"rate": N} sets the rate; query-ref replies with the counters.
import { JsonWriter, Message, log, reply, run, runBatch, send, state } from "../../../sdk/assemblyscript/caxton";
export { alloc, dealloc, caxton_abi_version } from "../../../sdk/assemblyscript/caxton";

const DEFAULT_RATE: i64 = 10;

export function handle(ptr: usize, len: i32): i32 {
  return run(ptr, len, onMessage);
}

// Optional: lets the host hand over several queued messages in one call (same handler).
export function handle_batch(ptr: usize, len: i32): i32 {
  return runBatch(ptr, len, onMessage);
}

function bump(key: string): i32 {
  return state.putInt(key, state.getInt(key, 0) + 1);
}

function replyReason(performative: string, reason: string): i32 {
  const w = JsonWriter.object();
  w.str("performative", performative);
  w.beginObject("content").str("reason", reason);
  return reply(w);
}

function tellLedger(msg: Message, event: string, price: i64): i32 {
  let ledger = "ledger";
  const named = msg.get("X-Ledger");
  if (named !== null) {
    const s = named.str();
    if (s !== null) ledger = s;
  }
  const w = JsonWriter.object();
  w.str("performative", "inform").str("receiver", ledger).str("conversation_id", msg.conversationId);
  w.beginObject("content").str("event", event);
  if (price >= 0) w.int("price", price);
  return send(w);
}

function onMessage(msg: Message): i32 {
  const bidKey = "bid:" + msg.conversationId;
  let rc: i32;
  if (msg.is("cfp")) {
    const sizeValue = msg.content.get("size");
    const size: i64 = sizeValue !== null ? sizeValue.int(0) : 0;
    if (size <= 0) return replyReason("refuse", "size must be a positive integer");
    const taskValue = msg.content.get("task");
    let task = "";
    if (taskValue !== null) {
      const s = taskValue.str();
      if (s !== null) task = s;
    }
    const price = size * state.getInt("rate", DEFAULT_RATE);
    if ((rc = state.putInt(bidKey, price)) != 0) return rc;
    if ((rc = bump("cfps")) != 0) return rc;
    const w = JsonWriter.object();
    w.str("performative", "propose");
    w.beginObject("content").int("price", price).str("task", task);
    return reply(w);
  }
  if (msg.is("accept-proposal")) {
    const price = state.getInt(bidKey, -1);
    if (price < 0) return replyReason("failure", "no open bid in this conversation");
    state.remove(bidKey);
    if ((rc = bump("won")) != 0) return rc;
    if ((rc = tellLedger(msg, "won", price)) != 0) return rc;
    const w = JsonWriter.object();
    w.str("performative", "inform");
    w.beginObject("content").bool("done", true).int("price", price);
    return reply(w);
  }
  if (msg.is("reject-proposal")) {
    state.remove(bidKey);
    if ((rc = bump("lost")) != 0) return rc;
    return tellLedger(msg, "lost", -1);
  }
  if (msg.is("confirm")) return bump("confirmed");
  if (msg.is("request")) {
    const rateValue = msg.content.get("rate");
    const rate: i64 = rateValue !== null ? rateValue.int(0) : 0;
    if (rate <= 0) return replyReason("refuse", 'expected {"rate": N} with N > 0');
    if ((rc = state.putInt("rate", rate)) != 0) return rc;
    const w = JsonWriter.object();
    w.str("performative", "inform");
    w.beginObject("content").int("rate", rate);
    return reply(w);
  }
  if (msg.is("query-ref")) {
    const w = JsonWriter.object();
    w.str("performative", "inform");
    w.beginObject("content");
    const keys = ["cfps", "won", "lost", "confirmed"];
    for (let i = 0; i < keys.length; i++) w.int(keys[i], state.getInt(keys[i], 0));
    w.int("rate", state.getInt("rate", DEFAULT_RATE));
    return reply(w);
  }
  if (msg.is("failure") || msg.is("not-understood")) {
    log(2, "bidder: got " + msg.performative + " from " + msg.sender);
    return 0;
  }
  return replyReason("not-understood", "a bidder does not take " + msg.performative);
}
