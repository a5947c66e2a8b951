/*
 * store.c - encrypted, integrity-protected object storage (see store.h and
 * docs/storage.md).
 *
 * Integrity, in short.  Each object row carries (key id, version, size,
 * created-at, sealed header, data nonce, data tag, data ciphertext).  The
 * header (object key, content type) and the data are sealed with
 * AES-256-GCM under the container's key; the associated data binds the
 * container id, key id, version, size and created-at (and the data's AD
 * also the header's tag).  The container row carries its version V (bumped
 * by every change), object count, byte count, flags, key check and a state
 * digest: the sum mod 2^256 of HMAC(mac key, entry) over every object's
 * entry (key id, version, size, created-at, header tag, data tag), a keyed
 * additive multiset hash that is updated in O(1) per change; the row is
 * MAC'd as a whole.  A container's object rows are verified against the
 * digest when it is first used by a process (one pass over the small
 * columns) and kept as a sorted table of trusted entries; every later
 * transaction re-reads the container row, checks its MAC and that V did
 * not go back, and re-verifies everything only if V moved (another process
 * of the same workload wrote).  Each object read compares its row with the
 * trusted entry and then authenticates the ciphertext.  So a row that is
 * flipped, truncated, swapped with another key's or container's, renamed,
 * deleted, injected or replaced by an older version of itself is an
 * integrity error.  A consistent older copy of a whole container (or of
 * the whole store) is not detectable from inside it: the version is
 * exposed so a workload can anchor it elsewhere, and a running process
 * refuses to see a container's version go back.
 */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../attest/sealing.h"
#include "../util/byteorder.h"
#include "../util/hex.h"
#include "seal.h"

/* ---- limits ---- */

void ehal_store_default_limits(ehal_store_limits *l) {
  l->max_object_bytes = 16u << 20;
  l->max_objects_per_container = 100000;
  l->max_bytes_per_workload = 1ull << 30;
  l->max_containers = 1024;
}

static pthread_mutex_t g_limits_lock = PTHREAD_MUTEX_INITIALIZER;
static ehal_store_limits g_limits;
static bool g_limits_set;

void ehal_storage_set_limits(const ehal_store_limits *l) {
  pthread_mutex_lock(&g_limits_lock);
  if (l)
    g_limits = *l;
  else
    ehal_store_default_limits(&g_limits);
  g_limits_set = true;
  pthread_mutex_unlock(&g_limits_lock);
}

void ehal_storage_get_limits(ehal_store_limits *l) {
  pthread_mutex_lock(&g_limits_lock);
  if (!g_limits_set) {
    ehal_store_default_limits(&g_limits);
    g_limits_set = true;
  }
  *l = g_limits;
  pthread_mutex_unlock(&g_limits_lock);
}

/* ---- structures ---- */

typedef struct {
  uint8_t kid[EHAL_KID_LEN];
  uint64_t version, size, created_at;
  uint8_t htag[EHAL_TAG_LEN], dtag[EHAL_TAG_LEN];
} entry;

struct ehal_store_container {
  ehal_store *s;
  ehal_store_container *next;
  int refs;
  bool deleted;
  int64_t id;
  char name[EHAL_CONTAINER_NAME_MAX + 1];
  uint8_t cid[EHAL_CID_LEN];
  uint64_t created_at;
  ehal_container_keys pk; /* platform keys */
  ehal_container_keys k;  /* effective keys: pk, or the workload-keyed ones */
  bool unlocked;          /* k holds the workload-keyed keys */

  /* the verified state (valid) and the highest version ever verified */
  bool valid;
  uint64_t hwm;
  uint64_t version, objects, bytes;
  uint32_t flags;
  uint8_t key_check[EHAL_MAC_LEN];
  uint8_t digest[EHAL_MAC_LEN];
  uint8_t mac[EHAL_MAC_LEN]; /* of the verified row */
  entry *ents;               /* sorted by kid */
  size_t n, cap;
};

struct ehal_store {
  const ehal_backend_ops *ops;
  ehal_backend *be;
  char *workload;
  uint8_t root[EHAL_SEALING_ROOT_LEN];
  ehal_store_limits lim;
  ehal_store_container *open;
};

/* ---- errors ---- */

static const char *const CATEGORY[] = {
    [EHAL_STORE_OK] = "",
    [EHAL_STORE_NOTFOUND] = "not found: ",
    [EHAL_STORE_EXISTS] = "already exists: ",
    [EHAL_STORE_INTEGRITY] = "integrity error: ",
    [EHAL_STORE_LIMIT] = "limit exceeded: ",
    [EHAL_STORE_INVALID] = "invalid argument: ",
    [EHAL_STORE_KEY] = "key error: ",
    [EHAL_STORE_UNSUPPORTED] = "unsupported: ",
    [EHAL_STORE_IO] = "storage error: ",
    [EHAL_STORE_CONFLICT] = "conflict: ",
};

__attribute__((format(printf, 3, 4))) static ehal_store_status fail(ehal_store_err *e,
                                                                    ehal_store_status code,
                                                                    const char *fmt, ...) {
  e->code = code;
  size_t n = strlen(CATEGORY[code]);
  memcpy(e->msg, CATEGORY[code], n + 1);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
  va_end(ap);
  return code;
}

/* A backend failure; its messages about malformed rows are integrity errors. */
static ehal_store_status be_fail(ehal_store *s, ehal_store_err *e, const char *what) {
  const char *m = s->ops->errmsg(s->be);
  static const char ip[] = "integrity error: ";
  if (!strncmp(m, ip, sizeof ip - 1)) return fail(e, EHAL_STORE_INTEGRITY, "%s", m + sizeof ip - 1);
  /* the backend's message says what failed; `what` only if it said nothing */
  return *m ? fail(e, EHAL_STORE_IO, "%s", m) : fail(e, EHAL_STORE_IO, "%s", what);
}

/* An object key for messages: at most 64 bytes (cut at a character
 * boundary, so the message stays valid UTF-8), control bytes as '?'. */
static const char *show_key(char buf[80], const char *key, size_t len) {
  size_t n = len > 64 ? 64 : len;
  if (len > 64)
    while (n && ((unsigned char)key[n] & 0xC0) == 0x80) n--;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)key[i];
    buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
  }
  if (len > 64) {
    memcpy(buf + n, "...", 4);
  } else {
    buf[n] = 0;
  }
  return buf;
}

/* ---- little helpers ---- */

static uint64_t now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec;
}

static bool name_ok(const char *s, size_t len, size_t max, bool allow_control) {
  if (len == 0 || len > max) return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == 0) return false;
    if (!allow_control && (ch < 0x20 || ch == 0x7f)) return false;
  }
  return true;
}

static ehal_store_status check_key(const char *key, size_t len, ehal_store_err *e) {
  if (len == 0) return fail(e, EHAL_STORE_INVALID, "an object key must not be empty");
  if (len > EHAL_STORE_KEY_MAX)
    return fail(e, EHAL_STORE_INVALID, "object key of %zu bytes is longer than %d bytes", len,
                EHAL_STORE_KEY_MAX);
  if (memchr(key, 0, len)) return fail(e, EHAL_STORE_INVALID, "an object key must not contain NUL");
  return EHAL_STORE_OK;
}

