/*
 * byteorder.h - fixed-width integers at unaligned byte addresses, in the
 * byte order a format names (src/util/: a leaf).  Every wire and on-disk
 * format of the tree goes through these: guest memory and the canonical
 * ABI's staging buffers (src/runtime/cabi.h), the SEV-SNP report and its
 * certificate table, the TDX quote, the storage and artifact records (all
 * little-endian), and the binding's length prefixes (big-endian).
 *
 *   ehal_get_u16/u32/u64(p)     little-endian load
 *   ehal_put_u16/u32/u64(p, v)  little-endian store
 *   ehal_put_be32(p, v)         big-endian store
 *
 * On a little-endian host the little-endian ones are single unaligned
 * moves (memcpy); elsewhere byte by byte.  Alignment never matters.
 */
#ifndef EHAL_UTIL_BYTEORDER_H
#define EHAL_UTIL_BYTEORDER_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define EHAL_LE_ACCESS(bits)                                                                     \
  static inline void ehal_put_u##bits(uint8_t *d, uint##bits##_t v) { memcpy(d, &v, sizeof v); } \
  static inline uint##bits##_t ehal_get_u##bits(const uint8_t *s) {                              \
    uint##bits##_t v;                                                                            \
    memcpy(&v, s, sizeof v);                                                                     \
    return v;                                                                                    \
  }
#else
#define EHAL_LE_ACCESS(bits)                                                      \
  static inline void ehal_put_u##bits(uint8_t *d, uint##bits##_t v) {             \
    for (unsigned i = 0; i < bits / 8; i++) d[i] = (uint8_t)(v >> (8 * i));       \
  }                                                                               \
  static inline uint##bits##_t ehal_get_u##bits(const uint8_t *s) {               \
    uint##bits##_t v = 0;                                                         \
    for (unsigned i = 0; i < bits / 8; i++) v |= (uint##bits##_t)s[i] << (8 * i); \
    return v;                                                                     \
  }
#endif
EHAL_LE_ACCESS(8)
EHAL_LE_ACCESS(16)
EHAL_LE_ACCESS(32)
EHAL_LE_ACCESS(64)

static inline void ehal_put_be32(uint8_t *d, uint32_t v) {
  d[0] = (uint8_t)(v >> 24);
  d[1] = (uint8_t)(v >> 16);
  d[2] = (uint8_t)(v >> 8);
  d[3] = (uint8_t)v;
}

#endif
