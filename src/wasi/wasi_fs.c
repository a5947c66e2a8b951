/*
 * wasi_fs.c - WASI preview 1 files and directories: the sealed directories
 * an operator preopens (elastic-hal run --dir GUEST_PATH), over the sealed
 * filesystem (src/fs/sealfs.h).  Format, protection and limits:
 * docs/filesystem.md.
 *
 * Descriptors 3 and up are this file's: the preopened directories first,
 * in the order given, then what path_open returns (lowest free number, at
 * most FD_MAX).  Each names a volume and an inode; files hold their inode
 * so that an unlinked file stays readable while open, as in POSIX.
 *
 * Paths are resolved here, component by component, from the descriptor's
 * directory: an absolute path, or ".." above the volume's root, is
 * ENOTCAPABLE, so nothing resolves outside the preopen.  There are no
 * symbolic or hard links: path_symlink and path_link are ENOTSUP, and
 * path_readlink is EINVAL on anything that exists.
 *
 * Rights follow preview 1: a preopen holds every directory right and lets
 * files inherit every file right; path_open narrows to what is asked, and
 * reading, writing and resizing need their rights (EBADF without, as POSIX
 * does for a descriptor not open for it).  Every guest pointer and length
 * is checked (EFAULT) before anything changes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../fs/sealfs.h"
#include "../interfaces/interfaces.h"
#include "wasi.h"

enum { FD_FREE = 0, FD_DIR, FD_FILE };
#define FD_MAX 1024u
#define PATH_MAX_LEN 4096u
#define VOLUMES_MAX 64u
#define IO_MAX (1u << 30) /* bytes one read or write call moves, at most */
#define HOST_FDS_MAX 256u /* host files and directories open at once */

/* preview 1 rights */
#define R(bit) (1ull << (bit))
#define R_FD_DATASYNC R(0)
#define R_FD_READ R(1)
#define R_FD_SEEK R(2)
#define R_FD_FDSTAT_SET_FLAGS R(3)
#define R_FD_SYNC R(4)
#define R_FD_TELL R(5)
#define R_FD_WRITE R(6)
#define R_FD_ADVISE R(7)
#define R_FD_ALLOCATE R(8)
#define R_FD_READDIR R(14)
#define R_FD_FILESTAT_GET R(21)
#define R_FD_FILESTAT_SET_SIZE R(22)
#define R_FD_FILESTAT_SET_TIMES R(23)
#define R_POLL R(27)
#define RIGHTS_FILE                                                                        \
  (R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_TELL | \
   R_FD_WRITE | R_FD_ADVISE | R_FD_ALLOCATE | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_SIZE | \
   R_FD_FILESTAT_SET_TIMES | R_POLL)
/* fd_fdstat_set_flags, fd_sync, path_create_directory, path_create_file,
 * path_open, fd_readdir, path_rename_source and _target, path_filestat_get,
 * _set_size, _set_times, fd_filestat_get, _set_times,
 * path_remove_directory, path_unlink_file */
#define RIGHTS_DIR                                                                           \
  (R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R(9) | R(10) | R(13) | R_FD_READDIR | R(16) | R(17) | \
   R(18) | R(19) | R(20) | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_TIMES | R(25) | R(26))

/* preview 1 flags (oflags: WO_, not to be taken for the host's O_) */
#define WO_CREAT 1u
#define WO_DIRECTORY 2u
#define WO_EXCL 4u
#define WO_TRUNC 8u
#define FDFLAG_APPEND 1u
#define FDFLAGS_ALL 31u /* append, dsync, nonblock, rsync, sync */
#define FST_ATIM 1u
#define FST_ATIM_NOW 2u
#define FST_MTIM 4u
#define FST_MTIM_NOW 8u

typedef struct {
  uint8_t kind;
  bool preopen;
  int hfd;    /* a host directory's (--dir-host): the host descriptor; -1 otherwise */
  bool wrote; /* written since opened: close commits it */
  uint16_t fdflags;
  uint32_t vol;
  uint64_t ino, pos, base, inh;
} wfd;

typedef struct {
  ehal_sfs *fs;      /* a sealed directory's; NULL for a host directory */
  int hostfd;        /* a host directory's (wasi_hostdir.c); -1 for a sealed one */
  bool writable;     /* a host directory mapped :rw */
  char *path;        /* the guest path it is preopened at */
  unsigned reported; /* storage messages told to the operator */
} volume;

struct ehal_wasi_fs {
  ehal_store *store;
  volume vols[VOLUMES_MAX];
  uint32_t nvols;
  wfd *fds; /* indexed by descriptor; 0 to 2 unused (stdio is wasi_p1.c's) */
  uint32_t nfds;
  uint32_t nhost; /* host descriptors open (each a kernel fd of this process) */
};

static wfd *get_fd(ehal_instance *inst, uint32_t fd) {
  struct ehal_wasi_fs *w = inst->wasi_fs;
  if (!w || fd < 3 || fd >= w->nfds || w->fds[fd].kind == FD_FREE) return NULL;
  return &w->fds[fd];
}

static volume *vol_of(ehal_instance *inst, const wfd *f) { return &inst->wasi_fs->vols[f->vol]; }
static bool on_host(ehal_instance *inst, const wfd *f) { return vol_of(inst, f)->hostfd >= 0; }
static uint32_t host_rc(int r) { return r == 0 ? 0 : ehal_hostdir_errno(errno); }

static uint32_t new_fd(ehal_instance *inst, const wfd *val, uint32_t *out) {
  struct ehal_wasi_fs *w = inst->wasi_fs;
  uint32_t fd = 3;
  while (fd < w->nfds && w->fds[fd].kind != FD_FREE) fd++;
  if (fd >= FD_MAX) return WASI_EMFILE;
  if (fd >= w->nfds) {
    uint32_t n = w->nfds * 2 < FD_MAX ? w->nfds * 2 : FD_MAX;
    wfd *nf = realloc(w->fds, n * sizeof *nf);
    if (!nf) return WASI_ENOMEM;
    memset(nf + w->nfds, 0, (n - w->nfds) * sizeof *nf);
    w->fds = nf;
    w->nfds = n;
  }
  w->fds[fd] = *val;
  *out = fd;
  return 0;
}

