//! bidder: a Contract Net participant (FIPA SC00029) that keeps its book in state.
//!
//! - `cfp` `{"task": "...", "size": N}`: proposes `size * rate` (rate from state, default 10),
//!   remembers the bid under `bid:<conversation>` and counts the call in `cfps`; replies
//!   `propose {"price": P, "task": "..."}`, or `refuse` when size is not a positive integer.
//! - `accept-proposal`: replies `inform {"done": true, "price": P}` and tells the ledger
//!   (`X-Ledger` of the message, default `ledger`) `inform {"event": "won", "price": P}`.
//! - `reject-proposal`: forgets the bid and tells the ledger `{"event": "lost"}`.
//! - `confirm` (the ledger's answer): counted in `confirmed`.
//! - `request {"rate": N}`: sets the rate; `query-ref`: replies with the counters.
use caxton::{json, state, Message};

const DEFAULT_RATE: i64 = 10;

fn counter(key: &str) -> i64 {
    state::get_i64(key).unwrap_or(0)
}

fn bump(key: &str) -> caxton::Result {
    state::put_i64(key, counter(key) + 1)
}

fn reply_reason(performative: &str, reason: &str) -> caxton::Result {
    caxton::reply(&json::object(|o| {
        o.str("performative", performative).obj("content", |c| {
            c.str("reason", reason);
        });
    }))
}

fn tell_ledger(msg: &Message, conversation: &str, event: &str, price: Option<i64>) -> caxton::Result {
    let ledger = msg.get("X-Ledger").and_then(|v| v.str()).unwrap_or("ledger".into());
    caxton::send(&json::object(|o| {
        o.str("performative", "inform")
            .str("receiver", &ledger)
            .str("conversation_id", conversation);
        o.obj("content", |c| {
            c.str("event", event);
            if let Some(p) = price {
                c.int("price", p);
            }
        });
    }))
}

fn handle(msg: &Message) -> caxton::Result {
    let conversation = msg.conversation_id().unwrap_or_default();
    let bid_key = caxton::key("bid:", &conversation);
    match msg.performative().as_ref() {
        "cfp" => {
            let content = msg.content();
            let size = content.get("size").and_then(|v| v.i64()).filter(|&s| s > 0);
            let size = match size {
                Some(s) => s,
                None => return reply_reason("refuse", "size must be a positive integer"),
            };
            let task = content.get("task").and_then(|v| v.str()).unwrap_or_default();
            let price = size.saturating_mul(state::get_i64("rate").unwrap_or(DEFAULT_RATE));
            state::put_i64(&bid_key, price)?;
            bump("cfps")?;
            caxton::reply(&json::object(|o| {
                o.str("performative", "propose").obj("content", |c| {
                    c.int("price", price).str("task", &task);
                });
            }))
        }
        "accept-proposal" => match state::get_i64(&bid_key) {
            None => reply_reason("failure", "no open bid in this conversation"),
            Some(price) => {
                state::delete(&bid_key);
                bump("won")?;
                tell_ledger(msg, &conversation, "won", Some(price))?;
                caxton::reply(&json::object(|o| {
                    o.str("performative", "inform").obj("content", |c| {
                        c.bool("done", true).int("price", price);
                    });
                }))
            }
        },
        "reject-proposal" => {
            state::delete(&bid_key);
            bump("lost")?;
            tell_ledger(msg, &conversation, "lost", None)
        }
        "confirm" => bump("confirmed"),
        "request" => match msg.content().get("rate").and_then(|v| v.i64()).filter(|&r| r > 0) {
            Some(rate) => {
                state::put_i64("rate", rate)?;
                caxton::reply(&json::object(|o| {
                    o.str("performative", "inform").obj("content", |c| {
                        c.int("rate", rate);
                    });
                }))
            }
            None => reply_reason("refuse", "expected {\"rate\": N} with N > 0"),
        },
        "query-ref" => caxton::reply(&json::object(|o| {
            o.str("performative", "inform").obj("content", |c| {
                for key in ["cfps", "won", "lost", "confirmed"] {
                    c.int(key, counter(key));
                }
                c.int("rate", state::get_i64("rate").unwrap_or(DEFAULT_RATE));
            });
        })),
        "failure" | "not-understood" => {
            caxton::warn(&format!("bidder: got {} from {}", msg.performative(), msg.sender()));
            Ok(())
        }
        other => reply_reason("not-understood", &format!("a bidder does not take {}", other)),
    }
}

caxton::agent!(handle);
