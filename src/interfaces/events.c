/*
 * events.c - elastic:events: subscriptions to the events of the HAL and of
 * the workloads of a deployment (docs/deployment.md lists the HAL's).
 *
 * Subscriptions live where the deployment's events are delivered: in the
 * broker behind the workload's bus (src/deploy/bus.h), with handles of
 * this workload alone.  The 0.1.0 subscribe hears the HAL's own events
 * about this workload and the workloads the policy lets it hear; events a
 * workload publishes (0.1.1) reach only subscriptions that ask for them
 * (subscribe-to with published), so that no workload can pass its events
 * off as the HAL's to a 0.1.0 subscriber.
 */
#include <stdlib.h>
#include <string.h>

#include "../deploy/bus.h"
#include "interfaces.h"

static struct ehal_bus *bus_of(ehal_instance *inst, ehal_str *why) {
  struct ehal_bus *bus = ehal_instance_bus(inst);
  if (!bus) *why = EHAL_STR("out of memory");
  return bus;
}

#define NEED_BUS(ret)                               \
  struct ehal_bus *bus = bus_of(inst, &(ret)->err); \
  if (!bus) {                                       \
    (ret)->is_err = true;                           \
    return;                                         \
  }

static void subscribe(ehal_instance *inst, uint8_t type, const char *source, size_t source_len,
                      bool published, ehal_events_result_event_subscription_handle_string_t *ret) {
  if (type >= EHAL_EVENT_TYPES) EHAL_FAIL(ret, "no event type %u", type);
  NEED_BUS(ret);
  char err[512];
  if (bus->ops->subscribe(bus, type, source, source_len, published, &ret->val, err, sizeof err) !=
      0)
    EHAL_FAIL(ret, "%s", err);
}

void ehal_impl_events_subscribe(ehal_instance *inst, ehal_events_event_type_t event_type,
                                ehal_events_result_event_subscription_handle_string_t *ret) {
  subscribe(inst, event_type, NULL, 0, false, ret);
}

void ehal_impl_events_subscribe_to(ehal_instance *inst, ehal_events_event_type_t event_type,
                                   ehal_str source, bool published,
                                   ehal_events_result_event_subscription_handle_string_t *ret) {
  if (source.len > 255) EHAL_FAIL(ret, "no workload of that name in this deployment");
  subscribe(inst, event_type, source.len ? source.ptr : NULL, source.len, published, ret);
}

void ehal_impl_events_unsubscribe(ehal_instance *inst, uint64_t handle,
                                  ehal_events_result_void_string_t *ret) {
  NEED_BUS(ret);
  char err[512];
  if (bus->ops->unsubscribe(bus, handle, err, sizeof err) != 0) EHAL_FAIL(ret, "%s", err);
}

void ehal_impl_events_publish(ehal_instance *inst, ehal_events_event_type_t event_type,
                              uint8_t priority, ehal_bytes payload,
                              ehal_events_result_void_string_t *ret) {
  if (event_type >= EHAL_EVENT_TYPES) EHAL_FAIL(ret, "no event type %u", event_type);
  if (payload.len > EHAL_EVENT_PAYLOAD_MAX)
    EHAL_FAIL(ret, "an event's payload is at most %u bytes, not %zu", EHAL_EVENT_PAYLOAD_MAX,
              payload.len);
  NEED_BUS(ret);
  char err[512];
  if (bus->ops->publish(bus, event_type, priority, true, payload.ptr, payload.len, err,
                        sizeof err) != 0)
    EHAL_FAIL(ret, "%s", err);
}

/* Takes the subscription's pending events (ehal_broker_events_free them);
 * on failure NULL with *failed set and why said. */
static ehal_event **take(ehal_instance *inst, uint64_t handle, size_t *n, ehal_str *why,
                         bool *failed) {
  struct ehal_bus *bus = bus_of(inst, why);
  if (!bus) {
    *failed = true;
    return NULL;
  }
  ehal_event **ev;
  char err[512];
  if (bus->ops->poll(bus, handle, &ev, n, err, sizeof err) != 0) {
    *why = ehal_str_fmt(inst, "%s", err);
    *failed = true;
    return NULL;
  }
  return ev;
}

/* The event's data, its payload copied into the arena (false: no memory). */
static bool event_data(ehal_instance *inst, const ehal_event *e, ehal_events_event_data_t *d) {
  uint8_t *p = ehal_arena_alloc(inst, e->len ? e->len : 1);
  if (!p) return false;
  memcpy(p, e->data, e->len);
  *d = (ehal_events_event_data_t){e->type, e->timestamp_ns, {p, e->len}};
  return true;
}

void ehal_impl_events_poll_events(ehal_instance *inst, uint64_t handle,
                                  ehal_events_result_list_event_data_string_t *ret) {
  size_t n = 0;
  ehal_event **ev = take(inst, handle, &n, &ret->err, &ret->is_err);
  if (ret->is_err) return;
  ehal_events_event_data_t *out = ehal_stage(inst, n ? n : 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++)
    if (!event_data(inst, ev[i], &out[i])) out = NULL;
  ehal_broker_events_free(ev, n);
  EHAL_NEED(out);
  ret->val = (ehal_events_list_event_data_t){out, n};
}

void ehal_impl_events_poll_envelopes(ehal_instance *inst, uint64_t handle,
                                     ehal_events_result_list_event_envelope_string_t *ret) {
  size_t n = 0;
  ehal_event **ev = take(inst, handle, &n, &ret->err, &ret->is_err);
  if (ret->is_err) return;
  ehal_events_event_envelope_t *out = ehal_stage(inst, n ? n : 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++) {
    size_t slen = strlen(ev[i]->source);
    char *s = ehal_arena_alloc(inst, slen ? slen : 1);
    if (!s || !event_data(inst, ev[i], &out[i].event)) {
      out = NULL;
      break;
    }
    memcpy(s, ev[i]->source, slen);
    out[i].source = (ehal_str){s, slen};
    out[i].published = ev[i]->published;
    out[i].priority = ev[i]->priority;
  }
  ehal_broker_events_free(ev, n);
  EHAL_NEED(out);
  ret->val = (ehal_events_list_event_envelope_t){out, n};
}
