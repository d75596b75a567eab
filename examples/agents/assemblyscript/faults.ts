// faults: misbehaves on request, to show how failures surface. The content picks:
// "bad-reply" (malformed JSON: the host refuses it with -2 and the handler returns that code),
// "bad-send" (a message with no receiver: -2), "trap" (abort(): logged, then a trap),
// "spin" (loops until its fuel runs out); anything else gets inform "ok".
import { JsonWriter, Message, replyText, run, runBatch, send } from "../../../sdk/assemblyscript/caxton";
export { alloc, dealloc, caxton_abi_version } from "../../../sdk/assemblyscript/caxton";

let sink: u64 = 0;

export function handle(ptr: usize, len: i32): i32 {
  return run(ptr, len, onMessage);
}

// Optional: lets the host hand over several queued messages in one call (same handler).
export function handle_batch(ptr: usize, len: i32): i32 {
  return runBatch(ptr, len, onMessage);
}

function onMessage(msg: Message): i32 {
  const what = msg.content.str();
  if (what == "bad-reply") return replyText('{"performative":"inform","content":');
  if (what == "bad-send") {
    const w = JsonWriter.object();
    w.str("performative", "inform"); // no receiver
    return send(w);
  }
  if (what == "trap") abort("faults: trap requested");
  if (what == "spin") {
    while (true) {
      sink++;
      if (sink == 0) break; // never: keeps the loop from being optimised away
    }
  }
  return replyText('{"performative":"inform","content":"ok"}');
}
