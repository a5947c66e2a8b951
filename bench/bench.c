/*
 * bench.c - elastic-hal-bench: what a HAL call and guest compute cost.
 *
 *   make bench                  (or build/bench/elastic-hal-bench [GUEST.wasm])
 *
 * 1. HAL calls: a guest export loops n times over one HAL call, made through
 *    the generated guest bindings; the same host implementation is then
 *    called n times directly from C.  The difference is what crossing into
 *    the HAL costs (wasm2c import thunk, generated glue, lifting and
 *    lowering, return-area store).
 * 2. Compute: bench/guests/kernels.c, compiled natively into this program
 *    and, unchanged, into the guest (clang wasm32-wasi, then wasm2c + cc).
 *    Both builds must return the same checksums.
 *
 * Best of N runs after a warm-up, timed with CLOCK_MONOTONIC.  The guest is
 * compiled through the public API into a fresh cache under a temporary
 * directory, which is removed at exit.  ELASTIC_HAL_CC, if set, is honoured
 * by the engine as the artifact compiler (e.g. a wrapper adding -O3).
 * Exits 0 unless something failed (load, trap, checksum mismatch).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "ehal_bindings.h"
#include "elastic-hal/elastic_hal.h"
#include "engine.h"
#include "guests/kernels.h"

#ifndef EHAL_BENCH_GUEST_WASM
#define EHAL_BENCH_GUEST_WASM "build/guests/bench.wasm"
#endif
#ifndef EHAL_BENCH_NATIVE_FLAGS
#define EHAL_BENCH_NATIVE_FLAGS "-O2"
#endif

#define GOAL_CALL_NS 10.0
#define GOAL_COMPUTE_RATIO 1.30

static int failures;

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "elastic-hal-bench: error: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  failures++;
}

/* ---- what is timed: a function of (context, n) returning a checksum ---- */

typedef uint64_t (*work_fn)(void *ctx, uint32_t n);

typedef struct {
  elastic_hal_instance *inst;
  const char *export_name;
} guest_ctx;

static uint64_t guest_work(void *p, uint32_t n) {
  guest_ctx *g = p;
  uint64_t arg = n, res = 0;
  elastic_hal_error err;
  if (elastic_hal_call(g->inst, g->export_name, &arg, 1, &res, 1, &err) != ELASTIC_HAL_EXITED) {
    fprintf(stderr, "elastic-hal-bench: guest %s trapped: %s\n", g->export_name, err.msg);
    exit(1);
  }
  return res;
}

/* Best (lowest) wall time in ns of reps runs of f(ctx, n), after one
 * warm-up run; *sum gets the last checksum. */
static double best_of(work_fn f, void *ctx, uint32_t n, int reps, uint64_t *sum) {
  uint64_t r = f(ctx, n); /* warm-up */
  double best = INFINITY;
  for (int i = 0; i < reps; i++) {
    double t0 = now_ns();
    r = f(ctx, n);
    double t = now_ns() - t0;
    if (t < best) best = t;
  }
  if (sum) *sum = r;
  return best;
}

/* Smallest power-of-two n (>= 1024) for which one run takes >= target ns. */
static uint32_t calibrate(work_fn f, void *ctx, double target_ns) {
  uint32_t n = 1024;
  while (n < (1u << 30)) {
    double t0 = now_ns();
    f(ctx, n);
    if (now_ns() - t0 >= target_ns) break;
    n *= 2;
  }
  return n;
}

/* ---- native counterparts of the HAL-call loops ---- */

static uint64_t native_resolution_impl(void *ctx, uint32_t n) {
  (void)ctx;
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    ehal_clock_result_u64_string_t r;
    memset(&r, 0, sizeof r);
    ehal_impl_clock_resolution(NULL, &r);
    acc += r.val;
  }
  return acc;
}

static uint64_t native_resolution_libc(void *ctx, uint32_t n) {
  (void)ctx;
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    struct timespec ts;
    clock_getres(CLOCK_MONOTONIC, &ts);
    acc += (uint64_t)ts.tv_nsec;
  }
  return acc;
}

static uint64_t native_monotonic_impl(void *ctx, uint32_t n) {
  (void)ctx;
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    ehal_clock_result_monotonic_time_string_t r;
    memset(&r, 0, sizeof r);
    ehal_impl_clock_get_monotonic_time(NULL, &r);
    acc += r.val.elapsed_nanoseconds;
  }
  return acc;
}

static uint64_t native_monotonic_libc(void *ctx, uint32_t n) {
  (void)ctx;
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    acc += (uint64_t)ts.tv_nsec;
  }
  return acc;
}

