/*
 * cmd_storage_fs.c - `elastic-hal storage import` and `storage export`: an
 * operator seeds a workload's sealed directory from plain files
 * (provisioning its initial data) and writes one back out, through the
 * sealed filesystem (src/fs/sealfs.h), so what is imported is sealed
 * exactly as the workload's own writes are (docs/filesystem.md).
 *
 *   elastic-hal storage import HOST_DIR --workload NAME --dir GUEST_PATH
 *   elastic-hal storage export OUT_DIR --workload NAME --dir GUEST_PATH
 *
 * Import takes regular files and directories only: a symbolic link or a
 * device in HOST_DIR is skipped with a warning, never followed.  Export
 * writes into a new (or empty) directory, files 0600 and directories 0700:
 * the plaintext is the operator's to protect from there.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fs/sealfs.h"
#include "../storage/store.h"
#include "elastic-hal/elastic_hal.h"

int ehal_cmd_storage_fs(const char *prog, bool import, int argc, char **argv);

#define IO_CHUNK (1u << 20)

typedef struct {
  const char *prog;
  ehal_sfs *fs;
  uint8_t *buf;
  uint64_t files, dirs, bytes, skipped;
} job;

static int sfs_fail(job *j, const char *what, const char *name, int rc) {
  const char *m = ehal_sfs_errmsg(j->fs);
  fprintf(stderr, "%s: %s %s: %s\n", j->prog, what, name,
          *m                      ? m
          : rc == EHAL_SFS_EEXIST ? "exists in the sealed directory as another type"
                                  : strerror(rc == EHAL_SFS_ENOSPC ? ENOSPC : EIO));
  return -1;
}

/* ---- import ---- */

static int import_file(job *j, int fd, uint64_t dir, const char *name, const char *shown) {
  uint64_t ino;
  int rc = ehal_sfs_lookup(j->fs, dir, name, strlen(name), &ino);
  if (rc == EHAL_SFS_ENOENT)
    rc = ehal_sfs_create(j->fs, dir, name, strlen(name), EHAL_SFS_FILE, &ino);
  else if (!rc)
    rc = ehal_sfs_truncate(j->fs, ino, 0); /* replaced; EISDIR for a directory */
  if (rc) return sfs_fail(j, "cannot import", shown, rc);
  uint64_t off = 0;
  for (;;) {
    ssize_t n = read(fd, j->buf, IO_CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fprintf(stderr, "%s: cannot read %s: %s\n", j->prog, shown, strerror(errno));
      return -1;
    }
    if (n == 0) break;
    size_t w = 0;
    if ((rc = ehal_sfs_write(j->fs, ino, off, j->buf, (size_t)n, &w)) || w != (size_t)n)
      return sfs_fail(j, "cannot write", shown, rc ? rc : EHAL_SFS_EIO);
    off += (uint64_t)n;
  }
  j->files++;
  j->bytes += off;
  return 0;
}

/* Copies the directory open as dfd into sealed directory dir. */
static int import_dir(job *j, int dfd, uint64_t dir, const char *shown) {
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    fprintf(stderr, "%s: cannot read %s: %s\n", j->prog, shown, strerror(errno));
    return -1;
  }
  int result = 0;
  for (struct dirent *e; result == 0 && (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", shown, e->d_name);
    int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
      /* a link (ELOOP with O_NOFOLLOW), a device, a socket: never followed */
      fprintf(stderr, "%s: warning: skipped %s (not a regular file or directory)\n", j->prog, path);
      if (fd >= 0) close(fd);
      j->skipped++;
      continue;
    }
    if (strlen(e->d_name) > EHAL_SFS_NAME_MAX) {
      fprintf(stderr, "%s: %s: name longer than %d bytes\n", j->prog, path, EHAL_SFS_NAME_MAX);
      close(fd);
      result = -1;
      break;
    }
    if (S_ISREG(st.st_mode)) {
      result = import_file(j, fd, dir, e->d_name, path);
      close(fd);
      continue;
    }
    uint64_t sub;
    int rc = ehal_sfs_lookup(j->fs, dir, e->d_name, strlen(e->d_name), &sub);
    ehal_sfs_attr a;
    if (rc == EHAL_SFS_ENOENT) {
      rc = ehal_sfs_create(j->fs, dir, e->d_name, strlen(e->d_name), EHAL_SFS_DIR, &sub);
    } else if (!rc && !(rc = ehal_sfs_stat(j->fs, sub, &a)) && a.type != EHAL_SFS_DIR) {
      rc = EHAL_SFS_EEXIST;
    }
    if (rc) {
      close(fd);
      result = sfs_fail(j, "cannot import", path, rc);
      break;
    }
    j->dirs++;
    result = import_dir(j, fd, sub, path); /* takes fd */
  }
  closedir(d);
  return result;
}

