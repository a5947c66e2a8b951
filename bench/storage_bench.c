/*
 * storage_bench.c - elastic-hal-bench-storage: what encrypted, integrity-
 * protected storage costs, in one run, on the same disk:
 *
 *   guest -> HAL      a guest (bench/guests/storage_bench_guest.c) stores and
 *                     retrieves N 4 KiB objects through elastic:storage
 *   C -> store        the same through the storage engine's C API (no guest,
 *                     no canonical ABI): what sealing and integrity cost
 *   plain SQLite      the same data as plain INSERTs and SELECTs into a table
 *                     (key TEXT PRIMARY KEY, data BLOB), same settings:
 *                     WAL, synchronous=FULL, one transaction per store
 *
 *   build/bench/elastic-hal-bench-storage [N] [GUEST.wasm]    (N default 1000)
 *
 * Everything lives in a temporary directory under $TMPDIR (removed at
 * exit), so the figures are for that file system.  Stores are bounded by
 * the fsync of each commit (what makes an acknowledged store survive a
 * power cut); retrieves are best of 3 passes.  Not a test: exits 0 unless
 * something failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "elastic-hal/elastic_hal.h"
#include "storage/store.h"

#ifndef EHAL_SBENCH_GUEST_WASM
#define EHAL_SBENCH_GUEST_WASM "build/guests/storage_bench.wasm"
#endif
#define OBJ 4096

static void fill(uint8_t *b, uint32_t i) {
  for (uint32_t k = 0; k < OBJ; k++) b[k] = (uint8_t)(k * 131u + i * 7u);
}

typedef struct {
  double store_s, retrieve_s;
  bool ok;
} result;

/* ---- guest -> HAL ---- */
static bool gcall(elastic_hal_instance *i, const char *name, size_t nargs, int first, int n) {
  uint64_t args[2] = {(uint64_t)(uint32_t)first, (uint64_t)(uint32_t)n}, r = 0;
  elastic_hal_error err;
  if (elastic_hal_call(i, name, args, nargs, &r, 1, &err) != ELASTIC_HAL_EXITED) {
    fprintf(stderr, "elastic-hal-bench-storage: %s trapped: %s\n", name, err.msg);
    return false;
  }
  if ((int32_t)r != 0) {
    fprintf(stderr, "elastic-hal-bench-storage: %s failed at storage_bench_guest.c:%d\n", name,
            (int32_t)r);
    return false;
  }
  return true;
}

static result bench_guest(const char *wasm, const char *dir, int n) {
  result res = {0, 0, false};
  char cache[4200], state[4200];
  snprintf(cache, sizeof cache, "%s/cache", dir);
  snprintf(state, sizeof state, "%s/state", dir);
  elastic_hal_load_options lo = {.cache_dir = cache, .state_dir = state};
  elastic_hal_error err;
  printf("  compiling %s ...\n", wasm);
  fflush(stdout);
  elastic_hal_module *m = elastic_hal_module_load(wasm, &lo, &err);
  if (!m) {
    fprintf(stderr, "elastic-hal-bench-storage: cannot load %s: %s\n", wasm, err.msg);
    return res;
  }
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_storage_world_add_to_linker(l);
  elastic_hal_wasi_add_to_linker(l);
  elastic_hal_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.workload = "bench-guest";
  cfg.state_dir = state;
  elastic_hal_instance *i = elastic_hal_instantiate(m, l, &cfg, &err);
  if (!i) {
    fprintf(stderr, "elastic-hal-bench-storage: instantiate: %s\n", err.msg);
  } else if (gcall(i, "bench_setup", 0, 0, 0)) {
    /* warm-up outside the timed range */
    if (gcall(i, "bench_store", 2, 1000000, 20) && gcall(i, "bench_retrieve", 2, 1000000, 20)) {
      double t0 = (now_ns() / 1e9);
      bool ok = gcall(i, "bench_store", 2, 0, n);
      res.store_s = (now_ns() / 1e9) - t0;
      res.retrieve_s = 1e30;
      for (int pass = 0; ok && pass < 3; pass++) {
        t0 = (now_ns() / 1e9);
        ok = gcall(i, "bench_retrieve", 2, 0, n);
        double t = (now_ns() / 1e9) - t0;
        if (t < res.retrieve_s) res.retrieve_s = t;
      }
      res.ok = ok;
    }
  }
  if (i) elastic_hal_instance_free(i);
  elastic_hal_linker_free(l);
  elastic_hal_module_free(m);
  return res;
}

