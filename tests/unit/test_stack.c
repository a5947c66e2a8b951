/*
 * test_stack.c - the native stack and host code (issue 7, section 2).
 *
 * 1. Measures how much native stack the deepest host paths take (SQLite
 *    through storage.get-metadata, OpenSSL through crypto.sign, simulated
 *    attestation), each called by a real guest on a thread whose stack was
 *    painted first: the lowest byte that changed is the high-water mark.
 *    The engine's HOST_STACK_RESERVE must hold each with at least a 2x
 *    margin; the figures are printed.
 * 2. A fault inside host code is a host bug: it must kill the process with
 *    SIGSEGV, never be reported as a guest trap (default build, where the
 *    runtime has a SIGSEGV handler).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <wasm-rt.h>

#include "elastic-hal/elastic_hal.h"
#include "runtime/linker.h"
#include "tap.h"

#ifndef EHAL_TEST_GUESTS
#error "EHAL_TEST_GUESTS (the build's guests directory) must be defined"
#endif
#define GUEST EHAL_TEST_GUESTS "/deep_guest.wasm"

/* Keep in step with HOST_STACK_RESERVE in src/engine/wasm2c/engine.c. */
#define HOST_STACK_RESERVE (512u * 1024u)
#define PAINT 0xa5

static char g_tmp[4096];
static elastic_hal_module *g_mod;
static elastic_hal_linker *g_linker;

typedef struct {
  const char *op;
  size_t used;
  int status;
  bool ok;
} measure;

/* An instance of deep_guest that recurses `depth` calls, then does op. */
static elastic_hal_instance *deep_instance(const char *depth, const char *op, int stdout_fd,
                                           elastic_hal_error *err) {
  char *argv[] = {"deep_guest", (char *)depth, (char *)op, NULL};
  elastic_hal_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.workload = "deep";
  cfg.state_dir = g_tmp;
  cfg.argc = 3;
  cfg.argv = argv; /* copied by instantiate */
  cfg.stdout_fd = stdout_fd;
  return elastic_hal_instantiate(g_mod, g_linker, &cfg, err);
}

static void *run_measured(void *arg) {
  measure *m = arg;
  pthread_attr_t attr;
  void *lo = NULL;
  size_t size = 0;
  pthread_getattr_np(pthread_self(), &attr);
  pthread_attr_getstack(&attr, &lo, &size);
  pthread_attr_destroy(&attr);
  /* paint from 64 KiB above the bottom to just below this frame */
  uint8_t *top = (uint8_t *)__builtin_frame_address(0) - 4096;
  uint8_t *bottom = (uint8_t *)lo + 65536;
  memset(bottom, PAINT, (size_t)(top - bottom));
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  elastic_hal_error err;
  elastic_hal_instance *i = deep_instance("0", m->op, devnull, &err);
  if (i) {
    m->ok = elastic_hal_run(i, &m->status, &err) == ELASTIC_HAL_EXITED;
    elastic_hal_instance_free(i);
  }
  if (!i || !m->ok) tap_diag("%s: %s", m->op, err.msg);
  close(devnull);
  uint8_t *p = bottom;
  while (p < top && *p == PAINT) p++;
  m->used = (size_t)(top - p);
  return NULL;
}

static void test_measure(void) {
  static const char *ops[] = {"none", "storage", "crypto", "attest"};
  size_t base = 0;
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 8u << 20);
    measure m = {ops[k], 0, -1, false};
    pthread_t t;
    pthread_create(&t, &attr, run_measured, &m);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    if (k == 0) base = m.used;
    size_t host = m.used > base ? m.used - base : 0;
    TAP_OK(m.ok && m.status == 0, "the guest's %s call ran on the painted thread", ops[k]);
    if (k == 0) {
      tap_diag("stack of the guest and runtime alone: %zu bytes", base);
      continue;
    }
    tap_diag("%s: %zu bytes of native stack in all, %zu beyond the guest alone", ops[k], m.used,
             host);
    TAP_OK(m.used * 2 <= HOST_STACK_RESERVE,
           "%s fits the host stack reserve (%u KiB) with a 2x margin (used %zu KiB)", ops[k],
           HOST_STACK_RESERVE / 1024, m.used / 1024);
  }
}

/* ---- stack exhaustion on a thread the embedder created ---- */

typedef struct {
  bool trapped;
  char trap[40];
} thread_run;

static void *run_deep_on_thread(void *arg) {
  thread_run *tr = arg;
  elastic_hal_error err;
  elastic_hal_instance *i = deep_instance("100000000", "none", 0, &err);
  if (i) {
    int status;
    tr->trapped = elastic_hal_run(i, &status, &err) == ELASTIC_HAL_TRAPPED;
    snprintf(tr->trap, sizeof tr->trap, "%s", err.trap);
    elastic_hal_instance_free(i);
  }
  return NULL;
}

static void test_thread_exhaustion(void) {
  for (int k = 0; k < 2; k++) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)(k ? 512 : 2048) << 10);
    thread_run tr = {false, ""};
    pthread_t t;
    pthread_create(&t, &attr, run_deep_on_thread, &tr);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    TAP_OK(tr.trapped && !strcmp(tr.trap, "call stack exhausted"),
           "a guest that exhausts the stack of a thread the embedder made (%d KiB) traps like on "
           "the main thread",
           k ? 512 : 2048);
  }
}

/* ---- four threads at once, trapping and overflowing at random ---- */

