#!/usr/bin/env bash
# traps.sh - a trapping guest ends with status 134 and "trap (KIND)" on
# stderr, and the runtime itself is never killed by a signal; linear memory
# is bounded by --max-memory.
source "$(dirname "$0")/common.bash"

TRAPS=$(wat traps)

# trap_case SCENARIO KIND-REGEX DESCRIPTION
trap_case() {
  KIND=$2
  runh run --state-dir "$STATE" "$TRAPS" "$1"
  check "$3: exit 134, 'trap' and its kind on stderr, no signal" \
    eval 'trapped && err_has_re "^elastic-hal: trap \\(($KIND)[^)]*\\): _start" && out_empty'
}

trap_case 1 "out-of-bounds" "out-of-bounds load (address 0xfffffff0)"
trap_case 7 "out-of-bounds" "out-of-bounds store straddling the end of memory"
trap_case 8 "out-of-bounds" "load one byte past the end of memory"
trap_case 2 "unreachable" "unreachable"
trap_case 3 "integer divide by zero" "integer divide by zero"
trap_case 9 "integer overflow" "integer overflow (INT_MIN / -1)"
trap_case 10 "invalid conversion" "invalid conversion (NaN to i32)"
trap_case 4 "call stack exhausted" "stack exhaustion (unbounded recursion)"
trap_case 5 "indirect call" "call_indirect signature mismatch"
trap_case 6 "indirect call" "call_indirect through a null table slot"

# the runtime is in a sane state after a trap: the next run works
runh run --state-dir "$STATE" "$TRAPS" 12
check "after traps, the same artifact runs normally (memory.grow 16 pages under the default bound)" \
  eval 'rc_is 0 && err_empty'

# ---- memory bound ----
runh run --state-dir "$STATE" --max-memory 1 "$TRAPS" 11
check "--max-memory 1: memory.grow to 16 pages works, beyond it returns -1 (no trap)" \
  eval 'rc_is 0 && ! err_has trap'
runh run --state-dir "$STATE" --max-memory 0 "$TRAPS" 11
check "--max-memory 0 is a usage error (exit 2)" rc_is 2

BIG=$(wat bigmem)
runh run --state-dir "$STATE" --max-memory 1 "$BIG"
check "initial memory above --max-memory is refused at instantiation: non-zero exit, not a trap" \
  eval 'rc_not0 && ! rc_is 134 && ! err_has "trap ("'
check "the refusal says why (memory/pages and the limit)" \
  eval 'err_has_re "(memory|pages).*(limit|max)|(limit|max).*(memory|pages)"'
runh run --state-dir "$STATE" --max-memory 2 "$BIG"
check "the same module runs with --max-memory 2" rc_is 0

# ---- a trap in _initialize ends the guest before _start ----
IT=$(wat inittrap)
runh run --state-dir "$STATE" "$IT"
check "a trap in _initialize: exit 134, 'trap (integer divide by zero): _initialize', _start never runs" \
  eval 'trapped "integer divide by zero" && err_has "): _initialize"'

# ---- a trap in the module's start function (runs during instantiation) ----
# (fails while a trap during instantiation is reported as "cannot
# instantiate" with exit status 1; under ASan the instance's memory also leaks)
ST=$(wat starttrap)
runh run --state-dir "$STATE" "$ST"
check "a trap in the wasm start function is a guest trap: exit 134 and 'trap (unreachable'" \
  eval 'trapped unreachable && no_sanitizer'

# ---- --timeout: a guest that runs too long ends in the trap "interrupted" ----
timed() { # timed ARGS... : runh, and T = seconds it took
  local t0 t1
  t0=$(date +%s.%N)
  runh "$@"
  t1=$(date +%s.%N)
  T=$(python3 -c "print(round($t1 - $t0, 2))")
}
SPIN=$(wat_text spin '(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))')
runh run --state-dir "$STATE" --timeout 0.2 "$SPIN" # compile it once, outside the timing
timed run --state-dir "$STATE" --timeout 0.3 "$SPIN"
check "--timeout 0.3 ends a spinning guest: exit 134, 'trap (interrupted)', promptly ($T s)" \
  eval 'trapped interrupted && python3 -c "import sys; sys.exit(0 if $T < 5 else 1)"'
SLEEPY=$(wat_text sleepy '(module
  (import "elastic:clock/clock@0.1.0" "sleep" (func $sleep (param i64 i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $sleep (i64.const 8000000000) (i32.const 64))))')
runh run --state-dir "$STATE" --timeout 0.2 "$SLEEPY"
timed run --state-dir "$STATE" --timeout 0.3 "$SLEEPY"
check "--timeout cuts a clock.sleep of 8 s short and traps as it returns ($T s)" \
  eval 'trapped interrupted && python3 -c "import sys; sys.exit(0 if $T < 4 else 1)"'
SPINSTART=$(wat_text spinstart '(module (memory (export "memory") 1) (func $s (loop $l (br $l))) (start $s) (func (export "_start")))')
timed run --state-dir "$STATE" --timeout 0.3 "$SPINSTART"
check "--timeout covers the wasm start function ($T s)" eval 'trapped interrupted'
runh run --state-dir "$STATE" --timeout 0 "$SPIN"
check "--timeout 0 is a usage error (exit 2)" rc_is 2
runh run --state-dir "$STATE" --timeout 30 "$(wat echo)"
check "a guest that ends in time is not affected by --timeout" rc_is 0

finish
