/*
 * test_storage_crash.c - writers killed at random points.
 *
 * A guest (tests/guests/storage_guest.c "writer") stores generated,
 * self-verifying objects over a small set of keys as fast as it can through
 * `elastic-hal run`, printing "ack I KEY VERSION" after every store-object
 * that returned.  This program SIGKILLs it at a random moment (anywhere:
 * before its first store, inside SQLite's commit, between commit and ack),
 * then runs the guest's "verify" in a fresh process and checks:
 *
 *   - every acknowledged object is there, intact: for each key, the object
 *     read back is a valid generated object written under that key, no
 *     older than the last one acknowledged for it, and no newer than the
 *     one that may have been in flight when the writer died;
 *   - nothing half-written or corrupt is ever returned, and no integrity
 *     error is ever reported (a crash is not tampering);
 *   - the container's version never goes back and covers every ack.
 *
 * The writers continue from the state the previous one left, so recovery
 * after a kill is exercised again by every cycle.  Bounded to about 15 s
 * (EHAL_CRASH_SECONDS), seeded from the clock (EHAL_CRASH_SEED to repeat).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#ifndef EHAL_TEST_CLI
#error "EHAL_TEST_CLI (the built elastic-hal) must be defined"
#endif
#define GUEST EHAL_TEST_GUESTS "/storage_guest.wasm"
#define NKEYS 16
#define RUN_STRIDE 10000000u /* index range of one writer run */

extern char **environ;

static char g_tmp[4096], g_state[4200];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Starts `elastic-hal run ... GUEST args` with stdout on a pipe. */
static pid_t spawn_guest(char *const gargs[], int *out_fd) {
  char *argv[32];
  int n = 0;
  argv[n++] = (char *)EHAL_TEST_CLI;
  argv[n++] = (char *)"run";
  argv[n++] = (char *)"--state-dir";
  argv[n++] = g_state;
  argv[n++] = (char *)"--workload";
  argv[n++] = (char *)"crash";
  argv[n++] = (char *)GUEST;
  for (int i = 0; gargs[i] && n < 30; i++) argv[n++] = gargs[i];
  argv[n] = NULL;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  if (rc != 0) {
    close(p[0]);
    return -1;
  }
  *out_fd = p[0];
  return pid;
}

/* Reads what is available (or until the deadline) into buf. */
static void pump(int fd, char **buf, size_t *len, size_t *cap, double deadline) {
  for (;;) {
    double left = deadline - now_s();
    struct pollfd pf = {fd, POLLIN, 0};
    int ms = deadline < 0 ? -1 : left <= 0 ? 0 : (int)(left * 1000) + 1;
    int r = poll(&pf, 1, ms);
    if (r <= 0) return;
    if (*len + 65536 > *cap) {
      *cap = (*cap + 65536) * 2;
      *buf = realloc(*buf, *cap);
    }
    ssize_t n = read(fd, *buf + *len, *cap - *len - 1);
    if (n <= 0) return;
    *len += (size_t)n;
    (*buf)[*len] = 0;
  }
}

