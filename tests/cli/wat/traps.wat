;; traps.wat - one guest, one trap per scenario: argv[1] picks it.
;;
;; Trap scenarios end in a trap; if the trapping instruction returns, the
;; guest exits 99.  Non-trap scenarios exit 0 when every check passed, else
;; the number of the first failed check.  Unknown scenario: exit 98.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (type $v_v (func))
  (type $i_i (func (param i32) (result i32)))
  (table 4 funcref)
  (elem (i32.const 0) $takes_i32 $nothing)
  (global $sink (mut i32) (i32.const 0))

  (func $takes_i32 (type $i_i) (i32.add (local.get 0) (i32.const 1)))
  (func $nothing (type $v_v))

  ;; Recursion that no C compiler can turn into a loop: the result of the
  ;; recursive call is stored and something else is loaded afterwards.
  (func $deep (param $x i32) (result i32)
    (i32.store (i32.and (i32.mul (local.get $x) (i32.const 4)) (i32.const 0xfffc))
               (call $deep (i32.add (local.get $x) (i32.const 1))))
    (i32.add (local.get $x)
             (i32.load (i32.and (i32.mul (local.get $x) (i32.const 28)) (i32.const 0xfffc)))))

  ;; argv[1] as a decimal number (0 if absent)
  (func $scenario (result i32)
    (local $p i32) (local $n i32) (local $c i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (if (i32.lt_u (i32.load (i32.const 0)) (i32.const 2)) (then (return (i32.const 0))))
    (if (i32.gt_u (i32.load (i32.const 4)) (i32.const 0x800)) (then (return (i32.const 0))))
    (drop (call $args_get (i32.const 0x100) (i32.const 0x200)))
    (local.set $p (i32.load (i32.const 0x104)))
    (block $done
      (loop $next
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eqz (local.get $c)))
        (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10))
                               (i32.sub (local.get $c) (i32.const 48))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $n))

  (func (export "_start")
    (local $s i32) (local $r i32)
    (local.set $s (call $scenario))
    ;; 1: out-of-bounds load far away
    (if (i32.eq (local.get $s) (i32.const 1))
      (then (global.set $sink (i32.load (i32.const 0xfffffff0))) (call $proc_exit (i32.const 99))))
    ;; 2: unreachable
    (if (i32.eq (local.get $s) (i32.const 2))
      (then unreachable))
    ;; 3: integer divide by zero
    (if (i32.eq (local.get $s) (i32.const 3))
      (then (global.set $sink (i32.div_s (i32.const 7) (global.get $sink))) (call $proc_exit (i32.const 99))))
    ;; 4: stack exhaustion
    (if (i32.eq (local.get $s) (i32.const 4))
      (then (global.set $sink (call $deep (i32.const 0))) (call $proc_exit (i32.const 99))))
    ;; 5: call_indirect with the wrong type (slot 0 is (i32)->i32)
    (if (i32.eq (local.get $s) (i32.const 5))
      (then (call_indirect (type $v_v) (i32.const 0)) (call $proc_exit (i32.const 99))))
    ;; 6: call_indirect through a null slot
    (if (i32.eq (local.get $s) (i32.const 6))
      (then (call_indirect (type $v_v) (i32.const 3)) (call $proc_exit (i32.const 99))))
    ;; 7: out-of-bounds store straddling the end of memory
    (if (i32.eq (local.get $s) (i32.const 7))
      (then (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 2)) (i32.const 1))
            (call $proc_exit (i32.const 99))))
    ;; 8: load just past the end of memory
    (if (i32.eq (local.get $s) (i32.const 8))
      (then (global.set $sink (i32.load8_u (i32.mul (memory.size) (i32.const 65536))))
            (call $proc_exit (i32.const 99))))
    ;; 9: integer overflow (INT_MIN / -1)
    (if (i32.eq (local.get $s) (i32.const 9))
      (then (global.set $sink (i32.div_s (i32.const 0x80000000) (i32.sub (global.get $sink) (i32.const 1))))
            (call $proc_exit (i32.const 99))))
    ;; 10: invalid conversion (NaN to integer)
    (if (i32.eq (local.get $s) (i32.const 10))
      (then (global.set $sink (i32.trunc_f32_s (f32.div (f32.const 0) (f32.convert_i32_s (global.get $sink)))))
            (call $proc_exit (i32.const 99))))
    ;; 11: memory.grow within and beyond the bound (run with --max-memory 1,
    ;; that is 16 pages of 64 KiB)
    (if (i32.eq (local.get $s) (i32.const 11))
      (then
        (if (i32.ne (memory.size) (i32.const 1)) (then (call $proc_exit (i32.const 1))))
        (if (i32.ne (memory.grow (i32.const 15)) (i32.const 1)) (then (call $proc_exit (i32.const 2))))
        (if (i32.ne (memory.size) (i32.const 16)) (then (call $proc_exit (i32.const 3))))
        ;; the new pages are usable: last byte of page 15
        (i32.store8 (i32.const 0xfffff) (i32.const 0x5a))
        (if (i32.ne (i32.load8_u (i32.const 0xfffff)) (i32.const 0x5a)) (then (call $proc_exit (i32.const 4))))
        (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then (call $proc_exit (i32.const 5))))
        (if (i32.ne (memory.grow (i32.const 0x10000)) (i32.const -1)) (then (call $proc_exit (i32.const 6))))
        (if (i32.ne (memory.size) (i32.const 16)) (then (call $proc_exit (i32.const 7))))
        (call $proc_exit (i32.const 0))))
    ;; 12: memory.grow by 16 pages (fine under the default bound)
    (if (i32.eq (local.get $s) (i32.const 12))
      (then
        (if (i32.ne (memory.grow (i32.const 16)) (i32.const 1)) (then (call $proc_exit (i32.const 1))))
        (i32.store8 (i32.const 0x10ffff) (i32.const 1))
        (call $proc_exit (i32.const 0))))
    (call $proc_exit (i32.const 98))))
