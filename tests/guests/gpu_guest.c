/*
 * gpu_guest.c - a workload on elastic:gpu, driven by its arguments, for
 * tests/cli/gpu.sh and tests/unit/test_gpu.c.  Results are checked here
 * against the same computation on the CPU.
 *
 *   info            adapters, with their limits and features
 *   vecadd N        c = a + b over N floats, 0.1.0 calls only (dispatch
 *                   binds the device's buffers in creation order)
 *   reduce N        the sum of N integers: bind group, push constants,
 *                   submit and wait-fence (0.1.1)
 *   matmul N        an N x N float matrix product, tiled
 *   scale           a uniform buffer beside a storage buffer
 *   copy            copy-buffer between buffers, and its refusals
 *   features        create-device-with-features with all the adapter has
 *   hostile         bad handles, ranges, usages, limits: a line each
 *   mutate K SEED   K corrupted copies of a valid module: each refused or
 *                   built, none crashes the host
 *   spin [X Y]      a shader that never ends over X x Y workgroups (256 x
 *                   256): the device is lost, a new one works
 *   secret KIB      fill a KIB KiB buffer with 0xA5 and end without
 *                   destroying it
 *   zeros KIB       a fresh KIB KiB buffer reads as zeros; then write,
 *                   destroy, create again, and it reads as zeros
 *   spin-exit       submit the never-ending shader and exit at once
 *   spin-nowait MS  submit it, sleep MS ms without a GPU call, then wait:
 *                   the watchdog stopped it at the timeout all the same
 *   oob-local IDX   a shader indexing workgroup and private arrays at IDX
 *                   (from a buffer): clamped, the host unharmed
 *   oob             a shader writing and reading far outside its buffer:
 *                   dropped by robust buffer access, the host unharmed
 *   trap            create a buffer, then trap with it live
 *
 * Every failure prints "error: <the HAL's message>" and exits 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "big_private_spv.h"
#include "elastic_hal_guest.h"
#include "image_spv.h"
#include "inline_bomb_spv.h"
#include "matmul_spv.h"
#include "oob_local_spv.h"
#include "oob_spv.h"
#include "push_offset_spv.h"
#include "reduce_spv.h"
#include "scale_spv.h"
#include "spin_spv.h"
#include "vecadd_spv.h"

typedef uint64_t h_t;

static int fail(const char *what, elastic_string_t *err) {
  printf("error: %s: %.*s\n", what, (int)err->len, err->ptr);
  elastic_string_free(err);
  return 1;
}

/* "refused: WHAT: message" for a call expected to fail; "ACCEPTED: WHAT"
 * when it did not */
static void expect_refused(const char *what, bool ok, elastic_string_t *err) {
  if (ok)
    printf("ACCEPTED: %s\n", what);
  else
    printf("refused: %s: %.*s\n", what, (int)err->len, err->ptr);
  if (!ok) elastic_string_free(err);
}

static elastic_bytes_t bytes(const void *p, size_t n) {
  return (elastic_bytes_t){(uint8_t *)(uintptr_t)p, n};
}

#define SPV(name) bytes(name##_spv, sizeof name##_spv)

/* The first adapter and a device on it. */
static int open_device(h_t *adapter, h_t *dev) {
  elastic_string_t err;
  elastic_gpu_list_gpu_adapter_handle_t ads;
  if (!elastic_gpu_list_adapters(&ads, &err)) return fail("list-adapters", &err);
  if (ads.len == 0) {
    printf("error: no GPU adapter\n");
    return 1;
  }
  *adapter = ads.ptr[0];
  elastic_gpu_list_gpu_adapter_handle_free(&ads);
  if (!elastic_gpu_create_device(*adapter, dev, &err)) return fail("create-device", &err);
  return 0;
}

static int buffer(h_t dev, uint64_t size, uint8_t usage, const void *data, h_t *out) {
  elastic_string_t err;
  elastic_gpu_buffer_descriptor_t d = {size, usage};
  if (!elastic_gpu_create_buffer(dev, d, out, &err)) return fail("create-buffer", &err);
  if (data && !elastic_gpu_write_buffer(*out, 0, bytes(data, size), &err))
    return fail("write-buffer", &err);
  return 0;
}

