/*
 * test_verify.c - the evidence verifier (src/verify/) against the real
 * artefacts in ../shared/testdata/attestation (read in place, never
 * modified: tampered copies live in memory), and against evidence this
 * test signs itself with throw-away keys, for the paths no real artefact
 * exercises (policies, report versions 3 and 5, Turin, TDX quote v5,
 * collateral statuses, revocation, envelopes, the simulated platform).
 */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "verify.h"

#ifndef EHAL_TESTDATA
#error "EHAL_TESTDATA (the shared testdata directory) must be defined"
#endif

/* Under ASan every verification is ~10x slower: tamper with every byte of
 * the real artefacts in the normal build, with a stride here. */
#if defined(__SANITIZE_ADDRESS__)
#define FLIP_STRIDE 3
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLIP_STRIDE 3
#endif
#endif
#ifndef FLIP_STRIDE
#define FLIP_STRIDE 1
#endif

static const char *SNP_DIR = EHAL_TESTDATA "/attestation/snp";
static const char *TDX_DIR = EHAL_TESTDATA "/attestation/tdx";

static uint8_t *slurp(const char *dir, const char *name, size_t *n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    printf("Bail out! cannot open %s\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  if (fread(b, 1, (size_t)len, f) != (size_t)len) exit(1);
  fclose(f);
  *n = (size_t)len;
  return b;
}

static time_t T(const char *s) {
  time_t t = 0;
  if (ehal_parse_rfc3339(s, &t) != 0) {
    printf("Bail out! bad time %s\n", s);
    exit(1);
  }
  return t;
}

/* Verifies; returns pass/fail and keeps the reason. */
static char last_reason[512];
static const char *last_status;
static char last_tcb[48];
static bool verify(const uint8_t *b, size_t n, const ehal_verify_opts *o) {
  ehal_verify_result r;
  int rc = ehal_verify(b, n, o, &r);
  snprintf(last_reason, sizeof last_reason, "%s", r.reason);
  snprintf(last_tcb, sizeof last_tcb, "%s", r.tcb_status);
  last_status = rc == 0 ? "ok" : "fail";
  /* the result is always valid JSON with the same verdict */
  json_object *j = json_tokener_parse(ehal_verify_result_json(&r));
  json_object *okv = NULL;
  if (!j || !json_object_object_get_ex(j, "ok", &okv) ||
      json_object_get_boolean(okv) != (rc == 0)) {
    printf("Bail out! result JSON disagrees with the verdict\n");
    exit(1);
  }
  json_object_put(j);
  ehal_verify_result_free(&r);
  return rc == 0;
}
static bool refused(const uint8_t *b, size_t n, const ehal_verify_opts *o, const char *needle) {
  bool ok = verify(b, n, o);
  if (!ok && needle && !strstr(last_reason, needle)) {
    tap_diag("refused, but for another reason: %s", last_reason);
    return false;
  }
  if (ok) tap_diag("accepted");
  return !ok;
}
static bool accepted(const uint8_t *b, size_t n, const ehal_verify_opts *o) {
  bool ok = verify(b, n, o);
  if (!ok) tap_diag("refused: %s", last_reason);
  return ok;
}

/* Every single-byte change in [from, to) (xor with pat) is refused. */
static void flip_all(const char *what, const uint8_t *b, size_t n, size_t from, size_t to,
                     uint8_t pat, size_t stride, const ehal_verify_opts *o) {
  uint8_t *c = malloc(n);
  size_t tried = 0, missed = 0;
  memcpy(c, b, n);
  for (size_t i = from; i < to; i += stride) {
    c[i] ^= pat;
    tried++;
    if (verify(c, n, o)) {
      if (missed++ < 5) tap_diag("flip at 0x%zx accepted", i);
    }
    c[i] ^= pat;
  }
  free(c);
  TAP_OK(missed == 0 && tried > 0,
         "%s: %zu single-byte flips (xor 0x%02x%s) in [0x%zx, 0x%zx) refused", what, tried, pat,
         stride > 1 ? ", sampled" : "", from, to);
}

/* ------------------------------------------------------------------ */
/* Real artefacts                                                      */
/* ------------------------------------------------------------------ */

static void test_snp_real(void) {
  size_t n, vn;
  uint8_t *rep = slurp(SNP_DIR, "milan-report.bin", &n);
  uint8_t *vcek = slurp(SNP_DIR, "milan-vcek.der", &vn);
  ehal_verify_opts o;
  ehal_verify_opts_init(&o);
  o.vcek = vcek;
  o.vcek_len = vn;
  o.now = T("2023-06-20T00:00:00Z");
  o.product = "milan";

  /* the real report is from a guest launched with POLICY.DEBUG set */
  TAP_OK(refused(rep, n, &o, "debug"), "real Milan report: a debug guest is refused by default");
  TAP_OK(strncmp(last_reason, "policy: ", 8) == 0, "  ... by the policy check (%s)", last_reason);
  o.allow_debug = true;
  TAP_OK(accepted(rep, n, &o), "real Milan report verifies with milan-vcek.der, product milan");
  o.product = NULL;
  TAP_OK(accepted(rep, n, &o), "real Milan report verifies with the product found automatically");
  o.product = "auto";
  TAP_OK(accepted(rep, n, &o), "  ... and with --product auto");
  o.product = "genoa";
  TAP_OK(refused(rep, n, &o, "Genoa"), "the Genoa chain does not accept the Milan VCEK");
  o.product = "turin";
  TAP_OK(refused(rep, n, &o, "Turin"), "the Turin chain does not accept the Milan VCEK");
  o.product = "naples";
  TAP_OK(refused(rep, n, &o, "unknown product"), "an unknown product is refused");
  o.product = "milan";
  o.now = T("2022-09-01T00:00:00Z");
  TAP_OK(refused(rep, n, &o, "not yet valid"), "before the VCEK's validity: refused");
  o.now = T("2029-09-25T00:00:00Z");
  TAP_OK(refused(rep, n, &o, "expired"), "after the VCEK's validity: refused");
  o.now = T("2023-06-20T00:00:00Z");

  /* the key as PEM, from a file, missing */
  X509 *x = NULL;
  const unsigned char *p = vcek;
  x = d2i_X509(NULL, &p, (long)vn);
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char *pem;
  long pl = BIO_get_mem_data(bio, &pem);
  o.vcek = (const uint8_t *)pem;
  o.vcek_len = (size_t)pl;
  TAP_OK(accepted(rep, n, &o), "the VCEK as PEM works too");
  o.vcek = NULL;
  o.vcek_len = 0;
  char path[1024];
  snprintf(path, sizeof path, "%s/milan-vcek.der", SNP_DIR);
  o.vcek_path = path;
  TAP_OK(accepted(rep, n, &o), "the VCEK from a file path");
  o.vcek_path = NULL;
  TAP_OK(refused(rep, n, &o, "no VCEK"), "no VCEK at all: refused, saying so");
  o.vcek_path = "/nonexistent/vcek.der";
  TAP_OK(refused(rep, n, &o, "cannot read"), "an unreadable VCEK file: refused");
  /* another certificate (the ASK) in place of the VCEK */
  size_t an;
  uint8_t *askark = slurp(SNP_DIR, "ask-ark-milan.pem", &an);
  o.vcek_path = NULL;
  o.vcek = askark;
  o.vcek_len = an;
  TAP_OK(refused(rep, n, &o, "P-384"), "the ASK is not the report's key");
  free(askark);
  BIO_free(bio);
  X509_free(x);
  o.vcek = vcek;
  o.vcek_len = vn;

  /* raw expectations */
  uint8_t want[5] = {1, 2, 3, 4, 5};
  o.expect_report_data = want;
  o.expect_report_data_len = 5;
  o.has_expect_report_data = true;
  TAP_OK(accepted(rep, n, &o), "--expect-report-data 0102030405 (zero-padded) matches");
  want[4] = 6;
  TAP_OK(refused(rep, n, &o, "report-data"), "a different expected REPORT_DATA is refused");
  uint8_t big[65] = {1, 2, 3, 4, 5};
  o.expect_report_data = big;
  o.expect_report_data_len = 65;
  TAP_OK(refused(rep, n, &o, "longer than 64"), "an expected REPORT_DATA over 64 bytes is refused");
  o.has_expect_report_data = false;
  o.has_expect_module = true;
  TAP_OK(refused(rep, n, &o, "envelope"), "--expect-module on a raw report is refused");
  o.has_expect_module = false;
  o.max_vmpl = 0;
  TAP_OK(accepted(rep, n, &o), "VMPL 0 meets --vmpl 0");
  o.max_vmpl = -1;
  o.collateral_dir = TDX_DIR;
  TAP_OK(refused(rep, n, &o, "TDX"), "--collateral on an SNP report is refused");
  o.collateral_dir = NULL;

  /* sizes and versions */
  uint8_t *big_rep = calloc(1, n + 16);
  memcpy(big_rep, rep, n);
  TAP_OK(refused(big_rep, n + 16, &o, "1184"), "a report with 16 extra bytes is refused");
  TAP_OK(refused(rep, n - 1, &o, "1184"), "a truncated report is refused");
  free(big_rep);
  uint8_t *v = malloc(n);
  memcpy(v, rep, n);
  v[0] = 1;
  TAP_OK(refused(v, n, &o, "version 1"), "report version 1 is refused");
  v[0] = 6;
  TAP_OK(refused(v, n, &o, "version 6"), "report version 6 is refused");
  memcpy(v, rep, n);
  v[0x34] = 2;
  TAP_OK(refused(v, n, &o, "signature algorithm"), "signature algorithm 2 is refused");
  free(v);

  size_t cut_ok = 0;
  for (size_t k = 0; k < n; k++) {
    uint8_t *cut = malloc(k ? k : 1);
    memcpy(cut, rep, k);
    cut_ok += !verify(cut, k, &o);
    free(cut);
  }
  TAP_OK(cut_ok == n, "every truncation of the report (%zu lengths) is refused", n);

  /* tampering: every byte of the report, two patterns */
  flip_all("real Milan report", rep, n, 0, n, 0xff, FLIP_STRIDE, &o);
  flip_all("real Milan report", rep, n, 0, n, 0x01, FLIP_STRIDE, &o);
  /* the signed region and the signature, all bytes, whatever the build */
  flip_all("real Milan report, signed region + R + S", rep, n, 0, 0x2A0 + 0x90, 0x80, 1, &o);

  /* the debug bit itself: the signature catches it before the policy */
  v = malloc(n);
  memcpy(v, rep, n);
  v[0x0A] &= (uint8_t)~0x08;
  TAP_OK(refused(v, n, &o, "signature"), "clearing POLICY.DEBUG breaks the signature");
  free(v);
  free(rep);
  free(vcek);
}

static void test_tdx_real(void) {
  size_t n;
  uint8_t *file = slurp(TDX_DIR, "quote-v4-spr.dat", &n);
  const size_t qlen = 4935; /* the quote proper: the file appends a test string */
  ehal_verify_opts o;
  ehal_verify_opts_init(&o);
  o.now = T("2023-06-20T00:00:00Z");

  TAP_OK(accepted(file, qlen, &o), "real TDX quote v4 verifies (PCK chain to the pinned root)");
  TAP_OK(refused(file, n, &o, "--allow-trailing-data"),
         "the file as shipped (39 non-zero bytes after the quote) is refused by default");
  o.allow_trailing = true;
  TAP_OK(accepted(file, n, &o), "  ... and accepted with allow_trailing");
  o.allow_trailing = false;
  uint8_t *pad = calloc(1, qlen + 1000);
  memcpy(pad, file, qlen);
  TAP_OK(accepted(pad, qlen + 1000, &o), "1000 bytes of zero padding after the quote are accepted");
  pad[qlen + 999] = 1;
  TAP_OK(refused(pad, qlen + 1000, &o, "trailing"), "one non-zero byte in the padding is refused");
  free(pad);
  TAP_OK(refused(file, qlen - 1, &o, "format"), "a truncated quote is refused");

  o.now = T("2018-01-01T00:00:00Z");
  TAP_OK(refused(file, qlen, &o, "not yet valid"), "before the PCK's validity: refused");
  o.now = T("2029-10-01T00:00:00Z");
  TAP_OK(refused(file, qlen, &o, "expired"), "after the PCK's validity: refused");
  o.now = T("2023-06-20T00:00:00Z");

  /* REPORTDATA expectations */
  uint8_t rd[64];
  memcpy(rd, file + 0x238, 64);
  o.expect_report_data = rd;
  o.expect_report_data_len = 64;
  o.has_expect_report_data = true;
  TAP_OK(accepted(file, qlen, &o), "--expect-report-data with the quote's REPORTDATA matches");
  rd[63] ^= 1;
  TAP_OK(refused(file, qlen, &o, "report-data"), "a different REPORTDATA is refused");
  o.has_expect_report_data = false;
  o.vcek_path = "x";
  TAP_OK(refused(file, qlen, &o, "SEV-SNP"), "--vcek on a TDX quote is refused");
  o.vcek_path = NULL;

  /* a trust anchor that is not Intel's */
  size_t an;
  uint8_t *amd = slurp(SNP_DIR, "ask-ark-milan.pem", &an);
  char *ark = strstr((char *)amd + 10, "-----BEGIN"); /* the second PEM: the ARK */
  amd[an] = 0;
  o.intel_root_pem = ark;
  TAP_OK(refused(file, qlen, &o, "pck-chain"), "another root than Intel's: the chain fails");
  o.intel_root_pem = NULL;
  free(amd);

  /* tampering: every byte of the quote proper, two patterns */
  flip_all("real TDX quote", file, qlen, 0, qlen, 0xff, FLIP_STRIDE, &o);
  flip_all("real TDX quote", file, qlen, 0, qlen, 0x01, FLIP_STRIDE, &o);
  /* header + body, QE report, both signatures, attestation key: all bytes */
  flip_all("real TDX quote, header + TD report", file, qlen, 0, 0x278, 0x80, 1, &o);
  flip_all("real TDX quote, signatures + attestation key + QE report + its signature", file, qlen,
           0x27C, 0x4C2, 0x80, 1, &o);

  /* every truncation (each prefix in a buffer of its own size, so that the
   * sanitizer build sees any read past the end) */
  size_t cut_ok = 0, cuts = 0;
  for (size_t k = 0; k < qlen; k += (k < 0x600 ? 1 : 7), cuts++) {
    uint8_t *cut = malloc(k ? k : 1);
    memcpy(cut, file, k);
    if (!verify(cut, k, &o))
      cut_ok++;
    else
      tap_diag("a %zu-byte prefix was accepted", k);
    free(cut);
  }
  TAP_OK(cut_ok == cuts,
         "%zu truncations of the quote (every length up to 0x600, then every 7th) refused", cuts);

  /* the debug bit: the signature catches it first */
  uint8_t *v = malloc(qlen);
  memcpy(v, file, qlen);
  v[0xA8] |= 1;
  TAP_OK(refused(v, qlen, &o, "quote-signature"),
         "setting TD_ATTRIBUTES.DEBUG breaks the signature");
  free(v);

  /* collateral (Intel PCS responses of the same platform) */
  o.collateral_dir = TDX_DIR;
  ehal_verify_result r;
  ehal_verify(file, qlen, &o, &r);
  json_object *checks = NULL;
  json_object_object_get_ex(r.json, "checks", &checks);
  const char *want_pass[] = {"collateral-signer", "tcb-info", "qe-identity", "tdx-module",
                             "pck-chain"};
  for (size_t k = 0; k < sizeof want_pass / sizeof *want_pass; k++) {
    const char *st = "absent";
    for (size_t i = 0; checks && i < json_object_array_length(checks); i++) {
      json_object *c = json_object_array_get_idx(checks, i), *nm, *s;
      json_object_object_get_ex(c, "check", &nm);
      json_object_object_get_ex(c, "status", &s);
      if (!strcmp(json_object_get_string(nm), want_pass[k])) st = json_object_get_string(s);
    }
    TAP_OK(!strcmp(st, "pass"), "real collateral: check %s passes (%s)", want_pass[k], st);
  }
  /* the platform's SGX TCB (PCK components 3,3,2,...) is below both levels
   * of this tcbinfo.json (5,5,2,...): Intel's rule says "not supported" */
  TAP_OK(!r.ok && strstr(r.reason, "tcb-status") && !strcmp(r.tcb_status, "NoMatchingLevel"),
         "real collateral: the platform's TCB matches no level, and that is refused (%s)",
         r.reason);
  ehal_verify_result_free(&r);
  o.now = T("2023-07-10T00:00:00Z");
  TAP_OK(refused(file, qlen, &o, "expired"), "collateral past its nextUpdate is refused");
  o.now = T("2023-06-20T00:00:00Z");
  o.collateral_dir = "/nonexistent";
  TAP_OK(refused(file, qlen, &o, "cannot read"), "a missing collateral directory is refused");
  o.collateral_dir = NULL;

  /* the TCB signing certificate expired in May 2025: today's collateral
   * needs today's chain (tcb-signing-chain.pem) */
  free(file);
}

/* ------------------------------------------------------------------ */
/* A throw-away PKI                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
  const char *oid;
  const uint8_t *der;
  size_t len;
} rawext;

static long serial_ctr = 1000;

static X509 *mk_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, bool ca,
                     const rawext *ext, size_t next) {
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial_ctr++);
  X509_NAME *nm = X509_NAME_new();
  X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"Test", -1, -1, 0);
  X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_subject_name(x, nm);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm);
  X509_NAME_free(nm);
  ASN1_TIME_set(X509_getm_notBefore(x), T("2020-01-01T00:00:00Z"));
  ASN1_TIME_set(X509_getm_notAfter(x), T("2040-01-01T00:00:00Z"));
  X509_set_pubkey(x, key);
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
  X509_EXTENSION *e =
      X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  if (ca) {
    e = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  }
  for (size_t i = 0; i < next; i++) {
    ASN1_OBJECT *obj = OBJ_txt2obj(ext[i].oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(os, ext[i].der, (int)ext[i].len);
    e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
  }
  X509_sign(x, ikey ? ikey : key,
            EVP_PKEY_get_bits(ikey ? ikey : key) > 256 ? EVP_sha384() : EVP_sha256());
  return x;
}

/* PEM text of certificates, concatenated (malloc'd). */
static char *pem_of(X509 *a, X509 *b, X509 *c) {
  BIO *bio = BIO_new(BIO_s_mem());
  X509 *xs[] = {a, b, c};
  for (int i = 0; i < 3; i++)
    if (xs[i]) PEM_write_bio_X509(bio, xs[i]);
  char *p;
  long n = BIO_get_mem_data(bio, &p);
  char *out = malloc((size_t)n + 1);
  memcpy(out, p, (size_t)n);
  out[n] = 0;
  BIO_free(bio);
  return out;
}

static size_t der_of(X509 *x, uint8_t *out) {
  unsigned char *p = out;
  return (size_t)i2d_X509(x, &p);
}

/* ECDSA signature as fixed-width r and s. */
static void ec_sign(EVP_PKEY *k, const EVP_MD *md, const uint8_t *m, size_t n, uint8_t *r,
                    uint8_t *s, int width, bool le) {
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  uint8_t der[160];
  size_t dl = sizeof der;
  EVP_DigestSignInit(c, NULL, md, NULL, k);
  EVP_DigestSign(c, der, &dl, m, n);
  EVP_MD_CTX_free(c);
  const unsigned char *p = der;
  ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
  const BIGNUM *br, *bs;
  ECDSA_SIG_get0(sig, &br, &bs);
  if (le) {
    BN_bn2lebinpad(br, r, width);
    BN_bn2lebinpad(bs, s, width);
  } else {
    BN_bn2binpad(br, r, width);
    BN_bn2binpad(bs, s, width);
  }
  ECDSA_SIG_free(sig);
}

/* A tiny DER writer. */
typedef struct {
  uint8_t b[2048];
  size_t n;
} dbuf;
static void d_tlv(dbuf *d, uint8_t tag, const uint8_t *body, size_t n) {
  d->b[d->n++] = tag;
  if (n < 128) {
    d->b[d->n++] = (uint8_t)n;
  } else if (n < 256) {
    d->b[d->n++] = 0x81;
    d->b[d->n++] = (uint8_t)n;
  } else {
    d->b[d->n++] = 0x82;
    d->b[d->n++] = (uint8_t)(n >> 8);
    d->b[d->n++] = (uint8_t)n;
  }
  memcpy(d->b + d->n, body, n);
  d->n += n;
}
static void d_int(dbuf *d, unsigned v) {
  uint8_t b[4];
  size_t n = 0;
  if (v >= 0x8000) b[n++] = (uint8_t)(v >> 16);
  if (v >= 0x80) b[n++] = (uint8_t)(v >> 8);
  b[n++] = (uint8_t)v;
  if (b[0] & 0x80) { /* keep it positive */
    memmove(b + 1, b, n);
    b[0] = 0;
    n++;
  }
  d_tlv(d, 0x02, b, n);
}
static size_t int_der(unsigned v, uint8_t *out) {
  dbuf d = {.n = 0};
  d_int(&d, v);
  memcpy(out, d.b, d.n);
  return d.n;
}

/* ------------------------------------------------------------------ */
/* SEV-SNP evidence signed here                                        */
/* ------------------------------------------------------------------ */

typedef struct {
  EVP_PKEY *ark_k, *ask_k, *vcek_k;
  X509 *ark, *ask, *vcek;
  char *chain_pem; /* ASK + ARK */
  uint8_t vcek_der[2048];
  size_t vcek_len;
  uint8_t chip[64];
} snpw;

#define AMD "1.3.6.1.4.1.3704.1."

/* tcb: bl, tee, snp, ucode, fmc (fmc < 0: no extension) */
static void snpw_init(snpw *w, const char *ark_cn, const char *ask_cn, const char *vcek_cn,
                      const int tcb[5], bool with_tcb, bool with_hwid) {
  memset(w, 0, sizeof *w);
  for (int i = 0; i < 64; i++) w->chip[i] = (uint8_t)(0xA0 + i);
  w->ark_k = EVP_EC_gen("P-384");
  w->ask_k = EVP_EC_gen("P-384");
  w->vcek_k = EVP_EC_gen("P-384");
  w->ark = mk_cert(w->ark_k, ark_cn, NULL, NULL, true, NULL, 0);
  w->ask = mk_cert(w->ask_k, ask_cn, w->ark, w->ark_k, true, NULL, 0);
  uint8_t ders[6][8];
  rawext ext[7];
  size_t ne = 0;
  static const char *const oids[] = {AMD "3.1", AMD "3.2", AMD "3.3", AMD "3.8", AMD "3.9"};
  for (int i = 0; with_tcb && i < 5; i++) {
    if (tcb[i] < 0) continue;
    ext[ne].oid = oids[i];
    ext[ne].len = int_der((unsigned)tcb[i], ders[i]);
    ext[ne].der = ders[i];
    ne++;
  }
  if (with_hwid) ext[ne++] = (rawext){AMD "4", w->chip, 64};
  w->vcek = mk_cert(w->vcek_k, vcek_cn, w->ask, w->ask_k, false, ext, ne);
  w->chain_pem = pem_of(w->ask, w->ark, NULL);
  w->vcek_len = der_of(w->vcek, w->vcek_der);
}

static void snpw_free(snpw *w) {
  X509_free(w->ark);
  X509_free(w->ask);
  X509_free(w->vcek);
  EVP_PKEY_free(w->ark_k);
  EVP_PKEY_free(w->ask_k);
  EVP_PKEY_free(w->vcek_k);
  free(w->chain_pem);
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

typedef struct {
  uint32_t version, vmpl, flags;
  uint64_t policy, tcb;
  uint8_t fam, mod;
  const uint8_t *chip, *report_data, *measurement;
} snp_params;

static void snp_make(uint8_t rep[1184], const snp_params *p, EVP_PKEY *key) {
  memset(rep, 0, 1184);
  put32(rep, p->version);
  put64(rep + 0x08, p->policy);
  put32(rep + 0x30, p->vmpl);
  put32(rep + 0x34, 1);
  put64(rep + 0x38, p->tcb);
  put32(rep + 0x48, p->flags);
  if (p->report_data) memcpy(rep + 0x50, p->report_data, 64);
  if (p->measurement) memcpy(rep + 0x90, p->measurement, 48);
  put64(rep + 0x180, p->tcb);
  if (p->version >= 3) {
    rep[0x188] = p->fam;
    rep[0x189] = p->mod;
    rep[0x18A] = 1;
  }
  if (p->chip) memcpy(rep + 0x1A0, p->chip, 64);
  put64(rep + 0x1E0, p->tcb);
  put64(rep + 0x1F0, p->tcb);
  if (p->version >= 5) {
    put64(rep + 0x1F8, 0x5);
    put64(rep + 0x200, 0x7);
  }
  ec_sign(key, EVP_sha384(), rep, 0x2A0, rep + 0x2A0, rep + 0x2E8, 72, true);
}

/* Milan/Genoa TCB_VERSION from parts */
static uint64_t tcb_mg(int bl, int tee, int snp, int uc) {
  return (uint64_t)bl | (uint64_t)tee << 8 | (uint64_t)snp << 48 | (uint64_t)uc << 56;
}
static uint64_t tcb_turin(int fmc, int bl, int tee, int snp, int uc) {
  return (uint64_t)fmc | (uint64_t)bl << 8 | (uint64_t)tee << 16 | (uint64_t)snp << 24 |
         (uint64_t)uc << 56;
}

static void test_snp_synthetic(void) {
  const int tcb[5] = {3, 0, 8, 115, -1};
  snpw w;
  snpw_init(&w, "ARK-Milan TEST", "SEV-Milan TEST", "SEV-VCEK TEST", tcb, true, true);
  ehal_verify_opts o;
  ehal_verify_opts_init(&o);
  o.snp_chain_pem = w.chain_pem;
  o.vcek = w.vcek_der;
  o.vcek_len = w.vcek_len;
  o.now = T("2024-01-01T00:00:00Z");
  uint8_t rep[1184];
  snp_params p = {.version = 2, .policy = 0x30000, .tcb = tcb_mg(3, 0, 8, 115), .chip = w.chip};

  snp_make(rep, &p, w.vcek_k);
  TAP_OK(accepted(rep, sizeof rep, &o), "self-signed chain: a v2 report verifies");
  TAP_OK(!strcmp(last_tcb, "match"), "  ... REPORTED_TCB matches the VCEK (%s)", last_tcb);
  p.version = 3;
  p.fam = 0x19;
  p.mod = 0x01;
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(accepted(rep, sizeof rep, &o), "a v3 report (CPUID family 0x19) verifies as Milan");
  p.fam = 0x1A;
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "cpuid"), "a v3 report naming family 0x1A is not Milan");
  p.version = 4;
  p.fam = 0x19;
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(accepted(rep, sizeof rep, &o), "a v4 report verifies");
  p.version = 5;
  snp_make(rep, &p, w.vcek_k);
  ehal_verify_result r;
  ehal_verify(rep, sizeof rep, &o, &r);
  json_object *rj = NULL, *mit = NULL;
  json_object_object_get_ex(r.json, "report", &rj);
  if (rj) json_object_object_get_ex(rj, "current_mit_vector", &mit);
  TAP_OK(r.ok && mit && !strcmp(json_object_get_string(mit), "0x0000000000000007"),
         "a v5 report verifies and its mitigation vectors are parsed");
  ehal_verify_result_free(&r);

  /* policy */
  p.version = 2;
  p.policy = 0x30000 | EHAL_SNP_POLICY_DEBUG;
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "debug"), "a correctly signed debug guest is refused");
  o.allow_debug = true;
  TAP_OK(accepted(rep, sizeof rep, &o), "  ... and accepted with allow_debug");
  p.policy = 0x30000 | EHAL_SNP_POLICY_MIGRATE_MA;
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "migration agent"),
         "a guest with a migration agent is refused (even with allow_debug)");
  o.allow_debug = false;
  p.policy = 0x30000;
  p.vmpl = 2;
  snp_make(rep, &p, w.vcek_k);
  o.max_vmpl = 1;
  TAP_OK(refused(rep, sizeof rep, &o, "VMPL 2"), "VMPL 2 with --vmpl 1 is refused");
  o.max_vmpl = 2;
  TAP_OK(accepted(rep, sizeof rep, &o), "VMPL 2 with --vmpl 2 is accepted");
  o.max_vmpl = -1;
  TAP_OK(accepted(rep, sizeof rep, &o), "VMPL 2 without --vmpl is accepted");
  p.vmpl = 0;

  /* TCB, chip, signing key */
  p.tcb = tcb_mg(3, 0, 7, 115);
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "REPORTED_TCB"),
         "REPORTED_TCB (snp 7) below the VCEK's (snp 8) is refused");
  p.tcb = tcb_mg(3, 0, 9, 115);
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "REPORTED_TCB"), "REPORTED_TCB above the VCEK's is refused");
  p.tcb = tcb_mg(3, 0, 8, 115);
  uint8_t other[64];
  memcpy(other, w.chip, 64);
  other[63] ^= 1;
  p.chip = other;
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "chip-id"),
         "a CHIP_ID other than the VCEK's hwID is refused");
  uint8_t zero[64] = {0};
  p.chip = zero;
  p.flags = 2; /* MASK_CHIP_KEY */
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(accepted(rep, sizeof rep, &o), "MASK_CHIP_KEY with a zeroed CHIP_ID is accepted");
  p.flags = 7 << 2;
  p.chip = w.chip;
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "unsigned"), "SIGNING_KEY 'none' is refused");
  p.flags = 0;

  /* lower-level pieces */
  ehal_snp_report pr;
  char why[512];
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(ehal_snp_parse(rep, sizeof rep, &pr, why, sizeof why) == 0 && pr.version == 2 &&
             pr.reported_tcb == tcb_mg(3, 0, 8, 115),
         "ehal_snp_parse reads the fields");
  pr.policy |= EHAL_SNP_POLICY_DEBUG;
  TAP_OK(ehal_snp_check_policy(&pr, &o, why, sizeof why) != 0 && strstr(why, "debug"),
         "ehal_snp_check_policy: debug refused, saying 'debug'");
  o.allow_debug = true;
  TAP_OK(ehal_snp_check_policy(&pr, &o, why, sizeof why) == 0,
         "ehal_snp_check_policy: debug accepted when allowed");
  pr.policy |= EHAL_SNP_POLICY_MIGRATE_MA;
  TAP_OK(ehal_snp_check_policy(&pr, &o, why, sizeof why) != 0 && strstr(why, "migration agent"),
         "ehal_snp_check_policy: migration agent refused");
  o.allow_debug = false;
  pr.policy = 0x30000;
  pr.vmpl = 3;
  o.max_vmpl = 0;
  TAP_OK(ehal_snp_check_policy(&pr, &o, why, sizeof why) != 0 && strstr(why, "VMPL"),
         "ehal_snp_check_policy: VMPL above the required one refused");
  o.max_vmpl = -1;
  ehal_snp_tcb t;
  ehal_snp_tcb_split(0x4405000000000002ull, false, &t);
  TAP_OK(t.bootloader == 2 && t.tee == 0 && t.snp == 5 && t.microcode == 0x44,
         "TCB_VERSION, Milan/Genoa layout");
  ehal_snp_tcb_split(tcb_turin(1, 2, 3, 4, 5), true, &t);
  TAP_OK(t.fmc == 1 && t.bootloader == 2 && t.tee == 3 && t.snp == 4 && t.microcode == 5,
         "TCB_VERSION, Turin layout (FMC, BOOT_LOADER, TEE, SNP, ..., MICROCODE)");

  /* tampering with a report signed here: every byte, whatever the build */
  snp_make(rep, &p, w.vcek_k);
  flip_all("self-signed v2 report", rep, sizeof rep, 0, sizeof rep, 0x01, FLIP_STRIDE, &o);
  snpw_free(&w);

  /* Turin: its own TCB layout and the fmcSPL extension */
  const int ttcb[5] = {2, 3, 4, 5, 6};
  snpw_init(&w, "ARK-Turin TEST", "SEV-Turin TEST", "SEV-VCEK TEST", ttcb, true, true);
  o.snp_chain_pem = w.chain_pem;
  o.vcek = w.vcek_der;
  o.vcek_len = w.vcek_len;
  p = (snp_params){.version = 3,
                   .policy = 0x30000,
                   .tcb = tcb_turin(6, 2, 3, 4, 5),
                   .chip = w.chip,
                   .fam = 0x1A};
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(accepted(rep, sizeof rep, &o), "Turin: the Turin TCB layout matches blSPL..fmcSPL");
  p.tcb = tcb_mg(2, 3, 4, 5);
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "REPORTED_TCB"),
         "Turin: the same SVNs in the Milan layout do not match");
  p.tcb = tcb_turin(7, 2, 3, 4, 5);
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "fmc 7"), "Turin: a different FMC SVN is refused");
  snpw_free(&w);

  /* a VCEK without TCB extensions */
  snpw_init(&w, "ARK-Genoa TEST", "SEV-Genoa TEST", "SEV-VCEK TEST", tcb, false, true);
  o.snp_chain_pem = w.chain_pem;
  o.vcek = w.vcek_der;
  o.vcek_len = w.vcek_len;
  p = (snp_params){.version = 2, .policy = 0x30000, .tcb = tcb_mg(3, 0, 8, 115), .chip = w.chip};
  snp_make(rep, &p, w.vcek_k);
  TAP_OK(refused(rep, sizeof rep, &o, "lacks a TCB extension"),
         "a VCEK without TCB extensions is refused");
  snpw_free(&w);
}