static uint64_t native_has_capability_impl(void *ctx, uint32_t n) {
  (void)ctx;
  uint64_t acc = 0;
  ehal_str name = {"clock.resolution", 16};
  for (uint32_t i = 0; i < n; i++) {
    bool b = false;
    ehal_impl_capabilities_has_capability(NULL, name, &b);
    acc += b;
  }
  return acc;
}

/* Host-to-guest calls: n calls of the empty export, against n calls of a
 * native function through a pointer. */
static uint64_t guest_nop_calls(void *p, uint32_t n) {
  guest_ctx *g = p;
  uint64_t acc = 0;
  elastic_hal_error err;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t arg = i, res = 0;
    if (elastic_hal_call(g->inst, "nop", &arg, 1, &res, 1, &err) != ELASTIC_HAL_EXITED) {
      fprintf(stderr, "elastic-hal-bench: guest nop trapped: %s\n", err.msg);
      exit(1);
    }
    acc += res;
  }
  return acc;
}

/* The same through a handle resolved once (elastic_hal_instance_func). */
static const elastic_hal_func *g_nop_func;

static uint64_t guest_nop_func_calls(void *p, uint32_t n) {
  guest_ctx *g = p;
  uint64_t acc = 0;
  elastic_hal_error err;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t arg = i, res = 0;
    if (elastic_hal_func_call(g->inst, g_nop_func, &arg, &res, &err) != ELASTIC_HAL_EXITED) {
      fprintf(stderr, "elastic-hal-bench: guest nop trapped: %s\n", err.msg);
      exit(1);
    }
    acc += res;
  }
  return acc;
}

static uint32_t native_nop(uint32_t x) { return x + 1; }
static uint32_t (*volatile native_nop_ptr)(uint32_t) = native_nop;

static uint64_t native_nop_calls(void *ctx, uint32_t n) {
  (void)ctx;
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) acc += native_nop_ptr(i);
  return acc;
}

/* ---- native kernels ---- */

static uint64_t native_sha256(void *c, uint32_t n) {
  (void)c;
  return kernel_sha256(n);
}
static uint64_t native_matmul(void *c, uint32_t n) {
  (void)c;
  return kernel_matmul(n);
}
static uint64_t native_sieve(void *c, uint32_t n) {
  (void)c;
  return kernel_sieve(n);
}
static uint64_t native_sort(void *c, uint32_t n) {
  (void)c;
  return kernel_sort(n);
}

/* the same kernels.c compiled natively by clang (bench.cmake renames them) */
uint64_t clang_kernel_sha256(uint32_t reps);
uint64_t clang_kernel_matmul(uint32_t n);
uint64_t clang_kernel_sieve(uint32_t limit);
uint64_t clang_kernel_sort(uint32_t n);
static uint64_t clang_sha256(void *c, uint32_t n) {
  (void)c;
  return clang_kernel_sha256(n);
}
static uint64_t clang_matmul(void *c, uint32_t n) {
  (void)c;
  return clang_kernel_matmul(n);
}
static uint64_t clang_sieve(void *c, uint32_t n) {
  (void)c;
  return clang_kernel_sieve(n);
}
static uint64_t clang_sort(void *c, uint32_t n) {
  (void)c;
  return clang_kernel_sort(n);
}

/* ---- machine description ---- */

static void cpu_model(char *out, size_t len) {
  snprintf(out, len, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0) continue;
    char *c = strchr(line, ':');
    if (!c) continue;
    c++;
    while (*c == ' ' || *c == '\t') c++;
    c[strcspn(c, "\n")] = 0;
    snprintf(out, len, "%s", c);
    break;
  }
  fclose(f);
}

static double load_started;

static void progress(const char *msg, void *user) {
  (void)user;
  printf("  [%6.2f s] %s\n", (now_ns() - load_started) / 1e9, msg);
  fflush(stdout);
}

static const char *verdict(bool ok) { return ok ? "PASS" : "MISS"; }

