/* interfaces.c - per-instance state of the interface implementations. */
#include "interfaces.h"

#include <stdlib.h>

void ehal_instance_init_interfaces(ehal_instance *inst) {
  ehal_handles_init(&inst->timers, EHAL_MAX_TIMERS, free);
}

void ehal_instance_cleanup_interfaces(ehal_instance *inst) { ehal_handles_free(&inst->timers); }
