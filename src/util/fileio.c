/* fileio.c - reading and writing whole files (see fileio.h). */
#define _GNU_SOURCE
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int ehal_write_all(int fd, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

uint8_t *ehal_read_fd(int fd, size_t max, size_t *len) {
  /* A regular file is read into one allocation of its size (plus the
   * spare byte and one to see the end): no realloc leaves copies of its
   * contents (keys) behind in freed memory.  The size is a hint only
   * (sysfs and configfs say 4096, /proc 0, a file may grow): the end is
   * where read(2) says, growing by doubling, and reading goes one byte past
   * max to tell "exactly max" from "more". */
  size_t cap = 4096, used = 0;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size <= max)
    cap = (size_t)st.st_size + 2;
  uint8_t *b = malloc(cap);
  if (!b) {
    errno = ENOMEM;
    return NULL;
  }
  for (;;) {
    if (used + 1 >= cap) { /* keep the spare byte */
      if (used > max) break;
      uint8_t *nb = cap <= SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
      if (!nb) {
        free(b);
        errno = ENOMEM;
        return NULL;
      }
      b = nb;
      cap *= 2;
    }
    ssize_t got = read(fd, b + used, cap - 1 - used);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int e = errno;
      free(b);
      errno = e;
      return NULL;
    }
    if (got == 0) break;
    used += (size_t)got;
  }
  if (used > max) {
    free(b);
    errno = EFBIG;
    return NULL;
  }
  *len = used;
  return b;
}

/* "16 MiB", "4 KiB" or "1000 bytes" */
static void size_str(size_t n, char *out, size_t outlen) {
  if (n && n % (1u << 20) == 0)
    snprintf(out, outlen, "%zu MiB", n >> 20);
  else if (n && n % 1024 == 0)
    snprintf(out, outlen, "%zu KiB", n >> 10);
  else
    snprintf(out, outlen, "%zu bytes", n);
}

uint8_t *ehal_read_fd_named(int fd, const char *name, size_t max, size_t *len, char *err,
                            size_t errlen) {
  uint8_t *b = ehal_read_fd(fd, max, len);
  if (!b) {
    int e = errno;
    char sz[32];
    size_str(max, sz, sizeof sz);
    if (e == EFBIG)
      snprintf(err, errlen, "cannot read %s: larger than %s", name, sz);
    else
      snprintf(err, errlen, "cannot read %s: %s", name,
               e == ENOMEM ? "out of memory" : strerror(e));
    errno = e;
  }
  return b;
}

uint8_t *ehal_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
    errno = e;
    return NULL;
  }
  uint8_t *b = ehal_read_fd_named(fd, path, max, len, err, errlen);
  int e = errno;
  close(fd);
  errno = e;
  return b;
}

int ehal_write_new_file(const char *path, const void *data, size_t len, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  /* the mode exactly, whatever the umask */
  bool ok = ehal_write_all(fd, data, len) == 0 && fchmod(fd, mode) == 0 && fsync(fd) == 0;
  int e = errno;
  if (close(fd) != 0 && ok) ok = false, e = errno;
  if (!ok) {
    unlink(path);
    errno = e;
    return -1;
  }
  return 0;
}

int ehal_fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}

/* The directory part of path ("." when it has none). */
static void dir_of(const char *path, char *out, size_t outlen) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(out, outlen, ".");
  else if (slash == path)
    snprintf(out, outlen, "/");
  else
    snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

int ehal_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                           unsigned flags, char *err, size_t errlen) {
  char tmp[4352];
  int rc = -1;
  /* a name no other thread or process (nor a crashed earlier run) uses:
   * on a clash, another draw */
  for (int attempt = 0;; attempt++) {
    uint64_t nonce = 0;
    if (getrandom(&nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
      nonce = (uint64_t)getpid() << 16 ^ (uint64_t)attempt;
    if (snprintf(tmp, sizeof tmp, "%s.%016llx.tmp", path, (unsigned long long)nonce) >=
        (int)sizeof tmp) {
      errno = ENAMETOOLONG;
      snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
      return -1;
    }
    if (ehal_write_new_file(tmp, data, len, mode) == 0) break;
    if (errno != EEXIST || attempt >= 16) {
      int e = errno;
      snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
      errno = e;
      return -1;
    }
  }
  int e = 0;
  if (flags & EHAL_ATOMIC_NO_REPLACE) {
    if (link(tmp, path) == 0)
      rc = 0;
    else if (errno == EEXIST)
      rc = 1;
    else
      e = errno;
    unlink(tmp);
  } else if (rename(tmp, path) == 0) {
    rc = 0;
  } else {
    e = errno;
    unlink(tmp);
  }
  if (rc < 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
    errno = e;
    return -1;
  }
  /* the name too must survive a power cut; also when another writer won
   * (EHAL_ATOMIC_NO_REPLACE): its file may be used before it synced */
  char dir[4352];
  dir_of(path, dir, sizeof dir);
  ehal_fsync_dir(dir); /* best effort: the data itself is already durable */
  return rc;
}
