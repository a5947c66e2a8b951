#!/usr/bin/env bash
# Validate the HAL's WIT with the standard parser (jco, wit-parser inside).
# Run from the repository root after `npm ci`. Prints one TAP-style line per
# check and exits non-zero if any check fails.
set -euo pipefail

cd "$(dirname "$0")/../.."

WIT_DIR=wit
PACKAGES=(platform capabilities crypto random storage communication sockets gpu resources events clock)
WORLDS=(elastic-tee-hal elastic-tee-minimal elastic-tee-attestation elastic-tee-storage elastic-tee-network elastic-tee-compute)
# wit/guest.wit: the guest side of each (imports), what guest toolchains target
GUEST_WORLDS=("${WORLDS[@]/%/-guest}")

failures=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $1"; }
not_ok() {
  echo "not ok - $1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then sed 's/^/#   /' "$2" | grep -v 'nodedir' | head -20 || true; fi
  failures=$((failures + 1))
}

jco() { npx --no-install jco "$@"; }

# Run a check that must succeed.
expect_pass() {
  local what=$1; shift
  n=$((n + 1)); local log="$tmp/log.$n"
  if "$@" >"$log" 2>&1; then ok "$what"; else not_ok "$what" "$log"; fi
}

# Run a check that must fail (negative control) with the given diagnostic,
# so that a tool failing for some unrelated reason does not count as a pass.
expect_fail() {
  local what=$1 diag=$2; shift 2
  n=$((n + 1)); local log="$tmp/log.$n"
  if "$@" >"$log" 2>&1; then
    not_ok "$what (was accepted)"
  elif ! grep -qF -- "$diag" "$log"; then
    not_ok "$what (failed without the expected diagnostic: $diag)" "$log"
  else
    ok "$what"
  fi
}

version_of() {
  sed -n 's/^package elastic:[a-z-]*@\([0-9.]*\);$/\1/p' "$WIT_DIR/deps/$1.wit"
}

if ! jco --version >/dev/null 2>&1; then
  not_ok "jco is installed in node_modules (run npm ci)"
  exit 1
fi
ok "jco $(jco --version 2>/dev/null) is installed"

# 1. The whole WIT tree parses (root package plus every dependency package).
expect_pass "wit/ parses" jco guest-types "$WIT_DIR" --world-name elastic:tee-hal/elastic-tee-hal -q -o "$tmp/out-all"

# 2. Every dependency package declares the expected name and its world resolves.
for p in "${PACKAGES[@]}"; do
  v=$(version_of "$p")
  if [ -z "$v" ]; then
    not_ok "wit/deps/$p.wit declares package elastic:$p@<version>"
    continue
  fi
  expect_pass "world elastic:$p/$p-world@$v resolves" \
    jco guest-types "$WIT_DIR" --world-name "elastic:$p/$p-world@$v" -q -o "$tmp/out-$p"
done

# 3. Every composed world, host and guest side, resolves ...
for w in "${WORLDS[@]}" "${GUEST_WORLDS[@]}"; do
  expect_pass "world elastic:tee-hal/$w resolves" \
    jco guest-types "$WIT_DIR" --world-name "elastic:tee-hal/$w" -q -o "$tmp/out-$w"
done

