/*
 * test_crypto_vectors.c - the crypto primitives (src/crypto/primitives.h),
 * called natively, against third-party test vectors read in place:
 *
 *   Project Wycheproof (../shared/testdata/wycheproof/): every algorithm the
 *   crypto interface exposes - AES-GCM, ChaCha20-Poly1305, Ed25519, ECDSA
 *   P-256/SHA-256 and P-384/SHA-384 (P1363 and DER signature files), HMAC-
 *   SHA-256, HKDF-SHA-256, X25519.  One TAP line per file with its counts;
 *   every failing vector is named (tcId) in a diagnostic line.
 *   Rules: "valid" must be accepted (and, where the primitive produces the
 *   output, produce exactly the expected bytes); "invalid" must be refused;
 *   "acceptable" may go either way, but if accepted its output must match.
 *
 *   BLAKE3 (../shared/testdata/blake3/test_vectors.json): hash, keyed_hash
 *   and derive_key over every input length, at the default 32-byte output
 *   and the full extended output given.
 *
 * Plus a few known-answer tests for what the vector files do not cover
 * (RFC 8032 signing, RFC 7748 agreement, RFC 4231 HMAC-SHA-512, RFC 5869
 * HKDF-SHA-512 lengths, SHA-256/512 of "abc").
 */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/primitives.h"
#include "tap.h"

#ifndef EHAL_TESTDATA
#error "EHAL_TESTDATA (the shared test data directory) must be defined"
#endif

#define MAX_DIAG 20

/* ---- helpers ---- */

