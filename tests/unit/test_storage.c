/*
 * test_storage.c - object storage (elastic:storage, src/storage/):
 *
 *  1. the interface through a real guest (tests/guests/storage_guest.c) and
 *     the real engine: create/open semantics, objects, metadata, content
 *     types, paging, validation, handles, limits, workload isolation;
 *  2. what reaches the disk: file modes, no plaintext anywhere under the
 *     state directory (database, WAL, shared memory);
 *  3. tampering with the real database file (sqlite3 API on a closed
 *     store): flipped, swapped, renamed, moved, truncated, extended,
 *     deleted, injected and rolled-back object rows, container rows edited,
 *     renamed, swapped and rolled back, a database swapped between
 *     workloads: every case must be an integrity error, never data; and
 *     what is documented as not detected (a consistent older copy of a
 *     whole container or store) is shown to be visible through the
 *     container version, and detected within a running process;
 *  4. workload key contexts: load-key-context with crypto contexts through
 *     the guest, and the engine's load-key directly (wrong keys, a cleared
 *     keyed flag);
 *  5. usage counting for quotas.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "elastic-hal/elastic_hal.h"
#include "storage/store.h"
#include "tap.h"

#ifndef EHAL_TEST_GUESTS
#error "EHAL_TEST_GUESTS (the build's guests directory) must be defined"
#endif
#define GUEST EHAL_TEST_GUESTS "/storage_guest.wasm"

static char g_tmp[4096];
static char g_cache[4200];
static int g_case;

/* A fresh state directory for one case. */
static const char *new_state(char *buf, size_t n) {
  snprintf(buf, n, "%s/state-%d", g_tmp, ++g_case);
  return buf;
}

/* ================= 1. through a guest ================= */

static elastic_hal_module *g_mod;
static elastic_hal_linker *g_linker;

static elastic_hal_instance *instance_pages(const char *workload, const char *state,
                                            uint32_t max_pages) {
  elastic_hal_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.workload = workload;
  cfg.state_dir = state;
  cfg.max_memory_pages = max_pages;
  elastic_hal_error err;
  elastic_hal_instance *i = elastic_hal_instantiate(g_mod, g_linker, &cfg, &err);
  if (!i) tap_diag("instantiate: %s", err.msg);
  return i;
}

static elastic_hal_instance *instance(const char *workload, const char *state) {
  return instance_pages(workload, state, 0);
}

static void guest_test(elastic_hal_instance *i, const char *name, const uint64_t *args,
                       size_t nargs, const char *desc) {
  uint64_t r = 0;
  elastic_hal_error err;
  memset(&err, 0, sizeof err);
  elastic_hal_outcome o =
      i ? elastic_hal_call(i, name, args, nargs, &r, 1, &err) : ELASTIC_HAL_TRAPPED;
  if (!TAP_OK(i && o == ELASTIC_HAL_EXITED && (int32_t)(uint32_t)r == 0, "%s (guest %s)", desc,
              name)) {
    if (!i)
      tap_diag("no instance");
    else if (o != ELASTIC_HAL_EXITED)
      tap_diag("trapped: %s", err.msg);
    else
      tap_diag("guest check failed at tests/guests/storage_guest.c:%d", (int32_t)(uint32_t)r);
  }
}

/* The guest's allocator traps inside the store's read transaction (it
 * runs there when retrieve-object decrypts straight into guest memory):
 * the call ends with that trap, the transaction with the call, and the
 * same instance goes on storing (a transaction left open would make its
 * next BEGIN fail), as does another instance of the workload. */
static void test_trap_in_transaction(void) {
  char st[4300];
  new_state(st, sizeof st);
  elastic_hal_error err;
  uint64_t r = 0;
  /* the guest's initial memory, then 48 pages (3 MiB) more at most */
  elastic_hal_instance *i = instance("trap-txn", st);
  if (i) elastic_hal_call(i, "mem_pages", NULL, 0, &r, 1, &err);
  elastic_hal_instance_free(i);
  i = r ? instance_pages("trap-txn", st, (uint32_t)r + 48) : NULL;
  uint64_t size = 1u << 20;
  memset(&err, 0, sizeof err);
  elastic_hal_outcome o =
      i ? elastic_hal_call(i, "trap_in_retrieve", &size, 1, &r, 1, &err) : ELASTIC_HAL_EXITED;
  if (!TAP_OK(o == ELASTIC_HAL_TRAPPED && strstr(err.msg, "cabi_realloc") &&
                  !strcmp(err.trap, "unreachable executed"),
              "a trap in the guest's cabi_realloc during retrieve-object ends the call with "
              "that trap, named"))
    tap_diag("outcome %d: %s", (int)o, err.msg);
  guest_test(i, "after_trap", NULL, 0,
             "after it, the same instance stores and retrieves: no transaction was left open");
  elastic_hal_instance_free(i);
  elastic_hal_instance *j = instance("trap-txn", st);
  uint64_t shared[2] = {1, 20};
  guest_test(j, "test_shared_writer", shared, 2, "... and so does a fresh instance of it");
  elastic_hal_instance_free(j);
}