# ... and encodes into a component (dummy core module, then component new).
# jco 1.35.0's `embed -n` is ignored, so each world gets its own root package
# that includes it, with the HAL packages as dependencies.  For a guest-side
# world, the component's imports must be exactly the host-side world's
# interfaces (what `elastic-hal run --world NAME` links).
for w in "${WORLDS[@]}" "${GUEST_WORLDS[@]}"; do
  d="$tmp/embed-$w"
  mkdir -p "$d/wit/deps/tee-hal"
  cp "$WIT_DIR"/deps/*.wit "$d/wit/deps/"
  cp "$WIT_DIR/complete.wit" "$WIT_DIR/guest.wit" "$d/wit/deps/tee-hal/"
  printf 'package validate:composed;\n\nworld w {\n  include elastic:tee-hal/%s@0.1.0;\n}\n' "$w" >"$d/wit/w.wit"
  expect_pass "world elastic:tee-hal/$w encodes as a component" \
    bash -c 'npx --no-install jco embed --dummy --wit "$1/wit" -o "$1/embed.wasm" &&
             npx --no-install jco new "$1/embed.wasm" -o "$1/component.wasm"' _ "$d"
  if [[ $w == *-guest ]]; then
    host=${w%-guest}
    want=$(sed -n "/^world $host {/,/^}/s/^  export \(.*\);$/\1/p" "$WIT_DIR/complete.wit" | sort)
    got=$(jco wit "$d/component.wasm" 2>/dev/null | sed -n 's/^ *import \(elastic:.*\);$/\1/p' | sort)
    n=$((n + 1))
    if [[ -n $want && $want == "$got" ]]; then
      ok "world elastic:tee-hal/$w imports exactly what $host exports"
    else
      not_ok "world elastic:tee-hal/$w imports exactly what $host exports (got: ${got//$'\n'/ })"
    fi
  fi
done

# 4. Negative controls: broken copies of the WIT must be rejected.
neg() {
  local what=$1 file=$2 from=$3 to=$4 diag=$5
  n=$((n + 1)); local d="$tmp/neg-$n"
  cp -r "$WIT_DIR" "$d"
  if ! grep -qF -- "$from" "$d/$file"; then
    not_ok "negative control setup: '$from' not found in $file"
    return
  fi
  FROM=$from TO=$to perl -pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$d/$file"
  expect_fail "$what is rejected" "$diag" jco guest-types "$d" --world-name elastic:tee-hal/elastic-tee-hal -q -o "$d/out"
}
neg "result<unit, string> (no such type)" deps/clock.wit 'result<_, string>' 'result<unit, string>' \
  'name `unit` does not exist'
neg "function named like its record (get-platform-info -> platform-info)" deps/platform.wit \
  'get-platform-info:' 'platform-info:' 'name `platform-info` is defined more than once'
neg "world exporting an unknown interface" complete.wit 'elastic:gpu/gpu@0.1.1' 'elastic:gpu/gpu@9.9.9' \
  "package 'elastic:gpu@9.9.9' not found"
expect_fail "unknown world name is rejected" 'World `no-such-world` not found' \
  jco guest-types "$WIT_DIR" --world-name elastic:tee-hal/no-such-world -q -o "$tmp/out-none"

# ... and tools/witgen.py refuses a guest-side world that drifts from its
# host-side namesake (here: one interface at another version).
d="$tmp/neg-guest"
cp -r "$WIT_DIR" "$d"
perl -0pi -e 's/(world elastic-tee-hal-guest \{.*?)elastic:crypto\/crypto\@0\.1\.1/$1elastic:crypto\/crypto\@0.1.0/s' "$d/guest.wit"
expect_fail "a guest-side world importing other than its host-side world exports is rejected by witgen" \
  'world elastic-tee-hal-guest does not import exactly what elastic-tee-hal exports' \
  python3 tools/witgen.py --wit "$d" --implemented src/interfaces/implemented.txt -o "$d/gen"

# 5. The test-only package (tests/wit/unimplemented.wit; only the test build's
#    catalog has it, see tools/witgen.py) is standard WIT over the HAL's
#    packages: its world resolves and encodes as a component.
d="$tmp/test-wit"
mkdir -p "$d/wit/deps"
cp "$WIT_DIR"/deps/*.wit "$d/wit/deps/"
cp tests/wit/unimplemented.wit "$d/wit/"
expect_pass "tests/wit/unimplemented.wit: world test:unimplemented/test-unimplemented resolves" \
  jco guest-types "$d/wit" --world-name test:unimplemented/test-unimplemented -q -o "$d/out"
expect_pass "tests/wit/unimplemented.wit: world test-unimplemented encodes as a component" \
  bash -c 'npx --no-install jco embed --dummy --wit "$1/wit" -o "$1/embed.wasm" &&
           npx --no-install jco new "$1/embed.wasm" -o "$1/component.wasm"' _ "$d"

if [ "$failures" -ne 0 ]; then
  echo "# $failures check(s) failed"
  exit 1
fi
echo "# all checks passed"
