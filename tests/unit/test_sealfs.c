/*
 * test_sealfs.c - the sealed filesystem's engine (src/fs/sealfs.h) on a
 * real store: files against a model across write-backs and reopenings,
 * directories and their errors, cookies, unlinking while open, space
 * coming back, padding, tampering and two writers.  The WASI calls over it
 * are tested through guests (tests/cli/filesystem.sh).
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/fs/sealfs.h"
#include "../../src/storage/backend.h"
#include "tap.h"

static char g_tmp[4096], g_state[4200];

static ehal_store *sopen(void) {
  ehal_store_err e;
  ehal_store *s = ehal_store_open(g_state, "fsw", NULL, NULL, &e);
  if (!s) tap_diag("ehal_store_open: %s", e.msg);
  return s;
}

static ehal_sfs *vopen(ehal_store *s, const char *name) {
  ehal_store_err e;
  ehal_sfs *fs = ehal_sfs_open(s, name, true, &e);
  if (!fs) tap_diag("ehal_sfs_open: %s", e.msg);
  return fs;
}

static uint64_t objects_now(void) {
  ehal_be_usage u;
  char err[256];
  if (ehal_storage_usage(g_state, "fsw", &u, err, sizeof err) != 0) return UINT64_MAX;
  return u.objects;
}

static uint64_t mkfile(ehal_sfs *fs, uint64_t dir, const char *name) {
  uint64_t ino = 0;
  int rc = ehal_sfs_create(fs, dir, name, strlen(name), EHAL_SFS_FILE, &ino);
  if (rc) tap_diag("create %s: %d", name, rc);
  return ino;
}

/* ---- files against a model ---- */

static bool same_as(ehal_sfs *fs, uint64_t ino, const uint8_t *model, size_t size) {
  ehal_sfs_attr a;
  if (ehal_sfs_stat(fs, ino, &a) || a.size != size) {
    tap_diag("size %llu, model %zu", (unsigned long long)a.size, size);
    return false;
  }
  uint8_t *got = malloc(size + 100);
  size_t n = 0;
  bool ok =
      ehal_sfs_read(fs, ino, 0, got, size + 100, &n) == 0 && n == size && !memcmp(got, model, size);
  if (!ok)
    tap_diag("read %zu of %zu bytes, same: %d", n, size, n == size && !memcmp(got, model, n));
  free(got);
  return ok;
}

