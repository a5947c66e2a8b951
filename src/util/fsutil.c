/* fsutil.c - small filesystem helpers (see fsutil.h). */
#define _GNU_SOURCE
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- the state directory's checks ---- */

/* A directory's stat against the rules: ours, not writable by group or
 * others.  is_state: path is the state directory itself (the message
 * suggests --state-dir). */
static int check_dir_stat(const struct stat *st, const char *path, bool is_state, char *err,
                          size_t errlen) {
  unsigned me = (unsigned)geteuid();
  const char *what = is_state ? "state directory " : "";
  if (!S_ISDIR(st->st_mode)) {
    snprintf(err, errlen, "%s%s is not a directory%s", what, path,
             is_state ? ": give a directory with --state-dir DIR" : ": remove it");
    return -1;
  }
  if ((unsigned)st->st_uid != me) {
    if (is_state)
      snprintf(err, errlen,
               "state directory %s is owned by uid %u, not by you (uid %u), so anything in it "
               "may have been planted: use a directory of your own (--state-dir DIR), or "
               "remove it and let elastic-hal create a new one; if it and everything in it "
               "are yours, fix it with: chown -R %u %s && chmod 700 %s",
               path, (unsigned)st->st_uid, me, me, path, path);
    else
      snprintf(err, errlen,
               "%s in the state directory is owned by uid %u, not by you (uid %u), so "
               "anything in it may have been planted: remove it, or, if it and everything in "
               "it are yours, fix it with: chown -R %u %s && chmod 700 %s",
               path, (unsigned)st->st_uid, me, me, path, path);
    return -1;
  }
  if (st->st_mode & 022) {
    snprintf(err, errlen,
             "%s%s is writable by group or others (mode %04o), so anything in it may have "
             "been planted: fix it with: chmod 700 %s%s",
             what, path, (unsigned)(st->st_mode & 07777), path,
             is_state ? " (or use a directory of your own with --state-dir DIR)" : "");
    return -1;
  }
  return 0;
}

static void symlink_msg(const char *path, bool is_state, char *err, size_t errlen) {
  if (is_state)
    snprintf(err, errlen,
             "state directory %s is a symbolic link: give the real directory with "
             "--state-dir DIR",
             path);
  else
    snprintf(err, errlen,
             "%s is a symbolic link, which the state directory must not hold: remove it", path);
}

/* Walks base and then sub (see ehal_secure_subdir) one component at a
 * time, relative to the directory before it (openat), so what is checked
 * is what is walked into.  Components of base before its last one are
 * followed as they are, unless created here. */
