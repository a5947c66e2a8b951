/*
 * storage_guest.c - a guest for the storage tests.
 *
 * As a command (elastic-hal run storage_guest.wasm CMD ARGS...), one storage
 * operation per run, for tests/cli/storage.sh and the crash test:
 *
 *   create C | open C | delc C | version C
 *   put C K V [CTYPE]       open C (create it if missing), store V under K
 *   get C K                 print the object's bytes
 *   del C K | meta C K | list C | page C LIMIT
 *   fill C N SIZE           store N generated objects k0..k(N-1)
 *   check C N               read them back and verify them
 *   writer C NKEYS START    store generated objects I = START, START+1, ...
 *                           under key k(I % NKEYS) forever, printing
 *                           "ack I KEY VERSION" after each acknowledged one
 *   verify C NKEYS          print "have KEY I", "missing KEY" or "bad KEY MSG"
 *                           per key, then "version V"
 *
 * A failed operation prints "error: MESSAGE" on stderr and exits 1.
 *
 * Its test_* exports are self-checks of the interface for
 * tests/unit/test_storage.c (0 = pass, else the failing source line); the
 * key-context ones use crypto 0.1.1 contexts (create-context, import-key).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

#define EXPORT(name) __attribute__((export_name(name)))
#define CHECK(cond)               \
  do {                            \
    if (!(cond)) return __LINE__; \
  } while (0)

typedef elastic_storage_container_handle_t chandle;

static elastic_string_t S(const char *s) { return elastic_string(s); }
static elastic_bytes_t B(const void *p, size_t n) {
  elastic_bytes_t b = {(uint8_t *)p, n};
  return b;
}

static bool has(elastic_string_t s, const char *lit) {
  size_t n = strlen(lit);
  for (size_t i = 0; i + n <= s.len; i++)
    if (memcmp(s.ptr + i, lit, n) == 0) return true;
  return false;
}

static bool eq(elastic_string_t s, const char *lit) {
  return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* ---- generated, self-verifying objects ----
 * magic "EHSO", u32 index, u32 length, body from xorshift(index), u64 FNV-1a
 * of everything before it. */
