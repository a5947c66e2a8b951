/*
 * api.c - the verifier's public API (include/elastic-hal/elastic_hal_verify.h):
 * opaque options that own copies of what they are given, and results that
 * own the internal result (verify.h) and its JSON.  The only functions
 * libelastic-hal-verify exports.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "elastic-hal/elastic_hal_verify.h"
#include "verify_internal.h"

#define EXPECT_REPORT_DATA_MAX 1024 /* an envelope's binding.report-data */

struct elastic_hal_verify_options {
  ehal_verify_opts o; /* its pointers point at the copies below */
  char *vcek_path, *product, *collateral_dir, *world, *workload;
  uint8_t *vcek, *report_data;
};

struct elastic_hal_verify_result {
  ehal_verify_result r;
  char *json; /* r.json as text */
};

const char *elastic_hal_verify_version(int *number) {
  if (number) *number = ELASTIC_HAL_VERIFY_VERSION_NUMBER;
  return ELASTIC_HAL_VERIFY_VERSION;
}

elastic_hal_verify_options *elastic_hal_verify_options_new(void) {
  elastic_hal_verify_options *opts = calloc(1, sizeof *opts);
  if (opts) ehal_verify_opts_init(&opts->o);
  return opts;
}

void elastic_hal_verify_options_free(elastic_hal_verify_options *opts) {
  if (!opts) return;
  free(opts->vcek_path);
  free(opts->product);
  free(opts->collateral_dir);
  free(opts->world);
  free(opts->workload);
  free(opts->vcek);
  free(opts->report_data);
  free(opts);
}

/* Replaces *slot with a copy of s (NULL clears); -1 when out of memory. */
static int set_str(char **slot, const char *s) {
  char *copy = NULL;
  if (s && !(copy = strdup(s))) return -1;
  free(*slot);
  *slot = copy;
  return 0;
}

/* Replaces *slot with a copy of b[0..n) (NULL clears); -1 when out of
 * memory.  A copy of no bytes is still a (one-byte) allocation. */
static int set_bytes(uint8_t **slot, const uint8_t *b, size_t n) {
  uint8_t *copy = NULL;
  if (b) {
    if (!(copy = malloc(n ? n : 1))) return -1;
    memcpy(copy, b, n);
  }
  free(*slot);
  *slot = copy;
  return 0;
}

int elastic_hal_verify_options_set_flags(elastic_hal_verify_options *opts, unsigned flags) {
  const unsigned known = ELASTIC_HAL_VERIFY_ALLOW_DEBUG | ELASTIC_HAL_VERIFY_ALLOW_SIMULATED |
                         ELASTIC_HAL_VERIFY_ALLOW_TRAILING;
  if (!opts || (flags & ~known)) return -1;
  opts->o.allow_debug = flags & ELASTIC_HAL_VERIFY_ALLOW_DEBUG;
  opts->o.allow_simulated = flags & ELASTIC_HAL_VERIFY_ALLOW_SIMULATED;
  opts->o.allow_trailing = flags & ELASTIC_HAL_VERIFY_ALLOW_TRAILING;
  return 0;
}

int elastic_hal_verify_options_set_now(elastic_hal_verify_options *opts, int64_t unix_seconds) {
  if (!opts || unix_seconds < 0 || (int64_t)(time_t)unix_seconds != unix_seconds) return -1;
  opts->o.now = (time_t)unix_seconds;
  return 0;
}

int elastic_hal_verify_parse_time(const char *s, int64_t *unix_seconds) {
  time_t t;
  if (!s || !unix_seconds || ehal_parse_rfc3339(s, &t) != 0) return -1;
  *unix_seconds = (int64_t)t;
  return 0;
}

int elastic_hal_verify_options_set_vcek(elastic_hal_verify_options *opts, const uint8_t *cert,
                                        size_t len) {
  if (!opts || (cert && len == 0) || set_bytes(&opts->vcek, cert, len) != 0) return -1;
  opts->o.vcek = opts->vcek;
  opts->o.vcek_len = cert ? len : 0;
  return 0;
}

int elastic_hal_verify_options_set_vcek_file(elastic_hal_verify_options *opts, const char *path) {
  if (!opts || (path && !*path) || set_str(&opts->vcek_path, path) != 0) return -1;
  opts->o.vcek_path = opts->vcek_path;
  return 0;
}

int elastic_hal_verify_options_set_product(elastic_hal_verify_options *opts, const char *product) {
  if (!opts || (product && strcmp(product, "milan") && strcmp(product, "genoa") &&
                strcmp(product, "turin") && strcmp(product, "auto")))
    return -1;
  if (set_str(&opts->product, product) != 0) return -1;
  opts->o.product = opts->product;
  return 0;
}

