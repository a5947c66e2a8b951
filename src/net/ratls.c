/* ratls.c - attested TLS identities (see ratls.h; format: docs/sockets.md). */
#define _GNU_SOURCE
#include "ratls.h"

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../attest/attest.h"
#include "../util/base64.h"
#include "../verify/cmw.h"
#include "../verify/verify.h"

/* The CMW record: ["MEDIA-TYPE", "BASE64URL(envelope)", 4], JSON text. */
static char *cmw_record(const char *envelope, size_t len) {
  char *b64 = ehal_base64url_encode((const uint8_t *)envelope, len), *out = NULL;
  if (b64 &&
      asprintf(&out, "[\"%s\",\"%s\",%d]", EHAL_CMW_MEDIA_TYPE, b64, EHAL_CMW_IND_EVIDENCE) < 0)
    out = NULL;
  free(b64);
  return out;
}

/* The extension: the CMW as a UTF8String (its JSON form). */
static X509_EXTENSION *cmw_extension(const char *json) {
  int nid = OBJ_txt2nid(EHAL_CMW_OID);
  if (nid == NID_undef) nid = OBJ_create(EHAL_CMW_OID, EHAL_CMW_SN, EHAL_CMW_LN);
  ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
  unsigned char *der = NULL;
  int der_len;
  X509_EXTENSION *ext = NULL;
  if (s && ASN1_STRING_set(s, json, (int)strlen(json)) == 1 &&
      (der_len = i2d_ASN1_UTF8STRING(s, &der)) > 0) {
    ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
    if (v && ASN1_OCTET_STRING_set(v, der, der_len) == 1)
      ext = X509_EXTENSION_create_by_NID(NULL, nid, 0, v);
    ASN1_OCTET_STRING_free(v);
  }
  OPENSSL_free(der);
  ASN1_UTF8STRING_free(s);
  return ext;
}

int ehal_ratls_identity(const ehal_ratls_subject *subj, EVP_PKEY **key_out, X509 **cert_out,
                        char *err, size_t errlen) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = X509_new();
  unsigned char *spki = NULL;
  char *envelope = NULL, *cmw = NULL;
  size_t env_len = 0;
  int spki_len, rc = -1;
  uint8_t rd[32], serial[16];
  unsigned int rd_len = 0;
  if (!key || !cert || (spki_len = i2d_PUBKEY(key, &spki)) <= 0 ||
      EVP_Digest(spki, (size_t)spki_len, rd, &rd_len, EVP_sha256(), NULL) != 1) {
    snprintf(err, errlen, "attested TLS: cannot make a key");
    goto out;
  }
  /* the evidence names this key: report-data = the reserved prefix ||
   * SHA-256(SubjectPublicKeyInfo) (ehal_attest_tls_key) */
  char why[512];
  if (ehal_attest_tls_key(rd, subj->module_sha384, subj->world, subj->workload, subj->state_dir,
                          &envelope, &env_len, why, sizeof why) != 0) {
    snprintf(err, errlen, "attested TLS: no evidence on this platform: %s", why);
    goto out;
  }
  X509_EXTENSION *ext = (cmw = cmw_record(envelope, env_len)) ? cmw_extension(cmw) : NULL;
  X509_NAME *name = X509_get_subject_name(cert);
  char cn[200];
  snprintf(cn, sizeof cn, "elastic-hal attested workload %.120s", subj->workload);
  BIGNUM *bn = NULL;
  ASN1_INTEGER *sn = NULL;
  bool ok = ext && RAND_bytes(serial, sizeof serial) == 1 &&
            (serial[0] &= 0x7f, (bn = BN_bin2bn(serial, sizeof serial, NULL)) != NULL) &&
            (sn = BN_to_ASN1_INTEGER(bn, NULL)) != NULL && X509_set_version(cert, 2) == 1 &&
            X509_set_serialNumber(cert, sn) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                       0) == 1 &&
            X509_set_issuer_name(cert, name) == 1 &&
            /* valid from a minute ago (clock skew) for a day; the
             * contexts are made again after 12 hours (ehal_tls_ctx_stale) */
            X509_gmtime_adj(X509_getm_notBefore(cert), -60) &&
            X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600) &&
            X509_set_pubkey(cert, key) == 1 && X509_add_ext(cert, ext, -1) == 1 &&
            X509_sign(cert, key, EVP_sha256()) > 0;
  X509_EXTENSION_free(ext);
  ASN1_INTEGER_free(sn);
  BN_free(bn);
  if (!ok) {
    snprintf(err, errlen, "attested TLS: cannot make the certificate");
    goto out;
  }
  *key_out = key;
  *cert_out = cert;
  key = NULL;
  cert = NULL;
  rc = 0;
out:
  EVP_PKEY_free(key);
  X509_free(cert);
  OPENSSL_free(spki);
  free(envelope);
  free(cmw);
  return rc;
}

int ehal_ratls_check_peer(const uint8_t *der, size_t len, const ehal_ratls_policy *p, char *err,
                          size_t errlen) {
  ehal_verify_opts o;
  ehal_verify_opts_init(&o);
  o.allow_simulated = p->allow_simulated;
  if (p->module_sha384[0]) {
    if (ehal_attest_sha384_from_hex(p->module_sha384, o.expect_module_sha384) != 0) {
      snprintf(err, errlen, "the policy's module-sha384 is not 96 hex digits");
      return -1;
    }
    o.has_expect_module = true;
  }
  o.expect_world = p->world[0] ? p->world : NULL;
  o.expect_workload = p->workload[0] ? p->workload : NULL;
  ehal_verify_result r;
  int rc = ehal_verify(der, len, &o, &r);
  if (rc != 0) snprintf(err, errlen, "attested peer refused: %s", r.reason);
  ehal_verify_result_free(&r);
  return rc;
}
