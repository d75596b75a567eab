//! Write [Caxton](../../docs/agent-abi.md) agents in Rust.
//!
//! The crate hides the agent ABI (version 1): memory and the allocator exports, the message as
//! JSON in linear memory, and the raw host imports. You write one function and name it in
//! [`agent!`]:
//!
//! ```ignore
//! use caxton::{json, Message};
//!
//! fn handle(msg: &Message) -> caxton::Result {
//!     caxton::reply(&json::object(|o| {
//!         o.str("performative", "inform").raw("content", msg.content().raw());
//!     }))
//! }
//!
//! caxton::agent!(handle);
//! ```
//!
//! Build it as a `cdylib` for `wasm32-unknown-unknown` (see `sdk/rust/README.md`). Returning
//! `Err` fails the message: whatever it sent and wrote to state is discarded, and the sender
//! gets a FIPA `failure` naming the code. A panic traps (`unreachable`).
//!
//! The crate is `#![no_std]` and needs only `alloc`, with no dependencies. An agent built with
//! `std` (the usual case) needs nothing more; a `no_std` agent must provide a
//! `#[global_allocator]` and a `#[panic_handler]`.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod json;

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

pub use json::{Kind, Value};

#[allow(clippy::missing_safety_doc)]
mod host {
    #[link(wasm_import_module = "caxton")]
    extern "C" {
        pub fn send(ptr: *const u8, len: i32) -> i32;
        pub fn reply(ptr: *const u8, len: i32) -> i32;
        pub fn log(level: i32, ptr: *const u8, len: i32);
        pub fn now() -> i64;
        pub fn random(ptr: *mut u8, len: i32) -> i32;
        pub fn state_get(kptr: *const u8, klen: i32, vptr: *mut u8, vcap: i32) -> i32;
        pub fn state_put(kptr: *const u8, klen: i32, vptr: *const u8, vlen: i32) -> i32;
        pub fn state_delete(kptr: *const u8, klen: i32) -> i32;
    }
}

/// A failure code. The host's codes are negative; an agent may use its own positive ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(pub i32);

impl Error {
    pub const NOT_FOUND: Error = Error(-1);
    /// The host refused a message: not JSON, not an object, or a field failed validation
    /// (the reason is in the agent's log).
    pub const INVALID: Error = Error(-2);
    pub const TOO_LARGE: Error = Error(-3);
    pub const NO_MESSAGE: Error = Error(-5);
    /// The message given to `handle` was not a JSON object (SDK).
    pub const BAD_MESSAGE: Error = Error(-11);

    pub fn code(self) -> i32 {
        if self.0 == 0 {
            1
        } else {
            self.0
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            -1 => "not found",
            -2 => "invalid",
            -3 => "too large",
            -5 => "no current message",
            -11 => "bad message",
            _ => "agent error",
        };
        write!(f, "{} ({})", name, self.0)
    }
}

pub type Result<T = ()> = core::result::Result<T, Error>;

fn check(rc: i32) -> Result {
    if rc < 0 {
        Err(Error(rc))
    } else {
        Ok(())
    }
}

/// Send a message (a JSON object with at least `receiver` and `performative`).
pub fn send(json: &[u8]) -> Result {
    check(unsafe { host::send(json.as_ptr(), json.len() as i32) })
}

/// Reply to the message being handled. Only `performative` is needed: the host fills in
/// `receiver`, `conversation_id`, `in_reply_to` and the rest from the message.
pub fn reply(json: &[u8]) -> Result {
    check(unsafe { host::reply(json.as_ptr(), json.len() as i32) })
}

/// Log levels for [`log`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}

/// Write a line to the agent's log (`caxton agents logs NAME`).
pub fn log(level: Level, text: &str) {
    unsafe { host::log(level as i32, text.as_ptr(), text.len() as i32) }
}

pub fn info(text: &str) {
    log(Level::Info, text)
}

pub fn warn(text: &str) {
    log(Level::Warning, text)
}

pub fn error(text: &str) {
    log(Level::Error, text)
}

/// Wall-clock time in nanoseconds since the Unix epoch.
pub fn now() -> i64 {
    unsafe { host::now() }
}

/// Fill `buf` with cryptographically secure random bytes (at most 64 KiB).
pub fn random(buf: &mut [u8]) -> Result {
    check(unsafe { host::random(buf.as_mut_ptr(), buf.len() as i32) })
}

