/*
 * store.h - encrypted, integrity-protected object storage for one workload
 * (the engine under elastic:storage; design and threat model in
 * docs/storage.md).
 *
 * An ehal_store is one workload's view of its namespace through a backend
 * (backend.h).  Containers are opened into ehal_store_container objects,
 * shared by every handle of the same store that names the same container.
 * Every call runs in one backend transaction and first brings the
 * container's verified state up to date (see sync_container in store.c).
 *
 * Every function returns an ehal_store_status (0 = EHAL_STORE_OK) and, on
 * failure, a message in e->msg that starts with the category:
 *   "not found: ", "already exists: ", "integrity error: ",
 *   "limit exceeded: ", "invalid argument: ", "key error: ",
 *   "unsupported: ", "storage error: ", "conflict: ".
 * An integrity error means that what the store holds is not what this HAL
 * wrote (tampered, swapped, truncated, rolled back): no data is returned.
 */
#ifndef EHAL_STORAGE_STORE_H
#define EHAL_STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

typedef enum {
  EHAL_STORE_OK = 0,
  EHAL_STORE_NOTFOUND,
  EHAL_STORE_EXISTS,
  EHAL_STORE_INTEGRITY,
  EHAL_STORE_LIMIT,
  EHAL_STORE_INVALID,
  EHAL_STORE_KEY,
  EHAL_STORE_UNSUPPORTED,
  EHAL_STORE_IO,
  EHAL_STORE_CONFLICT, /* ehal_store_apply_at: the container is not at the expected version */
} ehal_store_status;

typedef struct {
  ehal_store_status code;
  char msg[600];
} ehal_store_err;

#define EHAL_STORE_KEY_MAX 1024     /* object key, bytes */
#define EHAL_STORE_CTYPE_MAX 255    /* content type, bytes */
#define EHAL_STORE_WORKLOAD_MAX 512 /* workload name, bytes */
#define EHAL_STORE_DEFAULT_CTYPE "application/octet-stream"
/* Bytes each object counts against the workload's quota on top of its data:
 * its sealed header (key, content type), nonces, tags and index row. */
#define EHAL_STORE_OBJECT_CHARGE 2048u
/* Changes per container: each seals two messages (header, data) under the
 * container key with random 96-bit nonces, and 2^32 messages is where
 * AES-GCM with random nonces should stop (NIST SP 800-38D, 8.3). */
#define EHAL_STORE_MAX_VERSION (1ull << 31)

typedef struct {
  uint64_t max_object_bytes;          /* default 16 MiB */
  uint64_t max_objects_per_container; /* default 100000 */
  uint64_t max_bytes_per_workload;    /* data bytes over all containers, plus
                                        EHAL_STORE_OBJECT_CHARGE per object; default 1 GiB */
  uint64_t max_containers;            /* per workload; default 1024 */
} ehal_store_limits;

void ehal_store_default_limits(ehal_store_limits *l);

typedef struct {
  uint64_t version; /* container version at which this object was stored */
  uint64_t size;
  uint64_t created_at; /* seconds since the Unix epoch */
  char content_type[EHAL_STORE_CTYPE_MAX + 1];
} ehal_store_meta;

typedef struct ehal_store ehal_store;
typedef struct ehal_store_container ehal_store_container;

/* Opens the workload's namespace with the given backend (NULL: SQLite) and
 * limits (NULL: defaults).  Obtains the platform sealing root. */
ehal_store *ehal_store_open(const char *state_dir, const char *workload,
                            const ehal_backend_ops *backend, const ehal_store_limits *limits,
                            ehal_store_err *e);
/* Releases everything, including containers still referenced. */
void ehal_store_close(ehal_store *s);

/* create: error if the name exists; open: error if it does not. */
ehal_store_status ehal_store_container_create(ehal_store *s, const char *name, size_t len,
                                              ehal_store_container **out, ehal_store_err *e);
ehal_store_status ehal_store_container_open(ehal_store *s, const char *name, size_t len,
                                            ehal_store_container **out, ehal_store_err *e);
/* Drops one reference (from create or open). */
/* Containers the HAL keeps for itself (a sealed directory, src/fs/): the
 * name is EHAL_STORE_VOLUME_PREFIX + name, which no guest-facing call can
 * give (they refuse control characters).  create: make it if missing. */
#define EHAL_STORE_VOLUME_PREFIX "\001fs:"
ehal_store_status ehal_store_volume_open(ehal_store *s, const char *name, size_t len, bool create,
                                         ehal_store_container **out, ehal_store_err *e);
void ehal_store_container_release(ehal_store_container *c);
/* Deletes the container and all its objects.  Works on a container that
 * fails verification, so a workload can discard it.  c stays allocated
 * (every later call on it is "not found") until released. */
ehal_store_status ehal_store_container_delete(ehal_store_container *c, ehal_store_err *e);
const char *ehal_store_container_name(const ehal_store_container *c);

/* Stores (or replaces) an object; *version gets the container version the
 * write committed at.  ctype NULL: the default content type. */
