/*
 * crypto.c - elastic:crypto@0.1.1 on the primitives of src/crypto/.
 *
 * 0.1.0 surface:
 *   hash               SHA-256 (32 bytes), SHA-512 (64), BLAKE3 (32).
 *   encrypt/decrypt    AES-256-GCM or ChaCha20-Poly1305, 32-byte keys (any
 *                      other length is an error).  Every encryption draws a
 *                      fresh random 96-bit nonce; the output is
 *                      nonce (12) || ciphertext || tag (16).  Decryption of
 *                      anything shorter than 28 bytes, or that fails to
 *                      authenticate, is an error.  Random nonces bound the
 *                      use of one key to 2^32 encryptions (NIST SP 800-38D).
 *   generate-keypair   Ed25519: public-key is the 32-byte public key,
 *                      private-key the 32-byte private seed (RFC 8032), the
 *                      encoding sign takes.
 *   sign/verify        Ed25519 (signature 64 bytes).  verify: false for a
 *                      signature that does not verify (of any length), an
 *                      error for a public key that is not 32 bytes.
 *   create-context /   handles in the workload's own table: another
 *   destroy-context    workload's handle value, a destroyed or a forged one
 *                      is an error.
 *
 * 0.1.1 additions (see wit/deps/crypto.wit for the encodings): keys held
 * in contexts (generate/import, optionally non-exportable, used by handle),
 * AEAD with associated data, HMAC-SHA-256/512 with constant-time checks,
 * ECDSA P-256/P-384 (P1363 signatures), X25519 agreement into a new context,
 * HKDF-SHA-256/512 into a new context or raw, and seal/unseal.
 *
 * Secret key bytes live only in host memory of this process: they are
 * copied into guest memory only by export-key of an exportable context, and
 * are wiped (OPENSSL_cleanse) when the context or the instance goes away.
 *
 * Sealed blob, version 1 (what seal returns and unseal takes):
 *
 *   offset  size  field
 *   0       4     magic "EHSL"
 *   4       1     format version, 1
 *   5       1     algorithm, 1 = AES-256-GCM
 *   6       12    nonce, random per seal
 *   18      n     ciphertext (n = length of the data)
 *   18+n    16    GCM tag
 *
 *   key = HKDF-SHA-256 of the platform sealing root (src/attest/sealing.h:
 *         SEV-SNP MSG_KEY_REQ bound to measurement and policy; simulated: the
 *         state directory's root; TDX: unsupported) with salt
 *         "elastic-hal/v1" and info "elastic-hal seal" || 0x00 || workload
 *         name, i.e. ehal_derive_key(root, "elastic-hal seal", workload).
 *   AAD = "elastic-hal seal v1" || 0x00 || bytes 0..5 of the blob
 *         || u32le(length of the workload name) || workload name
 *         || the caller's associated-data.
 *
 * So a blob opens only for the same workload name on the same platform root
 * with the same associated-data, and any change to any byte is an error.
 *
 * Inputs are read in place from guest memory (the glue lifts list<u8> as a
 * view).  Encryption output goes straight into guest memory when the
 * runtime offers ehal_lower_direct (cabi.h, EHAL_LOWER_DIRECT), else into
 * the call arena, from which the glue copies it.  Decryption output always
 * goes through the arena: plaintext reaches the guest only once it has
 * authenticated, and a guest buffer allocated before a failed
 * authentication would be lost to the guest.
 */
#define _GNU_SOURCE
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../attest/sealing.h"
#include "../crypto/primitives.h"
#include "crypto_contexts.h"
#include "ehal_bindings.h"
#include "interfaces.h"

#define EHAL_MAX_CRYPTO_CONTEXTS 1024u /* live contexts per workload */
#define MIN_SECRET_LEN 16              /* hmac-* and secret keys */
#define MAX_SECRET_LEN 1024
#define AEAD_OVERHEAD (EHAL_AEAD_NONCE_LEN + EHAL_AEAD_TAG_LEN)

#define SEAL_MAGIC "EHSL"
#define SEAL_VERSION 1
#define SEAL_ALG_AES256_GCM 1
#define SEAL_HEADER 6
#define SEAL_OVERHEAD (SEAL_HEADER + EHAL_AEAD_NONCE_LEN + EHAL_AEAD_TAG_LEN)
#define SEAL_AAD_LABEL "elastic-hal seal v1"

/* ---- per-instance state ---- */

typedef struct {
  bool has_key;
  bool exportable;
  ehal_crypto_key_algorithm_t alg;
  uint8_t *secret; /* symmetric key bytes */
  size_t secret_len;
  ehal_asym_key *asym; /* ed25519, x25519, ecdsa */
} crypto_ctx;

struct ehal_crypto_state {
  ehal_handle_table contexts;
  bool have_seal_key;
  uint8_t seal_key[32];
};

static void ctx_destroy(void *p) {
  crypto_ctx *c = p;
  if (!c) return;
  if (c->secret) OPENSSL_clear_free(c->secret, c->secret_len);
  ehal_asym_free(c->asym);
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}

/* The per-instance state hooks (interfaces.h): made on first use. */
void *ehal_state_create_crypto(ehal_instance *inst) {
  (void)inst;
  struct ehal_crypto_state *st = calloc(1, sizeof *st);
  if (st) ehal_handles_init(&st->contexts, EHAL_MAX_CRYPTO_CONTEXTS, ctx_destroy);
  return st;
}

void ehal_state_destroy_crypto(ehal_instance *inst, void *state) {
  (void)inst;
  struct ehal_crypto_state *st = state;
  ehal_handles_free(&st->contexts);
  OPENSSL_cleanse(st, sizeof *st);
  free(st);
}

static struct ehal_crypto_state *state(ehal_instance *inst) {
  return ehal_iface_state(inst, EHAL_IFACE_ID_CRYPTO);
}

