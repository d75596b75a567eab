"""A hand-written WAT component that calls the host's ``send`` or ``now``, for the tests of
what an agent's permissions allow a component (no build step: it compiles in milliseconds)."""

from __future__ import annotations

import wasmtime

ERROR = '(variant (case "invalid" string) (case "too-large") (case "no-message"))'
MESSAGE = '{"performative":"inform","receiver":["sink"],"content":1}'
SEND = f"""(call $send (i32.const 256) (i32.const {len(MESSAGE)}) (i32.const 512))
    (if (result i32) (i32.load8_u (i32.const 512)) (then (i32.const 64)) (else (i32.const 0)))"""
NOW = "(drop (call $now)) (i32.const 0)"


def component(handle_body: str) -> bytes:
    """A component importing ``now`` and ``send``; its handle runs ``handle_body``: SEND sends
    MESSAGE and returns err("nope") when ``send`` failed, NOW calls ``now``."""
    text = MESSAGE.replace('"', '\\"')
    return bytes(wasmtime.wat2wasm(f"""(component
  (import "caxton:agent/host@1.0.0" (instance $host
    (type $e {ERROR})
    (export "error" (type $error (eq $e)))
    (export "now" (func (result s64)))
    (export "send" (func (param "message" string) (result (result (error $error)))))))
  (core module $libc
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 2048)))
  (core instance $libc (instantiate $libc))
  (core func $now (canon lower (func $host "now")))
  (core func $send (canon lower (func $host "send") (memory (core memory $libc "memory"))
                                (realloc (core func $libc "realloc"))))
  (core instance $hostfns (export "now" (func $now)) (export "send" (func $send)))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "host" "now" (func $now (result i64)))
    (import "host" "send" (func $send (param i32 i32 i32)))
    (data (i32.const 64) "\\01\\00\\00\\00\\80\\00\\00\\00\\04\\00\\00\\00")
    (data (i32.const 128) "nope")
    (data (i32.const 256) "{text}")
    (func (export "handle") (param i32 i32) (result i32) {handle_body}))
  (core instance $i (instantiate $m (with "libc" (instance $libc))
                                    (with "host" (instance $hostfns))))
  (func (export "handle") (param "message" string) (result (result (error string)))
    (canon lift (core func $i "handle") (memory (core memory $libc "memory"))
                (realloc (core func $libc "realloc")))))"""))
