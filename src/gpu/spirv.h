/*
 * spirv.h - checking a guest's SPIR-V before a GPU driver sees it.
 *
 * A module from a guest is validated by SPIRV-Tools for the Vulkan target,
 * then walked once here: it must hold exactly one entry point, a compute
 * one, use only the capabilities and extensions this HAL allows (those of
 * optional features only when the device has them), declare only buffers
 * (storage or uniform blocks, descriptor set 0) and a push-constant block,
 * and keep its workgroup size and shared memory within the adapter's
 * limits.  What the walk learns (the bindings, the entry point's name) is
 * what the pipeline is built from.
 */
#ifndef EHAL_GPU_SPIRV_H
#define EHAL_GPU_SPIRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* robust.cpp implements ehal_spirv_robust */
#endif

#define EHAL_SPIRV_MAX_BINDINGS 32 /* per shader, set 0 */
#define EHAL_SPIRV_MAX_PUSH 256    /* bytes of push constants: the most max_push may be */

typedef enum { EHAL_BIND_STORAGE, EHAL_BIND_UNIFORM } ehal_bind_kind;

/* What a device allows a shader to use. */
typedef struct {
  bool f16, f64, int8, int16, int64; /* device features enabled */
  bool storage8, storage16;          /* 8- and 16-bit buffer access enabled */
  uint32_t subgroup_ops;             /* VkSubgroupFeatureFlags for compute */
  uint32_t max_invocations, max_size[3];
  uint32_t max_shared; /* bytes of workgroup memory */
  uint32_t max_push;   /* bytes of push constants */
} ehal_spirv_limits;

typedef struct {
  char entry[64]; /* the entry point's name */
  uint32_t local_size[3];
  uint32_t nbindings;
  struct {
    uint32_t binding;
    ehal_bind_kind kind;
  } bindings[EHAL_SPIRV_MAX_BINDINGS]; /* ascending binding numbers */
  bool push_constants;
} ehal_spirv_info;

/* Check code (size bytes) against lim; 0 with info filled and *bounded
 * the module to give the driver (malloc'd, *bounded_size bytes: the code
 * made stoppable, ehal_spirv_bound), or -1 with why (a sentence naming
 * what is wrong) in err. */
int ehal_spirv_check(const uint8_t *code, size_t size, const ehal_spirv_limits *lim,
                     ehal_spirv_info *info, uint32_t **bounded, size_t *bounded_size, char *err,
                     size_t errlen);

/* The module (nw words) with every access chain's indices clamped to its
 * arrays' bounds (SPIRV-Tools' graphics-robust-access pass; robust.cpp).
 * 0 with *out (malloc'd) and *out_nw, or -1 and why. */
int ehal_spirv_robust(const uint32_t *w, size_t nw, uint32_t **out, size_t *out_nw, char *err,
                      size_t errlen);

/* The stop flag's place, which a guest's shader cannot use (set 0 only). */
#define EHAL_SPIRV_STOP_SET 1
#define EHAL_SPIRV_STOP_BINDING 0

/* A valid module (nw words) with an exit on every loop's back edge and at
 * the start of its entry point, taken once the 32-bit flag in the storage
 * buffer at (EHAL_SPIRV_STOP_SET, EHAL_SPIRV_STOP_BINDING) is not zero
 * (src/gpu/bound.c).  0 with *out (malloc'd) and *out_nw, or -1 and why. */
int ehal_spirv_bound(const uint32_t *w, size_t nw, uint32_t **out, size_t *out_nw, char *err,
                     size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