/// This agent's durable key/value state. Writes made while handling a message are committed
/// only if the handler succeeds.
pub mod state {
    use super::{check, host, Result};
    use alloc::string::String;
    use alloc::vec::Vec;

    pub fn get(key: &str) -> Option<Vec<u8>> {
        let mut buf: Vec<u8> = Vec::with_capacity(256);
        loop {
            let cap = buf.capacity();
            let n = unsafe {
                host::state_get(key.as_ptr(), key.len() as i32, buf.as_mut_ptr(), cap as i32)
            };
            if n < 0 {
                return None;
            }
            let n = n as usize;
            if n <= cap {
                unsafe { buf.set_len(n) };
                return Some(buf);
            }
            buf.reserve_exact(n); // too small: the host told us the size
        }
    }

    pub fn get_string(key: &str) -> Option<String> {
        get(key).and_then(|v| String::from_utf8(v).ok())
    }

    /// An integer stored as decimal text by [`put_i64`].
    pub fn get_i64(key: &str) -> Option<i64> {
        get_string(key).and_then(|s| s.parse().ok())
    }

    pub fn put(key: &str, value: &[u8]) -> Result {
        check(unsafe {
            host::state_put(key.as_ptr(), key.len() as i32, value.as_ptr(), value.len() as i32)
        })
    }

    pub fn put_i64(key: &str, value: i64) -> Result {
        let mut text = Vec::new();
        crate::json::write_i64(&mut text, value);
        put(key, &text)
    }

    /// Delete a key; false when it was absent.
    pub fn delete(key: &str) -> bool {
        unsafe { host::state_delete(key.as_ptr(), key.len() as i32) == 0 }
    }
}

/// The message being handled: a JSON object whose last member is `content`.
pub struct Message<'a> {
    root: Value<'a>,
    performative: Option<Value<'a>>,
    sender: Option<Value<'a>>,
    conversation_id: Option<Value<'a>>,
    content: Option<Value<'a>>,
}

fn text(v: Option<Value<'_>>) -> Cow<'_, str> {
    v.and_then(|v| v.str()).unwrap_or(Cow::Borrowed(""))
}

impl<'a> Message<'a> {
    /// Parse a message: one walk over its members.
    pub fn parse(bytes: &'a [u8]) -> Option<Message<'a>> {
        let root = Value::parse(bytes)?;
        if root.kind() != Kind::Object {
            return None;
        }
        let mut m = Message {
            root,
            performative: None,
            sender: None,
            conversation_id: None,
            content: None,
        };
        for (key, value) in root.entries() {
            match key.as_str() {
                "performative" => m.performative = Some(value),
                "sender" => m.sender = Some(value),
                "conversation_id" => m.conversation_id = Some(value),
                "content" => m.content = Some(value),
                _ => {}
            }
        }
        Some(m)
    }

    /// The performative, e.g. `"request"` or `"cfp"`.
    pub fn performative(&self) -> Cow<'a, str> {
        text(self.performative)
    }

    pub fn is(&self, performative: &str) -> bool {
        self.performative() == performative
    }

    pub fn sender(&self) -> Cow<'a, str> {
        text(self.sender)
    }

    pub fn conversation_id(&self) -> Option<Cow<'a, str>> {
        self.conversation_id.and_then(|v| v.str())
    }

    /// The content (JSON `null` when the sender gave none).
    pub fn content(&self) -> Value<'a> {
        self.content.unwrap_or(Value::parse(b"null").unwrap())
    }

    /// Any member by name, e.g. `"protocol"` or `"X-Forward-To"`.
    pub fn get(&self, field: &str) -> Option<Value<'a>> {
        self.root.get(field)
    }

    /// The whole message as JSON text.
    pub fn raw(&self) -> &'a [u8] {
        self.root.raw()
    }
}

/// `"prefix" + rest` as a String: handy for state keys such as `bid:<conversation>`.
pub fn key(prefix: &str, rest: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + rest.len());
    s.push_str(prefix);
    s.push_str(rest);
    s
}

// ---------------------------------------------------------------------------------------------
// What agent! expands to calls these.

