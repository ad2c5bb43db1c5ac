;; The module `npm run build` runs once through the CLI so that V8's code cache of dist/hyrun-main.cjs
;; holds the functions a typical `hyrun run` compiles: start-up, preopens, path_open, fd_readdir,
;; path_filestat_get, fd_write, exit. Run with one preopen (fd 3) holding a file named "a".
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; 0: "." 8: "a" 16: "ok\n" 32: iovec 64: results 1024: readdir buffer
  (data (i32.const 0) ".")
  (data (i32.const 8) "a")
  (data (i32.const 16) "ok\n")
  (func (export "_start")
    (local $dir i32)
    ;; path_open(3, follow, ".", 1, O_DIRECTORY, rights: all, all, fdflags 0, &fd)
    (drop (call $path_open (i32.const 3) (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 2)
      (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 64)))
    (local.set $dir (i32.load (i32.const 64)))
    (drop (call $fd_readdir (local.get $dir) (i32.const 1024) (i32.const 4096) (i64.const 0) (i32.const 68)))
    (drop (call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 8) (i32.const 1) (i32.const 128)))
    (drop (call $path_filestat_get (local.get $dir) (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 128)))
    (drop (call $fd_close (local.get $dir)))
    (i32.store (i32.const 32) (i32.const 16))
    (i32.store (i32.const 36) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 72)))
    (call $proc_exit (i32.const 0))))