/* ---- C -> store engine ---- */
static void *malloc_cb(void *u, size_t n) {
  (void)u;
  return malloc(n);
}

static result bench_engine(const char *dir, int n) {
  result res = {0, 0, false};
  char state[4200];
  snprintf(state, sizeof state, "%s/state", dir);
  ehal_store_err e;
  ehal_store *s = ehal_store_open(state, "bench-engine", NULL, NULL, &e);
  ehal_store_container *c = NULL;
  if (!s || ehal_store_container_create(s, "bench", 5, &c, &e)) {
    fprintf(stderr, "elastic-hal-bench-storage: engine: %s\n", e.msg);
    ehal_store_close(s);
    return res;
  }
  uint8_t buf[OBJ];
  char key[32];
  bool ok = true;
  double t0 = (now_ns() / 1e9);
  for (int i = 0; ok && i < n; i++) {
    snprintf(key, sizeof key, "obj-%06d", i);
    fill(buf, (uint32_t)i);
    uint64_t v;
    ok = ehal_store_put(c, key, strlen(key), buf, OBJ, NULL, 0, &v, &e) == 0;
  }
  res.store_s = (now_ns() / 1e9) - t0;
  res.retrieve_s = 1e30;
  for (int pass = 0; ok && pass < 3; pass++) {
    t0 = (now_ns() / 1e9);
    for (int i = 0; ok && i < n; i++) {
      snprintf(key, sizeof key, "obj-%06d", i);
      uint8_t *d = NULL;
      size_t len = 0;
      ok = ehal_store_get(c, key, strlen(key), malloc_cb, NULL, &d, &len, NULL, &e) == 0 &&
           len == OBJ;
      fill(buf, (uint32_t)i);
      ok = ok && memcmp(d, buf, OBJ) == 0;
      free(d);
    }
    double t = (now_ns() / 1e9) - t0;
    if (t < res.retrieve_s) res.retrieve_s = t;
  }
  if (!ok) fprintf(stderr, "elastic-hal-bench-storage: engine: %s\n", e.msg);
  res.ok = ok;
  ehal_store_container_release(c);
  ehal_store_close(s);
  return res;
}

