/* wire.c - frames between a runtime and its supervisor (see wire.h). */
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util/byteorder.h"

static void put(ehal_wire_out *w, const void *p, size_t n) {
  if (w->failed) return;
  if (w->len + n > EHAL_WIRE_MAX_BODY + 4) {
    w->failed = true;
    return;
  }
  if (w->len + n > w->cap) {
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n) cap *= 2;
    uint8_t *b = realloc(w->buf, cap);
    if (!b) {
      w->failed = true;
      return;
    }
    w->buf = b;
    w->cap = cap;
  }
  if (n) memcpy(w->buf + w->len, p, n);
  w->len += n;
}

void ehal_wire_begin(ehal_wire_out *w, uint8_t op) {
  w->len = 0;
  w->failed = false;
  uint8_t hdr[4] = {0};
  put(w, hdr, 4);
  put(w, &op, 1);
}

void ehal_wire_u8(ehal_wire_out *w, uint8_t v) { put(w, &v, 1); }

void ehal_wire_u32(ehal_wire_out *w, uint32_t v) {
  uint8_t b[4];
  ehal_put_u32(b, v);
  put(w, b, 4);
}

void ehal_wire_u64(ehal_wire_out *w, uint64_t v) {
  uint8_t b[8];
  ehal_put_u64(b, v);
  put(w, b, 8);
}

void ehal_wire_bytes(ehal_wire_out *w, const void *p, size_t n) {
  if (n > EHAL_WIRE_MAX_BODY) {
    w->failed = true;
    return;
  }
  ehal_wire_u32(w, (uint32_t)n);
  put(w, p, n);
}

void ehal_wire_str(ehal_wire_out *w, const char *s) { ehal_wire_bytes(w, s, strlen(s)); }

size_t ehal_wire_end(ehal_wire_out *w) {
  if (w->failed || w->len < 5) return 0;
  ehal_put_u32(w->buf, (uint32_t)(w->len - 4));
  return w->len;
}

void ehal_wire_free(ehal_wire_out *w) {
  free(w->buf);
  *w = (ehal_wire_out){0};
}

static const uint8_t *take(ehal_wire_in *r, size_t n) {
  if (r->failed || r->left < n) {
    r->failed = true;
    return NULL;
  }
  const uint8_t *p = r->p;
  r->p += n;
  r->left -= n;
  return p;
}

uint8_t ehal_wire_get_u8(ehal_wire_in *r) {
  const uint8_t *p = take(r, 1);
  return p ? *p : 0;
}

uint32_t ehal_wire_get_u32(ehal_wire_in *r) {
  const uint8_t *p = take(r, 4);
  return p ? ehal_get_u32(p) : 0;
}

uint64_t ehal_wire_get_u64(ehal_wire_in *r) {
  const uint8_t *p = take(r, 8);
  return p ? ehal_get_u64(p) : 0;
}

const uint8_t *ehal_wire_get_bytes(ehal_wire_in *r, size_t *n) {
  uint32_t len = ehal_wire_get_u32(r);
  const uint8_t *p = take(r, len);
  *n = p ? len : 0;
  return p ? p : (const uint8_t *)"";
}

int ehal_wire_write_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    b += k;
    n -= (size_t)k;
  }
  return 0;
}
