;; failer: reports an error for every message (handle returns 7), so the sender gets a FIPA
;; `failure` with "agent_error"; ten in a row mark the agent `failed` (docs/agents.md).
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 7)))