/* The state if the workload has used crypto yet, else NULL. */
static struct ehal_crypto_state *state_if_any(ehal_instance *inst) {
  return ehal_iface_state_peek(inst, EHAL_IFACE_ID_CRYPTO);
}

#define NEED_STATE(st, ret)                   \
  struct ehal_crypto_state *st = state(inst); \
  if (!st) EHAL_FAIL(ret, "out of memory for the crypto interface state")

/* The context behind a handle of this workload, or NULL. */
static crypto_ctx *get_ctx(ehal_instance *inst, uint64_t h) {
  struct ehal_crypto_state *st = state_if_any(inst);
  return st ? ehal_handle_get(&st->contexts, h) : NULL;
}

#define GET_KEYED_CTX(c, handle, ret)                      \
  crypto_ctx *c = get_ctx(inst, (handle));                 \
  if (!c) EHAL_FAIL(ret, "invalid crypto context handle"); \
  if (!c->has_key)                                         \
  EHAL_FAIL(ret, "the crypto context holds no key (generate-key or import-key first)")

static const char *const key_alg_names[] = {
    "aes256-gcm", "chacha20-poly1305", "hmac-sha256", "hmac-sha512", "ed25519",
    "ecdsa-p256", "ecdsa-p384",        "x25519",      "secret"};

static bool is_asym(ehal_crypto_key_algorithm_t a) {
  return a == EHAL_CRYPTO_KEY_ALGORITHM_ED25519 || a == EHAL_CRYPTO_KEY_ALGORITHM_ECDSA_P256 ||
         a == EHAL_CRYPTO_KEY_ALGORITHM_ECDSA_P384 || a == EHAL_CRYPTO_KEY_ALGORITHM_X25519;
}

static ehal_asym_alg asym_of(ehal_crypto_key_algorithm_t a) {
  switch (a) {
    case EHAL_CRYPTO_KEY_ALGORITHM_ED25519: return EHAL_ASYM_ED25519;
    case EHAL_CRYPTO_KEY_ALGORITHM_ECDSA_P256: return EHAL_ASYM_P256;
    case EHAL_CRYPTO_KEY_ALGORITHM_ECDSA_P384: return EHAL_ASYM_P384;
    default: return EHAL_ASYM_X25519;
  }
}

/* Generated (and derived) length of a symmetric key. */
static size_t sym_len(ehal_crypto_key_algorithm_t a) {
  return a == EHAL_CRYPTO_KEY_ALGORITHM_HMAC_SHA512 ? 64 : 32;
}

static ehal_aead_alg aead_of_cipher(ehal_crypto_cipher_algorithm_t a) {
  return a == EHAL_CRYPTO_CIPHER_ALGORITHM_AES256_GCM ? EHAL_AEAD_AES_GCM
                                                      : EHAL_AEAD_CHACHA20_POLY1305;
}

static const char *cipher_name(ehal_crypto_cipher_algorithm_t a) {
  return a == EHAL_CRYPTO_CIPHER_ALGORITHM_AES256_GCM ? "AES-256-GCM" : "ChaCha20-Poly1305";
}

/* ---- AEAD with the nonce || ciphertext || tag framing ---- */

#ifdef EHAL_LOWER_DIRECT
/* Results from this size up are written straight into guest memory. */
#define DIRECT_MIN 256

/* A failure after ehal_lower_direct: the guest's buffer carries the error
 * message (the guest frees it as the error string), never lost. */
static void fail_direct(ehal_str *err, uint8_t *buf, size_t cap, const char *what) {
  int m = snprintf((char *)buf, cap, "%s", what);
  size_t len = m < 0 ? 0 : (size_t)m >= cap ? cap - 1 : (size_t)m;
  *err = (ehal_str){(const char *)buf, len};
}
#endif

static void aead_encrypt(ehal_instance *inst, ehal_aead_alg alg, const char *name,
                         const uint8_t *key, size_t key_len, ehal_bytes data, ehal_bytes ad,
                         ehal_crypto_result_list_u8_string_t *ret) {
  if (key_len != 32) EHAL_FAIL(ret, "%s needs a 32-byte key (got %zu bytes)", name, key_len);
  if (data.len > UINT32_MAX - AEAD_OVERHEAD)
    EHAL_FAIL(ret, "data of %zu bytes is too long to encrypt", data.len);
  size_t n = data.len + AEAD_OVERHEAD;
  /* The key may be a view of guest memory, which may move below: copy it
   * (wiped on every way out: nothing unwinds this function). */
  uint8_t nonce[EHAL_AEAD_NONCE_LEN];
  uint8_t k[32];
  memcpy(k, key, 32);
  if (ehal_prim_random(nonce, sizeof nonce) != 0) {
    OPENSSL_cleanse(k, 32);
    EHAL_FAIL(ret, "cannot draw a random nonce");
  }
#ifdef EHAL_LOWER_DIRECT
  /* straight into the guest's result buffer, saving a copy of the output */
  ehal_bytes *views[] = {&data, &ad};
  uint8_t *out = ehal_lower_direct(inst, n, views, 2);
#else
  uint8_t *out = ehal_arena_alloc(inst, n);
#endif
  if (!out) {
    OPENSSL_cleanse(k, 32);
    return; /* the call traps */
  }
  memcpy(out, nonce, sizeof nonce);
  int rc = ehal_aead_seal(alg, k, 32, nonce, sizeof nonce, ad.ptr, ad.len, data.ptr, data.len,
                          out + EHAL_AEAD_NONCE_LEN, out + EHAL_AEAD_NONCE_LEN + data.len);
  OPENSSL_cleanse(k, 32);
  if (rc != 0) {
    ret->is_err = true;
#ifdef EHAL_LOWER_DIRECT
    fail_direct(&ret->err, out, n, "encryption failed");
#else
    ret->err = ehal_str_fmt(inst, "%s encryption failed", name);
#endif
    return;
  }
  ret->val = (ehal_bytes){out, n};
}

