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
#include "../gpu/vulkan.h"
#include "../runtime/linker.h"
#include "../wasi/wasi.h"
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
  size_t len; /* of name */
  char version[16];
  const ehal_iface_def *iface; /* NULL for platform and WASI rows */
  const ehal_func_def *func;   /* NULL for an interface row */
  /* what the platform must offer too: evidence functions (attestation, the
   * 0.1.1 contexts) need evidence, seal and unseal a sealing root */
  bool needs_evidence, needs_sealing;
  /* a feature row of an interface (sockets.tcp): supported with it, or
   * not in this build at all */
  bool feature, feature_built;
} cap_row;

/* Features within an interface that its functions do not name: the
 * protocols of sockets (keep in step with sockets.c); GPU compute on Vulkan
 * with SPIR-V shaders, and gpu.adapter: whether this node has an adapter
 * (a Vulkan driver with a compute queue) at all. */
static const struct {
  const char *iface, *name;
  bool built;
} features[] = {
    {"sockets", "sockets.tcp", true},
    {"sockets", "sockets.udp", true},
    {"sockets", "sockets.tls", true},
    {"sockets", "sockets.dtls", true},
    {"sockets", "sockets.attested-tls", true},
    {"gpu", "gpu.vulkan", true},
    {"gpu", "gpu.spirv", true},
    {"gpu", "gpu.adapter", true},
    /* what resources can grant: memory, storage and network (a bandwidth
     * budget, where the workload's network is metered); no CPU control yet
     * (requests for it are refused) */
    {"resources", "resources.memory", true},
    {"resources", "resources.storage", true},
    {"resources", "resources.cpu", false},
    {"resources", "resources.network", true},
};

static cap_row g_rows[512];
static size_t g_nrows;
/* has-capability's lookup: an open-addressing table of row index + 1 (0:
 * empty slot), hashed on the length and the first and last 8 bytes of the
 * name (a guest may ask in a loop: no scan over the rows) */
#define SLOTS 1024u
static uint16_t g_slots[SLOTS];

static size_t name_hash(const char *p, size_t n) {
  uint64_t a = 0, b = 0;
  memcpy(&a, p, n < 8 ? n : 8);
  if (n > 8) memcpy(&b, p + n - 8, 8);
  uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull) ^ n) * 0xBF58476D1CE4E5B9ull;
  return (size_t)(h ^ (h >> 29)) & (SLOTS - 1);
}
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
  for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
    for (const ehal_iface_def *const *c = ehal_catalog; *c; c++)
      if (!strcmp((*c)->name, features[i].iface)) {
        cap_row *r = &g_rows[g_nrows++];
        snprintf(r->name, sizeof r->name, "%s", features[i].name);
        snprintf(r->version, sizeof r->version, "%u.%u.%u", (*c)->major, (*c)->minor, (*c)->patch);
        r->iface = *c;
        r->feature = true;
        r->feature_built = features[i].built;
      }
  for (int p = 0; p < 3; p++) {
    cap_row *r = &g_rows[g_nrows++];
    snprintf(r->name, sizeof r->name, "platform.%s", platforms[p]);
    snprintf(r->version, sizeof r->version, "%s", ELASTIC_HAL_VERSION);
  }
  cap_row *w = &g_rows[g_nrows++];
  snprintf(w->name, sizeof w->name, "wasi-preview1");
  snprintf(w->version, sizeof w->version, "0.1.0");
  /* files: true where this instance has sealed directories (run --dir) */
  w = &g_rows[g_nrows++];
  snprintf(w->name, sizeof w->name, "wasi-preview1.sealed-directories");
  snprintf(w->version, sizeof w->version, "0.1.0");
  /* true where the operator mapped plain host directories in (--dir-host):
   * files the host reads and changes, labelled so */
  w = &g_rows[g_nrows++];
  snprintf(w->name, sizeof w->name, "wasi-preview1.host-directories-unprotected");
  snprintf(w->version, sizeof w->version, "0.1.0");
  for (size_t i = 0; i < g_nrows; i++) {
    cap_row *r = &g_rows[i];
    r->len = strlen(r->name);
    r->needs_evidence =
        r->func && !strcmp(r->iface->name, "platform") && strstr(r->func->name, "attest") != NULL;
    r->needs_sealing = r->func && !strcmp(r->iface->name, "crypto") &&
                       (!strcmp(r->func->name, "seal") || !strcmp(r->func->name, "unseal"));
    size_t k = name_hash(r->name, r->len);
    while (g_slots[k]) k = (k + 1) & (SLOTS - 1);
    g_slots[k] = (uint16_t)(i + 1);
  }
}

static bool gpu_adapter_present(void) {
  const ehal_gpu_adapter *a;
  size_t n = 0;
  char why[256];
  return ehal_gpu_adapters(&a, &n, why, sizeof why) == 0 && n > 0;
}

static bool row_supported(const ehal_instance *inst, size_t i) {
  const cap_row *r = &g_rows[i];
  if (r->iface) {
    if (!linked(inst, r->iface)) return false;
    /* evidence only where this platform can produce it (not on TDX without
     * configfs-tsm); sealing only with a platform sealing root (none on TDX
     * without a key provider) */
    if (r->needs_evidence && !ehal_attestation_available()) return false;
    if (r->needs_sealing && !ehal_sealing_supported()) return false;
    if (r->feature && !strcmp(r->name, "gpu.adapter") && !gpu_adapter_present()) return false;
    if (r->feature) return r->feature_built && ehal_iface_implemented(r->iface);
    return r->func ? r->func->fn != NULL : ehal_iface_implemented(r->iface);
  }
  if (strncmp(r->name, "platform.", 9) == 0)
    return strcmp(r->name + 9, elastic_hal_platform_type()) == 0;
  /* wasi-preview1, and its sealed directories */
  if (!inst) return true;
  if (!strcmp(r->name, "wasi-preview1.sealed-directories") && !ehal_wasi_fs_has(inst, false))
    return false;
  if (!strcmp(r->name, "wasi-preview1.host-directories-unprotected") &&
      !ehal_wasi_fs_has(inst, true))
    return false;
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
  if (feature_name.len >= sizeof g_rows[0].name) return; /* longer than any name */
  for (size_t k = name_hash(feature_name.ptr, feature_name.len); g_slots[k];
       k = (k + 1) & (SLOTS - 1)) {
    const cap_row *r = &g_rows[g_slots[k] - 1];
    if (r->len == feature_name.len && !memcmp(r->name, feature_name.ptr, r->len)) {
      *ret = row_supported(inst, (size_t)(g_slots[k] - 1));
      return;
    }
  }
}
