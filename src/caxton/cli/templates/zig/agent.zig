//! {{name}}: a Caxton agent in Zig, made by `caxton agents new`.
//!
//! It answers every message with
//! inform {"agent":"{{name}}","count":N,"echo":<content>}, where N counts the messages it has
//! handled (kept in host state, so it survives restarts). See README.md.
const cx = @import("caxton");

comptime {
    _ = cx; // compiles in the SDK's exports (alloc, dealloc, handle, caxton_abi_version)
}

pub fn onMessage(msg: *const cx.Message) !void {
    // Never answer a complaint with another one: two agents could bounce them forever.
    if (msg.is("failure") or msg.is("not-understood")) {
        cx.log(.warn, "{{name}}: got a failure or not-understood");
        return;
    }
    const count = cx.state.getInt("count", 0) + 1;
    try cx.state.putInt("count", count); // an error fails the message: the sender gets a failure
    var w = cx.Writer.object();
    w.str("performative", "inform");
    w.beginObject("content");
    w.str("agent", "{{name}}");
    w.int("count", count);
    w.raw("echo", msg.content.raw);
    try cx.reply(&w);
}