static uint64_t fnv(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static size_t gen_size(uint32_t i, uint32_t size) { return size ? size : 24 + (i * 7919u) % 6000u; }

static uint8_t *gen(uint32_t i, size_t n) {
  if (n < 24) n = 24;
  uint8_t *p = malloc(n);
  if (!p) abort();
  memcpy(p, "EHSO", 4);
  memcpy(p + 4, &i, 4);
  uint32_t l = (uint32_t)n;
  memcpy(p + 8, &l, 4);
  uint64_t x = 0x9E3779B97F4A7C15ull ^ i;
  for (size_t k = 12; k < n - 8; k++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[k] = (uint8_t)x;
  }
  uint64_t h = fnv(p, n - 8);
  memcpy(p + n - 8, &h, 8);
  return p;
}

/* -1 if not a valid generated object, else its index. */
static int64_t gen_check(const uint8_t *p, size_t n) {
  if (n < 24 || memcmp(p, "EHSO", 4) != 0) return -1;
  uint32_t i, l;
  memcpy(&i, p + 4, 4);
  memcpy(&l, p + 8, 4);
  if (l != n) return -1;
  uint8_t *q = gen(i, n);
  bool same = memcmp(p, q, n) == 0;
  free(q);
  return same ? (int64_t)i : -1;
}

/* ---- command mode ---- */

static int die(elastic_string_t err) {
  fprintf(stderr, "error: %.*s\n", (int)err.len, err.ptr);
  elastic_string_free(&err);
  return 1;
}

static bool open_c(const char *name, bool create_missing, chandle *h, elastic_string_t *err) {
  if (elastic_storage_open_container(S(name), h, err)) return true;
  if (!create_missing || !has(*err, "not found")) return false;
  elastic_string_free(err);
  if (elastic_storage_create_container(S(name), h, err)) return true;
  if (!has(*err, "already exists")) return false;
  /* another instance of this workload created it meanwhile */
  elastic_string_free(err);
  return elastic_storage_open_container(S(name), h, err);
}

static void key_of(char *buf, size_t n, uint32_t i) { snprintf(buf, n, "k%u", (unsigned)i); }

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: storage_guest CMD CONTAINER [ARGS...]\n");
    return 2;
  }
  const char *cmd = argv[1], *cname = argv[2];
  elastic_string_t err;
  chandle h;
  if (!strcmp(cmd, "create")) {
    if (!elastic_storage_create_container(S(cname), &h, &err)) return die(err);
    printf("created %s\n", cname);
    return 0;
  }
  bool create_missing = !strcmp(cmd, "put") || !strcmp(cmd, "fill") || !strcmp(cmd, "writer");
  if (!open_c(cname, create_missing, &h, &err)) return die(err);
  if (!strcmp(cmd, "open")) {
    printf("opened %s\n", cname);
  } else if (!strcmp(cmd, "delc")) {
    if (!elastic_storage_delete_container(h, &err)) return die(err);
    printf("deleted %s\n", cname);
  } else if (!strcmp(cmd, "version")) {
    uint64_t v;
    if (!elastic_storage_get_container_version(h, &v, &err)) return die(err);
    printf("%llu\n", (unsigned long long)v);
  } else if (!strcmp(cmd, "put") && argc >= 5) {
    uint64_t v;
    bool ok = argc >= 6 ? elastic_storage_store_object_with_type(
                              h, S(argv[3]), B(argv[4], strlen(argv[4])), S(argv[5]), &v, &err)
                        : elastic_storage_store_object(h, S(argv[3]), B(argv[4], strlen(argv[4])),
                                                       &v, &err);
    if (!ok) return die(err);
    printf("stored %s version %llu\n", argv[3], (unsigned long long)v);
  } else if (!strcmp(cmd, "get") && argc >= 4) {
    elastic_bytes_t b;
    if (!elastic_storage_retrieve_object(h, S(argv[3]), &b, &err)) return die(err);
    fwrite(b.ptr, 1, b.len, stdout);
    elastic_bytes_free(&b);
  } else if (!strcmp(cmd, "del") && argc >= 4) {
    if (!elastic_storage_delete_object(h, S(argv[3]), &err)) return die(err);
    printf("deleted %s\n", argv[3]);
  } else if (!strcmp(cmd, "meta") && argc >= 4) {
    elastic_storage_object_metadata_t m;
    if (!elastic_storage_get_metadata(h, S(argv[3]), &m, &err)) return die(err);
    printf("size %llu created %llu type %.*s\n", (unsigned long long)m.size,
           (unsigned long long)m.created_at, (int)m.content_type.len, m.content_type.ptr);
    elastic_string_free(&m.content_type);
  } else if (!strcmp(cmd, "list")) {
    elastic_storage_list_string_t l;
    if (!elastic_storage_list_objects(h, &l, &err)) return die(err);
    for (size_t i = 0; i < l.len; i++) {
      printf("%.*s\n", (int)l.ptr[i].len, l.ptr[i].ptr);
      elastic_string_free(&l.ptr[i]);
    }
    free(l.ptr);
  } else if (!strcmp(cmd, "page") && argc >= 4) {
    uint32_t limit = (uint32_t)atoi(argv[3]);
    char cursor[128] = "";
    int pages = 0;
    for (;;) {
      elastic_storage_object_page_t p;
      if (!elastic_storage_list_objects_with_metadata(h, S(cursor), limit, &p, &err))
        return die(err);
      pages++;
      for (size_t i = 0; i < p.objects.len; i++) {
        elastic_storage_object_info_t *o = &p.objects.ptr[i];
        printf("%.*s version %llu size %llu type %.*s\n", (int)o->key.len, o->key.ptr,
               (unsigned long long)o->version, (unsigned long long)o->metadata.size,
               (int)o->metadata.content_type.len, o->metadata.content_type.ptr);
        elastic_string_free(&o->key);
        elastic_string_free(&o->metadata.content_type);
      }
      free(p.objects.ptr);
      if (!p.next_cursor.is_some) break;
      snprintf(cursor, sizeof cursor, "%.*s", (int)p.next_cursor.val.len, p.next_cursor.val.ptr);
      elastic_string_free(&p.next_cursor.val);
    }
    printf("pages %d\n", pages);
  } else if (!strcmp(cmd, "fill") && argc >= 5) {
    uint32_t n = (uint32_t)atoi(argv[3]), size = (uint32_t)atoi(argv[4]);
    for (uint32_t i = 0; i < n; i++) {
      char k[32];
      key_of(k, sizeof k, i);
      size_t sz = gen_size(i, size);
      uint8_t *d = gen(i, sz);
      uint64_t v;
      bool ok = elastic_storage_store_object(h, S(k), B(d, sz), &v, &err);
      free(d);
      if (!ok) return die(err);
    }
    printf("filled %u\n", (unsigned)n);
  } else if (!strcmp(cmd, "check") && argc >= 4) {
    uint32_t n = (uint32_t)atoi(argv[3]);
    for (uint32_t i = 0; i < n; i++) {
      char k[32];
      key_of(k, sizeof k, i);
      elastic_bytes_t b;
      if (!elastic_storage_retrieve_object(h, S(k), &b, &err)) return die(err);
      int64_t idx = gen_check(b.ptr, b.len);
      size_t got = b.len;
      elastic_bytes_free(&b);
      if (idx != (int64_t)i) {
        fprintf(stderr, "error: object %s (%zu bytes) is not the one stored\n", k, got);
        return 1;
      }
    }
    printf("checked %u\n", (unsigned)n);
  } else if (!strcmp(cmd, "writer") && argc >= 5) {
    uint32_t nkeys = (uint32_t)atoi(argv[3]);
    for (uint32_t i = (uint32_t)strtoul(argv[4], NULL, 10);; i++) {
      char k[32];
      key_of(k, sizeof k, i % nkeys);
      size_t sz = gen_size(i, 0);
      uint8_t *d = gen(i, sz);
      uint64_t v;
      bool ok = elastic_storage_store_object(h, S(k), B(d, sz), &v, &err);
      free(d);
      if (!ok) return die(err);
      printf("ack %u %s %llu\n", (unsigned)i, k, (unsigned long long)v);
      fflush(stdout);
    }
  } else if (!strcmp(cmd, "verify") && argc >= 4) {
    uint32_t nkeys = (uint32_t)atoi(argv[3]);
    for (uint32_t j = 0; j < nkeys; j++) {
      char k[32];
      key_of(k, sizeof k, j);
      elastic_bytes_t b;
      if (!elastic_storage_retrieve_object(h, S(k), &b, &err)) {
        if (has(err, "not found"))
          printf("missing %s\n", k);
        else
          printf("bad %s %.*s\n", k, (int)err.len, err.ptr);
        elastic_string_free(&err);
        continue;
      }
      int64_t idx = gen_check(b.ptr, b.len);
      if (idx < 0 || (uint32_t)idx % nkeys != j)
        printf("bad %s content is not an object written under this key\n", k);
      else
        printf("have %s %lld\n", k, (long long)idx);
      elastic_bytes_free(&b);
    }
    uint64_t v;
    if (!elastic_storage_get_container_version(h, &v, &err)) return die(err);
    printf("version %llu\n", (unsigned long long)v);
    fflush(stdout);
  } else {
    fprintf(stderr, "storage_guest: unknown command or missing arguments: %s\n", cmd);
    return 2;
  }
  return 0;
}

