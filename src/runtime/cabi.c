/* cabi.c - Canonical ABI helpers for the generated glue (see cabi.h).
 *
 * Nothing here unwinds: a violation records a trap (ehal_abi_trap) and the
 * function returns a harmless value (an empty string, NULL, 0); the glue
 * checks inst->trapped before it runs an implementation and before it
 * stores a result, and the engine raises the trap once the host function
 * has returned. */
#include "cabi.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "instance.h"

/* ---- call arena ---- */

struct ehal_arena_chunk {
  ehal_arena_chunk *next;
  size_t cap;
  _Alignas(16) unsigned char data[];
};

/* Host memory one call may hold: results are bounded by what a guest can
 * receive anyway (its linear memory is at most 4 GiB). */
#define ARENA_LIMIT ((size_t)1 << 32)
#define ARENA_CHUNK ((size_t)64 * 1024)

/* Results often hold secrets (exported keys, plaintext): every byte an
 * arena handed out is wiped before it is reused or freed. */
static void chunk_free(ehal_arena *a, ehal_arena_chunk *c, size_t used) {
  explicit_bzero(c->data, used);
  a->total -= c->cap;
  free(c);
}

void ehal_call_reset(ehal_instance *inst) {
  if (inst->lowering) {
    /* the glue sees the trap and returns before the implementation runs */
    ehal_abi_trap(inst, "host function called from cabi_realloc while a result was being lowered");
    return;
  }
  ehal_arena *a = &inst->arena;
  /* Keep the first chunk for reuse, unless it is a big one-off; release the
   * rest (older heads and one-offs, which were used up to their size). */
  ehal_arena_chunk *c = a->head;
  while (c && c->next) {
    ehal_arena_chunk *n = c->next;
    c->next = n->next;
    chunk_free(a, n, n->cap);
  }
  if (c && c->cap > ARENA_CHUNK) {
    chunk_free(a, c, a->used);
    a->head = NULL;
  } else if (c) {
    explicit_bzero(c->data, a->used);
  }
  a->used = 0;
  a->dirty = false;
  inst->direct_len = 0;
}

void ehal_arena_release(ehal_instance *inst) {
  ehal_arena *a = &inst->arena;
  ehal_arena_chunk *c = a->head;
  size_t used = a->used;
  while (c) {
    ehal_arena_chunk *n = c->next;
    chunk_free(a, c, used);
    used = n ? n->cap : 0;
    c = n;
  }
  a->head = NULL;
  a->used = a->total = 0;
}

void *ehal_arena_alloc(ehal_instance *inst, size_t size) {
  ehal_arena *a = &inst->arena;
  if (size > ARENA_LIMIT) {
    ehal_abi_trap(inst, "host call needs more than %zu bytes of host memory", (size_t)ARENA_LIMIT);
    return NULL;
  }
  size = (size + 15) & ~(size_t)15;
  if (size == 0) size = 16;
  a->dirty = true;
  if (a->head && a->head->cap - a->used >= size) {
    void *p = a->head->data + a->used;
    a->used += size;
    return p;
  }
  size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
  if (cap > ARENA_LIMIT || a->total + cap > ARENA_LIMIT) {
    ehal_abi_trap(inst, "host call needs more than %zu bytes of host memory", (size_t)ARENA_LIMIT);
    return NULL;
  }
  ehal_arena_chunk *c = malloc(sizeof *c + cap);
  if (!c) {
    ehal_abi_trap(inst, "host out of memory serving this call");
    return NULL;
  }
  c->cap = cap;
  a->total += cap;
  /* A big one-off chunk goes behind the current head so the head keeps
   * serving small allocations. */
  if (a->head && size > ARENA_CHUNK) {
    c->next = a->head->next;
    a->head->next = c;
    return c->data;
  }
  c->next = a->head;
  a->head = c;
  a->used = size;
  return c->data;
}

void *ehal_stage(ehal_instance *inst, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) {
    ehal_abi_trap(inst, "list length %zu overflows", n);
    return NULL;
  }
  return ehal_arena_alloc(inst, n * size);
}

ehal_str ehal_str_fmt(ehal_instance *inst, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return EHAL_STR("");
  char *p = ehal_arena_alloc(inst, (size_t)n + 1);
  if (!p) return EHAL_STR(""); /* the call traps */
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return (ehal_str){p, (size_t)n};
}

ehal_str ehal_str_from(const char *cstr) { return (ehal_str){cstr, strlen(cstr)}; }

static void vrecord(ehal_instance *inst, ehal_trap_kind kind, const char *fmt, va_list ap) {
  if (inst->trapped) return; /* the first cause is the one reported */
  inst->trapped = true;
  vsnprintf(inst->trap_msg, sizeof inst->trap_msg, fmt, ap);
  ehal_engine_trap_host(inst->eng, kind);
}

void ehal_trap_record(ehal_instance *inst, ehal_trap_kind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vrecord(inst, kind, fmt, ap);
  va_end(ap);
}

void ehal_abi_trap(ehal_instance *inst, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vrecord(inst, EHAL_TRAP_HOST, fmt, ap);
  va_end(ap);
}

/* ---- guest memory ---- */

/* Whether [ptr, ptr+len) is a valid, aligned range of guest memory; if it
 * is not, the call traps.  Nothing is checked once the call has trapped:
 * the glue stops using what it lifts then. */