static void aead_decrypt(ehal_instance *inst, ehal_aead_alg alg, const char *name,
                         const uint8_t *key, size_t key_len, ehal_bytes data, ehal_bytes ad,
                         ehal_crypto_result_list_u8_string_t *ret) {
  if (key_len != 32) EHAL_FAIL(ret, "%s needs a 32-byte key (got %zu bytes)", name, key_len);
  if (data.len < AEAD_OVERHEAD)
    EHAL_FAIL(ret, "%s input of %zu bytes is shorter than nonce (12) + tag (16)", name, data.len);
  size_t n = data.len - AEAD_OVERHEAD;
  uint8_t k[32]; /* see aead_encrypt */
  memcpy(k, key, 32);
  uint8_t *out;
#ifdef EHAL_LOWER_DIRECT
  /* Straight into the guest's result buffer.  ehal_aead_open wipes it when
   * authentication fails, and then it carries the error message instead. */
  bool direct = n >= DIRECT_MIN;
  ehal_bytes *views[] = {&data, &ad};
  out = direct ? ehal_lower_direct(inst, n, views, 2) : ehal_arena_alloc(inst, n ? n : 1);
#else
  out = ehal_arena_alloc(inst, n ? n : 1);
#endif
  if (!out) {
    OPENSSL_cleanse(k, 32);
    return; /* the call traps */
  }
  int rc = ehal_aead_open(alg, k, 32, data.ptr, EHAL_AEAD_NONCE_LEN, ad.ptr, ad.len,
                          data.ptr + EHAL_AEAD_NONCE_LEN, n, data.ptr + EHAL_AEAD_NONCE_LEN + n,
                          EHAL_AEAD_TAG_LEN, out);
  OPENSSL_cleanse(k, 32);
  if (rc != 0) {
    ret->is_err = true;
    ret->err = ehal_str_fmt(inst, "%s decryption failed: authentication failed", name);
#ifdef EHAL_LOWER_DIRECT
    if (direct) fail_direct(&ret->err, out, n, ret->err.ptr);
#endif
    return;
  }
  ret->val = (ehal_bytes){out, n};
}

/* ---- 0.1.0 ---- */

void ehal_impl_crypto_hash(ehal_instance *inst, ehal_bytes data,
                           ehal_crypto_hash_algorithm_t algorithm,
                           ehal_crypto_result_list_u8_string_t *ret) {
  ehal_prim_hash h = algorithm == EHAL_CRYPTO_HASH_ALGORITHM_SHA256   ? EHAL_PRIM_SHA256
                     : algorithm == EHAL_CRYPTO_HASH_ALGORITHM_SHA512 ? EHAL_PRIM_SHA512
                                                                      : EHAL_PRIM_BLAKE3;
  size_t n = ehal_prim_hash_len(h);
  uint8_t *out = ehal_arena_alloc(inst, n);
  EHAL_NEED(out);
  if (ehal_prim_digest(h, data.ptr, data.len, out) != 0) EHAL_FAIL(ret, "hashing failed");
  ret->val = (ehal_bytes){out, n};
}

void ehal_impl_crypto_encrypt(ehal_instance *inst, ehal_bytes data, ehal_bytes key,
                              ehal_crypto_cipher_algorithm_t algorithm,
                              ehal_crypto_result_list_u8_string_t *ret) {
  aead_encrypt(inst, aead_of_cipher(algorithm), cipher_name(algorithm), key.ptr, key.len, data,
               (ehal_bytes){NULL, 0}, ret);
}

void ehal_impl_crypto_decrypt(ehal_instance *inst, ehal_bytes data, ehal_bytes key,
                              ehal_crypto_cipher_algorithm_t algorithm,
                              ehal_crypto_result_list_u8_string_t *ret) {
  aead_decrypt(inst, aead_of_cipher(algorithm), cipher_name(algorithm), key.ptr, key.len, data,
               (ehal_bytes){NULL, 0}, ret);
}

void ehal_impl_crypto_generate_keypair(ehal_instance *inst,
                                       ehal_crypto_result_key_pair_string_t *ret) {
  ehal_asym_key *k = ehal_asym_generate(EHAL_ASYM_ED25519);
  if (!k) EHAL_FAIL(ret, "Ed25519 key generation failed");
  uint8_t *pub = ehal_arena_alloc(inst, 32), *priv = ehal_arena_alloc(inst, 32);
  if (!pub || !priv) {
    ehal_asym_free(k);
    return; /* the call traps */
  }
  int rc = ehal_asym_public(k, pub) | ehal_asym_private(k, priv);
  ehal_asym_free(k);
  if (rc != 0) EHAL_FAIL(ret, "Ed25519 key generation failed");
  ret->val.public_key = (ehal_bytes){pub, 32};
  ret->val.private_key = (ehal_bytes){priv, 32};
  ehal_emit_event(inst, EHAL_EVENTS_EVENT_TYPE_CRYPTO, "key-created", "algorithm", "ed25519");
}

void ehal_impl_crypto_sign(ehal_instance *inst, ehal_bytes data, ehal_bytes private_key,
                           ehal_crypto_result_list_u8_string_t *ret) {
  if (private_key.len != 32)
    EHAL_FAIL(ret, "an Ed25519 private key is the 32-byte seed (got %zu bytes)", private_key.len);
  ehal_asym_key *k = ehal_asym_from_private(EHAL_ASYM_ED25519, private_key.ptr, 32);
  if (!k) EHAL_FAIL(ret, "invalid Ed25519 private key");
  uint8_t *sig = ehal_arena_alloc(inst, 64);
  if (!sig) {
    ehal_asym_free(k);
    return; /* the call traps */
  }
  int rc = ehal_asym_sign(k, data.ptr, data.len, sig);
  ehal_asym_free(k);
  if (rc != 0) EHAL_FAIL(ret, "Ed25519 signing failed");
  ret->val = (ehal_bytes){sig, 64};
}

