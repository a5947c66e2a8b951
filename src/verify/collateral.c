/*
 * collateral.c - Intel PCS collateral for a TDX quote (--collateral DIR):
 * the PCK and root CRLs, the TCB info (v3, id TDX) and QE identity (v2, id
 * TD_QE) documents with their signatures by the Intel SGX TCB Signing key,
 * their validity at the verification time, and the TCB status of the
 * platform, the TDX module and the quoting enclave.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "verify_internal.h"

static json_object *coll_json(vctx *c) {
  json_object *o;
  if (!json_object_object_get_ex(c->extra, "collateral", &o)) {
    o = json_object_new_object();
    json_object_object_add(c->extra, "collateral", o);
  }
  return o;
}

static X509_CRL *load_crl(const char *dir, const char *name, char *why, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t len;
  uint8_t *b = ehal_read_file(path, 1 << 24, &len, why, n);
  if (!b) return NULL;
  const unsigned char *p = b;
  X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
  if (crl && p != b + len) {
    X509_CRL_free(crl);
    crl = NULL;
  }
  if (!crl) {
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(b, (int)len);
    crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
  }
  free(b);
  ERR_clear_error();
  if (!crl) snprintf(why, n, "%s is not a DER or PEM CRL", path);
  return crl;
}

STACK_OF(X509_CRL) * ehal_collateral_crls(vctx *c, const char *dir) {
  char why[400];
  STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
  static const char *const names[] = {"pck-crl.der", "root-crl.der"};
  for (int i = 0; i < 2; i++) {
    X509_CRL *crl = load_crl(dir, names[i], why, sizeof why);
    if (!crl) {
      vfail(c, "collateral", "%s", why);
      sk_X509_CRL_pop_free(sk, X509_CRL_free);
      return NULL;
    }
    json_object *o = json_object_new_object();
    char buf[512];
    ehal_x509_name(X509_CRL_get_issuer(crl), buf, sizeof buf);
    jadd_str(o, "issuer", buf);
    struct tm tm;
    if (X509_CRL_get0_lastUpdate(crl) && ASN1_TIME_to_tm(X509_CRL_get0_lastUpdate(crl), &tm)) {
      strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      jadd_str(o, "this_update", buf);
    }
    if (X509_CRL_get0_nextUpdate(crl) && ASN1_TIME_to_tm(X509_CRL_get0_nextUpdate(crl), &tm)) {
      strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      jadd_str(o, "next_update", buf);
    }
    STACK_OF(X509_REVOKED) *rv = X509_CRL_get_REVOKED(crl);
    jadd_int(o, "revoked", rv ? sk_X509_REVOKED_num(rv) : 0);
    json_object_object_add(coll_json(c), i == 0 ? "pck_crl" : "root_crl", o);
    sk_X509_CRL_push(sk, crl);
  }
  return sk;
}

/* ---- the raw text of a top-level member (what Intel signed) ---- */

static size_t ws(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  return i;
}

static bool skip_value(const char *s, size_t n, size_t *i, int depth) {
  size_t k = *i;
  if (k >= n || depth > 64) return false;
  if (s[k] == '"') {
    for (k++; k < n; k++) {
      if (s[k] == '\\') {
        k++;
      } else if (s[k] == '"') {
        *i = k + 1;
        return true;
      }
    }
    return false;
  }
  if (s[k] == '{' || s[k] == '[') {
    char close = s[k] == '{' ? '}' : ']';
    k = ws(s, n, k + 1);
    if (k < n && s[k] == close) {
      *i = k + 1;
      return true;
    }
    for (;;) {
      if (close == '}') {
        if (!skip_value(s, n, &k, depth + 1)) return false; /* the key */
        k = ws(s, n, k);
        if (k >= n || s[k] != ':') return false;
        k = ws(s, n, k + 1);
      }
      if (!skip_value(s, n, &k, depth + 1)) return false;
      k = ws(s, n, k);
      if (k < n && s[k] == ',') {
        k = ws(s, n, k + 1);
      } else if (k < n && s[k] == close) {
        *i = k + 1;
        return true;
      } else {
        return false;
      }
    }
  }
  while (k < n && !strchr(",}] \t\r\n", s[k])) k++;
  if (k == *i) return false;
  *i = k;
  return true;
}

