;; A command whose wasi:cli/run returns err (made a component with its WIT by
;; scripts/build-guests.mjs): hyrun exits 1, as wasmtime does.
(module
  (func (export "wasi:cli/run@0.2.0#run") (result i32) (i32.const 1))
  (memory (export "memory") 1))