/* ---- the container MAC and entries ---- */

static void container_mac(const ehal_store_container *c, const ehal_be_container *r,
                          uint8_t out[EHAL_MAC_LEN]) {
  uint8_t f[8 * 4 + 4];
  ehal_put_u64(f, r->created_at);
  ehal_put_u64(f + 8, r->version);
  ehal_put_u64(f + 16, r->objects);
  ehal_put_u64(f + 24, r->bytes);
  f[32] = (uint8_t)r->flags;
  f[33] = (uint8_t)(r->flags >> 8);
  f[34] = (uint8_t)(r->flags >> 16);
  f[35] = (uint8_t)(r->flags >> 24);
  /* name and workload are bound through the key derivation */
  ehal_seal_hmac(c->pk.mac, out, 5, "container v1", (size_t)12, r->cid, (size_t)EHAL_CID_LEN, f,
                 sizeof f, r->key_check, (size_t)EHAL_MAC_LEN, r->digest, (size_t)EHAL_MAC_LEN);
}

static void entry_prf(const ehal_store_container *c, const entry *en, uint8_t out[EHAL_MAC_LEN]) {
  uint8_t f[24];
  ehal_put_u64(f, en->version);
  ehal_put_u64(f + 8, en->size);
  ehal_put_u64(f + 16, en->created_at);
  ehal_seal_hmac(c->pk.mac, out, 5, "entry v1", (size_t)8, en->kid, (size_t)EHAL_KID_LEN, f,
                 sizeof f, en->htag, (size_t)EHAL_TAG_LEN, en->dtag, (size_t)EHAL_TAG_LEN);
}

/* Associated data of an object's header ('h') or data ('d'). */
static size_t object_ad(const ehal_store_container *c, char part, const uint8_t *kid,
                        uint64_t version, uint64_t size, uint64_t created, const uint8_t *htag,
                        uint8_t *ad) {
  size_t o = 0;
  memcpy(ad, "ehal-storage-object-v1", 22);
  o += 22;
  ad[o++] = (uint8_t)part;
  memcpy(ad + o, c->cid, EHAL_CID_LEN);
  o += EHAL_CID_LEN;
  memcpy(ad + o, kid, EHAL_KID_LEN);
  o += EHAL_KID_LEN;
  ehal_put_u64(ad + o, version);
  ehal_put_u64(ad + o + 8, size);
  ehal_put_u64(ad + o + 16, created);
  o += 24;
  if (htag) {
    memcpy(ad + o, htag, EHAL_TAG_LEN);
    o += EHAL_TAG_LEN;
  }
  return o;
}
#define AD_MAX (22 + 1 + EHAL_CID_LEN + EHAL_KID_LEN + 24 + EHAL_TAG_LEN)

static const uint8_t *hdr_tag(const ehal_be_object *o) {
  return o->hdr + o->hdr_len - EHAL_TAG_LEN;
}

static ptrdiff_t find_entry(const ehal_store_container *c, const uint8_t kid[EHAL_KID_LEN],
                            size_t *pos) {
  size_t lo = 0, hi = c->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = memcmp(c->ents[mid].kid, kid, EHAL_KID_LEN);
    if (r == 0) {
      if (pos) *pos = mid;
      return (ptrdiff_t)mid;
    }
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (pos) *pos = lo;
  return -1;
}

/* ---- verifying a container's state ---- */

typedef struct {
  ehal_store_container *c;
  entry *ents;
  size_t n, cap;
  uint64_t bytes, max_version;
  uint8_t digest[EHAL_MAC_LEN];
  bool bad_order, bad_row, oom;
} scan_state;

static int scan_one(void *user, const ehal_be_object *o) {
  scan_state *st = user;
  if (o->hdr_len < EHAL_NONCE_LEN + EHAL_TAG_LEN + 4) {
    st->bad_row = true;
    return 1;
  }
  if (st->n && memcmp(st->ents[st->n - 1].kid, o->kid, EHAL_KID_LEN) >= 0) {
    st->bad_order = true;
    return 1;
  }
  if (st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 64;
    entry *ne = realloc(st->ents, cap * sizeof *ne);
    if (!ne) {
      st->oom = true;
      return 1;
    }
    st->ents = ne;
    st->cap = cap;
  }
  entry *en = &st->ents[st->n++];
  memcpy(en->kid, o->kid, EHAL_KID_LEN);
  en->version = o->version;
  en->size = o->size;
  en->created_at = o->created_at;
  memcpy(en->htag, hdr_tag(o), EHAL_TAG_LEN);
  memcpy(en->dtag, o->dtag, EHAL_TAG_LEN);
  uint8_t prf[EHAL_MAC_LEN];
  entry_prf(st->c, en, prf);
  ehal_digest_add(st->digest, prf);
  st->bytes += o->size;
  if (o->version > st->max_version) st->max_version = o->version;
  return 0;
}

static void adopt_row(ehal_store_container *c, const ehal_be_container *r) {
  c->version = r->version;
  c->objects = r->objects;
  c->bytes = r->bytes;
  c->flags = r->flags;
  memcpy(c->key_check, r->key_check, EHAL_MAC_LEN);
  memcpy(c->digest, r->digest, EHAL_MAC_LEN);
  memcpy(c->mac, r->mac, EHAL_MAC_LEN);
  if (r->version > c->hwm) c->hwm = r->version;
  if (!(r->flags & EHAL_CONTAINER_KEYED) && c->unlocked) c->unlocked = false;
  if (!c->unlocked) c->k = c->pk;
  c->valid = true;
}

/* Inside a transaction: make c's verified state that of the store, or
 * report why it cannot be trusted. */