/* A sealed filesystem's answer, its storage message (an integrity error,
 * a full quota) told to the operator on the guest's stderr. */
static uint32_t fs_rc(ehal_instance *inst, volume *v, int rc) {
  const char *m = ehal_sfs_errmsg(v->fs);
  if (rc && *m) { /* a guest that fails on purpose must not flood the log */
    if (v->reported < 20)
      dprintf(inst->stderr_fd, "elastic-hal: sealed directory %s: %s\n", v->path, m);
    else if (v->reported == 20)
      dprintf(inst->stderr_fd, "elastic-hal: sealed directory %s: further errors not shown\n",
              v->path);
    v->reported++;
    ehal_sfs_clear_errmsg(v->fs);
  }
  return (uint32_t)rc;
}

/* A change to the tree (create, mkdir, unlink, rmdir, rename), and what a
 * closed file holds, is committed before the call returns, so a kill of
 * the process keeps it, as on a kernel filesystem: programs rely on that
 * (SQLite acknowledges a transaction once its journal is unlinked; the
 * write-then-rename idiom).  A power cut keeps it from the next fd_sync on,
 * as POSIX has it.  Other file data waits for fd_sync, close or a
 * write-back. */
static uint32_t committed(ehal_instance *inst, volume *v, int rc) {
  if (!rc) rc = ehal_sfs_commit(v->fs);
  return fs_rc(inst, v, rc);
}

/* Before a change to the tree: what is cached goes first, so that the
 * change's own commit holds only it (and a failure there is its own). */
static uint32_t settle(ehal_instance *inst, volume *v) {
  return fs_rc(inst, v, ehal_sfs_commit(v->fs));
}

/* Creates name in dir, committed; when the commit fails (a full quota),
 * the name is taken out again, so the call failed and changed nothing. */
static uint32_t create_committed(ehal_instance *inst, volume *v, uint64_t dir, const char *name,
                                 size_t len, uint8_t type, uint64_t *ino) {
  uint32_t rc = settle(inst, v);
  if (rc) return rc;
  int r = ehal_sfs_create(v->fs, dir, name, len, type, ino);
  if (r) return fs_rc(inst, v, r);
  if ((rc = committed(inst, v, 0)) != 0) {
    ehal_sfs_remove(v->fs, dir, name, len, type == EHAL_SFS_DIR);
    ehal_sfs_clear_errmsg(v->fs);
  }
  return rc;
}

/* ---- paths ---- */

typedef struct {
  volume *v;
  uint64_t dir; /* the directory the last component is in */
  char name[EHAL_SFS_NAME_MAX + 1];
  size_t len;   /* the last component; "." when the path names dir itself */
  uint64_t ino; /* what the path names; 0: nothing (yet) */
  bool slash;   /* the path ended in '/' */
} where;

static uint32_t dir_fd(ehal_instance *inst, uint32_t fd, wfd **out) {
  wfd *f = get_fd(inst, fd);
  if (!f) return fd <= 2 ? WASI_ENOTDIR : WASI_EBADF;
  if (f->kind != FD_DIR) return WASI_ENOTDIR;
  *out = f;
  return 0;
}

/* A path call: the directory descriptor, and for a host directory the
 * path in guest memory (*hp; NULL for a sealed directory, which walk()
 * resolves). */
static uint32_t path_call(ehal_instance *inst, uint32_t fd, uint32_t path, uint32_t len, wfd **d,
                          const char **hp) {
  uint32_t rc = dir_fd(inst, fd, d);
  if (rc) return rc;
  *hp = NULL;
  if (!on_host(inst, *d)) return 0;
  if (!(*hp = (const char *)ehal_wasi_mem(inst, path, len))) return WASI_EFAULT;
  return 0;
}

/* Resolves path (guest memory) from directory descriptor fd. */
static uint32_t walk(ehal_instance *inst, uint32_t fd, uint32_t path, uint32_t len, where *w) {
  wfd *d;
  uint32_t rc = dir_fd(inst, fd, &d);
  if (rc) return rc;
  const char *p = (const char *)ehal_wasi_mem(inst, path, len);
  if (!p) return WASI_EFAULT;
  if (len == 0) return WASI_ENOENT;
  if (len > PATH_MAX_LEN) return WASI_ENAMETOOLONG;
  if (memchr(p, 0, len)) return WASI_EINVAL;
  if (p[0] == '/') return WASI_ENOTCAPABLE;
  memset(w, 0, sizeof *w);
  w->v = vol_of(inst, d);
  w->slash = p[len - 1] == '/';
  uint64_t cur = d->ino;
  size_t i = 0;
  for (;;) {
    while (i < len && p[i] == '/') i++;
    size_t start = i;
    while (i < len && p[i] != '/') i++;
    size_t clen = i - start;
    while (i < len && p[i] == '/') i++;
    bool last = i >= len;
    const char *c = p + start;
    if (clen > EHAL_SFS_NAME_MAX) return WASI_ENAMETOOLONG;
    bool dot = clen == 1 && c[0] == '.', dotdot = clen == 2 && c[0] == '.' && c[1] == '.';
    uint64_t next = 0;
    int r = ehal_sfs_lookup(w->v->fs, cur, c, clen, &next);
    if (last && !dot && !dotdot) {
      if (r && r != EHAL_SFS_ENOENT) return fs_rc(inst, w->v, r);
      w->dir = cur;
      memcpy(w->name, c, clen);
      w->len = clen;
      w->ino = r ? 0 : next;
      return 0;
    }
    if (r) return fs_rc(inst, w->v, r);
    ehal_sfs_attr a;
    if ((r = ehal_sfs_stat(w->v->fs, next, &a))) return fs_rc(inst, w->v, r);
    if (a.type != EHAL_SFS_DIR) return WASI_ENOTDIR;
    cur = next;
    if (last) { /* "." or "..": the path names a directory itself */
      w->dir = w->ino = cur;
      w->name[0] = '.';
      w->len = 1;
      return 0;
    }
  }
}