/* ------------------------------------------------------------------ */
/* Envelopes and the simulated platform                                */
/* ------------------------------------------------------------------ */

static const uint8_t G_VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                   0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t G_ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                  0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t G_ARK[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                  0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

/* A certificate table: entries, zero entry, then the certificates. */
static size_t cert_table(uint8_t *out, const uint8_t *const *guids, const uint8_t *const *ders,
                         const size_t *lens, int n, bool mixed, bool terminate) {
  size_t hdr = (size_t)(n + (terminate ? 1 : 0)) * 24, off = hdr;
  memset(out, 0, hdr);
  for (int i = 0; i < n; i++) {
    uint8_t g[16];
    memcpy(g, guids[i], 16);
    if (mixed) {
      uint8_t m[16] = {g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6]};
      memcpy(m + 8, g + 8, 8);
      memcpy(g, m, 16);
    }
    memcpy(out + 24 * i, g, 16);
    put32(out + 24 * i + 16, (uint32_t)off);
    put32(out + 24 * i + 20, (uint32_t)lens[i]);
    memcpy(out + off, ders[i], lens[i]);
    off += lens[i];
  }
  return off;
}

static char *b64(const uint8_t *b, size_t n) {
  char *s = malloc(4 * ((n + 2) / 3) + 1);
  EVP_EncodeBlock((unsigned char *)s, b, (int)n);
  return s;
}

