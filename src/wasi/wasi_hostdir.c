/*
 * wasi_hostdir.c - plain host directories an operator maps into a guest
 * (elastic-hal run --dir-host HOST_PATH:GUEST_PATH[:rw]): the host side of
 * wasi_fs.c's calls on them.  Unprotected by design (the host reads and
 * changes them at will; docs/filesystem.md), so the one job here is that a
 * guest never reaches anything else on the host.
 *
 * Every path a guest gives is resolved by the kernel with openat2() from
 * the descriptor's directory, with RESOLVE_BENEATH (no absolute path, no
 * ".." above that directory), RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS
 * (no link is followed, in any component) and RESOLVE_NO_XDEV (no other
 * mount).  Calls that change a name (mkdir, unlink, rename) resolve the
 * parent that way and then act on one plain name in it.  A directory mapped
 * read-only (the default) refuses every change with EROFS, and its files
 * open read-only whatever the guest asks.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi.h"

uint32_t ehal_hostdir_errno(int e) {
  switch (e) {
    case 0: return 0;
    case EACCES: return 2;
    case EAGAIN: return 6;
    case EBADF: return WASI_EBADF;
    case EBUSY: return 10;
    case EINTR: return 27;
    case EMLINK: return 34;
    case ENXIO: return 60;
    case EOVERFLOW: return 61;
    case ENOTSUP: return 58;
    case ETXTBSY: return 74;
    case EDQUOT: return 19;
    case EEXIST: return WASI_EEXIST;
    case EFBIG: return 22;
    case EINVAL: return WASI_EINVAL;
    case EISDIR: return WASI_EISDIR;
    case ELOOP: return WASI_ENOTCAPABLE; /* a link: never followed */
    case EMFILE: return WASI_EMFILE;
    case ENAMETOOLONG: return WASI_ENAMETOOLONG;
    case ENOENT: return WASI_ENOENT;
    case ENOMEM: return WASI_ENOMEM;
    case ENOSPC: return 51;
    case ENOTDIR: return WASI_ENOTDIR;
    case ENOTEMPTY: return 55;
    case EPERM: return 63;
    case EROFS: return WASI_EROFS;
    case ESPIPE: return WASI_ESPIPE;
    case EXDEV: return WASI_ENOTCAPABLE; /* out of the directory, or onto another mount */
    default: return WASI_EIO;
  }
}

static uint32_t parent_of(int dirfd, const char *p, size_t len, int *pfd, char name[256],
                          bool *slash);

/* A guest path as a C string: not empty, no NUL, not absolute. */
static uint32_t cpath(const char *p, size_t len, char out[PATH_MAX_HOST + 1]) {
  if (len == 0) return WASI_ENOENT;
  if (len > PATH_MAX_HOST) return WASI_ENAMETOOLONG;
  if (memchr(p, 0, len)) return WASI_EINVAL;
  if (p[0] == '/') return WASI_ENOTCAPABLE;
  memcpy(out, p, len);
  out[len] = 0;
  return 0;
}

static int open_beneath(int dirfd, const char *path, uint64_t flags, uint64_t mode) {
  struct open_how how = {
      .flags = flags | O_CLOEXEC | O_NOFOLLOW,
      .mode = (flags & O_CREAT) ? mode : 0, /* openat2 wants 0 without O_CREAT */
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
  long fd = -1;
  for (int tries = 0; tries < 16; tries++) { /* EAGAIN: a rename raced; again, a few times */
    fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) break;
  }
  return (int)fd;
}

