/*
 * sqlite_guest.c - real SQLite (the amalgamation better-sqlite3 ships, see
 * tests/sqlite.cmake) driven by its arguments, for the WASI filesystem.
 * The same source builds for wasm32-wasi (BUILD/guests/sqlite_guest.wasm) and
 * natively (BUILD/bench/sqlite_native), so the two can be compared.
 *
 *   sqlite_guest [-vfs NAME] DB insert N [BATCH [SIZE]]
 *       N rows of SIZE bytes (default 100) in transactions of BATCH rows
 *       (default 1000): "inserted N rows in S s (R rows/s)"
 *   sqlite_guest [-vfs NAME] DB crashloop [ROWS [TXNS]]
 *       transactions of ROWS rows (default 100), TXNS of them (default 0:
 *       forever), "committed K" after each commit (for kill -9 tests)
 *   sqlite_guest [-vfs NAME] DB check
 *       (of an existing database, rolling back a hot journal)
 *       "integrity ok" (or what PRAGMA integrity_check found), "rows N",
 *       "txns K complete" and "last txn L"; exit 0 only when the database
 *       is intact and every transaction is there whole or not at all
 *   sqlite_guest [-vfs NAME] DB info
 *       version, VFS, journal mode, synchronous, page size and count
 *   sqlite_guest [-vfs NAME] DB sql SQL
 *       runs SQL, one line per result row, columns separated by '|'
 *
 * Every transaction writes its rows to t, each with the transaction's number
 * and a checksum of (number, value), and one row to txns saying how many rows
 * it wrote: check finds a transaction that is there only in part, a row whose
 * value changed, and rows without their transaction.  Ordinary SQLite
 * defaults otherwise (rollback journal, journal_mode=DELETE, synchronous=FULL).
 * Exit status: 0 ok, 1 check failed, 2 usage or SQLite error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqlite3.h"

static sqlite3 *db;

static void fail(const char *what) {
  fprintf(stderr, "sqlite_guest: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
  exit(2);
}

static void exec(const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "sqlite_guest: %s: %s\n", sql, err ? err : "?");
    exit(2);
  }
}

static sqlite3_stmt *prepare(const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail(sql);
  return st;
}

/* one value: sqlite3_int64 of a single-row, single-column query */
static sqlite3_int64 query_int(const char *sql) {
  sqlite3_stmt *st = prepare(sql);
  if (sqlite3_step(st) != SQLITE_ROW) fail(sql);
  sqlite3_int64 v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* FNV-1a over the transaction number and the value, as a non-negative int64 */
static sqlite3_int64 checksum(sqlite3_int64 txn, const unsigned char *v, int n) {
  uint64_t h = 14695981039346656037u;
  for (int i = 0; i < 8; i++) h = (h ^ (((uint64_t)txn >> (8 * i)) & 0xff)) * 1099511628211u;
  for (int i = 0; i < n; i++) h = (h ^ v[i]) * 1099511628211u;
  return (sqlite3_int64)(h >> 1);
}

/* the value of row `i` of transaction `txn`: SIZE bytes of xorshift64 */
static void fill(unsigned char *v, int n, sqlite3_int64 txn, int i) {
  uint64_t x = ((uint64_t)txn << 24) ^ (uint64_t)i ^ 0x9e3779b97f4a7c15u;
  for (int k = 0; k < n; k++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v[k] = (unsigned char)x;
  }
}

static void create_schema(void) {
  exec(
      "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, txn INTEGER NOT NULL,"
      " v BLOB NOT NULL, sum INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS txns(txn INTEGER PRIMARY KEY, rows INTEGER NOT NULL);");
}

static sqlite3_int64 next_txn(void) {
  return query_int("SELECT coalesce(max(txn), 0) + 1 FROM txns");
}

/* one transaction: `rows` rows of `size` bytes numbered `txn`, and its txns row */
static void insert_txn(sqlite3_stmt *ins, sqlite3_stmt *ins_txn, sqlite3_int64 txn, int rows,
                       unsigned char *v, int size) {
  exec("BEGIN");
  for (int i = 0; i < rows; i++) {
    fill(v, size, txn, i);
    sqlite3_bind_int64(ins, 1, txn);
    sqlite3_bind_blob(ins, 2, v, size, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 3, checksum(txn, v, size));
    if (sqlite3_step(ins) != SQLITE_DONE) fail("insert");
    sqlite3_reset(ins);
  }
  sqlite3_bind_int64(ins_txn, 1, txn);
  sqlite3_bind_int(ins_txn, 2, rows);
  if (sqlite3_step(ins_txn) != SQLITE_DONE) fail("insert txns");
  sqlite3_reset(ins_txn);
  exec("COMMIT");
}

/* insert N [BATCH [SIZE]] and crashloop [ROWS [TXNS]] */
static int cmd_insert(long long n, int batch, int size, long long txns, int crashloop) {
  create_schema();
  unsigned char *v = malloc(size > 0 ? (size_t)size : 1);
  if (!v) {
    fprintf(stderr, "sqlite_guest: out of memory\n");
    exit(2);
  }
  sqlite3_stmt *ins = prepare("INSERT INTO t(txn, v, sum) VALUES (?, ?, ?)");
  sqlite3_stmt *ins_txn = prepare("INSERT INTO txns(txn, rows) VALUES (?, ?)");
  sqlite3_int64 txn = next_txn();
  double t0 = now_s();
  if (crashloop) {
    for (long long k = 0; txns == 0 || k < txns; k++, txn++) {
      insert_txn(ins, ins_txn, txn, batch, v, size);
      printf("committed %lld\n", (long long)txn);
      fflush(stdout);
    }
  } else {
    for (long long done = 0; done < n; txn++) {
      int rows = n - done < batch ? (int)(n - done) : batch;
      insert_txn(ins, ins_txn, txn, rows, v, size);
      done += rows;
    }
    double s = now_s() - t0;
    printf("inserted %lld rows in %.3f s (%.0f rows/s)\n", n, s, s > 0 ? (double)n / s : 0.0);
  }
  sqlite3_finalize(ins);
  sqlite3_finalize(ins_txn);
  free(v);
  return 0;
}

/* a run of n rows of one transaction ends: 1 if txns says it wrote n rows,
 * 0 if it says another number, -1 if it is not in txns */
static int group_complete(sqlite3_stmt *get_rows, sqlite3_int64 txn, sqlite3_int64 n,
                          long long *reported) {
  sqlite3_bind_int64(get_rows, 1, txn);
  int rc = sqlite3_step(get_rows);
  sqlite3_int64 want = rc == SQLITE_ROW ? sqlite3_column_int64(get_rows, 0) : -1;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("select txns");
  sqlite3_reset(get_rows);
  if (want == n) return 1;
  if ((*reported)++ < 10) {
    if (want < 0)
      printf("txn %lld: %lld rows, not in txns\n", (long long)txn, (long long)n);
    else
      printf("txn %lld: %lld rows of %lld\n", (long long)txn, (long long)n, (long long)want);
  }
  return want < 0 ? -1 : 0;
}

static int cmd_check(void) {
  int ok = 1;
  sqlite3_stmt *st = prepare("PRAGMA integrity_check");
  int rc, lines = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *r = (const char *)sqlite3_column_text(st, 0);
    if (!r || strcmp(r, "ok")) ok = 0;
    printf("integrity %s\n", r ? r : "(null)");
    lines++;
  }
  if (rc != SQLITE_DONE) fail("integrity_check");
  sqlite3_finalize(st);
  if (lines != 1) ok = 0;

  /* a database without our tables (a new one) holds zero transactions */
  if (query_int("SELECT count(*) FROM sqlite_schema WHERE name IN ('t', 'txns')") != 2) {
    printf("rows 0\ntxns 0 complete\nlast txn 0\n");
    return ok ? 0 : 1;
  }
  printf("rows %lld\n", (long long)query_int("SELECT count(*) FROM t"));

  /* rowid order: a transaction's rows are one run (one writer) */
  sqlite3_stmt *get_rows = prepare("SELECT rows FROM txns WHERE txn = ?");
  st = prepare("SELECT txn, v, sum FROM t ORDER BY id");
  long long counts[3] = {0, 0, 0}; /* orphan runs, partial, complete */
  long long bad = 0, reported = 0;
  sqlite3_int64 cur = 0, n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    sqlite3_int64 txn = sqlite3_column_int64(st, 0);
    const unsigned char *v = sqlite3_column_blob(st, 1);
    int len = sqlite3_column_bytes(st, 1);
    if (checksum(txn, v, len) != sqlite3_column_int64(st, 2) && bad++ < 10)
      printf("txn %lld: a row whose checksum does not match\n", (long long)txn);
    if (n > 0 && txn != cur) {
      counts[1 + group_complete(get_rows, cur, n, &reported)]++;
      n = 0;
    }
    cur = txn;
    n++;
  }
  if (rc != SQLITE_DONE) fail("select t");
  if (n > 0) counts[1 + group_complete(get_rows, cur, n, &reported)]++;
  sqlite3_finalize(st);
  sqlite3_finalize(get_rows);
  /* and transactions that txns lists and t has no rows of */
  long long complete = counts[2];
  long long missing = query_int("SELECT count(*) FROM txns WHERE rows > 0") - complete - counts[1];
  long long incomplete = counts[0] + counts[1] + (missing > 0 ? missing : 0);
  if (missing > 0) printf("%lld txns without rows\n", missing);
  if (incomplete > 0 || bad > 0) {
    printf("txns %lld complete, %lld incomplete, %lld bad rows\n", complete, incomplete, bad);
    ok = 0;
  } else {
    printf("txns %lld complete\n", complete);
  }
  printf("last txn %lld\n", (long long)query_int("SELECT coalesce(max(txn), 0) FROM txns"));
  return ok ? 0 : 1;
}