#if !WASM_RT_USE_STACK_DEPTH_COUNT
typedef struct {
  unsigned seed;
  int done, exhausted, wrong;
} racer;

static void *race(void *arg) {
  racer *r = arg;
  for (int i = 0; i < 12; i++) {
    bool deep = rand_r(&r->seed) % 2;
    elastic_hal_error err;
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    elastic_hal_instance *inst =
        deep_instance(deep ? "100000000" : "1000", deep ? "none" : "crypto", devnull, &err);
    int status = -1;
    elastic_hal_outcome o = inst ? elastic_hal_run(inst, &status, &err) : ELASTIC_HAL_TRAPPED;
    if (!deep && inst && o == ELASTIC_HAL_EXITED && status == 0)
      r->done++;
    else if (deep && inst && o == ELASTIC_HAL_TRAPPED && !strcmp(err.trap, "call stack exhausted"))
      r->exhausted++;
    else
      r->wrong++;
    elastic_hal_instance_free(inst);
    close(devnull);
  }
  return NULL;
}
#endif

static void test_concurrent(void) {
#if WASM_RT_USE_STACK_DEPTH_COUNT
  TAP_SKIP("the depth-counting (sanitizer) build runs guests on one thread at a time",
           "four threads run guests at once");
#else
  racer r[4];
  pthread_t t[4];
  for (int k = 0; k < 4; k++) {
    r[k] = (racer){(unsigned)(k * 7919 + 17), 0, 0, 0};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)2 << 20);
    pthread_create(&t[k], &attr, race, &r[k]);
    pthread_attr_destroy(&attr);
  }
  int done = 0, exhausted = 0, wrong = 0;
  for (int k = 0; k < 4; k++) {
    pthread_join(t[k], NULL);
    done += r[k].done;
    exhausted += r[k].exhausted;
    wrong += r[k].wrong;
  }
  TAP_OK(wrong == 0 && done > 0 && exhausted > 0,
         "four threads run guests at once, finishing and exhausting their stacks at random: "
         "%d finished, %d trapped, %d wrong, the process lives",
         done, exhausted, wrong);
#endif
}

/* ---- a fault in host code ---- */

#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
static volatile uintptr_t g_bad_address = 8;

static void host_segv(void *env) {
  (void)env;
  *(volatile int *)g_bad_address = 1; /* a host bug, on purpose */
}

static const ehal_func_def fault_funcs[] = {{"segv", ":", (ehal_hostfn)host_segv}};
static const ehal_iface_def fault_iface = {"test:fault", "fault", 0, 1, 0, fault_funcs, 1};
#endif

static void test_host_fault(void) {
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
  char wat[4200], wasm[4200], cmd[9000];
  snprintf(wat, sizeof wat, "%s/fault.wat", g_tmp);
  snprintf(wasm, sizeof wasm, "%s/fault.wasm", g_tmp);
  FILE *f = fopen(wat, "w");
  fprintf(f,
          "(module (import \"test:fault/fault@0.1.0\" \"segv\" (func $s))\n"
          " (memory (export \"memory\") 1) (func (export \"_start\") call $s))\n");
  fclose(f);
  snprintf(cmd, sizeof cmd, "wat2wasm %s -o %s", wat, wasm);
  if (system(cmd) != 0) {
    TAP_OK(false, "wat2wasm fault.wat");
    return;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    elastic_hal_linker *l = elastic_hal_linker_new();
    ehal_linker_add_iface(l, &fault_iface);
    elastic_hal_load_options lo = {.state_dir = g_tmp};
    elastic_hal_error err;
    elastic_hal_module *m = elastic_hal_module_load(wasm, &lo, &err);
    if (!m) _exit(3);
    elastic_hal_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = g_tmp;
    elastic_hal_instance *i = elastic_hal_instantiate(m, l, &cfg, &err);
    if (!i) _exit(4);
    int st;
    elastic_hal_outcome o = elastic_hal_run(i, &st, &err);
    _exit(o == ELASTIC_HAL_TRAPPED ? 134 : 5); /* never reached, we hope */
  }
  int ws = 0;
  waitpid(pid, &ws, 0);
  if (!TAP_OK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSEGV,
              "a fault inside a host function kills the process (SIGSEGV), not a guest trap"))
    tap_diag("child ended with %s %d", WIFSIGNALED(ws) ? "signal" : "exit status",
             WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
#else
  TAP_SKIP("bounds-checked build: the runtime installs no SIGSEGV handler",
           "a fault inside a host function is not a guest trap");
#endif
}

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/ehal-test-stack-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    return 1;
  }
  elastic_hal_load_options lo = {.state_dir = g_tmp};
  elastic_hal_error err;
  g_mod = elastic_hal_module_load(GUEST, &lo, &err);
  if (!TAP_OK(g_mod != NULL, "load deep_guest.wasm")) {
    tap_diag("%s", err.msg);
    tap_rm_tree(g_tmp);
    return tap_done();
  }
  g_linker = elastic_hal_linker_new();
  elastic_hal_add_to_linker(g_linker);
  elastic_hal_wasi_add_to_linker(g_linker);
  test_measure();
  test_thread_exhaustion();
  test_concurrent();
  test_host_fault();
  elastic_hal_linker_free(g_linker);
  elastic_hal_module_free(g_mod);
  tap_rm_tree(g_tmp);
  return tap_done();
}
