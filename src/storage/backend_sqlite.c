/*
 * backend_sqlite.c - the embedded storage backend: one SQLite database per
 * workload, STATE_DIR/storage/w-<hex>.db (see backend.h for the seam).
 *
 * Durability: journal_mode=WAL with synchronous=FULL.  In WAL mode a commit
 * appends the transaction's pages and a commit frame to the -wal file, and
 * with FULL the WAL is fsync'd before COMMIT returns, so a transaction the
 * HAL acknowledged survives a crash of the process and a power cut; one
 * interrupted before its commit frame reached the disk is ignored at
 * recovery (it was never acknowledged).  synchronous=NORMAL would be
 * enough for a process crash, but may lose the last transactions on a
 * power cut, which the storage interface promises not to.  A new -wal file
 * gets its directory entry fsync'd by SQLite; a new database file by us.
 *
 * Files are created 0600 in a 0700 directory (SQLite gives the -wal and
 * -shm files the database file's mode).  Only ciphertext and key ids reach
 * these files; container names are in clear (operators list them).
 *
 * Before SQLite opens anything, the state directory, STATE_DIR/storage,
 * the database file and its -wal, -shm and -journal files (those that
 * exist) must be ours alone: real directories and regular files, owned by
 * the running user, not writable by group or others (fsutil.h).  A file
 * another user planted is refused, never opened by SQLite.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/fileio.h"
#include "../util/fsutil.h"
#include "../util/hex.h"
#include "backend.h"

#define BUSY_TIMEOUT_MS 30000
#define SCHEMA_VERSION "1"

enum {
  S_C_BY_NAME,
  S_C_BY_ID,
  S_C_INSERT,
  S_C_UPDATE,
  S_C_DELETE,
  S_C_DELETE_OBJECTS,
  S_C_SCAN,
  S_O_GET,
  S_O_GET_DATA,
  S_O_PUT,
  S_O_DELETE,
  S_O_SCAN,
  S_USAGE,
  S_BEGIN_R,
  S_BEGIN_W,
  S_COMMIT,
  S_ROLLBACK,
  S_COUNT
};

static const char *const SQL[S_COUNT] = {
    [S_C_BY_NAME] =
        "SELECT id,name,cid,created_at,version,objects,bytes,flags,key_check,digest,"
        "mac FROM containers WHERE name=?1",
    [S_C_BY_ID] =
        "SELECT id,name,cid,created_at,version,objects,bytes,flags,key_check,digest,"
        "mac FROM containers WHERE id=?1",
    [S_C_INSERT] =
        "INSERT INTO containers(name,cid,created_at,version,objects,bytes,flags,"
        "key_check,digest,mac) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    [S_C_UPDATE] =
        "UPDATE containers SET version=?2,objects=?3,bytes=?4,flags=?5,key_check=?6,"
        "digest=?7,mac=?8 WHERE id=?1",
    [S_C_DELETE] = "DELETE FROM containers WHERE id=?1",
    [S_C_DELETE_OBJECTS] = "DELETE FROM objects WHERE container=?1",
    [S_C_SCAN] =
        "SELECT id,name,cid,created_at,version,objects,bytes,flags,key_check,digest,"
        "mac FROM containers ORDER BY name",
    [S_O_GET] =
        "SELECT kid,version,size,created_at,hdr,dnonce,dtag FROM objects "
        "WHERE container=?1 AND kid=?2",
    [S_O_GET_DATA] =
        "SELECT kid,version,size,created_at,hdr,dnonce,dtag,data FROM objects "
        "WHERE container=?1 AND kid=?2",
    [S_O_PUT] =
        "INSERT INTO objects(container,kid,version,size,created_at,hdr,dnonce,dtag,data) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(container,kid) DO UPDATE SET "
        "version=excluded.version,size=excluded.size,created_at=excluded.created_at,"
        "hdr=excluded.hdr,dnonce=excluded.dnonce,dtag=excluded.dtag,data=excluded.data",
    [S_O_DELETE] = "DELETE FROM objects WHERE container=?1 AND kid=?2",
    [S_O_SCAN] =
        "SELECT kid,version,size,created_at,hdr,dnonce,dtag FROM objects "
        "WHERE container=?1 ORDER BY kid",
    [S_USAGE] = "SELECT COUNT(*),COALESCE(SUM(objects),0),COALESCE(SUM(bytes),0) FROM containers",
    [S_BEGIN_R] = "BEGIN",
    [S_BEGIN_W] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS containers("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  cid BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  objects INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  flags INTEGER NOT NULL,"
    "  key_check BLOB NOT NULL,"
    "  digest BLOB NOT NULL,"
    "  mac BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS objects("
    "  id INTEGER PRIMARY KEY,"
    "  container INTEGER NOT NULL,"
    "  kid BLOB NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  hdr BLOB NOT NULL,"
    "  dnonce BLOB NOT NULL,"
    "  dtag BLOB NOT NULL,"
    "  data BLOB NOT NULL);" /* last: reading the other columns skips its overflow pages */
    "CREATE UNIQUE INDEX IF NOT EXISTS objects_kid ON objects(container, kid);";

