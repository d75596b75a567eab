;; spinner: loops forever in handle, until the fuel limit or the wall-clock deadline stops it
;; (docs/agents.md, "Failures"). With --timeout-ms 500 each message takes half a second.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
