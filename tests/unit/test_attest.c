/*
 * test_attest.c - attestation end to end.
 *
 *   - the binding, recomputed here independently from docs/evidence.md;
 *   - configfs-tsm against a fake tree whose "kernel" (fake_kernel below)
 *     behaves like drivers/virt/coco/tsm.c: attributes appear on mkdir,
 *     inblob commits on close and advances generation, reading outblob runs
 *     the "TSM", rmdir removes the attributes; it can refuse with EBUSY, let
 *     another writer advance generation, return an empty outblob...;
 *   - the platform probe (sev-snp / tdx / simulated, TDX without configfs,
 *     a present but failing /dev/sev-guest);
 *   - /dev/sev-guest response parsing and retry decisions;
 *   - simulated evidence checked with OpenSSL: envelope, every report field,
 *     the signature with the VCEK from the certificate table, the chain
 *     ARK -> ASK -> VCEK, file modes, concurrent first use;
 *   - a guest (tests/guests/attest_guest.c) calling platform.attestation and
 *     the 0.1.1 attestation contexts through the generated bindings.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/attest.h"
#include "attest/sealing.h"
#include "elastic-hal/elastic_hal.h"
#include "interfaces/interfaces.h"
#include "tap.h"

#ifndef EHAL_TEST_GUESTS
#error "EHAL_TEST_GUESTS (the build's guests directory) must be defined"
#endif
#define GUEST EHAL_TEST_GUESTS "/attest_guest.wasm"

static char g_tmp[4096];

/* ---- helpers ---- */

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return false;
  return true;
}

static void to_hex(const uint8_t *p, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
  out[2 * n] = 0;
}

static int from_hex(const char *s, uint8_t *out, size_t max) {
  size_t n = strlen(s);
  if (n % 2 || n / 2 > max) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return (int)(n / 2);
}

/* Standard base64 with padding -> bytes (malloc); NULL if malformed. */
static uint8_t *unb64(const char *s, size_t *len) {
  size_t n = strlen(s);
  if (n % 4) return NULL;
  uint8_t *out = malloc(n / 4 * 3 + 1);
  int r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
  if (r < 0) {
    free(out);
    return NULL;
  }
  size_t pad = (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
  *len = (size_t)r - pad;
  return out;
}

static void pattern(uint8_t *p, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(i * 7 + 1);
}

/* The binding of docs/evidence.md, computed here without the HAL's code. */
static void ref_binding(const uint8_t *rd, size_t rdlen, const uint8_t sha[48], const char *world,
                        const char *workload, uint8_t out[64]) {
  size_t wl = strlen(world), kl = strlen(workload);
  size_t n = 23 + 4 + rdlen + 4 + 48 + 4 + wl + 4 + kl;
  uint8_t *buf = malloc(n), *p = buf;
  memcpy(p, "ELASTIC-HAL-BINDING-V1", 23); /* with its NUL */
  p += 23;
#define BE32(v)                                                                          \
  (*p++ = (uint8_t)((v) >> 24), *p++ = (uint8_t)((v) >> 16), *p++ = (uint8_t)((v) >> 8), \
   *p++ = (uint8_t)(v))
  BE32(rdlen);
  if (rdlen) memcpy(p, rd, rdlen);
  p += rdlen;
  BE32(48);
  memcpy(p, sha, 48);
  p += 48;
  BE32(wl);
  memcpy(p, world, wl);
  p += wl;
  BE32(kl);
  memcpy(p, workload, kl);
  p += kl;
#undef BE32
  unsigned int olen = 0;
  EVP_Digest(buf, n, out, &olen, EVP_sha512(), NULL);
  free(buf);
}

/* ---- a model of the configfs-tsm kernel on a plain directory tree ---- */

typedef struct {
  const char *provider; /* "sev_guest", "tdx_guest", or anything else */
  int mkdir_errno;      /* mkdir fails with this (e.g. ENXIO: no provider) */
  int commit_busy;      /* this many inblob commits refused with EBUSY */
  int read_busy;        /* this many outblob reads refused with EBUSY */
  int races;            /* this many requests see another writer */
  bool empty_outblob;   /* the TSM returns nothing */
  bool foreign_data;    /* the report carries other report data */
  unsigned privlevel_floor;
  /* what happened */
  int mkdirs, rmdirs, commits, reports, aux_reads, privlevel;
  unsigned long write_gen, read_gen;
  uint8_t inblob[128];
  size_t inblob_len;
} fake_kernel;

static fake_kernel K;

static void kwrite(const char *entry, const char *attr, const void *data, size_t len) {
  char p[4400];
  snprintf(p, sizeof p, "%s/%s", entry, attr);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return;
  if (len && write(fd, data, len) != (ssize_t)len) tap_diag("fake kernel: short write");
  close(fd);
}

static void kgen(const char *entry) {
  char s[32];
  int n = snprintf(s, sizeof s, "%lu\n", K.write_gen);
  kwrite(entry, "generation", s, (size_t)n);
}

static const uint8_t k_vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                        0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};

/* The "TSM": a report for the committed inblob. */
static int kreport(const char *entry) {
  if (!K.inblob_len) return EINVAL;
  bool snp = !strcmp(K.provider, "sev_guest");
  if (snp && K.inblob_len != 64) return EINVAL; /* sev_report_new's check */
  K.reports++;
  if (K.empty_outblob) {
    kwrite(entry, "outblob", "", 0);
    kwrite(entry, "auxblob", "", 0);
    return 0;
  }
  if (snp) {
    uint8_t r[EHAL_SNP_REPORT_LEN];
    for (size_t i = 0; i < sizeof r; i++) r[i] = (uint8_t)(i * 13);
    put32(r, 2);
    memcpy(r + 0x50, K.inblob, 64);
    if (K.foreign_data) r[0x50] ^= 0xff;
    kwrite(entry, "outblob", r, sizeof r);
    uint8_t aux[48 + 100];
    memset(aux, 0, sizeof aux);
    memcpy(aux, k_vcek_guid, 16);
    put32(aux + 16, 48);
    put32(aux + 20, 100);
    memset(aux + 48, 0xab, 100);
    kwrite(entry, "auxblob", aux, sizeof aux);
  } else {
    uint8_t q[1024]; /* a v4 quote, zero-padded like the kernel's buffer */
    memset(q, 0, sizeof q);
    q[0] = 4;
    q[2] = 2;
    q[4] = 0x81;
    memcpy(q + 48 + 520, K.inblob, 64);
    if (K.foreign_data) q[48 + 520] ^= 0xff;
    memset(q + 48 + 584, 0x5a, 200);
    kwrite(entry, "outblob", q, sizeof q);
  }
  return 0;
}