static void test_model(ehal_store *s) {
  ehal_sfs *fs = vopen(s, "/model");
  if (!TAP_OK(fs != NULL, "a new volume opens")) return;
  ehal_sfs_attr a;
  TAP_OK(ehal_sfs_stat(fs, EHAL_SFS_ROOT, &a) == 0 && a.type == EHAL_SFS_DIR && a.size == 0,
         "its root is an empty directory");
  uint64_t ino = mkfile(fs, EHAL_SFS_ROOT, "f");
  size_t cap = 6 * EHAL_SFS_CHUNK + 1234, size = 0;
  uint8_t *model = calloc(1, cap), *buf = malloc(cap);
  srand(7);
  bool ok = true;
  for (int step = 0; step < 400 && ok; step++) {
    int what = rand() % 10;
    if (what < 6) { /* write somewhere, often across a chunk boundary */
      size_t off = (size_t)rand() % cap, len = (size_t)rand() % (2 * EHAL_SFS_CHUNK + 7);
      if (len > cap - off) len = cap - off;
      for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rand();
      size_t n = 0;
      ok = ehal_sfs_write(fs, ino, off, buf, len, &n) == 0 && n == len;
      memcpy(model + off, buf, len);
      if (off + len > size) size = off + len;
    } else if (what < 8) { /* truncate: shrink or grow */
      size_t ns = (size_t)rand() % cap;
      ok = ehal_sfs_truncate(fs, ino, ns) == 0;
      if (ns < size) memset(model + ns, 0, size - ns);
      size = ns;
    } else if (what == 8) {
      ok = ehal_sfs_sync(fs) == 0;
    } else { /* close and reopen: only what was written back survives, and all of it is */
      ok = ehal_sfs_close(fs) == 0 && (fs = vopen(s, "/model")) != NULL &&
           ehal_sfs_lookup(fs, EHAL_SFS_ROOT, "f", 1, &ino) == 0;
    }
    if (ok && step % 20 == 19) ok = same_as(fs, ino, model, size);
    if (!ok) tap_diag("step %d (%d) failed: %s", step, what, fs ? ehal_sfs_errmsg(fs) : "");
  }
  TAP_OK(ok && same_as(fs, ino, model, size),
         "400 random writes, truncates, syncs and reopenings match the model");
  /* a hole reads as zeros, and a shrink zeroes what a later growth shows */
  uint64_t h = mkfile(fs, EHAL_SFS_ROOT, "hole");
  size_t n = 0;
  memset(buf, 0xab, 10);
  ok = ehal_sfs_write(fs, h, 3 * EHAL_SFS_CHUNK + 5, buf, 10, &n) == 0 &&
       ehal_sfs_truncate(fs, h, 3 * EHAL_SFS_CHUNK + 7) == 0 &&
       ehal_sfs_truncate(fs, h, 3 * EHAL_SFS_CHUNK + 15) == 0;
  memset(model, 0, cap);
  memset(model + 3 * EHAL_SFS_CHUNK + 5, 0xab, 2);
  TAP_OK(ok && same_as(fs, h, model, 3 * EHAL_SFS_CHUNK + 15),
         "holes read as zeros; shrinking then growing shows zeros, not the old bytes");
  ehal_sfs_sync(fs);
  ehal_sfs_close(fs);
  fs = vopen(s, "/model");
  TAP_OK(fs && ehal_sfs_lookup(fs, EHAL_SFS_ROOT, "hole", 4, &h) == 0 &&
             same_as(fs, h, model, 3 * EHAL_SFS_CHUNK + 15),
         "... and after reopening");
  ehal_sfs_close(fs);
  free(model);
  free(buf);
}

/* ---- directories ---- */

typedef struct {
  char names[64][32];
  uint64_t next[64];
  int n, stop_after;
} listing;

static int collect(void *user, uint64_t next, uint64_t ino, uint8_t type, const char *name,
                   size_t len) {
  (void)ino, (void)type;
  listing *l = user;
  if (l->n < 64) {
    snprintf(l->names[l->n], sizeof l->names[0], "%.*s", (int)len, name);
    l->next[l->n] = next;
  }
  l->n++;
  return l->stop_after && l->n >= l->stop_after;
}