static void pragma(const char *name) {
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA %s", name);
  sqlite3_stmt *st = prepare(sql);
  if (sqlite3_step(st) == SQLITE_ROW) printf("%s %s\n", name, sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
}

static int cmd_info(void) {
  const char *vfs = NULL;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_VFSNAME, &vfs);
  printf("sqlite %s\nvfs %s\n", sqlite3_libversion(), vfs ? vfs : "?");
  sqlite3_free((void *)vfs);
  pragma("journal_mode");
  pragma("synchronous");
  pragma("locking_mode");
  pragma("temp_store");
  pragma("page_size");
  pragma("page_count");
  return 0;
}

static int print_row(void *arg, int n, char **vals, char **names) {
  (void)arg;
  (void)names;
  for (int i = 0; i < n; i++) printf("%s%s", i ? "|" : "", vals[i] ? vals[i] : "");
  printf("\n");
  return 0;
}

static int cmd_sql(const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, print_row, NULL, &err) == SQLITE_OK) return 0;
  fprintf(stderr, "sqlite_guest: %s\n", err ? err : "?");
  sqlite3_free(err);
  return 2;
}

static int usage(void) {
  fprintf(stderr,
          "usage: sqlite_guest [-vfs NAME] DB insert N [BATCH [SIZE]] | crashloop [ROWS [TXNS]]"
          " | check | info | sql SQL\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *vfs = NULL;
  int a = 1;
  if (a + 1 < argc && !strcmp(argv[a], "-vfs")) {
    vfs = argv[a + 1];
    a += 2;
  }
  if (argc - a < 2) return usage();
  const char *path = argv[a], *cmd = argv[a + 1];
  static const char *const cmds[] = {"insert", "crashloop", "check", "info", "sql"};
  size_t c = 0;
  while (c < sizeof cmds / sizeof cmds[0] && strcmp(cmd, cmds[c])) c++;
  if (c == sizeof cmds / sizeof cmds[0]) return usage();
  char **args = argv + a + 2;
  int nargs = argc - a - 2;
  /* check and info open an existing database (read-write: a hot journal is rolled back) */
  int flags = SQLITE_OPEN_READWRITE;
  if (strcmp(cmd, "check") && strcmp(cmd, "info")) flags |= SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path, &db, flags, vfs) != SQLITE_OK) fail(path);
  int rc;
  if (!strcmp(cmd, "insert") && nargs >= 1 && nargs <= 3) {
    long long n = atoll(args[0]);
    int batch = nargs > 1 ? atoi(args[1]) : 1000, size = nargs > 2 ? atoi(args[2]) : 100;
    if (n < 0 || batch < 1 || size < 0) return usage();
    rc = cmd_insert(n, batch, size, 0, 0);
  } else if (!strcmp(cmd, "crashloop") && nargs <= 2) {
    int rows = nargs > 0 ? atoi(args[0]) : 100;
    long long txns = nargs > 1 ? atoll(args[1]) : 0;
    if (rows < 1 || txns < 0) return usage();
    rc = cmd_insert(0, rows, 100, txns, 1);
  } else if (!strcmp(cmd, "check") && nargs == 0) {
    rc = cmd_check();
  } else if (!strcmp(cmd, "info") && nargs == 0) {
    rc = cmd_info();
  } else if (!strcmp(cmd, "sql") && nargs == 1) {
    rc = cmd_sql(args[0]);
  } else {
    return usage();
  }
  if (sqlite3_close(db) != SQLITE_OK) fail("close");
  return rc;
}
