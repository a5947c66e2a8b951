/*
 * crypto_guest.c - a guest that exercises elastic:crypto through the
 * generated guest bindings, for tests/unit/test_crypto.c.
 *
 * Each test_* export returns 0 on success, or the source line of the first
 * check that failed.  The ctx_* and seal_* exports are probes the host uses
 * across instances (handles and sealed blobs from another workload); the
 * xfer_* exports move bytes between the host and a static buffer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

#define EXPORT(name) __attribute__((export_name(name)))
#define CHECK(cond)               \
  do {                            \
    if (!(cond)) return __LINE__; \
  } while (0)

int main(void) { return 0; }

/* ---- helpers ---- */

static elastic_bytes_t B(const void *p, size_t n) { return (elastic_bytes_t){(uint8_t *)p, n}; }
static elastic_bytes_t S(const char *s) { return B(s, strlen(s)); }
static const elastic_bytes_t NONE = {NULL, 0};

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

/* Decodes hex into a static scratch slot (8 slots, 512 bytes each). */
static elastic_bytes_t H(const char *hex) {
  static uint8_t slots[8][512];
  static int next;
  uint8_t *p = slots[next++ & 7];
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
  return B(p, n);
}

static bool eq(elastic_bytes_t a, elastic_bytes_t b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool has(elastic_string_t s, const char *lit) {
  size_t n = strlen(lit);
  for (size_t i = 0; i + n <= s.len; i++)
    if (memcmp(s.ptr + i, lit, n) == 0) return true;
  return false;
}

static uint8_t *pattern(size_t n, uint8_t seed) {
  uint8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 31 + seed);
  return p;
}

/* A context holding a generated or imported key; 0 on failure. */
static uint64_t ctx_gen(elastic_crypto_key_algorithm_t alg, bool exportable) {
  uint64_t h;
  elastic_string_t err;
  if (!elastic_crypto_create_context(&h, &err)) return 0;
  if (!elastic_crypto_generate_key(h, alg, exportable, &err)) return 0;
  return h;
}

static uint64_t ctx_import(elastic_crypto_key_algorithm_t alg, elastic_bytes_t key,
                           bool exportable) {
  uint64_t h;
  elastic_string_t err;
  if (!elastic_crypto_create_context(&h, &err)) return 0;
  if (!elastic_crypto_import_key(h, alg, key, exportable, &err)) return 0;
  return h;
}

/* ---- hash ---- */

EXPORT("test_hash") int test_hash(void) {
  elastic_bytes_t d;
  elastic_string_t err;
  CHECK(elastic_crypto_hash(S("abc"), ELASTIC_CRYPTO_HASH_ALGORITHM_SHA256, &d, &err));
  CHECK(eq(d, H("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")));
  elastic_bytes_free(&d);
  CHECK(elastic_crypto_hash(S("abc"), ELASTIC_CRYPTO_HASH_ALGORITHM_SHA512, &d, &err));
  CHECK(eq(d, H("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"
                "36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")));
  elastic_bytes_free(&d);
  CHECK(elastic_crypto_hash(NONE, ELASTIC_CRYPTO_HASH_ALGORITHM_BLAKE3, &d, &err));
  CHECK(eq(d, H("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")));
  elastic_bytes_free(&d);
  /* BLAKE3 official vector, input_len 1024 (bytes i % 251) */
  uint8_t in[1024];
  for (int i = 0; i < 1024; i++) in[i] = (uint8_t)(i % 251);
  CHECK(elastic_crypto_hash(B(in, 1024), ELASTIC_CRYPTO_HASH_ALGORITHM_BLAKE3, &d, &err));
  CHECK(eq(d, H("42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7")));
  elastic_bytes_free(&d);
  /* 1 MiB inputs */
  uint8_t *big = pattern(1 << 20, 7);
  for (int a = 0; a < 3; a++) {
    CHECK(elastic_crypto_hash(B(big, 1 << 20), (uint8_t)a, &d, &err));
    CHECK(d.len == (a == 1 ? 64u : 32u));
    elastic_bytes_free(&d);
  }
  free(big);
  return 0;
}

/* ---- encrypt / decrypt (0.1.0) ---- */

EXPORT("test_encrypt_roundtrip") int test_encrypt_roundtrip(void) {
  uint8_t key[32];
  for (int i = 0; i < 32; i++) key[i] = (uint8_t)i;
  static const size_t sizes[] = {0, 1, 15, 16, 1000, 1 << 20};
  for (int a = 0; a < 2; a++)
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      uint8_t *pt = pattern(sizes[s], (uint8_t)s);
      elastic_bytes_t ct, back;
      elastic_string_t err;
      CHECK(elastic_crypto_encrypt(B(pt, sizes[s]), B(key, 32), (uint8_t)a, &ct, &err));
      CHECK(ct.len == sizes[s] + 28);
      if (sizes[s] >= 16) CHECK(memcmp(ct.ptr + 12, pt, 16) != 0);
      CHECK(elastic_crypto_decrypt(ct, B(key, 32), (uint8_t)a, &back, &err));
      CHECK(back.len == sizes[s] && (sizes[s] == 0 || memcmp(back.ptr, pt, sizes[s]) == 0));
      elastic_bytes_free(&ct);
      elastic_bytes_free(&back);
      free(pt);
    }
  return 0;
}

