#!/usr/bin/env bash
# untrusted.sh - no guest byte becomes host code, and only authenticated
# native code is ever loaded (issue 7, section 1; README "Artifacts").
#
#   - C payloads in import module, import field, export and name-section
#     names never run, under run and compile
#   - a shared library renamed app.wasm never runs, under run or check
#   - a component binary is told apart from a core module (and runs only
#     as its main core module: a bare preamble has none)
#   - an edited artifact, one made with another sealing root, and a cache
#     entry swapped for another module's or for a plain shared library are
#     refused (the cache recompiles); none of their code runs
#   - check writes nothing and loads nothing
#   - check and run agree on every malformed or unrunnable module
#   - a memory grown to the 4 GiB limit stays usable
source "$(dirname "$0")/common.bash"

MARK=$TMP/pwned
ECHO=$(wat echo)
no_mark() { [[ ! -e $MARK ]]; }

# ---- hostile names ----
names=$(python3 "$(dirname "$0")/hostile_names.py" "$TMP/names" "$MARK")
# control: unsanitized, wasm2c would put the payload into C as code
if wasm2c "$TMP/names/import-module-comment-close.wasm" -o "$TMP/raw.c" 2>/dev/null &&
  grep -q '^\*/ __attribute__((constructor))\|\*/ __attribute__((constructor)) static void pwn' "$TMP/raw.h"; then
  ok "control: raw wasm2c output carries the comment-close payload as C"
else
  not_ok "control: raw wasm2c output carries the comment-close payload as C"
fi
n_names=0
bad_names=()
for n in $names; do
  n_names=$((n_names + 1))
  runh run --state-dir "$STATE" "$TMP/names/$n"
  if [[ -e $MARK ]] || [[ $RC == -* || $RC == timeout || $RC == 134 ]]; then bad_names+=("run $n: rc $RC"); fi
  case $n in
    import-*) rc_is 1 || bad_names+=("run $n: expected an unresolved import, rc $RC") ;;
    *) rc_is 0 || bad_names+=("run $n: expected exit 0, rc $RC: $(head -c 300 "$TMP/err")") ;;
  esac
  runh compile --state-dir "$STATE" "$TMP/names/$n" -o "$TMP/names/$n.art"
  rc_is 0 || bad_names+=("compile $n: rc $RC: $(head -c 300 "$TMP/err")")
  rm -f "$MARK"