void ehal_impl_crypto_verify(ehal_instance *inst, ehal_bytes data, ehal_bytes signature,
                             ehal_bytes public_key, ehal_crypto_result_bool_string_t *ret) {
  if (public_key.len != 32)
    EHAL_FAIL(ret, "an Ed25519 public key is 32 bytes (got %zu)", public_key.len);
  int rc = ehal_signature_verify(EHAL_ASYM_ED25519, public_key.ptr, public_key.len, data.ptr,
                                 data.len, signature.ptr, signature.len);
  if (rc < 0) EHAL_FAIL(ret, "invalid Ed25519 public key");
  ret->val = rc == 1;
}

void ehal_impl_crypto_create_context(ehal_instance *inst,
                                     ehal_crypto_result_crypto_context_handle_string_t *ret) {
  NEED_STATE(st, ret);
  crypto_ctx *c = calloc(1, sizeof *c);
  if (!c) EHAL_FAIL(ret, "out of memory");
  ret->val = ehal_handle_new(&st->contexts, c);
  if (!ret->val) {
    free(c);
    EHAL_FAIL(ret, "too many crypto contexts (at most %u per workload)", EHAL_MAX_CRYPTO_CONTEXTS);
  }
}

void ehal_impl_crypto_destroy_context(ehal_instance *inst, uint64_t handle,
                                      ehal_crypto_result_void_string_t *ret) {
  struct ehal_crypto_state *st = state_if_any(inst);
  crypto_ctx *c = st ? ehal_handle_take(&st->contexts, handle) : NULL;
  if (!c) EHAL_FAIL(ret, "invalid crypto context handle");
  ctx_destroy(c);
}

/* ---- 0.1.1: key contexts ---- */

/* A new context holding the given symmetric key (copied), or 0 with *why. */
static uint64_t new_sym_ctx(ehal_instance *inst, ehal_crypto_key_algorithm_t alg,
                            const uint8_t *key, size_t len, bool exportable, const char **why) {
  struct ehal_crypto_state *st = state(inst);
  crypto_ctx *c = st ? calloc(1, sizeof *c) : NULL;
  uint8_t *k = c ? OPENSSL_malloc(len) : NULL;
  if (!k) {
    free(c);
    *why = "out of memory";
    return 0;
  }
  memcpy(k, key, len);
  *c = (crypto_ctx){
      .has_key = true, .exportable = exportable, .alg = alg, .secret = k, .secret_len = len};
  uint64_t h = ehal_handle_new(&st->contexts, c);
  if (!h) {
    ctx_destroy(c);
    *why = "too many crypto contexts (at most 1024 per workload)";
  }
  return h;
}

/* Loads a key into an empty context: takes asym, or copies len bytes. */
static const char *load_key(crypto_ctx *c, ehal_crypto_key_algorithm_t alg, const uint8_t *key,
                            size_t len, ehal_asym_key *asym, bool exportable) {
  if (!asym) {
    uint8_t *k = OPENSSL_malloc(len);
    if (!k) return "out of memory";
    memcpy(k, key, len);
    c->secret = k;
    c->secret_len = len;
  }
  c->asym = asym;
  c->alg = alg;
  c->exportable = exportable;
  c->has_key = true;
  return NULL;
}

static crypto_ctx *empty_ctx(ehal_instance *inst, uint64_t handle, const char **why) {
  crypto_ctx *c = get_ctx(inst, handle);
  if (!c)
    *why = "invalid crypto context handle";
  else if (c->has_key)
    *why =
        "the crypto context already holds a key (a context's key is fixed until it is destroyed)";
  return c && !c->has_key ? c : NULL;
}

static void generate_key(ehal_instance *inst, uint64_t context,
                         ehal_crypto_key_algorithm_t algorithm, bool exportable,
                         ehal_crypto_result_void_string_t *ret) {
  const char *why = NULL;
  crypto_ctx *c = empty_ctx(inst, context, &why);
  if (!c) EHAL_FAIL(ret, "%s", why);
  if (is_asym(algorithm)) {
    ehal_asym_key *k = ehal_asym_generate(asym_of(algorithm));
    if (!k) EHAL_FAIL(ret, "%s key generation failed", key_alg_names[algorithm]);
    why = load_key(c, algorithm, NULL, 0, k, exportable);
  } else {
    uint8_t key[64];
    size_t n = sym_len(algorithm);
    if (ehal_prim_random(key, n) != 0) EHAL_FAIL(ret, "cannot draw random key bytes");
    why = load_key(c, algorithm, key, n, NULL, exportable);
    OPENSSL_cleanse(key, sizeof key);
  }
  if (why) EHAL_FAIL(ret, "%s", why);
}

static void import_key(ehal_instance *inst, uint64_t context, ehal_crypto_key_algorithm_t algorithm,
                       ehal_bytes key, bool exportable, ehal_crypto_result_void_string_t *ret) {
  const char *why = NULL;
  crypto_ctx *c = empty_ctx(inst, context, &why);
  if (!c) EHAL_FAIL(ret, "%s", why);
  const char *name = key_alg_names[algorithm];
  ehal_asym_key *k = NULL;
  switch (algorithm) {
    case EHAL_CRYPTO_KEY_ALGORITHM_AES256_GCM:
    case EHAL_CRYPTO_KEY_ALGORITHM_CHACHA20_POLY1305:
      if (key.len != 32) EHAL_FAIL(ret, "a %s key is 32 bytes (got %zu)", name, key.len);
      break;
    case EHAL_CRYPTO_KEY_ALGORITHM_HMAC_SHA256:
    case EHAL_CRYPTO_KEY_ALGORITHM_HMAC_SHA512:
    case EHAL_CRYPTO_KEY_ALGORITHM_SECRET:
      if (key.len < MIN_SECRET_LEN || key.len > MAX_SECRET_LEN)
        EHAL_FAIL(ret, "a %s key is %d to %d bytes (got %zu)", name, MIN_SECRET_LEN, MAX_SECRET_LEN,
                  key.len);
      break;
    default: {
      size_t want = ehal_asym_private_len(asym_of(algorithm));
      if (key.len != want)
        EHAL_FAIL(ret, "a %s private key is %zu bytes (got %zu)", name, want, key.len);
      k = ehal_asym_from_private(asym_of(algorithm), key.ptr, key.len);
      if (!k) EHAL_FAIL(ret, "invalid %s private key (scalar out of range)", name);
    }
  }
  why = load_key(c, algorithm, key.ptr, key.len, k, exportable);
  if (why) {
    ehal_asym_free(k);
    EHAL_FAIL(ret, "%s", why);
  }
}

