/* hex.c - hexadecimal text (see hex.h). */
#include "hex.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

void ehal_hex_encode(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = 0;
}

char *ehal_hex_encode_alloc(const uint8_t *in, size_t n) {
  if (n > (SIZE_MAX - 1) / 2) return NULL;
  char *out = malloc(2 * n + 1);
  if (out) ehal_hex_encode(in, n, out);
  return out;
}

static int digit_value(unsigned char ch, unsigned flags) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F' && !(flags & EHAL_HEX_LOWER_ONLY)) return ch - 'A' + 10;
  return -1;
}

long ehal_hex_decode_mem(const char *s, size_t len, uint8_t *out, size_t cap, unsigned flags) {
  if (len % 2 || len / 2 > cap || len / 2 > (size_t)LONG_MAX) return -1;
  for (size_t i = 0; i < len / 2; i++) {
    int hi = digit_value((unsigned char)s[2 * i], flags);
    int lo = digit_value((unsigned char)s[2 * i + 1], flags);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return (long)(len / 2);
}

long ehal_hex_decode(const char *hex, uint8_t *out, size_t cap) {
  return ehal_hex_decode_mem(hex, strlen(hex), out, cap, 0);
}
