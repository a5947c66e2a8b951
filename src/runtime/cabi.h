/*
 * cabi.h - Canonical ABI helpers used by the generated host glue.
 *
 * Every guest-supplied pointer and length passes through here: ranges are
 * checked against the guest's current linear memory, alignment is checked,
 * strings are validated as UTF-8.  A violation traps the calling guest
 * (and only it) with a message naming the problem, once the host function
 * has returned: nothing here unwinds host code.
 *
 * Host-side values produced while serving one call (lifted lists, strings an
 * implementation formats) live in a per-instance arena that is reset at the
 * start of the next call, so a trap in the middle of a call leaks nothing.
 */
#ifndef EHAL_CABI_H
#define EHAL_CABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../util/byteorder.h"
#include "../util/utf8.h"

typedef struct ehal_instance ehal_instance;

/* A borrowed UTF-8 string (not NUL-terminated). */
typedef struct {
  const char *ptr;
  size_t len;
} ehal_str;

/* A borrowed byte list. */
typedef struct {
  const uint8_t *ptr;
  size_t len;
} ehal_bytes;

#define EHAL_STR(lit) ((ehal_str){(lit), sizeof(lit) - 1})

/* Resets the call arena (and traps a host call made from cabi_realloc while
 * a result is lowered); the glue calls it through ehal_call_begin
 * (instance.h) when there is something to reset. */
void ehal_call_reset(ehal_instance *inst);

/* Arena allocation for the current call.  NULL (and the call traps) when
 * the host cannot provide the memory: implementations check, and return. */
void *ehal_arena_alloc(ehal_instance *inst, size_t size);
/* Arena array of n elements of size each, overflow-checked. */
void *ehal_stage(ehal_instance *inst, size_t n, size_t size);
/* printf into the arena. */
ehal_str ehal_str_fmt(ehal_instance *inst, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
ehal_str ehal_str_from(const char *cstr);

/* Trap the guest for an ABI violation.  It returns: the trap is recorded
 * on the instance (inst->trapped; the first one wins) and raised once the
 * host function has returned to guest code, so host code is never unwound
 * and every host function simply returns.  Code after a trap must not
 * touch guest memory or results: lifting yields empty values, lowering
 * nothing, allocation NULL. */
void ehal_abi_trap(ehal_instance *inst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Lifting: view guest memory [ptr, ptr+len) after checks (an empty value,
 * or NULL for an area, when the call traps). */
ehal_str ehal_lift_string(ehal_instance *inst, uint32_t ptr, uint32_t len);
ehal_bytes ehal_lift_bytes(ehal_instance *inst, uint32_t ptr, uint32_t len);
const uint8_t *ehal_lift_area(ehal_instance *inst, uint32_t ptr, uint64_t size, uint32_t align);

/* Lowering: copy len bytes into guest memory allocated with the guest's
 * cabi_realloc(0, 0, align, len); returns the guest address (0 when the
 * call traps, in cabi_realloc too: see ehal_engine_realloc). */
uint32_t ehal_lower_bytes(ehal_instance *inst, const void *src, size_t len, uint32_t align);
/* Zero-copy list<u8> and string results.  ehal_lower_direct allocates len
 * bytes (1 to 2^32-1) in the guest now, through its cabi_realloc as lowering
 * would, and returns a host pointer to them: an implementation writes its
 * result there and returns that pointer with a length of at most len, which
 * the glue then hands to the guest without a copy.  The one buffer must
 * become the pointer of what the call returns, the ok value or the error
 * string (write the message into it), or the guest loses it.  Guest memory
 * may grow, and move, meanwhile: every view in views[] (at most 8: the
 * arguments lifted from guest memory that the implementation still reads)
 * is re-pointed, and a buffer overlapping one of them traps the guest.
 * NULL when the call traps (the guest's cabi_realloc trapped, say). */
#define EHAL_LOWER_DIRECT 1
uint8_t *ehal_lower_direct(ehal_instance *inst, size_t len, ehal_bytes *const *views,
                           size_t nviews);
/* Copy a finished return area into guest memory at ptr (checked). */
void ehal_store_area(ehal_instance *inst, uint32_t ptr, const void *src, size_t size,
                     uint32_t align);

/* Strict UTF-8 validation, ehal_utf8_valid: src/util/utf8.h.  Little-endian
 * scalar access to staging buffers and guest memory (Wasm is little-endian),
 * ehal_get_u16/32/64 and ehal_put_u16/32/64: src/util/byteorder.h. */

#endif
