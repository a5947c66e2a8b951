#!/usr/bin/env bash
# tiers.sh - a big module's first run compiles at the quick tier (-Og), the
# optimized code is built in the background and used from the next run on
# (issue 11).  ELASTIC_HAL_QUICK_TIER_LINES makes the hello example "big".
source "$(dirname "$0")/common.bash"

G=$GUESTS/hello.wasm
S=$TMP/tier-state
quick_entries() { ls "$S"/cache/*.quick.art 2>/dev/null | wc -l; }
optimized_entries() { ls "$S"/cache/*.art 2>/dev/null | grep -vc '\.quick\.art$'; }

ELASTIC_HAL_QUICK_TIER_LINES=100 runh run --progress --state-dir "$S" "$G"
check "a module over the quick-tier size compiles at the quick tier first, and runs" \
  eval 'rc_is 0 && out_has platform: && err_has "quick tier"'

# the background upgrade: the optimized entry replaces the quick one
for _ in $(seq 1 300); do
  [[ $(optimized_entries) == 1 && $(quick_entries) == 0 ]] && break
  sleep 0.2
done
check "in the background, the optimized code is built into the cache; the quick entry goes" \
  eval '[[ $(optimized_entries) == 1 && $(quick_entries) == 0 ]]'
ELASTIC_HAL_QUICK_TIER_LINES=100 runh run --progress --state-dir "$S" "$G"
check "the next run uses the optimized code, compiling nothing" \
  eval 'rc_is 0 && out_has platform: && ! err_has compiling'

# compile --cache: the optimized code at once, without a run
S=$TMP/tier-state2
ELASTIC_HAL_QUICK_TIER_LINES=100 runh compile --cache --state-dir "$S" "$G"
check "compile --cache puts the optimized code into the cache, whatever the size" \
  eval 'rc_is 0 && [[ $(optimized_entries) == 1 && $(quick_entries) == 0 ]]'
runh run --progress --state-dir "$S" "$G"
check "... and run finds it there" eval 'rc_is 0 && ! err_has compiling'

# under the default bound (500000 lines) a small module goes straight to -O2
S=$TMP/tier-state3
runh run --progress --state-dir "$S" "$G"
check "a small module compiles at the optimized tier at once" \
  eval 'rc_is 0 && ! err_has "quick tier" && [[ $(optimized_entries) == 1 && $(quick_entries) == 0 ]]'
runh compile --state-dir "$S" "$G"
check "compile needs -o or --cache (usage error)" rc_is 2
S=$TMP/tier-state4
runh compile --cache --tier quick --state-dir "$S" "$G"
check "compile --cache --tier quick writes the quick tier's entry only" \
  eval 'rc_is 0 && [[ $(optimized_entries) == 0 && $(quick_entries) == 1 ]]'
runh compile --cache --tier fastest --state-dir "$S" "$G"
check "an unknown --tier is a usage error" eval 'rc_is 2 && err_has "--tier"'

finish
