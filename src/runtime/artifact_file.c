/* artifact_file.c - authenticated compiled guests (see artifact_file.h). */
#define _GNU_SOURCE
#include "artifact_file.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../attest/sealing.h"
#include "../crypto/primitives.h"
#include "../engine/engine.h"
#include "../util/byteorder.h"
#include "../util/fsutil.h"
#include "elastic-hal/elastic_hal.h"

#define MAGIC "EHAL-ART"
#define FORMAT 1u        /* tagged with the sealing-root key */
#define FORMAT_SIGNED 2u /* signed for transport (compile --sign) */
#define HEADER 80u
#define TAG 48u
#define MAX_ENGINE_ID 128u
#define SIG 64u /* Ed25519 */
#define SIGNED_TRAILER (EHAL_ARTIFACT_SIGNER_LEN + SIG)

bool ehal_artifact_is(const uint8_t *buf, size_t len) {
  return len >= 8 && memcmp(buf, MAGIC, 8) == 0;
}

int ehal_artifact_key(const char *state_dir, bool create, uint8_t key[EHAL_ARTIFACT_KEY_LEN],
                      char *err, size_t errlen) {
  /* Inspection must not create the simulated root as a side effect: where
   * it does not exist yet, no artifact can have been made with it. */
  if (!create && strcmp(elastic_hal_platform_type(), "simulated") == 0) {
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/sealing/root.key", state_dir ? state_dir : "");
    if (!state_dir || lstat(path, &st) != 0) {
      snprintf(err, errlen, "no sealing root in %s yet, so no artifact made here",
               state_dir ? state_dir : "(no state directory)");
      return -1;
    }
  }
  uint8_t root[EHAL_SEALING_ROOT_LEN];
  if (ehal_sealing_root(state_dir, root, err, errlen) != 0) return -1;
  int rc =
      ehal_derive_key(root, "elastic-hal artifact mac v1", NULL, 0, key, EHAL_ARTIFACT_KEY_LEN);
  OPENSSL_cleanse(root, sizeof root);
  if (rc != 0) snprintf(err, errlen, "cannot derive the artifact key");
  return rc;
}

/* The format field, read before authentication only to word an error. */
static uint32_t format_of(const uint8_t *buf, size_t len) {
  return len >= HEADER ? ehal_get_u32(buf + 8) : 0;
}

/* Parse an artifact whose authenticity is established: body is every byte
 * before the trailer (the tag, or signer and signature). */
static int parse(const uint8_t *buf, size_t body_end, uint32_t want_format, ehal_artifact_view *out,
                 char *err, size_t errlen) {
  uint32_t format = ehal_get_u32(buf + 8), elen = ehal_get_u32(buf + 12);
  uint64_t wlen = ehal_get_u64(buf + 16), nlen = ehal_get_u64(buf + 24);
  uint64_t body = body_end - HEADER;
  if (format != want_format || elen > MAX_ENGINE_ID || wlen > body || nlen > body ||
      elen + wlen + nlen != body) {
    snprintf(err, errlen, "artifact format %u is not one this version reads", format);
    return -1;
  }
  memcpy(out->sha384, buf + 32, 48);
  out->engine = (const char *)buf + HEADER;
  out->engine_len = elen;
  out->wasm = buf + HEADER + elen;
  out->wasm_len = (size_t)wlen;
  out->native = out->wasm + wlen;
  out->native_len = (size_t)nlen;
  const char *mine = ehal_engine_build_id();
  if (elen != strlen(mine) || memcmp(out->engine, mine, elen) != 0) {
    snprintf(err, errlen, "compiled by another engine build (%.*s, this is %s)", (int)elen,
             out->engine, mine);
    return -1;
  }
  uint8_t md[48];
  unsigned int mdlen = 0;
  if (EVP_Digest(out->wasm, out->wasm_len, md, &mdlen, EVP_sha384(), NULL) != 1 ||
      memcmp(md, out->sha384, 48) != 0) {
    snprintf(err, errlen, "the module inside does not match its recorded hash");
    return -1;
  }
  return 0;
}

