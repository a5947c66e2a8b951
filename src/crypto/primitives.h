/*
 * primitives.h - the cryptographic primitives under elastic:crypto, as
 * native C calls (no guest, no instance).  src/interfaces/crypto.c is their
 * only caller in the HAL; the tests run the Wycheproof and BLAKE3 vectors
 * against them directly, and the crypto benchmark times them as "native".
 *
 * OpenSSL 3 (libcrypto) provides every primitive except BLAKE3, which is the
 * official BLAKE3 C implementation (Debian's librust-blake3-dev ships it; see
 * the BLAKE3 block of CMakeLists.txt), SIMD back ends chosen at run time.
 *
 * Conventions: functions return 0 on success and -1 on failure unless said
 * otherwise; verification functions return 1 (valid), 0 (invalid) or -1
 * (malformed key).  Nothing here keeps state between calls except cached
 * algorithm fetches, so every function is safe to call from any thread.
 */
#ifndef EHAL_CRYPTO_PRIMITIVES_H
#define EHAL_CRYPTO_PRIMITIVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- hashes ---- */

typedef enum {
  EHAL_PRIM_SHA256,
  EHAL_PRIM_SHA384,
  EHAL_PRIM_SHA512,
  EHAL_PRIM_BLAKE3, /* 32-byte default output */
} ehal_prim_hash;

#define EHAL_MAX_DIGEST_LEN 64

/* Digest length in bytes. */
size_t ehal_prim_hash_len(ehal_prim_hash h);
/* out gets ehal_prim_hash_len(h) bytes. */
int ehal_prim_digest(ehal_prim_hash h, const uint8_t *data, size_t len, uint8_t *out);

/* BLAKE3's three modes, with extendable output (out_len any length). */
#define EHAL_BLAKE3_KEY_LEN 32
void ehal_blake3_hash(const uint8_t *data, size_t len, uint8_t *out, size_t out_len);
void ehal_blake3_keyed_hash(const uint8_t key[EHAL_BLAKE3_KEY_LEN], const uint8_t *data, size_t len,
                            uint8_t *out, size_t out_len);
void ehal_blake3_derive_key(const char *context, const uint8_t *material, size_t len, uint8_t *out,
                            size_t out_len);

/* ---- randomness (OpenSSL's DRBG, seeded by the kernel's getrandom) ---- */
int ehal_prim_random(uint8_t *buf, size_t len);

/* ---- AEAD ---- */

typedef enum {
  EHAL_AEAD_AES_GCM,           /* 16-, 24- or 32-byte key; nonce of 1 to 128 bytes */
  EHAL_AEAD_CHACHA20_POLY1305, /* 32-byte key; 12-byte nonce (RFC 8439) */
} ehal_aead_alg;

#define EHAL_AEAD_NONCE_LEN 12 /* what the HAL always uses */
#define EHAL_AEAD_TAG_LEN 16   /* the only tag length accepted */

/* Encrypts pt into ct (pt_len bytes; ct may equal pt) and writes the tag. */
int ehal_aead_seal(ehal_aead_alg alg, const uint8_t *key, size_t key_len, const uint8_t *nonce,
                   size_t nonce_len, const uint8_t *ad, size_t ad_len, const uint8_t *pt,
                   size_t pt_len, uint8_t *ct, uint8_t tag[EHAL_AEAD_TAG_LEN]);
/* Decrypts and authenticates; -1 (and pt cleared) on any failure, including
 * a tag that is not EHAL_AEAD_TAG_LEN bytes. */
int ehal_aead_open(ehal_aead_alg alg, const uint8_t *key, size_t key_len, const uint8_t *nonce,
                   size_t nonce_len, const uint8_t *ad, size_t ad_len, const uint8_t *ct,
                   size_t ct_len, const uint8_t *tag, size_t tag_len, uint8_t *pt);

/* ---- MAC and KDF ---- */

/* HMAC with SHA-256/384/512 (not BLAKE3); out gets the digest length.  Any
 * key length, including 0. */