static ehal_store_status sync_container(ehal_store_container *c, ehal_be_container *row,
                                        ehal_store_err *e) {
  ehal_store *s = c->s;
  if (c->deleted) return fail(e, EHAL_STORE_NOTFOUND, "container '%s' was deleted", c->name);
  int rc = s->ops->container_by_id(s->be, c->id, row);
  if (rc < 0) return be_fail(s, e, "cannot read the container");
  if (rc == EHAL_BE_NOTFOUND || strcmp(row->name, c->name) != 0 ||
      memcmp(row->cid, c->cid, EHAL_CID_LEN) != 0) {
    c->valid = false;
    return fail(e, EHAL_STORE_NOTFOUND,
                "container '%s' no longer exists (deleted since it was opened)", c->name);
  }
  /* the row we verified last, unchanged: no need to recompute its MAC */
  bool same_row = c->valid && row->version == c->version && row->objects == c->objects &&
                  row->bytes == c->bytes && row->flags == c->flags &&
                  row->created_at == c->created_at &&
                  !memcmp(row->digest, c->digest, EHAL_MAC_LEN) &&
                  !memcmp(row->key_check, c->key_check, EHAL_MAC_LEN) &&
                  !memcmp(row->mac, c->mac, EHAL_MAC_LEN);
  if (same_row) return EHAL_STORE_OK;
  uint8_t mac[EHAL_MAC_LEN];
  container_mac(c, row, mac);
  if (!ehal_ct_equal(mac, row->mac, EHAL_MAC_LEN) || row->created_at != c->created_at) {
    c->valid = false;
    return fail(e, EHAL_STORE_INTEGRITY,
                "the state of container '%s' fails authentication (modified outside the HAL)",
                c->name);
  }
  if (row->version < c->hwm) {
    c->valid = false;
    return fail(e, EHAL_STORE_INTEGRITY, "container '%s' was rolled back from version %llu to %llu",
                c->name, (unsigned long long)c->hwm, (unsigned long long)row->version);
  }
  if (c->valid && row->version == c->version) {
    if (row->objects != c->objects || row->bytes != c->bytes || row->flags != c->flags ||
        memcmp(row->digest, c->digest, EHAL_MAC_LEN) != 0 ||
        memcmp(row->key_check, c->key_check, EHAL_MAC_LEN) != 0) {
      c->valid = false;
      return fail(e, EHAL_STORE_INTEGRITY,
                  "container '%s' has two different states at version %llu", c->name,
                  (unsigned long long)row->version);
    }
    return EHAL_STORE_OK;
  }
  /* first use, or another process changed it: verify every entry */
  scan_state st;
  memset(&st, 0, sizeof st);
  st.c = c;
  rc = s->ops->object_scan(s->be, c->id, scan_one, &st);
  ehal_store_status res = EHAL_STORE_OK;
  if (rc < 0) {
    res = be_fail(s, e, "cannot read the container's objects");
  } else if (st.oom) {
    res = fail(e, EHAL_STORE_IO, "out of memory verifying container '%s'", c->name);
  } else if (st.bad_order || st.bad_row) {
    res = fail(e, EHAL_STORE_INTEGRITY, "container '%s' holds malformed or duplicate object rows",
               c->name);
  } else if (st.n != row->objects || st.bytes != row->bytes || st.max_version > row->version ||
             !ehal_ct_equal(st.digest, row->digest, EHAL_MAC_LEN)) {
    res = fail(e, EHAL_STORE_INTEGRITY,
               "the objects of container '%s' do not match its authenticated state (an object "
               "was added, removed, replaced or rolled back outside the HAL)",
               c->name);
  }
  if (res != EHAL_STORE_OK) {
    free(st.ents);
    c->valid = false;
    return res;
  }
  free(c->ents);
  c->ents = st.ents;
  c->n = st.n;
  c->cap = st.cap;
  adopt_row(c, row);
  return EHAL_STORE_OK;
}

/* Begin a transaction and sync; on failure nothing is left open. */
static ehal_store_status begin_sync(ehal_store_container *c, bool write, ehal_be_container *row,
                                    ehal_store_err *e) {
  ehal_store *s = c->s;
  if (c->deleted) return fail(e, EHAL_STORE_NOTFOUND, "container '%s' was deleted", c->name);
  if (s->ops->begin(s->be, write) != 0) return be_fail(s, e, "cannot begin a transaction");
  ehal_store_status st = sync_container(c, row, e);
  if (st != EHAL_STORE_OK) s->ops->rollback(s->be);
  return st;
}

/* Ends a read transaction: commit when st is OK, else roll back. */
static ehal_store_status end_read_store(ehal_store *s, ehal_store_status st, ehal_store_err *e) {
  if (st != EHAL_STORE_OK) {
    s->ops->rollback(s->be);
    return st;
  }
  if (s->ops->commit(s->be) != 0) return be_fail(s, e, "cannot end a transaction");
  return EHAL_STORE_OK;
}

static ehal_store_status end_read(ehal_store_container *c, ehal_store_status st,
                                  ehal_store_err *e) {
  return end_read_store(c->s, st, e);
}

static ehal_store_status need_key(const ehal_store_container *c, ehal_store_err *e) {
  if ((c->flags & EHAL_CONTAINER_KEYED) && !c->unlocked)
    return fail(e, EHAL_STORE_KEY,
                "container '%s' is keyed by a workload key context: load it first", c->name);
  return EHAL_STORE_OK;
}

/* Writes the new container state and commits; on success the verified
 * state becomes nr.  The caller updates the entries afterwards. */
static ehal_store_status commit_state(ehal_store_container *c, ehal_be_container *nr,
                                      ehal_store_err *e) {
  ehal_store *s = c->s;
  if (nr->version > EHAL_STORE_MAX_VERSION) {
    s->ops->rollback(s->be);
    return fail(e, EHAL_STORE_LIMIT,
                "container '%s' has had %llu changes, the most one container key may seal: "
                "copy its objects to a new container",
                c->name, (unsigned long long)EHAL_STORE_MAX_VERSION);
  }
  container_mac(c, nr, nr->mac);
  if (s->ops->container_update(s->be, nr) != 0) {
    ehal_store_status st = be_fail(s, e, "cannot update the container");
    s->ops->rollback(s->be);
    return st;
  }
  if (s->ops->commit(s->be) != 0) {
    /* unknown whether it reached the disk: re-verify on next use */
    c->valid = false;
    return be_fail(s, e, "cannot commit");
  }
  adopt_row(c, nr);
  return EHAL_STORE_OK;
}

/* ---- store ---- */

ehal_store *ehal_store_open(const char *state_dir, const char *workload,
                            const ehal_backend_ops *backend, const ehal_store_limits *limits,
                            ehal_store_err *e) {
  if (!state_dir || !*state_dir) {
    fail(e, EHAL_STORE_UNSUPPORTED, "storage needs a state directory, and none is configured");
    return NULL;
  }
  size_t wl = workload ? strlen(workload) : 0;
  if (!wl) {
    fail(e, EHAL_STORE_UNSUPPORTED, "storage needs a workload name, and none is configured");
    return NULL;
  }
  if (wl > EHAL_STORE_WORKLOAD_MAX) {
    fail(e, EHAL_STORE_INVALID, "workload name of %zu bytes is longer than %d bytes", wl,
         EHAL_STORE_WORKLOAD_MAX);
    return NULL;
  }
  ehal_store *s = calloc(1, sizeof *s);
  if (!s || !(s->workload = strdup(workload))) {
    free(s);
    fail(e, EHAL_STORE_IO, "out of memory");
    return NULL;
  }
  s->ops = backend ? backend : &ehal_backend_sqlite;
  if (limits)
    s->lim = *limits;
  else
    ehal_store_default_limits(&s->lim);
  char err[512];
  if (ehal_sealing_root(state_dir, s->root, err, sizeof err) != 0) {
    fail(e, EHAL_STORE_UNSUPPORTED, "no sealing key for storage encryption: %s", err);
    ehal_store_close(s);
    return NULL;
  }
  s->be = s->ops->open(state_dir, workload, err, sizeof err);
  if (!s->be) {
    static const char ip[] = "integrity error: ";
    if (!strncmp(err, ip, sizeof ip - 1))
      fail(e, EHAL_STORE_INTEGRITY, "%s", err + sizeof ip - 1);
    else
      fail(e, EHAL_STORE_IO, "%s", err);
    ehal_store_close(s);
    return NULL;
  }
  return s;
}