uint32_t ehal_hostdir_open(int dirfd, const char *p, size_t len, uint32_t oflags, bool rd, bool wr,
                           bool append, bool writable, int *out, uint8_t *type) {
  char path[PATH_MAX_HOST + 1];
  uint32_t rc = cpath(p, len, path);
  if (rc) return rc;
  if (!writable && (wr || (oflags & 1) || (oflags & 8))) return WASI_EROFS;
  if ((oflags & 8) && !wr) return WASI_EBADF; /* truncating takes the right to write */
  uint64_t fl = (oflags & 1 ? O_CREAT : 0) | (oflags & 2 ? O_DIRECTORY : 0) |
                (oflags & 4 ? O_EXCL : 0) | (oflags & 8 ? O_TRUNC : 0) | (append ? O_APPEND : 0);
  fl |= wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
  /* O_NONBLOCK: a FIFO must not hang the open (it is refused below);
   * O_NOCTTY: a terminal never becomes the process's */
  int fd = open_beneath(dirfd, path, fl | O_NONBLOCK | O_NOCTTY, 0600);
  if (fd < 0 && errno == EISDIR && !(oflags & 8)) /* a directory asked for writing */
    return WASI_EISDIR;
  if (fd < 0) return ehal_hostdir_errno(errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
    close(fd); /* a device, a socket, a FIFO: not for a guest */
    return WASI_ENOTCAPABLE;
  }
  int fl2 = fcntl(fd, F_GETFL);
  if (fl2 < 0 || fcntl(fd, F_SETFL, fl2 & ~O_NONBLOCK) != 0) {
    int e = errno;
    close(fd);
    return ehal_hostdir_errno(e);
  }
  *type = S_ISDIR(st.st_mode) ? 3 : 4;
  *out = fd;
  return 0;
}

static void attr_of(const struct stat *st, ehal_sfs_attr *a) {
  a->ino = st->st_ino;
  a->type = S_ISDIR(st->st_mode) ? 3 : S_ISREG(st->st_mode) ? 4 : 0;
  a->size = (uint64_t)st->st_size;
  a->atim = (uint64_t)st->st_atim.tv_sec * 1000000000ull + (uint64_t)st->st_atim.tv_nsec;
  a->mtim = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
  a->ctim = (uint64_t)st->st_ctim.tv_sec * 1000000000ull + (uint64_t)st->st_ctim.tv_nsec;
}

uint32_t ehal_hostdir_stat(int fd, const char *p, size_t len, ehal_sfs_attr *a) {
  struct stat st;
  if (!p) {
    if (fstat(fd, &st) != 0) return ehal_hostdir_errno(errno);
    attr_of(&st, a);
    return 0;
  }
  char path[PATH_MAX_HOST + 1];
  uint32_t rc = cpath(p, len, path);
  if (rc) return rc;
  int f = open_beneath(fd, path, O_PATH, 0);
  if (f < 0) return ehal_hostdir_errno(errno);
  int r = fstat(f, &st);
  int e = errno;
  close(f);
  if (r != 0) return ehal_hostdir_errno(e);
  attr_of(&st, a);
  return 0;
}

/* The directory a path's last component is in, opened beneath dirfd, and
 * that component (never "", "." or ".."). */
static uint32_t parent_of(int dirfd, const char *p, size_t len, int *pfd, char name[256],
                          bool *slash) {
  char path[PATH_MAX_HOST + 1];
  uint32_t rc = cpath(p, len, path);
  if (rc) return rc;
  size_t n = strlen(path);
  *slash = n && path[n - 1] == '/';
  while (n > 1 && path[n - 1] == '/') path[--n] = 0;
  char *last = strrchr(path, '/');
  const char *base = last ? last + 1 : path;
  if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) return WASI_EINVAL;
  if (strlen(base) > 255) return WASI_ENAMETOOLONG;
  strcpy(name, base);
  if (last)
    *last = 0;
  else
    strcpy(path, ".");
  int fd = open_beneath(dirfd, path, O_PATH | O_DIRECTORY, 0);
  if (fd < 0) return ehal_hostdir_errno(errno);
  *pfd = fd;
  return 0;
}

uint32_t ehal_hostdir_mkdir(int dirfd, const char *p, size_t len, bool writable) {
  if (!writable) return WASI_EROFS;
  int pfd;
  char name[256];
  bool slash;
  uint32_t rc = parent_of(dirfd, p, len, &pfd, name, &slash);
  if (rc) return rc == WASI_EINVAL ? WASI_EEXIST : rc;
  int r = mkdirat(pfd, name, 0700), e = errno;
  close(pfd);
  return r ? ehal_hostdir_errno(e) : 0;
}

