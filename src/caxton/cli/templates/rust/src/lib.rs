//! {{name}}: a Caxton agent in Rust, made by `caxton agents new`.
//!
//! It answers every message with
//! `inform {"agent":"{{name}}","count":N,"echo":<content>}`, where N counts the messages it has
//! handled (kept in host state, so it survives restarts). See README.md.
use caxton::{json, state, Message};

fn handle(msg: &Message) -> caxton::Result {
    // Never answer a complaint with another one: two agents could bounce them forever.
    if msg.is("failure") || msg.is("not-understood") {
        caxton::warn("{{name}}: got a failure or not-understood");
        return Ok(());
    }
    let count = state::get_i64("count").unwrap_or(0) + 1;
    state::put_i64("count", count)?; // an Err fails the message: the sender gets a failure
    caxton::reply(&json::object(|o| {
        o.str("performative", "inform").obj("content", |c| {
            c.str("agent", "{{name}}").int("count", count).raw("echo", msg.content().raw());
        });
    }))
}

caxton::agent!(handle);
