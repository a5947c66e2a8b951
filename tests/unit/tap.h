/*
 * tap.h - a tiny TAP producer shared by the C test programs.
 *
 *   TAP_OK(cond, "what %d", x);     "ok N - what 1" or "not ok N - what 1"
 *   TAP_SKIP("why", "what");         "ok N - what # SKIP why"
 *   tap_diag("detail %s", s);        "# detail ..." (on stdout, after the line)
 *   return tap_done();               prints the plan; 0 iff nothing failed
 *
 * Every line is flushed as it is written, so a crash loses nothing already
 * reported.  Header-only: each test program includes it once.
 */
#ifndef EHAL_TEST_TAP_H
#define EHAL_TEST_TAP_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int tap_count;
static int tap_failures;

static inline void tap_vline(bool ok, const char *directive, const char *fmt, va_list ap) {
  tap_count++;
  if (!ok) tap_failures++;
  printf("%s %d - ", ok ? "ok" : "not ok", tap_count);
  vprintf(fmt, ap);
  if (directive) printf(" # %s", directive);
  printf("\n");
  fflush(stdout);
}

/* Reports one test; returns its outcome so callers can add diagnostics. */
__attribute__((format(printf, 2, 3))) static inline bool tap_ok(bool ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tap_vline(ok, NULL, fmt, ap);
  va_end(ap);
  return ok;
}

__attribute__((format(printf, 2, 3))) static inline void tap_skip(const char *why, const char *fmt,
                                                                  ...) {
  char directive[256];
  snprintf(directive, sizeof directive, "SKIP %s", why);
  va_list ap;
  va_start(ap, fmt);
  tap_vline(true, directive, fmt, ap);
  va_end(ap);
}

__attribute__((format(printf, 1, 2))) static inline void tap_diag(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("# ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
}

/* Prints the plan; the exit status for main. */
static inline int tap_done(void) {
  printf("1..%d\n", tap_count);
  if (tap_failures) printf("# %d of %d failed\n", tap_failures, tap_count);
  fflush(stdout);
  return tap_failures ? 1 : 0;
}

#define TAP_OK(cond, ...) tap_ok((cond) ? true : false, __VA_ARGS__)
#define TAP_SKIP(why, ...) tap_skip((why), __VA_ARGS__)

/* rm -rf DIR (test scratch directories); does not follow symlinks. */
static inline void tap_rm_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    char p[8400];
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      struct stat st;
      if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
        tap_rm_tree(p);
      else
        unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

#endif
