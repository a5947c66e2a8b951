/*
 * binding.c - the 64 bytes handed to the hardware (docs/evidence.md,
 * "Binding").  A guest never chooses them: they are SHA-512 over a
 * domain-separated, length-prefixed encoding of its report-data, its module
 * identity, its world and its workload name.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "attest.h"

static const char k_prefix[] = "ELASTIC-HAL-BINDING-V1"; /* + its NUL */

static int put_field(EVP_MD_CTX *c, const void *p, size_t n) {
  uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  return EVP_DigestUpdate(c, len, 4) == 1 && (n == 0 || EVP_DigestUpdate(c, p, n) == 1);
}

int ehal_attest_binding(const uint8_t *report_data, size_t report_data_len,
                        const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *world,
                        const char *workload, uint8_t out[EHAL_BINDING_LEN], char *err,
                        size_t errlen) {
  if (report_data_len > EHAL_REPORT_DATA_MAX) {
    snprintf(err, errlen, "report-data is %zu bytes; at most %d are allowed", report_data_len,
             EHAL_REPORT_DATA_MAX);
    return -1;
  }
  if (!world || !workload || !module_sha384) {
    snprintf(err, errlen, "the binding needs the module, the world and the workload");
    return -1;
  }
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  unsigned int n = 0;
  int ok = c && EVP_DigestInit_ex(c, EVP_sha512(), NULL) == 1 &&
           EVP_DigestUpdate(c, k_prefix, sizeof k_prefix) == 1 && /* includes the NUL */
           put_field(c, report_data, report_data_len) &&
           put_field(c, module_sha384, EHAL_MODULE_SHA384_LEN) &&
           put_field(c, world, strlen(world)) && put_field(c, workload, strlen(workload)) &&
           EVP_DigestFinal_ex(c, out, &n) == 1 && n == EHAL_BINDING_LEN;
  EVP_MD_CTX_free(c);
  if (!ok) {
    snprintf(err, errlen, "SHA-512 failed");
    return -1;
  }
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int ehal_attest_sha384_from_hex(const char *hex, uint8_t out[EHAL_MODULE_SHA384_LEN]) {
  if (!hex || strlen(hex) != 2 * EHAL_MODULE_SHA384_LEN) return -1;
  for (size_t i = 0; i < EHAL_MODULE_SHA384_LEN; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}
