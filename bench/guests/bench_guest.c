/*
 * bench_guest.c - the benchmark guest (a wasm32-wasi reactor).
 *
 * Exports loops that make n HAL calls through the generated guest bindings
 * (elastic_hal_guest.h), an empty export to time host-to-guest calls, and
 * the compute kernels of kernels.c.  All exports take and return only
 * i32/i64 so elastic_hal_call can drive them.
 */
#include <stdint.h>

#include "elastic_hal_guest.h"
#include "kernels.h"

#define EXPORT(name) __attribute__((export_name(name)))

static volatile uint32_t sink;

/* Baseline: the loop alone, with one volatile store per iteration. */
EXPORT("loop_empty") uint64_t loop_empty(uint32_t n) {
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    sink = i;
    acc += i;
  }
  return acc;
}

/* clock.resolution: no arguments, result<u64, string> through a return area. */
EXPORT("loop_resolution") uint64_t loop_resolution(uint32_t n) {
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t v = 0;
    elastic_string_t err;
    if (!elastic_clock_resolution(&v, &err)) return UINT64_MAX;
    acc += v;
  }
  return acc;
}

/* clock.get-monotonic-time: result<record, string> through a return area. */
EXPORT("loop_monotonic") uint64_t loop_monotonic(uint32_t n) {
  uint64_t acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    elastic_clock_monotonic_time_t t;
    elastic_string_t err;
    if (!elastic_clock_get_monotonic_time(&t, &err)) return UINT64_MAX;
    acc += t.elapsed_nanoseconds;
  }
  return acc;
}

/* capabilities.has-capability: string argument (lifted and UTF-8 checked by
 * the host), bool result. */
EXPORT("loop_has_capability") uint64_t loop_has_capability(uint32_t n) {
  uint64_t acc = 0;
  elastic_string_t name = elastic_string("clock.resolution");
  for (uint32_t i = 0; i < n; i++) acc += elastic_capabilities_has_capability(name);
  return acc;
}

/* Host-to-guest: an export that does nothing. */
EXPORT("nop") uint32_t nop(uint32_t x) { return x + 1; }

EXPORT("kernel_sha256") uint64_t g_kernel_sha256(uint32_t r) { return kernel_sha256(r); }
EXPORT("kernel_matmul") uint64_t g_kernel_matmul(uint32_t n) { return kernel_matmul(n); }
EXPORT("kernel_sieve") uint64_t g_kernel_sieve(uint32_t n) { return kernel_sieve(n); }
EXPORT("kernel_sort") uint64_t g_kernel_sort(uint32_t n) { return kernel_sort(n); }
