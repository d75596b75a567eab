// The Caxton agent SDK for AssemblyScript (agent ABI version 1, docs/agent-abi.md).
//
// It provides the ABI exports (re-export them from your entry file), reads the message and its
// JSON fields straight from linear memory, builds replies, and wraps the host functions:
//
//   import { Message, JsonWriter, reply, run, runBatch } from "./caxton";
//   export { alloc, dealloc, caxton_abi_version } from "./caxton";
//
//   export function handle(ptr: usize, len: i32): i32 {
//     return run(ptr, len, onMessage);
//   }
//
//   export function handle_batch(ptr: usize, len: i32): i32 {   // optional: see runBatch
//     return runBatch(ptr, len, onMessage);
//   }
//
//   function onMessage(msg: Message): i32 {
//     const w = JsonWriter.object();
//     w.str("performative", "inform");
//     w.value("content", msg.content);
//     return reply(w);           // 0, or the host's negative error code
//   }
//
// Build with `asc agent.ts -O3 --runtime incremental --use abort=<path to caxton>/caxtonAbort`
// (see sdk/assemblyscript/README.md): the --use option sends aborts (failed assertions, array
// bounds, explicit abort()) to the agent's log instead of an `env.abort` import the host lacks.
// AssemblyScript has no exceptions, so functions return codes: 0 is success, the host's codes
// are negative. A handler that returns non-zero fails the message: what it sent and wrote to
// state is discarded, and the sender gets a FIPA failure naming the code.

// ---------------------------------------------------------------------------------------------
// Host functions (module "caxton")

@external("caxton", "send")
declare function hostSend(ptr: usize, len: i32): i32;
@external("caxton", "reply")
declare function hostReply(ptr: usize, len: i32): i32;
@external("caxton", "log")
declare function hostLog(level: i32, ptr: usize, len: i32): void;
@external("caxton", "now")
declare function hostNow(): i64;
@external("caxton", "random")
declare function hostRandom(ptr: usize, len: i32): i32;
@external("caxton", "state_get")
declare function hostStateGet(kptr: usize, klen: i32, vptr: usize, vcap: i32): i32;
@external("caxton", "state_put")
declare function hostStatePut(kptr: usize, klen: i32, vptr: usize, vlen: i32): i32;
@external("caxton", "state_delete")
declare function hostStateDelete(kptr: usize, klen: i32): i32;

/** Result codes: the host's (negative) and the SDK's. */
export const OK: i32 = 0;
export const NOT_FOUND: i32 = -1;
export const INVALID: i32 = -2; // the host refused a message (reason in the agent's log)
export const TOO_LARGE: i32 = -3;
export const NO_MESSAGE: i32 = -5;
export const BAD_MESSAGE: i32 = -11; // handle was given something that is not a JSON object

// ---------------------------------------------------------------------------------------------
// ABI exports: re-export alloc, dealloc and caxton_abi_version from the entry file.

export function alloc(size: i32): usize {
  return size < 0 ? 0 : heap.alloc(<usize>max(size, 1));
}

export function dealloc(ptr: usize, size: i32): void {
  if (ptr) heap.free(ptr);
}

export function caxton_abi_version(): i32 {
  return 1;
}

/** Parse the message at [ptr, ptr+len) and hand it to onMessage; returns its code. */
export function run(ptr: usize, len: i32, onMessage: (msg: Message) => i32): i32 {
  const msg = Message.parse(ptr, len);
  if (msg === null) return BAD_MESSAGE;
  return onMessage(msg);
}

/** The optional batch export (docs/agent-abi.md): export it from the entry file next to
 * handle, with the same handler, and the host may hand over several queued messages per call:
 *
 *   export function handle_batch(ptr: usize, len: i32): i32 {
 *     return runBatch(ptr, len, onMessage);
 *   }
 *
 * The buffer is u32 current | u32 count | count frames of (u32 length, JSON bytes), all
 * little-endian and unaligned. Each message gets `current` written first (so the host
 * attributes its sends, replies and state to it), then goes to onMessage as with run; the
 * first non-zero code stops the batch (the host delivers the rest again). */
