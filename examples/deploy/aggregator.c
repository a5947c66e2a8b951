/*
 * aggregator.c - the aggregator of the example deployment (examples/deploy/).
 *
 *   aggregator WINDOW
 *
 * Subscribes to the events the sensor publishes, tells the sensor it
 * listens, and folds every WINDOW readings into a summary (count, min, max,
 * mean, alarms) that it sends to the store workload as a sealed message
 * (encrypt = true: only the store's runtime can open it).  On the sensor's
 * "done" it sends what is left and "done".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

static int fail(const char *what, elastic_string_t *e) {
  fprintf(stderr, "aggregator: %s: %.*s\n", what, (int)e->len, e->ptr);
  elastic_string_free(e);
  return 1;
}

static bool send(const char *to, const char *text, elastic_string_t *e) {
  elastic_communication_message_handle_t h;
  return elastic_communication_send_message(
      elastic_string(to), (elastic_bytes_t){(uint8_t *)text, strlen(text)}, true, &h, e);
}

typedef struct {
  int n, alarms, window;
  double min, max, sum;
} summary;

static bool flush(summary *s, elastic_string_t *e) {
  if (s->n == 0) return true;
  char text[160];
  snprintf(text, sizeof text, "window %d: %d readings, min %.1f, max %.1f, mean %.2f, alarms %d",
           s->window, s->n, s->min, s->max, s->sum / s->n, s->alarms);
  printf("aggregator: %s\n", text);
  int window = s->window + 1;
  *s = (summary){.window = window};
  return send("store", text, e);
}

int main(int argc, char **argv) {
  int per_window = argc > 1 ? atoi(argv[1]) : 5;
  elastic_string_t e;
  elastic_events_event_subscription_handle_t sub;
  if (!elastic_events_subscribe_to(ELASTIC_EVENTS_EVENT_TYPE_PLATFORM, elastic_string("sensor"),
                                   true, &sub, &e))
    return fail("subscribe", &e);
  if (!send("sensor", "ready", &e)) return fail("send", &e);
  summary s = {0};
  for (int idle = 0; idle < 600; idle++) { /* 30 s without the sensor's "done": give up */
    elastic_events_list_event_envelope_t evs;
    if (!elastic_events_poll_envelopes(sub, &evs, &e)) return fail("poll", &e);
    bool done = false;
    for (size_t i = 0; i < evs.len; i++) {
      elastic_events_event_envelope_t *ev = &evs.ptr[i];
      char text[128];
      snprintf(text, sizeof text, "%.*s", (int)ev->event.payload.len,
               (const char *)ev->event.payload.ptr);
      int n;
      double v;
      if (!strcmp(text, "done")) {
        done = true;
      } else if (sscanf(text, "reading %d %lf", &n, &v) == 2) {
        if (s.n == 0 || v < s.min) s.min = v;
        if (s.n == 0 || v > s.max) s.max = v;
        s.sum += v;
        s.alarms += ev->priority >= 200;
        if (++s.n == per_window && !flush(&s, &e)) return fail("send", &e);
      }
      idle = 0;
    }
    elastic_events_list_event_envelope_free(&evs);
    if (done) {
      if (!flush(&s, &e) || !send("store", "done", &e)) return fail("send", &e);
      return 0;
    }
    if (!elastic_clock_sleep(50000000ull, &e)) return fail("sleep", &e);
  }
  fprintf(stderr, "aggregator: the sensor went quiet\n");
  return 1;
}
