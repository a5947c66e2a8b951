/*
 * deploy_bench.c - elastic-hal-bench-deploy: what messages and events
 * between the workloads of a deployment cost, against the same exchange
 * between two native processes over a Unix socket, side by side in one run:
 *
 *   round trip    64 B and 64 KiB messages, ping-pong (goal: within 2x native)
 *   throughput    64 KiB messages streamed one way
 *   event         publish-to-poll latency of a published event (against
 *                 native one-way latency, half a 64 B round trip)
 *
 * Each guest exchange is a real deployment (ehal_serve with the built CLI
 * running each workload, bench/guests/deploy_bench_guest.c), its results
 * read from the workloads' logs.  Every figure is the median of TRIALS
 * runs (three processes on few cores schedule unevenly).  Not a test:
 * exits 0 unless something failed.
 *
 *   build/bench/elastic-hal-bench-deploy
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "deploy/manifest.h"
#include "deploy/supervisor.h"

#ifndef EHAL_DBENCH_GUEST_WASM
#define EHAL_DBENCH_GUEST_WASM "build/guests/deploy_bench_guest.wasm"
#endif
#ifndef EHAL_DBENCH_CLI
#define EHAL_DBENCH_CLI "build/elastic-hal"
#endif

#define ROUNDS 2000
#define STREAM 2000
#define EVENTS 1000
#define TRIALS 5

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v) {
  qsort(v, TRIALS, sizeof *v, cmp_double);
  return v[TRIALS / 2];
}

static char g_dir[4096];

static void die(const char *what) {
  fprintf(stderr, "elastic-hal-bench-deploy: %s\n", what);
  exit(1);
}

/* Runs a deployment of two workloads (name: args) and returns the first
 * line of the log of `report` that starts with key, parsed after key. */
static double deployment(const char *a, const char *a_args, const char *b, const char *b_args,
                         const char *report, const char *key) {
  char path[4200], logs[4200], line[256];
  snprintf(path, sizeof path, "%s/bench.json", g_dir);
  snprintf(logs, sizeof logs, "%s/logs", g_dir);
  FILE *f = fopen(path, "w");
  if (!f) die("cannot write the manifest");
  fprintf(f,
          "{\"name\": \"bench\", \"workloads\": [\n"
          " {\"name\": \"%s\", \"module\": \"%s\", \"args\": [%s], \"policy\": {\"message\": "
          "[\"%s\"], \"events-from\": [\"%s\"]}},\n"
          " {\"name\": \"%s\", \"module\": \"%s\", \"args\": [%s], \"policy\": {\"message\": "
          "[\"%s\"], \"events-from\": [\"%s\"]}}]}\n",
          a, EHAL_DBENCH_GUEST_WASM, a_args, b, b, b, EHAL_DBENCH_GUEST_WASM, b_args, a, a);
  fclose(f);
  ehal_manifest *m = ehal_manifest_load(path, stderr);
  if (!m) die("bad manifest");
  char state[4200];
  snprintf(state, sizeof state, "%s/state", g_dir);
  ehal_serve_options o = {.exe = EHAL_DBENCH_CLI, .state_dir = state, .log_dir = logs};
  /* the supervisor's lifecycle lines would bury the table */
  fflush(stderr);
  int saved = dup(2), null = open("/dev/null", O_WRONLY);
  dup2(null, 2);
  int rc = ehal_serve(m, &o);
  dup2(saved, 2);
  close(saved);
  close(null);
  ehal_manifest_free(m);
  if (rc != 0) die("the deployment failed (see its logs)");
  snprintf(path, sizeof path, "%s/%s.log", logs, report);
  f = fopen(path, "r");
  double v = -1;
  size_t klen = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, klen)) v = strtod(line + klen, NULL);
  if (f) fclose(f);
  unlink(path);
  if (v < 0) die("no result in the log");
  return v;
}

/* ---- native: two processes, a Unix socket, length-prefixed frames ---- */

static void xfer(int fd, void *p, size_t n, bool out) {
  uint8_t *b = p;
  while (n) {
    ssize_t k = out ? write(fd, b, n) : read(fd, b, n);
    if (k <= 0) die("native socket");
    b += k;
    n -= (size_t)k;
  }
}

static void frame_out(int fd, const uint8_t *p, uint32_t n) {
  xfer(fd, &n, 4, true);
  xfer(fd, (void *)p, n, true);
}

