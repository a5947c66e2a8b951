/*
 * fuzz_spirv.c - libFuzzer harness for the checks a guest's shader passes
 * before any GPU driver sees it (src/gpu/spirv.c, src/gpu/bound.c): the
 * SPIRV-Tools validation, the HAL's own walk (ids, decorations, types,
 * workgroup sizes) and the rewriting that makes a shader stoppable.
 * Beyond "no crash, no sanitizer report": a refusal always says why, and
 * what is accepted comes back as a longer, well-formed module with the
 * stop flag bound where the HAL binds it.  Seeds: the build's shaders.
 * Build and run: tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/gpu/spirv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* an adapter that has every optional feature: reach every branch */
  const ehal_spirv_limits lim = {.f16 = true,
                                 .f64 = true,
                                 .int8 = true,
                                 .int16 = true,
                                 .int64 = true,
                                 .storage8 = true,
                                 .storage16 = true,
                                 .subgroup_ops = 0x3f,
                                 .max_invocations = 1024,
                                 .max_size = {1024, 1024, 64},
                                 .max_shared = 32768,
                                 .max_push = 128};
  ehal_spirv_info info;
  uint32_t *out = NULL;
  size_t out_size = 0;
  char err[512] = "";
  int rc = ehal_spirv_check(data, size, &lim, &info, &out, &out_size, err, sizeof err);
  if (rc != 0) {
    if (!err[0] || out) abort(); /* a refusal says why, and gives nothing */
    return 0;
  }
  if (!out || out_size <= size || out_size % 4 || out[0] != 0x07230203) abort();
  if (!info.entry[0] || info.nbindings > EHAL_SPIRV_MAX_BINDINGS) abort();
  for (uint32_t i = 0; i < info.nbindings; i++)
    if (info.bindings[i].binding >= EHAL_SPIRV_MAX_BINDINGS ||
        (i && info.bindings[i].binding <= info.bindings[i - 1].binding))
      abort();
  free(out);
  return 0;
}
