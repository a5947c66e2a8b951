/*
 * fuzz_wasm.c - libFuzzer harness for the two readers of untrusted modules:
 * the module reader (runtime/wasm_module.c) and the name rewriting that
 * stands between a guest and wasm2c (engine/wasm2c/sanitize.c).
 *
 * Beyond "no crash, no sanitizer report", it checks what the rewriting
 * promises (sanitize.h): the output keeps no custom section and no start
 * section, every import and export name is one this HAL generated, and a
 * module the reader accepts is still accepted after rewriting, with the same
 * imports and signatures.  Build and run: tests/fuzz/run.sh, make fuzz.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/engine/wasm2c/sanitize.h"
#include "../../src/wasm/wasm_module.h"

#define CHECK(c)       \
  do {                 \
    if (!(c)) abort(); \
  } while (0)

static uint32_t leb(const uint8_t **p, const uint8_t *end) {
  uint32_t v = 0;
  for (unsigned shift = 0; shift < 35; shift += 7) {
    CHECK(*p < end);
    uint8_t b = *(*p)++;
    v |= (uint32_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  abort();
}

/* a generated name: one lower-case letter, then decimal digits */
static void check_name(const uint8_t **p, const uint8_t *end) {
  uint32_t n = leb(p, end);
  CHECK(n >= 1 && n <= 12 && n <= (size_t)(end - *p));
  CHECK((*p)[0] >= 'a' && (*p)[0] <= 'z');
  for (uint32_t i = 1; i < n; i++) CHECK((*p)[i] >= '0' && (*p)[i] <= '9');
  *p += n;
}

static void check_sanitized(const uint8_t *w, size_t len) {
  CHECK(len >= 8 && memcmp(w, "\0asm\1\0\0\0", 8) == 0);
  const uint8_t *p = w + 8, *end = w + len;
  while (p < end) {
    uint8_t id = *p++;
    uint32_t size = leb(&p, end);
    CHECK(size <= (size_t)(end - p));
    CHECK(id != 0 && id != 8); /* no custom section, no start section */
    const uint8_t *s = p, *se = p + size;
    if (id == 2 || id == 7) {
      uint32_t n = leb(&s, se);
      for (uint32_t i = 0; i < n; i++) {
        check_name(&s, se);
        if (id == 2) check_name(&s, se);
        CHECK(s < se);
        uint8_t kind = *s++;
        /* skip the descriptor: an export's is an index, an import's a type */
        if (id == 7 || kind == 0)
          leb(&s, se);
        else if (kind == 1) {
          s++;
          uint8_t f = *s++;
          leb(&s, se);
          if (f & 1) leb(&s, se);
        } else if (kind == 2) {
          uint8_t f = *s++;
          leb(&s, se);
          if (f & 1) leb(&s, se);
        } else if (kind == 3)
          s += 2;
        else
          abort();
        CHECK(s <= se);
      }
    }
    p += size;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  elastic_hal_error err;
  ehal_wasm_info info;
  bool parsed = ehal_wasm_parse(data, size, &info, &err) == 0;
  if (parsed) {
    (void)ehal_wasm_admit(&info, &err);
    char buf[200];
    for (size_t i = 0; i < info.n_imports; i++) {
      const char *e = ehal_name_escaped(info.imports[i].module, buf, sizeof buf);
      CHECK(strlen(e) < sizeof buf);
      for (const char *c = e; *c; c++) CHECK(*c >= 0x20 && *c < 0x7f && *c != '"');
    }
  }
  ehal_w2c_sanitized out;
  char why[256];
  if (ehal_w2c_sanitize(data, size, &out, why, sizeof why) == 0) {
    check_sanitized(out.wasm, out.len);
    ehal_wasm_info again;
    if (parsed && ehal_wasm_parse(out.wasm, out.len, &again, &err) == 0) {
      CHECK(again.n_imports == info.n_imports);
      CHECK(again.n_exports == info.n_exports + (out.has_start ? 1 : 0));
      for (size_t i = 0; i < info.n_imports; i++) {
        CHECK(again.imports[i].kind == info.imports[i].kind);
        CHECK((!again.imports[i].sig && !info.imports[i].sig) ||
              (again.imports[i].sig && info.imports[i].sig &&
               !strcmp(again.imports[i].sig, info.imports[i].sig)));
      }
      ehal_wasm_info_free(&again);
    }
    ehal_w2c_sanitized_free(&out);
  }
  if (parsed) ehal_wasm_info_free(&info);
  return 0;
}
