#!/usr/bin/env bash
# filesystem.sh - sealed directories (`elastic-hal run --dir`): an unmodified
# POSIX program's every call and error case (tests/guests/fs_guest.c),
# persistence across processes, nothing readable on disk, tampering, quotas,
# workloads kept apart, the options' errors, and writers killed with SIGKILL
# at random points.
source "$(dirname "$0")/common.bash"

G=$GUESTS/fs_guest.wasm
S=$TMP/st
fsg() { # fsg WORKLOAD DIR ARGS... : run the guest with DIR sealed
  local w=$1 d=$2
  shift 2
  runh run --state-dir "$S" --workload "$w" --dir "$d" "$G" "$@"
}
db_of() { echo "$S/storage/w-$(printf %s "$1" | sha256sum | cut -c1-32).db"; }

CAPS=$(wat caps)
if [[ ! -f $G ]]; then
  echo "not ok 1 - the filesystem guest is built at $G"
  exit 1
fi

# ---- every call ----
fsg conf /data conformance /data
n_ok=$(grep -c '^ok ' "$TMP/out")
n_bad=$(grep -c '^not ok ' "$TMP/out")
check "conformance: $n_ok of the guest's checks pass, none fails" \
  eval 'rc_is 0 && ((n_ok >= 50 && n_bad == 0)) && no_sanitizer'
((n_bad > 0)) && grep '^not ok' "$TMP/out" | sed 's/^/#   /'

# ---- persistence, and what the disk shows ----
marker="plaintext-marker-$RANDOM$RANDOM"
fsg keep /data put /data/secret-name.txt "$marker"
check "a file written in one process..." eval 'rc_is 0 && no_sanitizer'
fsg keep /data cat /data/secret-name.txt
check "... reads back in the next" eval 'rc_is 0 && out_has "$marker"'
fsg keep /data ls /data
check "and is listed" eval 'rc_is 0 && out_has secret-name.txt'
hits=$(grep -rl -e "$marker" -e "secret-name" "$S" 2>/dev/null | wc -l)
check "neither its contents nor its name are anywhere in the state directory" test "$hits" = 0
fsg other /data cat /data/secret-name.txt
check "another workload's /data is its own: the file is not there" \
  eval 'rc_is 1 && ! out_has "$marker"'
fsg keep / cat /data/secret-name.txt
check "--dir / is another volume of the workload (not /data's files)" eval 'rc_is 1'
fsg keep / put /top.txt whole-tree
fsg keep / cat /top.txt
check "--dir / serves the whole tree" eval 'rc_is 0 && out_has whole-tree'

# ---- the options ----
runh run --state-dir "$S" --dir data "$G" ls /data
check "--dir with a relative path: exit 1 naming it" eval 'rc_is 1 && err_has "absolute guest path"'
runh run --state-dir "$S" --dir /a/../b "$G" ls /b
check "--dir with '..': refused" eval 'rc_is 1 && err_has "absolute guest path"'
runh run --state-dir "$S" --dir /d --dir /d "$G" ls /d
check "--dir twice with one path: refused" eval 'rc_is 1 && err_has "given twice"'
runh run --help
check "run --help describes --dir" eval 'rc_is 0 && out_has "--dir GUEST_PATH"'
runh storage list --state-dir "$S"
check "storage list shows sealed directories by guest path" \
  eval 'rc_is 0 && out_has "sealed:/data" && ! out_has "?fs:"'

# ---- storage import / export ----
mkdir -p "$TMP/seed/sub/deeper" "$TMP/seed/empty"
printf 'seeded %s\n' "$marker" >"$TMP/seed/config.txt"
head -c 200000 /dev/urandom >"$TMP/seed/sub/deeper/blob.bin"
ln -s /etc/passwd "$TMP/seed/link"
runh storage import "$TMP/seed" --workload seeded --dir /data --state-dir "$S"
check "storage import seals a host tree, skipping a symbolic link with a warning" \
  eval 'rc_is 0 && out_has "imported 2 file(s), 3 directories" && err_has "skipped" && no_sanitizer'
