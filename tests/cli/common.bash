# common.bash - shared helpers for the CLI test scripts (sourced, not run:
# tests/run.sh runs tests/cli/*.sh only).
#
# Environment (set by tests/run.sh): EHAL (the CLI), GUESTS (built example
# guests), BUILD (the build tree).  Every script prints TAP ("ok N - ...",
# "not ok N - ...", "# diagnostics") and exits non-zero when a test failed.
set -uo pipefail

: "${BUILD:=build}"
: "${EHAL:=$BUILD/elastic-hal}"
: "${GUESTS:=$BUILD/guests}"
# the test build of the CLI: its catalog also holds the test-only WIT package
# test:unimplemented (tests/wit/unimplemented.wit, world test-unimplemented)
: "${EHAL_TEST:=$BUILD/tests/elastic-hal-test}"
case $EHAL in /*) ;; *) EHAL=$PWD/$EHAL ;; esac
case $EHAL_TEST in /*) ;; *) EHAL_TEST=$PWD/$EHAL_TEST ;; esac
case $GUESTS in /*) ;; *) GUESTS=$PWD/$GUESTS ;; esac

WAT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/wat" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ehal-cli-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
STATE=$TMP/state
# artifacts are compiled into $TMPDIR; keep that inside our temp dir too
mkdir -p "$TMP/cc"
export TMPDIR=$TMP/cc

T_N=0
T_FAILED=0

ok() { # ok DESCRIPTION
  T_N=$((T_N + 1))
  echo "ok $T_N - $1"
}

not_ok() { # not_ok DESCRIPTION [DIAGNOSTIC...]
  T_N=$((T_N + 1))
  T_FAILED=$((T_FAILED + 1))
  echo "not ok $T_N - $1"
  shift
  local d
  for d in "$@"; do printf '%s\n' "$d" | sed 's/^/#   /'; done
}

# Diagnostics of the last runh: exit status, then the head of stdout/stderr.
last_diag() {
  echo "exit status: $RC"
  echo "stdout: $(head -c 600 "$TMP/out")"
  echo "stderr: $(head -c 900 "$TMP/err")"
}

# check DESCRIPTION CONDITION... : run the condition (a command), report.
check() {
  local desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc" "$(last_diag)"; fi
}

finish() {
  echo "1..$T_N"
  if ((T_FAILED > 0)); then
    echo "# $T_FAILED of $T_N failed"
    exit 1
  fi
  exit 0
}

# runh ARGS... : run "$EHAL ARGS..." with stdin from /dev/null; stdout in
# $TMP/out, stderr in $TMP/err, and RC = exit status, or -SIGNAL when the
# process was killed by a signal (bash alone cannot tell exit 134 from
# SIGABRT).
# A run that takes more than 60 s is killed and RC is "timeout".
PYRUN='import subprocess, sys
try:
    rc = subprocess.run(sys.argv[2:], timeout=60).returncode
except subprocess.TimeoutExpired:
    rc = "timeout"
open(sys.argv[1], "w").write(str(rc))'
runh() {
  rm -f "$TMP/rc"
  python3 -c "$PYRUN" "$TMP/rc" "$EHAL" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
  RC=$(cat "$TMP/rc" 2>/dev/null || echo 255)
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/err"; then
    echo "# sanitizer report from: elastic-hal $*"
    grep -m3 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY:' "$TMP/err" | sed 's/^/#   /'
  fi
}

# runt ARGS... : runh with the test build of the CLI ($EHAL_TEST), for tests
# that need an interface no HAL implements (test:unimplemented/unimplemented).
runt() { EHAL=$EHAL_TEST runh "$@"; }

# Predicates on the last runh.
rc_is() { [[ $RC == "$1" ]]; }
rc_not0() { [[ $RC != 0 && $RC != -* ]]; }
out_has() { grep -qF -- "$1" "$TMP/out"; }
err_has() { grep -qF -- "$1" "$TMP/err"; }
err_has_re() { grep -qE -- "$1" "$TMP/err"; }
out_empty() { [[ ! -s $TMP/out ]]; }
err_empty() { [[ ! -s $TMP/err ]]; }
no_sanitizer() { ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/err"; }
# A trap: status 134 from a normal exit (not a signal) and "trap (KIND)".
trapped() { # trapped [KIND-REGEX]
  rc_is 134 && err_has_re "elastic-hal: trap \\(${1:-[a-z]}" && no_sanitizer
}

# wat NAME : compile $WAT_DIR/NAME.wat to $TMP/NAME.wasm (once).
wat() {
  local name=$1
  if [[ ! -f $TMP/$name.wasm ]]; then
    if ! wat2wasm "$WAT_DIR/$name.wat" -o "$TMP/$name.wasm" 2>"$TMP/wat.err"; then
      echo "# wat2wasm $name.wat failed:"
      sed 's/^/#   /' "$TMP/wat.err"
      return 1
    fi
  fi
  echo "$TMP/$name.wasm"
}

# wat_text NAME TEXT : write TEXT as $TMP/NAME.wat and compile it.
wat_text() {
  printf '%s\n' "$2" >"$TMP/$1.wat"
  if ! wat2wasm "$TMP/$1.wat" -o "$TMP/$1.wasm" 2>"$TMP/wat.err"; then
    echo "# wat2wasm failed for generated $1.wat:"
    sed 's/^/#   /' "$TMP/wat.err"
    return 1
  fi
  echo "$TMP/$1.wasm"
}

# The shapes guests (AssemblyScript, Rust): two pages of one object each, in
# an order the storage does not promise: a (version 1, text/plain) and b
# (version 2), one on each page.
shapes_pages_ok() {
  local p1 p2
  p1=$(sed -n 's/^page: 1 \([ab]\) v[0-9]* .* next some$/\1/p' "$TMP/out")
  p2=$(sed -n 's/^page 2: 1 \([ab]\) next none$/\1/p' "$TMP/out")
  [[ -n $p1 && -n $p2 && $p1 != "$p2" ]] &&
    grep -qE '^page: 1 (a v1 text/plain|b v2 application/x-é) next some$' "$TMP/out"
}

if [[ ! -x $EHAL ]]; then
  echo "not ok 1 - elastic-hal is built at $EHAL"
  exit 1
fi