int main(int argc, char **argv) {
  const char *wasm = argc > 1 ? argv[1] : EHAL_BENCH_GUEST_WASM;
  double t_start = now_ns();
  char cpu[256];
  cpu_model(cpu, sizeof cpu);
  const char *acc = getenv("ELASTIC_HAL_CC");

  printf("ELASTIC TEE HAL benchmark (elastic-hal %s)\n", ELASTIC_HAL_VERSION);
  printf("  machine     : %s, %ld online CPU(s)\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
  printf("  engine      : %s; platform: %s\n", ehal_engine_build_id(), elastic_hal_platform_type());
  printf(
      "  guest code  : clang --target=wasm32-wasi -O2 -> wasm2c -> %s -O2 -fPIC -shared "
      "-fno-strict-aliasing\n",
      acc && *acc ? acc : "cc");
  printf("                (artifact flags as in src/engine/wasm2c/compile.c%s)\n",
         acc && *acc ? "; ELASTIC_HAL_CC overrides the compiler" : "");
#ifdef __clang__
  printf("  native code : cc = clang %s %s, and %s %s (same kernels.c source)\n", __clang_version__,
         EHAL_BENCH_NATIVE_FLAGS, EHAL_BENCH_CLANG, EHAL_BENCH_NATIVE_FLAGS);
#else
  printf("  native code : cc = gcc %s %s, and %s %s (same kernels.c source)\n", __VERSION__,
         EHAL_BENCH_NATIVE_FLAGS, EHAL_BENCH_CLANG, EHAL_BENCH_NATIVE_FLAGS);
#endif
  printf("  timing      : CLOCK_MONOTONIC, best of N runs after a warm-up\n\n");

  /* ---- load (compile on first use) and instantiate the guest ---- */
  const char *tmpbase = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/elastic-hal-bench-XXXXXX", tmpbase && *tmpbase ? tmpbase : "/tmp");
  if (!mkdtemp(dir)) {
    fprintf(stderr, "elastic-hal-bench: cannot create a temporary directory: %s\n",
            strerror(errno));
    return 1;
  }
  char cache[4200], state[4200];
  snprintf(cache, sizeof cache, "%s/cache", dir);
  snprintf(state, sizeof state, "%s/state", dir);

  printf(
      "Loading %s (first load: not in the fresh cache %s,\n"
      "so it is compiled ahead of time with wasm2c + cc)\n",
      wasm, cache);
  elastic_hal_error err;
  elastic_hal_load_options lo = {.cache_dir = cache, .progress = progress, .state_dir = state};
  load_started = now_ns();
  elastic_hal_module *m = elastic_hal_module_load(wasm, &lo, &err);
  if (!m) {
    fprintf(stderr, "elastic-hal-bench: cannot load %s: %s\n", wasm, err.msg);
    bench_rm_tree(dir);
    return 1;
  }
  printf("  [%6.2f s] compiled and loaded\n", (now_ns() - load_started) / 1e9);
  /* a second load hits the cache: what a warm start costs */
  double t0 = now_ns();
  elastic_hal_module *m2 = elastic_hal_module_load(wasm, &lo, &err);
  if (m2) {
    printf("  second load (cache hit): %.2f ms\n\n", (now_ns() - t0) / 1e6);
    elastic_hal_module_free(m2);
  } else {
    fail("second load failed: %s", err.msg);
  }

  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_add_to_linker(l);
  elastic_hal_wasi_add_to_linker(l);
  char *gargv[] = {"bench", NULL};
  elastic_hal_config cfg = {.workload = "bench", .state_dir = state, .argc = 1, .argv = gargv};
  elastic_hal_instance *inst = elastic_hal_instantiate(m, l, &cfg, &err);
  if (!inst) {
    fprintf(stderr, "elastic-hal-bench: cannot instantiate: %s\n", err.msg);
    elastic_hal_module_free(m);
    elastic_hal_linker_free(l);
    bench_rm_tree(dir);
    return 1;
  }
  int status = 0;
  if (elastic_hal_run(inst, &status, &err) != ELASTIC_HAL_EXITED || status != 0) {
    fprintf(stderr, "elastic-hal-bench: _initialize failed (status %d): %s\n", status, err.msg);
    return 1;
  }
  /* the same module at the quick tier (-Og), from a cache of its own, for
   * the compute kernels */
  char qcache[4300];
  snprintf(qcache, sizeof qcache, "%s/cache-quick", dir);
  elastic_hal_load_options qlo = {
      .cache_dir = qcache, .state_dir = state, .tier = ELASTIC_HAL_TIER_QUICK};
  elastic_hal_module *qm = elastic_hal_module_load(wasm, &qlo, &err);
  elastic_hal_instance *qinst = qm ? elastic_hal_instantiate(qm, l, &cfg, &err) : NULL;
  if (!qinst || elastic_hal_module_tier(qm) != ELASTIC_HAL_TIER_QUICK ||
      elastic_hal_run(qinst, &status, &err) != ELASTIC_HAL_EXITED || status != 0) {
    fprintf(stderr, "elastic-hal-bench: the quick tier: %s\n", err.msg);
    return 1;
  }

  /* ---- 1. HAL calls ---- */
  const double target = 30e6; /* ns per timed run */
  const int call_reps = 5;
  printf(
      "1. HAL calls: ns per call, guest -> HAL vs the same host implementation called natively\n");
  printf("   guest  = a guest export loops n times over the call (generated guest bindings)\n");
  printf("   native = the same host function (ehal_impl_*, what the glue calls) called from C\n");
  printf("   overhead = guest - native: what crossing into the HAL adds (goal: <= %.0f ns)\n",
         GOAL_CALL_NS);
  printf("   %-36s %10s %10s %8s %10s %8s  %s\n", "call", "guest ns", "native ns", "ratio",
         "overhead", "goal", "");
  printf("   %-36s %10s %10s %8s %10s %8s  %s\n", "------------------------------------",
         "--------", "---------", "-----", "--------", "-------", "----");

  guest_ctx g_empty = {inst, "loop_empty"};
  uint32_t n_empty = calibrate(guest_work, &g_empty, target);
  double ge = best_of(guest_work, &g_empty, n_empty, call_reps, NULL) / n_empty;

  struct {
    const char *label, *export_name;
    work_fn native;
  } calls[] = {
      {"clock.resolution (result<u64,string>)", "loop_resolution", native_resolution_impl},
      {"clock.get-monotonic-time (result<rec>)", "loop_monotonic", native_monotonic_impl},
      {"capabilities.has-capability (string)", "loop_has_capability", native_has_capability_impl},
  };
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    guest_ctx g = {inst, calls[i].export_name};
    uint32_t n = calibrate(guest_work, &g, target);
    uint64_t gs = 0, ns = 0;
    double gt = best_of(guest_work, &g, n, call_reps, &gs) / n;
    double nt = best_of(calls[i].native, NULL, n, call_reps, &ns) / n;
    if (gs == UINT64_MAX) fail("%s: the HAL call returned an error in the guest", calls[i].label);
    double over = gt - nt;
    /* where the implementation itself takes microseconds, the difference
     * is below the run-to-run noise: no verdict */
    bool judged = nt < 20 * GOAL_CALL_NS;
    over = round(over * 10) / 10; /* judge what is printed */
    printf("   %-36s %10.1f %10.1f %7.2fx %10.1f %8s  %s\n", calls[i].label, gt, nt, gt / nt, over,
           "<= 10", judged ? verdict(over <= GOAL_CALL_NS) : "n/a (impl-bound)");
  }
  /* the libc calls underneath, and the bare loops, for reference */
  {
    uint32_t n = 1u << 20;
    double r = best_of(native_resolution_libc, NULL, n, call_reps, NULL) / n;
    double mo = best_of(native_monotonic_libc, NULL, n, call_reps, NULL) / n;
    printf("   %-36s %10s %10.1f   (libc call the implementation makes)\n",
           "  clock_getres(CLOCK_MONOTONIC)", "-", r);
    printf("   %-36s %10s %10.1f   (libc call the implementation makes)\n",
           "  clock_gettime(CLOCK_MONOTONIC)", "-", mo);
    printf("   %-36s %10.1f %10s   (guest loop with no call, per iteration)\n",
           "  guest empty loop", ge, "-");
  }
  {
    guest_ctx g = {inst, "nop"};
    uint32_t n = calibrate(guest_nop_calls, &g, target / 2);
    double gt = best_of(guest_nop_calls, &g, n, call_reps, NULL) / n;
    double nt = best_of(native_nop_calls, NULL, n, call_reps, NULL) / n;
    printf("   %-36s %10.1f %10.1f %7.2fx %10.1f   (host -> guest, not a HAL call)\n",
           "elastic_hal_call(\"nop\") vs C call", gt, nt, gt / nt, gt - nt);
    elastic_hal_error ferr;
    g_nop_func = elastic_hal_instance_func(inst, "nop", &ferr);
    if (g_nop_func) {
      double ft = best_of(guest_nop_func_calls, &g, n, call_reps, NULL) / n;
      printf("   %-36s %10.1f %10.1f %7.2fx %10.1f   (a handle resolved once; goal < 20 ns)\n",
             "elastic_hal_func_call(nop) vs C call", ft, nt, ft / nt, ft - nt);
    }
  }
  printf("\n");

  /* ---- 2. compute kernels ---- */
  const int kernel_reps = 15;
  printf("2. Compute: the same C source (bench/guests/kernels.c), native vs wasm2c guest\n");
  printf("   ms per run, best of %d; ratio = wasm2c / the faster native build\n", kernel_reps);
  printf("   (goal: <= %.2fx; \"/cc\" = wasm2c / cc, the compiler that also builds the artifact)\n",
         GOAL_COMPUTE_RATIO);
  printf("   wasm2c = the optimized tier (-O2); -Og = the quick tier a big module's first run\n");
  printf("   gets, \"-Og/cc\" its time against cc's\n");
  printf("   %-34s %9s %9s %9s %7s %7s %8s  %-4s %9s %7s  %s\n", "kernel", "cc ms", "clang ms",
         "wasm2c ms", "/cc", "ratio", "goal", "", "-Og ms", "-Og/cc", "checksums");
  printf("   %-34s %9s %9s %9s %7s %7s %8s  %-4s %9s %7s  %s\n",
         "----------------------------------", "-----", "--------", "---------", "---", "-----",
         "-----", "----", "------", "------", "---------");
  struct {
    const char *label, *export_name;
    work_fn native, clang;
    uint32_t param;
  } kernels[] = {
      {"sha256, 8 x 256 KiB (integer mix)", "kernel_sha256", native_sha256, clang_sha256, 8},
      {"matmul, 192x192 doubles", "kernel_matmul", native_matmul, clang_matmul, 192},
      {"sieve, primes <= 4M (bytes)", "kernel_sieve", native_sieve, clang_sieve, 4u << 20},
      {"quicksort, 256K u32", "kernel_sort", native_sort, clang_sort, 256u << 10},
  };
  double log_sum = 0, log_sum_cc = 0, log_sum_q = 0;
  int nk = 0;
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
    guest_ctx g = {inst, kernels[i].export_name}, gq = {qinst, kernels[i].export_name};
    /* the builds take turns, so a slow spell of the machine (2 vCPUs,
     * shared) hits all of them alike */
    work_fn fn[4] = {kernels[i].native, kernels[i].clang, guest_work, guest_work};
    void *ctx[4] = {NULL, NULL, &g, &gq};
    uint64_t sums[4];
    double best_t[4];
    for (int v = 0; v < 4; v++) {
      sums[v] = fn[v](ctx[v], kernels[i].param); /* warm-up */
      best_t[v] = INFINITY;
    }
    for (int r = 0; r < kernel_reps; r++)
      for (int v = 0; v < 4; v++) {
        double t0 = now_ns();
        sums[v] = fn[v](ctx[v], kernels[i].param);
        double t = now_ns() - t0;
        if (t < best_t[v]) best_t[v] = t;
      }
    uint64_t ns = sums[0], cs = sums[1], gs = sums[2];
    double nt = best_t[0], ct = best_t[1], gt = best_t[2], qt = best_t[3];
    double best = nt < ct ? nt : ct;
    double ratio = round(gt / best * 100) / 100; /* judge what is printed */
    bool same = ns == gs && cs == gs && sums[3] == gs;
    if (!same)
      fail("%s: checksums differ: cc %016llx, clang %016llx, guest %016llx, -Og %016llx",
           kernels[i].label, (unsigned long long)ns, (unsigned long long)cs, (unsigned long long)gs,
           (unsigned long long)sums[3]);
    printf("   %-34s %9.3f %9.3f %9.3f %6.2fx %6.2fx %8s  %-4s %9.3f %6.2fx  %s\n",
           kernels[i].label, nt / 1e6, ct / 1e6, gt / 1e6, gt / nt, ratio, "<= 1.30",
           verdict(ratio <= GOAL_COMPUTE_RATIO), qt / 1e6, qt / nt, same ? "match" : "MISMATCH");
    log_sum_q += log(qt / nt);
    log_sum += log(gt / best);
    log_sum_cc += log(gt / nt);
    nk++;
  }
  double geo = round(exp(log_sum / nk) * 100) / 100;
  printf("   %-34s %9s %9s %9s %6.2fx %6.2fx %8s  %-4s %9s %6.2fx\n", "geometric mean", "", "", "",
         exp(log_sum_cc / nk), geo, "<= 1.30", verdict(geo <= GOAL_COMPUTE_RATIO), "",
         exp(log_sum_q / nk));
  printf(
      "   notes: the guest is built without -msimd128 (wasm2c 1.0.32 cannot translate SIMD),\n"
      "   so kernels that a native compiler vectorizes (matmul: clang, SSE2) stay scalar in\n"
      "   the guest; the guest code passed through clang before wasm2c, hence the clang column.\n");
  printf("\n");

  elastic_hal_instance_free(qinst);
  elastic_hal_module_free(qm);
  elastic_hal_instance_free(inst);
  elastic_hal_module_free(m);
  elastic_hal_linker_free(l);
  bench_rm_tree(dir);
  printf(
      "total %.1f s%s\n", (now_ns() - t_start) / 1e9,
      failures ? "; ERRORS above" : "; PASS/MISS are goals from issue 2 section 9, not failures");
  return failures ? 1 : 0;
}
