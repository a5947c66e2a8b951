;; twice.wat - imports fd_write twice, under two names of its own (valid
;; WebAssembly; AssemblyScript emits such modules), and writes through both.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w1 (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $w2 (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x100) "one\0atwo\0a")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 0x100))
    (i32.store (i32.const 4) (i32.const 4))
    (drop (call $w1 (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0x40)))
    (i32.store (i32.const 0) (i32.const 0x104))
    (drop (call $w2 (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0x40)))))