static int fake_kernel_fn(ehal_tsm_event ev, const char *entry, const char *attr, void *user) {
  (void)user;
  char p[4400];
  switch (ev) {
    case EHAL_TSM_MKDIR: {
      K.mkdirs++;
      if (K.mkdir_errno) return K.mkdir_errno;
      char s[64];
      int n = snprintf(s, sizeof s, "%s\n", K.provider);
      kwrite(entry, "provider", s, (size_t)n);
      K.write_gen = K.read_gen = 0;
      K.inblob_len = 0;
      kgen(entry);
      kwrite(entry, "inblob", "", 0);
      kwrite(entry, "outblob", "", 0);
      if (!strcmp(K.provider, "sev_guest")) {
        kwrite(entry, "auxblob", "", 0);
        n = snprintf(s, sizeof s, "%u\n", K.privlevel_floor);
        kwrite(entry, "privlevel_floor", s, (size_t)n);
        kwrite(entry, "privlevel", "", 0);
      }
      return 0;
    }
    case EHAL_TSM_INBLOB_COMMIT: {
      snprintf(p, sizeof p, "%s/%s", entry, attr);
      uint8_t buf[256];
      int fd = open(p, O_RDONLY);
      ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
      if (fd >= 0) close(fd);
      kwrite(entry, attr, "", 0); /* the buffer is consumed */
      if (K.commit_busy > 0) {
        K.commit_busy--;
        return EBUSY;
      }
      if (n < 0) return EIO;
      if (!strcmp(attr, "inblob")) {
        if (n > 64) return EFBIG; /* TSM_INBLOB_MAX */
        memcpy(K.inblob, buf, (size_t)n);
        K.inblob_len = (size_t)n;
      } else if (!strcmp(attr, "privlevel")) {
        K.privlevel = atoi((const char *)buf);
      }
      K.commits++;
      K.write_gen++;
      kgen(entry);
      return 0;
    }
    case EHAL_TSM_READ:
      if (strcmp(attr, "outblob") && strcmp(attr, "auxblob")) return 0;
      if (!strcmp(attr, "auxblob")) K.aux_reads++;
      if (!strcmp(attr, "outblob") && K.read_busy > 0) {
        K.read_busy--;
        return EBUSY;
      }
      if (K.read_gen != K.write_gen || K.reports == 0) {
        int e = kreport(entry);
        if (e) return e;
        K.read_gen = K.write_gen;
      }
      if (!strcmp(attr, "outblob") && K.races > 0) {
        K.races--; /* another writer changes the entry under us */
        K.write_gen++;
        kgen(entry);
      }
      return 0;
    case EHAL_TSM_RMDIR: {
      K.rmdirs++;
      DIR *d = opendir(entry);
      if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
          if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
          snprintf(p, sizeof p, "%s/%s", entry, e->d_name);
          unlink(p);
        }
        closedir(d);
      }
      return 0;
    }
  }
  return 0;
}

static char g_root[4200];

static void kernel_reset(const char *provider) {
  memset(&K, 0, sizeof K);
  K.provider = provider;
}

static int tsm(const uint8_t *in, size_t len, const char *expect, ehal_evidence *ev, char *err) {
  return ehal_tsm_request(g_root, in, len, expect, ev, err, 512);
}

static void test_tsm(void) {
  snprintf(g_root, sizeof g_root, "%s/tsm/report", g_tmp);
  char p[4200];
  snprintf(p, sizeof p, "%s/tsm", g_tmp);
  mkdir(p, 0700);
  mkdir(g_root, 0700);
  ehal_attest_set_tsm_kernel(fake_kernel_fn, NULL);
  uint8_t in[65];
  pattern(in, 65);
  ehal_evidence ev;
  char err[512] = "";

  /* SNP through configfs-tsm */
  kernel_reset("sev_guest");
  int rc = tsm(in, 64, "sev_guest", &ev, err);
  if (!TAP_OK(rc == 0 && !strcmp(ev.provider, "sev-snp") && !strcmp(ev.format, "sev-snp-report") &&
                  !strcmp(ev.source, "configfs-tsm") && ev.evidence_len == EHAL_SNP_REPORT_LEN &&
                  !memcmp(ev.evidence + 0x50, in, 64),
              "tsm sev_guest: a 1184-byte report carrying the 64 bytes written"))
    tap_diag("%s", err);
  TAP_OK(rc == 0 && ev.certs_len == 148 && !memcmp(ev.certs, k_vcek_guid, 16),
         "tsm sev_guest: auxblob is the certificate table, unchanged");
  TAP_OK(K.mkdirs == 1 && K.commits == 1 && K.inblob_len == 64 && K.reports == 1,
         "tsm: one entry, one write of exactly 64 bytes, one report (%d, %d, %zu, %d)", K.mkdirs,
         K.commits, K.inblob_len, K.reports);
  TAP_OK(K.rmdirs == 1 && count_entries(g_root) == 0, "tsm: the entry is removed afterwards");
  ehal_evidence_free(&ev);

  /* inblob size */
  kernel_reset("sev_guest");
  rc = tsm(in, 63, NULL, &ev, err);
  TAP_OK(rc != 0 && strstr(err, "exactly 64") && K.mkdirs == 0,
         "tsm: a 63-byte inblob is refused before touching configfs");
  rc = tsm(in, 65, NULL, &ev, err);
  TAP_OK(rc != 0 && strstr(err, "exactly 64") && K.mkdirs == 0 && ev.evidence == NULL,
         "tsm: a 65-byte inblob is refused before touching configfs");

  /* another writer once: retried with a new entry */
  kernel_reset("sev_guest");
  K.races = 1;
  rc = tsm(in, 64, NULL, &ev, err);
  if (!TAP_OK(rc == 0 && K.mkdirs == 2 && K.rmdirs == 2 && count_entries(g_root) == 0,
              "tsm: generation advanced by 2 once: redone in a new entry, which succeeds"))
    tap_diag("rc %d, %s, mkdirs %d", rc, err, K.mkdirs);
  ehal_evidence_free(&ev);

  /* another writer every time: bounded, then an error */
  kernel_reset("sev_guest");
  K.races = 1000;
  rc = tsm(in, 64, NULL, &ev, err);
  if (!TAP_OK(rc != 0 && strstr(err, "generation") && strstr(err, "another writer") &&
                  K.mkdirs == EHAL_TSM_MAX_ATTEMPTS && ev.evidence == NULL,
              "tsm: generation always advanced by 2: fails after %d attempts",
              EHAL_TSM_MAX_ATTEMPTS))
    tap_diag("rc %d, %s, mkdirs %d", rc, err, K.mkdirs);
  TAP_OK(K.rmdirs == K.mkdirs && count_entries(g_root) == 0,
         "tsm: every attempt's entry is removed");

  /* EBUSY */
  kernel_reset("tdx_guest");
  K.commit_busy = 2;
  K.read_busy = 2;
  rc = tsm(in, 64, NULL, &ev, err);
  if (!TAP_OK(rc == 0 && K.commits == 1 && K.mkdirs == 1 && !strcmp(ev.provider, "tdx"),
              "tsm: EBUSY twice on commit and twice on read: backs off and succeeds"))
    tap_diag("rc %d, %s", rc, err);
  ehal_evidence_free(&ev);
  kernel_reset("sev_guest");
  K.commit_busy = 1000;
  rc = tsm(in, 64, NULL, &ev, err);
  TAP_OK(rc != 0 && strstr(err, strerror(EBUSY)) && K.mkdirs == 1 && count_entries(g_root) == 0,
         "tsm: EBUSY on every commit: bounded back-off, then an error; entry removed");
  kernel_reset("sev_guest");
  K.read_busy = 1000;
  rc = tsm(in, 64, NULL, &ev, err);
  TAP_OK(rc != 0 && strstr(err, strerror(EBUSY)) && count_entries(g_root) == 0,
         "tsm: EBUSY on every outblob read: bounded back-off, then an error");

  /* empty outblob */
  kernel_reset("sev_guest");
  K.empty_outblob = true;
  rc = tsm(in, 64, NULL, &ev, err);
  TAP_OK(rc != 0 && strstr(err, "empty outblob") && K.mkdirs == 1 && count_entries(g_root) == 0 &&
             ev.evidence == NULL,
         "tsm: an empty outblob is an error (not retried; entry removed)");

  /* TDX */
  kernel_reset("tdx_guest");
  rc = tsm(in, 64, "tdx_guest", &ev, err);
  if (!TAP_OK(rc == 0 && !strcmp(ev.provider, "tdx") && !strcmp(ev.format, "tdx-quote") &&
                  ev.evidence_len == 1024 && !memcmp(ev.evidence + 568, in, 64) &&
                  ev.certs == NULL && K.aux_reads == 0,
              "tsm tdx_guest: the quote unchanged (padding included), no auxblob"))
    tap_diag("rc %d, %s", rc, err);
  ehal_evidence_free(&ev);

  /* provider checks */
  kernel_reset("tdx_guest");
  rc = tsm(in, 64, "sev_guest", &ev, err);
  TAP_OK(rc != 0 && strstr(err, "tdx_guest") && K.commits == 0 && count_entries(g_root) == 0,
         "tsm: a provider other than the one probed is refused before writing");
  kernel_reset("bogus_guest");
  rc = tsm(in, 64, NULL, &ev, err);
  TAP_OK(rc != 0 && strstr(err, "unknown provider") && count_entries(g_root) == 0,
         "tsm: an unknown provider is refused");
  kernel_reset("sev_guest");
  K.mkdir_errno = ENXIO;
  rc = tsm(in, 64, NULL, &ev, err);
  TAP_OK(rc != 0 && strstr(err, "cannot create") && count_entries(g_root) == 0,
         "tsm: mkdir refused (no provider registered): an error");

  /* a report that does not carry our data */
  kernel_reset("sev_guest");
  K.foreign_data = true;
  rc = tsm(in, 64, NULL, &ev, err);
  TAP_OK(rc != 0 && strstr(err, "does not carry") && count_entries(g_root) == 0,
         "tsm: a report carrying other report data is refused");

  /* privilege level floor (a guest under an SVSM) */
  kernel_reset("sev_guest");
  K.privlevel_floor = 2;
  rc = tsm(in, 64, NULL, &ev, err);
  if (!TAP_OK(rc == 0 && K.privlevel == 2 && K.commits == 2,
              "tsm: privlevel_floor 2: asks at privlevel 2 and expects 2 writes"))
    tap_diag("rc %d, %s, privlevel %d", rc, err, K.privlevel);
  ehal_evidence_free(&ev);

  /* probing */
  char prov[64] = "";
  kernel_reset("tdx_guest");
  rc = ehal_tsm_probe_provider(g_root, prov, sizeof prov);
  TAP_OK(rc == 0 && !strcmp(prov, "tdx_guest") && K.rmdirs == 1 && count_entries(g_root) == 0,
         "tsm: probing reads provider and removes its entry");
}

