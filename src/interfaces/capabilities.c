/*
 * capabilities.c - elastic:capabilities: what this HAL really offers.
 *
 * The list is derived, not written by hand: one row per interface of the
 * catalog and one per function ("<interface>.<function>"), supported only
 * when the function is implemented and linked into this workload's world;
 * plus the platform rows and WASI.  has-capability accepts exactly the
 * listed names.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../attest/attest.h"
#include "../attest/sealing.h"
#include "../runtime/linker.h"
#include "ehal_bindings.h"
#include "interfaces.h"

static bool linked(const ehal_instance *inst, const ehal_iface_def *d) {
  if (!inst) return true; /* no instance: report what this build implements */
  for (size_t i = 0; i < inst->n_linked; i++)
    if (inst->linked[i] == d) return true;
  return false;
}

/* The rows' names and versions depend only on the catalog: built once. */
typedef struct {
  char name[80];
  char version[16];
  const ehal_iface_def *iface; /* NULL for platform and WASI rows */
  const ehal_func_def *func;   /* NULL for an interface row */
} cap_row;

static cap_row g_rows[512];
static size_t g_nrows;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const char *const platforms[] = {"sev-snp", "tdx", "simulated"};

static void build_rows(void) {
  for (const ehal_iface_def *const *c = ehal_catalog; *c; c++) {
    const ehal_iface_def *d = *c;
    for (size_t f = 0; f <= d->nfuncs && g_nrows < 500; f++) {
      cap_row *r = &g_rows[g_nrows++];
      r->iface = d;
      r->func = f ? &d->funcs[f - 1] : NULL;
      if (f)
        snprintf(r->name, sizeof r->name, "%s.%s", d->name, d->funcs[f - 1].name);
      else
        snprintf(r->name, sizeof r->name, "%s", d->name);
      snprintf(r->version, sizeof r->version, "%u.%u.%u", d->major, d->minor, d->patch);
    }
  }
  for (int p = 0; p < 3; p++) {
    cap_row *r = &g_rows[g_nrows++];
    snprintf(r->name, sizeof r->name, "platform.%s", platforms[p]);
    snprintf(r->version, sizeof r->version, "%s", ELASTIC_HAL_VERSION);
  }
  cap_row *w = &g_rows[g_nrows++];
  snprintf(w->name, sizeof w->name, "wasi-preview1");
  snprintf(w->version, sizeof w->version, "0.1.0");
}

static bool row_supported(const ehal_instance *inst, size_t i) {
  const cap_row *r = &g_rows[i];
  if (r->iface) {
    if (!linked(inst, r->iface)) return false;
    /* evidence functions (attestation, the 0.1.1 contexts) only where this
     * platform can produce evidence: not on TDX without configfs-tsm */
    if (r->func && !strcmp(r->iface->name, "platform") && strstr(r->func->name, "attest") &&
        !ehal_attestation_available())
      return false;
    /* sealing needs a platform sealing root (none on TDX without a key provider) */
    if (r->func && !strcmp(r->iface->name, "crypto") &&
        (!strcmp(r->func->name, "seal") || !strcmp(r->func->name, "unseal")) &&
        !ehal_sealing_supported())
      return false;
    return r->func ? r->func->fn != NULL : ehal_iface_implemented(r->iface);
  }
  if (strncmp(r->name, "platform.", 9) == 0)
    return strcmp(r->name + 9, elastic_hal_platform_type()) == 0;
  /* wasi-preview1 */
  if (!inst) return true;
  for (size_t k = 0; k < inst->n_linked; k++)
    if (inst->linked[k] == &ehal_iface_wasi_preview1) return true;
  return false;
}

size_t ehal_capabilities(const ehal_instance *inst, ehal_capability *out, size_t max) {
  pthread_once(&g_once, build_rows);
  size_t n = 0;
  for (size_t i = 0; i < g_nrows && n < max; i++)
    out[n++] = (ehal_capability){g_rows[i].name, row_supported(inst, i), g_rows[i].version};
  return n;
}

#define MAX_CAPS 512

void ehal_impl_capabilities_list_capabilities(ehal_instance *inst,
                                              ehal_capabilities_list_capability_info_t *ret) {
  ehal_capability caps[MAX_CAPS];
  size_t n = ehal_capabilities(inst, caps, MAX_CAPS);
  ehal_capabilities_capability_info_t *items = ehal_stage(inst, n, sizeof *items);
  EHAL_NEED(items);
  for (size_t i = 0; i < n; i++) {
    items[i].feature_name = ehal_str_from(caps[i].name);
    items[i].supported = caps[i].supported;
    items[i].version = ehal_str_from(caps[i].version);
  }
  ret->ptr = items;
  ret->len = n;
}

void ehal_impl_capabilities_has_capability(ehal_instance *inst, ehal_str feature_name, bool *ret) {
  pthread_once(&g_once, build_rows);
  *ret = false;
  for (size_t i = 0; i < g_nrows; i++)
    if (strlen(g_rows[i].name) == feature_name.len &&
        memcmp(g_rows[i].name, feature_name.ptr, feature_name.len) == 0) {
      *ret = row_supported(inst, i);
      return;
    }
}