struct ehal_backend {
  sqlite3 *db;
  sqlite3_stmt *st[S_COUNT];
  char err[512];
};

static int fail(ehal_backend *b, const char *what) {
  snprintf(b->err, sizeof b->err, "%s: %s", what, sqlite3_errmsg(b->db));
  return -1;
}

static sqlite3_stmt *stmt(ehal_backend *b, int which) {
  sqlite3_stmt *s = b->st[which];
  if (!s) {
    if (sqlite3_prepare_v3(b->db, SQL[which], -1, SQLITE_PREPARE_PERSISTENT, &b->st[which], NULL) !=
        SQLITE_OK) {
      fail(b, "prepare");
      return NULL;
    }
    s = b->st[which];
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return s;
}

/* Runs a statement to completion. */
static int exec_stmt(ehal_backend *b, int which, const char *what) {
  sqlite3_stmt *s = stmt(b, which);
  if (!s) return -1;
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : fail(b, what);
}

static void sha256_hex(const char *s, char *out, size_t nhex) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
  ehal_hex_encode(md, nhex / 2 < 32 ? nhex / 2 : 32, out); /* nhex even */
}

int ehal_backend_sqlite_path(const char *state_dir, const char *workload, char *out,
                             size_t outlen) {
  char hex[33];
  sha256_hex(workload, hex, 32);
  int n = snprintf(out, outlen, "%s/storage/w-%s.db", state_dir, hex);
  return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* The database file and SQLite's companions of it that exist: each must
 * pass ehal_secure_open's checks (no link, regular, ours, not writable by
 * group or others).  The database itself must exist. */
static int check_db_files(const char *path, char *err, size_t errlen) {
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
    char p[8500];
    snprintf(p, sizeof p, "%s%s", path, suffix[i]);
    int fd = ehal_secure_open(p, O_RDONLY, 0, err, errlen);
    if (fd >= 0) {
      close(fd);
      continue;
    }
    if (i > 0 && errno == ENOENT) continue;
    return -1;
  }
  return 0;
}

static void be_close(ehal_backend *b) {
  if (!b) return;
  for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(b->st[i]);
  sqlite3_close(b->db);
  free(b);
}

