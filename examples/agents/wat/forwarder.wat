;; forwarder.wat -- a Caxton example agent, hand-written in WebAssembly text (agent ABI v1,
;; docs/agent-abi.md). It talks to another agent: for every message it receives it calls `send`
;; with
;;
;;   {"performative":<same>,"receiver":["echo"],"reply_to":["<original sender>"],
;;    "conversation_id":<same, when present>,"content":<same content, byte for byte>}
;;
;; so that echo's reply goes straight back to the original sender.
;;
;; No JSON parser is needed, thanks to the ABI's layout guarantee: `content` is the message's
;; last member and the members before it are strings, lists of strings or trace_context.
;;   * content: everything after the first `"content":` up to the message's final `}`.
;;   * a string member: search `"key":` in the header (the bytes before `"content":`, never in
;;     the content, which may contain the same keys), expect a `"`, then copy the raw bytes up
;;     to the next unescaped quote. Raw bytes keep their escapes, so they stay valid JSON.
;;
;; handle returns 0 on success; 1 no content, 2 no performative, 3 no sender, 5 out of memory;
;; the host's negative code when `send` refuses the message.
;;
;; Build: bash scripts/build-examples.sh (wasmtime.wat2wasm).
(module
  ;; Host function (module "caxton"): send the JSON message at [ptr, ptr+len).
  (import "caxton" "send" (func $send (param i32 i32) (result i32)))

  (memory (export "memory") 1)

  ;; ---------------------------------------------------------------------------------------
  ;; Constant strings, NUL-terminated (address: text)
  (data (i32.const 16)  "\"content\":\00")                          ;; search keys
  (data (i32.const 32)  "\"performative\":\00")
  (data (i32.const 48)  "\"sender\":\00")
  (data (i32.const 64)  "\"conversation_id\":\00")
  (data (i32.const 96)  "{\"performative\":\"\00")                  ;; output pieces
  (data (i32.const 128) "\",\"receiver\":[\"echo\"],\"reply_to\":[\"\00")
  (data (i32.const 176) "\"]\00")
  (data (i32.const 184) ",\"conversation_id\":\"\00")
  (data (i32.const 208) "\"\00")
  (data (i32.const 216) ",\"content\":\00")
  (data (i32.const 232) "}\00")
  ;; Everything from 1024 up is heap.

  ;; ---------------------------------------------------------------------------------------
  ;; Bump allocator
  (global $heap (mut i32) (i32.const 1024))                ;; next free byte

  ;; alloc(size) -> ptr, or 0 when memory cannot grow
  (func $alloc (export "alloc") (param $size i32) (result i32)
    (local $start i32) (local $end i64) (local $have i64)
    (if (i32.lt_s (local.get $size) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $start (global.get $heap))
    ;; end = align8(start + size), in 64 bits so it cannot wrap
    (local.set $end
      (i64.and
        (i64.add (i64.add (i64.extend_i32_u (local.get $start))
                          (i64.extend_i32_u (local.get $size)))
                 (i64.const 7))
        (i64.const -8)))
    (local.set $have (i64.mul (i64.extend_i32_u (memory.size)) (i64.const 65536)))
    (if (i64.gt_u (local.get $end) (local.get $have))
      (then
        ;; grow by ceil((end - have) / 64 KiB) pages
        (if (i32.eq
              (memory.grow
                (i32.wrap_i64
                  (i64.shr_u (i64.add (i64.sub (local.get $end) (local.get $have))
                                      (i64.const 65535))
                             (i64.const 16))))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (i32.wrap_i64 (local.get $end)))
    (local.get $start))

  ;; dealloc(ptr, size): only the most recent block can be given back
  (func (export "dealloc") (param $ptr i32) (param $size i32)
    (if (i32.eq (i32.and (i32.add (i32.add (local.get $ptr) (local.get $size)) (i32.const 7))
                         (i32.const -8))
                (global.get $heap))
      (then (global.set $heap (local.get $ptr)))))

  (func (export "caxton_abi_version") (result i32) (i32.const 1))

  ;; ---------------------------------------------------------------------------------------
  ;; Byte-string helpers

  ;; is_ws(c): JSON whitespace?
  (func $is_ws (param $c i32) (result i32)
    (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x09)))
            (i32.or (i32.eq (local.get $c) (i32.const 0x0a)) (i32.eq (local.get $c) (i32.const 0x0d)))))

  ;; strlen(s): length of a NUL-terminated constant
  (func $strlen (param $s i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $s) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; find(p, end, needle) -> address of the first occurrence of the NUL-terminated needle in
  ;; [p, end), or 0 when there is none (0 is never inside a message)
  (func $find (param $p i32) (param $end i32) (param $needle i32) (result i32)
    (local $n i32) (local $j i32)
    (local.set $n (call $strlen (local.get $needle)))
    (block $not_found
      (loop $at_p
        ;; stop when fewer than n bytes are left
        (br_if $not_found (i32.gt_u (i32.add (local.get $p) (local.get $n)) (local.get $end)))
        ;; compare needle[j] with p[j] for j = 0 .. n-1
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $cmp
            (if (i32.eq (local.get $j) (local.get $n)) (then (return (local.get $p))))
            (br_if $mismatch
              (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $j)))
                      (i32.load8_u (i32.add (local.get $needle) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cmp)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $at_p)))
    (i32.const 0))

  ;; The string found by $string_member: raw JSON bytes [$str, $str + $str_len)
  (global $str (mut i32) (i32.const 0))
  (global $str_len (mut i32) (i32.const 0))

  ;; string_member(p, end, key) -> 1 when the header [p, end) has a member `key` (given as
  ;; `"name":`) whose value is a string, and sets $str/$str_len to its raw bytes; else 0
  (func $string_member (param $p i32) (param $end i32) (param $key i32) (result i32)
    (local $i i32) (local $c i32)
    (local.set $i (call $find (local.get $p) (local.get $end) (local.get $key)))
    (if (i32.eqz (local.get $i)) (then (return (i32.const 0))))
    (local.set $i (i32.add (local.get $i) (call $strlen (local.get $key))))
    ;; skip whitespace after the colon, then expect the opening quote
    (block $done
      (loop $skip
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (br_if $done (i32.eqz (call $is_ws (i32.load8_u (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $skip)))
    (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)) (then (return (i32.const 0))))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (global.set $str (local.get $i))
    ;; scan to the next unescaped quote: a backslash skips the byte after it
    (block $closed
      (loop $scan
        (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const 0)))) ;; unterminated
        (local.set $c (i32.load8_u (local.get $i)))
        (br_if $closed (i32.eq (local.get $c) (i32.const 0x22)))
        (local.set $i (i32.add (local.get $i)
                               (select (i32.const 2) (i32.const 1)
                                       (i32.eq (local.get $c) (i32.const 0x5c)))))
        (br $scan)))
    (global.set $str_len (i32.sub (local.get $i) (global.get $str)))
    (i32.const 1))

  ;; ---------------------------------------------------------------------------------------
  ;; Output buffer being assembled: [$out, $out + $out_len)
  (global $out (mut i32) (i32.const 0))
  (global $out_len (mut i32) (i32.const 0))

  ;; emit(src, len): append raw bytes
  (func $emit (param $src i32) (param $len i32)
    (memory.copy (i32.add (global.get $out) (global.get $out_len)) (local.get $src) (local.get $len))
    (global.set $out_len (i32.add (global.get $out_len) (local.get $len))))

  ;; emit_z(s): append a NUL-terminated constant
  (func $emit_z (param $s i32)
    (call $emit (local.get $s) (call $strlen (local.get $s))))

  ;; ---------------------------------------------------------------------------------------
  ;; handle(ptr, len): forward the message to echo
  (func $handle (export "handle") (param $ptr i32) (param $len i32) (result i32)
    (local $end i32)                               ;; one past the message
    (local $key i32)                               ;; address of `"content":` = end of header
    (local $cs i32) (local $ce i32)                ;; content JSON [cs, ce)
    (local $perf i32) (local $perf_len i32)
    (local $sender i32) (local $sender_len i32)
    (local $has_conv i32) (local $conv i32) (local $conv_len i32)
    (local $mark i32) (local $rc i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))

    ;; --- content: after the first `"content":` up to the final `}`, whitespace trimmed ---
    (local.set $key (call $find (local.get $ptr) (local.get $end) (i32.const 16)))
    (if (i32.eqz (local.get $key)) (then (return (i32.const 1))))
    (local.set $cs (i32.add (local.get $key) (call $strlen (i32.const 16))))
    (local.set $ce (local.get $end))
    (block $b (loop $l                              ;; trailing whitespace after the final `}`
      (br_if $b (i32.le_u (local.get $ce) (local.get $cs)))
      (br_if $b (i32.eqz (call $is_ws (i32.load8_u (i32.sub (local.get $ce) (i32.const 1))))))
      (local.set $ce (i32.sub (local.get $ce) (i32.const 1)))
      (br $l)))
    (if (i32.le_u (local.get $ce) (local.get $cs)) (then (return (i32.const 1))))
    (if (i32.ne (i32.load8_u (i32.sub (local.get $ce) (i32.const 1))) (i32.const 0x7d)) ;; `}`
      (then (return (i32.const 1))))
    (local.set $ce (i32.sub (local.get $ce) (i32.const 1)))
    (block $b (loop $l                              ;; leading whitespace of the content
      (br_if $b (i32.ge_u (local.get $cs) (local.get $ce)))
      (br_if $b (i32.eqz (call $is_ws (i32.load8_u (local.get $cs)))))
      (local.set $cs (i32.add (local.get $cs) (i32.const 1)))
      (br $l)))
    (block $b (loop $l                              ;; trailing whitespace of the content
      (br_if $b (i32.le_u (local.get $ce) (local.get $cs)))
      (br_if $b (i32.eqz (call $is_ws (i32.load8_u (i32.sub (local.get $ce) (i32.const 1))))))
      (local.set $ce (i32.sub (local.get $ce) (i32.const 1)))
      (br $l)))
    (if (i32.eq (local.get $cs) (local.get $ce)) (then (return (i32.const 1))))

    ;; --- header members, searched in [ptr, key) only ---
    (if (i32.eqz (call $string_member (local.get $ptr) (local.get $key) (i32.const 32)))
      (then (return (i32.const 2))))                              ;; "performative"
    (local.set $perf (global.get $str))
    (local.set $perf_len (global.get $str_len))
    (if (i32.eqz (call $string_member (local.get $ptr) (local.get $key) (i32.const 48)))
      (then (return (i32.const 3))))                              ;; "sender"
    (local.set $sender (global.get $str))
    (local.set $sender_len (global.get $str_len))
    (local.set $has_conv                                          ;; "conversation_id"
      (call $string_member (local.get $ptr) (local.get $key) (i32.const 64)))
    (local.set $conv (global.get $str))
    (local.set $conv_len (global.get $str_len))

    ;; --- assemble the outgoing message; pieces are slices of the message, so len + 128
    ;;     (the literals) is enough. Everything allocated here is released on return. ---
    (local.set $mark (global.get $heap))
    (if (i32.gt_u (local.get $len) (i32.const 0x7fffff00)) (then (return (i32.const 5))))
    (global.set $out (call $alloc (i32.add (local.get $len) (i32.const 128))))
    (if (i32.eqz (global.get $out)) (then (return (i32.const 5))))
    (global.set $out_len (i32.const 0))

    (call $emit_z (i32.const 96))                  ;; {"performative":"
    (call $emit (local.get $perf) (local.get $perf_len))
    (call $emit_z (i32.const 128))                 ;; ","receiver":["echo"],"reply_to":["
    (call $emit (local.get $sender) (local.get $sender_len))
    (call $emit_z (i32.const 176))                 ;; "]
    (if (local.get $has_conv)
      (then
        (call $emit_z (i32.const 184))             ;; ,"conversation_id":"
        (call $emit (local.get $conv) (local.get $conv_len))
        (call $emit_z (i32.const 208))))           ;; "
    (call $emit_z (i32.const 216))                 ;; ,"content":
    (call $emit (local.get $cs) (i32.sub (local.get $ce) (local.get $cs)))
    (call $emit_z (i32.const 232))                 ;; }

    (local.set $rc (call $send (global.get $out) (global.get $out_len)))
    (global.set $heap (local.get $mark))
    ;; a refused send fails the message with the host's (negative) code
    (select (local.get $rc) (i32.const 0) (i32.lt_s (local.get $rc) (i32.const 0))))

  ;; Several messages in one call (docs/agent-abi.md, handle_batch): write the current index at
  ;; ptr before each message, hand it to `handle`, stop at the first failure.
  (func (export "handle_batch") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $count i32) (local $at i32) (local $size i32) (local $rc i32)
    (local.set $count (i32.load (i32.add (local.get $ptr) (i32.const 4))))
    (local.set $at (i32.add (local.get $ptr) (i32.const 8)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (i32.store (local.get $ptr) (local.get $i))
        (local.set $size (i32.load (local.get $at)))
        (local.set $rc (call $handle (i32.add (local.get $at) (i32.const 4)) (local.get $size)))
        (if (local.get $rc) (then (return (local.get $rc))))
        (local.set $at (i32.add (local.get $at) (i32.add (local.get $size) (i32.const 4))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))
)
