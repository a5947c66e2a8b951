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
 *
 * Ownership: what a *_new, *_load or *_instantiate call returns belongs to
 * the caller and is released with the matching *_free; strings the API
 * returns belong to the object they came from.  Errors: a failing call
 * returns NULL or non-zero and fills the elastic_hal_error it was given.
 *
 * Threads: linkers and modules are read-only once built and may be shared
 * between threads.  An instance runs on one thread at a time; different
 * instances run on different threads at once (trap state is per thread),
 * and a host function may call into another instance.  Host code is never
 * unwound: a trap that a host function causes (an ABI violation, a
 * failing embedder function, a trap in the guest's allocator) is raised
 * once the host function has returned.  The sanitizer build
 * (which counts call depth in one process-wide counter) must serialize
 * calls into guests.  elastic_hal_instance_interrupt may come from any
 * thread at any time.
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

/* The version these headers belong to; elastic_hal_version() gives the
 * library's, which may be newer (same major version: compatible). */
#define ELASTIC_HAL_VERSION_MAJOR 0
#define ELASTIC_HAL_VERSION_MINOR 1
#define ELASTIC_HAL_VERSION_PATCH 0
#define ELASTIC_HAL_VERSION "0.1.0"
#define ELASTIC_HAL_VERSION_NUMBER \
  (ELASTIC_HAL_VERSION_MAJOR * 10000 + ELASTIC_HAL_VERSION_MINOR * 100 + ELASTIC_HAL_VERSION_PATCH)
/* "MAJOR.MINOR.PATCH" of the library linked at run time; *number, when not
 * NULL, gets it as ELASTIC_HAL_VERSION_NUMBER does. */
const char *elastic_hal_version(int *number);

/* Exit status of a guest that trapped (as a process killed by SIGABRT). */
#define ELASTIC_HAL_TRAP_STATUS 134

/* elastic_hal_config.max_sleep_ns: the guest may not sleep at all. */
#define ELASTIC_HAL_SLEEP_NONE UINT64_MAX

/* What went wrong, for a program to act on (msg is for people). */
typedef enum {
  ELASTIC_HAL_ERR_NONE = 0,
  ELASTIC_HAL_ERR_USAGE,   /* a bad argument to the API */
  ELASTIC_HAL_ERR_IO,      /* a file could not be read or written */
  ELASTIC_HAL_ERR_MODULE,  /* a malformed or refused module, or an artifact that failed
                              authentication */
  ELASTIC_HAL_ERR_COMPILE, /* the engine could not compile the module */
  ELASTIC_HAL_ERR_LINK,    /* an import did not resolve (msg: one line each) */
  ELASTIC_HAL_ERR_TRAP,    /* the guest trapped: see trap and function */
  ELASTIC_HAL_ERR_OTHER
} elastic_hal_error_kind;

/* The error of the last failing call. */
typedef struct {
  char msg[2048];
  bool trapped; /* elastic_hal_instantiate: the guest's start function trapped */
  elastic_hal_error_kind kind;
  char trap[40];      /* ERR_TRAP: the trap's kind: "unreachable executed", "out-of-bounds
                         memory access", "call stack exhausted", "interrupted", "abi", ... */
  char function[128]; /* ERR_TRAP: the guest function the host called ("_start", an
                         export's name, "start function") */
} elastic_hal_error;

typedef struct elastic_hal_module elastic_hal_module;
typedef struct ehal_instance elastic_hal_instance;

/* A core WebAssembly value.  Signatures are written compactly: one letter
 * per value (i = i32, I = i64, f = f32, F = f64), the parameters, a colon,
 * the results: "iI:f" is (i32, i64) -> f32. */
typedef enum {
  ELASTIC_HAL_I32 = 'i',
  ELASTIC_HAL_I64 = 'I',
  ELASTIC_HAL_F32 = 'f',
  ELASTIC_HAL_F64 = 'F'
} elastic_hal_valkind;

typedef struct {
  elastic_hal_valkind kind;
  union {
    uint32_t i32;
    uint64_t i64;
    float f32;
    double f64;
  } of;
} elastic_hal_val;

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

/* A host function of the embedder's own.  args holds nargs values of the
 * kinds the signature names; the function fills results (kind included)
 * and returns 0, or returns non-zero to trap the caller, after
 * elastic_hal_trap(caller, ...) to say why.  It runs on the thread that
 * called into the guest and must return normally (no longjmp). */
typedef int (*elastic_hal_host_fn)(elastic_hal_instance *caller, const elastic_hal_val *args,
                                   size_t nargs, elastic_hal_val *results, size_t nresults,
                                   void *user);
/* Define module#name with signature sig (see elastic_hal_val; at most one
 * result).  A guest import of exactly that module and name, with exactly
 * that signature, is served by fn.  The linker owns user from here on and
 * calls free_user(user) (if not NULL) when it is freed: it must outlive
 * every instance made with it.  Embedder functions are not part of the
 * linked world the evidence binds (docs/evidence.md).  0, or -1 for a bad
 * signature, a name defined twice, or no memory. */
int elastic_hal_linker_define(elastic_hal_linker *linker, const char *module, const char *name,
                              const char *sig, elastic_hal_host_fn fn, void *user,
                              void (*free_user)(void *user));

/* ---- modules ---- */

/* How hard the compiler works on a .wasm.  AUTO: a module whose translated
 * C passes ELASTIC_HAL_QUICK_TIER_LINES lines (default 500000) is compiled
 * at the quick tier (gcc -Og: about half the compile time of -O2, code
 * about as fast as -O1, for a first run that starts sooner), every other
 * at the optimized one (-O2); a cache entry of the optimized tier is always
 * preferred.  OPTIMIZED asks for the optimized code whatever the size
 * (elastic-hal compile, and the background upgrade `elastic-hal run` starts
 * after a quick first run). */
typedef enum {
  ELASTIC_HAL_TIER_AUTO = 0,
  ELASTIC_HAL_TIER_QUICK = 1,
  ELASTIC_HAL_TIER_OPTIMIZED = 2
} elastic_hal_tier;

typedef struct {
  /* Directory for the compiled-artifact cache (.wasm inputs only); NULL:
   * state_dir/cache. */
  const char *cache_dir;
  /* Called with a one-line progress message while compiling; may be NULL.
   * A message that starts with "warning: " is one an operator should see
   * whatever the verbosity (a cache entry refused as not authentic). */
  void (*progress)(const char *msg, void *user);
  void *user;
  /* The state directory: on the simulated platform it holds the sealing
   * root that artifacts are authenticated with. */
  const char *state_dir;
  /* Bound on the cache's size in bytes (0: 1 GiB): after adding an entry,
   * the least recently used ones are removed until the rest fit. */
  uint64_t cache_max_bytes;
  elastic_hal_tier tier; /* 0: AUTO */
} elastic_hal_load_options;

/* Ahead-of-time compile GUEST.wasm into an artifact at out_path.  The
 * artifact is authenticated with a key from this platform's sealing root:
 * it loads only where that root is had (see README, "Artifacts"). */
int elastic_hal_compile(const char *wasm_path, const char *out_path,
                        const elastic_hal_load_options *opts, elastic_hal_error *err);
/* Compile for another machine (a build host bigger than the confidential
 * VM): the artifact is signed with the unencrypted Ed25519 private key in
 * the PEM file signing_key_pem instead of tagged with a sealing-root key,
 * so this machine needs no sealing root.  No machine loads it as it is:
 * elastic_hal_import on the target makes it an artifact of the target.
 * The target must run the same engine build (elastic-hal --version). */
int elastic_hal_compile_signed(const char *wasm_path, const char *out_path,
                               const char *signing_key_pem, const elastic_hal_load_options *opts,
                               elastic_hal_error *err);
/* Import a signed artifact: its signer must be one of the n_trusted
 * Ed25519 public keys (PEM files) the operator names, its signature valid,
 * its engine build this one and its module pass every check of a load.  It
 * is then written as an artifact of this machine at out_path, or, with
 * out_path NULL, into the compile cache (opts->cache_dir, else
 * state_dir/cache), where loading the .wasm finds its optimized code. */
int elastic_hal_import(const char *signed_path, const char *out_path,
                       const char *const *trusted_pem, size_t n_trusted,
                       const elastic_hal_load_options *opts, elastic_hal_error *err);
/* Load a core .wasm (compiled on demand into the cache), a component (as
 * its main core module, see docs/components.md) or an artifact from
 * elastic_hal_compile.  Anything else, and an artifact that fails
 * authentication, is refused before any of its code runs. */
elastic_hal_module *elastic_hal_module_load(const char *path, const elastic_hal_load_options *opts,
                                            elastic_hal_error *err);
/* Load a module from memory: a core module, a component or an artifact, as
 * elastic_hal_module_load does with a file's contents; label names it in
 * messages.  The bytes are not kept. */
elastic_hal_module *elastic_hal_module_load_bytes(const uint8_t *bytes, size_t len,
                                                  const char *label,
                                                  const elastic_hal_load_options *opts,
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
/* SHA-384 of the module as loaded (its code identity), lowercase hex; for
 * a component, of its main core module (what runs). */
const char *elastic_hal_module_sha384(const elastic_hal_module *module);
/* Whether the module was given as a component: its imports and exports are
 * then its main core module's, and elastic_hal_check also resolves the
 * interfaces the component imports. */
bool elastic_hal_module_is_component(const elastic_hal_module *module);
/* The tier of a loaded module's native code: QUICK or OPTIMIZED. */
elastic_hal_tier elastic_hal_module_tier(const elastic_hal_module *module);

/* What a module imports and exports, in its own order.  Strings belong to
 * the module.  Every import is a function (the HAL admits no other). */
size_t elastic_hal_module_import_count(const elastic_hal_module *module);
void elastic_hal_module_import(const elastic_hal_module *module, size_t i, const char **mod,
                               const char **name, const char **sig);
typedef enum {
  ELASTIC_HAL_EXTERN_FUNC = 0,
  ELASTIC_HAL_EXTERN_TABLE = 1,
  ELASTIC_HAL_EXTERN_MEMORY = 2,
  ELASTIC_HAL_EXTERN_GLOBAL = 3
} elastic_hal_extern_kind;
size_t elastic_hal_module_export_count(const elastic_hal_module *module);
/* *sig is the function's signature, or NULL for other kinds. */
void elastic_hal_module_export(const elastic_hal_module *module, size_t i, const char **name,
                               elastic_hal_extern_kind *kind, const char **sig);

/* Resolve every import of the module against the linker.  Writes one line
 * per problem to report (may be NULL) and returns the number of problems. */
int elastic_hal_check(const elastic_hal_module *module, const elastic_hal_linker *linker,
                      FILE *report);

/* ---- instances ---- */
/* A host directory a guest sees at guest_path (elastic_hal_config). */
typedef struct elastic_hal_host_dir {
  const char *host_path;  /* a directory on the host */
  const char *guest_path; /* absolute, as for sealed directories: "/in" */
  bool writable;          /* false: read-only, every change EROFS */
} elastic_hal_host_dir;

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
  void *user_data;           /* the embedder's, see elastic_hal_instance_user_data */
  uint64_t timeout_ms;       /* 0 = none; else every call into the guest (the start
                                function included) that runs past this many ms after
                                instantiation begins ends in the trap "interrupted" */
  /* Network policy of the sockets interface: nothing is reachable unless a
   * rule allows it.  A rule is ADDR:PORT, with ADDR an IPv4 address, an
   * [IPv6] one, a CIDR block ("10.0.0.0/8", "[fd00::/8]"), a host name
   * (resolved at instantiation) or "*", and PORT a number, "LO-HI" or "*".
   * A malformed rule fails instantiation (ELASTIC_HAL_ERR_USAGE). */
  const char *const *allow_connect;
  size_t n_allow_connect;
  const char *const *allow_bind;
  size_t n_allow_bind;
  uint32_t max_sockets;       /* sockets open at once; 0 = 1024 */
  uint64_t socket_timeout_ms; /* bound on a socket call that waits; 0 = 30000 */
  /* TLS: trust anchors for clients (a PEM file; NULL: the system's), and
   * the identity a TLS server presents (a PKCS#12 file and its password;
   * NULL: none, and a TLS socket cannot listen).  Files are read on the
   * workload's first TLS socket. */
  const char *tls_ca_file;
  const char *tls_identity_p12;
  const char *tls_identity_password;
  /* Instead of a PKCS#12 identity: a key made inside the HAL with a
   * self-signed certificate that carries the platform's evidence for it
   * (attested TLS, docs/sockets.md). */
  bool tls_identity_attested;
  /* GPU compute (docs/gpu.md): submitted work that runs longer than
   * gpu_timeout_ms loses its device (0 = 5000); the workload's buffers
   * together hold at most gpu_max_memory bytes (0 = 1 GiB) and number at
   * most gpu_max_buffers (0 = 1024); one pass runs at most
   * gpu_max_workgroups workgroups (0 = 1048576: what bounds the time a
   * stopped pass takes to end on a CPU driver). */
  uint64_t gpu_timeout_ms;
  uint64_t gpu_max_memory;
  uint32_t gpu_max_buffers;
  uint64_t gpu_max_workgroups;
  /* A workload of a deployment (elastic-hal serve, docs/deployment.md):
   * the socket to its supervisor (still the caller's, to close after
   * elastic_hal_instance_free).  0: the workload is a deployment of one.
   * deployment: the deployment's name, bound into the keys of sealed
   * messages (NULL: none). */
  int deployment_fd;
  const char *deployment;
  /* The workload's storage quota: bytes of objects over all its containers
   * (each object also counts 2048 bytes of overhead).  0 = 1 GiB (or what
   * the process-wide storage limits say).  A
   * resources grant raises it while the workload runs. */
  uint64_t max_storage_bytes;
  /* The sockets' bandwidth budget: bytes per second sent and received
   * together (TLS and DTLS: application bytes), with bursts of up to a
   * second's worth; a call waits while the budget is spent (at most its
   * socket timeout).  0 = not metered.  A resources grant raises it. */
  uint64_t network_rate;
  /* Sealed directories (docs/filesystem.md): each guest path ("/data", or
   * "/" for the whole tree) is preopened for WASI preview 1 as a directory
   * whose files live in the workload's encrypted storage (state_dir). */
  const char *const *sealed_dirs;
  size_t n_sealed_dirs;
  /* Host directories mapped in as they are (elastic-hal run --dir-host):
   * unprotected, read-only unless writable; docs/filesystem.md. */
  const struct elastic_hal_host_dir *host_dirs;
  size_t n_host_dirs;
} elastic_hal_config;

elastic_hal_instance *elastic_hal_instantiate(elastic_hal_module *module,
                                              const elastic_hal_linker *linker,
                                              const elastic_hal_config *config,
                                              elastic_hal_error *err);
/* Writes back what the instance's sealed directories cache (their files
 * are otherwise written back when a guest syncs, and when the instance is
 * freed, where an error can only be printed).  0, or -1 with err set. */
int elastic_hal_instance_sync(elastic_hal_instance *inst, elastic_hal_error *err);
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

/* Call an exported function with values of any core type: args must match
 * its parameters in number and kind; results gets its results. */
elastic_hal_outcome elastic_hal_call_values(elastic_hal_instance *instance, const char *name,
                                            const elastic_hal_val *args, size_t nargs,
                                            elastic_hal_val *results, size_t nresults,
                                            elastic_hal_error *err);

/* An exported function resolved once, for calls without a lookup: valid
 * for every instance of the module it was found in.  Arguments and results
 * are 64-bit cells: i32/i64 zero-extended, f32/f64 as their bits.  The
 * cheapest way into a guest (no name lookup, no signature parse, no system
 * call unless it traps). */
typedef struct elastic_hal_func elastic_hal_func;
const elastic_hal_func *elastic_hal_instance_func(const elastic_hal_instance *instance,
                                                  const char *name, elastic_hal_error *err);
/* The function's signature (see elastic_hal_val). */
const char *elastic_hal_func_sig(const elastic_hal_func *func);
/* args: one cell per parameter; results: room for its result, if any. */
elastic_hal_outcome elastic_hal_func_call(elastic_hal_instance *instance,
                                          const elastic_hal_func *func, const uint64_t *args,
                                          uint64_t *results, elastic_hal_error *err);

/* Stop the guest running in instance, from any thread: the call in progress
 * (or, if none is, the next one) ends with the trap "interrupted", at once
 * while the guest runs its own code, else as soon as the host function it
 * is in returns.  The running thread gets SIGURG; a SIGURG the runtime did
 * not send goes on to the handler installed before it.  0, or -1. */
int elastic_hal_instance_interrupt(elastic_hal_instance *instance);

/* The config's user_data. */
void *elastic_hal_instance_user_data(const elastic_hal_instance *instance);

/* Guest memory, bounds-checked: 0, or -1 (nothing copied) when any byte of
 * [addr, addr + len) lies outside it.  Memory may grow and move whenever
 * guest code runs: hold no pointer into it, keep addresses. */
size_t elastic_hal_memory_size(const elastic_hal_instance *instance);
int elastic_hal_memory_read(const elastic_hal_instance *instance, uint32_t addr, void *dst,
                            size_t len);
int elastic_hal_memory_write(elastic_hal_instance *instance, uint32_t addr, const void *src,
                             size_t len);
/* Canonical-ABI helpers for host functions (call them only from inside
 * one, on its caller).  read_string: the guest's (ptr, len) string,
 * checked to be valid UTF-8 and NUL-free, as a malloc'd C string.
 * lower_bytes: len bytes copied into memory the guest allocates with its
 * cabi_realloc, *ptr its address.  0, or -1 (trap the caller then).  If
 * the guest's cabi_realloc itself traps, that trap is recorded: the host
 * function gets -1, goes on and returns as usual, and the guest's call
 * ends with the allocator's trap (whatever the function returns). */
int elastic_hal_read_string(const elastic_hal_instance *caller, uint32_t ptr, uint32_t len,
                            char **out);
int elastic_hal_lower_bytes(elastic_hal_instance *caller, const void *src, size_t len,
                            uint32_t align, uint32_t *ptr);
/* Record why a host function traps its caller; returns -1, so a host
 * function can end with `return elastic_hal_trap(caller, "...")`. */
int elastic_hal_trap(elastic_hal_instance *caller, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* $XDG_STATE_HOME/elastic-hal, else ~/.local/state/elastic-hal (malloc'd). */
char *elastic_hal_default_state_dir(void);

/* The platform this process runs on: "sev-snp", "tdx" or "simulated"; "unknown"
 * when configfs-tsm is present but unusable (never treated as simulated). */
const char *elastic_hal_platform_type(void);

#ifdef __cplusplus
}
#endif
#endif
