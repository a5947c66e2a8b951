/*
 * fs_bench_guest.c - a file system benchmark in plain POSIX C (no HAL
 * headers), built twice from this one source: for wasm32-wasi
 * (BUILD/guests/fs_bench_guest.wasm, run by `elastic-hal run --dir`) and
 * natively (BUILD/bench/fs_bench_native), so that bench/fs_bench.c can set
 * the sealed file system beside the host's.
 *
 *   fs_bench [-k | -c] DIR [SEQ_MIB] [NFILES]     (defaults 1024, 10000)
 *
 * Workloads, each timed with CLOCK_MONOTONIC:
 *   - SEQ_MIB MiB written to DIR/fsbench.dat in 64 KiB write()s, then
 *     fsync and close (all inside the time);
 *   - that file read back in 64 KiB read()s, its content checked;
 *   - 20000 random 4 KiB pread()s, then 20000 random 4 KiB pwrite()s and an
 *     fsync, at page-aligned offsets in that file (fixed-seed PRNG);
 *   - NFILES files of 100 bytes in DIR/fsbench.d: create + write + close,
 *     then stat, then open + read + close, then unlink, each timed.
 * One line per metric on stdout, `NAME VALUE` (lines starting with # are
 * comments); errors on stderr, exit 1.  Everything it made is removed at
 * the end, except with -k, which leaves the file and the small files (those
 * written again after the unlink phase, untimed) so that a caller can
 * measure what they occupy; -c then checks what -k left, from a fresh
 * process, and removes it.
 *
 * Content: every 4 KiB page is a fixed pseudo-random template with its own
 * offset and a tag stamped into its first 16 bytes, so a read is checked by
 * comparing two words (and, for a sample, the whole page) instead of
 * recomputing a stream.
 */
#define _XOPEN_SOURCE 700 /* pread, pwrite, fsync, clock_gettime under -std=c11 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define BLOCK (64 * 1024)
#define NRAND 20000
#define SMALL 100
#define MAGIC UINT64_C(0x667362656e636821) /* "fsbench!" */

static char g_dir[1024], g_file[1100], g_sub[1100];
static uint8_t g_tmpl[PAGE];
static uint8_t g_block[BLOCK], g_page[PAGE];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* The tag says which pass wrote a page: 0 the sequential write, 1 the
 * random writes. */
static uint64_t tag(uint64_t off, uint64_t gen) {
  return MAGIC ^ (off * UINT64_C(0x9E3779B97F4A7C15)) ^ gen;
}

static void stamp(uint8_t *p, uint64_t off, uint64_t gen) {
  uint64_t t = tag(off, gen);
  memcpy(p, &off, 8);
  memcpy(p + 8, &t, 8);
}

/* A page read at `off`: 0 if its stamp is that of a sequential (or, with
 * any_gen, a random) write, and, with full, its body the template's. */
static int check_page(const uint8_t *p, uint64_t off, int any_gen, int full) {
  uint64_t o, t;
  memcpy(&o, p, 8);
  memcpy(&t, p + 8, 8);
  if (o != off || (t != tag(off, 0) && !(any_gen && t == tag(off, 1)))) return -1;
  if (full && memcmp(p + 16, g_tmpl + 16, PAGE - 16) != 0) return -1;
  return 0;
}

static void small_name(char *buf, size_t n, long i) { snprintf(buf, n, "%s/f%06ld", g_sub, i); }

static void small_fill(uint8_t *b, long i) {
  for (int k = 0; k < SMALL; k++) b[k] = (uint8_t)(i * 31 + k);
}

/* Removes what the benchmark made; quiet, since it also runs after a failure. */
static void cleanup(long nfiles) {
  char name[1200];
  unlink(g_file);
  for (long i = 0; i < nfiles; i++) {
    small_name(name, sizeof name, i);
    unlink(name);
  }
  rmdir(g_sub);
}

static long g_nfiles;
static int g_keep;

static void fail(const char *what, const char *path) {
  fprintf(stderr, "fs_bench: %s %s: %s\n", what, path, errno ? strerror(errno) : "failed");
  if (!g_keep) cleanup(g_nfiles);
  exit(1);
}

