/*
 * fuzz_wasi_fs.c - libFuzzer harness for the WASI filesystem calls a guest
 * makes on a sealed directory (src/wasi/wasi_fs.c over src/fs/sealfs.c and
 * the store): the input is a program of calls whose descriptors, paths,
 * offsets, lengths, flags and iovecs (pointing anywhere, overlapping,
 * rewritten by the reads they describe) all come from the fuzzer, over a
 * 256 KiB guest memory the input also fills.  The host must never crash or
 * touch memory outside the guest's, whatever the calls; ASan and UBSan
 * watch.  One volume persists across inputs (as a workload's does across
 * calls), in a temporary state directory, on the simulated platform; a
 * writable host directory (--dir-host) beside it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/attest/attest.h"
#include "../../src/interfaces/interfaces.h"
#include "../../src/runtime/instance.h"
#include "../../src/storage/store.h"
#include "../../src/wasi/wasi.h"

/* ---- what the harness stands in for ---- */

/* the simulated platform (its root: a file in the temporary state dir) */
void ehal_attest_probe(ehal_attest_platform *out) {
  memset(out, 0, sizeof *out);
  out->platform = "simulated";
  out->source = EHAL_SOURCE_SIMULATED;
}
uint64_t ehal_storage_quota(ehal_instance *inst) {
  (void)inst;
  return 64ull << 20; /* small: the fuzzer meets the quota too */
}

#define MEM (256u * 1024)
static uint8_t *g_mem;
static uint32_t g_size = MEM;
static ehal_instance *g_inst;

static char g_dir[64];

static void cleanup(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir); /* a name mkdtemp made */
  if (system(cmd) != 0) fprintf(stderr, "fuzz_wasi_fs: could not remove %s\n", g_dir);
}

static void setup(void) {
  snprintf(g_dir, sizeof g_dir, "%s", "/tmp/fuzz-wasi-fs-XXXXXX");
  const char *dir = mkdtemp(g_dir);
  if (!dir) abort();
  atexit(cleanup);
  g_mem = calloc(1, MEM);
  g_inst = calloc(1, sizeof *g_inst);
  if (!g_mem || !g_inst) abort();
  g_inst->mem.data = &g_mem;
  g_inst->mem.size = &g_size;
  g_inst->state_dir = strdup(dir);
  g_inst->workload = strdup("fuzz");
  g_inst->stderr_fd = open("/dev/null", 1);
  const char *dirs[] = {"/data", "/other"};
  /* and a writable host directory (fd 5), its kernel-confined paths too */
  static char host[96];
  snprintf(host, sizeof host, "%s/host", dir);
  if (mkdir(host, 0700) != 0) abort();
  const elastic_hal_host_dir hosts[] = {{host, "/host", true}};
  char err[512];
  if (ehal_wasi_fs_open(g_inst, dirs, 2, hosts, 1, err, sizeof err) != 0) {
    fprintf(stderr, "fuzz_wasi_fs: %s\n", err);
    abort();
  }
}

/* ---- reading the program ---- */

typedef struct {
  const uint8_t *p;
  size_t n;
} input;

