/*
 * hello - the smallest useful ELASTIC TEE HAL workload: prints where it runs,
 * what the HAL offers, a few random bytes and the time.
 *
 * Build: clang --target=wasm32-wasi -I build/gen/guest hello.c \
 *          build/gen/guest/elastic_hal_guest.c -o hello.wasm
 * Run:   build/elastic-hal run hello.wasm
 */
#include <stdio.h>
#include <stdlib.h>

#include "elastic_hal_guest.h"

static void print_str(const char *label, elastic_string_t s) {
  printf("%s%.*s\n", label, (int)s.len, s.ptr);
}

int main(void) {
  elastic_platform_platform_info_t info;
  elastic_platform_get_platform_info(&info);
  print_str("platform:    ", info.platform_type);
  print_str("version:     ", info.version);
  printf("attestation: %s\n", info.attestation_support ? "supported" : "unsupported");
  elastic_platform_platform_info_free(&info); /* every result that owns memory has one */

  elastic_capabilities_list_capability_info_t caps;
  elastic_capabilities_list_capabilities(&caps);
  size_t supported = 0;
  for (size_t i = 0; i < caps.len; i++)
    if (caps.ptr[i].supported) supported++;
  printf("capabilities: %zu of %zu supported", supported, caps.len);
  printf(" (random: %s, sockets: %s)\n",
         elastic_capabilities_has_capability(elastic_string("random")) ? "yes" : "no",
         elastic_capabilities_has_capability(elastic_string("sockets")) ? "yes" : "no");
  elastic_capabilities_list_capability_info_free(&caps); /* the list and its strings */

  elastic_bytes_t bytes;
  elastic_string_t err;
  if (!elastic_random_get_random_bytes(16, &bytes, &err)) {
    fprintf(stderr, "random: %.*s\n", (int)err.len, err.ptr);
    return 1;
  }
  printf("random:      ");
  for (size_t i = 0; i < bytes.len; i++) printf("%02x", bytes.ptr[i]);
  printf("\n");
  elastic_bytes_free(&bytes);

  elastic_clock_system_time_t now;
  if (!elastic_clock_get_system_time(&now, &err)) {
    fprintf(stderr, "clock: %.*s\n", (int)err.len, err.ptr);
    return 1;
  }
  uint64_t res = 0;
  elastic_clock_resolution(&res, &err);
  printf("time:        %llu.%09u s since the epoch (resolution %llu ns)\n",
         (unsigned long long)now.seconds, now.nanoseconds, (unsigned long long)res);
  return 0;
}
