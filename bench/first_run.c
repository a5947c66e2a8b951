/*
 * first_run.c - the first run of a module by its size: `elastic-hal compile`
 * of a small, a medium and a large module into an empty cache, with the
 * translated C compiled in parts in parallel (what the HAL does) against one
 * cc over the whole file (ELASTIC_HAL_COMPILE_PART_LINES set past the size:
 * the single-cc baseline), wall time and the peak RSS of the largest
 * process (a compiler, for big modules) side by side.
 *
 * The medium and large modules are generated here, deterministically: many
 * functions of varied shapes (arithmetic chains, loops over memory,
 * branches, direct and indirect calls), written as WAT and assembled with
 * wat2wasm.  The small one is the hello example.
 *
 *   elastic-hal-bench-firstrun [--quick]   (--quick: small and medium only)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef EHAL_BENCH_CLI
#error "EHAL_BENCH_CLI (the elastic-hal executable) must be defined"
#endif
#ifndef EHAL_BENCH_HELLO
#error "EHAL_BENCH_HELLO (the hello guest) must be defined"
#endif

static char g_tmp[4096];

/* One function of the generated module, of shape k % 4; about `body`
 * instructions.  Each returns an i32 from two i32 parameters. */
static void gen_func(FILE *f, unsigned k, unsigned body, unsigned nfuncs) {
  fprintf(f, " (func $f%u (type $t) (param i32 i32) (result i32) (local i32 i32 i64)\n", k);
  fprintf(f, "  (local.set 2 (local.get 0))\n");
  unsigned seed = k * 2654435761u;
  for (unsigned i = 0; i < body / 12; i++) {
    seed = seed * 1103515245u + 12345u;
    unsigned c = seed >> 8;
    switch ((k + i) % 4) {
      case 0: /* arithmetic chain */
        fprintf(f,
                "  (local.set 2 (i32.add (i32.mul (local.get 2) (i32.const %u)) "
                "(i32.xor (local.get 1) (i32.const %u))))\n"
                "  (local.set 4 (i64.add (local.get 4) (i64.extend_i32_u (local.get 2))))\n",
                c | 1, c);
        break;
      case 1: /* a loop over memory */
        fprintf(f,
                "  (local.set 3 (i32.const %u))\n"
                "  (loop $l%u (i32.store (i32.and (i32.shl (local.get 3) (i32.const 2)) "
                "(i32.const 65532)) (i32.add (local.get 2) (local.get 3)))\n"
                "   (local.set 3 (i32.sub (local.get 3) (i32.const 1)))\n"
                "   (br_if $l%u (i32.gt_s (local.get 3) (i32.const 0))))\n",
                c % 16 + 1, i, i);
        break;
      case 2: /* branches */
        fprintf(f,
                "  (if (i32.lt_u (local.get 2) (i32.const %u))\n"
                "   (then (local.set 2 (i32.rotl (local.get 2) (i32.const %u))))\n"
                "   (else (local.set 2 (i32.sub (local.get 2) (i32.load (i32.const %u))))))\n",
                c, c % 31, (c % 1024) * 4);
        break;
      default: /* calls: to an earlier function, or through the table */
        if (k > 0 && c % 2)
          fprintf(f, "  (local.set 2 (call $f%u (local.get 2) (i32.const %u)))\n", (c >> 1) % k,
                  c % 7);
        else
          fprintf(f,
                  "  (if (i32.eqz (local.get 1)) (then (local.set 2 (call_indirect (type $t) "
                  "(local.get 2) (i32.const 1) (i32.const %u)))))\n",
                  c % nfuncs);
        break;
    }
  }
  fprintf(f, "  (i32.add (local.get 2) (i32.wrap_i64 (local.get 4))))\n");
}

/* A module of nfuncs functions as name.wasm in g_tmp: its path, or NULL. */
static char *gen_module(const char *name, unsigned nfuncs, unsigned body) {
  char wat[4300], *wasm = NULL, cmd[9000];
  snprintf(wat, sizeof wat, "%s/%s.wat", g_tmp, name);
  if (asprintf(&wasm, "%s/%s.wasm", g_tmp, name) < 0) return NULL;
  FILE *f = fopen(wat, "w");
  if (!f) return NULL;
  fprintf(f,
          "(module\n (type $t (func (param i32 i32) (result i32)))\n (memory (export "
          "\"memory\") 1)\n");
  fprintf(f, " (table %u funcref)\n (elem (i32.const 0)", nfuncs);
  for (unsigned k = 0; k < nfuncs; k++) fprintf(f, " $f%u", k);
  fprintf(f, ")\n");
  for (unsigned k = 0; k < nfuncs; k++) gen_func(f, k, body, nfuncs);
  fprintf(f, " (func (export \"_start\") (drop (call $f%u (i32.const 1) (i32.const 2)))))\n",
          nfuncs - 1);
  fclose(f);
  snprintf(cmd, sizeof cmd, "wat2wasm %s -o %s", wat, wasm);
  if (system(cmd) != 0) {
    free(wasm);
    return NULL;
  }
  return wasm;
}

