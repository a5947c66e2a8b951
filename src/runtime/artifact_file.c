/* artifact_file.c - authenticated compiled guests (see artifact_file.h). */
#define _GNU_SOURCE
#include "artifact_file.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
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
#include "elastic-hal/elastic_hal.h"
#include "../util/fsutil.h"

#define MAGIC "EHAL-ART"
#define FORMAT 1u
#define HEADER 80u
#define TAG 48u
#define MAX_ENGINE_ID 128u

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

int ehal_artifact_open(const uint8_t *buf, size_t len, const uint8_t key[EHAL_ARTIFACT_KEY_LEN],
                       ehal_artifact_view *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!ehal_artifact_is(buf, len) || len < HEADER + TAG) {
    snprintf(err, errlen, "not an elastic-hal artifact");
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
  uint32_t format = ehal_get_u32(buf + 8), elen = ehal_get_u32(buf + 12);
  uint64_t wlen = ehal_get_u64(buf + 16), nlen = ehal_get_u64(buf + 24);
  uint64_t body = len - HEADER - TAG;
  if (format != FORMAT || elen > MAX_ENGINE_ID || wlen > body || nlen > body ||
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

int ehal_artifact_write(const char *path, const uint8_t key[EHAL_ARTIFACT_KEY_LEN],
                        const uint8_t sha384[48], const uint8_t *wasm, size_t wasm_len,
                        const uint8_t *native, size_t native_len, char *err, size_t errlen) {
  const char *engine = ehal_engine_build_id();
  size_t elen = strlen(engine);
  size_t total = HEADER + elen + wasm_len + native_len + TAG;
  uint8_t *buf = malloc(total);
  if (!buf) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  memcpy(buf, MAGIC, 8);
  ehal_put_u32(buf + 8, FORMAT);
  ehal_put_u32(buf + 12, (uint32_t)elen);
  ehal_put_u64(buf + 16, wasm_len);
  ehal_put_u64(buf + 24, native_len);
  memcpy(buf + 32, sha384, 48);
  memcpy(buf + HEADER, engine, elen);
  memcpy(buf + HEADER + elen, wasm, wasm_len);
  memcpy(buf + HEADER + elen + wasm_len, native, native_len);
  if (ehal_hmac(EHAL_PRIM_SHA384, key, EHAL_ARTIFACT_KEY_LEN, buf, total - TAG,
                buf + total - TAG) != 0) {
    free(buf);
    snprintf(err, errlen, "cannot compute the artifact tag");
    return -1;
  }
  /* a fresh name nobody else can have made, then rename over the target */
  int rc = ehal_write_file_atomic(path, buf, total, 0600, 0, err, errlen);
  free(buf);
  if (rc != 0) return -1;
  return 0;
}
