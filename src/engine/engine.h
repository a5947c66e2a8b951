/*
 * engine.h - the seam between the HAL and the WebAssembly engine.
 *
 * The HAL needs only this much of an engine: compile a module to something
 * loadable, load it, list its imports, instantiate it with resolved host
 * functions, reach its linear memory and allocator, call an export under trap
 * protection, and trap.  The wasm2c engine (engine/wasm2c/) implements it;
 * another engine (Wasmtime's or WAMR's C API) would implement the same
 * functions without touching interface code.
 */
#ifndef EHAL_ENGINE_H
#define EHAL_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elastic-hal/elastic_hal.h"

/* A host function, called as RET fn(void *env, args...) with the C types of
 * the core signature (i32 -> uint32_t, i64 -> uint64_t). */
typedef void (*ehal_hostfn)(void);

typedef struct ehal_engine_module ehal_engine_module;
typedef struct ehal_engine_instance ehal_engine_instance;

/* Pointers to the engine's live memory fields: data and size may change
 * whenever guest code runs (memory.grow, cabi_realloc). */
typedef struct {
  uint8_t **data;
  uint32_t *size;
} ehal_memref;

typedef enum {
  EHAL_TRAP_NONE = 0,
  EHAL_TRAP_OOB,
  EHAL_TRAP_INT_OVERFLOW,
  EHAL_TRAP_DIV_BY_ZERO,
  EHAL_TRAP_INVALID_CONVERSION,
  EHAL_TRAP_UNREACHABLE,
  EHAL_TRAP_CALL_INDIRECT,
  EHAL_TRAP_EXHAUSTION,
  EHAL_TRAP_HOST,        /* raised by the host: ABI violation or proc_exit */
  EHAL_TRAP_INTERRUPTED, /* ehal_engine_interrupt */
  EHAL_TRAP_OTHER
} ehal_trap_kind;

/* Short name of a trap kind ("out-of-bounds", "unreachable", ...). */
const char *ehal_trap_name(ehal_trap_kind kind);

/* Compile a module to native code, returned in *native (malloc'd).  label
 * names the module in progress and error messages.  *tier is the tier
 * asked for (elastic_hal.h); on success it is the one used (AUTO becomes
 * QUICK or OPTIMIZED by the size of the translated code).  No name the
 * module carries reaches the compiler's input (see wasm2c/sanitize.h). */
int ehal_engine_compile(const char *label, const uint8_t *wasm, size_t wasm_len,
                        elastic_hal_tier *tier, uint8_t **native, size_t *native_len,
                        void (*progress)(const char *, void *), void *user,
                        elastic_hal_error *err);
/* Validate a module as the engine's compiler would, without compiling:
 * 0, or -1 with one line in err ("the module uses SIMD ...", "invalid
 * module: ...").  Runs wabt's wasm-validate; writes nothing to disk. */
int ehal_engine_validate(const uint8_t *wasm, size_t len, elastic_hal_error *err);
/* A string naming the engine build (part of the cache key). */
const char *ehal_engine_build_id(void);

/* Load native code that ehal_engine_compile made and the caller has
 * authenticated: it runs from a private copy of exactly these bytes. */
int ehal_engine_load(const uint8_t *native, size_t len, const char *label, ehal_engine_module **out,
                     elastic_hal_error *err);
void ehal_engine_module_free(ehal_engine_module *m);
/* How many function imports the native code was compiled for. */
size_t ehal_engine_module_nimports(const ehal_engine_module *m);

/* Allocate an instance (nothing of the guest runs yet); its memory is
 * reachable with ehal_engine_memory from here on. */
ehal_engine_instance *ehal_engine_instance_new(ehal_engine_module *m, uint32_t max_pages,
                                               elastic_hal_error *err);
/* Serves import `import` when fns[import] is NULL: args and results are
 * 64-bit cells (integers zero-extended, floats as their bits). */
typedef void (*ehal_generic_fn)(void *env, uint32_t import, const uint64_t *args,
                                uint64_t *results);