/* ---- platform probe ---- */

/* The capabilities row for name in this build: 1, 0, or -1 if absent. */
static int cap_supported(const char *name) {
  static ehal_capability caps[512];
  size_t n = ehal_capabilities(NULL, caps, 512);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(caps[i].name, name)) return caps[i].supported ? 1 : 0;
  return -1;
}

static char g_none[4200], g_devfile[4200];

/* configfs-tsm is present but unusable and no device node exists: the
 * platform is "unknown", never "simulated"; there is no evidence, no
 * envelope and no sealing root (nothing written under the state dir). */
static void check_unusable_tsm(const char *why) {
  char state[4300], err[512] = "";
  snprintf(state, sizeof state, "%s/unusable-state", g_tmp);
  uint8_t b[64], sha[48], root[EHAL_SEALING_ROOT_LEN];
  pattern(b, 64);
  pattern(sha, 48);
  const char *plat = elastic_hal_platform_type();
  if (!TAP_OK(!strcmp(plat, "unknown") && !ehal_attestation_available(),
              "probe: configfs-tsm present but unusable (%s), no devices: platform unknown, not "
              "simulated, attestation unavailable",
              why))
    tap_diag("platform %s, attestation %s", plat,
             ehal_attestation_available() ? "available" : "unavailable");
  ehal_evidence ev;
  int rc = ehal_attest_evidence(b, sha, state, &ev, err, sizeof err);
  if (!TAP_OK(rc != 0 && ev.evidence == NULL && strstr(err, "configfs-tsm"),
              "probe: unusable configfs-tsm (%s): evidence is an error, never simulated", why))
    tap_diag("rc %d, %s", rc, err);
  if (rc == 0) ehal_evidence_free(&ev);
  char *json = NULL;
  size_t len = 0;
  rc = ehal_attest(b, 10, sha, "w", "k", state, &json, &len, err, sizeof err);
  TAP_OK(rc != 0 && json == NULL, "probe: unusable configfs-tsm (%s): no envelope either", why);
  free(json);
  err[0] = 0;
  rc = ehal_sealing_root(state, root, err, sizeof err);
  char seal_dir[4400];
  snprintf(seal_dir, sizeof seal_dir, "%s/sealing", state);
  if (!TAP_OK(rc != 0 && !ehal_sealing_supported() && access(seal_dir, F_OK) != 0,
              "probe: unusable configfs-tsm (%s): no sealing root, none simulated on disk", why))
    tap_diag("rc %d, %s", rc, err);
}

static void test_probe(void) {
  snprintf(g_none, sizeof g_none, "%s/nonexistent", g_tmp);
  snprintf(g_devfile, sizeof g_devfile, "%s/fake-device", g_tmp);
  int fd = open(g_devfile, O_WRONLY | O_CREAT, 0600);
  if (fd >= 0) close(fd);
  char state[4300];
  snprintf(state, sizeof state, "%s/probe-state", g_tmp);
  uint8_t b[64], sha[48];
  pattern(b, 64);
  pattern(sha, 48);
  ehal_evidence ev;
  char err[512] = "";

  kernel_reset("sev_guest");
  ehal_attest_set_paths(g_root, g_none, g_none);
  TAP_OK(!strcmp(elastic_hal_platform_type(), "sev-snp") && ehal_attestation_available(),
         "probe: configfs-tsm with sev_guest: platform sev-snp, attestation available");
  int rc = ehal_attest_evidence(b, sha, state, &ev, err, sizeof err);
  TAP_OK(rc == 0 && !strcmp(ev.source, "configfs-tsm") && !strcmp(ev.provider, "sev-snp"),
         "probe: evidence comes from configfs-tsm");
  ehal_evidence_free(&ev);

  kernel_reset("tdx_guest");
  ehal_attest_set_paths(g_root, g_none, g_devfile);
  TAP_OK(!strcmp(elastic_hal_platform_type(), "tdx") && ehal_attestation_available(),
         "probe: configfs-tsm with tdx_guest: platform tdx, attestation available");

  ehal_attest_set_paths(g_none, g_none, g_devfile);
  rc = ehal_attest_evidence(b, sha, state, &ev, err, sizeof err);
  TAP_OK(!strcmp(elastic_hal_platform_type(), "tdx") && !ehal_attestation_available(),
         "probe: /dev/tdx_guest without configfs-tsm: platform tdx, attestation unavailable");
  TAP_OK(rc != 0 && strstr(err, "unsupported") && strstr(err, "TDREPORT") && ev.evidence == NULL,
         "probe: TDX without configfs-tsm: an error, never a simulated quote");
  char *json = NULL;
  size_t len = 0;
  rc = ehal_attest(b, 10, sha, "w", "k", state, &json, &len, err, sizeof err);
  TAP_OK(rc != 0 && json == NULL, "probe: TDX without configfs-tsm: no envelope either");
  if (cap_supported("platform.attestation") == 0)
    TAP_OK(cap_supported("platform.attest-with-context") == 0 &&
               cap_supported("platform.get-platform-info") == 1,
           "probe: TDX without configfs-tsm: capabilities report platform.attestation and the "
           "contexts unsupported");
  else
    TAP_SKIP("capabilities.c does not consult ehal_attestation_available() yet",
             "probe: TDX without configfs-tsm: capabilities report platform.attestation "
             "unsupported");

  ehal_attest_set_paths(g_none, g_devfile, g_none);
  rc = ehal_attest_evidence(b, sha, state, &ev, err, sizeof err);
  TAP_OK(!strcmp(elastic_hal_platform_type(), "sev-snp") && ehal_attestation_available(),
         "probe: /dev/sev-guest alone: platform sev-snp");
  if (!TAP_OK(rc != 0 && strstr(err, "SNP_GET_EXT_REPORT") && ev.evidence == NULL,
              "probe: a /dev/sev-guest that fails is an error, not a fallback to simulated"))
    tap_diag("%s", err);

  kernel_reset("sev_guest");
  K.mkdir_errno = ENXIO; /* the TSM core without a provider: not a TEE */
  ehal_attest_set_paths(g_root, g_none, g_none);
  TAP_OK(!strcmp(elastic_hal_platform_type(), "simulated") && ehal_attestation_available(),
         "probe: configfs-tsm without a provider and no devices: simulated");

  /* configfs-tsm there, but with a provider this build does not know, or
   * not usable at all: this may be a confidential VM, never "simulated" */
  kernel_reset("future_guest");
  ehal_attest_set_paths(g_root, g_none, g_none);
  check_unusable_tsm("an unknown provider");
  kernel_reset("sev_guest");
  K.mkdir_errno = EACCES;
  ehal_attest_set_paths(g_root, g_none, g_none);
  check_unusable_tsm("EACCES");
  kernel_reset("sev_guest");
  K.mkdir_errno = EIO;
  ehal_attest_set_paths(g_root, g_none, g_none);
  check_unusable_tsm("EIO");

  kernel_reset("sev_guest");
  ehal_attest_set_paths(g_root, g_none, g_none);
  ehal_attest_force_simulated(true);
  rc = ehal_attest_evidence(b, sha, state, &ev, err, sizeof err);
  TAP_OK(!strcmp(elastic_hal_platform_type(), "simulated") && rc == 0 &&
             !strcmp(ev.provider, "simulated") && K.mkdirs == 0,
         "probe: simulated chosen explicitly: the TEE is not asked");
  ehal_evidence_free(&ev);
  ehal_attest_force_simulated(false);

  ehal_attest_set_paths(g_none, g_none, g_none);
  TAP_OK(!strcmp(elastic_hal_platform_type(), "simulated") && ehal_attestation_available(),
         "probe: no TEE at all: simulated, attestation available");
  TAP_OK(cap_supported("platform.attestation") == 1 &&
             cap_supported("platform.create-attestation-context") == 1 &&
             cap_supported("platform.simulated") == 1,
         "probe: simulated: capabilities report platform.attestation and the contexts supported");
}

