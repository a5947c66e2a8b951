/*
 * platform.c - elastic:platform: which TEE this is, and its evidence.
 *
 * Detection and evidence live in src/attest/ (attest.h): configfs-tsm's
 * provider (Linux 6.7+), else the guest devices /dev/sev-guest and
 * /dev/tdx_guest.  With none of them the platform is "simulated": a
 * labelled development platform, never a fallback for a TEE that is present
 * but failing.
 *
 * attestation(report-data) returns the evidence envelope of
 * docs/evidence.md: the HAL binds the guest's report-data (at most 1024
 * bytes) to the guest's module SHA-384, its world and its workload name,
 * and hands only that 64-byte binding to the hardware.  Since 0.1.1 an
 * attestation context fixes those inputs once (a handle in the workload's
 * own table) and yields fresh evidence for them on every use.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "../attest/attest.h"
#include "../runtime/instance.h"
#include "ehal_bindings.h"
#include "interfaces.h"

#define EHAL_MAX_ATTEST_CONTEXTS 64u /* live attestation contexts per workload */

const char *elastic_hal_platform_type(void) {
  ehal_attest_platform p;
  ehal_attest_probe(&p);
  return p.platform;
}

/* One version string per evidence source (the platform follows from it). */
static char g_versions[5][320];
static pthread_mutex_t g_version_lock = PTHREAD_MUTEX_INITIALIZER;

const char *ehal_platform_version(void) {
  ehal_attest_platform p;
  ehal_attest_probe(&p);
  int i = (int)p.source;
  if (i < 0 || i > 4) i = 0;
  pthread_mutex_lock(&g_version_lock);
  if (!g_versions[i][0]) {
    static const char *const how[5] = {
        "; attestation unsupported (TDX without configfs-tsm)", "; attestation via configfs-tsm",
        "; attestation via configfs-tsm", "; attestation via /dev/sev-guest",
        "; simulated development platform, no TEE protection"};
    struct utsname u;
    if (uname(&u) != 0) snprintf(u.release, sizeof u.release, "unknown");
    snprintf(g_versions[i], sizeof g_versions[i], "elastic-hal %s; linux %s%s", ELASTIC_HAL_VERSION,
             u.release, how[i]);
  }
  pthread_mutex_unlock(&g_version_lock);
  return g_versions[i];
}

void ehal_impl_platform_get_platform_info(ehal_instance *inst, ehal_platform_platform_info_t *ret) {
  (void)inst;
  ret->platform_type = ehal_str_from(elastic_hal_platform_type());
  ret->version = ehal_str_from(ehal_platform_version());
  ret->attestation_support = ehal_attestation_available();
}

/* The workload's code identity: SHA-384 of its module as loaded. */
static int module_identity(ehal_instance *inst, uint8_t sha[EHAL_MODULE_SHA384_LEN]) {
  const char *hex = inst->module ? elastic_hal_module_sha384(inst->module) : NULL;
  return ehal_attest_sha384_from_hex(hex, sha);
}

/* Copies a malloc'd envelope into the call arena (freeing it). */
static ehal_bytes to_arena(ehal_instance *inst, char *json, size_t len) {
  uint8_t *buf = ehal_arena_alloc(inst, len ? len : 1);
  if (buf) memcpy(buf, json, len);
  free(json);
  if (!buf) return (ehal_bytes){NULL, 0}; /* the call traps */
  return (ehal_bytes){buf, len};
}

void ehal_impl_platform_attestation(ehal_instance *inst, ehal_bytes report_data,
                                    ehal_platform_result_list_u8_string_t *ret) {
  uint8_t sha[EHAL_MODULE_SHA384_LEN];
  if (report_data.len > EHAL_REPORT_DATA_MAX)
    EHAL_FAIL(ret, "report-data is %zu bytes; at most %d are allowed", report_data.len,
              EHAL_REPORT_DATA_MAX);
  if (module_identity(inst, sha) != 0) EHAL_FAIL(ret, "the workload's module identity is unknown");
  char err[512], *json = NULL;
  size_t len = 0;
  if (ehal_attest(report_data.ptr, report_data.len, sha, inst->world, inst->workload,
                  inst->state_dir, &json, &len, err, sizeof err) != 0)
    EHAL_FAIL(ret, "%s", err);
  ret->val = to_arena(inst, json, len);
  ehal_emit_event(inst, EHAL_EVENTS_EVENT_TYPE_PLATFORM, "attestation-produced", NULL, NULL);
}

/* ---- attestation contexts (0.1.1) ---- */

struct ehal_attest_state {
  ehal_handle_table contexts;
};

typedef struct {
  uint8_t *report_data; /* the guest's, copied */
  size_t report_data_len;
  uint8_t module_sha384[EHAL_MODULE_SHA384_LEN];
  uint8_t binding[EHAL_BINDING_LEN];
} attest_ctx;

static void ctx_destroy(void *obj) {
  attest_ctx *c = obj;
  free(c->report_data);
  free(c);
}

