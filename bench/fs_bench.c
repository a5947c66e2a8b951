/*
 * fs_bench.c - elastic-hal-bench-fs: the sealed WASI file system (a guest's
 * `--dir /data`, kept in encrypted, integrity-protected storage) against the
 * host's file system, in one run, on the same disk.  One program,
 * bench/guests/fs_bench_guest.c, built twice:
 *
 *   native   BUILD/bench/fs_bench_native on a plain directory
 *   sealed   BUILD/guests/fs_bench_guest.wasm under
 *            `elastic-hal run --dir /data --state-dir TMP ...`
 *
 *   elastic-hal-bench-fs [SEQ_MIB [NFILES]]     (default 1024 and 10000;
 *        also $EHAL_FSBENCH_SEQ_MIB, $EHAL_FSBENCH_NFILES; arguments win)
 *
 * Both runs time themselves (the sealed one's first-run compile is outside
 * its figures).  Both keep their data at the end (-k) so that what it
 * occupies on disk can be measured, then a second run of each (-c) checks
 * it from a fresh process and removes it.  Everything lives in a temporary
 * directory under $TMPDIR, removed at exit.  Until the CLI has --dir, the
 * sealed column says so and only the native figures are shown.  Not a
 * test: exits 0 unless a run failed; a missed goal is printed, not fatal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#ifndef EHAL_FSBENCH_CLI
#define EHAL_FSBENCH_CLI "build/elastic-hal"
#endif
#ifndef EHAL_FSBENCH_GUEST_WASM
#define EHAL_FSBENCH_GUEST_WASM "build/guests/fs_bench_guest.wasm"
#endif
#ifndef EHAL_FSBENCH_NATIVE
#define EHAL_FSBENCH_NATIVE "build/bench/fs_bench_native"
#endif

#define PROG "elastic-hal-bench-fs"

typedef struct {
  const char *key, *label;
  double goal; /* least sealed/native ratio wanted; 0: none */
} metric;

static const metric METRICS[] = {
    {"seq_write_mibps", "sequential write, MiB/s", 0.3},
    {"seq_read_mibps", "sequential read, MiB/s", 0.5},
    {"rand_read_iops", "random 4 KiB pread, ops/s", 0},
    {"rand_write_iops", "random 4 KiB pwrite, ops/s", 0},
    {"create_ops", "create+write+close, files/s", 0},
    {"stat_ops", "stat, files/s", 0},
    {"small_read_ops", "open+read+close, files/s", 0},
    {"unlink_ops", "unlink, files/s", 0},
};
#define NMETRICS (sizeof METRICS / sizeof METRICS[0])

typedef struct {
  double v[NMETRICS];
  bool have[NMETRICS];
} results;

/* Runs argv, its stdout into out (NUL-terminated, truncated past cap), its
 * stderr into errpath when given (else ours).  The exit status, or -1. */
static int run(char *const argv[], char *out, size_t cap, const char *errpath) {
  int p[2];
  if (pipe(p) != 0) return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    if (errpath) {
      int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) dup2(fd, 2), close(fd);
    }
    execv(argv[0], argv);
    fprintf(stderr, PROG ": cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(p[1]);
  size_t len = 0;
  ssize_t r;
  char sink[4096];
  /* read to the end even past cap, so the child never blocks on a full pipe */
  while ((r = read(p[0], len + 1 < cap ? out + len : sink,
                   len + 1 < cap ? cap - 1 - len : sizeof sink)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (len + 1 < cap) len += (size_t)r;
  }
  out[len] = 0;
  close(p[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `NAME VALUE` lines into r; lines starting with # are comments. */
static void parse(const char *out, results *r) {
  memset(r, 0, sizeof *r);
  for (const char *l = out; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
    char key[64];
    double v;
    if (*l == '#' || sscanf(l, "%63s %lf", key, &v) != 2) continue;
    for (size_t i = 0; i < NMETRICS; i++)
      if (strcmp(key, METRICS[i].key) == 0) r->v[i] = v, r->have[i] = true;
  }
}

/* ---- disk usage (du), leaving out one subtree: the compile cache ---- */
static const char *g_skip;
static unsigned long long g_disk, g_apparent;

static int du_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)ftw;
  if (g_skip && strncmp(path, g_skip, strlen(g_skip)) == 0) return 0;
  if (flag == FTW_F || flag == FTW_D || flag == FTW_DP) {
    g_disk += (unsigned long long)st->st_blocks * 512;
    if (flag == FTW_F) g_apparent += (unsigned long long)st->st_size;
  }
  return 0;
}

static double du_mib(const char *dir, const char *skip, double *apparent_mib) {
  g_skip = skip;
  g_disk = g_apparent = 0;
  nftw(dir, du_entry, 16, FTW_PHYS);
  if (apparent_mib) *apparent_mib = (double)g_apparent / (1024.0 * 1024.0);
  return (double)g_disk / (1024.0 * 1024.0);
}

static long num(const char *s, const char *what, long max) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 1 || v > max) {
    fprintf(stderr, PROG ": %s must be a number from 1 to %ld\n", what, max);
    exit(2);
  }
  return v;
}

