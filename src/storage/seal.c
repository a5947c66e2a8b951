/* seal.c - the cryptography of object storage (see seal.h). */
#include "seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "../attest/sealing.h"
#include "../util/byteorder.h"

int ehal_seal_container_keys(const uint8_t root[32], const char *workload, const char *name,
                             const uint8_t cid[EHAL_CID_LEN], ehal_container_keys *out) {
  size_t wl = strlen(workload), nl = strlen(name);
  uint8_t ctx[900];
  if (8 + wl + nl + EHAL_CID_LEN > sizeof ctx) return -1;
  size_t o = 0;
  ehal_put_u32(ctx + o, (uint32_t)wl);
  o += 4;
  memcpy(ctx + o, workload, wl);
  o += wl;
  ehal_put_u32(ctx + o, (uint32_t)nl);
  o += 4;
  memcpy(ctx + o, name, nl);
  o += nl;
  memcpy(ctx + o, cid, EHAL_CID_LEN);
  o += EHAL_CID_LEN;
  uint8_t k[3 * EHAL_KEY_LEN];
  int rc = ehal_derive_key(root, "elastic-hal storage container v1", ctx, o, k, sizeof k);
  if (rc == 0) {
    memcpy(out->enc, k, EHAL_KEY_LEN);
    memcpy(out->kid, k + EHAL_KEY_LEN, EHAL_KEY_LEN);
    memcpy(out->mac, k + 2 * EHAL_KEY_LEN, EHAL_KEY_LEN);
  }
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(ctx, sizeof ctx);
  return rc;
}

int ehal_seal_workload_keys(ehal_container_keys *k, const uint8_t cid[EHAL_CID_LEN],
                            const uint8_t *wkey, size_t wkey_len, uint8_t check[EHAL_MAC_LEN]) {
  /* ehal_derive_key takes a 32-byte input key: condense longer workload
   * keys with HMAC under the container's platform key first. */
  uint8_t ikm[32];
  if (wkey_len == 32)
    memcpy(ikm, wkey, 32);
  else
    ehal_seal_hmac(k->mac, ikm, 2, "workload key", (size_t)12, wkey, wkey_len);
  uint8_t ctx[EHAL_KEY_LEN + EHAL_CID_LEN];
  memcpy(ctx, k->enc, EHAL_KEY_LEN);
  memcpy(ctx + EHAL_KEY_LEN, cid, EHAL_CID_LEN);
  uint8_t out[3 * EHAL_KEY_LEN];
  int rc =
      ehal_derive_key(ikm, "elastic-hal storage workload key v1", ctx, sizeof ctx, out, sizeof out);
  if (rc == 0) {
    memcpy(k->enc, out, EHAL_KEY_LEN);
    memcpy(k->kid, out + EHAL_KEY_LEN, EHAL_KEY_LEN);
    /* the check value is a MAC of the third output, not the output itself */
    ehal_seal_hmac(k->mac, check, 2, "key check", (size_t)9, out + 2 * EHAL_KEY_LEN,
                   (size_t)EHAL_KEY_LEN);
  }
  OPENSSL_cleanse(out, sizeof out);
  OPENSSL_cleanse(ikm, sizeof ikm);
  OPENSSL_cleanse(ctx, sizeof ctx);
  return rc;
}

/* One HMAC-SHA-256 context with the digest set, made once and duplicated
 * per MAC (fetching the digest for every entry would dominate verifying a
 * large container).  The template is only ever read after its creation. */
static EVP_MAC_CTX *g_hmac_template;
static pthread_once_t g_hmac_once = PTHREAD_ONCE_INIT;

static void hmac_template_init(void) {
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  if (!mac) return;
  EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac); /* the context holds its own reference */
  OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                    OSSL_PARAM_construct_end()};
  if (c && !EVP_MAC_CTX_set_params(c, p)) {
    EVP_MAC_CTX_free(c);
    c = NULL;
  }
  g_hmac_template = c;
}

void ehal_seal_hmac(const uint8_t key[EHAL_KEY_LEN], uint8_t out[EHAL_MAC_LEN], int n, ...) {
  pthread_once(&g_hmac_once, hmac_template_init);
  EVP_MAC_CTX *ctx = g_hmac_template ? EVP_MAC_CTX_dup(g_hmac_template) : NULL;
  size_t outl = 0;
  bool ok = ctx && EVP_MAC_init(ctx, key, EHAL_KEY_LEN, NULL);
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    const void *p = va_arg(ap, const void *);
    size_t l = va_arg(ap, size_t);
    if (ok && l) ok = EVP_MAC_update(ctx, p, l);
  }
  va_end(ap);
  if (ok) ok = EVP_MAC_final(ctx, out, &outl, EHAL_MAC_LEN) && outl == EHAL_MAC_LEN;
  EVP_MAC_CTX_free(ctx);
  /* Failing closed: a MAC of random bytes matches nothing. */
  if (!ok) RAND_bytes(out, EHAL_MAC_LEN);
}

