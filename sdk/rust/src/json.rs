//! Just enough JSON for agents: read fields out of a message without building a tree, and
//! write replies with a builder that handles commas and escaping.
//!
//! Reading works on borrowed bytes: a [`Value`] is a view of one JSON value inside the
//! message, found by walking the bytes on demand. Writing appends to a `Vec<u8>`:
//!
//! ```ignore
//! let bytes = json::object(|o| {
//!     o.str("performative", "propose");
//!     o.obj("content", |c| {
//!         c.int("price", 120);
//!         c.raw("task", msg.content().get("task").map_or(b"null", |v| v.raw()));
//!     });
//! });
//! ```

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// What kind of JSON value a [`Value`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// A view of one JSON value's bytes (no copy). Values handed to agents by the host are valid
/// JSON; a `Value` made from other bytes with [`Value::parse`] is checked only for its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value<'a> {
    raw: &'a [u8],
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i
}

/// Index just past the string starting at `b[i] == '"'`.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Index just past the value starting at `b[i]`. Containers are skipped by counting brackets
/// outside strings, without recursion, so deep nesting cannot overflow the stack.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let start = i;
            while i < b.len() && !is_ws(b[i]) && !matches!(b[i], b',' | b'}' | b']') {
                i += 1;
            }
            if i > start {
                Some(i)
            } else {
                None
            }
        }
    }
}

impl<'a> Value<'a> {
    /// The single JSON value filling `bytes` (surrounding whitespace allowed).
    pub fn parse(bytes: &'a [u8]) -> Option<Value<'a>> {
        let start = skip_ws(bytes, 0);
        let end = skip_value(bytes, start)?;
        if skip_ws(bytes, end) != bytes.len() {
            return None;
        }
        Some(Value { raw: &bytes[start..end] })
    }

    /// The value's JSON text, exactly as it arrived.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn kind(&self) -> Kind {
        match self.raw.first() {
            Some(b'n') => Kind::Null,
            Some(b't') | Some(b'f') => Kind::Bool,
            Some(b'"') => Kind::String,
            Some(b'[') => Kind::Array,
            Some(b'{') => Kind::Object,
            _ => Kind::Number,
        }
    }

    pub fn is_null(&self) -> bool {
        self.kind() == Kind::Null
    }

    /// Walks an object's members or an array's elements: calls `f(key, value)` (key is the raw
    /// key token, quotes included, or empty for arrays) until it returns true.
    fn walk(&self, mut f: impl FnMut(&'a [u8], Value<'a>) -> bool) {
        let b = self.raw;
        let object = match self.kind() {
            Kind::Object => true,
            Kind::Array => false,
            _ => return,
        };
        let end = b.len() - 1;
        let mut i = skip_ws(b, 1);
        while i < end {
            let mut key: &'a [u8] = &[];
            if object {
                let k = match skip_string(b, i) {
                    Some(k) => k,
                    None => return,
                };
                key = &b[i..k];
                i = skip_ws(b, k);
                if b.get(i) != Some(&b':') {
                    return;
                }
                i = skip_ws(b, i + 1);
            }
            let v = match skip_value(b, i) {
                Some(v) => v,
                None => return,
            };
            if f(key, Value { raw: &b[i..v] }) {
                return;
            }
            i = skip_ws(b, v);
            if b.get(i) != Some(&b',') {
                return;
            }
            i = skip_ws(b, i + 1);
        }
    }

    /// An object's member.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        let mut found = None;
        self.walk(|k, v| {
            if token_eq(k, key) {
                found = Some(v);
                true
            } else {
                false
            }
        });
        found
    }

    /// An array's element.
    pub fn at(&self, index: usize) -> Option<Value<'a>> {
        if self.kind() != Kind::Array {
            return None;
        }
        let (mut n, mut found) = (0usize, None);
        self.walk(|_, v| {
            if n == index {
                found = Some(v);
                return true;
            }
            n += 1;
            false
        });
        found
    }

    /// The number of elements of an array or members of an object (0 for anything else).
    pub fn len(&self) -> usize {
        let mut n = 0;
        self.walk(|_, _| {
            n += 1;
            false
        });
        n
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An array's elements, or an object's `(key, value)` pairs with unescaped keys.
    pub fn entries(&self) -> Vec<(String, Value<'a>)> {
        let mut out = Vec::new();
        self.walk(|k, v| {
            let key = if k.is_empty() { String::new() } else { unescape(&k[1..k.len() - 1]) };
            out.push((key, v));
            false
        });
        out
    }

    /// A string value, unescaped (borrowed when it has no escapes).
    pub fn str(&self) -> Option<Cow<'a, str>> {
        if self.kind() != Kind::String || self.raw.len() < 2 {
            return None;
        }
        let body = &self.raw[1..self.raw.len() - 1];
        if body.contains(&b'\\') {
            Some(Cow::Owned(unescape(body)))
        } else {
            core::str::from_utf8(body).ok().map(Cow::Borrowed)
        }
    }

    /// An integer value (no fraction or exponent) that fits in an i64.
    pub fn i64(&self) -> Option<i64> {
        let s = core::str::from_utf8(self.raw).ok()?;
        if self.kind() != Kind::Number {
            return None;
        }
        s.parse().ok()
    }

    pub fn bool(&self) -> Option<bool> {
        match self.raw {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        }
    }
}

