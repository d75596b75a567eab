//! The Caxton agent SDK for Zig (agent ABI version 1, docs/agent-abi.md).
//!
//! It exports `alloc`, `dealloc`, `handle`, `handle_batch` (several queued messages in one call,
//! each handled as `handle` would) and `caxton_abi_version`, and calls the root file's
//! `pub fn onMessage(msg: *const caxton.Message) !void`:
//!
//!     const cx = @import("caxton");
//!     comptime { _ = cx; } // makes sure the SDK's exports are compiled in
//!
//!     pub fn onMessage(msg: *const cx.Message) !void {
//!         var w = cx.Writer.object();
//!         w.str("performative", "inform");
//!         w.raw("content", msg.content.raw);
//!         try cx.reply(&w);
//!     }
//!
//! Build with `zig build-exe -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseSmall
//! --dep caxton -Mroot=agent.zig -Mcaxton=caxton.zig` (see sdk/zig/README.md). Returning an
//! error fails the message: what it sent and wrote to state is discarded, and the sender gets a
//! FIPA failure naming the code. `@panic` and `unreachable` trap.
//!
//! Memory: `cx.scratch` is an arena that is reset after every message; strings the SDK decodes,
//! state values it reads and writers all live there. Keep durable data in host state.
const std = @import("std");
const root = @import("root");

// ---------------------------------------------------------------------------------------------
// Host functions (module "caxton").

const host = struct {
    extern "caxton" fn send(ptr: [*]const u8, len: i32) i32;
    extern "caxton" fn reply(ptr: [*]const u8, len: i32) i32;
    extern "caxton" fn log(level: i32, ptr: [*]const u8, len: i32) void;
    extern "caxton" fn now() i64;
    extern "caxton" fn random(ptr: [*]u8, len: i32) i32;
    extern "caxton" fn state_get(kptr: [*]const u8, klen: i32, vptr: [*]u8, vcap: i32) i32;
    extern "caxton" fn state_put(kptr: [*]const u8, klen: i32, vptr: [*]const u8, vlen: i32) i32;
    extern "caxton" fn state_delete(kptr: [*]const u8, klen: i32) i32;
};

/// The host's error codes (and the SDK's), as Zig errors.
pub const Error = error{
    /// -1: state key absent
    NotFound,
    /// -2: not JSON, not an object, or a field failed validation (reason in the agent's log)
    Invalid,
    /// -3: over max_message_bytes, or a key/value over its limit
    TooLarge,
    /// -5: reply outside handle
    NoMessage,
    /// -10: the agent's memory limit was reached
    OutOfMemory,
};

fn check(rc: i32) Error!void {
    return switch (rc) {
        -1 => error.NotFound,
        -2 => error.Invalid,
        -3 => error.TooLarge,
        -5 => error.NoMessage,
        else => if (rc < 0) error.Invalid else {},
    };
}

/// The code `handle` returns for an error from onMessage.
fn errorCode(err: anyerror) i32 {
    return switch (err) {
        error.NotFound => -1,
        error.Invalid => -2,
        error.TooLarge => -3,
        error.NoMessage => -5,
        error.OutOfMemory => -10,
        else => blk: {
            logf(.err, "onMessage failed: {s}", .{@errorName(err)});
            break :blk 1;
        },
    };
}

// ---------------------------------------------------------------------------------------------
// Memory

const gpa = std.heap.wasm_allocator;
var arena_state = std.heap.ArenaAllocator.init(std.heap.wasm_allocator);
/// Scratch memory for the message being handled; reset when onMessage returns.
pub const scratch: std.mem.Allocator = arena_state.allocator();

export fn alloc(size: i32) ?[*]u8 {
    if (size < 0) return null;
    const s = gpa.alloc(u8, @intCast(size)) catch return null;
    return s.ptr;
}

export fn dealloc(ptr: [*]u8, size: i32) void {
    if (size >= 0) gpa.free(ptr[0..@intCast(size)]);
}

export fn caxton_abi_version() i32 {
    return 1;
}

export fn handle(ptr: [*]const u8, len: i32) i32 {
    return handleOne(ptr[0..@intCast(@max(len, 0))]);
}

/// One message: parse it, call onMessage, reset the scratch arena it used.
fn handleOne(bytes: []const u8) i32 {
    defer _ = arena_state.reset(.retain_capacity);
    const msg = Message.parse(bytes) orelse return -11;
    root.onMessage(&msg) catch |err| return errorCode(err);
    return 0;
}

