/*
 * deploy_bench_guest.c - the workloads of bench/deploy_bench.c, one command
 * each, in one deployment:
 *
 *   ping N SIZE    N timed round trips of SIZE-byte messages to "pong"
 *                  (after 100 untimed): prints "rtt SIZE NS_PER_ROUND_TRIP"
 *   pong N         echoes N + 100 messages back to their sender
 *   stream N SIZE  sends N SIZE-byte messages to "sink" (retrying while its
 *                  queue is full), then waits for its "ack": "stream SIZE NS_TOTAL"
 *   sink N         receives N messages, then sends "ack"
 *   pub N          waits for "ready", then N times: publishes an event whose
 *                  payload is the monotonic time, waits for "ack"
 *   sub N          subscribes to pub's published events, says "ready", then
 *                  polls for each event and acks it: "event NS_AVG_LATENCY"
 *
 * Times are CLOCK_MONOTONIC, the same clock in every process of the VM.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "elastic_hal_guest.h"

#define WARMUP 100

static uint64_t now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, elastic_string_t *e) {
  fprintf(stderr, "%s: %.*s\n", what, (int)e->len, e->ptr);
  exit(1);
}

/* Sends; with retry, waits while the recipient's queue is full. */
static void send(const char *to, const uint8_t *p, size_t n, bool retry) {
  elastic_communication_message_handle_t h;
  elastic_string_t e;
  while (!elastic_communication_send_message(elastic_string(to), (elastic_bytes_t){(uint8_t *)p, n},
                                             false, &h, &e)) {
    if (!retry || !strstr((const char *)e.ptr, "is full")) die("send", &e);
    elastic_string_free(&e);
    elastic_clock_sleep(20000, &e);
  }
}

/* Waits for the next message (its sender copied into from). */
static void receive(char *from, size_t cap) {
  elastic_communication_option_message_t m;
  elastic_string_t e;
  if (!elastic_communication_receive_message_timeout(10000, &m, &e)) die("receive", &e);
  if (!m.is_some) {
    fprintf(stderr, "receive: nothing for 10 s\n");
    exit(1);
  }
  if (from) snprintf(from, cap, "%.*s", (int)m.val.sender.len, m.val.sender.ptr);
  elastic_communication_option_message_free(&m);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  long n = argc > 2 ? atol(argv[2]) : 1000;
  size_t size = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
  uint8_t *buf = calloc(1, size ? size : 1);
  elastic_string_t e;
  if (!strcmp(mode, "ping")) {
    uint64_t t0 = 0;
    for (long i = 0; i < n + WARMUP; i++) {
      if (i == WARMUP) t0 = now();
      send("pong", buf, size, false);
      receive(NULL, 0);
    }
    printf("rtt %zu %llu\n", size, (unsigned long long)((now() - t0) / (uint64_t)n));
  } else if (!strcmp(mode, "pong")) {
    for (long i = 0; i < n + WARMUP; i++) {
      elastic_communication_option_message_t m;
      if (!elastic_communication_receive_message_timeout(10000, &m, &e) || !m.is_some) return 1;
      char to[64];
      snprintf(to, sizeof to, "%.*s", (int)m.val.sender.len, m.val.sender.ptr);
      send(to, m.val.payload.ptr, m.val.payload.len, false);
      elastic_communication_option_message_free(&m);
    }
  } else if (!strcmp(mode, "stream")) {
    uint64_t t0 = now();
    for (long i = 0; i < n; i++) send("sink", buf, size, true);
    receive(NULL, 0);
    printf("stream %zu %llu\n", size, (unsigned long long)(now() - t0));
  } else if (!strcmp(mode, "sink")) {
    char from[64] = "";
    for (long i = 0; i < n; i++) receive(from, sizeof from);
    send(from, (const uint8_t *)"ack", 3, false);
  } else if (!strcmp(mode, "pub")) {
    receive(NULL, 0);
    for (long i = 0; i < n; i++) {
      char t[32];
      snprintf(t, sizeof t, "%llu", (unsigned long long)now());
      if (!elastic_events_publish(ELASTIC_EVENTS_EVENT_TYPE_PLATFORM, 10,
                                  (elastic_bytes_t){(uint8_t *)t, strlen(t)}, &e))
        die("publish", &e);
      receive(NULL, 0);
    }
  } else if (!strcmp(mode, "sub")) {
    elastic_events_event_subscription_handle_t sub;
    if (!elastic_events_subscribe_to(ELASTIC_EVENTS_EVENT_TYPE_PLATFORM, elastic_string("pub"),
                                     true, &sub, &e))
      die("subscribe", &e);
    send("pub", (const uint8_t *)"ready", 5, false);
    uint64_t total = 0;
    for (long got = 0; got < n;) {
      elastic_events_list_event_envelope_t l;
      if (!elastic_events_poll_envelopes(sub, &l, &e)) die("poll", &e);
      uint64_t t = now();
      for (size_t i = 0; i < l.len; i++, got++) {
        char s[32];
        snprintf(s, sizeof s, "%.*s", (int)l.ptr[i].event.payload.len,
                 (const char *)l.ptr[i].event.payload.ptr);
        total += t - strtoull(s, NULL, 10);
        send("pub", (const uint8_t *)"ack", 3, false);
      }
      elastic_events_list_event_envelope_free(&l);
    }
    printf("event %llu\n", (unsigned long long)(total / (uint64_t)n));
  } else {
    fprintf(stderr, "usage: ping|pong|stream|sink|pub|sub N [SIZE]\n");
    return 2;
  }
  free(buf);
  return 0;
}
