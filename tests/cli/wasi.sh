#!/usr/bin/env bash
# wasi.sh - WASI preview 1 beyond args, clocks and stdout (issue 13): a
# function imported twice, poll_oneoff (so wasi-libc's sleep works, within
# the sleep bound), and the errno each function owes for a descriptor that
# is not what it needs.  The guest is wasi-libc's own code calling in.
source "$(dirname "$0")/common.bash"

mkdir -m 700 -p "$STATE"
G=$GUESTS/wasi_guest.wasm

w=$(wat twice) || exit 1
runh run --state-dir "$STATE" "$w"
check "a module importing the same function twice runs, each import resolved" \
  eval 'rc_is 0 && [[ $(cat "$TMP/out") == $'"'"'one\ntwo'"'"' ]]'

runh run --state-dir "$STATE" --max-sleep-ms 2000 "$G" sleep:120 sleep:5000
ms=$(awk '/^slept 120 /{print $3}' "$TMP/out")
check "nanosleep (poll_oneoff on a clock) sleeps: 120 ms took ${ms:-?} ms" \
  eval '[[ -n $ms ]] && ((ms >= 115 && ms < 1000))'
check "a sleep past the workload's bound is refused (ENOTSUP), not cut short" \
  eval 'rc_is 0 && out_has "sleep error 58"'

runh run --state-dir "$STATE" "$G" poll absolute
if rc_is 0 && out_has "poll 0 2 at-once" && out_has "event 1 2 0" && out_has "event 2 1 8" &&
  out_has "poll 0 1 waited" && out_has "event 4 0 0"; then
  ok "poll_oneoff: stdout writable at once, stdin no descriptor (EBADF), an absolute deadline waited for"
else not_ok "poll_oneoff" "$(last_diag)"; fi

runh run --state-dir "$STATE" "$G" sock:1 sock:7 path:0 path:5
if rc_is 0 && out_has "sock 1 57" && out_has "sock 7 8" && out_has "path 0 54" && out_has "path 5 8"; then
  ok "sockets and paths: stdio is not a socket (ENOTSOCK) nor a directory (ENOTDIR); other fds EBADF"
else not_ok "WASI errnos" "$(last_diag)"; fi

runh run --state-dir "$STATE" --timeout 0.3 --max-sleep-ms 5000 "$G" sleep:3000
check "a sleep ends when the instance is interrupted (--timeout)" \
  eval '! out_has "slept 3000"'

finish