done
if ((${#bad_names[@]} == 0 && n_names == 32)); then
  ok "32 modules with C payloads in names (import module/field, export, name section): none runs"
else
  not_ok "32 modules with C payloads in names: none runs" "$n_names modules" "${bad_names[@]}"
fi
runh run --state-dir "$STATE" "$TMP/names/export-non-ascii.wasm"
check "export names survive as the guest wrote them (the module still runs)" rc_is 0
runh run --state-dir "$STATE" "$TMP/names/import-field-quotes.wasm"
check "an unresolved hostile import name is reported escaped, on one line" \
  eval 'rc_is 1 && [[ $(grep -c "unresolved import" "$TMP/err") == 1 ]] && err_has "\\x22"'

# ---- not a module, not an artifact ----
cat >"$TMP/ctor.c" <<EOF
#include <stdlib.h>
__attribute__((constructor)) static void pwn(void) { system("touch $MARK"); }
EOF
cc -shared -fPIC -o "$TMP/app.wasm" "$TMP/ctor.c"
runh run --state-dir "$STATE" "$TMP/app.wasm"
check "run of a shared library renamed app.wasm: refused, nothing runs" \
  eval 'rc_is 1 && no_mark && err_has "neither a WebAssembly module nor an elastic-hal artifact"'
runh check --state-dir "$STATE" "$TMP/app.wasm"
check "check of a shared library renamed app.wasm: refused, nothing runs" \
  eval 'rc_is 1 && no_mark && err_has "neither a WebAssembly module"'
runh compile --state-dir "$STATE" "$TMP/app.wasm" -o "$TMP/app.art"
check "compile of a shared library: refused" eval 'rc_is 1 && no_mark && [[ ! -e $TMP/app.art ]]'
printf '\0asm\x0d\0\x01\0' >"$TMP/component.wasm"
runh run --state-dir "$STATE" "$TMP/component.wasm"
# (a component runs as its main core module: this one, a bare preamble, has none)
check "a component binary is named as one" \
  eval 'rc_is 1 && err_has "WebAssembly component with no core module that defines a memory"'
runh check --state-dir "$STATE" "$TMP/component.wasm"
check "check names a component binary too" eval 'rc_is 1 && err_has "WebAssembly component"'

# ---- artifacts are authenticated ----
runh compile --state-dir "$STATE" "$ECHO" -o "$TMP/echo.art"
check "compile writes an artifact" eval 'rc_is 0 && [[ -s $TMP/echo.art ]]'
runh run --state-dir "$STATE" "$TMP/echo.art" x
check "the artifact runs where it was made" eval 'rc_is 0 && err_empty'
size=$(stat -c %s "$TMP/echo.art")
flip() { # flip FILE OFFSET : xor one byte
  python3 -c 'import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[o] ^= 1; open(p, "wb").write(b)' "$1" "$2"
}
bad=()
for off in 9 40 100 $((size / 2)) $((size - 200)) $((size - 1)); do
  cp "$TMP/echo.art" "$TMP/edited.art"
  flip "$TMP/edited.art" "$off"
  runh run --state-dir "$STATE" "$TMP/edited.art"
  rc_is 1 && err_has "cannot authenticate this artifact" || bad+=("offset $off: rc $RC $(head -c 200 "$TMP/err")")
done
check "an artifact edited anywhere (header, module, native code, tag) is refused" eval '((${#bad[@]} == 0))' || printf '# %s\n' "${bad[@]}"
runh run --state-dir "$TMP/other-state" "$TMP/echo.art"
check "an artifact made with another sealing root is refused" \
  eval 'rc_is 1 && err_has "authentication failed"'
runh check --state-dir "$TMP/fresh-state" "$TMP/echo.art"
check "check refuses an artifact it cannot authenticate, and creates nothing" \
  eval 'rc_is 1 && [[ ! -e $TMP/fresh-state ]]'
runh check --state-dir "$TMP/fresh-state" "$ECHO"
check "check of a .wasm writes nothing (no state directory, no cache)" \
  eval 'rc_is 0 && [[ ! -e $TMP/fresh-state ]]'
before=$(find "$STATE" | sort | md5sum)
runh check --state-dir "$STATE" "$TMP/echo.art"
check "check of an artifact authenticates it and writes nothing" \
  eval 'rc_is 0 && [[ $(find "$STATE" | sort | md5sum) == "$before" ]]'

# ---- the compile cache is authenticated too ----
C2=$TMP/cache-state
runh run --state-dir "$C2" "$ECHO" one
cp "$TMP/out" "$TMP/echo.out"
runh run --state-dir "$C2" "$GUESTS/hello.wasm"
entries=("$C2"/cache/*.art)
check "two modules, two cache entries" eval '((${#entries[@]} == 2))'
hello_entry=$(ls -t "$C2"/cache/*.art | head -1)
echo_entry=$(ls -t "$C2"/cache/*.art | tail -1)
cp "$echo_entry" "$hello_entry"
runh run --state-dir "$C2" "$GUESTS/hello.wasm"
check "a cache entry swapped for another module's is refused and recompiled" \
  eval 'rc_is 0 && err_has "is not authentic" && ! out_has "arg " && out_has "platform:"'
cp "$TMP/app.wasm" "$hello_entry"
runh run --state-dir "$C2" "$GUESTS/hello.wasm"
check "a cache entry replaced by a shared library never runs" \
  eval 'rc_is 0 && no_mark && err_has "is not authentic"'
runh run --state-dir "$C2" "$GUESTS/hello.wasm"
check "after recompiling, the cache entry is good again (nothing on stderr)" eval 'rc_is 0 && err_empty'

# ---- check and run agree ----
agree() { # agree DESC FILE [EXTRA-ARGS] : both refuse, with the same reason
  local desc=$1 f=$2
  shift 2
  runh check --state-dir "$STATE" "$@" "$f"
  local crc=$RC reason
  reason=$(grep -v "^$" "$TMP/out" "$TMP/err" | sed 's/^[^:]*: //' | head -1)
  runh run --state-dir "$STATE" "$@" "$f"
  if [[ $crc == 1 && $RC == 1 ]] && no_mark; then
    ok "check and run both refuse: $desc"
  else
    not_ok "check and run both refuse: $desc" "check: $crc ($reason)" "$(last_diag)"
  fi
}
w() { # w NAME FLAGS TEXT : wat2wasm with feature flags
  printf '%s\n' "$3" >"$TMP/$1.wat"
  # shellcheck disable=SC2086
  wat2wasm $2 "$TMP/$1.wat" -o "$TMP/$1.wasm" 2>"$TMP/wat.err" || sed 's/^/# /' "$TMP/wat.err"
  echo "$TMP/$1.wasm"
}
agree "memory64" "$(w m64 --enable-memory64 '(module (memory (export "memory") i64 1) (func (export "_start")))')"
agree "two memories" "$(w mm --enable-multi-memory '(module (memory (export "memory") 1) (memory 1) (func (export "_start")))')"
agree "shared memory" "$(w shm --enable-threads '(module (memory (export "memory") 1 2 shared) (func (export "_start")))')"
agree "initial memory above --max-memory" "$(w big '' '(module (memory (export "memory") 17000) (func (export "_start")))')"
agree "initial memory above a smaller --max-memory" "$(w mid '' '(module (memory (export "memory") 20) (func (export "_start")))')" --max-memory 1
agree "no _start" "$(w nostart '' '(module (memory (export "memory") 1) (func (export "main")))')"
agree "_start of the wrong type" "$(w badstart '' '(module (memory (export "memory") 1) (func (export "_start") (param i32)))')"
agree "_start that is not a function" "$(w globstart '' '(module (memory (export "memory") 1) (global (export "_start") i32 (i32.const 0)))')"
agree "_initialize of the wrong type" "$(w badinit '' '(module (memory (export "memory") 1) (func (export "_initialize") (result i32) i32.const 0) (func (export "_start")))')"
agree "a global import" "$(w gimp '' '(module (import "env" "g" (global i32)) (memory (export "memory") 1) (func (export "_start")))')"
agree "imports but no exported memory" "$(w nomem '' '(module (import "wasi_snapshot_preview1" "sched_yield" (func (result i32))) (func (export "_start")))')"
agree "an unresolvable import" "$(w unres '' '(module (import "env" "nope" (func)) (memory (export "memory") 1) (func (export "_start")))')"
agree "an invalid function body (type mismatch)" "$(w badbody --no-check '(module (memory (export "memory") 1) (func (export "_start") (drop (i32.add (i32.const 1) (i64.const 2)))))')"
SIMD=$(w simd '' '(module (memory (export "memory") 1) (func (export "_start") (drop (i32x4.extract_lane 0 (v128.load (i32.const 0))))))')
agree "a module that uses SIMD" "$SIMD"
runh check --state-dir "$STATE" "$SIMD"
check "check says SIMD is what stands in the way, and what to do" \
  eval 'err_has "uses SIMD (v128)" && err_has "without -msimd128"'
runh run --state-dir "$STATE" "$SIMD"
check "run says the same, not 'wasm2c failed'" eval 'err_has "uses SIMD (v128)" && ! err_has "wasm2c failed"'
head -c 30 "$ECHO" >"$TMP/trunc.wasm"
agree "a truncated module" "$TMP/trunc.wasm"
runh check --state-dir "$STATE" "$(w fine '' '(module (memory (export "memory") 17000) (func (export "_start")))')" --max-memory 2048
check "check accepts what run runs (17000 pages under --max-memory 2048)" rc_is 0
runh run --state-dir "$STATE" --max-memory 2048 "$TMP/fine.wasm"
check "run runs it" rc_is 0

# ---- memory at the 4 GiB limit ----
g=$(w grow '' '(module
  (import "wasi_snapshot_preview1" "random_get" (func $rg (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (i32.ne (memory.grow (i32.const 65535)) (i32.const -1)) (then (call $exit (i32.const 10))))
    (if (i32.ne (memory.grow (i32.const 65534)) (i32.const 1)) (then (call $exit (i32.const 11))))
    (if (i32.ne (memory.size) (i32.const 65535)) (then (call $exit (i32.const 12))))
    (i32.store (i32.const 0xFFFEFFF0) (i32.const 0x12345678))
    (if (i32.ne (i32.load (i32.const 0xFFFEFFF0)) (i32.const 0x12345678)) (then (call $exit (i32.const 13))))
    (if (i32.ne (call $rg (i32.const 0xFFFEFF00) (i32.const 16)) (i32.const 0)) (then (call $exit (i32.const 14))))
    (i32.store (i32.const 16) (i32.const 7))
    (if (i32.ne (i32.load (i32.const 16)) (i32.const 7)) (then (call $exit (i32.const 15))))
    (call $exit (i32.const 0))))')
runh run --state-dir "$STATE" --max-memory 4096 "$g"
check "--max-memory 4096: growing to 65536 pages fails, 65535 pages work, memory stays usable (host call included)" \
  eval 'rc_is 0 && no_sanitizer'

finish
