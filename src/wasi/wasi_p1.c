/*
 * wasi_p1.c - the part of WASI preview 1 that a wasi-libc command needs,
 * and nothing that reaches the host beyond it.
 *
 * Served: args and environment (only what the operator passed: the host's
 * environment is never inherited), clocks, random_get, writing to stdout and
 * stderr, sched_yield and proc_exit.  Every other preview 1 function is
 * linked with its exact signature but returns ENOSYS (or EBADF for file
 * descriptors that do not exist): there are no preopened directories, no
 * files and no sockets here.  Persistence is the HAL storage interface's job.
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
NOSYS(path_create_directory, WASI_ENOSYS, U a, U b, U c)
NOSYS(path_filestat_get, WASI_ENOSYS, U a, U b, U c, U d, U e)
NOSYS(path_filestat_set_times, WASI_ENOSYS, U a, U b, U c, U d, L e, L f, U g)
NOSYS(path_link, WASI_ENOSYS, U a, U b, U c, U d, U e, U f, U g)
NOSYS(path_open, WASI_ENOSYS, U a, U b, U c, U d, U e, L f, L g, U h, U i)
NOSYS(path_readlink, WASI_ENOSYS, U a, U b, U c, U d, U e, U f)
NOSYS(path_remove_directory, WASI_ENOSYS, U a, U b, U c)
NOSYS(path_rename, WASI_ENOSYS, U a, U b, U c, U d, U e, U f)
NOSYS(path_symlink, WASI_ENOSYS, U a, U b, U c, U d, U e)
NOSYS(path_unlink_file, WASI_ENOSYS, U a, U b, U c)
NOSYS(poll_oneoff, WASI_ENOSYS, U a, U b, U c, U d)
NOSYS(proc_raise, WASI_ENOSYS, U a)
NOSYS(sock_accept, WASI_ENOSYS, U a, U b, U c)
NOSYS(sock_recv, WASI_ENOSYS, U a, U b, U c, U d, U e, U f)
NOSYS(sock_send, WASI_ENOSYS, U a, U b, U c, U d, U e)
NOSYS(sock_shutdown, WASI_ENOSYS, U a, U b)
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
