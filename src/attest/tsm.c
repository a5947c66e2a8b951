/*
 * tsm.c - evidence through configfs-tsm (Linux 6.7+,
 * Documentation/ABI/testing/configfs-tsm-report), for SEV-SNP (provider
 * "sev_guest") and TDX ("tdx_guest").
 *
 * One request, exactly as the ABI asks:
 *   1. mkdir a fresh entry (a unique name: nobody else writes to it);
 *   2. read `provider`, and `generation` before writing anything;
 *   3. write exactly 64 bytes to `inblob` (configfs commits a binary
 *      attribute when the file is closed; a kernel with the flush fix reports
 *      a refused commit, e.g. EBUSY, from close());
 *   4. read `outblob` (this runs the TSM) and, for sev_guest, `auxblob` (the
 *      certificate table; empty when the host supplies none);
 *   5. re-read `generation`: it must have advanced by exactly the number of
 *      writes made here, else another writer changed the entry in between
 *      and the report may carry someone else's data: the request is redone
 *      (a bounded number of times) and then fails;
 *   6. an empty outblob is an error; the entry is removed in every case.
 * Requests are serialized within the process (a mutex) and between
 * processes (flock on the report directory); EBUSY/EAGAIN from a commit or a
 * read is retried after a bounded exponential back-off.  Any other failure
 * is final: the kernel's SNP driver disables its message key after most
 * firmware failures, so a failing request is never repeated blindly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../util/byteorder.h"
#include "../util/fileio.h"
#include "attest.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static ehal_tsm_kernel_fn g_kernel;
static void *g_kernel_user;
static atomic_uint g_counter;

void ehal_attest_set_tsm_kernel(ehal_tsm_kernel_fn fn, void *user) {
  pthread_mutex_lock(&g_lock);
  g_kernel = fn;
  g_kernel_user = user;
  pthread_mutex_unlock(&g_lock);
}

/* The test model of the kernel (see attest.h); 0 in production. */
static int kernel(ehal_tsm_event ev, const char *entry, const char *attr) {
  return g_kernel ? g_kernel(ev, entry, attr, g_kernel_user) : 0;
}

static void backoff(int attempt) {
  struct timespec ts = {0, (10L * 1000000L) << attempt}; /* 10, 20, 40 ... ms */
  nanosleep(&ts, NULL);
}

static bool busy(int e) { return e == EBUSY || e == EAGAIN; }

/* Reads an attribute whole (at most max bytes).  Returns 0, or -1 with
 * errno set (EFBIG when larger than max). */
static int read_attr_once(const char *entry, const char *attr, uint8_t **buf, size_t *len,
                          size_t max) {
  *buf = NULL;
  *len = 0;
  int e = kernel(EHAL_TSM_READ, entry, attr);
  if (e) {
    errno = e;
    return -1;
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", entry, attr);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  *buf = ehal_read_fd(fd, max, len);
  e = errno;
  close(fd);
  errno = e;
  return *buf ? 0 : -1;
}

/* read_attr_once with back-off on EBUSY/EAGAIN. */
static int read_attr(const char *entry, const char *attr, uint8_t **buf, size_t *len, size_t max) {
  for (int a = 0;; a++) {
    if (read_attr_once(entry, attr, buf, len, max) == 0) return 0;
    if (!busy(errno) || a + 1 >= EHAL_TSM_MAX_BUSY) return -1;
    backoff(a);
  }
}

/* A small text attribute without its trailing newline. */
static int read_text(const char *entry, const char *attr, char *out, size_t outlen) {
  uint8_t *b;
  size_t n;
  if (read_attr(entry, attr, &b, &n, 256) != 0) return -1;
  while (n && (b[n - 1] == '\n' || b[n - 1] == ' ' || b[n - 1] == 0)) n--;
  if (n >= outlen || memchr(b, 0, n)) {
    free(b);
    errno = EPROTO;
    return -1;
  }
  memcpy(out, b, n);
  out[n] = 0;
  free(b);
  return 0;
}

static int read_u64(const char *entry, const char *attr, unsigned long long *v) {
  char s[64];
  if (read_text(entry, attr, s, sizeof s) != 0) return -1;
  if (!s[0] || strspn(s, "0123456789") != strlen(s) || strlen(s) > 20) {
    errno = EPROTO;
    return -1;
  }
  errno = 0;
  *v = strtoull(s, NULL, 10);
  if (errno) {
    errno = EPROTO;
    return -1;
  }
  return 0;
}

/* Writes data to a write-only attribute and commits it (close).  Retries a
 * commit refused with EBUSY/EAGAIN after a back-off: a refused commit did not
 * advance the generation. */
static int write_attr(const char *entry, const char *attr, const void *data, size_t len) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", entry, attr);
  for (int a = 0;; a++) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (ehal_write_all(fd, data, len) != 0) {
      int saved = errno;
      close(fd);
      errno = saved;
      return -1;
    }
    int rc = close(fd);
    int e = rc != 0 ? errno : 0;
    int k = kernel(EHAL_TSM_INBLOB_COMMIT, entry, attr);
    if (k) e = k;
    if (!e) return 0;
    if (!busy(e) || a + 1 >= EHAL_TSM_MAX_BUSY) {
      errno = e;
      return -1;
    }
    backoff(a);
  }
}