fsg seeded /data cat /data/config.txt
check "the workload reads what was imported" eval 'rc_is 0 && out_has "seeded $marker"'
fsg seeded /data put /data/sub/written.txt by-the-guest
runh storage export "$TMP/exported" --workload seeded --dir /data --state-dir "$S"
check "storage export writes it back out, with what the guest wrote" \
  eval 'rc_is 0 && cmp -s "$TMP/seed/sub/deeper/blob.bin" "$TMP/exported/sub/deeper/blob.bin" &&
        grep -q by-the-guest "$TMP/exported/sub/written.txt" && [[ -d $TMP/exported/empty && ! -e $TMP/exported/link ]]'
check "exported files are 0600, directories 0700" \
  eval '[[ $(stat -c %a "$TMP/exported/config.txt") == 600 && $(stat -c %a "$TMP/exported/sub") == 700 ]]'
runh storage export "$TMP/exported" --workload seeded --dir /data --state-dir "$S"
check "export into a non-empty directory is refused" eval 'rc_is 1 && err_has "not empty"'
runh storage export "$TMP/out3" --workload seeded --dir /nothing --state-dir "$S"
check "export of a sealed directory that does not exist: exit 1, nothing made" \
  eval 'rc_is 1 && err_has "no such sealed directory" && [[ ! -e $TMP/out3 ]]'
runh storage import "$TMP/seed" --workload seeded --state-dir "$S"
check "import without --dir: usage, exit 2" rc_is 2

# ---- plain host directories (--dir-host): unprotected, read-only by default ----
H=$TMP/hostdir
mkdir -p "$H/in/sub" "$H/rw" "$H/outside"
echo "host text" >"$H/in/a.txt"
echo "secret of the host" >"$H/outside/secret.txt"
ln -s "$H/outside/secret.txt" "$H/in/link"
runh run --state-dir "$S" --dir-host "$H/in:/in" "$G" cat /in/a.txt
check "--dir-host maps a host directory: the guest reads its file" \
  eval 'rc_is 0 && out_has "host text" && no_sanitizer'
runh run --state-dir "$S" --dir-host "$H/in:/in" "$G" put /in/new.txt x
check "read-only by default: a write fails, nothing appears on the host" \
  eval 'rc_is 1 && [[ ! -e $H/in/new.txt ]]'
runh run --state-dir "$S" --dir-host "$H/in:/in" "$G" cat /in/link
check "a symbolic link in it is never followed" eval 'rc_is 1 && ! out_has "secret of the host"'
runh run --state-dir "$S" --dir-host "$H/in:/in" "$G" cat /in/../outside/secret.txt
check "'..' never leaves it" eval 'rc_is 1 && ! out_has "secret of the host"'
mkfifo "$H/in/fifo"
runh run --state-dir "$S" --dir-host "$H/in:/in" "$G" cat /in/fifo
check "a FIFO in it is refused at once, never waited on" eval 'rc_is 1 && [[ $RC != timeout ]]'
runh run --state-dir "$S" --dir-host "$H/in:/in:rw" "$G" put /in/sub/made.txt by-the-guest
check ":rw makes it writable: the file is on the host, in the clear" \
  eval 'rc_is 0 && grep -q by-the-guest "$H/in/sub/made.txt"'
runh run --state-dir "$S" --dir-host "$H/rw:/data:rw" "$G" conformance /data
hn_ok=$(grep -c '^ok ' "$TMP/out")
check "the conformance program on a writable host directory: all but the 16 TiB file ($hn_ok)" \
  eval '((hn_ok >= 50)) && [[ $(grep -c "^not ok" "$TMP/out") -le 1 ]] && no_sanitizer'
runh run --state-dir "$S" --dir-host "$H/in:/in" --dir /data "$CAPS" wasi-preview1.host-directories-unprotected
check "capabilities label a host directory unprotected" eval 'rc_is 1 && no_sanitizer'
runh run --state-dir "$S" --dir /data "$CAPS" wasi-preview1.host-directories-unprotected
check "... and say no without one" eval 'rc_is 0 && no_sanitizer'
runh run --state-dir "$S" --dir-host "$H/in" "$G" ls /in
check "--dir-host without a guest path: usage, exit 2" eval 'rc_is 2 && err_has "HOST_PATH:GUEST_PATH"'
runh run --state-dir "$S" --dir-host "$H/in:/x" --dir /x "$G" ls /x
check "one guest path for two directories: refused" eval 'rc_is 1 && err_has "given twice"'

