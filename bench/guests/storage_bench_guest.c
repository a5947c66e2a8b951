/*
 * storage_bench_guest.c - the guest side of elastic-hal-bench-storage: a
 * wasm32-wasi reactor whose exports store and retrieve n 4 KiB objects
 * through the generated storage bindings.  Each returns 0, or the source
 * line of the first failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

#define EXPORT(name) __attribute__((export_name(name)))
#define OBJ 4096

static elastic_storage_container_handle_t g_c;
static uint8_t g_buf[OBJ];

static void fill(uint32_t i) {
  for (uint32_t k = 0; k < OBJ; k++) g_buf[k] = (uint8_t)(k * 131u + i * 7u);
}

EXPORT("bench_setup") int bench_setup(void) {
  elastic_string_t err;
  if (elastic_storage_create_container(elastic_string("bench"), &g_c, &err)) return 0;
  elastic_string_free(&err);
  return elastic_storage_open_container(elastic_string("bench"), &g_c, &err) ? 0 : __LINE__;
}

EXPORT("bench_store") int bench_store(int first, int n) {
  elastic_string_t err;
  for (int i = first; i < first + n; i++) {
    char key[32];
    snprintf(key, sizeof key, "obj-%06d", i);
    fill((uint32_t)i);
    elastic_bytes_t b = {g_buf, OBJ};
    uint64_t v;
    if (!elastic_storage_store_object(g_c, elastic_string(key), b, &v, &err)) return __LINE__;
  }
  return 0;
}

EXPORT("bench_retrieve") int bench_retrieve(int first, int n) {
  elastic_string_t err;
  for (int i = first; i < first + n; i++) {
    char key[32];
    snprintf(key, sizeof key, "obj-%06d", i);
    elastic_bytes_t b;
    if (!elastic_storage_retrieve_object(g_c, elastic_string(key), &b, &err)) return __LINE__;
    fill((uint32_t)i);
    int bad = b.len != OBJ || memcmp(b.ptr, g_buf, OBJ) != 0;
    elastic_bytes_free(&b);
    if (bad) return __LINE__;
  }
  return 0;
}
