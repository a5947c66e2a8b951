/* primitives.c - OpenSSL 3 and BLAKE3 behind primitives.h. */
#include "primitives.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

#include "blake3.h" /* the official C implementation (librust-blake3-dev) */

/* OpenSSL's length arguments are int: larger inputs go in chunks. */
#define CHUNK ((size_t)1 << 30)

/* ---- algorithms fetched once ---- */

static struct {
  EVP_MD *sha256, *sha384, *sha512;
  EVP_CIPHER *gcm128, *gcm192, *gcm256, *chacha;
  EVP_MAC *hmac;
} g;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void fetch_all(void) {
  g.sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
  g.sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
  g.sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
  g.gcm128 = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  g.gcm192 = EVP_CIPHER_fetch(NULL, "AES-192-GCM", NULL);
  g.gcm256 = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  g.chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
  g.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static void fetch(void) { pthread_once(&g_once, fetch_all); }

static const EVP_MD *md_of(ehal_prim_hash h) {
  fetch();
  switch (h) {
    case EHAL_PRIM_SHA256: return g.sha256;
    case EHAL_PRIM_SHA384: return g.sha384;
    case EHAL_PRIM_SHA512: return g.sha512;
    default: return NULL;
  }
}

static const char *md_name(ehal_prim_hash h) {
  switch (h) {
    case EHAL_PRIM_SHA256: return "SHA2-256";
    case EHAL_PRIM_SHA384: return "SHA2-384";
    case EHAL_PRIM_SHA512: return "SHA2-512";
    default: return NULL;
  }
}

/* ---- hashes ---- */

size_t ehal_prim_hash_len(ehal_prim_hash h) {
  switch (h) {
    case EHAL_PRIM_SHA256: return 32;
    case EHAL_PRIM_SHA384: return 48;
    case EHAL_PRIM_SHA512: return 64;
    case EHAL_PRIM_BLAKE3: return BLAKE3_OUT_LEN;
  }
  return 0;
}

int ehal_prim_digest(ehal_prim_hash h, const uint8_t *data, size_t len, uint8_t *out) {
  if (h == EHAL_PRIM_BLAKE3) {
    ehal_blake3_hash(data, len, out, BLAKE3_OUT_LEN);
    return 0;
  }
  const EVP_MD *md = md_of(h);
  if (!md) return -1;
  unsigned int n = 0;
  return EVP_Digest(len ? data : (const uint8_t *)"", len, out, &n, md, NULL) == 1 ? 0 : -1;
}

void ehal_blake3_hash(const uint8_t *data, size_t len, uint8_t *out, size_t out_len) {
  blake3_hasher b;
  blake3_hasher_init(&b);
  if (len) blake3_hasher_update(&b, data, len);
  blake3_hasher_finalize(&b, out, out_len);
}

void ehal_blake3_keyed_hash(const uint8_t key[EHAL_BLAKE3_KEY_LEN], const uint8_t *data, size_t len,
                            uint8_t *out, size_t out_len) {
  blake3_hasher b;
  blake3_hasher_init_keyed(&b, key);
  if (len) blake3_hasher_update(&b, data, len);
  blake3_hasher_finalize(&b, out, out_len);
  OPENSSL_cleanse(&b, sizeof b);
}

void ehal_blake3_derive_key(const char *context, const uint8_t *material, size_t len, uint8_t *out,
                            size_t out_len) {
  blake3_hasher b;
  blake3_hasher_init_derive_key(&b, context);
  if (len) blake3_hasher_update(&b, material, len);
  blake3_hasher_finalize(&b, out, out_len);
  OPENSSL_cleanse(&b, sizeof b);
}

/* ---- randomness ---- */

int ehal_prim_random(uint8_t *buf, size_t len) {
  while (len) {
    size_t n = len > CHUNK ? CHUNK : len;
    if (RAND_bytes(buf, (int)n) != 1) return -1;
    buf += n;
    len -= n;
  }
  return 0;
}

/* ---- AEAD ---- */

static const EVP_CIPHER *aead_cipher(ehal_aead_alg alg, size_t key_len, size_t nonce_len) {
  fetch();
  if (alg == EHAL_AEAD_CHACHA20_POLY1305)
    return key_len == 32 && nonce_len == EHAL_AEAD_NONCE_LEN ? g.chacha : NULL;
  if (alg != EHAL_AEAD_AES_GCM || nonce_len == 0 || nonce_len > 128) return NULL;
  switch (key_len) {
    case 16: return g.gcm128;
    case 24: return g.gcm192;
    case 32: return g.gcm256;
  }
  return NULL;
}

static int update_chunks(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *in, size_t len) {
  while (len) {
    size_t n = len > CHUNK ? CHUNK : len;
    int outl = 0;
    if (EVP_CipherUpdate(c, out, &outl, in, (int)n) != 1 || (out && (size_t)outl != n)) return -1;
    in += n;
    if (out) out += n;
    len -= n;
  }
  return 0;
}

/* One AEAD operation; tag is written (enc) or checked (dec). */
static int aead(int enc, ehal_aead_alg alg, const uint8_t *key, size_t key_len,
                const uint8_t *nonce, size_t nonce_len, const uint8_t *ad, size_t ad_len,
                const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag) {
  const EVP_CIPHER *cipher = aead_cipher(alg, key_len, nonce_len);
  if (!cipher) return -1;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  if (!c) return -1;
  int ok = 0, outl = 0;
  uint8_t dummy;
  if (EVP_CipherInit_ex2(c, cipher, NULL, NULL, enc, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, (int)nonce_len, NULL) != 1 ||
      EVP_CipherInit_ex2(c, NULL, key, nonce, enc, NULL) != 1)
    goto done;
  if (ad_len && update_chunks(c, NULL, ad, ad_len) != 0) goto done;
  if (len && update_chunks(c, out, in, len) != 0) goto done;
  if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, EHAL_AEAD_TAG_LEN, tag) != 1) goto done;
  if (EVP_CipherFinal_ex(c, len ? out + len : &dummy, &outl) != 1 || outl != 0) goto done;
  if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, EHAL_AEAD_TAG_LEN, tag) != 1) goto done;
  ok = 1;
