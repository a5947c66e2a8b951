/*
 * engine.c - the wasm2c engine: loads compiled artifacts (shared objects),
 * instantiates them against resolved host functions and runs their exports
 * with traps turned into return values.
 *
 * Traps.  The wasm2c runtime (our rt.c, written against wabt's wasm-rt.h)
 * unwinds a trap with siglongjmp to this thread's trap target, which
 * guarded() sets around every guest call.  In the default build,
 * guest memory accesses are checked by guard pages: linear memory lives in an
 * 8 GiB PROT_NONE reservation and a fault there is an out-of-bounds trap.
 * wabt's own SIGSEGV handler treats *every* fault as a guest trap; ours
 * replaces it and only claims faults inside the running guest's memory
 * reservation or at the thread's stack guard (stack exhaustion), and only
 * while guest code runs: a fault while a host function is in progress
 * (ctl.in_host, kept by the shim) is a host bug, never a guest trap, so host
 * code (SQLite holding a mutex, OpenSSL) is never unwound by the handler.
 * Any other fault is left to crash the process with a core dump.
 *
 * Host code is never unwound.  A trap that host code raises (an ABI
 * violation, proc_exit, an embedder's function that fails) is recorded in
 * ctl.trap, and the shim raises it once the host function has returned, in
 * guest code; the guest's cabi_realloc, which host code calls to lower a
 * result, runs under a trap point of its own, so its traps come back to the
 * host code that called it as a return value.
 *
 * The native stack.  Host functions need room: the shim refuses to enter one
 * when less than HOST_STACK_RESERVE is left below the caller's frame and
 * traps the guest there (call stack exhausted), before any host code runs.
 *
 * Loading.  Native code arrives as bytes the runtime has authenticated; it is
 * copied into a sealed memfd and loaded from there, so what runs is exactly
 * what was checked (no path on disk to swap between check and load).
 */
#define _GNU_SOURCE
#include "../engine.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "../../util/fsutil.h"
#include "artifact.h"
#include "rt.h"

struct ehal_engine_module {
  void *dl;
  const ehal_artifact *desc;
  uintptr_t text_lo, text_hi; /* the artifact's executable segment */
};

struct ehal_engine_instance {
  ehal_engine_module *mod;
  void *storage; /* the artifact's instance struct */
  wasm_rt_memory_t *mem;
  uintptr_t stack_lo;
  uint32_t max_pages;
  uint32_t decl_max_pages; /* the module's own maximum, before the bound */
  bool live;
  ehal_a_ctl ctl; /* shared with the shim's import functions */
  /* where a call into the guest runs, for ehal_engine_interrupt */
  pthread_t thread;
  int run_state; /* RUN_IDLE, RUN_GUEST, or RUN_SIGNALLING (atomic) */
};

static __thread ehal_engine_instance *t_current;
/* set between the trap point being armed and the guest call returning:
 * only then may a signal handler raise a trap */
static __thread volatile sig_atomic_t t_armed;

/* What was installed before the runtime: signals that are not the guest's
 * go on to it. */
static struct sigaction g_prev_segv, g_prev_bus, g_prev_urg;
/* The signals whose handlers raise traps (a trap leaves them blocked). */
static sigset_t g_trap_signals;

#define RESERVATION 0x200000000ull /* what wasm-rt-impl.c reserves per memory */
#define STACK_SLACK (256u * 1024u)
/* Native stack a host function may use, measured for the deepest host
 * paths (SQLite, OpenSSL; tests/unit/test_stack.c prints the figures), with
 * a wide margin. */
#define HOST_STACK_RESERVE (512u * 1024u)

/* Hand a signal that is not the guest's to the handler installed before
 * ours; with none, the default action (for a fault: restore it, so the
 * faulting instruction runs again and the process dies with an honest core
 * dump). */
static void chain(int sig, siginfo_t *si, void *uctx, const struct sigaction *prev) {
  if (prev->sa_flags & SA_SIGINFO) {
    if (prev->sa_sigaction) prev->sa_sigaction(sig, si, uctx);
    return;
  }
  if (prev->sa_handler == SIG_IGN) return;
  if (prev->sa_handler != SIG_DFL) {
    prev->sa_handler(sig);
    return;
  }
  if (sig == SIGSEGV || sig == SIGBUS) signal(sig, SIG_DFL);
}

