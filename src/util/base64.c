/* base64.c - base64url without padding (see base64.h). */
#include "base64.h"

#include <stdlib.h>

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *ehal_base64url_encode(const uint8_t *src, size_t len) {
  char *out = malloc(len / 3 * 4 + 5), *o = out;
  if (!out) return NULL;
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
    *o++ = ALPHABET[v >> 18];
    *o++ = ALPHABET[(v >> 12) & 63];
    *o++ = ALPHABET[(v >> 6) & 63];
    *o++ = ALPHABET[v & 63];
  }
  if (len - i == 1) {
    *o++ = ALPHABET[src[i] >> 2];
    *o++ = ALPHABET[(src[i] & 3) << 4];
  } else if (len - i == 2) {
    uint32_t v = (uint32_t)src[i] << 8 | src[i + 1];
    *o++ = ALPHABET[v >> 10];
    *o++ = ALPHABET[(v >> 4) & 63];
    *o++ = ALPHABET[(v & 15) << 2];
  }
  *o = 0;
  return out;
}

static int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

uint8_t *ehal_base64url_decode(const char *text, size_t text_len, size_t *len) {
  if (text_len % 4 == 1) return NULL;
  uint8_t *out = malloc(text_len / 4 * 3 + 3);
  if (!out) return NULL;
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text_len; i++) {
    int v = value_of(text[i]);
    if (v < 0) {
      free(out);
      return NULL;
    }
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  if (bits && (acc & ((1u << bits) - 1))) { /* spare bits must be zero */
    free(out);
    return NULL;
  }
  *len = n;
  return out;
}