static char *hex(const uint8_t *b, size_t n) {
  char *s = malloc(2 * n + 1);
  for (size_t i = 0; i < n; i++) sprintf(s + 2 * i, "%02x", b[i]);
  return s;
}

static char *envelope(const char *provider, const char *format, const uint8_t *ev, size_t evn,
                      const uint8_t *certs, size_t certn, const uint8_t *rd, size_t rdn,
                      const uint8_t module[48], const char *world, const char *workload) {
  char *e = b64(ev, evn), *c = certs ? b64(certs, certn) : NULL, *r = hex(rd, rdn),
       *m = hex(module, 48);
  size_t cap = strlen(e) + (c ? strlen(c) : 0) + strlen(r) + 1024;
  char *out = malloc(cap);
  snprintf(out, cap,
           "{\n  \"type\": \"elastic-hal-evidence\",\n  \"version\": 1,\n  \"provider\": "
           "\"%s\",\n  \"evidence\": {\"format\": \"%s\", \"data\": \"%s\"},\n%s%s%s"
           "  \"binding\": {\"scheme\": \"elastic-hal-binding-v1\", \"report-data\": \"%s\", "
           "\"module-sha384\": \"%s\", \"world\": \"%s\", \"workload\": \"%s\"},\n"
           "  \"future-member\": [1, 2, 3]\n}\n",
           provider, format, e, c ? "  \"certificates\": \"" : "", c ? c : "", c ? "\",\n" : "", r,
           m, world, workload);
  free(e);
  free(c);
  free(r);
  free(m);
  return out;
}

