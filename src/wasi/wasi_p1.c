/*
 * wasi_p1.c - the part of WASI preview 1 that a wasi-libc command needs,
 * and nothing that reaches the host beyond it.
 *
 * Served: args and environment (only what the operator passed: the host's
 * environment is never inherited), clocks, random_get, writing to stdout and
 * stderr, poll_oneoff on clocks and stdio (so that sleep works, within the
 * workload's sleep bound), sched_yield and proc_exit.  Every other preview 1
 * function is linked with its exact signature and answers the errno its
 * case calls for: there are no preopened directories, no files and no
 * sockets here, so a descriptor beyond stdio is EBADF, stdio is neither a
 * directory (ENOTDIR) nor a socket (ENOTSOCK), and what remains is ENOSYS.
 * Persistence is the HAL storage interface's job.
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

enum {
  WASI_ESUCCESS = 0,
  WASI_EBADF = 8,
  WASI_EFAULT = 21,
  WASI_EINVAL = 28,
  WASI_EIO = 29,
  WASI_ENOSYS = 52,
  WASI_ENOTDIR = 54,
  WASI_ENOTSOCK = 57,
  WASI_ENOTSUP = 58,
  WASI_ESPIPE = 70,
};

/* Guest address range check; NULL if [p, p+len) is not inside memory. */
static uint8_t *mem(ehal_instance *inst, uint32_t p, uint64_t len) {
  if (!inst->mem.data || (uint64_t)p + len > *inst->mem.size) return NULL;
  return *inst->mem.data + p;
}

static uint32_t put_u32(ehal_instance *inst, uint32_t p, uint32_t v) {
  uint8_t *d = mem(inst, p, 4);
  if (!d) return WASI_EFAULT;
  ehal_put_u32(d, v);
  return 0;
}

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
  if (hfd < 0) return WASI_EBADF;
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
  if (fd > 2) return WASI_EBADF;
  uint8_t *d = mem(env, out, 24);
  if (!d) return WASI_EFAULT;
  memset(d, 0, 24);
  d[0] = 2;                                       /* filetype: character device */
  ehal_put_u64(d + 8, fd == 0 ? 0 : (1ull << 6)); /* rights: fd_write on 1 and 2 */
  return 0;
}

static uint32_t fd_close(void *env, uint32_t fd) {
  (void)env;
  return fd <= 2 ? WASI_ENOSYS : WASI_EBADF;
}