static void container_free(ehal_store_container *c) {
  free(c->ents);
  ehal_seal_cleanse(c, sizeof *c);
  free(c);
}

void ehal_store_close(ehal_store *s) {
  if (!s) return;
  while (s->open) {
    ehal_store_container *c = s->open;
    s->open = c->next;
    container_free(c);
  }
  if (s->be) s->ops->close(s->be);
  free(s->workload);
  ehal_seal_cleanse(s->root, sizeof s->root);
  free(s);
}

const char *ehal_store_container_name(const ehal_store_container *c) { return c->name; }

void ehal_store_set_quota(ehal_store *s, uint64_t bytes) { s->lim.max_bytes_per_workload = bytes; }

int ehal_store_set_durable(ehal_store *s, bool full) {
  return s->ops->set_durable ? s->ops->set_durable(s->be, full) : 0;
}

static ehal_store_status check_name(const char *name, size_t len, ehal_store_err *e) {
  if (!name_ok(name, len, EHAL_CONTAINER_NAME_MAX, false))
    return fail(e, EHAL_STORE_INVALID,
                "a container name must be 1 to %d bytes of UTF-8 without control characters",
                EHAL_CONTAINER_NAME_MAX);
  return EHAL_STORE_OK;
}

static ehal_store_container *container_new(ehal_store *s, const ehal_be_container *r,
                                           ehal_store_err *e) {
  for (ehal_store_container *c = s->open; c; c = c->next) {
    if (c->id == r->id && !c->deleted && !memcmp(c->cid, r->cid, EHAL_CID_LEN)) {
      c->refs++;
      return c;
    }
  }
  ehal_store_container *c = calloc(1, sizeof *c);
  if (!c) {
    fail(e, EHAL_STORE_IO, "out of memory");
    return NULL;
  }
  c->s = s;
  c->refs = 1;
  c->id = r->id;
  strcpy(c->name, r->name);
  memcpy(c->cid, r->cid, EHAL_CID_LEN);
  c->created_at = r->created_at;
  if (ehal_seal_container_keys(s->root, s->workload, c->name, c->cid, &c->pk) != 0) {
    free(c);
    fail(e, EHAL_STORE_IO, "cannot derive the container's keys");
    return NULL;
  }
  c->k = c->pk;
  c->next = s->open;
  s->open = c;
  return c;
}

void ehal_store_container_release(ehal_store_container *c) {
  if (!c || --c->refs > 0) return;
  ehal_store_container **pp = &c->s->open;
  while (*pp && *pp != c) pp = &(*pp)->next;
  if (*pp) *pp = c->next;
  container_free(c);
}

/* create without the name check: the public functions check it, the
 * volume functions make a reserved name no guest can give */
static ehal_store_status container_create(ehal_store *s, const char *name, size_t len,
                                          ehal_store_container **out, ehal_store_err *e) {
  *out = NULL;
  ehal_be_container r;
  memset(&r, 0, sizeof r);
  memcpy(r.name, name, len);
  r.name[len] = 0;
  if (s->ops->begin(s->be, true) != 0) return be_fail(s, e, "cannot begin a transaction");
  ehal_be_container old;
  int rc = s->ops->container_by_name(s->be, r.name, &old);
  ehal_store_status st = EHAL_STORE_OK;
  ehal_be_usage u;
  if (rc < 0 && !strstr(s->ops->errmsg(s->be), "integrity error"))
    st = be_fail(s, e, "cannot read containers");
  else if (rc != EHAL_BE_NOTFOUND)
    st = fail(e, EHAL_STORE_EXISTS, "container '%s' already exists", r.name);
  else if (s->ops->usage(s->be, &u) != 0)
    st = be_fail(s, e, "cannot read usage");
  else if (u.containers >= s->lim.max_containers)
    st = fail(e, EHAL_STORE_LIMIT, "workload '%s' already has the maximum of %llu containers",
              s->workload, (unsigned long long)s->lim.max_containers);
  if (st != EHAL_STORE_OK) {
    s->ops->rollback(s->be);
    return st;
  }
  if (ehal_seal_random(r.cid, EHAL_CID_LEN) != 0) {
    s->ops->rollback(s->be);
    return fail(e, EHAL_STORE_IO, "no randomness for the container id");
  }
  r.created_at = now_s();
  ehal_store_container tmp;
  memset(&tmp, 0, sizeof tmp);
  if (ehal_seal_container_keys(s->root, s->workload, r.name, r.cid, &tmp.pk) != 0) {
    s->ops->rollback(s->be);
    return fail(e, EHAL_STORE_IO, "cannot derive the container's keys");
  }
  memcpy(tmp.cid, r.cid, EHAL_CID_LEN);
  container_mac(&tmp, &r, r.mac);
  ehal_seal_cleanse(&tmp, sizeof tmp);
  if (s->ops->container_insert(s->be, &r) != 0) {
    st = be_fail(s, e, "cannot create the container");
    s->ops->rollback(s->be);
    return st;
  }
  if (s->ops->commit(s->be) != 0) return be_fail(s, e, "cannot commit");
  ehal_store_container *c = container_new(s, &r, e);
  if (!c) return e->code;
  adopt_row(c, &r);
  c->n = 0;
  *out = c;
  return EHAL_STORE_OK;
}

static ehal_store_status container_open(ehal_store *s, const char *name, size_t len,
                                        ehal_store_container **out, ehal_store_err *e) {
  *out = NULL;
  char nm[EHAL_CONTAINER_NAME_MAX + 1];
  memcpy(nm, name, len);
  nm[len] = 0;
  if (s->ops->begin(s->be, false) != 0) return be_fail(s, e, "cannot begin a transaction");
  ehal_be_container r;
  int rc = s->ops->container_by_name(s->be, nm, &r);
  ehal_store_status st = EHAL_STORE_OK;
  if (rc < 0)
    st = be_fail(s, e, "cannot read containers");
  else if (rc == EHAL_BE_NOTFOUND)
    st = fail(e, EHAL_STORE_NOTFOUND, "workload '%s' has no container '%s'", s->workload, nm);
  st = end_read_store(s, st, e);
  if (st != EHAL_STORE_OK) return st;
  /* verified lazily, by the first operation: a container that fails
   * verification can still be opened, and deleted */
  ehal_store_container *c = container_new(s, &r, e);
  if (!c) return e->code;
  *out = c;
  return EHAL_STORE_OK;
}

ehal_store_status ehal_store_container_create(ehal_store *s, const char *name, size_t len,
                                              ehal_store_container **out, ehal_store_err *e) {
  *out = NULL;
  if (check_name(name, len, e)) return e->code;
  return container_create(s, name, len, out, e);
}

