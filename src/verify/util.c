/*
 * util.c - helpers of the verifier: JSON, X.509 and ECDSA on top of
 * OpenSSL, a strict RFC 3339 parser and a tiny DER reader.
 */
#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

void jadd_hex(json_object *o, const char *key, const uint8_t *b, size_t n) {
  char *s = ehal_hex_encode_alloc(b, n);
  if (!s) return;
  json_object_object_add(o, key, json_object_new_string(s));
  free(s);
}
void jadd_str(json_object *o, const char *key, const char *s) {
  json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}
void jadd_int(json_object *o, const char *key, int64_t v) {
  json_object_object_add(o, key, json_object_new_int64(v));
}
void jadd_bool(json_object *o, const char *key, bool v) {
  json_object_object_add(o, key, json_object_new_boolean(v));
}
void jadd_u64hex(json_object *o, const char *key, uint64_t v) {
  char s[24];
  snprintf(s, sizeof s, "0x%016llx", (unsigned long long)v);
  jadd_str(o, key, s);
}

X509 *ehal_x509_parse(const uint8_t *b, size_t n) {
  if (n == 0 || n > 1 << 20) return NULL;
  const unsigned char *p = b;
  X509 *x = d2i_X509(NULL, &p, (long)n);
  if (x) {
    if (p == b + n) return x; /* DER must be exactly one certificate */
    X509_free(x);
    return NULL;
  }
  ERR_clear_error();
  BIO *bio = BIO_new_mem_buf(b, (int)n);
  if (!bio) return NULL;
  x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  BIO_free(bio);
  ERR_clear_error();
  return x;
}

STACK_OF(X509) * ehal_x509_pem_all(const char *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  STACK_OF(X509) *sk = sk_X509_new_null();
  if (!bio || !sk) goto fail;
  X509 *x;
  while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if (!sk_X509_push(sk, x)) {
      X509_free(x);
      goto fail;
    }
  }
  ERR_clear_error();
  BIO_free(bio);
  if (sk_X509_num(sk) == 0) {
    sk_X509_free(sk);
    return NULL;
  }
  return sk;
fail:
  BIO_free(bio);
  sk_X509_pop_free(sk, X509_free);
  ERR_clear_error();
  return NULL;
}

void ehal_x509_name(const X509_NAME *nm, char *out, size_t n) {
  out[0] = 0;
  BIO *bio = BIO_new(BIO_s_mem());
  if (!bio) return;
  X509_NAME_print_ex(bio, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  int got = BIO_read(bio, out, (int)n - 1);
  out[got > 0 ? got : 0] = 0;
  BIO_free(bio);
}

static void asn1_time_str(const ASN1_TIME *t, char *out, size_t n) {
  struct tm tm;
  if (!t || !ASN1_TIME_to_tm(t, &tm)) {
    snprintf(out, n, "?");
    return;
  }
  strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ehal_time_str(time_t t, char *out, size_t n) {
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    snprintf(out, n, "?");
    return;
  }
  strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ehal_x509_describe(vctx *c, const char *role, X509 *x) {
  json_object *o = json_object_new_object();
  char buf[512];
  ehal_x509_name(X509_get_subject_name(x), buf, sizeof buf);
  jadd_str(o, "subject", buf);
  ehal_x509_name(X509_get_issuer_name(x), buf, sizeof buf);
  jadd_str(o, "issuer", buf);
  asn1_time_str(X509_get0_notBefore(x), buf, sizeof buf);
  jadd_str(o, "not_before", buf);
  asn1_time_str(X509_get0_notAfter(x), buf, sizeof buf);
  jadd_str(o, "not_after", buf);
  const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
  BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  jadd_str(o, "serial", hex ? hex : "?");
  OPENSSL_free(hex);
  BN_free(bn);
  json_object_object_add(c->certs, role, o);
}

int ehal_x509_chain(X509 *leaf, STACK_OF(X509) * untrusted, X509 *anchor, time_t now,
                    STACK_OF(X509_CRL) * crls, char *why, size_t n) {
  int rc = -1;
  X509_STORE *st = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  if (!st || !ctx || !X509_STORE_add_cert(st, anchor) ||
      !X509_STORE_CTX_init(ctx, st, leaf, untrusted)) {
    snprintf(why, n, "out of memory");
    goto out;
  }
  X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_time(p, now);
  if (crls) {
    X509_STORE_CTX_set0_crls(ctx, crls);
    X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  }
  if (X509_verify_cert(ctx) == 1) {
    rc = 0;
  } else {
    int err = X509_STORE_CTX_get_error(ctx);
    X509 *at = X509_STORE_CTX_get_current_cert(ctx);
    char who[256] = "?";
    if (at) {
      X509_NAME *nm = X509_get_subject_name(at);
      int i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
      ASN1_STRING *cn = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)) : NULL;
      if (cn) snprintf(who, sizeof who, "%.*s", ASN1_STRING_length(cn), ASN1_STRING_get0_data(cn));
    }
    snprintf(why, n, "%s (at %s)", X509_verify_cert_error_string(err), who);
  }
out:
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(st);
  ERR_clear_error();
  return rc;
}

