#!/usr/bin/env bash
# packaging.sh - what an installed HAL gives its users: a pkg-config entry
# with the prefix actually installed to, headers a program builds against,
# and guest bindings usable from C++.
source "$(dirname "$0")/common.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "$BUILD" && pwd)

# install with another prefix than the build was configured with
DEST=$TMP/dest
if DESTDIR=$DEST cmake --install "$B" --prefix /opt/ehal-test >"$TMP/install.log" 2>&1; then
  ok "cmake --install --prefix /opt/ehal-test into a DESTDIR"
else
  not_ok "cmake --install --prefix /opt/ehal-test into a DESTDIR" "$(tail -5 "$TMP/install.log")"
fi
PC=$(find "$DEST" -name elastic-hal.pc | head -1)
check "the installed elastic-hal.pc names the install prefix" \
  eval '[[ -n $PC ]] && grep -qx "prefix=/opt/ehal-test" "$PC"'
cat >"$TMP/use.c" <<'EOF'
#include <stdio.h>
#include <elastic_hal.h>
int main(void) {
  elastic_hal_linker *l = elastic_hal_linker_new();
  printf("%s\n", elastic_hal_platform_type());
  elastic_hal_linker_free(l);
  return 0;
}
EOF
flags=$(PKG_CONFIG_SYSROOT_DIR=$DEST PKG_CONFIG_PATH=$(dirname "$PC") pkg-config --cflags --libs elastic-hal 2>&1)
# a sanitizer build's library needs its runtime in the program too
san=""
grep -q '^EHAL_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
if cc $san "$TMP/use.c" $flags -o "$TMP/use" 2>"$TMP/cc.err" &&
  LD_LIBRARY_PATH=$(dirname "$(find "$DEST" -name 'libelastic-hal.so' | head -1)") "$TMP/use" >/dev/null; then
  ok "a program builds and runs against the installed headers and library through pkg-config"
else
  not_ok "a program builds and runs against the installed headers and library through pkg-config" \
    "flags: $flags" "$(head -5 "$TMP/cc.err")"
fi

# nothing of the test build is installed: no elastic-hal-test, no test-only
# WIT package (tests/wit/) in the installed command's catalog or WIT
BIN=$(find "$DEST" -type f -name elastic-hal -perm -u+x | head -1)
check "the installed HAL has nothing test-only (elastic-hal-test, test:unimplemented)" \
  eval '[[ -n $BIN && -z $(find "$DEST" -name "elastic-hal-test*") ]] &&
    ! grep -rq "test:unimplemented" "$DEST" && "$BIN" info >"$TMP/info" &&
    ! grep -q unimplemented "$TMP/info"'

# the library exports its API and nothing of its insides
SO=$(find "$DEST" -name 'libelastic-hal.so' | head -1)
nm -D --defined-only "$SO" | awk '{print $3}' >"$TMP/exports" # to a file: no SIGPIPE under pipefail
others=$(grep -v -e '^elastic_hal_' -e '^_init$' -e '^_fini$' "$TMP/exports" | head -5)
check "libelastic-hal.so exports only elastic_hal_* (no wasm_rt_*, ehal_*, blake3_*)" \
  eval '[[ -z $others ]] && grep -qx elastic_hal_instantiate "$TMP/exports"' ||
  echo "# also exported: $others"
# artifacts reach the runtime through a table: the CLI exports nothing to them
nm -D --defined-only "$BIN" | awk '{print $3}' >"$TMP/cli-exports"
check "the elastic-hal executable exports no runtime symbol (wasm_rt_*, ehal_*)" \
  eval '! grep -qE "^(wasm_rt_|ehal_)" "$TMP/cli-exports" &&
    XDG_STATE_HOME=$TMP/xdg "$BIN" run "$GUESTS/hello.wasm" >/dev/null'

# examples/embed, built the way its Makefile does, against the installed HAL
LIBDIR=$(dirname "$(find "$DEST" -name 'libelastic-hal.so' | head -1)")
wat2wasm "$ROOT/examples/embed/guest.wat" -o "$TMP/embed-guest.wasm"
# shellcheck disable=SC2086
if cc $san -O2 -Wall -Wextra -Werror "$ROOT/examples/embed/embed.c" $flags -o "$TMP/embed" 2>"$TMP/cc.err"; then
  XDG_STATE_HOME=$TMP/xdg LD_LIBRARY_PATH=$LIBDIR "$TMP/embed" "$TMP/embed-guest.wasm" 21 >"$TMP/embed.out" 2>&1
  check "examples/embed builds against the installed HAL, calls its host function and the guest" \
    eval 'grep -qx "guest says: hello from the guest" "$TMP/embed.out" && grep -qx "run(21) = 42" "$TMP/embed.out"'
else
  not_ok "examples/embed builds against the installed HAL without warnings" "$(head -5 "$TMP/cc.err")"
fi

# the guest header: handles keep their typedefs, results that own memory
# have free functions, and what this HAL does not implement warns at compile
# time (the test build's header carries the never-implemented test package)
GH=$(find "$DEST" -name elastic_hal_guest.h | head -1)
cat >"$TMP/g1.c" <<'EOF'
#include "elastic_hal_guest.h"
int main(void) {
  elastic_string_t e;
  elastic_storage_container_handle_t c;
  elastic_capabilities_list_capability_info_t caps;
  elastic_capabilities_list_capabilities(&caps);
  elastic_capabilities_list_capability_info_free(&caps);
  if (!elastic_storage_open_container(elastic_string("c"), &c, &e)) elastic_string_free(&e);
  return 0;
}
EOF
if clang --target=wasm32-wasi -Wall -Wextra -Werror -fsyntax-only -I"$(dirname "$GH")" "$TMP/g1.c" 2>"$TMP/g1.err"; then
  ok "a guest using handle typedefs and a list's free function compiles warning-free"
else
  not_ok "a guest using handle typedefs and a list's free function compiles warning-free" "$(head -5 "$TMP/g1.err")"
fi
cat >"$TMP/g2.c" <<'EOF'
#include "elastic_hal_guest.h"
int main(void) {
  elastic_string_t e;
  elastic_unimplemented_thing_handle_t h = 1;
  return elastic_unimplemented_close(h, &e);
}
EOF
clang --target=wasm32-wasi -Wall -Wextra -Werror -fsyntax-only -I"$B/gen-test/guest" "$TMP/g2.c" 2>"$TMP/g2.err"
check "calling a function this HAL does not implement warns at compile time (ELASTIC_HAL_UNLINKED)" \
  eval 'grep -q "not implemented by this HAL" "$TMP/g2.err"'

# the guest bindings from C++: declarations keep C linkage
cat >"$TMP/guest.cc" <<'EOF'
#include "elastic_hal_guest.h"
int use() { return (int)elastic_string("x").len; }
EOF
if c++ -c -I"$(dirname "$GH")" "$TMP/guest.cc" -o "$TMP/guest.o" 2>"$TMP/cxx.err"; then
  check "the guest header compiles as C++ and keeps C linkage (elastic_string unmangled)" \
    eval 'nm -u "$TMP/guest.o" | grep -qw elastic_string'
else
  not_ok "the guest header compiles as C++" "$(head -5 "$TMP/cxx.err")"
fi

finish
