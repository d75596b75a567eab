// echo: replies inform with the message's content, byte for byte.
import { JsonWriter, Message, reply, run } from "../../../sdk/assemblyscript/caxton";
export { alloc, dealloc, caxton_abi_version } from "../../../sdk/assemblyscript/caxton";

export function handle(ptr: usize, len: i32): i32 {
  return run(ptr, len, onMessage);
}

function onMessage(msg: Message): i32 {
  const w = JsonWriter.object();
  w.str("performative", "inform");
  w.value("content", msg.content);
  return reply(w);
}
