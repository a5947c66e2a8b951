/*
 * test_deploy.c - the pieces of a deployment without processes: the
 * broker's queues, shares, events and resources; the supervisor's side of
 * the channel against malformed and forged frames; the audit log's chain.
 * (tests/cli/serve.sh runs whole deployments.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deploy/audit.h"
#include "deploy/bus.h"
#include "deploy/manifest.h"
#include "tap.h"

static ehal_broker *three(const ehal_broker_limits *lim) {
  const char *names[] = {"alpha", "beta", "gamma"};
  return ehal_broker_new(names, 3, lim);
}

static int send(ehal_broker *b, int from, const char *to, size_t len, char *err) {
  static uint8_t buf[1 << 16];
  uint64_t h;
  return ehal_broker_send(b, from, to, strlen(to), buf, len, false, &h, err, 512);
}

static void test_messages(void) {
  ehal_broker_limits lim = {.queue_messages = 4};
  ehal_broker *b = three(&lim);
  char err[512];
  ehal_broker_allow_message(b, 0, 2);
  ehal_broker_allow_message(b, 1, 2);
  TAP_OK(send(b, 0, "beta", 1, err) == -1 && strstr(err, "no workload 'beta' that alpha may"),
         "broker: a send the policy does not allow is refused");
  TAP_OK(send(b, 0, "ghost", 1, err) == -1 && strstr(err, "no workload 'ghost' that alpha may"),
         "broker: ... exactly like one to a workload that does not exist");
  TAP_OK(send(b, 0, "gamma", 1, err) == 0 && send(b, 0, "gamma", 2, err) == 0 &&
             send(b, 0, "gamma", 3, err) == -1 && strstr(err, "alpha's share of the queue"),
         "broker: two senders share a queue of 4: the third of one sender is refused");
  TAP_OK(send(b, 1, "gamma", 4, err) == 0 && send(b, 1, "gamma", 5, err) == 0,
         "broker: the other sender still gets its share");
  size_t order[4] = {0};
  for (int i = 0; i < 4; i++) {
    ehal_message *m = ehal_broker_receive(b, 2);
    order[i] = m ? m->len : 0;
    free(m);
  }
  TAP_OK(order[0] == 1 && order[1] == 2 && order[2] == 4 && order[3] == 5 &&
             !ehal_broker_receive(b, 2),
         "broker: messages come out in the order they went in");
  TAP_OK(send(b, 0, "gamma", 1, err) == 0, "broker: receiving frees the sender's share");
  ehal_broker_set_gone(b, 2, true);
  TAP_OK(!ehal_broker_has_message(b, 2) && send(b, 0, "gamma", 1, err) == -1 &&
             strstr(err, "has ended and will not run again"),
         "broker: a workload gone for good: its queue emptied, sends refused");
  ehal_broker_free(b);
}

static void test_events(void) {
  ehal_broker_limits lim = {.event_queue = 8, .event_bytes = 100000};
  ehal_broker *b = three(&lim);
  char err[512];
  uint64_t h, h2;
  TAP_OK(ehal_broker_subscribe(b, 1, 0, "alpha", 5, true, &h, err, sizeof err) == -1 &&
             strstr(err, "no workload 'alpha' whose events beta may hear"),
         "events: subscribing to a workload one may not hear is refused");
  ehal_broker_allow_events(b, 1, 0);
  TAP_OK(ehal_broker_subscribe(b, 1, 0, "alpha", 5, true, &h, err, sizeof err) == 0 &&
             ehal_broker_subscribe(b, 1, 0, NULL, 0, false, &h2, err, sizeof err) == 0,
         "events: once the policy allows it, it can subscribe");
  static uint8_t big[40000];
  ehal_broker_emit(b, 0, 0, 5, true, "five", 4);
  ehal_broker_emit(b, 0, 0, 200, true, "two-hundred", 11);
  ehal_broker_emit(b, 0, 0, 5, true, big, sizeof big);
  ehal_broker_emit(b, 0, 0, 5, true, big, sizeof big);
  ehal_broker_emit(b, 0, 0, 5, true, big, sizeof big); /* past the 100000-byte budget */
  ehal_broker_emit(b, 2, 0, 9, true, "not-heard", 9);
  ehal_event **ev;
  size_t n;
  ehal_broker_poll(b, 1, h2, &ev, &n, err, sizeof err);
  TAP_OK(n == 0, "events: published events never reach a subscription to the HAL's own");
  ehal_broker_events_free(ev, n);
  TAP_OK(ehal_broker_poll(b, 1, h, &ev, &n, err, sizeof err) == 0 && n == 5 &&
             ev[0]->priority == 255 && strstr((char *)ev[0]->data, "\"dropped\":1") &&
             ev[1]->priority == 200 && ev[2]->len == 4 && ev[3]->len == sizeof big &&
             !strcmp(ev[1]->source, "alpha"),
         "events: overflow first (the byte budget), then priority, then age");
  ehal_broker_events_free(ev, n);
  TAP_OK(
      ehal_broker_poll(b, 0, h, &ev, &n, err, sizeof err) == -1 && strstr(err, "no subscription"),
      "events: another workload's handle is no handle");
  ehal_broker_reset(b, 1);
  TAP_OK(ehal_broker_poll(b, 1, h, &ev, &n, err, sizeof err) == -1,
         "events: a run's end ends its subscriptions");
  ehal_broker_free(b);
}