export function runBatch(ptr: usize, len: i32, onMessage: (msg: Message) => i32): i32 {
  if (len < 8) return BAD_MESSAGE;
  const end = ptr + <usize>len;
  const count = load<u32>(ptr, 4, 1);
  let p = ptr + 8;
  for (let i: u32 = 0; i < count; i++) {
    store<u32>(ptr, i, 0, 1);
    if (end - p < 4) return BAD_MESSAGE;
    const n = <usize>load<u32>(p, 0, 1);
    p += 4;
    if (n > end - p) return BAD_MESSAGE; // a frame runs past the buffer: fail this message
    const rc = run(p, <i32>n, onMessage);
    if (rc != 0) return rc;
    p += n;
  }
  return 0;
}

/** Where `--use abort=.../caxtonAbort` sends aborts: the agent's log, then a trap. */
export function caxtonAbort(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0,
): void {
  let text = "abort: " + (message !== null ? message : "");
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  log(3, text);
  unreachable();
}

// ---------------------------------------------------------------------------------------------
// Host calls

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

/** Send a message (a JSON object with at least "receiver" and "performative"). */
export function send(w: JsonWriter): i32 {
  w.finish();
  return hostSend(w.ptr(), w.length);
}

/** Reply to the message being handled; the host fills in receiver, conversation_id, ... */
export function reply(w: JsonWriter): i32 {
  w.finish();
  return hostReply(w.ptr(), w.length);
}

export function sendText(json: string): i32 {
  const b = utf8(json);
  return hostSend(changetype<usize>(b), b.byteLength);
}

export function replyText(json: string): i32 {
  const b = utf8(json);
  return hostReply(changetype<usize>(b), b.byteLength);
}

/** Write a line to the agent's log: level 0 debug, 1 info, 2 warning, 3 error. */
export function log(level: i32, text: string): void {
  const b = utf8(text);
  hostLog(level, changetype<usize>(b), b.byteLength);
}

/** Wall-clock time in nanoseconds since the Unix epoch. */
export function now(): i64 {
  return hostNow();
}

/** Fill buf with cryptographically secure random bytes (at most 64 KiB). */
export function random(buf: ArrayBuffer): i32 {
  return hostRandom(changetype<usize>(buf), buf.byteLength);
}

/** This agent's durable state. Writes made while handling a message are committed only if
 * the handler succeeds. */
export namespace state {
  /** The value for key, or null when absent. */
  export function get(key: string): ArrayBuffer | null {
    const k = utf8(key);
    let buf = new ArrayBuffer(256);
    while (true) {
      const n = hostStateGet(changetype<usize>(k), k.byteLength, changetype<usize>(buf), buf.byteLength);
      if (n < 0) return null;
      if (n <= buf.byteLength) return buf.slice(0, n);
      buf = new ArrayBuffer(n); // too small: the host told us the size
    }
  }

  export function getString(key: string): string | null {
    const v = get(key);
    return v === null ? null : String.UTF8.decode(v);
  }

  /** An integer stored by putInt, or fallback. */
  export function getInt(key: string, fallback: i64 = 0): i64 {
    const v = get(key);
    if (v === null) return fallback;
    return parseInteger(changetype<usize>(v), v.byteLength, fallback);
  }

  export function put(key: string, value: ArrayBuffer): i32 {
    const k = utf8(key);
    return hostStatePut(changetype<usize>(k), k.byteLength, changetype<usize>(value), value.byteLength);
  }

  export function putString(key: string, value: string): i32 {
    return put(key, utf8(value));
  }

  export function putInt(key: string, value: i64): i32 {
    return put(key, utf8(value.toString()));
  }

