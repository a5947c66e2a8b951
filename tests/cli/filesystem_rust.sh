#!/usr/bin/env bash
# filesystem_rust.sh - sealed directories (`elastic-hal run --dir`) from
# Rust's std::fs (tests/guests/fs_std.rs, built here with Debian's rustc for
# wasm32-wasi): every call and error case, and persistence across processes.
source "$(dirname "$0")/common.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# Debian's rustc (rustc, libstd-rust-dev-wasm32): a rustup toolchain earlier
# in PATH may lack the wasm32-wasi target
RUSTC=${RUSTC:-/usr/bin/rustc}
G=$TMP/fs_std.wasm
S=$TMP/st
mkdir -m 700 "$S"
skip() {
  echo "ok 1 - Rust std::fs on sealed directories # SKIP $1"
  echo "1..1"
  exit 0
}
fsr() { # fsr WORKLOAD ARGS... : run the guest with /data sealed
  local w=$1
  shift
  runh run --state-dir "$S" --workload "$w" --dir /data "$G" "$@"
}

"$RUSTC" --version >/dev/null 2>&1 || skip "no Debian rustc at $RUSTC"
[[ -d $("$RUSTC" --print sysroot)/lib/rustlib/wasm32-wasi/lib ]] ||
  skip "no wasm32-wasi std for $RUSTC (libstd-rust-dev-wasm32)"
echo "# $("$RUSTC" --version)"
"$RUSTC" --edition 2021 --target wasm32-wasi -O -C strip=debuginfo \
  "$ROOT/tests/guests/fs_std.rs" -o "$G" 2>"$TMP/rustc.err"
check "tests/guests/fs_std.rs builds with rustc alone, without a warning" \
  eval '[[ -f $G && ! -s $TMP/rustc.err ]] || { sed "s/^/#   /" "$TMP/rustc.err" | head -20; false; }'
[[ -f $G ]] || finish

# ---- every call ----
fsr conf /data
n_ok=$(grep -c '^ok ' "$TMP/out")
n_bad=$(grep -c '^not ok ' "$TMP/out")
check "std::fs conformance: $n_ok of the guest's checks pass, none fails" \
  eval 'rc_is 0 && ((n_ok >= 70 && n_bad == 0)) && out_has "1..$n_ok" && no_sanitizer'
((n_bad > 0)) && grep '^not ok' "$TMP/out" | sed 's/^/#   /'

# ---- persistence ----
fsr keep persist /data write
check "a file and directories written by std::fs in one process..." \
  eval 'rc_is 0 && out_has "written 300000 bytes" && no_sanitizer'
fsr keep persist /data check
check "... read back whole in the next" \
  eval 'rc_is 0 && out_has "persisted 300000 bytes" && no_sanitizer'
fsr other persist /data check
check "another workload's /data does not have it" \
  eval 'rc_is 1 && out_has "check failed" && no_sanitizer'

finish
