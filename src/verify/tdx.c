/*
 * tdx.c - Intel TDX quotes (DCAP quote format versions 4 and 5, ECDSA P-256
 * attestation key): header and TD report body parsed field by field, the
 * quote signature, the QE report's signature by the PCK leaf and its
 * report-data binding of the attestation key, the PCK chain to the pinned
 * Intel SGX Root CA, the debug attribute, trailing bytes, and with
 * collateral the CRLs and TCB status (collateral.c).
 */
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

#define HDR_LEN 48
#define BODY10_LEN 584 /* TD report 1.0 */
#define BODY15_LEN 648 /* TD report 1.5: + TEE_TCB_SVN2, MRSERVICETD */
#define QE_REPORT_LEN 384
#define TEE_TYPE_TDX 0x81
#define ATT_KEY_ECDSA_P256 2

/* A parsed quote: pointers into the caller's buffer. */
typedef struct {
  unsigned version, att_key_type, body_type;
  uint32_t tee_type;
  const uint8_t *hdr, *body;
  size_t body_len, signed_len, quote_len;
  const uint8_t *sig, *att_key; /* 64 + 64 */
  const uint8_t *qe_report, *qe_sig, *qe_auth;
  size_t qe_auth_len;
  const uint8_t *pck_pem;
  size_t pck_pem_len;
} quote;

static int parse_quote(const uint8_t *b, size_t len, quote *q, char *why, size_t n) {
  memset(q, 0, sizeof *q);
  if (len < HDR_LEN + 6) {
    snprintf(why, n, "TDX quote truncated (%zu bytes)", len);
    return -1;
  }
  q->hdr = b;
  q->version = ehal_get_u16(b);
  q->att_key_type = ehal_get_u16(b + 2);
  q->tee_type = ehal_get_u32(b + 4);
  if (q->version != 4 && q->version != 5) {
    snprintf(why, n, "unsupported quote version %u (4 and 5 are)", q->version);
    return -1;
  }
  if (q->tee_type != TEE_TYPE_TDX) {
    snprintf(why, n, "TEE type 0x%x is not TDX (0x81)", q->tee_type);
    return -1;
  }
  if (q->att_key_type != ATT_KEY_ECDSA_P256) {
    snprintf(why, n, "attestation key type %u is not ECDSA P-256 (2)", q->att_key_type);
    return -1;
  }
  size_t off = HDR_LEN;
  if (q->version == 4) {
    q->body_type = 2;
    q->body_len = BODY10_LEN;
  } else {
    q->body_type = ehal_get_u16(b + off);
    q->body_len = ehal_get_u32(b + off + 2);
    off += 6;
    size_t want = q->body_type == 2 ? BODY10_LEN : q->body_type == 3 ? BODY15_LEN : 0;
    if (!want) {
      snprintf(why, n, "quote body type %u is not a TD report (2: TDX 1.0, 3: TDX 1.5)",
               q->body_type);
      return -1;
    }
    if (q->body_len != want) {
      snprintf(why, n, "quote body of type %u declares %zu bytes (it has %zu)", q->body_type,
               q->body_len, want);
      return -1;
    }
  }
  if (len - off < q->body_len + 4) {
    snprintf(why, n, "TDX quote truncated in its body");
    return -1;
  }
  q->body = b + off;
  off += q->body_len;
  q->signed_len = off;
  size_t sig_len = ehal_get_u32(b + off);
  off += 4;
  if (sig_len > len - off) {
    snprintf(why, n, "signature data of %zu bytes runs past the end of the quote", sig_len);
    return -1;
  }
  const uint8_t *s = b + off, *end = s + sig_len;
  q->quote_len = off + sig_len;
  if (sig_len < 64 + 64 + 6) {
    snprintf(why, n, "signature data too short (%zu bytes)", sig_len);
    return -1;
  }
  q->sig = s;
  q->att_key = s + 64;
  s += 128;
  unsigned ctype = ehal_get_u16(s);
  size_t csize = ehal_get_u32(s + 2);
  s += 6;
  if (ctype != 6) {
    snprintf(why, n, "certification data type %u is not 6 (QE report certification data)", ctype);
    return -1;
  }
  /* every size must account exactly for the bytes it covers */
  if (csize != (size_t)(end - s)) {
    snprintf(why, n, "certification data size %zu does not fill the signature data (%zu)", csize,
             (size_t)(end - s));
    return -1;
  }
  if (csize < QE_REPORT_LEN + 64 + 2) {
    snprintf(why, n, "QE report certification data too short");
    return -1;
  }
  q->qe_report = s;
  q->qe_sig = s + QE_REPORT_LEN;
  s += QE_REPORT_LEN + 64;
  q->qe_auth_len = ehal_get_u16(s);
  s += 2;
  if ((size_t)(end - s) < q->qe_auth_len + 6) {
    snprintf(why, n, "QE authentication data runs past the certification data");
    return -1;
  }
  q->qe_auth = s;
  s += q->qe_auth_len;
  unsigned itype = ehal_get_u16(s);
  size_t isize = ehal_get_u32(s + 2);
  s += 6;
  if (itype != 5) {
    snprintf(why, n, "inner certification data type %u is not 5 (PCK certificate chain)", itype);
    return -1;
  }
  if (isize != (size_t)(end - s)) {
    snprintf(why, n, "PCK chain size %zu does not fill the certification data (%zu)", isize,
             (size_t)(end - s));
    return -1;
  }
  q->pck_pem = s;
  q->pck_pem_len = isize;
  return 0;
}