static int read_all(h_t buf, uint64_t size, void *out) {
  elastic_string_t err;
  elastic_bytes_t got;
  if (!elastic_gpu_read_buffer(buf, 0, size, &got, &err)) return fail("read-buffer", &err);
  if (got.len != size) {
    printf("error: read-buffer gave %zu bytes, not %llu\n", got.len, (unsigned long long)size);
    return 1;
  }
  memcpy(out, got.ptr, size);
  elastic_bytes_free(&got);
  return 0;
}

static int pipeline(h_t dev, elastic_bytes_t code, h_t *out) {
  elastic_string_t err;
  if (!elastic_gpu_create_compute_pipeline(dev, code, out, &err))
    return fail("create-compute-pipeline", &err);
  return 0;
}

/* Submit p with bind group g and push constants, and wait for it. */
static int run_pass(h_t p, h_t g, const void *push, size_t npush, uint32_t x, uint32_t y) {
  elastic_string_t err;
  h_t fence;
  bool done = false;
  if (!elastic_gpu_submit(p, g, bytes(push, npush), x, y, 1, &fence, &err))
    return fail("submit", &err);
  while (!done)
    if (!elastic_gpu_wait_fence(fence, 1000000000ull, &done, &err)) return fail("wait-fence", &err);
  if (!elastic_gpu_destroy_fence(fence, &err)) return fail("destroy-fence", &err);
  return 0;
}

static int cmd_info(void) {
  elastic_string_t err;
  elastic_gpu_list_gpu_adapter_handle_t ads;
  if (!elastic_gpu_list_adapters(&ads, &err)) return fail("list-adapters", &err);
  printf("adapters: %zu\n", ads.len);
  for (size_t i = 0; i < ads.len; i++) {
    elastic_gpu_adapter_info_t info;
    elastic_gpu_adapter_limits_t l;
    elastic_gpu_device_features_t f;
    if (!elastic_gpu_get_adapter_info(ads.ptr[i], &info, &err))
      return fail("get-adapter-info", &err);
    if (!elastic_gpu_get_adapter_limits(ads.ptr[i], &l, &err))
      return fail("get-adapter-limits", &err);
    if (!elastic_gpu_get_adapter_features(ads.ptr[i], &f, &err))
      return fail("get-adapter-features", &err);
    printf("adapter: %.*s | vendor: %.*s | type: %.*s\n", (int)info.name.len, info.name.ptr,
           (int)info.vendor.len, info.vendor.ptr, (int)info.device_type.len, info.device_type.ptr);
    printf(
        "limits: invocations %u, workgroup %ux%ux%u, shared %u, push %u, bindings %u, "
        "storage binding %llu\n",
        l.max_compute_invocations_per_workgroup, l.max_compute_workgroup_size_x,
        l.max_compute_workgroup_size_y, l.max_compute_workgroup_size_z,
        l.max_compute_workgroup_storage_size, l.max_push_constant_size, l.max_bindings,
        (unsigned long long)l.max_storage_buffer_binding_size);
    printf("features: f16 %d f64 %d int8 %d int16 %d int64 %d\n", f.shader_f16, f.shader_f64,
           f.shader_int8, f.shader_int16, f.shader_int64);
    elastic_gpu_adapter_info_free(&info);
  }
  elastic_gpu_list_gpu_adapter_handle_free(&ads);
  return 0;
}

static int cmd_vecadd(uint32_t n) {
  h_t ad, dev, a, b, c, p;
  elastic_string_t err;
  float *va = malloc(n * 4), *vb = malloc(n * 4), *vc = malloc(n * 4);
  for (uint32_t i = 0; i < n; i++) va[i] = (float)i * 0.5f, vb[i] = 1000.0f - (float)i;
  if (open_device(&ad, &dev) || buffer(dev, n * 4, ELASTIC_GPU_BUFFER_USAGE_STORAGE, va, &a) ||
      buffer(dev, n * 4, ELASTIC_GPU_BUFFER_USAGE_STORAGE, vb, &b) ||
      buffer(dev, n * 4, ELASTIC_GPU_BUFFER_USAGE_STORAGE, NULL, &c) ||
      pipeline(dev, SPV(vecadd), &p))
    return 1;
  if (!elastic_gpu_dispatch(dev, p, (n + 63) / 64, 1, 1, &err)) return fail("dispatch", &err);
  if (read_all(c, n * 4, vc)) return 1;
  for (uint32_t i = 0; i < n; i++)
    if (vc[i] != va[i] + vb[i]) {
      printf("error: c[%u] = %g, expected %g\n", i, vc[i], va[i] + vb[i]);
      return 1;
    }
  printf("vecadd %u: ok\n", n);
  free(va), free(vb), free(vc);
  return 0;
}

