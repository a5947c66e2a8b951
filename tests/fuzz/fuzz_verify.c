/*
 * fuzz_verify.c - libFuzzer harness for the verifier's readers of
 * untrusted evidence (src/verify/): envelopes (JSON, base64), raw SEV-SNP
 * reports, raw TDX quotes and attested TLS certificates (X.509, the CMW
 * extension, base64url), all through ehal_verify as a relying party calls
 * it.  Beyond "no crash, no sanitizer report": a result always has a
 * reason, and random bytes never verify.  Build and run: tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/verify/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ehal_verify_opts o;
  ehal_verify_opts_init(&o);
  o.allow_simulated = true; /* reach the simulated chain's code too */
  o.now = 1780000000;       /* fixed: the same input takes the same path */
  ehal_verify_result r;
  int rc = ehal_verify(data, size, &o, &r);
  if (!r.reason[0]) abort();
  if (rc == 0 && !r.ok) abort();
  ehal_verify_result_free(&r);
  return 0;
}