static bool b64char(uint8_t ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         ch == '+' || ch == '/' || ch == '=';
}

/* The PCK chain, parsed strictly: CERTIFICATE blocks of canonical base64
 * (any line length), line breaks between them, NUL padding at the end.
 * Strictness makes every byte of the quote count. */
static STACK_OF(X509) * pem_chain_strict(const uint8_t *d, size_t n, char *why, size_t wn) {
  static const char begin[] = "-----BEGIN CERTIFICATE-----", endm[] = "-----END CERTIFICATE-----";
  STACK_OF(X509) *sk = sk_X509_new_null();
  char *b64 = malloc(n + 1);
  uint8_t *der = malloc(n + 1);
  size_t p = 0;
  if (!sk || !b64 || !der) goto fail;
  for (;;) {
    while (p < n && (d[p] == '\n' || d[p] == '\r')) p++;
    if (p == n || d[p] == 0) {
      for (; p < n; p++)
        if (d[p]) {
          snprintf(why, wn, "non-zero byte after the PCK chain's NUL padding");
          goto fail;
        }
      break;
    }
    if (sk_X509_num(sk) == 5 || n - p < sizeof begin - 1 ||
        memcmp(d + p, begin, sizeof begin - 1) != 0) {
      snprintf(why, wn, "PCK chain: malformed PEM at byte %zu", p);
      goto fail;
    }
    p += sizeof begin - 1;
    size_t m = 0;
    for (;;) { /* line end, then a base64 line or the END marker */
      if (p < n && d[p] == '\r') p++;
      if (p >= n || d[p] != '\n') {
        snprintf(why, wn, "PCK chain: malformed PEM line at byte %zu", p);
        goto fail;
      }
      p++;
      if (n - p >= sizeof endm - 1 && memcmp(d + p, endm, sizeof endm - 1) == 0) break;
      size_t q = p;
      while (q < n && b64char(d[q])) b64[m++] = (char)d[q++];
      if (q == p) {
        snprintf(why, wn, "PCK chain: malformed PEM line at byte %zu", p);
        goto fail;
      }
      p = q;
    }
    p += sizeof endm - 1;
    if (p < n && d[p] != '\n' && d[p] != '\r' && d[p] != 0) {
      snprintf(why, wn, "PCK chain: malformed PEM end at byte %zu", p);
      goto fail;
    }
    b64[m] = 0;
    size_t pad = m >= 1 && b64[m - 1] == '=' ? (m >= 2 && b64[m - 2] == '=' ? 2 : 1) : 0;
    if (m == 0 || m % 4 || strcspn(b64, "=") != m - pad) {
      snprintf(why, wn, "PCK chain: malformed base64");
      goto fail;
    }
    int dl = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)m);
    if (dl < 0) {
      snprintf(why, wn, "PCK chain: malformed base64");
      goto fail;
    }
    dl -= (int)pad;
    /* canonical: re-encoding gives the same text (no stray padding bits) */
    char *re = malloc(m + 1);
    bool same =
        re && EVP_EncodeBlock((unsigned char *)re, der, dl) == (int)m && memcmp(re, b64, m) == 0;
    free(re);
    const unsigned char *dp = der;
    X509 *x = same ? d2i_X509(NULL, &dp, dl) : NULL;
    if (!x || dp != der + dl) {
      X509_free(x);
      snprintf(why, wn, "PCK chain: certificate %d is not valid DER", sk_X509_num(sk) + 1);
      goto fail;
    }
    sk_X509_push(sk, x);
  }
  free(b64);
  free(der);
  if (sk_X509_num(sk) < 2) {
    snprintf(why, wn, "PCK chain: %d certificate(s), at least the PCK and its CA are needed",
             sk_X509_num(sk));
    sk_X509_pop_free(sk, X509_free);
    return NULL;
  }
  return sk;
