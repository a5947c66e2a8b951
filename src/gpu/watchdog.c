/* watchdog.c - the GPU watchdog of watchdog.h. */
#include "watchdog.h"

#include <pthread.h>
#include <time.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake;
static ehal_gpu_watch *g_list;
static bool g_started, g_failed;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void unlink_watch(ehal_gpu_watch *w) {
  *w->prev = w->next;
  if (w->next) w->next->prev = w->prev;
  w->watched = false;
}

static void *watchdog(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_lock);
  for (;;) {
    uint64_t now = now_ns(), next = UINT64_MAX;
    for (ehal_gpu_watch *w = g_list, *n; w; w = n) {
      n = w->next;
      if (w->deadline_ns > now) {
        if (w->deadline_ns < next) next = w->deadline_ns;
        continue;
      }
      /* past its deadline: stop it unless the driver is done with it */
      if (vkGetFenceStatus(w->dev, w->fence) != VK_SUCCESS)
        __atomic_store_n(w->stop, 1, __ATOMIC_RELAXED);
      unlink_watch(w);
    }
    if (next == UINT64_MAX) {
      pthread_cond_wait(&g_wake, &g_lock);
    } else {
      struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
      pthread_cond_timedwait(&g_wake, &g_lock, &ts);
    }
  }
  return NULL;
}

/* Under g_lock. */
static bool start_thread(void) {
  if (g_started || g_failed) return g_started;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&g_wake, &ca);
  pthread_condattr_destroy(&ca);
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  g_started = pthread_create(&t, &a, watchdog, NULL) == 0;
  g_failed = !g_started;
  pthread_attr_destroy(&a);
  return g_started;
}

bool ehal_gpu_watch_start(ehal_gpu_watch *w) {
  pthread_mutex_lock(&g_lock);
  bool ok = start_thread();
  if (ok) {
    w->next = g_list;
    w->prev = &g_list;
    if (g_list) g_list->prev = &w->next;
    g_list = w;
    w->watched = true;
    pthread_cond_signal(&g_wake); /* it may be an earlier deadline */
  }
  pthread_mutex_unlock(&g_lock);
  return ok;
}

void ehal_gpu_watch_end(ehal_gpu_watch *w) {
  pthread_mutex_lock(&g_lock);
  if (w->watched) unlink_watch(w);
  pthread_mutex_unlock(&g_lock);
}