/* read() and write() may move fewer bytes than asked: loop. */
static ssize_t read_full(int fd, uint8_t *b, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, b + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

static int write_full(int fd, const uint8_t *b, size_t n) {
  size_t put = 0;
  while (put < n) {
    ssize_t r = write(fd, b + put, n - put);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    put += (size_t)r;
  }
  return 0;
}

static int pread_full(int fd, uint8_t *b, size_t n, off_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, b + got, n - got, off + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static int pwrite_full(int fd, const uint8_t *b, size_t n, off_t off) {
  size_t put = 0;
  while (put < n) {
    ssize_t r = pwrite(fd, b + put, n - put, off + (off_t)put);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    put += (size_t)r;
  }
  return 0;
}

static void report(const char *name, double v) { printf("%s %.1f\n", name, v); }

static void bench_seq(uint64_t size) {
  /* write: the template in every page of the block, only the stamps change */
  for (size_t p = 0; p < BLOCK / PAGE; p++) memcpy(g_block + p * PAGE, g_tmpl, PAGE);
  double t0 = now_s();
  int fd = open(g_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail("cannot create", g_file);
  for (uint64_t off = 0; off < size; off += BLOCK) {
    for (size_t p = 0; p < BLOCK / PAGE; p++) stamp(g_block + p * PAGE, off + p * PAGE, 0);
    if (write_full(fd, g_block, BLOCK) != 0) fail("write", g_file);
  }
  if (fsync(fd) != 0) fail("fsync", g_file);
  if (close(fd) != 0) fail("close", g_file);
  double t = now_s() - t0;
  report("seq_write_mibps", (double)size / (1024.0 * 1024.0) / t);

  /* read: every page's stamp, the whole of every 16th block */
  t0 = now_s();
  fd = open(g_file, O_RDONLY);
  if (fd < 0) fail("cannot open", g_file);
  uint64_t off = 0;
  for (; off < size; off += BLOCK) {
    memset(g_block, 0, 16); /* a read that fills nothing must not pass */
    ssize_t r = read_full(fd, g_block, BLOCK);
    if (r != BLOCK) {
      if (r >= 0) errno = 0;
      fail("short read of", g_file);
    }
    int full = (off / BLOCK) % 16 == 0;
    for (size_t p = 0; p < BLOCK / PAGE; p++)
      if (check_page(g_block + p * PAGE, off + p * PAGE, 0, full) != 0) {
        errno = 0;
        fprintf(stderr, "fs_bench: wrong content at offset %" PRIu64 "\n", off + p * PAGE);
        fail("reading", g_file);
      }
  }
  if (read_full(fd, g_block, 1) != 0) {
    errno = 0;
    fail("longer than written:", g_file);
  }
  close(fd);
  t = now_s() - t0;
  report("seq_read_mibps", (double)size / (1024.0 * 1024.0) / t);
}

static void bench_random(uint64_t size) {
  uint64_t pages = size / PAGE, seed = 42;
  int fd = open(g_file, O_RDWR);
  if (fd < 0) fail("cannot open", g_file);
  double t0 = now_s();
  for (int i = 0; i < NRAND; i++) {
    uint64_t off = (splitmix(&seed) % pages) * PAGE;
    memset(g_page, 0, 16);
    if (pread_full(fd, g_page, PAGE, (off_t)off) != 0) fail("pread", g_file);
    if (check_page(g_page, off, 0, 1) != 0) {
      errno = 0;
      fprintf(stderr, "fs_bench: wrong content at offset %" PRIu64 "\n", off);
      fail("pread of", g_file);
    }
  }
  double t = now_s() - t0;
  report("rand_read_iops", NRAND / t);

  memcpy(g_page, g_tmpl, PAGE);
  uint64_t last[16];
  t0 = now_s();
  for (int i = 0; i < NRAND; i++) {
    uint64_t off = (splitmix(&seed) % pages) * PAGE;
    stamp(g_page, off, 1);
    if (pwrite_full(fd, g_page, PAGE, (off_t)off) != 0) fail("pwrite", g_file);
    last[i % 16] = off;
  }
  if (fsync(fd) != 0) fail("fsync", g_file);
  t = now_s() - t0;
  report("rand_write_iops", NRAND / t);

  /* untimed: the last writes are there to read */
  for (int i = 0; i < 16; i++) {
    uint64_t t1;
    if (pread_full(fd, g_page, PAGE, (off_t)last[i]) != 0) fail("pread", g_file);
    memcpy(&t1, g_page + 8, 8);
    if (check_page(g_page, last[i], 1, 1) != 0 || t1 != tag(last[i], 1)) {
      errno = 0;
      fprintf(stderr, "fs_bench: random write lost at offset %" PRIu64 "\n", last[i]);
      fail("pwrite of", g_file);
    }
  }
  close(fd);
}

static void create_small(long nfiles) {
  char name[1200];
  uint8_t b[SMALL];
  for (long i = 0; i < nfiles; i++) {
    small_name(name, sizeof name, i);
    small_fill(b, i);
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) fail("cannot create", name);
    if (write_full(fd, b, SMALL) != 0) fail("write", name);
    if (close(fd) != 0) fail("close", name);
  }
}

static void stat_small(long nfiles) {
  char name[1200];
  struct stat st;
  for (long i = 0; i < nfiles; i++) {
    small_name(name, sizeof name, i);
    if (stat(name, &st) != 0) fail("stat", name);
    if (st.st_size != SMALL || !S_ISREG(st.st_mode)) {
      errno = 0;
      fail("wrong size or type:", name);
    }
  }
}

static void read_small(long nfiles) {
  char name[1200];
  uint8_t b[SMALL + 1], want[SMALL];
  for (long i = 0; i < nfiles; i++) {
    small_name(name, sizeof name, i);
    int fd = open(name, O_RDONLY);
    if (fd < 0) fail("cannot open", name);
    ssize_t r = read_full(fd, b, sizeof b);
    small_fill(want, i);
    if (r != SMALL || memcmp(b, want, SMALL) != 0) {
      errno = r < 0 ? errno : 0;
      fail("wrong content in", name);
    }
    close(fd);
  }
}

static void bench_small(long nfiles) {
  char name[1200];
  if (mkdir(g_sub, 0755) != 0) fail("cannot create", g_sub);
  double t0 = now_s();
  create_small(nfiles);
  report("create_ops", (double)nfiles / (now_s() - t0));
  t0 = now_s();
  stat_small(nfiles);
  report("stat_ops", (double)nfiles / (now_s() - t0));
  t0 = now_s();
  read_small(nfiles);
  report("small_read_ops", (double)nfiles / (now_s() - t0));
  t0 = now_s();
  for (long i = 0; i < nfiles; i++) {
    small_name(name, sizeof name, i);
    if (unlink(name) != 0) fail("unlink", name);
  }
  report("unlink_ops", (double)nfiles / (now_s() - t0));
  /* what was unlinked must be gone */
  struct stat st;
  small_name(name, sizeof name, nfiles / 2);
  if (stat(name, &st) == 0) {
    errno = 0;
    fail("still there after unlink:", name);
  }
  if (g_keep) create_small(nfiles);
}

/* -c: what a -k run left, seen from a fresh process (for the sealed file
 * system: reopened from its storage), then removed. */
static void check_left(uint64_t size, long nfiles) {
  struct stat st;
  if (stat(g_file, &st) != 0) fail("stat", g_file);
  if ((uint64_t)st.st_size != size) {
    errno = 0;
    fail("wrong size:", g_file);
  }
  int fd = open(g_file, O_RDONLY);
  if (fd < 0) fail("cannot open", g_file);
  uint64_t pages = size / PAGE, seed = 7;
  for (int i = 0; i < 256; i++) {
    uint64_t off = (i == 0 ? pages - 1 : splitmix(&seed) % pages) * PAGE;
    if (pread_full(fd, g_page, PAGE, (off_t)off) != 0) fail("pread", g_file);
    if (check_page(g_page, off, 1, 1) != 0) {
      errno = 0;
      fprintf(stderr, "fs_bench: wrong content at offset %" PRIu64 "\n", off);
      fail("reopened", g_file);
    }
  }
  close(fd);
  read_small(nfiles);
  cleanup(nfiles);
  if (stat(g_file, &st) == 0 || stat(g_sub, &st) == 0) {
    errno = 0;
    fail("cannot remove", g_dir);
  }
  printf("# what -k left is intact; removed\n");
}

static long arg(const char *s, const char *what, long max) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 1 || v > max) {
    fprintf(stderr, "fs_bench: %s must be a number from 1 to %ld\n", what, max);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  int check = 0, a = 1;
  if (a < argc && strcmp(argv[a], "-k") == 0) g_keep = 1, a++;
  if (a < argc && strcmp(argv[a], "-c") == 0) check = 1, a++;
  if (a >= argc || argc - a > 3 || strlen(argv[a]) >= sizeof g_dir) {
    fprintf(stderr, "usage: fs_bench [-k | -c] DIR [SEQ_MIB] [NFILES]\n");
    return 2;
  }
  snprintf(g_dir, sizeof g_dir, "%s", argv[a]);
  long seq_mib = a + 1 < argc ? arg(argv[a + 1], "SEQ_MIB", 1L << 20) : 1024;
  g_nfiles = a + 2 < argc ? arg(argv[a + 2], "NFILES", 1000000) : 10000;
  snprintf(g_file, sizeof g_file, "%s/fsbench.dat", g_dir);
  snprintf(g_sub, sizeof g_sub, "%s/fsbench.d", g_dir);
  uint64_t size = (uint64_t)seq_mib << 20, seed = 1;
  for (size_t i = 0; i < PAGE; i += 8) {
    uint64_t v = splitmix(&seed);
    memcpy(g_tmpl + i, &v, 8);
  }
  if (check) {
    check_left(size, g_nfiles);
    return 0;
  }
  printf("# fs_bench %s: %ld MiB sequential, %d random 4 KiB, %ld small files\n", g_dir, seq_mib,
         NRAND, g_nfiles);
  fflush(stdout);
  bench_seq(size);
  fflush(stdout);
  bench_random(size);
  fflush(stdout);
  bench_small(g_nfiles);
  if (!g_keep) {
    cleanup(g_nfiles);
    struct stat st;
    if (stat(g_file, &st) == 0 || stat(g_sub, &st) == 0) {
      errno = 0;
      fail("cannot remove", g_dir);
    }
  }
  return 0;
}