static bool env_refused(const char *env, const ehal_verify_opts *o, const char *needle) {
  return refused((const uint8_t *)env, strlen(env), o, needle);
}
static bool env_accepted(const char *env, const ehal_verify_opts *o) {
  return accepted((const uint8_t *)env, strlen(env), o);
}

/* Replaces the first occurrence of a in s by b (same length). */
static char *edit(const char *s, const char *a, const char *b) {
  char *c = strdup(s), *p = strstr(c, a);
  if (p) memcpy(p, b, strlen(b));
  return c;
}

static void test_binding_and_envelopes(void) {
  /* the binding, against a value computed independently (Python hashlib) */
  uint8_t mod[48], out[64];
  unsigned ml;
  EVP_Digest("module", 6, mod, &ml, EVP_sha384(), NULL);
  ehal_binding_compute((const uint8_t *)"hello", 5, mod, "elastic-tee-attestation", "my-service",
                       out);
  char *h = hex(out, 64);
  TAP_OK(!strcmp(h,
                 "5b3fd41a8d25de10a8fff4a44936c728d8eb7fdc38d1076ecd5fb06b743739835c63c60aa320b2"
                 "5673978c107af4d6d52bdee6d56693388d6501079cf8a0af09"),
         "the binding matches an independent computation of docs/evidence.md");
  free(h);

  /* a simulated platform: every subject says SIMULATED */
  const int tcb[5] = {1, 0, 1, 1, -1};
  snpw w;
  snpw_init(&w, "SIMULATED ARK", "SIMULATED ASK", "SIMULATED VCEK", tcb, true, false);
  uint8_t ark[2048], ask[2048], certs[8192];
  size_t arkn = der_of(w.ark, ark), askn = der_of(w.ask, ask);
  const uint8_t *guids[3] = {G_VCEK, G_ASK, G_ARK}, *ders[3] = {w.vcek_der, ask, ark};
  size_t lens[3] = {w.vcek_len, askn, arkn};
  size_t certn = cert_table(certs, guids, ders, lens, 3, false, true);
  const uint8_t rd[] = "nonce-1234";
  uint8_t binding[64];
  ehal_binding_compute(rd, 10, mod, "elastic-tee-attestation", "svc", binding);
  uint8_t rep[1184];
  snp_params p = {.version = 2,
                  .policy = 0x30000,
                  .tcb = tcb_mg(1, 0, 1, 1),
                  .report_data = binding,
                  .measurement = mod};
  snp_make(rep, &p, w.vcek_k);
  char *env = envelope("simulated", "sev-snp-report", rep, sizeof rep, certs, certn, rd, 10, mod,
                       "elastic-tee-attestation", "svc");
  ehal_verify_opts o;
  ehal_verify_opts_init(&o);
  o.now = T("2024-01-01T00:00:00Z");
  TAP_OK(env_refused(env, &o, "simulated"), "simulated evidence is refused by default");
  o.allow_simulated = true;
  TAP_OK(env_accepted(env, &o), "simulated evidence verifies with allow_simulated");
  ehal_verify_result r;
  ehal_verify((const uint8_t *)env, strlen(env), &o, &r);
  TAP_OK(r.kind == EHAL_EVIDENCE_SIMULATED && r.envelope && !strcmp(r.product, "simulated"),
         "  ... as kind 'simulated'");
  ehal_verify_result_free(&r);
  o.expect_report_data = rd;
  o.expect_report_data_len = 10;
  o.has_expect_report_data = true;
  TAP_OK(env_accepted(env, &o),
         "--expect-report-data checks the guest's report-data through the binding");
  o.expect_report_data_len = 9;
  TAP_OK(env_refused(env, &o, "report-data"), "  ... a different report-data is refused");
  o.has_expect_report_data = false;
  memcpy(o.expect_module_sha384, mod, 48);
  o.has_expect_module = true;
  TAP_OK(env_accepted(env, &o), "--expect-module matches the bound module");
  o.expect_module_sha384[0] ^= 1;
  TAP_OK(env_refused(env, &o, "module"), "  ... another module is refused");
  o.has_expect_module = false;

  /* binding inputs that do not produce REPORT_DATA */
  char *bad = edit(env, "\"svc\"", "\"svd\"");
  TAP_OK(env_refused(bad, &o, "binding"), "a changed workload breaks the binding");
  free(bad);
  bad = edit(env, "elastic-tee-attestation", "elastic-tee-attestatioN");
  TAP_OK(env_refused(bad, &o, "binding"), "a changed world breaks the binding");
  free(bad);
  char *rdh = hex(rd, 10);
  rdh[0] = rdh[0] == '6' ? '7' : '6';
  char *rdo = hex(rd, 10);
  bad = edit(env, rdo, rdh);
  TAP_OK(env_refused(bad, &o, "binding"), "a changed report-data breaks the binding");
  free(bad);
  free(rdh);
  free(rdo);

  /* MEASUREMENT must be the module for the simulated platform */
  uint8_t other[48];
  memcpy(other, mod, 48);
  other[5] ^= 0x40;
  p.measurement = other;
  snp_make(rep, &p, w.vcek_k);
  char *env2 = envelope("simulated", "sev-snp-report", rep, sizeof rep, certs, certn, rd, 10, mod,
                        "elastic-tee-attestation", "svc");
  TAP_OK(env_refused(env2, &o, "measurement"),
         "a simulated MEASUREMENT other than the module is refused");
  free(env2);
  p.measurement = mod;
  snp_make(rep, &p, w.vcek_k);

  /* the certificate table */
  certn = cert_table(certs, guids, ders, lens, 3, true, true);
  env2 = envelope("simulated", "sev-snp-report", rep, sizeof rep, certs, certn, rd, 10, mod,
                  "elastic-tee-attestation", "svc");
  TAP_OK(env_accepted(env2, &o), "GUIDs in mixed-endian byte order are accepted too");
  free(env2);
  certn = cert_table(certs, guids, ders, lens, 3, false, true);
  env2 = envelope("simulated", "sev-snp-report", rep, sizeof rep, certs, 20, rd, 10, mod,
                  "elastic-tee-attestation", "svc");
  TAP_OK(env_refused(env2, &o, "terminating"), "a table without its terminating entry is refused");
  free(env2);
  certn = cert_table(certs, guids, ders, lens, 3, false, true);
  put32(certs + 20, 60000);
  env2 = envelope("simulated", "sev-snp-report", rep, sizeof rep, certs, certn, rd, 10, mod,
                  "elastic-tee-attestation", "svc");
  TAP_OK(env_refused(env2, &o, "outside"), "a table entry pointing outside the table is refused");
  free(env2);
  certn = cert_table(certs, guids, ders, lens, 2, false, true);
  env2 = envelope("simulated", "sev-snp-report", rep, sizeof rep, certs, certn, rd, 10, mod,
                  "elastic-tee-attestation", "svc");
  TAP_OK(env_refused(env2, &o, "ARK"), "simulated evidence without its ARK is refused");
  free(env2);
  certn = cert_table(certs, guids, ders, lens, 3, false, true);

  /* the simulated chain cannot pass as AMD's */
  env2 = envelope("sev-snp", "sev-snp-report", rep, sizeof rep, certs, certn, rd, 10, mod,
                  "elastic-tee-attestation", "svc");
  TAP_OK(env_refused(env2, &o, "chain"),
         "a simulated chain under provider sev-snp fails the pinned ARKs");
  free(env2);
  env2 = envelope("tdx", "sev-snp-report", rep, sizeof rep, certs, certn, rd, 10, mod,
                  "elastic-tee-attestation", "svc");
  TAP_OK(env_refused(env2, &o, "envelope"), "provider tdx with an SNP report is refused");
  free(env2);
  snpw_free(&w);

  /* a chain whose subjects do not say SIMULATED */
  snpw_init(&w, "Some ARK", "Some ASK", "Some VCEK", tcb, true, false);
  arkn = der_of(w.ark, ark);
  askn = der_of(w.ask, ask);
  const uint8_t *ders2[3] = {w.vcek_der, ask, ark};
  size_t lens2[3] = {w.vcek_len, askn, arkn};
  certn = cert_table(certs, guids, ders2, lens2, 3, false, true);
  snp_make(rep, &p, w.vcek_k);
  env2 = envelope("simulated", "sev-snp-report", rep, sizeof rep, certs, certn, rd, 10, mod,
                  "elastic-tee-attestation", "svc");
  TAP_OK(env_refused(env2, &o, "SIMULATED"), "a 'simulated' chain not marked SIMULATED is refused");
  free(env2);
  snpw_free(&w);

  /* malformed envelopes */
  static const struct {
    const char *from, *to, *what;
  } breaks[] = {
      {"\"elastic-hal-evidence\"", "\"elastic-hal-evidencE\"", "a wrong type"},
      {"\"version\": 1", "\"version\": 2", "version 2"},
      {"\"binding\"", "\"bindinG\"", "a missing binding"},
      {"\"data\": \"", "\"data\": \"*", "evidence data that is not base64"},
      {"elastic-hal-binding-v1", "elastic-hal-binding-v2", "an unknown binding scheme"},
      {"\"provider\": \"simulated\"", "\"provider\": \"simulatex\"", "an unknown provider"},
  };
  for (size_t i = 0; i < sizeof breaks / sizeof *breaks; i++) {
    bad = edit(env, breaks[i].from, breaks[i].to);
    TAP_OK(env_refused(bad, &o, "envelope"), "an envelope with %s is refused", breaks[i].what);
    free(bad);
  }
  size_t el = strlen(env);
  bad = malloc(el + 3);
  memcpy(bad, env, el);
  memcpy(bad + el, "{}", 3);
  TAP_OK(env_refused(bad, &o, "envelope"), "text after the envelope's JSON object is refused");
  free(bad);
  TAP_OK(env_refused("{\"type\": ", &o, "envelope"), "truncated JSON is refused");
  free(env);

  /* the real Milan report in an envelope with its real VCEK: the chain is
   * AMD's, but its REPORT_DATA is no binding */
  size_t rn, vn;
  uint8_t *real = slurp(SNP_DIR, "milan-report.bin", &rn);
  uint8_t *vcek = slurp(SNP_DIR, "milan-vcek.der", &vn);
  const uint8_t *g1[1] = {G_VCEK}, *d1[1] = {vcek};
  size_t l1[1] = {vn};
  certn = cert_table(certs, g1, d1, l1, 1, false, true);
  env = envelope("sev-snp", "sev-snp-report", real, rn, certs, certn, rd, 10, mod,
                 "elastic-tee-attestation", "svc");
  ehal_verify_opts_init(&o);
  o.now = T("2023-06-20T00:00:00Z");
  o.allow_debug = true;
  ehal_verify((const uint8_t *)env, strlen(env), &o, &r);
  TAP_OK(
      !r.ok && r.signature_ok && r.chain_ok && strstr(r.reason, "binding"),
      "real report + VCEK from the envelope's table: signature and chain pass, binding fails (%s)",
      r.reason);
  ehal_verify_result_free(&r);
  free(env);
  free(real);
  free(vcek);
}

