;; abi.wat - the canonical ABI through the real glue, with the guest as an
;; adversary.  argv[1] picks a scenario (see tests/cli/abi.sh).
;;
;; Exit status: trap scenarios should end in a trap; if the call returns,
;; the guest exits 99.  Other scenarios exit 0 when every check passed, else
;; the number of the first failed check.  Unknown scenario: 98.
;;
;; cabi_realloc is a bump allocator whose behaviour $mode selects:
;;   0 honest (grows memory when needed)   1 pointer 8 bytes before the end
;;   2 misaligned by 2                      3 executes unreachable
;;   4 wild pointer 0xfffffff0              5 grows memory on every call
;;   6 calls get-random-bytes(4096) first   7 calls has-capability first
(module
  (import "elastic:capabilities/capabilities@0.1.0" "has-capability" (func $has_cap (param i32 i32) (result i32)))
  (import "elastic:capabilities/capabilities@0.1.0" "list-capabilities" (func $list_caps (param i32)))
  (import "elastic:platform/platform@0.1.0" "get-platform-info" (func $platform_info (param i32)))
  (import "elastic:random/random@0.1.0" "get-random-bytes" (func $random_bytes (param i32 i32)))
  (import "elastic:random/random@0.1.0" "reseed" (func $reseed (param i32 i32 i32)))
  (import "elastic:random/random@0.1.0" "get-entropy-info" (func $entropy_info (param i32)))
  (import "elastic:clock/clock@0.1.1" "sleep" (func $sleep (param i64 i32)))
  (import "elastic:clock/clock@0.1.1" "resolution" (func $resolution (param i32)))
  (import "elastic:clock/clock@0.1.1" "start-timer" (func $start_timer (param i32)))
  (import "elastic:clock/clock@0.1.1" "stop-timer" (func $stop_timer (param i64 i32)))
  (import "elastic:clock/clock@0.1.1" "read-timer" (func $read_timer (param i64 i32)))
  (import "elastic:clock/clock@0.1.1" "destroy-timer" (func $destroy_timer (param i64 i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  (memory (export "memory") 2)

  (data (i32.const 0x100) "random")
  (data (i32.const 0x110) "\c3\28")
  (data (i32.const 0x120) "\c0\80")
  (data (i32.const 0x130) "\ed\a0\80")
  (data (i32.const 0x140) "\c3\bc\e2\82\ac-unknown")   ;; 13 bytes, valid UTF-8
  (data (i32.const 0x160) "unimplemented")             ;; 13 bytes: test build only (tests/wit/unimplemented.wit)
  (data (i32.const 0x170) "platform.attestation")      ;; 20 bytes
  (data (i32.const 0x190) "\f4\90\80\80")               ;; above U+10FFFF
  (data (i32.const 0x1a0) "random\00")                  ;; 7 bytes
  (data (i32.const 0x1b0) "\e2\82")                     ;; truncated sequence
  (data (i32.const 0x1c0) "clock")
  (data (i32.const 0x1d0) "RANDOM")
  (data (i32.const 0x1e0) "ok\n")
  (data (i32.const 0x1f0) "platform=")                 ;; 9 bytes
  (data (i32.const 0x1fa) "error=")                    ;; 6 bytes
  ;; 0x200..0x2ff iovecs, 0x300 nwritten, 0x400.. return areas,
  ;; 0x800 argv pointers, 0x900..0xfff argv strings, heap from 0x14000

  (global $mode (mut i32) (i32.const 0))
  (global $heap (mut i32) (i32.const 0x14000))
  (global $last (mut i32) (i32.const -1))
  (global $calls (mut i32) (i32.const 0))
  (global $maxreq (mut i32) (i32.const 0))

  (func $msize (result i32) (i32.mul (memory.size) (i32.const 65536)))

  (func $bump (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (block $ok
      (loop $grow
        (br_if $ok (i64.le_u (i64.extend_i32_u (global.get $heap))
                             (i64.extend_i32_u (call $msize))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $p))

  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.gt_u (local.get $size) (global.get $maxreq)) (then (global.set $maxreq (local.get $size))))
    (if (i32.eq (global.get $mode) (i32.const 1))
      (then (local.set $p (i32.sub (call $msize) (i32.const 8)))))
    (if (i32.eq (global.get $mode) (i32.const 2))
      (then (local.set $p (i32.add (call $bump (i32.const 8) (i32.add (local.get $size) (i32.const 4))) (i32.const 2)))))
    (if (i32.eq (global.get $mode) (i32.const 3))
      (then unreachable))
    (if (i32.eq (global.get $mode) (i32.const 4))
      (then (local.set $p (i32.const 0xfffffff0))))
    (if (i32.eq (global.get $mode) (i32.const 5))
      (then
        ;; fresh pages at the end of memory, one more than needed
        (local.set $p (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 2))))
        (if (i32.eq (local.get $p) (i32.const -1)) (then unreachable))
        (local.set $p (i32.mul (local.get $p) (i32.const 65536)))))
    (if (i32.eq (global.get $mode) (i32.const 6))
      (then
        ;; re-enter the host from inside cabi_realloc: get-random-bytes(4096)
        ;; (lowered through this realloc in honest mode), then allocate
        (global.set $mode (i32.const 0))
        (call $random_bytes (i32.const 4096) (i32.const 0x5e0))
        (global.set $mode (i32.const 6))
        (local.set $p (call $bump (local.get $align) (local.get $size)))))
    (if (i32.eq (global.get $mode) (i32.const 7))
      (then
        ;; re-enter the host from inside cabi_realloc: has-capability("random")
        (drop (call $has_cap (i32.const 0x100) (i32.const 6)))
        (local.set $p (call $bump (local.get $align) (local.get $size)))))
    (if (i32.eqz (global.get $mode))
      (then (local.set $p (call $bump (local.get $align) (local.get $size)))))
    (global.set $last (local.get $p))
    (local.get $p))

  ;; ---- helpers ----
  (func $fail (param $code i32) (call $proc_exit (local.get $code)))
  (func $expect (param $cond i32) (param $code i32)
    (if (i32.eqz (local.get $cond)) (then (call $proc_exit (local.get $code)))))
  (func $in_mem (param $p i32) (param $len i32) (result i32)
    (i64.le_u (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $len)))
              (i64.extend_i32_u (call $msize))))
  (func $streq (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
    (local $i i32)
    (if (i32.ne (local.get $al) (local.get $bl)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $al)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i)))
                    (i32.load8_u (i32.add (local.get $b) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))
  (func $print (param $p i32) (param $len i32)
    (i32.store (i32.const 0x200) (local.get $p))
    (i32.store (i32.const 0x204) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0x200) (i32.const 1) (i32.const 0x300))))
  (func $copy (param $dst i32) (param $src i32) (param $len i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $len)))

  ;; argv[1] as a decimal number (0 if absent)
  (func $scenario (result i32)
    (local $p i32) (local $n i32) (local $c i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (if (i32.lt_u (i32.load (i32.const 0)) (i32.const 2)) (then (return (i32.const 0))))
    (if (i32.gt_u (i32.load (i32.const 4)) (i32.const 0x700)) (then (return (i32.const 0))))
    (drop (call $args_get (i32.const 0x800) (i32.const 0x900)))
    (local.set $p (i32.load (i32.const 0x804)))
    (block $done
      (loop $next
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eqz (local.get $c)))
        (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10))
                               (i32.sub (local.get $c) (i32.const 48))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; has-capability(ptr, len) expected to trap
  (func $cap_trap (param $p i32) (param $len i32)
    (drop (call $has_cap (local.get $p) (local.get $len)))
    (call $fail (i32.const 99)))

  ;; verify a list<capability-info> at (ptr, n): codes base+0..base+9
  (func $verify_caps (param $list i32) (param $n i32)
    (local $i i32) (local $e i32) (local $found i32)
    (call $expect (i32.eqz (i32.and (local.get $list) (i32.const 3))) (i32.const 1))
    (call $expect (i32.ge_u (local.get $n) (i32.const 20)) (i32.const 2))
    (call $expect (call $in_mem (local.get $list) (i32.mul (local.get $n) (i32.const 20))) (i32.const 3))
    (call $expect (i32.eq (local.get $list) (global.get $last)) (i32.const 4))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $e (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 20))))
        (call $expect (call $in_mem (i32.load (local.get $e)) (i32.load offset=4 (local.get $e))) (i32.const 5))
        (call $expect (i32.gt_u (i32.load offset=4 (local.get $e)) (i32.const 0)) (i32.const 6))
        (call $expect (i32.le_u (i32.load8_u offset=8 (local.get $e)) (i32.const 1)) (i32.const 7))
        (call $expect (call $in_mem (i32.load offset=12 (local.get $e)) (i32.load offset=16 (local.get $e))) (i32.const 8))
        (if (call $streq (i32.load (local.get $e)) (i32.load offset=4 (local.get $e)) (i32.const 0x100) (i32.const 6))
          (then
            (call $expect (i32.eq (i32.load8_u offset=8 (local.get $e)) (i32.const 1)) (i32.const 9))
            (local.set $found (i32.or (local.get $found) (i32.const 1)))))
        (if (call $streq (i32.load (local.get $e)) (i32.load offset=4 (local.get $e)) (i32.const 0x160) (i32.const 13))
          (then
            (call $expect (i32.eqz (i32.load8_u offset=8 (local.get $e))) (i32.const 10))
            (local.set $found (i32.or (local.get $found) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $expect (i32.eq (local.get $found) (i32.const 3)) (i32.const 11)))

  (func (export "_start")
    (local $s i32) (local $p i32) (local $len i32) (local $h i64) (local $h2 i64) (local $v i64) (local $i i32)
    (local.set $s (call $scenario))

    ;; ---- has-capability: hostile strings ----
    (if (i32.eq (local.get $s) (i32.const 1)) (then (call $cap_trap (i32.const 0x7fff0000) (i32.const 6))))
    (if (i32.eq (local.get $s) (i32.const 2))
      (then (call $cap_trap (i32.sub (call $msize) (i32.const 3)) (i32.const 6))))
    (if (i32.eq (local.get $s) (i32.const 3)) (then (call $cap_trap (i32.const 0x100) (i32.const -1))))
    (if (i32.eq (local.get $s) (i32.const 4)) (then (call $cap_trap (i32.const 0x110) (i32.const 2))))
    (if (i32.eq (local.get $s) (i32.const 5)) (then (call $cap_trap (i32.const 0x120) (i32.const 2))))
    (if (i32.eq (local.get $s) (i32.const 6)) (then (call $cap_trap (i32.const 0x130) (i32.const 3))))
    (if (i32.eq (local.get $s) (i32.const 7)) (then (call $cap_trap (i32.const 0x190) (i32.const 4))))
    (if (i32.eq (local.get $s) (i32.const 8)) (then (call $cap_trap (i32.const 0x1b0) (i32.const 2))))
    (if (i32.eq (local.get $s) (i32.const 31))
      (then (call $cap_trap (i32.add (call $msize) (i32.const 1)) (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 9))
      (then
        (call $expect (i32.eqz (call $has_cap (i32.const 0x140) (i32.const 13))) (i32.const 1))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 10))
      (then
        (call $expect (i32.eq (call $has_cap (i32.const 0x100) (i32.const 6)) (i32.const 1)) (i32.const 1))
        (call $expect (i32.eqz (call $has_cap (i32.const 0x160) (i32.const 13))) (i32.const 2))
        (call $expect (i32.eqz (call $has_cap (i32.const 0x1a0) (i32.const 7))) (i32.const 3))
        (call $expect (i32.eq (call $has_cap (i32.const 0x170) (i32.const 20)) (i32.const 1)) (i32.const 4))
        (call $expect (i32.eqz (call $has_cap (i32.const 0) (i32.const 0))) (i32.const 5))
        ;; "random" ending exactly at the end of memory
        (call $copy (i32.sub (call $msize) (i32.const 6)) (i32.const 0x100) (i32.const 6))
        (call $expect (i32.eq (call $has_cap (i32.sub (call $msize) (i32.const 6)) (i32.const 6)) (i32.const 1)) (i32.const 6))
        (call $expect (i32.eq (call $has_cap (i32.const 0x1c0) (i32.const 5)) (i32.const 1)) (i32.const 7))
        (call $expect (i32.eqz (call $has_cap (i32.const 0x1d0) (i32.const 6))) (i32.const 8))
        (call $fail (i32.const 0))))

    ;; ---- return areas ----
    (if (i32.eq (local.get $s) (i32.const 11))
      (then (call $platform_info (i32.const 1)) (call $fail (i32.const 99))))
    (if (i32.eq (local.get $s) (i32.const 12))
      (then (call $platform_info (i32.sub (call $msize) (i32.const 4))) (call $fail (i32.const 99))))
    (if (i32.eq (local.get $s) (i32.const 13))
      (then
        ;; a return area that ends exactly at the end of memory
        (local.set $p (i32.sub (call $msize) (i32.const 20)))
        (call $platform_info (local.get $p))
        (call $expect (call $in_mem (i32.load (local.get $p)) (i32.load offset=4 (local.get $p))) (i32.const 1))
        (call $expect (i32.gt_u (i32.load offset=4 (local.get $p)) (i32.const 0)) (i32.const 2))
        (call $expect (call $in_mem (i32.load offset=8 (local.get $p)) (i32.load offset=12 (local.get $p))) (i32.const 3))
        (call $expect (i32.gt_u (i32.load offset=12 (local.get $p)) (i32.const 0)) (i32.const 4))
        (call $expect (i32.le_u (i32.load8_u offset=16 (local.get $p)) (i32.const 1)) (i32.const 5))
        (call $print (i32.const 0x1f0) (i32.const 9))
        (call $print (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)))
        (call $print (i32.const 0x1e2) (i32.const 1))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 28))
      (then (call $random_bytes (i32.const 16) (i32.const 0x402)) (call $fail (i32.const 99))))
    (if (i32.eq (local.get $s) (i32.const 29))
      (then (call $resolution (i32.const 0x404)) (call $fail (i32.const 99))))
    (if (i32.eq (local.get $s) (i32.const 30))
      (then (call $random_bytes (i32.const 16) (i32.const 0x7ffffff0)) (call $fail (i32.const 99))))

    ;; ---- lying or trapping cabi_realloc ----
    (if (i32.eq (local.get $s) (i32.const 14))
      (then (global.set $mode (i32.const 1))
            (call $random_bytes (i32.const 16) (i32.const 0x400)) (call $fail (i32.const 99))))
    (if (i32.eq (local.get $s) (i32.const 15))
      (then (global.set $mode (i32.const 4))
            (call $random_bytes (i32.const 16) (i32.const 0x400)) (call $fail (i32.const 99))))
    (if (i32.eq (local.get $s) (i32.const 16))
      (then (global.set $mode (i32.const 2))
            (call $list_caps (i32.const 0x400)) (call $fail (i32.const 99))))
    (if (i32.eq (local.get $s) (i32.const 17))
      (then (global.set $mode (i32.const 3))
            (call $random_bytes (i32.const 16) (i32.const 0x400)) (call $fail (i32.const 99))))

    ;; ---- random ----
    (if (i32.eq (local.get $s) (i32.const 18))
      (then
        (call $random_bytes (i32.const 0x7fffffff) (i32.const 0x400))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x400)) (i32.const 1)) (i32.const 1))
        (call $expect (i32.gt_u (i32.load (i32.const 0x408)) (i32.const 0)) (i32.const 2))
        (call $expect (call $in_mem (i32.load (i32.const 0x404)) (i32.load (i32.const 0x408))) (i32.const 3))
        (call $expect (i32.lt_u (global.get $maxreq) (i32.const 4096)) (i32.const 4))
        (call $print (i32.const 0x1fa) (i32.const 6))
        (call $print (i32.load (i32.const 0x404)) (i32.load (i32.const 0x408)))
        (call $print (i32.const 0x1e2) (i32.const 1))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 19))
      (then
        (call $random_bytes (i32.const 32) (i32.const 0x400))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x400))) (i32.const 1))
        (call $expect (i32.eq (i32.load (i32.const 0x408)) (i32.const 32)) (i32.const 2))
        (call $expect (i32.eq (i32.load (i32.const 0x404)) (global.get $last)) (i32.const 3))
        (call $expect (i32.eq (global.get $calls) (i32.const 1)) (i32.const 4))
        (local.set $p (i32.load (i32.const 0x404)))
        (call $expect (call $in_mem (local.get $p) (i32.const 32)) (i32.const 5))
        (call $expect (i64.ne (i64.or (i64.or (i64.load (local.get $p)) (i64.load offset=8 (local.get $p)))
                                      (i64.or (i64.load offset=16 (local.get $p)) (i64.load offset=24 (local.get $p))))
                              (i64.const 0)) (i32.const 6))
        (call $random_bytes (i32.const 32) (i32.const 0x440))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x440))) (i32.const 7))
        (call $expect (i32.ne (i32.load (i32.const 0x444)) (local.get $p)) (i32.const 8))
        (call $expect (i32.eqz (call $streq (local.get $p) (i32.const 32) (i32.load (i32.const 0x444)) (i32.const 32))) (i32.const 9))
        ;; zero bytes: ok, empty
        (call $random_bytes (i32.const 0) (i32.const 0x480))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x480))) (i32.const 10))
        (call $expect (i32.eqz (i32.load (i32.const 0x488))) (i32.const 11))
        ;; 64 KiB: more than the initial free memory, the allocator grows it
        (call $random_bytes (i32.const 65536) (i32.const 0x4c0))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x4c0))) (i32.const 12))
        (call $expect (i32.eq (i32.load (i32.const 0x4c8)) (i32.const 65536)) (i32.const 13))
        (call $expect (i32.eq (i32.load (i32.const 0x4c4)) (global.get $last)) (i32.const 14))
        (call $expect (call $in_mem (global.get $last) (i32.const 65536)) (i32.const 15))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 20))
      (then
        (call $reseed (i32.const 0) (i32.const 70000) (i32.const 0x400))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x400)) (i32.const 1)) (i32.const 1))
        (call $expect (i32.gt_u (i32.load (i32.const 0x408)) (i32.const 0)) (i32.const 2))
        (call $expect (call $in_mem (i32.load (i32.const 0x404)) (i32.load (i32.const 0x408))) (i32.const 3))
        (call $reseed (i32.const 0x100) (i32.const 16) (i32.const 0x440))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x440))) (i32.const 4))
        (call $reseed (i32.const 0) (i32.const 0) (i32.const 0x480))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x480))) (i32.const 5))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 21))
      (then (call $reseed (i32.const 0x7fff0000) (i32.const 16) (i32.const 0x400)) (call $fail (i32.const 99))))
    (if (i32.eq (local.get $s) (i32.const 32))
      (then
        ;; result<entropy-info, string>: disc 0, source (enum) at 8,
        ;; quality at 12, available-bytes at 16
        (call $entropy_info (i32.const 0x400))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x400))) (i32.const 1))
        (call $expect (i32.le_u (i32.load8_u (i32.const 0x408)) (i32.const 2)) (i32.const 2))
        (call $fail (i32.const 0))))

    ;; ---- clock ----
    (if (i32.eq (local.get $s) (i32.const 22))
      (then
        ;; run with --max-sleep-ms 50
        (call $sleep (i64.const 60000000) (i32.const 0x400))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x400)) (i32.const 1)) (i32.const 1))
        (call $expect (i32.gt_u (i32.load (i32.const 0x408)) (i32.const 0)) (i32.const 2))
        (call $expect (call $in_mem (i32.load (i32.const 0x404)) (i32.load (i32.const 0x408))) (i32.const 3))
        (call $sleep (i64.const 1000000) (i32.const 0x440))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x440))) (i32.const 4))
        (call $sleep (i64.const -1) (i32.const 0x480))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x480)) (i32.const 1)) (i32.const 5))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 23))
      (then
        ;; result<u64, string> areas: disc at 0, value at 8;
        ;; result<_, string>: disc at 0
        (call $start_timer (i32.const 0x400))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x400))) (i32.const 1))
        (local.set $h (i64.load (i32.const 0x408)))
        (call $read_timer (local.get $h) (i32.const 0x420))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x420))) (i32.const 2))
        (call $stop_timer (local.get $h) (i32.const 0x440))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x440))) (i32.const 3))
        (local.set $v (i64.load (i32.const 0x448)))
        (call $read_timer (local.get $h) (i32.const 0x460))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x460))) (i32.const 4))
        (call $expect (i64.eq (i64.load (i32.const 0x468)) (local.get $v)) (i32.const 5))
        (call $destroy_timer (local.get $h) (i32.const 0x480))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x480))) (i32.const 6))
        (call $destroy_timer (local.get $h) (i32.const 0x4a0))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x4a0)) (i32.const 1)) (i32.const 7))
        (call $expect (i32.gt_u (i32.load (i32.const 0x4a8)) (i32.const 0)) (i32.const 8))
        (call $read_timer (local.get $h) (i32.const 0x4c0))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x4c0)) (i32.const 1)) (i32.const 9))
        (call $read_timer (i64.const 12345) (i32.const 0x4e0))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x4e0)) (i32.const 1)) (i32.const 10))
        (call $stop_timer (i64.const 12345) (i32.const 0x500))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x500)) (i32.const 1)) (i32.const 11))
        (call $destroy_timer (i64.const 12345) (i32.const 0x520))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x520)) (i32.const 1)) (i32.const 12))
        (call $destroy_timer (i64.const 0) (i32.const 0x540))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x540)) (i32.const 1)) (i32.const 13))
        (call $read_timer (i64.const -1) (i32.const 0x560))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x560)) (i32.const 1)) (i32.const 14))
        ;; a stale handle stays dead when its slot is reused
        (call $start_timer (i32.const 0x580))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x580))) (i32.const 15))
        (local.set $h2 (i64.load (i32.const 0x588)))
        (call $expect (i64.ne (local.get $h2) (local.get $h)) (i32.const 16))
        (call $read_timer (local.get $h) (i32.const 0x5a0))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x5a0)) (i32.const 1)) (i32.const 17))
        (call $read_timer (local.get $h2) (i32.const 0x5c0))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x5c0))) (i32.const 18))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 24))
      (then
        ;; the number of live timers is bounded: start until refused
        (block $full
          (loop $more
            (call $start_timer (i32.const 0x400))
            (br_if $full (i32.load8_u (i32.const 0x400)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (call $expect (i32.lt_u (local.get $i) (i32.const 100000)) (i32.const 1))
            (br $more)))
        (call $expect (i32.gt_u (local.get $i) (i32.const 16)) (i32.const 2))
        ;; result<u64, string>: the error string at 8 (ptr) and 12 (len)
        (call $expect (i32.gt_u (i32.load (i32.const 0x40c)) (i32.const 0)) (i32.const 3))
        (call $fail (i32.const 0))))

    ;; ---- WASI: bad pointers are EFAULT, not traps ----
    (if (i32.eq (local.get $s) (i32.const 25))
      (then
        (call $expect (i32.eq (call $fd_write (i32.const 1) (i32.const 0xffffff00) (i32.const 1) (i32.const 0x300)) (i32.const 21)) (i32.const 1))
        (i32.store (i32.const 0x200) (i32.const 0x7fff0000))
        (i32.store (i32.const 0x204) (i32.const 4))
        (call $expect (i32.eq (call $fd_write (i32.const 1) (i32.const 0x200) (i32.const 1) (i32.const 0x300)) (i32.const 21)) (i32.const 2))
        (i32.store (i32.const 0x200) (i32.sub (call $msize) (i32.const 2)))
        (call $expect (i32.eq (call $fd_write (i32.const 1) (i32.const 0x200) (i32.const 1) (i32.const 0x300)) (i32.const 21)) (i32.const 3))
        (i32.store (i32.const 0x200) (i32.const 0x1e0))
        (i32.store (i32.const 0x204) (i32.const 3))
        (call $expect (i32.eq (call $fd_write (i32.const 5) (i32.const 0x200) (i32.const 1) (i32.const 0x300)) (i32.const 8)) (i32.const 4))
        (call $expect (i32.eq (call $fd_write (i32.const 0) (i32.const 0x200) (i32.const 1) (i32.const 0x300)) (i32.const 8)) (i32.const 5))
        (call $expect (i32.eq (call $path_open (i32.const 3) (i32.const 0) (i32.const 0x100) (i32.const 6) (i32.const 0)
                                               (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0x300)) (i32.const 8)) (i32.const 6))
        (call $expect (i32.ne (call $fd_read (i32.const 0) (i32.const 0x200) (i32.const 1) (i32.const 0x300)) (i32.const 0)) (i32.const 7))
        (call $expect (i32.ne (call $fd_write (i32.const 1) (i32.const 0x200) (i32.const 0x20000000) (i32.const 0x300)) (i32.const 0)) (i32.const 8))
        (call $expect (i32.eq (call $random_get (i32.const 0x7fff0000) (i32.const 16)) (i32.const 21)) (i32.const 9))
        (call $expect (i32.eq (call $clock_time_get (i32.const 0) (i64.const 1) (i32.sub (call $msize) (i32.const 4))) (i32.const 21)) (i32.const 10))
        (call $expect (i32.eq (call $args_sizes_get (i32.const 0xfffffffc) (i32.const 4)) (i32.const 21)) (i32.const 11))
        ;; and a good write still works: "ok\n", nwritten 3
        (i32.store (i32.const 0x300) (i32.const 0))
        (call $expect (i32.eqz (call $fd_write (i32.const 1) (i32.const 0x200) (i32.const 1) (i32.const 0x300))) (i32.const 12))
        (call $expect (i32.eq (i32.load (i32.const 0x300)) (i32.const 3)) (i32.const 13))
        (call $fail (i32.const 0))))

    ;; ---- list<record> lowering ----
    (if (i32.eq (local.get $s) (i32.const 26))
      (then
        (call $list_caps (i32.const 0x400))
        (call $verify_caps (i32.load (i32.const 0x400)) (i32.load (i32.const 0x404)))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 27))
      (then
        ;; a cabi_realloc that grows memory on every call
        (global.set $mode (i32.const 5))
        (call $list_caps (i32.const 0x400))
        (call $verify_caps (i32.load (i32.const 0x400)) (i32.load (i32.const 0x404)))
        (call $expect (i32.gt_u (memory.size) (i32.const 40)) (i32.const 20))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 33))
      (then
        ;; get-random-bytes through a cabi_realloc that grows memory
        (global.set $mode (i32.const 5))
        (call $random_bytes (i32.const 100000) (i32.const 0x400))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x400))) (i32.const 1))
        (call $expect (i32.eq (i32.load (i32.const 0x404)) (global.get $last)) (i32.const 2))
        (call $expect (i32.eq (i32.load (i32.const 0x408)) (i32.const 100000)) (i32.const 3))
        (call $expect (call $in_mem (global.get $last) (i32.const 100000)) (i32.const 4))
        (call $fail (i32.const 0))))

    ;; ---- re-entrant cabi_realloc: it calls the host while the host is
    ;; lowering a result.  The Component Model forbids leaving the instance
    ;; during lowering (may_leave), so a trap is right; a correct result is
    ;; acceptable; corrupt results or a host crash are not.
    (if (i32.eq (local.get $s) (i32.const 34))
      (then
        (global.set $mode (i32.const 6))
        (call $list_caps (i32.const 0x400))
        (global.set $mode (i32.const 0))
        (call $verify_caps (i32.load (i32.const 0x400)) (i32.load (i32.const 0x404)))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 35))
      (then
        ;; a first call leaves the host's per-call buffer in place; the second
        ;; needs a buffer larger than it
        (call $random_bytes (i32.const 16) (i32.const 0x400))
        (global.set $mode (i32.const 7))
        (call $random_bytes (i32.const 100000) (i32.const 0x440))
        (call $expect (i32.eqz (i32.load8_u (i32.const 0x440))) (i32.const 1))
        (call $expect (i32.eq (i32.load (i32.const 0x448)) (i32.const 100000)) (i32.const 2))
        (call $fail (i32.const 0))))
    (if (i32.eq (local.get $s) (i32.const 36))
      (then
        ;; run with --max-sleep-ms 0: no sleep is allowed
        (call $sleep (i64.const 1000000) (i32.const 0x400))
        (call $expect (i32.eq (i32.load8_u (i32.const 0x400)) (i32.const 1)) (i32.const 1))
        (call $fail (i32.const 0))))

    (call $fail (i32.const 98))))
