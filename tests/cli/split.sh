#!/usr/bin/env bash
# split.sh - big modules compile in parts, in parallel (issue 11): the
# translated C is split (src/engine/wasm2c/split.c) and the parts' code
# behaves exactly as the whole file's; a shape the splitter cannot handle
# falls back to one cc, never to a failure.  ELASTIC_HAL_COMPILE_PART_LINES
# makes small test modules split.
source "$(dirname "$0")/common.bash"

# gen_wat FILE PASSIVE: 40 functions that call each other directly and
# through a table, loop over memory and branch; _start exits with a
# checksum.  PASSIVE=1 adds a passive data segment that a function copies
# in with memory.init (its data lives with the module's, not with the
# function: that part cannot compile alone, and the compile falls back).
gen_wat() {
  local f=$1 passive=$2 k i
  {
    echo '(module'
    echo ' (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))'
    echo ' (type $t (func (param i32) (result i32)))'
    echo ' (memory (export "memory") 1)'
    echo ' (table 40 funcref)'
    printf ' (elem (i32.const 0)'
    for ((k = 0; k < 40; k++)); do printf ' $f%d' "$k"; done
    echo ')'
    if ((passive)); then echo ' (data $d "split-test-data!")'; fi
    for ((k = 0; k < 40; k++)); do
      echo " (func \$f$k (type \$t) (param i32) (result i32) (local i32)"
      echo "  (local.set 1 (i32.add (local.get 0) (i32.const $k)))"
      for ((i = 0; i < 6; i++)); do
        echo "  (local.set 1 (i32.xor (i32.mul (local.get 1) (i32.const $((k * 7 + i * 13 + 3)))) (i32.const $i)))"
        echo "  (if (i32.gt_u (local.get 1) (i32.const $((k * 1000 + i)))) (then (local.set 1 (i32.rotl (local.get 1) (i32.const 5)))))"
        echo "  (i32.store (i32.const $((i * 4))) (local.get 1))"
      done
      if ((k > 0)); then echo "  (local.set 1 (i32.add (local.get 1) (call \$f$((k - 1)) (i32.and (local.get 0) (i32.const 1)))))"; fi
      if ((k > 1)); then echo "  (local.set 1 (i32.add (local.get 1) (call_indirect (type \$t) (i32.const 0) (i32.const $((k / 2))))))"; fi
      if ((passive && k == 20)); then
        echo '  (memory.init $d (i32.const 100) (i32.const 0) (i32.const 16))'
        echo '  (local.set 1 (i32.add (local.get 1) (i32.load8_u (i32.const 105))))'
      fi
      echo '  (local.get 1))'
    done
    echo ' (func (export "_start") (call $exit (i32.and (call $f39 (i32.const 3)) (i32.const 127)))))'
  } >"$f"
}

for passive in 0 1; do
  what=$([[ $passive == 1 ]] && echo "module with a passive data segment" || echo "plain module")
  gen_wat "$TMP/split$passive.wat" "$passive"
  wat2wasm "$TMP/split$passive.wat" -o "$TMP/split$passive.wasm"
  ELASTIC_HAL_COMPILE_PART_LINES=1000000000 runh run --progress --state-dir "$TMP/whole$passive" \
    "$TMP/split$passive.wasm"
  whole=$RC
  check "the $what, compiled whole, runs to its checksum (exit $whole)" \
    eval '[[ -s $TMP/split$passive.wasm && $whole =~ ^[0-9]+$ && ! -s $TMP/out ]] &&
      ! err_has parts && ! err_has error'
  ELASTIC_HAL_COMPILE_PART_LINES=100 runh run --progress --state-dir "$TMP/parts$passive" \
    "$TMP/split$passive.wasm"
  check "the $what, compiled in parts, computes the same checksum" eval 'rc_is "$whole"'
  if [[ $passive == 0 ]]; then
    check "... and it was compiled in parts (progress counts them)" \
      eval 'grep -qE "[0-9]+ of [0-9]+ parts done" "$TMP/err"'
  fi
done

# the hello example in parts: same output
ELASTIC_HAL_COMPILE_PART_LINES=1500 runh run --progress --state-dir "$TMP/hello-parts" "$GUESTS/hello.wasm"
check "the hello example compiled in parts runs as usual" \
  eval 'rc_is 0 && out_has "platform:" && grep -q "parts done" "$TMP/err"'

finish
