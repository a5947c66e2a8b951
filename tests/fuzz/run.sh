#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] - build the libFuzzer harnesses with Debian's
# clang (AddressSanitizer + UBSan) and run each for SECONDS (default 10:
# the short slice the test suite runs; 'make fuzz' runs longer).  Seeds:
# every module the build made and every .wat test module; for the SPIR-V
# checker, every shader the build compiled; for the component reader,
# tests/fuzz/seeds/component/.  Prints TAP.
# Needs a configured build tree for the generated header (BUILD, default
# build).  A crash leaves its input in build/fuzz/ for replay:
#   build/fuzz/fuzz_wasm build/fuzz/crash-...
set -uo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
BUILD=${BUILD:-build}
OUT=$BUILD/fuzz
mkdir -p "$OUT/corpus"
n=0
failed=0
say() { n=$((n + 1)); echo "$1 $n - $2"; [[ $1 == ok ]] || failed=$((failed + 1)); }
# fuzz NAME MAX_LEN CORPUS WHAT: runs $OUT/fuzz_NAME for SECS on CORPUS
fuzz() {
  if (cd "$OUT" && ./fuzz_$1 -max_total_time="$SECS" -max_len="$2" -rss_limit_mb=2048 \
    -print_final_stats=1 "$3" >"fuzz-$1.log" 2>&1); then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/fuzz-$1.log" | grep -o '[0-9]*$')
    say ok "fuzz_$1: ${SECS}s, ${runs:-?} inputs, $4"
  else
    say "not ok" "fuzz_$1: $4"
    grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$OUT/fuzz-$1.log" | head -20 | sed 's/^/# /'
  fi
}

if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Iinclude -I"$BUILD/gen" -Isrc/runtime \
  tests/fuzz/fuzz_wasm.c src/wasm/wasm_module.c src/engine/wasm2c/sanitize.c \
  -o "$OUT/fuzz_wasm" 2>"$OUT/build.log"; then
  say "not ok" "build the fuzz_wasm harness with clang -fsanitize=fuzzer"
  sed 's/^/# /' "$OUT/build.log" | head -20
  echo "1..$n"
  exit 1
fi
say ok "build the fuzz_wasm harness with clang -fsanitize=fuzzer"

