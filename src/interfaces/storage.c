/*
 * storage.c - elastic:storage@0.1.1: encrypted, integrity-protected object
 * storage in containers namespaced by the workload's name (design and
 * threat model: docs/storage.md; the engine: src/storage/store.c).
 *
 * Handles.  A container-handle is a handle in this workload's own table
 * (handles.h): another workload's value, a stale or a forged one is an
 * error.  Handles that name the same container share its verified state.
 * An object-handle is not a table handle: it is the container version at
 * which that store-object committed (non-zero, strictly increasing within
 * the container, and the `version` list-objects-with-metadata reports for
 * the object while it is current).  It confers no authority, so a guest
 * forging one gains nothing; 0.1.1 has no function that takes one.
 *
 * Errors are strings starting with their category ("not found: ",
 * "integrity error: ", "limit exceeded: ", ...; see store.h).
 */
#define _GNU_SOURCE
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/store.h"
#include "../wasi/wasi.h"
#include "ehal_bindings.h"
#include "interfaces.h"

#define EHAL_MAX_CONTAINER_HANDLES 256u
#define LIST_PAGE_DEFAULT 100u
#define LIST_PAGE_MAX 1000u

/* The crypto interface's key contexts: the 32-byte AEAD key a context of
 * this instance holds, without it ever reaching the guest. */
#include "crypto_contexts.h"

/* Per-instance state (interfaces.h): the container handles, made on first
 * use, and the workload's store, opened on first use (so that a workload
 * that never stores anything leaves no trace in the state directory). */
struct ehal_storage_state {
  ehal_store *store; /* NULL until opened */
  ehal_handle_table containers;
};

#define FAIL_E(ret, e) EHAL_FAIL(ret, "%s", (e).msg)

static void release_container(void *obj) { ehal_store_container_release(obj); }

void *ehal_state_create_storage(ehal_instance *inst) {
  (void)inst;
  struct ehal_storage_state *st = calloc(1, sizeof *st);
  if (st) ehal_handles_init(&st->containers, EHAL_MAX_CONTAINER_HANDLES, release_container);
  return st;
}

void ehal_state_destroy_storage(ehal_instance *inst, void *state) {
  (void)inst;
  struct ehal_storage_state *st = state;
  ehal_handles_free(&st->containers); /* the containers before their store */
  ehal_store_close(st->store);
  free(st);
}

/* The instance's state with its store open (opened on first use), or NULL
 * with *e set. */
static struct ehal_storage_state *opened(ehal_instance *inst, ehal_store_err *e) {
  struct ehal_storage_state *st = ehal_iface_state(inst, EHAL_IFACE_ID_STORAGE);
  if (!st) {
    e->code = EHAL_STORE_IO;
    snprintf(e->msg, sizeof e->msg, "storage error: out of memory");
    return NULL;
  }
  if (!st->store) {
    ehal_store_limits lim;
    ehal_storage_get_limits(&lim);
    lim.max_bytes_per_workload = ehal_storage_quota(inst);
    st->store = ehal_store_open(inst->state_dir, inst->workload, NULL, &lim, e);
    if (!st->store) return NULL;
  }
  return st;
}

/* The state if the workload has used storage yet, else NULL. */
static struct ehal_storage_state *state_if_any(ehal_instance *inst) {
  return ehal_iface_state_peek(inst, EHAL_IFACE_ID_STORAGE);
}

static ehal_store_container *container_of(ehal_instance *inst, uint64_t h) {
  struct ehal_storage_state *st = state_if_any(inst);
  return st ? ehal_handle_get(&st->containers, h) : NULL;
}

#define GET_CONTAINER(c, h, ret)                   \
  ehal_store_container *c = container_of(inst, h); \
  if (!c) EHAL_FAIL(ret, "invalid argument: invalid container handle")

/* A storage event about a container (docs/deployment.md). */
static void container_event(ehal_instance *inst, const char *event, const char *name, size_t len) {
  char buf[EHAL_CONTAINER_NAME_MAX + 1];
  snprintf(buf, sizeof buf, "%.*s", (int)len, name);
  ehal_emit_event(inst, EHAL_EVENTS_EVENT_TYPE_STORAGE, event, "container", buf);
}