uint32_t ehal_hostdir_remove(int dirfd, const char *p, size_t len, bool rmdir, bool writable) {
  if (!writable) return WASI_EROFS;
  int pfd;
  char name[256];
  bool slash;
  uint32_t rc = parent_of(dirfd, p, len, &pfd, name, &slash);
  if (rc) return rc == WASI_EINVAL ? (rmdir ? WASI_EINVAL : WASI_EISDIR) : rc;
  struct stat st;
  int r = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW), e = errno;
  if (r == 0 && !rmdir && S_ISDIR(st.st_mode)) r = -1, e = EISDIR;
  if (r == 0 && !rmdir && slash) r = -1, e = ENOTDIR;
  if (r == 0) r = unlinkat(pfd, name, rmdir ? AT_REMOVEDIR : 0), e = errno;
  close(pfd);
  return r ? ehal_hostdir_errno(e) : 0;
}

uint32_t ehal_hostdir_rename(int ofd, const char *op, size_t olen, int nfd, const char *np,
                             size_t nlen, bool writable) {
  if (!writable) return WASI_EROFS;
  int po, pn;
  char oname[256], nname[256];
  bool os, ns;
  uint32_t rc = parent_of(ofd, op, olen, &po, oname, &os);
  if (rc) return rc;
  if ((rc = parent_of(nfd, np, nlen, &pn, nname, &ns))) {
    close(po);
    return rc;
  }
  struct stat st;
  int r = 0, e = 0;
  /* a trailing slash names a directory */
  if (os || ns) {
    if (fstatat(po, oname, &st, AT_SYMLINK_NOFOLLOW) != 0)
      r = -1, e = errno;
    else if (!S_ISDIR(st.st_mode))
      r = -1, e = ENOTDIR;
  }
  if (r == 0) r = renameat(po, oname, pn, nname), e = errno;
  close(po);
  close(pn);
  return r ? ehal_hostdir_errno(e) : 0;
}

uint32_t ehal_hostdir_set_times(int fd, const char *p, size_t len, uint64_t atim, uint64_t mtim,
                                uint32_t fst, bool writable) {
  if (!writable) return WASI_EROFS;
  if (fst & ~15u || ((fst & 1) && (fst & 2)) || ((fst & 4) && (fst & 8))) return WASI_EINVAL;
  struct timespec ts[2] = {
      {fst & 1 ? (time_t)(atim / 1000000000ull) : 0, fst & 1   ? (long)(atim % 1000000000ull)
                                                     : fst & 2 ? UTIME_NOW
                                                               : UTIME_OMIT},
      {fst & 4 ? (time_t)(mtim / 1000000000ull) : 0, fst & 4   ? (long)(mtim % 1000000000ull)
                                                     : fst & 8 ? UTIME_NOW
                                                               : UTIME_OMIT}};
  if (!p) return futimens(fd, ts) ? ehal_hostdir_errno(errno) : 0;
  /* a name in its parent: nothing is opened (a FIFO, a file we may not read) */
  int pfd;
  char name[256];
  bool slash;
  uint32_t rc = parent_of(fd, p, len, &pfd, name, &slash);
  if (rc == WASI_EINVAL) { /* "." or "..": a directory, opened beneath */
    char path[PATH_MAX_HOST + 1];
    if ((rc = cpath(p, len, path))) return rc;
    int d = open_beneath(fd, path, O_RDONLY | O_DIRECTORY, 0);
    if (d < 0) return ehal_hostdir_errno(errno);
    int r = futimens(d, ts), e = errno;
    close(d);
    return r ? ehal_hostdir_errno(e) : 0;
  }
  if (rc) return rc;
  int r = utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW), e = errno;
  close(pfd);
  return r ? ehal_hostdir_errno(e) : 0;
}

/* Entries of the directory open as fd after cookie (the entry's position:
 * "." and ".." are the host's, in its order). */
uint32_t ehal_hostdir_readdir(int fd, uint64_t cookie, ehal_sfs_dirent_fn fn, void *user) {
  int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (!d) {
    int e = errno;
    if (dup_fd >= 0) close(dup_fd);
    return ehal_hostdir_errno(e);
  }
  uint64_t pos = 0;
  errno = 0;
  for (struct dirent *e; (e = readdir(d)); errno = 0) {
    if (pos++ < cookie) continue;
    uint8_t type = e->d_type == DT_DIR ? 3 : e->d_type == DT_REG ? 4 : 0;
    if (fn(user, pos, e->d_ino, type, e->d_name, strlen(e->d_name))) break;
  }
  int err = errno; /* readdir's, when it ended on an error */
  closedir(d);
  return ehal_hostdir_errno(err);
}