fail:
  free(b64);
  free(der);
  sk_X509_pop_free(sk, X509_free);
  ERR_clear_error();
  return NULL;
}

/* The PCK certificate's SGX extensions: TCB components, PCESVN, PCE-ID,
 * FMSPC (OID 1.2.840.113741.1.13.1). */
static const uint8_t SGX_OID[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};

static bool der_uint(const der_el *el, unsigned *out) {
  if (el->tag != 0x02 || el->len == 0 || el->len > 3 || (el->body[0] & 0x80)) return false;
  unsigned v = 0;
  for (size_t i = 0; i < el->len; i++) v = v << 8 | el->body[i];
  *out = v;
  return true;
}

static void pck_extensions(X509 *leaf, pck_info *pi) {
  memset(pi, 0, sizeof *pi);
  size_t n;
  const uint8_t *d = ehal_x509_ext_data(leaf, "1.2.840.113741.1.13.1", &n);
  if (!d) return;
  const uint8_t *p = d, *end = d + n;
  der_el seq, item, oid, val;
  if (!der_next(&p, end, &seq) || seq.tag != 0x30) return;
  bool tcb = false, fmspc = false, pceid = false;
  unsigned comps = 0;
  for (const uint8_t *q = seq.body; q < seq.body + seq.len;) {
    if (!der_next(&q, seq.body + seq.len, &item) || item.tag != 0x30) return;
    const uint8_t *r = item.body;
    if (!der_next(&r, item.body + item.len, &oid) || oid.tag != 0x06 ||
        !der_next(&r, item.body + item.len, &val))
      return;
    if (oid.len != sizeof SGX_OID + 1 || memcmp(oid.body, SGX_OID, sizeof SGX_OID)) continue;
    unsigned which = oid.body[sizeof SGX_OID];
    if (which == 2 && val.tag == 0x30) { /* TCB: SEQUENCE of {OID .2.N, value} */
      for (const uint8_t *t = val.body; t < val.body + val.len;) {
        der_el ti, to, tv;
        if (!der_next(&t, val.body + val.len, &ti) || ti.tag != 0x30) return;
        const uint8_t *u = ti.body;
        if (!der_next(&u, ti.body + ti.len, &to) || !der_next(&u, ti.body + ti.len, &tv) ||
            to.tag != 0x06 || to.len != sizeof SGX_OID + 2 || memcmp(to.body, SGX_OID, 9) ||
            to.body[9] != 2)
          return;
        unsigned k = to.body[10], v;
        if (k >= 1 && k <= 16) {
          if (!der_uint(&tv, &v) || v > 255) return;
          pi->sgx_svn[k - 1] = (uint8_t)v;
          comps |= 1u << (k - 1);
        } else if (k == 17) {
          if (!der_uint(&tv, &v) || v > 65535) return;
          pi->pcesvn = v;
          comps |= 1u << 16;
        }
      }
      tcb = comps == 0x1ffff;
    } else if (which == 3 && val.tag == 0x04 && val.len == 2) {
      memcpy(pi->pceid, val.body, 2);
      pceid = true;
    } else if (which == 4 && val.tag == 0x04 && val.len == 6) {
      memcpy(pi->fmspc, val.body, 6);
      fmspc = true;
    }
  }
  pi->have_ext = tcb && fmspc && pceid;
}