static void test_through_guest(void) {
  char st[4300];
  new_state(st, sizeof st);
  elastic_hal_instance *i = instance("guest-tests", st);
  guest_test(i, "test_basic", NULL, 0,
             "create/open/delete semantics, store, overwrite, retrieve, delete, list, metadata, "
             "content types, versions as object handles");
  guest_test(i, "test_invalid", NULL, 0,
             "container names, object keys (empty, NUL, too long), content types, cursors and "
             "handles are validated");
  uint64_t a[2] = {250, 7};
  guest_test(i, "test_paging", a, 2, "paging 250 objects 7 at a time: each once, with metadata");
  uint64_t b[2] = {0, 0};
  guest_test(i, "test_paging", b, 2, "paging an empty container: one empty page");
  uint64_t c[2] = {1000, 0};
  guest_test(i, "test_paging", c, 2, "paging 1000 objects with the default page size (100)");
  uint64_t big = 4u << 20;
  guest_test(i, "test_big", &big, 1, "a 4 MiB object round-trips intact");
  elastic_hal_instance_free(i);

  /* isolation: another workload, same state directory, same names */
  elastic_hal_instance *alice = instance("alice", st);
  elastic_hal_instance *bob = instance("bob", st);
  guest_test(alice, "test_isolation_write", NULL, 0, "workload alice stores in 'private'");
  guest_test(bob, "test_isolation_read", NULL, 0,
             "workload bob cannot open alice's container 'private' (not found)");
  elastic_hal_instance_free(alice);
  elastic_hal_instance_free(bob);
  char pa[4400], pb[4400];
  ehal_backend_sqlite_path(st, "alice", pa, sizeof pa);
  ehal_backend_sqlite_path(st, "bob", pb, sizeof pb);
  TAP_OK(strcmp(pa, pb) != 0 && access(pa, F_OK) == 0,
         "each workload has its own database file under STATE/storage/");

  /* workload key contexts: a crypto context loaded into a container */
  elastic_hal_instance *k1 = instance("keyed-guest", st);
  guest_test(k1, "test_keyed_create", NULL, 0,
             "load-key-context: an empty container keyed by a crypto AES-256-GCM context; a "
             "non-empty one, a bogus handle and an HMAC key are refused");
  elastic_hal_instance_free(k1);
  elastic_hal_instance *k2 = instance("keyed-guest", st);
  guest_test(k2, "test_keyed_reopen", NULL, 0,
             "load-key-context: after a restart the container is locked until the same key "
             "(imported again) is loaded; a wrong key is refused");
  elastic_hal_instance_free(k2);

  /* limits, configured for the process before the stores open */
  ehal_store_limits lim;
  ehal_store_default_limits(&lim);
  lim.max_object_bytes = 4096;
  lim.max_objects_per_container = 20;
  lim.max_bytes_per_workload = 1 << 20;
  lim.max_containers = 5;
  ehal_storage_set_limits(&lim);
  elastic_hal_instance *l = instance("limits", st);
  uint64_t x = 4096;
  guest_test(l, "test_limit_object", &x, 1,
             "object size limit: the maximum is stored, one more byte is refused");
  x = 20;
  guest_test(l, "test_limit_count", &x, 1,
             "objects per container: the limit is refused, replacing is not a new object");
  /* the quota counts data plus a fixed charge per object: room for the
   * guest's 10000 data bytes in two objects, and for one more object */
  x = 10000;
  lim.max_object_bytes = 10000;
  lim.max_bytes_per_workload = 10000 + 3 * EHAL_STORE_OBJECT_CHARGE;
  ehal_storage_set_limits(&lim);
  elastic_hal_instance_free(l);
  l = instance("limits-bytes", st);
  guest_test(l, "test_limit_bytes", &x, 1,
             "bytes per workload: counted over its containers, freed by delete");
  x = 5;
  guest_test(l, "test_limit_containers", &x, 1, "containers per workload are limited");
  elastic_hal_instance_free(l);
  /* empty objects are not free: each is charged EHAL_STORE_OBJECT_CHARGE,
   * so long keys cannot fill the disk under a small quota */
  ehal_store_default_limits(&lim);
  lim.max_bytes_per_workload = 64 * 1024;
  ehal_storage_set_limits(&lim);
  l = instance("limits-key-flood", st);
  x = lim.max_bytes_per_workload / EHAL_STORE_OBJECT_CHARGE;
  guest_test(l, "test_limit_key_flood", &x, 1,
             "bytes per workload: zero-byte objects with 1024-byte keys hit the 64 KiB quota "
             "within 32 objects (a fixed charge per object)");
  elastic_hal_instance_free(l);
  ehal_storage_set_limits(NULL);

  /* a library user without a state directory gets an error, not a crash */
  elastic_hal_instance *none = instance("no-state", NULL);
  uint64_t r = 0;
  elastic_hal_error err;
  elastic_hal_outcome o = none ? elastic_hal_call(none, "test_basic", NULL, 0, &r, 1, &err) : 1;
  TAP_OK(none && o == ELASTIC_HAL_EXITED && r != 0,
         "without a state directory every storage call fails cleanly");
  if (none) elastic_hal_instance_free(none);
}

/* ================= helpers on the engine ================= */

static ehal_store *sopen(const char *st, const char *workload) {
  ehal_store_err e;
  ehal_store *s = ehal_store_open(st, workload, NULL, NULL, &e);
  if (!s) tap_diag("ehal_store_open: %s", e.msg);
  return s;
}

static ehal_store_container *copen(ehal_store *s, const char *name, bool create) {
  ehal_store_err e;
  ehal_store_container *c = NULL;
  ehal_store_status rc = create ? ehal_store_container_create(s, name, strlen(name), &c, &e)
                                : ehal_store_container_open(s, name, strlen(name), &c, &e);
  if (rc) tap_diag("container %s: %s", name, e.msg);
  return c;
}

static uint8_t *pattern(size_t n, int seed) {
  uint8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
  return p;
}

static int put(ehal_store_container *c, const char *key, size_t n, int seed, const char *ctype) {
  uint8_t *d = pattern(n, seed);
  ehal_store_err e;
  uint64_t v;
  int rc = ehal_store_put(c, key, strlen(key), d, n, ctype, ctype ? strlen(ctype) : 0, &v, &e);
  if (rc) tap_diag("put %s: %s", key, e.msg);
  free(d);
  return rc;
}

static void *malloc_cb(void *u, size_t n) {
  (void)u;
  return malloc(n);
}

/* Returns the status of a get; *same says whether the data is pattern(n, seed). */
static ehal_store_status get(ehal_store_container *c, const char *key, size_t n, int seed,
                             bool *same, ehal_store_err *e) {
  uint8_t *d = NULL;
  size_t len = 0;
  ehal_store_status rc = ehal_store_get(c, key, strlen(key), malloc_cb, NULL, &d, &len, NULL, e);
  if (same) {
    uint8_t *p = pattern(n, seed);
    *same = rc == EHAL_STORE_OK && len == n && (n == 0 || memcmp(d, p, n) == 0);
    free(p);
  }
  free(d);
  return rc;
}

/* ================= 2. what reaches the disk ================= */

static bool file_has(const char *path, const void *needle, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  bool found = false;
  if (sz > 0) {
    char *buf = malloc((size_t)sz);
    if (buf && fread(buf, 1, (size_t)sz, f) == (size_t)sz)
      found = memmem(buf, (size_t)sz, needle, n) != NULL;
    free(buf);
  }
  fclose(f);
  return found;
}

/* Every regular file under dir: does any contain the needle? */
static int tree_has(const char *dir, const void *needle, size_t n, int *files) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int hits = 0;
  struct dirent *e;
  char p[8400];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(p, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      hits += tree_has(p, needle, n, files);
    } else if (S_ISREG(st.st_mode)) {
      (*files)++;
      if (file_has(p, needle, n)) hits++;
    }
  }
  closedir(d);
  return hits;
}

static void test_disk(void) {
  char st[4300];
  new_state(st, sizeof st);
  ehal_store *s = sopen(st, "disk");
  ehal_store_container *c = s ? copen(s, "box", true) : NULL;
  if (!c) {
    TAP_OK(false, "store for the disk checks");
    return;
  }
  static const char marker[] = "PLAINTEXT-MARKER-0123456789-never-on-disk";
  static const char key[] = "object-key-KEYMARKER-confidential";
  static const char ctype[] = "application/x-CTYPEMARKER";
  char big[20000];
  for (size_t i = 0; i + sizeof marker <= sizeof big; i += sizeof marker)
    memcpy(big + i, marker, sizeof marker);
  ehal_store_err e;
  uint64_t v;
  bool ok = ehal_store_put(c, key, strlen(key), (const uint8_t *)marker, strlen(marker), ctype,
                           strlen(ctype), &v, &e) == 0 &&
            ehal_store_put(c, "big", 3, (const uint8_t *)big, sizeof big, NULL, 0, &v, &e) == 0;
  TAP_OK(ok, "objects stored for the disk checks");
  /* while the store is open: the WAL holds the latest pages */
  int files = 0;
  int hits = tree_has(st, marker, strlen(marker), &files) + tree_has(st, key, strlen(key), &files) +
             tree_has(st, "CTYPEMARKER", 11, &files);
  TAP_OK(hits == 0 && files >= 3,
         "no plaintext, object key or content type in any file under the state directory "
         "(%d files checked, store open)",
         files);
  ehal_store_container_release(c);
  ehal_store_close(s);
  files = 0;
  hits = tree_has(st, marker, strlen(marker), &files) + tree_has(st, key, strlen(key), &files) +
         tree_has(st, "CTYPEMARKER", 11, &files);
  TAP_OK(hits == 0, "... nor after the store is closed (%d files checked)", files);
  char db[4400], dir[4400], wal[4500];
  ehal_backend_sqlite_path(st, "disk", db, sizeof db);
  snprintf(dir, sizeof dir, "%s/storage", st);
  snprintf(wal, sizeof wal, "%s-wal", db);
  struct stat sd, sf;
  TAP_OK(stat(dir, &sd) == 0 && (sd.st_mode & 0777) == 0700 && stat(db, &sf) == 0 &&
             (sf.st_mode & 0777) == 0600,
         "STATE/storage is 0700 and the database 0600");
  /* the database is in WAL mode with synchronous=FULL (checked through a
   * store's own connection settings: journal_mode is persistent) */
  sqlite3 *h = NULL;
  char *mode = NULL;
  if (sqlite3_open(db, &h) == SQLITE_OK) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK) {
      if (sqlite3_step(q) == SQLITE_ROW) mode = strdup((const char *)sqlite3_column_text(q, 0));
      sqlite3_finalize(q);
    }
  }
  sqlite3_close(h);
  TAP_OK(mode && !strcmp(mode, "wal"), "the database is in WAL mode (%s)", mode ? mode : "?");
  free(mode);
}

