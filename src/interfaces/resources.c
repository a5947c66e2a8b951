/*
 * resources.c - elastic:resources: more memory or storage for a workload,
 * granted or refused by its deployment (docs/deployment.md, "Resources").
 *
 * The broker behind the workload's bus arbitrates (ceilings, the
 * deployment's totals, priority); this file makes a grant real in this
 * runtime: a memory grant raises the bound memory.grow honours (growing
 * past it returns -1), a storage grant raises the workload's storage
 * quota, a network grant the sockets' bandwidth budget (of a workload
 * whose network is metered at all).  Giving an allocation back lowers
 * them again, unless the memory has already grown into the grant (linear
 * memory never shrinks) or the stored bytes would no longer fit; then the
 * allocation stays.  Every allocation is released when the workload's run
 * ends.  CPU requests are refused: this HAL has no CPU control yet.
 */
#include <stdlib.h>
#include <string.h>

#include "../deploy/bus.h"
#include "../engine/engine.h"
#include "../storage/store.h"
#include "interfaces.h"

typedef struct {
  char id[EHAL_ALLOC_ID_LEN + 1];
  int type; /* -1: free */
  uint64_t amount;
} grant;

typedef struct {
  grant g[EHAL_MAX_ALLOCATIONS];
  uint64_t memory_granted; /* bytes, whole pages */
} res_state;

void *ehal_state_create_resources(ehal_instance *inst) {
  (void)inst;
  res_state *st = calloc(1, sizeof *st);
  for (size_t i = 0; st && i < EHAL_MAX_ALLOCATIONS; i++) st->g[i].type = -1;
  return st;
}

void ehal_state_destroy_resources(ehal_instance *inst, void *state) {
  (void)inst;
  free(state);
}

#define BUS_OR_FAIL(ret)                                           \
  struct ehal_bus *bus = ehal_instance_bus(inst);                  \
  res_state *st = ehal_iface_state(inst, EHAL_IFACE_ID_RESOURCES); \
  if (!bus || !st) EHAL_FAIL(ret, "out of memory")

/* Puts the memory bound at base + granted; false when the module's own
 * maximum keeps it lower. */
static bool apply_memory(ehal_instance *inst, uint64_t granted) {
  uint64_t want = inst->base_memory_pages + (granted >> 16);
  if (want > 65535) return false;
  return ehal_engine_memory_limit(inst->eng, (uint32_t)want) == want;
}

/* A network budget exists only where the workload's network is metered. */
#define UNMETERED "this workload's network is not metered (no bandwidth budget): nothing to grant"

void ehal_impl_resources_allocate(ehal_instance *inst, ehal_resources_allocation_request_t req,
                                  ehal_resources_result_allocation_response_string_t *ret) {
  BUS_OR_FAIL(ret);
  if (req.resource_type == EHAL_RES_NETWORK && !inst->net_rate) EHAL_FAIL(ret, UNMETERED);
  grant *slot = NULL;
  for (size_t i = 0; i < EHAL_MAX_ALLOCATIONS && !slot; i++)
    if (st->g[i].type < 0) slot = &st->g[i];
  if (!slot) EHAL_FAIL(ret, "too many allocations (at most %u per workload)", EHAL_MAX_ALLOCATIONS);
  char err[512];
  uint64_t granted;
  if (bus->ops->allocate(bus, req.resource_type, req.amount, req.priority, slot->id, &granted, err,
                         sizeof err) != 0)
    EHAL_FAIL(ret, "%s", err);
  const char *why = NULL;
  if (req.resource_type == EHAL_RES_MEMORY) {
    if (!apply_memory(inst, st->memory_granted + granted)) {
      apply_memory(inst, st->memory_granted);
      why = "the module's own maximum memory is lower than that";
    } else {
      st->memory_granted += granted;
    }
  } else if (req.resource_type == EHAL_RES_NETWORK) {
    inst->net_rate += granted;
  } else {
    inst->storage_quota = ehal_storage_quota(inst) + granted;
    ehal_storage_quota_changed(inst);
  }
  if (why) { /* give it back: a grant this runtime cannot honour is no grant */
    int type;
    uint64_t amount;
    bus->ops->deallocate(bus, slot->id, EHAL_ALLOC_ID_LEN, &type, &amount, err, sizeof err);
    EHAL_FAIL(ret, "refused: %s", why);
  }
  slot->type = req.resource_type;
  slot->amount = granted;
  char *id = ehal_arena_alloc(inst, EHAL_ALLOC_ID_LEN);
  EHAL_NEED(id);
  memcpy(id, slot->id, EHAL_ALLOC_ID_LEN);
  ret->val.allocation_id = (ehal_str){id, EHAL_ALLOC_ID_LEN};
  ret->val.granted_amount = granted;
}

void ehal_impl_resources_deallocate(ehal_instance *inst, ehal_str id,
                                    ehal_resources_result_void_string_t *ret) {
  BUS_OR_FAIL(ret);
  grant *g = NULL;
  for (size_t i = 0; i < EHAL_MAX_ALLOCATIONS && !g && id.len == EHAL_ALLOC_ID_LEN; i++)
    if (st->g[i].type >= 0 && !memcmp(st->g[i].id, id.ptr, id.len)) g = &st->g[i];
  if (!g) EHAL_FAIL(ret, "no allocation with that id (held by this workload)");
  if (g->type == EHAL_RES_MEMORY) {
    uint64_t pages = inst->base_memory_pages + ((st->memory_granted - g->amount) >> 16);
    uint32_t used = ehal_engine_memory_pages(inst->eng);
    if (used > pages)
      EHAL_FAIL(ret,
                "the workload's memory has grown to %u pages, past the %llu it would keep: "
                "linear memory never shrinks, so the allocation stays",
                used, (unsigned long long)pages);
  } else if (g->type == EHAL_RES_STORAGE) {
    ehal_be_usage u;
    char why[256];
    uint64_t quota = ehal_storage_quota(inst) - g->amount;
    if (ehal_storage_usage(inst->state_dir, inst->workload, &u, why, sizeof why) != 0)
      EHAL_FAIL(ret, "%s", why);
    uint64_t charged = u.bytes + u.objects * EHAL_STORE_OBJECT_CHARGE;
    if (charged > quota)
      EHAL_FAIL(ret, "the workload stores %llu bytes, more than the %llu it would keep",
                (unsigned long long)charged, (unsigned long long)quota);
  }
  char err[512];
  int type;
  uint64_t amount;
  if (bus->ops->deallocate(bus, g->id, EHAL_ALLOC_ID_LEN, &type, &amount, err, sizeof err) != 0)
    EHAL_FAIL(ret, "%s", err);
  if (g->type == EHAL_RES_MEMORY) {
    st->memory_granted -= g->amount;
    apply_memory(inst, st->memory_granted);
  } else if (g->type == EHAL_RES_NETWORK) {
    inst->net_rate -= g->amount;
  } else {
    inst->storage_quota -= g->amount;
    ehal_storage_quota_changed(inst);
  }
  g->type = -1;
}

void ehal_impl_resources_query_available(ehal_instance *inst,
                                         ehal_resources_resource_type_t resource_type,
                                         ehal_resources_result_u64_string_t *ret) {
  BUS_OR_FAIL(ret);
  (void)st;
  if (resource_type == EHAL_RES_NETWORK && !inst->net_rate) EHAL_FAIL(ret, UNMETERED);
  char err[512];
  if (bus->ops->available(bus, resource_type, &ret->val, err, sizeof err) != 0)
    EHAL_FAIL(ret, "%s", err);
}
