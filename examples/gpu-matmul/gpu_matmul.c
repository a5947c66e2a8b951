/*
 * gpu_matmul.c - multiply two N x N matrices on the GPU and check the
 * product on the CPU.  A workload of the elastic-tee-compute world:
 *
 *   elastic-hal run --world elastic-tee-compute build/guests/gpu_matmul.wasm [N]
 *
 * The shader (matmul.comp, compiled to SPIR-V at build time and included
 * as matmul_spv.h) reads A and B at bindings 0 and 1, writes C at binding
 * 2, and takes N as a push constant.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "elastic_hal_guest.h"
#include "matmul_spv.h"

static int fail(const char *what, elastic_string_t *err) {
  fprintf(stderr, "gpu_matmul: %s: %.*s\n", what, (int)err->len, err->ptr);
  elastic_string_free(err);
  return 1;
}

/* A storage buffer of size bytes on dev, holding data if not NULL. */
static bool make_buffer(uint64_t dev, size_t size, const void *data, uint64_t *buf,
                        elastic_string_t *err) {
  elastic_gpu_buffer_descriptor_t d = {size, ELASTIC_GPU_BUFFER_USAGE_STORAGE};
  if (!elastic_gpu_create_buffer(dev, d, buf, err)) return false;
  return !data || elastic_gpu_write_buffer(*buf, 0, (elastic_bytes_t){(uint8_t *)data, size}, err);
}

int main(int argc, char **argv) {
  uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 256;
  if (n < 1 || n > 2048) {
    fprintf(stderr, "usage: gpu_matmul [N], N from 1 to 2048\n");
    return 2;
  }
  size_t bytes = (size_t)n * n * sizeof(float);
  float *a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes);
  if (!a || !b || !c) return 1;
  for (uint32_t i = 0; i < n * n; i++) {
    a[i] = (float)((i * 7) % 13) - 6.0f;
    b[i] = (float)((i * 5) % 11) * 0.125f;
  }

  /* the first adapter, a device on it */
  elastic_string_t err;
  elastic_gpu_list_gpu_adapter_handle_t adapters;
  if (!elastic_gpu_list_adapters(&adapters, &err)) return fail("list-adapters", &err);
  if (adapters.len == 0) {
    fprintf(stderr, "gpu_matmul: this node has no GPU adapter\n");
    return 1;
  }
  elastic_gpu_adapter_info_t info;
  if (!elastic_gpu_get_adapter_info(adapters.ptr[0], &info, &err))
    return fail("get-adapter-info", &err);
  printf("adapter: %.*s (%.*s)\n", (int)info.name.len, info.name.ptr, (int)info.device_type.len,
         info.device_type.ptr);
  uint64_t dev;
  if (!elastic_gpu_create_device(adapters.ptr[0], &dev, &err)) return fail("create-device", &err);

  /* A and B in, C out; the pipeline; which buffer is at which binding */
  uint64_t ba, bb, bc, pipeline, group, fence;
  if (!make_buffer(dev, bytes, a, &ba, &err) || !make_buffer(dev, bytes, b, &bb, &err) ||
      !make_buffer(dev, bytes, NULL, &bc, &err))
    return fail("buffers", &err);
  elastic_bytes_t spv = {(uint8_t *)matmul_spv, sizeof matmul_spv};
  if (!elastic_gpu_create_compute_pipeline(dev, spv, &pipeline, &err))
    return fail("create-compute-pipeline", &err);
  elastic_gpu_bind_group_entry_t entries[] = {{0, ba, 0, 0}, {1, bb, 0, 0}, {2, bc, 0, 0}};
  if (!elastic_gpu_create_bind_group(pipeline, (elastic_gpu_list_bind_group_entry_t){entries, 3},
                                     &group, &err))
    return fail("create-bind-group", &err);

  /* one 16 x 16 workgroup per 16 x 16 tile of C */
  uint32_t tiles = (n + 15) / 16;
  elastic_bytes_t push = {(uint8_t *)&n, sizeof n};
  if (!elastic_gpu_submit(pipeline, group, push, tiles, tiles, 1, &fence, &err))
    return fail("submit", &err);
  bool done = false;
  while (!done)
    if (!elastic_gpu_wait_fence(fence, 1000000000ull, &done, &err)) return fail("wait-fence", &err);

  elastic_bytes_t out;
  if (!elastic_gpu_read_buffer(bc, 0, bytes, &out, &err)) return fail("read-buffer", &err);
  float *gpu = (float *)out.ptr;

  /* the same product on the CPU */
  size_t wrong = 0;
  for (uint32_t r = 0; r < n; r++)
    for (uint32_t col = 0; col < n; col++) {
      float s = 0;
      for (uint32_t k = 0; k < n; k++) s += a[r * n + k] * b[k * n + col];
      if (fabsf(s - gpu[r * n + col]) > 1e-3f * (1.0f + fabsf(s))) wrong++;
    }
  printf("%u x %u product: %s (%zu of %u entries differ from the CPU's)\n", n, n,
         wrong ? "WRONG" : "correct", wrong, n * n);

  /* release in order; the HAL would release (and zero) all of it at exit anyway */
  elastic_bytes_free(&out);
  if (!elastic_gpu_destroy_fence(fence, &err) || !elastic_gpu_destroy_bind_group(group, &err) ||
      !elastic_gpu_destroy_device(dev, &err))
    return fail("destroy", &err);
  elastic_gpu_adapter_info_free(&info);
  elastic_gpu_list_gpu_adapter_handle_free(&adapters);
  free(a), free(b), free(c);
  return wrong ? 1 : 0;
}
