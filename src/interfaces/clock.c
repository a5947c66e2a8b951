/*
 * clock.c - elastic:clock@0.1.1: wall and monotonic time, bounded sleep,
 * the configured time zone, and elapsed-time timers.
 *
 * Timers are handles in the workload's own table (see handles.h): another
 * workload's timer handle means nothing here.  The table is this
 * interface's per-instance state (interfaces.h), made on the first timer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ehal_bindings.h"
#include "interfaces.h"

typedef struct {
  uint64_t start_ns;
  uint64_t stopped_ns; /* 0 while running */
} timer_obj;

/* Per-instance state (ehal_iface_state). */
typedef struct {
  ehal_handle_table timers;
} clock_state;

void *ehal_state_create_clock(ehal_instance *inst) {
  (void)inst;
  clock_state *st = calloc(1, sizeof *st);
  if (st) ehal_handles_init(&st->timers, EHAL_MAX_TIMERS, free);
  return st;
}

void ehal_state_destroy_clock(ehal_instance *inst, void *state) {
  (void)inst;
  clock_state *st = state;
  ehal_handles_free(&st->timers);
  free(st);
}

static uint64_t now_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ehal_impl_clock_get_system_time(ehal_instance *inst,
                                     ehal_clock_result_system_time_string_t *ret) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
    EHAL_FAIL(ret, "clock_gettime failed: %s", strerror(errno));
  ret->val.seconds = (uint64_t)ts.tv_sec;
  ret->val.nanoseconds = (uint32_t)ts.tv_nsec;
}

void ehal_impl_clock_get_monotonic_time(ehal_instance *inst,
                                        ehal_clock_result_monotonic_time_string_t *ret) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    EHAL_FAIL(ret, "clock_gettime failed: %s", strerror(errno));
  ret->val.elapsed_seconds = (uint64_t)ts.tv_sec;
  ret->val.elapsed_nanoseconds = (uint32_t)ts.tv_nsec;
}

void ehal_impl_clock_resolution(ehal_instance *inst, ehal_clock_result_u64_string_t *ret) {
  struct timespec ts;
  if (clock_getres(CLOCK_MONOTONIC, &ts) != 0)
    EHAL_FAIL(ret, "clock_getres failed: %s", strerror(errno));
  ret->val = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ehal_impl_clock_sleep(ehal_instance *inst, uint64_t duration_ns,
                           ehal_clock_result_void_string_t *ret) {
  if (duration_ns > inst->max_sleep_ns)
    EHAL_FAIL(ret, "sleep of %llu ns exceeds this node's maximum of %llu ns",
              (unsigned long long)duration_ns, (unsigned long long)inst->max_sleep_ns);
  struct timespec ts = {(time_t)(duration_ns / 1000000000ull), (long)(duration_ns % 1000000000ull)};
  /* an interrupt (elastic_hal_instance_interrupt, --timeout) cuts the
   * sleep short; the guest then traps as the call returns */
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !ehal_engine_interrupt_pending(inst->eng)) {
  }
}

void ehal_impl_clock_get_timezone(ehal_instance *inst,
                                  ehal_clock_result_timezone_info_string_t *ret) {
  /* The node's configured zone: /etc/localtime as the system sets it. */
  char link[PATH_MAX];
  ssize_t n = readlink("/etc/localtime", link, sizeof link - 1);
  const char *name = "UTC";
  if (n > 0) {
    link[n] = 0;
    const char *z = strstr(link, "zoneinfo/");
    if (z) name = z + 9;
  }
  time_t t = time(NULL);
  struct tm tm;
  if (!localtime_r(&t, &tm)) EHAL_FAIL(ret, "cannot read the local time zone");
  ret->val.name = ehal_str_fmt(inst, "%s", name);
  ret->val.utc_offset_seconds = (int32_t)tm.tm_gmtoff;
}

void ehal_impl_clock_start_timer(ehal_instance *inst,
                                 ehal_clock_result_timer_handle_string_t *ret) {
  clock_state *st = ehal_iface_state(inst, EHAL_IFACE_ID_CLOCK);
  if (!st) EHAL_FAIL(ret, "out of memory for the clock interface state");
  timer_obj *t = calloc(1, sizeof *t);
  if (!t) EHAL_FAIL(ret, "out of memory");
  t->start_ns = now_ns(CLOCK_MONOTONIC);
  ret->val = ehal_handle_new(&st->timers, t);
  if (!ret->val) {
    free(t);
    EHAL_FAIL(ret, "too many timers (at most %u per workload)", EHAL_MAX_TIMERS);
  }
}

/* The timer behind a handle of this workload, or NULL. */
static timer_obj *get_timer(ehal_instance *inst, uint64_t h) {
  clock_state *st = ehal_iface_state_peek(inst, EHAL_IFACE_ID_CLOCK);
  return st ? ehal_handle_get(&st->timers, h) : NULL;
}

void ehal_impl_clock_stop_timer(ehal_instance *inst, uint64_t timer,
                                ehal_clock_result_u64_string_t *ret) {
  timer_obj *t = get_timer(inst, timer);
  if (!t) EHAL_FAIL(ret, "invalid timer handle");
  if (!t->stopped_ns) t->stopped_ns = now_ns(CLOCK_MONOTONIC);
  ret->val = t->stopped_ns - t->start_ns;
}

void ehal_impl_clock_read_timer(ehal_instance *inst, uint64_t timer,
                                ehal_clock_result_u64_string_t *ret) {
  timer_obj *t = get_timer(inst, timer);
  if (!t) EHAL_FAIL(ret, "invalid timer handle");
  ret->val = (t->stopped_ns ? t->stopped_ns : now_ns(CLOCK_MONOTONIC)) - t->start_ns;
}

void ehal_impl_clock_destroy_timer(ehal_instance *inst, uint64_t timer,
                                   ehal_clock_result_void_string_t *ret) {
  clock_state *st = ehal_iface_state_peek(inst, EHAL_IFACE_ID_CLOCK);
  timer_obj *t = st ? ehal_handle_take(&st->timers, timer) : NULL;
  if (!t) EHAL_FAIL(ret, "invalid timer handle");
  free(t);
}