static void test_dirs(ehal_store *s) {
  ehal_sfs *fs = vopen(s, "/dirs");
  if (!fs) return;
  uint64_t a, b, f, x;
  TAP_OK(ehal_sfs_create(fs, EHAL_SFS_ROOT, "a", 1, EHAL_SFS_DIR, &a) == 0 &&
             ehal_sfs_create(fs, a, "b", 1, EHAL_SFS_DIR, &b) == 0 &&
             ehal_sfs_create(fs, b, "f", 1, EHAL_SFS_FILE, &f) == 0,
         "mkdir a, a/b, a file a/b/f");
  TAP_OK(ehal_sfs_create(fs, a, "b", 1, EHAL_SFS_FILE, &x) == EHAL_SFS_EEXIST &&
             ehal_sfs_create(fs, a, ".", 1, EHAL_SFS_DIR, &x) == EHAL_SFS_EEXIST,
         "creating an existing name, or '.', is EEXIST");
  TAP_OK(ehal_sfs_lookup(fs, b, "..", 2, &x) == 0 && x == a &&
             ehal_sfs_lookup(fs, EHAL_SFS_ROOT, "..", 2, &x) == EHAL_SFS_ENOTCAPABLE,
         "'..' goes up, and never above the root (ENOTCAPABLE)");
  TAP_OK(ehal_sfs_lookup(fs, a, "nope", 4, &x) == EHAL_SFS_ENOENT &&
             ehal_sfs_lookup(fs, f, "x", 1, &x) == EHAL_SFS_ENOTDIR &&
             ehal_sfs_lookup(fs, a, "a/b", 3, &x) == EHAL_SFS_EINVAL,
         "ENOENT, ENOTDIR, and a name with '/' is EINVAL");
  char longname[300];
  memset(longname, 'n', sizeof longname);
  TAP_OK(ehal_sfs_create(fs, a, longname, 256, EHAL_SFS_FILE, &x) == EHAL_SFS_ENAMETOOLONG &&
             ehal_sfs_create(fs, a, longname, 255, EHAL_SFS_FILE, &x) == 0,
         "names up to 255 bytes; 256 is ENAMETOOLONG");
  TAP_OK(ehal_sfs_remove(fs, EHAL_SFS_ROOT, "a", 1, true) == EHAL_SFS_ENOTEMPTY &&
             ehal_sfs_remove(fs, a, "b", 1, false) == EHAL_SFS_EISDIR &&
             ehal_sfs_remove(fs, b, "f", 1, true) == EHAL_SFS_ENOTDIR &&
             ehal_sfs_remove(fs, b, "g", 1, false) == EHAL_SFS_ENOENT,
         "rmdir of a non-empty directory, unlink of a directory, rmdir of a file fail right");
  /* rename */
  TAP_OK(ehal_sfs_rename(fs, EHAL_SFS_ROOT, "a", 1, b, "z", 1) == EHAL_SFS_EINVAL,
         "a directory never moves under itself");
  uint64_t g = mkfile(fs, a, "g");
  TAP_OK(ehal_sfs_rename(fs, b, "f", 1, a, "g", 1) == 0 &&
             ehal_sfs_lookup(fs, a, "g", 1, &x) == 0 && x == f &&
             ehal_sfs_lookup(fs, b, "f", 1, &x) == EHAL_SFS_ENOENT,
         "a file renamed over another replaces it");
  (void)g;
  uint64_t q;
  ehal_sfs_create(fs, EHAL_SFS_ROOT, "q", 1, EHAL_SFS_DIR, &q);
  TAP_OK(ehal_sfs_rename(fs, a, "g", 1, EHAL_SFS_ROOT, "a", 1) == EHAL_SFS_EISDIR &&
             ehal_sfs_rename(fs, EHAL_SFS_ROOT, "q", 1, a, "g", 1) == EHAL_SFS_ENOTDIR,
         "file over directory is EISDIR, directory over file ENOTDIR");
  uint64_t e1;
  ehal_sfs_create(fs, EHAL_SFS_ROOT, "empty", 5, EHAL_SFS_DIR, &e1);
  TAP_OK(ehal_sfs_rename(fs, a, "b", 1, EHAL_SFS_ROOT, "empty", 5) == 0 &&
             ehal_sfs_lookup(fs, EHAL_SFS_ROOT, "empty", 5, &x) == 0 && x == b &&
             ehal_sfs_lookup(fs, b, "..", 2, &x) == 0 && x == EHAL_SFS_ROOT,
         "a directory renamed over an empty one replaces it, and its '..' follows");
  /* cookies: a listing in pages sees every entry once */
  uint64_t d;
  ehal_sfs_create(fs, EHAL_SFS_ROOT, "many", 4, EHAL_SFS_DIR, &d);
  for (int i = 0; i < 40; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "e%02d", i);
    mkfile(fs, d, nm);
  }
  for (int i = 0; i < 40; i += 3) {
    char nm[16];
    snprintf(nm, sizeof nm, "e%02d", i);
    ehal_sfs_remove(fs, d, nm, strlen(nm), false);
  }
  ehal_sfs_sync(fs);
  int seen[40] = {0}, total = 0;
  uint64_t cookie = 0;
  for (int page = 0; page < 100; page++) {
    listing l = {.stop_after = 5};
    ehal_sfs_readdir(fs, d, cookie, collect, &l);
    if (l.n == 0) break;
    for (int i = 0; i < l.n; i++) {
      int k;
      if (sscanf(l.names[i], "e%d", &k) == 1) seen[k]++, total++;
    }
    cookie = l.next[l.n - 1];
  }
  bool once = true;
  for (int i = 0; i < 40; i++) once &= seen[i] == (i % 3 ? 1 : 0);
  TAP_OK(once && total == 26, "readdir in pages of 5 by cookie lists each of 26 entries once");
  listing all = {0};
  ehal_sfs_readdir(fs, d, 0, collect, &all);
  TAP_OK(all.n == 28 && !strcmp(all.names[0], ".") && !strcmp(all.names[1], ".."),
         "'.' and '..' come first");
  ehal_sfs_close(fs);
  fs = vopen(s, "/dirs");
  ehal_sfs_attr at;
  TAP_OK(fs && ehal_sfs_lookup(fs, EHAL_SFS_ROOT, "many", 4, &x) == 0 && x == d &&
             ehal_sfs_stat(fs, d, &at) == 0 && at.size == 26 &&
             ehal_sfs_lookup(fs, EHAL_SFS_ROOT, "empty", 5, &x) == 0 && x == b,
         "the tree is the same after reopening");
  ehal_sfs_close(fs);
}

