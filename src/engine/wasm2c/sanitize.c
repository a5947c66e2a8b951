/* sanitize.c - rewrite a module's names before wasm2c sees it (see sanitize.h). */
#include "sanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading (strict: any overrun or bad encoding fails the whole rewrite) ---- */

typedef struct {
  const uint8_t *p, *end;
  const char *why; /* first failure; NULL while all is well */
} rd;

static void rd_fail(rd *r, const char *why) {
  if (!r->why) r->why = why;
  r->p = r->end;
}

static uint8_t rd_byte(rd *r) {
  if (r->p >= r->end) {
    rd_fail(r, "unexpected end of module");
    return 0;
  }
  return *r->p++;
}

static uint32_t rd_u32(rd *r) {
  uint32_t v = 0;
  for (unsigned shift = 0; shift < 35; shift += 7) {
    uint8_t b = rd_byte(r);
    if (r->why) return 0;
    if (shift == 28 && (b & 0x70)) break; /* more than 32 bits */
    v |= (uint32_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  rd_fail(r, "malformed LEB128 integer");
  return 0;
}

static void rd_skip(rd *r, uint32_t n) {
  if (n > (size_t)(r->end - r->p))
    rd_fail(r, "item runs past the end of its section");
  else
    r->p += n;
}

/* limits of a table or memory; memory64 and shared memories are refused */
static void rd_limits(rd *r, uint32_t *min, uint32_t *max, bool *has_max) {
  *min = *max = 0;
  *has_max = false;
  uint8_t flags = rd_byte(r);
  if (flags > 1) {
    rd_fail(r, flags & 4   ? "64-bit memories (memory64) are not supported"
               : flags & 2 ? "shared memories (threads) are not supported"
                           : "malformed limits");
    return;
  }
  *min = rd_u32(r);
  *has_max = flags & 1;
  *max = *has_max ? rd_u32(r) : 0;
}

/* ---- writing ---- */

typedef struct {
  uint8_t *buf;
  size_t len, cap;
  bool oom;
} wr;

static void w_bytes(wr *w, const void *p, size_t n) {
  if (w->oom || n == 0) return;
  if (w->len + n > w->cap) {
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n) cap *= 2;
    uint8_t *b = realloc(w->buf, cap);
    if (!b) {
      w->oom = true;
      return;
    }
    w->buf = b;
    w->cap = cap;
  }
  memcpy(w->buf + w->len, p, n);
  w->len += n;
}

static void w_byte(wr *w, uint8_t b) { w_bytes(w, &b, 1); }

static void w_u32(wr *w, uint32_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    w_byte(w, (uint8_t)(b | (v ? 0x80 : 0)));
  } while (v);
}

/* a generated name: one ASCII letter and a decimal index */
static void w_name(wr *w, char letter, long idx) {
  char s[16];
  int n =
      idx < 0 ? snprintf(s, sizeof s, "%c", letter) : snprintf(s, sizeof s, "%c%ld", letter, idx);
  w_u32(w, (uint32_t)n);
  w_bytes(w, s, (size_t)n);
}

static void w_section(wr *w, uint8_t id, const wr *body) {
  w_byte(w, id);
  w_u32(w, (uint32_t)body->len);
  w_bytes(w, body->buf, body->len);
  if (body->oom) w->oom = true;
}

/* ---- sections ---- */

static void rewrite_imports(rd *s, wr *out) {
  uint32_t n = rd_u32(s);
  w_u32(out, n);
  for (uint32_t i = 0; i < n && !s->why; i++) {
    rd_skip(s, rd_u32(s)); /* module name */
    rd_skip(s, rd_u32(s)); /* field name */
    const uint8_t *desc = s->p;
    uint8_t kind = rd_byte(s);
    uint32_t a, b;
    bool m;
    switch (kind) {
      case 0: rd_u32(s); break;
      case 1:
        rd_byte(s);
        rd_limits(s, &a, &b, &m);
        break;
      case 2: rd_limits(s, &a, &b, &m); break;
      case 3:
        rd_byte(s);
        rd_byte(s);
        break;
      default: rd_fail(s, "unknown import kind");
    }
    w_name(out, 'h', -1);
    w_name(out, 'i', (long)i);
    if (!s->why) w_bytes(out, desc, (size_t)(s->p - desc));
  }
}

static void rewrite_memories(rd *s, wr *out) {
  uint32_t n = rd_u32(s);
  w_u32(out, n);
  for (uint32_t i = 0; i < n && !s->why; i++) {
    uint32_t min, max;
    bool has_max;
    rd_limits(s, &min, &max, &has_max);
    if (!s->why && min > EHAL_W2C_MAX_PAGES)
      rd_fail(s, "initial memory of 4 GiB or more is not supported");
    if (!has_max || max > EHAL_W2C_MAX_PAGES) max = EHAL_W2C_MAX_PAGES;
    w_byte(out, 1);
    w_u32(out, min);
    w_u32(out, max);
  }
}

