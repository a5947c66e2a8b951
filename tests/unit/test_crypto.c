/*
 * test_crypto.c - elastic:crypto end to end: a real guest (tests/guests/
 * crypto_guest.c, built for wasm32-wasi with the generated bindings),
 * compiled by the real engine and driven through the public API.
 *
 * The guest's test_* exports check results themselves (0 = pass, else the
 * failing source line); the host adds what only it can arrange: several
 * instances (workloads) with their own handle tables, and sealed blobs
 * carried from one workload, state directory or instance to another.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elastic-hal/elastic_hal.h"
#include "interfaces/crypto_contexts.h"
#include "tap.h"

#ifndef EHAL_TEST_GUESTS
#error "EHAL_TEST_GUESTS (the build's guests directory) must be defined"
#endif

#define GUEST EHAL_TEST_GUESTS "/crypto_guest.wasm"

static char g_tmp[4096];

static elastic_hal_instance *make(elastic_hal_module *m, const elastic_hal_linker *l,
                                  const char *workload, const char *state) {
  elastic_hal_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.workload = workload;
  cfg.state_dir = state;
  elastic_hal_error err;
  elastic_hal_instance *i = elastic_hal_instantiate(m, l, &cfg, &err);
  if (!i) tap_diag("instantiate %s: %s", workload, err.msg);
  return i;
}

/* Calls an export with up to 2 arguments; returns its result (or a value
 * no probe returns, with a diagnostic, if the guest trapped). */
static int64_t call(elastic_hal_instance *i, const char *name, const uint64_t *args, size_t n) {
  uint64_t r = 0;
  elastic_hal_error err;
  if (elastic_hal_call(i, name, args, n, &r, 1, &err) != ELASTIC_HAL_EXITED) {
    tap_diag("%s trapped: %s", name, err.msg);
    return INT64_MIN;
  }
  return (int64_t)r;
}

static void call_void(elastic_hal_instance *i, const char *name, const uint64_t *args, size_t n) {
  elastic_hal_error err;
  if (elastic_hal_call(i, name, args, n, NULL, 0, &err) != ELASTIC_HAL_EXITED)
    tap_diag("%s trapped: %s", name, err.msg);
}

static int32_t i32(int64_t v) { return (int32_t)(uint32_t)v; }

static void guest_test(elastic_hal_instance *i, const char *name, const uint64_t *args, size_t n,
                       const char *desc) {
  uint64_t r = 0;
  elastic_hal_error err;
  elastic_hal_outcome o = elastic_hal_call(i, name, args, n, &r, 1, &err);
  if (!TAP_OK(o == ELASTIC_HAL_EXITED && i32(r) == 0, "%s (guest %s)", desc, name)) {
    if (o != ELASTIC_HAL_EXITED)
      tap_diag("trapped: %s", err.msg);
    else
      tap_diag("guest check failed at tests/guests/crypto_guest.c:%d", i32(r));
  }
}

/* The guest's xfer buffer, out and in. */
static size_t xfer_out(elastic_hal_instance *i, uint8_t *buf, size_t max) {
  size_t n = (size_t)call(i, "xfer_get_len", NULL, 0);
  if (n > max) n = max;
  for (size_t k = 0; k < n; k++) {
    uint64_t idx = k;
    buf[k] = (uint8_t)call(i, "xfer_get", &idx, 1);
  }
  return n;
}

static void xfer_in(elastic_hal_instance *i, const uint8_t *buf, size_t n) {
  for (size_t k = 0; k < n; k++) {
    uint64_t a[2] = {k, buf[k]};
    call_void(i, "xfer_put", a, 2);
  }
  uint64_t len = n;
  call_void(i, "xfer_set_len", &len, 1);
}