EXPORT("test_encrypt_tamper") int test_encrypt_tamper(void) {
  uint8_t key[32], key2[32];
  for (int i = 0; i < 32; i++) key[i] = (uint8_t)i, key2[i] = (uint8_t)(i + 1);
  for (int a = 0; a < 2; a++) {
    elastic_bytes_t ct, back;
    elastic_string_t err;
    CHECK(elastic_crypto_encrypt(S("attack at dawn"), B(key, 32), (uint8_t)a, &ct, &err));
    /* every single flipped bit, in nonce, ciphertext and tag, is refused */
    for (size_t i = 0; i < ct.len; i++)
      for (int bit = 0; bit < 8; bit++) {
        ct.ptr[i] ^= (uint8_t)(1 << bit);
        bool ok = elastic_crypto_decrypt(ct, B(key, 32), (uint8_t)a, &back, &err);
        ct.ptr[i] ^= (uint8_t)(1 << bit);
        if (ok) return __LINE__;
        CHECK(has(err, "authentication failed"));
        elastic_string_free(&err);
      }
    /* truncated, extended, wrong key, other algorithm */
    elastic_bytes_t t = ct;
    for (t.len = 0; t.len < ct.len; t.len++) {
      CHECK(!elastic_crypto_decrypt(t, B(key, 32), (uint8_t)a, &back, &err));
      elastic_string_free(&err);
    }
    CHECK(!elastic_crypto_decrypt(B(ct.ptr, 27), B(key, 32), (uint8_t)a, &back, &err));
    CHECK(has(err, "shorter"));
    elastic_string_free(&err);
    CHECK(!elastic_crypto_decrypt(ct, B(key2, 32), (uint8_t)a, &back, &err));
    elastic_string_free(&err);
    CHECK(!elastic_crypto_decrypt(ct, B(key, 32), (uint8_t)(1 - a), &back, &err));
    elastic_string_free(&err);
    CHECK(elastic_crypto_decrypt(ct, B(key, 32), (uint8_t)a, &back, &err));
    CHECK(eq(back, S("attack at dawn")));
    elastic_bytes_free(&back);
    elastic_bytes_free(&ct);
    /* keys must be 32 bytes */
    static const size_t bad[] = {0, 16, 24, 31, 33, 64};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      uint8_t kk[64] = {0};
      CHECK(!elastic_crypto_encrypt(S("x"), B(kk, bad[k]), (uint8_t)a, &ct, &err));
      CHECK(has(err, "32-byte key"));
      elastic_string_free(&err);
      CHECK(!elastic_crypto_decrypt(B(kk, 64), B(kk, bad[k]), (uint8_t)a, &back, &err));
      elastic_string_free(&err);
    }
  }
  return 0;
}

/* Refused decryptions of large inputs cost the guest nothing once it frees
 * the error strings: 2000 x 64 KiB of forged ciphertext, memory stays put. */
EXPORT("test_decrypt_no_leak") int test_decrypt_no_leak(void) {
  uint8_t key[32] = {3};
  uint8_t *pt = pattern(64 * 1024, 1);
  for (int a = 0; a < 2; a++) {
    elastic_bytes_t ct, back;
    elastic_string_t err;
    CHECK(elastic_crypto_encrypt(B(pt, 64 * 1024), B(key, 32), (uint8_t)a, &ct, &err));
    ct.ptr[ct.len - 1] ^= 1;
    /* warm up the allocator, then count pages */
    CHECK(!elastic_crypto_decrypt(ct, B(key, 32), (uint8_t)a, &back, &err));
    elastic_string_free(&err);
    size_t pages = __builtin_wasm_memory_size(0);
    for (int i = 0; i < 2000; i++) {
      if (elastic_crypto_decrypt(ct, B(key, 32), (uint8_t)a, &back, &err)) return __LINE__;
      if (!has(err, "authentication failed")) return __LINE__;
      elastic_string_free(&err);
    }
    CHECK(__builtin_wasm_memory_size(0) <= pages + 2);
    /* and the genuine ciphertext still opens */
    ct.ptr[ct.len - 1] ^= 1;
    CHECK(elastic_crypto_decrypt(ct, B(key, 32), (uint8_t)a, &back, &err));
    CHECK(back.len == 64 * 1024 && memcmp(back.ptr, pt, back.len) == 0);
    elastic_bytes_free(&back);
    elastic_bytes_free(&ct);
  }
  free(pt);
  return 0;
}

/* Two encryptions of the same plaintext differ; 64 nonces all distinct. */
EXPORT("test_nonce_fresh") int test_nonce_fresh(void) {
  uint8_t key[32] = {1};
  for (int a = 0; a < 2; a++) {
    static uint8_t nonces[64][12];
    for (int i = 0; i < 64; i++) {
      elastic_bytes_t ct;
      elastic_string_t err;
      CHECK(elastic_crypto_encrypt(S("same plaintext"), B(key, 32), (uint8_t)a, &ct, &err));
      memcpy(nonces[i], ct.ptr, 12);
      elastic_bytes_free(&ct);
    }
    for (int i = 0; i < 64; i++)
      for (int j = 0; j < i; j++) CHECK(memcmp(nonces[i], nonces[j], 12) != 0);
    elastic_bytes_t c1, c2;
    elastic_string_t err;
    CHECK(elastic_crypto_encrypt(S("same plaintext"), B(key, 32), (uint8_t)a, &c1, &err));
    CHECK(elastic_crypto_encrypt(S("same plaintext"), B(key, 32), (uint8_t)a, &c2, &err));
    CHECK(c1.len == c2.len && memcmp(c1.ptr, c2.ptr, c1.len) != 0);
    CHECK(memcmp(c1.ptr + 12, c2.ptr + 12, c1.len - 12) != 0);
    elastic_bytes_free(&c1);
    elastic_bytes_free(&c2);
  }
  return 0;
}

/* ---- Ed25519 (0.1.0) ---- */