static void rewrite_exports(rd *s, wr *out, bool has_start, uint32_t start) {
  uint32_t n = s ? rd_u32(s) : 0;
  w_u32(out, n + (has_start ? 1 : 0));
  for (uint32_t i = 0; i < n && !s->why; i++) {
    rd_skip(s, rd_u32(s));
    const uint8_t *desc = s->p;
    rd_byte(s);
    rd_u32(s);
    w_name(out, 'e', (long)i);
    if (!s->why) w_bytes(out, desc, (size_t)(s->p - desc));
  }
  if (has_start) {
    w_name(out, 's', -1);
    w_byte(out, 0);
    w_u32(out, start);
  }
}

/* Position of a known section in the order the binary format requires
 * (data count, 12, sits between element, 9, and code, 10). */
static int rank(uint8_t id) {
  static const int r[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
  return id <= 12 ? r[id] : 99;
}

int ehal_w2c_sanitize(const uint8_t *wasm, size_t len, ehal_w2c_sanitized *out, char *why,
                      size_t whylen) {
  memset(out, 0, sizeof *out);
  static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  if (len < 8 || memcmp(wasm, magic, 8) != 0) {
    snprintf(why, whylen, "not a WebAssembly core module");
    return -1;
  }
  /* pass 1: the start function, which becomes an export */
  rd r = {wasm + 8, wasm + len, NULL};
  bool has_start = false, has_exports = false;
  uint32_t start = 0;
  while (r.p < r.end && !r.why) {
    uint8_t id = rd_byte(&r);
    uint32_t size = rd_u32(&r);
    if (r.why) break;
    if (size > (size_t)(r.end - r.p)) {
      rd_fail(&r, "section runs past the end of the module");
      break;
    }
    rd s = {r.p, r.p + size, NULL};
    if (id == 8) {
      if (has_start) rd_fail(&r, "section appears twice");
      has_start = true;
      start = rd_u32(&s);
      if (!s.why && s.p != s.end) rd_fail(&s, "start section has trailing bytes");
    }
    if (id == 7) has_exports = true;
    if (s.why) rd_fail(&r, s.why);
    r.p += size;
  }
  /* pass 2: copy, rewriting names */
  wr w = {0};
  w_bytes(&w, magic, 8);
  r = (rd){wasm + 8, wasm + len, r.why};
  int last = 0;
  bool exports_done = false;
  while (r.p < r.end && !r.why) {
    uint8_t id = rd_byte(&r);
    uint32_t size = rd_u32(&r);
    if (r.why) break;
    rd s = {r.p, r.p + size, NULL};
    r.p += size;
    if (id == 0) continue; /* custom: names, producers, debug info */
    if (id > 12) {
      rd_fail(&r, "unknown section");
      break;
    }
    if (rank(id) <= last) {
      rd_fail(&r, "sections out of order or repeated");
      break;
    }
    last = rank(id);
    /* a start function in a module without exports needs an export section */
    if (has_start && !has_exports && !exports_done && rank(id) > rank(7)) {
      wr body = {0};
      rewrite_exports(NULL, &body, true, start);
      w_section(&w, 7, &body);
      free(body.buf);
      exports_done = true;
    }
    wr body = {0};
    switch (id) {
      case 2: rewrite_imports(&s, &body); break;
      case 5: rewrite_memories(&s, &body); break;
      case 7:
        rewrite_exports(&s, &body, has_start, start);
        exports_done = true;
        break;
      case 8: s.p = s.end; break; /* start: now the export "s" */
      default: w_bytes(&body, s.p, (size_t)(s.end - s.p)); s.p = s.end;
    }
    if (!s.why && s.p != s.end) rd_fail(&s, "section has trailing bytes");
    if (s.why) rd_fail(&r, s.why);
    if (id != 8) w_section(&w, id, &body);
    free(body.buf);
  }
  if (!r.why && has_start && !exports_done) {
    wr body = {0};
    rewrite_exports(NULL, &body, true, start);
    w_section(&w, 7, &body);
    free(body.buf);
  }
  if (r.why || w.oom) {
    snprintf(why, whylen, "%s", r.why ? r.why : "out of memory");
    free(w.buf);
    return -1;
  }
  out->wasm = w.buf;
  out->len = w.len;
  out->has_start = has_start;
  return 0;
}

void ehal_w2c_sanitized_free(ehal_w2c_sanitized *s) {
  free(s->wasm);
  memset(s, 0, sizeof *s);
}
