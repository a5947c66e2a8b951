#!/usr/bin/env bash
# sqlite.sh - real SQLite, built for wasm32-wasi from the amalgamation an npm
# package ships (tests/sqlite.cmake), on a sealed directory: its own
# operations, a database that survives restarts, and writers killed with
# SIGKILL mid-transaction, then PRAGMA integrity_check and every
# transaction whole or absent.
source "$(dirname "$0")/common.bash"

G=$GUESTS/sqlite_guest.wasm
S=$TMP/st
sq() { runh run --state-dir "$S" --workload sqlite --dir /data "$G" "$@"; }

if [[ ! -f $G ]]; then
  echo "ok 1 - SQLite on a sealed directory # SKIP no sqlite_guest.wasm (npm ci --ignore-scripts)"
  echo "1..1"
  exit 0
fi

# compiled once into the state directory's cache (optimized: no background
# upgrade then competes with the test), outside runh's time bound
if ! "$EHAL" compile --cache --state-dir "$S" "$G" >"$TMP/out" 2>"$TMP/err"; then
  not_ok "compile the SQLite guest" "$(head -c 600 "$TMP/err")"
fi
sq /data/app.db insert 20000 1000
check "SQLite inserts 20000 rows into a database in a sealed directory" \
  eval 'rc_is 0 && out_has "inserted 20000 rows" && no_sanitizer'
sq /data/app.db check
check "the next process finds them: integrity ok, 20 transactions whole" \
  eval 'rc_is 0 && out_has "integrity ok" && out_has "rows 20000" && out_has "txns 20 complete"'
sq /data/app.db sql "CREATE INDEX t_txn ON t(txn); SELECT count(*) FROM t WHERE txn = 7;"
check "an index, and a query through it" eval 'rc_is 0 && out_has 1000'
runh run --state-dir "$S" --workload sqlite --dir /data "$GUESTS/fs_guest.wasm" ls /data
check "the directory holds the database and no journal once idle" \
  eval 'rc_is 0 && out_has app.db && ! out_has app.db-journal'

# kill -9 mid-transaction, then check (the database made first, so that a
# kill before the first commit still leaves one to check)
sq /data/crash.db crashloop 50 1
check "a database for the crash runs" eval 'rc_is 0 && out_has "committed 1"'
crash_ok=0 runs=6 last=""
for i in $(seq 1 $runs); do
  "$EHAL" run --state-dir "$S" --workload sqlite --dir /data "$G" /data/crash.db crashloop 50 \
    >"$TMP/cout" 2>"$TMP/cerr" &
  pid=$!
  sleep "0.$((RANDOM % 8 + 2))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  committed=$(sed -n 's/^committed //p' "$TMP/cout" | tail -n 1)
  sq /data/crash.db check
  lt=$(sed -n 's/^last txn //p' "$TMP/out")
  if rc_is 0 && out_has "integrity ok" && ((${lt:-0} >= ${committed:-0})); then
    crash_ok=$((crash_ok + 1))
    last="$last ${lt:-0}"
  else
    not_ok "SQLite killed mid-transaction ($i): check" "$(last_diag)" "committed: $committed"
  fi
done
check "$crash_ok of $runs SQLite writers killed with SIGKILL: intact, every acknowledged commit there (last txns:$last)" \
  test "$crash_ok" = "$runs"

finish
