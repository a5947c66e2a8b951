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

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <wasm-rt.h>

/* Bump when the descriptor layout or the calling convention changes. */
#define EHAL_ARTIFACT_ABI 6
#define EHAL_ARTIFACT_SYMBOL "ehal_artifact_v6"

/* The wasm2c runtime (rt.c) reaches an artifact as a table of functions:
 * the artifact is compiled with its wasm_rt_* names renamed to ehal_a_*
 * functions of the shim that call through the table, so the HAL exports
 * no wasm_rt_* symbol and an artifact resolves nothing of the runtime's by
 * name.  X(name, return type, parameters, arguments) per function that
 * wasm2c's output may call (wasm_rt_register_func_type, variadic, goes
 * through register_func_type_v). */
#define EHAL_RT_FUNCS(X)                                                                          \
  X(trap, void, (wasm_rt_trap_t c), (c))                                                          \
  X(is_initialized, bool, (void), ())                                                             \
  X(allocate_memory, void, (wasm_rt_memory_t * m, uint32_t i, uint32_t x), (m, i, x))             \
  X(grow_memory, uint32_t, (wasm_rt_memory_t * m, uint32_t d), (m, d))                            \
  X(free_memory, void, (wasm_rt_memory_t * m), (m))                                               \
  X(allocate_funcref_table, void, (wasm_rt_funcref_table_t * t, uint32_t n, uint32_t x),          \
    (t, n, x))                                                                                    \
  X(free_funcref_table, void, (wasm_rt_funcref_table_t * t), (t))                                 \
  X(grow_funcref_table, uint32_t, (wasm_rt_funcref_table_t * t, uint32_t d, wasm_rt_funcref_t v), \
    (t, d, v))                                                                                    \
  X(allocate_externref_table, void, (wasm_rt_externref_table_t * t, uint32_t n, uint32_t x),      \
    (t, n, x))                                                                                    \
  X(free_externref_table, void, (wasm_rt_externref_table_t * t), (t))                             \
  X(grow_externref_table, uint32_t,                                                               \
    (wasm_rt_externref_table_t * t, uint32_t d, wasm_rt_externref_t v), (t, d, v))                \
  X(register_tag, uint32_t, (uint32_t s), (s))                                                    \
  X(load_exception, void, (uint32_t t, uint32_t s, const void *v), (t, s, v))                     \
  X(throw, void, (void), ())                                                                      \
  X(get_unwind_target, WASM_RT_UNWIND_TARGET *, (void), ())                                       \
  X(set_unwind_target, void, (WASM_RT_UNWIND_TARGET * t), (t))                                    \
  X(exception_tag, uint32_t, (void), ())                                                          \
  X(exception_size, uint32_t, (void), ())                                                         \
  X(exception, void *, (void), ())

#define EHAL_RT_FIELD(name, ret, params, args) ret(*name) params;

#define EHAL_ARTIFACT_TYPES                                                                \
  typedef void (*ehal_a_hostfn)(void);                                                     \
  typedef struct {                                                                         \
    EHAL_RT_FUNCS(EHAL_RT_FIELD)                                                           \
    uint32_t (*register_func_type_v)(uint32_t params, uint32_t results, va_list types);    \
    uint32_t *call_stack_depth; /* the depth-counting build's counter, else NULL */        \
  } ehal_rt_api;                                                                           \
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
    const ehal_rt_api **rt; /* the engine sets it before init_module */                    \
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
