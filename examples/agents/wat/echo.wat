;; echo: answers every message with an `inform` carrying the same content.
;;
;; It needs no JSON parser: the host promises (docs/agent-abi.md) that `content` is the last
;; member of the message object, so the content is everything between the first `"content":`
;; and the closing `}`. The reply is written as
;;     {"performative":"inform","content":<content>}
;; and `caxton.reply` fills in receiver, conversation_id and in_reply_to.
(module
  (import "caxton" "reply" (func $reply (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "\"content\":")                                  ;; 10 bytes
  (data (i32.const 32) "{\"performative\":\"inform\",\"content\":")     ;; 35 bytes

  ;; A bump allocator that grows memory as needed; 0 when memory cannot grow.
  (func $alloc (export "alloc") (param $size i32) (result i32)
    (local $p i32) (local $end i32) (local $have i32)
    (local.set $p (global.get $heap))
    (local.set $end (i32.add (local.get $p) (local.get $size)))
    (local.set $have (i32.mul (memory.size) (i32.const 65536)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow
                (i32.div_u
                  (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535))
                  (i32.const 65536)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $p))

  ;; The offset just past the first `"content":` in [ptr, ptr+len), or -1.
  (func $find_content (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $last i32) (local $k i32)
    (local.set $last (i32.sub (i32.add (local.get $ptr) (local.get $len)) (i32.const 10)))
    (local.set $i (local.get $ptr))
    (block $done
      (loop $scan
        (br_if $done (i32.gt_s (local.get $i) (local.get $last)))
        (local.set $k (i32.const 0))
        (block $mismatch
          (loop $compare
            (br_if $mismatch
              (i32.ne (i32.load8_u (i32.add (local.get $i) (local.get $k)))
                      (i32.load8_u (i32.add (i32.const 16) (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br_if $compare (i32.lt_u (local.get $k) (i32.const 10))))
          (return (i32.add (local.get $i) (i32.const 10))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.const -1))

  (func $handle (export "handle") (param $ptr i32) (param $len i32) (result i32)
    (local $start i32) (local $clen i32) (local $out i32) (local $mark i32) (local $rc i32)
    (local.set $start (call $find_content (local.get $ptr) (local.get $len)))
    (if (i32.lt_s (local.get $start) (i32.const 0)) (then (return (i32.const 2))))
    ;; the content runs up to the message object's closing brace
    (local.set $clen
      (i32.sub (i32.sub (i32.add (local.get $ptr) (local.get $len)) (i32.const 1))
               (local.get $start)))
    ;; the reply buffer is scratch: give it back to the bump allocator afterwards
    (local.set $mark (global.get $heap))
    (local.set $out (call $alloc (i32.add (local.get $clen) (i32.const 36))))
    (if (i32.eqz (local.get $out)) (then (return (i32.const 3))))
    (memory.copy (local.get $out) (i32.const 32) (i32.const 35))
    (memory.copy (i32.add (local.get $out) (i32.const 35)) (local.get $start) (local.get $clen))
    (i32.store8 (i32.add (local.get $out) (i32.add (i32.const 35) (local.get $clen)))
                (i32.const 125))  ;; '}'
    (local.set $rc (call $reply (local.get $out) (i32.add (local.get $clen) (i32.const 36))))
    (global.set $heap (local.get $mark))
    (if (result i32) (i32.eqz (local.get $rc))
      (then (i32.const 0))
      (else (i32.const 1))))

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
