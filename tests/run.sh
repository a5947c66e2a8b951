#!/usr/bin/env bash
# Test runner: runs every test program and script against one or more build
# trees and sums their TAP lines ("ok N - ..." / "not ok N - ...").
#
#   tests/run.sh BUILD [BUILD...]
#
# Per build tree:  BUILD/tests/test_*   (C unit tests and guest runners)
#                  tests/cli/*.sh       (with EHAL=BUILD/elastic-hal, GUESTS=BUILD/guests)
# Once:            tests/wit/*.sh       (WIT validation with the standard parser)
#                  tests/fuzz/run.sh    (libFuzzer harnesses, a 10 s slice)
# Ends with "N passed, N failed"; exit status 0 only when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() { # label, command...
  local label=$1
  shift
  "$@" >"$log" 2>&1
  local rc=$?
  local p f
  p=$(grep -cE '^ok( |$)' "$log")
  f=$(grep -cE '^not ok( |$)' "$log")
  if ((rc != 0 && f == 0)); then f=1; fi
  if ((p == 0 && f == 0)); then f=1; echo "no test ran" >>"$log"; fi
  passed=$((passed + p))
  failed=$((failed + f))
  if ((f > 0)); then
    echo "FAIL $label ($p passed, $f failed, exit $rc)"
    grep -E '^not ok|^#' "$log" | head -40 | sed 's/^/    /'
    if ! grep -qE '^not ok' "$log"; then tail -20 "$log" | sed 's/^/    /'; fi
  else
    echo "ok   $label ($p passed)"
  fi
}

for build in "$@"; do
  [[ -x "$build/elastic-hal" ]] || { echo "no $build/elastic-hal: build first"; exit 2; }
  for t in "$build"/tests/test_*; do
    [[ -x "$t" ]] && run_one "$build: $(basename "$t")" "$t"
  done
  for s in tests/cli/*.sh; do
    [[ -f "$s" ]] && run_one "$build: $(basename "$s")" env EHAL="$build/elastic-hal" \
      GUESTS="$build/guests" BUILD="$build" bash "$s"
  done
done
for s in tests/wit/*.sh; do
  [[ -f "$s" ]] && run_one "wit: $(basename "$s")" bash "$s"
done
# a short slice of fuzzing (make fuzz runs longer)
run_one "fuzz: run.sh (${EHAL_FUZZ_SECONDS:-10}s)" env BUILD="$1" bash tests/fuzz/run.sh "${EHAL_FUZZ_SECONDS:-10}"

echo
echo "$passed passed, $failed failed"
((failed == 0))
