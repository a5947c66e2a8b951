/*
 * ratls.c - verifying an attested TLS certificate (src/verify/cmw.h): its
 * self-signature and dates, the CMW extension, the evidence envelope in
 * it with every check an envelope gets, and that the envelope's
 * report-data is the hash of the certificate's own key.
 */
#include <openssl/pem.h>
#include <string.h>

#include "../util/base64.h"
#include "cmw.h"
#include "verify_internal.h"

/* The CMW record's envelope: malloc'd bytes, or NULL with a failure. */
static uint8_t *cmw_envelope(vctx *c, X509 *x, size_t *len) {
  size_t ext_len = 0;
  const uint8_t *ext = ehal_x509_ext_data(x, EHAL_CMW_OID, &ext_len);
  if (!ext) {
    vfail(c, "cmw", "the certificate has no %s extension (%s): it is not attested", EHAL_CMW_SN,
          EHAL_CMW_OID);
    return NULL;
  }
  const unsigned char *p = ext;
  ASN1_UTF8STRING *s = d2i_ASN1_UTF8STRING(NULL, &p, (long)ext_len);
  if (!s || p != ext + ext_len) {
    ASN1_UTF8STRING_free(s);
    vfail(c, "cmw", "the extension is not a CMW in its JSON form (a UTF8String)");
    return NULL;
  }
  json_tokener *tok = json_tokener_new();
  json_object *rec = tok ? json_tokener_parse_ex(tok, (const char *)ASN1_STRING_get0_data(s),
                                                 ASN1_STRING_length(s))
                         : NULL;
  bool whole = tok && json_tokener_get_error(tok) == json_tokener_success &&
               json_tokener_get_parse_end(tok) == (size_t)ASN1_STRING_length(s);
  json_tokener_free(tok);
  ASN1_UTF8STRING_free(s);
  uint8_t *env = NULL;
  size_t n =
      rec && whole && json_object_is_type(rec, json_type_array) ? json_object_array_length(rec) : 0;
  json_object *type = n ? json_object_array_get_idx(rec, 0) : NULL;
  json_object *val = n ? json_object_array_get_idx(rec, 1) : NULL;
  json_object *ind = n == 3 ? json_object_array_get_idx(rec, 2) : NULL;
  if ((n != 2 && n != 3) || !json_object_is_type(type, json_type_string) ||
      !json_object_is_type(val, json_type_string) ||
      (ind && (!json_object_is_type(ind, json_type_int) ||
               !(json_object_get_int64(ind) & EHAL_CMW_IND_EVIDENCE)))) {
    vfail(c, "cmw", "not a CMW record of evidence [type, value, 4]");
  } else if (strcmp(json_object_get_string(type), EHAL_CMW_MEDIA_TYPE) != 0) {
    vfail(c, "cmw", "the CMW holds %.80s, not %s", json_object_get_string(type),
          EHAL_CMW_MEDIA_TYPE);
  } else if (!(env = ehal_base64url_decode(json_object_get_string(val),
                                           (size_t)json_object_get_string_len(val), len))) {
    vfail(c, "cmw", "the CMW value is not unpadded base64url");
  } else {
    vpass(c, "cmw", "%s, %zu bytes of evidence envelope", EHAL_CMW_MEDIA_TYPE, *len);
  }
  json_object_put(rec);
  return env;
}

int ehal_verify_attested_cert(vctx *c, const uint8_t *buf, size_t len) {
  X509 *x = ehal_x509_parse(buf, len);
  if (!x) {
    vfail(c, "format", "not a certificate (PEM or DER)");
    return -1;
  }
  ehal_x509_describe(c, "attested-tls", x);
  EVP_PKEY *key = X509_get0_pubkey(x);
  if (key && X509_verify(x, key) == 1)
    vpass(c, "certificate-signature", "self-signed with the key it certifies");
  else
    vfail(c, "certificate-signature", "not self-signed with the key it certifies");
  if (X509_cmp_time(X509_get0_notBefore(x), &c->now) > 0 ||
      X509_cmp_time(X509_get0_notAfter(x), &c->now) < 0)
    vfail(c, "certificate-validity", "not valid at the verification time");
  else
    vpass(c, "certificate-validity", "valid at the verification time");
  /* the key the evidence must name */
  unsigned char *spki = NULL;
  int spki_len = key ? i2d_PUBKEY(key, &spki) : -1;
  /* report-data = the reserved prefix || SHA-256(SubjectPublicKeyInfo) */
  const size_t plen = sizeof EHAL_RATLS_REPORT_DATA_PREFIX - 1;
  uint8_t want[sizeof EHAL_RATLS_REPORT_DATA_PREFIX - 1 + 32];
  unsigned int want_len = 0;
  memcpy(want, EHAL_RATLS_REPORT_DATA_PREFIX, plen);
  bool hashed = spki_len > 0 &&
                EVP_Digest(spki, (size_t)spki_len, want + plen, &want_len, EVP_sha256(), NULL) == 1;
  OPENSSL_free(spki);
  size_t env_len = 0;
  uint8_t *env = hashed ? cmw_envelope(c, x, &env_len) : NULL;
  int rc = -1;
  if (!hashed) {
    vfail(c, "key-binding", "cannot read the certificate's key");
  } else if (c->opts->has_expect_report_data) {
    vfail(c, "report-data",
          "an expected report-data does not apply to a certificate: its report-data is the hash "
          "of its key");
  } else if (env) {
    /* the envelope, checked as any, against this key's hash */
    ehal_verify_opts o = *c->opts;
    const ehal_verify_opts *saved = c->opts;
    o.expect_report_data = want;
    o.expect_report_data_len = sizeof want;
    o.has_expect_report_data = true;
    c->opts = &o;
    c->res->envelope = true;
    rc = ehal_verify_envelope(c, env, env_len);
    c->opts = saved;
    if (rc == 0)
      vpass(c, "key-binding",
            "the evidence's report-data is %s and SHA-256 of the certificate's key",
            EHAL_RATLS_REPORT_DATA_PREFIX);
  }
  free(env);
  X509_free(x);
  return c->failed ? -1 : rc;
}