static uint32_t u32(input *in) {
  uint32_t v = 0;
  for (int i = 0; i < 4 && in->n; i++, in->p++, in->n--) v |= (uint32_t)*in->p << (8 * i);
  return v;
}
static uint64_t u64(input *in) { return u32(in) | (uint64_t)u32(in) << 32; }
static uint8_t u8(input *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

/* A guest address: mostly inside memory, sometimes at or past its end. */
static uint32_t addr(input *in) {
  uint32_t a = u32(in);
  return (a & 0xf0000000u) == 0xf0000000u ? a : a % MEM;
}
/* A descriptor: the preopens, what was opened, stdio, or nonsense. */
static uint32_t fd(input *in) {
  uint8_t b = u8(in);
  return b < 240 ? 3u + b % 6 : u32(in);
}
/* A path: placed in guest memory from a small dictionary or raw bytes. */
static void path(input *in, uint32_t *at, uint32_t *len) {
  static const char *const words[] = {"a", "b",   "..",     ".",     "dir",  "f",     "",
                                      "/", "x/y", "a/../b", "../..", "dir/", "dir/f", "f/"};
  char buf[300];
  size_t n = 0;
  for (uint8_t k = u8(in) % 5 + 1; k-- && n < 250;) {
    uint8_t w = u8(in);
    const char *s = w < 200 ? words[w % (sizeof words / sizeof *words)] : NULL;
    if (s) {
      size_t l = strlen(s);
      memcpy(buf + n, s, l);
      n += l;
    } else {
      buf[n++] = (char)u8(in);
    }
    if (k && n < 250) buf[n++] = '/';
  }
  *at = 128 * 1024 + u8(in) * 16u;
  *len = (uint32_t)n;
  if (u8(in) == 0xff) *len = u32(in); /* a wild length */
  memcpy(g_mem + *at, buf, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_inst) setup();
  input in = {data, size};
  /* the first bytes fill guest memory's iovec area */
  size_t fill = size < 4096 ? size : 4096;
  memcpy(g_mem, data, fill);
  for (int steps = 0; steps < 64 && in.n; steps++) {
    void *e = g_inst;
    uint32_t p, l, p2, l2;
    switch (u8(&in) % 24) {
      case 0:
        path(&in, &p, &l);
        ehal_wasi_path_open(e, fd(&in), 0, p, l, u8(&in) & 15, u64(&in), u64(&in), u8(&in) & 31,
                            addr(&in));
        break;
      case 1: ehal_wasi_fd_read(e, fd(&in), addr(&in), u8(&in) % 8, addr(&in)); break;
      case 2: ehal_wasi_fd_write_file(e, fd(&in), addr(&in), u8(&in) % 8, addr(&in)); break;
      case 3: ehal_wasi_fd_pread(e, fd(&in), addr(&in), u8(&in) % 8, u64(&in), addr(&in)); break;
      case 4: ehal_wasi_fd_pwrite(e, fd(&in), addr(&in), u8(&in) % 8, u64(&in), addr(&in)); break;
      case 5: ehal_wasi_fd_seek_file(e, fd(&in), u64(&in), u8(&in) % 4, addr(&in)); break;
      case 6: ehal_wasi_fd_close_file(e, fd(&in)); break;
      case 7:
        path(&in, &p, &l);
        ehal_wasi_path_create_directory(e, fd(&in), p, l);
        break;
      case 8:
        path(&in, &p, &l);
        ehal_wasi_path_unlink_file(e, fd(&in), p, l);
        break;
      case 9:
        path(&in, &p, &l);
        ehal_wasi_path_remove_directory(e, fd(&in), p, l);
        break;
      case 10:
        path(&in, &p, &l);
        path(&in, &p2, &l2);
        if (p2 == p) p2 += 8; /* two strings side by side */
        ehal_wasi_path_rename(e, fd(&in), p, l, fd(&in), p2, l2);
        break;
      case 11:
        ehal_wasi_fd_readdir(e, fd(&in), addr(&in), u32(&in) % 4096, u64(&in) % 64, addr(&in));
        break;
      case 12: ehal_wasi_fd_filestat_set_size(e, fd(&in), u64(&in) >> (u8(&in) % 64)); break;
      case 13: ehal_wasi_fd_filestat_get(e, fd(&in), addr(&in)); break;
      case 14:
        path(&in, &p, &l);
        ehal_wasi_path_filestat_get(e, fd(&in), 0, p, l, addr(&in));
        break;
      case 15: ehal_wasi_fd_renumber(e, fd(&in), fd(&in)); break;
      case 16: ehal_wasi_fd_sync(e, fd(&in)); break;
      case 17: ehal_wasi_fd_allocate(e, fd(&in), u64(&in) >> 20, u64(&in) >> 40); break;
      case 18: ehal_wasi_fd_tell(e, fd(&in), addr(&in)); break;
      case 19: ehal_wasi_fd_fdstat_get_file(e, fd(&in), addr(&in)); break;
      case 20: ehal_wasi_fd_fdstat_set_rights(e, fd(&in), u64(&in), u64(&in)); break;
      case 21: ehal_wasi_fd_filestat_set_times(e, fd(&in), u64(&in), u64(&in), u8(&in) & 15); break;
      case 22: ehal_wasi_fd_prestat_dir_name(e, fd(&in), addr(&in), u32(&in) % 64); break;
      default: ehal_wasi_fd_fdstat_set_flags(e, fd(&in), u8(&in)); break;
    }
  }
  return 0;
}