/* ------------------------------------------------------------------ */
/* TDX quotes signed here, and collateral                              */
/* ------------------------------------------------------------------ */

typedef struct {
  EVP_PKEY *root_k, *ca_k, *pck_k, *tcb_k, *att_k;
  X509 *root, *ca, *pck, *tcb;
  char *root_pem;
  char dir[64];
} tdxw;

static const uint8_t SGX_PFX[] = {0x06, 0x0A, 0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};

/* the PCK's SGX extension: TCB components (all = svn), PCESVN, PCE-ID, FMSPC */
static size_t pck_ext(uint8_t *out, unsigned svn, unsigned pcesvn, const uint8_t fmspc[6]) {
  dbuf tcb = {.n = 0}, top = {.n = 0};
  for (unsigned k = 1; k <= 18; k++) {
    dbuf item = {.n = 0};
    uint8_t oid[12];
    memcpy(oid, SGX_PFX + 2, 9);
    oid[9] = 2;
    oid[10] = (uint8_t)k;
    d_tlv(&item, 0x06, oid, 11);
    if (k <= 16) d_int(&item, svn);
    if (k == 17) d_int(&item, pcesvn);
    uint8_t cpusvn[16];
    memset(cpusvn, (int)svn, 16);
    if (k == 18) d_tlv(&item, 0x04, cpusvn, 16);
    d_tlv(&tcb, 0x30, item.b, item.n);
  }
  static const uint8_t pceid[2] = {0, 0};
  uint8_t ppid[16] = {1};
  struct {
    unsigned which;
    uint8_t tag;
    const uint8_t *v;
    size_t n;
  } parts[] = {
      {1, 0x04, ppid, 16}, {2, 0x30, tcb.b, tcb.n}, {3, 0x04, pceid, 2}, {4, 0x04, fmspc, 6}};
  dbuf body = {.n = 0};
  for (size_t i = 0; i < 4; i++) {
    dbuf item = {.n = 0};
    uint8_t oid[10];
    memcpy(oid, SGX_PFX + 2, 9);
    oid[9] = (uint8_t)parts[i].which;
    d_tlv(&item, 0x06, oid, 10);
    d_tlv(&item, parts[i].tag, parts[i].v, parts[i].n);
    d_tlv(&body, 0x30, item.b, item.n);
  }
  d_tlv(&top, 0x30, body.b, body.n);
  memcpy(out, top.b, top.n);
  return top.n;
}

static const uint8_t FMSPC[6] = {0x00, 0x90, 0x6E, 0xD5, 0x00, 0x00};
static const uint8_t QE_MRSIGNER[32] = {0xDC, 0x9E, 0x2A, 0x7C};

static void tdxw_init(tdxw *w, unsigned pck_svn) {
  memset(w, 0, sizeof *w);
  w->root_k = EVP_EC_gen("P-256");
  w->ca_k = EVP_EC_gen("P-256");
  w->pck_k = EVP_EC_gen("P-256");
  w->tcb_k = EVP_EC_gen("P-256");
  w->att_k = EVP_EC_gen("P-256");
  w->root = mk_cert(w->root_k, "Test SGX Root CA", NULL, NULL, true, NULL, 0);
  w->ca = mk_cert(w->ca_k, "Intel SGX PCK Platform CA", w->root, w->root_k, true, NULL, 0);
  uint8_t ext[1024];
  rawext e = {"1.2.840.113741.1.13.1", ext, pck_ext(ext, pck_svn, 11, FMSPC)};
  w->pck = mk_cert(w->pck_k, "Intel SGX PCK Certificate", w->ca, w->ca_k, false, &e, 1);
  w->tcb = mk_cert(w->tcb_k, "Intel SGX TCB Signing", w->root, w->root_k, false, NULL, 0);
  w->root_pem = pem_of(w->root, NULL, NULL);
  snprintf(w->dir, sizeof w->dir, "/tmp/ehal-verify-XXXXXX");
  if (!mkdtemp(w->dir)) exit(1);
}

static void rm_collateral(const tdxw *w) {
  static const char *const f[] = {"tcbinfo.json", "qe-identity.json", "pck-crl.der", "root-crl.der",
                                  "tcb-signing-chain.pem"};
  char path[256];
  for (int i = 0; i < 5; i++) {
    snprintf(path, sizeof path, "%s/%s", w->dir, f[i]);
    unlink(path);
  }
}

