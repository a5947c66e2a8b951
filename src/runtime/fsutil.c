/* fsutil.c - small filesystem helpers (see fsutil.h). */
#define _GNU_SOURCE
#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "elastic-hal/elastic_hal.h"

static int mkdir_one(const char *path) {
  return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int ehal_mkdir_p(const char *path) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir_one(tmp) != 0) return -1;
    *p = '/';
  }
  return mkdir_one(tmp);
}

char *elastic_hal_default_state_dir(void) {
  const char *x = getenv("XDG_STATE_HOME");
  char *out = NULL;
  if (x && *x) return asprintf(&out, "%s/elastic-hal", x) < 0 ? NULL : out;
  const char *home = getenv("HOME");
  return asprintf(&out, "%s/.local/state/elastic-hal", home && *home ? home : ".") < 0 ? NULL : out;
}
