/*
 * store.c - the store of the example deployment (examples/deploy/).
 *
 * Receives the aggregator's summaries and keeps each in encrypted storage
 * (container "summaries", key "window-N"); on "done" it reads them all
 * back from storage and prints them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

static int fail(const char *what, elastic_string_t *e) {
  fprintf(stderr, "store: %s: %.*s\n", what, (int)e->len, e->ptr);
  elastic_string_free(e);
  return 1;
}

int main(void) {
  elastic_string_t e;
  elastic_storage_container_handle_t c;
  if (!elastic_storage_open_container(elastic_string("summaries"), &c, &e)) {
    elastic_string_free(&e);
    if (!elastic_storage_create_container(elastic_string("summaries"), &c, &e))
      return fail("create container", &e);
  }
  int stored = 0;
  for (;;) {
    elastic_communication_option_message_t m;
    if (!elastic_communication_receive_message_timeout(10000, &m, &e)) return fail("receive", &e);
    if (!m.is_some) {
      fprintf(stderr, "store: no message for 10 s\n");
      return 1;
    }
    elastic_communication_message_t *msg = &m.val;
    bool done = msg->payload.len == 4 && !memcmp(msg->payload.ptr, "done", 4);
    if (!done) {
      char key[32];
      snprintf(key, sizeof key, "window-%02d", stored);
      elastic_storage_object_handle_t h;
      if (!elastic_storage_store_object(c, elastic_string(key), msg->payload, &h, &e))
        return fail("store", &e);
      printf("store: kept %s from %.*s (sealed in transit: %s)\n", key, (int)msg->sender.len,
             msg->sender.ptr, msg->encrypted ? "yes" : "no");
      stored++;
    }
    elastic_communication_option_message_free(&m);
    if (done) break;
  }
  printf("store: %d summaries, read back from encrypted storage:\n", stored);
  for (int i = 0; i < stored; i++) {
    char key[32];
    snprintf(key, sizeof key, "window-%02d", i);
    elastic_bytes_t data;
    if (!elastic_storage_retrieve_object(c, elastic_string(key), &data, &e))
      return fail("retrieve", &e);
    printf("  %s  %.*s\n", key, (int)data.len, (const char *)data.ptr);
    elastic_bytes_free(&data);
  }
  return 0;
}