typedef struct {
  uint8_t *p;
  size_t n;
} buf;

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes a hex string into a fresh buffer (never NULL, even when empty). */
static buf unhex(const char *s) {
  size_t l = s ? strlen(s) : 0;
  buf b = {malloc(l / 2 + 1), l / 2};
  for (size_t i = 0; i < b.n; i++) b.p[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
  return b;
}

static const char *str(json_object *o, const char *k) {
  json_object *v;
  return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static int num(json_object *o, const char *k) {
  json_object *v;
  return json_object_object_get_ex(o, k, &v) ? json_object_get_int(v) : -1;
}

static json_object *get(json_object *o, const char *k) {
  json_object *v;
  return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static buf hexfield(json_object *o, const char *k) { return unhex(str(o, k)); }

/* Per-file tally. */
typedef struct {
  const char *file;
  int total, valid, invalid, acceptable;
  int passed, failed, skipped;
  int acceptable_accepted;
  const char *skip_why;
  char diags[MAX_DIAG][200];
  int ndiag;
} tally;

typedef enum { R_VALID, R_INVALID, R_ACCEPTABLE } result_kind;

static result_kind kind_of(json_object *t) {
  const char *r = str(t, "result");
  if (r && !strcmp(r, "valid")) return R_VALID;
  if (r && !strcmp(r, "acceptable")) return R_ACCEPTABLE;
  return R_INVALID;
}

static void count(tally *ty, json_object *t) {
  ty->total++;
  switch (kind_of(t)) {
    case R_VALID: ty->valid++; break;
    case R_INVALID: ty->invalid++; break;
    case R_ACCEPTABLE: ty->acceptable++; break;
  }
}

__attribute__((format(printf, 3, 4))) static void fail(tally *ty, json_object *t, const char *fmt,
                                                       ...) {
  ty->failed++;
  if (ty->ndiag >= MAX_DIAG) return;
  char what[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(ty->diags[ty->ndiag++], sizeof ty->diags[0], "tcId %d (%s, %s): %s", num(t, "tcId"),
           str(t, "result"), str(t, "comment"), what);
}

/* accepted: the primitive accepted the input; matches: its output (if any)
 * equals the expected bytes. */
static void judge(tally *ty, json_object *t, bool accepted, bool matches) {
  switch (kind_of(t)) {
    case R_VALID:
      if (!accepted) return fail(ty, t, "refused");
      if (!matches) return fail(ty, t, "wrong output");
      break;
    case R_INVALID:
      if (accepted) return fail(ty, t, "accepted");
      break;
    case R_ACCEPTABLE:
      if (accepted && !matches) return fail(ty, t, "accepted with a wrong output");
      ty->acceptable_accepted += accepted;
      break;
  }
  ty->passed++;
}

static void report(tally *ty) {
  char acc[64] = "";
  if (ty->acceptable)
    snprintf(acc, sizeof acc, ", %d acceptable: %d accepted, %d refused", ty->acceptable,
             ty->acceptable_accepted, ty->acceptable - ty->acceptable_accepted);
  char skip[200] = "";
  if (ty->skipped) snprintf(skip, sizeof skip, ", %d skipped (%s)", ty->skipped, ty->skip_why);
  TAP_OK(ty->failed == 0 && ty->total > 0 && ty->passed + ty->skipped == ty->total,
         "wycheproof %s: %d vectors (%d valid, %d invalid%s): %d passed, %d failed%s", ty->file,
         ty->total, ty->valid, ty->invalid, acc, ty->passed, ty->failed, skip);
  for (int i = 0; i < ty->ndiag; i++) tap_diag("%s", ty->diags[i]);
}

static json_object *load(const char *rel) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", EHAL_TESTDATA, rel);
  json_object *o = json_object_from_file(path);
  if (!o) {
    TAP_OK(false, "read %s", path);
    tap_diag("%s", json_util_get_last_err());
  }
  return o;
}

/* Iterates over every test of every group: body sees g (group) and t. */
#define FOR_EACH_TEST(root, g, t)                                                             \
  json_object *groups_ = get(root, "testGroups");                                             \
  for (size_t gi_ = 0; gi_ < json_object_array_length(groups_); gi_++)                        \
    for (json_object *g = json_object_array_get_idx(groups_, gi_), *tests_ = get(g, "tests"); \
         tests_; tests_ = NULL)                                                               \
      for (size_t ti_ = 0; ti_ < json_object_array_length(tests_); ti_++)                     \
        for (json_object *t = json_object_array_get_idx(tests_, ti_); t; t = NULL)

/* ---- AEAD ---- */

static void wycheproof_aead(const char *file, ehal_aead_alg alg) {
  json_object *root = load(file);
  if (!root) return;
  tally ty = {.file = strchr(file, '/') + 1};
  FOR_EACH_TEST(root, g, t) {
    count(&ty, t);
    buf key = hexfield(t, "key"), iv = hexfield(t, "iv"), aad = hexfield(t, "aad"),
        msg = hexfield(t, "msg"), ct = hexfield(t, "ct"), tag = hexfield(t, "tag");
    /* OpenSSL 3's GCM takes nonces of at most 128 bytes; the HAL itself
     * always uses 12.  Longer ones are outside the primitive's domain. */
    if (alg == EHAL_AEAD_AES_GCM && iv.n > 128) {
      ty.skipped++;
      ty.skip_why = "GCM nonces over 128 bytes: unsupported by OpenSSL 3, never used by the HAL";
    } else {
      uint8_t *out = malloc(msg.n + ct.n + 1), otag[EHAL_AEAD_TAG_LEN];
      uint8_t *pt = malloc(ct.n + 1);
      /* decryption is what must refuse the invalid vectors */
      bool opened = ehal_aead_open(alg, key.p, key.n, iv.p, iv.n, aad.p, aad.n, ct.p, ct.n, tag.p,
                                   tag.n, pt) == 0;
      bool open_ok = opened && ct.n == msg.n && memcmp(pt, msg.p, msg.n) == 0;
      bool sealed = false, seal_ok = false;
      if (kind_of(t) == R_VALID) {
        sealed = ehal_aead_seal(alg, key.p, key.n, iv.p, iv.n, aad.p, aad.n, msg.p, msg.n, out,
                                otag) == 0;
        seal_ok = sealed && ct.n == msg.n && memcmp(out, ct.p, ct.n) == 0 &&
                  tag.n == EHAL_AEAD_TAG_LEN && memcmp(otag, tag.p, tag.n) == 0;
      }
      if (kind_of(t) == R_VALID)
        judge(&ty, t, opened && sealed, open_ok && seal_ok);
      else
        judge(&ty, t, opened, open_ok);
      free(out);
      free(pt);
    }
    free(key.p), free(iv.p), free(aad.p), free(msg.p), free(ct.p), free(tag.p);
  }
  report(&ty);
  json_object_put(root);
}

/* ---- signatures ---- */

static void wycheproof_sig(const char *file, ehal_asym_alg alg, bool der) {
  json_object *root = load(file);
  if (!root) return;
  tally ty = {.file = strchr(file, '/') + 1};
  FOR_EACH_TEST(root, g, t) {
    count(&ty, t);
    json_object *pk = get(g, "publicKey");
    buf pub = alg == EHAL_ASYM_ED25519 ? hexfield(pk, "pk") : hexfield(pk, "uncompressed");
    buf msg = hexfield(t, "msg"), sig = hexfield(t, "sig");
    int rc = der ? ehal_ecdsa_verify_der(alg, pub.p, pub.n, msg.p, msg.n, sig.p, sig.n)
                 : ehal_signature_verify(alg, pub.p, pub.n, msg.p, msg.n, sig.p, sig.n);
    if (rc < 0)
      fail(&ty, t, "public key refused as malformed");
    else
      judge(&ty, t, rc == 1, true);
    free(pub.p), free(msg.p), free(sig.p);
  }
  report(&ty);
  json_object_put(root);
}

/* ---- MAC, KDF, agreement ---- */

static void wycheproof_hmac(const char *file, ehal_prim_hash h) {
  json_object *root = load(file);
  if (!root) return;
  tally ty = {.file = strchr(file, '/') + 1};
  FOR_EACH_TEST(root, g, t) {
    count(&ty, t);
    size_t tag_bytes = (size_t)num(g, "tagSize") / 8;
    buf key = hexfield(t, "key"), msg = hexfield(t, "msg"), tag = hexfield(t, "tag");
    uint8_t mac[EHAL_MAX_DIGEST_LEN];
    bool computed = ehal_hmac(h, key.p, key.n, msg.p, msg.n, mac) == 0;
    /* a truncated tag (tagSize < digest) is checked as the group's tag size */
    int v = ehal_hmac_verify(h, key.p, key.n, msg.p, msg.n, tag.p, tag.n, tag_bytes);
    bool matches = computed && tag.n <= sizeof mac && memcmp(mac, tag.p, tag.n) == 0;
    judge(&ty, t, v == 1, matches);
    free(key.p), free(msg.p), free(tag.p);
  }
  report(&ty);
  json_object_put(root);
}

static void wycheproof_hkdf(const char *file, ehal_prim_hash h) {
  json_object *root = load(file);
  if (!root) return;
  tally ty = {.file = strchr(file, '/') + 1};
  FOR_EACH_TEST(root, g, t) {
    count(&ty, t);
    buf ikm = hexfield(t, "ikm"), salt = hexfield(t, "salt"), info = hexfield(t, "info"),
        okm = hexfield(t, "okm");
    size_t size = (size_t)num(t, "size");
    uint8_t *out = malloc(size + 1);
    bool ok = ehal_hkdf(h, ikm.p, ikm.n, salt.p, salt.n, info.p, info.n, out, size) == 0;
    judge(&ty, t, ok, ok && okm.n == size && memcmp(out, okm.p, size) == 0);
    free(out);
    free(ikm.p), free(salt.p), free(info.p), free(okm.p);
  }
  report(&ty);
  json_object_put(root);
}

static void wycheproof_x25519(const char *file) {
  json_object *root = load(file);
  if (!root) return;
  tally ty = {.file = strchr(file, '/') + 1};
  FOR_EACH_TEST(root, g, t) {
    count(&ty, t);
    buf priv = hexfield(t, "private"), pub = hexfield(t, "public"), shared = hexfield(t, "shared");
    ehal_asym_key *k = ehal_asym_from_private(EHAL_ASYM_X25519, priv.p, priv.n);
    uint8_t out[32];
    bool ok = k && ehal_x25519_agree(k, pub.p, pub.n, out) == 0;
    judge(&ty, t, ok, ok && shared.n == 32 && memcmp(out, shared.p, 32) == 0);
    ehal_asym_free(k);
    free(priv.p), free(pub.p), free(shared.p);
  }
  report(&ty);
  json_object_put(root);
}

/* ---- BLAKE3 ---- */

static void blake3_vectors(void) {
  json_object *root = load("blake3/test_vectors.json");
  if (!root) return;
  const char *key = str(root, "key"), *context = str(root, "context_string");
  json_object *cases = get(root, "cases");
  size_t n = json_object_array_length(cases);
  static const char *const modes[] = {"hash", "keyed_hash", "derive_key"};
  for (int m = 0; m < 3; m++) {
    int bad = 0, lens = 0;
    for (size_t i = 0; i < n; i++) {
      json_object *c = json_object_array_get_idx(cases, i);
      size_t len = (size_t)num(c, "input_len");
      buf want = hexfield(c, modes[m]);
      uint8_t *in = malloc(len + 1), *out = malloc(want.n + 1), out32[32];
      for (size_t j = 0; j < len; j++) in[j] = (uint8_t)(j % 251);
      if (m == 0) {
        ehal_blake3_hash(in, len, out, want.n);
        ehal_blake3_hash(in, len, out32, 32);
      } else if (m == 1) {
        ehal_blake3_keyed_hash((const uint8_t *)key, in, len, out, want.n);
        ehal_blake3_keyed_hash((const uint8_t *)key, in, len, out32, 32);
      } else {
        ehal_blake3_derive_key(context, in, len, out, want.n);
        ehal_blake3_derive_key(context, in, len, out32, 32);
      }
      if (memcmp(out, want.p, want.n) != 0 || memcmp(out32, want.p, 32) != 0) {
        if (bad++ < MAX_DIAG) tap_diag("blake3 %s: input_len %zu differs", modes[m], len);
      }
      lens++;
      free(in), free(out), free(want.p);
    }
    TAP_OK(bad == 0 && lens == 35,
           "blake3 %s: %d input lengths (0 to 102400), 32-byte and 131-byte outputs match",
           modes[m], lens);
  }
  /* the one-shot digest the interface uses is the same function */
  uint8_t a[32], b[32];
  ehal_prim_digest(EHAL_PRIM_BLAKE3, (const uint8_t *)"", 0, a);
  buf e = unhex("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  ehal_blake3_hash(NULL, 0, b, 32);
  TAP_OK(!memcmp(a, e.p, 32) && !memcmp(b, e.p, 32),
         "blake3 through ehal_prim_digest (empty input)");
  free(e.p);
  json_object_put(root);
}

/* ---- known answers outside the vector files ---- */

static bool eq_hex(const uint8_t *p, size_t n, const char *hex) {
  buf e = unhex(hex);
  bool ok = e.n == n && memcmp(p, e.p, n) == 0;
  free(e.p);
  return ok;
}

static void known_answers(void) {
  uint8_t d[64];
  ehal_prim_digest(EHAL_PRIM_SHA256, (const uint8_t *)"abc", 3, d);
  TAP_OK(eq_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
         "SHA-256(\"abc\") (FIPS 180-4)");
  ehal_prim_digest(EHAL_PRIM_SHA512, (const uint8_t *)"abc", 3, d);
  TAP_OK(eq_hex(d, 64,
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"
                "36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
         "SHA-512(\"abc\") (FIPS 180-4)");

  /* RFC 8032 7.1 test 2: seed -> public key, deterministic signature */
  buf seed = unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
  ehal_asym_key *k = ehal_asym_from_private(EHAL_ASYM_ED25519, seed.p, seed.n);
  uint8_t pub[EHAL_MAX_PUBLIC_LEN], sig[EHAL_MAX_SIG_LEN], priv[EHAL_MAX_PRIVATE_LEN];
  uint8_t m = 0x72;
  bool ok = k && ehal_asym_public(k, pub) == 0 && ehal_asym_sign(k, &m, 1, sig) == 0 &&
            ehal_asym_private(k, priv) == 0;
  TAP_OK(
      ok && eq_hex(pub, 32, "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c") &&
          eq_hex(sig, 64,
                 "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
                 "458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00") &&
          !memcmp(priv, seed.p, 32),
      "Ed25519 RFC 8032 test 2: public key from the seed, signature, seed export");
  ehal_asym_free(k);
  free(seed.p);

  /* RFC 7748 6.1 */
  buf a = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  buf bp = unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  k = ehal_asym_from_private(EHAL_ASYM_X25519, a.p, a.n);
  uint8_t shared[32];
  ok = k && ehal_asym_public(k, pub) == 0 && ehal_x25519_agree(k, bp.p, bp.n, shared) == 0;
  TAP_OK(ok &&
             eq_hex(pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a") &&
             eq_hex(shared, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
         "X25519 RFC 7748 6.1: Alice's public key and the shared secret");
  uint8_t zero[32] = {0};
  TAP_OK(ehal_x25519_agree(k, zero, 32, shared) != 0, "X25519: a low-order peer point is refused");
  ehal_asym_free(k);
  free(a.p), free(bp.p);

  /* RFC 4231 test case 2: HMAC-SHA-512 (the SHA-256 case is in Wycheproof) */
  uint8_t mac[64];
  const char *data = "what do ya want for nothing?";
  ok = ehal_hmac(EHAL_PRIM_SHA512, (const uint8_t *)"Jefe", 4, (const uint8_t *)data, strlen(data),
                 mac) == 0;
  TAP_OK(
      ok && eq_hex(mac, 64,
                   "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a9"
                   "94a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
      "HMAC-SHA-512 RFC 4231 test case 2");
  TAP_OK(ehal_hmac_verify(EHAL_PRIM_SHA512, (const uint8_t *)"Jefe", 4, (const uint8_t *)data,
                          strlen(data), mac, 64, 64) == 1 &&
             ehal_hmac_verify(EHAL_PRIM_SHA512, (const uint8_t *)"Jefe", 4, (const uint8_t *)data,
                              strlen(data), mac, 32, 64) == 0,
         "HMAC verify: the full tag verifies, a truncated one does not when full length is asked");
  TAP_OK(ehal_hmac(EHAL_PRIM_SHA256, NULL, 0, NULL, 0, mac) == 0 &&
             eq_hex(mac, 32, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"),
         "HMAC-SHA-256 with an empty key and empty data");

  /* HKDF-SHA-512: limits (255 * 64) and a stable value of RFC 5869 case 1 inputs */
  buf ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  buf salt = unhex("000102030405060708090a0b0c");
  buf info = unhex("f0f1f2f3f4f5f6f7f8f9");
  uint8_t *okm = malloc(255 * 64 + 1);
  TAP_OK(ehal_hkdf(EHAL_PRIM_SHA512, ikm.p, ikm.n, salt.p, salt.n, info.p, info.n, okm, 255 * 64) ==
                 0 &&
             ehal_hkdf(EHAL_PRIM_SHA512, ikm.p, ikm.n, salt.p, salt.n, info.p, info.n, okm,
                       255 * 64 + 1) != 0,
         "HKDF-SHA-512: 255 * 64 bytes is the maximum output");
  uint8_t okm42[42];
  ehal_hkdf(EHAL_PRIM_SHA512, ikm.p, ikm.n, salt.p, salt.n, info.p, info.n, okm42, 42);
  TAP_OK(
      eq_hex(
          okm42, 42,
          "832390086cda71fb47625bb5ceb168e4c8e26a1a16ed34d9fc7fe92c1481579338da362cb8d9f925d7cb"),
      "HKDF-SHA-512 with the RFC 5869 test case 1 inputs");
  /* an output prefix does not depend on the length asked for */
  TAP_OK(!memcmp(okm, okm42, 42), "HKDF-SHA-512: a shorter output is a prefix of a longer one");
  free(okm), free(ikm.p), free(salt.p), free(info.p);

  /* AEAD: the HAL's framing parameters, tamper detection */
  uint8_t key[32], nonce[12], pt[100], ct[100], tag[16], back[100];
  ehal_prim_random(key, sizeof key);
  ehal_prim_random(nonce, sizeof nonce);
  ehal_prim_random(pt, sizeof pt);
  for (int alg = 0; alg < 2; alg++) {
    const char *name = alg ? "ChaCha20-Poly1305" : "AES-256-GCM";
    bool all =
        ehal_aead_seal(alg, key, 32, nonce, 12, (const uint8_t *)"ad", 2, pt, 100, ct, tag) == 0 &&
        ehal_aead_open(alg, key, 32, nonce, 12, (const uint8_t *)"ad", 2, ct, 100, tag, 16, back) ==
            0 &&
        !memcmp(back, pt, 100);
    int refused = 0;
    for (int i = 0; i < 100; i++) {
      ct[i] ^= 0x01;
      refused += ehal_aead_open(alg, key, 32, nonce, 12, (const uint8_t *)"ad", 2, ct, 100, tag, 16,
                                back) != 0;
      ct[i] ^= 0x01;
    }
    for (int i = 0; i < 16; i++) {
      tag[i] ^= 0x80;
      refused += ehal_aead_open(alg, key, 32, nonce, 12, (const uint8_t *)"ad", 2, ct, 100, tag, 16,
                                back) != 0;
      tag[i] ^= 0x80;
    }
    refused += ehal_aead_open(alg, key, 32, nonce, 12, (const uint8_t *)"aD", 2, ct, 100, tag, 16,
                              back) != 0;
    refused += ehal_aead_open(alg, key, 32, nonce, 12, (const uint8_t *)"ad", 2, ct, 100, tag, 15,
                              back) != 0;
    TAP_OK(all && refused == 118,
           "%s: roundtrip; each flipped ciphertext/tag bit, other AD, short tag refused (%d/118)",
           name, refused);
  }
  TAP_OK(ehal_aead_seal(EHAL_AEAD_CHACHA20_POLY1305, key, 16, nonce, 12, NULL, 0, pt, 1, ct, tag) !=
                 0 &&
             ehal_aead_seal(EHAL_AEAD_AES_GCM, key, 31, nonce, 12, NULL, 0, pt, 1, ct, tag) != 0 &&
             ehal_aead_seal(EHAL_AEAD_CHACHA20_POLY1305, key, 32, nonce, 8, NULL, 0, pt, 1, ct,
                            tag) != 0,
         "AEAD: wrong key and nonce lengths are refused");
}

/* ECDSA and Ed25519 through generated and imported keys */
static void sign_roundtrips(void) {
  static const struct {
    ehal_asym_alg alg;
    const char *name;
  } algs[] = {{EHAL_ASYM_ED25519, "Ed25519"},
              {EHAL_ASYM_P256, "ECDSA P-256"},
              {EHAL_ASYM_P384, "ECDSA P-384"}};
  for (size_t i = 0; i < 3; i++) {
    ehal_asym_alg a = algs[i].alg;
    ehal_asym_key *k = ehal_asym_generate(a);
    uint8_t pub[EHAL_MAX_PUBLIC_LEN], pub2[EHAL_MAX_PUBLIC_LEN], priv[EHAL_MAX_PRIVATE_LEN];
    uint8_t sig[EHAL_MAX_SIG_LEN];
    const uint8_t msg[] = "message to sign";
    size_t pl = ehal_asym_public_len(a), sl = ehal_asym_signature_len(a);
    bool ok = k && ehal_asym_public(k, pub) == 0 && ehal_asym_private(k, priv) == 0 &&
              ehal_asym_sign(k, msg, sizeof msg, sig) == 0;
    ok = ok && ehal_signature_verify(a, pub, pl, msg, sizeof msg, sig, sl) == 1;
    /* the imported private key has the same public key */
    ehal_asym_key *k2 = ok ? ehal_asym_from_private(a, priv, ehal_asym_private_len(a)) : NULL;
    ok = ok && k2 && ehal_asym_public(k2, pub2) == 0 && !memcmp(pub, pub2, pl);
    sig[sl - 1] ^= 1;
    bool tampered = ehal_signature_verify(a, pub, pl, msg, sizeof msg, sig, sl) == 0;
    bool short_sig = ehal_signature_verify(a, pub, pl, msg, sizeof msg, sig, sl - 1) == 0;
    bool bad_key = ehal_signature_verify(a, pub, pl - 1, msg, sizeof msg, sig, sl) == -1;
    TAP_OK(ok && tampered && short_sig && bad_key,
           "%s: sign/verify, re-import, tampered and short signatures, malformed public key",
           algs[i].name);
    ehal_asym_free(k);
    ehal_asym_free(k2);
  }
  /* ECDSA scalars out of range and points off the curve */
  uint8_t zero[48] = {0}, ff[48];
  memset(ff, 0xff, sizeof ff);
  TAP_OK(!ehal_asym_from_private(EHAL_ASYM_P256, zero, 32) &&
             !ehal_asym_from_private(EHAL_ASYM_P256, ff, 32) &&
             !ehal_asym_from_private(EHAL_ASYM_P384, ff, 48) &&
             !ehal_asym_from_private(EHAL_ASYM_P384, zero, 32),
         "ECDSA: private scalars 0, >= n, and of the wrong length are refused");
  uint8_t off[65] = {0x04};
  off[64] = 1;
  uint8_t sig[64] = {1};
  TAP_OK(ehal_signature_verify(EHAL_ASYM_P256, off, 65, sig, 1, sig, 64) == -1,
         "ECDSA: a public point not on the curve is malformed");
  /* compressed public keys verify too */
  ehal_asym_key *k = ehal_asym_generate(EHAL_ASYM_P256);
  uint8_t pub[65], comp[33], s[64];
  ehal_asym_public(k, pub);
  comp[0] = (uint8_t)(0x02 | (pub[64] & 1));
  memcpy(comp + 1, pub + 1, 32);
  ehal_asym_sign(k, (const uint8_t *)"x", 1, s);
  TAP_OK(ehal_signature_verify(EHAL_ASYM_P256, comp, 33, (const uint8_t *)"x", 1, s, 64) == 1,
         "ECDSA: a compressed SEC1 public key verifies");
  ehal_asym_free(k);
}

int main(void) {
  wycheproof_aead("wycheproof/aes_gcm_test.json", EHAL_AEAD_AES_GCM);
  wycheproof_aead("wycheproof/chacha20_poly1305_test.json", EHAL_AEAD_CHACHA20_POLY1305);
  wycheproof_sig("wycheproof/ed25519_test.json", EHAL_ASYM_ED25519, false);
  wycheproof_sig("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json", EHAL_ASYM_P256, false);
  wycheproof_sig("wycheproof/ecdsa_secp256r1_sha256_test.json", EHAL_ASYM_P256, true);
  wycheproof_sig("wycheproof/ecdsa_secp384r1_sha384_p1363_test.json", EHAL_ASYM_P384, false);
  wycheproof_sig("wycheproof/ecdsa_secp384r1_sha384_test.json", EHAL_ASYM_P384, true);
  wycheproof_hmac("wycheproof/hmac_sha256_test.json", EHAL_PRIM_SHA256);
  wycheproof_hkdf("wycheproof/hkdf_sha256_test.json", EHAL_PRIM_SHA256);
  wycheproof_x25519("wycheproof/x25519_test.json");
  blake3_vectors();
  known_answers();
  sign_roundtrips();
  return tap_done();
}
