;; silent: takes every message and never answers, so a client waiting for a reply times out
;; (docs/messaging.md, "Errors").
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 0)))
