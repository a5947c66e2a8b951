;; echo.wat - prints what a WASI command sees, then exits.
;;
;;   arg <argv[i]>     one line per argument (argv[0] included)
;;   env <environ[i]>  one line per environment variable
;;
;; Exit status: argv[1] read as a decimal number when it is one, else 0.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)

  ;; 0x00 counts, 0x40 iovecs, 0x60 nwritten, 0x100.. texts,
  ;; 0x1000 argv pointers, 0x2000 argv strings, 0x5000 environ pointers,
  ;; 0x6000 environ strings (up to 0x20000)
  (data (i32.const 0x100) "arg ")
  (data (i32.const 0x108) "env ")
  (data (i32.const 0x110) "\n")

  (func $strlen (param $p i32) (result i32)
    (local $q i32)
    (local.set $q (local.get $p))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $q) (local.get $p)))

  (func $line (param $prefix i32) (param $s i32)
    (i32.store (i32.const 0x40) (local.get $prefix))
    (i32.store (i32.const 0x44) (i32.const 4))
    (i32.store (i32.const 0x48) (local.get $s))
    (i32.store (i32.const 0x4c) (call $strlen (local.get $s)))
    (i32.store (i32.const 0x50) (i32.const 0x110))
    (i32.store (i32.const 0x54) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 0x40) (i32.const 3) (i32.const 0x60))))

  ;; decimal value of the NUL-terminated string at $p; -1 if not a number
  (func $atoi (param $p i32) (result i32)
    (local $n i32) (local $c i32)
    (if (i32.eqz (i32.load8_u (local.get $p))) (then (return (i32.const -1))))
    (block $done
      (loop $next
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eqz (local.get $c)))
        (if (i32.or (i32.lt_u (local.get $c) (i32.const 48)) (i32.gt_u (local.get $c) (i32.const 57)))
          (then (return (i32.const -1))))
        (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10))
                               (i32.sub (local.get $c) (i32.const 48))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $n))

  (func (export "_start")
    (local $i i32) (local $n i32) (local $code i32)
    (if (call $args_sizes_get (i32.const 0) (i32.const 4)) (then (call $proc_exit (i32.const 120))))
    (if (i32.gt_u (i32.load (i32.const 4)) (i32.const 0x3000)) (then (call $proc_exit (i32.const 121))))
    (if (call $args_get (i32.const 0x1000) (i32.const 0x2000)) (then (call $proc_exit (i32.const 122))))
    (local.set $n (i32.load (i32.const 0)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $line (i32.const 0x100) (i32.load (i32.add (i32.const 0x1000) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (call $environ_sizes_get (i32.const 8) (i32.const 12)) (then (call $proc_exit (i32.const 123))))
    (if (i32.gt_u (i32.load (i32.const 12)) (i32.const 0x19000)) (then (call $proc_exit (i32.const 124))))
    (if (call $environ_get (i32.const 0x5000) (i32.const 0x6000)) (then (call $proc_exit (i32.const 125))))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 8))))
        (call $line (i32.const 0x108) (i32.load (i32.add (i32.const 0x5000) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.ge_u (local.get $n) (i32.const 2))
      (then
        (local.set $code (call $atoi (i32.load (i32.const 0x1004))))
        (if (i32.ge_s (local.get $code) (i32.const 0)) (then (call $proc_exit (local.get $code))))))))
