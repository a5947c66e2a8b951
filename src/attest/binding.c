/*
 * binding.c - the 64 bytes handed to the hardware (docs/evidence.md,
 * "Binding").  A guest never chooses them: they are SHA-512 over a
 * domain-separated, length-prefixed encoding of its report-data, its module
 * identity, its world and its workload name.
 */
#include <stdio.h>
#include <string.h>

#include "../util/hex.h"
#include "../verify/verify.h" /* ehal_binding_compute */
#include "attest.h"

bool ehal_attest_reserved(const uint8_t *report_data, size_t len) {
  size_t n = sizeof EHAL_RATLS_REPORT_DATA_PREFIX - 1;
  return len >= n && memcmp(report_data, EHAL_RATLS_REPORT_DATA_PREFIX, n) == 0;
}

int ehal_attest_binding(const uint8_t *report_data, size_t report_data_len,
                        const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *world,
                        const char *workload, uint8_t out[EHAL_BINDING_LEN], char *err,
                        size_t errlen) {
  /* evidence with the HAL's own report-data is made only by
   * ehal_attest_tls_key: no one can have it made for a key of theirs */
  if (ehal_attest_reserved(report_data, report_data_len)) {
    snprintf(err, errlen, "report-data beginning with \"%s\" is reserved for attested TLS",
             EHAL_RATLS_REPORT_DATA_PREFIX);
    return -1;
  }
  return ehal_attest_binding_any(report_data, report_data_len, module_sha384, world, workload, out,
                                 err, errlen);
}

int ehal_attest_binding_any(const uint8_t *report_data, size_t report_data_len,
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
  /* the verifier's computation: producer and checker cannot drift apart */
  if (ehal_binding_compute(report_data, report_data_len, module_sha384, world, workload, out) !=
      0) {
    snprintf(err, errlen, "SHA-512 failed");
    return -1;
  }
  return 0;
}

int ehal_attest_sha384_from_hex(const char *hex, uint8_t out[EHAL_MODULE_SHA384_LEN]) {
  if (!hex || strlen(hex) != 2 * EHAL_MODULE_SHA384_LEN) return -1;
  return ehal_hex_decode(hex, out, EHAL_MODULE_SHA384_LEN) == EHAL_MODULE_SHA384_LEN ? 0 : -1;
}
