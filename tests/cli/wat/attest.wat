;; attest.wat - writes the evidence envelope of platform.attestation("nonce")
;; to stdout and exits 0; on an error result writes its message to stderr
;; and exits 1.  A bump allocator serves cabi_realloc.
(module
  (import "elastic:platform/platform@0.1.0" "attestation" (func $attestation (param i32 i32 i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 4)
  (global $heap (mut i32) (i32.const 0x1000))
  (data (i32.const 0x10) "nonce")
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32)
        (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (unreachable)))
    (local.get $p))
  ;; writes len bytes at ptr to fd, whole
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store (i32.const 0x40) (local.get $ptr))
        (i32.store (i32.const 0x44) (local.get $len))
        (br_if $done (call $fd_write (local.get $fd) (i32.const 0x40) (i32.const 1) (i32.const 0x48)))
        (br_if $done (i32.eqz (i32.load (i32.const 0x48))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.load (i32.const 0x48))))
        (local.set $len (i32.sub (local.get $len) (i32.load (i32.const 0x48))))
        (br $more))))
  (func (export "_start")
    ;; result<list<u8>, string> at 0x20: discriminant byte, then ptr and len
    (call $attestation (i32.const 0x10) (i32.const 5) (i32.const 0x20))
    (if (i32.load8_u (i32.const 0x20))
      (then
        (call $write (i32.const 2) (i32.load (i32.const 0x24)) (i32.load (i32.const 0x28)))
        (call $proc_exit (i32.const 1))))
    (call $write (i32.const 1) (i32.load (i32.const 0x24)) (i32.load (i32.const 0x28)))
    (call $proc_exit (i32.const 0))))
