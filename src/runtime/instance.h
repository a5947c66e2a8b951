/*
 * instance.h - one instantiated guest (a workload) and what the host keeps
 * for it.  Internal to the runtime.
 */
#ifndef EHAL_INSTANCE_H
#define EHAL_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "../engine/engine.h"
#include "cabi.h"
#include "elastic-hal/elastic_hal.h"
#include "handles.h"

/* Bump arena for one host call (see cabi.h). */
typedef struct ehal_arena_chunk ehal_arena_chunk;
typedef struct {
  ehal_arena_chunk *head;
  size_t used;  /* bytes used in head */
  size_t total; /* bytes held over all chunks (bounded) */
} ehal_arena;

struct ehal_watchdog;

struct ehal_instance {
  void *user_data; /* the embedder's (elastic_hal_config.user_data) */
  ehal_engine_instance *eng;
  ehal_hostfn *fns; /* resolved imports, in import order */
  /* per import: the embedder's function where fns[i] is NULL (copies of
   * the linker's definitions; the strings stay the linker's) */
  struct ehal_host_def_copy {
    elastic_hal_host_fn fn;
    void *user;
    const char *sig;
  } * gens;
  struct ehal_watchdog *watchdog; /* config.timeout_ms */
  ehal_memref mem;                /* the guest's linear memory (data/size move) */
  ehal_arena arena;
  const elastic_hal_module *module;

  /* configuration, owned copies */
  char *workload;
  char *state_dir;
  char *world;
  int argc;
  char **argv;
  int envc;
  char **env;
  uint64_t max_sleep_ns;
  int stdout_fd, stderr_fd;

  /* set while the host calls the guest's cabi_realloc to lower a result:
   * the canonical ABI forbids the guest to call the host then */
  bool lowering;

  /* a result already allocated in guest memory by ehal_lower_direct (cabi.h):
   * the glue hands it over without a copy; direct_len 0 = none */
  uint32_t direct_ptr;
  size_t direct_len;

  /* why the guest stopped, when it stopped early */
  bool exited;
  int exit_status;
  char trap_msg[512]; /* set by ehal_abi_trap */

  /* interfaces this instance was linked with (for capabilities) */
  const void *linked[64];
  size_t n_linked;

  /* per-workload handle tables */
  ehal_handle_table timers;

  /* Per-interface state, created by an interface on first use (each
   * interface file defines its own struct) and released by a cleanup it
   * registers with ehal_instance_on_free. */
  struct ehal_crypto_state *crypto;
  struct ehal_storage_state *storage;
  struct ehal_attest_state *attest;
  struct {
    void (*fn)(ehal_instance *inst);
  } cleanups[8];
  int n_cleanups;
};

/* Run fn(inst) when the instance is freed (in reverse order of
 * registration).  Returns -1 when the table is full. */
int ehal_instance_on_free(ehal_instance *inst, void (*fn)(ehal_instance *inst));

#endif