/* ---- self-checks (exports) ---- */

static void fs(elastic_string_t *s) { elastic_string_free(s); }

/* The 0.1.0 surface and the documented semantics. */
EXPORT("test_basic") int test_basic(void) {
  elastic_string_t err;
  chandle a, a2, b;
  /* open before create: not found; create twice: already exists */
  CHECK(!elastic_storage_open_container(S("basic"), &a, &err) && has(err, "not found"));
  fs(&err);
  CHECK(elastic_storage_create_container(S("basic"), &a, &err));
  CHECK(a != 0);
  CHECK(!elastic_storage_create_container(S("basic"), &b, &err) && has(err, "already exists"));
  fs(&err);
  CHECK(elastic_storage_open_container(S("basic"), &a2, &err));
  CHECK(a2 != a);

  uint64_t v0, v1, v2, v;
  CHECK(elastic_storage_get_container_version(a, &v0, &err));
  CHECK(v0 == 0);
  CHECK(elastic_storage_store_object(a, S("hello"), B("world", 5), &v1, &err));
  CHECK(v1 == 1);
  /* a second handle to the same container sees it at once */
  elastic_bytes_t got;
  CHECK(elastic_storage_retrieve_object(a2, S("hello"), &got, &err));
  CHECK(got.len == 5 && !memcmp(got.ptr, "world", 5));
  elastic_bytes_free(&got);
  /* overwrite: a later version; empty objects are fine */
  CHECK(elastic_storage_store_object(a, S("hello"), B("", 0), &v2, &err));
  CHECK(v2 == 2);
  CHECK(elastic_storage_retrieve_object(a, S("hello"), &got, &err));
  CHECK(got.len == 0);
  elastic_bytes_free(&got);
  CHECK(elastic_storage_get_container_version(a, &v, &err) && v == 2);

  /* metadata, default and explicit content type */
  elastic_storage_object_metadata_t m;
  CHECK(elastic_storage_get_metadata(a, S("hello"), &m, &err));
  CHECK(m.size == 0 && m.created_at > 1600000000ull &&
        eq(m.content_type, "application/octet-stream"));
  fs(&m.content_type);
  uint64_t v3;
  CHECK(elastic_storage_store_object_with_type(a, S("doc.json"), B("{\"a\":1}", 7),
                                               S("application/json"), &v3, &err));
  CHECK(v3 == 3);
  CHECK(elastic_storage_get_metadata(a, S("doc.json"), &m, &err));
  CHECK(m.size == 7 && eq(m.content_type, "application/json"));
  fs(&m.content_type);

  /* keys are opaque strings: slashes, dots, unicode, spaces */
  const char *odd[] = {
      "../../etc/passwd", "/abs/path", "a/b/c", ".", "..", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80",
      " spaced key ",     "x"};
  for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
    CHECK(elastic_storage_store_object(a, S(odd[i]), B(odd[i], strlen(odd[i])), &v, &err));
    CHECK(elastic_storage_retrieve_object(a, S(odd[i]), &got, &err));
    CHECK(got.len == strlen(odd[i]) && !memcmp(got.ptr, odd[i], got.len));
    elastic_bytes_free(&got);
  }
  /* list: every key exactly once */
  elastic_storage_list_string_t l;
  CHECK(elastic_storage_list_objects(a, &l, &err));
  CHECK(l.len == 2 + sizeof odd / sizeof *odd);
  int seen_hello = 0, seen_dotdot = 0;
  for (size_t i = 0; i < l.len; i++) {
    if (eq(l.ptr[i], "hello")) seen_hello++;
    if (eq(l.ptr[i], "../../etc/passwd")) seen_dotdot++;
    fs(&l.ptr[i]);
  }
  free(l.ptr);
  CHECK(seen_hello == 1 && seen_dotdot == 1);

  /* delete-object, then not found everywhere */
  CHECK(elastic_storage_delete_object(a, S("hello"), &err));
  CHECK(!elastic_storage_retrieve_object(a, S("hello"), &got, &err) && has(err, "not found"));
  fs(&err);
  CHECK(!elastic_storage_get_metadata(a, S("hello"), &m, &err) && has(err, "not found"));
  fs(&err);
  CHECK(!elastic_storage_delete_object(a, S("hello"), &err) && has(err, "not found"));
  fs(&err);

  /* delete-container: objects go with it; the other handle says not found;
   * a new container of the same name is empty */
  CHECK(elastic_storage_delete_container(a, &err));
  CHECK(!elastic_storage_retrieve_object(a, S("x"), &got, &err) &&
        has(err, "invalid container handle"));
  fs(&err);
  CHECK(!elastic_storage_retrieve_object(a2, S("x"), &got, &err) && has(err, "not found"));
  fs(&err);
  CHECK(!elastic_storage_open_container(S("basic"), &b, &err) && has(err, "not found"));
  fs(&err);
  CHECK(elastic_storage_create_container(S("basic"), &b, &err));
  CHECK(elastic_storage_list_objects(b, &l, &err) && l.len == 0);
  CHECK(!elastic_storage_retrieve_object(b, S("x"), &got, &err) && has(err, "not found"));
  fs(&err);
  CHECK(elastic_storage_delete_container(b, &err));
  return 0;
}