static uint32_t walk_existing(ehal_instance *inst, uint32_t fd, uint32_t path, uint32_t len,
                              where *w, ehal_sfs_attr *a) {
  uint32_t rc = walk(inst, fd, path, len, w);
  if (rc) return rc;
  if (!w->ino) return WASI_ENOENT;
  int r = ehal_sfs_stat(w->v->fs, w->ino, a);
  if (r) return fs_rc(inst, w->v, r);
  if (w->slash && a->type != EHAL_SFS_DIR) return WASI_ENOTDIR;
  return 0;
}

/* ---- stat ---- */

static uint32_t put_filestat(ehal_instance *inst, uint32_t out, uint32_t vol,
                             const ehal_sfs_attr *a) {
  uint8_t *d = ehal_wasi_mem(inst, out, 64);
  if (!d) return WASI_EFAULT;
  memset(d, 0, 64);
  ehal_put_u64(d, vol + 1ull); /* dev: one per volume */
  ehal_put_u64(d + 8, a->ino);
  d[16] = a->type;
  ehal_put_u64(d + 24, 1); /* nlink: no hard links */
  ehal_put_u64(d + 32, a->size);
  ehal_put_u64(d + 40, a->atim);
  ehal_put_u64(d + 48, a->mtim);
  ehal_put_u64(d + 56, a->ctim);
  return 0;
}

uint32_t ehal_wasi_fd_filestat_get(void *env, uint32_t fd, uint32_t out) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f) return WASI_EBADF;
  ehal_sfs_attr a;
  if (on_host(inst, f)) {
    uint32_t rc = ehal_hostdir_stat(f->hfd, NULL, 0, &a);
    return rc ? rc : put_filestat(inst, out, f->vol, &a);
  }
  int r = ehal_sfs_stat(vol_of(inst, f)->fs, f->ino, &a);
  if (r) return fs_rc(inst, vol_of(inst, f), r);
  return put_filestat(inst, out, f->vol, &a);
}

uint32_t ehal_wasi_path_filestat_get(void *env, uint32_t fd, uint32_t flags, uint32_t path,
                                     uint32_t len, uint32_t out) {
  (void)flags; /* symlink_follow: there are no links */
  ehal_instance *inst = env;
  wfd *d;
  const char *hp;
  ehal_sfs_attr a;
  uint32_t rc = path_call(inst, fd, path, len, &d, &hp);
  if (rc) return rc;
  if (hp) {
    if ((rc = ehal_hostdir_stat(d->hfd, hp, len, &a))) return rc;
    return put_filestat(inst, out, d->vol, &a);
  }
  where w;
  if ((rc = walk_existing(inst, fd, path, len, &w, &a))) return rc;
  return put_filestat(inst, out, (uint32_t)(w.v - inst->wasi_fs->vols), &a);
}

static uint32_t set_times(ehal_instance *inst, volume *v, uint64_t ino, uint64_t atim,
                          uint64_t mtim, uint32_t fst) {
  if (fst & ~15u || ((fst & FST_ATIM) && (fst & FST_ATIM_NOW)) ||
      ((fst & FST_MTIM) && (fst & FST_MTIM_NOW)))
    return WASI_EINVAL;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  uint64_t a = fst & FST_ATIM ? atim : fst & FST_ATIM_NOW ? now : UINT64_MAX;
  uint64_t m = fst & FST_MTIM ? mtim : fst & FST_MTIM_NOW ? now : UINT64_MAX;
  return fs_rc(inst, v, ehal_sfs_set_times(v->fs, ino, a, m));
}

uint32_t ehal_wasi_fd_filestat_set_times(void *env, uint32_t fd, uint64_t atim, uint64_t mtim,
                                         uint32_t fst) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f || !(f->base & R_FD_FILESTAT_SET_TIMES)) return WASI_EBADF;
  if (on_host(inst, f))
    return ehal_hostdir_set_times(f->hfd, NULL, 0, atim, mtim, fst, vol_of(inst, f)->writable);
  return set_times(inst, vol_of(inst, f), f->ino, atim, mtim, fst);
}

uint32_t ehal_wasi_path_filestat_set_times(void *env, uint32_t fd, uint32_t flags, uint32_t path,
                                           uint32_t len, uint64_t atim, uint64_t mtim,
                                           uint32_t fst) {
  (void)flags;
  ehal_instance *inst = env;
  wfd *d;
  const char *hp;
  uint32_t rc = path_call(inst, fd, path, len, &d, &hp);
  if (rc) return rc;
  if (hp)
    return ehal_hostdir_set_times(d->hfd, hp, len, atim, mtim, fst, vol_of(inst, d)->writable);
  where w;
  ehal_sfs_attr a;
  if ((rc = walk_existing(inst, fd, path, len, &w, &a))) return rc;
  return set_times(inst, w.v, w.ino, atim, mtim, fst);
}

/* ---- descriptors ---- */

uint32_t ehal_wasi_fd_fdstat_get_file(void *env, uint32_t fd, uint32_t out) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f) return WASI_EBADF;
  uint8_t *d = ehal_wasi_mem(inst, out, 24);
  if (!d) return WASI_EFAULT;
  memset(d, 0, 24);
  d[0] = f->kind == FD_DIR ? EHAL_SFS_DIR : EHAL_SFS_FILE;
  ehal_put_u16(d + 2, f->fdflags);
  ehal_put_u64(d + 8, f->base);
  ehal_put_u64(d + 16, f->inh);
  return 0;
}

uint32_t ehal_wasi_fd_fdstat_set_flags(void *env, uint32_t fd, uint32_t flags) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f) return WASI_EBADF;
  if (flags & ~FDFLAGS_ALL) return WASI_EINVAL;
  if (on_host(inst, f)) { /* append is the kernel's there */
    int fl = fcntl(f->hfd, F_GETFL);
    if (fl < 0 || fcntl(f->hfd, F_SETFL, (flags & FDFLAG_APPEND) ? fl | O_APPEND : fl & ~O_APPEND))
      return ehal_hostdir_errno(errno);
  }
  f->fdflags = (uint16_t)flags;
  return 0;
}