#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
static void on_fault(int sig, siginfo_t *si, void *uctx) {
  ehal_engine_instance *c = t_current;
  if (c && t_armed && c->ctl.in_host == 0) {
    uintptr_t a = (uintptr_t)si->si_addr;
    if (c->mem && a >= (uintptr_t)c->mem->data && a - (uintptr_t)c->mem->data < RESERVATION)
      wasm_rt_trap(WASM_RT_TRAP_OOB);
    if (c->stack_lo && a + STACK_SLACK >= c->stack_lo && a < c->stack_lo + STACK_SLACK)
      wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  }
  chain(sig, si, uctx, sig == SIGSEGV ? &g_prev_segv : &g_prev_bus);
}
#endif

/* The interrupted instruction, where the platform lets us read it. */
static uintptr_t interrupted_pc(void *uctx) {
#if defined(__x86_64__)
  return (uintptr_t)((ucontext_t *)uctx)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
  return (uintptr_t)((ucontext_t *)uctx)->uc_mcontext.pc;
#else
  (void)uctx;
  return 0;
#endif
}

/* EHAL_INTERRUPT_SIGNAL: a guest asked to stop traps at once when it is
 * running its own compiled code (the interrupted instruction lies in the
 * artifact's text); anywhere else (the wasm2c runtime growing memory, a
 * host call) the flag stays set and the shim traps at the next host-call
 * boundary.  Host code is never unwound by this handler. */
static void on_interrupt(int sig, siginfo_t *si, void *uctx) {
  ehal_engine_instance *c = t_current;
  if (c && c->ctl.interrupt) {
    uintptr_t pc = interrupted_pc(uctx);
    if (t_armed && c->ctl.in_host == 0 && pc >= c->mod->text_lo && pc < c->mod->text_hi)
      wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
    return;
  }
  chain(sig, si, uctx, &g_prev_urg);
}

/* The runtime as artifacts see it (artifact.h): nothing of it is exported. */
#define EHAL_RT_ENTRY(name, ret, params, args) .name = wasm_rt_##name,
static const ehal_rt_api g_rt_api = {
    EHAL_RT_FUNCS(EHAL_RT_ENTRY).register_func_type_v = ehal_rt_register_func_type_v,
#if WASM_RT_USE_STACK_DEPTH_COUNT
    .call_stack_depth = &wasm_rt_call_stack_depth
#endif
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
/* Every thread that runs guest code needs an alternate signal stack: a guest
 * that exhausts its thread's stack faults with no stack left to run the
 * handler on, and the process would die.  wabt gives the main thread one;
 * other threads get theirs on their first guest call, freed when they end. */
static pthread_key_t g_altstack_key;
static __thread bool t_altstack_checked;

static void altstack_free(void *p) {
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  free(p);
}

static void ensure_altstack(void) {
  if (t_altstack_checked) return;
  t_altstack_checked = true;
  stack_t cur;
  if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) return;
  size_t size = 64 * 1024;
  void *p = malloc(size);
  if (!p) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = p;
  ss.ss_size = size;
  if (sigaltstack(&ss, NULL) != 0) {
    free(p);
    return;
  }
  pthread_setspecific(g_altstack_key, p);
}
#else
static void ensure_altstack(void) {}
#endif

static void engine_init(void) {
  /* what the embedder installed: ours chain to these */
  sigaction(SIGSEGV, NULL, &g_prev_segv);
  sigaction(SIGBUS, NULL, &g_prev_bus);
  sigemptyset(&g_trap_signals);
  sigaddset(&g_trap_signals, SIGSEGV);
  sigaddset(&g_trap_signals, SIGBUS);
  sigaddset(&g_trap_signals, EHAL_INTERRUPT_SIGNAL);
  wasm_rt_init();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
  pthread_key_create(&g_altstack_key, altstack_free);
  sa.sa_sigaction = on_fault;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
#endif
  sa.sa_flags |= SA_RESTART;
  sa.sa_sigaction = on_interrupt;
  sigaction(EHAL_INTERRUPT_SIGNAL, &sa, &g_prev_urg);
}