static bool check_range(ehal_instance *inst, uint32_t ptr, uint64_t len, uint32_t align,
                        const char *what) {
  if (inst->trapped) return false;
  if (!inst->mem.data) {
    ehal_abi_trap(inst, "guest exports no memory for %s", what);
    return false;
  }
  if (align > 1 && (ptr & (align - 1))) {
    ehal_abi_trap(inst, "misaligned %s pointer 0x%x (alignment %u)", what, ptr, align);
    return false;
  }
  if ((uint64_t)ptr + len > *inst->mem.size) {
    ehal_abi_trap(inst, "%s [0x%x, +%llu) is outside linear memory (%u bytes)", what, ptr,
                  (unsigned long long)len, *inst->mem.size);
    return false;
  }
  return true;
}

/* ehal_utf8_valid: src/util/utf8.c */

ehal_str ehal_lift_string(ehal_instance *inst, uint32_t ptr, uint32_t len) {
  if (!check_range(inst, ptr, len, 1, "string")) return EHAL_STR("");
  const uint8_t *p = *inst->mem.data + ptr;
  if (!ehal_utf8_valid(p, len)) {
    ehal_abi_trap(inst, "string at 0x%x is not valid UTF-8", ptr);
    return EHAL_STR("");
  }
  return (ehal_str){(const char *)p, len};
}

ehal_bytes ehal_lift_bytes(ehal_instance *inst, uint32_t ptr, uint32_t len) {
  if (!check_range(inst, ptr, len, 1, "list")) return (ehal_bytes){(const uint8_t *)"", 0};
  return (ehal_bytes){*inst->mem.data + ptr, len};
}

const uint8_t *ehal_lift_area(ehal_instance *inst, uint32_t ptr, uint64_t size, uint32_t align) {
  if (!check_range(inst, ptr, size, align, "list")) return NULL;
  return *inst->mem.data + ptr;
}

/* len bytes (len > 0) from the guest's cabi_realloc into *p, checked;
 * false when the call traps instead. */
static bool guest_alloc(ehal_instance *inst, size_t len, uint32_t align, uint32_t *p) {
  inst->lowering = true;
  ehal_trap_kind k = ehal_engine_realloc(inst->eng, 0, 0, align, (uint32_t)len, p);
  inst->lowering = false;
  if (k != EHAL_TRAP_NONE) {
    ehal_trap_record(inst, k, "in cabi_realloc(%zu bytes), called to return a result", len);
    return false;
  }
  /* realloc may have grown memory: check against the fresh size */
  if ((*p & (align - 1)) || (uint64_t)*p + len > *inst->mem.size) {
    ehal_abi_trap(inst, "cabi_realloc returned an invalid pointer 0x%x for %zu bytes", *p, len);
    return false;
  }
  return true;
}

uint8_t *ehal_lower_direct(ehal_instance *inst, size_t len, ehal_bytes *const *views,
                           size_t nviews) {
  if (inst->trapped) return NULL;
  if (len == 0 || len > UINT32_MAX) {
    ehal_abi_trap(inst, "direct result of %zu bytes (must be 1 to 2^32-1)", len);
    return NULL;
  }
  if (!ehal_engine_has_realloc(inst->eng)) {
    ehal_abi_trap(inst, "guest exports no cabi_realloc, needed to return a string or list");
    return NULL;
  }
  const uint8_t *base = *inst->mem.data;
  size_t offs[8];
  if (nviews > 8) {
    ehal_abi_trap(inst, "ehal_lower_direct: too many views");
    return NULL;
  }
  for (size_t i = 0; i < nviews; i++) offs[i] = views[i]->len ? (size_t)(views[i]->ptr - base) : 0;
  uint32_t p;
  if (!guest_alloc(inst, len, 1, &p)) return NULL;
  for (size_t i = 0; i < nviews; i++) {
    if (!views[i]->len) continue;
    views[i]->ptr = *inst->mem.data + offs[i];
    /* fresh memory never overlaps a live argument: a cabi_realloc that says
     * otherwise is lying */
    if (offs[i] < (size_t)p + len && (size_t)p < offs[i] + views[i]->len) {
      ehal_abi_trap(inst, "cabi_realloc returned memory at 0x%x overlapping an argument", p);
      return NULL;
    }
  }
  inst->direct_ptr = p;
  inst->direct_len = len;
  inst->arena.dirty = true;
  return *inst->mem.data + p;
}

uint32_t ehal_lower_bytes(ehal_instance *inst, const void *src, size_t len, uint32_t align) {
  if (inst->trapped) return 0;
  if (inst->direct_len && len <= inst->direct_len && src == *inst->mem.data + inst->direct_ptr) {
    inst->direct_len = 0; /* already in guest memory, where the result belongs */
    return inst->direct_ptr;
  }
  if (len > UINT32_MAX) {
    ehal_abi_trap(inst, "result of %zu bytes exceeds a 32-bit memory", len);
    return 0;
  }
  if (!ehal_engine_has_realloc(inst->eng)) {
    ehal_abi_trap(inst, "guest exports no cabi_realloc, needed to return a string or list");
    return 0;
  }
  if (len == 0) return align; /* any aligned pointer: nothing is read */
  uint32_t p;
  if (!guest_alloc(inst, len, align, &p)) return 0;
  memcpy(*inst->mem.data + p, src, len);
  return p;
}

void ehal_store_area(ehal_instance *inst, uint32_t ptr, const void *src, size_t size,
                     uint32_t align) {
  if (!check_range(inst, ptr, size, align, "return area")) return;
  memcpy(*inst->mem.data + ptr, src, size);
}