/* An empty directory as configfs-tsm root (no kernel behind it: entries
 * get no provider file): unusable, so "unknown", never "simulated". */
static void test_probe_empty_tsm(void) {
  char empty[4300];
  snprintf(empty, sizeof empty, "%s/empty-tsm", g_tmp);
  mkdir(empty, 0700);
  ehal_attest_set_paths(empty, g_none, g_none);
  check_unusable_tsm("an empty directory");
  TAP_OK(count_entries(empty) == 0, "probe: the empty configfs-tsm root is left as it was");
  /* restore: later tests see no TEE (and the probe cache is reset) */
  ehal_attest_set_paths(g_none, g_none, g_none);
  TAP_OK(!strcmp(elastic_hal_platform_type(), "simulated"),
         "probe: with the paths restored the platform is simulated again");
}

/* ---- /dev/sev-guest responses ---- */

static void test_sev_guest(void) {
  uint8_t resp[4000];
  memset(resp, 0, sizeof resp);
  put32(resp, 0);
  put32(resp + 4, EHAL_SNP_REPORT_LEN);
  resp[0x20] = 2;
  const uint8_t *rep = NULL;
  size_t n = 0;
  char err[256];
  TAP_OK(ehal_snp_parse_report_resp(resp, sizeof resp, &rep, &n, err, sizeof err) == 0 &&
             rep == resp + 0x20 && n == EHAL_SNP_REPORT_LEN,
         "sev-guest: MSG_REPORT_RSP: the report at 0x20, report_size bytes");
  put32(resp, 0x16);
  TAP_OK(ehal_snp_parse_report_resp(resp, sizeof resp, &rep, &n, err, sizeof err) != 0 &&
             strstr(err, "INVALID_PARAM"),
         "sev-guest: a non-zero status is an error naming it");
  put32(resp, 0);
  put32(resp + 4, 100);
  TAP_OK(ehal_snp_parse_report_resp(resp, sizeof resp, &rep, &n, err, sizeof err) != 0,
         "sev-guest: a report_size below 1184 is an error");
  put32(resp + 4, 3990);
  TAP_OK(ehal_snp_parse_report_resp(resp, sizeof resp, &rep, &n, err, sizeof err) != 0,
         "sev-guest: a report_size past the response is an error");
  TAP_OK(ehal_snp_parse_report_resp(resp, 16, &rep, &n, err, sizeof err) != 0,
         "sev-guest: a truncated response is an error");

  /* certificate tables */
  uint8_t t[4096];
  memset(t, 0, sizeof t);
  TAP_OK(ehal_snp_cert_table_size(t, sizeof t) == 0, "cert table: no entries: size 0");
  for (int i = 0; i < 3; i++) {
    memset(t + i * 24, 0x11 * (i + 1), 16);
    put32(t + i * 24 + 16, 96 + 500 * (uint32_t)i);
    put32(t + i * 24 + 20, 500);
  }
  TAP_OK(ehal_snp_cert_table_size(t, sizeof t) == 96 + 1500,
         "cert table: three entries: size up to the end of the last certificate");
  TAP_OK(ehal_snp_cert_table_size(t, 1000) == -1,
         "cert table: a certificate past the buffer: malformed");
  put32(t + 16, 24);
  TAP_OK(ehal_snp_cert_table_size(t, sizeof t) == -1,
         "cert table: a certificate overlapping the table: malformed");
  memset(t, 0x22, 96);
  TAP_OK(ehal_snp_cert_table_size(t, 96) == -1, "cert table: no terminating entry: malformed");

  /* retry decisions after SNP_GET_EXT_REPORT */
  uint32_t need = 0;
  uint64_t invalid_len = 1ull << 32;
  TAP_OK(ehal_snp_ext_classify(0, 0, 0, 8192, 8192, &need) == EHAL_SNP_EXT_OK,
         "sev-guest: success is success");
  TAP_OK(ehal_snp_ext_classify(-1, EIO, invalid_len, 8192, 16384, &need) ==
                 EHAL_SNP_EXT_RETRY_BIGGER &&
             need == 16384,
         "sev-guest: certs buffer too small: one retry with the size the kernel wrote back");
  TAP_OK(ehal_snp_ext_classify(-1, EIO, invalid_len, 8192, 0, &need) == EHAL_SNP_EXT_FALLBACK_PLAIN,
         "sev-guest: the host has no certificates: fall back to SNP_GET_REPORT");
  TAP_OK(ehal_snp_ext_classify(-1, EIO, invalid_len, 8192, 8192, &need) == EHAL_SNP_EXT_FAIL &&
             ehal_snp_ext_classify(-1, EIO, invalid_len, 8192, 32768, &need) == EHAL_SNP_EXT_FAIL &&
             ehal_snp_ext_classify(-1, EIO, invalid_len, 8192, 12000, &need) == EHAL_SNP_EXT_FAIL,
         "sev-guest: a size no larger, above the kernel's limit or unaligned: no retry");
  TAP_OK(ehal_snp_ext_classify(-1, EIO, 0x16, 8192, 8192, &need) == EHAL_SNP_EXT_FAIL &&
             ehal_snp_ext_classify(-1, ENOTTY, 0, 8192, 8192, &need) == EHAL_SNP_EXT_FAIL &&
             ehal_snp_ext_classify(-1, ETIMEDOUT, 2ull << 32, 8192, 8192, &need) ==
                 EHAL_SNP_EXT_FAIL &&
             ehal_snp_ext_classify(-1, EINVAL, 0, 8192, 8192, &need) == EHAL_SNP_EXT_FAIL,
         "sev-guest: firmware errors, a disabled key, timeouts: never retried");
}

