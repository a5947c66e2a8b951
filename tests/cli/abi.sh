#!/usr/bin/env bash
# abi.sh - hostile canonical-ABI inputs through the real generated glue, and
# WASI's answers to bad pointers.  The guest (wat/abi.wat) picks a scenario
# from argv[1]; see that file for what each one does.
source "$(dirname "$0")/common.bash"

ABI=$(wat abi)

# abi_run SCENARIO [RUN-OPTIONS...] : run one scenario, with the CLI $RUN
# names: runh, or runt (the test build) for the scenarios that look for the
# test-only interface "unimplemented" (`RUN=runt pass_case ...`).
RUN=runh
abi_run() {
  local s=$1
  shift
  "$RUN" run --state-dir "$STATE" "$@" "$ABI" "$s"
}

# trap_case SCENARIO KIND DESCRIPTION : the guest must end in a trap.
trap_case() {
  KIND=$2
  abi_run "$1"
  check "$3 -> trap ($2), exit 134" eval 'trapped "$KIND" && out_empty'
}

# pass_case SCENARIO DESCRIPTION [RUN-OPTIONS...] : every check in the guest passes.
pass_case() {
  local s=$1 d=$2
  shift 2
  abi_run "$s" "$@"
  check "$d" eval 'rc_is 0 && ! err_has "trap"'
}

# ---- strings: has-capability(string) -> bool ----
trap_case 1 abi "has-capability with a string pointer out of bounds (0x7fff0000)"
trap_case 2 abi "has-capability with a string straddling the end of memory"
trap_case 31 abi "has-capability with an empty string past the end of memory"
trap_case 3 abi "has-capability with length 0xffffffff"
trap_case 4 abi "has-capability with invalid UTF-8 (C3 28)"
trap_case 5 abi "has-capability with overlong UTF-8 (C0 80)"
trap_case 6 abi "has-capability with a UTF-8 surrogate (ED A0 80)"
trap_case 7 abi "has-capability with UTF-8 above U+10FFFF (F4 90 80 80)"
trap_case 8 abi "has-capability with a truncated UTF-8 sequence (E2 82)"
pass_case 9 "has-capability of valid multi-byte UTF-8 naming nothing returns 0, no trap"
RUN=runt pass_case 10 "has-capability: random 1, clock 1, unimplemented 0 (test build), platform.attestation 1, 'random\\0' 0, RANDOM 0, '' 0; a string ending at the last byte of memory works"

# ---- return areas ----
trap_case 11 abi "get-platform-info with a misaligned return pointer (1)"
trap_case 12 abi "get-platform-info with a return area past the end of memory"
trap_case 28 abi "get-random-bytes with a misaligned return pointer (2, needs 4)"
trap_case 29 abi "clock.resolution with a return pointer aligned 4, not 8"
trap_case 30 abi "get-random-bytes with a return pointer out of bounds"
abi_run 13
platform=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["platform"])' <("$EHAL" info --json) 2>/dev/null)
check "get-platform-info into a return area ending at the end of memory: valid record, platform as 'info' reports ($platform)" \
  eval 'rc_is 0 && [[ -n $platform ]] && grep -qx "platform=$platform" "$TMP/out"'

# ---- cabi_realloc as an adversary ----
trap_case 14 abi "get-random-bytes(16) with cabi_realloc returning a pointer 8 bytes before the end"
trap_case 15 abi "get-random-bytes(16) with cabi_realloc returning 0xfffffff0"
trap_case 16 abi "list-capabilities with cabi_realloc returning a misaligned pointer for the record list"
trap_case 17 "unreachable" "get-random-bytes with a cabi_realloc that executes unreachable"
# A cabi_realloc that calls back into the host while the host lowers a
# result: the Component Model forbids it (CanonicalABI.md: lower_flat_values
# clears may_leave, canon_lower traps when it is clear), so the guest must
# end in a trap, without the host reading memory it has already reused or
# freed.  (Both fail while a nested host call's ehal_call_begin resets and
# frees the per-call arena that the outer call is still lowering from: 34
# reads overwritten staging data, a UBSan error under ASan; 35 reads a freed
# buffer, a heap-use-after-free under ASan and a silent success otherwise.)
trap_case 34 abi "list-capabilities with a cabi_realloc that calls get-random-bytes (re-entry during lowering)"
trap_case 35 abi "get-random-bytes(100000) with a cabi_realloc that calls has-capability (re-entry during lowering)"
RUN=runt pass_case 27 "list-capabilities through a cabi_realloc that grows memory on every call: all records valid"
pass_case 33 "get-random-bytes(100000) through a cabi_realloc that grows memory: lowered at its pointer"

# ---- random ----
abi_run 18
check "get-random-bytes(0x7fffffff) returns the error variant with a message, no trap, no huge realloc" \
  eval 'rc_is 0 && grep -qE "^error=.+" "$TMP/out" && ! err_has trap'
pass_case 19 "get-random-bytes(32): ok, 32 bytes at the pointer cabi_realloc gave; fresh bytes each call; 0 and 64 KiB work"
RUN=runt pass_case 26 "list-capabilities: aligned list<record>, strings in bounds, random supported, unimplemented not (test build)"
pass_case 20 "reseed with 70000 bytes: error result; 16 bytes and 0 bytes: ok"
trap_case 21 abi "reseed with a list out of bounds"
pass_case 32 "get-entropy-info: ok with a valid entropy-source"

# ---- clock ----
pass_case 22 "sleep beyond --max-sleep-ms 50 (60 ms, u64 max): error result; 1 ms: ok" --max-sleep-ms 50
# (fails while a configured maximum of 0 is taken as "use the 10 s default")
pass_case 36 "sleep under --max-sleep-ms 0: even 1 ms gets an error result" --max-sleep-ms 0
pass_case 23 "timers: start/read/stop/destroy work; destroy twice, forged (12345, 0, ~0) and stale handles get errors"
pass_case 24 "timers: starting more than the per-workload limit gets an error result, not a trap"

# ---- WASI preview 1 ----
abi_run 25
check "WASI: out-of-bounds iovecs/buffers get EFAULT (21), fd 5 and stdin writes EBADF (8), path_open on fd 3 (no preopens) EBADF (8); no trap" \
  eval 'rc_is 0 && ! err_has trap'
check "WASI: after all that, a good fd_write prints exactly 'ok'" eval '[[ $(cat "$TMP/out") == ok ]]'

finish