static void open_or_create(ehal_instance *inst, ehal_str name, bool create,
                           ehal_storage_result_container_handle_string_t *ret) {
  ehal_store_err e;
  struct ehal_storage_state *st = opened(inst, &e);
  if (!st) FAIL_E(ret, e);
  ehal_store *s = st->store;
  if (st->containers.live >= st->containers.max_live)
    EHAL_FAIL(ret, "limit exceeded: at most %u open container handles per workload",
              EHAL_MAX_CONTAINER_HANDLES);
  ehal_store_container *c;
  ehal_store_status rc = create ? ehal_store_container_create(s, name.ptr, name.len, &c, &e)
                                : ehal_store_container_open(s, name.ptr, name.len, &c, &e);
  if (rc) FAIL_E(ret, e);
  ret->val = ehal_handle_new(&st->containers, c);
  if (!ret->val) {
    ehal_store_container_release(c);
    EHAL_FAIL(ret, "storage error: out of memory");
  }
}

void ehal_impl_storage_create_container(ehal_instance *inst, ehal_str name,
                                        ehal_storage_result_container_handle_string_t *ret) {
  open_or_create(inst, name, true, ret);
  if (!ret->is_err) container_event(inst, "container-created", name.ptr, name.len);
}

void ehal_impl_storage_open_container(ehal_instance *inst, ehal_str name,
                                      ehal_storage_result_container_handle_string_t *ret) {
  open_or_create(inst, name, false, ret);
}

void ehal_impl_storage_delete_container(ehal_instance *inst, uint64_t handle,
                                        ehal_storage_result_void_string_t *ret) {
  GET_CONTAINER(c, handle, ret);
  ehal_store_err e;
  char name[EHAL_CONTAINER_NAME_MAX + 1];
  snprintf(name, sizeof name, "%s", ehal_store_container_name(c));
  if (ehal_store_container_delete(c, &e)) FAIL_E(ret, e);
  /* the handle goes with the container; other handles to it now say
   * "not found" */
  ehal_store_container_release(ehal_handle_take(&state_if_any(inst)->containers, handle));
  container_event(inst, "container-deleted", name, strlen(name));
}

static void store(ehal_instance *inst, uint64_t container, ehal_str key, ehal_bytes data,
                  const ehal_str *ctype, ehal_storage_result_object_handle_string_t *ret) {
  GET_CONTAINER(c, container, ret);
  ehal_store_err e;
  uint64_t v = 0;
  if (ehal_store_put(c, key.ptr, key.len, data.ptr, data.len, ctype ? ctype->ptr : NULL,
                     ctype ? ctype->len : 0, &v, &e))
    FAIL_E(ret, e);
  ret->val = v;
}

void ehal_impl_storage_store_object(ehal_instance *inst, uint64_t container, ehal_str key,
                                    ehal_bytes data,
                                    ehal_storage_result_object_handle_string_t *ret) {
  store(inst, container, key, data, NULL, ret);
}

void ehal_impl_storage_store_object_with_type(ehal_instance *inst, uint64_t container, ehal_str key,
                                              ehal_bytes data, ehal_str content_type,
                                              ehal_storage_result_object_handle_string_t *ret) {
  store(inst, container, key, data, &content_type, ret);
}

/* Objects from this size up are decrypted straight into guest memory. */
#define DIRECT_MIN 256

/* Where retrieve-object decrypts: a big object straight into a buffer the
 * guest's cabi_realloc gives (ehal_lower_direct), saving a copy; a small one
 * into the call arena.  The guest's allocator runs inside the store's read
 * transaction: a trap there comes back here as NULL, the store ends the
 * transaction as on any other error, and the call traps afterwards. */
typedef struct {
  ehal_instance *inst;
  bool direct;
} get_dest;