static int exec_sql(ehal_backend *b, const char *sql, const char *what) {
  char *msg = NULL;
  if (sqlite3_exec(b->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(b->err, sizeof b->err, "%s: %s", what, msg ? msg : sqlite3_errmsg(b->db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

/* The namespace's meta rows: schema version and the workload it belongs
 * to (a file swapped in from another workload is refused here, and would
 * fail authentication anyway: keys are derived from the workload name). */
static int check_meta(ehal_backend *b, const char *workload) {
  if (exec_sql(b, "BEGIN IMMEDIATE", "cannot lock the storage database") != 0) return -1;
  int rc = exec_sql(b, SCHEMA, "cannot create the storage schema");
  sqlite3_stmt *s = NULL;
  if (rc == 0 && sqlite3_prepare_v2(b->db, "SELECT k,v FROM meta", -1, &s, NULL) != SQLITE_OK)
    rc = fail(b, "cannot read the storage schema");
  bool have_w = false, have_s = false;
  while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
    const char *k = (const char *)sqlite3_column_text(s, 0);
    const char *v = (const char *)sqlite3_column_text(s, 1);
    if (!k || !v) continue;
    if (!strcmp(k, "workload")) {
      have_w = true;
      if (strcmp(v, workload) != 0) {
        snprintf(b->err, sizeof b->err,
                 "integrity error: the storage database of workload '%.100s' belongs to "
                 "workload '%.100s' (file swapped?)",
                 workload, v);
        rc = -1;
      }
    } else if (!strcmp(k, "schema")) {
      have_s = true;
      if (strcmp(v, SCHEMA_VERSION) != 0) {
        snprintf(b->err, sizeof b->err, "storage database schema %.20s is not supported (want %s)",
                 v, SCHEMA_VERSION);
        rc = -1;
      }
    }
  }
  sqlite3_finalize(s);
  if (rc == 0 && (!have_w || !have_s)) {
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(b->db, "INSERT OR REPLACE INTO meta(k,v) VALUES(?1,?2)", -1, &ins,
                           NULL) != SQLITE_OK)
      rc = fail(b, "cannot write the storage schema");
    const char *kv[2][2] = {{"workload", workload}, {"schema", SCHEMA_VERSION}};
    for (int i = 0; rc == 0 && i < 2; i++) {
      sqlite3_reset(ins);
      sqlite3_bind_text(ins, 1, kv[i][0], -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 2, kv[i][1], -1, SQLITE_STATIC);
      if (sqlite3_step(ins) != SQLITE_DONE) rc = fail(b, "cannot write the storage schema");
    }
    sqlite3_finalize(ins);
  }
  if (rc == 0) return exec_sql(b, "COMMIT", "cannot commit the storage schema");
  sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

static int configure(ehal_backend *b) {
  sqlite3_busy_timeout(b->db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(b->db, 1);
  /* The file is the adversary's to edit: no schema-driven side effects,
   * no writable schema, stricter checks of b-tree cells. */
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
  /* journal_mode is persistent; switching needs a moment of exclusivity.
   * SQLite may answer SQLITE_BUSY at once here, without its busy handler
   * (when two processes create the database together), so wait and retry
   * for up to the busy timeout ourselves. */
  bool wal = false;
  for (int waited = 0; !wal; waited += 10) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(b->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK)
      return fail(b, "cannot set WAL mode");
    int rc = sqlite3_step(s);
    const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
    wal = mode && !strcmp(mode, "wal");
    sqlite3_finalize(s);
    if (wal) break;
    if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED && rc != SQLITE_ROW)
      return fail(b, "cannot set WAL mode");
    if (waited >= BUSY_TIMEOUT_MS) return fail(b, "cannot set WAL mode");
    usleep(10000);
  }
  return exec_sql(b,
                  "PRAGMA synchronous=FULL;"
                  "PRAGMA cache_size=-16384;" /* KiB: pages of ciphertext, up to 16 MiB */
                  "PRAGMA secure_delete=FAST;"
                  "PRAGMA foreign_keys=OFF;"
                  "PRAGMA trusted_schema=OFF;"
                  "PRAGMA cell_size_check=ON;",
                  "cannot configure the storage database");
}

static ehal_backend *be_open(const char *state_dir, const char *workload, char *err,
                             size_t errlen) {
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s/storage", state_dir);
  if (ehal_backend_sqlite_path(state_dir, workload, path, sizeof path) != 0) {
    snprintf(err, errlen, "state directory path too long");
    return NULL;
  }
  if (ehal_secure_subdir(state_dir, "storage", true, err, errlen) != 0) return NULL;
  /* Create the file ourselves: mode 0600, no symlink followed; or check
   * the one there (and its -wal and -shm files) before SQLite opens it. */
  int fd = ehal_secure_open(path, O_RDWR | O_CREAT | O_EXCL, 0600, err, errlen);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
    ehal_fsync_dir(dir);
  } else if (errno != EEXIST) {
    return NULL;
  }
  if (check_db_files(path, err, errlen) != 0) return NULL;
  ehal_backend *b = calloc(1, sizeof *b);
  if (!b) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (sqlite3_open_v2(path, &b->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                      NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", path,
             b->db ? sqlite3_errmsg(b->db) : "out of memory");
    be_close(b);
    return NULL;
  }
  if (configure(b) != 0 || check_meta(b, workload) != 0) {
    snprintf(err, errlen, "%s (%s)", b->err, path);
    be_close(b);
    return NULL;
  }
  return b;
}

static const char *be_errmsg(ehal_backend *b) { return b->err; }

static int be_begin(ehal_backend *b, bool write) {
  if (exec_stmt(b, write ? S_BEGIN_W : S_BEGIN_R, "cannot begin a transaction") != 0) return -1;
  return 0;
}

/* Statements left on a row keep the read snapshot open past COMMIT: reset
 * them all when a transaction ends. */
static void reset_all(ehal_backend *b) {
  for (int i = 0; i < S_COUNT; i++)
    if (b->st[i]) sqlite3_reset(b->st[i]);
}

static int be_commit(ehal_backend *b) {
  reset_all(b);
  if (exec_stmt(b, S_COMMIT, "cannot commit") != 0) {
    /* a failed COMMIT may leave the transaction open: end it */
    if (!sqlite3_get_autocommit(b->db)) sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  return 0;
}

static void be_rollback(ehal_backend *b) {
  reset_all(b);
  if (!sqlite3_get_autocommit(b->db)) exec_stmt(b, S_ROLLBACK, "rollback");
}

/* Copies a blob column of exactly n bytes; false if the column is not. */
static bool blob_exact(sqlite3_stmt *s, int col, uint8_t *out, size_t n) {
  const void *p = sqlite3_column_blob(s, col);
  if (!p || (size_t)sqlite3_column_bytes(s, col) != n) return false;
  memcpy(out, p, n);
  return true;
}

static int read_container(ehal_backend *b, sqlite3_stmt *s, ehal_be_container *c) {
  memset(c, 0, sizeof *c);
  c->id = sqlite3_column_int64(s, 0);
  const char *name = (const char *)sqlite3_column_text(s, 1);
  if (!name || strlen(name) > EHAL_CONTAINER_NAME_MAX) {
    snprintf(b->err, sizeof b->err, "integrity error: malformed container row %lld",
             (long long)c->id);
    return -1;
  }
  strcpy(c->name, name);
  c->created_at = (uint64_t)sqlite3_column_int64(s, 3);
  c->version = (uint64_t)sqlite3_column_int64(s, 4);
  c->objects = (uint64_t)sqlite3_column_int64(s, 5);
  c->bytes = (uint64_t)sqlite3_column_int64(s, 6);
  c->flags = (uint32_t)sqlite3_column_int64(s, 7);
  if (!blob_exact(s, 2, c->cid, EHAL_CID_LEN) || !blob_exact(s, 8, c->key_check, EHAL_MAC_LEN) ||
      !blob_exact(s, 9, c->digest, EHAL_MAC_LEN) || !blob_exact(s, 10, c->mac, EHAL_MAC_LEN)) {
    snprintf(b->err, sizeof b->err, "integrity error: malformed container row '%.100s'", name);
    return -1;
  }
  return 0;
}

static int container_get(ehal_backend *b, int which, const char *name, int64_t id,
                         ehal_be_container *out) {
  sqlite3_stmt *s = stmt(b, which);
  if (!s) return -1;
  if (name)
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(s);
    return EHAL_BE_NOTFOUND;
  }
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return fail(b, "cannot read a container");
  }
  rc = read_container(b, s, out);
  sqlite3_reset(s);
  return rc;
}

static int be_container_by_name(ehal_backend *b, const char *name, ehal_be_container *out) {
  return container_get(b, S_C_BY_NAME, name, 0, out);
}

static int be_container_by_id(ehal_backend *b, int64_t id, ehal_be_container *out) {
  return container_get(b, S_C_BY_ID, NULL, id, out);
}

static int be_container_insert(ehal_backend *b, ehal_be_container *c) {
  sqlite3_stmt *s = stmt(b, S_C_INSERT);
  if (!s) return -1;
  sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
  sqlite3_bind_blob(s, 2, c->cid, EHAL_CID_LEN, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, (int64_t)c->created_at);
  sqlite3_bind_int64(s, 4, (int64_t)c->version);
  sqlite3_bind_int64(s, 5, (int64_t)c->objects);
  sqlite3_bind_int64(s, 6, (int64_t)c->bytes);
  sqlite3_bind_int64(s, 7, c->flags);
  sqlite3_bind_blob(s, 8, c->key_check, EHAL_MAC_LEN, SQLITE_STATIC);
  sqlite3_bind_blob(s, 9, c->digest, EHAL_MAC_LEN, SQLITE_STATIC);
  sqlite3_bind_blob(s, 10, c->mac, EHAL_MAC_LEN, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return fail(b, "cannot insert a container");
  c->id = sqlite3_last_insert_rowid(b->db);
  return 0;
}

static int be_container_update(ehal_backend *b, const ehal_be_container *c) {
  sqlite3_stmt *s = stmt(b, S_C_UPDATE);
  if (!s) return -1;
  sqlite3_bind_int64(s, 1, c->id);
  sqlite3_bind_int64(s, 2, (int64_t)c->version);
  sqlite3_bind_int64(s, 3, (int64_t)c->objects);
  sqlite3_bind_int64(s, 4, (int64_t)c->bytes);
  sqlite3_bind_int64(s, 5, c->flags);
  sqlite3_bind_blob(s, 6, c->key_check, EHAL_MAC_LEN, SQLITE_STATIC);
  sqlite3_bind_blob(s, 7, c->digest, EHAL_MAC_LEN, SQLITE_STATIC);
  sqlite3_bind_blob(s, 8, c->mac, EHAL_MAC_LEN, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return fail(b, "cannot update a container");
  if (sqlite3_changes(b->db) != 1) {
    snprintf(b->err, sizeof b->err, "container row %lld vanished", (long long)c->id);
    return -1;
  }
  return 0;
}

static int be_container_delete(ehal_backend *b, int64_t id) {
  sqlite3_stmt *s = stmt(b, S_C_DELETE_OBJECTS);
  if (!s) return -1;
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return fail(b, "cannot delete a container's objects");
  s = stmt(b, S_C_DELETE);
  if (!s) return -1;
  sqlite3_bind_int64(s, 1, id);
  rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return fail(b, "cannot delete a container");
  return 0;
}

static int be_container_scan(ehal_backend *b, int (*fn)(void *, const ehal_be_container *),
                             void *user) {
  sqlite3_stmt *s = stmt(b, S_C_SCAN);
  if (!s) return -1;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ehal_be_container c;
    if (read_container(b, s, &c) != 0) {
      sqlite3_reset(s);
      return -1;
    }
    int r = fn(user, &c);
    if (r) {
      sqlite3_reset(s);
      return r;
    }
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : fail(b, "cannot scan containers");
}

static int read_object(ehal_backend *b, sqlite3_stmt *s, bool with_data, ehal_be_object *o) {
  memset(o, 0, sizeof *o);
  o->version = (uint64_t)sqlite3_column_int64(s, 1);
  o->size = (uint64_t)sqlite3_column_int64(s, 2);
  o->created_at = (uint64_t)sqlite3_column_int64(s, 3);
  o->hdr = sqlite3_column_blob(s, 4);
  o->hdr_len = (size_t)sqlite3_column_bytes(s, 4);
  bool ok = blob_exact(s, 0, o->kid, EHAL_KID_LEN) && blob_exact(s, 5, o->dnonce, EHAL_NONCE_LEN) &&
            blob_exact(s, 6, o->dtag, EHAL_TAG_LEN) && o->hdr;
  if (ok && with_data) {
    o->data = sqlite3_column_blob(s, 7);
    o->data_len = (size_t)sqlite3_column_bytes(s, 7);
    if (!o->data) o->data = (const uint8_t *)""; /* zero-length blob */
  }
  if (!ok) {
    snprintf(b->err, sizeof b->err, "integrity error: malformed object row");
    return -1;
  }
  return 0;
}

static int be_object_get(ehal_backend *b, int64_t container, const uint8_t kid[EHAL_KID_LEN],
                         bool with_data, ehal_be_object *out) {
  sqlite3_stmt *s = stmt(b, with_data ? S_O_GET_DATA : S_O_GET);
  if (!s) return -1;
  sqlite3_bind_int64(s, 1, container);
  sqlite3_bind_blob(s, 2, kid, EHAL_KID_LEN, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(s);
    return EHAL_BE_NOTFOUND;
  }
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return fail(b, "cannot read an object");
  }
  return read_object(b, s, with_data, out); /* pointers valid until the next call */
}

static int be_object_put(ehal_backend *b, int64_t container, const ehal_be_object *o) {
  sqlite3_stmt *s = stmt(b, S_O_PUT);
  if (!s) return -1;
  sqlite3_bind_int64(s, 1, container);
  sqlite3_bind_blob(s, 2, o->kid, EHAL_KID_LEN, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, (int64_t)o->version);
  sqlite3_bind_int64(s, 4, (int64_t)o->size);
  sqlite3_bind_int64(s, 5, (int64_t)o->created_at);
  sqlite3_bind_blob(s, 6, o->hdr, (int)o->hdr_len, SQLITE_STATIC);
  sqlite3_bind_blob(s, 7, o->dnonce, EHAL_NONCE_LEN, SQLITE_STATIC);
  sqlite3_bind_blob(s, 8, o->dtag, EHAL_TAG_LEN, SQLITE_STATIC);
  sqlite3_bind_blob64(s, 9, o->data_len ? (const void *)o->data : "", o->data_len, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s); /* do not keep pointers to the caller's buffers */
  return rc == SQLITE_DONE ? 0 : fail(b, "cannot write an object");
}

static int be_object_delete(ehal_backend *b, int64_t container, const uint8_t kid[EHAL_KID_LEN]) {
  sqlite3_stmt *s = stmt(b, S_O_DELETE);
  if (!s) return -1;
  sqlite3_bind_int64(s, 1, container);
  sqlite3_bind_blob(s, 2, kid, EHAL_KID_LEN, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return fail(b, "cannot delete an object");
  return sqlite3_changes(b->db) ? 0 : EHAL_BE_NOTFOUND;
}

static int be_object_scan(ehal_backend *b, int64_t container,
                          int (*fn)(void *, const ehal_be_object *), void *user) {
  sqlite3_stmt *s = stmt(b, S_O_SCAN);
  if (!s) return -1;
  sqlite3_bind_int64(s, 1, container);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ehal_be_object o;
    if (read_object(b, s, false, &o) != 0) {
      sqlite3_reset(s);
      return -1;
    }
    int r = fn(user, &o);
    if (r) {
      sqlite3_reset(s);
      return r;
    }
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : fail(b, "cannot scan objects");
}

static int be_usage(ehal_backend *b, ehal_be_usage *out) {
  memset(out, 0, sizeof *out);
  sqlite3_stmt *s = stmt(b, S_USAGE);
  if (!s) return -1;
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return fail(b, "cannot read usage");
  }
  out->containers = (uint64_t)sqlite3_column_int64(s, 0);
  out->objects = (uint64_t)sqlite3_column_int64(s, 1);
  out->bytes = (uint64_t)sqlite3_column_int64(s, 2);
  sqlite3_reset(s);
  return 0;
}

/* In WAL mode, NORMAL writes a commit to the WAL without an fsync: the
 * OS holds it across a crash of the process.  The next FULL commit syncs
 * the WAL, and with it every commit before. */
static int be_set_durable(ehal_backend *b, bool full) {
  return sqlite3_exec(b->db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL,
                      NULL, NULL) == SQLITE_OK
             ? 0
             : -1;
}

const ehal_backend_ops ehal_backend_sqlite = {
    .name = "sqlite",
    .open = be_open,
    .close = be_close,
    .errmsg = be_errmsg,
    .begin = be_begin,
    .commit = be_commit,
    .rollback = be_rollback,
    .container_by_name = be_container_by_name,
    .container_by_id = be_container_by_id,
    .container_insert = be_container_insert,
    .container_update = be_container_update,
    .container_delete = be_container_delete,
    .container_scan = be_container_scan,
    .object_get = be_object_get,
    .object_put = be_object_put,
    .object_delete = be_object_delete,
    .object_scan = be_object_scan,
    .usage = be_usage,
    .set_durable = be_set_durable,
};

/* ---- operators' listing ---- */

/* Opens an existing database for reading: never creates anything, and
 * falls back to read-only if we may not write (WAL readers need the -shm
 * file, which a read-only opener can use when it exists). */
static sqlite3 *open_existing(const char *path, char *err, size_t errlen) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    db = NULL;
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL);
  }
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
  return db;
}