/* ---- simulated evidence, checked like a verifier would ---- */

typedef struct {
  json_object *root;
  const char *provider, *format, *world, *workload, *scheme, *rd_hex, *sha_hex;
  uint8_t *report, *certs;
  size_t report_len, certs_len;
  int version;
} envelope;

static const char *jstr(json_object *o, const char *key) {
  json_object *v;
  if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static bool parse_envelope(const char *s, size_t len, envelope *e) {
  memset(e, 0, sizeof *e);
  json_tokener *tok = json_tokener_new();
  e->root = json_tokener_parse_ex(tok, s, (int)len);
  bool complete = json_tokener_get_error(tok) == json_tokener_success;
  json_tokener_free(tok);
  if (!e->root || !complete) return false;
  json_object *ev = NULL, *bind = NULL, *ver = NULL;
  json_object_object_get_ex(e->root, "evidence", &ev);
  json_object_object_get_ex(e->root, "binding", &bind);
  if (json_object_object_get_ex(e->root, "version", &ver) &&
      json_object_is_type(ver, json_type_int))
    e->version = json_object_get_int(ver);
  const char *type = jstr(e->root, "type");
  e->provider = jstr(e->root, "provider");
  e->format = jstr(ev, "format");
  e->scheme = jstr(bind, "scheme");
  e->rd_hex = jstr(bind, "report-data");
  e->sha_hex = jstr(bind, "module-sha384");
  e->world = jstr(bind, "world");
  e->workload = jstr(bind, "workload");
  const char *data = jstr(ev, "data"), *certs = jstr(e->root, "certificates");
  if (data) e->report = unb64(data, &e->report_len);
  if (certs) e->certs = unb64(certs, &e->certs_len);
  return type && !strcmp(type, "elastic-hal-evidence") && e->provider && e->format && e->scheme &&
         e->rd_hex && e->sha_hex && e->world && e->workload && e->report;
}

static void free_envelope(envelope *e) {
  json_object_put(e->root);
  free(e->report);
  free(e->certs);
}

/* A certificate from the table by GUID (text byte order). */
static X509 *table_cert(const uint8_t *t, size_t len, const char *guid_text) {
  uint8_t g[16];
  char hex[33];
  size_t k = 0;
  for (const char *p = guid_text; *p && k < 32; p++)
    if (*p != '-') hex[k++] = *p;
  hex[k] = 0;
  if (from_hex(hex, g, 16) != 16) return NULL;
  for (size_t off = 0; off + 24 <= len; off += 24) {
    const uint8_t *e = t + off;
    if (all_bytes(e, 24, 0)) break;
    if (memcmp(e, g, 16)) continue;
    uint32_t o = get32(e + 16), l = get32(e + 20);
    if ((uint64_t)o + l > len) return NULL;
    const unsigned char *q = t + o;
    return d2i_X509(NULL, &q, l);
  }
  return NULL;
}

/* ECDSA P-384 over [0, 0x2A0) with R, S little-endian at 0x2A0 / 0x2E8. */
static bool report_sig_ok(const uint8_t *r, X509 *vcek) {
  BIGNUM *R = BN_lebin2bn(r + 0x2A0, 72, NULL), *S = BN_lebin2bn(r + 0x2E8, 72, NULL);
  ECDSA_SIG *sig = ECDSA_SIG_new();
  if (!R || !S || !sig || !ECDSA_SIG_set0(sig, R, S)) {
    BN_free(R);
    BN_free(S);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char *der = NULL;
  int dlen = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  EVP_PKEY *pub = X509_get0_pubkey(vcek);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  bool ok = dlen > 0 && pub && md && EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pub) == 1 &&
            EVP_DigestVerify(md, der, (size_t)dlen, r, EHAL_SNP_SIGNED_LEN) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  return ok;
}

static bool subject_has(X509 *x, const char *s) {
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof buf);
  return strstr(buf, s) != NULL;
}

/* An AMD extension's value (extnValue contents). */
static const ASN1_OCTET_STRING *amd_ext(X509 *x, const char *oid) {
  ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
  int i = o ? X509_get_ext_by_OBJ(x, o, -1) : -1;
  ASN1_OBJECT_free(o);
  if (i < 0) return NULL;
  return X509_EXTENSION_get_data(X509_get_ext(x, i));
}

static int amd_int_ext(X509 *x, const char *oid) {
  const ASN1_OCTET_STRING *v = amd_ext(x, oid);
  if (!v) return -1;
  const unsigned char *p = ASN1_STRING_get0_data(v);
  ASN1_INTEGER *i = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(v));
  long r = i ? ASN1_INTEGER_get(i) : -1;
  ASN1_INTEGER_free(i);
  return (int)r;
}

static int file_mode(const char *dir, const char *name) {
  char p[4400];
  struct stat st;
  snprintf(p, sizeof p, "%s%s%s", dir, name ? "/" : "", name ? name : "");
  if (lstat(p, &st) != 0) return -1;
  return (int)(st.st_mode & 07777);
}

