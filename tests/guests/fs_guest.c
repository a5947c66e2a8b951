/*
 * fs_guest.c - an unmodified POSIX program (wasi-libc, no HAL header) on
 * the sealed filesystem: `elastic-hal run --dir /data fs_guest.wasm CMD`.
 *
 *   conformance DIR      every call and its error cases, as TAP lines
 *   put PATH TEXT        write TEXT to PATH (created or truncated), fsync
 *   cat PATH             print PATH's contents
 *   ls DIR               print DIR's entries, sorted, one per line
 *   writer DIR           for the crash test: forever, rewrite DIR/a and
 *                        DIR/b with the same generation, fsync, print it
 *   verify DIR           a and b hold one generation, whole: print it
 *   fill PATH / watch PATH ROUNDS   a 256 KiB pattern; read it whole ROUNDS
 *                        times, 300 ms apart: "round K ok|error E|WRONG"
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int g_n, g_failed;

static void ok(int cond, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s %d - ", cond ? "ok" : "not ok", ++g_n);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  if (!cond) g_failed++;
}

/* the call failed with exactly this errno */
#define FAILS(call, err) ((call) == -1 && errno == (err))

static char *path(const char *dir, const char *name) {
  static char buf[8][512];
  static int i;
  char *p = buf[i++ % 8];
  snprintf(p, 512, "%s/%s", dir, name);
  return p;
}

static int put(const char *p, const void *data, size_t len) {
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  ssize_t w = write(fd, data, len);
  int rc = (w == (ssize_t)len && fsync(fd) == 0) ? 0 : -1;
  close(fd);
  return rc;
}

static long slurp(const char *p, char *buf, size_t cap) {
  int fd = open(p, O_RDONLY);
  if (fd < 0) return -1;
  long n = 0;
  ssize_t r;
  while ((r = read(fd, buf + n, cap - (size_t)n)) > 0) n += r;
  close(fd);
  return r < 0 ? -1 : n;
}

static int count_entries(const char *dir, int *dots) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  *dots = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      (*dots)++;
    else
      n++;
  }
  closedir(d);
  return n;
}