/* Instantiate: fns[i] serves import i (in the module's import order), or
 * generic does where fns[i] is NULL.  Runs the wasm start function, if any,
 * under trap protection. */
ehal_trap_kind ehal_engine_instantiate(ehal_engine_instance *inst, void *env,
                                       const ehal_hostfn *fns, ehal_generic_fn generic);
void ehal_engine_instance_free(ehal_engine_instance *inst);
bool ehal_engine_memory(ehal_engine_instance *inst, ehal_memref *out);
/* Sets the bound memory.grow honours (a resources grant raises it) to
 * pages, or to the module's own maximum where that is lower; never below
 * the memory's current size.  Returns the bound now in force (0: the
 * instance has no memory). */
uint32_t ehal_engine_memory_limit(ehal_engine_instance *inst, uint32_t pages);
/* The memory's current size in pages (0: none). */
uint32_t ehal_engine_memory_pages(const ehal_engine_instance *inst);
bool ehal_engine_has_export(const ehal_engine_instance *inst, const char *name, const char *sig);
/* Compact core signature of an exported function, NULL if none. */
const char *ehal_engine_export_sig(const ehal_engine_instance *inst, const char *name);
bool ehal_engine_has_realloc(const ehal_engine_instance *inst);
/* Whether a host function called by this instance's guest is running. */
bool ehal_engine_in_host_call(const ehal_engine_instance *inst);

/* An exported function resolved once (valid for every instance of its
 * module): find it by name (its signature in *sig), check that it belongs
 * to an instance's module, call it with 64-bit cells (integers
 * zero-extended, floats as bits) under trap protection. */
typedef struct ehal_engine_export ehal_engine_export;
const ehal_engine_export *ehal_engine_find_export(const ehal_engine_instance *inst,
                                                  const char *name, const char **sig,
                                                  const char **stored_name);
bool ehal_engine_export_of(const ehal_engine_instance *inst, const ehal_engine_export *x);
ehal_trap_kind ehal_engine_call_export(ehal_engine_instance *inst, const ehal_engine_export *x,
                                       const uint64_t *args, uint64_t *results);

/* Call an export by name under trap protection; returns EHAL_TRAP_NONE or
 * the trap that ended the call. */
ehal_trap_kind ehal_engine_call(ehal_engine_instance *inst, const char *name, const uint64_t *args,
                                size_t nargs, uint64_t *results, size_t nresults);
/* Call the guest's cabi_realloc from host code that runs inside a guest
 * call: *out gets its result.  A trap inside it comes back here as the
 * return value (and is recorded with ehal_engine_trap_host, so the guest
 * call ends with it): host code is never unwound. */
ehal_trap_kind ehal_engine_realloc(ehal_engine_instance *inst, uint32_t old, uint32_t old_size,
                                   uint32_t align, uint32_t new_size, uint32_t *out);
/* Ask the guest running in inst to stop, from any thread: the call in
 * progress (or the next one) ends with EHAL_TRAP_INTERRUPTED, at once when
 * the guest is in its own code, else as soon as the host call it is in
 * returns.  The running thread is signalled with EHAL_INTERRUPT_SIGNAL;
 * a signal the runtime did not send goes on to the handler installed
 * before it. */
#define EHAL_INTERRUPT_SIGNAL SIGURG
void ehal_engine_interrupt(ehal_engine_instance *inst);
/* Whether an interrupt is pending (long host calls check it to end early). */
bool ehal_engine_interrupt_pending(const ehal_engine_instance *inst);

/* Record a trap for the guest call in progress (the first one recorded
 * wins; EHAL_TRAP_NONE means EHAL_TRAP_HOST) and return: host code always
 * returns normally, and the engine raises the trap as soon as control is
 * back in guest code, so the call ends with it. */
void ehal_engine_trap_host(ehal_engine_instance *inst, ehal_trap_kind kind);
/* Whether a trap is recorded for the call in progress. */
bool ehal_engine_trap_pending(const ehal_engine_instance *inst);

#endif
