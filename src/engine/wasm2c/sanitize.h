/*
 * sanitize.h - the module wasm2c is allowed to see.
 *
 * wasm2c (wabt 1.0.32) copies import, export and debug names into the C it
 * writes, some of them unescaped inside comments: a name holding a comment
 * terminator would become host code.  So no name a guest wrote ever reaches
 * wasm2c.  ehal_w2c_sanitize() rewrites a module so that the only names left
 * are ones this HAL generated from a whitelist of [a-z0-9]:
 *
 *   import k   module "h", field "i<k>"  (k: index in the import section)
 *   export k   "e<k>"                    (k: index in the export section)
 *   start      dropped from the start section and exported as "s", so the
 *              engine runs it after the memory limits are in place
 *   custom     every custom section (the name section, producers, DWARF) is
 *              dropped
 *   memory     a declared maximum above 65535 pages (or none) becomes 65535:
 *              wasm2c's runtime keeps byte sizes in 32 bits, so a memory of
 *              exactly 4 GiB would wrap to 0
 *
 * Every other section is copied byte for byte.  Import names never reach
 * the C at all (the runtime resolves imports from the module itself); export
 * names reach the shim only as arrays of byte values, never as C text.
 */
#ifndef EHAL_W2C_SANITIZE_H
#define EHAL_W2C_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest memory wasm2c's 32-bit byte sizes can hold. */
#define EHAL_W2C_MAX_PAGES 65535u

typedef struct {
  uint8_t *wasm; /* malloc'd */
  size_t len;
  bool has_start; /* the module had a start function, now exported as "s" */
} ehal_w2c_sanitized;

/* Rewrite wasm[0..len) as above.  Returns 0, or -1 with a reason in why
 * (the module is malformed, or uses memory64 or shared memory, which the
 * engine does not support). */
int ehal_w2c_sanitize(const uint8_t *wasm, size_t len, ehal_w2c_sanitized *out, char *why,
                      size_t whylen);
void ehal_w2c_sanitized_free(ehal_w2c_sanitized *s);

#endif