static uint32_t fd_seek(void *env, uint32_t fd, uint64_t off, uint32_t whence, uint32_t out) {
  (void)env, (void)off, (void)whence, (void)out;
  return fd <= 2 ? WASI_ESPIPE : WASI_EBADF;
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
      bool writable = tag == 2 && host_fd(inst, ehal_get_u32(s + 16)) >= 0;
      put_event(e, userdata, writable ? 0 : WASI_EBADF, tag, writable ? 65536 : 0);
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
/* Paths: there are no preopened directories, so no descriptor is one:
 * stdio is not a directory, anything else is no descriptor. */
static uint32_t no_dir(uint32_t fd) { return fd <= 2 ? WASI_ENOTDIR : WASI_EBADF; }
#undef U

/* Not provided here: each returns ENOSYS (EBADF for the fd-taking ones, as
 * no descriptor beyond stdio exists), with its exact preview 1 signature. */
#define NOSYS(name, err, ...) \
  static uint32_t name(void *env, __VA_ARGS__) { return (void)env, err; }
#define U __attribute__((unused)) uint32_t
#define L __attribute__((unused)) uint64_t
NOSYS(fd_advise, WASI_EBADF, U a, L b, L c, U d)
NOSYS(fd_allocate, WASI_EBADF, U a, L b, L c)
NOSYS(fd_datasync, WASI_EBADF, U a)
NOSYS(fd_fdstat_set_flags, WASI_EBADF, U a, U b)
NOSYS(fd_fdstat_set_rights, WASI_EBADF, U a, L b, L c)
NOSYS(fd_filestat_get, WASI_EBADF, U a, U b)
NOSYS(fd_filestat_set_size, WASI_EBADF, U a, L b)
NOSYS(fd_filestat_set_times, WASI_EBADF, U a, L b, L c, U d)
NOSYS(fd_pread, WASI_EBADF, U a, U b, U c, L d, U e)
NOSYS(fd_prestat_get, WASI_EBADF, U a, U b)
NOSYS(fd_prestat_dir_name, WASI_EBADF, U a, U b, U c)
NOSYS(fd_pwrite, WASI_EBADF, U a, U b, U c, L d, U e)
NOSYS(fd_read, WASI_EBADF, U a, U b, U c, U d)
NOSYS(fd_readdir, WASI_EBADF, U a, U b, U c, L d, U e)
NOSYS(fd_renumber, WASI_EBADF, U a, U b)
NOSYS(fd_sync, WASI_EBADF, U a)
NOSYS(fd_tell, WASI_EBADF, U a, U b)
static uint32_t path_create_directory(void *env, uint32_t a, U b, U c) {
  return (void)env, no_dir(a);
}
static uint32_t path_filestat_get(void *env, uint32_t a, U b, U c, U d, U e) {
  return (void)env, no_dir(a);
}
static uint32_t path_filestat_set_times(void *env, uint32_t a, U b, U c, U d, L e, L f, U g) {
  return (void)env, no_dir(a);
}
static uint32_t path_link(void *env, uint32_t a, U b, U c, U d, U e, U f, U g) {
  return (void)env, no_dir(a);
}
static uint32_t path_open(void *env, uint32_t a, U b, U c, U d, U e, L f, L g, U h, U i) {
  return (void)env, no_dir(a);
}
static uint32_t path_readlink(void *env, uint32_t a, U b, U c, U d, U e, U f) {
  return (void)env, no_dir(a);
}
static uint32_t path_remove_directory(void *env, uint32_t a, U b, U c) {
  return (void)env, no_dir(a);
}
static uint32_t path_rename(void *env, uint32_t a, U b, U c, U d, U e, U f) {
  return (void)env, no_dir(a);
}
static uint32_t path_symlink(void *env, uint32_t a, U b, U c, U d, U e) {
  return (void)env, no_dir(a);
}
static uint32_t path_unlink_file(void *env, uint32_t a, U b, U c) { return (void)env, no_dir(a); }
NOSYS(proc_raise, WASI_ENOSYS, U a)
#undef U
#undef L

#define F(name, sig) \
  { #name, sig, (ehal_hostfn)name }
static const ehal_func_def wasi_funcs[] = {
    F(args_get, "ii:i"),
    F(args_sizes_get, "ii:i"),
    F(environ_get, "ii:i"),
    F(environ_sizes_get, "ii:i"),
    F(clock_res_get, "ii:i"),
    F(clock_time_get, "iIi:i"),
    F(fd_advise, "iIIi:i"),
    F(fd_allocate, "iII:i"),
    F(fd_close, "i:i"),
    F(fd_datasync, "i:i"),
    F(fd_fdstat_get, "ii:i"),
    F(fd_fdstat_set_flags, "ii:i"),
    F(fd_fdstat_set_rights, "iII:i"),
    F(fd_filestat_get, "ii:i"),
    F(fd_filestat_set_size, "iI:i"),
    F(fd_filestat_set_times, "iIIi:i"),
    F(fd_pread, "iiiIi:i"),
    F(fd_prestat_get, "ii:i"),
    F(fd_prestat_dir_name, "iii:i"),
    F(fd_pwrite, "iiiIi:i"),
    F(fd_read, "iiii:i"),
    F(fd_readdir, "iiiIi:i"),
    F(fd_renumber, "ii:i"),
    F(fd_seek, "iIii:i"),
    F(fd_sync, "i:i"),
    F(fd_tell, "ii:i"),
    F(fd_write, "iiii:i"),
    F(path_create_directory, "iii:i"),
    F(path_filestat_get, "iiiii:i"),
    F(path_filestat_set_times, "iiiiIIi:i"),
    F(path_link, "iiiiiii:i"),
    F(path_open, "iiiiiIIii:i"),
    F(path_readlink, "iiiiii:i"),
    F(path_remove_directory, "iii:i"),
    F(path_rename, "iiiiii:i"),
    F(path_symlink, "iiiii:i"),
    F(path_unlink_file, "iii:i"),
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