done:
  EVP_CIPHER_CTX_free(c);
  return ok ? 0 : -1;
}

int ehal_aead_seal(ehal_aead_alg alg, const uint8_t *key, size_t key_len, const uint8_t *nonce,
                   size_t nonce_len, const uint8_t *ad, size_t ad_len, const uint8_t *pt,
                   size_t pt_len, uint8_t *ct, uint8_t tag[EHAL_AEAD_TAG_LEN]) {
  return aead(1, alg, key, key_len, nonce, nonce_len, ad, ad_len, pt, pt_len, ct, tag);
}

int ehal_aead_open(ehal_aead_alg alg, const uint8_t *key, size_t key_len, const uint8_t *nonce,
                   size_t nonce_len, const uint8_t *ad, size_t ad_len, const uint8_t *ct,
                   size_t ct_len, const uint8_t *tag, size_t tag_len, uint8_t *pt) {
  uint8_t t[EHAL_AEAD_TAG_LEN];
  int rc = -1;
  if (tag_len == EHAL_AEAD_TAG_LEN) {
    memcpy(t, tag, sizeof t);
    rc = aead(0, alg, key, key_len, nonce, nonce_len, ad, ad_len, ct, ct_len, pt, t);
  }
  /* never leave unauthenticated plaintext behind */
  if (rc != 0 && ct_len) OPENSSL_cleanse(pt, ct_len);
  return rc;
}

/* ---- HMAC and HKDF ---- */

typedef struct {
  EVP_MAC_CTX *ctx;
  size_t len;
} hmac_t;

