/*
 * wasi_guest.c - WASI preview 1 as wasi-libc uses it (tests/cli/wasi.sh):
 * each argument a check, one line each on stdout.
 *
 *   sleep:MS      nanosleep for MS: "slept MS ELAPSED_MS" or "sleep error ERRNO"
 *   poll          poll_oneoff on stdout (write), stdin (read) and a 10 ms clock:
 *                 "poll N" then "event TYPE ERROR" per event
 *   absolute      poll_oneoff on an absolute realtime deadline 30 ms ahead
 *   sock:FD       sock_shutdown(FD): "sock FD ERRNO"
 *   path:FD       path_open(FD, "x"): "path FD ERRNO"
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wasi/api.h>

static long long ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  for (int a = 1; a < argc; a++) {
    char *arg = argv[a];
    if (!strncmp(arg, "sleep:", 6)) {
      long ms = atol(arg + 6);
      struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
      long long t0 = ms_now();
      if (nanosleep(&ts, NULL) == 0)
        printf("slept %ld %lld\n", ms, ms_now() - t0);
      else
        printf("sleep error %d\n", errno);
    } else if (!strcmp(arg, "poll") || !strcmp(arg, "absolute")) {
      __wasi_subscription_t subs[3];
      memset(subs, 0, sizeof subs);
      int n = 0;
      if (!strcmp(arg, "poll")) {
        subs[n].userdata = 1;
        subs[n].u.tag = __WASI_EVENTTYPE_FD_WRITE;
        subs[n++].u.u.fd_write.file_descriptor = 1;
        subs[n].userdata = 2;
        subs[n].u.tag = __WASI_EVENTTYPE_FD_READ;
        subs[n++].u.u.fd_read.file_descriptor = 0;
        subs[n].userdata = 3;
        subs[n].u.tag = __WASI_EVENTTYPE_CLOCK;
        subs[n].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        subs[n++].u.u.clock.timeout = 10000000;
      } else {
        __wasi_timestamp_t now;
        if (__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now) != 0) now = 0;
        subs[n].userdata = 4;
        subs[n].u.tag = __WASI_EVENTTYPE_CLOCK;
        subs[n].u.u.clock.id = __WASI_CLOCKID_REALTIME;
        subs[n].u.u.clock.timeout = now + 30000000;
        subs[n++].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
      }
      __wasi_event_t ev[3];
      __wasi_size_t got = 0;
      long long t0 = ms_now();
      __wasi_errno_t e = __wasi_poll_oneoff(subs, ev, (__wasi_size_t)n, &got);
      printf("poll %d %u %s\n", e, (unsigned)got, ms_now() - t0 >= 25 ? "waited" : "at-once");
      for (__wasi_size_t i = 0; i < got; i++)
        printf("event %llu %u %u\n", (unsigned long long)ev[i].userdata, ev[i].type, ev[i].error);
    } else if (!strncmp(arg, "sock:", 5)) {
      int fd = atoi(arg + 5);
      printf("sock %d %d\n", fd, __wasi_sock_shutdown(fd, __WASI_SDFLAGS_WR));
    } else if (!strncmp(arg, "path:", 5)) {
      int fd = atoi(arg + 5);
      __wasi_fd_t out;
      printf("path %d %d\n", fd, __wasi_path_open(fd, 0, "x", 0, 0, 0, 0, &out));
    }
    fflush(stdout);
  }
  return 0;
}