static void test_resources(void) {
  ehal_broker *b = three(NULL);
  for (int w = 0; w < 3; w++)
    ehal_broker_set_resource(b, w, EHAL_RES_MEMORY, 1 << 20, 4 << 20, w == 2 ? 255 : 50);
  ehal_broker_set_total(b, EHAL_RES_MEMORY, 8 << 20);
  char id[EHAL_ALLOC_ID_LEN + 1], id2[EHAL_ALLOC_ID_LEN + 1], err[512];
  uint64_t got, avail;
  TAP_OK(ehal_broker_allocate(b, 0, EHAL_RES_MEMORY, 1, 255, id, &got, err, sizeof err) == 0 &&
             got == 65536 && strlen(id) == EHAL_ALLOC_ID_LEN,
         "resources: memory is granted in whole pages, with a 32-hex id");
  TAP_OK(ehal_broker_allocate(b, 1, EHAL_RES_MEMORY, 1, 50, id2, &got, err, sizeof err) == 0 &&
             strcmp(id, id2),
         "resources: ids differ");
  TAP_OK(
      ehal_broker_allocate(b, 0, EHAL_RES_MEMORY, 3 << 20, 50, id2, &got, err, sizeof err) == -1 &&
          strstr(err, "above its ceiling"),
      "resources: the ceiling holds");
  ehal_broker_available(b, 0, EHAL_RES_MEMORY, &avail, err, sizeof err);
  TAP_OK(avail == (3 << 20) - 65536, "resources: available: the headroom under the ceiling");
  TAP_OK(ehal_broker_allocate(b, 1, EHAL_RES_MEMORY, 47 << 16, 255, id2, &got, err, sizeof err) ==
                 -1 &&
             strstr(err, "priority 128 or more may take (this one has 50)"),
         "resources: the last quarter of the total: not for a workload capped at 50");
  TAP_OK(ehal_broker_allocate(b, 2, EHAL_RES_MEMORY, 3 << 20, 200, id2, &got, err, sizeof err) == 0,
         "resources: ... but for one whose requests may carry 200");
  int type;
  uint64_t amount;
  TAP_OK(ehal_broker_deallocate(b, 1, id, strlen(id), &type, &amount, err, sizeof err) == -1,
         "resources: another workload's allocation id is refused");
  TAP_OK(ehal_broker_deallocate(b, 0, id, strlen(id), &type, &amount, err, sizeof err) == 0 &&
             type == EHAL_RES_MEMORY && amount == 65536,
         "resources: its own is given back");
  TAP_OK(ehal_broker_allocate(b, 0, EHAL_RES_CPU, 1, 1, id, &got, err, sizeof err) == -1 &&
             strstr(err, "cpu allocations are not supported") &&
             ehal_broker_allocate(b, 0, 9, 1, 1, id, &got, err, sizeof err) == -1,
         "resources: cpu and unknown types are refused");
  ehal_broker_free(b);
}

/* A frame body from its bytes. */
static int serve(ehal_broker *b, int who, const void *body, size_t len, ehal_wire_out *out) {
  uint64_t wait;
  return ehal_bus_serve(b, who, body, len, out, &wait);
}