static int cmd_reduce(uint32_t n) {
  h_t ad, dev, in, out, p, g;
  elastic_string_t err;
  uint32_t *v = malloc((size_t)n * 4), zero = 0, total = 0, want = 0;
  for (uint32_t i = 0; i < n; i++) v[i] = i * 2654435761u >> 20, want += v[i];
  if (open_device(&ad, &dev) ||
      buffer(dev, (uint64_t)n * 4, ELASTIC_GPU_BUFFER_USAGE_STORAGE, v, &in) ||
      buffer(dev, 4, ELASTIC_GPU_BUFFER_USAGE_STORAGE, &zero, &out) ||
      pipeline(dev, SPV(reduce), &p))
    return 1;
  elastic_gpu_bind_group_entry_t e[2] = {{1, out, 0, 0}, {0, in, 0, 0}}; /* any order */
  if (!elastic_gpu_create_bind_group(p, (elastic_gpu_list_bind_group_entry_t){e, 2}, &g, &err))
    return fail("create-bind-group", &err);
  if (run_pass(p, g, &n, 4, (n + 255) / 256, 1) || read_all(out, 4, &total)) return 1;
  if (total != want) {
    printf("error: sum %u, expected %u\n", total, want);
    return 1;
  }
  /* in use by a bind group: destroy the group first */
  expect_refused("destroy-buffer of a bound buffer", elastic_gpu_destroy_buffer(in, &err), &err);
  expect_refused("destroy-pipeline with a bind group", elastic_gpu_destroy_pipeline(p, &err), &err);
  if (!elastic_gpu_destroy_bind_group(g, &err) || !elastic_gpu_destroy_buffer(in, &err) ||
      !elastic_gpu_destroy_pipeline(p, &err) || !elastic_gpu_destroy_device(dev, &err))
    return fail("destroy", &err);
  printf("reduce %u: ok (%u)\n", n, total);
  free(v);
  return 0;
}

static int cmd_matmul(uint32_t n) {
  h_t ad, dev, a, b, c, p, g;
  elastic_string_t err;
  size_t bytes_n = (size_t)n * n * 4;
  float *ma = malloc(bytes_n), *mb = malloc(bytes_n), *mc = malloc(bytes_n);
  for (uint32_t i = 0; i < n * n; i++)
    ma[i] = (float)(i % 7) - 3.0f, mb[i] = (float)(i % 5) * 0.25f;
  if (open_device(&ad, &dev) || buffer(dev, bytes_n, ELASTIC_GPU_BUFFER_USAGE_STORAGE, ma, &a) ||
      buffer(dev, bytes_n, ELASTIC_GPU_BUFFER_USAGE_STORAGE, mb, &b) ||
      buffer(dev, bytes_n, ELASTIC_GPU_BUFFER_USAGE_STORAGE, NULL, &c) ||
      pipeline(dev, SPV(matmul), &p))
    return 1;
  elastic_gpu_bind_group_entry_t e[3] = {{0, a, 0, 0}, {1, b, 0, 0}, {2, c, 0, 0}};
  if (!elastic_gpu_create_bind_group(p, (elastic_gpu_list_bind_group_entry_t){e, 3}, &g, &err))
    return fail("create-bind-group", &err);
  if (run_pass(p, g, &n, 4, (n + 15) / 16, (n + 15) / 16) || read_all(c, bytes_n, mc)) return 1;
  for (uint32_t r = 0; r < n; r++)
    for (uint32_t col = 0; col < n; col++) {
      float s = 0;
      for (uint32_t k = 0; k < n; k++) s += ma[r * n + k] * mb[k * n + col];
      if (fabsf(s - mc[r * n + col]) > 1e-3f * (1.0f + fabsf(s))) {
        printf("error: c[%u][%u] = %g, expected %g\n", r, col, mc[r * n + col], s);
        return 1;
      }
    }
  printf("matmul %u: ok\n", n);
  return 0;
}