static int hmac_begin(hmac_t *m, ehal_prim_hash h, const uint8_t *key, size_t key_len) {
  m->ctx = NULL;
  const char *name = md_name(h);
  fetch();
  if (!name || !g.hmac) return -1;
  m->len = ehal_prim_hash_len(h);
  m->ctx = EVP_MAC_CTX_new(g.hmac);
  if (!m->ctx) return -1;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0),
                         OSSL_PARAM_construct_end()};
  /* a NULL key would mean "keep the previous key": an empty key is "" */
  static const uint8_t empty[1];
  if (EVP_MAC_init(m->ctx, key_len ? key : empty, key_len, params) != 1) {
    EVP_MAC_CTX_free(m->ctx);
    m->ctx = NULL;
    return -1;
  }
  return 0;
}

static int hmac_update(hmac_t *m, const uint8_t *data, size_t len) {
  return len == 0 || EVP_MAC_update(m->ctx, data, len) == 1 ? 0 : -1;
}

static int hmac_final(hmac_t *m, uint8_t *out) {
  size_t n = 0;
  int ok = EVP_MAC_final(m->ctx, out, &n, m->len) == 1 && n == m->len;
  EVP_MAC_CTX_free(m->ctx);
  m->ctx = NULL;
  return ok ? 0 : -1;
}

int ehal_hmac(ehal_prim_hash h, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
              uint8_t *out) {
  hmac_t m;
  if (hmac_begin(&m, h, key, key_len) != 0) return -1;
  if (hmac_update(&m, data, len) != 0) {
    EVP_MAC_CTX_free(m.ctx);
    return -1;
  }
  return hmac_final(&m, out);
}

int ehal_hmac_verify(ehal_prim_hash h, const uint8_t *key, size_t key_len, const uint8_t *data,
                     size_t len, const uint8_t *tag, size_t tag_len, size_t min_tag_len) {
  uint8_t mac[EHAL_MAX_DIGEST_LEN];
  if (ehal_hmac(h, key, key_len, data, len, mac) != 0) return -1;
  int ok = tag_len >= min_tag_len && tag_len >= 1 && tag_len <= ehal_prim_hash_len(h) &&
           CRYPTO_memcmp(mac, tag, tag_len) == 0;
  OPENSSL_cleanse(mac, sizeof mac);
  return ok ? 1 : 0;
}

/* RFC 5869 on top of HMAC: no limit on the lengths of salt, IKM or info. */
int ehal_hkdf(ehal_prim_hash h, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
              size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
  size_t hl = ehal_prim_hash_len(h);
  if (!md_name(h) || out_len > 255 * hl) return -1;
  uint8_t zeros[EHAL_MAX_DIGEST_LEN] = {0}, prk[EHAL_MAX_DIGEST_LEN], t[EHAL_MAX_DIGEST_LEN];
  if (salt_len == 0) {
    salt = zeros;
    salt_len = hl;
  }
  int rc = -1;
  if (ehal_hmac(h, salt, salt_len, ikm, ikm_len, prk) != 0) goto done;
  size_t done_len = 0, tlen = 0;
  for (uint8_t i = 1; done_len < out_len; i++) {
    hmac_t m;
    if (hmac_begin(&m, h, prk, hl) != 0) goto done;
    if (hmac_update(&m, t, tlen) != 0 || hmac_update(&m, info, info_len) != 0 ||
        hmac_update(&m, &i, 1) != 0) {
      EVP_MAC_CTX_free(m.ctx);
      goto done;
    }
    if (hmac_final(&m, t) != 0) goto done;
    tlen = hl;
    size_t n = out_len - done_len < hl ? out_len - done_len : hl;
    memcpy(out + done_len, t, n);
    done_len += n;
  }
  rc = 0;
done:
  OPENSSL_cleanse(prk, sizeof prk);
  OPENSSL_cleanse(t, sizeof t);
  if (rc != 0 && out_len) OPENSSL_cleanse(out, out_len);
  return rc;
}

/* ---- asymmetric keys ---- */

struct ehal_asym_key {
  ehal_asym_alg alg;
  EVP_PKEY *pkey;
};

struct evp_pkey_st *ehal_asym_pkey_ref(const ehal_asym_key *k) {
  return k && EVP_PKEY_up_ref(k->pkey) == 1 ? k->pkey : NULL;
}