/* ---- space, holds, padding ---- */

static void test_space(ehal_store *s) {
  ehal_sfs *fs = vopen(s, "/space");
  if (!fs) return;
  ehal_sfs_sync(fs);
  uint64_t base = objects_now();
  uint64_t d;
  ehal_sfs_create(fs, EHAL_SFS_ROOT, "small", 5, EHAL_SFS_DIR, &d);
  bool ok = true;
  for (int i = 0; i < 1500 && ok; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "f%d", i);
    uint64_t ino = mkfile(fs, d, nm);
    size_t n;
    ok = ino && ehal_sfs_write(fs, ino, 0, (const uint8_t *)nm, strlen(nm), &n) == 0;
  }
  ok = ok && ehal_sfs_sync(fs) == 0;
  uint64_t full = objects_now();
  TAP_OK(ok && full >= base + 3000, "1500 small files written back (%llu objects)",
         (unsigned long long)full);
  for (int i = 0; i < 1500 && ok; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "f%d", i);
    ok = ehal_sfs_remove(fs, d, nm, strlen(nm), false) == 0;
  }
  ok = ok && ehal_sfs_remove(fs, EHAL_SFS_ROOT, "small", 5, true) == 0 && ehal_sfs_sync(fs) == 0;
  TAP_OK(ok && objects_now() == base, "... and unlinked: every object is gone (%llu, was %llu)",
         (unsigned long long)objects_now(), (unsigned long long)base);

  /* a file of more chunks than one batch deletes */
  uint64_t big = mkfile(fs, EHAL_SFS_ROOT, "big");
  uint8_t *buf = malloc(1 << 20);
  memset(buf, 0x5a, 1 << 20);
  size_t n;
  ok = true;
  for (int i = 0; i < 72 && ok; i++)
    ok = ehal_sfs_write(fs, big, (uint64_t)i << 20, buf, 1 << 20, &n) == 0 && n == 1 << 20;
  ok = ok && ehal_sfs_sync(fs) == 0;
  TAP_OK(ok && objects_now() >= base + 1152, "a 72 MiB file: 1152 chunks");
  ok = ehal_sfs_truncate(fs, big, 100) == 0 && ehal_sfs_sync(fs) == 0;
  TAP_OK(ok && objects_now() == base + 2, "truncated to 100 bytes: one chunk left (%llu)",
         (unsigned long long)objects_now() - base);
  /* unlinked while held: readable until released */
  ehal_sfs_hold(fs, big);
  ok = ehal_sfs_remove(fs, EHAL_SFS_ROOT, "big", 3, false) == 0 && ehal_sfs_sync(fs) == 0;
  uint64_t x;
  uint8_t got[100];
  TAP_OK(ok && ehal_sfs_lookup(fs, EHAL_SFS_ROOT, "big", 3, &x) == EHAL_SFS_ENOENT &&
             ehal_sfs_read(fs, big, 0, got, 100, &n) == 0 && n == 100 && got[99] == 0x5a,
         "an unlinked file still open reads on");
  ehal_sfs_release(fs, big);
  TAP_OK(ehal_sfs_sync(fs) == 0 && objects_now() == base,
         "... and its objects go with the last release");
  free(buf);

  /* what the store shows of sizes: powers of two, 512 bytes at least */
  uint64_t p = mkfile(fs, EHAL_SFS_ROOT, "p");
  ehal_sfs_write(fs, p, 0, (const uint8_t *)"12345", 5, &n);
  ehal_sfs_sync(fs);
  char path[4400];
  ehal_backend_sqlite_path(g_state, "fsw", path, sizeof path);
  sqlite3 *db = NULL;
  int odd = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT count(*) FROM objects o JOIN containers c ON o.container = c.id "
                       "WHERE c.name = char(1)||'fs:/space' AND (size < 512 OR (size & (size - "
                       "1)) != 0)",
                       -1, &q, NULL);
    if (q && sqlite3_step(q) == SQLITE_ROW) odd = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  TAP_OK(odd == 0, "every object of a volume is a power of two of at least 512 bytes");
  ehal_sfs_close(fs);
}

