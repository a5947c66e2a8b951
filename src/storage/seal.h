/*
 * seal.h - the cryptography of object storage (see docs/storage.md).
 *
 * Per container, three 256-bit keys are derived with HKDF-SHA-256 from the
 * platform sealing root (ehal_derive_key):
 *
 *   label   "elastic-hal storage container v1"
 *   context u32le(len) || workload || u32le(len) || container name || cid
 *
 * where cid is 16 random bytes chosen when the container is created, so a
 * container deleted and created again under the same name gets new keys.
 * The 96 bytes of output are
 *
 *   enc   AES-256-GCM key for object headers and data
 *   kid   HMAC-SHA-256 key turning object keys into key ids
 *   mac   HMAC-SHA-256 key for the container's state (entries and MAC)
 *
 * A container keyed by a workload key context (load-key-context) replaces
 * enc and kid with HKDF(workload key, "elastic-hal storage workload key v1",
 * platform enc || cid): both the platform and the workload's key are then
 * needed to read it.  key_check (stored, covered by the container MAC) lets
 * a wrong key be refused instead of failing on every object.
 */
#ifndef EHAL_STORAGE_SEAL_H
#define EHAL_STORAGE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define EHAL_KEY_LEN 32

typedef struct {
  uint8_t enc[EHAL_KEY_LEN];
  uint8_t kid[EHAL_KEY_LEN];
  uint8_t mac[EHAL_KEY_LEN];
} ehal_container_keys;

int ehal_seal_container_keys(const uint8_t root[32], const char *workload, const char *name,
                             const uint8_t cid[EHAL_CID_LEN], ehal_container_keys *out);
/* Replaces enc and kid with keys that also depend on the workload's key;
 * fills check with the key check value. */
int ehal_seal_workload_keys(ehal_container_keys *k, const uint8_t cid[EHAL_CID_LEN],
                            const uint8_t *wkey, size_t wkey_len, uint8_t check[EHAL_MAC_LEN]);

/* HMAC-SHA-256 of the concatenation of n (ptr, len) parts. */
void ehal_seal_hmac(const uint8_t key[EHAL_KEY_LEN], uint8_t out[EHAL_MAC_LEN], int n, ...);

/* Key id of an object key. */
void ehal_seal_kid(const ehal_container_keys *k, const char *key, size_t len,
                   uint8_t kid[EHAL_KID_LEN]);

/* AES-256-GCM with a fresh random nonce.  out gets len bytes of
 * ciphertext; returns 0 or -1. */
int ehal_seal_encrypt(const uint8_t key[EHAL_KEY_LEN], const uint8_t *ad, size_t adlen,
                      const uint8_t *in, size_t len, uint8_t *out, uint8_t nonce[EHAL_NONCE_LEN],
                      uint8_t tag[EHAL_TAG_LEN]);
/* 0 when the tag verifies (out holds the plaintext), -1 otherwise. */
int ehal_seal_decrypt(const uint8_t key[EHAL_KEY_LEN], const uint8_t *ad, size_t adlen,
                      const uint8_t *in, size_t len, uint8_t *out,
                      const uint8_t nonce[EHAL_NONCE_LEN], const uint8_t tag[EHAL_TAG_LEN]);

/* 256-bit little-endian arithmetic mod 2^256 for the container's state
 * digest (a keyed additive multiset hash of its entries). */
void ehal_digest_add(uint8_t acc[EHAL_MAC_LEN], const uint8_t v[EHAL_MAC_LEN]);
void ehal_digest_sub(uint8_t acc[EHAL_MAC_LEN], const uint8_t v[EHAL_MAC_LEN]);

bool ehal_ct_equal(const void *a, const void *b, size_t n);
void ehal_seal_cleanse(void *p, size_t n);
int ehal_seal_random(void *p, size_t n);

#endif
