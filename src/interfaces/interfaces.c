/* interfaces.c - per-instance state of the interface implementations (see
 * interfaces.h; the hooks table is generated into ehal_glue.c). */
#include "interfaces.h"

#include <assert.h>
#include <json-c/json.h>
#include <string.h>

#include "../deploy/bus.h"

_Static_assert(EHAL_MAX_IFACE_STATE <= 256, "iface_state_order holds ids in unsigned char");

static bool valid_id(ehal_iface_id id) {
  return (size_t)id < ehal_iface_count && (size_t)id < EHAL_MAX_IFACE_STATE;
}

void *ehal_iface_state(ehal_instance *inst, ehal_iface_id id) {
  if (!valid_id(id)) return NULL;
  if (inst->iface_state[id]) return inst->iface_state[id];
  const ehal_iface_state_hooks_t *h = &ehal_iface_state_hooks[id];
  if (!h->create) return NULL;
  void *st = h->create(inst);
  if (!st) return NULL;
  /* a state is created at most once, so the order never overflows */
  assert(inst->n_iface_state < EHAL_MAX_IFACE_STATE);
  inst->iface_state[id] = st;
  inst->iface_state_order[inst->n_iface_state++] = (unsigned char)id;
  return st;
}

void *ehal_iface_state_peek(const ehal_instance *inst, ehal_iface_id id) {
  return valid_id(id) ? inst->iface_state[id] : NULL;
}

void ehal_instance_init_interfaces(ehal_instance *inst) {
  /* the generated catalog fits the instance's table (a build-time fact) */
  assert(ehal_iface_count <= EHAL_MAX_IFACE_STATE);
  memset(inst->iface_state, 0, sizeof inst->iface_state);
  inst->n_iface_state = 0;
}

void ehal_instance_cleanup_interfaces(ehal_instance *inst) {
  while (inst->n_iface_state > 0) {
    unsigned id = inst->iface_state_order[--inst->n_iface_state];
    void *st = inst->iface_state[id];
    inst->iface_state[id] = NULL;
    ehal_iface_state_hooks[id].destroy(inst, st);
  }
  if (inst->bus) inst->bus->ops->free(inst->bus); /* the channel's fd stays the embedder's */
  inst->bus = NULL;
}

struct ehal_bus *ehal_instance_bus(ehal_instance *inst) {
  if (!inst->bus && inst->deployment_fd > 0) inst->bus = ehal_bus_channel(inst->deployment_fd);
  if (!inst->bus) {
    /* alone, a workload has its bases and nothing more to be granted */
    uint64_t base[EHAL_RES_TYPES] = {0};
    base[EHAL_RES_MEMORY] = (uint64_t)inst->base_memory_pages << 16;
    base[EHAL_RES_STORAGE] = ehal_storage_quota(inst);
    base[EHAL_RES_NETWORK] = inst->net_rate;
    inst->bus = ehal_bus_local(inst->workload, base);
  }
  return inst->bus;
}

void ehal_emit_event(ehal_instance *inst, uint8_t type, const char *name, const char *key,
                     const char *value) {
  if (!inst->bus && inst->deployment_fd <= 0) return; /* alone, and nobody subscribed */
  struct ehal_bus *bus = ehal_instance_bus(inst);
  json_object *o = json_object_new_object();
  if (!bus || !o) {
    json_object_put(o);
    return;
  }
  json_object_object_add(o, "event", json_object_new_string(name));
  json_object_object_add(o, "workload", json_object_new_string(inst->workload));
  if (key) json_object_object_add(o, key, json_object_new_string(value ? value : ""));
  size_t len;
  const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
  char err[256];
  if (s) bus->ops->publish(bus, type, EHAL_EVENT_HAL_PRIORITY, false, s, len, err, sizeof err);
  json_object_put(o);
}