static void print_err_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stderr);
  fclose(f);
}

static bool file_has(const char *path, const char *a, const char *b) {
  static char buf[65536];
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return strstr(buf, a) && strstr(buf, b);
}

int main(int argc, char **argv) {
  const char *e1 = getenv("EHAL_FSBENCH_SEQ_MIB"), *e2 = getenv("EHAL_FSBENCH_NFILES");
  if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
    fprintf(stderr, "usage: %s [SEQ_MIB [NFILES]]   (default 1024 10000)\n", argv[0]);
    return 2;
  }
  long seq = 1024, nfiles = 10000;
  if (e1 && *e1) seq = num(e1, "EHAL_FSBENCH_SEQ_MIB", 1L << 20);
  if (e2 && *e2) nfiles = num(e2, "EHAL_FSBENCH_NFILES", 1000000);
  if (argc > 1) seq = num(argv[1], "SEQ_MIB", 1L << 20);
  if (argc > 2) nfiles = num(argv[2], "NFILES", 1000000);
  /* room for the file and the small files, with slack for whatever the
   * sealed store counts beside the bytes written */
  long quota = 4 * seq + 1024;

  const char *tmpbase = getenv("TMPDIR");
  char base[4096], native_dir[4200], state[4200], cache[4300], errpath[4200];
  snprintf(base, sizeof base, "%s/elastic-hal-bench-fs-XXXXXX",
           tmpbase && *tmpbase ? tmpbase : "/tmp");
  if (!mkdtemp(base)) {
    fprintf(stderr, PROG ": cannot create a temporary directory: %s\n", strerror(errno));
    return 1;
  }
  snprintf(native_dir, sizeof native_dir, "%s/native", base);
  snprintf(state, sizeof state, "%s/state", base);
  snprintf(cache, sizeof cache, "%s/cache", state);
  snprintf(errpath, sizeof errpath, "%s/sealed.stderr", base);
  if (mkdir(native_dir, 0700) != 0) {
    fprintf(stderr, PROG ": cannot create %s: %s\n", native_dir, strerror(errno));
    bench_rm_tree(base);
    return 1;
  }
  char s_seq[32], s_nfiles[32], s_quota[32];
  snprintf(s_seq, sizeof s_seq, "%ld", seq);
  snprintf(s_nfiles, sizeof s_nfiles, "%ld", nfiles);
  snprintf(s_quota, sizeof s_quota, "%ld", quota);

  printf("ELASTIC TEE HAL file system benchmark: sealed --dir against the host's\n");
  printf("  %ld MiB sequential (64 KiB calls), 20000 random 4 KiB preads and pwrites,\n", seq);
  printf("  %ld files of 100 bytes; directory %s\n", nfiles, base);
  printf(
      "  writes end with fsync inside their time; reads follow the writes, so both\n"
      "  sides read through the page cache\n\n");

  static char out[65536];
  int rc = 0;

  /* ---- native ---- */
  printf("  native: %s\n", EHAL_FSBENCH_NATIVE);
  char *nargv[] = {EHAL_FSBENCH_NATIVE, "-k", native_dir, s_seq, s_nfiles, NULL};
  results nat;
  int st = run(nargv, out, sizeof out, NULL);
  parse(out, &nat);
  double nat_disk = 0, nat_app = 0;
  if (st != 0) {
    fprintf(stderr, PROG ": the native run failed (status %d)\n", st);
    rc = 1;
  } else {
    nat_disk = du_mib(native_dir, NULL, &nat_app);
    nargv[1] = "-c"; /* was -k */
    st = run(nargv, out, sizeof out, NULL);
    if (st != 0) fprintf(stderr, PROG ": the native check failed (status %d)\n", st), rc = 1;
  }

  /* ---- sealed ---- */
  printf("  sealed: %s run --dir /data %s (compiled on first use)\n", EHAL_FSBENCH_CLI,
         EHAL_FSBENCH_GUEST_WASM);
  /* clang-format off */
  char *sargv[] = {EHAL_FSBENCH_CLI, "run", "--state-dir", state, "--workload", "fsbench",
                   "--max-storage", s_quota, "--dir", "/data", EHAL_FSBENCH_GUEST_WASM,
                   "-k", "/data", s_seq, s_nfiles, NULL};
  /* clang-format on */
  results seal;
  memset(&seal, 0, sizeof seal);
  bool sealed_ok = false, unavailable = false;
  double seal_disk = 0, seal_app = 0, seal_after = 0;
  st = run(sargv, out, sizeof out, errpath);
  if (st == 2 && file_has(errpath, "--dir", "option")) {
    unavailable = true; /* this CLI has no --dir yet: not a failure */
  } else {
    print_err_file(errpath);
    parse(out, &seal);
    if (st != 0) {
      fprintf(stderr, PROG ": the sealed run failed (status %d)\n", st);
      rc = 1;
    } else {
      seal_disk = du_mib(state, cache, &seal_app);
      sargv[11] = "-c"; /* was the guest's -k */
      st = run(sargv, out, sizeof out, errpath);
      print_err_file(errpath);
      if (st != 0) {
        fprintf(stderr, PROG ": the sealed check (a second run) failed (status %d)\n", st);
        rc = 1;
      } else {
        sealed_ok = true;
        seal_after = du_mib(state, cache, NULL);
      }
    }
  }

  /* ---- the table ---- */
  printf("\n  %-30s %12s %12s %9s   %s\n", "", "native", "sealed", "sealed/", "goal");
  printf("  %-30s %12s %12s %9s\n", "", "", "", "native");
  for (size_t i = 0; i < NMETRICS; i++) {
    const metric *m = &METRICS[i];
    printf("  %-30s", m->label);
    if (nat.have[i])
      printf(" %12.1f", nat.v[i]);
    else
      printf(" %12s", "-");
    if (seal.have[i])
      printf(" %12.1f", seal.v[i]);
    else
      printf(" %12s", unavailable ? "n/a" : "-");
    if (nat.have[i] && seal.have[i] && nat.v[i] > 0) {
      double ratio = seal.v[i] / nat.v[i];
      printf(" %8.2fx", ratio);
      if (m->goal > 0) printf("   >= %.1fx %s", m->goal, ratio >= m->goal ? "met" : "MISSED");
    } else if (m->goal > 0) {
      printf(" %9s   >= %.1fx", "", m->goal);
    }
    printf("\n");
  }
  /* what the data occupies: the sealed side is the state directory less
   * its compile cache (the guest's artifact is not the file system's) */
  printf("\n  on disk, data present:    native %9.1f MiB (file sizes %.1f MiB)\n", nat_disk,
         nat_app);
  if (sealed_ok)
    printf(
        "                            sealed %9.1f MiB (file sizes %.1f MiB), %.2fx native\n"
        "  on disk, sealed, after the guest deleted all of it: %.1f MiB\n",
        seal_disk, seal_app, nat_disk > 0 ? seal_disk / nat_disk : 0, seal_after);
  if (unavailable)
    printf(
        "\n  sealed: unavailable, this elastic-hal has no `run --dir` yet; native figures only\n");
  bench_rm_tree(base);
  return rc;
}
