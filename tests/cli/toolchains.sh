#!/usr/bin/env bash
# toolchains.sh - guests from Debian's toolchains (issue 13): the Rust
# bindings witgen generates, built with Debian's rustc alone into the Rust
# example, and the C bindings from C++ (clang++ with libc++ for wasm32-wasi),
# each run against the HAL; the guest-side worlds as --world names.
source "$(dirname "$0")/common.bash"

mkdir -m 700 -p "$STATE"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BINDINGS=$BUILD/gen/guest
# Debian's rustc (rustc, libstd-rust-dev-wasm32): a rustup toolchain earlier
# in PATH may lack the wasm32-wasi target
RUSTC=${RUSTC:-/usr/bin/rustc}

# ---- Rust ----
rustflags=(--edition 2021 --target wasm32-wasi -O -C strip=debuginfo)
if ! "$RUSTC" --version >/dev/null 2>&1; then
  not_ok "Debian's rustc is installed at $RUSTC (tools/setup.sh --tests installs it)"
else
  echo "# $("$RUSTC" --version)"
  "$RUSTC" "${rustflags[@]}" --crate-type rlib --crate-name elastic_hal \
    "$BINDINGS/elastic_hal.rs" -o "$TMP/libelastic_hal.rlib" 2>"$TMP/rustc.err"
  check "the generated Rust bindings build as a crate for wasm32-wasi, without a warning" \
    eval '[[ -f $TMP/libelastic_hal.rlib && ! -s $TMP/rustc.err ]] || { sed "s/^/#   /" "$TMP/rustc.err" | head -20; false; }'
  for src in examples/rust/main.rs:notes tests/guests/shapes.rs:shapes; do
    "$RUSTC" "${rustflags[@]}" --extern elastic_hal="$TMP/libelastic_hal.rlib" \
      "$ROOT/${src%:*}" -o "$TMP/${src#*:}.wasm" 2>"$TMP/rustc.err"
    check "${src%:*} builds against them with rustc alone" \
      eval '[[ -f $TMP/${src#*:}.wasm ]] || { sed "s/^/#   /" "$TMP/rustc.err" | head -20; false; }'
  done
fi

if [[ -f $TMP/notes.wasm ]]; then
  runh run --state-dir "$STATE" "$TMP/notes.wasm"
  check "the Rust workload runs: platform, capabilities, std's println" \
    eval 'rc_is 0 && out_has "platform: simulated" && grep -qE "^capabilities: [0-9]+ of [0-9]+ supported" "$TMP/out"'
  check "Result<Vec<u8>, String>: sha-256(abc) is the known digest" \
    out_has "sha-256(abc): ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
  check "an error comes back as Err(String): a non-exportable key is not exported" \
    out_has "export refused: the key of this crypto context is not exportable"
  check "sealed with a context's key, kept in storage, read back and opened" \
    out_has "note: meet at the usual place"
  check "a handle type closes on drop: the context is gone after drop()" \
    out_has "after drop: invalid crypto context handle"
  ms=$(sed -n 's/.*slept \([0-9]*\) ms$/\1/p' "$TMP/out")
  check "std::thread::sleep works (poll_oneoff): 20 ms took ${ms:-?} ms" \
    eval '[[ -n $ms ]] && ((ms >= 19 && ms < 1000)) && no_sanitizer'

  runh check --world elastic-tee-hal-guest "$TMP/notes.wasm"
  check "check --world elastic-tee-hal-guest: the guest-side name links like elastic-tee-hal" \
    eval 'rc_is 0 && out_has "all imports resolve in world elastic-tee-hal-guest"'
  runh check --world elastic-tee-storage-guest "$TMP/notes.wasm"
  check "check --world elastic-tee-storage-guest refuses, naming random and clock" \
    eval 'rc_not0 && grep -q "elastic:random/random@0.1.0" "$TMP/out" "$TMP/err" &&
          grep -q "elastic:clock/clock@0.1.1" "$TMP/out" "$TMP/err"'
fi

if [[ -f $TMP/shapes.wasm ]]; then
  mkdir -m 700 -p "$TMP/state2"
  runh run --max-storage 1 --state-dir "$TMP/state2" "$TMP/shapes.wasm"
  check "Rust shapes: the guest exits 0" eval 'rc_is 0 && out_has "shapes done" && no_sanitizer'
  check "Rust shapes: records of an enum and integers, of a string and an s32; a handle destroyed twice" \
    eval 'grep -qE "^entropy: [0-2] [0-9]+ [0-9]+$" "$TMP/out" &&
      grep -qE "^timezone: [^ ]+ -?[0-9]+$" "$TMP/out" &&
      out_has "destroy-timer again: error: invalid timer handle"'
  check "Rust shapes: a record of lists, Result<bool>, Option<enum> in a record, enums, AEAD, HMAC" \
    eval 'out_has "keypair: 32 32" && out_has "verify: true false" &&
      out_has "empty context: none false" && out_has "context: 5 true" &&
      out_has "ecdsa: 65 64 true" && out_has "aead: 34 secret refused" &&
      out_has "hmac: f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"'
  check "Rust shapes: Vec<String>, metadata, pages of nested records with Option<String> cursors" \
    eval 'out_has "objects: a,b" && out_has "metadata: 4 application/x-é dated" &&
      shapes_pages_ok &&
      out_has "after delete: b"'
  check "Rust shapes: &[PollEntry] (empty and not), a record parameter, envelopes, an empty Option" \
    eval 'out_has "poll []: 0" && out_has "poll: 2 true" &&
      grep -qE "^allocate: error: .*1052672" "$TMP/out" &&
      out_has "envelope: shapes true 7 2 ev" && out_has "message: none"'
fi

# ---- C++ ----
cflags=(--target=wasm32-wasi -O2 -Wall -Wextra -Werror)
if clang "${cflags[@]}" -c "$BINDINGS/elastic_hal_guest.c" -o "$TMP/guest.o" 2>"$TMP/cc.err" &&
  clang++ "${cflags[@]}" -fno-exceptions -I "$BINDINGS" "$ROOT/examples/cpp/main.cpp" "$TMP/guest.o" \
    -o "$TMP/signer.wasm" 2>>"$TMP/cc.err"; then
  ok "examples/cpp builds with clang++ and libc++ for wasm32-wasi (C header from C++)"
else
  not_ok "examples/cpp builds with clang++ for wasm32-wasi (libc++-14-dev-wasm32 installed?)" \
    "$(head -c 1500 "$TMP/cc.err")"
fi
if [[ -f $TMP/signer.wasm ]]; then
  runh run --state-dir "$STATE" "$TMP/signer.wasm" -- "a message"
  check "the C++ workload signs in the HAL and verifies; an altered message fails" \
    eval 'rc_is 0 && out_has "platform: simulated" && out_has "signature: 64 bytes" &&
          out_has "verify: valid, altered message: invalid" && no_sanitizer'
fi

finish