/* Argument validation and handles. */
EXPORT("test_invalid") int test_invalid(void) {
  elastic_string_t err;
  chandle h;
  uint64_t v;
  elastic_bytes_t got;
  /* container names: empty, too long, control characters */
  CHECK(!elastic_storage_create_container(S(""), &h, &err) && has(err, "invalid argument"));
  fs(&err);
  static char longname[300];
  memset(longname, 'n', 256);
  CHECK(!elastic_storage_create_container(S(longname), &h, &err) && has(err, "invalid argument"));
  fs(&err);
  longname[255] = 0;
  CHECK(elastic_storage_create_container(S(longname), &h, &err));
  CHECK(elastic_storage_delete_container(h, &err));
  CHECK(!elastic_storage_create_container(S("tab\there"), &h, &err) &&
        has(err, "invalid argument"));
  fs(&err);
  elastic_string_t nul = {(char *)"a\0b", 3};
  CHECK(!elastic_storage_create_container(nul, &h, &err) && has(err, "invalid argument"));
  fs(&err);

  CHECK(elastic_storage_create_container(S("inv"), &h, &err));
  /* object keys: empty, NUL, too long; 1024 bytes is fine */
  CHECK(!elastic_storage_store_object(h, S(""), B("x", 1), &v, &err) &&
        has(err, "invalid argument"));
  fs(&err);
  CHECK(!elastic_storage_store_object(h, nul, B("x", 1), &v, &err) && has(err, "NUL"));
  fs(&err);
  CHECK(!elastic_storage_retrieve_object(h, nul, &got, &err) && has(err, "NUL"));
  fs(&err);
  static char longkey[1100];
  memset(longkey, 'k', 1025);
  CHECK(!elastic_storage_store_object(h, S(longkey), B("x", 1), &v, &err) &&
        has(err, "longer than"));
  fs(&err);
  longkey[1024] = 0;
  CHECK(elastic_storage_store_object(h, S(longkey), B("x", 1), &v, &err));
  CHECK(elastic_storage_retrieve_object(h, S(longkey), &got, &err) && got.len == 1);
  elastic_bytes_free(&got);
  /* content types */
  static char longtype[300];
  memset(longtype, 't', 256);
  CHECK(!elastic_storage_store_object_with_type(h, S("k"), B("x", 1), S(longtype), &v, &err) &&
        has(err, "content type"));
  fs(&err);
  CHECK(
      !elastic_storage_store_object_with_type(h, S("k"), B("x", 1), S("text/\nplain"), &v, &err) &&
      has(err, "content type"));
  fs(&err);
  /* paging cursor */
  elastic_storage_object_page_t p;
  CHECK(!elastic_storage_list_objects_with_metadata(h, S("not-a-cursor"), 10, &p, &err) &&
        has(err, "cursor"));
  fs(&err);
  /* handles: forged, zero, deleted */
  CHECK(!elastic_storage_retrieve_object(0, S("k"), &got, &err) &&
        has(err, "invalid container handle"));
  fs(&err);
  CHECK(!elastic_storage_retrieve_object(h + 1, S("k"), &got, &err) &&
        has(err, "invalid container handle"));
  fs(&err);
  CHECK(!elastic_storage_retrieve_object(h ^ (1ull << 40), S("k"), &got, &err) &&
        has(err, "invalid container handle"));
  fs(&err);
  CHECK(elastic_storage_delete_container(h, &err));
  CHECK(!elastic_storage_delete_container(h, &err) && has(err, "invalid container handle"));
  fs(&err);
  return 0;
}

