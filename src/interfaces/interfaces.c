/* interfaces.c - per-instance state of the interface implementations. */
#include "interfaces.h"

#include <stdlib.h>

void ehal_instance_init_interfaces(ehal_instance *inst) {
  ehal_handles_init(&inst->timers, EHAL_MAX_TIMERS, free);
}

void ehal_instance_cleanup_interfaces(ehal_instance *inst) {
  while (inst->n_cleanups > 0) inst->cleanups[--inst->n_cleanups].fn(inst);
  ehal_handles_free(&inst->timers);
}

int ehal_instance_on_free(ehal_instance *inst, void (*fn)(ehal_instance *inst)) {
  if (inst->n_cleanups == (int)(sizeof inst->cleanups / sizeof inst->cleanups[0])) return -1;
  inst->cleanups[inst->n_cleanups++].fn = fn;
  return 0;
}