uint32_t ehal_wasi_fd_fdstat_set_rights(void *env, uint32_t fd, uint64_t base, uint64_t inh) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f) return WASI_EBADF;
  if ((base & ~f->base) || (inh & ~f->inh)) return WASI_ENOTCAPABLE; /* only ever fewer */
  f->base = base;
  f->inh = inh;
  return 0;
}

uint32_t ehal_wasi_fd_close_file(void *env, uint32_t fd) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f) return WASI_EBADF;
  volume *v = vol_of(inst, f);
  bool wrote = f->wrote;
  if (f->hfd >= 0) {
    close(f->hfd);
    if (!f->preopen) inst->wasi_fs->nhost--;
    memset(f, 0, sizeof *f);
    return 0;
  }
  ehal_sfs_release(v->fs, f->ino);
  memset(f, 0, sizeof *f);
  /* the descriptor is closed whatever the write-back says */
  return wrote ? committed(inst, v, 0) : 0;
}

uint32_t ehal_wasi_fd_renumber(void *env, uint32_t from, uint32_t to) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, from), *t = get_fd(inst, to);
  if (!f || !t) return WASI_EBADF;
  if (from == to) return 0;
  wfd moved = *f;
  ehal_wasi_fd_close_file(env, to);
  memset(f, 0, sizeof *f);
  inst->wasi_fs->fds[to] = moved;
  return 0;
}

uint32_t ehal_wasi_fd_prestat_get(void *env, uint32_t fd, uint32_t out) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f || !f->preopen) return WASI_EBADF;
  uint8_t *d = ehal_wasi_mem(inst, out, 8);
  if (!d) return WASI_EFAULT;
  memset(d, 0, 8); /* tag 0: a directory */
  ehal_put_u32(d + 4, (uint32_t)strlen(vol_of(inst, f)->path));
  return 0;
}

uint32_t ehal_wasi_fd_prestat_dir_name(void *env, uint32_t fd, uint32_t path, uint32_t len) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f || !f->preopen) return WASI_EBADF;
  const char *name = vol_of(inst, f)->path;
  size_t n = strlen(name);
  if (len < n) return WASI_ENAMETOOLONG;
  uint8_t *d = ehal_wasi_mem(inst, path, n);
  if (!d) return WASI_EFAULT;
  memcpy(d, name, n);
  return 0;
}

uint32_t ehal_wasi_fd_sync(void *env, uint32_t fd) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f) return fd <= 2 ? WASI_EINVAL : WASI_EBADF;
  volume *v = vol_of(inst, f);
  if (f->hfd >= 0) return host_rc(fsync(f->hfd));
  return fs_rc(inst, v, ehal_sfs_sync(v->fs));
}

uint32_t ehal_wasi_fd_datasync(void *env, uint32_t fd) { return ehal_wasi_fd_sync(env, fd); }

/* ---- file data ---- */

static uint32_t file_fd(ehal_instance *inst, uint32_t fd, uint64_t right, wfd **out) {
  wfd *f = get_fd(inst, fd);
  if (!f) return WASI_EBADF;
  if (f->kind == FD_DIR) return WASI_EISDIR;
  if (!(f->base & right)) return WASI_EBADF;
  *out = f;
  return 0;
}

/* fd_read, fd_pread, fd_write, fd_pwrite: every buffer is checked before
 * any byte moves; at: the offset (pread/pwrite) or NULL (the position). */
static uint32_t file_io(ehal_instance *inst, uint32_t fd, uint32_t iovs, uint32_t n,
                        const uint64_t *at, bool write, uint32_t out) {
  wfd *f;
  uint32_t rc = file_fd(inst, fd, write ? R_FD_WRITE : R_FD_READ, &f);
  if (rc) return rc;
  if (n > 1024) return WASI_EINVAL;
  const uint8_t *giov = ehal_wasi_mem(inst, iovs, 8ull * n);
  if (!giov || !ehal_wasi_mem(inst, out, 4)) return WASI_EFAULT;
  /* a copy: a read into one buffer may overwrite the iovecs that follow */
  uint8_t iov[8 * 1024];
  memcpy(iov, giov, 8ull * n);
  for (uint32_t i = 0; i < n; i++)
    if (!ehal_wasi_mem(inst, ehal_get_u32(iov + 8 * i), ehal_get_u32(iov + 8 * i + 4)))
      return WASI_EFAULT;
  volume *v = vol_of(inst, f);
  if (f->hfd >= 0) { /* the kernel's position and append */
    struct iovec hv[1024];
    for (uint32_t i = 0; i < n; i++)
      hv[i] = (struct iovec){ehal_wasi_mem(inst, ehal_get_u32(iov + 8 * i), 0),
                             ehal_get_u32(iov + 8 * i + 4)};
    if (at && *at > INT64_MAX) return WASI_EINVAL;
    ssize_t r = at ? (write ? pwritev(f->hfd, hv, (int)n, (off_t)*at)
                            : preadv(f->hfd, hv, (int)n, (off_t)*at))
                   : (write ? writev(f->hfd, hv, (int)n) : readv(f->hfd, hv, (int)n));
    if (r < 0) return ehal_hostdir_errno(errno);
    return ehal_wasi_put_u32(inst, out, (uint32_t)r);
  }
  uint64_t pos = at ? *at : f->pos;
  if (write && !at && (f->fdflags & FDFLAG_APPEND)) {
    ehal_sfs_attr a;
    int r = ehal_sfs_stat(v->fs, f->ino, &a);
    if (r) return fs_rc(inst, v, r);
    pos = a.size;
  }
  uint64_t done = 0;
  int r = 0;
  for (uint32_t i = 0; i < n && done < IO_MAX; i++) {
    uint32_t p = ehal_get_u32(iov + 8 * i), len = ehal_get_u32(iov + 8 * i + 4);
    if (len > IO_MAX - done) len = (uint32_t)(IO_MAX - done);
    uint8_t *d = ehal_wasi_mem(inst, p, len);
    size_t got = 0;
    if (!d) break; /* checked above; never reached */
    r = write ? ehal_sfs_write(v->fs, f->ino, pos, d, len, &got)
              : ehal_sfs_read(v->fs, f->ino, pos, d, len, &got);
    pos += got;
    done += got;
    if (r || got < len) break;
  }
  if (r && !done) return fs_rc(inst, v, r);
  if (!at) f->pos = pos;
  f->wrote |= write && done;
  return ehal_wasi_put_u32(inst, out, (uint32_t)done);
}

