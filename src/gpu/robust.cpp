// robust.cpp - the HAL's one C++ file: SPIRV-Tools' graphics-robust-access
// pass, behind a C function (spirv.h, ehal_spirv_robust).  Only the C++ API
// of SPIRV-Tools runs optimizer passes.
//
// The pass clamps every index of every access chain to its array's bounds:
// those into workgroup, private and function arrays too, which a driver's
// robust buffer access does not cover and which, on a CPU driver such as
// lavapipe, would otherwise reach the host process's memory.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <spirv-tools/optimizer.hpp>
#include <string>
#include <vector>

#include "spirv.h"

int ehal_spirv_robust(const uint32_t *w, size_t nw, uint32_t **out, size_t *out_nw, char *err,
                      size_t errlen) {
  // no exception leaves: C calls this
  try {
    spvtools::Optimizer opt(SPV_ENV_VULKAN_1_2);
    std::string why;
    opt.SetMessageConsumer(
        [&why](spv_message_level_t level, const char *, const spv_position_t &, const char *msg) {
          if (level <= SPV_MSG_ERROR && why.empty() && msg) why = msg;
        });
    opt.RegisterPass(spvtools::CreateGraphicsRobustAccessPass());
    std::vector<uint32_t> res;
    // the input was validated just before (spirv.c), and the output is
    // validated again after bound.c: no third run of the validator here
    spv_optimizer_options opts = spvOptimizerOptionsCreate();
    if (!opts) throw std::bad_alloc();
    spvOptimizerOptionsSetRunValidator(opts, false);
    bool ok = opt.Run(w, nw, &res, opts);
    spvOptimizerOptionsDestroy(opts);
    if (!ok) {
      snprintf(err, errlen, "cannot bound the shader's array indexing: %s",
               why.empty() ? "the robust-access pass failed" : why.c_str());
      return -1;
    }
    uint32_t *p = static_cast<uint32_t *>(malloc(res.size() * sizeof *p));
    if (!p) throw std::bad_alloc();
    memcpy(p, res.data(), res.size() * sizeof *p);
    *out = p;
    *out_nw = res.size();
    return 0;
  } catch (...) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
}