/* Finds the raw text [start, end) of the top-level member `key`.  The whole
 * object is scanned: a key written twice, or any key with an escape in it,
 * is refused, so no other JSON reader can see a different member than the
 * signed one (json-c keeps the last of duplicate keys). */
static bool member_raw(const char *s, size_t n, const char *key, size_t *start, size_t *end) {
  size_t i = ws(s, n, 0), klen = strlen(key);
  bool found = false;
  if (i >= n || s[i] != '{') return false;
  i = ws(s, n, i + 1);
  while (i < n && s[i] == '"') {
    size_t k0 = i + 1;
    if (!skip_value(s, n, &i, 0)) return false;
    if (memchr(s + k0, '\\', i - k0)) return false;
    bool match = i - k0 - 1 == klen && memcmp(s + k0, key, klen) == 0;
    i = ws(s, n, i);
    if (i >= n || s[i] != ':') return false;
    i = ws(s, n, i + 1);
    size_t v0 = i;
    if (!skip_value(s, n, &i, 0)) return false;
    if (match) {
      if (found) return false;
      found = true;
      *start = v0;
      *end = i;
    }
    i = ws(s, n, i);
    if (i < n && s[i] == ',') i = ws(s, n, i + 1);
  }
  return found && i < n && s[i] == '}';
}

/* Parses exactly [p, p+n) as one JSON object, or NULL. */
static json_object *parse_exact(const char *p, size_t n) {
  json_tokener *tok = json_tokener_new();
  json_object *o = tok ? json_tokener_parse_ex(tok, p, (int)n) : NULL;
  bool whole = tok && json_tokener_get_error(tok) == json_tokener_success &&
               (size_t)json_tokener_get_parse_end(tok) == n;
  json_tokener_free(tok);
  if (o && (!whole || !json_object_is_type(o, json_type_object))) {
    json_object_put(o);
    o = NULL;
  }
  return o;
}

/* ---- small JSON accessors ---- */

static const char *jstr(json_object *o, const char *k) {
  json_object *v;
  return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}
static bool jint(json_object *o, const char *k, int64_t *out) {
  json_object *v;
  if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int)) return false;
  *out = json_object_get_int64(v);
  return true;
}
static json_object *jobj(json_object *o, const char *k, json_type t) {
  json_object *v;
  return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, t) ? v : NULL;
}
/* hex field of exactly n bytes */
static bool jhex(json_object *o, const char *k, uint8_t *out, size_t n) {
  const char *s = jstr(o, k);
  return s && strlen(s) == 2 * n && ehal_hex_decode(s, out, n) == (long)n;
}

/* A signed Intel document: {"<member>": {...}, "signature": "<hex r||s>"}. */
static json_object *load_signed(vctx *c, const char *dir, const char *file, const char *member,
                                EVP_PKEY *signer, const char *check) {
  char path[4096], why[400];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  size_t len;
  uint8_t *b = ehal_read_file(path, 1 << 22, &len, why, sizeof why);
  if (!b) {
    vfail(c, check, "%s", why);
    return NULL;
  }
  json_tokener *tok = json_tokener_new();
  json_object *doc = tok ? json_tokener_parse_ex(tok, (const char *)b, (int)len) : NULL;
  bool whole = tok && json_tokener_get_error(tok) == json_tokener_success &&
               ws((const char *)b, len, json_tokener_get_parse_end(tok)) == len;
  json_tokener_free(tok);
  json_object *body = doc ? jobj(doc, member, json_type_object) : NULL;
  uint8_t sig[64];
  size_t s0 = 0, s1 = 0;
  if (!doc || !whole || !body) {
    vfail(c, check, "%s is not a JSON document with \"%s\"", file, member);
  } else if (!jhex(doc, "signature", sig, 64)) {
    vfail(c, check, "%s has no 64-byte hex \"signature\"", file);
  } else if (!member_raw((const char *)b, len, member, &s0, &s1)) {
    vfail(c, check, "%s: cannot locate the signed \"%s\" text", file, member);
  } else if (!signer) {
    vfail(c, check, "%s: no verified signing certificate", file);
  } else if (!ehal_ecdsa_verify(signer, EVP_sha256(), b + s0, s1 - s0, sig, sig + 32, 32, false)) {
    vfail(c, check, "the signature of %s does not verify with the Intel SGX TCB Signing key", file);
  } else {
    /* Decide on exactly the bytes the signature covers, never on another
     * parser's view of the whole document. */
    json_object *signed_body = parse_exact((const char *)b + s0, s1 - s0);
    free(b);
    json_object_put(doc);
    if (!signed_body)
      vfail(c, check, "%s: the signed \"%s\" text is not a JSON object", file, member);
    return signed_body;
  }
  free(b);
  json_object_put(doc);
  return NULL;
}