/* The per-instance state hooks (interfaces.h): made on first use. */
void *ehal_state_create_platform(ehal_instance *inst) {
  (void)inst;
  struct ehal_attest_state *s = calloc(1, sizeof *s);
  if (s) ehal_handles_init(&s->contexts, EHAL_MAX_ATTEST_CONTEXTS, ctx_destroy);
  return s;
}

void ehal_state_destroy_platform(ehal_instance *inst, void *state) {
  (void)inst;
  struct ehal_attest_state *s = state;
  ehal_handles_free(&s->contexts);
  free(s);
}

/* The state if the workload has made an attestation context yet, else NULL. */
static struct ehal_attest_state *state_if_any(ehal_instance *inst) {
  return ehal_iface_state_peek(inst, EHAL_IFACE_ID_PLATFORM);
}

static attest_ctx *get_ctx(ehal_instance *inst, uint64_t h) {
  struct ehal_attest_state *s = state_if_any(inst);
  return s ? ehal_handle_get(&s->contexts, h) : NULL;
}

void ehal_impl_platform_create_attestation_context(
    ehal_instance *inst, ehal_bytes report_data,
    ehal_platform_result_attestation_context_handle_string_t *ret) {
  if (report_data.len > EHAL_REPORT_DATA_MAX)
    EHAL_FAIL(ret, "report-data is %zu bytes; at most %d are allowed", report_data.len,
              EHAL_REPORT_DATA_MAX);
  struct ehal_attest_state *s = ehal_iface_state(inst, EHAL_IFACE_ID_PLATFORM);
  if (!s) EHAL_FAIL(ret, "out of memory");
  attest_ctx *c = calloc(1, sizeof *c);
  if (!c) EHAL_FAIL(ret, "out of memory");
  char err[512];
  c->report_data = malloc(report_data.len ? report_data.len : 1);
  if (!c->report_data) {
    free(c);
    EHAL_FAIL(ret, "out of memory");
  }
  if (report_data.len) memcpy(c->report_data, report_data.ptr, report_data.len);
  c->report_data_len = report_data.len;
  if (module_identity(inst, c->module_sha384) != 0) {
    ctx_destroy(c);
    EHAL_FAIL(ret, "the workload's module identity is unknown");
  }
  if (ehal_attest_binding(c->report_data, c->report_data_len, c->module_sha384, inst->world,
                          inst->workload, c->binding, err, sizeof err) != 0) {
    ctx_destroy(c);
    EHAL_FAIL(ret, "%s", err);
  }
  ret->val = ehal_handle_new(&s->contexts, c);
  if (!ret->val) {
    ctx_destroy(c);
    EHAL_FAIL(ret, "too many attestation contexts (at most %u per workload)",
              EHAL_MAX_ATTEST_CONTEXTS);
  }
}

void ehal_impl_platform_attest_with_context(ehal_instance *inst, uint64_t ctx,
                                            ehal_platform_result_list_u8_string_t *ret) {
  attest_ctx *c = get_ctx(inst, ctx);
  if (!c) EHAL_FAIL(ret, "invalid attestation context handle");
  char err[512], *json = NULL;
  size_t len = 0;
  ehal_evidence ev;
  if (ehal_attest_evidence(c->binding, c->module_sha384, inst->state_dir, &ev, err, sizeof err) !=
      0)
    EHAL_FAIL(ret, "%s", err);
  int rc = ehal_attest_envelope_json(&ev, c->report_data, c->report_data_len, c->module_sha384,
                                     inst->world, inst->workload, &json, &len, err, sizeof err);
  ehal_evidence_free(&ev);
  if (rc != 0) EHAL_FAIL(ret, "%s", err);
  ret->val = to_arena(inst, json, len);
  ehal_emit_event(inst, EHAL_EVENTS_EVENT_TYPE_PLATFORM, "attestation-produced", NULL, NULL);
}

void ehal_impl_platform_get_attestation_context_binding(
    ehal_instance *inst, uint64_t ctx, ehal_platform_result_list_u8_string_t *ret) {
  attest_ctx *c = get_ctx(inst, ctx);
  if (!c) EHAL_FAIL(ret, "invalid attestation context handle");
  uint8_t *b = ehal_arena_alloc(inst, EHAL_BINDING_LEN);
  EHAL_NEED(b);
  memcpy(b, c->binding, EHAL_BINDING_LEN);
  ret->val = (ehal_bytes){b, EHAL_BINDING_LEN};
}

void ehal_impl_platform_destroy_attestation_context(ehal_instance *inst, uint64_t ctx,
                                                    ehal_platform_result_void_string_t *ret) {
  struct ehal_attest_state *s = state_if_any(inst);
  attest_ctx *c = s ? ehal_handle_take(&s->contexts, ctx) : NULL;
  if (!c) EHAL_FAIL(ret, "invalid attestation context handle");
  ctx_destroy(c);
}
