// echo: replies inform with the message's content, byte for byte.
import { JsonWriter, Message, reply, run, runBatch } from "../../../sdk/assemblyscript/caxton";
export { alloc, dealloc, caxton_abi_version } from "../../../sdk/assemblyscript/caxton";

export function handle(ptr: usize, len: i32): i32 {
  return run(ptr, len, onMessage);
}

// Optional: lets the host hand over several queued messages in one call (same handler).
export function handle_batch(ptr: usize, len: i32): i32 {
  return runBatch(ptr, len, onMessage);
}

function onMessage(msg: Message): i32 {
  const w = JsonWriter.object();
  w.str("performative", "inform");
  w.value("content", msg.content);
  return reply(w);
}