EXPORT("test_keypair") int test_keypair(void) {
  elastic_crypto_key_pair_t kp;
  elastic_string_t err;
  CHECK(elastic_crypto_generate_keypair(&kp, &err));
  CHECK(kp.public_key.len == 32 && kp.private_key.len == 32);
  /* the public key is the one the private seed gives */
  uint64_t h = ctx_import(ELASTIC_CRYPTO_KEY_ALGORITHM_ED25519, kp.private_key, false);
  CHECK(h);
  elastic_bytes_t pub;
  CHECK(elastic_crypto_get_public_key(h, &pub, &err));
  CHECK(eq(pub, kp.public_key));
  elastic_bytes_free(&pub);
  CHECK(elastic_crypto_destroy_context(h, &err));
  /* and it verifies what the private key signs */
  elastic_bytes_t sig;
  bool ok = false;
  CHECK(elastic_crypto_sign(S("hello"), kp.private_key, &sig, &err));
  CHECK(sig.len == 64);
  CHECK(elastic_crypto_verify(S("hello"), sig, kp.public_key, &ok, &err) && ok);
  CHECK(elastic_crypto_verify(S("hellO"), sig, kp.public_key, &ok, &err) && !ok);
  sig.ptr[0] ^= 1;
  CHECK(elastic_crypto_verify(S("hello"), sig, kp.public_key, &ok, &err) && !ok);
  /* a signature of the wrong length is simply invalid */
  CHECK(elastic_crypto_verify(S("hello"), B(sig.ptr, 63), kp.public_key, &ok, &err) && !ok);
  CHECK(elastic_crypto_verify(S("hello"), NONE, kp.public_key, &ok, &err) && !ok);
  /* malformed keys are errors */
  CHECK(!elastic_crypto_verify(S("hello"), sig, B(kp.public_key.ptr, 31), &ok, &err));
  CHECK(has(err, "32 bytes"));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_sign(S("hello"), B(kp.private_key.ptr, 31), &sig, &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_sign(S("hello"), NONE, &sig, &err));
  elastic_string_free(&err);
  /* two key pairs differ */
  elastic_crypto_key_pair_t kp2;
  CHECK(elastic_crypto_generate_keypair(&kp2, &err));
  CHECK(!eq(kp.public_key, kp2.public_key) && !eq(kp.private_key, kp2.private_key));
  /* RFC 8032 7.1 test 1 */
  elastic_bytes_t seed = H("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  CHECK(elastic_crypto_sign(NONE, seed, &sig, &err));
  CHECK(eq(sig, H("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33ba"
                  "cc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")));
  CHECK(elastic_crypto_verify(NONE, sig,
                              H("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
                              &ok, &err) &&
        ok);
  return 0;
}

/* ---- contexts (0.1.0 handles) ---- */

EXPORT("test_contexts") int test_contexts(void) {
  uint64_t h, h2;
  elastic_string_t err;
  CHECK(elastic_crypto_create_context(&h, &err));
  CHECK(elastic_crypto_create_context(&h2, &err));
  CHECK(h != 0 && h2 != 0 && h != h2);
  elastic_crypto_context_info_t info;
  CHECK(elastic_crypto_describe_context(h, &info, &err));
  CHECK(!info.algorithm.is_some && !info.exportable);
  CHECK(elastic_crypto_destroy_context(h, &err));
  /* destroyed: every use is an error */
  CHECK(!elastic_crypto_destroy_context(h, &err));
  CHECK(has(err, "invalid crypto context handle"));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_describe_context(h, &info, &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_generate_key(h, ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, true, &err));
  elastic_string_free(&err);
  /* forged values */
  static const uint64_t forged_delta[] = {1, 2, 1ull << 32, 0xffffffffull};
  for (size_t i = 0; i < 4; i++) {
    CHECK(!elastic_crypto_destroy_context(h2 + forged_delta[i], &err));
    elastic_string_free(&err);
  }
  CHECK(!elastic_crypto_destroy_context(0, &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_destroy_context(UINT64_MAX, &err));
  elastic_string_free(&err);
  /* a slot reused after destroy gets a new handle value; the old stays dead */
  uint64_t h3;
  CHECK(elastic_crypto_create_context(&h3, &err));
  CHECK(h3 != h);
  CHECK(!elastic_crypto_describe_context(h, &info, &err));
  elastic_string_free(&err);
  CHECK(elastic_crypto_destroy_context(h2, &err));
  CHECK(elastic_crypto_destroy_context(h3, &err));
  /* an empty context cannot be used; a loaded one cannot be reloaded */
  CHECK(elastic_crypto_create_context(&h, &err));
  elastic_bytes_t out;
  CHECK(!elastic_crypto_context_encrypt(h, S("x"), NONE, &out, &err));
  CHECK(has(err, "holds no key"));
  elastic_string_free(&err);
  CHECK(elastic_crypto_generate_key(h, ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, true, &err));
  CHECK(!elastic_crypto_generate_key(h, ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, true, &err));
  CHECK(has(err, "already holds a key"));
  elastic_string_free(&err);
  CHECK(elastic_crypto_describe_context(h, &info, &err));
  CHECK(info.algorithm.is_some && info.algorithm.val == ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM &&
        info.exportable);
  CHECK(elastic_crypto_destroy_context(h, &err));
  return 0;
}

/* At most 1024 live contexts; destroying one makes room again. */
EXPORT("test_context_limit") int test_context_limit(void) {
  static uint64_t hs[1024];
  elastic_string_t err;
  for (int i = 0; i < 1024; i++) CHECK(elastic_crypto_create_context(&hs[i], &err));
  uint64_t x;
  CHECK(!elastic_crypto_create_context(&x, &err));
  CHECK(has(err, "at most 1024"));
  elastic_string_free(&err);
  CHECK(elastic_crypto_destroy_context(hs[7], &err));
  CHECK(elastic_crypto_create_context(&hs[7], &err));
  for (int i = 0; i < 1024; i++) CHECK(elastic_crypto_destroy_context(hs[i], &err));
  return 0;
}

/* ---- key contexts: export policy, AEAD with AD ---- */

EXPORT("test_key_contexts") int test_key_contexts(void) {
  elastic_string_t err;
  elastic_bytes_t out, ct, pt;
  /* non-exportable: export refused, use allowed */
  uint64_t n = ctx_gen(ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, false);
  CHECK(n);
  CHECK(!elastic_crypto_export_key(n, &out, &err));
  CHECK(has(err, "not exportable"));
  elastic_string_free(&err);
  CHECK(elastic_crypto_context_encrypt(n, S("secret data"), S("header"), &ct, &err));
  CHECK(ct.len == 11 + 28);
  CHECK(elastic_crypto_context_decrypt(n, ct, S("header"), &pt, &err));
  CHECK(eq(pt, S("secret data")));
  elastic_bytes_free(&pt);
  /* associated data is authenticated */
  CHECK(!elastic_crypto_context_decrypt(n, ct, S("Header"), &pt, &err));
  CHECK(has(err, "authentication failed"));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_context_decrypt(n, ct, NONE, &pt, &err));
  elastic_string_free(&err);
  ct.ptr[20] ^= 4;
  CHECK(!elastic_crypto_context_decrypt(n, ct, S("header"), &pt, &err));
  elastic_string_free(&err);
  elastic_bytes_free(&ct);
  /* wrong use of a key: an AES key cannot sign, MAC, agree or be derived from */
  CHECK(!elastic_crypto_context_sign(n, S("x"), &out, &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_context_mac(n, S("x"), &out, &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_get_public_key(n, &out, &err));
  elastic_string_free(&err);
  uint64_t d;
  CHECK(!elastic_crypto_context_derive(n, ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, NONE, NONE,
                                       ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, true, &d, &err));
  elastic_string_free(&err);
  CHECK(elastic_crypto_destroy_context(n, &err));

  /* exportable: the exported key works with the raw-key functions both ways */
  for (int a = 0; a < 2; a++) {
    uint64_t e = ctx_gen((uint8_t)a, true); /* key-algorithm 0/1 = cipher-algorithm 0/1 */
    CHECK(e);
    elastic_bytes_t key;
    CHECK(elastic_crypto_export_key(e, &key, &err));
    CHECK(key.len == 32);
    CHECK(elastic_crypto_context_encrypt(e, S("interop"), S("ad"), &ct, &err));
    CHECK(elastic_crypto_decrypt_with_ad(ct, key, (uint8_t)a, S("ad"), &pt, &err));
    CHECK(eq(pt, S("interop")));
    elastic_bytes_free(&pt);
    CHECK(!elastic_crypto_decrypt_with_ad(ct, key, (uint8_t)a, S("ae"), &pt, &err));
    elastic_string_free(&err);
    /* 0.1.0 decrypt is decrypt-with-ad with empty associated data */
    CHECK(!elastic_crypto_decrypt(ct, key, (uint8_t)a, &pt, &err));
    elastic_string_free(&err);
    elastic_bytes_free(&ct);
    CHECK(elastic_crypto_encrypt_with_ad(S("back"), key, (uint8_t)a, S("ad2"), &ct, &err));
    CHECK(elastic_crypto_context_decrypt(e, ct, S("ad2"), &pt, &err));
    CHECK(eq(pt, S("back")));
    elastic_bytes_free(&pt);
    elastic_bytes_free(&ct);
    CHECK(elastic_crypto_encrypt(S("plain"), key, (uint8_t)a, &ct, &err));
    CHECK(elastic_crypto_context_decrypt(e, ct, NONE, &pt, &err));
    CHECK(eq(pt, S("plain")));
    elastic_bytes_free(&pt);
    elastic_bytes_free(&ct);
    /* importing the same key gives the same cipher */
    uint64_t i2 = ctx_import((uint8_t)a, key, false);
    CHECK(i2);
    CHECK(elastic_crypto_context_encrypt(e, S("same key"), NONE, &ct, &err));
    CHECK(elastic_crypto_context_decrypt(i2, ct, NONE, &pt, &err));
    CHECK(eq(pt, S("same key")));
    elastic_bytes_free(&pt);
    elastic_bytes_free(&ct);
    elastic_bytes_free(&key);
    CHECK(elastic_crypto_destroy_context(e, &err));
    CHECK(elastic_crypto_destroy_context(i2, &err));
  }

  /* import validation */
  uint8_t k64[64] = {0};
  uint64_t h;
  CHECK(elastic_crypto_create_context(&h, &err));
  CHECK(!elastic_crypto_import_key(h, ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, B(k64, 16), true,
                                   &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_import_key(h, ELASTIC_CRYPTO_KEY_ALGORITHM_HMAC_SHA256, B(k64, 15), true,
                                   &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_import_key(h, ELASTIC_CRYPTO_KEY_ALGORITHM_ECDSA_P256, B(k64, 32), true,
                                   &err));
  CHECK(has(err, "out of range"));
  elastic_string_free(&err);
  CHECK(
      !elastic_crypto_import_key(h, ELASTIC_CRYPTO_KEY_ALGORITHM_ED25519, B(k64, 31), true, &err));
  elastic_string_free(&err);
  elastic_crypto_context_info_t info;
  CHECK(elastic_crypto_describe_context(h, &info, &err) && !info.algorithm.is_some);
  CHECK(elastic_crypto_import_key(h, ELASTIC_CRYPTO_KEY_ALGORITHM_HMAC_SHA512, B(k64, 64), false,
                                  &err));
  CHECK(elastic_crypto_describe_context(h, &info, &err) && info.algorithm.is_some &&
        info.algorithm.val == ELASTIC_CRYPTO_KEY_ALGORITHM_HMAC_SHA512 && !info.exportable);
  CHECK(elastic_crypto_destroy_context(h, &err));
  return 0;
}

/* ---- HMAC ---- */

EXPORT("test_hmac") int test_hmac(void) {
  elastic_string_t err;
  elastic_bytes_t mac, mac2;
  bool ok;
  /* RFC 4231 test case 1 */
  uint8_t k[20];
  memset(k, 0x0b, sizeof k);
  CHECK(elastic_crypto_mac(ELASTIC_CRYPTO_MAC_ALGORITHM_HMAC_SHA256, B(k, 20), S("Hi There"), &mac,
                           &err));
  CHECK(eq(mac, H("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")));
  CHECK(elastic_crypto_verify_mac(ELASTIC_CRYPTO_MAC_ALGORITHM_HMAC_SHA256, B(k, 20), S("Hi There"),
                                  mac, &ok, &err) &&
        ok);
  CHECK(elastic_crypto_verify_mac(ELASTIC_CRYPTO_MAC_ALGORITHM_HMAC_SHA256, B(k, 20), S("Hi there"),
                                  mac, &ok, &err) &&
        !ok);
  /* a truncated tag is not a full-length tag */
  CHECK(elastic_crypto_verify_mac(ELASTIC_CRYPTO_MAC_ALGORITHM_HMAC_SHA256, B(k, 20), S("Hi There"),
                                  B(mac.ptr, 16), &ok, &err) &&
        !ok);
  CHECK(elastic_crypto_verify_mac(ELASTIC_CRYPTO_MAC_ALGORITHM_HMAC_SHA256, B(k, 20), S("Hi There"),
                                  NONE, &ok, &err) &&
        !ok);
  mac.ptr[31] ^= 1;
  CHECK(elastic_crypto_verify_mac(ELASTIC_CRYPTO_MAC_ALGORITHM_HMAC_SHA256, B(k, 20), S("Hi There"),
                                  mac, &ok, &err) &&
        !ok);
  elastic_bytes_free(&mac);
  CHECK(elastic_crypto_mac(ELASTIC_CRYPTO_MAC_ALGORITHM_HMAC_SHA512, B(k, 20), S("Hi There"), &mac,
                           &err));
  CHECK(eq(mac, H("87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a7"
                  "02038b274eaea3f4e4be9d914eeb61f1702e696c203a126854")));
  elastic_bytes_free(&mac);
  /* contexts: generated keys, the same MAC as the raw function */
  for (int a = 0; a < 2; a++) {
    uint64_t h = ctx_gen(
        a ? ELASTIC_CRYPTO_KEY_ALGORITHM_HMAC_SHA512 : ELASTIC_CRYPTO_KEY_ALGORITHM_HMAC_SHA256,
        true);
    CHECK(h);
    elastic_bytes_t key;
    CHECK(elastic_crypto_export_key(h, &key, &err));
    CHECK(key.len == (a ? 64u : 32u));
    CHECK(elastic_crypto_context_mac(h, S("data"), &mac, &err));
    CHECK(mac.len == (a ? 64u : 32u));
    CHECK(elastic_crypto_mac((uint8_t)a, key, S("data"), &mac2, &err));
    CHECK(eq(mac, mac2));
    CHECK(elastic_crypto_context_verify_mac(h, S("data"), mac, &ok, &err) && ok);
    CHECK(elastic_crypto_context_verify_mac(h, S("datA"), mac, &ok, &err) && !ok);
    CHECK(elastic_crypto_context_verify_mac(h, S("data"), B(mac.ptr, mac.len - 1), &ok, &err) &&
          !ok);
    /* an HMAC key cannot encrypt */
    elastic_bytes_t ct;
    CHECK(!elastic_crypto_context_encrypt(h, S("x"), NONE, &ct, &err));
    elastic_string_free(&err);
    elastic_bytes_free(&mac);
    elastic_bytes_free(&mac2);
    elastic_bytes_free(&key);
    CHECK(elastic_crypto_destroy_context(h, &err));
  }
  return 0;
}

/* ---- ECDSA and Ed25519 contexts ---- */

EXPORT("test_signatures") int test_signatures(void) {
  static const struct {
    elastic_crypto_key_algorithm_t key;
    elastic_crypto_signature_algorithm_t sig;
    size_t pub, siglen, priv;
  } algs[] = {
      {ELASTIC_CRYPTO_KEY_ALGORITHM_ED25519, ELASTIC_CRYPTO_SIGNATURE_ALGORITHM_ED25519, 32, 64,
       32},
      {ELASTIC_CRYPTO_KEY_ALGORITHM_ECDSA_P256,
       ELASTIC_CRYPTO_SIGNATURE_ALGORITHM_ECDSA_P256_SHA256, 65, 64, 32},
      {ELASTIC_CRYPTO_KEY_ALGORITHM_ECDSA_P384,
       ELASTIC_CRYPTO_SIGNATURE_ALGORITHM_ECDSA_P384_SHA384, 97, 96, 48},
  };
  elastic_string_t err;
  for (int i = 0; i < 3; i++) {
    uint64_t h = ctx_gen(algs[i].key, true);
    CHECK(h);
    elastic_bytes_t pub, sig, priv, pub2;
    bool ok;
    CHECK(elastic_crypto_get_public_key(h, &pub, &err));
    CHECK(pub.len == algs[i].pub);
    if (algs[i].pub != 32) CHECK(pub.ptr[0] == 0x04);
    CHECK(elastic_crypto_context_sign(h, S("signed message"), &sig, &err));
    CHECK(sig.len == algs[i].siglen);
    CHECK(elastic_crypto_verify_signature(algs[i].sig, pub, S("signed message"), sig, &ok, &err) &&
          ok);
    CHECK(elastic_crypto_verify_signature(algs[i].sig, pub, S("signed messagE"), sig, &ok, &err) &&
          !ok);
    CHECK(elastic_crypto_verify_signature(algs[i].sig, pub, S("signed message"),
                                          B(sig.ptr, sig.len - 1), &ok, &err) &&
          !ok);
    sig.ptr[sig.len / 2] ^= 0x10;
    CHECK(elastic_crypto_verify_signature(algs[i].sig, pub, S("signed message"), sig, &ok, &err) &&
          !ok);
    /* a malformed public key is an error, not a false */
    CHECK(!elastic_crypto_verify_signature(algs[i].sig, B(pub.ptr, pub.len - 1),
                                           S("signed message"), sig, &ok, &err));
    CHECK(has(err, "public key"));
    elastic_string_free(&err);
    /* export, re-import: same public key */
    CHECK(elastic_crypto_export_key(h, &priv, &err));
    CHECK(priv.len == algs[i].priv);
    uint64_t h2 = ctx_import(algs[i].key, priv, false);
    CHECK(h2);
    CHECK(elastic_crypto_get_public_key(h2, &pub2, &err));
    CHECK(eq(pub, pub2));
    CHECK(!elastic_crypto_export_key(h2, &priv, &err));
    elastic_string_free(&err);
    /* a signing key cannot encrypt or agree */
    elastic_bytes_t ct;
    uint64_t s;
    CHECK(!elastic_crypto_context_encrypt(h, S("x"), NONE, &ct, &err));
    elastic_string_free(&err);
    CHECK(!elastic_crypto_context_agree(h, pub, true, &s, &err));
    elastic_string_free(&err);
    elastic_bytes_free(&pub);
    elastic_bytes_free(&pub2);
    elastic_bytes_free(&sig);
    CHECK(elastic_crypto_destroy_context(h, &err));
    CHECK(elastic_crypto_destroy_context(h2, &err));
  }
  /* a P-256 public key with a P-384 signature algorithm is malformed */
  uint64_t h = ctx_gen(ELASTIC_CRYPTO_KEY_ALGORITHM_ECDSA_P256, false);
  elastic_bytes_t pub, sig;
  bool ok;
  CHECK(elastic_crypto_get_public_key(h, &pub, &err));
  CHECK(elastic_crypto_context_sign(h, S("m"), &sig, &err));
  CHECK(!elastic_crypto_verify_signature(ELASTIC_CRYPTO_SIGNATURE_ALGORITHM_ECDSA_P384_SHA384, pub,
                                         S("m"), sig, &ok, &err));
  elastic_string_free(&err);
  /* the Ed25519 0.1.0 verify and verify-signature agree */
  uint64_t e = ctx_gen(ELASTIC_CRYPTO_KEY_ALGORITHM_ED25519, false);
  elastic_bytes_t epub, esig;
  CHECK(elastic_crypto_get_public_key(e, &epub, &err));
  CHECK(elastic_crypto_context_sign(e, S("m"), &esig, &err));
  CHECK(elastic_crypto_verify(S("m"), esig, epub, &ok, &err) && ok);
  CHECK(elastic_crypto_destroy_context(e, &err));
  CHECK(elastic_crypto_destroy_context(h, &err));
  return 0;
}

/* ---- X25519 and HKDF ---- */

EXPORT("test_x25519") int test_x25519(void) {
  elastic_string_t err;
  uint64_t a = ctx_gen(ELASTIC_CRYPTO_KEY_ALGORITHM_X25519, true);
  uint64_t b = ctx_gen(ELASTIC_CRYPTO_KEY_ALGORITHM_X25519, true);
  CHECK(a && b);
  elastic_bytes_t pa, pb, sa, sb;
  CHECK(elastic_crypto_get_public_key(a, &pa, &err) && pa.len == 32);
  CHECK(elastic_crypto_get_public_key(b, &pb, &err) && pb.len == 32);
  uint64_t ka, kb, kn;
  CHECK(elastic_crypto_context_agree(a, pb, true, &ka, &err));
  CHECK(elastic_crypto_context_agree(b, pa, true, &kb, &err));
  CHECK(elastic_crypto_export_key(ka, &sa, &err));
  CHECK(elastic_crypto_export_key(kb, &sb, &err));
  CHECK(sa.len == 32 && eq(sa, sb));
  elastic_crypto_context_info_t info;
  CHECK(elastic_crypto_describe_context(ka, &info, &err) && info.algorithm.is_some &&
        info.algorithm.val == ELASTIC_CRYPTO_KEY_ALGORITHM_SECRET);
  /* not exportable unless asked */
  CHECK(elastic_crypto_context_agree(a, pb, false, &kn, &err));
  CHECK(!elastic_crypto_export_key(kn, &sa, &err));
  CHECK(has(err, "not exportable"));
  elastic_string_free(&err);
  /* the private key of a non-exportable x25519 context stays inside, and so
   * does every secret agreed from it, even when asked to be exportable */
  uint64_t c = ctx_gen(ELASTIC_CRYPTO_KEY_ALGORITHM_X25519, false);
  CHECK(c);
  CHECK(!elastic_crypto_export_key(c, &sa, &err));
  elastic_string_free(&err);
  CHECK(elastic_crypto_context_agree(c, pb, true, &kn, &err));
  CHECK(!elastic_crypto_export_key(kn, &sa, &err));
  CHECK(has(err, "not exportable"));
  elastic_string_free(&err);
  /* low-order and malformed peer keys */
  uint8_t zero[32] = {0}, one[32] = {1};
  CHECK(!elastic_crypto_context_agree(a, B(zero, 32), true, &kn, &err));
  CHECK(has(err, "low-order"));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_context_agree(a, B(one, 32), true, &kn, &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_context_agree(a, B(pb.ptr, 31), true, &kn, &err));
  elastic_string_free(&err);
  /* a secret cannot be used directly for encryption */
  elastic_bytes_t ct;
  CHECK(!elastic_crypto_context_encrypt(ka, S("x"), NONE, &ct, &err));
  elastic_string_free(&err);
  /* ... but keys derived from it on both sides agree */
  uint64_t ea, eb;
  CHECK(elastic_crypto_context_derive(
      ka, ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, S("salt"), S("channel key"),
      ELASTIC_CRYPTO_KEY_ALGORITHM_CHACHA20_POLY1305, false, &ea, &err));
  CHECK(elastic_crypto_context_derive(
      kb, ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, S("salt"), S("channel key"),
      ELASTIC_CRYPTO_KEY_ALGORITHM_CHACHA20_POLY1305, false, &eb, &err));
  elastic_bytes_t pt;
  CHECK(elastic_crypto_context_encrypt(ea, S("over the channel"), S("hdr"), &ct, &err));
  CHECK(elastic_crypto_context_decrypt(eb, ct, S("hdr"), &pt, &err));
  CHECK(eq(pt, S("over the channel")));
  /* RFC 7748 6.1 through an imported key */
  uint64_t alice =
      ctx_import(ELASTIC_CRYPTO_KEY_ALGORITHM_X25519,
                 H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), true);
  CHECK(alice);
  elastic_bytes_t apub, shared;
  CHECK(elastic_crypto_get_public_key(alice, &apub, &err));
  CHECK(eq(apub, H("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")));
  uint64_t s;
  CHECK(elastic_crypto_context_agree(
      alice, H("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"), true, &s,
      &err));
  CHECK(elastic_crypto_export_key(s, &shared, &err));
  CHECK(eq(shared, H("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")));
  return 0;
}

EXPORT("test_hkdf") int test_hkdf(void) {
  elastic_string_t err;
  elastic_bytes_t okm, key;
  /* RFC 5869 test case 1 */
  elastic_bytes_t ikm = H("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  elastic_bytes_t salt = H("000102030405060708090a0b0c"), info = H("f0f1f2f3f4f5f6f7f8f9");
  CHECK(elastic_crypto_hkdf(ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, ikm, salt, info, 42, &okm,
                            &err));
  CHECK(eq(
      okm,
      H("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")));
  elastic_bytes_free(&okm);
  CHECK(elastic_crypto_hkdf(ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA512, ikm, salt, info, 42, &okm,
                            &err));
  CHECK(eq(
      okm,
      H("832390086cda71fb47625bb5ceb168e4c8e26a1a16ed34d9fc7fe92c1481579338da362cb8d9f925d7cb")));
  elastic_bytes_free(&okm);
  CHECK(elastic_crypto_hkdf(ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, ikm, salt, info, 255 * 32,
                            &okm, &err));
  CHECK(okm.len == 255 * 32);
  elastic_bytes_free(&okm);
  CHECK(!elastic_crypto_hkdf(ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, ikm, salt, info,
                             255 * 32 + 1, &okm, &err));
  CHECK(has(err, "at most 8160"));
  elastic_string_free(&err);
  /* derive from a secret context: the same bytes as raw HKDF */
  uint8_t master[32];
  for (int i = 0; i < 32; i++) master[i] = (uint8_t)(0xa0 + i);
  uint64_t m = ctx_import(ELASTIC_CRYPTO_KEY_ALGORITHM_SECRET, B(master, 32), true);
  CHECK(m);
  /* a key derived from a non-exportable secret is never exportable */
  {
    uint64_t hidden = ctx_import(ELASTIC_CRYPTO_KEY_ALGORITHM_SECRET, B(master, 32), false);
    uint64_t child;
    CHECK(hidden);
    CHECK(elastic_crypto_context_derive(hidden, ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, NONE,
                                        S("x"), ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, true,
                                        &child, &err));
    CHECK(!elastic_crypto_export_key(child, &key, &err));
    CHECK(has(err, "not exportable"));
    elastic_string_free(&err);
  }
  static const struct {
    elastic_crypto_key_algorithm_t alg;
    uint32_t len;
  } outs[] = {{ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, 32},
              {ELASTIC_CRYPTO_KEY_ALGORITHM_HMAC_SHA512, 64},
              {ELASTIC_CRYPTO_KEY_ALGORITHM_SECRET, 32},
              {ELASTIC_CRYPTO_KEY_ALGORITHM_ED25519, 32},
              {ELASTIC_CRYPTO_KEY_ALGORITHM_X25519, 32}};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
      uint64_t d;
      CHECK(elastic_crypto_context_derive(m, (uint8_t)k, S("s"), S("purpose"), outs[i].alg, true,
                                          &d, &err));
      CHECK(elastic_crypto_export_key(d, &key, &err));
      CHECK(elastic_crypto_hkdf((uint8_t)k, B(master, 32), S("s"), S("purpose"), outs[i].len, &okm,
                                &err));
      CHECK(eq(key, okm));
      elastic_bytes_free(&key);
      elastic_bytes_free(&okm);
      CHECK(elastic_crypto_destroy_context(d, &err));
    }
  /* a non-exportable derived key works and stays inside */
  uint64_t d;
  CHECK(elastic_crypto_context_derive(m, ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, NONE, S("enc"),
                                      ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, false, &d, &err));
  CHECK(!elastic_crypto_export_key(d, &key, &err));
  elastic_string_free(&err);
  elastic_bytes_t ct, pt;
  CHECK(elastic_crypto_context_encrypt(d, S("derived"), NONE, &ct, &err));
  CHECK(elastic_crypto_context_decrypt(d, ct, NONE, &pt, &err) && eq(pt, S("derived")));
  /* ECDSA keys cannot be derived; a derived key is not itself a secret source */
  uint64_t x;
  CHECK(!elastic_crypto_context_derive(m, ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, NONE, NONE,
                                       ELASTIC_CRYPTO_KEY_ALGORITHM_ECDSA_P256, true, &x, &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_context_derive(d, ELASTIC_CRYPTO_KDF_ALGORITHM_HKDF_SHA256, NONE, NONE,
                                       ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, true, &x, &err));
  elastic_string_free(&err);
  /* the secret itself was imported exportable, so it can be exported */
  CHECK(elastic_crypto_export_key(m, &key, &err) && eq(key, B(master, 32)));
  elastic_bytes_free(&key);
  return 0;
}

/* ---- seal / unseal ---- */

/* expect_unsupported: the platform is TDX, where sealing must refuse. */
EXPORT("test_seal") int test_seal(int expect_unsupported) {
  elastic_string_t err;
  elastic_bytes_t blob, blob2, pt;
  if (expect_unsupported) {
    CHECK(!elastic_crypto_seal(S("x"), NONE, &blob, &err));
    CHECK(has(err, "unsupported"));
    return 0;
  }
  CHECK(elastic_crypto_seal(S("sealed secret"), S("v1"), &blob, &err));
  CHECK(blob.len == 13 + 34);
  CHECK(memcmp(blob.ptr, "EHSL\x01\x01", 6) == 0);
  CHECK(elastic_crypto_unseal(blob, S("v1"), &pt, &err));
  CHECK(eq(pt, S("sealed secret")));
  elastic_bytes_free(&pt);
  /* fresh nonce per seal */
  CHECK(elastic_crypto_seal(S("sealed secret"), S("v1"), &blob2, &err));
  CHECK(!eq(blob, blob2));
  elastic_bytes_free(&blob2);
  /* every flipped bit, anywhere in the blob, is refused */
  for (size_t i = 0; i < blob.len; i++)
    for (int bit = 0; bit < 8; bit++) {
      blob.ptr[i] ^= (uint8_t)(1 << bit);
      bool ok = elastic_crypto_unseal(blob, S("v1"), &pt, &err);
      blob.ptr[i] ^= (uint8_t)(1 << bit);
      if (ok) return __LINE__;
      elastic_string_free(&err);
    }
  /* other associated data, truncation, garbage */
  CHECK(!elastic_crypto_unseal(blob, S("v2"), &pt, &err));
  CHECK(has(err, "authentication failed"));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_unseal(blob, NONE, &pt, &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_unseal(B(blob.ptr, blob.len - 1), S("v1"), &pt, &err));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_unseal(B(blob.ptr, 33), S("v1"), &pt, &err));
  CHECK(has(err, "not a sealed blob"));
  elastic_string_free(&err);
  CHECK(!elastic_crypto_unseal(NONE, NONE, &pt, &err));
  elastic_string_free(&err);
  /* empty data seals too, and 1 MiB */
  CHECK(elastic_crypto_seal(NONE, NONE, &blob2, &err));
  CHECK(blob2.len == 34);
  CHECK(elastic_crypto_unseal(blob2, NONE, &pt, &err) && pt.len == 0);
  elastic_bytes_free(&blob2);
  uint8_t *big = pattern(1 << 20, 3);
  CHECK(elastic_crypto_seal(B(big, 1 << 20), S("big"), &blob2, &err));
  CHECK(elastic_crypto_unseal(blob2, S("big"), &pt, &err));
  CHECK(pt.len == 1u << 20 && memcmp(pt.ptr, big, 1 << 20) == 0);
  free(big);
  elastic_bytes_free(&pt);
  elastic_bytes_free(&blob2);
  elastic_bytes_free(&blob);
  return 0;
}

/* ---- probes for the host: bytes in and out, across instances ---- */

static uint8_t xfer[4096];
static uint32_t xfer_len;

EXPORT("xfer_get") uint32_t xfer_get(uint32_t i) { return i < sizeof xfer ? xfer[i] : 0; }
EXPORT("xfer_put") void xfer_put(uint32_t i, uint32_t v) {
  if (i < sizeof xfer) xfer[i] = (uint8_t)v;
}
EXPORT("xfer_get_len") uint32_t xfer_get_len(void) { return xfer_len; }
EXPORT("xfer_set_len") void xfer_set_len(uint32_t n) {
  xfer_len = n < sizeof xfer ? n : sizeof xfer;
}

static void to_xfer(elastic_bytes_t b) {
  xfer_len = b.len < sizeof xfer ? (uint32_t)b.len : (uint32_t)sizeof xfer;
  memcpy(xfer, b.ptr, xfer_len);
}

/* A context with a generated AES key (exportable); its handle, or 0. */
EXPORT("ctx_make") uint64_t ctx_make(void) {
  return ctx_gen(ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, true);
}

/* Uses handle h every way: returns how many uses succeeded (0: none). */
EXPORT("ctx_uses") int ctx_uses(uint64_t h) {
  elastic_string_t err;
  elastic_bytes_t out;
  elastic_crypto_context_info_t info;
  int n = 0;
  if (elastic_crypto_describe_context(h, &info, &err))
    n++;
  else
    elastic_string_free(&err);
  if (elastic_crypto_export_key(h, &out, &err))
    n++;
  else
    elastic_string_free(&err);
  if (elastic_crypto_context_encrypt(h, S("x"), NONE, &out, &err))
    n++;
  else
    elastic_string_free(&err);
  if (elastic_crypto_destroy_context(h, &err))
    n++;
  else
    elastic_string_free(&err);
  return n;
}

/* Exports h's key into xfer: 0, or -1 on error. */
EXPORT("ctx_export") int ctx_export(uint64_t h) {
  elastic_string_t err;
  elastic_bytes_t out;
  if (!elastic_crypto_export_key(h, &out, &err)) return -1;
  to_xfer(out);
  elastic_bytes_free(&out);
  return 0;
}

/* Seals a fixed message into xfer: 0, or -1. */
EXPORT("seal_out") int seal_out(void) {
  elastic_string_t err;
  elastic_bytes_t blob;
  if (!elastic_crypto_seal(S("for my later self"), S("ad"), &blob, &err)) return -1;
  to_xfer(blob);
  elastic_bytes_free(&blob);
  return 0;
}

/* Unseals xfer: 0 if it opens to the fixed message, 1 if refused, 2 if it
 * opened to something else. */
EXPORT("seal_in") int seal_in(void) {
  elastic_string_t err;
  elastic_bytes_t pt;
  if (!elastic_crypto_unseal(B(xfer, xfer_len), S("ad"), &pt, &err)) return 1;
  return eq(pt, S("for my later self")) ? 0 : 2;
}

/* ---- a guest generated from the 0.1.0 WIT links unchanged ----
 * Raw imports from elastic:crypto/crypto@0.1.0 with the canonical ABI the
 * 0.1.0 signatures give (served by the 0.1.1 provider, semver-compatibly). */

#define V010(name) __attribute__((import_module("elastic:crypto/crypto@0.1.0"), import_name(name)))
V010("hash") extern void v010_hash(uint32_t, uint32_t, uint32_t, uint32_t);
V010("encrypt")
extern void v010_encrypt(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
V010("decrypt")
extern void v010_decrypt(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
V010("generate-keypair") extern void v010_generate_keypair(uint32_t);
V010("sign") extern void v010_sign(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
V010("verify")
extern void v010_verify(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
V010("create-context") extern void v010_create_context(uint32_t);
V010("destroy-context") extern void v010_destroy_context(uint64_t, uint32_t);

static uint32_t ld32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
#define PTR(p) ((uint32_t)(uintptr_t)(p))
/* result<list<u8>, string> at area: ok payload at offset 4 */
static elastic_bytes_t area_list(const uint8_t *area) {
  return (elastic_bytes_t){(uint8_t *)(uintptr_t)ld32(area + 4), ld32(area + 8)};
}

EXPORT("test_v010_imports") int test_v010_imports(void) {
  _Alignas(8) uint8_t area[24];
  /* hash: result<list<u8>, string> */
  v010_hash(PTR("abc"), 3, 0, PTR(area));
  CHECK(area[0] == 0);
  elastic_bytes_t d = area_list(area);
  CHECK(eq(d, H("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")));
  free(d.ptr);
  /* encrypt/decrypt */
  uint8_t key[32] = {9};
  v010_encrypt(PTR("v0.1.0"), 6, PTR(key), 32, 1, PTR(area));
  CHECK(area[0] == 0);
  elastic_bytes_t ct = area_list(area);
  CHECK(ct.len == 6 + 28);
  v010_decrypt(PTR(ct.ptr), (uint32_t)ct.len, PTR(key), 32, 1, PTR(area));
  CHECK(area[0] == 0);
  elastic_bytes_t pt = area_list(area);
  CHECK(eq(pt, S("v0.1.0")));
  free(pt.ptr);
  ct.ptr[13] ^= 1;
  v010_decrypt(PTR(ct.ptr), (uint32_t)ct.len, PTR(key), 32, 1, PTR(area));
  CHECK(area[0] == 1); /* error: string at offset 4 */
  free((void *)(uintptr_t)ld32(area + 4));
  free(ct.ptr);
  /* generate-keypair: result<key-pair, string>, sign, verify: result<bool, string> */
  v010_generate_keypair(PTR(area));
  CHECK(area[0] == 0);
  elastic_bytes_t pub = {(uint8_t *)(uintptr_t)ld32(area + 4), ld32(area + 8)};
  elastic_bytes_t priv = {(uint8_t *)(uintptr_t)ld32(area + 12), ld32(area + 16)};
  CHECK(pub.len == 32 && priv.len == 32);
  v010_sign(PTR("m"), 1, PTR(priv.ptr), 32, PTR(area));
  CHECK(area[0] == 0);
  elastic_bytes_t sig = area_list(area);
  v010_verify(PTR("m"), 1, PTR(sig.ptr), (uint32_t)sig.len, PTR(pub.ptr), 32, PTR(area));
  CHECK(area[0] == 0 && area[4] == 1);
  v010_verify(PTR("n"), 1, PTR(sig.ptr), (uint32_t)sig.len, PTR(pub.ptr), 32, PTR(area));
  CHECK(area[0] == 0 && area[4] == 0);
  free(sig.ptr), free(pub.ptr), free(priv.ptr);
  /* create-context: result<u64, string> (payload at 8); destroy twice */
  v010_create_context(PTR(area));
  CHECK(area[0] == 0);
  uint64_t h = (uint64_t)ld32(area + 8) | (uint64_t)ld32(area + 12) << 32;
  v010_destroy_context(h, PTR(area));
  CHECK(area[0] == 0);
  v010_destroy_context(h, PTR(area));
  CHECK(area[0] == 1);
  free((void *)(uintptr_t)ld32(area + 4));
  return 0;
}