/// Several queued messages in one call (docs/agent-abi.md, "Batches"): at ptr a u32 `current`
/// (the one word the agent writes), a u32 count, then count frames of u32 length + JSON, not
/// aligned. Each message is handled exactly as `handle` would, after its index is written to
/// `current` so that the host attributes its replies, sends, state and a failure to it; the
/// first error stops the batch (the host delivers the rest again). The store is volatile so
/// that the compiler keeps each one, in order, before onMessage runs.
export fn handle_batch(ptr: [*]u8, len: i32) i32 {
    if (len < 8) return -11;
    const size: usize = @intCast(len);
    const current: [*]volatile u8 = ptr;
    const count = std.mem.readInt(u32, ptr[4..8], .little);
    var at: usize = 8;
    var i: u32 = 0;
    while (i < count) : (i += 1) {
        current[0] = @truncate(i);
        current[1] = @truncate(i >> 8);
        current[2] = @truncate(i >> 16);
        current[3] = @truncate(i >> 24);
        if (size - at < 4) return -11;
        const n = std.mem.readInt(u32, ptr[at..][0..4], .little);
        at += 4;
        if (size - at < n) return -11;
        const rc = handleOne(ptr[at .. at + n]);
        if (rc != 0) return rc;
        at += n;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Host calls

/// Send a message (a JSON object with at least "receiver" and "performative").
pub fn send(w: *Writer) Error!void {
    const bytes = try w.finish();
    return check(host.send(bytes.ptr, @intCast(bytes.len)));
}

/// Reply to the message being handled; the host fills in receiver, conversation_id, ...
pub fn reply(w: *Writer) Error!void {
    const bytes = try w.finish();
    return check(host.reply(bytes.ptr, @intCast(bytes.len)));
}

pub fn sendRaw(json: []const u8) Error!void {
    return check(host.send(json.ptr, @intCast(json.len)));
}

pub fn replyRaw(json: []const u8) Error!void {
    return check(host.reply(json.ptr, @intCast(json.len)));
}

pub const Level = enum(i32) { debug = 0, info = 1, warn = 2, err = 3 };

/// Write a line to the agent's log (caxton agents logs NAME).
pub fn log(level: Level, text: []const u8) void {
    host.log(@intFromEnum(level), text.ptr, @intCast(text.len));
}

/// log with std.fmt formatting (in scratch memory).
pub fn logf(level: Level, comptime fmt: []const u8, args: anytype) void {
    const text = std.fmt.allocPrint(scratch, fmt, args) catch return log(level, fmt);
    log(level, text);
}

/// Wall-clock time in nanoseconds since the Unix epoch.
pub fn now() i64 {
    return host.now();
}

/// Fill buf with cryptographically secure random bytes (at most 64 KiB).
pub fn random(buf: []u8) Error!void {
    return check(host.random(buf.ptr, @intCast(buf.len)));
}

/// This agent's durable state. Writes made while handling a message are committed only if
/// onMessage succeeds.
pub const state = struct {
    /// The value for key (in scratch memory), or null when absent.
    pub fn get(key: []const u8) ?[]const u8 {
        var cap: usize = 256;
        while (true) {
            const buf = scratch.alloc(u8, cap) catch return null;
            const n = host.state_get(key.ptr, @intCast(key.len), buf.ptr, @intCast(cap));
            if (n < 0) return null;
            const size: usize = @intCast(n);
            if (size <= cap) return buf[0..size];
            cap = size; // too small: the host told us the size
        }
    }

    /// An integer stored by putInt, or otherwise.
    pub fn getInt(key: []const u8, otherwise: i64) i64 {
        const v = get(key) orelse return otherwise;
        return std.fmt.parseInt(i64, v, 10) catch otherwise;
    }

    pub fn put(key: []const u8, value: []const u8) Error!void {
        return check(host.state_put(key.ptr, @intCast(key.len), value.ptr, @intCast(value.len)));
    }

    pub fn putInt(key: []const u8, value: i64) Error!void {
        var buf: [24]u8 = undefined;
        const text = std.fmt.bufPrint(&buf, "{d}", .{value}) catch unreachable;
        return put(key, text);
    }

    /// false when the key was absent.
    pub fn delete(key: []const u8) bool {
        return host.state_delete(key.ptr, @intCast(key.len)) == 0;
    }
};

/// "a" ++ "b" at run time, in scratch memory (handy for keys such as "bid:<conversation>").
pub fn concat(a: []const u8, b: []const u8) Error![]const u8 {
    const out = try scratch.alloc(u8, a.len + b.len);
    @memcpy(out[0..a.len], a);
    @memcpy(out[a.len..], b);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Reading JSON: a Value is a view of one JSON value's bytes; lookups walk the bytes.

pub const Kind = enum { null, boolean, number, string, array, object };

fn isWs(c: u8) bool {
    return c == ' ' or c == '\t' or c == '\n' or c == '\r';
}

fn skipWs(b: []const u8, start: usize) usize {
    var i = start;
    while (i < b.len and isWs(b[i])) i += 1;
    return i;
}

fn skipString(b: []const u8, start: usize) ?usize {
    var i = start + 1;
    while (i < b.len) : (i += 1) {
        switch (b[i]) {
            '\\' => i += 1,
            '"' => return i + 1,
            else => {},
        }
    }
    return null;
}

/// Past the value at b[start]; containers are skipped by counting brackets outside strings.
fn skipValue(b: []const u8, start: usize) ?usize {
    if (start >= b.len) return null;
    var i = start;
    switch (b[i]) {
        '"' => return skipString(b, i),
        '{', '[' => {
            var depth: usize = 0;
            while (i < b.len) {
                switch (b[i]) {
                    '"' => {
                        i = skipString(b, i) orelse return null;
                        continue;
                    },
                    '{', '[' => depth += 1,
                    '}', ']' => {
                        depth -= 1;
                        if (depth == 0) return i + 1;
                    },
                    else => {},
                }
                i += 1;
            }
            return null;
        },
        else => {
            while (i < b.len and !isWs(b[i]) and b[i] != ',' and b[i] != '}' and b[i] != ']') i += 1;
            return if (i > start) i else null;
        },
    }
}

pub const Value = struct {
    /// The value's JSON text, exactly as it arrived.
    raw: []const u8,

    /// The one JSON value filling bytes (surrounding whitespace allowed).
    pub fn parse(bytes: []const u8) ?Value {
        const start = skipWs(bytes, 0);
        const end = skipValue(bytes, start) orelse return null;
        if (skipWs(bytes, end) != bytes.len) return null;
        return .{ .raw = bytes[start..end] };
    }

    pub fn kind(v: Value) Kind {
        return switch (v.raw[0]) {
            'n' => .null,
            't', 'f' => .boolean,
            '"' => .string,
            '[' => .array,
            '{' => .object,
            else => .number,
        };
    }

    /// Iterates an object's members (key token with quotes) or an array's elements (key "").
    pub const Iterator = struct {
        b: []const u8,
        i: usize,
        object: bool,

        pub const Entry = struct { key: []const u8, value: Value };

        pub fn next(it: *Iterator) ?Entry {
            const end = it.b.len - 1;
            var i = skipWs(it.b, it.i);
            if (i >= end) return null;
            var key: []const u8 = "";
            if (it.object) {
                const k = skipString(it.b, i) orelse return null;
                key = it.b[i..k];
                i = skipWs(it.b, k);
                if (i >= end or it.b[i] != ':') return null;
                i = skipWs(it.b, i + 1);
            }
            const v = skipValue(it.b, i) orelse return null;
            const entry = Entry{ .key = key, .value = .{ .raw = it.b[i..v] } };
            i = skipWs(it.b, v);
            it.i = if (i < end and it.b[i] == ',') i + 1 else end;
            return entry;
        }
    };

    pub fn iterator(v: Value) Iterator {
        const k = v.kind();
        if (k != .object and k != .array) return .{ .b = " ", .i = 1, .object = false };
        return .{ .b = v.raw, .i = 1, .object = k == .object };
    }

    /// An object's member.
    pub fn get(v: Value, key: []const u8) ?Value {
        if (v.kind() != .object) return null;
        var it = v.iterator();
        while (it.next()) |e| {
            if (tokenEql(e.key, key)) return e.value;
        }
        return null;
    }

    /// An array's element.
    pub fn at(v: Value, index: usize) ?Value {
        if (v.kind() != .array) return null;
        var it = v.iterator();
        var n: usize = 0;
        while (it.next()) |e| : (n += 1) {
            if (n == index) return e.value;
        }
        return null;
    }

    /// Elements of an array or members of an object.
    pub fn len(v: Value) usize {
        var it = v.iterator();
        var n: usize = 0;
        while (it.next()) |_| n += 1;
        return n;
    }

    /// A string value, unescaped (borrowed when it has no escapes, else in scratch memory).
    pub fn str(v: Value) ?[]const u8 {
        if (v.kind() != .string or v.raw.len < 2) return null;
        return unescape(v.raw[1 .. v.raw.len - 1]) catch null;
    }

    /// An integer value (no fraction or exponent) that fits in an i64.
    pub fn int(v: Value) ?i64 {
        if (v.kind() != .number) return null;
        return std.fmt.parseInt(i64, v.raw, 10) catch null;
    }

    pub fn boolean(v: Value) ?bool {
        if (std.mem.eql(u8, v.raw, "true")) return true;
        if (std.mem.eql(u8, v.raw, "false")) return false;
        return null;
    }
};

fn tokenEql(token: []const u8, key: []const u8) bool {
    if (token.len < 2) return false;
    const body = token[1 .. token.len - 1];
    const text = unescape(body) catch return false;
    return std.mem.eql(u8, text, key);
}

fn hex4(b: []const u8) ?u21 {
    if (b.len < 4) return null;
    return std.fmt.parseInt(u21, b[0..4], 16) catch null;
}

/// Decode a JSON string body (without quotes); bad escapes become U+FFFD.
pub fn unescape(body: []const u8) Error![]const u8 {
    for (body) |c| {
        if (c == '\\') break;
    } else return body; // no escapes: the bytes are the string
    var out = try scratch.alloc(u8, body.len); // decoding never makes it longer
    var n: usize = 0;
    var i: usize = 0;
    while (i < body.len) {
        const c = body[i];
        if (c != '\\') {
            out[n] = c;
            n += 1;
            i += 1;
            continue;
        }
        const e: u8 = if (i + 1 < body.len) body[i + 1] else '?';
        i += 2;
        var cp: u21 = switch (e) {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => 8,
            'f' => 12,
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => 0xFFFD,
            else => 0xFFFD,
        };
        if (e == 'u') {
            if (hex4(body[@min(i, body.len)..])) |hi| {
                i += 4;
                cp = hi;
                if (hi >= 0xD800 and hi < 0xDC00) {
                    cp = 0xFFFD;
                    if (i + 6 <= body.len and body[i] == '\\' and body[i + 1] == 'u') {
                        if (hex4(body[i + 2 ..])) |lo| {
                            if (lo >= 0xDC00 and lo < 0xE000) {
                                cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                i += 6;
                            }
                        }
                    }
                } else if (hi >= 0xDC00 and hi < 0xE000) cp = 0xFFFD;
            }
        }
        n += std.unicode.utf8Encode(cp, out[n..]) catch 0;
    }
    return out[0..n];
}

// ---------------------------------------------------------------------------------------------
// The message

pub const Message = struct {
    /// The whole message object.
    root: Value,
    performative: []const u8 = "",
    sender: []const u8 = "",
    conversation_id: []const u8 = "",
    /// Any JSON value; null when the sender gave none.
    content: Value = .{ .raw = "null" },

    pub fn parse(bytes: []const u8) ?Message {
        const v = Value.parse(bytes) orelse return null;
        if (v.kind() != .object) return null;
        var m = Message{ .root = v };
        var it = v.iterator();
        while (it.next()) |e| {
            if (tokenEql(e.key, "performative")) m.performative = e.value.str() orelse "";
            if (tokenEql(e.key, "sender")) m.sender = e.value.str() orelse "";
            if (tokenEql(e.key, "conversation_id")) m.conversation_id = e.value.str() orelse "";
            if (tokenEql(e.key, "content")) m.content = e.value;
        }
        return m;
    }

    pub fn is(m: *const Message, performative: []const u8) bool {
        return std.mem.eql(u8, m.performative, performative);
    }

    /// Any member by name, e.g. "protocol" or "X-Forward-To".
    pub fn get(m: *const Message, field: []const u8) ?Value {
        return m.root.get(field);
    }
};

// ---------------------------------------------------------------------------------------------
// Writing JSON: appends to scratch memory; commas and escaping are handled. Methods take the
// member's key, or null for an array element. Errors (out of memory, unbalanced end) are
// remembered and reported by finish, send and reply.

pub const Writer = struct {
    buf: []u8 = &.{},
    len: usize = 0,
    failed: ?Error = null,
    depth: usize = 0,
    open: [32]u8 = undefined,
    nonempty: [32]bool = undefined,

    /// A writer with an object already open: the usual start of a message.
    pub fn object() Writer {
        var w = Writer{};
        w.begin(null, '{');
        return w;
    }

    fn put(w: *Writer, bytes: []const u8) void {
        if (w.failed != null) return;
        if (w.len + bytes.len > w.buf.len) {
            var cap = @max(w.buf.len * 2, 256);
            while (cap < w.len + bytes.len) cap *= 2;
            const grown = scratch.realloc(w.buf, cap) catch {
                w.failed = error.OutOfMemory;
                return;
            };
            w.buf = grown;
        }
        @memcpy(w.buf[w.len..][0..bytes.len], bytes);
        w.len += bytes.len;
    }

    fn escaped(w: *Writer, s: []const u8) void {
        const hex = "0123456789abcdef";
        w.put("\"");
        var run: usize = 0;
        for (s, 0..) |c, i| {
            if (c >= 0x20 and c != '"' and c != '\\') continue;
            w.put(s[run..i]);
            run = i + 1;
            switch (c) {
                '"' => w.put("\\\""),
                '\\' => w.put("\\\\"),
                '\n' => w.put("\\n"),
                '\r' => w.put("\\r"),
                '\t' => w.put("\\t"),
                else => w.put(&[_]u8{ '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] }),
            }
        }
        w.put(s[run..]);
        w.put("\"");
    }

    /// The comma and the key (inside an object) before a value.
    fn key(w: *Writer, k: ?[]const u8) void {
        if (w.depth == 0) return;
        const d = w.depth - 1;
        if ((w.open[d] == '{') != (k != null)) {
            w.failed = w.failed orelse error.Invalid;
            return;
        }
        if (w.nonempty[d]) w.put(",");
        w.nonempty[d] = true;
        if (k) |name| {
            w.escaped(name);
            w.put(":");
        }
    }

    fn begin(w: *Writer, k: ?[]const u8, c: u8) void {
        w.key(k);
        if (w.depth == w.open.len) {
            w.failed = w.failed orelse error.Invalid;
            return;
        }
        w.open[w.depth] = c;
        w.nonempty[w.depth] = false;
        w.depth += 1;
        w.put(&[_]u8{c});
    }

    pub fn beginObject(w: *Writer, k: ?[]const u8) void {
        w.begin(k, '{');
    }

    pub fn beginArray(w: *Writer, k: ?[]const u8) void {
        w.begin(k, '[');
    }

    /// Closes the innermost object or array.
    pub fn end(w: *Writer) void {
        if (w.depth == 0) {
            w.failed = w.failed orelse error.Invalid;
            return;
        }
        w.depth -= 1;
        w.put(if (w.open[w.depth] == '{') "}" else "]");
    }

    pub fn str(w: *Writer, k: ?[]const u8, s: []const u8) void {
        w.key(k);
        w.escaped(s);
    }

    pub fn int(w: *Writer, k: ?[]const u8, v: i64) void {
        var buf: [24]u8 = undefined;
        w.key(k);
        w.put(std.fmt.bufPrint(&buf, "{d}", .{v}) catch unreachable);
    }

    pub fn boolean(w: *Writer, k: ?[]const u8, v: bool) void {
        w.key(k);
        w.put(if (v) "true" else "false");
    }

    pub fn @"null"(w: *Writer, k: ?[]const u8) void {
        w.key(k);
        w.put("null");
    }

    /// JSON text written as is (for example msg.content.raw); empty writes null.
    pub fn raw(w: *Writer, k: ?[]const u8, json: []const u8) void {
        w.key(k);
        w.put(if (json.len == 0) "null" else json);
    }

    /// Closes whatever is still open and returns the JSON text.
    pub fn finish(w: *Writer) Error![]const u8 {
        while (w.depth > 0 and w.failed == null) w.end();
        if (w.failed) |e| return e;
        return w.buf[0..w.len];
    }
};