static void tdxw_free(tdxw *w) {
  rm_collateral(w);
  rmdir(w->dir);
  X509_free(w->root);
  X509_free(w->ca);
  X509_free(w->pck);
  X509_free(w->tcb);
  EVP_PKEY_free(w->root_k);
  EVP_PKEY_free(w->ca_k);
  EVP_PKEY_free(w->pck_k);
  EVP_PKEY_free(w->tcb_k);
  EVP_PKEY_free(w->att_k);
  free(w->root_pem);
}

typedef struct {
  unsigned version, body_type;
  uint8_t td_attr0;
  uint8_t tee_tcb_svn[16];
  const uint8_t *report_data;
  unsigned qe_isvsvn;
  bool bad_qe_binding, extra_cert, no_root;
} tdx_params;

static uint8_t *tdx_make(const tdxw *w, const tdx_params *p, size_t *len) {
  size_t body = p->body_type == 3 ? 648 : 584, hdr = 48 + (p->version == 5 ? 6 : 0);
  char *chain = p->extra_cert ? pem_of(w->pck, w->ca, w->tcb)
                : p->no_root  ? pem_of(w->pck, w->ca, NULL)
                              : pem_of(w->pck, w->ca, w->root);
  size_t pl = strlen(chain), auth = 32;
  size_t cert6 = 384 + 64 + 2 + auth + 6 + pl, sig = 128 + 6 + cert6;
  size_t n = hdr + body + 4 + sig;
  uint8_t *q = calloc(1, n);
  q[0] = (uint8_t)p->version;
  q[2] = 2;
  q[4] = 0x81;
  static const uint8_t intel_qe[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                       0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
  memcpy(q + 12, intel_qe, 16);
  if (p->version == 5) {
    q[48] = (uint8_t)p->body_type;
    put32(q + 50, (uint32_t)body);
  }
  uint8_t *b = q + hdr;
  memcpy(b, p->tee_tcb_svn, 16);
  b[120] = p->td_attr0;
  memset(b + 136, 0x11, 48); /* MRTD */
  if (p->report_data) memcpy(b + 520, p->report_data, 64);
  if (p->body_type == 3) memset(b + 600, 0x22, 48); /* MRSERVICETD */
  put32(q + hdr + body, (uint32_t)sig);
  uint8_t *s = q + hdr + body + 4;
  ec_sign(w->att_k, EVP_sha256(), q, hdr + body, s, s + 32, 32, false);
  uint8_t pub[65];
  size_t publ = 0;
  EVP_PKEY_get_octet_string_param(w->att_k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &publ);
  memcpy(s + 64, pub + 1, 64);
  s[128] = 6;
  put32(s + 130, (uint32_t)cert6);
  uint8_t *qe = s + 134;
  qe[48] = 0x11; /* ATTRIBUTES */
  memcpy(qe + 128, QE_MRSIGNER, 32);
  qe[256] = 2; /* ISVPRODID */
  qe[258] = (uint8_t)p->qe_isvsvn;
  uint8_t *authp = qe + 384 + 64 + 2;
  for (size_t i = 0; i < auth; i++) authp[i] = (uint8_t)i;
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  EVP_DigestInit_ex(m, EVP_sha256(), NULL);
  EVP_DigestUpdate(m, s + 64, 64);
  EVP_DigestUpdate(m, authp, auth - (p->bad_qe_binding ? 1 : 0));
  EVP_DigestFinal_ex(m, qe + 320, NULL);
  EVP_MD_CTX_free(m);
  ec_sign(w->pck_k, EVP_sha256(), qe, 384, qe + 384, qe + 384 + 32, 32, false);
  qe[384 + 64] = (uint8_t)auth;
  uint8_t *inner = authp + auth;
  inner[0] = 5;
  put32(inner + 2, (uint32_t)pl);
  memcpy(inner + 6, chain, pl);
  free(chain);
  *len = n;
  return q;
}

static void write_file(const tdxw *w, const char *name, const void *b, size_t n) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", w->dir, name);
  FILE *f = fopen(path, "wb");
  fwrite(b, 1, n, f);
  fclose(f);
}

static void write_signed(const tdxw *w, const char *name, const char *member, const char *body,
                         bool tamper) {
  uint8_t r[32], s[32], sig[64];
  ec_sign(w->tcb_k, EVP_sha256(), (const uint8_t *)body, strlen(body), r, s, 32, false);
  memcpy(sig, r, 32);
  memcpy(sig + 32, s, 32);
  char *sh = hex(sig, 64);
  size_t cap = strlen(body) + 256;
  char *doc = malloc(cap);
  snprintf(doc, cap, "{\"%s\":%s,\"signature\":\"%s\"}", member, body, sh);
  if (tamper) {
    char *p = strstr(doc, "\"tcbEvaluationDataNumber\":17");
    if (p) p[strlen("\"tcbEvaluationDataNumber\":1")] = '8';
  }
  write_file(w, name, doc, strlen(doc));
  free(doc);
  free(sh);
}

static void write_crl(const tdxw *w, const char *name, X509 *issuer, EVP_PKEY *ik, long revoked) {
  X509_CRL *crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
  ASN1_TIME *t0 = ASN1_TIME_set(NULL, T("2023-01-01T00:00:00Z"));
  ASN1_TIME *t1 = ASN1_TIME_set(NULL, T("2025-01-01T00:00:00Z"));
  X509_CRL_set1_lastUpdate(crl, t0);
  X509_CRL_set1_nextUpdate(crl, t1);
  if (revoked) {
    X509_REVOKED *rv = X509_REVOKED_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_INTEGER_set(sn, revoked);
    X509_REVOKED_set_serialNumber(rv, sn);
    X509_REVOKED_set_revocationDate(rv, t0);
    X509_CRL_add0_revoked(crl, rv);
    ASN1_INTEGER_free(sn);
  }
  X509_CRL_sort(crl);
  X509_CRL_sign(crl, ik, EVP_sha256());
  unsigned char *der = NULL;
  int n = i2d_X509_CRL(crl, &der);
  write_file(w, name, der, (size_t)n);
  OPENSSL_free(der);
  X509_CRL_free(crl);
  ASN1_TIME_free(t0);
  ASN1_TIME_free(t1);
}

typedef struct {
  const char *levels;    /* JSON array for tcbLevels */
  const char *qe_levels; /* JSON array for the QE */
  const char *fmspc;
  const char *module; /* JSON members describing the TDX module */
  long revoke_pck;
  bool tamper_tcbinfo, no_signing_chain;
} coll_params;

static const char *LEVEL_FMT =
    "{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":%u,\"tdxtcbcomponents\":[%s]},"
    "\"tcbDate\":\"2023-02-15T00:00:00Z\",\"tcbStatus\":\"%s\"}";

/* one tcbLevels entry: every SGX component = sgx, TDX components t0, t1, t2, rest 0 */
static char *level(unsigned sgx, unsigned pcesvn, unsigned t0, unsigned t1, unsigned t2,
                   const char *status) {
  char s[1024] = "", t[1024] = "";
  for (int i = 0; i < 16; i++) {
    char one[32];
    snprintf(one, sizeof one, "%s{\"svn\":%u}", i ? "," : "", sgx);
    strcat(s, one);
    snprintf(one, sizeof one, "%s{\"svn\":%u}", i ? "," : "",
             i == 0   ? t0
             : i == 1 ? t1
             : i == 2 ? t2
                      : 0);
    strcat(t, one);
  }
  char *out = malloc(4096);
  snprintf(out, 4096, LEVEL_FMT, s, pcesvn, t, status);
  return out;
}

static void write_collateral(const tdxw *w, const coll_params *c) {
  rm_collateral(w);
  char *ti = malloc(16384);
  snprintf(ti, 16384,
           "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"2024-01-01T00:00:00Z\","
           "\"nextUpdate\":\"2024-02-01T00:00:00Z\",\"fmspc\":\"%s\",\"pceId\":\"0000\","
           "\"tcbType\":0,\"tcbEvaluationDataNumber\":17,%s,\"tcbLevels\":%s}",
           c->fmspc ? c->fmspc : "00906ED50000",
           c->module ? c->module
                     : "\"tdxModule\":{\"mrsigner\":\"" /* 48 zero bytes */
                       "0000000000000000000000000000000000000000000000000000000000000000"
                       "00000000000000000000000000000000\",\"attributes\":\"0000000000000000\","
                       "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"}",
           c->levels);
  write_signed(w, "tcbinfo.json", "tcbInfo", ti, c->tamper_tcbinfo);
  char *mrs = hex(QE_MRSIGNER, 32);
  snprintf(ti, 16384,
           "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"2024-01-01T00:00:00Z\","
           "\"nextUpdate\":\"2024-02-01T00:00:00Z\",\"tcbEvaluationDataNumber\":17,"
           "\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
           "\"attributes\":\"11000000000000000000000000000000\","
           "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"%s\","
           "\"isvprodid\":2,\"tcbLevels\":%s}",
           mrs,
           c->qe_levels ? c->qe_levels
                        : "[{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2023-02-15T00:00:00Z\","
                          "\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":2},\"tcbDate\":"
                          "\"2022-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\"}]");
  write_signed(w, "qe-identity.json", "enclaveIdentity", ti, false);
  free(mrs);
  free(ti);
  write_crl(w, "pck-crl.der", w->ca, w->ca_k, c->revoke_pck);
  write_crl(w, "root-crl.der", w->root, w->root_k, 0);
  if (!c->no_signing_chain) {
    char *pem = pem_of(w->tcb, w->root, NULL);
    write_file(w, "tcb-signing-chain.pem", pem, strlen(pem));
    free(pem);
  }
}

static long serial_of(X509 *x) { return ASN1_INTEGER_get(X509_get0_serialNumber(x)); }