/* The workload a database belongs to (malloc'd); NULL, with *fresh set,
 * for a database whose schema is not written yet (being created). */
static char *db_workload(sqlite3 *db, bool *fresh) {
  sqlite3_stmt *s = NULL;
  char *w = NULL;
  *fresh = false;
  if (sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE k='workload'", -1, &s, NULL) != SQLITE_OK) {
    *fresh = strstr(sqlite3_errmsg(db), "no such table") != NULL;
    return NULL;
  }
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    w = strdup((const char *)sqlite3_column_text(s, 0));
  else
    *fresh = true;
  sqlite3_finalize(s);
  return w;
}

int ehal_backend_sqlite_usage(const char *state_dir, const char *workload, ehal_be_usage *out,
                              char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  char path[4300];
  if (ehal_backend_sqlite_path(state_dir, workload, path, sizeof path) != 0) {
    snprintf(err, errlen, "state directory path too long");
    return -1;
  }
  int have = ehal_secure_subdir(state_dir, "storage", false, err, errlen);
  if (have < 0) return -1;
  if (have > 0) return 0; /* never stored anything */
  struct stat st;
  if (lstat(path, &st) != 0 && errno == ENOENT) return 0; /* never stored anything */
  if (check_db_files(path, err, errlen) != 0) return -1;
  sqlite3 *db = open_existing(path, err, errlen);
  if (!db) return -1;
  int result = 0;
  bool fresh;
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  char *w = db_workload(db, &fresh);
  sqlite3_stmt *s = NULL;
  if (!w) {
    if (!fresh) {
      snprintf(err, errlen, "%s is not a storage database", path);
      result = -1;
    }
  } else if (strcmp(w, workload) != 0) {
    snprintf(err, errlen, "%s belongs to another workload", path);
    result = -1;
  } else if (sqlite3_prepare_v2(db, SQL[S_USAGE], -1, &s, NULL) != SQLITE_OK ||
             sqlite3_step(s) != SQLITE_ROW) {
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    result = -1;
  } else {
    out->containers = (uint64_t)sqlite3_column_int64(s, 0);
    out->objects = (uint64_t)sqlite3_column_int64(s, 1);
    out->bytes = (uint64_t)sqlite3_column_int64(s, 2);
  }
  sqlite3_finalize(s);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  free(w);
  return result;
}