uint32_t ehal_wasi_fd_read(void *env, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t nread) {
  return file_io(env, fd, iovs, n, NULL, false, nread);
}

uint32_t ehal_wasi_fd_pread(void *env, uint32_t fd, uint32_t iovs, uint32_t n, uint64_t off,
                            uint32_t nread) {
  return file_io(env, fd, iovs, n, &off, false, nread);
}

uint32_t ehal_wasi_fd_write_file(void *env, uint32_t fd, uint32_t iovs, uint32_t n,
                                 uint32_t nwritten) {
  return file_io(env, fd, iovs, n, NULL, true, nwritten);
}

uint32_t ehal_wasi_fd_pwrite(void *env, uint32_t fd, uint32_t iovs, uint32_t n, uint64_t off,
                             uint32_t nwritten) {
  return file_io(env, fd, iovs, n, &off, true, nwritten);
}

uint32_t ehal_wasi_fd_seek_file(void *env, uint32_t fd, uint64_t off, uint32_t whence,
                                uint32_t out) {
  ehal_instance *inst = env;
  wfd *f;
  uint32_t rc = file_fd(inst, fd, R_FD_SEEK | R_FD_TELL, &f);
  if (rc == WASI_EISDIR) return WASI_EBADF;
  if (rc) return rc;
  if (!ehal_wasi_mem(inst, out, 8)) return WASI_EFAULT;
  if (f->hfd >= 0) {
    off_t r = whence > 2 ? (errno = EINVAL, -1) : lseek(f->hfd, (off_t)off, (int)whence);
    if (r < 0) return ehal_hostdir_errno(errno);
    ehal_put_u64(ehal_wasi_mem(inst, out, 8), (uint64_t)r);
    return 0;
  }
  int64_t base;
  if (whence == 0) {
    base = 0;
  } else if (whence == 1) {
    base = (int64_t)f->pos;
  } else if (whence == 2) {
    ehal_sfs_attr a;
    int r = ehal_sfs_stat(vol_of(inst, f)->fs, f->ino, &a);
    if (r) return fs_rc(inst, vol_of(inst, f), r);
    base = (int64_t)a.size;
  } else {
    return WASI_EINVAL;
  }
  int64_t delta = (int64_t)off, np;
  if (__builtin_add_overflow(base, delta, &np) || np < 0) return WASI_EINVAL;
  f->pos = (uint64_t)np;
  ehal_put_u64(ehal_wasi_mem(inst, out, 8), f->pos);
  return 0;
}

uint32_t ehal_wasi_fd_tell(void *env, uint32_t fd, uint32_t out) {
  ehal_instance *inst = env;
  wfd *f;
  uint32_t rc = file_fd(inst, fd, R_FD_TELL | R_FD_SEEK, &f);
  if (rc) return rc == WASI_EISDIR ? WASI_EBADF : rc;
  uint8_t *d = ehal_wasi_mem(inst, out, 8);
  if (!d) return WASI_EFAULT;
  off_t hp = f->hfd >= 0 ? lseek(f->hfd, 0, SEEK_CUR) : 0;
  if (hp < 0) return ehal_hostdir_errno(errno);
  ehal_put_u64(d, f->hfd >= 0 ? (uint64_t)hp : f->pos);
  return 0;
}

uint32_t ehal_wasi_fd_filestat_set_size(void *env, uint32_t fd, uint64_t size) {
  ehal_instance *inst = env;
  wfd *f;
  uint32_t rc = file_fd(inst, fd, R_FD_FILESTAT_SET_SIZE, &f);
  if (rc) return rc == WASI_EISDIR ? WASI_EINVAL : rc;
  if (f->hfd >= 0) return size > INT64_MAX ? WASI_EINVAL : host_rc(ftruncate(f->hfd, (off_t)size));
  return fs_rc(inst, vol_of(inst, f), ehal_sfs_truncate(vol_of(inst, f)->fs, f->ino, size));
}

uint32_t ehal_wasi_fd_allocate(void *env, uint32_t fd, uint64_t off, uint64_t len) {
  ehal_instance *inst = env;
  wfd *f;
  uint32_t rc = file_fd(inst, fd, R_FD_ALLOCATE, &f);
  if (rc) return rc == WASI_EISDIR ? WASI_EBADF : rc;
  if (len == 0 || off + len < off) return WASI_EINVAL;
  volume *v = vol_of(inst, f);
  if (f->hfd >= 0) {
    if (off + len > INT64_MAX) return WASI_EINVAL;
    return ehal_hostdir_errno(posix_fallocate(f->hfd, (off_t)off, (off_t)len));
  }
  ehal_sfs_attr a;
  int r = ehal_sfs_stat(v->fs, f->ino, &a);
  if (!r && off + len > a.size) r = ehal_sfs_truncate(v->fs, f->ino, off + len);
  return fs_rc(inst, v, r);
}

uint32_t ehal_wasi_fd_advise(void *env, uint32_t fd, uint64_t off, uint64_t len, uint32_t advice) {
  ehal_instance *inst = env;
  (void)off, (void)len;
  wfd *f = get_fd(inst, fd);
  if (!f) return WASI_EBADF;
  if (f->kind == FD_DIR) return WASI_EBADF;
  return advice > 5 ? WASI_EINVAL : 0; /* advice only: nothing to do */
}

/* ---- directories ---- */

typedef struct {
  uint8_t *buf;
  uint32_t len, used;
} dirbuf;

/* Each entry: d_next u64, d_ino u64, d_namlen u32, d_type u8, then the
 * name; the last one cut where the buffer ends (the caller then asks
 * again with a larger one, as preview 1 has it). */