static void test_tdx_synthetic(void) {
  tdxw w;
  tdxw_init(&w, 5);
  ehal_verify_opts o;
  ehal_verify_opts_init(&o);
  o.intel_root_pem = w.root_pem;
  o.now = T("2024-01-15T00:00:00Z");
  tdx_params p = {.version = 4, .body_type = 2, .tee_tcb_svn = {3, 0, 5}, .qe_isvsvn = 4};
  size_t n;
  uint8_t *q = tdx_make(&w, &p, &n);
  TAP_OK(accepted(q, n, &o), "self-signed PKI: a v4 quote verifies");
  free(q);
  p.version = 5;
  q = tdx_make(&w, &p, &n);
  TAP_OK(accepted(q, n, &o), "a v5 quote with a TD report 1.0 body (type 2) verifies");
  free(q);
  p.body_type = 3;
  q = tdx_make(&w, &p, &n);
  ehal_verify_result r;
  ehal_verify(q, n, &o, &r);
  json_object *qj = NULL, *svc = NULL;
  json_object_object_get_ex(r.json, "quote", &qj);
  if (qj) json_object_object_get_ex(qj, "mrservicetd", &svc);
  TAP_OK(r.ok && svc && !strncmp(json_object_get_string(svc), "2222", 4),
         "a v5 quote with a TD report 1.5 body (type 3) verifies, MRSERVICETD parsed");
  ehal_verify_result_free(&r);
  flip_all("self-signed v5 quote", q, n, 0, n, 0x01, FLIP_STRIDE, &o);
  q[48] = 4;
  TAP_OK(refused(q, n, &o, "body type 4"), "v5 body type 4 is refused");
  q[48] = 2;
  TAP_OK(refused(q, n, &o, "declares"), "v5 body type 2 with the size of type 3 is refused");
  free(q);
  p.version = 4;
  p.body_type = 2;

  p.td_attr0 = 1;
  q = tdx_make(&w, &p, &n);
  TAP_OK(refused(q, n, &o, "debug"), "a correctly signed debug TD is refused");
  o.allow_debug = true;
  TAP_OK(accepted(q, n, &o), "  ... and accepted with allow_debug");
  o.allow_debug = false;
  free(q);
  p.td_attr0 = 0;

  p.bad_qe_binding = true;
  q = tdx_make(&w, &p, &n);
  TAP_OK(refused(q, n, &o, "qe-report-data"),
         "a QE report whose data does not bind the attestation key is refused");
  free(q);
  p.bad_qe_binding = false;
  p.extra_cert = true;
  q = tdx_make(&w, &p, &n);
  TAP_OK(refused(q, n, &o, "pck-chain"),
         "a chain ending in another certificate than the root is refused");
  free(q);
  p.extra_cert = false;
  p.no_root = true;
  q = tdx_make(&w, &p, &n);
  TAP_OK(accepted(q, n, &o), "a chain of PCK and CA only (root implied) verifies");
  free(q);
  p.no_root = false;

  /* collateral */
  o.collateral_dir = w.dir;
  char *up = level(5, 11, 3, 0, 5, "UpToDate"), *old = level(2, 5, 3, 0, 5, "OutOfDate"),
       *rev = level(5, 11, 3, 0, 5, "Revoked"), *hi = level(6, 11, 3, 0, 5, "UpToDate");
  char levels[16384];
  coll_params c = {.levels = levels};
  snprintf(levels, sizeof levels, "[%s,%s]", up, old);
  write_collateral(&w, &c);
  q = tdx_make(&w, &p, &n);
  TAP_OK(accepted(q, n, &o) && !strcmp(last_tcb, "UpToDate"),
         "collateral: UpToDate platform verifies (%s)", last_tcb);
  snprintf(levels, sizeof levels, "[%s,%s]", hi, old);
  write_collateral(&w, &c);
  TAP_OK(accepted(q, n, &o) && !strcmp(last_tcb, "OutOfDate"),
         "collateral: a platform below the newest level is reported OutOfDate (%s)", last_tcb);
  snprintf(levels, sizeof levels, "[%s,%s]", rev, old);
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "Revoked"), "collateral: a Revoked TCB level is refused");
  snprintf(levels, sizeof levels, "[%s]", hi);
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "below every level"),
         "collateral: a platform below every level is refused");
  snprintf(levels, sizeof levels, "[%s,%s]", up, old);
  c.revoke_pck = serial_of(w.pck);
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "revoked"), "collateral: a PCK listed in the PCK CRL is refused");
  c.revoke_pck = 0;
  c.tamper_tcbinfo = true;
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "tcb-info"),
         "collateral: a tcbinfo.json changed after signing is refused");
  c.tamper_tcbinfo = false;
  c.fmspc = "00906ED50001";
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "FMSPC"), "collateral: TCB info for another FMSPC is refused");
  c.fmspc = NULL;
  c.no_signing_chain = true;
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "collateral-signer"),
         "collateral: without tcb-signing-chain.pem the built-in Intel signer cannot vouch for "
         "documents signed by another key");
  c.no_signing_chain = false;
  c.qe_levels =
      "[{\"tcb\":{\"isvsvn\":6},\"tcbDate\":\"2023-02-15T00:00:00Z\","
      "\"tcbStatus\":\"UpToDate\"}]";
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "qe-identity"), "collateral: a QE below every QE level is refused");
  c.qe_levels = NULL;
  write_collateral(&w, &c);
  o.now = T("2024-03-01T00:00:00Z");
  TAP_OK(refused(q, n, &o, "expired"), "collateral: past nextUpdate is refused");
  o.now = T("2024-01-15T00:00:00Z");
  free(q);
  p.tee_tcb_svn[2] = 4;
  q = tdx_make(&w, &p, &n);
  TAP_OK(refused(q, n, &o, "below every level"),
         "collateral: TEE_TCB_SVN below the levels' TDX components is refused");
  free(q);

  /* a TDX module of major version 1: its identity from tdxModuleIdentities */
  p.tee_tcb_svn[0] = 2;
  p.tee_tcb_svn[1] = 1;
  p.tee_tcb_svn[2] = 5;
  q = tdx_make(&w, &p, &n);
  static const char zeros96[] =
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "000000";
  char module[2048];
  snprintf(module, sizeof module,
           "\"tdxModule\":{\"mrsigner\":\"%s\",\"attributes\":\"0000000000000000\","
           "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tdxModuleIdentities\":[{\"id\":"
           "\"TDX_01\",\"mrsigner\":\"%s\",\"attributes\":\"0000000000000000\","
           "\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":{\"isvsvn\":2},"
           "\"tcbDate\":\"2023-02-15T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}]",
           zeros96, zeros96);
  c.module = module;
  free(up);
  up = level(5, 11, 9, 9, 5, "UpToDate"); /* module SVN bytes are not compared here */
  snprintf(levels, sizeof levels, "[%s]", up);
  write_collateral(&w, &c);
  TAP_OK(accepted(q, n, &o), "collateral: a major-version-1 TDX module is matched by TDX_01");
  snprintf(module, sizeof module,
           "\"tdxModuleIdentities\":[{\"id\":\"TDX_02\",\"mrsigner\":\"%s\","
           "\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\","
           "\"tcbLevels\":[]}]",
           zeros96);
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "tdx-module"),
         "collateral: no identity for the TDX module's major version");
  free(q);
  free(up);
  free(old);
  free(rev);
  free(hi);

  /* the TDX quote inside an envelope, bound to the guest */
  uint8_t mod[48] = {7}, binding[64];
  ehal_binding_compute((const uint8_t *)"abc", 3, mod, "elastic-tee-attestation", "tdx-svc",
                       binding);
  p = (tdx_params){.version = 4,
                   .body_type = 2,
                   .tee_tcb_svn = {3, 0, 5},
                   .qe_isvsvn = 4,
                   .report_data = binding};
  q = tdx_make(&w, &p, &n);
  char *env = envelope("tdx", "tdx-quote", q, n, NULL, 0, (const uint8_t *)"abc", 3, mod,
                       "elastic-tee-attestation", "tdx-svc");
  o.collateral_dir = NULL;
  TAP_OK(env_accepted(env, &o), "a TDX quote in an envelope verifies with its binding");
  free(env);
  env = envelope("tdx", "tdx-quote", q, n, NULL, 0, (const uint8_t *)"abd", 3, mod,
                 "elastic-tee-attestation", "tdx-svc");
  TAP_OK(env_refused(env, &o, "binding"), "  ... and another report-data breaks the binding");
  free(env);
  free(q);
  tdxw_free(&w);
}

/* ------------------------------------------------------------------ */
/* Collateral forgeries (regressions for the review fixes)             */
/* ------------------------------------------------------------------ */

/* A collateral file of w's directory as a string (malloc'd). */
static char *read_coll(const tdxw *w, const char *name) {
  size_t n = 0;
  uint8_t *b = slurp(w->dir, name, &n);
  char *s = malloc(n + 1);
  memcpy(s, b, n);
  s[n] = 0;
  free(b);
  return s;
}

/* The raw text of `member` in a document written by write_signed
 * ({"member":BODY,"signature":"..."}), malloc'd. */
static char *signed_text(const char *doc, const char *member) {
  char head[64];
  snprintf(head, sizeof head, "{\"%s\":", member);
  const char *p = strstr(doc, head), *e = strstr(doc, ",\"signature\":");
  if (p != doc || !e) {
    printf("Bail out! unexpected collateral layout\n");
    exit(1);
  }
  p += strlen(head);
  return strndup(p, (size_t)(e - p));
}

/* Appends ,"key":value as a last top-level member of a collateral file:
 * the signature still covers the first, genuinely signed member. */
static void append_member(const tdxw *w, const char *name, const char *key, const char *value) {
  char *doc = read_coll(w, name);
  size_t n = strlen(doc);
  while (n && doc[n - 1] != '}') n--;
  if (!n) {
    printf("Bail out! %s is not an object\n", name);
    exit(1);
  }
  size_t cap = n + strlen(key) + strlen(value) + 16;
  char *out = malloc(cap);
  int len = snprintf(out, cap, "%.*s,\"%s\":%s}", (int)(n - 1), doc, key, value);
  write_file(w, name, out, (size_t)len);
  free(out);
  free(doc);
}