static void check_sim_envelope(const char *label, const char *json, size_t len, const uint8_t *rd,
                               size_t rdlen, const uint8_t sha[48], const char *world,
                               const char *workload) {
  envelope e;
  bool parsed = parse_envelope(json, len, &e);
  if (!TAP_OK(
          parsed && e.version == 1 && !strcmp(e.provider, "simulated") &&
              !strcmp(e.format, "sev-snp-report") && !strcmp(e.scheme, "elastic-hal-binding-v1"),
          "%s: the envelope parses: elastic-hal-evidence v1, simulated, sev-snp-report", label)) {
    tap_diag("%.300s", json);
    free_envelope(&e);
    return;
  }
  char rdhex[2 * EHAL_REPORT_DATA_MAX + 1], shahex[97];
  to_hex(rd, rdlen, rdhex);
  to_hex(sha, 48, shahex);
  TAP_OK(!strcmp(e.rd_hex, rdhex) && !strcmp(e.sha_hex, shahex) && !strcmp(e.world, world) &&
             !strcmp(e.workload, workload),
         "%s: binding inputs: report-data, module-sha384 (lowercase hex), world, workload", label);
  uint8_t want[64];
  ref_binding(rd, rdlen, sha, world, workload, want);
  const uint8_t *r = e.report;
  TAP_OK(e.report_len == EHAL_SNP_REPORT_LEN && !memcmp(r + 0x50, want, 64),
         "%s: REPORT_DATA is the binding, recomputed independently", label);
  uint64_t policy = get64(r + 8);
  TAP_OK(get32(r) == 2 && get32(r + 4) == 0 && (policy & (1ull << 17)) &&
             !(policy & (1ull << 19)) && !(policy & (1ull << 18)) && get32(r + 0x30) == 0 &&
             get32(r + 0x34) == 1,
         "%s: version 2, guest_svn 0, policy (bit 17 set, debug and MA off), vmpl 0, "
         "signature_algo 1",
         label);
  TAP_OK(!memcmp(r + 0x90, sha, 48) && all_bytes(r + 0x10, 32, 0) && all_bytes(r + 0xC0, 32, 0) &&
             all_bytes(r + 0xE0, 96, 0) && all_bytes(r + 0x160, 32, 0xff) &&
             !all_bytes(r + 0x140, 32, 0) && !all_bytes(r + 0x1A0, 64, 0) && get32(r + 0x48) == 0,
         "%s: MEASUREMENT = module SHA-384; family/image/host data/key digests zero; "
         "REPORT_ID set, REPORT_ID_MA all ff; CHIP_ID set; VCEK-signed",
         label);
  uint64_t tcb = get64(r + 0x38);
  TAP_OK(tcb != 0 && get64(r + 0x180) == tcb && get64(r + 0x1E0) == tcb &&
             get64(r + 0x1F0) == tcb && r[0x1EA] >= 1 && r[0x1EE] == r[0x1EA] &&
             all_bytes(r + 0x1F8, 0x2A0 - 0x1F8, 0) && all_bytes(r + 0x330, 0x4A0 - 0x330, 0),
         "%s: current = reported = committed = launch TCB; firmware version; reserved zero", label);
  X509 *vcek =
      e.certs ? table_cert(e.certs, e.certs_len, "63da758d-e664-4564-adc5-f4b93be8accd") : NULL;
  X509 *ask =
      e.certs ? table_cert(e.certs, e.certs_len, "4ab7b379-bbac-4fe4-a02f-05aef327c782") : NULL;
  X509 *ark =
      e.certs ? table_cert(e.certs, e.certs_len, "c0b406a4-a803-4952-9743-3fb6014cd0ae") : NULL;
  TAP_OK(vcek && ask && ark && ehal_snp_cert_table_size(e.certs, e.certs_len) == (long)e.certs_len,
         "%s: the certificate table holds VCEK, ASK and ARK by GUID", label);
  if (vcek && ask && ark) {
    TAP_OK(report_sig_ok(r, vcek), "%s: the report signature verifies with the VCEK", label);
    uint8_t *t = malloc(e.report_len);
    memcpy(t, r, e.report_len);
    t[0x50] ^= 1;
    bool bad1 = !report_sig_ok(t, vcek);
    t[0x50] ^= 1;
    t[0x2A0] ^= 1;
    bool bad2 = !report_sig_ok(t, vcek);
    free(t);
    TAP_OK(bad1 && bad2, "%s: a flipped REPORT_DATA or signature byte does not verify", label);
    TAP_OK(X509_verify(ark, X509_get0_pubkey(ark)) == 1 &&
               X509_verify(ask, X509_get0_pubkey(ark)) == 1 &&
               X509_verify(vcek, X509_get0_pubkey(ask)) == 1,
           "%s: ARK self-signed, ASK signed by ARK, VCEK signed by ASK", label);
    X509_STORE *st = X509_STORE_new();
    X509_STORE_add_cert(st, ark);
    STACK_OF(X509) *mid = sk_X509_new_null();
    sk_X509_push(mid, ask);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, st, vcek, mid);
    int ok = X509_verify_cert(ctx);
    if (!TAP_OK(ok == 1, "%s: the chain ARK -> ASK -> VCEK verifies (X509_verify_cert)", label))
      tap_diag("%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    sk_X509_free(mid);
    X509_STORE_free(st);
    TAP_OK(subject_has(ark, "CN=SIMULATED-ARK") && subject_has(ask, "CN=SIMULATED-ASK") &&
               subject_has(vcek, "CN=SIMULATED-VCEK") && subject_has(vcek, "SIMULATED"),
           "%s: every subject says SIMULATED", label);
    const ASN1_OCTET_STRING *hw = amd_ext(vcek, "1.3.6.1.4.1.3704.1.4");
    TAP_OK(hw && ASN1_STRING_length(hw) == 64 &&
               !memcmp(ASN1_STRING_get0_data(hw), r + 0x1A0, 64) &&
               amd_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.1") == r[0x180] &&
               amd_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.2") == r[0x181] &&
               amd_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.3") == r[0x186] &&
               amd_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.8") == r[0x187],
           "%s: VCEK hwID = CHIP_ID and its SPL extensions = REPORTED_TCB", label);
    int days = 0, secs = 0;
    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(vcek), X509_get0_notAfter(vcek));
    TAP_OK(days >= 3650 && X509_cmp_current_time(X509_get0_notBefore(ark)) <= 0,
           "%s: valid from creation for ten years (%d days)", label, days);
  }
  X509_free(vcek);
  X509_free(ask);
  X509_free(ark);
  free_envelope(&e);
}

