/*
 * artifact.h - the contract between the wasm2c engine and a compiled
 * artifact (a shared object holding wasm2c's C for one guest plus a shim
 * that elastic-hal generates).  The same declarations are pasted into every
 * shim (as text, from EHAL_ARTIFACT_TYPES), so the layout has one source.
 *
 * ehal_a_ctl is the engine's control block for one instance, shared with the
 * shim's import functions: stack_limit is the lowest native stack address at
 * which host code may still be entered, in_host counts host calls in
 * progress (a fault while it is non-zero is a host bug, never a guest trap),
 * interrupt asks the guest to stop (the shim traps at the next host-call
 * boundary; the engine's signal handler traps guest code at once), trap is
 * a trap that host code recorded (ehal_engine_trap_host) and the shim raises
 * as soon as the host function has returned, so host code always returns
 * normally and is never unwound, and
 * generic serves imports that have no C-typed host function (an embedder's,
 * called with 64-bit cells).
 *
 * The descriptor names no import and no module hash: the runtime reads both
 * from the module inside the authenticated artifact file, so guest-chosen
 * import names never reach the generated C at all.
 */
#ifndef EHAL_W2C_ARTIFACT_H
#define EHAL_W2C_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>
#include <wasm-rt.h>

/* Bump when the descriptor layout or the calling convention changes. */
#define EHAL_ARTIFACT_ABI 5
#define EHAL_ARTIFACT_SYMBOL "ehal_artifact_v5"

#define EHAL_ARTIFACT_TYPES                                                                \
  typedef void (*ehal_a_hostfn)(void);                                                     \
  typedef struct {                                                                         \
    uintptr_t stack_limit;                                                                 \
    uint32_t in_host;                                                                      \
    volatile uint32_t interrupt;                                                           \
    uint32_t trap;                                                                         \
    void (*generic)(void *env, uint32_t import, const uint64_t *args, uint64_t *results);  \
  } ehal_a_ctl;                                                                            \
  typedef struct {                                                                         \
    const char *name, *sig;                                                                \
    void (*thunk)(void *inst, const uint64_t *args, uint64_t *results);                    \
  } ehal_artifact_export;                                                                  \
  typedef struct {                                                                         \
    uint32_t abi, memcheck, mem_initial_pages, n_imports, n_exports;                       \
    const ehal_artifact_export *exports;                                                   \
    size_t instance_size;                                                                  \
    void (*init_module)(void);                                                             \
    void (*instantiate)(void *inst, void *env, const ehal_a_hostfn *fns, ehal_a_ctl *ctl); \
    void (*free_instance)(void *inst);                                                     \
    void (*start)(void *inst);                                                             \
    wasm_rt_memory_t *(*memory)(void *inst);                                               \
    uint32_t (*realloc)(void *inst, uint32_t old, uint32_t old_size, uint32_t align,       \
                        uint32_t new_size);                                                \
  } ehal_artifact;

EHAL_ARTIFACT_TYPES

#define EHAL_STR_(...) #__VA_ARGS__
#define EHAL_XSTR(...) EHAL_STR_(__VA_ARGS__)
#define EHAL_ARTIFACT_TYPES_TEXT EHAL_XSTR(EHAL_ARTIFACT_TYPES)

#endif
