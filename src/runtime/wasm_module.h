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
  int n_memories;   /* defined memories (imported ones are refused) */
  uint32_t mem_min; /* initial pages of the first defined memory */
} ehal_wasm_info;

int ehal_wasm_parse(const uint8_t *buf, size_t len, ehal_wasm_info *out, elastic_hal_error *err);
void ehal_wasm_info_free(ehal_wasm_info *info);
/* "(i32, i64) -> i32" for a compact signature; writes into buf. */
const char *ehal_sig_pretty(const char *sig, char *buf, size_t len);

#endif