static int walk(const char *base, const char *sub, bool create, char *err, size_t errlen) {
  if (!base || !*base) {
    snprintf(err, errlen, "no state directory given");
    errno = EINVAL;
    return -1;
  }
  if (!sub) sub = "";
  char work[4096];
  size_t blen = strlen(base);
  if (snprintf(work, sizeof work, "%s%s%s", base, *sub ? "/" : "", sub) >= (int)sizeof work) {
    snprintf(err, errlen, "state directory path too long: %.200s...", base);
    errno = ENAMETOOLONG;
    return -1;
  }
  /* where base's last component starts: from there on everything is checked */
  size_t bend = blen;
  while (bend > 1 && base[bend - 1] == '/') bend--;
  size_t blast = bend;
  while (blast > 0 && base[blast - 1] != '/') blast--;

  int dfd = open(work[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", work[0] == '/' ? "/" : ".", strerror(errno));
    return -1;
  }
  int rc = 0, saved = 0;
  if (blast == bend) { /* base is "/": nothing to walk into, check it as it is */
    struct stat st;
    if (fstat(dfd, &st) != 0 || check_dir_stat(&st, base, true, err, errlen) != 0) {
      close(dfd);
      errno = EACCES;
      return -1;
    }
  }
  size_t len = strlen(work);
  for (size_t s = 0; s < len;) {
    while (s < len && work[s] == '/') s++;
    if (s >= len) break;
    size_t e = s;
    while (e < len && work[e] != '/') e++;
    char keep = work[e];
    work[e] = 0;
    const char *name = work + s;
    bool in_sub = s > blen;
    bool is_state = !in_sub && s == blast;
    bool must = s >= blast;
    if (in_sub && !strcmp(name, "..")) {
      snprintf(err, errlen, "%s: '..' in a state directory path", work);
      saved = EINVAL;
      rc = -1;
      break;
    }
    struct stat st;
    bool created = false;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) {
        saved = errno;
        snprintf(err, errlen, "cannot use %s: %s", work, strerror(saved));
        rc = -1;
        break;
      }
      if (!create) {
        saved = ENOENT;
        rc = 1;
        snprintf(err, errlen, "%s does not exist", work);
        break;
      }
      if (mkdirat(dfd, name, 0700) == 0)
        created = true;
      else if (errno != EEXIST) {
        saved = errno;
        snprintf(err, errlen, "cannot create %s%s: %s", must ? "" : "the state directory's parent ",
                 work, strerror(saved));
        rc = -1;
        break;
      }
      if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        saved = errno;
        snprintf(err, errlen, "cannot use %s: %s", work, strerror(saved));
        rc = -1;
        break;
      }
    }
    int nfd;
    if (must || created) {
      if (S_ISLNK(st.st_mode)) {
        symlink_msg(work, is_state, err, errlen);
        saved = ELOOP;
        rc = -1;
        break;
      }
      nfd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (nfd >= 0 && fstat(nfd, &st) != 0) {
        close(nfd);
        nfd = -1;
      }
      if (nfd < 0 && (errno == ENOTDIR || errno == ELOOP) && S_ISDIR(st.st_mode)) {
        symlink_msg(work, is_state, err, errlen); /* swapped for a link meanwhile */
        saved = ELOOP;
        rc = -1;
        break;
      }
      if (nfd < 0 && errno != ENOTDIR) {
        saved = errno;
        snprintf(err, errlen, "cannot open %s: %s", work, strerror(saved));
        rc = -1;
        break;
      }
      if (check_dir_stat(&st, work, is_state, err, errlen) != 0) {
        if (nfd >= 0) close(nfd);
        saved = S_ISDIR(st.st_mode) ? EACCES : ENOTDIR;
        rc = -1;
        break;
      }
    } else {
      nfd = openat(dfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (nfd < 0) {
        saved = errno;
        snprintf(err, errlen, "cannot use %s: %s", work, strerror(saved));
        rc = -1;
        break;
      }
    }
    close(dfd);
    dfd = nfd;
    work[e] = keep;
    s = e;
  }
  close(dfd);
  if (rc != 0) errno = saved;
  return rc;
}

int ehal_secure_dir(const char *path, char *err, size_t errlen) {
  return walk(path, NULL, true, err, errlen);
}

int ehal_secure_subdir(const char *state_dir, const char *sub, bool create, char *err,
                       size_t errlen) {
  return walk(state_dir, sub, create, err, errlen);
}

int ehal_secure_fd(int fd, const char *path, mode_t forbidden, char *err, size_t errlen) {
  struct stat st;
  unsigned me = (unsigned)geteuid();
  if (fstat(fd, &st) != 0) {
    int e = errno;
    snprintf(err, errlen, "cannot stat %s: %s", path, strerror(e));
    errno = e;
    return -1;
  }
  if (!S_ISREG(st.st_mode))
    snprintf(err, errlen,
             "%s is not a regular file, which the state directory must not hold: remove it", path);
  else if ((unsigned)st.st_uid != me)
    snprintf(err, errlen,
             "%s is owned by uid %u, not by you (uid %u), so it may have been planted: remove "
             "it, or, if it is yours, fix it with: chown %u %s && chmod 600 %s",
             path, (unsigned)st.st_uid, me, me, path, path);
  else if (st.st_mode & forbidden & 07777)
    snprintf(err, errlen, "%s is %s by group or others (mode %04o): fix it with: chmod %s %s", path,
             forbidden & 044 ? "readable or writable" : "writable", (unsigned)(st.st_mode & 07777),
             forbidden & 044 ? "600" : "go-w", path);
  else
    return 0;
  errno = EACCES;
  return -1;
}

int ehal_secure_open(const char *path, int flags, mode_t mode, char *err, size_t errlen) {
  int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, mode);
  if (fd < 0) {
    int e = errno;
    struct stat st;
    if (e == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
      symlink_msg(path, false, err, errlen);
    else
      snprintf(err, errlen, "cannot %s %s: %s", flags & O_CREAT ? "create" : "open", path,
               strerror(e));
    errno = e;
    return -1;
  }
  if (ehal_secure_fd(fd, path, 022, err, errlen) != 0) {
    close(fd);
    errno = EACCES;
    return -1;
  }
  if (!(flags & O_NONBLOCK)) { /* only there so a planted FIFO cannot block the open */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  return fd;
}
