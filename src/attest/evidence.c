/*
 * evidence.c - which provider gives evidence here, and asking it (see
 * attest.h).  The probe reads the kernel's interfaces and nothing else:
 *
 *   configfs-tsm root present and its provider is sev_guest / tdx_guest
 *                                    -> sev-snp / tdx through configfs-tsm
 *   /dev/sev-guest                   -> sev-snp through the ioctls
 *   /dev/tdx_guest                   -> tdx, attestation unsupported (only a
 *                                       local TDREPORT; never a fake quote)
 *   none of them                     -> simulated
 *   configfs-tsm present but unusable -> "unknown": no evidence, and never
 *                                       the simulated platform
 *
 * A configfs-tsm root without a provider (ENXIO: the TSM core is built in
 * but this is no confidential VM) counts as absent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest.h"
#include "sealing.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static char *g_tsm_root, *g_sev_dev, *g_tdx_dev;
static bool g_force_sim;
static bool g_probed;
static ehal_attest_platform g_probe;

static const char *tsm_root(void) { return g_tsm_root ? g_tsm_root : EHAL_TSM_REPORT_ROOT; }
static const char *sev_dev(void) { return g_sev_dev ? g_sev_dev : EHAL_SEV_GUEST_DEVICE; }
static const char *tdx_dev(void) { return g_tdx_dev ? g_tdx_dev : EHAL_TDX_GUEST_DEVICE; }

static void set_path(char **slot, const char *v) {
  free(*slot);
  *slot = v ? strdup(v) : NULL;
}

void ehal_attest_set_paths(const char *tsm, const char *sev, const char *tdx) {
  pthread_mutex_lock(&g_lock);
  set_path(&g_tsm_root, tsm);
  set_path(&g_sev_dev, sev);
  set_path(&g_tdx_dev, tdx);
  /* sealing asks the same SNP device for its key (the string stays alive
   * until the next call here) */
  ehal_sealing_set_sev_device(sev_dev());
  g_probed = false;
  pthread_mutex_unlock(&g_lock);
}

void ehal_attest_force_simulated(bool on) {
  pthread_mutex_lock(&g_lock);
  g_force_sim = on;
  g_probed = false;
  pthread_mutex_unlock(&g_lock);
}

static bool is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *p) { return access(p, F_OK) == 0; }

static void probe_locked(ehal_attest_platform *p) {
  memset(p, 0, sizeof *p);
  if (g_force_sim) {
    p->platform = "simulated";
    p->source = EHAL_SOURCE_SIMULATED;
    return;
  }
  int tsm_err = 0;
  if (is_dir(tsm_root())) {
    char prov[64] = "";
    int rc = ehal_tsm_probe_provider(tsm_root(), prov, sizeof prov);
    if (rc == 0 && !strcmp(prov, "sev_guest")) {
      p->platform = "sev-snp";
      p->source = EHAL_SOURCE_TSM_SNP;
      return;
    }
    if (rc == 0 && !strcmp(prov, "tdx_guest")) {
      p->platform = "tdx";
      p->source = EHAL_SOURCE_TSM_TDX;
      return;
    }
    tsm_err = rc == 0 ? EPROTONOSUPPORT : -rc;
  }
  if (exists(sev_dev())) {
    p->platform = "sev-snp";
    p->source = EHAL_SOURCE_SEV_GUEST;
    return;
  }
  if (exists(tdx_dev())) {
    p->platform = "tdx";
    p->source = EHAL_SOURCE_NONE;
    if (tsm_err && tsm_err != ENXIO)
      snprintf(p->why, sizeof p->why,
               "attestation is unsupported on this TDX guest: configfs-tsm at %s is unusable "
               "(%s), and %s yields only a local TDREPORT, not a quote",
               tsm_root(), strerror(tsm_err), tdx_dev());
    else
      snprintf(p->why, sizeof p->why,
               "attestation is unsupported on this TDX guest: quotes need configfs-tsm (Linux "
               "6.7+, %s), and %s yields only a local TDREPORT",
               tsm_root(), tdx_dev());
    return;
  }
  if (tsm_err && tsm_err != ENXIO) {
    /* configfs-tsm is there but unusable (no access, an unknown provider):
     * this may well be a confidential VM, so never pretend to be simulated */
    p->platform = "unknown";
    p->source = EHAL_SOURCE_NONE;
    snprintf(p->why, sizeof p->why,
             "configfs-tsm at %s is present but unusable (%s): refusing to fall back to the "
             "simulated platform",
             tsm_root(), tsm_err == EPROTONOSUPPORT ? "unknown provider" : strerror(tsm_err));
    return;
  }
  p->platform = "simulated";
  p->source = EHAL_SOURCE_SIMULATED;
}