ehal_store_status ehal_store_container_open(ehal_store *s, const char *name, size_t len,
                                            ehal_store_container **out, ehal_store_err *e) {
  *out = NULL;
  if (check_name(name, len, e)) return e->code;
  return container_open(s, name, len, out, e);
}

ehal_store_status ehal_store_volume_open(ehal_store *s, const char *name, size_t len, bool create,
                                         ehal_store_container **out, ehal_store_err *e) {
  *out = NULL;
  char nm[EHAL_CONTAINER_NAME_MAX + 1];
  size_t pl = sizeof EHAL_STORE_VOLUME_PREFIX - 1;
  if (len == 0 || len > EHAL_CONTAINER_NAME_MAX - pl || memchr(name, 0, len))
    return fail(e, EHAL_STORE_INVALID, "a volume name must be 1 to %zu bytes",
                (size_t)EHAL_CONTAINER_NAME_MAX - pl);
  memcpy(nm, EHAL_STORE_VOLUME_PREFIX, pl);
  memcpy(nm + pl, name, len);
  ehal_store_status st = container_open(s, nm, pl + len, out, e);
  if (st == EHAL_STORE_NOTFOUND && create) st = container_create(s, nm, pl + len, out, e);
  return st;
}

ehal_store_status ehal_store_container_delete(ehal_store_container *c, ehal_store_err *e) {
  ehal_store *s = c->s;
  if (c->deleted) return fail(e, EHAL_STORE_NOTFOUND, "container '%s' was deleted", c->name);
  if (s->ops->begin(s->be, true) != 0) return be_fail(s, e, "cannot begin a transaction");
  ehal_be_container r;
  int rc = s->ops->container_by_id(s->be, c->id, &r);
  ehal_store_status st = EHAL_STORE_OK;
  if (rc < 0 && !strstr(s->ops->errmsg(s->be), "integrity error"))
    st = be_fail(s, e, "cannot read the container");
  else if (rc == EHAL_BE_NOTFOUND ||
           (rc == 0 && (strcmp(r.name, c->name) != 0 || memcmp(r.cid, c->cid, EHAL_CID_LEN) != 0)))
    st = fail(e, EHAL_STORE_NOTFOUND, "container '%s' no longer exists", c->name);
  else if (s->ops->container_delete(s->be, c->id) != 0)
    st = be_fail(s, e, "cannot delete the container");
  if (st != EHAL_STORE_OK) {
    s->ops->rollback(s->be);
    if (st == EHAL_STORE_NOTFOUND) c->deleted = true;
    return st;
  }
  if (s->ops->commit(s->be) != 0) return be_fail(s, e, "cannot commit");
  c->deleted = true;
  c->valid = false;
  free(c->ents);
  c->ents = NULL;
  c->n = c->cap = 0;
  return EHAL_STORE_OK;
}

/* ---- objects ---- */

static void entry_from(entry *en, const ehal_be_object *o) {
  memcpy(en->kid, o->kid, EHAL_KID_LEN);
  en->version = o->version;
  en->size = o->size;
  en->created_at = o->created_at;
  memcpy(en->htag, hdr_tag(o), EHAL_TAG_LEN);
  memcpy(en->dtag, o->dtag, EHAL_TAG_LEN);
}

/* Checks what can be checked of a change before any transaction. */
static ehal_store_status check_op(const ehal_store *s, ehal_store_op *op, ehal_store_err *e) {
  if (check_key(op->key, op->keylen, e)) return e->code;
  if (op->del) return EHAL_STORE_OK;
  if (!op->ctype) {
    op->ctype = EHAL_STORE_DEFAULT_CTYPE;
    op->ctlen = strlen(op->ctype);
  }
  if (op->ctlen > EHAL_STORE_CTYPE_MAX ||
      (op->ctlen && !name_ok(op->ctype, op->ctlen, EHAL_STORE_CTYPE_MAX, false)))
    return fail(e, EHAL_STORE_INVALID,
                "a content type must be at most %d bytes without control characters",
                EHAL_STORE_CTYPE_MAX);
  if (op->len > s->lim.max_object_bytes)
    return fail(e, EHAL_STORE_LIMIT, "object of %zu bytes is larger than the maximum of %llu bytes",
                op->len, (unsigned long long)s->lim.max_object_bytes);
  return EHAL_STORE_OK;
}

/* A change of a batch once written in the open transaction: what the
 * in-memory index becomes after the commit. */
typedef struct {
  bool del;
  bool skip; /* an if_present delete of a missing key: nothing to do */
  entry en;  /* the new entry; for a delete, only its kid */
} staged;

/* Inside the write transaction: seals and writes the object of op at
 * version ver, and folds it into the new container state *nr. */
static ehal_store_status stage_put(ehal_store_container *c, const ehal_be_usage *u,
                                   const ehal_be_container *row, ehal_be_container *nr,
                                   const ehal_store_op *op, const uint8_t kid[EHAL_KID_LEN],
                                   uint64_t ver, staged *out, ehal_store_err *e) {
  ehal_store *s = c->s;
  ptrdiff_t old = find_entry(c, kid, NULL);
  if (old < 0 && nr->objects >= s->lim.max_objects_per_container)
    return fail(e, EHAL_STORE_LIMIT, "container '%s' already holds the maximum of %llu objects",
                c->name, (unsigned long long)s->lim.max_objects_per_container);
  /* Every object is charged its data plus a fixed overhead for its sealed
   * header, key and index row, so a flood of empty objects with long keys
   * cannot fill the disk under the quota.  The workload's usage (*u) is
   * what its container rows say, before this batch: the batch's changes so
   * far are in *nr, this container's row to be. */
  uint64_t objects =
      u->objects - (row->objects <= u->objects ? row->objects : u->objects) + nr->objects;
  uint64_t bytes = u->bytes - (row->bytes <= u->bytes ? row->bytes : u->bytes) + nr->bytes;
  uint64_t old_size = old >= 0 ? c->ents[old].size : 0;
  objects += old < 0 ? 1 : 0;
  uint64_t total =
      bytes - (old_size <= bytes ? old_size : bytes) + op->len + objects * EHAL_STORE_OBJECT_CHARGE;
  if (total > s->lim.max_bytes_per_workload)
    return fail(e, EHAL_STORE_LIMIT,
                "workload '%s' would store %llu bytes, over its quota of %llu bytes", s->workload,
                (unsigned long long)total, (unsigned long long)s->lim.max_bytes_per_workload);

  ehal_store_status st = EHAL_STORE_OK;
  ehal_be_object o;
  memset(&o, 0, sizeof o);
  memcpy(o.kid, kid, EHAL_KID_LEN);
  o.version = ver;
  o.size = op->len;
  o.created_at = now_s();
  /* header: u16 key length, key, u16 content-type length, content type */
  size_t hlen = 4 + op->keylen + op->ctlen;
  uint8_t hplain[4 + EHAL_STORE_KEY_MAX + EHAL_STORE_CTYPE_MAX];
  ehal_put_u16(hplain, (uint16_t)op->keylen);
  memcpy(hplain + 2, op->key, op->keylen);
  ehal_put_u16(hplain + 2 + op->keylen, (uint16_t)op->ctlen);
  memcpy(hplain + 4 + op->keylen, op->ctype, op->ctlen);
  o.hdr_len = EHAL_NONCE_LEN + hlen + EHAL_TAG_LEN;
  uint8_t *hdr = malloc(o.hdr_len), *ct = malloc(op->len ? op->len : 1);
  uint8_t ad[AD_MAX];
  size_t adl;
  if (!hdr || !ct) {
    st = fail(e, EHAL_STORE_IO, "out of memory");
    goto out;
  }
  adl = object_ad(c, 'h', kid, o.version, o.size, o.created_at, NULL, ad);
  if (ehal_seal_encrypt(c->k.enc, ad, adl, hplain, hlen, hdr + EHAL_NONCE_LEN, hdr,
                        hdr + EHAL_NONCE_LEN + hlen) != 0) {
    st = fail(e, EHAL_STORE_IO, "encryption failed");
    goto out;
  }
  o.hdr = hdr;
  adl = object_ad(c, 'd', kid, o.version, o.size, o.created_at, hdr_tag(&o), ad);
  if (ehal_seal_encrypt(c->k.enc, ad, adl, op->data, op->len, ct, o.dnonce, o.dtag) != 0) {
    st = fail(e, EHAL_STORE_IO, "encryption failed");
    goto out;
  }
  o.data = ct;
  o.data_len = op->len;
  if (s->ops->object_put(s->be, c->id, &o) != 0) {
    st = be_fail(s, e, "cannot write the object");
    goto out;
  }
  out->del = false;
  out->skip = false;
  entry_from(&out->en, &o);
  uint8_t prf[EHAL_MAC_LEN];
  if (old >= 0) {
    entry_prf(c, &c->ents[old], prf);
    ehal_digest_sub(nr->digest, prf);
    nr->bytes -= c->ents[old].size;
  } else {
    nr->objects++;
  }
  entry_prf(c, &out->en, prf);
  ehal_digest_add(nr->digest, prf);
  nr->bytes += op->len;
out:
  free(hdr);
  free(ct);
  return st;
}