/* Paging with metadata over n objects, page size `limit`. */
EXPORT("test_paging") int test_paging(int n, int limit) {
  elastic_string_t err;
  chandle h;
  CHECK(elastic_storage_create_container(S("paging"), &h, &err));
  for (int i = 0; i < n; i++) {
    char k[32], t[32];
    snprintf(k, sizeof k, "obj-%04d", i);
    snprintf(t, sizeof t, "type/%d", i);
    uint64_t v;
    CHECK(elastic_storage_store_object_with_type(h, S(k), B(k, strlen(k)), S(t), &v, &err));
    CHECK(v == (uint64_t)i + 1);
  }
  static unsigned char seen[5000];
  CHECK(n <= 5000);
  memset(seen, 0, sizeof seen);
  char cursor[128] = "";
  int pages = 0, total = 0;
  for (;;) {
    elastic_storage_object_page_t p;
    CHECK(elastic_storage_list_objects_with_metadata(h, S(cursor), (uint32_t)limit, &p, &err));
    pages++;
    CHECK(p.objects.len <= (size_t)(limit ? limit : 100));
    for (size_t i = 0; i < p.objects.len; i++) {
      elastic_storage_object_info_t *o = &p.objects.ptr[i];
      int idx;
      CHECK(o->key.len == 8 && sscanf(o->key.ptr, "obj-%4d", &idx) == 1 && idx >= 0 && idx < n);
      CHECK(!seen[idx]);
      seen[idx] = 1;
      char t[32];
      snprintf(t, sizeof t, "type/%d", idx);
      CHECK(o->version == (uint64_t)idx + 1 && o->metadata.size == 8 &&
            eq(o->metadata.content_type, t));
      CHECK(o->metadata.created_at > 1600000000ull);
      fs(&o->key);
      fs(&o->metadata.content_type);
      total++;
    }
    free(p.objects.ptr);
    if (!p.next_cursor.is_some) break;
    CHECK(p.next_cursor.val.len < sizeof cursor);
    memcpy(cursor, p.next_cursor.val.ptr, p.next_cursor.val.len);
    cursor[p.next_cursor.val.len] = 0;
    fs(&p.next_cursor.val);
    CHECK(pages <= n + 1);
  }
  CHECK(total == n);
  int per = limit ? limit : 100;
  CHECK(pages == (n == 0 ? 1 : (n + per - 1) / per));
  CHECK(elastic_storage_delete_container(h, &err));
  return 0;
}

/* Limits, as the host configured them (test_storage.c passes them in). */
EXPORT("test_limit_object") int test_limit_object(int max_object) {
  elastic_string_t err;
  chandle h;
  uint64_t v;
  CHECK(elastic_storage_create_container(S("lim-object"), &h, &err));
  uint8_t *d = calloc(1, (size_t)max_object + 1);
  CHECK(d);
  CHECK(elastic_storage_store_object(h, S("max"), B(d, (size_t)max_object), &v, &err));
  bool refused =
      !elastic_storage_store_object(h, S("over"), B(d, (size_t)max_object + 1), &v, &err);
  free(d);
  CHECK(refused && has(err, "limit exceeded") && has(err, "maximum"));
  fs(&err);
  elastic_bytes_t got;
  CHECK(elastic_storage_retrieve_object(h, S("max"), &got, &err) && got.len == (size_t)max_object);
  elastic_bytes_free(&got);
  CHECK(elastic_storage_delete_container(h, &err));
  return 0;
}