static json_object *quote_json(const quote *q, const uint8_t *b) {
  json_object *o = json_object_new_object();
  jadd_int(o, "version", q->version);
  jadd_int(o, "attestation_key_type", q->att_key_type);
  char t[16];
  snprintf(t, sizeof t, "0x%x", q->tee_type);
  jadd_str(o, "tee_type", t);
  jadd_hex(o, "header_reserved", b + 8, 4);
  jadd_hex(o, "qe_vendor_id", b + 12, 16);
  jadd_hex(o, "user_data", b + 28, 20);
  jadd_int(o, "body_type", q->body_type);
  const uint8_t *d = q->body;
  jadd_hex(o, "tee_tcb_svn", d, 16);
  jadd_hex(o, "mrseam", d + 16, 48);
  jadd_hex(o, "mrsignerseam", d + 64, 48);
  jadd_hex(o, "seam_attributes", d + 112, 8);
  json_object *a = json_object_new_object();
  jadd_hex(a, "raw", d + 120, 8);
  jadd_bool(a, "debug", d[120] & 1);
  jadd_bool(a, "sept_ve_disable", d[123] >> 4 & 1);
  jadd_bool(a, "pks", d[123] >> 6 & 1);
  jadd_bool(a, "kl", d[123] >> 7 & 1);
  jadd_bool(a, "perfmon", d[127] >> 7 & 1);
  json_object_object_add(o, "td_attributes", a);
  jadd_hex(o, "xfam", d + 128, 8);
  jadd_hex(o, "mrtd", d + 136, 48);
  jadd_hex(o, "mrconfigid", d + 184, 48);
  jadd_hex(o, "mrowner", d + 232, 48);
  jadd_hex(o, "mrownerconfig", d + 280, 48);
  json_object *rt = json_object_new_array();
  for (int i = 0; i < 4; i++) {
    char h[97];
    ehal_hex_encode(d + 328 + 48 * i, 48, h);
    json_object_array_add(rt, json_object_new_string(h));
  }
  json_object_object_add(o, "rtmrs", rt);
  jadd_hex(o, "report_data", d + 520, 64);
  if (q->body_type == 3) {
    jadd_hex(o, "tee_tcb_svn2", d + 584, 16);
    jadd_hex(o, "mrservicetd", d + 600, 48);
  }
  jadd_hex(o, "signature", q->sig, 64);
  jadd_hex(o, "attestation_key", q->att_key, 64);
  json_object *qe = json_object_new_object();
  const uint8_t *r = q->qe_report;
  jadd_hex(qe, "cpusvn", r, 16);
  jadd_hex(qe, "miscselect", r + 16, 4);
  jadd_hex(qe, "attributes", r + 48, 16);
  jadd_hex(qe, "mrenclave", r + 64, 32);
  jadd_hex(qe, "mrsigner", r + 128, 32);
  jadd_int(qe, "isvprodid", ehal_get_u16(r + 256));
  jadd_int(qe, "isvsvn", ehal_get_u16(r + 258));
  jadd_hex(qe, "report_data", r + 320, 64);
  jadd_hex(qe, "signature", q->qe_sig, 64);
  jadd_hex(qe, "auth_data", q->qe_auth, q->qe_auth_len);
  json_object_object_add(o, "qe_report", qe);
  jadd_int(o, "quote_length", (int64_t)q->quote_len);
  return o;
}

static bool same_cert(X509 *a, X509 *b) {
  unsigned char *da = NULL, *db = NULL;
  int la = i2d_X509(a, &da), lb = i2d_X509(b, &db);
  bool same = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;
  OPENSSL_free(da);
  OPENSSL_free(db);
  return same;
}