void ehal_impl_crypto_export_key(ehal_instance *inst, uint64_t context,
                                 ehal_crypto_result_list_u8_string_t *ret) {
  GET_KEYED_CTX(c, context, ret);
  if (!c->exportable) EHAL_FAIL(ret, "the key of this crypto context is not exportable");
  if (c->asym) {
    size_t n = ehal_asym_private_len(ehal_asym_alg_of(c->asym));
    uint8_t *out = ehal_arena_alloc(inst, n);
    EHAL_NEED(out);
    if (ehal_asym_private(c->asym, out) != 0) EHAL_FAIL(ret, "cannot encode the private key");
    ret->val = (ehal_bytes){out, n};
  } else {
    uint8_t *out = ehal_arena_alloc(inst, c->secret_len);
    EHAL_NEED(out);
    memcpy(out, c->secret, c->secret_len);
    ret->val = (ehal_bytes){out, c->secret_len};
  }
}

void ehal_impl_crypto_get_public_key(ehal_instance *inst, uint64_t context,
                                     ehal_crypto_result_list_u8_string_t *ret) {
  GET_KEYED_CTX(c, context, ret);
  if (!c->asym) EHAL_FAIL(ret, "a %s key has no public key", key_alg_names[c->alg]);
  size_t n = ehal_asym_public_len(ehal_asym_alg_of(c->asym));
  uint8_t *out = ehal_arena_alloc(inst, n);
  EHAL_NEED(out);
  if (ehal_asym_public(c->asym, out) != 0) EHAL_FAIL(ret, "cannot encode the public key");
  ret->val = (ehal_bytes){out, n};
}

void ehal_impl_crypto_describe_context(ehal_instance *inst, uint64_t context,
                                       ehal_crypto_result_context_info_string_t *ret) {
  crypto_ctx *c = get_ctx(inst, context);
  if (!c) EHAL_FAIL(ret, "invalid crypto context handle");
  ret->val.algorithm.is_some = c->has_key;
  ret->val.algorithm.val = c->has_key ? c->alg : 0;
  ret->val.exportable = c->has_key && c->exportable;
}

/* The AEAD algorithm of a context, or -1. */
static int ctx_aead(const crypto_ctx *c) {
  if (c->alg == EHAL_CRYPTO_KEY_ALGORITHM_AES256_GCM) return EHAL_AEAD_AES_GCM;
  if (c->alg == EHAL_CRYPTO_KEY_ALGORITHM_CHACHA20_POLY1305) return EHAL_AEAD_CHACHA20_POLY1305;
  return -1;
}

int ehal_crypto_context_aead_key(ehal_instance *inst, uint64_t handle, ehal_aead_alg *alg,
                                 uint8_t key[32], const char **why) {
  crypto_ctx *c = get_ctx(inst, handle);
  int a = c && c->has_key ? ctx_aead(c) : -1;
  if (a < 0) {
    *why = !c            ? "invalid crypto context handle"
           : !c->has_key ? "the crypto context holds no key"
                         : "the crypto context does not hold an AEAD key";
    return -1;
  }
  *alg = (ehal_aead_alg)a;
  memcpy(key, c->secret, 32);
  return 0;
}

struct evp_pkey_st *ehal_crypto_context_signing_key(ehal_instance *inst, uint64_t handle,
                                                    const char **why) {
  crypto_ctx *c = get_ctx(inst, handle);
  bool signing = c && c->has_key && c->asym && ehal_asym_alg_of(c->asym) != EHAL_ASYM_X25519;
  if (!signing) {
    *why = !c            ? "invalid crypto context handle"
           : !c->has_key ? "the crypto context holds no key"
                         : "the crypto context holds no signing key (ed25519 or ecdsa)";
    return NULL;
  }
  struct evp_pkey_st *k = ehal_asym_pkey_ref(c->asym);
  if (!k) *why = "out of memory";
  return k;
}

void ehal_impl_crypto_context_encrypt(ehal_instance *inst, uint64_t context, ehal_bytes data,
                                      ehal_bytes associated_data,
                                      ehal_crypto_result_list_u8_string_t *ret) {
  GET_KEYED_CTX(c, context, ret);
  int a = ctx_aead(c);
  if (a < 0) EHAL_FAIL(ret, "a %s key cannot encrypt", key_alg_names[c->alg]);
  aead_encrypt(inst, (ehal_aead_alg)a, key_alg_names[c->alg], c->secret, c->secret_len, data,
               associated_data, ret);
}

void ehal_impl_crypto_context_decrypt(ehal_instance *inst, uint64_t context, ehal_bytes data,
                                      ehal_bytes associated_data,
                                      ehal_crypto_result_list_u8_string_t *ret) {
  GET_KEYED_CTX(c, context, ret);
  int a = ctx_aead(c);
  if (a < 0) EHAL_FAIL(ret, "a %s key cannot decrypt", key_alg_names[c->alg]);
  aead_decrypt(inst, (ehal_aead_alg)a, key_alg_names[c->alg], c->secret, c->secret_len, data,
               associated_data, ret);
}