const char *ehal_engine_build_id(void) {
#define EHAL_ABI_STR EHAL_XSTR(EHAL_ARTIFACT_ABI)
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
  return "wasm2c-wabt1.0.32-ehalrt-abi" EHAL_ABI_STR "-guard";
#else
  return "wasm2c-wabt1.0.32-ehalrt-abi" EHAL_ABI_STR "-bounds";
#endif
}

const char *ehal_trap_name(ehal_trap_kind kind) {
  switch (kind) {
    case EHAL_TRAP_NONE: return "none";
    case EHAL_TRAP_OOB: return "out-of-bounds memory access";
    case EHAL_TRAP_INT_OVERFLOW: return "integer overflow";
    case EHAL_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case EHAL_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case EHAL_TRAP_UNREACHABLE: return "unreachable executed";
    case EHAL_TRAP_CALL_INDIRECT: return "indirect call type mismatch or null";
    case EHAL_TRAP_EXHAUSTION: return "call stack exhausted";
    case EHAL_TRAP_HOST: return "host";
    case EHAL_TRAP_INTERRUPTED: return "interrupted";
    default: return "unknown";
  }
}

/* The loaded artifact's executable segment, for on_interrupt. */
typedef struct {
  uintptr_t base, lo, hi;
} text_query;

static int find_text(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  text_query *q = arg;
  if (info->dlpi_addr != q->base) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      q->lo = info->dlpi_addr + ph->p_vaddr;
      q->hi = q->lo + ph->p_memsz;
      return 1;
    }
  }
  return 0;
}

static void text_range(void *dl, uintptr_t *lo, uintptr_t *hi) {
  struct link_map *lm = NULL;
  *lo = *hi = 0;
  if (dlinfo(dl, RTLD_DI_LINKMAP, &lm) != 0 || !lm) return;
  text_query q = {(uintptr_t)lm->l_addr, 0, 0};
  dl_iterate_phdr(find_text, &q);
  *lo = q.lo;
  *hi = q.hi;
}