/* ---- plain SQLite ---- */
static result bench_sqlite(const char *dir, int n, const char *sync) {
  result res = {0, 0, false};
  char path[4200];
  snprintf(path, sizeof path, "%s/plain-%s.db", dir, sync);
  sqlite3 *db = NULL;
  char pragmas[256];
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
           "CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB NOT NULL);",
           sync);
  sqlite3_stmt *ins = NULL, *sel = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO t(k,v) VALUES(?1,?2)", -1, &ins, NULL) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT v FROM t WHERE k=?1", -1, &sel, NULL) != SQLITE_OK) {
    fprintf(stderr, "elastic-hal-bench-storage: sqlite: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return res;
  }
  uint8_t buf[OBJ];
  char key[32];
  bool ok = true;
  double t0 = (now_ns() / 1e9);
  for (int i = 0; ok && i < n; i++) {
    snprintf(key, sizeof key, "obj-%06d", i);
    fill(buf, (uint32_t)i);
    sqlite3_bind_text(ins, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(ins, 2, buf, OBJ, SQLITE_STATIC);
    ok = sqlite3_step(ins) == SQLITE_DONE; /* autocommit: one transaction each */
    sqlite3_reset(ins);
  }
  res.store_s = (now_ns() / 1e9) - t0;
  res.retrieve_s = 1e30;
  for (int pass = 0; ok && pass < 3; pass++) {
    t0 = (now_ns() / 1e9);
    for (int i = 0; ok && i < n; i++) {
      snprintf(key, sizeof key, "obj-%06d", i);
      sqlite3_bind_text(sel, 1, key, -1, SQLITE_STATIC);
      ok = sqlite3_step(sel) == SQLITE_ROW && sqlite3_column_bytes(sel, 0) == OBJ;
      if (ok) {
        uint8_t *d = malloc(OBJ); /* the HAL hands out a copy too */
        memcpy(d, sqlite3_column_blob(sel, 0), OBJ);
        fill(buf, (uint32_t)i);
        ok = memcmp(d, buf, OBJ) == 0;
        free(d);
      }
      sqlite3_reset(sel);
    }
    double t = (now_ns() / 1e9) - t0;
    if (t < res.retrieve_s) res.retrieve_s = t;
  }
  if (!ok) fprintf(stderr, "elastic-hal-bench-storage: sqlite: %s\n", sqlite3_errmsg(db));
  res.ok = ok;
  sqlite3_finalize(ins);
  sqlite3_finalize(sel);
  sqlite3_close(db);
  return res;
}

static void row(const char *name, const result *r, int n, const result *base) {
  if (!r->ok) {
    printf("  %-34s %14s %14s\n", name, "failed", "failed");
    return;
  }
  double s = n / r->store_s, g = n / r->retrieve_s;
  printf("  %-34s %14.0f %14.0f", name, s, g);
  if (base && base->ok)
    printf("   %5.2fx %7.2fx", s / (n / base->store_s), g / (n / base->retrieve_s));
  printf("\n");
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  const char *wasm = argc > 2 ? argv[2] : EHAL_SBENCH_GUEST_WASM;
  if (n <= 0 || n > 1000000) {
    fprintf(stderr, "usage: %s [N (1..1000000)] [GUEST.wasm]\n", argv[0]);
    return 2;
  }
  const char *tmpbase = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/elastic-hal-bench-storage-XXXXXX",
           tmpbase && *tmpbase ? tmpbase : "/tmp");
  if (!mkdtemp(dir)) {
    fprintf(stderr, "elastic-hal-bench-storage: cannot create a temporary directory: %s\n",
            strerror(errno));
    return 1;
  }
  printf("ELASTIC TEE HAL storage benchmark (elastic-hal %s, SQLite %s, platform %s)\n",
         ELASTIC_HAL_VERSION, sqlite3_libversion(), elastic_hal_platform_type());
  printf("  %d objects of 4 KiB, keys obj-000000...; directory %s\n", n, dir);
  printf(
      "  every store is its own transaction, WAL + synchronous=FULL (fsync per commit);\n"
      "  retrieve: best of 3 passes over all keys\n\n");
  fflush(stdout);
  result g = bench_guest(wasm, dir, n);
  result e = bench_engine(dir, n);
  result p = bench_sqlite(dir, n, "FULL");
  result pn = bench_sqlite(dir, n, "NORMAL");
  printf("\n  %-34s %14s %14s   %s\n", "", "stores/s", "retrieves/s", "vs plain SQLite (FULL)");
  row("guest -> HAL storage (sealed)", &g, n, &p);
  row("C -> storage engine (sealed)", &e, n, &p);
  row("plain SQLite, synchronous=FULL", &p, n, NULL);
  row("plain SQLite, synchronous=NORMAL", &pn, n, &p);
  printf(
      "\n  (NORMAL is shown for scale only: in WAL mode it may lose the last commits on a\n"
      "   power cut, which the storage interface does not allow itself.)\n");
  bench_rm_tree(dir);
  return g.ok && e.ok && p.ok && pn.ok ? 0 : 1;
}