/* ---- tampering, conflicts, separation ---- */

static bool sql(const char *q) {
  char path[4400];
  ehal_backend_sqlite_path(g_state, "fsw", path, sizeof path);
  sqlite3 *db = NULL;
  char *msg = NULL;
  bool ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
            sqlite3_exec(db, q, NULL, NULL, &msg) == SQLITE_OK;
  if (!ok) tap_diag("SQL %s: %s", q, msg ? msg : sqlite3_errmsg(db));
  sqlite3_free(msg);
  sqlite3_close(db);
  return ok;
}

static void test_tamper(void) {
  ehal_store *s = sopen();
  ehal_sfs *fs = s ? vopen(s, "/t") : NULL;
  if (!fs) return;
  uint64_t f = mkfile(fs, EHAL_SFS_ROOT, "secret");
  uint8_t buf[3 * EHAL_SFS_CHUNK];
  memset(buf, 'S', sizeof buf);
  size_t n;
  ehal_sfs_write(fs, f, 0, buf, sizeof buf, &n);
  ehal_sfs_close(fs);
  ehal_store_close(s);
  /* flip a bit in the data of a full chunk */
  TAP_OK(sql("UPDATE objects SET data = CASE WHEN substr(data, 1, 1) = X'00' THEN X'01' "
             "ELSE X'00' END || substr(data, 2) WHERE id = (SELECT o.id FROM objects o JOIN "
             "containers c ON "
             "o.container = c.id WHERE c.name = char(1)||'fs:/t' AND o.size = 65536 LIMIT 1)"),
         "tamper: one chunk's ciphertext changed");
  s = sopen();
  fs = s ? vopen(s, "/t") : NULL;
  int bad = 0;
  if (fs) {
    for (uint64_t off = 0; off < sizeof buf; off += EHAL_SFS_CHUNK) {
      uint8_t got[16];
      int rc = ehal_sfs_read(fs, f, off, got, sizeof got, &n);
      if (rc == EHAL_SFS_EIO && strstr(ehal_sfs_errmsg(fs), "integrity error"))
        bad++;
      else if (rc || n != 16 || got[0] != 'S')
        bad += 100;
    }
  }
  TAP_OK(bad == 1, "reading it is EIO with an integrity error, never data; the others read");
  if (fs) { /* whole chunks go straight to the caller: the same check */
    static uint8_t all[3 * EHAL_SFS_CHUNK];
    size_t got = 0, more = 0;
    int rc1 = ehal_sfs_read(fs, f, 0, all, sizeof all, &got);
    int rc2 = got < sizeof all ? ehal_sfs_read(fs, f, got, all, sizeof all - got, &more) : 0;
    /* which chunk was tampered with depends on the rows' order: the first
     * (EIO at once) or a later one (a short read, then EIO) */
    bool first = rc1 == EHAL_SFS_EIO && got == 0,
         later = rc1 == 0 && got > 0 && rc2 == EHAL_SFS_EIO;
    TAP_OK((first || later) && got < sizeof all && got % EHAL_SFS_CHUNK == 0 && more == 0,
           "a read of whole chunks stops before the tampered one (%zu bytes), then EIO", got);
  }
  if (fs) ehal_sfs_close(fs);
  ehal_store_close(s);
  /* delete a chunk row: the container's MAC'd state catches it at once */
  TAP_OK(sql("DELETE FROM objects WHERE id = (SELECT o.id FROM objects o JOIN containers c ON "
             "o.container = c.id WHERE c.name = char(1)||'fs:/t' AND o.size = 65536 LIMIT 1 "
             "OFFSET 1)"),
         "tamper: a chunk's row deleted");
  s = sopen();
  ehal_store_err e;
  fs = s ? ehal_sfs_open(s, "/t", true, &e) : NULL;
  TAP_OK(!fs && strstr(e.msg, "integrity error"), "the volume does not open: %s",
         fs ? "(opened)" : e.msg);
  ehal_sfs_close(fs);
  ehal_store_close(s);
}