EXPORT("test_limit_count") int test_limit_count(int max_objects) {
  elastic_string_t err;
  chandle h;
  uint64_t v;
  CHECK(elastic_storage_create_container(S("lim-count"), &h, &err));
  for (int i = 0; i < max_objects; i++) {
    char k[32];
    snprintf(k, sizeof k, "o%d", i);
    CHECK(elastic_storage_store_object(h, S(k), B("x", 1), &v, &err));
  }
  CHECK(!elastic_storage_store_object(h, S("one-more"), B("x", 1), &v, &err) &&
        has(err, "limit exceeded") && has(err, "objects"));
  fs(&err);
  /* replacing an existing object is not a new object */
  CHECK(elastic_storage_store_object(h, S("o0"), B("yy", 2), &v, &err));
  CHECK(elastic_storage_delete_object(h, S("o1"), &err));
  CHECK(elastic_storage_store_object(h, S("one-more"), B("x", 1), &v, &err));
  CHECK(elastic_storage_delete_container(h, &err));
  return 0;
}

EXPORT("test_limit_bytes") int test_limit_bytes(int quota) {
  elastic_string_t err;
  chandle h1, h2;
  uint64_t v;
  CHECK(elastic_storage_create_container(S("lim-bytes-1"), &h1, &err));
  CHECK(elastic_storage_create_container(S("lim-bytes-2"), &h2, &err));
  size_t half = (size_t)quota / 2;
  uint8_t *d = calloc(1, (size_t)quota + 1);
  CHECK(d);
  /* the quota is per workload: over all its containers */
  CHECK(elastic_storage_store_object(h1, S("a"), B(d, half), &v, &err));
  CHECK(elastic_storage_store_object(h2, S("b"), B(d, (size_t)quota - half), &v, &err));
  bool refused = !elastic_storage_store_object(h2, S("c"), B(d, 1), &v, &err);
  CHECK(refused && has(err, "limit exceeded") && has(err, "quota"));
  fs(&err);
  /* replacing counts the difference; deleting frees */
  CHECK(elastic_storage_store_object(h1, S("a"), B(d, half), &v, &err));
  CHECK(elastic_storage_delete_object(h1, S("a"), &err));
  CHECK(elastic_storage_store_object(h2, S("c"), B(d, half), &v, &err));
  free(d);
  CHECK(elastic_storage_delete_container(h1, &err));
  CHECK(elastic_storage_delete_container(h2, &err));
  return 0;
}

/* A flood of empty objects with the longest keys: each object is charged
 * against the workload's quota (header, key, index row), so the quota is
 * reached after at most max_objects of them, not never. */
EXPORT("test_limit_key_flood") int test_limit_key_flood(int max_objects) {
  elastic_string_t err;
  chandle h;
  uint64_t v;
  CHECK(max_objects > 0);
  CHECK(elastic_storage_create_container(S("lim-key-flood"), &h, &err));
  static char key[1025];
  int stored = 0, tries = 10 * max_objects + 10;
  bool refused = false;
  for (int i = 0; i < tries; i++) {
    memset(key, 'k', 1024);
    key[1024] = 0;
    int n = snprintf(key, sizeof key, "%d-", i);
    key[n] = 'k'; /* snprintf's NUL: the key stays 1024 bytes */
    elastic_string_t k = {key, 1024};
    if (!elastic_storage_store_object(h, k, B("", 0), &v, &err)) {
      refused = true;
      break;
    }
    stored++;
  }
  CHECK(refused);
  CHECK(has(err, "limit exceeded") && has(err, "quota"));
  fs(&err);
  CHECK(stored >= 1 && stored <= max_objects);
  /* deleting one gives its charge back */
  memset(key, 'k', 1024);
  int n = snprintf(key, sizeof key, "%d-", 0);
  key[n] = 'k';
  elastic_string_t k0 = {key, 1024};
  CHECK(elastic_storage_delete_object(h, k0, &err));
  CHECK(elastic_storage_store_object(h, k0, B("", 0), &v, &err));
  CHECK(elastic_storage_delete_container(h, &err));
  return 0;
}

EXPORT("test_limit_containers") int test_limit_containers(int max_containers) {
  elastic_string_t err;
  chandle h[64];
  CHECK(max_containers < 64);
  for (int i = 0; i < max_containers; i++) {
    char n[32];
    snprintf(n, sizeof n, "c%d", i);
    CHECK(elastic_storage_create_container(S(n), &h[i], &err));
  }
  chandle x;
  CHECK(!elastic_storage_create_container(S("too-many"), &x, &err) && has(err, "limit exceeded"));
  fs(&err);
  for (int i = 0; i < max_containers; i++) CHECK(elastic_storage_delete_container(h[i], &err));
  return 0;
}

