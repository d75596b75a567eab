;; Refused at deploy: asks for 512 pages (32 MiB) of memory, over the default 16 MiB limit.
(module
  (memory (export "memory") 512)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 0)))
