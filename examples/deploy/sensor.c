/*
 * sensor.c - the sensor of the example deployment (examples/deploy/).
 *
 *   sensor COUNT INTERVAL_MS
 *
 * Waits for the aggregator to say it listens, then publishes COUNT
 * temperature readings as events ("reading N CELSIUS"), one every
 * INTERVAL_MS: an ordinary reading at priority 10, one above 24.0 degrees
 * (an alarm) at 200, so that a subscriber polls alarms first.  Ends with a
 * "done" event.  The readings are simulated (the HAL's random numbers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

static int fail(const char *what, elastic_string_t *e) {
  fprintf(stderr, "sensor: %s: %.*s\n", what, (int)e->len, e->ptr);
  elastic_string_free(e);
  return 1;
}

static bool publish(uint8_t priority, const char *text, elastic_string_t *e) {
  return elastic_events_publish(ELASTIC_EVENTS_EVENT_TYPE_PLATFORM, priority,
                                (elastic_bytes_t){(uint8_t *)text, strlen(text)}, e);
}

int main(int argc, char **argv) {
  int count = argc > 1 ? atoi(argv[1]) : 20;
  uint64_t interval_ms = argc > 2 ? strtoull(argv[2], NULL, 10) : 50;
  elastic_string_t e;
  elastic_communication_option_message_t m;
  /* the aggregator's "ready": published events reach only subscriptions
   * that exist when they are published */
  if (!elastic_communication_receive_message_timeout(10000, &m, &e))
    return fail("waiting for the aggregator", &e);
  if (!m.is_some) {
    fprintf(stderr, "sensor: nobody listens; not publishing\n");
    return 1;
  }
  elastic_communication_option_message_free(&m);
  for (int i = 0; i < count; i++) {
    elastic_bytes_t noise;
    if (!elastic_random_get_random_bytes(1, &noise, &e)) return fail("random", &e);
    int tenths = 200 + (noise.ptr[0] % 50); /* 20.0 to 24.9 degrees */
    elastic_bytes_free(&noise);
    char text[64];
    snprintf(text, sizeof text, "reading %d %d.%d", i, tenths / 10, tenths % 10);
    if (!publish(tenths > 240 ? 200 : 10, text, &e)) return fail("publish", &e);
    printf("published %s%s\n", text, tenths > 240 ? " (alarm)" : "");
    if (!elastic_clock_sleep(interval_ms * 1000000ull, &e)) return fail("sleep", &e);
  }
  if (!publish(0, "done", &e)) return fail("publish", &e);
  printf("sensor: %d readings published\n", count);
  return 0;
}
