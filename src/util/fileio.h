/*
 * fileio.h - reading and writing whole files (src/util/: a leaf).
 *
 * Reading is bounded: a caller names the most it will hold, and a larger
 * input is an error (EFBIG), never a truncation or an unbounded allocation.
 * Writing is all-or-nothing: ehal_write_file_atomic leaves a reader the old
 * file or the new one, never a part of one, and what it wrote survives a
 * power cut once it returns.
 *
 * Errors: functions with err/errlen write one line into it ("cannot read
 * PATH: REASON") and keep errno; the others set errno only.
 */
#ifndef EHAL_UTIL_FILEIO_H
#define EHAL_UTIL_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* write(2) all of buf to fd, across short writes and EINTR.  0, or -1
 * with errno set (EIO for a write that made no progress). */
int ehal_write_all(int fd, const void *buf, size_t len);

/* Reads fd to its end (any kind: a pipe, a FIFO, a regular file), at most
 * max bytes.  Returns a malloc'd buffer (the caller frees it) with one
 * spare byte past *len (so a caller may NUL-terminate text), or NULL with
 * errno: EFBIG when there are more than max bytes, ENOMEM, or read's. */
uint8_t *ehal_read_fd(int fd, size_t max, size_t *len);

/* ehal_read_fd, and on failure err "cannot read NAME: REASON" (REASON:
 * "larger than 16 MiB" for max 16 MiB, "out of memory", or strerror). */
uint8_t *ehal_read_fd_named(int fd, const char *name, size_t max, size_t *len, char *err,
                            size_t errlen);

/* ehal_read_fd_named of the file at path (opened O_RDONLY | O_CLOEXEC;
 * "-" is not special). */
uint8_t *ehal_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* Creates path anew (O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC) with
 * exactly mode, whatever the umask, writes data and fsyncs it.  0, or -1
 * with errno (EEXIST: path was there; a file it made is removed again). */
int ehal_write_new_file(const char *path, const void *data, size_t len, mode_t mode);

/* fsync(2) of a directory, so the names created or renamed in it survive a
 * power cut.  0, or -1 with errno. */
int ehal_fsync_dir(const char *dir);

#define EHAL_ATOMIC_NO_REPLACE 1u /* keep an existing path: link(2), not rename(2) */

/*
 * Writes data to path atomically: a fresh temporary next to it
 * ("PATH.<64 random bits>.tmp", by ehal_write_new_file: no link followed,
 * nobody else's file reused), then rename(2) over path (or, with
 * EHAL_ATOMIC_NO_REPLACE, link(2) to path, which fails when path exists:
 * concurrent first writers agree on one winner), then fsync of path's
 * directory (in either case, so a winner's file is durable before a loser
 * uses it).  The temporary never outlives the call.
 * Returns 0 when path now holds data; 1 with EHAL_ATOMIC_NO_REPLACE when
 * path already existed (nothing written); -1 with err and errno.
 */
int ehal_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                           unsigned flags, char *err, size_t errlen);

#endif