int elastic_hal_verify_options_set_max_vmpl(elastic_hal_verify_options *opts, int vmpl) {
  if (!opts || vmpl < -1 || vmpl > 3) return -1;
  opts->o.max_vmpl = vmpl;
  return 0;
}

int elastic_hal_verify_options_set_collateral_dir(elastic_hal_verify_options *opts,
                                                  const char *dir) {
  if (!opts || (dir && !*dir) || set_str(&opts->collateral_dir, dir) != 0) return -1;
  opts->o.collateral_dir = opts->collateral_dir;
  return 0;
}

int elastic_hal_verify_options_expect_report_data(elastic_hal_verify_options *opts,
                                                  const uint8_t *report_data, size_t len) {
  if (!opts || len > EXPECT_REPORT_DATA_MAX || set_bytes(&opts->report_data, report_data, len))
    return -1;
  opts->o.expect_report_data = opts->report_data;
  opts->o.expect_report_data_len = report_data ? len : 0;
  opts->o.has_expect_report_data = report_data != NULL;
  return 0;
}

int elastic_hal_verify_options_expect_module_sha384(elastic_hal_verify_options *opts,
                                                    const uint8_t sha384[48]) {
  if (!opts) return -1;
  if (sha384) memcpy(opts->o.expect_module_sha384, sha384, 48);
  opts->o.has_expect_module = sha384 != NULL;
  return 0;
}

int elastic_hal_verify_options_expect_module(elastic_hal_verify_options *opts, const uint8_t *wasm,
                                             size_t len) {
  if (!opts || (!wasm && len)) return -1;
  if (!wasm) return elastic_hal_verify_options_expect_module_sha384(opts, NULL);
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(wasm, len, md, &n, EVP_sha384(), NULL) != 1 || n != 48) return -1;
  return elastic_hal_verify_options_expect_module_sha384(opts, md);
}

int elastic_hal_verify_options_expect_world(elastic_hal_verify_options *opts, const char *world) {
  if (!opts || set_str(&opts->world, world) != 0) return -1;
  opts->o.expect_world = opts->world;
  return 0;
}

int elastic_hal_verify_options_expect_workload(elastic_hal_verify_options *opts,
                                               const char *workload) {
  if (!opts || set_str(&opts->workload, workload) != 0) return -1;
  opts->o.expect_workload = opts->workload;
  return 0;
}

int elastic_hal_verify(const uint8_t *evidence, size_t len, const elastic_hal_verify_options *opts,
                       elastic_hal_verify_result **result) {
  if (result) *result = NULL;
  elastic_hal_verify_result *res = calloc(1, sizeof *res);
  if (!res) return -1;
  bool ok = ehal_verify(evidence, len, opts ? &opts->o : NULL, &res->r) == 0;
  /* the JSON text is made once, here: the accessors only read */
  const char *text = res->r.json ? ehal_verify_result_json(&res->r) : NULL;
  res->json = text ? strdup(text) : NULL;
  if (!res->json) { /* out of memory: no result to show, and no pass */
    elastic_hal_verify_result_free(res);
    return -1;
  }
  if (result)
    *result = res;
  else
    elastic_hal_verify_result_free(res);
  return ok ? 0 : -1;
}

int elastic_hal_verify_result_ok(const elastic_hal_verify_result *r) { return r && r->r.ok; }

const char *elastic_hal_verify_result_reason(const elastic_hal_verify_result *r) {
  if (!r) return "no result (out of memory)";
  return r->r.reason;
}

const char *elastic_hal_verify_result_json(const elastic_hal_verify_result *r) {
  return r ? r->json : "{}";
}

elastic_hal_verify_kind elastic_hal_verify_result_kind(const elastic_hal_verify_result *r) {
  if (!r) return ELASTIC_HAL_VERIFY_KIND_UNKNOWN;
  switch (r->r.kind) {
    case EHAL_EVIDENCE_SNP: return ELASTIC_HAL_VERIFY_KIND_SEV_SNP;
    case EHAL_EVIDENCE_TDX: return ELASTIC_HAL_VERIFY_KIND_TDX;
    case EHAL_EVIDENCE_SIMULATED: return ELASTIC_HAL_VERIFY_KIND_SIMULATED;
    default: return ELASTIC_HAL_VERIFY_KIND_UNKNOWN;
  }
}

static const uint8_t k_zero[64];

const uint8_t *elastic_hal_verify_result_report_data(const elastic_hal_verify_result *r) {
  return r ? r->r.report_data : k_zero;
}

const uint8_t *elastic_hal_verify_result_measurement(const elastic_hal_verify_result *r) {
  return r ? r->r.measurement : k_zero;
}

void elastic_hal_verify_result_free(elastic_hal_verify_result *r) {
  if (!r) return;
  ehal_verify_result_free(&r->r);
  free(r->json);
  free(r);
}
