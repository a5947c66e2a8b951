/*
 * caps_guest.c - imports only elastic:capabilities, so it links in every
 * world that has capabilities; tests/unit/test_abi.c instantiates it in
 * several worlds and checks that capabilities reports what that world links.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

#define EXPORT(name) __attribute__((export_name(name)))

/* Keep in step with caps_names[] in tests/unit/test_abi.c. */
static const char *const names[] = {
    "platform",
    "platform.get-platform-info",
    "platform.attestation",
    "capabilities",
    "random",
    "random.get-random-bytes",
    "clock",
    "clock.sleep",
    "storage",
    "crypto",
    "unimplemented", /* test-only (tests/wit/unimplemented.wit): never supported */
    "wasi-preview1",
    "sockets.tcp", /* a protocol of sockets: supported where sockets is linked */
};

int main(void) { return 0; }

/* 1 or 0 from has-capability for names[i]; -1 past the table. */
EXPORT("has_cap") int has_cap(int i) {
  if (i < 0 || (size_t)i >= sizeof names / sizeof names[0]) return -1;
  return elastic_capabilities_has_capability(elastic_string(names[i]));
}

/* 0 when list-capabilities lists names[i] with the flag has-capability
 * gives, and every row agrees with has-capability; else a line number. */
EXPORT("list_agrees") int list_agrees(void) {
  elastic_capabilities_list_capability_info_t caps;
  elastic_capabilities_list_capabilities(&caps);
  int rc = 0;
  for (size_t i = 0; i < caps.len && !rc; i++)
    if (elastic_capabilities_has_capability(caps.ptr[i].feature_name) != caps.ptr[i].supported)
      rc = __LINE__;
  for (size_t k = 0; k < sizeof names / sizeof names[0] && !rc; k++) {
    size_t n = strlen(names[k]);
    int found = 0;
    for (size_t i = 0; i < caps.len; i++)
      if (caps.ptr[i].feature_name.len == n && !memcmp(caps.ptr[i].feature_name.ptr, names[k], n))
        found++;
    if (found != 1) rc = __LINE__;
  }
  for (size_t i = 0; i < caps.len; i++) {
    elastic_string_free(&caps.ptr[i].feature_name);
    elastic_string_free(&caps.ptr[i].version);
  }
  free(caps.ptr);
  return rc;
}
