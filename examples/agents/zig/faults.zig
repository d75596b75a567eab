//! faults: misbehaves on request, to show how failures surface. The content picks:
//! "bad-reply" (malformed JSON: the host refuses it with -2, onMessage returns error.Invalid),
//! "bad-send" (a message with no receiver: -2), "trap" (@panic: traps), "spin" (loops until its
//! fuel runs out); anything else gets inform "ok".
const std = @import("std");
const cx = @import("caxton");

comptime {
    _ = cx;
}

var sink: u64 = 0;

pub fn onMessage(msg: *const cx.Message) !void {
    const what = msg.content.str() orelse "";
    if (std.mem.eql(u8, what, "bad-reply")) return cx.replyRaw("{\"performative\":\"inform\",\"content\":");
    if (std.mem.eql(u8, what, "bad-send")) {
        var w = cx.Writer.object();
        w.str("performative", "inform"); // no receiver
        return cx.send(&w);
    }
    if (std.mem.eql(u8, what, "trap")) {
        cx.log(.err, "faults: trap requested");
        @panic("trap requested");
    }
    if (std.mem.eql(u8, what, "spin")) {
        while (true) {
            @as(*volatile u64, &sink).* +%= 1;
        }
    }
    try cx.replyRaw("{\"performative\":\"inform\",\"content\":\"ok\"}");
}
