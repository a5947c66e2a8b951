/*
 * verify.c - the verifier's entry point: recognises the input (envelope,
 * raw SNP report, raw TDX quote), runs the checks and assembles the result.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

void ehal_verify_opts_init(ehal_verify_opts *o) {
  memset(o, 0, sizeof *o);
  o->max_vmpl = -1;
}

static const char *kind_name(ehal_evidence_kind k) {
  switch (k) {
    case EHAL_EVIDENCE_SNP: return "sev-snp";
    case EHAL_EVIDENCE_TDX: return "tdx";
    case EHAL_EVIDENCE_SIMULATED: return "simulated";
    default: return "unknown";
  }
}

static void record(vctx *c, const char *name, ck_status st, const char *fmt, va_list ap) {
  char detail[480];
  vsnprintf(detail, sizeof detail, fmt, ap);
  /* one line, always: details may quote untrusted text */
  for (char *p = detail; *p; p++)
    if (*p == '\n' || *p == '\r' || (unsigned char)*p < 0x20) *p = ' ';
  json_object *o = json_object_new_object();
  jadd_str(o, "check", name);
  jadd_str(o, "status", st == CK_PASS ? "pass" : st == CK_FAIL ? "fail" : "skipped");
  jadd_str(o, "detail", detail);
  json_object_array_add(c->checks, o);
  if (st == CK_FAIL && !c->failed) {
    c->failed = true;
    snprintf(c->res->reason, sizeof c->res->reason, "%s: %s", name, detail);
  }
}

bool vpass(vctx *c, const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(c, name, CK_PASS, fmt, ap);
  va_end(ap);
  return true;
}

bool vfail(vctx *c, const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(c, name, CK_FAIL, fmt, ap);
  va_end(ap);
  return false;
}

void vskip(vctx *c, const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(c, name, CK_SKIP, fmt, ap);
  va_end(ap);
}

/* One field of the binding: its length (u32, big-endian), then its bytes. */
static bool binding_field(EVP_MD_CTX *m, const void *p, size_t n) {
  uint8_t len[4];
  ehal_put_be32(len, (uint32_t)n);
  return EVP_DigestUpdate(m, len, 4) == 1 && (n == 0 || EVP_DigestUpdate(m, p, n) == 1);
}

int ehal_binding_compute(const uint8_t *rd, size_t rd_len, const uint8_t module_sha384[48],
                         const char *world, const char *workload, uint8_t out[64]) {
  static const char prefix[] = "ELASTIC-HAL-BINDING-V1"; /* hashed with its NUL */
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  unsigned int outl = 0;
  bool ok = m && EVP_DigestInit_ex(m, EVP_sha512(), NULL) == 1 &&
            EVP_DigestUpdate(m, prefix, sizeof prefix) == 1 && binding_field(m, rd, rd_len) &&
            binding_field(m, module_sha384, 48) && binding_field(m, world, strlen(world)) &&
            binding_field(m, workload, strlen(workload)) &&
            EVP_DigestFinal_ex(m, out, &outl) == 1 && outl == 64;
  EVP_MD_CTX_free(m);
  if (!ok) memset(out, 0, 64);
  return ok ? 0 : -1;
}

/* A certificate: PEM, or DER (a SEQUENCE with a long-form length that
 * spans exactly the input, which no SNP report or TDX quote has). */
static bool looks_like_certificate(const uint8_t *b, size_t n) {
  static const char pem[] = "-----BEGIN CERTIFICATE-----";
  if (n >= sizeof pem - 1 && memcmp(b, pem, sizeof pem - 1) == 0) return true;
  if (n < 4 || b[0] != 0x30 || b[1] < 0x81 || b[1] > 0x83) return false;
  size_t k = b[1] & 0x7f, body = 0;
  if (n < 2 + k) return false;
  for (size_t j = 0; j < k; j++) body = body << 8 | b[2 + j];
  return 2 + k + body == n;
}