typedef struct {
  int64_t acked[NKEYS];    /* highest acknowledged index per key (-1: none) */
  int64_t possible[NKEYS]; /* highest index that may have been committed */
  uint64_t acked_version;  /* highest acknowledged container version */
  uint64_t last_version;   /* version the last verify saw */
} model;

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/ehal-test-crash-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(g_state, sizeof g_state, "%s/state", g_tmp);
  const char *sd = getenv("EHAL_CRASH_SEED");
  unsigned seed =
      sd && *sd ? (unsigned)strtoul(sd, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
  srand(seed);
  const char *ss = getenv("EHAL_CRASH_SECONDS");
  double budget = ss && *ss ? atof(ss) : 15.0;
  tap_diag("seed %u (EHAL_CRASH_SEED=%u repeats this run), budget %.0f s", seed, seed, budget);

  /* compile the guest into the cache and create the container */
  char *create[] = {(char *)"create", (char *)"box", NULL};
  int fd;
  pid_t pid = spawn_guest(create, &fd);
  char *buf = NULL;
  size_t len = 0, cap = 0;
  int status = -1;
  if (pid > 0) {
    pump(fd, &buf, &len, &cap, -1);
    close(fd);
    waitpid(pid, &status, 0);
  }
  if (!TAP_OK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && buf &&
                  strstr(buf, "created box"),
              "the writer guest runs and creates its container")) {
    tap_rm_tree(g_tmp);
    return tap_done();
  }

  model m;
  for (int k = 0; k < NKEYS; k++) m.acked[k] = m.possible[k] = -1;
  m.acked_version = m.last_version = 0;
  int cycles = 0, killed_mid = 0, problems = 0, integrity = 0, version_back = 0;
  long acks_total = 0, checked_keys = 0;
  double t0 = now_s();
  while (cycles < 200 && (now_s() - t0 < budget || cycles < 5)) {
    uint32_t start = (uint32_t)(cycles + 1) * RUN_STRIDE;
    char startbuf[32], nk[16];
    snprintf(startbuf, sizeof startbuf, "%u", start);
    snprintf(nk, sizeof nk, "%d", NKEYS);
    char *writer[] = {(char *)"writer", (char *)"box", nk, startbuf, NULL};
    len = 0;
    if (buf) buf[0] = 0;
    double t_spawn = now_s();
    pid = spawn_guest(writer, &fd);
    if (pid < 0) {
      problems++;
      tap_diag("cannot spawn the writer");
      break;
    }
    /* kill anywhere from start-up to some hundreds of writes in */
    double delay = (rand() % 1000) / 1000.0 * 0.30;
    pump(fd, &buf, &len, &cap, t_spawn + delay);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    pump(fd, &buf, &len, &cap, -1); /* what it wrote before dying */
    close(fd);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      problems++;
      tap_diag("cycle %d: the writer ended by itself (status 0x%x): %.300s", cycles, status,
               buf ? buf : "");
    }
    /* acks: only complete lines count */
    int64_t last_i = -1;
    char *line = buf, *nl;
    while (line && (nl = strchr(line, '\n'))) {
      *nl = 0;
      unsigned long long i, v;
      int k;
      if (sscanf(line, "ack %llu k%d %llu", &i, &k, &v) == 3 && k >= 0 && k < NKEYS) {
        if ((int64_t)i > m.acked[k]) m.acked[k] = (int64_t)i;
        if (v > m.acked_version) m.acked_version = v;
        last_i = (int64_t)i;
        acks_total++;
      }
      line = nl + 1;
    }
    if (last_i >= 0) killed_mid++;
    /* the write in flight when it died may have committed */
    int64_t inflight = last_i >= 0 ? last_i + 1 : start;
    for (int k = 0; k < NKEYS; k++)
      if (m.acked[k] > m.possible[k]) m.possible[k] = m.acked[k];
    if ((uint32_t)inflight % NKEYS < NKEYS) {
      int k = (int)((uint64_t)inflight % NKEYS);
      if (inflight > m.possible[k]) m.possible[k] = inflight;
    }

    /* verify in a fresh process */
    char *verify[] = {(char *)"verify", (char *)"box", nk, NULL};
    len = 0;
    if (buf) buf[0] = 0;
    pid = spawn_guest(verify, &fd);
    if (pid > 0) {
      pump(fd, &buf, &len, &cap, -1);
      close(fd);
      waitpid(pid, &status, 0);
    }
    if (pid <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      problems++;
      tap_diag("cycle %d: verify failed (status 0x%x): %.300s", cycles, status, buf ? buf : "");
    }
    bool seen[NKEYS] = {false};
    line = buf;
    uint64_t version = 0;
    while (line && (nl = strchr(line, '\n'))) {
      *nl = 0;
      long long i;
      int k;
      unsigned long long v;
      if (sscanf(line, "have k%d %lld", &k, &i) == 2 && k >= 0 && k < NKEYS) {
        seen[k] = true;
        checked_keys++;
        if (i < m.acked[k] || i > m.possible[k] || i % NKEYS != k) {
          problems++;
          tap_diag("cycle %d: k%d holds object %lld; acknowledged %lld, at most %lld possible",
                   cycles, k, i, (long long)m.acked[k], (long long)m.possible[k]);
        }
        /* what is there is what is possible from now on */
        m.acked[k] = i;
      } else if (sscanf(line, "missing k%d", &k) == 1 && k >= 0 && k < NKEYS) {
        seen[k] = true;
        checked_keys++;
        if (m.acked[k] >= 0) {
          problems++;
          tap_diag("cycle %d: acknowledged k%d (object %lld) is missing", cycles, k,
                   (long long)m.acked[k]);
        }
      } else if (sscanf(line, "bad k%d", &k) == 1) {
        problems++;
        if (strstr(line, "integrity")) integrity++;
        tap_diag("cycle %d: %s", cycles, line);
      } else if (sscanf(line, "version %llu", &v) == 1) {
        version = v;
      }
      line = nl + 1;
    }
    for (int k = 0; k < NKEYS; k++)
      if (!seen[k]) {
        problems++;
        tap_diag("cycle %d: verify did not report k%d", cycles, k);
        break;
      }
    if (version < m.last_version || version < m.acked_version) {
      version_back++;
      tap_diag("cycle %d: container version %llu; previously %llu, acknowledged %llu", cycles,
               (unsigned long long)version, (unsigned long long)m.last_version,
               (unsigned long long)m.acked_version);
    }
    m.last_version = version;
    cycles++;
    if (problems > 20) break;
  }
  free(buf);
  double took = now_s() - t0;
  TAP_OK(cycles >= 5,
         "%d writers killed with SIGKILL at random points in %.1f s (%d after at "
         "least one acknowledged store; %ld acknowledgements)",
         cycles, took, killed_mid, acks_total);
  TAP_OK(problems == 0,
         "every acknowledged object survived intact and nothing half-written was returned "
         "(%ld key checks)",
         checked_keys);
  TAP_OK(integrity == 0, "a crash never shows as an integrity error");
  TAP_OK(version_back == 0 && m.last_version >= m.acked_version,
         "the container version never went back and covers every acknowledgement (%llu)",
         (unsigned long long)m.last_version);
  tap_rm_tree(g_tmp);
  return tap_done();
}
