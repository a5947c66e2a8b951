/*
 * handles.h - per-workload handle tables.
 *
 * A handle given to a guest is an opaque u64: a slot index and a generation
 * counter, so a stale handle (slot reused) or a forged one is rejected.
 * Each instance has its own tables, so one workload's handle values mean
 * nothing in another's.
 */
#ifndef EHAL_HANDLES_H
#define EHAL_HANDLES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  void *obj;    /* NULL when the slot is free */
  uint32_t gen; /* bumped on every free */
} ehal_handle_slot;

typedef struct {
  ehal_handle_slot *slots;
  uint32_t len, cap;
  uint32_t live, max_live; /* live objects; max_live bounds guest use */
  uint8_t kind;            /* mixed into the handles: see ehal_handles_set_kind */
  void (*destroy)(void *obj);
} ehal_handle_table;

void ehal_handles_init(ehal_handle_table *t, uint32_t max_live, void (*destroy)(void *));
/* Give the table's handles a kind (1-255), so that a handle of one table
 * (a device) is not also a live handle of another (a buffer) of the same
 * workload.  Call before the first ehal_handle_new. */
void ehal_handles_set_kind(ehal_handle_table *t, uint8_t kind);
/* Returns 0 when the table is full. */
uint64_t ehal_handle_new(ehal_handle_table *t, void *obj);
/* NULL if the handle is not live in this table. */
void *ehal_handle_get(const ehal_handle_table *t, uint64_t h);
/* Detach and return the object (NULL if not live). */
void *ehal_handle_take(ehal_handle_table *t, uint64_t h);
/* Destroy (with the table's destroy) and forget every live object for
 * which pred(obj, arg) is true; their handles go stale. */
void ehal_handles_drop_if(ehal_handle_table *t, int (*pred)(void *obj, void *arg), void *arg);
/* Destroy every live object and free the table. */
void ehal_handles_free(ehal_handle_table *t);

#endif