int ehal_hmac(ehal_prim_hash h, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
              uint8_t *out);
/* Constant-time (CRYPTO_memcmp) check of tag against the first tag_len bytes
 * of the HMAC; a tag shorter than min_tag_len or longer than the digest is
 * invalid.  1 or 0 (-1 if HMAC itself failed). */
int ehal_hmac_verify(ehal_prim_hash h, const uint8_t *key, size_t key_len, const uint8_t *data,
                     size_t len, const uint8_t *tag, size_t tag_len, size_t min_tag_len);
/* HKDF (RFC 5869) extract-and-expand with HMAC-h.  An empty salt means a
 * salt of zeros, as the RFC says.  out_len at most 255 * digest length. */
int ehal_hkdf(ehal_prim_hash h, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
              size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* ---- asymmetric keys ---- */

typedef enum {
  EHAL_ASYM_ED25519,
  EHAL_ASYM_X25519,
  EHAL_ASYM_P256, /* ECDSA with SHA-256 */
  EHAL_ASYM_P384, /* ECDSA with SHA-384 */
} ehal_asym_alg;

#define EHAL_MAX_PRIVATE_LEN 48
#define EHAL_MAX_PUBLIC_LEN 97
#define EHAL_MAX_SIG_LEN 96

/* A private key (and its public key). */
typedef struct ehal_asym_key ehal_asym_key;

/* Private key encodings: ed25519 the 32-byte seed, x25519 the 32-byte
 * scalar, ECDSA the big-endian scalar (32/48 bytes, in [1, n-1]). */
size_t ehal_asym_private_len(ehal_asym_alg alg);
/* Public keys: ed25519/x25519 32 bytes, ECDSA uncompressed SEC1 (65/97). */
size_t ehal_asym_public_len(ehal_asym_alg alg);
/* Signatures: ed25519 64 bytes, ECDSA r || s (P1363: 64/96). */
size_t ehal_asym_signature_len(ehal_asym_alg alg);

ehal_asym_key *ehal_asym_generate(ehal_asym_alg alg);
/* NULL if the encoding is malformed or the scalar is out of range. */
ehal_asym_key *ehal_asym_from_private(ehal_asym_alg alg, const uint8_t *priv, size_t len);
void ehal_asym_free(ehal_asym_key *k);
/* The OpenSSL key behind k, with a reference of the caller's own
 * (EVP_PKEY_free it): for TLS, which signs with it in place. */
struct evp_pkey_st *ehal_asym_pkey_ref(const ehal_asym_key *k);
ehal_asym_alg ehal_asym_alg_of(const ehal_asym_key *k);
/* out gets ehal_asym_private_len / ehal_asym_public_len bytes. */
int ehal_asym_private(const ehal_asym_key *k, uint8_t *out);
int ehal_asym_public(const ehal_asym_key *k, uint8_t *out);
/* ed25519 or ECDSA (P1363); sig gets ehal_asym_signature_len bytes. */
int ehal_asym_sign(const ehal_asym_key *k, const uint8_t *msg, size_t len, uint8_t *sig);
/* X25519 with a peer's 32-byte public key; -1 for a malformed peer key or
 * an all-zero shared secret (a low-order peer point). */
int ehal_x25519_agree(const ehal_asym_key *k, const uint8_t *peer, size_t peer_len,
                      uint8_t out[32]);

/* Verification with a public key: ed25519 (32 bytes), ECDSA (SEC1 point,
 * uncompressed or compressed; signature r || s).  1 valid, 0 invalid (a
 * signature of the wrong length included), -1 malformed public key. */
int ehal_signature_verify(ehal_asym_alg alg, const uint8_t *pub, size_t pub_len, const uint8_t *msg,
                          size_t len, const uint8_t *sig, size_t sig_len);
/* ECDSA with a DER-encoded (X9.62) signature, strictly parsed. */
int ehal_ecdsa_verify_der(ehal_asym_alg alg, const uint8_t *pub, size_t pub_len, const uint8_t *msg,
                          size_t len, const uint8_t *der, size_t der_len);

#endif
