#!/usr/bin/env bash
# component.sh - WebAssembly components (docs/components.md): guests made
# into components by jco (jco embed, then jco new, with and without the
# WASI preview 1 command adapter) run, check and compile as their main core
# module; what a component imports beyond this HAL's worlds and preview 1
# (WASI 0.2 interfaces of its own, interfaces of another world), broken
# components and ambiguous ones are refused with one line that says why.
#
# Needs jco (node_modules/.bin/jco, from 'npm ci'): without it this fails.
source "$(dirname "$0")/common.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JCO=$ROOT/node_modules/.bin/jco
if [[ ! -x $JCO ]] || ! "$JCO" --version >/dev/null 2>&1; then
  not_ok "jco is installed at $JCO (run 'npm ci'; CI installs it)"
  finish
fi

# ---- WIT: a root package of one world per guest (jco embed takes the
# package's only world: its -n does not choose one) ----
# world NAME DEPS... : $TMP/wit-NAME holds the given WIT packages in deps/
# and "package test:guest; world NAME { ... }" (the body on stdin)
world() {
  local name=$1
  shift
  mkdir -p "$TMP/wit-$name/deps"
  cp "$@" "$TMP/wit-$name/deps/"
  { echo "package test:guest; world $name {"; cat; echo "}"; } >"$TMP/wit-$name/w.wit"
}
HAL_WIT=("$ROOT"/wit/deps/*.wit)
world hello "${HAL_WIT[@]}" <<'WIT'
  import elastic:platform/platform@0.1.1;
  import elastic:capabilities/capabilities@0.1.0;
  import elastic:random/random@0.1.0;
  import elastic:clock/clock@0.1.1;
WIT
world random "${HAL_WIT[@]}" <<<'  import elastic:random/random@0.1.0;'
world gpu "${HAL_WIT[@]}" <<<'  import elastic:gpu/gpu@0.1.1; import elastic:clock/clock@0.1.1;'
# interfaces this HAL does not provide, as small stand-ins: their names are
# what matters (wasi:http's real WIT pulls in half of WASI 0.2)
printf 'package wasi:http@0.2.0;\ninterface outgoing-handler { handle: func(x: u32) -> u32; }\n' \
  >"$TMP/http.wit"
printf 'package wasi:cli@0.2.0;\ninterface environment { initial-cwd: func() -> u32; }\n' \
  >"$TMP/cli.wit"
world http "$TMP/http.wit" <<<'  import wasi:http/outgoing-handler@0.2.0;'
world p2 "$TMP/cli.wit" <<<'  import wasi:cli/environment@0.2.0;'

# component NAME CORE [jco new options...] : $TMP/NAME.wasm, of world NAME
component() {
  local name=$1 core=$2
  shift 2
  local what
  what="jco makes $name.wasm, a component, from $(basename "$core")${*:+ ($*)}"
  if "$JCO" embed "$core" --wit "$TMP/wit-$name" -o "$TMP/$name.embed.wasm" >"$TMP/jco.log" 2>&1 &&
    "$JCO" new "$TMP/$name.embed.wasm" "$@" -o "$TMP/$name.wasm" >>"$TMP/jco.log" 2>&1 &&
    [[ $(head -c 8 "$TMP/$name.wasm" | od -An -tx1 | tr -d ' \n') == 0061736d0d000100 ]]; then
    ok "$what"
  else
    not_ok "$what" "$(head -20 "$TMP/jco.log")"
    return 1
  fi
}

one_line() { [[ $(wc -l <"$TMP/err") == 1 ]]; }

# ---- a C guest built for wasm32-wasi, with the preview 1 command adapter ----
HELLO=$TMP/hello.wasm
component hello "$GUESTS/hello.wasm" --wasi-command
runh check --state-dir "$STATE" "$HELLO"
check "check: a component whose imports resolve says so, as a component" \
  eval 'rc_is 0 && out_has "$HELLO: a component; its core module'"'"'s imports all resolve in world elastic-tee-hal"'
runh run --state-dir "$STATE" "$GUESTS/hello.wasm"
head -4 "$TMP/out" >"$TMP/core.head"
runh run --state-dir "$STATE" "$HELLO"
head -4 "$TMP/out" >"$TMP/comp.head"
check "run: the component runs its main module (its output is the core module's)" \
  eval 'rc_is 0 && out_has "platform:    simulated" && cmp -s "$TMP/core.head" "$TMP/comp.head"'
runh compile --state-dir "$STATE" "$HELLO" -o "$TMP/hello.art"
check "compile: a component becomes an artifact" eval 'rc_is 0 && [[ -s $TMP/hello.art ]]'
runh run --state-dir "$STATE" "$TMP/hello.art"
head -4 "$TMP/out" >"$TMP/art.head"
check "run: the component's artifact runs as the component does" \
  eval 'rc_is 0 && cmp -s "$TMP/core.head" "$TMP/art.head"'
runh check --state-dir "$STATE" "$TMP/hello.art"
check "check: the artifact holds the main core module, not the component" \
  eval 'rc_is 0 && out_has "hello.art: all imports resolve in world elastic-tee-hal"'
runh check --world elastic-tee-minimal --state-dir "$STATE" "$HELLO"
check "check --world elastic-tee-minimal: the component's clock import is named, on a line of its own" \
  eval 'rc_is 1 && grep -qx "component imports elastic:clock/clock@0.1.1: not in world elastic-tee-minimal" "$TMP/out" &&
    out_has "unresolved import elastic:clock/clock@0.1.1#"'

# the guest-side world of wit/guest.wit, as a guest toolchain targets it
mkdir -p "$TMP/wit-guestworld/deps/tee-hal"
cp "${HAL_WIT[@]}" "$TMP/wit-guestworld/deps/"
cp "$ROOT"/wit/complete.wit "$ROOT"/wit/guest.wit "$TMP/wit-guestworld/deps/tee-hal/"
printf 'package test:guest;\nworld guestworld {\n  include elastic:tee-hal/elastic-tee-hal-guest@0.1.0;\n}\n' \
  >"$TMP/wit-guestworld/w.wit"
if component guestworld "$GUESTS/hello.wasm" --wasi-command; then
  runh run --world elastic-tee-hal-guest --state-dir "$STATE" "$TMP/guestworld.wasm"
  head -4 "$TMP/out" >"$TMP/gw.head"
  check "run --world elastic-tee-hal-guest: a guest built against wit/guest.wit's world runs" \
    eval 'rc_is 0 && cmp -s "$TMP/core.head" "$TMP/gw.head"'
fi

# preview 1 in the adapter's place: the same answers as the core module's
WASI=$TMP/wasi.wasm
world wasi "${HAL_WIT[@]}" </dev/null
component wasi "$GUESTS/wasi_guest.wasm" --wasi-command
runh run --state-dir "$STATE" "$GUESTS/wasi_guest.wasm" sock:3 path:3
cp "$TMP/out" "$TMP/core.out"
runh run --state-dir "$STATE" "$WASI" sock:3 path:3
check "run: a component's arguments and WASI preview 1 calls are the core module's" \
  eval 'rc_is 0 && out_has "sock 3 " && cmp -s "$TMP/core.out" "$TMP/out"'

# ---- a core module without WASI, made into a component without an adapter ----
cat >"$TMP/rnd.wat" <<'WAT'
(module
  (import "elastic:random/random@0.1.0" "get-random-bytes" (func $rb (param i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get 3)))
    (local.get $p))
  ;; traps unless get-random-bytes(16) returned ok with 16 bytes
  (func (export "_start")
    (call $rb (i32.const 16) (i32.const 0))
    (if (i32.ne (i32.load8_u (i32.const 0)) (i32.const 0)) (then unreachable))
    (if (i32.ne (i32.load (i32.const 8)) (i32.const 16)) (then unreachable))))
WAT
wat2wasm "$TMP/rnd.wat" -o "$TMP/rnd.core.wasm"
RND=$TMP/random.wasm
component random "$TMP/rnd.core.wasm"
runh check --world elastic-tee-minimal --state-dir "$STATE" "$RND"
check "check: a component without the adapter links in the minimal world" \
  eval 'rc_is 0 && out_has "a component; its core module'"'"'s imports all resolve in world elastic-tee-minimal"'
runh run --world elastic-tee-minimal --state-dir "$STATE" "$RND"
check "run: the component's main module calls the HAL through the canonical ABI" \
  eval 'rc_is 0 && no_sanitizer'

# ---- interfaces outside the chosen world ----
GPU=$TMP/gpu.wasm
component gpu "$GUESTS/gpu_guest.wasm" --wasi-command
runh check --state-dir "$STATE" "$GPU"
check "check: a component importing elastic:gpu links in elastic-tee-hal" eval 'rc_is 0'
runh check --world elastic-tee-minimal --state-dir "$STATE" "$GPU"
check "check --world elastic-tee-minimal: the component's gpu import is refused by name" \
  eval 'rc_is 1 && out_has "component imports elastic:gpu/gpu@0.1.1: not in world elastic-tee-minimal"'
runh run --world elastic-tee-minimal --state-dir "$STATE" "$GPU"
check "run --world elastic-tee-minimal: refused before it runs, naming elastic:gpu/gpu@0.1.1" \
  eval 'rc_is 1 && err_has "component imports elastic:gpu/gpu@0.1.1: not in world elastic-tee-minimal" && out_empty'

# ---- WASI 0.2 beyond what the preview 1 adapter needs ----
# shellcheck disable=SC2034 # read by the eval of check below
WANT_HTTP="component imports wasi:http/outgoing-handler@0.2.0: a WASI 0.2 interface this HAL does not implement (it provides WASI preview 1 to core modules)"
wat_text http.core '(module
  (import "wasi:http/outgoing-handler@0.2.0" "handle" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))' >/dev/null
HTTP=$TMP/http.wasm
component http "$TMP/http.core.wasm"
for cmd in check run compile; do
  extra=()
  [[ $cmd == compile ]] && extra=(-o "$TMP/http.art")
  runh "$cmd" --state-dir "$STATE" "$HTTP" "${extra[@]}"
  check "$cmd: a component importing wasi:http is refused, naming it, in one line" \
    eval 'rc_is 1 && err_has "$WANT_HTTP" && one_line && [[ ! -e $TMP/http.art ]]'
done
# a wasm32-wasip2-style guest: its main module imports WASI 0.2 itself
wat_text p2.core '(module
  (import "wasi:cli/environment@0.2.0" "initial-cwd" (func (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))' >/dev/null
component p2 "$TMP/p2.core.wasm"
runh run --state-dir "$STATE" "$TMP/p2.wasm"
check "run: a component whose main module imports WASI 0.2 itself is refused" \
  eval 'rc_is 1 && err_has "component imports wasi:cli/environment@0.2.0: a WASI 0.2 interface this HAL does not implement"'

# ---- broken and ambiguous components ----
size=$(stat -c %s "$HELLO")
for cut in 8 9 12 100 1000 $((size / 2)) $((size - 1)); do
  head -c "$cut" "$HELLO" >"$TMP/cut.wasm"
  runh check --state-dir "$STATE" "$TMP/cut.wasm"
  check "check: the component cut to $cut of $size bytes is refused in one line" \
    eval 'rc_is 1 && err_has "WebAssembly component" && one_line && no_sanitizer'
done
head -c $((size / 2)) "$HELLO" >"$TMP/cut.wasm"
runh run --state-dir "$STATE" "$TMP/cut.wasm"
check "run: a truncated component is refused as malformed" \
  eval 'rc_is 1 && err_has "malformed WebAssembly component" && no_sanitizer'

# crafted: core modules as wat2wasm makes them, put in component sections
wat_text mem '(module (memory 1) (func (export "_start")))' >/dev/null
wat_text nomem '(module (func (export "f")))' >/dev/null
# craft OUT SECTION... : SECTION is core:FILE (a core module section),
# nested:FILE (a nested component holding the core module FILE) or bytes:HEX
craft() {
  python3 - "$@" <<'PY'
import sys
def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
pre = b"\0asm\x0d\0\x01\0"
sec = lambda i, p: bytes([i]) + leb(len(p)) + p
out = bytearray(pre)
for s in sys.argv[2:]:
    kind, arg = s.split(":", 1)
    if kind == "core":
        out += sec(1, open(arg, "rb").read())
    elif kind == "nested":
        out += sec(4, pre + sec(1, open(arg, "rb").read()))
    else:
        out += bytes.fromhex(arg)
open(sys.argv[1], "wb").write(out)
PY
}
craft "$TMP/two.wasm" "core:$TMP/mem.wasm" "core:$TMP/nomem.wasm" "core:$TMP/mem.wasm"
for cmd in check run compile; do
  extra=()
  [[ $cmd == compile ]] && extra=(-o "$TMP/two.art")
  runh "$cmd" --state-dir "$STATE" "$TMP/two.wasm" "${extra[@]}"
  check "$cmd: a component with two core modules that define a memory is refused as ambiguous" \
    eval 'rc_is 1 && err_has "WebAssembly component with 2 core modules that define a memory (#1 and #3, counting from 1)" && one_line && [[ ! -e $TMP/two.art ]]'
done
craft "$TMP/none.wasm" "core:$TMP/nomem.wasm"
runh run --state-dir "$STATE" "$TMP/none.wasm"
check "run: a component whose core modules have no memory of their own is refused" \
  eval 'rc_is 1 && err_has "WebAssembly component with no core module that defines a memory (it holds 1 core module)"'
craft "$TMP/nested.wasm" "core:$TMP/mem.wasm" "nested:$TMP/nomem.wasm"
runh check --state-dir "$STATE" "$TMP/nested.wasm"
check "check: a nested component that holds a core module is refused" \
  eval 'rc_is 1 && err_has "a nested component holds a core module" && one_line'
# an import section: 1 import, name "run" (encoding 0), a function of type 0
craft "$TMP/func.wasm" "bytes:0a0801000372756e0100" "core:$TMP/mem.wasm"
runh check --state-dir "$STATE" "$TMP/func.wasm"
check "check: a component importing a bare function is refused" \
  eval 'rc_is 1 && err_has "component imports run, a function: a guest of this HAL imports interfaces only"'
craft "$TMP/badsec.wasm" "core:$TMP/mem.wasm" "bytes:0d00"
runh check --state-dir "$STATE" "$TMP/badsec.wasm"
check "check: an unknown section id is refused as malformed" \
  eval 'rc_is 1 && err_has "malformed WebAssembly component: unknown section id 13"'
# the main module is checked as any core module is
wat_text glob '(module (import "env" "g" (global i32)) (memory 1) (func (export "_start")))' >/dev/null
craft "$TMP/glob.wasm" "core:$TMP/glob.wasm"
runh check --state-dir "$STATE" "$TMP/glob.wasm"
check "check: the main module's own problems are reported as the component's main module's" \
  eval 'rc_is 1 && err_has "the component'"'"'s main core module (#1 of 1): import env#g: only function imports"'

finish
