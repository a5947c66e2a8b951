/*
 * base64.h - base64url without padding (RFC 4648 section 5), as a RATS
 * conceptual message wrapper (CMW) carries its value.
 */
#ifndef EHAL_UTIL_BASE64_H
#define EHAL_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* NUL-terminated text (malloc), or NULL when out of memory. */
char *ehal_base64url_encode(const uint8_t *src, size_t len);
/* The bytes (malloc, *len set), or NULL when text is not unpadded
 * base64url (a stray character, a length of 1 mod 4, non-zero spare bits),
 * or when out of memory. */
uint8_t *ehal_base64url_decode(const char *text, size_t text_len, size_t *len);

#endif