static int cmd_scale(void) {
  h_t ad, dev, d, u, p;
  elastic_string_t err;
  float v[64], scale[4] = {3.0f, 0, 0, 0}, got[64];
  for (int i = 0; i < 64; i++) v[i] = (float)i;
  if (open_device(&ad, &dev) || buffer(dev, sizeof v, ELASTIC_GPU_BUFFER_USAGE_STORAGE, v, &d) ||
      buffer(dev, sizeof scale, ELASTIC_GPU_BUFFER_USAGE_UNIFORM, scale, &u) ||
      pipeline(dev, SPV(scale), &p))
    return 1;
  if (!elastic_gpu_dispatch(dev, p, 1, 1, 1, &err)) return fail("dispatch", &err);
  if (read_all(d, sizeof got, got)) return 1;
  for (int i = 0; i < 64; i++)
    if (got[i] != 3.0f * (float)i) {
      printf("error: d[%d] = %g\n", i, got[i]);
      return 1;
    }
  /* a uniform buffer where the shader wants storage, and the reverse */
  h_t g;
  elastic_gpu_bind_group_entry_t swapped[2] = {{0, u, 0, 0}, {1, d, 0, 0}};
  expect_refused(
      "bind group with the buffer kinds swapped",
      elastic_gpu_create_bind_group(p, (elastic_gpu_list_bind_group_entry_t){swapped, 2}, &g, &err),
      &err);
  printf("scale: ok\n");
  return 0;
}

static int cmd_copy(void) {
  h_t ad, dev, a, b;
  elastic_string_t err;
  uint8_t src[256], got[256];
  for (int i = 0; i < 256; i++) src[i] = (uint8_t)i;
  if (open_device(&ad, &dev) || buffer(dev, 256, ELASTIC_GPU_BUFFER_USAGE_STORAGE, src, &a) ||
      buffer(dev, 256, ELASTIC_GPU_BUFFER_USAGE_STORAGE, NULL, &b))
    return 1;
  if (!elastic_gpu_copy_buffer(a, 16, b, 32, 100, &err)) return fail("copy-buffer", &err);
  if (read_all(b, 256, got)) return 1;
  for (int i = 0; i < 256; i++) {
    uint8_t want = i >= 32 && i < 132 ? (uint8_t)(i - 16) : 0;
    if (got[i] != want) {
      printf("error: b[%d] = %u, expected %u\n", i, got[i], want);
      return 1;
    }
  }
  expect_refused("copy past the end", elastic_gpu_copy_buffer(a, 200, b, 0, 100, &err), &err);
  expect_refused("overlapping copy", elastic_gpu_copy_buffer(a, 0, a, 50, 100, &err), &err);
  h_t dev2, c;
  if (!elastic_gpu_create_device(ad, &dev2, &err)) return fail("create-device", &err);
  if (buffer(dev2, 256, ELASTIC_GPU_BUFFER_USAGE_STORAGE, NULL, &c)) return 1;
  expect_refused("copy across devices", elastic_gpu_copy_buffer(a, 0, c, 0, 16, &err), &err);
  printf("copy: ok\n");
  return 0;
}

static int cmd_features(void) {
  h_t ad, dev, dev0;
  elastic_string_t err;
  elastic_gpu_device_features_t f, got;
  if (open_device(&ad, &dev0)) return 1;
  if (!elastic_gpu_get_adapter_features(ad, &f, &err)) return fail("get-adapter-features", &err);
  if (!elastic_gpu_create_device_with_features(ad, f, &dev, &err))
    return fail("create-device-with-features", &err);
  if (!elastic_gpu_get_device_features(dev, &got, &err)) return fail("get-device-features", &err);
  if (memcmp(&f, &got, sizeof f)) {
    printf("error: the device has other features than asked\n");
    return 1;
  }
  if (!elastic_gpu_get_device_features(dev0, &got, &err)) return fail("get-device-features", &err);
  printf("plain device: f16 %d f64 %d int64 %d\n", got.shader_f16, got.shader_f64,
         got.shader_int64);
  printf("features: ok (f64 %d int64 %d)\n", f.shader_f64, f.shader_int64);
  return 0;
}

