;; caps.wat - exits with has-capability(argv[1]): 1 when the capability is
;; supported in the world the guest was linked into, else 0.  Exit 97 when
;; argv[1] is missing.
(module
  (import "elastic:capabilities/capabilities@0.1.0" "has-capability" (func $has_cap (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func $strlen (param $p i32) (result i32)
    (local $q i32)
    (local.set $q (local.get $p))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $q) (local.get $p)))
  (func (export "_start")
    (local $s i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (if (i32.lt_u (i32.load (i32.const 0)) (i32.const 2)) (then (call $proc_exit (i32.const 97))))
    (if (i32.gt_u (i32.load (i32.const 4)) (i32.const 0x8000)) (then (call $proc_exit (i32.const 96))))
    (drop (call $args_get (i32.const 0x100) (i32.const 0x1000)))
    (local.set $s (i32.load (i32.const 0x104)))
    (call $proc_exit (call $has_cap (local.get $s) (call $strlen (local.get $s))))))