static void test_conflict_and_names(void) {
  ehal_store *s1 = sopen(), *s2 = sopen();
  ehal_sfs *a = s1 ? vopen(s1, "/shared") : NULL, *b = s2 ? vopen(s2, "/shared") : NULL;
  if (a && b) {
    uint64_t x, y;
    bool ok = ehal_sfs_create(a, EHAL_SFS_ROOT, "x", 1, EHAL_SFS_FILE, &x) == 0 &&
              ehal_sfs_sync(a) == 0 &&
              ehal_sfs_create(b, EHAL_SFS_ROOT, "y", 1, EHAL_SFS_FILE, &y) == 0;
    int rc = ehal_sfs_sync(b);
    TAP_OK(ok && rc == EHAL_SFS_EIO && strstr(ehal_sfs_errmsg(b), "conflict"),
           "a second writer of one volume never overwrites the first (%s)", ehal_sfs_errmsg(b));
  }
  ehal_sfs_close(a);
  ehal_sfs_close(b);
  ehal_store_err e;
  ehal_store_container *c = NULL;
  const char *hidden = EHAL_STORE_VOLUME_PREFIX "/shared";
  TAP_OK(s1 && ehal_store_container_open(s1, hidden, strlen(hidden), &c, &e) == EHAL_STORE_INVALID,
         "the storage interface cannot name a volume's container");
  ehal_store_container_release(c);
  ehal_store_close(s1);
  ehal_store_close(s2);
}

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/ehal-test-sealfs-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(g_tmp)) return perror("mkdtemp"), 1;
  snprintf(g_state, sizeof g_state, "%s/state", g_tmp);
  ehal_store *s = sopen();
  if (s) {
    test_model(s);
    test_dirs(s);
    test_space(s);
    ehal_store_close(s);
  }
  test_tamper();
  test_conflict_and_names();
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
  if (system(cmd) != 0) tap_diag("could not remove %s", g_tmp);
  return tap_done();
}
