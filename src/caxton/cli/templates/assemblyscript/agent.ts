// {{name}}: a Caxton agent in AssemblyScript, made by `caxton agents new`.
//
// It answers every message with
// inform {"agent":"{{name}}","count":N,"echo":<content>}, where N counts the messages it has
// handled (kept in host state, so it survives restarts). See README.md.
import { JsonWriter, Message, log, reply, run, runBatch, state } from "./caxton";
export { alloc, dealloc, caxton_abi_version } from "./caxton";

export function handle(ptr: usize, len: i32): i32 {
  return run(ptr, len, onMessage);
}

// Optional: lets the host hand over several queued messages in one call (same handler).
export function handle_batch(ptr: usize, len: i32): i32 {
  return runBatch(ptr, len, onMessage);
}

function onMessage(msg: Message): i32 {
  // Never answer a complaint with another one: two agents could bounce them forever.
  if (msg.is("failure") || msg.is("not-understood")) {
    log(2, "{{name}}: got " + msg.performative);
    return 0;
  }
  const count = state.getInt("count", 0) + 1;
  const rc = state.putInt("count", count);
  if (rc != 0) return rc; // non-zero fails the message: the sender gets a FIPA failure
  const w = JsonWriter.object();
  w.str("performative", "inform");
  w.beginObject("content").str("agent", "{{name}}").int("count", count).value("echo", msg.content);
  return reply(w);
}
