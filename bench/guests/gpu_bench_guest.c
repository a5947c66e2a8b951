/*
 * gpu_bench_guest.c - the guest half of elastic-hal-bench-gpu: the same
 * SPIR-V kernels the native half runs, dispatched through elastic:gpu, and
 * the same computations on the CPU in guest code.  A reactor: the program
 * calls these exports.
 *
 *   setup(kernel, n)  kernel 0: SAXPY over n floats; 1: an n x n matrix
 *                     product; 2: a vector add of n floats (for the cost of
 *                     a dispatch).  Buffers hold the inputs; 0 on success
 *   run(reps)         submit and wait reps times; 0 on success
 *   checksum()        1000 x a sum over the output (compared with the native one)
 *   cpu_setup(kernel, n), cpu(kernel, n)
 *                     the same inputs, and the computation once, in guest code
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"
#include "matmul_spv.h"
#include "saxpy_spv.h"
#include "vecadd_spv.h"

#define EXPORT(name) __attribute__((export_name(name)))

static uint64_t g_dev, g_pipe, g_group, g_out;
static uint32_t g_kernel, g_n, g_groups[2];
static uint8_t g_push[4];
static uint64_t g_out_bytes;

/* the inputs, the same as the native half's */
static float in_a(uint32_t i) { return (float)(i % 1000) * 0.001f; }
static float in_b(uint32_t i) { return (float)(i % 777) * 0.01f; }

static int buffer(uint64_t bytes, int fill, uint64_t *out) {
  elastic_string_t err;
  elastic_gpu_buffer_descriptor_t d = {bytes, ELASTIC_GPU_BUFFER_USAGE_STORAGE};
  if (!elastic_gpu_create_buffer(g_dev, d, out, &err)) return -1;
  if (!fill) return 0;
  uint32_t n = (uint32_t)(bytes / 4);
  float *v = malloc(bytes);
  if (!v) return -1;
  for (uint32_t i = 0; i < n; i++) v[i] = fill == 1 ? in_a(i) : in_b(i);
  bool ok = elastic_gpu_write_buffer(*out, 0, (elastic_bytes_t){(uint8_t *)v, bytes}, &err);
  free(v);
  return ok ? 0 : -1;
}

EXPORT("setup") int setup(uint32_t kernel, uint32_t n) {
  elastic_string_t err;
  elastic_gpu_list_gpu_adapter_handle_t ads;
  if (!elastic_gpu_list_adapters(&ads, &err) || ads.len == 0) return -1;
  if (g_dev) elastic_gpu_destroy_device(g_dev, &err);
  if (!elastic_gpu_create_device(ads.ptr[0], &g_dev, &err)) return -2;
  elastic_gpu_list_gpu_adapter_handle_free(&ads);
  g_kernel = kernel;
  g_n = n;
  uint64_t a, b, bytes = kernel == 1 ? (uint64_t)n * n * 4 : (uint64_t)n * 4;
  const unsigned char *spv = kernel == 0 ? saxpy_spv : kernel == 1 ? matmul_spv : vecadd_spv;
  size_t spv_len = kernel == 0   ? sizeof saxpy_spv
                   : kernel == 1 ? sizeof matmul_spv
                                 : sizeof vecadd_spv;
  elastic_gpu_bind_group_entry_t e[3];
  uint32_t ne;
  if (buffer(bytes, 1, &a) || buffer(bytes, 2, &b)) return -3;
  if (kernel == 0) { /* y = a x + y: y (b) is the output */
    e[0] = (elastic_gpu_bind_group_entry_t){0, a, 0, 0};
    e[1] = (elastic_gpu_bind_group_entry_t){1, b, 0, 0};
    ne = 2;
    g_out = b;
    float alpha = 2.0f;
    memcpy(g_push, &alpha, 4);
    g_groups[0] = (n + 255) / 256, g_groups[1] = 1;
  } else {
    if (buffer(bytes, 0, &g_out)) return -3;
    e[0] = (elastic_gpu_bind_group_entry_t){0, a, 0, 0};
    e[1] = (elastic_gpu_bind_group_entry_t){1, b, 0, 0};
    e[2] = (elastic_gpu_bind_group_entry_t){2, g_out, 0, 0};
    ne = 3;
    memcpy(g_push, &n, 4);
    if (kernel == 1)
      g_groups[0] = g_groups[1] = (n + 15) / 16;
    else
      g_groups[0] = (n + 63) / 64, g_groups[1] = 1;
  }
  g_out_bytes = bytes;
  if (!elastic_gpu_create_compute_pipeline(g_dev, (elastic_bytes_t){(uint8_t *)spv, spv_len},
                                           &g_pipe, &err))
    return -4;
  if (!elastic_gpu_create_bind_group(g_pipe, (elastic_gpu_list_bind_group_entry_t){e, ne}, &g_group,
                                     &err))
    return -5;
  return 0;
}

EXPORT("run") int run(uint32_t reps) {
  elastic_string_t err;
  elastic_bytes_t push = {g_push, g_kernel == 2 ? 0 : 4};
  for (uint32_t r = 0; r < reps; r++) {
    uint64_t fence;
    bool done = false;
    if (!elastic_gpu_submit(g_pipe, g_group, push, g_groups[0], g_groups[1], 1, &fence, &err)) {
      fprintf(stderr, "submit: %.*s\n", (int)err.len, err.ptr);
      return -1;
    }
    while (!done)
      if (!elastic_gpu_wait_fence(fence, UINT64_MAX, &done, &err)) return -2;
    elastic_gpu_destroy_fence(fence, &err);
  }
  return 0;
}

EXPORT("checksum") int64_t checksum(void) {
  elastic_string_t err;
  elastic_bytes_t out;
  uint64_t n = g_out_bytes < 4096 * 4 ? g_out_bytes : 4096 * 4;
  if (!elastic_gpu_read_buffer(g_out, 0, n, &out, &err)) return -1;
  double s = 0;
  for (size_t i = 0; i < out.len / 4; i++) s += ((float *)out.ptr)[i];
  elastic_bytes_free(&out);
  return (int64_t)(s * 1000); /* i64: what elastic_hal_call returns */
}

static float *a, *b, *c;

EXPORT("cpu_setup") int cpu_setup(uint32_t kernel, uint32_t n) {
  uint64_t count = kernel == 1 ? (uint64_t)n * n : n;
  free(a), free(b), free(c);
  a = malloc(count * 4), b = malloc(count * 4), c = malloc(count * 4);
  if (!a || !b || !c) return -1;
  for (uint64_t i = 0; i < count; i++) a[i] = in_a((uint32_t)i), b[i] = in_b((uint32_t)i);
  return 0;
}

EXPORT("cpu") int64_t cpu(uint32_t kernel, uint32_t n) {
  uint64_t count = kernel == 1 ? (uint64_t)n * n : n;
  if (kernel == 0) {
    for (uint64_t i = 0; i < count; i++) b[i] = 2.0f * a[i] + b[i];
    return (int64_t)b[count - 1];
  }
  for (uint32_t r = 0; r < n; r++) /* i-k-j order: the usual cache-friendly loop */
    for (uint32_t k = 0; k < n; k++) {
      float x = a[r * n + k];
      if (k == 0) memset(c + (uint64_t)r * n, 0, n * 4);
      for (uint32_t j = 0; j < n; j++) c[(uint64_t)r * n + j] += x * b[(uint64_t)k * n + j];
    }
  return (int64_t)c[0];
}