static void conformance(const char *dir) {
  static char buf[200000];
  struct stat st;
  /* files: create, write, read, seek, pread, pwrite, stat */
  const char *f = strdup(path(dir, "file.txt"));
  int fd = open(f, O_RDWR | O_CREAT | O_EXCL, 0644);
  ok(fd >= 0, "open O_CREAT|O_EXCL makes a new file");
  ok(write(fd, "hello, sealed world", 19) == 19, "write");
  ok(lseek(fd, 0, SEEK_CUR) == 19 && lseek(fd, 7, SEEK_SET) == 7, "lseek SEEK_CUR, SEEK_SET");
  ok(read(fd, buf, 6) == 6 && !memcmp(buf, "sealed", 6), "read from the position");
  ok(pread(fd, buf, 5, 0) == 5 && !memcmp(buf, "hello", 5) && lseek(fd, 0, SEEK_CUR) == 13,
     "pread leaves the position");
  ok(pwrite(fd, "HELLO", 5, 0) == 5 && pread(fd, buf, 19, 0) == 19 &&
         !memcmp(buf, "HELLO, sealed world", 19),
     "pwrite");
  ok(lseek(fd, 0, SEEK_END) == 19 && lseek(fd, -3, SEEK_END) == 16, "lseek SEEK_END");
  ok(FAILS(lseek(fd, -100, SEEK_SET), EINVAL), "lseek before the start is EINVAL");
  ok(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 19 && st.st_nlink == 1,
     "fstat: a regular file of 19 bytes");
  ok(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync, fdatasync");
  ok(read(fd, buf, sizeof buf) == 3 && read(fd, buf, sizeof buf) == 0, "read to the end, then 0");
  /* sparse: past the end */
  ok(pwrite(fd, "Z", 1, 100000) == 1 && fstat(fd, &st) == 0 && st.st_size == 100001,
     "pwrite past the end extends");
  ok(pread(fd, buf, 100, 50000) == 100 && buf[0] == 0 && buf[99] == 0, "the gap reads as zeros");
  ok(ftruncate(fd, 10) == 0 && fstat(fd, &st) == 0 && st.st_size == 10, "ftruncate shrinks");
  ok(ftruncate(fd, 70000) == 0 && pread(fd, buf, 20, 0) == 20 && !memcmp(buf, "HELLO, sea", 10) &&
         buf[10] == 0 && buf[19] == 0,
     "ftruncate grows with zeros, not the old bytes");
  ok(posix_fallocate(fd, 0, 200000) == 0 && fstat(fd, &st) == 0 && st.st_size == 200000,
     "posix_fallocate grows");
  ok(posix_fadvise(fd, 0, 100, POSIX_FADV_SEQUENTIAL) == 0, "posix_fadvise");
  ok(close(fd) == 0 && FAILS(close(fd), EBADF), "close, then EBADF");
  /* a big file across many chunks */
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(i * 7 + i / 65536);
  const char *big = strdup(path(dir, "big.bin"));
  ok(put(big, buf, sizeof buf) == 0, "write 200000 bytes in one call");
  static char back[200000];
  ok(slurp(big, back, sizeof back) == (long)sizeof buf && !memcmp(buf, back, sizeof buf),
     "... and read them back");
  /* open flags */
  ok(FAILS(open(f, O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST), "O_EXCL on an existing file: EEXIST");
  ok(FAILS(open(path(dir, "missing"), O_RDONLY), ENOENT), "a missing file: ENOENT");
  fd = open(f, O_WRONLY | O_TRUNC);
  ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC empties");
  ok(FAILS(read(fd, buf, 1), EBADF), "read on a write-only descriptor: EBADF");
  close(fd);
  fd = open(f, O_RDONLY);
  ok(FAILS(write(fd, "x", 1), EBADF), "write on a read-only descriptor: EBADF");
  close(fd);
  fd = open(f, O_WRONLY | O_APPEND);
  ok(write(fd, "ab", 2) == 2 && lseek(fd, 0, SEEK_SET) == 0 && write(fd, "cd", 2) == 2, "O_APPEND");
  close(fd);
  ok(slurp(f, buf, sizeof buf) == 4 && !memcmp(buf, "abcd", 4), "... writes at the end");
  ok(FAILS(open(path(dir, "file.txt/x"), O_RDONLY), ENOTDIR), "a file as a directory: ENOTDIR");
  ok(FAILS(open(path(dir, "file.txt/"), O_RDONLY), ENOTDIR),
     "a file with a trailing slash: ENOTDIR");
  /* directories */
  const char *d = strdup(path(dir, "sub"));
  ok(mkdir(d, 0755) == 0 && stat(d, &st) == 0 && S_ISDIR(st.st_mode), "mkdir, stat: a directory");
  ok(FAILS(mkdir(d, 0755), EEXIST), "mkdir again: EEXIST");
  ok(FAILS(open(d, O_WRONLY), EISDIR), "a directory opened for writing: EISDIR");
  ok(FAILS(mkdir(path(dir, "no/such"), 0755), ENOENT), "mkdir under a missing directory: ENOENT");
  ok(put(path(d, "inner"), "i", 1) == 0, "a file in it");
  ok(FAILS(rmdir(d), ENOTEMPTY), "rmdir of a non-empty directory: ENOTEMPTY");
  ok(FAILS(unlink(d), EISDIR), "unlink of a directory: EISDIR");
  ok(FAILS(rmdir(f), ENOTDIR), "rmdir of a file: ENOTDIR");
  ok(FAILS(unlink(path(dir, "missing")), ENOENT), "unlink of a missing name: ENOENT");
  int dots, n = count_entries(dir, &dots);
  ok(n == 3 && dots == 2, "readdir: 3 entries, and . and .. (%d, %d)", n, dots);
  for (int i = 0; i < 300; i++) {
    char nm[32];
    snprintf(nm, sizeof nm, "many-%03d-with-a-longer-name", i);
    if (put(path(d, nm), nm, strlen(nm)) != 0) break;
  }
  n = count_entries(d, &dots);
  ok(n == 301, "readdir of 301 entries, through several calls (%d)", n);
  ok(stat(path(d, "../file.txt"), &st) == 0 && st.st_size == 4, "'..' inside the directory");
  /* rename */
  ok(rename(f, path(dir, "renamed.txt")) == 0 && FAILS(stat(f, &st), ENOENT) &&
         stat(path(dir, "renamed.txt"), &st) == 0,
     "rename a file");
  ok(put(path(dir, "other"), "o", 1) == 0 &&
         rename(path(dir, "other"), path(dir, "renamed.txt")) == 0 &&
         slurp(path(dir, "renamed.txt"), buf, 10) == 1,
     "rename over an existing file replaces it");
  ok(FAILS(rename(d, path(d, "x/y")), ENOENT) || FAILS(rename(d, path(d, "x")), EINVAL),
     "a directory into itself fails");
  ok(FAILS(rename(d, path(d, "x")), EINVAL), "... with EINVAL");
  ok(mkdir(path(dir, "empty"), 0755) == 0 && rename(d, path(dir, "empty")) == 0 &&
         stat(path(dir, "empty/inner"), &st) == 0,
     "a directory over an empty one");
  ok(FAILS(rename(path(dir, "renamed.txt"), path(dir, "empty")), EISDIR),
     "a file over a directory: EISDIR");
  /* unlinked while open */
  fd = open(path(dir, "renamed.txt"), O_RDONLY);
  ok(unlink(path(dir, "renamed.txt")) == 0 && read(fd, buf, 10) == 1 && buf[0] == 'o',
     "an unlinked file reads on while open");
  close(fd);
  /* times */
  struct timespec ts[2] = {{1000, 5}, {2000, 7}};
  ok(utimensat(AT_FDCWD, big, ts, 0) == 0 && stat(big, &st) == 0 && st.st_atim.tv_sec == 1000 &&
         st.st_mtim.tv_sec == 2000 && st.st_mtim.tv_nsec == 7,
     "utimensat sets times");
  /* escaping */
  ok(FAILS(open(path(dir, "../../etc/passwd"), O_RDONLY), ENOTCAPABLE) ||
         FAILS(open(path(dir, "../../etc/passwd"), O_RDONLY), ENOENT) ||
         FAILS(open(path(dir, "../../etc/passwd"), O_RDONLY), EPERM),
     "'..' above the preopen never escapes (errno %d)", errno);
  ok(FAILS(open("/etc/passwd", O_RDONLY), ENOENT) ||
         FAILS(open("/etc/passwd", O_RDONLY), ENOTCAPABLE),
     "a path outside any preopen is refused");
  ok(FAILS(symlink("x", path(dir, "link")), ENOTSUP) ||
         FAILS(symlink("x", path(dir, "link")), EPERM),
     "symbolic links are refused");
  ok(FAILS(link(big, path(dir, "hard")), ENOTSUP) || FAILS(link(big, path(dir, "hard")), EPERM),
     "hard links are refused");
  /* what a review found: each once crashed, stalled or confused the host */
  {
    const char *t = path(dir, "iov.bin");
    uint32_t head[2] = {0xFFFFFF00u, 0x10000u};
    static char big2[70000], sink[16];
    memcpy(big2, head, sizeof head);
    put(t, big2, sizeof big2);
    int tfd = open(t, O_RDONLY);
    struct iovec v[2];
    v[0].iov_base = &v[1]; /* the first read overwrites the second iovec */
    v[0].iov_len = 8;
    v[1].iov_base = sink;
    v[1].iov_len = sizeof sink;
    ssize_t got = readv(tfd, v, 2);
    ok(got == 8 + (ssize_t)sizeof sink,
       "readv whose first buffer overwrites the next iovec: the host "
       "uses the iovecs it checked (%zd)",
       got);
    close(tfd);
    unlink(t);
  }
  {
    const char *t = path(dir, "sparse.bin");
    int sfd = open(t, O_RDWR | O_CREAT | O_TRUNC, 0644);
    time_t t0 = time(NULL);
    ok(pwrite(sfd, "x", 1, (1ll << 44) - 1) == 1 && ftruncate(sfd, 10) == 0 &&
           ftruncate(sfd, 1ll << 44) == 0 && close(sfd) == 0 && unlink(t) == 0 &&
           time(NULL) - t0 < 5,
       "a 16 TiB sparse file is written, shrunk, grown and unlinked at once");
    ok(FAILS(pwrite(open(path(dir, "file2"), O_RDWR | O_CREAT, 0644), "x", 1, 1ll << 44), EFBIG),
       "past 16 TiB: EFBIG");
  }
  {
    const char *sd = strdup(path(dir, "gone"));
    mkdir(sd, 0755);
    int dfd = open(sd, O_RDONLY | O_DIRECTORY);
    ok(dfd >= 0 && rmdir(sd) == 0 && FAILS(openat(dfd, "x", O_RDWR | O_CREAT, 0644), ENOENT),
       "a directory removed while open: creating in it is ENOENT, not an integrity error");
    close(dfd);
  }
  /* stdio */
  FILE *sf = fopen(path(dir, "stdio.txt"), "w+");
  ok(sf && fprintf(sf, "line %d\n", 42) == 8 && fflush(sf) == 0 && fseek(sf, 0, SEEK_SET) == 0 &&
         fgets(buf, 100, sf) && !strcmp(buf, "line 42\n"),
     "stdio: fopen, fprintf, fseek, fgets");
  if (sf) fclose(sf);
}

static int writer(const char *dir) {
  char a[64], b[64];
  snprintf(a, sizeof a, "%s/a", dir);
  snprintf(b, sizeof b, "%s/b", dir);
  static char data[150000];
  for (unsigned gen = 1;; gen++) {
    memset(data, 'a' + gen % 26, sizeof data);
    snprintf(data, 32, "gen %u ", gen);
    size_t len = 1000 + (gen * 7919) % (sizeof data - 1000);
    snprintf(data + len - 16, 16, " end %u", gen % 10000);
    if (put(a, data, len) || put(b, data, len)) return 1;
    printf("synced %u\n", gen);
    fflush(stdout);
  }
}

static int verify(const char *dir) {
  static char a[150000], b[150000];
  char pa[64], pb[64];
  snprintf(pa, sizeof pa, "%s/a", dir);
  snprintf(pb, sizeof pb, "%s/b", dir);
  long la = slurp(pa, a, sizeof a), lb = slurp(pb, b, sizeof b);
  if (la < 0 && lb < 0) return printf("empty\n"), 0;
  unsigned ga = 0, gb = 0;
  if (la < 32 || lb < 32 || sscanf(a, "gen %u", &ga) != 1 || sscanf(b, "gen %u", &gb) != 1)
    return printf("torn: %ld %ld\n", la, lb), 1;
  /* a is written first: b is a's generation or the one before */
  for (int k = 0; k < 2; k++) {
    const char *d = k ? b : a;
    long l = k ? lb : la;
    unsigned g = k ? gb : ga;
    char end[16];
    snprintf(end, sizeof end, " end %u", g % 10000);
    if ((size_t)l != 1000 + (g * 7919) % (sizeof a - 1000) || strcmp(d + l - 16, end))
      return printf("torn: %c gen %u\n", 'a' + k, g), 1;
  }
  if (ga != gb && ga != gb + 1) return printf("mixed: %u %u\n", ga, gb), 1;
  printf("gen %u %u\n", ga, gb);
  return 0;
}

/* For tampering under a running workload: fill PATH with a pattern, or
 * read it whole ROUNDS times, 300 ms apart, saying for each round whether
 * it read, failed (errno) or read WRONG data (which must never happen). */
static int pattern_byte(size_t i) { return (int)((i * 131 + i / 4096) & 0xff); }

static int watch(const char *p, int rounds, int fill) {
  static char buf[256 * 1024];
  if (fill) {
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)pattern_byte(i);
    return put(p, buf, sizeof buf) ? 1 : 0;
  }
  for (int r = 1; r <= rounds; r++) {
    int fd = open(p, O_RDONLY);
    size_t n = 0;
    ssize_t k = 0;
    while (fd >= 0 && n < sizeof buf && (k = read(fd, buf + n, 65536)) > 0) n += (size_t)k;
    int e = errno;
    if (fd >= 0) close(fd);
    bool right = n == sizeof buf;
    for (size_t i = 0; right && i < n; i++) right = (uint8_t)buf[i] == pattern_byte(i);
    if (fd < 0 || k < 0)
      printf("round %d error %d\n", r, e);
    else
      printf("round %d %s\n", r, right ? "ok" : "WRONG");
    fflush(stdout);
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "conformance")) {
    conformance(argv[2]);
    printf("1..%d\n", g_n);
    return g_failed ? 1 : 0;
  }
  if (argc >= 4 && !strcmp(argv[1], "put")) return put(argv[2], argv[3], strlen(argv[3])) ? 1 : 0;
  if (argc >= 3 && !strcmp(argv[1], "cat")) {
    static char buf[1 << 20];
    long n = slurp(argv[2], buf, sizeof buf);
    if (n < 0) return perror(argv[2]), 1;
    fwrite(buf, 1, (size_t)n, stdout);
    return 0;
  }
  if (argc >= 3 && !strcmp(argv[1], "ls")) {
    DIR *d = opendir(argv[2]);
    if (!d) return perror(argv[2]), 1;
    for (struct dirent *e; (e = readdir(d));)
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) printf("%s\n", e->d_name);
    closedir(d);
    return 0;
  }
  if (argc >= 3 && !strcmp(argv[1], "fill")) return watch(argv[2], 0, 1);
  if (argc >= 4 && !strcmp(argv[1], "watch")) return watch(argv[2], atoi(argv[3]), 0);
  if (argc >= 3 && !strcmp(argv[1], "writer")) return writer(argv[2]);
  if (argc >= 3 && !strcmp(argv[1], "verify")) return verify(argv[2]);
  fprintf(stderr, "usage: fs_guest conformance|put|cat|ls|writer|verify ...\n");
  return 2;
}
