#!/usr/bin/env bash
# cache.sh - the compile cache stays under its bound, least recently used
# entries first (issue 11): ELASTIC_HAL_CACHE_MAX_MB, every cache hit
# refreshes an entry, the entry just written always stays.
source "$(dirname "$0")/common.bash"

# mod NAME CHAR: a module with 200 KB of data (so that its cache entry is
# some 400 KB) and an empty _start; CHAR makes each one different
mod() {
  {
    printf '(module (memory 4) (data (i32.const 0) "'
    head -c 204800 /dev/zero | tr '\0' "$2"
    echo '") (func (export "_start")))'
  } >"$TMP/$1.wat"
  wat2wasm "$TMP/$1.wat" -o "$TMP/$1.wasm"
}
for m in a b c; do mod "$m" "$m"; done

S=$TMP/cache-state
export ELASTIC_HAL_CACHE_MAX_MB=1
# compiled: did this run compile (its --progress says so)?
run_mod() { runh run --progress --state-dir "$S" "$TMP/$1.wasm"; }
compiled() { err_has translating; }

run_mod a
run_mod b
size=$(du -cb "$S"/cache/*.art | tail -1 | cut -f1)
check "two entries fit the 1 MiB bound ($size bytes)" \
  eval '((size < 1048576)) && [[ $(ls "$S"/cache/*.art | wc -l) == 2 ]]'
sleep 0.05 # distinct modification times
run_mod a
check "a cache hit: module a runs without compiling" eval 'rc_is 0 && ! compiled'
sleep 0.05
run_mod c
n=$(ls "$S"/cache/*.art | wc -l)
check "a third entry goes over the bound: one entry is evicted ($n left)" \
  eval '[[ $n == 2 ]] && [[ $(du -cb "$S"/cache/*.art | tail -1 | cut -f1) -le 1048576 ]]'
run_mod a
check "the least recently used one went, not the oldest: a (used last) is still cached" \
  eval 'rc_is 0 && ! compiled'
run_mod b
check "b (unused since its compile) was evicted: it compiles again" eval 'rc_is 0 && compiled'

# without the variable, the default bound (1 GiB) keeps everything
unset ELASTIC_HAL_CACHE_MAX_MB
S=$TMP/cache-default
for m in a b c; do run_mod $m; done
check "with the default bound, all three entries stay" \
  eval '[[ $(ls "$S"/cache/*.art | wc -l) == 3 ]]'

finish