static void *get_alloc(void *user, size_t n) {
  get_dest *d = user;
#ifdef EHAL_LOWER_DIRECT
  if (n >= DIRECT_MIN) {
    d->direct = true;
    return ehal_lower_direct(d->inst, n, NULL, 0);
  }
#endif
  return ehal_arena_alloc(d->inst, n);
}

void ehal_impl_storage_retrieve_object(ehal_instance *inst, uint64_t container, ehal_str key,
                                       ehal_storage_result_list_u8_string_t *ret) {
  GET_CONTAINER(c, container, ret);
  /* guest memory may move while the guest allocates: read the key from a
   * copy (it is short: EHAL_STORE_KEY_MAX) */
  if (key.len > EHAL_STORE_KEY_MAX) key.len = EHAL_STORE_KEY_MAX + 1; /* refused below */
  char *kc = ehal_arena_alloc(inst, key.len + 1);
  EHAL_NEED(kc);
  memcpy(kc, key.ptr, key.len);
  ehal_store_err e;
  uint8_t *data;
  size_t len;
  get_dest d = {inst, false};
  if (ehal_store_get(c, kc, key.len, get_alloc, &d, &data, &len, NULL, &e)) {
    if (inst->trapped) return;
    ret->is_err = true;
    /* never empty: an empty message in the guest's buffer would leave that
     * buffer to no one (bindings free only what is not empty) */
    ret->err = ehal_str_fmt(inst, "%s", e.msg[0] ? e.msg : "storage error");
    /* a guest buffer already given carries the message (see cabi.h) */
    if (d.direct && data) {
      size_t m = ret->err.len < DIRECT_MIN ? ret->err.len : DIRECT_MIN - 1;
      memcpy(data, ret->err.ptr, m);
      ret->err = (ehal_str){(const char *)data, m};
    }
    return;
  }
  ret->val.ptr = data;
  ret->val.len = len;
}

void ehal_impl_storage_delete_object(ehal_instance *inst, uint64_t container, ehal_str key,
                                     ehal_storage_result_void_string_t *ret) {
  GET_CONTAINER(c, container, ret);
  ehal_store_err e;
  if (ehal_store_delete(c, key.ptr, key.len, &e)) FAIL_E(ret, e);
}

static ehal_str arena_str(ehal_instance *inst, const char *p, size_t n) {
  char *d = ehal_arena_alloc(inst, n ? n : 1);
  if (!d) return EHAL_STR(""); /* the call traps */
  memcpy(d, p, n);
  return (ehal_str){d, n};
}

/* Listing results gathered in a growing array, then moved to the arena. */
typedef struct {
  ehal_instance *inst;
  ehal_str *keys;
  ehal_storage_object_info_t *infos;
  size_t n, cap;
  bool oom;
} gather;

static int gather_key(void *user, const char *key, size_t keylen, const ehal_store_meta *m) {
  gather *g = user;
  (void)m;
  if (g->n == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 64;
    ehal_str *nk = realloc(g->keys, cap * sizeof *nk);
    if (!nk) {
      g->oom = true;
      return 1;
    }
    g->keys = nk;
    g->cap = cap;
  }
  g->keys[g->n++] = arena_str(g->inst, key, keylen);
  return 0;
}

void ehal_impl_storage_list_objects(ehal_instance *inst, uint64_t container,
                                    ehal_storage_result_list_string_string_t *ret) {
  GET_CONTAINER(c, container, ret);
  ehal_store_err e;
  gather g = {.inst = inst};
  if (ehal_store_list(c, NULL, 0, 0, gather_key, &g, NULL, &e)) {
    free(g.keys);
    FAIL_E(ret, e);
  }
  if (g.oom) {
    free(g.keys);
    EHAL_FAIL(ret, "storage error: out of memory");
  }
  ehal_str *arr = ehal_stage(inst, g.n, sizeof *arr);
  if (arr && g.n) memcpy(arr, g.keys, g.n * sizeof *arr);
  free(g.keys);
  EHAL_NEED(arr);
  ret->val.ptr = arr;
  ret->val.len = g.n;
}

