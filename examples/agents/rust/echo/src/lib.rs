//! echo: replies `inform` with the message's content, byte for byte.
use caxton::{json, Message};

fn handle(msg: &Message) -> caxton::Result {
    caxton::reply(&json::object(|o| {
        o.str("performative", "inform").raw("content", msg.content().raw());
    }))
}

caxton::agent!(handle);