/// The raw key token (with quotes) equals `key`.
fn token_eq(token: &[u8], key: &str) -> bool {
    if token.len() < 2 {
        return false;
    }
    let body = &token[1..token.len() - 1];
    if body.contains(&b'\\') {
        unescape(body) == key
    } else {
        body == key.as_bytes()
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..4] {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// Decode a JSON string body (without its quotes). Bad escapes become U+FFFD.
pub fn unescape(body: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = body.get(i + 1).copied().unwrap_or(b'?');
        i += 2;
        let ch = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(&body[i.min(body.len())..]);
                i += 4;
                match hi {
                    Some(h) if (0xD800..0xDC00).contains(&h) => {
                        let lo = if body.get(i) == Some(&b'\\') && body.get(i + 1) == Some(&b'u') {
                            hex4(&body[(i + 2).min(body.len())..])
                        } else {
                            None
                        };
                        match lo {
                            Some(l) if (0xDC00..0xE000).contains(&l) => {
                                i += 6;
                                char::from_u32(0x10000 + ((h - 0xD800) << 10) + (l - 0xDC00))
                                    .unwrap_or('\u{FFFD}')
                            }
                            _ => '\u{FFFD}',
                        }
                    }
                    Some(h) => char::from_u32(h).unwrap_or('\u{FFFD}'),
                    None => '\u{FFFD}',
                }
            }
            _ => '\u{FFFD}',
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Append `s` to `out` as a JSON string (quotes included).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if c >= 0x20 && c != b'"' && c != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 15) as usize],
            ]),
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Append an integer's decimal text.
pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut n = 0;
    let mut u = v.unsigned_abs();
    loop {
        buf[n] = b'0' + (u % 10) as u8;
        n += 1;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend(buf[..n].iter().rev());
}

/// Builds a JSON object: see [`object`].
pub struct Object<'w> {
    out: &'w mut Vec<u8>,
    first: bool,
}

/// Builds a JSON array: see [`Object::arr`].
pub struct Array<'w> {
    out: &'w mut Vec<u8>,
    first: bool,
}

impl<'w> Object<'w> {
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        write_str(self.key(key), value);
        self
    }

    pub fn int(&mut self, key: &str, value: i64) -> &mut Self {
        write_i64(self.key(key), value);
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key).extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    pub fn null(&mut self, key: &str) -> &mut Self {
        self.key(key).extend_from_slice(b"null");
        self
    }

    /// A member whose value is JSON text written as is (for example `msg.content().raw()`).
    pub fn raw(&mut self, key: &str, json: &[u8]) -> &mut Self {
        self.key(key).extend_from_slice(if json.is_empty() { b"null" } else { json });
        self
    }

    pub fn obj(&mut self, key: &str, f: impl FnOnce(&mut Object)) -> &mut Self {
        let out = self.key(key);
        out.push(b'{');
        f(&mut Object { out: &mut *out, first: true });
        out.push(b'}');
        self
    }

    pub fn arr(&mut self, key: &str, f: impl FnOnce(&mut Array)) -> &mut Self {
        let out = self.key(key);
        out.push(b'[');
        f(&mut Array { out: &mut *out, first: true });
        out.push(b']');
        self
    }
}

impl<'w> Array<'w> {
    fn next(&mut self) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out
    }

    pub fn str(&mut self, value: &str) -> &mut Self {
        write_str(self.next(), value);
        self
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        write_i64(self.next(), value);
        self
    }

    pub fn raw(&mut self, json: &[u8]) -> &mut Self {
        self.next().extend_from_slice(if json.is_empty() { b"null" } else { json });
        self
    }

    pub fn obj(&mut self, f: impl FnOnce(&mut Object)) -> &mut Self {
        let out = self.next();
        out.push(b'{');
        f(&mut Object { out: &mut *out, first: true });
        out.push(b'}');
        self
    }
}

/// Build a JSON object and return its bytes.
pub fn object(f: impl FnOnce(&mut Object)) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.push(b'{');
    f(&mut Object { out: &mut out, first: true });
    out.push(b'}');
    out
}