/* Inside the write transaction: deletes the object of op and folds that
 * into *nr. */
static ehal_store_status stage_delete(ehal_store_container *c, ehal_be_container *nr,
                                      const ehal_store_op *op, const uint8_t kid[EHAL_KID_LEN],
                                      staged *out, ehal_store_err *e) {
  ehal_store *s = c->s;
  char kb[80];
  ptrdiff_t idx = find_entry(c, kid, NULL);
  out->skip = idx < 0 && op->if_present;
  if (out->skip) return EHAL_STORE_OK;
  if (idx < 0)
    return fail(e, EHAL_STORE_NOTFOUND, "container '%s' has no object '%s'", c->name,
                show_key(kb, op->key, op->keylen));
  int rc = s->ops->object_delete(s->be, c->id, kid);
  if (rc != 0)
    return rc < 0 ? be_fail(s, e, "cannot delete the object")
                  : fail(e, EHAL_STORE_INTEGRITY,
                         "object '%s' of container '%s' is missing from the store (deleted "
                         "outside the HAL)",
                         show_key(kb, op->key, op->keylen), c->name);
  uint8_t prf[EHAL_MAC_LEN];
  entry_prf(c, &c->ents[idx], prf);
  ehal_digest_sub(nr->digest, prf);
  nr->objects--;
  nr->bytes -= c->ents[idx].size;
  out->del = true;
  memcpy(out->en.kid, kid, EHAL_KID_LEN);
  return EHAL_STORE_OK;
}

/* After the commit: the in-memory index takes every staged change (room
 * for the new entries was made before the commit). */
static void apply_staged(ehal_store_container *c, const staged *sg, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t pos;
    if (sg[i].skip) continue;
    ptrdiff_t at = find_entry(c, sg[i].en.kid, &pos);
    if (sg[i].del) {
      memmove(&c->ents[at], &c->ents[at + 1], (c->n - (size_t)at - 1) * sizeof *c->ents);
      c->n--;
    } else if (at >= 0) {
      c->ents[at] = sg[i].en;
    } else {
      memmove(&c->ents[pos + 1], &c->ents[pos], (c->n - pos) * sizeof *c->ents);
      c->ents[pos] = sg[i].en;
      c->n++;
    }
  }
}

ehal_store_status ehal_store_apply(ehal_store_container *c, const ehal_store_op *ops, size_t n,
                                   uint64_t *version, ehal_store_err *e) {
  return ehal_store_apply_at(c, UINT64_MAX, ops, n, version, e);
}

ehal_store_status ehal_store_apply_at(ehal_store_container *c, uint64_t expect,
                                      const ehal_store_op *ops, size_t n, uint64_t *version,
                                      ehal_store_err *e) {
  ehal_store *s = c->s;
  if (n == 0 || n > EHAL_STORE_APPLY_MAX)
    return fail(e, EHAL_STORE_INVALID, "a batch holds 1 to %d changes, not %zu",
                EHAL_STORE_APPLY_MAX, n);
  ehal_store_op *op = malloc(n * sizeof *op);
  staged *sg = malloc(n * sizeof *sg);
  ehal_store_status st = EHAL_STORE_OK;
  bool in_tx = false;
  if (!op || !sg) {
    st = fail(e, EHAL_STORE_IO, "out of memory");
    goto out;
  }
  memcpy(op, ops, n * sizeof *op);
  size_t puts = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    if ((st = check_op(s, &op[i], e))) goto out;
    puts += !op[i].del;
    bytes += op[i].del ? 0 : op[i].len;
  }
  /* one transaction holds the workload's write lock: keep it bounded */
  if (bytes > EHAL_STORE_APPLY_MAX_BYTES) {
    st = fail(e, EHAL_STORE_LIMIT, "a batch writes at most %d bytes, not %llu",
              EHAL_STORE_APPLY_MAX_BYTES, (unsigned long long)bytes);
    goto out;
  }

  /* sealing happens after the sync: the keys may have changed (keyed by
   * another instance of the workload) */
  ehal_be_container row;
  if ((st = begin_sync(c, true, &row, e))) goto out;
  in_tx = true;
  if ((st = need_key(c, e))) goto out;
  if (expect != UINT64_MAX && c->version != expect) {
    st = fail(e, EHAL_STORE_CONFLICT,
              "container '%s' is at version %llu, not %llu: another instance changed it", c->name,
              (unsigned long long)c->version, (unsigned long long)expect);
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    ehal_seal_kid(&c->k, op[i].key, op[i].keylen, sg[i].en.kid);
    for (size_t j = 0; j < i; j++)
      if (!memcmp(sg[j].en.kid, sg[i].en.kid, EHAL_KID_LEN)) {
        char kb[80];
        st = fail(e, EHAL_STORE_INVALID, "a batch changes object '%s' more than once",
                  show_key(kb, op[i].key, op[i].keylen));
        goto out;
      }
  }
  ehal_be_usage u = {0};
  if (puts && s->ops->usage(s->be, &u) != 0) {
    st = be_fail(s, e, "cannot read usage");
    goto out;
  }
  /* The version counts sealed messages, not commits: each put seals two
   * under the container key, and EHAL_STORE_MAX_VERSION bounds them (as
   * one put per version always did); every object of the batch is sealed
   * at the new version. */
  ehal_be_container nr = row;
  nr.version = c->version + (puts ? puts : 1);
  size_t added = 0;
  /* deletes first: the limits then see what the batch frees whatever the
   * order it was given in (keys are distinct: order means nothing else) */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < n; i++) {
      if (op[i].del != (pass == 0)) continue;
      uint8_t kid[EHAL_KID_LEN];
      memcpy(kid, sg[i].en.kid, EHAL_KID_LEN);
      st = op[i].del ? stage_delete(c, &nr, &op[i], kid, &sg[i], e)
                     : stage_put(c, &u, &row, &nr, &op[i], kid, nr.version, &sg[i], e);
      if (st) goto out;
      if (!op[i].del && find_entry(c, kid, NULL) < 0) added++;
    }
  /* make room for the new entries before committing, so a commit is never
   * followed by a failure to record it */
  if (c->n + added > c->cap) {
    size_t cap = c->cap ? c->cap : 64;
    while (cap < c->n + added) cap *= 2;
    entry *ne = realloc(c->ents, cap * sizeof *ne);
    if (!ne) {
      st = fail(e, EHAL_STORE_IO, "out of memory");
      goto out;
    }
    c->ents = ne;
    c->cap = cap;
  }
  in_tx = false; /* commit_state commits, or rolls back itself */
  if ((st = commit_state(c, &nr, e))) goto out;
  apply_staged(c, sg, n);
  if (version) *version = nr.version;
