/*
 * utf8.h - UTF-8 validation (src/util/: a leaf).  The canonical ABI
 * (src/runtime/cabi.c) checks every string a guest hands the host with it;
 * the evidence envelope checks the world and workload names it binds.
 */
#ifndef EHAL_UTIL_UTF8_H
#define EHAL_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no sequence cut short at len.
 * NUL bytes are valid (callers that forbid them check separately).  s may
 * be any pointer when len is 0. */
bool ehal_utf8_valid(const uint8_t *s, size_t len);

#endif
