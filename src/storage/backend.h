/*
 * backend.h - the storage backend seam.
 *
 * A backend keeps rows of ciphertext and never sees a key, an object key in
 * clear, a content type or any plaintext: sealing, key ids and integrity
 * (src/storage/store.c, seal.c) sit above this seam.  It stores, for one
 * workload's namespace:
 *
 *   container rows  name (clear: operators see it), random container id,
 *                   version, usage counters, state digest and MAC
 *   object rows     key id (HMAC of the object key), version, size,
 *                   created-at, sealed header, data nonce, data tag and
 *                   data ciphertext
 *
 * What a backend must provide:
 *   - transactions: begin(write) ... commit, or rollback; every read and
 *     write of one HAL call happens inside one transaction, which sees one
 *     consistent snapshot; a write transaction excludes other writers of
 *     the same namespace; commit returns only once the transaction is
 *     durable (survives a crash of the process and a power cut).
 *   - point reads and writes of the rows above, a scan of a container's
 *     object rows in key-id order, and usage sums (no decryption).
 *
 * The embedded backend is SQLite (backend_sqlite.c).  A networked store
 * would implement the same table (transactions as compare-and-swap on the
 * container row's version, for instance) without touching store.c.
 *
 * Return convention: 0 on success, EHAL_BE_NOTFOUND where stated, -1 on
 * failure with a message in the backend's error buffer (be_errmsg).
 * Pointers in rows a backend returns stay valid until the next call on the
 * same backend.
 */
#ifndef EHAL_STORAGE_BACKEND_H
#define EHAL_STORAGE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EHAL_BE_NOTFOUND 1

#define EHAL_CID_LEN 16 /* random container id */
#define EHAL_KID_LEN 32 /* object key id: HMAC-SHA-256 of the key */
#define EHAL_TAG_LEN 16 /* AES-GCM tag */
#define EHAL_NONCE_LEN 12
#define EHAL_MAC_LEN 32
#define EHAL_CONTAINER_NAME_MAX 255
#define EHAL_CONTAINER_KEYED 1u /* flags: keyed by a workload key context */

typedef struct {
  int64_t id; /* backend row id, 0 before insert */
  char name[EHAL_CONTAINER_NAME_MAX + 1];
  uint8_t cid[EHAL_CID_LEN];
  uint64_t created_at;
  uint64_t version;
  uint64_t objects, bytes; /* count and plaintext bytes of its objects */
  uint32_t flags;          /* EHAL_CONTAINER_KEYED */
  uint8_t key_check[EHAL_MAC_LEN];
  uint8_t digest[EHAL_MAC_LEN];
  uint8_t mac[EHAL_MAC_LEN];
} ehal_be_container;

typedef struct {
  uint8_t kid[EHAL_KID_LEN];
  uint64_t version, size, created_at;
  const uint8_t *hdr; /* nonce || sealed (key, content type) || tag */
  size_t hdr_len;
  uint8_t dnonce[EHAL_NONCE_LEN];
  uint8_t dtag[EHAL_TAG_LEN];
  const uint8_t *data; /* data ciphertext (NULL unless asked for) */
  size_t data_len;
} ehal_be_object;

/* Usage of one namespace or container, as the rows say (unverified). */
typedef struct {
  uint64_t containers, objects, bytes, stored_bytes;
} ehal_be_usage;

typedef struct ehal_backend ehal_backend;

typedef struct ehal_backend_ops {
  const char *name;
  /* Open (creating if needed) the namespace of one workload. */
  ehal_backend *(*open)(const char *state_dir, const char *workload, char *err, size_t errlen);
  void (*close)(ehal_backend *b);
  const char *(*errmsg)(ehal_backend *b);

  int (*begin)(ehal_backend *b, bool write);
  int (*commit)(ehal_backend *b);
  void (*rollback)(ehal_backend *b);

  /* EHAL_BE_NOTFOUND when absent. */
  int (*container_by_name)(ehal_backend *b, const char *name, ehal_be_container *out);
  int (*container_by_id)(ehal_backend *b, int64_t id, ehal_be_container *out);
  /* Sets c->id.  EHAL_BE_NOTFOUND is never returned; a duplicate name is -1. */
  int (*container_insert)(ehal_backend *b, ehal_be_container *c);
  int (*container_update)(ehal_backend *b, const ehal_be_container *c);
  /* Removes the container row and every object row of it. */
  int (*container_delete)(ehal_backend *b, int64_t id);
  /* Rows of every container, for usage (callback returns non-zero to stop). */
  int (*container_scan)(ehal_backend *b, int (*fn)(void *user, const ehal_be_container *c),
                        void *user);

  /* EHAL_BE_NOTFOUND when absent; data only when with_data. */
  int (*object_get)(ehal_backend *b, int64_t container, const uint8_t kid[EHAL_KID_LEN],
                    bool with_data, ehal_be_object *out);
  /* Insert or replace the row with this key id. */
  int (*object_put)(ehal_backend *b, int64_t container, const ehal_be_object *o);
  /* EHAL_BE_NOTFOUND when absent. */
  int (*object_delete)(ehal_backend *b, int64_t container, const uint8_t kid[EHAL_KID_LEN]);
  /* Every object row of a container, without data, in key-id order. */
  int (*object_scan)(ehal_backend *b, int64_t container,
                     int (*fn)(void *user, const ehal_be_object *o), void *user);

  /* Sums over the namespace from the container rows (unverified). */
  int (*usage)(ehal_backend *b, ehal_be_usage *out);
  /* full (the default): a commit survives a power cut when it returns;
   * otherwise only a crash of the process, until the next full commit,
   * which makes every earlier one durable too.  NULL: always full. */
  int (*set_durable)(ehal_backend *b, bool full);
} ehal_backend_ops;

extern const ehal_backend_ops ehal_backend_sqlite;

/* Where the SQLite backend keeps a workload's database:
 * STATE_DIR/storage/w-<32 hex digits of SHA-256(workload)>.db */
int ehal_backend_sqlite_path(const char *state_dir, const char *workload, char *out, size_t outlen);

/* A workload's usage from its container rows, without creating or
 * changing anything (zeros if it never stored anything).  0 or -1. */
int ehal_backend_sqlite_usage(const char *state_dir, const char *workload, ehal_be_usage *out,
                              char *err, size_t errlen);

/* For operators (elastic-hal storage list): every container of every
 * workload database under STATE_DIR/storage, from the rows alone (nothing
 * is decrypted or verified).  objects/bytes/stored are counted from the
 * object rows.  Returns 0, or -1 with a message. */
typedef struct {
  const char *db_path;
  const char *workload;
  const char *name;
  uint64_t version, created_at, objects, bytes, stored_bytes;
  bool keyed;
} ehal_be_listing;
int ehal_backend_sqlite_list(const char *state_dir,
                             int (*fn)(void *user, const ehal_be_listing *row), void *user,
                             char *err, size_t errlen);

#endif