/* Which composed worlds link the guest (it imports crypto and WASI only). */
static void test_worlds(elastic_hal_module *m) {
  static const struct {
    const char *world;
    bool links;
  } w[] = {{"elastic-tee-hal", true},         {"elastic-tee-minimal", true},
           {"elastic-tee-attestation", true}, {"elastic-tee-storage", true},
           {"elastic-tee-network", true},     {"elastic-tee-compute", false}};
  for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
    elastic_hal_linker *l = elastic_hal_linker_new();
    elastic_hal_world_add_to_linker_by_name(l, w[k].world);
    elastic_hal_wasi_add_to_linker(l);
    int problems = elastic_hal_check(m, l, NULL);
    TAP_OK(w[k].links ? problems == 0 : problems > 0, "crypto 0.1.1 %s in %s",
           w[k].links ? "links" : "is refused", w[k].world);
    elastic_hal_linker_free(l);
  }
}

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/ehal-test-crypto-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(g_tmp)) {
    TAP_OK(false, "create a temporary directory");
    return tap_done();
  }
  char cache[4200], state[4200], state2[4200];
  snprintf(cache, sizeof cache, "%s/cache", g_tmp);
  snprintf(state, sizeof state, "%s/state", g_tmp);
  snprintf(state2, sizeof state2, "%s/state2", g_tmp);

  elastic_hal_error err;
  elastic_hal_load_options lo = {.cache_dir = cache, .state_dir = state};
  elastic_hal_module *m = elastic_hal_module_load(GUEST, &lo, &err);
  if (!TAP_OK(m != NULL, "load %s", GUEST)) {
    tap_diag("%s", err.msg);
    tap_rm_tree(g_tmp);
    return tap_done();
  }
  test_worlds(m);

  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_add_to_linker(l);
  elastic_hal_wasi_add_to_linker(l);
  elastic_hal_instance *a = make(m, l, "crypto-test", state);
  if (!TAP_OK(a != NULL, "instantiate the crypto guest")) {
    elastic_hal_module_free(m);
    elastic_hal_linker_free(l);
    tap_rm_tree(g_tmp);
    return tap_done();
  }

  /* ---- the interface, from inside the guest ---- */
  guest_test(a, "test_hash", NULL, 0, "hash: SHA-256, SHA-512, BLAKE3 known answers; 1 MiB inputs");
  guest_test(
      a, "test_encrypt_roundtrip", NULL, 0,
      "encrypt/decrypt: AES-256-GCM and ChaCha20-Poly1305 roundtrips, 0 B to 1 MiB, +28 bytes");
  guest_test(a, "test_encrypt_tamper", NULL, 0,
             "decrypt: every flipped bit, truncation, wrong key/algorithm -> error; keys not 32 "
             "bytes -> error");
  guest_test(a, "test_decrypt_no_leak", NULL, 0,
             "decrypt: 2000 refused 64 KiB decryptions leave guest memory where it was");
  guest_test(a, "test_nonce_fresh", NULL, 0,
             "encrypt: a fresh random nonce per call (64 distinct; same plaintext twice differs)");
  guest_test(
      a, "test_keypair", NULL, 0,
      "generate-keypair: Ed25519, the public key matches the private seed; sign/verify; RFC 8032");
  guest_test(
      a, "test_contexts", NULL, 0,
      "contexts: create/destroy; destroy twice, destroyed, forged, reused-slot handles -> error");
  guest_test(a, "test_context_limit", NULL, 0, "contexts: at most 1024 live per workload");
  guest_test(a, "test_key_contexts", NULL, 0,
             "key contexts: non-exportable export refused; AEAD with associated data; raw/context "
             "interop");
  guest_test(a, "test_hmac", NULL, 0,
             "HMAC-SHA-256/512: RFC 4231, constant-time verify, truncated tag refused, contexts");
  guest_test(
      a, "test_signatures", NULL, 0,
      "signatures: Ed25519, ECDSA P-256/P-384 (P1363, SEC1), tamper, malformed keys, re-import");
  guest_test(a, "test_x25519", NULL, 0,
             "X25519: agreement into a secret context, export policy, low-order points, RFC 7748");
  guest_test(a, "test_hkdf", NULL, 0,
             "HKDF-SHA-256/512: RFC 5869, limit, context-derive equals raw HKDF, non-exportable");
  guest_test(
      a, "test_v010_imports", NULL, 0,
      "0.1.0 compatibility: raw elastic:crypto/crypto@0.1.0 imports (hash, encrypt, decrypt, "
      "generate-keypair, sign, verify, contexts) link and work");
  bool tdx = strcmp(elastic_hal_platform_type(), "tdx") == 0;
  uint64_t arg = tdx;
  guest_test(a, "test_seal", &arg, 1,
             tdx ? "seal: refused as unsupported on TDX"
                 : "seal/unseal: roundtrip, blob format, every flipped bit and other AD refused");

  /* ---- handles belong to the workload that created them ---- */
  {
    /* two fresh workloads, so that their first handles have equal values */
    elastic_hal_instance *a2 = make(m, l, "crypto-test", state);
    elastic_hal_instance *b = make(m, l, "other-workload", state);
    elastic_hal_instance *a_saved = a;
    if (a2) a = a2;
    int64_t ha = call(a, "ctx_make", NULL, 0);
    TAP_OK(ha > 0, "workload A creates a keyed context");
    int64_t uses = b ? call(b, "ctx_uses", (uint64_t *)&ha, 1) : -1;
    TAP_OK(uses == 0,
           "workload A's handle value means nothing in workload B (describe, export, "
           "encrypt, destroy all refused)");
    int64_t hb = b ? call(b, "ctx_make", NULL, 0) : 0;
    uint8_t ka[64], kb[64];
    size_t na = 0, nb = 0;
    if (call(a, "ctx_export", (uint64_t *)&ha, 1) == 0) na = xfer_out(a, ka, sizeof ka);
    if (b && call(b, "ctx_export", (uint64_t *)&hb, 1) == 0) nb = xfer_out(b, kb, sizeof kb);
    if (!TAP_OK(hb == ha && na == 32 && nb == 32 && memcmp(ka, kb, 32) != 0,
                "the same handle value in B names B's own key, never A's"))
      tap_diag("handles %llx / %llx, keys %zu / %zu bytes", (unsigned long long)ha,
               (unsigned long long)hb, na, nb);
    /* other interfaces (storage) reach a context's key through the same table */
    {
      ehal_aead_alg alg = EHAL_AEAD_CHACHA20_POLY1305, alg2;
      uint8_t k1[32], k2[32];
      const char *why = NULL;
      bool ok = na == 32 && ehal_crypto_context_aead_key(a, (uint64_t)ha, &alg, k1, &why) == 0 &&
                alg == EHAL_AEAD_AES_GCM && memcmp(k1, ka, 32) == 0;
      ok = ok && b && ehal_crypto_context_aead_key(b, (uint64_t)hb, &alg2, k2, &why) == 0 &&
           memcmp(k2, kb, 32) == 0;
      ok = ok && ehal_crypto_context_aead_key(a, (uint64_t)ha + 1, &alg, k1, &why) == -1 && why &&
           strstr(why, "invalid");
      TAP_OK(ok, "ehal_crypto_context_aead_key: each workload's own key; a bad handle refused");
    }
    TAP_OK(call(a, "ctx_uses", (uint64_t *)&ha, 1) == 4 &&
               call(a, "ctx_uses", (uint64_t *)&ha, 1) == 0,
           "in A the handle works until A destroys it, then nothing does");
    elastic_hal_instance_free(b);
    a = a_saved;
    elastic_hal_instance_free(a2);
    TAP_OK(true, "instances with live contexts are freed cleanly");
  }

  /* ---- sealed blobs: same workload only ---- */
  if (!tdx) {
    int64_t sealed = call(a, "seal_out", NULL, 0);
    uint8_t blob[256];
    size_t n = sealed == 0 ? xfer_out(a, blob, sizeof blob) : 0;
    TAP_OK(sealed == 0 && n == 17 + 34, "seal: workload A seals a message");
    struct {
      const char *workload, *state, *what;
      int want;
    } cases[] = {
        {"crypto-test", state, "another instance of the same workload unseals it", 0},
        {"crypto-test-2", state, "another workload on the same platform cannot unseal it", 1},
        {"Crypto-test", state, "a workload whose name differs in case cannot unseal it", 1},
        {"crypto-test", state2, "the same workload under another sealing root cannot unseal it", 1},
    };
    /* the state directory holds the sealing root only on the simulated platform */
    bool sim = strcmp(elastic_hal_platform_type(), "simulated") == 0;
    for (size_t k = 0; k < (sim ? 4u : 3u); k++) {
      elastic_hal_instance *x = make(m, l, cases[k].workload, cases[k].state);
      int64_t r = -1;
      if (x) {
        xfer_in(x, blob, n);
        r = call(x, "seal_in", NULL, 0);
      }
      if (!TAP_OK(r == cases[k].want, "unseal: %s", cases[k].what))
        tap_diag("seal_in returned %lld", (long long)r);
      elastic_hal_instance_free(x);
    }
    /* a state directory that cannot hold a sealing root: an error, never a fallback */
    if (sim) {
      elastic_hal_instance *x = make(m, l, "crypto-test", NULL);
      TAP_OK(x && i32(call(x, "seal_out", NULL, 0)) == -1,
             "seal without a state directory (simulated root has nowhere to live) -> error");
      elastic_hal_instance_free(x);
    }
  } else {
    TAP_SKIP("TDX: sealing is unsupported", "sealed blobs across workloads");
  }

  elastic_hal_instance_free(a);
  elastic_hal_module_free(m);
  elastic_hal_linker_free(l);
  tap_rm_tree(g_tmp);
  return tap_done();
}
