;; A component that exports wasi:http/incoming-handler and no wasi:cli/run (its WIT, cut down to
;; one function, is embedded by scripts/build-guests.mjs): `hyrun run` must say what it is.
(module
  (func (export "wasi:http/incoming-handler@0.2.0#handle"))
  (memory (export "memory") 1))
