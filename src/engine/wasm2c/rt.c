/*
 * rt.c - the runtime that wasm2c's generated code calls (wasm-rt.h), our
 * own instead of wabt's wasm-rt-impl.c.
 *
 * Why our own: wabt's keeps one trap target, one unwind target and one
 * exception per process, so two threads running guests at once overwrite
 * each other's jump buffers; it computes memory sizes in 32 bits; and it
 * aborts the process when it cannot reserve memory.  Here:
 *
 *   - the trap target, the unwind target and the exception in flight are
 *     per thread (ehal_rt_trap_target() is the engine's entry point);
 *   - the function-type registry is shared and locked (modules load on any
 *     thread), and types are interned: equal types get equal indices, which
 *     is what call_indirect compares;
 *   - memory sizes are computed in 64 bits, a memory is at most 65535 pages
 *     (4 GiB less one page: wasm_rt_memory_t.size is 32 bits), and failing
 *     to get memory at instantiation traps the guest instead of aborting;
 *   - signal handling is the engine's (engine.c), not installed here.
 *
 * The guard-page build reserves 8 GiB per memory (4 GiB of index space plus
 * the largest offset an access can add), so every access wasm2c does not
 * check lands in the reservation.
 */
#define _GNU_SOURCE
#include "rt.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE_SIZE 65536u
#define MAX_PAGES 65535u
#define MAX_EXCEPTION_SIZE 256u

#if WASM_RT_USE_STACK_DEPTH_COUNT
/* declared by wasm-rt.h as a plain global: the sanitizer build, which
 * counts depth, runs guests on one thread at a time */
uint32_t wasm_rt_call_stack_depth;
#endif

static __thread jmp_buf t_trap_target;
static __thread jmp_buf *t_unwind_target;
static __thread uint32_t t_exception_tag, t_exception_size;
static __thread uint8_t t_exception[MAX_EXCEPTION_SIZE];

jmp_buf *ehal_rt_trap_target(void) { return &t_trap_target; }

#if WASM_RT_USE_STACK_DEPTH_COUNT
__thread uint32_t ehal_rt_saved_depth;
#endif

static bool g_initialized;

void wasm_rt_init(void) { g_initialized = true; }
bool wasm_rt_is_initialized(void) { return g_initialized; }
void wasm_rt_free(void) { g_initialized = false; }

void wasm_rt_trap(wasm_rt_trap_t code) {
#if WASM_RT_USE_STACK_DEPTH_COUNT
  wasm_rt_call_stack_depth = ehal_rt_saved_depth;
#endif
  /* sigsetjmp(..., 0) targets: no mask to restore (engine.c unblocks what
   * a trap from a signal handler left blocked) */
  siglongjmp(t_trap_target, (int)code);
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "no error";
    case WASM_RT_TRAP_OOB: return "out-of-bounds access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "indirect call type mismatch";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
  }
  return "unknown trap";
}

/* ---- function types: interned, shared by every module ---- */

typedef struct {
  uint32_t nparams, nresults;
  wasm_rt_type_t *types; /* params then results */
} func_type;

static pthread_mutex_t g_types_lock = PTHREAD_MUTEX_INITIALIZER;
static func_type *g_types;
static uint32_t g_ntypes;

/* Set when a registration ran out of memory (module loading fails then:
 * registration runs outside any guest call, so there is nothing to trap). */
static __thread bool t_register_failed;

bool ehal_rt_take_register_failure(void) {
  bool f = t_register_failed;
  t_register_failed = false;
  return f;
}

uint32_t ehal_rt_register_func_type_v(uint32_t params, uint32_t results, va_list ap) {
  uint32_t n = params + results;
  wasm_rt_type_t stackbuf[64];
  wasm_rt_type_t *t = n <= 64 ? stackbuf : malloc(n * sizeof *t);
  if (!t) {
    t_register_failed = true;
    return 0;
  }
  for (uint32_t i = 0; i < n; i++) t[i] = (wasm_rt_type_t)va_arg(ap, int);
  pthread_mutex_lock(&g_types_lock);
  uint32_t idx = 0;
  for (uint32_t i = 0; i < g_ntypes && !idx; i++)
    if (g_types[i].nparams == params && g_types[i].nresults == results &&
        !memcmp(g_types[i].types, t, n * sizeof *t))
      idx = i + 1;
  if (!idx) {
    func_type *grown = realloc(g_types, (g_ntypes + 1) * sizeof *grown);
    wasm_rt_type_t *copy = malloc(n ? n * sizeof *copy : 1);
    if (grown) g_types = grown;
    if (grown && copy) {
      memcpy(copy, t, n * sizeof *copy);
      g_types[g_ntypes] = (func_type){params, results, copy};
      idx = ++g_ntypes; /* indices start at 1: 0 is the null funcref's */
    } else {
      free(copy);
    }
  }
  pthread_mutex_unlock(&g_types_lock);
  if (t != stackbuf) free(t);
  if (!idx) t_register_failed = true; /* out of host memory */
  return idx;
}

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  va_list ap;
  va_start(ap, results);
  uint32_t idx = ehal_rt_register_func_type_v(params, results, ap);
  va_end(ap);
  return idx;
}