static uint32_t frame_in(int fd, uint8_t *p) {
  uint32_t n;
  xfer(fd, &n, 4, false);
  xfer(fd, p, n, false);
  return n;
}

/* ns per round trip (stream false) or ns for the whole stream. */
static double native(size_t size, long n, bool stream) {
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) die("socketpair");
  uint8_t *buf = calloc(1, size + 4);
  pid_t pid = fork();
  if (pid == 0) {
    close(sp[0]);
    for (long i = 0; i < n + (stream ? 0 : 100); i++) {
      uint32_t k = frame_in(sp[1], buf);
      if (!stream) frame_out(sp[1], buf, k);
    }
    if (stream) frame_out(sp[1], (const uint8_t *)"ack", 3);
    _exit(0);
  }
  close(sp[1]);
  double t0 = 0;
  if (stream) {
    t0 = now_ns();
    for (long i = 0; i < n; i++) frame_out(sp[0], buf, (uint32_t)size);
    frame_in(sp[0], buf);
  } else {
    for (long i = 0; i < n + 100; i++) {
      if (i == 100) t0 = now_ns();
      frame_out(sp[0], buf, (uint32_t)size);
      frame_in(sp[0], buf);
    }
  }
  double t = now_ns() - t0;
  close(sp[0]);
  waitpid(pid, NULL, 0);
  free(buf);
  return stream ? t : t / (double)n;
}

/* Medians over TRIALS of a deployment's figure and of native's. */
static void measure(const char *a, const char *a_args, const char *b, const char *b_args,
                    const char *report, const char *key, size_t size, long n, bool stream,
                    double *dep, double *nat) {
  double d[TRIALS], v[TRIALS];
  for (int t = 0; t < TRIALS; t++) {
    d[t] = deployment(a, a_args, b, b_args, report, key);
    v[t] = native(size, n, stream);
  }
  *dep = median(d);
  *nat = median(v);
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/ehal-bench-deploy-XXXXXX");
  if (!mkdtemp(g_dir)) die("mkdtemp");
  printf("elastic-hal-bench-deploy: messages and events between workloads of a deployment\n");
  printf(
      "(each workload a process of its own; native: two processes on a Unix socket;\n"
      " medians of %d runs)\n\n",
      TRIALS);
  printf("%-34s %14s %14s %8s\n", "", "deployment", "native", "ratio");
  char a[64], b[64], key[32];
  size_t sizes[] = {64, 65536};
  double g, nat;
  for (int i = 0; i < 2; i++) {
    snprintf(a, sizeof a, "\"ping\", \"%d\", \"%zu\"", ROUNDS, sizes[i]);
    snprintf(b, sizeof b, "\"pong\", \"%d\"", ROUNDS);
    snprintf(key, sizeof key, "rtt %zu ", sizes[i]);
    measure("ping", a, "pong", b, "ping", key, sizes[i], ROUNDS, false, &g, &nat);
    printf("round trip, %-6s messages (us)     %14.1f %14.1f %7.2fx\n",
           sizes[i] == 64 ? "64 B" : "64 KiB", g / 1000.0, nat / 1000.0, g / nat);
  }
  snprintf(a, sizeof a, "\"stream\", \"%d\", \"65536\"", STREAM);
  snprintf(b, sizeof b, "\"sink\", \"%d\"", STREAM);
  double mib = (double)STREAM * 65536 / (1 << 20);
  measure("stream", a, "sink", b, "stream", "stream 65536 ", 65536, STREAM, true, &g, &nat);
  printf("throughput, 64 KiB messages (MiB/s) %14.0f %14.0f %7.2fx\n", mib / (g / 1e9),
         mib / (nat / 1e9), g / nat);
  snprintf(a, sizeof a, "\"pub\", \"%d\"", EVENTS);
  snprintf(b, sizeof b, "\"sub\", \"%d\"", EVENTS);
  measure("pub", a, "sub", b, "sub", "event ", 64, ROUNDS, false, &g, &nat);
  printf("event publish-to-poll (us)         %14.1f %14.1f %7.2fx\n", g / 1000.0, nat / 2000.0,
         g / (nat / 2));
  printf(
      "\n(ratio: deployment / native, time against time: for throughput, native's\n"
      " rate over the deployment's; the event's native column is one way of a 64 B\n"
      " native round trip)\n");
  bench_rm_tree(g_dir);
  return 0;
}