ehal_store_status ehal_store_put(ehal_store_container *c, const char *key, size_t keylen,
                                 const uint8_t *data, size_t len, const char *ctype, size_t ctlen,
                                 uint64_t *version, ehal_store_err *e);
/* Reads an object: its plaintext goes into memory from alloc(user, size)
 * (never called with 0), returned in *data / *len; meta may be NULL.
 * alloc is called only once the object's row is known to be the trusted
 * one; if the data then fails authentication, the memory (zeroed) is still
 * returned in *data, with *len 0, for the caller to release. */
ehal_store_status ehal_store_get(ehal_store_container *c, const char *key, size_t keylen,
                                 void *(*alloc)(void *user, size_t n), void *user, uint8_t **data,
                                 size_t *len, ehal_store_meta *meta, ehal_store_err *e);
ehal_store_status ehal_store_stat(ehal_store_container *c, const char *key, size_t keylen,
                                  ehal_store_meta *meta, ehal_store_err *e);
/* One change of a batch: store (or replace) key with data and content type
 * (ctype NULL: the default), or, with del, delete key. */
typedef struct {
  const char *key;
  size_t keylen;
  const uint8_t *data;
  size_t len;
  const char *ctype;
  size_t ctlen;
  bool del;
  bool if_present; /* del: a missing key is no error (and no change) */
} ehal_store_op;
#define EHAL_STORE_APPLY_MAX 1024                     /* changes in one batch */
#define EHAL_STORE_APPLY_MAX_BYTES (64 * 1024 * 1024) /* data one batch writes */
/* Applies n changes (each key at most once) as one: one transaction, and
 * on any failure none of them.  The container's version advances by the
 * number of puts (at least 1: it counts sealed messages, see
 * EHAL_STORE_MAX_VERSION) and *version gets the new one.  Deletes are
 * staged first, so the limits see what the batch frees.  Put and delete
 * are batches of one, with the same checks and errors.  What a workload
 * keeps in several objects that must change together (a file's chunks and
 * its index) changes with this, so a crash leaves either the old state or
 * the new one. */
ehal_store_status ehal_store_apply(ehal_store_container *c, const ehal_store_op *ops, size_t n,
                                   uint64_t *version, ehal_store_err *e);
/* ehal_store_apply, only if the container is still at version expect
 * (checked in the transaction): EHAL_STORE_CONFLICT, "conflict: ...",
 * otherwise.  How one writer that caches a container's state (a sealed
 * directory) never overwrites another's changes. */
ehal_store_status ehal_store_apply_at(ehal_store_container *c, uint64_t expect,
                                      const ehal_store_op *ops, size_t n, uint64_t *version,
                                      ehal_store_err *e);
ehal_store_status ehal_store_delete(ehal_store_container *c, const char *key, size_t keylen,
                                    ehal_store_err *e);

/* Lists objects in key-id order (stable, unrelated to the keys' order).
 * cursor "" (or NULL) starts at the beginning; limit 0 lists everything.
 * next_cursor gets "" when the listing is complete, else the cursor of the
 * next page.  fn returns non-zero to stop (EHAL_STORE_OK is returned). */
#define EHAL_STORE_CURSOR_LEN (2 * EHAL_KID_LEN)
typedef int (*ehal_store_list_fn)(void *user, const char *key, size_t keylen,
                                  const ehal_store_meta *meta);
ehal_store_status ehal_store_list(ehal_store_container *c, const char *cursor, size_t cursorlen,
                                  uint32_t limit, ehal_store_list_fn fn, void *user,
                                  char next_cursor[EHAL_STORE_CURSOR_LEN + 1], ehal_store_err *e);

/* The container's current (verified) version. */
ehal_store_status ehal_store_version(ehal_store_container *c, uint64_t *version, ehal_store_err *e);

/* Gives the container the workload's own key (16 to 1024 bytes; see
 * seal.h): an empty unkeyed container becomes keyed by it; a keyed one is
 * unlocked if it is the same key.  Until then, a keyed container's objects
 * can be neither read nor written ("key error"). */
ehal_store_status ehal_store_load_key(ehal_store_container *c, const uint8_t *key, size_t len,
                                      ehal_store_err *e);

/* Usage of a workload's storage, from the container rows (nothing is
 * decrypted): for the resources interface's quotas.  A workload that
 * never stored anything has all zeros.  Returns 0 or -1 with a message. */
int ehal_storage_usage(const char *state_dir, const char *workload, ehal_be_usage *out, char *err,
                       size_t errlen);

/* Changes an open store's quota (max_bytes_per_workload): a resources
 * grant raises it, giving one back lowers it. */
void ehal_store_set_quota(ehal_store *s, uint64_t bytes);

/* Whether a change is durable against a power cut when it returns (full,
 * the default, what the storage interface promises) or only against a
 * crash of the process until the next full one, which makes every earlier
 * change durable too (a sealed directory between two fd_syncs).  For this
 * store's later calls; 0, or -1 if the backend could not switch. */
int ehal_store_set_durable(ehal_store *s, bool full);

/* Limits the storage interface gives the stores it opens (process-wide). */
void ehal_storage_set_limits(const ehal_store_limits *l);
void ehal_storage_get_limits(ehal_store_limits *l);

#endif
