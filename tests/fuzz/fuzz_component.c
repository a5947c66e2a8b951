/*
 * fuzz_component.c - libFuzzer harness for the component reader
 * (wasm/component.c), which takes untrusted Component Model binaries apart
 * before anything of them runs.
 *
 * Beyond "no crash, no sanitizer report, no leak", it checks what the
 * reader promises (component.h): a refusal says why in one line and leaves
 * nothing behind; an accepted component's main module is a core module
 * inside the input, its place among the core modules is in range, and every
 * import has a name without NUL; admit() on the main module, when the core
 * reader takes it, also answers in one line.  Seeds: tests/fuzz/seeds/component/.
 * Build and run: tests/fuzz/run.sh, make fuzz.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/wasm/component.h"
#include "../../src/wasm/wasm_module.h"

#define CHECK(c)       \
  do {                 \
    if (!(c)) abort(); \
  } while (0)

static void check_reason(const elastic_hal_error *err) {
  size_t n = strnlen(err->msg, sizeof err->msg);
  CHECK(n > 0 && n < sizeof err->msg && !memchr(err->msg, '\n', n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ehal_component c;
  elastic_hal_error err;
  memset(&err, 0, sizeof err);
  if (ehal_component_read(data, size, &c, &err) != 0) {
    check_reason(&err);
    CHECK(!c.imports && !c.n_imports && !c.core && !c.core_len);
    return 0;
  }
  CHECK(ehal_component_is(data, size));
  CHECK(c.core > data && c.core_len >= 8 && c.core_len <= size &&
        (size_t)(c.core - data) <= size - c.core_len);
  CHECK(memcmp(c.core, "\0asm\1\0\0\0", 8) == 0);
  CHECK(c.core_index >= 1 && c.core_index <= c.n_core);
  for (size_t i = 0; i < c.n_imports; i++) {
    CHECK(c.imports[i].name);
    CHECK(c.imports[i].kind <= EHAL_COMP_INSTANCE);
    (void)ehal_component_needs_linking(&c.imports[i]);
  }
  /* reading is a function of the bytes alone */
  ehal_component again;
  CHECK(ehal_component_read(data, size, &again, &err) == 0);
  CHECK(again.core == c.core && again.core_len == c.core_len && again.n_imports == c.n_imports);
  ehal_component_free(&again);
  ehal_wasm_info info;
  if (ehal_wasm_parse(c.core, c.core_len, &info, &err) == 0) {
    memset(&err, 0, sizeof err);
    if (ehal_component_admit(&c, &info, &err) != 0) check_reason(&err);
    ehal_wasm_info_free(&info);
  }
  ehal_component_free(&c);
  CHECK(!c.imports && !c.n_imports);
  return 0;
}
