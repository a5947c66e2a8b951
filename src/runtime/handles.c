/* handles.c - per-workload handle tables (see handles.h). */
#include "handles.h"

#include <stdlib.h>

void ehal_handles_init(ehal_handle_table *t, uint32_t max_live, void (*destroy)(void *)) {
  t->slots = NULL;
  t->len = t->cap = t->live = 0;
  t->max_live = max_live;
  t->destroy = destroy;
  t->kind = 0;
}

void ehal_handles_set_kind(ehal_handle_table *t, uint8_t kind) { t->kind = kind; }

/* Handle layout: generation in the high 32 bits, slot index + 1 in the low
 * 32, so 0 is never a valid handle; the table's kind is xored into the top
 * byte. */
static uint64_t make(const ehal_handle_table *t, uint32_t idx, uint32_t gen) {
  return (((uint64_t)gen << 32) | (idx + 1u)) ^ ((uint64_t)t->kind << 56);
}

uint64_t ehal_handle_new(ehal_handle_table *t, void *obj) {
  if (!obj || t->live >= t->max_live) return 0;
  for (uint32_t i = 0; i < t->len; i++) {
    if (!t->slots[i].obj) {
      t->slots[i].obj = obj;
      t->live++;
      return make(t, i, t->slots[i].gen);
    }
  }
  if (t->len == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 8;
    ehal_handle_slot *s = realloc(t->slots, cap * sizeof *s);
    if (!s) return 0;
    t->slots = s;
    t->cap = cap;
  }
  t->slots[t->len].obj = obj;
  t->slots[t->len].gen = 1;
  t->live++;
  return make(t, t->len++, 1);
}

static ehal_handle_slot *find(const ehal_handle_table *t, uint64_t h) {
  h ^= (uint64_t)t->kind << 56;
  uint32_t low = (uint32_t)h;
  if (low == 0 || low > t->len) return NULL;
  ehal_handle_slot *s = &t->slots[low - 1];
  if (!s->obj || s->gen != (uint32_t)(h >> 32)) return NULL;
  return s;
}

void *ehal_handle_get(const ehal_handle_table *t, uint64_t h) {
  ehal_handle_slot *s = find(t, h);
  return s ? s->obj : NULL;
}

void *ehal_handle_take(ehal_handle_table *t, uint64_t h) {
  ehal_handle_slot *s = find(t, h);
  if (!s) return NULL;
  void *obj = s->obj;
  s->obj = NULL;
  s->gen++;
  t->live--;
  return obj;
}

void ehal_handles_drop_if(ehal_handle_table *t, int (*pred)(void *obj, void *arg), void *arg) {
  for (uint32_t i = 0; i < t->len; i++) {
    ehal_handle_slot *s = &t->slots[i];
    if (s->obj && pred(s->obj, arg)) {
      void *obj = s->obj;
      s->obj = NULL;
      s->gen++;
      t->live--;
      if (t->destroy) t->destroy(obj);
    }
  }
}

void ehal_handles_free(ehal_handle_table *t) {
  for (uint32_t i = 0; i < t->len; i++)
    if (t->slots[i].obj && t->destroy) t->destroy(t->slots[i].obj);
  free(t->slots);
  t->slots = NULL;
  t->len = t->cap = t->live = 0;
}