void ehal_attest_probe(ehal_attest_platform *out) {
  pthread_mutex_lock(&g_lock);
  if (!g_probed) {
    probe_locked(&g_probe);
    g_probed = true;
  }
  *out = g_probe;
  pthread_mutex_unlock(&g_lock);
}

bool ehal_attestation_available(void) {
  ehal_attest_platform p;
  ehal_attest_probe(&p);
  return p.source != EHAL_SOURCE_NONE;
}

void ehal_evidence_free(ehal_evidence *ev) {
  if (!ev) return;
  free(ev->evidence);
  free(ev->certs);
  memset(ev, 0, sizeof *ev);
}

int ehal_attest_evidence(const uint8_t binding[EHAL_BINDING_LEN],
                         const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *state_dir,
                         ehal_evidence *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  ehal_attest_platform p;
  ehal_attest_probe(&p);
  /* paths are read under the lock: copy what the provider needs */
  char path[4096];
  pthread_mutex_lock(&g_lock);
  snprintf(path, sizeof path, "%s", p.source == EHAL_SOURCE_SEV_GUEST ? sev_dev() : tsm_root());
  pthread_mutex_unlock(&g_lock);
  switch (p.source) {
    case EHAL_SOURCE_TSM_SNP:
      return ehal_tsm_request(path, binding, EHAL_BINDING_LEN, "sev_guest", out, err, errlen);
    case EHAL_SOURCE_TSM_TDX:
      return ehal_tsm_request(path, binding, EHAL_BINDING_LEN, "tdx_guest", out, err, errlen);
    case EHAL_SOURCE_SEV_GUEST: return ehal_sev_guest_report(path, binding, out, err, errlen);
    case EHAL_SOURCE_SIMULATED:
      return ehal_sim_report(binding, module_sha384, state_dir, out, err, errlen);
    case EHAL_SOURCE_NONE:
    default:
      snprintf(err, errlen, "%s", p.why[0] ? p.why : "attestation is unsupported here");
      return -1;
  }
}

/* Evidence and envelope for a binding already computed. */
static int attest_bound(const uint8_t binding[EHAL_BINDING_LEN], const uint8_t *report_data,
                        size_t report_data_len, const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN],
                        const char *world, const char *workload, const char *state_dir, char **json,
                        size_t *len, char *err, size_t errlen) {
  ehal_evidence ev;
  if (ehal_attest_evidence(binding, module_sha384, state_dir, &ev, err, errlen) != 0) return -1;
  int rc = ehal_attest_envelope_json(&ev, report_data, report_data_len, module_sha384, world,
                                     workload, json, len, err, errlen);
  ehal_evidence_free(&ev);
  return rc;
}

int ehal_attest(const uint8_t *report_data, size_t report_data_len,
                const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *world,
                const char *workload, const char *state_dir, char **json, size_t *len, char *err,
                size_t errlen) {
  *json = NULL;
  *len = 0;
  uint8_t binding[EHAL_BINDING_LEN];
  if (ehal_attest_binding(report_data, report_data_len, module_sha384, world, workload, binding,
                          err, errlen) != 0)
    return -1;
  return attest_bound(binding, report_data, report_data_len, module_sha384, world, workload,
                      state_dir, json, len, err, errlen);
}

int ehal_attest_tls_key(const uint8_t spki_sha256[32],
                        const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *world,
                        const char *workload, const char *state_dir, char **json, size_t *len,
                        char *err, size_t errlen) {
  *json = NULL;
  *len = 0;
  uint8_t rd[sizeof EHAL_RATLS_REPORT_DATA_PREFIX - 1 + 32], binding[EHAL_BINDING_LEN];
  memcpy(rd, EHAL_RATLS_REPORT_DATA_PREFIX, sizeof EHAL_RATLS_REPORT_DATA_PREFIX - 1);
  memcpy(rd + sizeof EHAL_RATLS_REPORT_DATA_PREFIX - 1, spki_sha256, 32);
  if (ehal_attest_binding_any(rd, sizeof rd, module_sha384, world, workload, binding, err,
                              errlen) != 0)
    return -1;
  return attest_bound(binding, rd, sizeof rd, module_sha384, world, workload, state_dir, json, len,
                      err, errlen);
}