/* ================= 3. tampering with the database file ================= */

typedef struct {
  sqlite3 *db;
} tdb;

static bool topen(tdb *t, const char *st, const char *workload) {
  char path[4400];
  ehal_backend_sqlite_path(st, workload, path, sizeof path);
  t->db = NULL;
  if (sqlite3_open_v2(path, &t->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    tap_diag("cannot open %s", path);
    sqlite3_close(t->db);
    return false;
  }
  sqlite3_busy_timeout(t->db, 5000);
  return true;
}

static void tclose(tdb *t) {
  sqlite3_close(t->db);
  t->db = NULL;
}

static bool tsql(tdb *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *q = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  char *msg = NULL;
  int rc = sqlite3_exec(t->db, q, NULL, NULL, &msg);
  if (rc != SQLITE_OK) tap_diag("tamper SQL failed: %s: %s", q, msg ? msg : "?");
  sqlite3_free(msg);
  sqlite3_free(q);
  return rc == SQLITE_OK;
}

/* Flips one bit of a blob column of the rows matching `where`. */
static bool tflip(tdb *t, const char *table, const char *col, const char *where, size_t at) {
  char *q = sqlite3_mprintf("SELECT rowid, %s FROM %s WHERE %s", col, table, where);
  sqlite3_stmt *s;
  bool ok =
      sqlite3_prepare_v2(t->db, q, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW;
  sqlite3_free(q);
  if (!ok) {
    tap_diag("tflip: no row in %s where %s", table, where);
    return false;
  }
  int64_t rowid = sqlite3_column_int64(s, 0);
  int n = sqlite3_column_bytes(s, 1);
  uint8_t *b = malloc((size_t)n + 1);
  memcpy(b, sqlite3_column_blob(s, 1), (size_t)n);
  sqlite3_finalize(s);
  if ((int)at >= n) at = (size_t)n - 1;
  b[at] ^= 0x01;
  q = sqlite3_mprintf("UPDATE %s SET %s=?1 WHERE rowid=?2", table, col);
  ok = sqlite3_prepare_v2(t->db, q, -1, &s, NULL) == SQLITE_OK;
  sqlite3_free(q);
  if (ok) {
    sqlite3_bind_blob(s, 1, b, n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, rowid);
    ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
  }
  free(b);
  return ok;
}

/* The standard scene: workload "w", container "box" holding a (100 bytes),
 * b (200), c (300), and container "other" holding z (150). */
#define SZ_A 100
#define SZ_B 200
#define SZ_C 300
#define SZ_Z 150
static bool scene(const char *st) {
  ehal_store *s = sopen(st, "w");
  if (!s) return false;
  ehal_store_container *box = copen(s, "box", true), *other = copen(s, "other", true);
  bool ok = box && other && !put(box, "a", SZ_A, 1, "text/a") && !put(box, "b", SZ_B, 2, NULL) &&
            !put(box, "c", SZ_C, 3, NULL) && !put(other, "z", SZ_Z, 4, NULL);
  ehal_store_container_release(box);
  ehal_store_container_release(other);
  ehal_store_close(s);
  return ok;
}

/* After a tamper: what the workload gets for each object of "box" (and
 * the container's listing).  Every failure must be an integrity error. */
typedef struct {
  ehal_store_status a, b, c, list, version;
  bool a_same, b_same, c_same;
  char msg[600];
} probe;

static int count_cb(void *u, const char *k, size_t kl, const ehal_store_meta *m) {
  (void)k;
  (void)kl;
  (void)m;
  (*(int *)u)++;
  return 0;
}

static void do_probe(const char *st, const char *container, probe *p) {
  memset(p, 0, sizeof *p);
  ehal_store_err e;
  e.msg[0] = 0;
  ehal_store *s = ehal_store_open(st, "w", NULL, NULL, &e);
  if (!s) {
    p->a = p->b = p->c = p->list = p->version = e.code;
    snprintf(p->msg, sizeof p->msg, "%s", e.msg);
    return;
  }
  ehal_store_container *c = NULL;
  if (ehal_store_container_open(s, container, strlen(container), &c, &e)) {
    p->a = p->b = p->c = p->list = p->version = e.code;
    snprintf(p->msg, sizeof p->msg, "%s", e.msg);
    ehal_store_close(s);
    return;
  }
  p->a = get(c, "a", SZ_A, 1, &p->a_same, &e);
  if (p->a) snprintf(p->msg, sizeof p->msg, "%s", e.msg);
  p->b = get(c, "b", SZ_B, 2, &p->b_same, &e);
  if (p->b && !p->msg[0]) snprintf(p->msg, sizeof p->msg, "%s", e.msg);
  p->c = get(c, "c", SZ_C, 3, &p->c_same, &e);
  int n = 0;
  char next[EHAL_STORE_CURSOR_LEN + 1];
  p->list = ehal_store_list(c, NULL, 0, 0, count_cb, &n, next, &e);
  uint64_t v;
  p->version = ehal_store_version(c, &v, &e);
  ehal_store_container_release(c);
  ehal_store_close(s);
}

static const char *sname(ehal_store_status s) {
  static const char *n[] = {"ok",      "not-found", "exists",      "INTEGRITY", "limit",
                            "invalid", "key",       "unsupported", "io"};
  return s <= EHAL_STORE_IO ? n[s] : "?";
}

/* desc: tamper(t) is applied to a fresh scene; expect: 'a' fails with an
 * integrity error; whole: so does everything else in the container. */
typedef bool (*tamper_fn)(tdb *t);

static void tamper_case(const char *desc, tamper_fn fn, bool whole, bool b_still_ok) {
  char st[4300];
  new_state(st, sizeof st);
  tdb t;
  if (!scene(st) || !topen(&t, st, "w")) {
    TAP_OK(false, "%s: scene", desc);
    return;
  }
  bool applied = fn(&t);
  tclose(&t);
  probe p;
  do_probe(st, "box", &p);
  bool ok = applied && p.a == EHAL_STORE_INTEGRITY && !p.a_same &&
            strncmp(p.msg, "integrity error: ", 17) == 0;
  if (whole)
    ok = ok && p.b == EHAL_STORE_INTEGRITY && p.c == EHAL_STORE_INTEGRITY &&
         p.list == EHAL_STORE_INTEGRITY && p.version == EHAL_STORE_INTEGRITY;
  if (b_still_ok) ok = ok && p.b == EHAL_STORE_OK && p.b_same;
  if (!TAP_OK(ok, "tamper: %s -> integrity error%s", desc,
              whole        ? " for the whole container"
              : b_still_ok ? " (other objects still read)"
                           : "")) {
    tap_diag("applied %d; a %s same %d, b %s, c %s, list %s, version %s; msg: %s", applied,
             sname(p.a), p.a_same, sname(p.b), sname(p.c), sname(p.list), sname(p.version), p.msg);
  }
}

/* -- the tampers -- */
#define A_ROW "container=(SELECT id FROM containers WHERE name='box') AND size=100"
#define B_ROW "container=(SELECT id FROM containers WHERE name='box') AND size=200"
#define Z_ROW "size=150"
#define BOX "name='box'"

static bool t_flip_data(tdb *t) { return tflip(t, "objects", "data", A_ROW, 50); }
static bool t_flip_data_first(tdb *t) { return tflip(t, "objects", "data", A_ROW, 0); }
static bool t_flip_dnonce(tdb *t) { return tflip(t, "objects", "dnonce", A_ROW, 3); }
static bool t_flip_dtag(tdb *t) { return tflip(t, "objects", "dtag", A_ROW, 5); }
static bool t_flip_hdr(tdb *t) { return tflip(t, "objects", "hdr", A_ROW, 14); }
static bool t_flip_hdr_nonce(tdb *t) { return tflip(t, "objects", "hdr", A_ROW, 0); }
static bool t_flip_kid(tdb *t) { return tflip(t, "objects", "kid", A_ROW, 31); }
static bool t_truncate(tdb *t) {
  return tsql(t, "UPDATE objects SET data=substr(data,1,length(data)-1) WHERE " A_ROW);
}
static bool t_truncate_empty(tdb *t) { return tsql(t, "UPDATE objects SET data=x'' WHERE " A_ROW); }
static bool t_extend(tdb *t) { return tsql(t, "UPDATE objects SET data=data||x'00' WHERE " A_ROW); }
static bool t_size(tdb *t) { return tsql(t, "UPDATE objects SET size=99 WHERE " A_ROW); }
static bool t_created(tdb *t) {
  return tsql(t, "UPDATE objects SET created_at=created_at-86400 WHERE " A_ROW);
}
static bool t_version(tdb *t) {
  return tsql(t, "UPDATE objects SET version=version+1 WHERE " A_ROW);
}
/* swap the sealed contents of a and b (keys stay) */
static bool t_swap_data(tdb *t) {
  return tsql(t,
              "CREATE TEMP TABLE sw AS SELECT size,created_at,version,hdr,dnonce,dtag,data FROM "
              "objects WHERE " A_ROW
              ";"
              "UPDATE objects SET (size,created_at,version,hdr,dnonce,dtag,data)=(SELECT "
              "size,created_at,version,hdr,dnonce,dtag,data FROM objects WHERE " B_ROW
              ") WHERE " A_ROW
              ";"
              "UPDATE objects SET (size,created_at,version,hdr,dnonce,dtag,data)=(SELECT * FROM "
              "sw) WHERE " B_ROW " AND hdr<>(SELECT hdr FROM sw);");
}
/* swap only the data ciphertexts (same nonce/tag kept with their data) */
static bool t_swap_ct(tdb *t) {
  return tsql(
      t, "CREATE TEMP TABLE sw AS SELECT dnonce,dtag,data FROM objects WHERE " A_ROW
         ";"
         "UPDATE objects SET (dnonce,dtag,data)=(SELECT dnonce,dtag,data FROM objects WHERE " B_ROW
         ") WHERE " A_ROW
         ";"
         "UPDATE objects SET (dnonce,dtag,data)=(SELECT * FROM sw) WHERE " B_ROW ";");
}
/* rename: a's row takes b's key id (b's row removed) */
static bool t_rename(tdb *t) {
  return tsql(t, "CREATE TEMP TABLE k AS SELECT kid FROM objects WHERE " B_ROW
                 ";"
                 "DELETE FROM objects WHERE " B_ROW
                 ";"
                 "UPDATE objects SET kid=(SELECT kid FROM k) WHERE " A_ROW ";");
}
/* swap the key ids of a and b */
static bool t_swap_kid(tdb *t) {
  return tsql(t, "CREATE TEMP TABLE k AS SELECT (SELECT kid FROM objects WHERE " A_ROW
                 ") AS ka, (SELECT kid FROM objects WHERE " B_ROW
                 ") AS kb;"
                 "UPDATE objects SET kid=x'00' WHERE " A_ROW
                 ";"
                 "UPDATE objects SET kid=(SELECT ka FROM k) WHERE " B_ROW
                 ";"
                 "UPDATE objects SET kid=(SELECT kb FROM k) WHERE " A_ROW ";");
}
static bool t_delete_row(tdb *t) { return tsql(t, "DELETE FROM objects WHERE " A_ROW); }
/* a's row moved to container "other" */
static bool t_move(tdb *t) {
  return tsql(
      t,
      "UPDATE objects SET container=(SELECT id FROM containers WHERE name='other') WHERE " A_ROW);
}
/* other's z copied into box as if it were a: an injected row */
static bool t_inject(tdb *t) {
  return tsql(t, "DELETE FROM objects WHERE " A_ROW
                 ";"
                 "INSERT INTO objects(container,kid,version,size,created_at,hdr,dnonce,dtag,data) "
                 "SELECT (SELECT id FROM containers WHERE " BOX
                 "),kid,version,100,created_at,hdr,dnonce,dtag,data "
                 "FROM objects WHERE " Z_ROW ";");
}
static bool t_c_version(tdb *t) {
  return tsql(t, "UPDATE containers SET version=version+5 WHERE " BOX);
}
static bool t_c_objects(tdb *t) {
  return tsql(t, "UPDATE containers SET objects=objects+1 WHERE " BOX);
}
static bool t_c_bytes(tdb *t) { return tsql(t, "UPDATE containers SET bytes=bytes-1 WHERE " BOX); }
static bool t_c_flags(tdb *t) { return tsql(t, "UPDATE containers SET flags=1 WHERE " BOX); }
static bool t_c_digest(tdb *t) { return tflip(t, "containers", "digest", BOX, 7); }
static bool t_c_mac(tdb *t) { return tflip(t, "containers", "mac", BOX, 0); }
static bool t_c_cid(tdb *t) { return tflip(t, "containers", "cid", BOX, 2); }
static bool t_c_created(tdb *t) {
  return tsql(t, "UPDATE containers SET created_at=created_at+1 WHERE " BOX);
}
/* box's row takes other's name and vice versa */
static bool t_c_swap_names(tdb *t) {
  return tsql(t,
              "UPDATE containers SET name='tmp' WHERE name='box';"
              "UPDATE containers SET name='box' WHERE name='other';"
              "UPDATE containers SET name='other' WHERE name='tmp';");
}
/* box's row is replaced by other's (cid, MAC and all), objects kept */
static bool t_c_replace(tdb *t) {
  return tsql(
      t,
      "UPDATE containers SET (cid,created_at,version,objects,bytes,flags,key_check,digest,mac)="
      "(SELECT cid,created_at,version,objects,bytes,flags,key_check,digest,mac FROM containers "
      "WHERE name='other') "
      "WHERE " BOX ";");
}

/* Rolling back a single object: keep a copy of a's row, store a new a,
 * put the old row back.  (done with the engine and the file in turn) */
static void rollback_object_case(void) {
  char st[4300];
  new_state(st, sizeof st);
  tdb t;
  bool ok = scene(st) && topen(&t, st, "w");
  if (ok) {
    ok = tsql(&t, "CREATE TABLE saved AS SELECT * FROM objects WHERE " A_ROW);
    tclose(&t);
  }
  ehal_store *s = ok ? sopen(st, "w") : NULL;
  ehal_store_container *c = s ? copen(s, "box", false) : NULL;
  ok = c && !put(c, "a", SZ_A, 9, "text/a2");
  ehal_store_container_release(c);
  ehal_store_close(s);
  ok = ok && topen(&t, st, "w");
  if (ok) {
    ok = tsql(&t,
              "UPDATE objects SET (version,size,created_at,hdr,dnonce,dtag,data)="
              "(SELECT version,size,created_at,hdr,dnonce,dtag,data FROM saved) WHERE " A_ROW);
    tclose(&t);
  }
  probe p;
  do_probe(st, "box", &p);
  if (!TAP_OK(ok && p.a == EHAL_STORE_INTEGRITY && !p.a_same && p.list == EHAL_STORE_INTEGRITY,
              "tamper: one object rolled back to an older version of itself -> integrity error"))
    tap_diag("a %s, list %s: %s", sname(p.a), sname(p.list), p.msg);
}

/* The same, while the workload has the container open (the verified state
 * in memory is what catches it). */
static void rollback_object_live_case(void) {
  char st[4300];
  new_state(st, sizeof st);
  tdb t;
  bool ok = scene(st);
  ehal_store *s = ok ? sopen(st, "w") : NULL;
  ehal_store_container *c = s ? copen(s, "box", false) : NULL;
  bool same = false;
  ehal_store_err e;
  ok = c && get(c, "a", SZ_A, 1, &same, &e) == 0 && same && topen(&t, st, "w");
  if (ok) {
    ok = tsql(&t, "CREATE TABLE saved AS SELECT * FROM objects WHERE " A_ROW);
    tclose(&t);
  }
  ok = ok && !put(c, "a", SZ_A, 9, NULL) && topen(&t, st, "w");
  if (ok) {
    ok = tsql(&t,
              "UPDATE objects SET (version,size,created_at,hdr,dnonce,dtag,data)="
              "(SELECT version,size,created_at,hdr,dnonce,dtag,data FROM saved) WHERE " A_ROW);
    tclose(&t);
  }
  ehal_store_status rc = c ? get(c, "a", SZ_A, 1, &same, &e) : EHAL_STORE_IO;
  if (!TAP_OK(ok && rc == EHAL_STORE_INTEGRITY && !same,
              "tamper: an object rolled back under a running workload -> integrity error"))
    tap_diag("got %s: %s", sname(rc), e.msg);
  ehal_store_container_release(c);
  ehal_store_close(s);
}

/* The container row alone rolled back (objects newer than it). */
static void rollback_container_row_case(void) {
  char st[4300];
  new_state(st, sizeof st);
  tdb t;
  bool ok = scene(st) && topen(&t, st, "w");
  if (ok) {
    ok = tsql(&t, "CREATE TABLE saved AS SELECT * FROM containers WHERE " BOX);
    tclose(&t);
  }
  ehal_store *s = ok ? sopen(st, "w") : NULL;
  ehal_store_container *c = s ? copen(s, "box", false) : NULL;
  ok = c && !put(c, "d", 50, 5, NULL);
  ehal_store_container_release(c);
  ehal_store_close(s);
  ok = ok && topen(&t, st, "w");
  if (ok) {
    ok = tsql(&t,
              "UPDATE containers SET (version,objects,bytes,flags,key_check,digest,mac)="
              "(SELECT version,objects,bytes,flags,key_check,digest,mac FROM saved) WHERE " BOX);
    tclose(&t);
  }
  probe p;
  do_probe(st, "box", &p);
  if (!TAP_OK(ok && p.a == EHAL_STORE_INTEGRITY && p.list == EHAL_STORE_INTEGRITY,
              "tamper: the container's state rolled back without its objects -> integrity error"))
    tap_diag("a %s, list %s: %s", sname(p.a), sname(p.list), p.msg);
}

/* What is NOT detected from inside the store, and how it shows: a
 * consistent older copy of the whole container (or of the whole database).
 * After a restart it reads as the older state, at the older version, which
 * a workload that anchored its version elsewhere sees; a running process
 * refuses it. */
static void whole_rollback_cases(void) {
  char st[4300];
  new_state(st, sizeof st);
  bool ok = scene(st);
  char db[4400], copy[4500];
  ehal_backend_sqlite_path(st, "w", db, sizeof db);
  snprintf(copy, sizeof copy, "%s.old", db);
  /* snapshot: checkpoint into the main file, copy it */
  tdb t;
  ok = ok && topen(&t, st, "w");
  if (ok) {
    ok = tsql(&t, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM INTO '%q'", copy);
    tclose(&t);
  }
  ehal_store *s = ok ? sopen(st, "w") : NULL;
  ehal_store_container *c = s ? copen(s, "box", false) : NULL;
  ehal_store_err e;
  uint64_t v_before = 0, v_after = 0, v_live = 0;
  ok = c && !ehal_store_version(c, &v_before, &e) && !put(c, "a", SZ_A, 9, NULL) &&
       !put(c, "new", 10, 9, NULL) && !ehal_store_version(c, &v_after, &e);
  /* roll back the whole database file under the running workload */
  ok = ok && topen(&t, st, "w");
  if (ok) {
    ok = tsql(
        &t,
        "ATTACH '%q' AS old;"
        "DELETE FROM main.objects; INSERT INTO main.objects SELECT * FROM old.objects;"
        "DELETE FROM main.containers; INSERT INTO main.containers SELECT * FROM old.containers;"
        "DETACH old;",
        copy);
    tclose(&t);
  }
  ehal_store_status live = c ? ehal_store_version(c, &v_live, &e) : EHAL_STORE_IO;
  TAP_OK(ok && live == EHAL_STORE_INTEGRITY && strstr(e.msg, "rolled back"),
         "whole-store rollback under a running workload: refused (version went back)");
  ehal_store_container_release(c);
  ehal_store_close(s);
  /* after a restart: not detectable from inside the store */
  s = sopen(st, "w");
  c = s ? copen(s, "box", false) : NULL;
  uint64_t v_restart = 0;
  bool same = false;
  ok = c && !ehal_store_version(c, &v_restart, &e) && get(c, "a", SZ_A, 1, &same, &e) == 0 && same;
  ehal_store_status newer = c ? get(c, "new", 10, 9, NULL, &e) : EHAL_STORE_IO;
  TAP_OK(ok && newer == EHAL_STORE_NOTFOUND && v_restart == v_before && v_after > v_before,
         "whole-store rollback across a restart is NOT detected inside the store (documented): "
         "it reads as the older state at the older version %llu < anchored %llu",
         (unsigned long long)v_restart, (unsigned long long)v_after);
  ehal_store_container_release(c);
  ehal_store_close(s);
}

/* A database file swapped in from another workload. */
static void swap_db_case(void) {
  char st[4300];
  new_state(st, sizeof st);
  bool ok = scene(st);
  ehal_store *s = sopen(st, "v");
  ehal_store_container *c = s ? copen(s, "box", true) : NULL;
  ok = ok && c && !put(c, "a", SZ_A, 1, NULL);
  ehal_store_container_release(c);
  ehal_store_close(s);
  char dw[4400], dv[4400];
  ehal_backend_sqlite_path(st, "w", dw, sizeof dw);
  ehal_backend_sqlite_path(st, "v", dv, sizeof dv);
  /* v's file (checkpointed) replaces w's */
  tdb t;
  ok = ok && topen(&t, st, "v");
  if (ok) {
    tsql(&t, "PRAGMA wal_checkpoint(TRUNCATE)");
    tclose(&t);
  }
  char cmd[9000];
  snprintf(cmd, sizeof cmd, "rm -f '%s-wal' '%s-shm' && cp '%s' '%s'", dw, dw, dv, dw);
  ok = ok && system(cmd) == 0;
  probe p;
  do_probe(st, "box", &p);
  if (!TAP_OK(ok && p.a == EHAL_STORE_INTEGRITY,
              "tamper: another workload's database swapped in -> integrity error"))
    tap_diag("a %s: %s", sname(p.a), p.msg);
  /* even with the meta row rewritten to say "w": keys differ */
  ok = topen(&t, st, "w") && tsql(&t, "UPDATE meta SET v='w' WHERE k='workload'");
  if (t.db) tclose(&t);
  do_probe(st, "box", &p);
  if (!TAP_OK(ok && p.a == EHAL_STORE_INTEGRITY && !p.a_same,
              "tamper: ... and with its owner rewritten -> still an integrity error"))
    tap_diag("a %s: %s", sname(p.a), p.msg);
}

/* A tampered container can still be deleted (to recover), and re-created. */
static void delete_tampered_case(void) {
  char st[4300];
  new_state(st, sizeof st);
  tdb t;
  bool ok = scene(st) && topen(&t, st, "w");
  if (ok) {
    ok = t_c_mac(&t);
    tclose(&t);
  }
  ehal_store *s = ok ? sopen(st, "w") : NULL;
  ehal_store_container *c = s ? copen(s, "box", false) : NULL;
  ehal_store_err e;
  ok = c && get(c, "a", SZ_A, 1, NULL, &e) == EHAL_STORE_INTEGRITY &&
       ehal_store_container_delete(c, &e) == 0;
  ehal_store_container_release(c);
  c = ok ? copen(s, "box", true) : NULL;
  ok = c && get(c, "a", SZ_A, 1, NULL, &e) == EHAL_STORE_NOTFOUND;
  ehal_store_container_release(c);
  ehal_store_close(s);
  TAP_OK(ok, "a container failing verification can be deleted and created afresh");
}

static void test_tamper(void) {
  tamper_case("one bit of a's data ciphertext flipped", t_flip_data, false, true);
  tamper_case("first byte of a's data ciphertext flipped", t_flip_data_first, false, true);
  tamper_case("a's data nonce flipped", t_flip_dnonce, false, true);
  tamper_case("a's data tag flipped", t_flip_dtag, true, false);
  tamper_case("a's sealed header (key, content type) flipped", t_flip_hdr, false, true);
  tamper_case("a's header nonce flipped", t_flip_hdr_nonce, false, true);
  tamper_case("a's key id flipped (renamed to an unknown key)", t_flip_kid, true, false);
  tamper_case("a's ciphertext truncated by one byte", t_truncate, false, true);
  tamper_case("a's ciphertext truncated to nothing", t_truncate_empty, false, true);
  tamper_case("a's ciphertext extended by one byte", t_extend, false, true);
  tamper_case("a's size rewritten", t_size, true, false);
  tamper_case("a's created-at rewritten", t_created, true, false);
  tamper_case("a's version rewritten", t_version, true, false);
  tamper_case("a and b's sealed contents swapped", t_swap_data, true, false);
  tamper_case("a and b's data ciphertexts swapped (with nonce and tag)", t_swap_ct, true, false);
  tamper_case("a renamed to b (b's row removed)", t_rename, true, false);
  tamper_case("a and b's key ids swapped", t_swap_kid, true, false);
  tamper_case("a's row deleted", t_delete_row, true, false);
  tamper_case("a's row moved to another container", t_move, true, false);
  tamper_case("another container's object injected as a", t_inject, true, false);
  tamper_case("container version rewritten", t_c_version, true, false);
  tamper_case("container object count rewritten", t_c_objects, true, false);
  tamper_case("container byte count rewritten", t_c_bytes, true, false);
  tamper_case("container flags rewritten", t_c_flags, true, false);
  tamper_case("container state digest flipped", t_c_digest, true, false);
  tamper_case("container MAC flipped", t_c_mac, true, false);
  tamper_case("container id flipped", t_c_cid, true, false);
  tamper_case("container created-at rewritten", t_c_created, true, false);
  tamper_case("two containers' names swapped", t_c_swap_names, true, false);
  tamper_case("container state replaced by another container's", t_c_replace, true, false);
  rollback_object_case();
  rollback_object_live_case();
  rollback_container_row_case();
  swap_db_case();
  delete_tampered_case();
  whole_rollback_cases();
}

/* ================= 4. workload key contexts ================= */

static void test_keyed(void) {
  char st[4300];
  new_state(st, sizeof st);
  uint8_t k1[32], k2[32];
  memset(k1, 0x11, sizeof k1);
  memset(k2, 0x22, sizeof k2);
  ehal_store_err e;
  ehal_store *s = sopen(st, "keyed");
  ehal_store_container *c = s ? copen(s, "vault", true) : NULL;
  bool ok = c && ehal_store_load_key(c, k1, sizeof k1, &e) == 0 && !put(c, "x", 64, 1, NULL);
  bool same = false;
  ok = ok && get(c, "x", 64, 1, &same, &e) == 0 && same;
  TAP_OK(ok, "an empty container takes a workload key; objects round-trip under it");
  ehal_store_container *plain = s ? copen(s, "plain", true) : NULL;
  TAP_OK(plain && !put(plain, "y", 10, 1, NULL) &&
             ehal_store_load_key(plain, k1, sizeof k1, &e) == EHAL_STORE_UNSUPPORTED,
         "a key context cannot be given to a container that already holds objects");
  ehal_store_container_release(plain);
  ehal_store_container_release(c);
  ehal_store_close(s);

  s = sopen(st, "keyed");
  c = s ? copen(s, "vault", false) : NULL;
  ehal_store_status rc = c ? get(c, "x", 64, 1, NULL, &e) : EHAL_STORE_IO;
  TAP_OK(rc == EHAL_STORE_KEY && strstr(e.msg, "key"),
         "after reopening, a keyed container refuses reads until its key is loaded");
  uint64_t v = 0;
  rc = c ? ehal_store_version(c, &v, &e) : EHAL_STORE_IO;
  TAP_OK(rc == 0 && v == 2, "... its version can still be read (%llu)", (unsigned long long)v);
  rc = c ? ehal_store_load_key(c, k2, sizeof k2, &e) : EHAL_STORE_IO;
  TAP_OK(rc == EHAL_STORE_KEY, "the wrong key is refused");
  rc = c ? get(c, "x", 64, 1, &same, &e) : EHAL_STORE_IO;
  TAP_OK(rc == EHAL_STORE_KEY, "... and leaves the container locked");
  rc = c ? ehal_store_load_key(c, k1, sizeof k1, &e) : EHAL_STORE_IO;
  TAP_OK(rc == 0 && get(c, "x", 64, 1, &same, &e) == 0 && same,
         "the right key unlocks it: the object reads back");
  ehal_store_container_release(c);
  ehal_store_close(s);

  /* stripping the keyed flag in the file does not fall back to the
   * platform key: the container MAC covers the flag */
  tdb t;
  bool applied =
      topen(&t, st, "keyed") && tsql(&t, "UPDATE containers SET flags=0 WHERE name='vault'");
  if (t.db) tclose(&t);
  s = sopen(st, "keyed");
  c = s ? copen(s, "vault", false) : NULL;
  rc = c ? get(c, "x", 64, 1, &same, &e) : EHAL_STORE_IO;
  TAP_OK(applied && rc == EHAL_STORE_INTEGRITY,
         "tamper: the keyed flag cleared -> integrity error");
  ehal_store_container_release(c);
  ehal_store_close(s);
}

/* ================= 5. usage ================= */

static void test_usage(void) {
  char st[4300];
  new_state(st, sizeof st);
  ehal_be_usage u;
  char err[512];
  int urc0 = ehal_storage_usage(st, "nobody", &u, err, sizeof err);
  TAP_OK(urc0 == 0 && u.bytes == 0 && u.objects == 0 && u.containers == 0,
         "usage of a workload that never stored anything: zero (and no file created)");
  char db[4400];
  ehal_backend_sqlite_path(st, "nobody", db, sizeof db);
  TAP_OK(access(db, F_OK) != 0, "... no database was created for it");
  scene(st);
  int urc = ehal_storage_usage(st, "w", &u, err, sizeof err);
  TAP_OK(urc == 0 && u.containers == 2 && u.objects == 4 && u.bytes == SZ_A + SZ_B + SZ_C + SZ_Z,
         "usage counts containers, objects and plaintext bytes (%llu/%llu/%llu)",
         (unsigned long long)u.containers, (unsigned long long)u.objects,
         (unsigned long long)u.bytes);
}

/* ================= 6. same workload, several processes ================= */

static void test_processes(void) {
  char st[4300];
  new_state(st, sizeof st);
  ehal_store *s0 = sopen(st, "multi");
  ehal_store_container *c0 = s0 ? copen(s0, "shared", true) : NULL;
  ehal_store_container_release(c0);
  ehal_store_close(s0);
  enum { NPROC = 4, PER = 25 };
  pid_t pids[NPROC];
  for (int p = 0; p < NPROC; p++) {
    pids[p] = fork();
    if (pids[p] == 0) {
      ehal_store *s = sopen(st, "multi");
      ehal_store_container *c = s ? copen(s, "shared", false) : NULL;
      int bad = !c;
      for (int i = 0; c && i < PER; i++) {
        char k[32];
        snprintf(k, sizeof k, "p%d-%d", p, i);
        if (put(c, k, 64 + (size_t)i, p * 100 + i, NULL)) bad++;
        bool same = false;
        ehal_store_err e;
        /* read another process's object too: states interleave */
        char o[32];
        snprintf(o, sizeof o, "p%d-%d", (p + 1) % NPROC, i);
        ehal_store_status rc = get(c, o, 64 + (size_t)i, ((p + 1) % NPROC) * 100 + i, &same, &e);
        if (!(rc == EHAL_STORE_NOTFOUND || (rc == 0 && same))) bad++;
      }
      ehal_store_container_release(c);
      ehal_store_close(s);
      _exit(bad ? 1 : 0);
    }
  }
  int failed = 0;
  for (int p = 0; p < NPROC; p++) {
    int status;
    if (pids[p] < 0 || waitpid(pids[p], &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status))
      failed++;
  }
  ehal_store *s = sopen(st, "multi");
  ehal_store_container *c = s ? copen(s, "shared", false) : NULL;
  int n = 0;
  uint64_t v = 0;
  ehal_store_err e;
  char next[EHAL_STORE_CURSOR_LEN + 1];
  bool ok = c && ehal_store_list(c, NULL, 0, 0, count_cb, &n, next, &e) == 0 &&
            ehal_store_version(c, &v, &e) == 0;
  TAP_OK(failed == 0 && ok && n == NPROC * PER && v == NPROC * PER,
         "%d processes of one workload write and read one container at once: %d objects, "
         "version %llu, every read intact",
         NPROC, n, (unsigned long long)v);
  ehal_store_container_release(c);
  ehal_store_close(s);
}

/* ================= batches: several changes as one ================= */

static ehal_store_op op_put(const char *key, const uint8_t *d, size_t n) {
  ehal_store_op o = {.key = key, .keylen = strlen(key), .data = d, .len = n};
  return o;
}

static ehal_store_op op_del(const char *key) {
  ehal_store_op o = {.key = key, .keylen = strlen(key), .del = true};
  return o;
}

static uint64_t cversion(ehal_store_container *c) {
  ehal_store_err e;
  uint64_t v = 0;
  if (ehal_store_version(c, &v, &e)) tap_diag("version: %s", e.msg);
  return v;
}

static int count_objects(ehal_store_container *c) {
  int n = 0;
  ehal_store_err e;
  char next[EHAL_STORE_CURSOR_LEN + 1];
  if (ehal_store_list(c, "", 0, 0, count_cb, &n, next, &e)) tap_diag("list: %s", e.msg);
  return n;
}

static uint64_t generation(ehal_store_container *c, const char *key, ehal_store_err *e) {
  uint8_t *d = NULL;
  size_t len = 0;
  uint64_t g = UINT64_MAX;
  if (ehal_store_get(c, key, strlen(key), malloc_cb, NULL, &d, &len, NULL, e) == 0 && len >= 8)
    memcpy(&g, d, 8);
  free(d);
  return g;
}

/* A writer that changes x and y together, generation after generation,
 * until it is killed: each holds the generation in its first 8 bytes, and
 * each writer goes on from the generation the last one left. */
static void batch_writer(const char *st) {
  ehal_store *s = ehal_store_open(st, "batch", NULL, NULL, &(ehal_store_err){0});
  ehal_store_container *c = NULL;
  if (!s || ehal_store_container_open(s, "pair", 4, &c, &(ehal_store_err){0})) _exit(2);
  ehal_store_err e;
  uint64_t g = generation(c, "x", &e);
  for (g = g == UINT64_MAX ? 1 : g + 1;; g++) {
    uint8_t x[3000], y[100];
    memset(x, (int)g, sizeof x);
    memset(y, (int)~g, sizeof y);
    memcpy(x, &g, 8);
    memcpy(y, &g, 8);
    ehal_store_op ops[2] = {op_put("x", x, sizeof x), op_put("y", y, sizeof y)};
    if (ehal_store_apply(c, ops, 2, NULL, &e)) _exit(3);
  }
}

static void test_batch(void) {
  char st[4300];
  new_state(st, sizeof st);
  ehal_store *s = sopen(st, "batch");
  ehal_store_container *c = s ? copen(s, "b", true) : NULL;
  if (!c) {
    TAP_OK(false, "batch: a store and a container");
    if (s) ehal_store_close(s);
    return;
  }
  ehal_store_err e;
  uint8_t *p1 = pattern(5000, 1), *p2 = pattern(10, 2), *p3 = pattern(0, 3);
  put(c, "old", 100, 9, NULL);
  uint64_t v0 = cversion(c), v = 0;
  ehal_store_op ops[4] = {op_put("a", p1, 5000), op_put("b", p2, 10), op_put("c", p3, 0),
                          op_del("old")};
  bool same_a = false, same_b = false;
  bool applied = ehal_store_apply(c, ops, 4, &v, &e) == 0;
  TAP_OK(applied && v == v0 + 3 && cversion(c) == v0 + 3 && count_objects(c) == 3 &&
             get(c, "a", 5000, 1, &same_a, &e) == 0 && same_a &&
             get(c, "b", 10, 2, &same_b, &e) == 0 && same_b &&
             get(c, "old", 100, 9, NULL, &e) == EHAL_STORE_NOTFOUND,
         "batch: three puts and a delete commit as one change (version %llu -> %llu: one per "
         "put, as sealed messages count)",
         (unsigned long long)v0, (unsigned long long)v);

  /* a failure anywhere leaves everything as it was */
  ehal_store_op bad[3] = {op_put("a", p2, 10), op_put("d", p2, 10), op_del("no-such-key")};
  ehal_store_status rc = ehal_store_apply(c, bad, 3, &v, &e);
  TAP_OK(rc == EHAL_STORE_NOTFOUND && strstr(e.msg, "no-such-key") && cversion(c) == v0 + 3 &&
             count_objects(c) == 3 && get(c, "a", 5000, 1, &same_a, &e) == 0 && same_a &&
             get(c, "d", 10, 2, NULL, &e) == EHAL_STORE_NOTFOUND,
         "batch: a delete of a missing key fails the whole batch, nothing of it applied");
  ehal_store_op twice[2] = {op_put("a", p2, 10), op_del("a")};
  rc = ehal_store_apply(c, twice, 2, &v, &e);
  TAP_OK(rc == EHAL_STORE_INVALID && strstr(e.msg, "more than once") && cversion(c) == v0 + 3,
         "batch: a key changed twice in one batch is refused: %s", e.msg);
  TAP_OK(ehal_store_apply(c, ops, 0, &v, &e) == EHAL_STORE_INVALID,
         "batch: an empty batch is refused");
  ehal_store_op badkey[2] = {op_put("e", p2, 10), op_put("", p2, 10)};
  TAP_OK(ehal_store_apply(c, badkey, 2, &v, &e) == EHAL_STORE_INVALID &&
             get(c, "e", 10, 2, NULL, &e) == EHAL_STORE_NOTFOUND,
         "batch: an invalid key anywhere refuses the batch before anything is written");

  /* over the quota on the last change: none of them */
  ehal_store_close(s);
  ehal_store_limits lim;
  ehal_store_default_limits(&lim);
  /* room for one more object of 2000 bytes, not two: each change of the
   * batch fits alone, and only counting the batch's own refuses it */
  lim.max_bytes_per_workload = 5 * EHAL_STORE_OBJECT_CHARGE + 5000 + 10 + 3000;
  s = ehal_store_open(st, "batch", NULL, &lim, &e);
  c = s ? copen(s, "b", false) : NULL;
  if (c) {
    uint8_t *big = pattern(2000, 4);
    ehal_store_op q[2] = {op_put("f", big, 2000), op_put("g", big, 2000)};
    rc = ehal_store_apply(c, q, 2, &v, &e);
    TAP_OK(rc == EHAL_STORE_LIMIT && get(c, "f", 2000, 4, NULL, &e) == EHAL_STORE_NOTFOUND &&
               cversion(c) == v0 + 3,
           "batch: the quota counts the batch's own changes; over it, none is applied");
    TAP_OK(ehal_store_apply(c, q, 1, &v, &e) == 0 && cversion(c) == v0 + 4,
           "batch: the first of them alone fits");
    free(big);
  }
  if (s) ehal_store_close(s);

  /* at the object limit, a batch that deletes one and adds one fits,
   * whatever its order */
  lim.max_bytes_per_workload = 1ull << 30;
  lim.max_objects_per_container = 4;
  s = ehal_store_open(st, "batch", NULL, &lim, &e);
  c = s ? copen(s, "b", false) : NULL;
  if (c) {
    ehal_store_op swap[2] = {op_put("h", p2, 10), op_del("f")};
    rc = ehal_store_apply(c, swap, 2, &v, &e);
    TAP_OK(rc == 0 && count_objects(c) == 4 && get(c, "h", 10, 2, NULL, &e) == 0,
           "batch: at the object limit, [put new, delete old] fits (deletes are staged first)");
    ehal_store_op back[2] = {op_put("f", p2, 10), op_del("h")};
    TAP_OK(ehal_store_apply(c, back, 2, &v, &e) == 0, "batch: and back again");
    ehal_store_op over[1] = {op_put("i", p2, 10)};
    TAP_OK(ehal_store_apply(c, over, 1, &v, &e) == EHAL_STORE_LIMIT,
           "batch: a fifth object is still refused");
  }
  if (s) ehal_store_close(s);

  /* a fresh instance verifies the state the batch left */
  s = sopen(st, "batch");
  c = s ? copen(s, "b", false) : NULL;
  TAP_OK(c && cversion(c) == v0 + 6 && get(c, "a", 5000, 1, &same_a, &e) == 0 && same_a &&
             get(c, "f", 10, 2, &same_b, &e) == 0 && same_b,
         "batch: a fresh instance verifies the container a batch left");

  /* killed at random points, a writer of pairs leaves both or neither */
  if (c) {
    c = copen(s, "pair", true);
    ehal_store_close(s);
    s = NULL;
    int bad_cycles = 0, errors = 0, cycles = 12;
    uint64_t last = 0;
    unsigned seed = (unsigned)time(NULL);
    tap_diag("kill test seed %u", seed);
    srand(seed);
    for (int i = 0; i < cycles; i++) {
      pid_t pid = fork();
      if (pid < 0) {
        errors++;
        break;
      }
      if (pid == 0) batch_writer(st);
      usleep(20000 + (useconds_t)(rand() % 150000));
      kill(pid, SIGKILL);
      int wst = 0;
      waitpid(pid, &wst, 0);
      /* a writer that stopped on its own tested nothing */
      if (!WIFSIGNALED(wst) || WTERMSIG(wst) != SIGKILL) errors++;
      ehal_store *r = ehal_store_open(st, "batch", NULL, NULL, &e);
      ehal_store_container *pc = r ? copen(r, "pair", false) : NULL;
      if (!pc) {
        errors++;
      } else {
        ehal_store_err ex, ey;
        uint64_t gx = generation(pc, "x", &ex), gy = generation(pc, "y", &ey);
        if (gx != gy || (gx != UINT64_MAX && gx < last)) bad_cycles++;
        if (gx == UINT64_MAX && ex.code != EHAL_STORE_NOTFOUND) errors++;
        if (gx != UINT64_MAX) last = gx;
      }
      if (r) ehal_store_close(r);
    }
    TAP_OK(bad_cycles == 0 && errors == 0 && last > 0,
           "batch: a writer of x and y killed %d times at random points: both always of one "
           "generation, never going back (last %llu), no error",
           cycles, (unsigned long long)last);
  }
  if (s) ehal_store_close(s);
  free(p1);
  free(p2);
  free(p3);
}

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/ehal-test-storage-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(g_cache, sizeof g_cache, "%s/cache", g_tmp);
  elastic_hal_load_options lo = {.cache_dir = g_cache, .state_dir = g_tmp};
  elastic_hal_error err;
  g_mod = elastic_hal_module_load(GUEST, &lo, &err);
  if (!TAP_OK(g_mod != NULL, "the storage guest loads")) {
    tap_diag("%s", err.msg);
  } else {
    g_linker = elastic_hal_linker_new();
    elastic_hal_storage_world_add_to_linker(g_linker);
    elastic_hal_wasi_add_to_linker(g_linker);
    test_through_guest();
    test_trap_in_transaction();
    elastic_hal_linker_free(g_linker);
    elastic_hal_module_free(g_mod);
  }
  test_disk();
  test_tamper();
  test_keyed();
  test_usage();
  test_processes();
  test_batch();
  tap_rm_tree(g_tmp);
  return tap_done();
}