/* Lines of C wasm2c makes of a module (what the compilers chew on). */
static long c_lines(const char *wasm) {
  char cmd[9000], out[4300];
  snprintf(out, sizeof out, "%s/count.c", g_tmp);
  snprintf(cmd, sizeof cmd, "wasm2c --no-debug-names %s -n guest -o %s && wc -l < %s", wasm, out,
           out);
  FILE *p = popen(cmd, "r");
  long n = -1;
  if (p) {
    if (fscanf(p, "%ld", &n) != 1) n = -1;
    pclose(p);
  }
  return n;
}

typedef struct {
  double seconds;
  long peak_mb; /* the largest process's peak RSS */
  int ok;
} first_run;

/* `elastic-hal compile --cache --tier TIER` into a fresh state directory,
 * with part_lines as ELASTIC_HAL_COMPILE_PART_LINES (NULL: the HAL's
 * default). */
static first_run compile_once(const char *wasm, const char *part_lines, const char *tier) {
  static int n;
  char state[4300];
  snprintf(state, sizeof state, "%s/state%d", g_tmp, n++);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fflush(stdout); /* the child reopens stdout: nothing buffered may go twice */
  pid_t pid = fork();
  if (pid == 0) {
    if (part_lines)
      setenv("ELASTIC_HAL_COMPILE_PART_LINES", part_lines, 1);
    else
      unsetenv("ELASTIC_HAL_COMPILE_PART_LINES");
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl(EHAL_BENCH_CLI, EHAL_BENCH_CLI, "compile", "--cache", "--tier", tier, "--state-dir",
          state, wasm, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  first_run r = {0, 0, 0};
  if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) return r;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  /* wait4 reports the larger of the child's own peak and its children's
   * (the compilers it ran and waited for) */
  long peak_kb = ru.ru_maxrss;
  r.seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  r.peak_mb = peak_kb / 1024;
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return r;
}

static void rm_rf(const char *dir) {
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

int main(int argc, char **argv) {
  int quick = argc > 1 && !strcmp(argv[1], "--quick");
  const char *tmpdir = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/elastic-hal-bench-firstrun-XXXXXX",
           tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    return 1;
  }
  printf("3. First run by module size: `elastic-hal compile --cache` into an empty cache\n");
  printf("   parts = the HAL: the translated C split and compiled in parallel (one cc per\n");
  printf("   core, as memory allows); whole = one cc over the whole file (the baseline)\n");
  printf("   peak = the largest single process's peak RSS (a compiler, for big modules)\n");
  printf("   quick = in parts at the quick tier (-Og), what a first run of a module over\n");
  printf("   500k lines of C compiles while the -O2 code is built in the background\n");
  printf("   goal: the large module runs within 30 s, peak RSS under 1 GB\n");
  printf("   %-24s %9s %8s %8s %8s %9s %9s %8s\n", "module", "C lines", "whole s", "parts s",
         "quick s", "whole MB", "parts MB", "speedup");
  struct {
    const char *name;
    unsigned funcs, body;
  } mods[] = {
      {"small (hello)", 0, 0}, {"medium (generated)", 1500, 100}, {"large (generated)", 9000, 110}};
  int n = quick ? 2 : 3;
  for (int i = 0; i < n; i++) {
    char *wasm = mods[i].funcs
                     ? gen_module(i == 1 ? "medium" : "large", mods[i].funcs, mods[i].body)
                     : strdup(EHAL_BENCH_HELLO);
    if (!wasm) {
      printf("   %-28s cannot generate the module (wat2wasm)\n", mods[i].name);
      continue;
    }
    long lines = c_lines(wasm);
    first_run whole = compile_once(wasm, "1000000000", "optimized");
    first_run parts = compile_once(wasm, NULL, "optimized");
    first_run quick = compile_once(wasm, NULL, "quick");
    printf("   %-24s %9ld %8.1f %8.1f %8.1f %9ld %9ld %7.2fx%s\n", mods[i].name, lines,
           whole.seconds, parts.seconds, quick.seconds, whole.peak_mb, parts.peak_mb,
           parts.seconds > 0 ? whole.seconds / parts.seconds : 0.0,
           whole.ok && parts.ok && quick.ok ? "" : "  (a compile failed)");
    fflush(stdout);
    free(wasm);
  }
  rm_rf(g_tmp);
  return 0;
}