/* ---- export ---- */

typedef struct {
  char **names;
  uint64_t *inos;
  uint8_t *types;
  size_t n, cap;
} names;

static int collect(void *user, uint64_t next, uint64_t ino, uint8_t type, const char *name,
                   size_t len) {
  (void)next;
  names *l = user;
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    char **nn = realloc(l->names, cap * sizeof *nn);
    if (nn) l->names = nn;
    uint64_t *ni = nn ? realloc(l->inos, cap * sizeof *ni) : NULL;
    if (ni) l->inos = ni;
    uint8_t *nt = ni ? realloc(l->types, cap) : NULL;
    if (!nt) return 1;
    l->types = nt;
    l->cap = cap;
  }
  if (!(l->names[l->n] = strndup(name, len))) return 1;
  l->inos[l->n] = ino;
  l->types[l->n++] = type;
  return 0;
}

static int export_dir(job *j, uint64_t dir, int outfd, const char *shown) {
  names l = {0};
  int result = 0, rc = ehal_sfs_readdir(j->fs, dir, 0, collect, &l);
  if (rc) result = sfs_fail(j, "cannot list", shown, rc);
  for (size_t i = 0; i < l.n && result == 0; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", shown, l.names[i]);
    /* names come from the sealed directory: one component, never '/', '.' or '..' */
    if (l.types[i] == EHAL_SFS_DIR) {
      int sub = -1;
      if (mkdirat(outfd, l.names[i], 0700) != 0 ||
          (sub = openat(outfd, l.names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        fprintf(stderr, "%s: cannot make %s: %s\n", j->prog, path, strerror(errno));
        result = -1;
        break;
      }
      j->dirs++;
      result = export_dir(j, l.inos[i], sub, path);
      close(sub);
      continue;
    }
    int fd = openat(outfd, l.names[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      fprintf(stderr, "%s: cannot create %s: %s\n", j->prog, path, strerror(errno));
      result = -1;
      break;
    }
    for (uint64_t off = 0;;) {
      size_t n = 0;
      if ((rc = ehal_sfs_read(j->fs, l.inos[i], off, j->buf, IO_CHUNK, &n))) {
        result = sfs_fail(j, "cannot read", path, rc);
        break;
      }
      if (n == 0) break;
      for (size_t w = 0; w < n;) {
        ssize_t k = write(fd, j->buf + w, n - w);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
          fprintf(stderr, "%s: cannot write %s: %s\n", j->prog, path, strerror(errno));
          result = -1;
          break;
        }
        w += (size_t)k;
      }
      if (result) break;
      off += n;
      j->bytes += n;
    }
    if (close(fd) != 0 && result == 0) {
      fprintf(stderr, "%s: cannot write %s: %s\n", j->prog, path, strerror(errno));
      result = -1;
    }
    j->files++;
  }
  for (size_t i = 0; i < l.n; i++) free(l.names[i]);
  free(l.names);
  free(l.inos);
  free(l.types);
  return result;
}

/* ---- the commands ---- */

static void usage(FILE *f, const char *prog, bool import) {
  fprintf(f,
          import ? "Usage: %s storage import HOST_DIR --workload NAME --dir GUEST_PATH [OPTIONS]\n"
                   "\n"
                   "Copy the files and directories under HOST_DIR into the workload's sealed\n"
                   "directory GUEST_PATH (what 'run --dir GUEST_PATH' preopens), creating it if\n"
                   "needed; files already there by the same name are replaced.  Symbolic links\n"
                   "and special files are skipped with a warning, never followed.\n"
                 : "Usage: %s storage export OUT_DIR --workload NAME --dir GUEST_PATH [OPTIONS]\n"
                   "\n"
                   "Write the workload's sealed directory GUEST_PATH out, decrypted, into OUT_DIR\n"
                   "(made 0700 if missing, else it must be empty); files are written 0600.\n",
          prog);
  fprintf(f,
          "\n"
          "Options:\n"
          "  -n, --workload NAME   the workload (required)\n"
          "  -d, --dir GUEST_PATH  the sealed directory, as given to run --dir (required)\n"
          "  -s, --state-dir DIR   state directory (default $XDG_STATE_HOME/elastic-hal,\n"
          "                        else ~/.local/state/elastic-hal)\n"
          "      --max-storage MIB the workload's storage quota while importing (default 1024)\n"
          "  -h, --help            show this help\n"
          "\n"
          "Exit status: 0 done, 1 failed (what was imported before a failure stays), 2 usage.\n");
}

int ehal_cmd_storage_fs(const char *prog, bool import, int argc, char **argv) {
  static const struct option opts[] = {{"workload", required_argument, 0, 'n'},
                                       {"dir", required_argument, 0, 'd'},
                                       {"state-dir", required_argument, 0, 's'},
                                       {"max-storage", required_argument, 0, 'Q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *workload = NULL, *gpath = NULL, *state = NULL, *what = import ? "import" : "export";
  unsigned long long quota_mib = 1024;
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "n:d:s:h", opts, NULL)) != -1) {
    char *end;
    switch (ch) {
      case 'n': workload = optarg; break;
      case 'd': gpath = optarg; break;
      case 's': state = optarg; break;
      case 'Q':
        errno = 0;
        quota_mib = strtoull(optarg, &end, 10);
        if (errno || *end || quota_mib == 0 || quota_mib > 16777216) {
          fprintf(stderr, "%s: --max-storage takes a number of MiB from 1 to 16777216\n", prog);
          return 2;
        }
        break;
      case 'h': usage(stdout, prog, import); return 0;
      default:
        fprintf(stderr, "%s: storage %s: unknown or incomplete option '%s'\n", prog, what,
                argv[optind - 1]);
        usage(stderr, prog, import);
        return 2;
    }
  }
  if (optind != argc - 1 || !workload || !gpath) {
    fprintf(stderr, "%s: storage %s needs one %s, --workload and --dir\n", prog, what,
            import ? "HOST_DIR" : "OUT_DIR");
    usage(stderr, prog, import);
    return 2;
  }
  const char *hostdir = argv[optind];
  if (!ehal_sfs_guest_path_ok(gpath)) {
    fprintf(stderr, "%s: --dir takes an absolute guest path such as /data, as run --dir does\n",
            prog);
    return 2;
  }
  char *def = state ? NULL : elastic_hal_default_state_dir();
  ehal_store_limits lim;
  ehal_store_default_limits(&lim);
  lim.max_bytes_per_workload = quota_mib << 20;
  ehal_store_err e;
  job j = {.prog = prog, .buf = malloc(IO_CHUNK)};
  ehal_store *s = j.buf ? ehal_store_open(state ? state : def, workload, NULL, &lim, &e) : NULL;
  if (s) j.fs = ehal_sfs_open(s, gpath, import, &e);
  int status = 1, hfd = -2;
  if (!j.buf || !s || !j.fs) {
    fprintf(stderr, "%s: storage %s: %s\n", prog, what,
            !j.buf ? "out of memory"
            : e.code == EHAL_STORE_NOTFOUND
                ? "the workload has no such sealed directory (see 'storage list')"
                : e.msg);
    ehal_sfs_close(j.fs);
    j.fs = NULL;
  } else {
    if (import) {
      hfd = open(hostdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else {
      if (mkdir(hostdir, 0700) != 0 && errno != EEXIST)
        hfd = -1;
      else
        hfd = open(hostdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      DIR *probe = hfd >= 0 ? fdopendir(dup(hfd)) : NULL;
      int entries = 0;
      for (struct dirent *de; probe && (de = readdir(probe));)
        entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
      if (probe) closedir(probe);
      if (hfd >= 0 && entries) {
        fprintf(stderr, "%s: %s is not empty: export into a new or empty directory\n", prog,
                hostdir);
        close(hfd);
        hfd = -2;
      }
    }
    if (hfd == -1) fprintf(stderr, "%s: cannot open %s: %s\n", prog, hostdir, strerror(errno));
  }
  if (hfd < 0) {
    ehal_sfs_close(j.fs);
    j.fs = NULL;
  } else if (import) {
    int rc = import_dir(&j, hfd, EHAL_SFS_ROOT, hostdir); /* takes hfd */
    int src = ehal_sfs_sync(j.fs);
    if (src) sfs_fail(&j, "cannot write back", gpath, src);
    if (!rc && !src) status = 0;
  } else {
    status = export_dir(&j, EHAL_SFS_ROOT, hfd, hostdir) == 0 ? 0 : 1;
    close(hfd);
  }
  if (j.fs)
    printf("%s %llu file(s), %llu director%s, %llu bytes %s sealed directory %s of workload %s%s\n",
           import ? "imported" : "exported", (unsigned long long)j.files,
           (unsigned long long)j.dirs, j.dirs == 1 ? "y" : "ies", (unsigned long long)j.bytes,
           import ? "into" : "from", gpath, workload, status ? " (incomplete: see above)" : "");
  if (j.skipped) printf("%llu skipped (see the warnings)\n", (unsigned long long)j.skipped);
  ehal_sfs_close(j.fs);
  ehal_store_close(s);
  free(j.buf);
  free(def);
  return status;
}