/* issueDate <= now < nextUpdate */
static bool dates_ok(vctx *c, json_object *body, const char *file, char *why, size_t n) {
  const char *is = jstr(body, "issueDate"), *nu = jstr(body, "nextUpdate");
  time_t ti, tn;
  if (!is || !nu || ehal_parse_rfc3339(is, &ti) || ehal_parse_rfc3339(nu, &tn)) {
    snprintf(why, n, "%s has no valid issueDate/nextUpdate", file);
    return false;
  }
  if (c->now < ti) {
    snprintf(why, n, "%s was issued (%s) after the verification time", file, is);
    return false;
  }
  if (c->now >= tn) {
    snprintf(why, n, "%s expired: nextUpdate %s is before the verification time", file, nu);
    return false;
  }
  return true;
}

static bool status_acceptable(const char *st) {
  static const char *const ok[] = {"UpToDate",
                                   "SWHardeningNeeded",
                                   "ConfigurationNeeded",
                                   "ConfigurationAndSWHardeningNeeded",
                                   "OutOfDate",
                                   "OutOfDateConfigurationNeeded"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (!strcmp(st, ok[i])) return true;
  return false;
}

/* svn of element i of an array of {"svn": N}; -1 when malformed */
static int64_t comp_svn(json_object *arr, size_t i) {
  json_object *e = json_object_array_get_idx(arr, i);
  int64_t v;
  return e && json_object_is_type(e, json_type_object) && jint(e, "svn", &v) && v >= 0 ? v : -1;
}

int ehal_tdx_match_tcb_level(json_object *levels, const uint8_t sgx[16], unsigned pcesvn,
                             const uint8_t tee[16], bool skip_module_svn) {
  if (!levels || !json_object_is_type(levels, json_type_array)) return -1;
  size_t nl = json_object_array_length(levels);
  for (size_t l = 0; l < nl; l++) {
    json_object *lv = json_object_array_get_idx(levels, l);
    json_object *tcb = lv ? jobj(lv, "tcb", json_type_object) : NULL;
    json_object *sc = tcb ? jobj(tcb, "sgxtcbcomponents", json_type_array) : NULL;
    json_object *tc = tcb ? jobj(tcb, "tdxtcbcomponents", json_type_array) : NULL;
    int64_t pce;
    if (!sc || !tc || json_object_array_length(sc) != 16 || json_object_array_length(tc) != 16 ||
        !jint(tcb, "pcesvn", &pce))
      continue;
    bool meets = pcesvn >= pce;
    for (size_t i = 0; i < 16 && meets; i++) {
      int64_t v = comp_svn(sc, i);
      meets = v >= 0 && sgx[i] >= v;
    }
    for (size_t i = skip_module_svn ? 2 : 0; i < 16 && meets; i++) {
      int64_t v = comp_svn(tc, i);
      meets = v >= 0 && tee[i] >= v;
    }
    if (meets) return (int)l;
  }
  return -1;
}

/* First level of [{tcb:{isvsvn}, tcbStatus}] with isvsvn <= svn. */
static json_object *match_isvsvn(json_object *levels, unsigned svn) {
  size_t nl = levels ? json_object_array_length(levels) : 0;
  for (size_t l = 0; l < nl; l++) {
    json_object *lv = json_object_array_get_idx(levels, l);
    json_object *tcb = lv ? jobj(lv, "tcb", json_type_object) : NULL;
    int64_t v;
    if (tcb && jint(tcb, "isvsvn", &v) && v >= 0 && svn >= v) return lv;
  }
  return NULL;
}

static bool masked_eq(const uint8_t *val, const uint8_t *want, const uint8_t *mask, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((val[i] & mask[i]) != (want[i] & mask[i])) return false;
  return true;
}

/* The signer of TCB info and QE identity, verified to the pinned root. */
static EVP_PKEY *tcb_signer(vctx *c, const char *dir, X509 *root, STACK_OF(X509_CRL) * crls) {
  char path[4096], why[400];
  snprintf(path, sizeof path, "%s/tcb-signing-chain.pem", dir);
  STACK_OF(X509) *sk = NULL;
  const char *src = "the built-in Intel SGX TCB Signing certificate";
  struct stat st;
  if (stat(path, &st) == 0) {
    size_t len;
    uint8_t *b = ehal_read_file(path, 1 << 20, &len, why, sizeof why);
    if (!b) {
      vfail(c, "collateral-signer", "%s", why);
      return NULL;
    }
    sk = ehal_x509_pem_all((const char *)b, len);
    free(b);
    src = "tcb-signing-chain.pem";
  } else {
    sk = ehal_x509_pem_all(ehal_root_intel_tcb_signing, strlen(ehal_root_intel_tcb_signing));
  }
  if (!sk) {
    vfail(c, "collateral-signer", "%s holds no PEM certificate", src);
    return NULL;
  }
  X509 *leaf = sk_X509_value(sk, 0);
  /* Only Intel's TCB Signing certificate, issued directly by the pinned
   * root, may sign collateral: any other certificate under that root (a
   * platform's PCK, say) must not.  So no intermediates are offered, and
   * extra PEM entries may only be the root itself. */
  STACK_OF(X509) *un = sk_X509_new_null();
  bool extras_ok = true;
  for (int i = 1; i < sk_X509_num(sk); i++)
    if (X509_cmp(sk_X509_value(sk, i), root) != 0) extras_ok = false;
  EVP_PKEY *key = NULL;
  ehal_x509_describe(c, "tcb_signing", leaf);
  if (!extras_ok) {
    vfail(c, "collateral-signer", "%s holds certificates other than the signer and the root", src);
  } else if (!ehal_x509_cn_is(leaf, "Intel SGX TCB Signing") || X509_check_ca(leaf) != 0) {
    vfail(c, "collateral-signer", "%s is not the Intel SGX TCB Signing certificate", src);
  } else if (ehal_x509_chain(leaf, un, root, c->now, crls, why, sizeof why) != 0) {
    vfail(c, "collateral-signer", "%s is not issued by the pinned Intel root: %s", src, why);
  } else if (!EVP_PKEY_is_a(X509_get0_pubkey(leaf), "EC")) {
    vfail(c, "collateral-signer", "%s does not hold an EC key", src);
  } else {
    vpass(c, "collateral-signer", "%s chains to the pinned Intel SGX Root CA%s", src,
          crls ? ", not revoked" : "");
    key = X509_get_pubkey(leaf);
  }
  sk_X509_free(un);
  sk_X509_pop_free(sk, X509_free);
  return key;
}

void ehal_collateral_check(vctx *c, const char *dir, X509 *root, STACK_OF(X509_CRL) * crls,
                           const pck_info *pck, const tdx_facts *f) {
  char why[400];
  json_object *cj = coll_json(c);
  EVP_PKEY *signer = tcb_signer(c, dir, root, crls);

  /* TCB info */
  json_object *ti = load_signed(c, dir, "tcbinfo.json", "tcbInfo", signer, "tcb-info");
  json_object *levels = NULL;
  uint8_t fmspc[6], pceid[2];
  int64_t ver;
  const char *id = ti ? jstr(ti, "id") : NULL;
  if (!ti) {
    /* failure recorded */
  } else if (!id || strcmp(id, "TDX") || !jint(ti, "version", &ver) || ver != 3) {
    vfail(c, "tcb-info", "tcbinfo.json is not TCB info version 3 for TDX");
  } else if (!dates_ok(c, ti, "tcbinfo.json", why, sizeof why)) {
    vfail(c, "tcb-info", "%s", why);
  } else if (!jhex(ti, "fmspc", fmspc, 6) || memcmp(fmspc, pck->fmspc, 6)) {
    vfail(c, "tcb-info", "tcbinfo.json is for another platform (FMSPC differs from the PCK's)");
  } else if (!jhex(ti, "pceId", pceid, 2) || memcmp(pceid, pck->pceid, 2)) {
    vfail(c, "tcb-info", "tcbinfo.json is for another PCE (PCE-ID differs from the PCK's)");
  } else if (!(levels = jobj(ti, "tcbLevels", json_type_array))) {
    vfail(c, "tcb-info", "tcbinfo.json has no tcbLevels");
  } else {
    vpass(c, "tcb-info", "signed by Intel, for this FMSPC and PCE-ID, issued %s, next update %s",
          jstr(ti, "issueDate"), jstr(ti, "nextUpdate"));
    int64_t n;
    if (jint(ti, "tcbEvaluationDataNumber", &n)) jadd_int(cj, "tcb_evaluation_data_number", n);
  }

  /* the TDX module's identity, then the platform's TCB level */
  const char *mod_status = NULL;
  bool major = f->tee_tcb_svn[1] > 0;
  if (levels) {
    json_object *ids = jobj(ti, "tdxModuleIdentities", json_type_array);
    json_object *mod = jobj(ti, "tdxModule", json_type_object), *modlv = NULL;
    if (major && ids) {
      char want[16];
      snprintf(want, sizeof want, "TDX_%02X", f->tee_tcb_svn[1]);
      mod = NULL;
      for (size_t i = 0; i < json_object_array_length(ids); i++) {
        json_object *e = json_object_array_get_idx(ids, i);
        const char *eid = e ? jstr(e, "id") : NULL;
        if (eid && !strcmp(eid, want)) mod = e;
      }
      if (mod) {
        modlv = match_isvsvn(jobj(mod, "tcbLevels", json_type_array), f->tee_tcb_svn[0]);
        mod_status = modlv ? jstr(modlv, "tcbStatus") : NULL;
      }
    }
    uint8_t mrs[48], attr[8], mask[8];
    if (!mod) {
      vfail(c, "tdx-module", "tcbinfo.json describes no TDX module of major version %u",
            f->tee_tcb_svn[1]);
    } else if (!jhex(mod, "mrsigner", mrs, 48) || !jhex(mod, "attributes", attr, 8) ||
               !jhex(mod, "attributesMask", mask, 8)) {
      vfail(c, "tdx-module", "tcbinfo.json's TDX module identity is malformed");
    } else if (memcmp(mrs, f->mrsignerseam, 48) != 0) {
      vfail(c, "tdx-module", "MRSIGNERSEAM is not the TDX module signer Intel names");
    } else if (!masked_eq(f->seam_attributes, attr, mask, 8)) {
      vfail(c, "tdx-module", "SEAMATTRIBUTES do not match the TDX module identity");
    } else if (major && ids && !mod_status) {
      vfail(c, "tdx-module", "TDX module SVN %u is below every level Intel lists",
            f->tee_tcb_svn[0]);
    } else if (mod_status && !status_acceptable(mod_status)) {
      vfail(c, "tdx-module", "TDX module TCB status %s", mod_status);
    } else {
      vpass(c, "tdx-module", "MRSIGNERSEAM and SEAMATTRIBUTES match Intel's TDX module%s%s",
            mod_status ? ", status " : "", mod_status ? mod_status : "");
    }
    if (mod_status) jadd_str(cj, "tdx_module_tcb_status", mod_status);

    int l =
        ehal_tdx_match_tcb_level(levels, pck->sgx_svn, pck->pcesvn, f->tee_tcb_svn, major && ids);
    json_object *lv = l >= 0 ? json_object_array_get_idx(levels, (size_t)l) : NULL;
    const char *st = lv ? jstr(lv, "tcbStatus") : NULL;
    if (!lv) {
      snprintf(c->res->tcb_status, sizeof c->res->tcb_status, "NoMatchingLevel");
      char sgx[33], tee[33];
      ehal_hex_encode(pck->sgx_svn, 16, sgx);
      ehal_hex_encode(f->tee_tcb_svn, 16, tee);
      vfail(c, "tcb-status",
            "the platform's TCB (PCK SGX components %s, PCESVN %u, TEE_TCB_SVN %s) is below "
            "every level in tcbinfo.json: not supported by Intel",
            sgx, pck->pcesvn, tee);
    } else {
      snprintf(c->res->tcb_status, sizeof c->res->tcb_status, "%s", st ? st : "?");
      jadd_str(cj, "tcb_status", st);
      jadd_str(cj, "tcb_date", jstr(lv, "tcbDate"));
      json_object *adv = jobj(lv, "advisoryIDs", json_type_array);
      if (adv) json_object_object_add(cj, "advisory_ids", json_object_get(adv));
      if (!st || !status_acceptable(st))
        vfail(c, "tcb-status", "TCB status %s", st ? st : "missing");
      else
        vpass(c, "tcb-status", "%s (level %d of tcbinfo.json, dated %s)", st, l,
              jstr(lv, "tcbDate") ? jstr(lv, "tcbDate") : "?");
    }
  }

  /* QE identity */
  json_object *qi =
      load_signed(c, dir, "qe-identity.json", "enclaveIdentity", signer, "qe-identity");
  const uint8_t *r = f->qe_report;
  uint8_t mrsigner[32], misc[4], miscmask[4], attr[16], attrmask[16];
  int64_t prodid;
  id = qi ? jstr(qi, "id") : NULL;
  json_object *qlevels = qi ? jobj(qi, "tcbLevels", json_type_array) : NULL;
  if (!qi) {
    /* failure recorded */
  } else if (!id || strcmp(id, "TD_QE") || !jint(qi, "version", &ver) || ver != 2) {
    vfail(c, "qe-identity", "qe-identity.json is not enclave identity version 2 for TD_QE");
  } else if (!dates_ok(c, qi, "qe-identity.json", why, sizeof why)) {
    vfail(c, "qe-identity", "%s", why);
  } else if (!jhex(qi, "mrsigner", mrsigner, 32) || !jhex(qi, "miscselect", misc, 4) ||
             !jhex(qi, "miscselectMask", miscmask, 4) || !jhex(qi, "attributes", attr, 16) ||
             !jhex(qi, "attributesMask", attrmask, 16) || !jint(qi, "isvprodid", &prodid) ||
             !qlevels) {
    vfail(c, "qe-identity", "qe-identity.json is malformed");
  } else if (memcmp(mrsigner, r + 128, 32) != 0) {
    vfail(c, "qe-identity", "the QE's MRSIGNER is not Intel's");
  } else if ((r[256] | r[257] << 8) != prodid) {
    vfail(c, "qe-identity", "the QE's ISVPRODID is not %lld", (long long)prodid);
  } else if (!masked_eq(r + 16, misc, miscmask, 4) || !masked_eq(r + 48, attr, attrmask, 16)) {
    vfail(c, "qe-identity", "the QE's MISCSELECT or ATTRIBUTES do not match Intel's identity");
  } else {
    unsigned isvsvn = (unsigned)(r[258] | r[259] << 8);
    json_object *lv = match_isvsvn(qlevels, isvsvn);
    const char *st = lv ? jstr(lv, "tcbStatus") : NULL;
    if (st) jadd_str(cj, "qe_tcb_status", st);
    if (!st)
      vfail(c, "qe-identity", "QE ISVSVN %u is below every level Intel lists", isvsvn);
    else if (!status_acceptable(st))
      vfail(c, "qe-identity", "QE TCB status %s", st);
    else
      vpass(c, "qe-identity", "the QE is Intel's TD quoting enclave, ISVSVN %u: %s", isvsvn, st);
  }
  json_object_put(qi);
  json_object_put(ti);
  EVP_PKEY_free(signer);
}