/* Another workload's container: the same name is a different container. */
EXPORT("test_isolation_write") int test_isolation_write(void) {
  elastic_string_t err;
  chandle h;
  uint64_t v;
  CHECK(elastic_storage_create_container(S("private"), &h, &err));
  CHECK(elastic_storage_store_object(h, S("secret"), B("alice's data", 12), &v, &err));
  return 0;
}

EXPORT("test_isolation_read") int test_isolation_read(void) {
  elastic_string_t err;
  chandle h;
  CHECK(!elastic_storage_open_container(S("private"), &h, &err) && has(err, "not found"));
  fs(&err);
  return 0;
}

/* Big objects round-trip intact. */
EXPORT("test_big") int test_big(int size) {
  elastic_string_t err;
  chandle h;
  uint64_t v;
  CHECK(elastic_storage_create_container(S("big"), &h, &err));
  uint8_t *d = gen(7, (size_t)size);
  CHECK(elastic_storage_store_object(h, S("big"), B(d, (size_t)size), &v, &err));
  free(d);
  elastic_bytes_t got;
  CHECK(elastic_storage_retrieve_object(h, S("big"), &got, &err));
  CHECK(gen_check(got.ptr, got.len) == 7);
  elastic_bytes_free(&got);
  CHECK(elastic_storage_delete_container(h, &err));
  return 0;
}

/* Linear memory pages now (for the memory limit of the trap test). */
EXPORT("mem_pages") int mem_pages(void) { return (int)__builtin_wasm_memory_size(0); }

/* A trap inside the store's read transaction: store a `size`-byte object,
 * fill the heap (the instance runs at a memory limit), then retrieve the
 * object.  The host decrypts it straight into a buffer from this guest's
 * cabi_realloc, inside the read transaction, and that allocation fails and
 * aborts: the call traps there.  Returns only if it did not trap. */
static void *g_hog[4096];
static size_t g_nhog;

EXPORT("trap_in_retrieve") int trap_in_retrieve(int size) {
  elastic_string_t err;
  chandle h;
  uint64_t v;
  CHECK(elastic_storage_create_container(S("trap"), &h, &err));
  uint8_t *d = gen(11, (size_t)size);
  CHECK(elastic_storage_store_object(h, S("obj"), B(d, (size_t)size), &v, &err));
  free(d);
  for (size_t chunk = 64 * 1024; chunk >= 64 && g_nhog < 4096;) {
    void *p = malloc(chunk);
    if (p)
      g_hog[g_nhog++] = p;
    else
      chunk /= 2;
  }
  elastic_bytes_t got;
  elastic_storage_retrieve_object(h, S("obj"), &got, &err); /* traps */
  return __LINE__;
}

/* After that trap: the heap back, and the store works for this instance
 * (its read transaction ended: a write transaction begins). */
EXPORT("after_trap") int after_trap(void) {
  while (g_nhog) free(g_hog[--g_nhog]);
  elastic_string_t err;
  chandle h;
  uint64_t v;
  CHECK(elastic_storage_open_container(S("trap"), &h, &err));
  CHECK(elastic_storage_store_object(h, S("small"), B("after", 5), &v, &err));
  elastic_bytes_t got;
  CHECK(elastic_storage_retrieve_object(h, S("obj"), &got, &err));
  CHECK(gen_check(got.ptr, got.len) == 11);
  elastic_bytes_free(&got);
  CHECK(elastic_storage_retrieve_object(h, S("small"), &got, &err));
  CHECK(got.len == 5 && memcmp(got.ptr, "after", 5) == 0);
  elastic_bytes_free(&got);
  CHECK(elastic_storage_delete_container(h, &err));
  return 0;
}

/* Store/retrieve n objects in container "shared" with a prefix, for the
 * concurrency test (several instances of the same workload). */
EXPORT("test_shared_writer") int test_shared_writer(int id, int n) {
  elastic_string_t err;
  chandle h;
  if (!elastic_storage_open_container(S("shared"), &h, &err)) {
    fs(&err);
    if (!elastic_storage_create_container(S("shared"), &h, &err)) {
      /* another instance won the race */
      fs(&err);
      CHECK(elastic_storage_open_container(S("shared"), &h, &err));
    }
  }
  for (int i = 0; i < n; i++) {
    char k[32];
    snprintf(k, sizeof k, "w%d-%d", id, i);
    uint64_t v;
    CHECK(elastic_storage_store_object(h, S(k), B(k, strlen(k)), &v, &err));
    elastic_bytes_t got;
    CHECK(elastic_storage_retrieve_object(h, S(k), &got, &err));
    CHECK(got.len == strlen(k) && !memcmp(got.ptr, k, got.len));
    elastic_bytes_free(&got);
  }
  return 0;
}