static int list_one(const char *path, int (*fn)(void *, const ehal_be_listing *), void *user,
                    char *err, size_t errlen) {
  sqlite3 *db = open_existing(path, err, errlen);
  if (!db) return -1;
  int rc;
  sqlite3_stmt *s = NULL;
  int result = 0;
  bool fresh;
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  char *workload = db_workload(db, &fresh);
  if (!workload) {
    /* a database being created has nothing to list yet; anything else
     * under that name is not ours */
    if (!fresh) {
      snprintf(err, errlen, "%s is not a storage database: %s", path, sqlite3_errmsg(db));
      result = -1;
    }
    goto out;
  }
  static const char q[] =
      "SELECT c.name, c.version, c.created_at, c.flags,"
      " (SELECT COUNT(*) FROM objects o WHERE o.container=c.id),"
      " (SELECT COALESCE(SUM(o.size),0) FROM objects o WHERE o.container=c.id),"
      " (SELECT COALESCE(SUM(length(o.hdr)+length(o.dnonce)+length(o.dtag)+length(o.data)),0)"
      "  FROM objects o WHERE o.container=c.id)"
      " FROM containers c ORDER BY c.name";
  if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    result = -1;
    goto out;
  }
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ehal_be_listing row = {0};
    row.db_path = path;
    row.workload = workload;
    row.name = (const char *)sqlite3_column_text(s, 0);
    if (!row.name) row.name = "";
    row.version = (uint64_t)sqlite3_column_int64(s, 1);
    row.created_at = (uint64_t)sqlite3_column_int64(s, 2);
    row.keyed = (sqlite3_column_int64(s, 3) & EHAL_CONTAINER_KEYED) != 0;
    row.objects = (uint64_t)sqlite3_column_int64(s, 4);
    row.bytes = (uint64_t)sqlite3_column_int64(s, 5);
    row.stored_bytes = (uint64_t)sqlite3_column_int64(s, 6);
    if ((result = fn(user, &row)) != 0) break;
  }
  if (result == 0 && rc != SQLITE_DONE) {
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    result = -1;
  }
out:
  sqlite3_finalize(s);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  free(workload);
  return result;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int ehal_backend_sqlite_list(const char *state_dir,
                             int (*fn)(void *user, const ehal_be_listing *row), void *user,
                             char *err, size_t errlen) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/storage", state_dir);
  /* nothing created here; what exists must be ours alone */
  int have = ehal_secure_subdir(state_dir, "storage", false, err, errlen);
  if (have < 0) return -1;
  if (have > 0) return 0; /* nothing stored yet */
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return 0; /* nothing stored yet */
    snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 6 || strncmp(e->d_name, "w-", 2) != 0 || strcmp(e->d_name + l - 3, ".db") != 0)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) break;
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name))) break;
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_str);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (rc == 0) rc = check_db_files(path, err, errlen);
    if (rc == 0) rc = list_one(path, fn, user, err, errlen);
    free(names[i]);
  }
  free(names);
  return rc;
}