int ehal_artifact_open(const uint8_t *buf, size_t len, const uint8_t key[EHAL_ARTIFACT_KEY_LEN],
                       ehal_artifact_view *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!ehal_artifact_is(buf, len) || len < HEADER + TAG) {
    snprintf(err, errlen, "not an elastic-hal artifact");
    return -1;
  }
  if (format_of(buf, len) == FORMAT_SIGNED) {
    snprintf(err, errlen,
             "it is a signed artifact for transport, not one made here: import it first with "
             "'elastic-hal import --trust SIGNER.pub'");
    return -1;
  }
  /* the tag first: nothing else of the file is believed before it holds */
  if (ehal_hmac_verify(EHAL_PRIM_SHA384, key, EHAL_ARTIFACT_KEY_LEN, buf, len - TAG,
                       buf + len - TAG, TAG, TAG) != 1) {
    snprintf(err, errlen,
             "authentication failed: it was made on another machine or with another sealing "
             "root, or it was modified");
    return -1;
  }
  return parse(buf, len - TAG, FORMAT, out, err, errlen);
}

int ehal_artifact_open_signed(const uint8_t *buf, size_t len,
                              const uint8_t (*trusted)[EHAL_ARTIFACT_SIGNER_LEN], size_t n_trusted,
                              ehal_artifact_view *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!ehal_artifact_is(buf, len) || len < HEADER + SIGNED_TRAILER) {
    snprintf(err, errlen, "not an elastic-hal artifact");
    return -1;
  }
  if (format_of(buf, len) != FORMAT_SIGNED) {
    snprintf(err, errlen,
             "it is not a signed artifact (one made by 'elastic-hal compile --sign'); an "
             "artifact made on another machine without --sign cannot be moved");
    return -1;
  }
  /* the signer must be one the operator named, and the signature its */
  const uint8_t *signer = buf + len - SIGNED_TRAILER;
  size_t i = 0;
  while (i < n_trusted && CRYPTO_memcmp(trusted[i], signer, EHAL_ARTIFACT_SIGNER_LEN) != 0) i++;
  if (i == n_trusted) {
    snprintf(err, errlen, "it is signed by a key that is not trusted here (not one of --trust)");
    return -1;
  }
  if (ehal_signature_verify(EHAL_ASYM_ED25519, signer, EHAL_ARTIFACT_SIGNER_LEN, buf, len - SIG,
                            buf + len - SIG, SIG) != 1) {
    snprintf(err, errlen, "its signature does not verify: it was modified after signing");
    return -1;
  }
  return parse(buf, len - SIGNED_TRAILER, FORMAT_SIGNED, out, err, errlen);
}

/* Header and body of an artifact, with trailer bytes left for the caller. */
static uint8_t *assemble(uint32_t format, const uint8_t sha384[48], const uint8_t *wasm,
                         size_t wasm_len, const uint8_t *native, size_t native_len, size_t trailer,
                         size_t *total, char *err, size_t errlen) {
  const char *engine = ehal_engine_build_id();
  size_t elen = strlen(engine);
  *total = HEADER + elen + wasm_len + native_len + trailer;
  uint8_t *buf = malloc(*total);
  if (!buf) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  memcpy(buf, MAGIC, 8);
  ehal_put_u32(buf + 8, format);
  ehal_put_u32(buf + 12, (uint32_t)elen);
  ehal_put_u64(buf + 16, wasm_len);
  ehal_put_u64(buf + 24, native_len);
  memcpy(buf + 32, sha384, 48);
  memcpy(buf + HEADER, engine, elen);
  memcpy(buf + HEADER + elen, wasm, wasm_len);
  memcpy(buf + HEADER + elen + wasm_len, native, native_len);
  return buf;
}

int ehal_artifact_write(const char *path, const uint8_t key[EHAL_ARTIFACT_KEY_LEN],
                        const uint8_t sha384[48], const uint8_t *wasm, size_t wasm_len,
                        const uint8_t *native, size_t native_len, char *err, size_t errlen) {
  size_t total;
  uint8_t *buf =
      assemble(FORMAT, sha384, wasm, wasm_len, native, native_len, TAG, &total, err, errlen);
  if (!buf) return -1;
  if (ehal_hmac(EHAL_PRIM_SHA384, key, EHAL_ARTIFACT_KEY_LEN, buf, total - TAG,
                buf + total - TAG) != 0) {
    free(buf);
    snprintf(err, errlen, "cannot compute the artifact tag");
    return -1;
  }
  /* a fresh name nobody else can have made, then rename over the target */
  int rc = ehal_write_file_atomic(path, buf, total, 0600, 0, err, errlen);
  free(buf);
  return rc;
}

