/*
 * fuzz_deploy.c - libFuzzer harness for the readers of a deployment's
 * untrusted bytes (tests/fuzz/run.sh builds and runs it):
 *
 *   byte 0 % 3 == 0   frames from workload runtimes, served by the
 *                     supervisor's side of the channel (src/deploy/bus.c)
 *                     against a broker of three workloads: each frame a
 *                     u16 length, then the body, from workload byte % 3;
 *                     answers must be whole frames, waits bounded
 *   byte 0 % 3 == 1   an audit log (src/deploy/audit.c): verify must give a
 *                     reason for any record it calls broken
 *   byte 0 % 3 == 2   a manifest (src/deploy/manifest.c)
 *
 * Invariants beyond "no crash, no leak": a served request yields either a
 * well-formed answer frame or a protocol violation, never both nor a
 * half-built frame.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/deploy/audit.h"
#include "../../src/deploy/bus.h"
#include "../../src/deploy/manifest.h"
#include "../../src/util/byteorder.h"

static void frames(const uint8_t *p, size_t n) {
  const char *names[] = {"alpha", "beta", "gamma"};
  ehal_broker_limits lim = {
      .queue_messages = 8, .queue_bytes = 1u << 21, .event_queue = 4, .subscriptions = 4};
  ehal_broker *b = ehal_broker_new(names, 3, &lim);
  if (!b) return;
  ehal_broker_allow_message(b, 0, 1);
  ehal_broker_allow_message(b, 1, 0);
  ehal_broker_allow_events(b, 2, 0);
  for (int w = 0; w < 3; w++) {
    ehal_broker_set_resource(b, w, EHAL_RES_MEMORY, 1u << 20, 4u << 20, 100);
    ehal_broker_set_resource(b, w, EHAL_RES_STORAGE, 1u << 20, 2u << 20, 200);
  }
  ehal_broker_set_total(b, EHAL_RES_MEMORY, 8u << 20);
  ehal_wire_out out = {0};
  while (n >= 3) {
    int who = p[0] % 3;
    size_t len = ehal_get_u16(p + 1);
    p += 3;
    n -= 3;
    if (len > n) len = n;
    uint64_t wait = 0;
    int rc = ehal_bus_serve(b, who, p, len, &out, &wait);
    if (rc == 0) {
      size_t k = ehal_wire_end(&out);
      if (k < 5 || ehal_get_u32(out.buf) != k - 4) abort(); /* a whole frame */
    } else if (rc == 1) {
      ehal_bus_answer_receive(b, who, &out);
      if (!ehal_wire_end(&out)) abort();
    } else if (rc != -1) {
      abort();
    }
    p += len;
    n -= len;
  }
  for (int w = 0; w < 3; w++) ehal_broker_reset(b, w);
  ehal_wire_free(&out);
  ehal_broker_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  switch (data[0] % 3) {
    case 0: frames(p, n); break;
    case 1: {
      uint8_t key[EHAL_AUDIT_KEY_LEN] = {1, 2, 3};
      char err[512] = "";
      long count = 0;
      long broken = ehal_audit_verify_mem((const char *)p, n, "t1", key, &count, err, sizeof err);
      if (broken < 0 || broken > count || (broken > 0 && !err[0])) abort();
      break;
    }
    case 2:
      ehal_manifest_free(ehal_manifest_parse("/fuzz/m.json", (const char *)p, n, NULL));
      break;
  }
  return 0;
}
