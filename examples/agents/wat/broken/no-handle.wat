;; Refused at deploy: exports memory and alloc, but no handle.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024)))