int ehal_verify_tdx(vctx *c, const uint8_t *buf, size_t len) {
  const ehal_verify_opts *o = c->opts;
  ehal_verify_result *res = c->res;
  res->kind = EHAL_EVIDENCE_TDX;
  quote q;
  char why[400];
  if (parse_quote(buf, len, &q, why, sizeof why) != 0) {
    vfail(c, "format", "%s", why);
    return -1;
  }
  res->version = (int)q.version;
  memcpy(res->report_data, q.body + 520, 64);
  memcpy(res->measurement, q.body + 136, 48);
  c->evidence = quote_json(&q, buf);
  vpass(c, "format", "TDX quote version %u, TD report %s, ECDSA P-256 attestation key", q.version,
        q.body_type == 3 ? "1.5" : "1.0");

  size_t trail = len - q.quote_len, nz = 0;
  for (size_t i = q.quote_len; i < len; i++) nz += buf[i] != 0;
  if (trail == 0)
    vpass(c, "trailing-data", "none");
  else if (nz == 0)
    vpass(c, "trailing-data", "%zu bytes of zero padding after the quote, ignored", trail);
  else if (o->allow_trailing)
    vpass(c, "trailing-data", "%zu bytes after the quote, %zu non-zero, ignored as allowed", trail,
          nz);
  else
    vfail(c, "trailing-data",
          "%zu bytes after the quote's end, %zu of them non-zero (only zero padding is "
          "accepted without --allow-trailing-data)",
          trail, nz);
  if (o->vcek || o->vcek_path) vfail(c, "options", "--vcek applies to SEV-SNP reports only");

  /* the quote signature: header and body, by the attestation key */
  EVP_PKEY *ak = ehal_p256_from_xy(q.att_key);
  if (!ak)
    vfail(c, "quote-signature", "the attestation key is not a P-256 point");
  else if (!ehal_ecdsa_verify(ak, EVP_sha256(), buf, q.signed_len, q.sig, q.sig + 32, 32, false))
    vfail(c, "quote-signature", "the quote's signature does not verify with its attestation key");
  else
    res->signature_ok = vpass(c, "quote-signature",
                              "ECDSA P-256 over the header and TD report (%zu bytes) with the "
                              "attestation key",
                              q.signed_len);
  EVP_PKEY_free(ak);

  /* the QE vouches for the attestation key through its report data */
  uint8_t h[32] = {0};
  EVP_MD_CTX *mc = EVP_MD_CTX_new();
  if (mc && EVP_DigestInit_ex(mc, EVP_sha256(), NULL) == 1) {
    EVP_DigestUpdate(mc, q.att_key, 64);
    EVP_DigestUpdate(mc, q.qe_auth, q.qe_auth_len);
    EVP_DigestFinal_ex(mc, h, NULL);
  }
  EVP_MD_CTX_free(mc);
  static const uint8_t zero[32];
  if (memcmp(h, q.qe_report + 320, 32) != 0 || memcmp(zero, q.qe_report + 352, 32) != 0)
    vfail(c, "qe-report-data",
          "the QE report's data is not SHA-256(attestation key || QE auth data) || zeros");
  else
    vpass(c, "qe-report-data", "SHA-256(attestation key || QE auth data) || 32 zero bytes");

  /* the PCK chain */
  X509 *root = NULL;
  {
    const char *pem = o->intel_root_pem ? o->intel_root_pem : ehal_root_intel_sgx;
    STACK_OF(X509) *r = ehal_x509_pem_all(pem, strlen(pem));
    if (r && sk_X509_num(r) == 1) root = sk_X509_shift(r);
    sk_X509_pop_free(r, X509_free);
  }
  STACK_OF(X509) *chain = pem_chain_strict(q.pck_pem, q.pck_pem_len, why, sizeof why);
  STACK_OF(X509_CRL) *crls = NULL;
  pck_info pi = {0};
  X509 *leaf = NULL;
  if (o->collateral_dir) crls = ehal_collateral_crls(c, o->collateral_dir);
  if (!root) {
    vfail(c, "pck-chain", "the Intel root certificate could not be loaded");
  } else if (!chain) {
    vfail(c, "pck-chain", "%s", why);
  } else {
    leaf = sk_X509_value(chain, 0);
    ehal_x509_describe(c, "pck", leaf);
    ehal_x509_describe(c, "pck_ca", sk_X509_value(chain, 1));
    ehal_x509_describe(c, "intel_root", root);
    int nc = sk_X509_num(chain);
    STACK_OF(X509) *un = sk_X509_new_null();
    sk_X509_push(un, sk_X509_value(chain, 1));
    X509 *top = sk_X509_value(chain, nc - 1);
    /* leaf, CA and at most the root: a certificate the verification does
     * not use must not ride along unchecked */
    if (nc > 3) {
      vfail(c, "pck-chain", "the quote carries %d certificates (PCK, CA, root at most)", nc);
    } else if (nc == 3 && !same_cert(top, root)) {
      vfail(c, "pck-chain", "the quote's chain ends in a root that is not the pinned Intel root");
    } else if (!ehal_x509_cn_is(leaf, "Intel SGX PCK Certificate")) {
      vfail(c, "pck-chain", "the chain's first certificate is not an Intel SGX PCK Certificate");
    } else if (ehal_x509_chain(leaf, un, root, c->now, crls, why, sizeof why) != 0) {
      vfail(c, "pck-chain", "the PCK does not chain to the pinned Intel SGX Root CA%s: %s",
            crls ? " (CRLs checked)" : "", why);
    } else {
      res->chain_ok = vpass(c, "pck-chain",
                            "PCK -> %s -> pinned Intel SGX Root CA, valid at the verification "
                            "time%s",
                            ehal_x509_cn_is(sk_X509_value(chain, 1), "Intel SGX PCK Platform CA")
                                ? "PCK Platform CA"
                                : "PCK CA",
                            crls ? ", neither revoked by the CRLs" : "");
    }
    sk_X509_free(un);
    pck_extensions(leaf, &pi);
  }

  /* the QE report, signed by the PCK */
  EVP_PKEY *pk = leaf ? X509_get0_pubkey(leaf) : NULL;
  if (!leaf)
    vskip(c, "qe-report-signature", "no PCK certificate");
  else if (!pk || !EVP_PKEY_is_a(pk, "EC") || EVP_PKEY_get_bits(pk) != 256)
    vfail(c, "qe-report-signature", "the PCK does not hold a P-256 key");
  else if (!ehal_ecdsa_verify(pk, EVP_sha256(), q.qe_report, QE_REPORT_LEN, q.qe_sig, q.qe_sig + 32,
                              32, false))
    vfail(c, "qe-report-signature", "the QE report's signature does not verify with the PCK");
  else
    vpass(c, "qe-report-signature", "ECDSA P-256 over the 384-byte QE report with the PCK");

  /* debug TD */
  if ((q.body[120] & 1) && !o->allow_debug)
    vfail(c, "policy",
          "the TD is a debug TD (TD_ATTRIBUTES bit 0): the host can read and write its memory; "
          "a debug TD is refused without --allow-debug");
  else
    vpass(c, "policy", "debug %s", (q.body[120] & 1) ? "TD accepted (--allow-debug)" : "off");

  /* collateral: revocation was part of the chain; now signatures and TCB */
  if (o->collateral_dir) {
    if (!leaf || !root) {
      vskip(c, "tcb-status", "no verified PCK chain");
    } else if (!pi.have_ext) {
      vfail(c, "tcb-status", "the PCK certificate lacks its SGX extensions (TCB, FMSPC, PCE-ID)");
    } else {
      json_object *pj = json_object_new_object();
      jadd_hex(pj, "fmspc", pi.fmspc, 6);
      jadd_hex(pj, "pceid", pi.pceid, 2);
      jadd_int(pj, "pcesvn", pi.pcesvn);
      jadd_hex(pj, "sgx_tcb_components", pi.sgx_svn, 16);
      json_object_object_add(c->extra, "pck", pj);
      tdx_facts f = {.tee_tcb_svn = q.body,
                     .mrsignerseam = q.body + 64,
                     .seam_attributes = q.body + 112,
                     .qe_report = q.qe_report};
      ehal_collateral_check(c, o->collateral_dir, root, crls, &pi, &f);
    }
  } else {
    vskip(c, "tcb-status", "no --collateral: revocation and TCB status not checked");
  }
  sk_X509_CRL_pop_free(crls, X509_CRL_free);
  sk_X509_pop_free(chain, X509_free);
  X509_free(root);

  if (!res->envelope) {
    if (o->has_expect_module)
      vfail(c, "module", "--expect-module needs an envelope: a raw quote names no module");
    if (o->expect_world)
      vfail(c, "world", "--expect-world needs an envelope: a raw quote names no world");
    if (o->expect_workload)
      vfail(c, "workload", "--expect-workload needs an envelope: a raw quote names no workload");
    if (o->has_expect_report_data) {
      uint8_t want[64] = {0};
      memcpy(want, o->expect_report_data, o->expect_report_data_len);
      if (memcmp(want, q.body + 520, 64) == 0)
        vpass(c, "report-data", "REPORTDATA equals the expected value");
      else
        vfail(c, "report-data", "REPORTDATA differs from the expected value");
    }
  }
  return c->failed ? -1 : 0;
}
