;; flaky: a buggy agent that traps (`unreachable`) on every message, so each one is retried and
;; then dead-lettered (docs/delivery.md). Redeploying echo.wat under its name "fixes" it.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) unreachable))
