/* interfaces.h - hooks shared by the interface implementations. */
#ifndef EHAL_INTERFACES_H
#define EHAL_INTERFACES_H

#include "../runtime/handles.h"
#include "../runtime/instance.h"
#include "ehal_bindings.h"

/*
 * Per-instance state of the interfaces.  An interface that keeps state
 * (handle tables, an open store) is marked `+state` in implemented.txt and
 * defines the hooks witgen declares for it in ehal_bindings.h:
 *
 *   void *ehal_state_create_<iface>(ehal_instance *inst);   NULL: out of memory
 *   void ehal_state_destroy_<iface>(ehal_instance *inst, void *state);
 *
 * ehal_iface_state(inst, EHAL_IFACE_ID_<IFACE>) returns the instance's
 * state of that interface, calling create on first use.  Every state
 * created is destroyed, in reverse order of creation, when the instance is
 * freed: after the guest finished or trapped (a trap mid-call included),
 * after its engine instance is gone, so destroy must not touch guest memory
 * or call into the guest.  A host call runs on one thread at a time per
 * instance, so none of this locks.
 */

/* The state of interface id, created on first use; NULL when it cannot be
 * created (out of memory) or the interface has no hooks. */
void *ehal_iface_state(ehal_instance *inst, ehal_iface_id id);

/* The state of interface id if it exists yet, else NULL (never creates:
 * for lookups where no state simply means nothing to find). */
void *ehal_iface_state_peek(const ehal_instance *inst, ehal_iface_id id);

/* Called by the runtime (hal.c) at instantiation and at instance free. */
void ehal_instance_init_interfaces(ehal_instance *inst);
void ehal_instance_cleanup_interfaces(ehal_instance *inst);

const char *ehal_platform_version(void);

/* The workload's bus (src/deploy/bus.h): the supervisor's channel when the
 * workload is part of a deployment, else a deployment of one; created on
 * first use, freed with the instance.  NULL when out of memory. */
struct ehal_bus *ehal_instance_bus(ehal_instance *inst);

/* The workload's storage quota now in force (bytes). */
uint64_t ehal_storage_quota(ehal_instance *inst);
/* inst->storage_quota changed: the open store, if any, follows it. */
void ehal_storage_quota_changed(ehal_instance *inst);

/* An event of the HAL itself about this workload (docs/deployment.md
 * lists them): its payload is the JSON object {"event": name,
 * "workload": the workload, key: value} (key NULL: no third member).  It
 * reaches the subscriptions that may hear this workload; none exist, and
 * nothing is sent, while a workload alone has not subscribed. */
void ehal_emit_event(ehal_instance *inst, uint8_t type, const char *name, const char *key,
                     const char *value);

/* One row of the capabilities list; feature names are stable API. */
typedef struct {
  const char *name;
  bool supported;
  const char *version;
} ehal_capability;

/* Fills up to max rows for this instance (NULL: for this build); returns
 * the count.  Names and versions are static strings. */
size_t ehal_capabilities(const ehal_instance *inst, ehal_capability *out, size_t max);

/* Fail a result<_, string> implementation: set the error (printf-style,
 * in the call arena) and return.  Expects `inst` in scope. */
#define EHAL_FAIL(ret, ...)                       \
  do {                                            \
    (ret)->is_err = true;                         \
    (ret)->err = ehal_str_fmt(inst, __VA_ARGS__); \
    return;                                       \
  } while (0)

/* Host memory an implementation asked for (ehal_arena_alloc, ehal_stage,
 * ehal_lower_direct) is NULL when the call cannot have it: the call traps
 * then, and the implementation just returns. */
#define EHAL_NEED(p)  \
  do {                \
    if (!(p)) return; \
  } while (0)

#define EHAL_RANDOM_MAX_BYTES (1u << 20)   /* per get-random-bytes call */
#define EHAL_RESEED_MAX_BYTES (64u * 1024) /* per reseed call */
#define EHAL_MAX_TIMERS 1024u              /* live timers per workload */

#endif
