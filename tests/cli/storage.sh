#!/usr/bin/env bash
# storage.sh - object storage through `elastic-hal run` (a guest per
# operation, so every check crosses a process restart), tampering with the
# database file using the sqlite3 command, two workloads at once, and
# `elastic-hal storage list`.
source "$(dirname "$0")/common.bash"

G=$GUESTS/storage_guest.wasm
S=$TMP/st
# sg WORKLOAD ARGS... : run the storage guest as WORKLOAD
sg() {
  local w=$1
  shift
  runh run --state-dir "$S" --workload "$w" "$G" "$@"
}
db_of() { # db_of WORKLOAD [STATE]
  echo "${2:-$S}/storage/w-$(printf %s "$1" | sha256sum | cut -c1-32).db"
}
failed_cleanly() { # the guest's "error: ..." and exit 1, nothing on stdout
  rc_is 1 && err_has "error: $1" && out_empty && no_sanitizer
}

if [[ ! -f $G ]]; then
  echo "not ok 1 - storage guest is built at $G"
  exit 1
fi

# ---- the command ----
runh storage --help
check "storage --help exits 0 and shows list" eval 'rc_is 0 && out_has "Usage:" && out_has "storage list"'
runh storage
check "storage without a command: exit 2" rc_is 2
runh storage frobnicate
check "storage with an unknown command: exit 2 naming it" eval 'rc_is 2 && err_has frobnicate'
runh storage list --bogus
check "storage list with an unknown option: exit 2" rc_is 2
runh storage list --state-dir "$TMP/empty"
check "storage list of an empty state directory: exit 0, no containers" \
  eval 'rc_is 0 && out_has "no containers"'

# ---- persistence across processes ----
sg app create box
check "create-container in one run" eval 'rc_is 0 && out_has "created box"'
sg app create box
check "create-container of an existing name fails (already exists)" failed_cleanly "already exists"
sg app open nosuch
check "open-container of a name never created fails (not found)" failed_cleanly "not found"
sg app put box greeting "hello, storage" text/plain
check "store-object-with-type in a second run" eval 'rc_is 0 && out_has "stored greeting version 1"'
sg app get box greeting
check "a third run reads it back" eval 'rc_is 0 && [[ $(cat "$TMP/out") == "hello, storage" ]]'
sg app meta box greeting
check "metadata survives too (size, content type)" \
  eval 'rc_is 0 && out_has "size 14 " && out_has "type text/plain"'
sg app fill box 200 0
check "a guest stores 200 objects of varied sizes" eval 'rc_is 0 && out_has "filled 200"'
sg app check box 200
check "restarted, it reads all 200 back intact" eval 'rc_is 0 && out_has "checked 200"'
sg app version box
check "the container version counts every change (1 + 200)" eval 'rc_is 0 && [[ $(cat "$TMP/out") == 201 ]]'
sg app page box 64
check "list-objects-with-metadata pages through 201 objects 64 at a time" \
  eval 'rc_is 0 && out_has "pages 4" && [[ $(grep -c " version " "$TMP/out") == 201 ]]'

# ---- the workload name is the namespace, not the code ----
# A new version of the workload (different code, so a different hash and a
# fresh compile) keeps its data.
cp "$G" "$TMP/app-v2.wasm"
printf '\x00\x09\x08version2' >>"$TMP/app-v2.wasm" # a custom section: new module hash
runh run --state-dir "$S" --workload app "$TMP/app-v2.wasm" get box greeting
check "a new version of the workload (new code hash) reads the old version's data" \
  eval 'rc_is 0 && [[ $(cat "$TMP/out") == "hello, storage" ]]'
sg other open box
check "another workload cannot open app's container (not found)" failed_cleanly "not found"
sg other create box
check "... and its own 'box' is a different, empty container" eval 'rc_is 0'
sg other list box
check "... which lists nothing" eval 'rc_is 0 && out_empty'
runh run --state-dir "$S" "$G" put box k v
check "without --workload the file name is the workload (storage_guest)" \
  eval 'rc_is 0 && [[ -f $(db_of storage_guest) ]]'

# ---- tampering with the real database file (sqlite3 command) ----
DB=$(db_of app)
sq() { sqlite3 -cmd ".timeout 5000" "$DB" "$@" >/dev/null 2>"$TMP/sq.err"; }
BOXQ="container=(SELECT id FROM containers WHERE name='box')"
GREET="$BOXQ AND size=14"
if sq "UPDATE objects SET data=zeroblob(length(data)) WHERE $GREET"; then
  sg app get box greeting
  check "tamper (sqlite3): ciphertext overwritten -> integrity error, no data" failed_cleanly "integrity error"
else
  not_ok "tamper (sqlite3): ciphertext overwritten" "$(cat "$TMP/sq.err")"
