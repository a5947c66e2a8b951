/*
 * wasi_p1.c - the part of WASI preview 1 that a wasi-libc command needs,
 * and nothing that reaches the host beyond it.
 *
 * Served: args and environment (only what the operator passed: the host's
 * environment is never inherited), clocks, random_get, writing to stdout and
 * stderr, poll_oneoff on clocks, stdio and files (so that sleep works,
 * within the workload's sleep bound), sched_yield and proc_exit.  Files and
 * directories are the sealed directories the operator preopens (--dir),
 * served by wasi_fs.c; without any, a descriptor beyond stdio is EBADF.
 * Every other preview 1 function is linked with its exact signature and
 * answers the errno its case calls for: there are no sockets here, so
 * stdio is neither a directory (ENOTDIR) nor a socket (ENOTSOCK), and what
 * remains is ENOSYS.
 *
 * Bad guest pointers get EFAULT, as in the WASI specification.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../runtime/instance.h"
#include "../runtime/linker.h"
#include "wasi.h"

#define mem ehal_wasi_mem
#define put_u32 ehal_wasi_put_u32

/* Lay out a string vector (argv or environ) as pointers + NUL-terminated
 * strings, the shape args_get/environ_get write. */
static uint32_t vec_get(ehal_instance *inst, int n, char **v, uint32_t ptrs, uint32_t buf) {
  for (int i = 0; i < n; i++) {
    size_t len = strlen(v[i]) + 1;
    uint8_t *d = mem(inst, buf, len);
    if (!d || put_u32(inst, ptrs + 4u * (uint32_t)i, buf)) return WASI_EFAULT;
    memcpy(d, v[i], len);
    buf += (uint32_t)len;
  }
  return 0;
}

static uint32_t vec_sizes(ehal_instance *inst, int n, char **v, uint32_t count_p, uint32_t size_p) {
  uint64_t total = 0;
  for (int i = 0; i < n; i++) total += strlen(v[i]) + 1;
  if (total > UINT32_MAX) return WASI_EINVAL;
  if (put_u32(inst, count_p, (uint32_t)n) || put_u32(inst, size_p, (uint32_t)total))
    return WASI_EFAULT;
  return 0;
}

static uint32_t args_get(void *env, uint32_t argv, uint32_t buf) {
  ehal_instance *inst = env;
  return vec_get(inst, inst->argc, inst->argv, argv, buf);
}
static uint32_t args_sizes_get(void *env, uint32_t count, uint32_t size) {
  ehal_instance *inst = env;
  return vec_sizes(inst, inst->argc, inst->argv, count, size);
}
static uint32_t environ_get(void *env, uint32_t envp, uint32_t buf) {
  ehal_instance *inst = env;
  return vec_get(inst, inst->envc, inst->env, envp, buf);
}
static uint32_t environ_sizes_get(void *env, uint32_t count, uint32_t size) {
  ehal_instance *inst = env;
  return vec_sizes(inst, inst->envc, inst->env, count, size);
}

static bool clock_id(uint32_t id, clockid_t *out) {
  static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                  CLOCK_THREAD_CPUTIME_ID};
  if (id > 3) return false;
  *out = ids[id];
  return true;
}