  /** false when the key was absent. */
  export function remove(key: string): bool {
    const k = utf8(key);
    return hostStateDelete(changetype<usize>(k), k.byteLength) == 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading JSON: a Value is a view of one JSON value's bytes in linear memory (no copy).

export enum Kind { Null, Bool, Number, String, Array, Object }

function isWs(c: u32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

function skipWs(p: usize, end: usize): usize {
  while (p < end && isWs(load<u8>(p))) p++;
  return p;
}

/** Past the string at p (which is '"'), or 0. */
function skipString(p: usize, end: usize): usize {
  for (p++; p < end; p++) {
    const c = load<u8>(p);
    if (c == 0x5c) p++;
    else if (c == 0x22) return p + 1;
  }
  return 0;
}

/** Past the value at p, or 0; containers are skipped by counting brackets outside strings. */
function skipValue(p: usize, end: usize): usize {
  if (p >= end) return 0;
  const c = load<u8>(p);
  if (c == 0x22) return skipString(p, end);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    while (p < end) {
      const d = load<u8>(p);
      if (d == 0x22) {
        p = skipString(p, end);
        if (!p) return 0;
        continue;
      }
      if (d == 0x7b || d == 0x5b) depth++;
      else if (d == 0x7d || d == 0x5d) {
        depth--;
        if (depth == 0) return p + 1;
      }
      p++;
    }
    return 0;
  }
  const start = p;
  while (p < end) {
    const d = load<u8>(p);
    if (isWs(d) || d == 0x2c || d == 0x7d || d == 0x5d) break;
    p++;
  }
  return p > start ? p : 0;
}

function parseInteger(p: usize, len: i32, fallback: i64): i64 {
  const end = p + <usize>len;
  let neg = false;
  if (p < end && load<u8>(p) == 0x2d) {
    neg = true;
    p++;
  }
  if (p == end) return fallback;
  let v: u64 = 0;
  for (; p < end; p++) {
    const d = <u64>load<u8>(p) - 0x30;
    if (d > 9) return fallback;
    if (v > (<u64>0x7fffffffffffffff - d) / 10) return fallback;
    v = v * 10 + d;
  }
  return neg ? -<i64>v : <i64>v;
}

function hex4(p: usize, end: usize): i32 {
  if (end - p < 4 || p > end) return -1;
  let v = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = <i32>load<u8>(p + i);
    v <<= 4;
    if (c >= 0x30 && c <= 0x39) v |= c - 0x30;
    else if (c >= 0x61 && c <= 0x66) v |= c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) v |= c - 0x41 + 10;
    else return -1;
  }
  return v;
}

