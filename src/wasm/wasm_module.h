/*
 * wasm_module.h - reads the parts of a WebAssembly binary the linker needs:
 * types, imports, functions and exports.  It checks structure (bounds, LEB128
 * encodings, indices); full validation is left to the engine's compiler.
 */
#ifndef EHAL_WASM_MODULE_H
#define EHAL_WASM_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "elastic-hal/elastic_hal.h"

enum {
  EHAL_EXTERN_FUNC = 0,
  EHAL_EXTERN_TABLE = 1,
  EHAL_EXTERN_MEMORY = 2,
  EHAL_EXTERN_GLOBAL = 3
};

/* Core signatures are written compactly: one letter per value type
 * (i = i32, I = i64, f = f32, F = f64, v = v128, r = reference), params,
 * a colon, results.  "iI:i" is (i32, i64) -> i32. */
typedef struct {
  char *module;
  char *field;
  uint8_t kind;
  char *sig; /* functions only */
} ehal_wasm_import;

typedef struct {
  char *name;
  uint8_t kind;
  char *sig; /* functions only */
} ehal_wasm_export;

typedef struct {
  ehal_wasm_import *imports;
  size_t n_imports;
  ehal_wasm_export *exports;
  size_t n_exports;
  int n_memories;    /* defined memories (imported ones are refused) */
  uint32_t mem_min;  /* initial pages of the first defined memory */
  uint8_t mem_flags; /* limits flags of all defined memories, or'ed */
} ehal_wasm_info;

int ehal_wasm_parse(const uint8_t *buf, size_t len, ehal_wasm_info *out, elastic_hal_error *err);
/* What the HAL accepts of a well-formed module, whatever it is linked
 * against: function imports only, of i32/i64/f32/f64 values, none twice;
 * at most one memory, 32-bit and unshared, under 4 GiB initially, exported
 * as "memory" or "cm32p2_memory" when the module imports anything; entry
 * points (_start, _initialize, cm32p2_initialize), where exported, of type
 * () -> ().  Returns 0, or -1 with the first problem in err. */
int ehal_wasm_admit(const ehal_wasm_info *info, elastic_hal_error *err);
void ehal_wasm_info_free(ehal_wasm_info *info);
/* A name from a module, fit for a diagnostic: printable ASCII stays (a
 * backslash and a double quote become \x5c and \x22), every other byte is
 * \xHH, and a name longer than fits ends in "...".  Writes into buf. */
const char *ehal_name_escaped(const char *name, char *buf, size_t len);
/* "(i32, i64) -> i32" for a compact signature; writes into buf. */
const char *ehal_sig_pretty(const char *sig, char *buf, size_t len);

#endif
