;; Exact buffer semantics of fd_readdir, path_readlink and fd_prestat_dir_name. For each case it
;; writes one 136-byte record to stdout: errno (u32), the bufused/size result slot (u32), then the
;; 128-byte buffer, pre-filled with 0xEE so the test sees exactly which bytes the host wrote.
;; Expects preopen fd 3 = "/sandbox" holding d/abc (a file) and lnk -> d/abc.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_readlink" (func $path_readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "d")
  (data (i32.const 8) "lnk")
  (data (i32.const 512) "\00\04\00\00\88\00\00\00") ;; iovec {1024, 136}
  (data (i32.const 600) "\00\00\01\00\04\00\00\00") ;; iovec {65536, 4}: just past the end of memory

  (global $dir (mut i32) (i32.const 0))

  (func $reset (memory.fill (i32.const 1024) (i32.const 0xEE) (i32.const 136)))
  (func $emit (param $errno i32)
    (i32.store (i32.const 1024) (local.get $errno))
    (drop (call $fd_write (i32.const 1) (i32.const 512) (i32.const 1) (i32.const 520))))
  (func $readdir (param $len i32) (param $cookie i64)
    (call $reset)
    (call $emit (call $fd_readdir (global.get $dir) (i32.const 1032) (local.get $len) (local.get $cookie) (i32.const 1028))))

  (func (export "_start")
    ;; open d as a directory with FD_READDIR
    (call $reset)
    (call $emit (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 2)
      (i64.const 0x4000) (i64.const 0) (i32.const 0) (i32.const 16)))
    (global.set $dir (i32.load (i32.const 16)))
    (call $readdir (i32.const 100) (i64.const 0))   ;; 1: everything (78 bytes)
    (call $readdir (i32.const 78) (i64.const 0))    ;; 2: exactly everything
    (call $readdir (i32.const 60) (i64.const 0))    ;; 3: third entry cut inside its header
    (call $readdir (i32.const 76) (i64.const 0))    ;; 4: third entry cut inside its name
    (call $readdir (i32.const 10) (i64.const 0))    ;; 5: first header cut
    (call $readdir (i32.const 0) (i64.const 0))     ;; 6: empty buffer
    (call $readdir (i32.const 100) (i64.const 2))   ;; 7: from cookie 2: only "abc"
    (call $readdir (i32.const 100) (i64.const 3))   ;; 8: past the end
    ;; 9: a buffer running off the end of memory is FAULT
    (call $reset)
    (call $emit (call $fd_readdir (global.get $dir) (i32.const 65530) (i32.const 100) (i64.const 0) (i32.const 1028)))
    ;; 10, 11: readlink into a short buffer, then a long one
    (call $reset)
    (call $emit (call $path_readlink (i32.const 3) (i32.const 8) (i32.const 3) (i32.const 1032) (i32.const 3) (i32.const 1028)))
    (call $reset)
    (call $emit (call $path_readlink (i32.const 3) (i32.const 8) (i32.const 3) (i32.const 1032) (i32.const 100) (i32.const 1028)))
    ;; 12: prestat name into a buffer of exactly its length (no NUL written)
    (call $reset)
    (call $emit (call $fd_prestat_dir_name (i32.const 3) (i32.const 1032) (i32.const 8)))
    ;; 13: an iovec pointing past the end of memory is FAULT
    (call $reset)
    (call $emit (call $fd_read (i32.const 0) (i32.const 600) (i32.const 1) (i32.const 1028)))
  )
)