/* Native code into a sealed memfd: the loader maps exactly these bytes. */
static int native_fd(const uint8_t *native, size_t len, elastic_hal_error *err) {
  int fd = memfd_create("elastic-hal-artifact", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    snprintf(err->msg, sizeof err->msg, "memfd_create: %s", strerror(errno));
    return -1;
  }
  if (ehal_write_all(fd, native, len) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    snprintf(err->msg, sizeof err->msg, "cannot stage native code: %s", strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

int ehal_engine_load(const uint8_t *native, size_t len, const char *label, ehal_engine_module **out,
                     elastic_hal_error *err) {
  pthread_once(&g_once, engine_init);
  int fd = native_fd(native, len, err);
  if (fd < 0) return -1;
  /* glibc's dlopen returns an already loaded object whose name matches, and
   * fd numbers are reused once closed: spell every load's path differently
   * ("/." or "/fd/.." per bit of a counter, both meaning /proc/self). */
  static unsigned long loads;
  unsigned long id = __atomic_fetch_add(&loads, 1, __ATOMIC_RELAXED);
  char path[512];
  size_t k = (size_t)snprintf(path, sizeof path, "/proc/self");
  for (int bit = 0; bit < 32; bit++)
    k += (size_t)snprintf(path + k, sizeof path - k, "%s", (id >> bit) & 1 ? "/." : "/fd/..");
  snprintf(path + k, sizeof path - k, "/fd/%d", fd);
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  close(fd); /* the mapping stays */
  if (!dl) {
    snprintf(err->msg, sizeof err->msg, "cannot load the native code of %s: %s", label, dlerror());
    return -1;
  }
  const ehal_artifact *d = dlsym(dl, EHAL_ARTIFACT_SYMBOL);
  if (!d || d->abi != EHAL_ARTIFACT_ABI) {
    snprintf(err->msg, sizeof err->msg,
             "%s was compiled for another engine version (recompile it with "
             "'elastic-hal compile')",
             label);
    dlclose(dl);
    return -1;
  }
  if (d->memcheck != WASM_RT_MEMCHECK_SIGNAL_HANDLER) {
    snprintf(err->msg, sizeof err->msg,
             "%s was compiled for a different memory-check mode (%s); recompile it", label,
             d->memcheck ? "guard pages" : "bounds checks");
    dlclose(dl);
    return -1;
  }
  ehal_engine_module *m = calloc(1, sizeof *m);
  if (!m) {
    dlclose(dl);
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return -1;
  }
  m->dl = dl;
  m->desc = d;
  text_range(dl, &m->text_lo, &m->text_hi);
  *d->rt = &g_rt_api;
  d->init_module();
  if (ehal_rt_take_register_failure()) {
    /* its code stays mapped, as for every loaded artifact (module_free) */
    free(m);
    snprintf(err->msg, sizeof err->msg, "out of memory loading %s", label);
    return -1;
  }
  *out = m;
  return 0;
}

void ehal_engine_module_free(ehal_engine_module *m) {
  if (!m) return;
  /* The artifact's code stays mapped: wasm2c registers function types in
   * the shared runtime, and unloading would leave dangling pointers. */
  free(m);
}

size_t ehal_engine_module_nimports(const ehal_engine_module *m) { return m->desc->n_imports; }

static ehal_trap_kind map_trap(ehal_engine_instance *inst, int code) {
  ehal_trap_kind recorded = (ehal_trap_kind)inst->ctl.trap;
  inst->ctl.trap = 0;
  if (inst->ctl.interrupt) {
    inst->ctl.interrupt = 0;
    return EHAL_TRAP_INTERRUPTED;
  }
  if (recorded != EHAL_TRAP_NONE) return recorded;
  switch (code) {
    case WASM_RT_TRAP_OOB: return EHAL_TRAP_OOB;
    case WASM_RT_TRAP_INT_OVERFLOW: return EHAL_TRAP_INT_OVERFLOW;
    case WASM_RT_TRAP_DIV_BY_ZERO: return EHAL_TRAP_DIV_BY_ZERO;
    case WASM_RT_TRAP_INVALID_CONVERSION: return EHAL_TRAP_INVALID_CONVERSION;
    case WASM_RT_TRAP_UNREACHABLE: return EHAL_TRAP_UNREACHABLE;
    case WASM_RT_TRAP_CALL_INDIRECT: return EHAL_TRAP_CALL_INDIRECT;
    case WASM_RT_TRAP_EXHAUSTION: return EHAL_TRAP_EXHAUSTION;
    default: return EHAL_TRAP_OTHER;
  }
}

/* The calling thread's stack bounds, looked up once per thread (for the
 * main thread glibc reads /proc/self/maps, far too slow for every call). */
static __thread uintptr_t t_stack_lo, t_stack_size;

static uintptr_t stack_low(uintptr_t *size) {
  if (!t_stack_lo) {
    pthread_attr_t attr;
    void *addr = NULL;
    size_t sz = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
    pthread_attr_getstack(&attr, &addr, &sz);
    pthread_attr_destroy(&attr);
    t_stack_lo = (uintptr_t)addr;
    t_stack_size = sz;
  }
  *size = t_stack_size;
  return t_stack_lo;
}

/* Who runs the instance, for ehal_engine_interrupt, without a lock on the
 * call path: the running thread moves IDLE -> GUEST and back; an
 * interrupter moves GUEST -> SIGNALLING for as long as it signals the
 * thread, and the thread waits for that to end before it leaves, so it is
 * never signalled once gone. */
enum { RUN_IDLE, RUN_GUEST, RUN_SIGNALLING };

static void run_enter(ehal_engine_instance *inst) {
  inst->thread = pthread_self();
  __atomic_store_n(&inst->run_state, RUN_GUEST, __ATOMIC_RELEASE);
}

static void run_leave(ehal_engine_instance *inst) {
  int expect = RUN_GUEST;
  while (!__atomic_compare_exchange_n(&inst->run_state, &expect, RUN_IDLE, false, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE))
    expect = RUN_GUEST; /* an interrupter is signalling: it will be brief */
}

/* Run fn(arg) as guest code: traps come back as a return value. */
static ehal_trap_kind guarded(ehal_engine_instance *inst,
                              void (*fn)(ehal_engine_instance *, void *), void *arg) {
  ehal_engine_instance *volatile prev = t_current;
  volatile sig_atomic_t prev_armed = t_armed;
  /* an interrupt asked for before the call: it ends at once */
  if (inst->ctl.interrupt) {
    inst->ctl.interrupt = 0;
    return EHAL_TRAP_INTERRUPTED;
  }
  ensure_altstack();
  bool outer = __atomic_load_n(&inst->run_state, __ATOMIC_RELAXED) == RUN_IDLE;
  if (outer) run_enter(inst);
  /* wasm2c keeps one trap target per process: a host function that calls
   * into a guest (nesting) would leave the outer call's target pointing
   * into a dead frame, so save it and put it back on the way out (only
   * when nested: the outermost call has nothing to go back to) */
  const bool nested = prev != NULL;
  jmp_buf saved_buf;
  jmp_buf *const target = ehal_rt_trap_target();
  WASM_RT_UNWIND_TARGET *const saved_target = nested ? wasm_rt_get_unwind_target() : NULL;
  if (nested) memcpy(&saved_buf, target, sizeof saved_buf);
#if WASM_RT_USE_STACK_DEPTH_COUNT
  uint32_t saved_depth = ehal_rt_saved_depth;
#endif
  t_armed = 0;
  t_current = inst;
  if (outer) inst->ctl.trap = 0;
  uintptr_t size = 0, lo = stack_low(&size);
  inst->stack_lo = lo;
  /* on a small thread stack, keep at least half of it for the guest */
  uintptr_t keep = STACK_SLACK + HOST_STACK_RESERVE;
  if (keep > size / 2) keep = size / 2;
  inst->ctl.stack_limit = lo ? lo + keep : 0;
  /* The trap target, without a system call: sigsetjmp(..., 0) saves no
   * signal mask.  A trap raised from a signal handler leaves that signal
   * blocked, so the trap path unblocks the runtime's signals instead: a
   * call that returns normally pays nothing for it. */
#if WASM_RT_USE_STACK_DEPTH_COUNT
  ehal_rt_saved_depth = wasm_rt_call_stack_depth;
#endif
  wasm_rt_set_unwind_target(target);
  int code = sigsetjmp(*target, 0);
  ehal_trap_kind result = EHAL_TRAP_NONE;
  if (code != 0) {
    /* the trap was raised in guest code (or the shim): no host call of
     * this instance's is in progress below this frame */
    inst->ctl.in_host = 0;
    result = map_trap(inst, code);
    pthread_sigmask(SIG_UNBLOCK, &g_trap_signals, NULL);
  } else {
    t_armed = 1;
    fn(inst, arg);
  }
  t_armed = prev_armed;
  t_current = prev;
  if (nested) {
    memcpy(target, &saved_buf, sizeof saved_buf);
    wasm_rt_set_unwind_target(saved_target);
  }
#if WASM_RT_USE_STACK_DEPTH_COUNT
  ehal_rt_saved_depth = saved_depth;
#endif
  if (outer) run_leave(inst);
  return result;
}

bool ehal_engine_interrupt_pending(const ehal_engine_instance *inst) {
  return __atomic_load_n(&inst->ctl.interrupt, __ATOMIC_RELAXED) != 0;
}

void ehal_engine_interrupt(ehal_engine_instance *inst) {
  __atomic_store_n(&inst->ctl.interrupt, 1, __ATOMIC_SEQ_CST);
  int expect = RUN_GUEST;
  if (__atomic_compare_exchange_n(&inst->run_state, &expect, RUN_SIGNALLING, false,
                                  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    pthread_kill(inst->thread, EHAL_INTERRUPT_SIGNAL);
    __atomic_store_n(&inst->run_state, RUN_GUEST, __ATOMIC_RELEASE);
  }
}

typedef struct {
  void *env;
  const ehal_hostfn *fns;
} inst_args;

static void do_instantiate(ehal_engine_instance *inst, void *arg) {
  inst_args *a = arg;
  inst->mod->desc->instantiate(inst->storage, a->env, (const ehal_a_hostfn *)a->fns, &inst->ctl);
  /* clamp to the configured bound (the module's own maximum may be larger)
   * before any guest code runs: the start function runs after this */
  if (inst->mem) inst->decl_max_pages = inst->mem->max_pages;
  if (inst->mem && inst->mem->max_pages > inst->max_pages) inst->mem->max_pages = inst->max_pages;
  if (inst->mod->desc->start) inst->mod->desc->start(inst->storage);
}

ehal_engine_instance *ehal_engine_instance_new(ehal_engine_module *m, uint32_t max_pages,
                                               elastic_hal_error *err) {
  const ehal_artifact *d = m->desc;
  if (d->mem_initial_pages > max_pages) {
    snprintf(err->msg, sizeof err->msg,
             "the module needs %u pages of linear memory initially, above the limit of %u pages",
             d->mem_initial_pages, max_pages);
    return NULL;
  }
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
  /* wasm-rt reserves 8 GiB of address space per memory and aborts the
   * process when it cannot: find out first, and make it an error */
  if (d->memory) {
    void *probe =
        mmap(NULL, RESERVATION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (probe == MAP_FAILED) {
      snprintf(err->msg, sizeof err->msg,
               "out of address space: every instance reserves 8 GiB for its memory, and no "
               "more is left in this process (%s); free instances or raise the limit "
               "(ulimit -v)",
               strerror(errno));
      return NULL;
    }
    munmap(probe, RESERVATION);
  }
#endif
  ehal_engine_instance *inst = calloc(1, sizeof *inst);
  if (!inst || !(inst->storage = calloc(1, d->instance_size))) {
    free(inst);
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return NULL;
  }
  inst->mod = m;
  inst->max_pages = max_pages;
  /* The memory object lives inside the instance struct: its address is
   * known before instantiation, so host calls from a start function see it. */
  inst->mem = d->memory ? d->memory(inst->storage) : NULL;
  return inst;
}

ehal_trap_kind ehal_engine_instantiate(ehal_engine_instance *inst, void *env,
                                       const ehal_hostfn *fns, ehal_generic_fn generic) {
  inst_args a = {env, fns};
  inst->ctl.generic = generic;
  /* live first: if the start function traps, what instantiation allocated
   * is still freed (freeing the zeroed parts of the struct is harmless). */
  inst->live = true;
  return guarded(inst, do_instantiate, &a);
}

void ehal_engine_instance_free(ehal_engine_instance *inst) {
  if (!inst) return;
  if (inst->live) inst->mod->desc->free_instance(inst->storage);
  free(inst->storage);
  free(inst);
}

uint32_t ehal_engine_memory_limit(ehal_engine_instance *inst, uint32_t pages) {
  if (!inst->mem) return 0;
  if (pages > inst->decl_max_pages) pages = inst->decl_max_pages;
  if (pages < inst->mem->pages) pages = inst->mem->pages;
  inst->max_pages = inst->mem->max_pages = pages;
  return pages;
}

uint32_t ehal_engine_memory_pages(const ehal_engine_instance *inst) {
  return inst->mem ? inst->mem->pages : 0;
}

bool ehal_engine_memory(ehal_engine_instance *inst, ehal_memref *out) {
  if (!inst->mem) return false;
  out->data = &inst->mem->data;
  out->size = &inst->mem->size;
  return true;
}

static const ehal_artifact_export *find_export(const ehal_engine_module *m, const char *name) {
  for (uint32_t i = 0; i < m->desc->n_exports; i++)
    if (strcmp(m->desc->exports[i].name, name) == 0) return &m->desc->exports[i];
  return NULL;
}

bool ehal_engine_has_export(const ehal_engine_instance *inst, const char *name, const char *sig) {
  const ehal_artifact_export *e = find_export(inst->mod, name);
  return e && (!sig || strcmp(e->sig, sig) == 0);
}

const char *ehal_engine_export_sig(const ehal_engine_instance *inst, const char *name) {
  const ehal_artifact_export *e = find_export(inst->mod, name);
  return e ? e->sig : NULL;
}

bool ehal_engine_in_host_call(const ehal_engine_instance *inst) {
  return t_current == inst && inst->ctl.in_host > 0;
}

bool ehal_engine_has_realloc(const ehal_engine_instance *inst) {
  return inst->mod->desc->realloc != NULL;
}

typedef struct {
  const ehal_artifact_export *e;
  const uint64_t *args;
  uint64_t *results;
} call_args;

static void do_call(ehal_engine_instance *inst, void *arg) {
  call_args *c = arg;
  c->e->thunk(inst->storage, c->args, c->results);
}

const ehal_engine_export *ehal_engine_find_export(const ehal_engine_instance *inst,
                                                  const char *name, const char **sig,
                                                  const char **stored_name) {
  const ehal_artifact_export *e = find_export(inst->mod, name);
  if (!e || !e->thunk) return NULL;
  if (sig) *sig = e->sig;
  if (stored_name) *stored_name = e->name;
  return (const ehal_engine_export *)e;
}

bool ehal_engine_export_of(const ehal_engine_instance *inst, const ehal_engine_export *x) {
  const ehal_artifact_export *e = (const ehal_artifact_export *)x, *base = inst->mod->desc->exports;
  return e >= base && e < base + inst->mod->desc->n_exports;
}

ehal_trap_kind ehal_engine_call_export(ehal_engine_instance *inst, const ehal_engine_export *x,
                                       const uint64_t *args, uint64_t *results) {
  uint64_t scratch[1];
  call_args c = {(const ehal_artifact_export *)x, args, results ? results : scratch};
  return guarded(inst, do_call, &c);
}

ehal_trap_kind ehal_engine_call(ehal_engine_instance *inst, const char *name, const uint64_t *args,
                                size_t nargs, uint64_t *results, size_t nresults) {
  const ehal_artifact_export *e = find_export(inst->mod, name);
  if (!e || !e->thunk) return EHAL_TRAP_OTHER;
  const char *colon = strchr(e->sig, ':');
  if ((size_t)(colon - e->sig) != nargs || strlen(colon + 1) != nresults) return EHAL_TRAP_OTHER;
  uint64_t scratch[1];
  call_args c = {e, args, results ? results : scratch};
  return guarded(inst, do_call, &c);
}

typedef struct {
  uint32_t old, old_size, align, new_size, result;
} realloc_args;

static void do_realloc(ehal_engine_instance *inst, void *arg) {
  realloc_args *a = arg;
  a->result = inst->mod->desc->realloc(inst->storage, a->old, a->old_size, a->align, a->new_size);
}

ehal_trap_kind ehal_engine_realloc(ehal_engine_instance *inst, uint32_t old, uint32_t old_size,
                                   uint32_t align, uint32_t new_size, uint32_t *out) {
  /* guest code again for the length of the call: its faults are its traps,
   * and they end here, not in the host code that asked for memory */
  uint32_t in_host = inst->ctl.in_host;
  inst->ctl.in_host = 0;
  realloc_args a = {old, old_size, align, new_size, 0};
  ehal_trap_kind k = guarded(inst, do_realloc, &a);
  inst->ctl.in_host = in_host;
  if (k != EHAL_TRAP_NONE) {
    ehal_engine_trap_host(inst, k);
    return k;
  }
  *out = a.result;
  return EHAL_TRAP_NONE;
}

void ehal_engine_trap_host(ehal_engine_instance *inst, ehal_trap_kind kind) {
  if (inst->ctl.trap == EHAL_TRAP_NONE)
    inst->ctl.trap = kind == EHAL_TRAP_NONE ? EHAL_TRAP_HOST : (uint32_t)kind;
}

bool ehal_engine_trap_pending(const ehal_engine_instance *inst) { return inst->ctl.trap != 0; }