out:
  if (in_tx) s->ops->rollback(s->be);
  free(op);
  free(sg);
  return st;
}

ehal_store_status ehal_store_put(ehal_store_container *c, const char *key, size_t keylen,
                                 const uint8_t *data, size_t len, const char *ctype, size_t ctlen,
                                 uint64_t *version, ehal_store_err *e) {
  ehal_store_op op = {
      .key = key, .keylen = keylen, .data = data, .len = len, .ctype = ctype, .ctlen = ctlen};
  return ehal_store_apply(c, &op, 1, version, e);
}

/* Inside a synced transaction: read the object row of entry en, check it
 * is the trusted one, and open its header (key and content type). */
static ehal_store_status open_object(ehal_store_container *c, const entry *en, bool with_data,
                                     const char *want_key, size_t want_len, ehal_be_object *o,
                                     char *key_out, size_t *key_len, ehal_store_meta *meta,
                                     ehal_store_err *e) {
  ehal_store *s = c->s;
  char kb[80];
  const char *shown = want_key ? show_key(kb, want_key, want_len) : "(listed)";
  int rc = s->ops->object_get(s->be, c->id, en->kid, with_data, o);
  if (rc < 0) return be_fail(s, e, "cannot read the object");
  if (rc == EHAL_BE_NOTFOUND)
    return fail(e, EHAL_STORE_INTEGRITY,
                "object '%s' of container '%s' is missing from the store (deleted outside the HAL)",
                shown, c->name);
  if (o->hdr_len < EHAL_NONCE_LEN + EHAL_TAG_LEN + 4 || o->version != en->version ||
      o->size != en->size || o->created_at != en->created_at ||
      memcmp(hdr_tag(o), en->htag, EHAL_TAG_LEN) != 0 ||
      memcmp(o->dtag, en->dtag, EHAL_TAG_LEN) != 0)
    return fail(e, EHAL_STORE_INTEGRITY,
                "object '%s' of container '%s' is not the version this HAL stored (replaced, "
                "rolled back or modified outside the HAL)",
                shown, c->name);
  size_t hlen = o->hdr_len - EHAL_NONCE_LEN - EHAL_TAG_LEN;
  uint8_t hplain[4 + EHAL_STORE_KEY_MAX + EHAL_STORE_CTYPE_MAX];
  uint8_t ad[AD_MAX];
  size_t adl = object_ad(c, 'h', en->kid, en->version, en->size, en->created_at, NULL, ad);
  if (hlen > sizeof hplain || ehal_seal_decrypt(c->k.enc, ad, adl, o->hdr + EHAL_NONCE_LEN, hlen,
                                                hplain, o->hdr, hdr_tag(o)) != 0)
    return fail(e, EHAL_STORE_INTEGRITY,
                "the header of object '%s' of container '%s' fails authentication", shown, c->name);
  size_t kl = ehal_get_u16(hplain);
  size_t cl = 4 + kl <= hlen ? ehal_get_u16(hplain + 2 + kl) : (size_t)-1;
  if (4 + kl > hlen || 4 + kl + cl != hlen || kl == 0 || kl > EHAL_STORE_KEY_MAX ||
      cl > EHAL_STORE_CTYPE_MAX ||
      (want_key && (kl != want_len || memcmp(hplain + 2, want_key, kl) != 0)))
    return fail(e, EHAL_STORE_INTEGRITY, "object '%s' of container '%s' holds another key's header",
                shown, c->name);
  if (key_out) {
    memcpy(key_out, hplain + 2, kl);
    *key_len = kl;
  }
  if (meta) {
    meta->version = en->version;
    meta->size = en->size;
    meta->created_at = en->created_at;
    memcpy(meta->content_type, hplain + 4 + kl, cl);
    meta->content_type[cl] = 0;
  }
  if (with_data && o->data_len != en->size)
    return fail(e, EHAL_STORE_INTEGRITY,
                "object '%s' of container '%s' was truncated or extended (%zu bytes stored, "
                "%llu expected)",
                shown, c->name, o->data_len, (unsigned long long)en->size);
  return EHAL_STORE_OK;
}

static ehal_store_status lookup(ehal_store_container *c, const char *key, size_t keylen,
                                ptrdiff_t *idx, ehal_store_err *e) {
  char kb[80];
  if (need_key(c, e)) return e->code;
  uint8_t kid[EHAL_KID_LEN];
  ehal_seal_kid(&c->k, key, keylen, kid);
  *idx = find_entry(c, kid, NULL);
  if (*idx < 0)
    return fail(e, EHAL_STORE_NOTFOUND, "container '%s' has no object '%s'", c->name,
                show_key(kb, key, keylen));
  return EHAL_STORE_OK;
}

