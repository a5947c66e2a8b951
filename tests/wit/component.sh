#!/usr/bin/env bash
# The guest bindings' core signatures must be what the standard tooling
# derives from our WIT: embed the hello example's core module with a world
# importing the HAL interfaces it uses, then make a component (jco new runs
# wit-component's validation of every import against the WIT).  A negative
# control proves the check bites: a wrong core signature must be rejected.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
HELLO=$BUILD/guests/hello.wasm
n=0
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jco() { npx --no-install jco "$@" 2>&1 | grep -v 'npm warn'; return "${PIPESTATUS[0]}"; }
check() { # description, expected exit (0 = must succeed, 1 = must fail), command...
  local what=$1 want=$2
  shift 2
  n=$((n + 1))
  "$@" >"$tmp/log" 2>&1
  local rc=$?
  if { [ "$want" = 0 ] && [ $rc = 0 ]; } || { [ "$want" = 1 ] && [ $rc != 0 ]; }; then
    echo "ok $n - $what"
  else
    echo "not ok $n - $what (exit $rc)"
    sed 's/^/#   /' "$tmp/log" | head -15
    fails=$((fails + 1))
  fi
}

mkdir -p "$tmp/wit/deps"
cp wit/deps/*.wit "$tmp/wit/deps/"
cp wit/complete.wit "$tmp/wit/deps/tee-hal.wit"
cat >"$tmp/wit/guest.wit" <<'WIT'
package test:guest;
world guest {
  import elastic:platform/platform@0.1.1;
  import elastic:capabilities/capabilities@0.1.0;
  import elastic:random/random@0.1.0;
  import elastic:clock/clock@0.1.1;
}
WIT

check "hello.wasm embeds our WIT" 0 jco embed "$HELLO" --wit "$tmp/wit" -o "$tmp/hello.embed.wasm"
check "hello.wasm becomes a component (every import matches the WIT)" 0 \
  jco new "$tmp/hello.embed.wasm" --wasi-command -o "$tmp/hello.component.wasm"
check "the component imports elastic:clock/clock@0.1.1" 0 \
  bash -c "npx --no-install jco wit '$tmp/hello.component.wasm' 2>/dev/null | grep -q 'import elastic:clock/clock@0.1.1;'"

# negative control: resolution returns result<u64,string> through a return
# area, so (func (result i64)) is not its core signature
cat >"$tmp/bad.wat" <<'WAT'
(module
  (import "elastic:clock/clock@0.1.1" "resolution" (func (result i64)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
WAT
wat2wasm "$tmp/bad.wat" -o "$tmp/bad.wasm"
jco embed "$tmp/bad.wasm" --wit "$tmp/wit" -o "$tmp/bad.embed.wasm" >/dev/null 2>&1
check "a wrong core signature is rejected by jco new" 1 jco new "$tmp/bad.embed.wasm" -o "$tmp/bad.component.wasm"

echo "# $n checks"
[ $fails = 0 ]