bool ehal_ecdsa_verify(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len,
                       const uint8_t *r, const uint8_t *s, size_t width, bool little_endian) {
  bool ok = false;
  BIGNUM *br = little_endian ? BN_lebin2bn(r, (int)width, NULL) : BN_bin2bn(r, (int)width, NULL);
  BIGNUM *bs = little_endian ? BN_lebin2bn(s, (int)width, NULL) : BN_bin2bn(s, (int)width, NULL);
  ECDSA_SIG *sig = ECDSA_SIG_new();
  unsigned char *der = NULL;
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  if (!br || !bs || !sig || !mctx || !ECDSA_SIG_set0(sig, br, bs)) {
    BN_free(br);
    BN_free(bs);
    goto out;
  }
  int dlen = i2d_ECDSA_SIG(sig, &der);
  if (dlen <= 0) goto out;
  ok = EVP_DigestVerifyInit(mctx, NULL, md, NULL, key) == 1 &&
       EVP_DigestVerify(mctx, der, (size_t)dlen, msg, len) == 1;
out:
  EVP_MD_CTX_free(mctx);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  ERR_clear_error();
  return ok;
}

EVP_PKEY *ehal_p256_from_xy(const uint8_t xy[64]) {
  uint8_t pt[65];
  pt[0] = 4; /* uncompressed point */
  memcpy(pt + 1, xy, 64);
  EVP_PKEY *key = NULL;
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (!bld || !ctx ||
      !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt) ||
      !(params = OSSL_PARAM_BLD_to_param(bld)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
      EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    key = NULL;
  /* fromdata does not check that the point is on the curve */
  if (key) {
    EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!chk || EVP_PKEY_public_check(chk) != 1) {
      EVP_PKEY_free(key);
      key = NULL;
    }
    EVP_PKEY_CTX_free(chk);
  }
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  EVP_PKEY_CTX_free(ctx);
  ERR_clear_error();
  return key;
}

const uint8_t *ehal_x509_ext_data(X509 *x, const char *oid, size_t *len) {
  ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
  if (!obj) return NULL;
  int i = X509_get_ext_by_OBJ(x, obj, -1);
  ASN1_OBJECT_free(obj);
  if (i < 0) return NULL;
  ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(X509_get_ext(x, i));
  if (!d) return NULL;
  *len = (size_t)ASN1_STRING_length(d);
  return ASN1_STRING_get0_data(d);
}

long ehal_x509_ext_int(X509 *x, const char *oid) {
  size_t n;
  const uint8_t *d = ehal_x509_ext_data(x, oid, &n);
  if (!d) return -1;
  const uint8_t *p = d;
  der_el el;
  if (!der_next(&p, d + n, &el) || el.tag != 0x02 || p != d + n || el.len == 0 || el.len > 4 ||
      (el.body[0] & 0x80))
    return -1;
  long v = 0;
  for (size_t i = 0; i < el.len; i++) v = v << 8 | el.body[i];
  return v;
}

bool der_next(const uint8_t **pp, const uint8_t *end, der_el *el) {
  const uint8_t *p = *pp;
  if (p >= end || end - p < 2) return false;
  el->tag = *p++;
  if ((el->tag & 0x1f) == 0x1f) return false; /* multi-byte tags are not used here */
  size_t len = *p++;
  if (len & 0x80) {
    size_t nb = len & 0x7f;
    if (nb == 0 || nb > 4 || (size_t)(end - p) < nb) return false;
    len = 0;
    for (size_t i = 0; i < nb; i++) len = len << 8 | *p++;
  }
  if ((size_t)(end - p) < len) return false;
  el->body = p;
  el->len = len;
  *pp = p + len;
  return true;
}

/* ---- RFC 3339 ---- */

static bool digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

int ehal_parse_rfc3339(const char *s, time_t *out) {
  int Y, M, D, h, m, sec;
  if (strlen(s) < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
      !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
      s[13] != ':' || !digits(s + 14, 2, &m) || s[16] != ':' || !digits(s + 17, 2, &sec))
    return -1;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
  if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) || h > 23 ||
      m > 59 || sec > 60)
    return -1;
  const char *p = s + 19;
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p)) return -1;
    while (isdigit((unsigned char)*p)) p++;
  }
  long off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
      return -1;
    off = (oh * 60L + om) * 60L * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return -1;
  }
  if (*p) return -1;
  struct tm tm = {0};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec > 59 ? 59 : sec; /* a leap second counts as :59 */
  time_t t = timegm(&tm);
  if (t == (time_t)-1) return -1;
  *out = t - off;
  return 0;
}

bool ehal_x509_cn_is(X509 *x, const char *cn) {
  X509_NAME *nm = X509_get_subject_name(x);
  int i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
  ASN1_STRING *s = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)) : NULL;
  return s && (size_t)ASN1_STRING_length(s) == strlen(cn) &&
         memcmp(ASN1_STRING_get0_data(s), cn, strlen(cn)) == 0;
}