static int put_dirent(void *user, uint64_t next, uint64_t ino, uint8_t type, const char *name,
                      size_t len) {
  dirbuf *b = user;
  uint8_t hdr[24] = {0};
  ehal_put_u64(hdr, next);
  ehal_put_u64(hdr + 8, ino);
  ehal_put_u32(hdr + 16, (uint32_t)len);
  hdr[20] = type;
  uint32_t room = b->len - b->used, h = room < 24 ? room : 24;
  memcpy(b->buf + b->used, hdr, h);
  b->used += h;
  room -= h;
  uint32_t nl = room < len ? room : (uint32_t)len;
  memcpy(b->buf + b->used, name, nl);
  b->used += nl;
  return b->used >= b->len;
}

uint32_t ehal_wasi_fd_readdir(void *env, uint32_t fd, uint32_t buf, uint32_t len, uint64_t cookie,
                              uint32_t used) {
  ehal_instance *inst = env;
  wfd *f = get_fd(inst, fd);
  if (!f) return WASI_EBADF;
  if (f->kind != FD_DIR) return WASI_ENOTDIR;
  if (!(f->base & R_FD_READDIR)) return WASI_ENOTCAPABLE;
  dirbuf b = {ehal_wasi_mem(inst, buf, len), len, 0};
  if (!b.buf || !ehal_wasi_mem(inst, used, 4)) return WASI_EFAULT;
  if (len && f->hfd >= 0) {
    uint32_t rc = ehal_hostdir_readdir(f->hfd, cookie, put_dirent, &b);
    if (rc) return rc;
  } else if (len) {
    volume *v = vol_of(inst, f);
    int r = ehal_sfs_readdir(v->fs, f->ino, cookie, put_dirent, &b);
    if (r) return fs_rc(inst, v, r);
  }
  return ehal_wasi_put_u32(inst, used, b.used);
}

uint32_t ehal_wasi_path_open(void *env, uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t len,
                             uint32_t oflags, uint64_t base, uint64_t inh, uint32_t fdflags,
                             uint32_t out) {
  (void)dirflags; /* symlink_follow: there are no links */
  ehal_instance *inst = env;
  wfd *d;
  const char *hp;
  uint32_t rc = path_call(inst, fd, path, len, &d, &hp);
  if (rc) return rc;
  if (oflags & ~15u || fdflags & ~FDFLAGS_ALL) return WASI_EINVAL;
  if (!ehal_wasi_mem(inst, out, 4)) return WASI_EFAULT;
  if (hp) { /* a host directory: the kernel resolves, beneath it */
    uint64_t b = base & d->inh;
    bool wr = (b & (R_FD_WRITE | R_FD_FILESTAT_SET_SIZE | R_FD_ALLOCATE)) != 0;
    int hfd;
    /* host descriptors are the process's: bounded well below its limit */
    if (inst->wasi_fs->nhost >= HOST_FDS_MAX) return WASI_EMFILE;
    uint8_t type;
    if ((rc = ehal_hostdir_open(d->hfd, hp, len, oflags, (b & R_FD_READ) || !wr, wr,
                                fdflags & FDFLAG_APPEND, vol_of(inst, d)->writable, &hfd, &type)))
      return rc;
    wfd nf = {.kind = type == EHAL_SFS_DIR ? FD_DIR : FD_FILE,
              .hfd = hfd,
              .fdflags = (uint16_t)fdflags,
              .vol = d->vol,
              .base = b & (type == EHAL_SFS_DIR ? RIGHTS_DIR : RIGHTS_FILE),
              .inh = inh & d->inh};
    uint32_t nfd;
    if ((rc = new_fd(inst, &nf, &nfd))) {
      close(hfd);
      return rc;
    }
    inst->wasi_fs->nhost++;
    return ehal_wasi_put_u32(inst, out, nfd);
  }
  where w;
  if ((rc = walk(inst, fd, path, len, &w))) return rc;
  ehal_sfs *fs = w.v->fs;
  ehal_sfs_attr a;
  int r;
  bool created = false;
  if (w.ino) {
    if ((oflags & WO_CREAT) && (oflags & WO_EXCL)) return WASI_EEXIST;
    if ((r = ehal_sfs_stat(fs, w.ino, &a))) return fs_rc(inst, w.v, r);
    if (a.type != EHAL_SFS_DIR && ((oflags & WO_DIRECTORY) || w.slash)) return WASI_ENOTDIR;
    if (a.type == EHAL_SFS_DIR && ((oflags & WO_TRUNC) || (base & R_FD_WRITE))) return WASI_EISDIR;
  } else {
    if (!(oflags & WO_CREAT)) return WASI_ENOENT;
    if (w.slash) return WASI_EISDIR;
    if (oflags & WO_DIRECTORY) return WASI_EINVAL;
    if ((rc = create_committed(inst, w.v, w.dir, w.name, w.len, EHAL_SFS_FILE, &w.ino))) return rc;
    if ((r = ehal_sfs_stat(fs, w.ino, &a))) return fs_rc(inst, w.v, r);
    created = true;
  }
  wfd nf = {.kind = a.type == EHAL_SFS_DIR ? FD_DIR : FD_FILE,
            .hfd = -1,
            .fdflags = (uint16_t)fdflags,
            .vol = d->vol,
            .ino = w.ino};
  uint64_t allowed = nf.kind == FD_DIR ? RIGHTS_DIR : RIGHTS_FILE;
  nf.base = base & d->inh & allowed;
  nf.inh = inh & d->inh;
  if (nf.kind == FD_FILE && (oflags & WO_TRUNC) && !created) {
    if (!(nf.base & R_FD_WRITE)) return WASI_EBADF; /* WO_TRUNC on a read-only open */
    if ((r = ehal_sfs_truncate(fs, w.ino, 0))) return fs_rc(inst, w.v, r);
    nf.wrote = true;
  }
  uint32_t nfd;
  if ((rc = new_fd(inst, &nf, &nfd))) return rc;
  ehal_sfs_hold(fs, w.ino); /* a directory too: removed while open, it stays empty */
  return ehal_wasi_put_u32(inst, out, nfd);
}

