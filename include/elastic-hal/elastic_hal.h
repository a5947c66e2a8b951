/*
 * elastic_hal.h - public API of the ELASTIC TEE HAL runtime.
 *
 * A host program builds a linker, adds HAL interfaces to it at one of three
 * grains (one interface, one composed world, or everything), loads a guest
 * module and instantiates it.  Every import of the guest is resolved against
 * the linker before any guest code runs.
 *
 *   elastic_hal_linker *l = elastic_hal_linker_new();
 *   elastic_hal_minimal_add_to_linker(l);        // a composed world
 *   elastic_hal_wasi_add_to_linker(l);           // WASI preview 1 (minimal)
 *   elastic_hal_module *m = elastic_hal_module_load("app.wasm", &opts, &err);
 *   elastic_hal_instance *i = elastic_hal_instantiate(m, l, &cfg, &err);
 *   elastic_hal_run(i, &status, &err);
 */
#ifndef ELASTIC_HAL_H
#define ELASTIC_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "elastic_hal_linker.h" /* generated: the add_to_linker functions */

#ifdef __cplusplus
extern "C" {
#endif

#define ELASTIC_HAL_VERSION "0.1.0"

/* Exit status of a guest that trapped (as a process killed by SIGABRT). */
#define ELASTIC_HAL_TRAP_STATUS 134

/* elastic_hal_config.max_sleep_ns: the guest may not sleep at all. */
#define ELASTIC_HAL_SLEEP_NONE UINT64_MAX

/* Error text for the last failing call. */
typedef struct {
  char msg[2048];
  bool trapped; /* elastic_hal_instantiate: the guest's start function trapped */
} elastic_hal_error;

typedef struct elastic_hal_module elastic_hal_module;
typedef struct ehal_instance elastic_hal_instance;

/* ---- linker ---- */
elastic_hal_linker *elastic_hal_linker_new(void);
void elastic_hal_linker_free(elastic_hal_linker *linker);
/* WASI preview 1, the subset a wasi-libc command needs (see README). */
int elastic_hal_wasi_add_to_linker(elastic_hal_linker *linker);
/* The composed world whose HAL interfaces the linker holds exactly (WASI
 * preview 1 aside, however they were added), else "custom"; used in
 * diagnostics ("not in world ...").  Attestation binds the fuller identity
 * of docs/evidence.md, which equals this name whenever it is not "custom". */
const char *elastic_hal_linker_world(const elastic_hal_linker *linker);
/* Adds the interfaces of a composed world given by name (elastic-tee-...). */
int elastic_hal_world_add_to_linker_by_name(elastic_hal_linker *linker, const char *world);

/* ---- modules ---- */
typedef struct {
  /* Directory for the compiled-artifact cache (.wasm inputs only); NULL:
   * state_dir/cache. */
  const char *cache_dir;
  /* Called with a one-line progress message while compiling; may be NULL. */
  void (*progress)(const char *msg, void *user);
  void *user;
  /* The state directory: on the simulated platform it holds the sealing
   * root that artifacts are authenticated with. */
  const char *state_dir;
} elastic_hal_load_options;

/* Ahead-of-time compile GUEST.wasm into an artifact at out_path.  The
 * artifact is authenticated with a key from this platform's sealing root:
 * it loads only where that root is had (see README, "Artifacts"). */
int elastic_hal_compile(const char *wasm_path, const char *out_path,
                        const elastic_hal_load_options *opts, elastic_hal_error *err);
/* Load a core .wasm (compiled on demand into the cache) or an artifact
 * from elastic_hal_compile.  Anything else, and an artifact that fails
 * authentication, is refused before any of its code runs. */
elastic_hal_module *elastic_hal_module_load(const char *path, const elastic_hal_load_options *opts,
                                            elastic_hal_error *err);
/* Read a module's imports and exports and apply every check load makes,
 * without compiling or loading any code (for check).  An artifact is
 * authenticated, never loaded; opts may be NULL for .wasm inputs. */
elastic_hal_module *elastic_hal_module_inspect(const char *path,
                                               const elastic_hal_load_options *opts,
                                               elastic_hal_error *err);
/* Whether the module can run as a command (elastic_hal_run) under a memory
 * bound of max_memory_pages (0 = the default): its initial memory fits and
 * it exports _start.  0, or -1 with the reason in err. */
int elastic_hal_module_runnable(const elastic_hal_module *module, uint32_t max_memory_pages,
                                elastic_hal_error *err);
void elastic_hal_module_free(elastic_hal_module *module);
/* SHA-384 of the module as loaded (its code identity), lowercase hex. */
const char *elastic_hal_module_sha384(const elastic_hal_module *module);

/* Resolve every import of the module against the linker.  Writes one line
 * per problem to report (may be NULL) and returns the number of problems. */
int elastic_hal_check(const elastic_hal_module *module, const elastic_hal_linker *linker,
                      FILE *report);

/* ---- instances ---- */
typedef struct {
  const char *workload;  /* stable workload name (storage, messaging) */
  const char *state_dir; /* per-node state directory */
  int argc;              /* guest argv (argv[0] is the program name) */
  char *const *argv;
  int envc; /* guest environment, "K=V" strings */
  char *const *env;
  uint32_t max_memory_pages; /* linear memory bound (64 KiB pages); 0 = 16384 (1 GiB);
                                at most 65535 (4 GiB less one page) */
  uint64_t max_sleep_ns;     /* clock.sleep bound; 0 = 10 s; ELASTIC_HAL_SLEEP_NONE = none */
  int stdout_fd, stderr_fd;  /* where the guest's fd 1 and 2 go; 0 = 1 and 2 */
} elastic_hal_config;

elastic_hal_instance *elastic_hal_instantiate(elastic_hal_module *module,
                                              const elastic_hal_linker *linker,
                                              const elastic_hal_config *config,
                                              elastic_hal_error *err);
void elastic_hal_instance_free(elastic_hal_instance *instance);

typedef enum {
  ELASTIC_HAL_EXITED = 0, /* returned or called proc_exit; see status */
  ELASTIC_HAL_TRAPPED = 1 /* trapped; err says which trap */
} elastic_hal_outcome;

/* Run the guest: _initialize (reactor) and then _start (command) where
 * exported.  *status is the guest's exit status, or ELASTIC_HAL_TRAP_STATUS. */
elastic_hal_outcome elastic_hal_run(elastic_hal_instance *instance, int *status,
                                    elastic_hal_error *err);
/* Call an exported function taking and returning only i32/i64 values. */
elastic_hal_outcome elastic_hal_call(elastic_hal_instance *instance, const char *name,
                                     const uint64_t *args, size_t nargs, uint64_t *results,
                                     size_t nresults, elastic_hal_error *err);

/* $XDG_STATE_HOME/elastic-hal, else ~/.local/state/elastic-hal (malloc'd). */
char *elastic_hal_default_state_dir(void);

/* The platform this process runs on: "sev-snp", "tdx" or "simulated"; "unknown"
 * when configfs-tsm is present but unusable (never treated as simulated). */
const char *elastic_hal_platform_type(void);

#ifdef __cplusplus
}
#endif
#endif
