//! bidder: a Contract Net participant (FIPA SC00029) that keeps its book in state.
//!
//! - cfp {"task": "...", "size": N}: proposes size*rate (rate from state, default 10),
//!   remembers the bid under bid:<conversation> and counts the call in cfps; replies
//!   propose {"price": P, "task": "..."}, or refuse when size is not a positive integer.
//! - accept-proposal: replies inform {"done": true, "price": P} and tells the ledger
//!   (X-Ledger of the message, default "ledger") inform {"event": "won", "price": P}.
//! - reject-proposal: forgets the bid and tells the ledger {"event": "lost"}.
//! - confirm (the ledger's answer): counted in confirmed.
//! - request {"rate": N} sets the rate; query-ref replies with the counters.
const cx = @import("caxton");

comptime {
    _ = cx;
}

const default_rate = 10;

fn bump(key: []const u8) !void {
    try cx.state.putInt(key, cx.state.getInt(key, 0) + 1);
}

fn replyReason(performative: []const u8, reason: []const u8) !void {
    var w = cx.Writer.object();
    w.str("performative", performative);
    w.beginObject("content");
    w.str("reason", reason);
    try cx.reply(&w);
}

fn tellLedger(msg: *const cx.Message, event: []const u8, price: ?i64) !void {
    const ledger = if (msg.get("X-Ledger")) |v| v.str() orelse "ledger" else "ledger";
    var w = cx.Writer.object();
    w.str("performative", "inform");
    w.str("receiver", ledger);
    w.str("conversation_id", msg.conversation_id);
    w.beginObject("content");
    w.str("event", event);
    if (price) |p| w.int("price", p);
    try cx.send(&w);
}

pub fn onMessage(msg: *const cx.Message) !void {
    const bid_key = try cx.concat("bid:", msg.conversation_id);
    if (msg.is("cfp")) {
        const size = if (msg.content.get("size")) |v| v.int() orelse 0 else 0;
        if (size <= 0) return replyReason("refuse", "size must be a positive integer");
        const task = if (msg.content.get("task")) |v| v.str() orelse "" else "";
        const price = size *% cx.state.getInt("rate", default_rate);
        try cx.state.putInt(bid_key, price);
        try bump("cfps");
        var w = cx.Writer.object();
        w.str("performative", "propose");
        w.beginObject("content");
        w.int("price", price);
        w.str("task", task);
        return cx.reply(&w);
    }
    if (msg.is("accept-proposal")) {
        const price = cx.state.getInt(bid_key, -1);
        if (price < 0) return replyReason("failure", "no open bid in this conversation");
        _ = cx.state.delete(bid_key);
        try bump("won");
        try tellLedger(msg, "won", price);
        var w = cx.Writer.object();
        w.str("performative", "inform");
        w.beginObject("content");
        w.boolean("done", true);
        w.int("price", price);
        return cx.reply(&w);
    }
    if (msg.is("reject-proposal")) {
        _ = cx.state.delete(bid_key);
        try bump("lost");
        return tellLedger(msg, "lost", null);
    }
    if (msg.is("confirm")) return bump("confirmed");
    if (msg.is("request")) {
        const rate = if (msg.content.get("rate")) |v| v.int() orelse 0 else 0;
        if (rate <= 0) return replyReason("refuse", "expected {\"rate\": N} with N > 0");
        try cx.state.putInt("rate", rate);
        var w = cx.Writer.object();
        w.str("performative", "inform");
        w.beginObject("content");
        w.int("rate", rate);
        return cx.reply(&w);
    }
    if (msg.is("query-ref")) {
        var w = cx.Writer.object();
        w.str("performative", "inform");
        w.beginObject("content");
        for ([_][]const u8{ "cfps", "won", "lost", "confirmed" }) |key| {
            w.int(key, cx.state.getInt(key, 0));
        }
        w.int("rate", cx.state.getInt("rate", default_rate));
        return cx.reply(&w);
    }
    if (msg.is("failure") or msg.is("not-understood")) {
        cx.logf(.warn, "bidder: got {s} from {s}", .{ msg.performative, msg.sender });
        return;
    }
    return replyReason("not-understood", try cx.concat("a bidder does not take ", msg.performative));
}