static int cmd_hostile(void) {
  h_t ad, dev, b, p, x;
  elastic_string_t err;
  elastic_bytes_t got;
  if (open_device(&ad, &dev) || buffer(dev, 64, ELASTIC_GPU_BUFFER_USAGE_STORAGE, NULL, &b))
    return 1;
  elastic_gpu_adapter_info_t info;
  expect_refused("get-adapter-info of a forged handle",
                 elastic_gpu_get_adapter_info(0x1234567, &info, &err), &err);
  expect_refused("create-device on handle 0", elastic_gpu_create_device(0, &x, &err), &err);
  elastic_gpu_buffer_descriptor_t vd = {64, ELASTIC_GPU_BUFFER_USAGE_VERTEX};
  expect_refused("vertex buffer", elastic_gpu_create_buffer(dev, vd, &x, &err), &err);
  vd.usage = ELASTIC_GPU_BUFFER_USAGE_INDEX;
  expect_refused("index buffer", elastic_gpu_create_buffer(dev, vd, &x, &err), &err);
  elastic_gpu_buffer_descriptor_t zd = {0, ELASTIC_GPU_BUFFER_USAGE_STORAGE};
  expect_refused("empty buffer", elastic_gpu_create_buffer(dev, zd, &x, &err), &err);
  elastic_gpu_buffer_descriptor_t huge = {1ull << 40, ELASTIC_GPU_BUFFER_USAGE_STORAGE};
  expect_refused("a 1 TiB buffer", elastic_gpu_create_buffer(dev, huge, &x, &err), &err);
  uint8_t data[16] = {0};
  expect_refused("write past the end", elastic_gpu_write_buffer(b, 60, bytes(data, 16), &err),
                 &err);
  expect_refused("write at offset 2^64-1",
                 elastic_gpu_write_buffer(b, UINT64_MAX, bytes(data, 2), &err), &err);
  expect_refused("read past the end", elastic_gpu_read_buffer(b, 32, 33, &got, &err), &err);
  expect_refused("read of 2^64-1 bytes", elastic_gpu_read_buffer(b, 1, UINT64_MAX, &got, &err),
                 &err);
  expect_refused("read from a buffer handle of the device table",
                 elastic_gpu_read_buffer(dev, 0, 4, &got, &err), &err);
  expect_refused("pipeline from 3 bytes",
                 elastic_gpu_create_compute_pipeline(dev, bytes("abc", 3), &x, &err), &err);
  uint32_t junk[16] = {0x07230203, 0x00010000, 0, 100, 0, 0xffffffff, 1, 2, 3};
  expect_refused("pipeline from junk after a SPIR-V header",
                 elastic_gpu_create_compute_pipeline(dev, bytes(junk, sizeof junk), &x, &err),
                 &err);
  expect_refused("pipeline using an image",
                 elastic_gpu_create_compute_pipeline(dev, SPV(image), &x, &err), &err);
  expect_refused("pipeline with 400 KB of private array",
                 elastic_gpu_create_compute_pipeline(dev, SPV(big_private), &x, &err), &err);
  expect_refused("pipeline with a push constant at byte 1020",
                 elastic_gpu_create_compute_pipeline(dev, SPV(push_offset), &x, &err), &err);
  expect_refused("pipeline that inlines into 2^30 calls",
                 elastic_gpu_create_compute_pipeline(dev, SPV(inline_bomb), &x, &err), &err);
  if (pipeline(dev, SPV(vecadd), &p)) return 1;
  expect_refused("dispatch with too few buffers for the shader",
                 elastic_gpu_dispatch(dev, p, 1, 1, 1, &err), &err);
  expect_refused("dispatch of 2^32-1 workgroups in x",
                 elastic_gpu_dispatch(dev, p, UINT32_MAX, 1, 1, &err), &err);
  expect_refused("dispatch of 65535 x 65535 workgroups",
                 elastic_gpu_dispatch(dev, p, 65535, 65535, 1, &err), &err);
  expect_refused("dispatch with a pipeline handle as device",
                 elastic_gpu_dispatch(p, p, 1, 1, 1, &err), &err);
  elastic_gpu_bind_group_entry_t e[3] = {{0, b, 0, 0}, {1, b, 0, 0}, {7, b, 0, 0}};
  expect_refused(
      "bind group naming a binding the shader lacks",
      elastic_gpu_create_bind_group(p, (elastic_gpu_list_bind_group_entry_t){e, 3}, &x, &err),
      &err);
  e[2].binding = 2;
  e[2].offset = 3;
  expect_refused(
      "bind group with a misaligned offset",
      elastic_gpu_create_bind_group(p, (elastic_gpu_list_bind_group_entry_t){e, 3}, &x, &err),
      &err);
  e[2].offset = 0;
  e[2].size = 65;
  expect_refused(
      "bind group with a range past the buffer",
      elastic_gpu_create_bind_group(p, (elastic_gpu_list_bind_group_entry_t){e, 3}, &x, &err),
      &err);
  e[2].size = 0;
  e[1].binding = 0;
  expect_refused(
      "bind group giving binding 0 twice",
      elastic_gpu_create_bind_group(p, (elastic_gpu_list_bind_group_entry_t){e, 3}, &x, &err),
      &err);
  uint8_t push[300] = {0};
  expect_refused("push constants to a shader without them",
                 elastic_gpu_submit(p, 0, bytes(push, 4), 1, 1, 1, &x, &err), &err);
  expect_refused("wait on a forged fence", elastic_gpu_wait_fence(99, 0, &(bool){0}, &err), &err);
  h_t g;
  e[1].binding = 1;
  if (!elastic_gpu_create_bind_group(p, (elastic_gpu_list_bind_group_entry_t){e, 3}, &g, &err))
    return fail("create-bind-group", &err);
  if (!elastic_gpu_destroy_bind_group(g, &err)) return fail("destroy-bind-group", &err);
  expect_refused("destroy a bind group twice", elastic_gpu_destroy_bind_group(g, &err), &err);
  if (!elastic_gpu_destroy_device(dev, &err)) return fail("destroy-device", &err);
  expect_refused("write to a buffer of a destroyed device",
                 elastic_gpu_write_buffer(b, 0, bytes(data, 4), &err), &err);
  expect_refused("dispatch on a destroyed device", elastic_gpu_dispatch(dev, p, 1, 1, 1, &err),
                 &err);
  /* the limits: buffers past the workload's GPU memory */
  if (!elastic_gpu_create_device(ad, &dev, &err)) return fail("create-device", &err);
  int made = 0;
  elastic_gpu_buffer_descriptor_t big = {64ull << 20, ELASTIC_GPU_BUFFER_USAGE_STORAGE};
  while (made < 64 && elastic_gpu_create_buffer(dev, big, &x, &err)) made++;
  if (made < 64)
    printf("refused: 64 MiB buffer number %d: %.*s\n", made + 1, (int)err.len, err.ptr);
  printf("hostile: done\n");
  return 0;
}

