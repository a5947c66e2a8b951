/* fsutil.h - small filesystem helpers: private directories and files that
 * must be ours alone (state directories, keys, the artifact cache). */
#ifndef EHAL_FSUTIL_H
#define EHAL_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fileio.h"

/* mkdir -p: every directory it creates gets mode 0700 (state directories
 * hold keys and workload data).  Existing directories are left as they are,
 * unchecked: for the state directory and anything in it use
 * ehal_secure_dir / ehal_secure_subdir instead.
 * Returns 0, or -1 with errno set. */
int ehal_mkdir_p(const char *path);

/*
 * The state directory is trusted with keys and compiled code, so it, and
 * everything in it, must be the running user's alone: another local user
 * who created it first (say under /tmp) could otherwise plant a shared
 * library at a cache key anyone can compute, or a sealing root of their
 * choosing.
 *
 * ehal_secure_dir: mkdir -p of path (each directory it creates is 0700),
 * then checks, without following symbolic links, that path itself and
 * every directory it created is a real directory owned by geteuid() and
 * not writable by group or others (mode & 022 == 0).  Directories above
 * path that already existed (/tmp, $HOME) are not checked: only the state
 * directory and what is inside it need to be private.
 * Returns 0, or -1 with err saying what is wrong and how to fix it.
 */
int ehal_secure_dir(const char *path, char *err, size_t errlen);

/*
 * ehal_secure_subdir: ehal_secure_dir(state_dir) and then every component
 * of sub (a relative path such as "sealing" or "attestation/simulated",
 * no "..") below it, each checked the same way.  With create false nothing
 * is created: returns 1 (errno ENOENT) when state_dir or a part of sub does
 * not exist.  Returns 0 when all is well, -1 with err otherwise.
 * sub may be NULL or "" (then it checks state_dir alone).
 */
int ehal_secure_subdir(const char *state_dir, const char *sub, bool create, char *err,
                       size_t errlen);

/*
 * ehal_secure_open: open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode), then
 * fstat: the file must be a regular file owned by geteuid() and not
 * writable by group or others.  A FIFO or device planted at path does not
 * block the open.  Returns the fd, or -1 with err set and errno kept from
 * open() when open itself failed (ENOENT, EEXIST with O_EXCL, ELOOP for a
 * symbolic link), EACCES when the file failed a check.
 * Files holding secrets should also be checked with
 * ehal_secure_fd(fd, path, 077, ...) (keys must be 0600).
 */
int ehal_secure_open(const char *path, int flags, mode_t mode, char *err, size_t errlen);

/* The checks of ehal_secure_open on an open fd: a regular file owned by
 * geteuid() with none of the mode bits in forbidden (022: not writable by
 * group or others; 077: private).  Returns 0, or -1 with err (errno
 * EACCES). */
int ehal_secure_fd(int fd, const char *path, mode_t forbidden, char *err, size_t errlen);

/* ehal_write_all (write(2) all of a buffer) lives in src/util/fileio.h. */

#endif