static void meta_out(ehal_instance *inst, const ehal_store_meta *m,
                     ehal_storage_object_metadata_t *out) {
  out->size = m->size;
  out->created_at = m->created_at;
  out->content_type = arena_str(inst, m->content_type, strlen(m->content_type));
}

void ehal_impl_storage_get_metadata(ehal_instance *inst, uint64_t container, ehal_str key,
                                    ehal_storage_result_object_metadata_string_t *ret) {
  GET_CONTAINER(c, container, ret);
  ehal_store_err e;
  ehal_store_meta m;
  if (ehal_store_stat(c, key.ptr, key.len, &m, &e)) FAIL_E(ret, e);
  meta_out(inst, &m, &ret->val);
}

static int gather_info(void *user, const char *key, size_t keylen, const ehal_store_meta *m) {
  gather *g = user;
  ehal_storage_object_info_t *info = &g->infos[g->n++]; /* sized for the page */
  info->key = arena_str(g->inst, key, keylen);
  info->version = m->version;
  meta_out(g->inst, m, &info->metadata);
  return 0;
}

void ehal_impl_storage_list_objects_with_metadata(ehal_instance *inst, uint64_t container,
                                                  ehal_str cursor, uint32_t limit,
                                                  ehal_storage_result_object_page_string_t *ret) {
  GET_CONTAINER(c, container, ret);
  if (limit == 0) limit = LIST_PAGE_DEFAULT;
  if (limit > LIST_PAGE_MAX) limit = LIST_PAGE_MAX;
  ehal_store_err e;
  gather g = {.inst = inst};
  g.infos = ehal_stage(inst, limit, sizeof *g.infos);
  EHAL_NEED(g.infos);
  char next[EHAL_STORE_CURSOR_LEN + 1];
  if (ehal_store_list(c, cursor.ptr, cursor.len, limit, gather_info, &g, next, &e)) FAIL_E(ret, e);
  ret->val.objects.ptr = g.infos;
  ret->val.objects.len = g.n;
  ret->val.next_cursor.is_some = next[0] != 0;
  if (next[0]) ret->val.next_cursor.val = arena_str(inst, next, strlen(next));
}

void ehal_impl_storage_get_container_version(ehal_instance *inst, uint64_t container,
                                             ehal_storage_result_u64_string_t *ret) {
  GET_CONTAINER(c, container, ret);
  ehal_store_err e;
  uint64_t v;
  if (ehal_store_version(c, &v, &e)) FAIL_E(ret, e);
  ret->val = v;
}

/* The workload's own key, from a crypto key context (aes256-gcm or
 * chacha20-poly1305: 32 bytes), given to a container (requirements 7, 8). */
void ehal_impl_storage_load_key_context(ehal_instance *inst, uint64_t container, uint64_t key,
                                        ehal_storage_result_void_string_t *ret) {
  GET_CONTAINER(c, container, ret);
  uint8_t k[32];
  ehal_aead_alg alg;
  const char *why = "invalid crypto context handle";
  if (ehal_crypto_context_aead_key(inst, key, &alg, k, &why) != 0)
    EHAL_FAIL(ret, "invalid argument: %s (a container takes a 256-bit symmetric key context)", why);
  (void)alg; /* the container seals with AES-256-GCM under keys derived from it */
  ehal_store_err e;
  ehal_store_status rc = ehal_store_load_key(c, k, sizeof k, &e);
  OPENSSL_cleanse(k, sizeof k);
  if (rc) FAIL_E(ret, e);
}

void ehal_storage_quota_changed(ehal_instance *inst) {
  struct ehal_storage_state *st = ehal_iface_state_peek(inst, EHAL_IFACE_ID_STORAGE);
  if (st && st->store) ehal_store_set_quota(st->store, inst->storage_quota);
  ehal_wasi_fs_set_quota(inst, inst->storage_quota); /* sealed directories count too */
}

uint64_t ehal_storage_quota(ehal_instance *inst) {
  if (!inst->storage_quota) {
    ehal_store_limits lim;
    ehal_storage_get_limits(&lim);
    inst->storage_quota = lim.max_bytes_per_workload;
  }
  return inst->storage_quota;
}