/* xorshift: the same corruptions for the same seed */
static uint32_t g_rng;
static uint32_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 17;
  g_rng ^= g_rng << 5;
  return g_rng;
}

static int cmd_mutate(int k, uint32_t seed) {
  h_t ad, dev, p;
  elastic_string_t err;
  if (open_device(&ad, &dev)) return 1;
  g_rng = seed ? seed : 1;
  const unsigned char *mods[] = {vecadd_spv, reduce_spv, matmul_spv, scale_spv};
  const size_t lens[] = {sizeof vecadd_spv, sizeof reduce_spv, sizeof matmul_spv, sizeof scale_spv};
  int built = 0, refused = 0;
  uint8_t *m = malloc(8192);
  for (int i = 0; i < k; i++) {
    int which = rnd() % 4;
    size_t n = lens[which];
    memcpy(m, mods[which], n);
    int flips = 1 + rnd() % 4;
    for (int f = 0; f < flips; f++) {
      size_t at = 20 + rnd() % (n - 20); /* keep the header: reach the deeper checks */
      switch (rnd() % 3) {
        case 0: m[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
        case 1: m[at] = (uint8_t)rnd(); break;
        default: /* a word set to a small number: ids, opcodes, counts */
          at &= ~(size_t)3;
          m[at] = (uint8_t)(rnd() % 64);
          m[at + 1] = m[at + 2] = m[at + 3] = 0;
      }
    }
    if (rnd() % 8 == 0) n = 20 + (rnd() % (n - 20)) / 4 * 4; /* truncated */
    if (elastic_gpu_create_compute_pipeline(dev, bytes(m, n), &p, &err)) {
      built++;
      if (!elastic_gpu_destroy_pipeline(p, &err)) return fail("destroy-pipeline", &err);
    } else {
      refused++;
      elastic_string_free(&err);
    }
  }
  free(m);
  printf("mutate: %d modules, %d refused, %d built\n", k, refused, built);
  return 0;
}

/* A device with the never-ending shader's pipeline and its buffer (stop 0). */
static int spin_setup(h_t *dev, h_t *s, h_t *p) {
  h_t ad;
  uint32_t forever[2] = {0, 0};
  return open_device(&ad, dev) || buffer(*dev, 8, ELASTIC_GPU_BUFFER_USAGE_STORAGE, forever, s) ||
         pipeline(*dev, SPV(spin), p);
}

static int cmd_spin(uint32_t gx, uint32_t gy) {
  h_t dev, s, p;
  elastic_string_t err;
  if (spin_setup(&dev, &s, &p)) return 1;
  if (elastic_gpu_dispatch(dev, p, gx, gy, 1, &err)) {
    uint32_t r[2] = {0, 0};
    read_all(s, 8, r);
    printf("error: the spinning dispatch returned (%08x %08x)\n", r[0], r[1]);
    return 1;
  }
  printf("spin: %.*s\n", (int)err.len, err.ptr);
  elastic_string_free(&err);
  h_t x;
  expect_refused("create-buffer on the lost device",
                 elastic_gpu_create_buffer(dev, (elastic_gpu_buffer_descriptor_t){8, 0}, &x, &err),
                 &err);
  if (!elastic_gpu_destroy_device(dev, &err)) return fail("destroy-device", &err);
  return cmd_vecadd(1000); /* a new device works */
}

static int cmd_spin_exit(void) {
  h_t dev, s, p, fence;
  elastic_string_t err;
  if (spin_setup(&dev, &s, &p)) return 1;
  if (!elastic_gpu_submit(p, 0, bytes(NULL, 0), 64, 64, 1, &fence, &err))
    return fail("submit", &err);
  printf("spin-exit: submitted, exiting\n");
  return 0;
}

static int cmd_spin_nowait(uint32_t ms) {
  h_t dev, s, p, fence;
  elastic_string_t err;
  bool done = false;
  if (spin_setup(&dev, &s, &p)) return 1;
  if (!elastic_gpu_submit(p, 0, bytes(NULL, 0), 64, 64, 1, &fence, &err))
    return fail("submit", &err);
  if (!elastic_clock_sleep((uint64_t)ms * 1000000, &err)) return fail("sleep", &err);
  if (elastic_gpu_wait_fence(fence, 0, &done, &err)) {
    printf("error: wait-fence gave %d\n", done);
    return 1;
  }
  printf("spin-nowait: %.*s\n", (int)err.len, err.ptr);
  elastic_string_free(&err);
  return cmd_vecadd(1000); /* the adapter is free again */
}

static int cmd_oob_local(uint32_t idx) {
  h_t ad, dev, d, p;
  elastic_string_t err;
  uint32_t v[3] = {idx, 0, 0};
  if (open_device(&ad, &dev) || buffer(dev, sizeof v, ELASTIC_GPU_BUFFER_USAGE_STORAGE, v, &d) ||
      pipeline(dev, SPV(oob_local), &p))
    return 1;
  if (!elastic_gpu_dispatch(dev, p, 64, 1, 1, &err)) return fail("dispatch", &err);
  if (read_all(d, sizeof v, v)) return 1;
  printf("oob-local %u: shared %08x private %08x\n", idx, v[1], v[2]);
  return 0;
}

static int cmd_oob(void) {
  h_t ad, dev, d, p;
  elastic_string_t err;
  uint32_t v[256] = {0};
  if (open_device(&ad, &dev) || buffer(dev, sizeof v, ELASTIC_GPU_BUFFER_USAGE_STORAGE, v, &d) ||
      pipeline(dev, SPV(oob), &p))
    return 1;
  if (!elastic_gpu_dispatch(dev, p, 4, 1, 1, &err)) return fail("dispatch", &err);
  if (read_all(d, sizeof v, v)) return 1;
  int ones = 0;
  for (int i = 0; i < 256; i++) ones += v[i] == 1;
  printf("oob: %d of 256 read zero past the end\n", ones);
  return 0;
}

static int cmd_secret(uint32_t kib) {
  h_t ad, dev, b;
  size_t n = (size_t)kib << 10;
  uint8_t *v = malloc(n);
  memset(v, 0xA5, n);
  if (open_device(&ad, &dev) || buffer(dev, n, ELASTIC_GPU_BUFFER_USAGE_STORAGE, v, &b)) return 1;
  printf("secret: %u KiB written\n", kib);
  return 0; /* the buffer is left for the HAL to clear */
}

static int check_zero(h_t b, size_t n, const char *when) {
  elastic_string_t err;
  elastic_bytes_t got;
  if (!elastic_gpu_read_buffer(b, 0, n, &got, &err)) return fail("read-buffer", &err);
  size_t nonzero = 0;
  for (size_t i = 0; i < got.len; i++) nonzero += got.ptr[i] != 0;
  elastic_bytes_free(&got);
  printf("%s: %zu nonzero bytes\n", when, nonzero);
  return nonzero != 0;
}

static int cmd_zeros(uint32_t kib) {
  h_t ad, dev, b;
  elastic_string_t err;
  size_t n = (size_t)kib << 10;
  if (open_device(&ad, &dev) || buffer(dev, n, ELASTIC_GPU_BUFFER_USAGE_STORAGE, NULL, &b))
    return 1;
  int bad = check_zero(b, n, "fresh buffer");
  uint8_t *v = malloc(n);
  memset(v, 0x5A, n);
  if (!elastic_gpu_write_buffer(b, 0, bytes(v, n), &err)) return fail("write-buffer", &err);
  if (!elastic_gpu_destroy_buffer(b, &err)) return fail("destroy-buffer", &err);
  if (buffer(dev, n, ELASTIC_GPU_BUFFER_USAGE_STORAGE, NULL, &b)) return 1;
  bad |= check_zero(b, n, "after destroy and create");
  free(v);
  return bad;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    printf("usage: gpu_guest COMMAND [ARGS]\n");
    return 2;
  }
  const char *c = argv[1];
  uint32_t n = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 0;
  if (!strcmp(c, "info")) return cmd_info();
  if (!strcmp(c, "vecadd") && n) return cmd_vecadd(n);
  if (!strcmp(c, "reduce") && n) return cmd_reduce(n);
  if (!strcmp(c, "matmul") && n) return cmd_matmul(n);
  if (!strcmp(c, "scale")) return cmd_scale();
  if (!strcmp(c, "copy")) return cmd_copy();
  if (!strcmp(c, "features")) return cmd_features();
  if (!strcmp(c, "hostile")) return cmd_hostile();
  if (!strcmp(c, "mutate") && n)
    return cmd_mutate((int)n, argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 1);
  if (!strcmp(c, "spin"))
    return cmd_spin(n ? n : 256, argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 256);
  if (!strcmp(c, "oob")) return cmd_oob();
  if (!strcmp(c, "oob-local") && argc > 2) return cmd_oob_local(n);
  if (!strcmp(c, "spin-exit")) return cmd_spin_exit();
  if (!strcmp(c, "spin-nowait") && n) return cmd_spin_nowait(n);
  if (!strcmp(c, "secret") && n) return cmd_secret(n);
  if (!strcmp(c, "zeros") && n) return cmd_zeros(n);
  if (!strcmp(c, "trap")) {
    h_t ad, dev, b;
    if (open_device(&ad, &dev) || buffer(dev, 4096, 0, NULL, &b)) return 1;
    __builtin_trap();
  }
  printf("unknown command %s\n", c);
  return 2;
}