int ehal_artifact_write_signed(const char *path, const ehal_asym_key *signer,
                               const uint8_t sha384[48], const uint8_t *wasm, size_t wasm_len,
                               const uint8_t *native, size_t native_len, char *err, size_t errlen) {
  if (ehal_asym_alg_of(signer) != EHAL_ASYM_ED25519) {
    snprintf(err, errlen, "the signing key is not an Ed25519 key");
    return -1;
  }
  size_t total;
  uint8_t *buf = assemble(FORMAT_SIGNED, sha384, wasm, wasm_len, native, native_len, SIGNED_TRAILER,
                          &total, err, errlen);
  if (!buf) return -1;
  /* the signature covers the signer's public key too */
  if (ehal_asym_public(signer, buf + total - SIGNED_TRAILER) != 0 ||
      ehal_asym_sign(signer, buf, total - SIG, buf + total - SIG) != 0) {
    free(buf);
    snprintf(err, errlen, "cannot sign the artifact");
    return -1;
  }
  /* readable by others: it carries no secret, and it is meant to travel */
  int rc = ehal_write_file_atomic(path, buf, total, 0644, 0, err, errlen);
  free(buf);
  return rc;
}

/* An Ed25519 key from a PEM file: the private key, or (want_public) a
 * public key.  Encrypted keys are refused rather than prompted for: a
 * library never reads a terminal. */
static int no_password(char *buf, int size, int rwflag, void *u) {
  (void)buf, (void)size, (void)rwflag, (void)u;
  return -1;
}

static EVP_PKEY *read_ed25519(const char *pem_path, bool want_public, char *err, size_t errlen) {
  BIO *bio = BIO_new_file(pem_path, "r");
  if (!bio) {
    snprintf(err, errlen, "cannot open %s: %s", pem_path, strerror(errno));
    return NULL;
  }
  EVP_PKEY *k = want_public ? PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL) : NULL;
  if (!k) {
    (void)BIO_reset(bio);
    k = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
  }
  BIO_free(bio);
  ERR_clear_error();
  if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    snprintf(err, errlen,
             "%s is not an unencrypted Ed25519 %s key in PEM (make one with 'openssl genpkey "
             "-algorithm ed25519 -out KEY.pem'%s)",
             pem_path, want_public ? "public" : "private",
             want_public ? ", its public half with 'openssl pkey -in KEY.pem -pubout'" : "");
    EVP_PKEY_free(k);
    return NULL;
  }
  return k;
}

ehal_asym_key *ehal_artifact_signing_key(const char *pem_path, char *err, size_t errlen) {
  EVP_PKEY *k = read_ed25519(pem_path, false, err, errlen);
  if (!k) return NULL;
  uint8_t seed[32];
  size_t n = sizeof seed;
  ehal_asym_key *key = EVP_PKEY_get_raw_private_key(k, seed, &n) == 1 && n == sizeof seed
                           ? ehal_asym_from_private(EHAL_ASYM_ED25519, seed, n)
                           : NULL;
  OPENSSL_cleanse(seed, sizeof seed);
  EVP_PKEY_free(k);
  if (!key) snprintf(err, errlen, "%s: cannot use this Ed25519 key", pem_path);
  return key;
}

int ehal_artifact_trusted_key(const char *pem_path, uint8_t out[EHAL_ARTIFACT_SIGNER_LEN],
                              char *err, size_t errlen) {
  EVP_PKEY *k = read_ed25519(pem_path, true, err, errlen);
  if (!k) return -1;
  size_t n = EHAL_ARTIFACT_SIGNER_LEN;
  int ok = EVP_PKEY_get_raw_public_key(k, out, &n) == 1 && n == EHAL_ARTIFACT_SIGNER_LEN;
  EVP_PKEY_free(k);
  if (!ok) snprintf(err, errlen, "%s: cannot read this Ed25519 key", pem_path);
  return ok ? 0 : -1;
}