void ehal_seal_kid(const ehal_container_keys *k, const char *key, size_t len,
                   uint8_t kid[EHAL_KID_LEN]) {
  ehal_seal_hmac(k->kid, kid, 2, "object key", (size_t)10, key, len);
}

/* AES-256-GCM fetched once: an implicit fetch on every init (EVP_aes_256_gcm)
 * costs locks and name lookups per object. */
static EVP_CIPHER *g_gcm;
static pthread_once_t g_gcm_once = PTHREAD_ONCE_INIT;
static void gcm_init(void) { g_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL); }

static int gcm(bool enc, const uint8_t key[EHAL_KEY_LEN], const uint8_t *ad, size_t adlen,
               const uint8_t *in, size_t len, uint8_t *out, const uint8_t nonce[EHAL_NONCE_LEN],
               uint8_t tag[EHAL_TAG_LEN]) {
  pthread_once(&g_gcm_once, gcm_init);
  EVP_CIPHER_CTX *c = g_gcm ? EVP_CIPHER_CTX_new() : NULL;
  if (!c) return -1;
  int ok = 1, l = 0;
  /* the default IV length of AES-GCM is 12 bytes, EHAL_NONCE_LEN */
  ok = ok && EVP_CipherInit_ex2(c, g_gcm, key, nonce, enc, NULL);
  if (ok && adlen) ok = EVP_CipherUpdate(c, NULL, &l, ad, (int)adlen);
  /* in chunks: EVP takes int lengths */
  size_t done = 0;
  while (ok && done < len) {
    size_t chunk = len - done > (1u << 30) ? (1u << 30) : len - done;
    ok = EVP_CipherUpdate(c, out + done, &l, in + done, (int)chunk);
    done += chunk;
  }
  if (ok && !enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, EHAL_TAG_LEN, tag);
  uint8_t fin[16];
  if (ok) ok = EVP_CipherFinal_ex(c, fin, &l);
  if (ok && enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, EHAL_TAG_LEN, tag);
  EVP_CIPHER_CTX_free(c);
  return ok ? 0 : -1;
}

int ehal_seal_encrypt(const uint8_t key[EHAL_KEY_LEN], const uint8_t *ad, size_t adlen,
                      const uint8_t *in, size_t len, uint8_t *out, uint8_t nonce[EHAL_NONCE_LEN],
                      uint8_t tag[EHAL_TAG_LEN]) {
  if (ehal_seal_random(nonce, EHAL_NONCE_LEN) != 0) return -1;
  return gcm(true, key, ad, adlen, in, len, out, nonce, tag);
}

int ehal_seal_decrypt(const uint8_t key[EHAL_KEY_LEN], const uint8_t *ad, size_t adlen,
                      const uint8_t *in, size_t len, uint8_t *out,
                      const uint8_t nonce[EHAL_NONCE_LEN], const uint8_t tag[EHAL_TAG_LEN]) {
  uint8_t t[EHAL_TAG_LEN];
  memcpy(t, tag, sizeof t);
  return gcm(false, key, ad, adlen, in, len, out, nonce, t);
}

void ehal_digest_add(uint8_t acc[EHAL_MAC_LEN], const uint8_t v[EHAL_MAC_LEN]) {
  unsigned carry = 0;
  for (int i = 0; i < EHAL_MAC_LEN; i++) {
    unsigned s = (unsigned)acc[i] + v[i] + carry;
    acc[i] = (uint8_t)s;
    carry = s >> 8;
  }
}

void ehal_digest_sub(uint8_t acc[EHAL_MAC_LEN], const uint8_t v[EHAL_MAC_LEN]) {
  int borrow = 0;
  for (int i = 0; i < EHAL_MAC_LEN; i++) {
    int d = (int)acc[i] - (int)v[i] - borrow;
    borrow = d < 0;
    acc[i] = (uint8_t)(d + (borrow ? 256 : 0));
  }
}

bool ehal_ct_equal(const void *a, const void *b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

void ehal_seal_cleanse(void *p, size_t n) { OPENSSL_cleanse(p, n); }

int ehal_seal_random(void *p, size_t n) { return RAND_bytes(p, (int)n) == 1 ? 0 : -1; }
