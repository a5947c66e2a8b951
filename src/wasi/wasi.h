/*
 * wasi.h - what the WASI preview 1 files share (internal): errno values,
 * guest memory checks, and the filesystem half's entry points (wasi_fs.c).
 */
#ifndef EHAL_WASI_H
#define EHAL_WASI_H

#include <stdbool.h>
#include <stdint.h>

#include "../fs/sealfs.h"
#include "../runtime/instance.h"

enum {
  WASI_ESUCCESS = 0,
  WASI_EBADF = 8,
  WASI_EEXIST = 20,
  WASI_EFAULT = 21,
  WASI_EINVAL = 28,
  WASI_EIO = 29,
  WASI_EISDIR = 31,
  WASI_EMFILE = 33,
  WASI_ENAMETOOLONG = 37,
  WASI_ENOENT = 44,
  WASI_ENOMEM = 48,
  WASI_ENOSYS = 52,
  WASI_ENOTDIR = 54,
  WASI_ENOTSOCK = 57,
  WASI_ENOTSUP = 58,
  WASI_EROFS = 69,
  WASI_ESPIPE = 70,
  WASI_EXDEV = 75,
  WASI_ENOTCAPABLE = 76,
};

/* Guest address range check; NULL if [p, p+len) is not inside memory. */
static inline uint8_t *ehal_wasi_mem(ehal_instance *inst, uint32_t p, uint64_t len) {
  if (!inst->mem.data || (uint64_t)p + len > *inst->mem.size) return NULL;
  return *inst->mem.data + p;
}

static inline uint32_t ehal_wasi_put_u32(ehal_instance *inst, uint32_t p, uint32_t v) {
  uint8_t *d = ehal_wasi_mem(inst, p, 4);
  if (!d) return WASI_EFAULT;
  ehal_put_u32(d, v);
  return 0;
}

/* ---- wasi_fs.c: descriptors 3 and up (sealed directories and their files) ---- */

/* Opens the instance's sealed directories (guest paths) in its storage;
 * -1 with a message on failure.  ehal_wasi_fs_close writes back and frees
 * (ehal_wasi_fs_sync first, to see write-back errors). */
int ehal_wasi_fs_open(ehal_instance *inst, const char *const *dirs, size_t n,
                      const elastic_hal_host_dir *hosts, size_t nh, char *err, size_t errlen);
int ehal_wasi_fs_sync(ehal_instance *inst, char *err, size_t errlen);
void ehal_wasi_fs_close(ehal_instance *inst);
/* The instance has sealed directories (host false) or host ones (true). */
bool ehal_wasi_fs_has(const ehal_instance *inst, bool host);
/* A resources grant changed the workload's storage quota. */
void ehal_wasi_fs_set_quota(ehal_instance *inst, uint64_t bytes);
/* fd is an open file (always ready for poll_oneoff). */
bool ehal_wasi_fs_is_file(ehal_instance *inst, uint32_t fd);

/* The preview 1 functions on descriptors above stdio (what wasi_p1.c
 * does not answer itself); their signatures are preview 1's. */
uint32_t ehal_wasi_fd_write_file(void *env, uint32_t fd, uint32_t iovs, uint32_t n,
                                 uint32_t nwritten);
uint32_t ehal_wasi_fd_fdstat_get_file(void *env, uint32_t fd, uint32_t out);
uint32_t ehal_wasi_fd_close_file(void *env, uint32_t fd);
uint32_t ehal_wasi_fd_seek_file(void *env, uint32_t fd, uint64_t off, uint32_t whence,
                                uint32_t out);
/* ---- wasi_hostdir.c: host directories (--dir-host), paths resolved by the
 * kernel beneath the descriptor's directory; each returns a WASI errno ---- */
#define PATH_MAX_HOST 4096
uint32_t ehal_hostdir_errno(int e);
uint32_t ehal_hostdir_open(int dirfd, const char *path, size_t len, uint32_t oflags, bool rd,
                           bool wr, bool append, bool writable, int *out, uint8_t *type);
uint32_t ehal_hostdir_stat(int fd, const char *path, size_t len, ehal_sfs_attr *a);
uint32_t ehal_hostdir_mkdir(int dirfd, const char *path, size_t len, bool writable);
uint32_t ehal_hostdir_remove(int dirfd, const char *path, size_t len, bool rmdir, bool writable);
uint32_t ehal_hostdir_rename(int ofd, const char *opath, size_t olen, int nfd, const char *npath,
                             size_t nlen, bool writable);
uint32_t ehal_hostdir_set_times(int fd, const char *path, size_t len, uint64_t atim, uint64_t mtim,
                                uint32_t fst, bool writable);
uint32_t ehal_hostdir_readdir(int fd, uint64_t cookie, ehal_sfs_dirent_fn fn, void *user);

#define U uint32_t
#define L uint64_t
uint32_t ehal_wasi_fd_advise(void *env, U fd, L off, L len, U advice);
uint32_t ehal_wasi_fd_allocate(void *env, U fd, L off, L len);
uint32_t ehal_wasi_fd_datasync(void *env, U fd);
uint32_t ehal_wasi_fd_fdstat_set_flags(void *env, U fd, U flags);
uint32_t ehal_wasi_fd_fdstat_set_rights(void *env, U fd, L base, L inh);
uint32_t ehal_wasi_fd_filestat_get(void *env, U fd, U out);
uint32_t ehal_wasi_fd_filestat_set_size(void *env, U fd, L size);
uint32_t ehal_wasi_fd_filestat_set_times(void *env, U fd, L atim, L mtim, U flags);
uint32_t ehal_wasi_fd_pread(void *env, U fd, U iovs, U n, L off, U nread);
uint32_t ehal_wasi_fd_prestat_get(void *env, U fd, U out);
uint32_t ehal_wasi_fd_prestat_dir_name(void *env, U fd, U path, U len);
uint32_t ehal_wasi_fd_pwrite(void *env, U fd, U iovs, U n, L off, U nwritten);
uint32_t ehal_wasi_fd_read(void *env, U fd, U iovs, U n, U nread);
uint32_t ehal_wasi_fd_readdir(void *env, U fd, U buf, U len, L cookie, U used);
uint32_t ehal_wasi_fd_renumber(void *env, U from, U to);
uint32_t ehal_wasi_fd_sync(void *env, U fd);
uint32_t ehal_wasi_fd_tell(void *env, U fd, U out);
uint32_t ehal_wasi_path_create_directory(void *env, U fd, U path, U len);
uint32_t ehal_wasi_path_filestat_get(void *env, U fd, U flags, U path, U len, U out);
uint32_t ehal_wasi_path_filestat_set_times(void *env, U fd, U flags, U path, U len, L atim, L mtim,
                                           U fst);
uint32_t ehal_wasi_path_link(void *env, U ofd, U oflags, U opath, U olen, U nfd, U npath, U nlen);
uint32_t ehal_wasi_path_open(void *env, U fd, U dirflags, U path, U len, U oflags, L base, L inh,
                             U fdflags, U out);
uint32_t ehal_wasi_path_readlink(void *env, U fd, U path, U len, U buf, U buflen, U used);
uint32_t ehal_wasi_path_remove_directory(void *env, U fd, U path, U len);
uint32_t ehal_wasi_path_rename(void *env, U fd, U opath, U olen, U nfd, U npath, U nlen);
uint32_t ehal_wasi_path_symlink(void *env, U opath, U olen, U fd, U npath, U nlen);
uint32_t ehal_wasi_path_unlink_file(void *env, U fd, U path, U len);
#undef U
#undef L

#endif