static void test_channel(void) {
  ehal_broker *b = three(NULL);
  ehal_broker_allow_events(b, 1, 0);
  uint64_t h;
  char err[512];
  ehal_broker_subscribe(b, 1, 1, NULL, 0, false, &h, err, sizeof err);
  ehal_wire_out out = {0}, req = {0};
  TAP_OK(serve(b, 0, "\x63", 1, &out) == -1, "channel: an unknown op is a violation");
  TAP_OK(serve(b, 0, "\x01\x05\x00", 3, &out) == -1, "channel: a truncated send is a violation");
  uint8_t list_extra[] = {3, 0};
  TAP_OK(serve(b, 0, list_extra, 2, &out) == -1, "channel: trailing bytes are a violation");
  const char *forged = "{\"event\":\"workload-stopped\",\"workload\":\"beta\"}";
  ehal_wire_begin(&req, 7);
  ehal_wire_u8(&req, 1);
  ehal_wire_u8(&req, 9);
  ehal_wire_u8(&req, 0);
  ehal_wire_str(&req, forged);
  TAP_OK(serve(b, 0, req.buf + 4, req.len - 4, &out) == -1,
         "channel: a runtime cannot emit the supervisor's events as the HAL's");
  ehal_wire_begin(&req, 7);
  ehal_wire_u8(&req, 1);
  ehal_wire_u8(&req, 9);
  ehal_wire_u8(&req, 0);
  ehal_wire_str(&req, "{\"event\":\"key-created\",\"workload\":\"beta\",\"algorithm\":\"x\"}");
  ehal_event **ev;
  size_t n = 0;
  TAP_OK(serve(b, 0, req.buf + 4, req.len - 4, &out) == 0 &&
             ehal_broker_poll(b, 1, h, &ev, &n, err, sizeof err) == 0 && n == 1 &&
             strstr((char *)ev[0]->data, "\"workload\":\"alpha\"") && ev[0]->priority == 128,
         "channel: a runtime's key-created is heard with its true name, at the HAL's priority");
  ehal_broker_events_free(ev, n);
  ehal_wire_free(&req);
  ehal_wire_free(&out);
  ehal_broker_free(b);
}

static void test_audit(void) {
  char dir[] = "/tmp/ehal-test-audit-XXXXXX", path[256], err[512];
  if (!mkdtemp(dir)) return;
  snprintf(path, sizeof path, "%s/a.log", dir);
  uint8_t key[EHAL_AUDIT_KEY_LEN] = {7};
  ehal_audit *a = ehal_audit_open(path, "d", key, err, sizeof err);
  TAP_OK(a && ehal_audit_record(a, "w", "first", "{\"x\":1}") == 0 &&
             ehal_audit_record(a, "w", "second", NULL) == 0,
         "audit: records are written");
  ehal_audit_close(a);
  a = ehal_audit_open(path, "d", key, err, sizeof err);
  TAP_OK(a && ehal_audit_record(a, "w", "third", NULL) == 0, "audit: a reopened log continues");
  ehal_audit_close(a);
  size_t len = 0;
  FILE *f = fopen(path, "r");
  char text[4096];
  if (f) len = fread(text, 1, sizeof text, f), fclose(f);
  long count = 0;
  TAP_OK(ehal_audit_verify_mem(text, len, "d", key, &count, err, sizeof err) == 0 && count == 3,
         "audit: three records, chained across the reopen");
  TAP_OK(ehal_audit_verify_mem(text, len, "other", key, &count, err, sizeof err) == 1 &&
             strstr(err, "another deployment"),
         "audit: the log of one deployment is not another's");
  uint8_t wrong[EHAL_AUDIT_KEY_LEN] = {8};
  a = ehal_audit_open(path, "d", wrong, err, sizeof err);
  TAP_OK(!a && strstr(err, "its last record does not verify"),
         "audit: a log whose end does not verify under the key is not continued");
  ehal_audit_close(a);
  unlink(path);
  rmdir(dir);
}

static void test_manifest(void) {
  const char *ok =
      "{\"name\":\"m\",\"workloads\":[{\"name\":\"a\",\"module\":\"/dev/null\","
      "\"policy\":{\"message\":[\"*\"]}},{\"name\":\"b\",\"module\":\"/dev/null\"}]}";
  ehal_manifest *m = ehal_manifest_parse("/x/m.json", ok, strlen(ok), NULL);
  ehal_broker *b = m ? ehal_manifest_broker(m) : NULL;
  TAP_OK(m && m->n == 2 && b && ehal_broker_may_message(b, 0, 1) &&
             !ehal_broker_may_message(b, 0, 0) && !ehal_broker_may_message(b, 1, 0),
         "manifest: \"*\" allows every other workload, never itself");
  ehal_broker_free(b);
  ehal_manifest_free(m);
  const char *bad[] = {"{\"limits\":1,\"workloads\":[]}", "[]", "{\"workloads\":[{}]}",
                       "{\"workloads\":[{\"name\":\"a\",\"module\":\"/dev/null\",\"env\":[1]}]}"};
  bool all = true;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    all &= ehal_manifest_parse("/x/m.json", bad[i], strlen(bad[i]), NULL) == NULL;
  TAP_OK(all, "manifest: malformed manifests are refused");
}

int main(void) {
  test_messages();
  test_events();
  test_resources();
  test_channel();
  test_audit();
  test_manifest();
  return tap_done();
}
