;; unresolved.wat - prints "guest ran" from _start, and imports clock, which
;; the elastic-tee-minimal world does not offer: run --world
;; elastic-tee-minimal must refuse it before any of its code runs.
(module
  (import "elastic:clock/clock@0.1.1" "get-system-time" (func $now (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x100) "guest ran\n")
  (func (export "_start")
    (i32.store (i32.const 0x40) (i32.const 0x100))
    (i32.store (i32.const 0x44) (i32.const 10))
    (drop (call $fd_write (i32.const 1) (i32.const 0x40) (i32.const 1) (i32.const 0x60)))
    (call $now (i32.const 0x1000))))
