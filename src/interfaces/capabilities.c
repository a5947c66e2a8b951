/*
 * capabilities.c - elastic:capabilities: what this HAL really offers.
 *
 * The list is derived, not written by hand: one row per interface of the
 * catalog and one per function ("<interface>.<function>"), supported only
 * when the function is implemented and linked into this workload's world;
 * plus the platform rows and WASI.  has-capability accepts exactly the
 * listed names.
 */
#include <stdio.h>
#include <string.h>

#include "../runtime/linker.h"
#include "ehal_bindings.h"
#include "interfaces.h"

static bool linked(const ehal_instance *inst, const ehal_iface_def *d) {
  if (!inst) return true; /* no instance: report what this build implements */
  for (size_t i = 0; i < inst->n_linked; i++)
    if (inst->linked[i] == d) return true;
  return false;
}

size_t ehal_capabilities(const ehal_instance *inst, ehal_capability *out, size_t max,
                         char *verbuf, size_t verbuf_len) {
  size_t n = 0, vk = 0;
  static char names[1024][80];
  static const char *platforms[] = {"sev-snp", "tdx", "simulated"};
  const char *plat = elastic_hal_platform_type();
  size_t ni = 0;
  for (const ehal_iface_def *const *c = ehal_catalog; *c; c++) {
    const ehal_iface_def *d = *c;
    const char *ver = verbuf + vk;
    vk += (size_t)snprintf(verbuf + vk, verbuf_len - vk, "%u.%u.%u", d->major, d->minor, d->patch) + 1;
    if (vk >= verbuf_len) break;
    bool is_linked = linked(inst, d);
    if (n < max) out[n++] = (ehal_capability){d->name, is_linked && ehal_iface_implemented(d), ver};
    for (size_t f = 0; f < d->nfuncs && n < max && ni < 1024; f++, ni++) {
      snprintf(names[ni], sizeof names[ni], "%s.%s", d->name, d->funcs[f].name);
      out[n++] = (ehal_capability){names[ni], is_linked && d->funcs[f].fn != NULL, ver};
    }
  }
  for (int p = 0; p < 3 && n < max; p++) {
    static char pn[3][32];
    snprintf(pn[p], sizeof pn[p], "platform.%s", platforms[p]);
    out[n++] = (ehal_capability){pn[p], strcmp(plat, platforms[p]) == 0, ELASTIC_HAL_VERSION};
  }
  if (n < max) {
    bool wasi = !inst;
    for (size_t i = 0; inst && i < inst->n_linked; i++)
      if (inst->linked[i] == &ehal_iface_wasi_preview1) wasi = true;
    out[n++] = (ehal_capability){"wasi-preview1", wasi, "0.1.0"};
  }
  return n;
}

#define MAX_CAPS 256

void ehal_impl_capabilities_list_capabilities(ehal_instance *inst,
                                              ehal_capabilities_list_capability_info_t *ret) {
  ehal_capability caps[MAX_CAPS];
  char vers[1024];
  size_t n = ehal_capabilities(inst, caps, MAX_CAPS, vers, sizeof vers);
  ehal_capabilities_capability_info_t *items = ehal_stage(inst, n, sizeof *items);
  for (size_t i = 0; i < n; i++) {
    items[i].feature_name = ehal_str_fmt(inst, "%s", caps[i].name);
    items[i].supported = caps[i].supported;
    items[i].version = ehal_str_fmt(inst, "%s", caps[i].version);
  }
  ret->ptr = items;
  ret->len = n;
}

void ehal_impl_capabilities_has_capability(ehal_instance *inst, ehal_str feature_name, bool *ret) {
  ehal_capability caps[MAX_CAPS];
  char vers[1024];
  size_t n = ehal_capabilities(inst, caps, MAX_CAPS, vers, sizeof vers);
  *ret = false;
  for (size_t i = 0; i < n; i++)
    if (strlen(caps[i].name) == feature_name.len &&
        memcmp(caps[i].name, feature_name.ptr, feature_name.len) == 0)
      *ret = caps[i].supported;
}
