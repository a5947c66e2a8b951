#!/usr/bin/env bash
# stack.sh - a guest that has used up nearly all of the native stack and
# then calls deep host code (SQLite, OpenSSL signing, attestation) ends in a
# clean trap or a finished call: never a crash, never a hang (issue 7,
# section 2).  Host code is never entered with less than the engine's
# reserve left, and a fault inside host code is never taken for a guest trap.
#
# The sweep: find the depth D at which the guest's own recursion exhausts
# the stack, then run each host call at depths spread over the last part of
# the stack below D, where the reserve check decides.
source "$(dirname "$0")/common.bash"

G=$GUESTS/deep_guest.wasm
S=$TMP/deep-state
runh run --state-dir "$S" "$G" 10 none
check "the deep guest runs" eval 'rc_is 0 && out_has done'

# exhausts: does recursion to depth $1 (no host call) trap?
exhausts() {
  runh run --state-dir "$S" "$G" "$1" none
  if rc_is 134 && err_has "call stack exhausted"; then return 0; fi
  if rc_is 0; then return 1; fi
  echo "# unexpected result at depth $1: rc $RC $(head -c 200 "$TMP/err")"
  return 2
}
lo=1000
hi=2000
while exhausts "$hi"; [[ $? == 1 ]]; do
  lo=$hi
  hi=$((hi * 2))
  ((hi > 50000000)) && break
done
while ((hi - lo > lo / 200 + 1)); do
  mid=$(((lo + hi) / 2))
  if exhausts "$mid"; then hi=$mid; else lo=$mid; fi
done
D=$hi
echo "# the guest's own recursion exhausts the stack at depth ~$D"
check "the guest's own recursion ends in a trap (depth $D)" eval '((D > 1000))'

# The reserve is a fixed number of bytes; sweep the last 40% of the
# depth, which holds it with room on both sides.
for op in storage crypto attest; do
  bad=()
  done_n=0
  trap_n=0
  for i in $(seq 0 23); do
    depth=$((D - D * 40 * i / 100 / 23))
    runh run --state-dir "$S" "$G" "$depth" "$op"
    if rc_is 0 && out_has done; then
      done_n=$((done_n + 1))
    elif rc_is 134 && err_has "call stack exhausted" && no_sanitizer; then
      trap_n=$((trap_n + 1))
    else
      bad+=("depth $depth: rc $RC: $(head -c 300 "$TMP/err")")
    fi
  done
  if ((${#bad[@]} == 0 && done_n > 0)); then
    ok "$op at 24 depths up to the stack's edge: $done_n finished, $trap_n trapped cleanly, no crash or hang"
  else
    not_ok "$op at 24 depths up to the stack's edge: only clean traps and finished calls" \
      "$done_n finished, $trap_n trapped" "${bad[@]}"
  fi
done

finish
