/*
 * crypto_bench_guest.c - the crypto benchmark guest (a wasm32-wasi reactor)
 * for bench/crypto_bench.c.
 *
 * Each loop export makes n calls of one elastic:crypto function through the
 * generated guest bindings on a buffer of the given size, freeing what the
 * HAL returns, and returns a checksum (UINT64_MAX if a call failed).  All
 * exports take and return only i32/i64 so elastic_hal_call can drive them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

#define EXPORT(name) __attribute__((export_name(name)))

static uint8_t *data, *sealed;
static size_t data_len, sealed_len;
static uint8_t key[32];

/* (Re)allocates the input buffer: size bytes of a fixed pattern. */
EXPORT("setup") uint32_t setup(uint32_t size) {
  free(data);
  data = malloc(size ? size : 1);
  if (!data) return 1;
  for (uint32_t i = 0; i < size; i++) data[i] = (uint8_t)(i * 131 + 7);
  data_len = size;
  for (int i = 0; i < 32; i++) key[i] = (uint8_t)(0x40 + i);
  return 0;
}

/* Encrypts the input once (alg), for dec_loop. */
EXPORT("setup_sealed") uint32_t setup_sealed(uint32_t alg) {
  elastic_bytes_t ct;
  elastic_string_t err;
  free(sealed);
  sealed = NULL;
  if (!elastic_crypto_encrypt((elastic_bytes_t){data, data_len}, (elastic_bytes_t){key, 32},
                              (uint8_t)alg, &ct, &err))
    return 1;
  sealed = ct.ptr;
  sealed_len = ct.len;
  return 0;
}

EXPORT("hash_loop") uint64_t hash_loop(uint32_t alg, uint32_t n) {
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    elastic_bytes_t d;
    elastic_string_t err;
    if (!elastic_crypto_hash((elastic_bytes_t){data, data_len}, (uint8_t)alg, &d, &err))
      return UINT64_MAX;
    acc += d.ptr[0];
    elastic_bytes_free(&d);
  }
  return acc;
}

EXPORT("enc_loop") uint64_t enc_loop(uint32_t alg, uint32_t n) {
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    elastic_bytes_t ct;
    elastic_string_t err;
    if (!elastic_crypto_encrypt((elastic_bytes_t){data, data_len}, (elastic_bytes_t){key, 32},
                                (uint8_t)alg, &ct, &err))
      return UINT64_MAX;
    acc += ct.len;
    elastic_bytes_free(&ct);
  }
  return acc;
}

EXPORT("dec_loop") uint64_t dec_loop(uint32_t alg, uint32_t n) {
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    elastic_bytes_t pt;
    elastic_string_t err;
    if (!elastic_crypto_decrypt((elastic_bytes_t){sealed, sealed_len}, (elastic_bytes_t){key, 32},
                                (uint8_t)alg, &pt, &err))
      return UINT64_MAX;
    acc += pt.len;
    elastic_bytes_free(&pt);
  }
  return acc;
}