void ehal_impl_crypto_context_sign(ehal_instance *inst, uint64_t context, ehal_bytes data,
                                   ehal_crypto_result_list_u8_string_t *ret) {
  GET_KEYED_CTX(c, context, ret);
  if (!c->asym || c->alg == EHAL_CRYPTO_KEY_ALGORITHM_X25519)
    EHAL_FAIL(ret, "a %s key cannot sign", key_alg_names[c->alg]);
  size_t n = ehal_asym_signature_len(ehal_asym_alg_of(c->asym));
  uint8_t *sig = ehal_arena_alloc(inst, n);
  EHAL_NEED(sig);
  if (ehal_asym_sign(c->asym, data.ptr, data.len, sig) != 0)
    EHAL_FAIL(ret, "%s signing failed", key_alg_names[c->alg]);
  ret->val = (ehal_bytes){sig, n};
}

/* The HMAC hash of a context, or -1. */
static int ctx_hmac(const crypto_ctx *c) {
  if (c->alg == EHAL_CRYPTO_KEY_ALGORITHM_HMAC_SHA256) return EHAL_PRIM_SHA256;
  if (c->alg == EHAL_CRYPTO_KEY_ALGORITHM_HMAC_SHA512) return EHAL_PRIM_SHA512;
  return -1;
}

static void do_mac(ehal_instance *inst, ehal_prim_hash h, const uint8_t *key, size_t key_len,
                   ehal_bytes data, ehal_crypto_result_list_u8_string_t *ret) {
  size_t n = ehal_prim_hash_len(h);
  uint8_t *out = ehal_arena_alloc(inst, n);
  EHAL_NEED(out);
  if (ehal_hmac(h, key, key_len, data.ptr, data.len, out) != 0) EHAL_FAIL(ret, "HMAC failed");
  ret->val = (ehal_bytes){out, n};
}

static void do_verify_mac(ehal_instance *inst, ehal_prim_hash h, const uint8_t *key, size_t key_len,
                          ehal_bytes data, ehal_bytes tag, ehal_crypto_result_bool_string_t *ret) {
  size_t full = ehal_prim_hash_len(h);
  int rc = ehal_hmac_verify(h, key, key_len, data.ptr, data.len, tag.ptr, tag.len, full);
  if (rc < 0) EHAL_FAIL(ret, "HMAC failed");
  ret->val = rc == 1;
}

void ehal_impl_crypto_context_mac(ehal_instance *inst, uint64_t context, ehal_bytes data,
                                  ehal_crypto_result_list_u8_string_t *ret) {
  GET_KEYED_CTX(c, context, ret);
  int h = ctx_hmac(c);
  if (h < 0) EHAL_FAIL(ret, "a %s key cannot compute a MAC", key_alg_names[c->alg]);
  do_mac(inst, (ehal_prim_hash)h, c->secret, c->secret_len, data, ret);
}

void ehal_impl_crypto_context_verify_mac(ehal_instance *inst, uint64_t context, ehal_bytes data,
                                         ehal_bytes tag, ehal_crypto_result_bool_string_t *ret) {
  GET_KEYED_CTX(c, context, ret);
  int h = ctx_hmac(c);
  if (h < 0) EHAL_FAIL(ret, "a %s key cannot verify a MAC", key_alg_names[c->alg]);
  do_verify_mac(inst, (ehal_prim_hash)h, c->secret, c->secret_len, data, tag, ret);
}

void ehal_impl_crypto_context_agree(ehal_instance *inst, uint64_t context,
                                    ehal_bytes peer_public_key, bool exportable,
                                    ehal_crypto_result_crypto_context_handle_string_t *ret) {
  GET_KEYED_CTX(c, context, ret);
  if (c->alg != EHAL_CRYPTO_KEY_ALGORITHM_X25519)
    EHAL_FAIL(ret, "key agreement needs an x25519 key, not %s", key_alg_names[c->alg]);
  if (peer_public_key.len != 32)
    EHAL_FAIL(ret, "an X25519 public key is 32 bytes (got %zu)", peer_public_key.len);
  uint8_t shared[32];
  if (ehal_x25519_agree(c->asym, peer_public_key.ptr, peer_public_key.len, shared) != 0)
    EHAL_FAIL(ret, "X25519 agreement failed: the peer's public key is a low-order point");
  const char *why = NULL;
  /* a derived key is exportable only if its parent is: otherwise deriving
   * would be a way around "not exportable" */
  ret->val = new_sym_ctx(inst, EHAL_CRYPTO_KEY_ALGORITHM_SECRET, shared, 32,
                         exportable && c->exportable, &why);
  OPENSSL_cleanse(shared, sizeof shared);
  if (!ret->val) EHAL_FAIL(ret, "%s", why);
}

static ehal_prim_hash kdf_hash(ehal_crypto_kdf_algorithm_t a) {
  return a == EHAL_CRYPTO_KDF_ALGORITHM_HKDF_SHA256 ? EHAL_PRIM_SHA256 : EHAL_PRIM_SHA512;
}