static bool is_ec(ehal_asym_alg a) { return a == EHAL_ASYM_P256 || a == EHAL_ASYM_P384; }
static size_t ec_field_len(ehal_asym_alg a) { return a == EHAL_ASYM_P256 ? 32 : 48; }
static const char *ec_group_name(ehal_asym_alg a) {
  return a == EHAL_ASYM_P256 ? "P-256" : "P-384";
}
static int ec_nid(ehal_asym_alg a) {
  return a == EHAL_ASYM_P256 ? NID_X9_62_prime256v1 : NID_secp384r1;
}
static const EVP_MD *ec_md(ehal_asym_alg a) {
  return md_of(a == EHAL_ASYM_P256 ? EHAL_PRIM_SHA256 : EHAL_PRIM_SHA384);
}

size_t ehal_asym_private_len(ehal_asym_alg alg) { return is_ec(alg) ? ec_field_len(alg) : 32; }
size_t ehal_asym_public_len(ehal_asym_alg alg) {
  return is_ec(alg) ? 1 + 2 * ec_field_len(alg) : 32;
}
size_t ehal_asym_signature_len(ehal_asym_alg alg) {
  return alg == EHAL_ASYM_X25519 ? 0 : is_ec(alg) ? 2 * ec_field_len(alg) : 64;
}

ehal_asym_alg ehal_asym_alg_of(const ehal_asym_key *k) { return k->alg; }

static ehal_asym_key *wrap(ehal_asym_alg alg, EVP_PKEY *pkey) {
  if (!pkey) return NULL;
  ehal_asym_key *k = OPENSSL_zalloc(sizeof *k);
  if (!k) {
    EVP_PKEY_free(pkey);
    return NULL;
  }
  k->alg = alg;
  k->pkey = pkey;
  return k;
}

void ehal_asym_free(ehal_asym_key *k) {
  if (!k) return;
  EVP_PKEY_free(k->pkey);
  OPENSSL_free(k);
}

ehal_asym_key *ehal_asym_generate(ehal_asym_alg alg) {
  EVP_PKEY *p = NULL;
  switch (alg) {
    case EHAL_ASYM_ED25519: p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
    case EHAL_ASYM_X25519: p = EVP_PKEY_Q_keygen(NULL, NULL, "X25519"); break;
    case EHAL_ASYM_P256:
    case EHAL_ASYM_P384: p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", ec_group_name(alg)); break;
  }
  return wrap(alg, p);
}

/* An EC public key from a SEC1 point (checked to lie on the curve); with
 * priv, a key pair. */
static EVP_PKEY *ec_pkey(ehal_asym_alg alg, const uint8_t *pub, size_t pub_len,
                         const BIGNUM *priv) {
  OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *pc = NULL;
  EVP_PKEY *p = NULL;
  if (!b ||
      !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, ec_group_name(alg), 0) ||
      !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len) ||
      (priv && !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, priv)))
    goto done;
  params = OSSL_PARAM_BLD_to_param(b);
  pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (!params || !pc || EVP_PKEY_fromdata_init(pc) != 1 ||
      EVP_PKEY_fromdata(pc, &p, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
    p = NULL;
done:
  EVP_PKEY_CTX_free(pc);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(b);
  return p;
}

static EVP_PKEY *ec_from_private(ehal_asym_alg alg, const uint8_t *priv, size_t len) {
  EVP_PKEY *p = NULL;
  EC_GROUP *grp = EC_GROUP_new_by_curve_name(ec_nid(alg));
  BIGNUM *d = BN_secure_new();
  EC_POINT *q = grp ? EC_POINT_new(grp) : NULL;
  BN_CTX *bc = BN_CTX_new();
  uint8_t pub[EHAL_MAX_PUBLIC_LEN];
  size_t pub_len = ehal_asym_public_len(alg);
  if (!grp || !d || !q || !bc || !BN_bin2bn(priv, (int)len, d)) goto done;
  /* the scalar must lie in [1, n-1] */
  if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0) goto done;
  if (EC_POINT_mul(grp, q, d, NULL, NULL, bc) != 1 ||
      EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, pub, pub_len, bc) != pub_len)
    goto done;
  p = ec_pkey(alg, pub, pub_len, d);