EXPORT("test_shared_count") int test_shared_count(int expect) {
  elastic_string_t err;
  chandle h;
  CHECK(elastic_storage_open_container(S("shared"), &h, &err));
  elastic_storage_list_string_t l;
  CHECK(elastic_storage_list_objects(h, &l, &err));
  size_t n = l.len;
  for (size_t i = 0; i < l.len; i++) fs(&l.ptr[i]);
  free(l.ptr);
  CHECK(n == (size_t)expect);
  uint64_t v;
  CHECK(elastic_storage_get_container_version(h, &v, &err) && v == (uint64_t)expect);
  return 0;
}

/* ---- key contexts (crypto 0.1.1 contexts given to a container) ---- */

static bool key_ctx(uint8_t fill_byte, elastic_crypto_key_algorithm_t alg, uint64_t *h) {
  elastic_string_t err;
  uint8_t k[32];
  memset(k, fill_byte, sizeof k);
  if (!elastic_crypto_create_context(h, &err)) {
    fs(&err);
    return false;
  }
  if (!elastic_crypto_import_key(*h, alg, B(k, sizeof k), false, &err)) {
    fs(&err);
    return false;
  }
  return true;
}

EXPORT("test_keyed_create") int test_keyed_create(void) {
  elastic_string_t err;
  chandle h, plain;
  uint64_t k, v;
  CHECK(key_ctx(0x5a, ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, &k));
  CHECK(elastic_storage_create_container(S("vault"), &h, &err));
  CHECK(elastic_storage_load_key_context(h, k, &err));
  CHECK(elastic_storage_store_object(h, S("secret"), B("keyed data", 10), &v, &err));
  elastic_bytes_t got;
  CHECK(elastic_storage_retrieve_object(h, S("secret"), &got, &err));
  CHECK(got.len == 10 && !memcmp(got.ptr, "keyed data", 10));
  elastic_bytes_free(&got);
  /* the key context can be destroyed: the container keeps what it derived */
  CHECK(elastic_crypto_destroy_context(k, &err));
  CHECK(elastic_storage_retrieve_object(h, S("secret"), &got, &err));
  elastic_bytes_free(&got);
  /* a container holding objects cannot be keyed */
  CHECK(elastic_storage_create_container(S("plain"), &plain, &err));
  CHECK(elastic_storage_store_object(plain, S("x"), B("x", 1), &v, &err));
  CHECK(key_ctx(0x5a, ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, &k));
  CHECK(!elastic_storage_load_key_context(plain, k, &err) && has(err, "unsupported"));
  fs(&err);
  /* not a key context, not a symmetric key */
  CHECK(!elastic_storage_load_key_context(h, 0xdead, &err) && has(err, "invalid argument"));
  fs(&err);
  uint64_t hm;
  CHECK(key_ctx(1, ELASTIC_CRYPTO_KEY_ALGORITHM_HMAC_SHA256, &hm));
  CHECK(!elastic_storage_load_key_context(h, hm, &err) && has(err, "invalid argument"));
  fs(&err);
  return 0;
}

EXPORT("test_keyed_reopen") int test_keyed_reopen(void) {
  elastic_string_t err;
  chandle h;
  elastic_bytes_t got;
  uint64_t v, wrong, right;
  CHECK(elastic_storage_open_container(S("vault"), &h, &err));
  CHECK(!elastic_storage_retrieve_object(h, S("secret"), &got, &err) && has(err, "key error"));
  fs(&err);
  CHECK(!elastic_storage_store_object(h, S("other"), B("x", 1), &v, &err) && has(err, "key error"));
  fs(&err);
  CHECK(elastic_storage_get_container_version(h, &v, &err) && v == 2);
  CHECK(key_ctx(0x11, ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, &wrong));
  CHECK(!elastic_storage_load_key_context(h, wrong, &err) && has(err, "key error"));
  fs(&err);
  CHECK(!elastic_storage_retrieve_object(h, S("secret"), &got, &err) && has(err, "key error"));
  fs(&err);
  CHECK(key_ctx(0x5a, ELASTIC_CRYPTO_KEY_ALGORITHM_AES256_GCM, &right));
  CHECK(elastic_storage_load_key_context(h, right, &err));
  CHECK(elastic_storage_retrieve_object(h, S("secret"), &got, &err));
  CHECK(got.len == 10 && !memcmp(got.ptr, "keyed data", 10));
  elastic_bytes_free(&got);
  return 0;
}
