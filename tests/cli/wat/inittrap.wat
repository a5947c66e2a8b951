;; inittrap.wat - a reactor-style _initialize that divides by zero; _start
;; (which must not run) would exit 42.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $zero (mut i32) (i32.const 0))
  (func (export "_initialize")
    (global.set $zero (i32.div_u (i32.const 1) (global.get $zero))))
  (func (export "_start") (call $proc_exit (i32.const 42))))
