/*
 * crypto_contexts.h - crypto contexts (elastic:crypto key handles) seen from other
 * parts of the HAL, for interfaces that take a key context from a guest
 * (storage: a container given a symmetric key context, which encrypts its
 * objects).  Implemented in src/interfaces/crypto.c.  The key never goes to
 * the guest this way, exportable or not.
 */
#ifndef EHAL_CRYPTO_CONTEXTS_H
#define EHAL_CRYPTO_CONTEXTS_H

#include <stdint.h>

#include "../crypto/primitives.h"
#include "../runtime/instance.h"

/* The AEAD key of one of this workload's contexts: copies the 32-byte key
 * into key and sets *alg.  Returns 0, or -1 with *why set (an invalid or
 * another workload's handle, an empty context, a key that is not
 * aes256-gcm or chacha20-poly1305).  Wipe the copy (OPENSSL_cleanse) after
 * use. */
int ehal_crypto_context_aead_key(ehal_instance *inst, uint64_t handle, ehal_aead_alg *alg,
                                 uint8_t key[32], const char **why);

/* The signing key of one of this workload's contexts (ed25519, ecdsa-p256,
 * ecdsa-p384), as an OpenSSL key with a reference of the caller's (for a
 * TLS identity: the key stays in the HAL, exportable or not).  NULL with
 * *why set. */
struct evp_pkey_st *ehal_crypto_context_signing_key(ehal_instance *inst, uint64_t handle,
                                                    const char **why);

#endif