ehal_store_status ehal_store_get(ehal_store_container *c, const char *key, size_t keylen,
                                 void *(*alloc)(void *user, size_t n), void *user, uint8_t **data,
                                 size_t *len, ehal_store_meta *meta, ehal_store_err *e) {
  *data = NULL;
  *len = 0;
  if (check_key(key, keylen, e)) return e->code;
  ehal_be_container row;
  ehal_store_status st = begin_sync(c, false, &row, e);
  if (st) return st;
  ptrdiff_t idx;
  ehal_be_object o;
  if ((st = lookup(c, key, keylen, &idx, e))) return end_read(c, st, e);
  const entry en = c->ents[idx];
  if ((st = open_object(c, &en, true, key, keylen, &o, NULL, NULL, meta, e)))
    return end_read(c, st, e);
  uint8_t *out = alloc(user, en.size ? en.size : 1);
  if (!out) return end_read(c, fail(e, EHAL_STORE_IO, "out of memory"), e);
  *data = out; /* the caller's from here on, whatever happens (see store.h) */
  uint8_t ad[AD_MAX];
  size_t adl = object_ad(c, 'd', en.kid, en.version, en.size, en.created_at, en.htag, ad);
  if (ehal_seal_decrypt(c->k.enc, ad, adl, o.data, o.data_len, out, o.dnonce, o.dtag) != 0) {
    char kb[80];
    /* never hand out what failed authentication */
    ehal_seal_cleanse(out, en.size);
    return end_read(c,
                    fail(e, EHAL_STORE_INTEGRITY,
                         "the data of object '%s' of container '%s' fails authentication "
                         "(tampered, truncated or swapped)",
                         show_key(kb, key, keylen), c->name),
                    e);
  }
  if ((st = end_read(c, EHAL_STORE_OK, e))) {
    ehal_seal_cleanse(out, en.size);
    return st;
  }
  *len = en.size;
  return EHAL_STORE_OK;
}

ehal_store_status ehal_store_stat(ehal_store_container *c, const char *key, size_t keylen,
                                  ehal_store_meta *meta, ehal_store_err *e) {
  if (check_key(key, keylen, e)) return e->code;
  ehal_be_container row;
  ehal_store_status st = begin_sync(c, false, &row, e);
  if (st) return st;
  ptrdiff_t idx;
  ehal_be_object o;
  if ((st = lookup(c, key, keylen, &idx, e))) return end_read(c, st, e);
  const entry en = c->ents[idx];
  st = open_object(c, &en, false, key, keylen, &o, NULL, NULL, meta, e);
  return end_read(c, st, e);
}

ehal_store_status ehal_store_delete(ehal_store_container *c, const char *key, size_t keylen,
                                    ehal_store_err *e) {
  ehal_store_op op = {.key = key, .keylen = keylen, .del = true};
  return ehal_store_apply(c, &op, 1, NULL, e);
}

ehal_store_status ehal_store_list(ehal_store_container *c, const char *cursor, size_t cursorlen,
                                  uint32_t limit, ehal_store_list_fn fn, void *user,
                                  char next_cursor[EHAL_STORE_CURSOR_LEN + 1], ehal_store_err *e) {
  if (next_cursor) next_cursor[0] = 0;
  uint8_t after[EHAL_KID_LEN];
  bool have_after = cursor && cursorlen;
  if (have_after && ehal_hex_decode_mem(cursor, cursorlen, after, EHAL_KID_LEN,
                                        EHAL_HEX_LOWER_ONLY) != EHAL_KID_LEN)
    return fail(e, EHAL_STORE_INVALID, "malformed listing cursor");
  ehal_be_container row;
  ehal_store_status st = begin_sync(c, false, &row, e);
  if (st) return st;
  if ((st = need_key(c, e))) return end_read(c, st, e);
  size_t start = 0;
  if (have_after) {
    ptrdiff_t at = find_entry(c, after, &start);
    if (at >= 0) start = (size_t)at + 1;
  }
  size_t end = c->n;
  if (limit && end - start > limit) end = start + limit;
  char key[EHAL_STORE_KEY_MAX];
  for (size_t i = start; i < end; i++) {
    ehal_be_object o;
    ehal_store_meta m;
    size_t kl = 0;
    const entry en = c->ents[i];
    if ((st = open_object(c, &en, false, NULL, 0, &o, key, &kl, &m, e))) return end_read(c, st, e);
    if (fn(user, key, kl, &m)) {
      end = i + 1;
      break;
    }
  }
  if (next_cursor && end < c->n && end > start)
    ehal_hex_encode(c->ents[end - 1].kid, EHAL_KID_LEN, next_cursor);
  return end_read(c, EHAL_STORE_OK, e);
}

ehal_store_status ehal_store_version(ehal_store_container *c, uint64_t *version,
                                     ehal_store_err *e) {
  ehal_be_container row;
  ehal_store_status st = begin_sync(c, false, &row, e);
  if (st) return st;
  *version = c->version;
  return end_read(c, EHAL_STORE_OK, e);
}

ehal_store_status ehal_store_load_key(ehal_store_container *c, const uint8_t *key, size_t len,
                                      ehal_store_err *e) {
  ehal_store *s = c->s;
  if (len < 16 || len > 1024)
    return fail(e, EHAL_STORE_INVALID, "a workload key must be 16 to 1024 bytes, not %zu", len);
  ehal_be_container row;
  ehal_store_status st = begin_sync(c, true, &row, e);
  if (st) return st;
  ehal_container_keys k = c->pk;
  uint8_t check[EHAL_MAC_LEN];
  if (ehal_seal_workload_keys(&k, c->cid, key, len, check) != 0) {
    s->ops->rollback(s->be);
    return fail(e, EHAL_STORE_IO, "cannot derive the container's keys");
  }
  if (c->flags & EHAL_CONTAINER_KEYED) {
    s->ops->rollback(s->be);
    if (!ehal_ct_equal(check, c->key_check, EHAL_MAC_LEN)) {
      ehal_seal_cleanse(&k, sizeof k);
      return fail(e, EHAL_STORE_KEY, "this is not the key context container '%s' is keyed by",
                  c->name);
    }
    c->k = k;
    c->unlocked = true;
    ehal_seal_cleanse(&k, sizeof k);
    return EHAL_STORE_OK;
  }
  if (c->objects > 0) {
    s->ops->rollback(s->be);
    ehal_seal_cleanse(&k, sizeof k);
    return fail(e, EHAL_STORE_UNSUPPORTED,
                "container '%s' already holds objects: a key context can only be given to an "
                "empty container (re-keying is not supported)",
                c->name);
  }
  ehal_be_container nr = row;
  nr.flags |= EHAL_CONTAINER_KEYED;
  memcpy(nr.key_check, check, EHAL_MAC_LEN);
  nr.version++;
  if ((st = commit_state(c, &nr, e))) {
    ehal_seal_cleanse(&k, sizeof k);
    return st;
  }
  c->k = k;
  c->unlocked = true;
  ehal_seal_cleanse(&k, sizeof k);
  return EHAL_STORE_OK;
}

/* ---- usage ---- */

int ehal_storage_usage(const char *state_dir, const char *workload, ehal_be_usage *out, char *err,
                       size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!state_dir || !workload) {
    snprintf(err, errlen, "no state directory or workload");
    return -1;
  }
  return ehal_backend_sqlite_usage(state_dir, workload, out, err, errlen);
}