void ehal_impl_crypto_context_derive(ehal_instance *inst, uint64_t context,
                                     ehal_crypto_kdf_algorithm_t algorithm, ehal_bytes salt,
                                     ehal_bytes info, ehal_crypto_key_algorithm_t derived,
                                     bool exportable,
                                     ehal_crypto_result_crypto_context_handle_string_t *ret) {
  GET_KEYED_CTX(c, context, ret);
  if (c->alg != EHAL_CRYPTO_KEY_ALGORITHM_SECRET)
    EHAL_FAIL(ret,
              "keys are derived from a secret key, not from %s (import key material as secret)",
              key_alg_names[c->alg]);
  if (derived == EHAL_CRYPTO_KEY_ALGORITHM_ECDSA_P256 ||
      derived == EHAL_CRYPTO_KEY_ALGORITHM_ECDSA_P384)
    EHAL_FAIL(ret, "%s keys cannot be derived", key_alg_names[derived]);
  uint8_t key[64];
  size_t n = sym_len(derived);
  if (ehal_hkdf(kdf_hash(algorithm), c->secret, c->secret_len, salt.ptr, salt.len, info.ptr,
                info.len, key, n) != 0)
    EHAL_FAIL(ret, "HKDF failed");
  const char *why = NULL;
  if (is_asym(derived)) {
    /* ed25519 seeds and x25519 scalars are any 32 bytes */
    ehal_asym_key *k = ehal_asym_from_private(asym_of(derived), key, n);
    OPENSSL_cleanse(key, sizeof key);
    if (!k) EHAL_FAIL(ret, "cannot make a %s key", key_alg_names[derived]);
    struct ehal_crypto_state *st = state(inst);
    crypto_ctx *nc = st ? calloc(1, sizeof *nc) : NULL;
    if (!nc) {
      ehal_asym_free(k);
      EHAL_FAIL(ret, "out of memory");
    }
    load_key(nc, derived, NULL, 0, k, exportable && c->exportable);
    ret->val = ehal_handle_new(&st->contexts, nc);
    if (!ret->val) {
      ctx_destroy(nc);
      EHAL_FAIL(ret, "too many crypto contexts (at most %u per workload)",
                EHAL_MAX_CRYPTO_CONTEXTS);
    }
    return;
  }
  ret->val = new_sym_ctx(inst, derived, key, n, exportable && c->exportable, &why);
  OPENSSL_cleanse(key, sizeof key);
  if (!ret->val) EHAL_FAIL(ret, "%s", why);
}

/* ---- 0.1.1: raw-key functions ---- */

void ehal_impl_crypto_encrypt_with_ad(ehal_instance *inst, ehal_bytes data, ehal_bytes key,
                                      ehal_crypto_cipher_algorithm_t algorithm,
                                      ehal_bytes associated_data,
                                      ehal_crypto_result_list_u8_string_t *ret) {
  aead_encrypt(inst, aead_of_cipher(algorithm), cipher_name(algorithm), key.ptr, key.len, data,
               associated_data, ret);
}

void ehal_impl_crypto_decrypt_with_ad(ehal_instance *inst, ehal_bytes data, ehal_bytes key,
                                      ehal_crypto_cipher_algorithm_t algorithm,
                                      ehal_bytes associated_data,
                                      ehal_crypto_result_list_u8_string_t *ret) {
  aead_decrypt(inst, aead_of_cipher(algorithm), cipher_name(algorithm), key.ptr, key.len, data,
               associated_data, ret);
}

static ehal_prim_hash mac_hash(ehal_crypto_mac_algorithm_t a) {
  return a == EHAL_CRYPTO_MAC_ALGORITHM_HMAC_SHA256 ? EHAL_PRIM_SHA256 : EHAL_PRIM_SHA512;
}

void ehal_impl_crypto_mac(ehal_instance *inst, ehal_crypto_mac_algorithm_t algorithm,
                          ehal_bytes key, ehal_bytes data,
                          ehal_crypto_result_list_u8_string_t *ret) {
  do_mac(inst, mac_hash(algorithm), key.ptr, key.len, data, ret);
}

void ehal_impl_crypto_verify_mac(ehal_instance *inst, ehal_crypto_mac_algorithm_t algorithm,
                                 ehal_bytes key, ehal_bytes data, ehal_bytes tag,
                                 ehal_crypto_result_bool_string_t *ret) {
  do_verify_mac(inst, mac_hash(algorithm), key.ptr, key.len, data, tag, ret);
}

void ehal_impl_crypto_hkdf(ehal_instance *inst, ehal_crypto_kdf_algorithm_t algorithm,
                           ehal_bytes key_material, ehal_bytes salt, ehal_bytes info,
                           uint32_t length, ehal_crypto_result_list_u8_string_t *ret) {
  ehal_prim_hash h = kdf_hash(algorithm);
  size_t max = 255 * ehal_prim_hash_len(h);
  if (length > max) EHAL_FAIL(ret, "HKDF output is at most %zu bytes (asked for %u)", max, length);
  uint8_t *out = ehal_arena_alloc(inst, length ? length : 1);
  EHAL_NEED(out);
  if (ehal_hkdf(h, key_material.ptr, key_material.len, salt.ptr, salt.len, info.ptr, info.len, out,
                length) != 0)
    EHAL_FAIL(ret, "HKDF failed");
  ret->val = (ehal_bytes){out, length};
}

void ehal_impl_crypto_verify_signature(ehal_instance *inst,
                                       ehal_crypto_signature_algorithm_t algorithm,
                                       ehal_bytes public_key, ehal_bytes data, ehal_bytes signature,
                                       ehal_crypto_result_bool_string_t *ret) {
  static const char *const names[] = {"Ed25519", "ECDSA P-256", "ECDSA P-384"};
  ehal_asym_alg a = algorithm == EHAL_CRYPTO_SIGNATURE_ALGORITHM_ED25519 ? EHAL_ASYM_ED25519
                    : algorithm == EHAL_CRYPTO_SIGNATURE_ALGORITHM_ECDSA_P256_SHA256
                        ? EHAL_ASYM_P256
                        : EHAL_ASYM_P384;
  int rc = ehal_signature_verify(a, public_key.ptr, public_key.len, data.ptr, data.len,
                                 signature.ptr, signature.len);
  if (rc < 0) EHAL_FAIL(ret, "invalid %s public key (%zu bytes)", names[algorithm], public_key.len);
  ret->val = rc == 1;
}

/* ---- 0.1.1: sealing ---- */

/* The workload's seal key, derived once per instance; -1 with err. */
static int seal_key(ehal_instance *inst, struct ehal_crypto_state *st, char *err, size_t errlen) {
  if (st->have_seal_key) return 0;
  uint8_t root[EHAL_SEALING_ROOT_LEN];
  if (ehal_sealing_root(inst->state_dir, root, err, errlen) != 0) return -1;
  const char *w = inst->workload ? inst->workload : "";
  int rc = ehal_derive_key(root, "elastic-hal seal", (const uint8_t *)w, strlen(w), st->seal_key,
                           sizeof st->seal_key);
  OPENSSL_cleanse(root, sizeof root);
  if (rc != 0) {
    snprintf(err, errlen, "cannot derive the sealing key (workload name too long?)");
    return -1;
  }
  st->have_seal_key = true;
  return 0;
}