fi
sg app get box k1
check "... other objects of the container still read" eval 'rc_is 0 && ! out_empty'
sg app del box greeting
sg app put box greeting "second" text/plain
sg app put box greeting "third" text/plain
sq "CREATE TABLE saved AS SELECT * FROM objects WHERE $BOXQ AND size=5"
sg app put box greeting "fourth" text/plain
sq "UPDATE objects SET (version,size,created_at,hdr,dnonce,dtag,data)=(SELECT version,size,created_at,hdr,dnonce,dtag,data FROM saved) WHERE $BOXQ AND size=6"
sg app get box greeting
check "tamper (sqlite3): one object rolled back to its older version -> integrity error" \
  failed_cleanly "integrity error"
sg app list box
check "... and the container's listing refuses too" failed_cleanly "integrity error"
sg app delc box
check "the workload can still delete the tampered container" eval 'rc_is 0 && out_has "deleted box"'
sg app open box
check "... after which it is gone" failed_cleanly "not found"

sg app fill box2 3 100
sq "UPDATE objects SET data=substr(data,1,50) WHERE size=100 AND $(echo "$BOXQ" | sed s/box/box2/)"
sg app get box2 k0
check "tamper (sqlite3): ciphertext truncated -> integrity error" failed_cleanly "integrity error"
sg app fill box3 2 100
B3=$(echo "$BOXQ" | sed s/box/box3/)
sq "CREATE TEMP TABLE sw AS SELECT id, data FROM objects WHERE $B3;
    UPDATE objects SET data=(SELECT data FROM sw WHERE sw.id<>objects.id) WHERE $B3"
sg app get box3 k0
check "tamper (sqlite3): ciphertexts swapped between two objects -> integrity error for one" \
  failed_cleanly "integrity error"
sg app get box3 k1
check "... and for the other" failed_cleanly "integrity error"

# ---- two workloads at once (and two instances of one) ----
C=$TMP/conc
mkdir -p "$C"
for w in alpha beta; do
  for part in 1 2; do
    "$EHAL" run --state-dir "$S" --workload "$w" "$G" fill "c$part" 150 0 \
      >"$C/$w$part.out" 2>"$C/$w$part.err" &
  done
done
# two instances of the same workload in the same container
"$EHAL" run --state-dir "$S" --workload alpha "$G" fill shared 120 64 >"$C/s1.out" 2>"$C/s1.err" &
"$EHAL" run --state-dir "$S" --workload alpha "$G" fill shared 120 64 >"$C/s2.out" 2>"$C/s2.err" &
wait
bad=0
for f in "$C"/*.out; do grep -q "^filled" "$f" || bad=$((bad + 1)); done
if ((bad == 0)); then ok "two workloads (and two instances of one) store concurrently"; else
  not_ok "two workloads (and two instances of one) store concurrently" "$(head -c 600 "$C"/*.err)"
fi
allgood=1
for w in alpha beta; do
  for part in 1 2; do
    sg "$w" check "c$part" 150
    rc_is 0 && out_has "checked 150" || allgood=0
  done
done
sg alpha check shared 120
rc_is 0 || allgood=0
check "... and everything each stored reads back intact" eval '((allgood))'
sg beta open shared
check "beta cannot open alpha's container" failed_cleanly "not found"

# ---- storage list, for operators ----
runh storage list --state-dir "$S"
cp "$TMP/out" "$TMP/list.txt"
check "storage list exits 0" rc_is 0
check "storage list shows each workload's containers with counts and sizes" \
  eval 'grep -qE "^alpha +c1 +150 " "$TMP/list.txt" && grep -qE "^beta +c2 +150 " "$TMP/list.txt" && grep -qE "^other +box +0 +0 " "$TMP/list.txt"'
check "storage list shows no object key (they are sealed)" \
  eval '! grep -q greeting "$TMP/list.txt" && ! grep -qE "\bk1\b" "$TMP/list.txt"'
runh storage list --state-dir "$S" --json
cp "$TMP/out" "$TMP/list.json"
PYLIST='import json, sys
d = json.load(open(sys.argv[1]))
rows = {(c["workload"], c["container"]): c for c in d["containers"]}
a = rows[("alpha", "shared")]
assert a["objects"] == 120 and a["bytes"] == 120 * 64, a
assert a["stored_bytes"] > a["bytes"], a
assert rows[("other", "box")]["objects"] == 0
assert rows[("app", "box2")]["keyed"] is False
assert d["total"]["containers"] == len(d["containers"])
assert all(c["version"] >= c["objects"] for c in d["containers"])'
check "storage list --json: counts, plaintext and stored bytes per container" \
  eval 'rc_is 0 && python3 -c "$PYLIST" "$TMP/list.json"'
runh storage list --state-dir "$S" --workload beta
check "storage list --workload shows only that workload" \
  eval 'rc_is 0 && out_has "beta" && ! out_has "alpha"'

# ---- capabilities ----
runh info
check "info lists storage as supported" eval 'grep -qE "^storage +supported" "$TMP/out"'
check "info lists every storage function as supported, load-key-context included" \
  eval '! grep -qE "^storage\.[a-z-]+ +unsupported" "$TMP/out" && grep -qE "^storage.load-key-context +supported" "$TMP/out"'

finish
