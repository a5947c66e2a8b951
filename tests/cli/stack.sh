#!/usr/bin/env bash
# stack.sh - a guest that has used up nearly all of the native stack and
# then calls deep host code (SQLite, OpenSSL signing, attestation) ends in a
# clean trap or a finished call: never a crash, never a hang (issue 7,
# section 2).  Host code is never entered with less than the engine's
# reserve left, and a fault inside host code is never taken for a guest trap.
#
# The sweep: find the depth D at which the guest's own recursion exhausts
# the stack, then for each host call the depth where it stops fitting, and
# run it around there.
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
lo=10
hi=1000
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
check "the guest's own recursion ends in a trap (depth $D)" eval '((D > 100))'

# Each host call: bisect for the depth T where it stops finishing (from
# there on the engine's reserve check traps it, or the guest's own frames
# run out), then run it at 24 depths around T, where a host call starts with
# the least stack it can be given.  Every run must finish or trap cleanly.
outcome() { # outcome DEPTH OP : done | trap | bad
  runh run --state-dir "$S" "$G" "$1" "$2"
  if rc_is 0 && out_has done; then
    echo done
  elif rc_is 134 && err_has "call stack exhausted" && no_sanitizer; then
    echo trap
  else
    echo "bad: rc $RC: $(head -c 300 "$TMP/err" | tr '\n' ' ')"
  fi
}
step=$((D / 2000 > 0 ? D / 2000 : 1))
for op in storage crypto attest; do
  bad=()
  lo=0
  hi=$D
  while ((hi - lo > 1)); do
    mid=$(((lo + hi) / 2))
    r=$(outcome "$mid" "$op")
    case $r in
      done) lo=$mid ;;
      trap) hi=$mid ;;
      *) bad+=("depth $mid: $r"); break ;;
    esac
  done
  done_n=0
  trap_n=0
  for i in $(seq -12 11); do
    depth=$((hi + i * step))
    ((depth < 0)) && continue
    r=$(outcome "$depth" "$op")
    case $r in
      done) done_n=$((done_n + 1)) ;;
      trap) trap_n=$((trap_n + 1)) ;;
      *) bad+=("depth $depth: $r") ;;
    esac
  done
  echo "# $op: stops finishing at depth $hi of $D"
  if ((${#bad[@]} == 0 && done_n > 0 && trap_n > 0)); then
    ok "$op at 24 depths around where it stops fitting: $done_n finished, $trap_n trapped cleanly, no crash or hang"
  else
    not_ok "$op at 24 depths around where it stops fitting: only clean traps and finished calls" \
      "$done_n finished, $trap_n trapped" "${bad[@]}"
  fi
done

finish
