#!/usr/bin/env bash
# assemblyscript.sh - a guest written in AssemblyScript (examples/assemblyscript),
# compiled here with the pinned compiler (package-lock.json: assemblyscript),
# links against the HAL and runs: WASI fd_write, platform info, capabilities,
# random bytes returned through the guest's cabi_realloc, a SHA-256 digest
# checked against the known one, the clock and a storage round trip.  The
# compiler must be installed (npm ci): without it this test fails, it does not
# skip.
source "$(dirname "$0")/common.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EX=$ROOT/examples/assemblyscript
WASM=$TMP/hal_example.wasm
SHA_ABC=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
mkdir -m 700 -p "$STATE"

# ---- compile (the command examples/assemblyscript/README.md gives) ----
if ver=$(cd "$EX" && npx --no-install asc --version 2>&1); then
  echo "# asc: $ver"
  if (cd "$EX" && npx --no-install asc assembly/index.ts -O3 --runtime incremental \
    --use abort=assembly/elastic_hal/halAbort -o "$WASM") >"$TMP/asc.log" 2>&1 &&
    [[ -s $WASM ]]; then
    ok "asc compiles examples/assemblyscript"
  else
    not_ok "asc compiles examples/assemblyscript" "$(head -c 2000 "$TMP/asc.log")"
  fi
else
  not_ok "the AssemblyScript compiler is installed (npm ci)" "$ver"
fi

if [[ ! -s $WASM ]]; then
  not_ok "elastic-hal check: no module to check"
  not_ok "elastic-hal run: no module to run"
  finish
fi

# ---- link ----
runh check --world elastic-tee-hal "$WASM"
check "check: every import of the AssemblyScript module resolves in elastic-tee-hal (no env.abort)" \
  eval 'rc_is 0 && out_has "all imports resolve in world elastic-tee-hal"'

runh check --world elastic-tee-minimal "$WASM"
check "check: its storage imports do not resolve in elastic-tee-minimal" \
  eval 'rc_not0 && out_has "unresolved import elastic:storage/storage@0.1.1#store-object"'

# ---- run ----
runh run --state-dir "$STATE" "$WASM"
check "run: exits 0 after every check the guest makes" \
  eval 'rc_is 0 && out_has "all checks passed" && ! err_has "FAIL:" && no_sanitizer'
check "run: WASI fd_write and get-platform-info (a record of strings): 'platform: simulated'" \
  eval 'out_has "hello from AssemblyScript" && out_has "platform: simulated"'
check "run: list-capabilities and has-capability" \
  eval 'grep -qE "^capabilities: [0-9]+ of [0-9]+ supported \(random: yes\)$" "$TMP/out"'
check "run: get-random-bytes returns 32 bytes through cabi_realloc" \
  eval 'grep -qE "^random: [0-9a-f]{64}$" "$TMP/out"'
check "run: crypto hash: sha256(abc) = $SHA_ABC" out_has "sha256(abc): $SHA_ABC"
check "run: clock and a storage round trip (UTF-8 payload)" \
  eval 'grep -qE "^time: [0-9]+ s since the epoch$" "$TMP/out" &&
    out_has "storage: stored by AssemblyScript ✓ (version 1)"'

# the same workload again: the container now exists and is opened
runh run --state-dir "$STATE" "$WASM"
check "run again: open-container finds the container, the object's version is 2" \
  eval 'rc_is 0 && out_has "storage: stored by AssemblyScript ✓ (version 2)" && no_sanitizer'

finish
