/*
 * sealfs.h - a sealed directory tree: a filesystem kept in one container
 * of a workload's encrypted storage (src/storage/store.h), for the WASI
 * preview 1 filesystem (src/wasi/wasi_p1.c).  Format and threat model:
 * docs/filesystem.md.
 *
 * A volume is a tree of directories and regular files named by inode
 * numbers; the root is EHAL_SFS_ROOT.  Nothing here knows about guest
 * memory or descriptors: the WASI layer resolves those and calls in with
 * host buffers.  Changes are cached and written back (every object of one
 * write-back in one store batch, so the store holds a consistent tree
 * after any crash); ehal_sfs_commit makes everything survive a crash of
 * the process, ehal_sfs_sync a power cut too.
 *
 * Functions return 0 or a WASI errno (EHAL_SFS_E*); a storage failure is
 * EIO (or ENOSPC/EDQUOT for a limit) with the store's message in
 * ehal_sfs_errmsg.
 */
#ifndef EHAL_FS_SEALFS_H
#define EHAL_FS_SEALFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../storage/store.h"

/* WASI preview 1 errno values this layer returns */
enum {
  EHAL_SFS_OK = 0,
  EHAL_SFS_EBADF = 8,
  EHAL_SFS_EDQUOT = 19,
  EHAL_SFS_EEXIST = 20,
  EHAL_SFS_EFBIG = 22,
  EHAL_SFS_EINVAL = 28,
  EHAL_SFS_EIO = 29,
  EHAL_SFS_EISDIR = 31,
  EHAL_SFS_ENAMETOOLONG = 37,
  EHAL_SFS_ENOENT = 44,
  EHAL_SFS_ENOMEM = 48,
  EHAL_SFS_ENOSPC = 51,
  EHAL_SFS_ENOTDIR = 54,
  EHAL_SFS_ENOTEMPTY = 55,
  EHAL_SFS_ENOTCAPABLE = 76,
};

/* WASI filetype values */
#define EHAL_SFS_DIR 3
#define EHAL_SFS_FILE 4

#define EHAL_SFS_ROOT 1ull
#define EHAL_SFS_CHUNK 65536u          /* bytes of file data per sealed object */
#define EHAL_SFS_NAME_MAX 255          /* bytes in one name */
#define EHAL_SFS_MAX_FILE (1ull << 44) /* bytes in one file (16 TiB) */
#define EHAL_SFS_DIR_MAX 65536u        /* entries in one directory */

typedef struct ehal_sfs ehal_sfs;

/* A volume's name, the guest path it is preopened at: absolute, no ".",
 * ".." or empty component, no trailing '/' (but "/" itself), no control
 * characters, at most 200 bytes. */
bool ehal_sfs_guest_path_ok(const char *path);

typedef struct {
  uint64_t ino;
  uint8_t type;              /* EHAL_SFS_DIR or EHAL_SFS_FILE */
  uint64_t size;             /* files: bytes; directories: entries */
  uint64_t atim, mtim, ctim; /* nanoseconds since the Unix epoch */
} ehal_sfs_attr;

/* Opens the volume `name` (a guest path: "/data") of store s; with create,
 * makes it (an empty root directory) if it does not exist, else that is
 * "not found".  The store must outlive the volume.  NULL with *e set on
 * failure (an integrity error included). */
ehal_sfs *ehal_sfs_open(ehal_store *s, const char *name, bool create, ehal_store_err *e);
/* Writes back what is cached (as ehal_sfs_sync) and frees the volume. */
int ehal_sfs_close(ehal_sfs *fs);
/* Makes every change so far durable (a power cut keeps it): written back
 * and committed with the store's fsync. */
int ehal_sfs_sync(ehal_sfs *fs);
/* Writes back and commits every change so far without the fsync: a crash
 * of the process keeps it, a power cut only after the next sync. */
int ehal_sfs_commit(ehal_sfs *fs);
/* The message of the last storage failure ("" if none), and forgetting it. */
const char *ehal_sfs_errmsg(const ehal_sfs *fs);
void ehal_sfs_clear_errmsg(ehal_sfs *fs);

/* Looks up name (1 to EHAL_SFS_NAME_MAX bytes, no '/' or NUL; "." and ".."
 * included, ".." of the root being ENOTCAPABLE) in directory dir. */
int ehal_sfs_lookup(ehal_sfs *fs, uint64_t dir, const char *name, size_t len, uint64_t *ino);
int ehal_sfs_stat(ehal_sfs *fs, uint64_t ino, ehal_sfs_attr *st);
/* Makes a new file or directory name in dir (EEXIST if the name is taken). */
int ehal_sfs_create(ehal_sfs *fs, uint64_t dir, const char *name, size_t len, uint8_t type,
                    uint64_t *ino);
/* Removes name from dir: a file (EISDIR for a directory), or with rmdir an
 * empty directory (ENOTDIR for a file, ENOTEMPTY).  A file still open
 * (ehal_sfs_hold) keeps its data until its last release. */
int ehal_sfs_remove(ehal_sfs *fs, uint64_t dir, const char *name, size_t len, bool rmdir);
/* Renames with POSIX rename()'s rules: replaces a file, or an empty
 * directory by a directory; a directory never moves under itself. */
int ehal_sfs_rename(ehal_sfs *fs, uint64_t odir, const char *oname, size_t olen, uint64_t ndir,
                    const char *nname, size_t nlen);

/* Open descriptors hold the inode: an unlinked file lives until released. */
void ehal_sfs_hold(ehal_sfs *fs, uint64_t ino);
void ehal_sfs_release(ehal_sfs *fs, uint64_t ino);

/* File data.  read: *n gets the bytes read (0 at or past the end). */
int ehal_sfs_read(ehal_sfs *fs, uint64_t ino, uint64_t off, uint8_t *buf, size_t len, size_t *n);
/* write: *n gets the bytes written; fewer than len (a short write, the
 * next call getting the error) when a write-back failed on the way. */
int ehal_sfs_write(ehal_sfs *fs, uint64_t ino, uint64_t off, const uint8_t *buf, size_t len,
                   size_t *n);
int ehal_sfs_truncate(ehal_sfs *fs, uint64_t ino, uint64_t size);
/* Sets times (UINT64_MAX: leave as is). */
int ehal_sfs_set_times(ehal_sfs *fs, uint64_t ino, uint64_t atim, uint64_t mtim);

/* Directory entries after cookie (0: from the start; "." and ".." come
 * first), in a stable order; fn gets each with the cookie of the entry
 * after it and returns non-zero to stop. */
typedef int (*ehal_sfs_dirent_fn)(void *user, uint64_t next, uint64_t ino, uint8_t type,
                                  const char *name, size_t len);
int ehal_sfs_readdir(ehal_sfs *fs, uint64_t dir, uint64_t cookie, ehal_sfs_dirent_fn fn,
                     void *user);

#endif
