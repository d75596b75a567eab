//! echo: replies inform with the message's content, byte for byte.
const cx = @import("caxton");

comptime {
    _ = cx; // compiles in the SDK's exports (alloc, dealloc, handle, caxton_abi_version)
}

pub fn onMessage(msg: *const cx.Message) !void {
    var w = cx.Writer.object();
    w.str("performative", "inform");
    w.raw("content", msg.content.raw);
    try cx.reply(&w);
}
