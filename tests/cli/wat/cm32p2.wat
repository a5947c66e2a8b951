;; cm32p2.wat - a guest in the cm32p2 naming of the Component Model's
;; BuildTargets.md: imports from "cm32p2|elastic:clock/clock@0.1", exports
;; cm32p2_memory, cm32p2_realloc and cm32p2_initialize.
;;
;; cm32p2_initialize calls clock.resolution and clock.get-timezone (whose
;; string result comes back through cm32p2_realloc) and records the first
;; failed check in $status; _start exits with $status (0: all passed,
;; 99: cm32p2_initialize never ran).
(module
  (import "cm32p2|elastic:clock/clock@0.1" "resolution" (func $resolution (param i32)))
  (import "cm32p2|elastic:clock/clock@0.1" "get-timezone" (func $get_timezone (param i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "cm32p2_memory") 1)
  (global $status (mut i32) (i32.const 99))
  (global $heap (mut i32) (i32.const 0x8000))
  (global $last (mut i32) (i32.const 0))
  (global $calls (mut i32) (i32.const 0))

  (func (export "cm32p2_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (global.set $last (local.get $p))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (local.get $p))

  (func $check (export "cm32p2_initialize")
    (local $v i64)
    ;; resolution: result<u64, string> at 0x1000 (disc at 0, u64 at 8)
    (i64.store (i32.const 0x1008) (i64.const -1))
    (call $resolution (i32.const 0x1000))
    (if (i32.load8_u (i32.const 0x1000)) (then (global.set $status (i32.const 1)) (return)))
    (local.set $v (i64.load (i32.const 0x1008)))
    (if (i64.eqz (local.get $v)) (then (global.set $status (i32.const 2)) (return)))
    (if (i64.gt_u (local.get $v) (i64.const 1000000000)) (then (global.set $status (i32.const 3)) (return)))
    ;; get-timezone: result<timezone-info, string> at 0x1100
    ;; (disc at 0; name ptr at 4, len at 8; utc-offset-seconds at 12)
    (call $get_timezone (i32.const 0x1100))
    (if (i32.load8_u (i32.const 0x1100)) (then (global.set $status (i32.const 4)) (return)))
    (if (i32.eqz (i32.load (i32.const 0x1108))) (then (global.set $status (i32.const 5)) (return)))
    (if (i32.ne (global.get $calls) (i32.const 1)) (then (global.set $status (i32.const 6)) (return)))
    (if (i32.ne (i32.load (i32.const 0x1104)) (global.get $last)) (then (global.set $status (i32.const 7)) (return)))
    (global.set $status (i32.const 0)))

  (func (export "_start")
    (call $proc_exit (global.get $status))))