static uint32_t clock_res_get(void *env, uint32_t id, uint32_t out) {
  clockid_t c;
  struct timespec ts;
  if (!clock_id(id, &c) || clock_getres(c, &ts) != 0) return WASI_EINVAL;
  uint8_t *d = mem(env, out, 8);
  if (!d) return WASI_EFAULT;
  ehal_put_u64(d, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
  return 0;
}

static uint32_t clock_time_get(void *env, uint32_t id, uint64_t precision, uint32_t out) {
  (void)precision;
  clockid_t c;
  struct timespec ts;
  if (!clock_id(id, &c) || clock_gettime(c, &ts) != 0) return WASI_EINVAL;
  uint8_t *d = mem(env, out, 8);
  if (!d) return WASI_EFAULT;
  ehal_put_u64(d, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
  return 0;
}

static uint32_t random_get(void *env, uint32_t buf, uint32_t len) {
  uint8_t *d = mem(env, buf, len);
  if (!d) return WASI_EFAULT;
  for (size_t done = 0; done < len;) {
    ssize_t n = getrandom(d + done, len - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return WASI_EIO;
    done += (size_t)n;
  }
  return 0;
}

static int host_fd(ehal_instance *inst, uint32_t fd) {
  if (fd == 1) return inst->stdout_fd;
  if (fd == 2) return inst->stderr_fd;
  return -1;
}

static uint32_t fd_write(void *env, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t nwritten) {
  ehal_instance *inst = env;
  int hfd = host_fd(inst, fd);
  if (hfd < 0) return fd > 2 ? ehal_wasi_fd_write_file(env, fd, iovs, n, nwritten) : WASI_EBADF;
  if (n > 1024) return WASI_EINVAL;
  const uint8_t *iov = mem(inst, iovs, 8ull * n);
  if (!iov) return WASI_EFAULT;
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t p = ehal_get_u32(iov + 8 * i), len = ehal_get_u32(iov + 8 * i + 4);
    const uint8_t *d = mem(inst, p, len);
    if (!d) return WASI_EFAULT;
    for (uint32_t done = 0; done < len;) {
      ssize_t w = write(hfd, d + done, len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return WASI_EIO;
      done += (uint32_t)w;
    }
    total += len;
  }
  return put_u32(inst, nwritten, (uint32_t)total);
}

static uint32_t fd_fdstat_get(void *env, uint32_t fd, uint32_t out) {
  if (fd > 2) return ehal_wasi_fd_fdstat_get_file(env, fd, out);
  uint8_t *d = mem(env, out, 24);
  if (!d) return WASI_EFAULT;
  memset(d, 0, 24);
  d[0] = 2;                                       /* filetype: character device */
  ehal_put_u64(d + 8, fd == 0 ? 0 : (1ull << 6)); /* rights: fd_write on 1 and 2 */
  return 0;
}

static uint32_t fd_close(void *env, uint32_t fd) {
  return fd <= 2 ? WASI_ENOSYS : ehal_wasi_fd_close_file(env, fd);
}

static uint32_t fd_seek(void *env, uint32_t fd, uint64_t off, uint32_t whence, uint32_t out) {
  return fd <= 2 ? WASI_ESPIPE : ehal_wasi_fd_seek_file(env, fd, off, whence, out);
}

static uint32_t sched_yield_(void *env) {
  (void)env;
  sched_yield();
  return 0;
}

static void proc_exit(void *env, uint32_t code) {
  ehal_instance *inst = env;
  inst->exited = true;
  inst->exit_status = code > 255 ? 255 : (int)code;
  /* ends the guest once this function has returned */
  ehal_trap_record(inst, EHAL_TRAP_HOST, "proc_exit(%u)", code);
}

/* poll_oneoff: clock subscriptions (so that wasi-libc's sleep and
 * nanosleep work) and stdio.  Layouts (preview 1): a subscription is 48
 * bytes: userdata u64 @0, tag u8 @8, then for a clock id u32 @16, timeout
 * u64 @24, precision u64 @32, flags u16 @40 (1: absolute), for fd_read and
 * fd_write the fd u32 @16.  An event is 32 bytes: userdata u64 @0, error
 * u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24.  stdout and stderr
 * are always writable; nothing else is a descriptor (EBADF).  A wait
 * longer than the workload's sleep bound is refused (ENOTSUP), never cut
 * short; it ends early, as an interrupt, when the instance is interrupted. */
#define POLL_MAX_SUBSCRIPTIONS 4096u

static uint64_t clock_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put_event(uint8_t *e, uint64_t userdata, uint16_t error, uint8_t type,
                      uint64_t nbytes) {
  memset(e, 0, 32);
  ehal_put_u64(e, userdata);
  ehal_put_u16(e + 8, error);
  e[10] = type;
  ehal_put_u64(e + 16, nbytes);
}

/* A clock subscription's deadline on the monotonic clock, given the
 * monotonic time t0 the call began; false for a clock not offered here. */
static bool deadline_of_sub(const uint8_t *s, uint64_t t0, uint64_t *at) {
  clockid_t c;
  if (!clock_id(ehal_get_u32(s + 16), &c) || (c != CLOCK_REALTIME && c != CLOCK_MONOTONIC))
    return false;
  uint64_t timeout = ehal_get_u64(s + 24);
  if (ehal_get_u16(s + 40) & 1) { /* absolute on its own clock: made relative */
    uint64_t t = clock_ns(c);
    timeout = timeout > t ? timeout - t : 0;
  }
  *at = t0 + (timeout < UINT64_MAX - t0 ? timeout : UINT64_MAX - t0);
  return true;
}

static uint32_t poll_oneoff(void *env, uint32_t in, uint32_t out, uint32_t n, uint32_t nevents) {
  ehal_instance *inst = env;
  if (n == 0 || n > POLL_MAX_SUBSCRIPTIONS) return WASI_EINVAL;
  const uint8_t *subs = mem(inst, in, 48ull * n);
  uint8_t *evs = mem(inst, out, 32ull * n);
  if (!subs || !evs || !mem(inst, nevents, 4)) return WASI_EFAULT;
  /* anything but a valid clock is an event at once, and then nobody waits */
  uint64_t t0 = clock_ns(CLOCK_MONOTONIC), wake = UINT64_MAX, at;
  bool immediate = false;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *s = subs + 48ull * i;
    if (s[8] != 0 || !deadline_of_sub(s, t0, &at))
      immediate = true;
    else if (at < wake)
      wake = at;
  }
  uint64_t now = t0;
  if (!immediate && wake > now) {
    if (inst->max_sleep_ns && wake - now > inst->max_sleep_ns) return WASI_ENOTSUP;
    while ((now = clock_ns(CLOCK_MONOTONIC)) < wake) {
      if (inst->eng && ehal_engine_interrupt_pending(inst->eng)) break;
      uint64_t left = wake - now, slice = left < 100000000u ? left : 100000000u;
      struct timespec ts = {0, (long)slice};
      nanosleep(&ts, NULL);
    }
  }
  uint32_t ready = 0;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *s = subs + 48ull * i;
    uint64_t userdata = ehal_get_u64(s);
    uint8_t tag = s[8], *e = evs + 32ull * ready;
    if (tag == 0) {
      if (!deadline_of_sub(s, t0, &at))
        put_event(e, userdata, WASI_EINVAL, 0, 0), ready++;
      else if (now >= at)
        put_event(e, userdata, 0, 0, 0), ready++;
    } else if (tag == 1 || tag == 2) {
      uint32_t fd = ehal_get_u32(s + 16);
      /* a file is always ready, as on Linux */
      bool ok = (tag == 2 && host_fd(inst, fd) >= 0) || ehal_wasi_fs_is_file(inst, fd);
      put_event(e, userdata, ok ? 0 : WASI_EBADF, tag, ok ? 65536 : 0);
      ready++;
    } else {
      return WASI_EINVAL;
    }
  }
  return put_u32(inst, nevents, ready);
}

/* Sockets: none exist as WASI descriptors (the HAL's sockets interface is
 * the way): stdio is not a socket, anything else is no descriptor. */
static uint32_t no_sock(uint32_t fd) { return fd <= 2 ? WASI_ENOTSOCK : WASI_EBADF; }
#define U __attribute__((unused)) uint32_t
static uint32_t sock_accept(void *env, uint32_t fd, U flags, U out) {
  return (void)env, no_sock(fd);
}
static uint32_t sock_recv(void *env, uint32_t fd, U a, U b, U c, U d, U e) {
  return (void)env, no_sock(fd);
}
static uint32_t sock_send(void *env, uint32_t fd, U a, U b, U c, U d) {
  return (void)env, no_sock(fd);
}
static uint32_t sock_shutdown(void *env, uint32_t fd, U how) { return (void)env, no_sock(fd); }
#undef U

/* Not provided: signals. */
static uint32_t proc_raise(void *env, uint32_t sig) { return (void)env, (void)sig, WASI_ENOSYS; }

#define F(name, sig) \
  { #name, sig, (ehal_hostfn)name }
#define FS(name, sig) \
  { #name, sig, (ehal_hostfn)ehal_wasi_##name }
static const ehal_func_def wasi_funcs[] = {
    F(args_get, "ii:i"),
    F(args_sizes_get, "ii:i"),
    F(environ_get, "ii:i"),
    F(environ_sizes_get, "ii:i"),
    F(clock_res_get, "ii:i"),
    F(clock_time_get, "iIi:i"),
    FS(fd_advise, "iIIi:i"),
    FS(fd_allocate, "iII:i"),
    F(fd_close, "i:i"),
    FS(fd_datasync, "i:i"),
    F(fd_fdstat_get, "ii:i"),
    FS(fd_fdstat_set_flags, "ii:i"),
    FS(fd_fdstat_set_rights, "iII:i"),
    FS(fd_filestat_get, "ii:i"),
    FS(fd_filestat_set_size, "iI:i"),
    FS(fd_filestat_set_times, "iIIi:i"),
    FS(fd_pread, "iiiIi:i"),
    FS(fd_prestat_get, "ii:i"),
    FS(fd_prestat_dir_name, "iii:i"),
    FS(fd_pwrite, "iiiIi:i"),
    FS(fd_read, "iiii:i"),
    FS(fd_readdir, "iiiIi:i"),
    FS(fd_renumber, "ii:i"),
    F(fd_seek, "iIii:i"),
    FS(fd_sync, "i:i"),
    FS(fd_tell, "ii:i"),
    F(fd_write, "iiii:i"),
    FS(path_create_directory, "iii:i"),
    FS(path_filestat_get, "iiiii:i"),
    FS(path_filestat_set_times, "iiiiIIi:i"),
    FS(path_link, "iiiiiii:i"),
    FS(path_open, "iiiiiIIii:i"),
    FS(path_readlink, "iiiiii:i"),
    FS(path_remove_directory, "iii:i"),
    FS(path_rename, "iiiiii:i"),
    FS(path_symlink, "iiiii:i"),
    FS(path_unlink_file, "iii:i"),
    F(poll_oneoff, "iiii:i"),
    {"proc_exit", "i:", (ehal_hostfn)proc_exit},
    F(proc_raise, "i:i"),
    {"sched_yield", ":i", (ehal_hostfn)sched_yield_},
    F(random_get, "ii:i"),
    F(sock_accept, "iii:i"),
    F(sock_recv, "iiiiii:i"),
    F(sock_send, "iiiii:i"),
    F(sock_shutdown, "ii:i"),
};

const ehal_iface_def ehal_iface_wasi_preview1 = {
    NULL, "wasi_snapshot_preview1", 0, 1, 0, wasi_funcs, sizeof wasi_funcs / sizeof wasi_funcs[0]};