static void test_collateral_forgery(void) {
  tdxw w;
  tdxw_init(&w, 5);
  ehal_verify_opts o;
  ehal_verify_opts_init(&o);
  o.intel_root_pem = w.root_pem;
  o.now = T("2024-01-15T00:00:00Z");
  o.collateral_dir = w.dir;
  tdx_params p = {.version = 4, .body_type = 2, .tee_tcb_svn = {3, 0, 5}, .qe_isvsvn = 4};
  size_t n;
  uint8_t *q = tdx_make(&w, &p, &n);
  char *up = level(5, 11, 3, 0, 5, "UpToDate"), *hi = level(6, 11, 3, 0, 5, "UpToDate");
  char good[8192], bad[8192];
  snprintf(good, sizeof good, "[%s]", up);
  snprintf(bad, sizeof bad, "[%s]", hi);
  coll_params c = {.levels = good};

  /* the forged bodies: what a genuine document would say for this platform */
  write_collateral(&w, &c);
  TAP_OK(accepted(q, n, &o) && !strcmp(last_tcb, "UpToDate"),
         "collateral forgery: the forged TCB info, had Intel signed it, would say UpToDate");
  char *tcb_doc = read_coll(&w, "tcbinfo.json"), *qe_doc = read_coll(&w, "qe-identity.json");
  char *forged_tcb = signed_text(tcb_doc, "tcbInfo");
  char *forged_qe = signed_text(qe_doc, "enclaveIdentity");

  /* genuinely signed TCB info under which this platform is below every level */
  c.levels = bad;
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "below every level"),
         "collateral forgery: the genuinely signed TCB info refuses this platform");
  static const char *const tcb_keys[] = {"tcbInfo", "tcb\\u0049nfo", "tcbI\\u006efo"};
  for (size_t i = 0; i < sizeof tcb_keys / sizeof *tcb_keys; i++) {
    write_collateral(&w, &c);
    append_member(&w, "tcbinfo.json", tcb_keys[i], forged_tcb);
    bool ok = refused(q, n, &o, "tcb-info");
    TAP_OK(ok && strcmp(last_tcb, "UpToDate") != 0,
           "collateral forgery: a signed tcbinfo.json with a second, unsigned \"%s\" member "
           "claiming UpToDate is refused at tcb-info",
           tcb_keys[i]);
  }
  /* an escaped spelling of the signed member itself is refused too */
  write_collateral(&w, &c);
  {
    char *doc = read_coll(&w, "tcbinfo.json");
    char *body = signed_text(doc, "tcbInfo");
    char *sig = strstr(doc, ",\"signature\":");
    size_t cap = strlen(doc) + 64;
    char *out = malloc(cap);
    int len = snprintf(out, cap, "{\"tcb\\u0049nfo\":%s%s", body, sig);
    write_file(&w, "tcbinfo.json", out, (size_t)len);
    TAP_OK(refused(q, n, &o, "tcb-info"),
           "collateral forgery: a signed member under an escaped key (\"tcb\\u0049nfo\") is "
           "refused");
    free(out);
    free(body);
    free(doc);
  }

  /* the same for the QE identity: signed, this QE is below every level */
  c.levels = good;
  c.qe_levels =
      "[{\"tcb\":{\"isvsvn\":6},\"tcbDate\":\"2023-02-15T00:00:00Z\","
      "\"tcbStatus\":\"UpToDate\"}]";
  write_collateral(&w, &c);
  TAP_OK(refused(q, n, &o, "qe-identity"),
         "collateral forgery: the genuinely signed QE identity refuses this QE");
  static const char *const qe_keys[] = {"enclaveIdentity", "enclave\\u0049dentity"};
  for (size_t i = 0; i < sizeof qe_keys / sizeof *qe_keys; i++) {
    write_collateral(&w, &c);
    append_member(&w, "qe-identity.json", qe_keys[i], forged_qe);
    TAP_OK(refused(q, n, &o, "qe-identity"),
           "collateral forgery: a signed qe-identity.json with a second, unsigned \"%s\" member "
           "is refused at qe-identity",
           qe_keys[i]);
  }
  c.qe_levels = NULL;

  /* only Intel's TCB Signing certificate, issued by the root, may sign */
  X509 *tcb = w.tcb;
  EVP_PKEY *tcb_k = w.tcb_k;
  EVP_PKEY *k2 = EVP_EC_gen("P-256");
  struct {
    X509 *cert;
    X509 *mid; /* NULL: the chain file is cert, root */
    const char *what;
  } signers[] = {
      {mk_cert(k2, "Intel SGX PCK Certificate", w.root, w.root_k, false, NULL, 0), NULL,
       "a certificate with another CN (a PCK) issued by the pinned root"},
      {mk_cert(k2, "Test Other Signer", w.root, w.root_k, false, NULL, 0), NULL,
       "a certificate with another CN issued by the pinned root"},
      {mk_cert(k2, "Intel SGX TCB Signing", w.root, w.root_k, true, NULL, 0), NULL,
       "a CA certificate named Intel SGX TCB Signing"},
      {mk_cert(k2, "Intel SGX TCB Signing", w.ca, w.ca_k, false, NULL, 0), w.ca,
       "an Intel SGX TCB Signing certificate issued through an intermediate CA"},
  };
  for (size_t i = 0; i < sizeof signers / sizeof *signers; i++) {
    w.tcb = signers[i].cert;
    w.tcb_k = k2;
    write_collateral(&w, &c);
    char *pem = pem_of(signers[i].cert, signers[i].mid ? signers[i].mid : w.root,
                       signers[i].mid ? w.root : NULL);
    write_file(&w, "tcb-signing-chain.pem", pem, strlen(pem));
    free(pem);
    TAP_OK(refused(q, n, &o, "collateral-signer"),
           "collateral signer: collateral signed by %s is refused at collateral-signer",
           signers[i].what);
    X509_free(signers[i].cert);
  }
  w.tcb = tcb;
  w.tcb_k = tcb_k;
  EVP_PKEY_free(k2);
  write_collateral(&w, &c);
  TAP_OK(accepted(q, n, &o), "collateral signer: the real TCB Signing chain still verifies");

  free(forged_tcb);
  free(forged_qe);
  free(tcb_doc);
  free(qe_doc);
  free(up);
  free(hi);
  free(q);
  tdxw_free(&w);
}

/* ------------------------------------------------------------------ */
/* Small pieces                                                        */
/* ------------------------------------------------------------------ */

/* the pinned anchors (src/verify/roots.c) */
extern const char ehal_root_amd_milan[], ehal_root_amd_genoa[], ehal_root_amd_turin[],
    ehal_root_intel_sgx[];

/* The certificates of two PEM texts, compared as DER. */
static bool same_pem_certs(const char *a, const char *b) {
  BIO *ba = BIO_new_mem_buf(a, -1), *bb = BIO_new_mem_buf(b, -1);
  int n = 0;
  bool same = true;
  for (;;) {
    X509 *xa = PEM_read_bio_X509(ba, NULL, NULL, NULL),
         *xb = PEM_read_bio_X509(bb, NULL, NULL, NULL);
    if (!xa || !xb) {
      same = same && !xa && !xb && n > 0;
      X509_free(xa);
      X509_free(xb);
      break;
    }
    same = same && X509_cmp(xa, xb) == 0;
    n++;
    X509_free(xa);
    X509_free(xb);
  }
  BIO_free(ba);
  BIO_free(bb);
  return same;
}

static void test_pieces(void) {
  static const struct {
    const char *pinned, *dir, *file;
  } pins[] = {{ehal_root_amd_milan, EHAL_TESTDATA "/attestation/snp", "ask-ark-milan.pem"},
              {ehal_root_amd_genoa, EHAL_TESTDATA "/attestation/snp", "ask-ark-genoa.pem"},
              {ehal_root_amd_turin, EHAL_TESTDATA "/attestation/snp", "ask-ark-turin.pem"},
              {ehal_root_intel_sgx, EHAL_TESTDATA "/attestation/tdx", "intel-sgx-root-ca.pem"}};
  for (size_t i = 0; i < sizeof pins / sizeof *pins; i++) {
    size_t n;
    uint8_t *f = slurp(pins[i].dir, pins[i].file, &n);
    f[n] = 0;
    TAP_OK(same_pem_certs(pins[i].pinned, (const char *)f), "pinned anchors: %s is built in",
           pins[i].file);
    free(f);
  }
  time_t t;
  TAP_OK(ehal_parse_rfc3339("2023-06-20T00:00:00Z", &t) == 0 && t == 1687219200,
         "RFC 3339: 2023-06-20T00:00:00Z");
  TAP_OK(ehal_parse_rfc3339("2023-06-20T02:30:00.123+02:30", &t) == 0 && t == 1687219200,
         "RFC 3339: fraction and offset");
  static const char *const bad[] = {"2023-06-20",
                                    "2023-06-20 00:00:00Z",
                                    "2023-02-30T00:00:00Z",
                                    "2023-06-20T24:00:00Z",
                                    "2023-06-20T00:00:00",
                                    "2023-06-20T00:00:00Zjunk",
                                    "yesterday"};
  bool all = true;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (ehal_parse_rfc3339(bad[i], &t) == 0) {
      tap_diag("accepted %s", bad[i]);
      all = false;
    }
  TAP_OK(all, "RFC 3339: malformed times are refused");
  uint8_t b[4];
  TAP_OK(ehal_hex_decode("0aFf", b, 4) == 2 && b[0] == 0x0a && b[1] == 0xff &&
             ehal_hex_decode("abc", b, 4) < 0 && ehal_hex_decode("zz", b, 4) < 0 &&
             ehal_hex_decode("0011223344", b, 4) < 0,
         "hex decoding");

  /* TCB level matching on the real tcbinfo.json's levels */
  size_t n;
  uint8_t *ti = slurp(TDX_DIR, "tcbinfo.json", &n);
  ti[n] = 0;
  json_object *doc = json_tokener_parse((char *)ti), *info = NULL, *levels = NULL;
  json_object_object_get_ex(doc, "tcbInfo", &info);
  if (info) json_object_object_get_ex(info, "tcbLevels", &levels);
  const uint8_t sgx[16] = {5, 5, 2, 2, 3, 1, 0, 3}, tee[16] = {3, 0, 5};
  uint8_t tee_low[16] = {3, 0, 4};
  TAP_OK(ehal_tdx_match_tcb_level(levels, sgx, 11, tee, false) == 0,
         "TCB levels: the platform meeting the first level gets it");
  TAP_OK(ehal_tdx_match_tcb_level(levels, sgx, 10, tee, false) == 1,
         "TCB levels: PCESVN 10 falls to the second (OutOfDate) level");
  TAP_OK(ehal_tdx_match_tcb_level(levels, sgx, 4, tee, false) == -1,
         "TCB levels: PCESVN 4 meets no level");
  TAP_OK(ehal_tdx_match_tcb_level(levels, sgx, 11, tee_low, false) == -1,
         "TCB levels: TEE_TCB_SVN[2] 4 < 5 meets no level");
  tee_low[2] = 5;
  tee_low[0] = 0;
  TAP_OK(ehal_tdx_match_tcb_level(levels, sgx, 11, tee_low, true) == 0,
         "TCB levels: the module's SVN bytes are skipped for a major-version module");
  json_object_put(doc);
  free(ti);
}

int main(void) {
  test_pieces();
  test_snp_real();
  test_tdx_real();
  test_snp_synthetic();
  test_binding_and_envelopes();
  test_tdx_synthetic();
  test_collateral_forgery();
  return tap_done();
}
