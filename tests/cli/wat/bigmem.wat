;; bigmem.wat - needs 17 pages (1 MiB + 64 KiB) of linear memory at
;; instantiation: above --max-memory 1 (16 pages).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 17)
  (func (export "_start")
    (i32.store8 (i32.const 0x10ffff) (i32.const 1))
    (call $proc_exit (i32.const 0))))
