/*
 * artifact_file.h - compiled guests on disk, authenticated.
 *
 * Native code is only ever loaded when this HAL made it and can prove it:
 * an artifact file (what 'elastic-hal compile' writes, and every entry of
 * the compile cache) carries the guest module itself, the engine build that
 * compiled it and the native code, under an HMAC-SHA-384 keyed from the
 * platform sealing root.  The disk is hostile (see docs/storage.md): an
 * edited, swapped or foreign file fails the tag and is never loaded, and the
 * module identity that attestation reports is the SHA-384 of the module
 * inside the authenticated file, so it is the code that runs.
 *
 * Layout (integers little-endian):
 *
 *   0    8   magic "EHAL-ART"
 *   8    4   format version (1)
 *   12   4   E, length of the engine build id (at most 128)
 *   16   8   W, length of the module
 *   24   8   N, length of the native code
 *   32   48  SHA-384 of the module
 *   80   E   engine build id
 *   ..   W   the module (.wasm, as given)
 *   ..   N   native code (engine-specific)
 *   ..   48  HMAC-SHA-384(key, every byte above)
 *
 * key = HKDF-SHA-256(sealing root, info "elastic-hal artifact mac v1"), so
 * an artifact verifies only where the same sealing root is had: the same
 * state directory on the simulated platform, the same chip, measurement and
 * policy on SEV-SNP.  Where the platform has no sealing root (TDX without a
 * key provider, an unidentified platform) nothing is cached or loaded from
 * an artifact: .wasm inputs are compiled afresh for every run.
 *
 * Transport (format 2, 'elastic-hal compile --sign'): to build artifacts on
 * a bigger machine for a confidential VM, the same layout carries, in place
 * of the tag, the signer's Ed25519 public key (32 bytes) and an Ed25519
 * signature (64 bytes) of every byte before it, the key included.  Such a
 * file is never loaded as it is: 'elastic-hal import' checks the signer
 * against the keys the operator trusts and the signature, then writes it
 * again as a format 1 artifact of this machine.
 */
#ifndef EHAL_ARTIFACT_FILE_H
#define EHAL_ARTIFACT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../crypto/primitives.h"

#define EHAL_ARTIFACT_KEY_LEN 32
#define EHAL_ARTIFACT_SIGNER_LEN 32 /* an Ed25519 public key */

typedef struct {
  uint8_t sha384[48];
  const char *engine; /* not NUL-terminated: engine_len bytes */
  size_t engine_len;
  const uint8_t *wasm; /* views into the file's bytes */
  size_t wasm_len;
  const uint8_t *native;
  size_t native_len;
} ehal_artifact_view;

/* Whether buf starts like an artifact file. */
bool ehal_artifact_is(const uint8_t *buf, size_t len);

/* The artifact key of this platform.  create: allowed to create the
 * simulated platform's sealing root if it does not exist yet (false for
 * side-effect-free inspection).  Returns 0, or -1 with the reason. */
int ehal_artifact_key(const char *state_dir, bool create, uint8_t key[EHAL_ARTIFACT_KEY_LEN],
                      char *err, size_t errlen);

/* Authenticate and parse an artifact file held in memory: the tag, the
 * engine build (must be this one) and the module's hash.  Returns 0, or -1
 * with the reason. */
int ehal_artifact_open(const uint8_t *buf, size_t len, const uint8_t key[EHAL_ARTIFACT_KEY_LEN],
                       ehal_artifact_view *out, char *err, size_t errlen);

/* Write an artifact atomically (temporary file, fsync, rename), mode 0600. */
int ehal_artifact_write(const char *path, const uint8_t key[EHAL_ARTIFACT_KEY_LEN],
                        const uint8_t sha384[48], const uint8_t *wasm, size_t wasm_len,
                        const uint8_t *native, size_t native_len, char *err, size_t errlen);

/* A signed (transport) artifact: the signer must be one of trusted, the
 * signature valid, the engine build this one and the module hash right.
 * Returns 0, or -1 with the reason. */
int ehal_artifact_open_signed(const uint8_t *buf, size_t len,
                              const uint8_t (*trusted)[EHAL_ARTIFACT_SIGNER_LEN], size_t n_trusted,
                              ehal_artifact_view *out, char *err, size_t errlen);

/* Write a signed artifact with an Ed25519 key, atomically, mode 0644. */
int ehal_artifact_write_signed(const char *path, const ehal_asym_key *signer,
                               const uint8_t sha384[48], const uint8_t *wasm, size_t wasm_len,
                               const uint8_t *native, size_t native_len, char *err, size_t errlen);

/* Keys from PEM files (as 'openssl genpkey -algorithm ed25519' and
 * 'openssl pkey -pubout' write them).  The signing key: an unencrypted
 * Ed25519 private key.  A trusted key: an Ed25519 public key (or a private
 * key, whose public half is taken).  Return NULL / -1 with the reason. */
ehal_asym_key *ehal_artifact_signing_key(const char *pem_path, char *err, size_t errlen);
int ehal_artifact_trusted_key(const char *pem_path, uint8_t out[EHAL_ARTIFACT_SIGNER_LEN],
                              char *err, size_t errlen);

#endif
