/*
 * hex.h - hexadecimal text, the one codec of the tree (src/util/: a leaf
 * that depends on nothing else in src/).
 *
 * Encoding is always lowercase.  Decoding is strict: an even number of
 * characters, every one a hex digit (no spaces, no "0x", no sign), and the
 * whole output must fit; a failure writes no guarantee into out.
 */
#ifndef EHAL_UTIL_HEX_H
#define EHAL_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of in[0..n) into out, NUL-terminated: out holds 2n+1. */
void ehal_hex_encode(const uint8_t *in, size_t n, char *out);

/* The same into a fresh malloc'd string (the caller frees it); NULL when
 * out of memory or 2n+1 overflows. */
char *ehal_hex_encode_alloc(const uint8_t *in, size_t n);

/* Flags of ehal_hex_decode_mem. */
#define EHAL_HEX_LOWER_ONLY 1u /* refuse 'A'-'F' (a canonical lowercase form) */

/* Decodes the len characters at s (no NUL needed) into out, at most cap
 * bytes.  Returns the byte count (len / 2), or -1 when len is odd, the text
 * decodes to more than cap bytes, or a character is not a hex digit (of
 * the case flags allows). */
long ehal_hex_decode_mem(const char *s, size_t len, uint8_t *out, size_t cap, unsigned flags);

/* ehal_hex_decode_mem of a NUL-terminated string, either case. */
long ehal_hex_decode(const char *hex, uint8_t *out, size_t cap);

#endif