/** Decode a JSON string body [p, end) to a string; bad escapes become U+FFFD. */
function decodeString(p: usize, end: usize): string {
  let escaped = false;
  for (let q = p; q < end; q++) {
    if (load<u8>(q) == 0x5c) {
      escaped = true;
      break;
    }
  }
  if (!escaped) return String.UTF8.decodeUnsafe(p, end - p);
  const out = heap.alloc(end - p); // decoding never makes it longer
  let n: usize = 0;
  while (p < end) {
    const c = load<u8>(p);
    if (c != 0x5c) {
      store<u8>(out + n++, c);
      p++;
      continue;
    }
    const e = p + 1 < end ? load<u8>(p + 1) : 0;
    p += 2;
    let cp: i32 = 0xfffd;
    if (e == 0x22 || e == 0x5c || e == 0x2f) cp = e;
    else if (e == 0x62) cp = 8;
    else if (e == 0x66) cp = 12;
    else if (e == 0x6e) cp = 10;
    else if (e == 0x72) cp = 13;
    else if (e == 0x74) cp = 9;
    else if (e == 0x75) {
      const hi = hex4(p, end);
      if (hi >= 0) {
        p += 4;
        cp = hi;
        if (hi >= 0xd800 && hi < 0xe000) {
          cp = 0xfffd;
          if (hi < 0xdc00 && end - p >= 6 && load<u8>(p) == 0x5c && load<u8>(p + 1) == 0x75) {
            const lo = hex4(p + 2, end);
            if (lo >= 0xdc00 && lo < 0xe000) {
              cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
              p += 6;
            }
          }
        }
      }
    }
    if (cp < 0x80) {
      store<u8>(out + n++, <u8>cp);
    } else if (cp < 0x800) {
      store<u8>(out + n++, <u8>(0xc0 | (cp >> 6)));
      store<u8>(out + n++, <u8>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      store<u8>(out + n++, <u8>(0xe0 | (cp >> 12)));
      store<u8>(out + n++, <u8>(0x80 | ((cp >> 6) & 0x3f)));
      store<u8>(out + n++, <u8>(0x80 | (cp & 0x3f)));
    } else {
      store<u8>(out + n++, <u8>(0xf0 | (cp >> 18)));
      store<u8>(out + n++, <u8>(0x80 | ((cp >> 12) & 0x3f)));
      store<u8>(out + n++, <u8>(0x80 | ((cp >> 6) & 0x3f)));
      store<u8>(out + n++, <u8>(0x80 | (cp & 0x3f)));
    }
  }
  const s = String.UTF8.decodeUnsafe(out, n);
  heap.free(out);
  return s;
}

/** The key token [p, end) (quotes included) equals the UTF-8 bytes of key. */
function tokenEquals(p: usize, end: usize, key: ArrayBuffer): bool {
  const n = <usize>key.byteLength;
  const body = p + 1;
  const bodyEnd = end - 1;
  if (bodyEnd - body == n && memory.compare(body, changetype<usize>(key), n) == 0) return true;
  for (let q = body; q < bodyEnd; q++) {
    if (load<u8>(q) == 0x5c) return decodeString(body, bodyEnd) == String.UTF8.decode(key);
  }
  return false;
}

export class Value {
  constructor(public ptr: usize, public length: i32) {}

  /** The single JSON value filling [ptr, ptr+len) (surrounding whitespace allowed). */
  static parse(ptr: usize, len: i32): Value | null {
    const end = ptr + <usize>len;
    const start = skipWs(ptr, end);
    const stop = skipValue(start, end);
    if (!stop || skipWs(stop, end) != end) return null;
    return new Value(start, <i32>(stop - start));
  }

  kind(): Kind {
    const c = load<u8>(this.ptr);
    if (c == 0x6e) return Kind.Null;
    if (c == 0x74 || c == 0x66) return Kind.Bool;
    if (c == 0x22) return Kind.String;
    if (c == 0x5b) return Kind.Array;
    if (c == 0x7b) return Kind.Object;
    return Kind.Number;
  }

  /** The value's JSON text, decoded to a string. */
  toJSON(): string {
    return String.UTF8.decodeUnsafe(this.ptr, <usize>this.length);
  }

  /** The member whose key is `key` (when given), else the index-th member value or element;
   * null when there is none. index -1 counts instead: the count comes back as the length of
   * a dummy Value. */
  private nth(index: i32, key: ArrayBuffer | null): Value | null {
    const kind = this.kind();
    if (kind != Kind.Object && kind != Kind.Array) return null;
    const end = this.ptr + <usize>this.length - 1;
    let p = skipWs(this.ptr + 1, end);
    let i = 0;
    while (p < end) {
      let match = index == i;
      if (kind == Kind.Object) {
        const k = p;
        p = skipString(p, end);
        if (!p) return null;
        if (key !== null) match = tokenEquals(k, p, key);
        p = skipWs(p, end);
        if (p >= end || load<u8>(p) != 0x3a) return null;
        p = skipWs(p + 1, end);
      }
      const v = p;
      p = skipValue(p, end);
      if (!p) return null;
      if (match) return new Value(v, <i32>(p - v));
      i++;
      p = skipWs(p, end);
      if (p >= end || load<u8>(p) != 0x2c) break;
      p = skipWs(p + 1, end);
    }
    if (index == -1) return new Value(0, i);
    return null;
  }

  /** An object's member, or null. */
  get(key: string): Value | null {
    if (this.kind() != Kind.Object) return null;
    return this.nth(-2, utf8(key));
  }

  /** An array's element, or null. */
  at(index: i32): Value | null {
    if (this.kind() != Kind.Array || index < 0) return null;
    return this.nth(index, null);
  }

  /** The number of elements or members (0 for other kinds). */
  count(): i32 {
    const c = this.nth(-1, null);
    return c === null ? 0 : c.length;
  }

  /** A string value, unescaped; null for other kinds. */
  str(): string | null {
    if (this.kind() != Kind.String || this.length < 2) return null;
    return decodeString(this.ptr + 1, this.ptr + <usize>this.length - 1);
  }

  isInteger(): bool {
    if (this.kind() != Kind.Number) return false;
    // a failed parse returns the fallback, so two fallbacks tell failure from success
    return parseInteger(this.ptr, this.length, 1) == parseInteger(this.ptr, this.length, 2);
  }

  /** An integer value (no fraction or exponent) that fits in an i64, or fallback. */
  int(fallback: i64 = 0): i64 {
    if (this.kind() != Kind.Number) return fallback;
    return parseInteger(this.ptr, this.length, fallback);
  }

  isNull(): bool {
    return this.kind() == Kind.Null;
  }
}

// ---------------------------------------------------------------------------------------------
// The message

export class Message {
  performative: string = "";
  sender: string = "";
  conversationId: string = "";
  /** The content: any JSON value (null when the sender gave none). */
  content: Value;

  constructor(public root: Value) {
    this.content = new Value(changetype<usize>(NULL_JSON), 4);
  }

  static parse(ptr: usize, len: i32): Message | null {
    const root = Value.parse(ptr, len);
    if (root === null || root.kind() != Kind.Object) return null;
    const m = new Message(root);
    const end = root.ptr + <usize>root.length - 1;
    let p = skipWs(root.ptr + 1, end);
    while (p < end) {
      const k = p;
      p = skipString(p, end);
      if (!p) return null;
      const kend = p;
      p = skipWs(p, end);
      if (p >= end || load<u8>(p) != 0x3a) return null;
      p = skipWs(p + 1, end);
      const v = p;
      p = skipValue(p, end);
      if (!p) return null;
      const value = new Value(v, <i32>(p - v));
      if (tokenEquals(k, kend, K_PERFORMATIVE)) m.performative = value.str() || "";
      else if (tokenEquals(k, kend, K_SENDER)) m.sender = value.str() || "";
      else if (tokenEquals(k, kend, K_CONVERSATION)) m.conversationId = value.str() || "";
      else if (tokenEquals(k, kend, K_CONTENT)) m.content = value;
      p = skipWs(p, end);
      if (p >= end || load<u8>(p) != 0x2c) break;
      p = skipWs(p + 1, end);
    }
    return m;
  }

  is(performative: string): bool {
    return this.performative == performative;
  }

  /** Any member by name, e.g. "protocol" or "X-Forward-To". */
  get(field: string): Value | null {
    return this.root.get(field);
  }
}

const NULL_JSON = utf8("null");
const K_PERFORMATIVE = utf8("performative");
const K_SENDER = utf8("sender");
const K_CONVERSATION = utf8("conversation_id");
const K_CONTENT = utf8("content");

// ---------------------------------------------------------------------------------------------
// Writing JSON: methods take the member's key, or null for an array element; commas and
// escaping are handled. finish() (called by send and reply) closes whatever is open.

export class JsonWriter {
  private buf: ArrayBuffer = new ArrayBuffer(256);
  length: i32 = 0;
  private open: u8[] = [];
  private nonempty: bool[] = [];

  /** A writer with an object already open: the usual start of a message. */
  static object(): JsonWriter {
    const w = new JsonWriter();
    w.begin(null, 0x7b);
    return w;
  }

  ptr(): usize {
    return changetype<usize>(this.buf);
  }

  private put(src: usize, n: i32): void {
    if (this.length + n > this.buf.byteLength) {
      let cap = this.buf.byteLength * 2;
      while (cap < this.length + n) cap *= 2;
      const grown = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(grown), changetype<usize>(this.buf), <usize>this.length);
      this.buf = grown;
    }
    memory.copy(changetype<usize>(this.buf) + <usize>this.length, src, <usize>n);
    this.length += n;
  }

  private byte(c: u8): void {
    if (this.length + 1 > this.buf.byteLength) {
      const grown = new ArrayBuffer(this.buf.byteLength * 2);
      memory.copy(changetype<usize>(grown), changetype<usize>(this.buf), <usize>this.length);
      this.buf = grown;
    }
    store<u8>(changetype<usize>(this.buf) + <usize>this.length, c);
    this.length++;
  }

  private text(s: string): void {
    const b = utf8(s);
    this.put(changetype<usize>(b), b.byteLength);
  }

  private escaped(s: string): void {
    const b = utf8(s);
    const p = changetype<usize>(b);
    const n = b.byteLength;
    this.byte(0x22);
    let run = 0;
    for (let i = 0; i < n; i++) {
      const c = load<u8>(p + <usize>i);
      if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
      this.put(p + <usize>run, i - run);
      run = i + 1;
      this.byte(0x5c);
      if (c == 0x22 || c == 0x5c) this.byte(c);
      else if (c == 0x0a) this.byte(0x6e);
      else if (c == 0x0d) this.byte(0x72);
      else if (c == 0x09) this.byte(0x74);
      else {
        this.text("u00");
        this.byte(<u8>HEX.charCodeAt(c >> 4));
        this.byte(<u8>HEX.charCodeAt(c & 15));
      }
    }
    this.put(p + <usize>run, n - run);
    this.byte(0x22);
  }

  /** The comma, and the key inside an object, before a value. */
  private key(k: string | null): void {
    const d = this.open.length;
    if (d == 0) return;
    if (this.nonempty[d - 1]) this.byte(0x2c);
    this.nonempty[d - 1] = true;
    if (k !== null && this.open[d - 1] == 0x7b) {
      this.escaped(k);
      this.byte(0x3a);
    }
  }

  private begin(k: string | null, c: u8): void {
    this.key(k);
    this.open.push(c);
    this.nonempty.push(false);
    this.byte(c);
  }

  beginObject(k: string | null): JsonWriter {
    this.begin(k, 0x7b);
    return this;
  }

  beginArray(k: string | null): JsonWriter {
    this.begin(k, 0x5b);
    return this;
  }

  /** Closes the innermost object or array. */
  end(): JsonWriter {
    if (this.open.length == 0) return this;
    const c = this.open.pop();
    this.nonempty.pop();
    this.byte(c == 0x7b ? 0x7d : 0x5d);
    return this;
  }

  str(k: string | null, v: string): JsonWriter {
    this.key(k);
    this.escaped(v);
    return this;
  }

  int(k: string | null, v: i64): JsonWriter {
    this.key(k);
    this.text(v.toString());
    return this;
  }

  bool(k: string | null, v: bool): JsonWriter {
    this.key(k);
    this.text(v ? "true" : "false");
    return this;
  }

  null(k: string | null): JsonWriter {
    this.key(k);
    this.text("null");
    return this;
  }

  /** A JSON value copied as is (for example msg.content); null writes JSON null. */
  value(k: string | null, v: Value | null): JsonWriter {
    this.key(k);
    if (v === null) this.text("null");
    else this.put(v.ptr, v.length);
    return this;
  }

  /** JSON text written as is. */
  json(k: string | null, text: string): JsonWriter {
    this.key(k);
    this.text(text);
    return this;
  }

  /** Closes whatever is still open. */
  finish(): JsonWriter {
    while (this.open.length > 0) this.end();
    return this;
  }

  toString(): string {
    return String.UTF8.decodeUnsafe(changetype<usize>(this.buf), <usize>this.length);
  }
}

const HEX = "0123456789abcdef";