done:
  BN_CTX_free(bc);
  EC_POINT_free(q);
  BN_clear_free(d);
  EC_GROUP_free(grp);
  return p;
}

ehal_asym_key *ehal_asym_from_private(ehal_asym_alg alg, const uint8_t *priv, size_t len) {
  if (len != ehal_asym_private_len(alg)) return NULL;
  EVP_PKEY *p = NULL;
  switch (alg) {
    case EHAL_ASYM_ED25519:
      p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, len);
      break;
    case EHAL_ASYM_X25519:
      p = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, len);
      break;
    case EHAL_ASYM_P256:
    case EHAL_ASYM_P384: p = ec_from_private(alg, priv, len); break;
  }
  return wrap(alg, p);
}

int ehal_asym_private(const ehal_asym_key *k, uint8_t *out) {
  size_t n = ehal_asym_private_len(k->alg);
  if (!is_ec(k->alg))
    return EVP_PKEY_get_raw_private_key(k->pkey, out, &n) == 1 && n == 32 ? 0 : -1;
  BIGNUM *d = NULL;
  int ok = EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
           BN_bn2binpad(d, out, (int)n) == (int)n;
  BN_clear_free(d);
  return ok ? 0 : -1;
}

int ehal_asym_public(const ehal_asym_key *k, uint8_t *out) {
  size_t n = ehal_asym_public_len(k->alg), got = 0;
  if (!is_ec(k->alg)) return EVP_PKEY_get_raw_public_key(k->pkey, out, &n) == 1 && n == 32 ? 0 : -1;
  /* keys are only made here (generated, or from the scalar with the point
   * encoded uncompressed), so the point is in uncompressed form */
  return EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, out, n, &got) == 1 &&
                 got == n
             ? 0
             : -1;
}

/* DER ECDSA-Sig-Value <-> r || s */
static int der_to_p1363(ehal_asym_alg alg, const uint8_t *der, size_t der_len, uint8_t *sig) {
  const unsigned char *p = der;
  ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
  int n = (int)ec_field_len(alg);
  int ok = s && BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, n) == n &&
           BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + n, n) == n;
  ECDSA_SIG_free(s);
  return ok ? 0 : -1;
}

static int p1363_to_der(ehal_asym_alg alg, const uint8_t *sig, uint8_t **der, size_t *der_len) {
  int n = (int)ec_field_len(alg);
  ECDSA_SIG *s = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, n, NULL), *ss = BN_bin2bn(sig + n, n, NULL);
  int len = -1;
  *der = NULL;
  if (s && r && ss && ECDSA_SIG_set0(s, r, ss) == 1) {
    r = ss = NULL; /* owned by s */
    len = i2d_ECDSA_SIG(s, der);
  }
  BN_free(r);
  BN_free(ss);
  ECDSA_SIG_free(s);
  if (len <= 0) return -1;
  *der_len = (size_t)len;
  return 0;
}

int ehal_asym_sign(const ehal_asym_key *k, const uint8_t *msg, size_t len, uint8_t *sig) {
  if (k->alg == EHAL_ASYM_X25519) return -1;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  if (!c) return -1;
  int ok = 0;
  const uint8_t *m = len ? msg : (const uint8_t *)"";
  if (k->alg == EHAL_ASYM_ED25519) {
    size_t n = 64;
    ok = EVP_DigestSignInit_ex(c, NULL, NULL, NULL, NULL, k->pkey, NULL) == 1 &&
         EVP_DigestSign(c, sig, &n, m, len) == 1 && n == 64;
  } else {
    uint8_t der[160];
    size_t n = sizeof der;
    ok = EVP_DigestSignInit(c, NULL, ec_md(k->alg), NULL, k->pkey) == 1 &&
         EVP_DigestSign(c, der, &n, m, len) == 1 && der_to_p1363(k->alg, der, n, sig) == 0;
  }
  EVP_MD_CTX_free(c);
  return ok ? 0 : -1;
}

