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

/* Bump arena for one host call (see cabi.h). */
typedef struct ehal_arena_chunk ehal_arena_chunk;
typedef struct {
  ehal_arena_chunk *head;
  size_t used;  /* bytes used in head */
  size_t total; /* bytes held over all chunks (bounded) */
  bool dirty;   /* allocated from, or a direct result made, since the last reset */
} ehal_arena;

struct ehal_watchdog;

/* Interfaces that can hold per-instance state (the catalog's, and a test
 * build's test-only ones); ids are generated (ehal_bindings.h). */
#define EHAL_MAX_IFACE_STATE 64

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
  char *deployment; /* the deployment's name (elastic-hal serve); NULL: none */
  char *state_dir;
  char *world;
  int argc;
  char **argv;
  int envc;
  char **env;
  uint64_t max_sleep_ns;
  int stdout_fd, stderr_fd;
  struct ehal_net_policy *net; /* the sockets policy (src/net/policy.h) */
  struct ehal_wasi_fs *wasi_fs; /* sealed directories and open files (src/wasi/wasi_fs.c) */
  uint32_t max_sockets;
  uint64_t socket_timeout_ms;
  char *tls_ca_file, *tls_identity, *tls_identity_password; /* NULL: none */
  bool tls_attested; /* the TLS identity is made here, attested (src/net/ratls.h) */
  uint64_t gpu_timeout_ms, gpu_max_memory, gpu_max_workgroups;
  uint32_t gpu_max_buffers;
  /* the deployment (src/deploy/bus.h): the channel to the supervisor
   * (0: none, a deployment of one), and the bus made on first use */
  int deployment_fd;
  struct ehal_bus *bus;
  /* resources: the linear memory bound configured (pages) and the storage
   * quota now in force (bytes; a grant raises it; 0: ehal_storage_quota) */
  uint32_t base_memory_pages;
  uint64_t storage_quota;
  /* the sockets' bandwidth budget (bytes per second, both ways together;
   * 0: not metered) and its bucket (sockets.c) */
  uint64_t net_rate;
  double net_tokens;
  uint64_t net_refilled_ns;

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
  /* a trap recorded by host code in the call in progress (ehal_abi_trap):
   * the glue stops, the engine raises it once the host function returns */
  bool trapped;
  char trap_msg[512]; /* why, set with trapped */

  /* interfaces this instance was linked with (for capabilities) */
  const void *linked[64];
  size_t n_linked;

  /* Per-interface state (handle tables, an open store), indexed by the
   * generated interface id; opaque here.  Each interface's hooks create it
   * on first use and destroy it, in reverse order of creation, when the
   * instance is freed (ehal_iface_state, src/interfaces/interfaces.h). */
  void *iface_state[EHAL_MAX_IFACE_STATE];
  unsigned char iface_state_order[EHAL_MAX_IFACE_STATE]; /* ids, as created */
  unsigned n_iface_state;
};

/* Record a trap for the guest call in progress: kind (EHAL_TRAP_HOST for an
 * ABI violation, proc_exit or a failing host function; the allocator's own
 * trap for one in cabi_realloc) and a printf message, unless one is
 * recorded already (the first cause is the one reported).  It returns: the
 * engine raises the trap once the host function has returned. */
void ehal_trap_record(ehal_instance *inst, ehal_trap_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Called first by every glue function: a call that follows one which
 * used no host memory has nothing to reset (the common, cheap case). */
static inline void ehal_call_begin(ehal_instance *inst) {
  if (__builtin_expect(inst->arena.dirty | inst->lowering, 0)) ehal_call_reset(inst);
}

#endif