# ---- tampering ----
if command -v sqlite3 >/dev/null; then
  cp "$(db_of keep)" "$TMP/keep.db"
  sqlite3 "$(db_of keep)" "UPDATE objects SET data = CASE WHEN substr(data, 1, 1) = X'00' THEN \
    X'01' ELSE X'00' END || substr(data, 2) WHERE container = (SELECT id FROM containers WHERE \
    name = char(1)||'fs:/data') AND size = 4096" 2>"$TMP/sqlerr"
  fsg keep /data cat /data/secret-name.txt
  check "a chunk's ciphertext changed on disk: the read fails, stderr says integrity error" \
    eval 'rc_is 1 && ! out_has "$marker" && err_has "integrity error" && no_sanitizer'
  # under a running workload: it reads on, then the tampered chunk is an error, never data
  fsg live /data fill /data/pattern.bin
  "$EHAL" run --state-dir "$S" --workload live --dir /data "$G" watch /data/pattern.bin 12 \
    >"$TMP/wout" 2>"$TMP/werr" &
  wpid=$!
  sleep 1.2
  sqlite3 "$(db_of live)" "UPDATE objects SET data = CASE WHEN substr(data, 1, 1) = X'00' THEN \
    X'01' ELSE X'00' END || substr(data, 2) WHERE container = (SELECT id FROM containers WHERE \
    name = char(1)||'fs:/data') AND size = 65536 AND id = (SELECT max(o.id) FROM objects o \
    JOIN containers c ON o.container = c.id WHERE c.name = char(1)||'fs:/data' AND o.size = 65536)"
  wait "$wpid"
  check "tampered under a running workload: rounds read before it, every round after fails, none reads wrong data" \
    eval 'grep -q "^round 1 ok" "$TMP/wout" && grep -q "^round 12 error" "$TMP/wout" &&
          ! grep -q WRONG "$TMP/wout" && grep -q "integrity error" "$TMP/werr"'
  cp "$TMP/keep.db" "$(db_of keep)"
  rm -f "$(db_of keep)-wal" "$(db_of keep)-shm"
  sqlite3 "$(db_of keep)" "DELETE FROM objects WHERE id = (SELECT max(o.id) FROM objects o JOIN \
    containers c ON o.container = c.id WHERE c.name = char(1)||'fs:/data')"
  fsg keep /data ls /data
  check "an object of the volume deleted on disk: the volume does not open" \
    eval 'rc_is 1 && err_has "integrity error" && err_has "sealed directory /data"'
else
  echo "ok $((T_N += 1)) - tampering # SKIP no sqlite3 command"
  echo "ok $((T_N += 1)) - tampering # SKIP no sqlite3 command"
fi

# ---- quota ----
runh run --state-dir "$S" --workload tiny --max-storage 1 --dir /data "$G" conformance /data
check "over a 1 MiB quota, writes fail (the guest sees errors, stderr says why)" \
  eval 'rc_is 1 && grep -q "^not ok" "$TMP/out" && err_has "limit exceeded"'

# ---- crashes: SIGKILL at random points, every file whole ----
crash_ok=0 crash_runs=8 gens=""
for i in $(seq 1 $crash_runs); do
  "$EHAL" run --state-dir "$S" --workload crash --dir /w "$G" writer /w >"$TMP/wout" 2>"$TMP/werr" &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  fsg crash /w verify /w
  if rc_is 0; then
    crash_ok=$((crash_ok + 1))
    gens="$gens $(cut -d' ' -f2 "$TMP/out")"
  else
    not_ok "crash $i: verify after SIGKILL" "$(last_diag)" "writer: $(tail -n 2 "$TMP/wout")"
  fi
done
check "$crash_ok of $crash_runs writers killed with SIGKILL left both files whole (generations:$gens)" \
  test "$crash_ok" = "$crash_runs"

finish