/* AAD of a sealed blob (see the top of this file). */
static ehal_bytes seal_aad(ehal_instance *inst, const uint8_t header[SEAL_HEADER], ehal_bytes ad) {
  const char *w = inst->workload ? inst->workload : "";
  size_t wl = strlen(w), ll = sizeof SEAL_AAD_LABEL; /* with its NUL */
  size_t n = ll + SEAL_HEADER + 4 + wl + ad.len;
  uint8_t *aad = ehal_arena_alloc(inst, n), *p = aad;
  if (!aad) return (ehal_bytes){NULL, 0}; /* the call traps */
  memcpy(p, SEAL_AAD_LABEL, ll);
  p += ll;
  memcpy(p, header, SEAL_HEADER);
  p += SEAL_HEADER;
  ehal_put_u32(p, (uint32_t)wl);
  p += 4;
  memcpy(p, w, wl);
  p += wl;
  if (ad.len) memcpy(p, ad.ptr, ad.len);
  return (ehal_bytes){aad, n};
}

void ehal_impl_crypto_seal(ehal_instance *inst, ehal_bytes data, ehal_bytes associated_data,
                           ehal_crypto_result_list_u8_string_t *ret) {
  NEED_STATE(st, ret);
  char why[512];
  if (seal_key(inst, st, why, sizeof why) != 0) EHAL_FAIL(ret, "seal: %s", why);
  if (data.len > UINT32_MAX - SEAL_OVERHEAD)
    EHAL_FAIL(ret, "data of %zu bytes is too long to seal", data.len);
  size_t n = data.len + SEAL_OVERHEAD;
  uint8_t *out = ehal_arena_alloc(inst, n);
  EHAL_NEED(out);
  memcpy(out, SEAL_MAGIC, 4);
  out[4] = SEAL_VERSION;
  out[5] = SEAL_ALG_AES256_GCM;
  uint8_t *nonce = out + SEAL_HEADER, *ct = nonce + EHAL_AEAD_NONCE_LEN;
  if (ehal_prim_random(nonce, EHAL_AEAD_NONCE_LEN) != 0)
    EHAL_FAIL(ret, "cannot draw a random nonce");
  ehal_bytes aad = seal_aad(inst, out, associated_data);
  EHAL_NEED(aad.ptr);
  if (ehal_aead_seal(EHAL_AEAD_AES_GCM, st->seal_key, 32, nonce, EHAL_AEAD_NONCE_LEN, aad.ptr,
                     aad.len, data.ptr, data.len, ct, ct + data.len) != 0)
    EHAL_FAIL(ret, "seal: encryption failed");
  ret->val = (ehal_bytes){out, n};
}

void ehal_impl_crypto_unseal(ehal_instance *inst, ehal_bytes sealed, ehal_bytes associated_data,
                             ehal_crypto_result_list_u8_string_t *ret) {
  NEED_STATE(st, ret);
  if (sealed.len < SEAL_OVERHEAD || memcmp(sealed.ptr, SEAL_MAGIC, 4) != 0)
    EHAL_FAIL(ret, "unseal: not a sealed blob");
  if (sealed.ptr[4] != SEAL_VERSION || sealed.ptr[5] != SEAL_ALG_AES256_GCM)
    EHAL_FAIL(ret, "unseal: unsupported sealed blob version %u, algorithm %u", sealed.ptr[4],
              sealed.ptr[5]);
  char why[512];
  if (seal_key(inst, st, why, sizeof why) != 0) EHAL_FAIL(ret, "unseal: %s", why);
  size_t n = sealed.len - SEAL_OVERHEAD;
  const uint8_t *nonce = sealed.ptr + SEAL_HEADER, *ct = nonce + EHAL_AEAD_NONCE_LEN;
  uint8_t *out = ehal_arena_alloc(inst, n ? n : 1);
  ehal_bytes aad = seal_aad(inst, sealed.ptr, associated_data);
  EHAL_NEED(out && aad.ptr);
  if (ehal_aead_open(EHAL_AEAD_AES_GCM, st->seal_key, 32, nonce, EHAL_AEAD_NONCE_LEN, aad.ptr,
                     aad.len, ct, n, ct + n, EHAL_AEAD_TAG_LEN, out) != 0)
    EHAL_FAIL(ret,
              "unseal: authentication failed (altered, sealed by another workload or platform, "
              "or different associated-data)");
  ret->val = (ehal_bytes){out, n};
}

/* Key creation is an event of the crypto type (docs/deployment.md). */
void ehal_impl_crypto_generate_key(ehal_instance *inst, uint64_t context,
                                   ehal_crypto_key_algorithm_t algorithm, bool exportable,
                                   ehal_crypto_result_void_string_t *ret) {
  generate_key(inst, context, algorithm, exportable, ret);
  if (!ret->is_err)
    ehal_emit_event(inst, EHAL_EVENTS_EVENT_TYPE_CRYPTO, "key-created", "algorithm",
                    key_alg_names[algorithm]);
}

void ehal_impl_crypto_import_key(ehal_instance *inst, uint64_t context,
                                 ehal_crypto_key_algorithm_t algorithm, ehal_bytes key,
                                 bool exportable, ehal_crypto_result_void_string_t *ret) {
  import_key(inst, context, algorithm, key, exportable, ret);
  if (!ret->is_err)
    ehal_emit_event(inst, EHAL_EVENTS_EVENT_TYPE_CRYPTO, "key-imported", "algorithm",
                    key_alg_names[algorithm]);
}