int ehal_x25519_agree(const ehal_asym_key *k, const uint8_t *peer, size_t peer_len,
                      uint8_t out[32]) {
  if (k->alg != EHAL_ASYM_X25519 || peer_len != 32) return -1;
  EVP_PKEY *pp = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, peer_len);
  EVP_PKEY_CTX *c = pp ? EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL) : NULL;
  size_t n = 32;
  int ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer_ex(c, pp, 0) == 1 &&
           EVP_PKEY_derive(c, out, &n) == 1 && n == 32;
  EVP_PKEY_CTX_free(c);
  EVP_PKEY_free(pp);
  /* contributory behaviour: refuse the all-zero secret of a low-order point
   * (OpenSSL refuses it too; checked here in constant time regardless) */
  uint8_t acc = 0;
  for (int i = 0; i < 32; i++) acc |= out[i];
  if (!ok || acc == 0) {
    OPENSSL_cleanse(out, 32);
    return -1;
  }
  return 0;
}

/* A public key for verification, or NULL when malformed. */
static EVP_PKEY *public_key(ehal_asym_alg alg, const uint8_t *pub, size_t pub_len) {
  if (alg == EHAL_ASYM_ED25519)
    return pub_len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, pub_len) : NULL;
  if (!is_ec(alg)) return NULL;
  size_t f = ec_field_len(alg);
  /* SEC1: 0x04 || X || Y, or 0x02/0x03 || X; never the point at infinity */
  bool uncompressed = pub_len == 1 + 2 * f && pub[0] == 0x04;
  bool compressed = pub_len == 1 + f && (pub[0] == 0x02 || pub[0] == 0x03);
  if (!uncompressed && !compressed) return NULL;
  return ec_pkey(alg, pub, pub_len, NULL);
}

static int verify_with(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *msg, size_t len,
                       const uint8_t *sig, size_t sig_len) {
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  if (!c) return -1;
  int ok = EVP_DigestVerifyInit(c, NULL, md, NULL, pk) == 1 &&
           EVP_DigestVerify(c, sig, sig_len, len ? msg : (const uint8_t *)"", len) == 1;
  EVP_MD_CTX_free(c);
  return ok ? 1 : 0;
}

int ehal_signature_verify(ehal_asym_alg alg, const uint8_t *pub, size_t pub_len, const uint8_t *msg,
                          size_t len, const uint8_t *sig, size_t sig_len) {
  if (alg == EHAL_ASYM_X25519) return -1;
  EVP_PKEY *pk = public_key(alg, pub, pub_len);
  if (!pk) return -1;
  int rc = 0;
  if (sig_len == ehal_asym_signature_len(alg)) {
    if (alg == EHAL_ASYM_ED25519) {
      rc = verify_with(pk, NULL, msg, len, sig, sig_len);
    } else {
      uint8_t *der = NULL;
      size_t der_len = 0;
      if (p1363_to_der(alg, sig, &der, &der_len) == 0)
        rc = verify_with(pk, ec_md(alg), msg, len, der, der_len);
      OPENSSL_free(der);
    }
  }
  EVP_PKEY_free(pk);
  return rc < 0 ? 0 : rc;
}

int ehal_ecdsa_verify_der(ehal_asym_alg alg, const uint8_t *pub, size_t pub_len, const uint8_t *msg,
                          size_t len, const uint8_t *der, size_t der_len) {
  if (!is_ec(alg)) return -1;
  EVP_PKEY *pk = public_key(alg, pub, pub_len);
  if (!pk) return -1;
  /* strict DER: it must re-encode to exactly the bytes given */
  int rc = 0;
  const unsigned char *p = der;
  ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
  if (s && p == der + der_len) {
    unsigned char *re = NULL;
    int n = i2d_ECDSA_SIG(s, &re);
    if (n > 0 && (size_t)n == der_len && memcmp(re, der, der_len) == 0)
      rc = verify_with(pk, ec_md(alg), msg, len, der, der_len);
    OPENSSL_free(re);
  }
  ECDSA_SIG_free(s);
  EVP_PKEY_free(pk);
  return rc < 0 ? 0 : rc;
}
