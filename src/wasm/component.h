/*
 * component.h - reads a WebAssembly component (the Component Model's binary
 * format, what jco new, wit-component and cargo-component emit) far enough
 * to run it the way this HAL runs core modules.
 *
 * This HAL implements the canonical ABI from the host side: a guest's core
 * module imports each interface function by its interface name and calls
 * it directly.  A component made by wit-component holds exactly such a core
 * module (its "main module") next to small helper modules (the shim and
 * fixup modules that wire indirect calls, and the WASI preview 1 adapter
 * when the guest was built for wasm32-wasi).  The HAL runs the main module
 * alone, as if it had been given that core module: it implements WASI
 * preview 1 itself, so the adapter is not needed.  The component's own
 * wiring (instances, aliases, canonical definitions, exports) is not
 * interpreted.
 *
 * The main module is the one core module that defines a memory: helper
 * modules import theirs (the adapter) or have none (shim, fixup).  The input
 * is untrusted: every length, count and LEB128 is checked against what is
 * left of its section, and what is allocated grows linearly with the file.
 */
#ifndef EHAL_COMPONENT_H
#define EHAL_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elastic-hal/elastic_hal.h"
#include "wasm_module.h"

/* externdesc sorts of a component import */
enum {
  EHAL_COMP_CORE_MODULE = 0,
  EHAL_COMP_FUNC = 1,
  EHAL_COMP_VALUE = 2,
  EHAL_COMP_TYPE = 3,
  EHAL_COMP_COMPONENT = 4,
  EHAL_COMP_INSTANCE = 5
};

typedef struct {
  char *name;   /* "elastic:crypto/crypto@0.1.1", "wasi:cli/exit@0.2.0", ... */
  uint8_t kind; /* EHAL_COMP_* */
} ehal_component_import;

typedef struct {
  /* the main core module: a slice of the bytes given to read(), valid as
   * long as they are */
  const uint8_t *core;
  size_t core_len;
  uint32_t core_index;            /* its place among the core modules, from 1 */
  uint32_t n_core;                /* core modules at the component's top level */
  ehal_component_import *imports; /* the component's own (top-level) imports */
  size_t n_imports;
} ehal_component;

/* Whether buf starts with the component preamble: "\0asm", version 0x0d
 * 0x00, layer 0x01 0x00. */
bool ehal_component_is(const uint8_t *buf, size_t len);

/* Read a component: its structure, its imports, and which core module is
 * its main module.  Refuses (-1, the reason in err) a malformed component,
 * one whose nested components hold core modules (code this HAL would not
 * run; nested components that only re-type exports, as wit-component makes
 * them, are fine), and one without exactly one core module that defines a
 * memory.  Nothing is checked of what is imported: see admit. */
int ehal_component_read(const uint8_t *buf, size_t len, ehal_component *out,
                        elastic_hal_error *err);

/* What the HAL accepts of a component's imports, whatever world it is
 * linked against, given its main module as parsed: interfaces only
 * (namespace:package/interface[@version]); of WASI 0.2, only what the
 * preview 1 adapter imports (wasi:cli, io, clocks, filesystem, random and
 * sockets at 0.2.x), and only when the main module imports
 * wasi_snapshot_preview1 and not that interface itself: then the adapter
 * is what needs them, and the HAL's own preview 1 takes its place.  Other
 * interfaces are left to the linker (ehal_component_needs_linking).
 * Returns 0, or -1 with the first problem in err. */
int ehal_component_admit(const ehal_component *c, const ehal_wasm_info *core,
                         elastic_hal_error *err);

/* Whether an import admit() let through must still be found in the
 * linker: every interface that is not WASI 0.2 (those were admitted as the
 * adapter's). */
bool ehal_component_needs_linking(const ehal_component_import *im);

void ehal_component_free(ehal_component *c);

#endif
