;; guest.wat - the guest examples/embed/embed.c runs: `run` logs through the
;; host's env#log and returns twice its argument.
;;   wat2wasm guest.wat -o guest.wasm
(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hello from the guest")
  (func (export "run") (param $n i32) (result i32)
    (call $log (i32.const 64) (i32.const 20))
    (i32.mul (local.get $n) (i32.const 2))))
