;; An HTTP handler (it exports wasi:http/incoming-handler, its WIT embedded by
;; scripts/build-guests.mjs) that also imports two interfaces hyrun does not serve: `hyrun serve`
;; and `hyrun run` must refuse it in one line naming both, before anything listens.
(module
  (import "acme:made/up@1.0.0" "hello" (func $hello (result i32)))
  (import "acme:other/thing@1.0.0" "ping" (func $ping (result i32)))
  (func (export "wasi:http/incoming-handler@0.2.12#handle") (param i32 i32)
    (drop (call $hello))
    (drop (call $ping)))
  (memory (export "memory") 1))
