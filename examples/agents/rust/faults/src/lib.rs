//! faults: misbehaves on request, to show how failures surface. The content picks:
//! "bad-reply" (malformed JSON: the host refuses it with -2, the handler returns the error),
//! "bad-send" (a message with no receiver: -2), "trap" (a panic: logged, then the module traps),
//! "spin" (loops until its fuel runs out); anything else gets `inform "ok"`.
use caxton::{json, Message};

fn handle(msg: &Message) -> caxton::Result {
    match msg.content().str().as_deref() {
        Some("bad-reply") => caxton::reply(b"{\"performative\":\"inform\",\"content\":"),
        Some("bad-send") => caxton::send(&json::object(|o| {
            o.str("performative", "inform"); // no receiver
        })),
        Some("trap") => panic!("faults: trap requested"),
        Some("spin") => {
            let mut i: u64 = 0;
            loop {
                // a volatile write that the optimiser cannot remove
                unsafe { core::ptr::write_volatile(&mut i, i.wrapping_add(1)) };
            }
        }
        _ => caxton::reply(br#"{"performative":"inform","content":"ok"}"#),
    }
}

caxton::agent!(handle);