/* Raw evidence: what it is from its first bytes. */
static int verify_raw(vctx *c, const uint8_t *buf, size_t len) {
  uint32_t v32 = len >= 4 ? ehal_get_u32(buf) : 0;
  uint16_t v16 = len >= 2 ? ehal_get_u16(buf) : 0;
  /* a quote starts with a u16 version and a non-zero u16 attestation key
   * type; an SNP report with a small u32 version */
  bool quoteish = len >= 4 && (buf[2] | buf[3]) != 0;
  if (quoteish && (v16 == 4 || v16 == 5)) return ehal_verify_tdx(c, buf, len);
  if (len >= 4 && (len == EHAL_SNP_REPORT_SIZE || (v32 >= 1 && v32 <= 16))) {
    snp_inputs in = {0};
    return ehal_verify_snp(c, buf, len, &in);
  }
  if (quoteish && v16 >= 1 && v16 <= 16) {
    c->res->kind = EHAL_EVIDENCE_TDX;
    vfail(c, "format", "unsupported TDX quote version %u (4 and 5 are)", v16);
    return -1;
  }
  vfail(c, "format",
        "not an evidence envelope, a SEV-SNP report (1184 bytes) or a TDX quote (%zu bytes)", len);
  return -1;
}

static void finish(vctx *c) {
  ehal_verify_result *r = c->res;
  r->ok = !c->failed;
  if (r->ok) snprintf(r->reason, sizeof r->reason, "verified");
  json_object *j = json_object_new_object();
  jadd_bool(j, "ok", r->ok);
  jadd_str(j, "reason", r->reason);
  jadd_str(j, "kind", kind_name(r->kind));
  jadd_str(j, "input", r->envelope ? "envelope" : "raw");
  if (r->product[0]) jadd_str(j, "product", r->product);
  if (r->version) jadd_int(j, "version", r->version);
  jadd_bool(j, "signature_ok", r->signature_ok);
  jadd_bool(j, "chain_ok", r->chain_ok);
  if (r->tcb_status[0]) jadd_str(j, "tcb_status", r->tcb_status);
  char t[40];
  ehal_time_str(c->now, t, sizeof t);
  jadd_str(j, "now", t);
  json_object_object_add(j, "checks", c->checks);
  if (c->evidence) {
    json_object_object_add(j, r->kind == EHAL_EVIDENCE_TDX ? "quote" : "report", c->evidence);
    c->evidence = NULL;
  }
  json_object_object_add(j, "certificates", c->certs);
  json_object_object_foreach(c->extra, k, v) { json_object_object_add(j, k, json_object_get(v)); }
  json_object_put(c->extra);
  r->json = j;
}

int ehal_verify(const uint8_t *buf, size_t len, const ehal_verify_opts *opts,
                ehal_verify_result *res) {
  ehal_verify_opts defaults;
  if (!opts) {
    ehal_verify_opts_init(&defaults);
    opts = &defaults;
  }
  memset(res, 0, sizeof *res);
  vctx c = {.opts = opts, .res = res, .now = opts->now ? opts->now : time(NULL)};
  c.checks = json_object_new_array();
  c.certs = json_object_new_object();
  c.extra = json_object_new_object();

  size_t i = 0;
  while (buf && i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
    i++;
  if (!buf || len == 0) {
    vfail(&c, "format", "empty input");
  } else if (i < len && buf[i] == '{') {
    res->envelope = true;
    ehal_verify_envelope(&c, buf, len);
  } else if (looks_like_certificate(buf + i, len - i)) {
    ehal_verify_attested_cert(&c, buf, len);
  } else {
    if (opts->has_expect_report_data && opts->expect_report_data_len > 64)
      vfail(&c, "report-data", "an expected REPORT_DATA of %zu bytes is longer than 64",
            opts->expect_report_data_len);
    else
      verify_raw(&c, buf, len);
  }
  finish(&c);
  return res->ok ? 0 : -1;
}

void ehal_verify_result_free(ehal_verify_result *res) {
  if (!res) return;
  json_object_put(res->json);
  res->json = NULL;
}

const char *ehal_verify_result_json(const ehal_verify_result *res) {
  if (!res || !res->json) return "{}";
  return json_object_to_json_string_ext(res->json, JSON_C_TO_STRING_PRETTY |
                                                       JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE);
}
