/* interfaces.h - hooks shared by the interface implementations. */
#ifndef EHAL_INTERFACES_H
#define EHAL_INTERFACES_H

#include "../runtime/instance.h"

/* Per-instance state of the interfaces (handle tables). */
void ehal_instance_init_interfaces(ehal_instance *inst);
void ehal_instance_cleanup_interfaces(ehal_instance *inst);

const char *ehal_platform_version(void);

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

#define EHAL_RANDOM_MAX_BYTES (1u << 20)   /* per get-random-bytes call */
#define EHAL_RESEED_MAX_BYTES (64u * 1024) /* per reseed call */
#define EHAL_MAX_TIMERS 1024u              /* live timers per workload */

#endif