static void test_simulated(void) {
  ehal_attest_set_paths(g_none, g_none, g_none);
  char state[4300], dir[4400];
  snprintf(state, sizeof state, "%s/sim-state", g_tmp);
  snprintf(dir, sizeof dir, "%s/attestation", state);
  uint8_t rd[40], sha[48];
  pattern(rd, 40);
  for (int i = 0; i < 48; i++) sha[i] = (uint8_t)(0xa0 + i);
  char *json = NULL, err[512] = "";
  size_t len = 0;
  int rc = ehal_attest(rd, sizeof rd, sha, "elastic-tee-attestation", "my-service", state, &json,
                       &len, err, sizeof err);
  if (!TAP_OK(rc == 0 && json && len == strlen(json), "simulated: ehal_attest gives an envelope"))
    tap_diag("%s", err);
  if (json)
    check_sim_envelope("simulated", json, len, rd, sizeof rd, sha, "elastic-tee-attestation",
                       "my-service");
  free(json);

  char sim[4500];
  snprintf(sim, sizeof sim, "%s/simulated", dir);
  TAP_OK(file_mode(dir, NULL) == 0700 && file_mode(sim, NULL) == 0700,
         "simulated: STATE_DIR/attestation and its chain directory are 0700");
  TAP_OK(file_mode(sim, "ark.key") == 0600 && file_mode(sim, "ask.key") == 0600 &&
             file_mode(sim, "vcek.key") == 0600,
         "simulated: private keys ark.key, ask.key, vcek.key are 0600");

  /* stable across uses */
  uint8_t b[64];
  memset(b, 7, 64);
  ehal_evidence e1, e2;
  int r1 = ehal_sim_report(b, sha, state, &e1, err, sizeof err);
  int r2 = ehal_sim_report(b, sha, state, &e2, err, sizeof err);
  TAP_OK(r1 == 0 && r2 == 0 && e1.certs_len == e2.certs_len &&
             !memcmp(e1.certs, e2.certs, e1.certs_len) &&
             !memcmp(e1.evidence + 0x1A0, e2.evidence + 0x1A0, 64),
         "simulated: later uses keep the chain and CHIP_ID of the state directory");
  ehal_evidence_free(&e1);
  ehal_evidence_free(&e2);

  /* concurrent first use by several processes: one chain for all */
  char race[4300];
  snprintf(race, sizeof race, "%s/race-state", g_tmp);
  char outs[6][4400];
  pid_t pids[6];
  for (int i = 0; i < 6; i++) {
    snprintf(outs[i], sizeof outs[i], "%s/race-%d.bin", g_tmp, i);
    pids[i] = fork();
    if (pids[i] == 0) {
      ehal_evidence ev;
      char e[512];
      int r = ehal_sim_report(b, sha, race, &ev, e, sizeof e);
      int fd = open(outs[i], O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (r == 0 && fd >= 0 && write(fd, ev.certs, ev.certs_len) == (ssize_t)ev.certs_len)
        r = 0;
      else
        r = 1;
      if (fd >= 0) close(fd);
      ehal_evidence_free(&ev);
      _exit(r);
    }
  }
  int fails = 0;
  for (int i = 0; i < 6; i++) {
    int st = 0;
    waitpid(pids[i], &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fails++;
  }
  bool same = fails == 0;
  uint8_t first[8192], other[8192];
  ssize_t n0 = -1;
  for (int i = 0; i < 6 && same; i++) {
    int fd = open(outs[i], O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, i ? other : first, sizeof first) : -1;
    if (fd >= 0) close(fd);
    if (i == 0) n0 = n;
    same = n > 0 && n == n0 && (i == 0 || !memcmp(first, other, (size_t)n));
  }
  char rdir[4400];
  snprintf(rdir, sizeof rdir, "%s/attestation", race);
  TAP_OK(same && count_entries(rdir) == 1,
         "simulated: 6 processes creating the chain at once all use the same one, no leftovers "
         "(%d failed)",
         fails);

  /* no state directory; a damaged chain */
  ehal_evidence ev;
  rc = ehal_sim_report(b, sha, NULL, &ev, err, sizeof err);
  TAP_OK(rc != 0 && strstr(err, "state directory"), "simulated: no state directory: an error");
  char key[4600];
  snprintf(key, sizeof key, "%s/vcek.key", sim);
  unlink(key);
  rc = ehal_sim_report(b, sha, state, &ev, err, sizeof err);
  TAP_OK(rc != 0 && strstr(err, "damaged"), "simulated: a chain missing its VCEK key: an error");

  /* the binding itself */
  uint8_t big[EHAL_REPORT_DATA_MAX + 1], out[64], want[64];
  pattern(big, sizeof big);
  rc = ehal_attest_binding(big, EHAL_REPORT_DATA_MAX, sha, "w", "x", out, err, sizeof err);
  ref_binding(big, EHAL_REPORT_DATA_MAX, sha, "w", "x", want);
  TAP_OK(rc == 0 && !memcmp(out, want, 64), "binding: 1024 bytes of report-data are accepted");
  rc = ehal_attest_binding(big, sizeof big, sha, "w", "x", out, err, sizeof err);
  TAP_OK(rc != 0 && strstr(err, "1024"), "binding: 1025 bytes of report-data are an error");
  rc = ehal_attest_binding(NULL, 0, sha, "", "", out, err, sizeof err);
  ref_binding(NULL, 0, sha, "", "", want);
  TAP_OK(rc == 0 && !memcmp(out, want, 64), "binding: empty report-data, world and workload");
  uint8_t o2[64];
  ehal_attest_binding(rd, 4, sha, "ab", "c", out, err, sizeof err);
  ehal_attest_binding(rd, 4, sha, "a", "bc", o2, err, sizeof err);
  TAP_OK(memcmp(out, o2, 64) != 0, "binding: length prefixes separate world from workload");
  json = NULL;
  rc = ehal_attest(big, sizeof big, sha, "w", "x", state, &json, &len, err, sizeof err);
  TAP_OK(rc != 0 && json == NULL, "ehal_attest: 1025 bytes of report-data: an error");
}

/* ---- a guest through the generated bindings ---- */

static int g_out = -1;

static size_t take_out(char *buf, size_t max) {
  struct stat st;
  fstat(g_out, &st);
  size_t n = (size_t)st.st_size < max - 1 ? (size_t)st.st_size : max - 1;
  ssize_t r = pread(g_out, buf, n, 0);
  buf[r > 0 ? r : 0] = 0;
  if (ftruncate(g_out, 0) != 0) tap_diag("ftruncate failed");
  lseek(g_out, 0, SEEK_SET);
  return r > 0 ? (size_t)r : 0;
}

static elastic_hal_instance *instance(elastic_hal_module *m, const char *world, const char *state) {
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_world_add_to_linker_by_name(l, world);
  elastic_hal_wasi_add_to_linker(l);
  elastic_hal_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.workload = "attest-test";
  cfg.state_dir = state;
  cfg.stdout_fd = g_out;
  elastic_hal_error err;
  elastic_hal_instance *i = elastic_hal_instantiate(m, l, &cfg, &err);
  if (!i) tap_diag("instantiate: %s", err.msg);
  elastic_hal_linker_free(l);
  return i;
}

static int64_t calln(elastic_hal_instance *i, const char *name, const uint64_t *args,
                     size_t nargs) {
  uint64_t r = 0;
  elastic_hal_error err;
  memset(&err, 0, sizeof err);
  if (elastic_hal_call(i, name, args, nargs, &r, 1, &err) != ELASTIC_HAL_EXITED) {
    tap_diag("%s trapped: %s", name, err.msg);
    return -999;
  }
  return (int64_t)r;
}

static int64_t call1(elastic_hal_instance *i, const char *name, uint64_t arg) {
  return calln(i, name, &arg, 1);
}
static int64_t call0(elastic_hal_instance *i, const char *name) { return calln(i, name, NULL, 0); }

/* The world a guest's evidence binds is what its linker holds
 * (docs/evidence.md, "world"), not the last world added to it. */
static void test_guest_identity(elastic_hal_module *m, const char *state, char *out, size_t cap) {
  static const struct {
    int (*add[2])(elastic_hal_linker *);
    const char *label, *world;
  } links[] = {
      {{elastic_hal_add_to_linker, elastic_hal_minimal_add_to_linker},
       "everything, then elastic-tee-minimal",
       "elastic-tee-hal"},
      {{elastic_hal_platform_add_to_linker, NULL},
       "platform alone",
       "interfaces:elastic:platform/platform@0.1.1"},
      {{elastic_hal_random_add_to_linker, elastic_hal_platform_add_to_linker},
       "random, then platform",
       "interfaces:elastic:platform/platform@0.1.1,elastic:random/random@0.1.0"},
  };
  for (size_t k = 0; k < sizeof links / sizeof links[0]; k++) {
    elastic_hal_linker *l = elastic_hal_linker_new();
    for (size_t a = 0; a < 2 && links[k].add[a]; a++) links[k].add[a](l);
    elastic_hal_wasi_add_to_linker(l);
    elastic_hal_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workload = "attest-test";
    cfg.state_dir = state;
    cfg.stdout_fd = g_out;
    elastic_hal_error err;
    elastic_hal_instance *i = elastic_hal_instantiate(m, l, &cfg, &err);
    elastic_hal_linker_free(l);
    if (!TAP_OK(i != NULL, "guest: instantiate with %s + WASI", links[k].label)) {
      tap_diag("instantiate: %s", err.msg);
      continue;
    }
    int64_t r = call1(i, "attest", 4);
    size_t n = take_out(out, cap);
    envelope e;
    memset(&e, 0, sizeof e);
    bool parsed = r == 0 && parse_envelope(out, n, &e);
    if (!TAP_OK(parsed && !strcmp(e.world, links[k].world),
                "guest: linked with %s: the binding's world is %s", links[k].label, links[k].world))
      tap_diag("world: %s", parsed ? e.world : "(no envelope)");
    free_envelope(&e);
    elastic_hal_instance_free(i);
  }
}

static void test_guest(void) {
  ehal_attest_set_paths(g_none, g_none, g_none);
  char cache[4300], state[4300], outp[4300];
  snprintf(cache, sizeof cache, "%s/cache", g_tmp);
  snprintf(state, sizeof state, "%s/guest-state", g_tmp);
  snprintf(outp, sizeof outp, "%s/guest-stdout", g_tmp);
  g_out = open(outp, O_RDWR | O_CREAT | O_TRUNC, 0600);
  elastic_hal_load_options lo = {.cache_dir = cache, .state_dir = state};
  elastic_hal_error err;
  elastic_hal_module *m = elastic_hal_module_load(GUEST, &lo, &err);
  if (!TAP_OK(m != NULL, "guest: load %s", GUEST)) {
    tap_diag("%s", err.msg);
    return;
  }
  uint8_t sha[48];
  ehal_attest_sha384_from_hex(elastic_hal_module_sha384(m), sha);
  elastic_hal_instance *i = instance(m, "elastic-tee-hal", state);
  if (!TAP_OK(i != NULL, "guest: instantiate in elastic-tee-hal + WASI")) {
    elastic_hal_module_free(m);
    return;
  }
  static char out[65536];
  int64_t r = call0(i, "support");
  take_out(out, sizeof out);
  TAP_OK(r == 1 && !strcmp(out, "simulated"),
         "guest: get-platform-info: simulated, attestation-support true");

  uint8_t rd[EHAL_REPORT_DATA_MAX];
  pattern(rd, sizeof rd);
  r = call1(i, "attest", 32);
  size_t n = take_out(out, sizeof out);
  if (TAP_OK(r == 0 && n > 0 && out[0] == '{', "guest: attestation(32 bytes) returns an envelope"))
    check_sim_envelope("guest", out, n, rd, 32, sha, "elastic-tee-hal", "attest-test");
  else
    tap_diag("%.300s", out);
  r = call1(i, "attest", 0);
  n = take_out(out, sizeof out);
  envelope e;
  uint8_t want[64];
  ref_binding(rd, 0, sha, "elastic-tee-hal", "attest-test", want);
  TAP_OK(r == 0 && parse_envelope(out, n, &e) && !strcmp(e.rd_hex, "") &&
             !memcmp(e.report + 0x50, want, 64),
         "guest: attestation(empty report-data) binds the empty string");
  free_envelope(&e);
  r = call1(i, "attest", 1024);
  n = take_out(out, sizeof out);
  ref_binding(rd, 1024, sha, "elastic-tee-hal", "attest-test", want);
  TAP_OK(r == 0 && parse_envelope(out, n, &e) && strlen(e.rd_hex) == 2048 &&
             !memcmp(e.report + 0x50, want, 64),
         "guest: attestation(1024 bytes) is accepted and bound");
  free_envelope(&e);
  r = call1(i, "attest", 1025);
  take_out(out, sizeof out);
  TAP_OK(r == 1 && !strncmp(out, "ERR:", 4) && strstr(out, "1024"),
         "guest: attestation(1025 bytes) is an error result (%s)", out);
  r = call0(i, "attest_reserved");
  take_out(out, sizeof out);
  TAP_OK(r == 1 && strstr(out, "reserved for attested TLS"),
         "guest: attestation of report-data posing as an attested TLS key's is refused (%s)", out);

  /* attestation contexts */
  int64_t h = call1(i, "ctx_create", 16);
  take_out(out, sizeof out);
  TAP_OK(h != 0 && h != -999, "guest: create-attestation-context gives a handle");
  r = call1(i, "ctx_binding", (uint64_t)h);
  n = take_out(out, sizeof out);
  ref_binding(rd, 16, sha, "elastic-tee-hal", "attest-test", want);
  TAP_OK(r == 0 && n == 64 && !memcmp(out, want, 64),
         "guest: the context's binding is the 64 bytes recomputed from its inputs");
  r = call1(i, "ctx_attest", (uint64_t)h);
  n = take_out(out, sizeof out);
  bool p1 = r == 0 && parse_envelope(out, n, &e);
  char rdhex[40];
  to_hex(rd, 16, rdhex);
  TAP_OK(p1 && !strcmp(e.rd_hex, rdhex) && !memcmp(e.report + 0x50, want, 64) &&
             !memcmp(e.report + 0x90, sha, 48),
         "guest: attest-with-context: an envelope for the context's report-data and binding");
  uint8_t sig1[144];
  if (p1) memcpy(sig1, e.report + 0x2A0, 144);
  free_envelope(&e);
  r = call1(i, "ctx_attest", (uint64_t)h);
  n = take_out(out, sizeof out);
  TAP_OK(r == 0 && parse_envelope(out, n, &e) && !memcmp(e.report + 0x50, want, 64) &&
             memcmp(e.report + 0x2A0, sig1, 144) != 0,
         "guest: attest-with-context again: fresh evidence, same binding");
  free_envelope(&e);
  int64_t h2 = call1(i, "ctx_create", 1025);
  take_out(out, sizeof out);
  TAP_OK(h2 == 0 && strstr(out, "1024"), "guest: a context for 1025 bytes is refused");
  r = call1(i, "ctx_attest", (uint64_t)h ^ (1ull << 40));
  take_out(out, sizeof out);
  TAP_OK(r == 1 && strstr(out, "invalid"), "guest: a forged context handle is refused");

  elastic_hal_instance *j = instance(m, "elastic-tee-attestation", state);
  if (j) {
    r = call1(j, "ctx_attest", (uint64_t)h);
    take_out(out, sizeof out);
    TAP_OK(r == 1 && strstr(out, "invalid"),
           "guest: another workload's context handle means nothing there");
    r = call1(j, "attest", 8);
    n = take_out(out, sizeof out);
    TAP_OK(r == 0 && parse_envelope(out, n, &e) && !strcmp(e.world, "elastic-tee-attestation"),
           "guest: linked with elastic-tee-attestation: the world in the binding says so");
    free_envelope(&e);
    call1(j, "ctx_create", 3); /* left for instance_free to release */
    take_out(out, sizeof out);
    elastic_hal_instance_free(j);
  }
  r = call1(i, "ctx_destroy", (uint64_t)h);
  take_out(out, sizeof out);
  TAP_OK(r == 0, "guest: destroy-attestation-context");
  r = call1(i, "ctx_attest", (uint64_t)h);
  take_out(out, sizeof out);
  int64_t r2 = call1(i, "ctx_destroy", (uint64_t)h);
  take_out(out, sizeof out);
  TAP_OK(r == 1 && r2 == 1, "guest: a destroyed context is invalid (attest and destroy refuse)");
  for (int k = 0; k < 3; k++) call1(i, "ctx_create", k);
  take_out(out, sizeof out);

  /* TDX without configfs-tsm: said, and refused */
  ehal_attest_set_paths(g_none, g_none, g_devfile);
  r = call0(i, "support");
  take_out(out, sizeof out);
  TAP_OK(r == 0 && !strcmp(out, "tdx"),
         "guest: TDX without configfs-tsm: get-platform-info says tdx, attestation-support false");
  r = call1(i, "attest", 8);
  take_out(out, sizeof out);
  TAP_OK(r == 1 && strstr(out, "unsupported"),
         "guest: TDX without configfs-tsm: attestation is an error, not a fake quote");
  ehal_attest_set_paths(g_none, g_none, g_none);

  elastic_hal_instance_free(i); /* frees the contexts still open */
  test_guest_identity(m, state, out, sizeof out);
  elastic_hal_module_free(m);
  close(g_out);
}

/* ---- the simulated sealing root (sealing.c fixes made with this work) ---- */

static char g_seal_state[4300];
static uint8_t g_roots[4][EHAL_SEALING_ROOT_LEN];
static int g_root_rc[4];

static void *seal_thread(void *arg) {
  int i = (int)(intptr_t)arg;
  char err[256];
  g_root_rc[i] = ehal_sealing_root(g_seal_state, g_roots[i], err, sizeof err);
  return NULL;
}

static void test_sealing(void) {
  ehal_attest_set_paths(g_none, g_none, g_none);
  snprintf(g_seal_state, sizeof g_seal_state, "%s/seal/a/b/state", g_tmp);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, seal_thread, (void *)(intptr_t)i);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  bool same = true;
  for (int i = 0; i < 4; i++)
    same = same && g_root_rc[i] == 0 && !memcmp(g_roots[i], g_roots[0], EHAL_SEALING_ROOT_LEN);
  char dir[4400];
  snprintf(dir, sizeof dir, "%s/sealing", g_seal_state);
  TAP_OK(same && count_entries(dir) == 1,
         "sealing (simulated): 4 threads creating the root at once under a state directory whose "
         "parents do not exist yet all get the same root, no leftovers");
}

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/ehal-test-attest-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(g_tmp)) {
    TAP_OK(false, "create a temporary directory");
    return tap_done();
  }
  test_tsm();
  test_probe();
  ehal_attest_set_tsm_kernel(NULL, NULL);
  test_probe_empty_tsm();
  test_sev_guest();
  test_simulated();
  test_guest();
  test_sealing();
  ehal_attest_set_paths(NULL, NULL, NULL);
  tap_rm_tree(g_tmp);
  return tap_done();
}
