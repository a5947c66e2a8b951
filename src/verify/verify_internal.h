/*
 * verify_internal.h - shared pieces of the verifier (src/verify/ only).
 */
#ifndef EHAL_VERIFY_INTERNAL_H
#define EHAL_VERIFY_INTERNAL_H

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>

#include "../util/byteorder.h"
#include "../util/fileio.h"
#include "../util/hex.h"
#include "verify.h"

/* Pinned anchors (roots.c, generated): PEM text. */
extern const char ehal_root_amd_milan[]; /* ASK then ARK */
extern const char ehal_root_amd_genoa[];
extern const char ehal_root_amd_turin[];
extern const char ehal_root_intel_sgx[];
extern const char ehal_root_intel_tcb_signing[];

typedef enum { CK_PASS, CK_FAIL, CK_SKIP } ck_status;

/* One verification in progress. */
typedef struct {
  const ehal_verify_opts *opts;
  ehal_verify_result *res;
  time_t now;
  bool failed;
  json_object *checks;   /* array of {check, status, detail} */
  json_object *evidence; /* parsed report / quote fields */
  json_object *certs;    /* certificates used */
  json_object *extra;    /* envelope, collateral: name -> object */
} vctx;

/* Records a check; the first failure becomes the result's reason
 * ("NAME: DETAIL").  Returns status == CK_PASS. */
__attribute__((format(printf, 3, 4))) bool vpass(vctx *c, const char *name, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) bool vfail(vctx *c, const char *name, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void vskip(vctx *c, const char *name, const char *fmt, ...);

/* What an envelope hands to the SNP and TDX verifiers. */
typedef struct {
  const uint8_t *vcek, *vlek, *ask, *ark; /* DER from the certificate table */
  size_t vcek_len, vlek_len, ask_len, ark_len;
  bool simulated;
} snp_inputs;

int ehal_verify_snp(vctx *c, const uint8_t *buf, size_t len, const snp_inputs *in);
int ehal_verify_tdx(vctx *c, const uint8_t *buf, size_t len);
int ehal_verify_envelope(vctx *c, const uint8_t *buf, size_t len);
/* An attested TLS certificate (ratls.c, cmw.h), PEM or DER. */
int ehal_verify_attested_cert(vctx *c, const uint8_t *buf, size_t len);

/* TDX collateral (collateral.c).  The PCK facts it needs from tdx.c: */
typedef struct {
  uint8_t sgx_svn[16];
  unsigned pcesvn;
  uint8_t fmspc[6], pceid[2];
  bool have_ext;
} pck_info;
typedef struct {
  const uint8_t *tee_tcb_svn, *mrsignerseam, *seam_attributes; /* 16, 48, 8 bytes */
  const uint8_t *qe_report;                                    /* 384 bytes */
} tdx_facts;
/* Loads the two CRLs (NULL on failure, with a recorded failure). */
STACK_OF(X509_CRL) * ehal_collateral_crls(vctx *c, const char *dir);
/* Signatures, dates, identity and TCB status of the JSON collateral. */
void ehal_collateral_check(vctx *c, const char *dir, X509 *root, STACK_OF(X509_CRL) * crls,
                           const pck_info *pck, const tdx_facts *f);

/* ---- helpers (util.c; hex, byte order and files: src/util/) ---- */
void jadd_hex(json_object *o, const char *key, const uint8_t *b, size_t n);
void jadd_str(json_object *o, const char *key, const char *s);
void jadd_int(json_object *o, const char *key, int64_t v);
void jadd_bool(json_object *o, const char *key, bool v);
void jadd_u64hex(json_object *o, const char *key, uint64_t v); /* "0x..." */

/* One certificate, DER or PEM. */
X509 *ehal_x509_parse(const uint8_t *b, size_t n);
/* Every certificate of PEM text, in order (NULL if none or malformed). */
STACK_OF(X509) * ehal_x509_pem_all(const char *pem, size_t len);
/* Subject (or issuer) one-line, RFC 2253. */
void ehal_x509_name(const X509_NAME *nm, char *out, size_t n);
/* Certificate summary into the certs JSON under role. */
void ehal_x509_describe(vctx *c, const char *role, X509 *x);
/* Verifies leaf up to anchor (the only trusted cert) at now.  Returns 0 or
 * -1 with OpenSSL's reason. */
int ehal_x509_chain(X509 *leaf, STACK_OF(X509) * untrusted, X509 *anchor, time_t now,
                    STACK_OF(X509_CRL) * crls, char *why, size_t n);
/* ECDSA with r and s as fixed-width integers (big- or little-endian). */
bool ehal_ecdsa_verify(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len,
                       const uint8_t *r, const uint8_t *s, size_t width, bool little_endian);
/* A P-256 public key from raw x || y. */
EVP_PKEY *ehal_p256_from_xy(const uint8_t xy[64]);
/* An INTEGER-valued X.509 extension by dotted OID; -1 when absent or not one. */
long ehal_x509_ext_int(X509 *x, const char *oid);
/* Raw contents of an X.509 extension's OCTET STRING by dotted OID. */
const uint8_t *ehal_x509_ext_data(X509 *x, const char *oid, size_t *len);
/* "YYYY-MM-DDTHH:MM:SSZ" */
void ehal_time_str(time_t t, char *out, size_t n);

/* A minimal DER reader: the element at *p (within end); fills tag, body. */
typedef struct {
  unsigned tag;
  const uint8_t *body;
  size_t len;
} der_el;
bool der_next(const uint8_t **p, const uint8_t *end, der_el *el);

/* The subject's first CN is exactly cn. */
bool ehal_x509_cn_is(X509 *x, const char *cn);

#endif