/* ---- exceptions (the exception-handling proposal), per thread ---- */

uint32_t wasm_rt_register_tag(uint32_t size) {
  static uint32_t tags;
  if (size > MAX_EXCEPTION_SIZE) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  return __atomic_fetch_add(&tags, 1, __ATOMIC_RELAXED);
}

void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void *values) {
  if (size > MAX_EXCEPTION_SIZE) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  t_exception_tag = tag;
  t_exception_size = size;
  if (size) memcpy(t_exception, values, size);
}

void wasm_rt_throw(void) { siglongjmp(*t_unwind_target, WASM_RT_TRAP_UNCAUGHT_EXCEPTION); }

WASM_RT_UNWIND_TARGET *wasm_rt_get_unwind_target(void) { return t_unwind_target; }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET *target) { t_unwind_target = target; }
uint32_t wasm_rt_exception_tag(void) { return t_exception_tag; }
uint32_t wasm_rt_exception_size(void) { return t_exception_size; }
void *wasm_rt_exception(void) { return t_exception; }

/* ---- linear memory ---- */

#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
#define RESERVATION 0x200000000ull
#endif

void wasm_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t initial, uint32_t max) {
  if (max > MAX_PAGES) max = MAX_PAGES;
  uint64_t bytes = (uint64_t)initial * PAGE_SIZE;
  memset(m, 0, sizeof *m);
  if (initial > max) wasm_rt_trap(WASM_RT_TRAP_OOB);
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
  void *p = mmap(NULL, RESERVATION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  if (bytes && mprotect(p, bytes, PROT_READ | PROT_WRITE) != 0) {
    munmap(p, RESERVATION);
    wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  }
#else
  void *p = calloc(bytes ? bytes : 1, 1);
  if (!p) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
#endif
  m->data = p;
  m->pages = initial;
  m->max_pages = max;
  m->size = (uint32_t)bytes;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *m, uint32_t delta) {
  uint32_t old = m->pages;
  uint64_t pages = (uint64_t)old + delta;
  if (pages > m->max_pages || pages > MAX_PAGES) return UINT32_MAX;
  if (delta == 0) return old;
  uint64_t old_bytes = (uint64_t)old * PAGE_SIZE, bytes = pages * PAGE_SIZE;
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
  if (mprotect(m->data + old_bytes, bytes - old_bytes, PROT_READ | PROT_WRITE) != 0)
    return UINT32_MAX;
#else
  uint8_t *p = realloc(m->data, bytes);
  if (!p) return UINT32_MAX;
  memset(p + old_bytes, 0, bytes - old_bytes);
  m->data = p;
#endif
  m->pages = (uint32_t)pages;
  m->size = (uint32_t)bytes;
  return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *m) {
  if (!m->data) return;
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
  munmap(m->data, RESERVATION);
#else
  free(m->data);
#endif
  m->data = NULL;
}

/* ---- tables ---- */

#define TABLE_OPS(kind, elem_t, null)                                                              \
  void wasm_rt_allocate_##kind##_table(wasm_rt_##kind##_table_t *t, uint32_t n, uint32_t max) {    \
    t->data = calloc(n ? n : 1, sizeof(elem_t));                                                   \
    if (!t->data) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);                                           \
    for (uint32_t i = 0; i < n; i++) t->data[i] = null;                                            \
    t->size = n;                                                                                   \
    t->max_size = max;                                                                             \
  }                                                                                                \
  void wasm_rt_free_##kind##_table(wasm_rt_##kind##_table_t *t) {                                  \
    free(t->data);                                                                                 \
    t->data = NULL;                                                                                \
  }                                                                                                \
  uint32_t wasm_rt_grow_##kind##_table(wasm_rt_##kind##_table_t *t, uint32_t delta, elem_t init) { \
    uint32_t old = t->size;                                                                        \
    uint64_t size = (uint64_t)old + delta;                                                         \
    if (size > t->max_size || size > (1u << 24)) return UINT32_MAX;                                \
    if (delta == 0) return old;                                                                    \
    elem_t *d = realloc(t->data, size * sizeof(elem_t));                                           \
    if (!d) return UINT32_MAX;                                                                     \
    for (uint64_t i = old; i < size; i++) d[i] = init;                                             \
    t->data = d;                                                                                   \
    t->size = (uint32_t)size;                                                                      \
    return old;                                                                                    \
  }

TABLE_OPS(funcref, wasm_rt_funcref_t, wasm_rt_funcref_null_value)
TABLE_OPS(externref, wasm_rt_externref_t, wasm_rt_externref_null_value)