#[doc(hidden)]
pub fn __alloc(size: i32) -> *mut u8 {
    if size < 0 {
        return core::ptr::null_mut();
    }
    match core::alloc::Layout::from_size_align(size.max(1) as usize, 8) {
        Ok(layout) => unsafe { alloc::alloc::alloc(layout) },
        Err(_) => core::ptr::null_mut(),
    }
}

#[doc(hidden)]
pub fn __dealloc(ptr: *mut u8, size: i32) {
    if ptr.is_null() || size < 0 {
        return;
    }
    if let Ok(layout) = core::alloc::Layout::from_size_align(size.max(1) as usize, 8) {
        unsafe { alloc::alloc::dealloc(ptr, layout) }
    }
}

#[doc(hidden)]
pub fn __dispatch(ptr: *const u8, len: i32, handler: fn(&Message) -> Result) -> i32 {
    #[cfg(feature = "std")]
    install_panic_hook();
    let bytes = unsafe { core::slice::from_raw_parts(ptr, len.max(0) as usize) };
    let result = match Message::parse(bytes) {
        Some(msg) => handler(&msg),
        None => Err(Error::BAD_MESSAGE),
    };
    match result {
        Ok(()) => 0,
        Err(e) => e.code(),
    }
}

/// Several queued messages in one call (`docs/agent-abi.md`, "Batches"): at `ptr` a u32
/// `current` (the one word the agent writes), a u32 count, then count frames of u32 length +
/// JSON, not aligned. Each message is handled exactly as `handle` would, after its index is
/// written to `current` so that the host attributes its replies, sends, state and a failure to
/// it; the first error stops the batch (the host delivers the rest again).
#[doc(hidden)]
pub fn __dispatch_batch(ptr: *mut u8, len: i32, handler: fn(&Message) -> Result) -> i32 {
    if len < 8 {
        return Error::BAD_MESSAGE.code();
    }
    let size = len as usize;
    // Only the frames are borrowed: `current` (bytes 0..4) is written through the raw pointer,
    // with volatile stores so that each one happens, in order, before the handler runs.
    let frames = unsafe { core::slice::from_raw_parts(ptr.add(8) as *const u8, size - 8) };
    let count = unsafe { u32::from_le(core::ptr::read_unaligned(ptr.add(4) as *const u32)) };
    let mut at = 0usize;
    for i in 0..count {
        for (k, byte) in i.to_le_bytes().iter().enumerate() {
            unsafe { core::ptr::write_volatile(ptr.add(k), *byte) };
        }
        let n = match frames.get(at..at + 4) {
            Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize,
            None => return Error::BAD_MESSAGE.code(),
        };
        at += 4;
        let bytes = match frames.get(at..).and_then(|rest| rest.get(..n)) {
            Some(bytes) => bytes,
            None => return Error::BAD_MESSAGE.code(),
        };
        at += n;
        let rc = __dispatch(bytes.as_ptr(), n as i32, handler);
        if rc != 0 {
            return rc;
        }
    }
    0
}

/// With the `std` feature: panics are written to the agent's log before the module traps.
#[cfg(feature = "std")]
pub fn install_panic_hook() {
    use core::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::Relaxed) {
        std::panic::set_hook(alloc::boxed::Box::new(|info| {
            let text = alloc::format!("{}", info);
            error(&text);
        }));
    }
}

/// Export the ABI functions (`handle`, `handle_batch`, `alloc`, `dealloc`,
/// `caxton_abi_version`) for an agent whose handler is `fn(&caxton::Message) -> caxton::Result`.
#[macro_export]
macro_rules! agent {
    ($handler:path) => {
        #[export_name = "handle"]
        pub extern "C" fn __caxton_handle(ptr: *const u8, len: i32) -> i32 {
            $crate::__dispatch(ptr, len, $handler)
        }

        #[export_name = "handle_batch"]
        pub extern "C" fn __caxton_handle_batch(ptr: *mut u8, len: i32) -> i32 {
            $crate::__dispatch_batch(ptr, len, $handler)
        }

        #[export_name = "alloc"]
        pub extern "C" fn __caxton_alloc(size: i32) -> *mut u8 {
            $crate::__alloc(size)
        }

        #[export_name = "dealloc"]
        pub extern "C" fn __caxton_dealloc(ptr: *mut u8, size: i32) {
            $crate::__dealloc(ptr, size)
        }

        #[export_name = "caxton_abi_version"]
        pub extern "C" fn __caxton_abi_version() -> i32 {
            1
        }
    };
}
