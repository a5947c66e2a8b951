/*
 * attest_guest.c - a workload asking for attestation through the generated
 * bindings (elastic:platform 0.1.1).  tests/unit/test_attest.c drives its
 * exports and checks what they write to standard output: envelopes are
 * written there whole, error strings as "ERR:" followed by the message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elastic_hal_guest.h"

#define EXPORT(name) __attribute__((export_name(name)))

int main(void) { return 0; }

static void put(const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = write(1, b, n);
    if (w <= 0) return;
    b += w;
    n -= (size_t)w;
  }
}

static void put_err(elastic_string_t *err) {
  put("ERR:", 4);
  put(err->ptr, err->len);
  elastic_string_free(err);
}

/* The report data used by every export: n bytes, byte i = (i * 7 + 1) & 255
 * (the test computes the same). */
static uint8_t *pattern(int n) {
  uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
  for (int i = 0; p && i < n; i++) p[i] = (uint8_t)(i * 7 + 1);
  return p;
}

/* attestation(report-data of n bytes): 0 and the envelope on stdout, or 1
 * and "ERR:message". */
EXPORT("attest") int attest(int n) {
  uint8_t *rd = pattern(n);
  elastic_bytes_t env;
  elastic_string_t err;
  bool ok = elastic_platform_attestation((elastic_bytes_t){rd, (size_t)n}, &env, &err);
  free(rd);
  if (!ok) {
    put_err(&err);
    return 1;
  }
  put(env.ptr, env.len);
  elastic_bytes_free(&env);
  return 0;
}

/* attestation of report-data that poses as an attested TLS key's
 * ("ELASTIC-HAL-RATLS-V1:" and 32 bytes): 1 and "ERR:message" expected. */
EXPORT("attest_reserved") int attest_reserved(void) {
  uint8_t rd[21 + 32] = "ELASTIC-HAL-RATLS-V1:";
  elastic_bytes_t env;
  elastic_string_t err;
  if (elastic_platform_attestation((elastic_bytes_t){rd, sizeof rd}, &env, &err)) {
    elastic_bytes_free(&env);
    return 0;
  }
  put_err(&err);
  return 1;
}

/* get-platform-info: 1 when attestation-support is true; the platform type
 * on stdout. */
EXPORT("support") int support(void) {
  elastic_platform_platform_info_t info;
  elastic_platform_get_platform_info(&info);
  put(info.platform_type.ptr, info.platform_type.len);
  int r = info.attestation_support ? 1 : 0;
  elastic_string_free(&info.platform_type);
  elastic_string_free(&info.version);
  return r;
}

/* create-attestation-context(report-data of n bytes): the handle, or 0 with
 * "ERR:message". */
EXPORT("ctx_create") uint64_t ctx_create(int n) {
  uint8_t *rd = pattern(n);
  uint64_t h = 0;
  elastic_string_t err;
  bool ok = elastic_platform_create_attestation_context((elastic_bytes_t){rd, (size_t)n}, &h, &err);
  free(rd);
  if (!ok) {
    put_err(&err);
    return 0;
  }
  return h;
}

EXPORT("ctx_attest") int ctx_attest(uint64_t h) {
  elastic_bytes_t env;
  elastic_string_t err;
  if (!elastic_platform_attest_with_context(h, &env, &err)) {
    put_err(&err);
    return 1;
  }
  put(env.ptr, env.len);
  elastic_bytes_free(&env);
  return 0;
}

EXPORT("ctx_binding") int ctx_binding(uint64_t h) {
  elastic_bytes_t b;
  elastic_string_t err;
  if (!elastic_platform_get_attestation_context_binding(h, &b, &err)) {
    put_err(&err);
    return 1;
  }
  put(b.ptr, b.len);
  elastic_bytes_free(&b);
  return 0;
}

EXPORT("ctx_destroy") int ctx_destroy(uint64_t h) {
  elastic_string_t err;
  if (!elastic_platform_destroy_attestation_context(h, &err)) {
    put_err(&err);
    return 1;
  }
  return 0;
}