uint32_t ehal_wasi_path_create_directory(void *env, uint32_t fd, uint32_t path, uint32_t len) {
  ehal_instance *inst = env;
  wfd *d;
  const char *hp;
  uint32_t rc = path_call(inst, fd, path, len, &d, &hp);
  if (rc) return rc;
  if (hp) return ehal_hostdir_mkdir(d->hfd, hp, len, vol_of(inst, d)->writable);
  where w;
  rc = walk(inst, fd, path, len, &w);
  if (rc) return rc;
  if (w.ino) return WASI_EEXIST;
  uint64_t ino;
  return create_committed(inst, w.v, w.dir, w.name, w.len, EHAL_SFS_DIR, &ino);
}

static uint32_t remove_path(ehal_instance *inst, uint32_t fd, uint32_t path, uint32_t len,
                            bool rmdir) {
  wfd *d;
  const char *hp;
  uint32_t rc = path_call(inst, fd, path, len, &d, &hp);
  if (rc) return rc;
  if (hp) return ehal_hostdir_remove(d->hfd, hp, len, rmdir, vol_of(inst, d)->writable);
  where w;
  rc = walk(inst, fd, path, len, &w);
  if (rc) return rc;
  if (!w.ino) return WASI_ENOENT;
  if (w.len == 1 && w.name[0] == '.') return rmdir ? WASI_EINVAL : WASI_EISDIR;
  if (w.slash && !rmdir) {
    ehal_sfs_attr a;
    int r = ehal_sfs_stat(w.v->fs, w.ino, &a);
    if (r) return fs_rc(inst, w.v, r);
    return a.type == EHAL_SFS_DIR ? WASI_EISDIR : WASI_ENOTDIR;
  }
  if ((rc = settle(inst, w.v))) return rc;
  return committed(inst, w.v, ehal_sfs_remove(w.v->fs, w.dir, w.name, w.len, rmdir));
}

uint32_t ehal_wasi_path_remove_directory(void *env, uint32_t fd, uint32_t path, uint32_t len) {
  return remove_path(env, fd, path, len, true);
}

uint32_t ehal_wasi_path_unlink_file(void *env, uint32_t fd, uint32_t path, uint32_t len) {
  return remove_path(env, fd, path, len, false);
}

uint32_t ehal_wasi_path_rename(void *env, uint32_t fd, uint32_t opath, uint32_t olen, uint32_t nfd,
                               uint32_t npath, uint32_t nlen) {
  ehal_instance *inst = env;
  wfd *od, *nd;
  const char *ohp, *nhp;
  uint32_t rc = path_call(inst, fd, opath, olen, &od, &ohp);
  if (rc || (rc = path_call(inst, nfd, npath, nlen, &nd, &nhp))) return rc;
  if (od->vol != nd->vol) return WASI_EXDEV;
  if (ohp)
    return ehal_hostdir_rename(od->hfd, ohp, olen, nd->hfd, nhp, nlen, vol_of(inst, od)->writable);
  where o, n;
  if ((rc = walk(inst, fd, opath, olen, &o)) || (rc = walk(inst, nfd, npath, nlen, &n))) return rc;
  if (o.v != n.v) return WASI_EXDEV;
  if (!o.ino) return WASI_ENOENT;
  if ((o.len == 1 && o.name[0] == '.') || (n.len == 1 && n.name[0] == '.')) return WASI_EINVAL;
  if (o.slash || n.slash) { /* a trailing slash names a directory */
    ehal_sfs_attr a;
    int r = ehal_sfs_stat(o.v->fs, o.ino, &a);
    if (r) return fs_rc(inst, o.v, r);
    if (a.type != EHAL_SFS_DIR) return WASI_ENOTDIR;
  }
  if ((rc = settle(inst, o.v))) return rc;
  return committed(inst, o.v, ehal_sfs_rename(o.v->fs, o.dir, o.name, o.len, n.dir, n.name, n.len));
}

uint32_t ehal_wasi_path_readlink(void *env, uint32_t fd, uint32_t path, uint32_t len, uint32_t buf,
                                 uint32_t buflen, uint32_t used) {
  ehal_instance *inst = env;
  (void)buf, (void)buflen, (void)used;
  wfd *d;
  const char *hp;
  ehal_sfs_attr a;
  uint32_t rc = path_call(inst, fd, path, len, &d, &hp);
  if (!rc && hp) rc = ehal_hostdir_stat(d->hfd, hp, len, &a);
  where w;
  if (!rc && !hp) rc = walk_existing(inst, fd, path, len, &w, &a);
  return rc ? rc : WASI_EINVAL; /* it exists, and nothing is a link */
}

uint32_t ehal_wasi_path_link(void *env, uint32_t ofd, uint32_t oflags, uint32_t opath,
                             uint32_t olen, uint32_t nfd, uint32_t npath, uint32_t nlen) {
  ehal_instance *inst = env;
  (void)oflags, (void)opath, (void)olen, (void)nfd, (void)npath, (void)nlen;
  wfd *d;
  uint32_t rc = dir_fd(inst, ofd, &d);
  return rc ? rc : WASI_ENOTSUP; /* hard links are not kept */
}

uint32_t ehal_wasi_path_symlink(void *env, uint32_t opath, uint32_t olen, uint32_t fd,
                                uint32_t npath, uint32_t nlen) {
  ehal_instance *inst = env;
  (void)opath, (void)olen, (void)npath, (void)nlen;
  wfd *d;
  uint32_t rc = dir_fd(inst, fd, &d);
  return rc ? rc : WASI_ENOTSUP; /* symbolic links are refused: see the top */
}

bool ehal_wasi_fs_has(const ehal_instance *inst, bool host) {
  const struct ehal_wasi_fs *w = inst->wasi_fs;
  for (uint32_t i = 0; w && i < w->nvols; i++)
    if ((w->vols[i].hostfd >= 0) == host) return true;
  return false;
}

void ehal_wasi_fs_set_quota(ehal_instance *inst, uint64_t bytes) {
  if (inst->wasi_fs && inst->wasi_fs->store) ehal_store_set_quota(inst->wasi_fs->store, bytes);
}