static void remove_entry(const char *entry) {
  kernel(EHAL_TSM_RMDIR, entry, NULL);
  rmdir(entry);
}

/* Creates a uniquely named entry under root; 0 or -1 (errno). */
static int make_entry(const char *root, const char *kind, char *entry, size_t len) {
  uint32_t rnd = 0;
  if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) rnd = (uint32_t)time(NULL);
  snprintf(entry, len, "%s/elastic-hal-%s-%d-%ld-%u-%08x", root, kind, (int)getpid(),
           (long)syscall(SYS_gettid), atomic_fetch_add(&g_counter, 1), rnd);
  if (mkdir(entry, 0700) != 0) return -1;
  int e = kernel(EHAL_TSM_MKDIR, entry, NULL);
  if (e) {
    remove_entry(entry);
    errno = e;
    return -1;
  }
  return 0;
}

/* Cross-process serialization; -1 when flock is not available there (the
 * generation check still catches interference). */
static int lock_root(const char *root) {
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  while (flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

static void unlock_root(int fd) {
  if (fd >= 0) close(fd); /* releases the flock */
}

int ehal_tsm_probe_provider(const char *root, char *provider, size_t len) {
  char entry[4096];
  pthread_mutex_lock(&g_lock);
  int lfd = lock_root(root);
  int rc = 0;
  if (make_entry(root, "probe", entry, sizeof entry) != 0) {
    rc = -errno;
  } else {
    if (read_text(entry, "provider", provider, len) != 0) rc = -errno;
    remove_entry(entry);
  }
  unlock_root(lfd);
  pthread_mutex_unlock(&g_lock);
  return rc ? rc : 0;
}

/* Where TDX quotes (versions 4 and 5) carry the TD's REPORTDATA; 0 if the
 * quote is of another shape (then it is not checked here). */
static size_t tdx_reportdata_offset(const uint8_t *q, size_t n) {
  if (n < 48) return 0;
  unsigned version = ehal_get_u16(q);
  if (version == 4 && n >= 48 + 584) return 48 + 520;
  if (version == 5 && n >= 48 + 6 + 584) return 48 + 6 + 520;
  return 0;
}

/* One attempt.  *raced is set when the failure is interference that a new
 * request may not meet again. */
static int attempt(const char *root, const uint8_t inblob[64], const char *expect,
                   ehal_evidence *out, bool *raced, char *err, size_t errlen) {
  char entry[4096], provider[64];
  *raced = false;
  if (make_entry(root, "report", entry, sizeof entry) != 0) {
    if (errno == EEXIST) *raced = true;
    snprintf(err, errlen, "configfs-tsm: cannot create a report entry in %s: %s", root,
             strerror(errno));
    return -1;
  }
  uint8_t *outblob = NULL, *auxblob = NULL;
  size_t outlen = 0, auxlen = 0;
  unsigned long long g0 = 0, g1 = 0, floor = 0;
  int rc = -1;
  if (read_text(entry, "provider", provider, sizeof provider) != 0) {
    snprintf(err, errlen, "configfs-tsm: cannot read provider: %s", strerror(errno));
    goto out;
  }
  bool snp = strcmp(provider, "sev_guest") == 0, tdx = strcmp(provider, "tdx_guest") == 0;
  if (!snp && !tdx) {
    snprintf(err, errlen, "configfs-tsm: unknown provider '%s'", provider);
    goto out;
  }
  if (expect && strcmp(provider, expect) != 0) {
    snprintf(err, errlen, "configfs-tsm: provider is '%s', expected '%s'", provider, expect);
    goto out;
  }
  /* A guest below VMPL0 (under an SVSM) may only ask for reports at or above
   * its floor; where the attribute is visible and non-zero, ask at it. */
  if (read_u64(entry, "privlevel_floor", &floor) != 0) floor = 0;
  if (read_u64(entry, "generation", &g0) != 0) {
    snprintf(err, errlen, "configfs-tsm: cannot read generation: %s", strerror(errno));
    goto out;
  }
  unsigned long long writes = 0;
  if (floor > 0) {
    char lvl[24];
    int n = snprintf(lvl, sizeof lvl, "%llu\n", floor);
    if (write_attr(entry, "privlevel", lvl, (size_t)n) != 0) {
      snprintf(err, errlen, "configfs-tsm: cannot set privlevel %llu: %s", floor, strerror(errno));
      goto out;
    }
    writes++;
  }
  if (write_attr(entry, "inblob", inblob, 64) != 0) {
    snprintf(err, errlen, "configfs-tsm: cannot write inblob: %s", strerror(errno));
    goto out;
  }
  writes++;
  if (read_attr(entry, "outblob", &outblob, &outlen, EHAL_TSM_MAX_BLOB) != 0) {
    snprintf(err, errlen, "configfs-tsm: %s report request failed: %s", provider, strerror(errno));
    goto out;
  }
  if (snp && read_attr(entry, "auxblob", &auxblob, &auxlen, EHAL_TSM_MAX_BLOB) != 0 &&
      errno != ENOENT) {
    snprintf(err, errlen, "configfs-tsm: cannot read auxblob: %s", strerror(errno));
    goto out;
  }
  if (read_u64(entry, "generation", &g1) != 0) {
    snprintf(err, errlen, "configfs-tsm: cannot re-read generation: %s", strerror(errno));
    goto out;
  }
  if (g1 != g0 + writes) {
    *raced = true;
    snprintf(err, errlen,
             "configfs-tsm: generation went from %llu to %llu across %llu write(s): another "
             "writer changed the request",
             g0, g1, writes);
    goto out;
  }
  if (outlen == 0) {
    snprintf(err, errlen, "configfs-tsm: the %s provider returned an empty outblob", provider);
    goto out;
  }
  if (snp && outlen < EHAL_SNP_REPORT_LEN) {
    snprintf(err, errlen, "configfs-tsm: SNP report of %zu bytes (expected %d)", outlen,
             EHAL_SNP_REPORT_LEN);
    goto out;
  }
  /* The report must carry the data written (SNP: REPORT_DATA at 0x50). */
  size_t off = snp ? 0x50 : tdx_reportdata_offset(outblob, outlen);
  if (off && memcmp(outblob + off, inblob, 64) != 0) {
    *raced = true;
    snprintf(err, errlen, "configfs-tsm: the report does not carry the report data written");
    goto out;
  }
  /* auxblob travels unchanged: judging the host's certificate table is the
   * verifier's business, not a reason to withhold the report */
  out->provider = snp ? "sev-snp" : "tdx";
  out->format = snp ? "sev-snp-report" : "tdx-quote";
  out->source = "configfs-tsm";
  out->evidence = outblob;
  out->evidence_len = outlen;
  outblob = NULL;
  if (auxlen) {
    out->certs = auxblob;
    out->certs_len = auxlen;
    auxblob = NULL;
  }
  rc = 0;
out:
  free(outblob);
  free(auxblob);
  remove_entry(entry);
  return rc;
}

int ehal_tsm_request(const char *root, const uint8_t *inblob, size_t inblob_len,
                     const char *expect_provider, ehal_evidence *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!inblob || inblob_len != 64) {
    snprintf(err, errlen, "configfs-tsm: inblob must be exactly 64 bytes (got %zu)", inblob_len);
    return -1;
  }
  pthread_mutex_lock(&g_lock);
  int lfd = lock_root(root);
  int rc = -1;
  bool raced = false;
  for (int a = 0; a < EHAL_TSM_MAX_ATTEMPTS; a++) {
    rc = attempt(root, inblob, expect_provider, out, &raced, err, errlen);
    if (rc == 0 || !raced) break;
    if (a + 1 < EHAL_TSM_MAX_ATTEMPTS) backoff(a);
  }
  unlock_root(lfd);
  pthread_mutex_unlock(&g_lock);
  if (rc != 0 && raced) {
    size_t l = strlen(err);
    snprintf(err + l, errlen > l ? errlen - l : 0, " (gave up after %d attempts)",
             EHAL_TSM_MAX_ATTEMPTS);
  }
  return rc;
}