# seeds
cp "$BUILD"/guests/*.wasm "$OUT/corpus/" 2>/dev/null
for w in tests/cli/wat/*.wat; do
  wat2wasm "$w" -o "$OUT/corpus/$(basename "$w" .wat).wasm" 2>/dev/null
done
python3 tests/cli/hostile_names.py "$OUT/corpus/names" /nonexistent >/dev/null &&
  mv "$OUT"/corpus/names/*.wasm "$OUT/corpus/" && rmdir "$OUT/corpus/names"

fuzz wasm 65536 corpus "no crash and every rewriting invariant held"
# the component reader (run, check and compile take a component as its
# main core module); seeds: small components jco made, and crafted ones
if clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Iinclude -I"$BUILD/gen" tests/fuzz/fuzz_component.c src/wasm/component.c src/wasm/wasm_module.c \
  -o "$OUT/fuzz_component" 2>"$OUT/build-component.log"; then
  say ok "build the fuzz_component harness with clang -fsanitize=fuzzer"
  mkdir -p "$OUT/corpus-component"
  cp tests/fuzz/seeds/component/* "$OUT/corpus-component/" 2>/dev/null
  fuzz component 65536 corpus-component "no crash, refusals in one line, the main module inside"
else
  say "not ok" "build the fuzz_component harness with clang -fsanitize=fuzzer"
  sed 's/^/# /' "$OUT/build-component.log" | head -20
fi
# the verifier's readers of untrusted evidence
if clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Iinclude tests/fuzz/fuzz_verify.c $(ls src/verify/*.c | grep -v '/api\.c$') src/util/*.c \
  -lcrypto -ljson-c -o "$OUT/fuzz_verify" 2>"$OUT/build-verify.log"; then
  say ok "build the fuzz_verify harness with clang -fsanitize=fuzzer"
  mkdir -p "$OUT/corpus-verify"
  find ../shared/testdata/attestation -type f -size -2M -exec cp {} "$OUT/corpus-verify/" \; 2>/dev/null
  cp tests/fuzz/seeds/verify/* "$OUT/corpus-verify/" 2>/dev/null
  fuzz verify 65536 corpus-verify "no crash, every result has a reason"
else
  say "not ok" "build the fuzz_verify harness with clang -fsanitize=fuzzer"
  sed 's/^/# /' "$OUT/build-verify.log" | head -20
fi
# what a deployment reads from its workloads' runtimes, audit logs and
# manifests (the deploy sources instrumented; the rest from the build's
# static library)
if clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_GNU_SOURCE -Iinclude -I"$BUILD/gen" -Isrc/runtime tests/fuzz/fuzz_deploy.c src/deploy/broker.c \
  src/deploy/bus.c src/deploy/wire.c src/deploy/audit.c src/deploy/manifest.c \
  "$BUILD/libelastic-hal-static.a" -lssl -lcrypto -ljson-c -lsqlite3 -lvulkan -lSPIRV-Tools-opt \
  -lSPIRV-Tools -lstdc++ -lm -ldl -lpthread -o "$OUT/fuzz_deploy" 2>"$OUT/build-deploy.log"; then
  say ok "build the fuzz_deploy harness with clang -fsanitize=fuzzer"
  mkdir -p "$OUT/corpus-deploy"
  cp tests/fuzz/seeds/deploy/* "$OUT/corpus-deploy/" 2>/dev/null
  fuzz deploy 16384 corpus-deploy "no crash, every answer a whole frame"
else
  say "not ok" "build the fuzz_deploy harness with clang -fsanitize=fuzzer"
  sed 's/^/# /' "$OUT/build-deploy.log" | head -20
fi
# the WASI filesystem calls a guest makes on sealed and host directories
# (the paths, descriptors and iovecs it passes; wasi_fs.c, wasi_hostdir.c,
# sealfs.c and the store)
if clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Iinclude -I"$BUILD/gen" -Isrc/runtime tests/fuzz/fuzz_wasi_fs.c src/wasi/wasi_fs.c src/wasi/wasi_hostdir.c \
  src/fs/sealfs.c src/storage/store.c src/storage/seal.c src/storage/backend_sqlite.c \
  src/attest/sealing.c src/util/fileio.c src/util/fsutil.c src/util/hex.c -lsqlite3 -lcrypto \
  -o "$OUT/fuzz_wasi_fs" 2>"$OUT/build-wasi-fs.log"; then
  say ok "build the fuzz_wasi_fs harness with clang -fsanitize=fuzzer"
  mkdir -p "$OUT/corpus-wasi-fs"
  fuzz wasi_fs 4096 corpus-wasi-fs "no crash, nothing outside guest memory touched"
else
  say "not ok" "build the fuzz_wasi_fs harness with clang -fsanitize=fuzzer"
  sed 's/^/# /' "$OUT/build-wasi-fs.log" | head -20
fi
# the checks a guest's SPIR-V passes before a GPU driver sees it
# (clang++ links the C++ sanitizer runtimes robust.cpp needs; -x c: the rest is C)
if clang++ -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -x c tests/fuzz/fuzz_spirv.c src/gpu/spirv.c src/gpu/bound.c -x c++ src/gpu/robust.cpp -x none \
  -lSPIRV-Tools-opt -lSPIRV-Tools -lm \
  -o "$OUT/fuzz_spirv" 2>"$OUT/build-spirv.log"; then
  say ok "build the fuzz_spirv harness with clang -fsanitize=fuzzer"
  mkdir -p "$OUT/corpus-spirv"
  cp "$BUILD"/shaders/*.spv "$OUT/corpus-spirv/" 2>/dev/null
  fuzz spirv 16384 corpus-spirv "no crash, refusals say why, what passes is rewritten whole"
else
  say "not ok" "build the fuzz_spirv harness with clang -fsanitize=fuzzer"
  sed 's/^/# /' "$OUT/build-spirv.log" | head -20
fi
echo "1..$n"
((failed == 0))