bool ehal_wasi_fs_is_file(ehal_instance *inst, uint32_t fd) {
  wfd *f = get_fd(inst, fd);
  return f && f->kind == FD_FILE;
}

/* ---- the instance's volumes ---- */

/* Checks the guest paths of every preopen: valid, none twice. */
static int check_paths(const char *const *dirs, size_t n, const elastic_hal_host_dir *hosts,
                       size_t nh, char *err, size_t errlen) {
  for (size_t i = 0; i < n + nh; i++) {
    const char *g = i < n ? dirs[i] : hosts[i - n].guest_path;
    if (!g || !ehal_sfs_guest_path_ok(g)) {
      snprintf(err, errlen,
               "%s directory '%s': give an absolute guest path such as /data (no '.', "
               "'..', empty or trailing components, at most 200 bytes)",
               i < n ? "sealed" : "host", g ? g : "(none)");
      return -1;
    }
    for (size_t j = 0; j < i; j++)
      if (!strcmp(g, j < n ? dirs[j] : hosts[j - n].guest_path)) {
        snprintf(err, errlen, "guest path '%s' is given twice", g);
        return -1;
      }
  }
  return 0;
}

/* The next preopen: a directory descriptor over volume v. */
static void preopen(struct ehal_wasi_fs *w, int hfd) {
  w->fds[3 + w->nvols] = (wfd){.kind = FD_DIR,
                               .preopen = true,
                               .hfd = hfd,
                               .vol = w->nvols,
                               .ino = EHAL_SFS_ROOT,
                               .base = RIGHTS_DIR,
                               .inh = RIGHTS_DIR | RIGHTS_FILE};
  w->nvols++;
}

int ehal_wasi_fs_open(ehal_instance *inst, const char *const *dirs, size_t n,
                      const elastic_hal_host_dir *hosts, size_t nh, char *err, size_t errlen) {
  if (n + nh == 0) return 0;
  if (n + nh > VOLUMES_MAX) {
    snprintf(err, errlen, "at most %u sealed and host directories", VOLUMES_MAX);
    return -1;
  }
  if (n && !inst->state_dir) {
    snprintf(err, errlen, "sealed directories need a state directory");
    return -1;
  }
  if (check_paths(dirs, n, hosts, nh, err, errlen)) return -1;
  struct ehal_wasi_fs *w = calloc(1, sizeof *w);
  uint32_t nfds = n + nh + 3 > 16 ? (uint32_t)(n + nh) + 3 : 16;
  if (!w || !(w->fds = calloc(nfds, sizeof *w->fds))) {
    free(w);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  w->nfds = nfds;
  inst->wasi_fs = w;
  ehal_store_limits lim;
  ehal_storage_get_limits(&lim);
  lim.max_bytes_per_workload = ehal_storage_quota(inst);
  ehal_store_err e;
  if (n && !(w->store = ehal_store_open(inst->state_dir, inst->workload, NULL, &lim, &e))) {
    snprintf(err, errlen, "sealed directories: %s", e.msg);
    ehal_wasi_fs_close(inst);
    return -1;
  }
  for (size_t i = 0; i < n + nh; i++) {
    volume *v = &w->vols[w->nvols];
    const char *g = i < n ? dirs[i] : hosts[i - n].guest_path;
    v->hostfd = -1;
    if (!(v->path = strdup(g))) {
      snprintf(err, errlen, "out of memory");
      ehal_wasi_fs_close(inst);
      return -1;
    }
    if (i < n && !(v->fs = ehal_sfs_open(w->store, g, true, &e))) {
      snprintf(err, errlen, "sealed directory %s: %s", g, e.msg);
      free(v->path);
      v->path = NULL;
      ehal_wasi_fs_close(inst);
      return -1;
    }
    int hfd = -1;
    if (i >= n) { /* the operator's path: opened as given */
      const elastic_hal_host_dir *h = &hosts[i - n];
      v->writable = h->writable;
      v->hostfd = open(h->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (v->hostfd < 0 || (hfd = fcntl(v->hostfd, F_DUPFD_CLOEXEC, 3)) < 0) {
        snprintf(err, errlen, "host directory %s: %s", h->host_path, strerror(errno));
        if (v->hostfd >= 0) close(v->hostfd);
        free(v->path);
        v->path = NULL;
        ehal_wasi_fs_close(inst);
        return -1;
      }
    } else {
      ehal_sfs_hold(v->fs, EHAL_SFS_ROOT);
    }
    preopen(w, hfd);
  }
  return 0;
}

int ehal_wasi_fs_sync(ehal_instance *inst, char *err, size_t errlen) {
  struct ehal_wasi_fs *w = inst->wasi_fs;
  int bad = 0;
  for (uint32_t i = 0; w && i < w->nvols; i++) {
    if (!w->vols[i].fs) continue; /* a host directory */
    int r = ehal_sfs_sync(w->vols[i].fs);
    if (r && !bad++)
      snprintf(err, errlen, "sealed directory %s: cannot write back: %s", w->vols[i].path,
               *ehal_sfs_errmsg(w->vols[i].fs) ? ehal_sfs_errmsg(w->vols[i].fs) : "out of memory");
  }
  return bad ? -1 : 0;
}

void ehal_wasi_fs_close(ehal_instance *inst) {
  struct ehal_wasi_fs *w = inst->wasi_fs;
  if (!w) return;
  for (uint32_t fd = 3; fd < w->nfds; fd++) /* so that unlinked open files go */
    if (w->fds[fd].kind != FD_FREE) ehal_wasi_fd_close_file(inst, fd);
  char msg[700];
  if (ehal_wasi_fs_sync(inst, msg, sizeof msg) != 0)
    dprintf(inst->stderr_fd, "elastic-hal: %s\n", msg);
  for (uint32_t i = 0; i < w->nvols; i++) {
    ehal_sfs_close(w->vols[i].fs);
    if (w->vols[i].hostfd >= 0) close(w->vols[i].hostfd);
    free(w->vols[i].path);
  }
  ehal_store_close(w->store);
  free(w->fds);
  free(w);
  inst->wasi_fs = NULL;
}
