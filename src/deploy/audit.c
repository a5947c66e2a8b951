/* audit.c - a deployment's tamper-evident audit log (see audit.h). */
#define _GNU_SOURCE
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../attest/sealing.h"
#include "../crypto/primitives.h"
#include "../util/fileio.h"
#include "../util/fsutil.h"
#include "../util/hex.h"

#define HASH_HEX 64
#define MAC_SUFFIX ",\"mac\":\"" /* then 64 hex, then "} */
#define SUFFIX_LEN (sizeof MAC_SUFFIX - 1 + HASH_HEX + 2)
#define AUDIT_MAX_BYTES (1ull << 30)

struct ehal_audit {
  int fd;
  char *deployment;
  uint8_t key[EHAL_AUDIT_KEY_LEN];
  char prev[HASH_HEX + 1];
  uint64_t seq;
};

int ehal_audit_key(const char *state_dir, uint8_t key[EHAL_AUDIT_KEY_LEN], char *err,
                   size_t errlen) {
  uint8_t root[EHAL_SEALING_ROOT_LEN];
  if (ehal_sealing_root(state_dir, root, err, errlen) != 0) return -1;
  int rc = ehal_derive_key(root, "elastic-hal/audit", NULL, 0, key, EHAL_AUDIT_KEY_LEN);
  OPENSSL_cleanse(root, sizeof root);
  if (rc != 0) snprintf(err, errlen, "cannot derive the audit key");
  return rc;
}

static void sha256_hex(const char *p, size_t n, char out[HASH_HEX + 1]) {
  uint8_t d[32];
  ehal_prim_digest(EHAL_PRIM_SHA256, (const uint8_t *)p, n, d);
  ehal_hex_encode(d, sizeof d, out);
}

/* The next line of buf (without its newline), or NULL at the end. */
static const char *next_line(const char **cur, const char *end, size_t *len) {
  if (*cur >= end) return NULL;
  const char *s = *cur, *nl = memchr(s, '\n', (size_t)(end - s));
  *len = (size_t)((nl ? nl : end) - s);
  *cur = nl ? nl + 1 : end;
  return s;
}

ehal_audit *ehal_audit_open(const char *path, const char *deployment,
                            const uint8_t key[EHAL_AUDIT_KEY_LEN], char *err, size_t errlen) {
  ehal_audit *a = calloc(1, sizeof *a);
  if (!a || !(a->deployment = strdup(deployment))) {
    free(a);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  memcpy(a->key, key, EHAL_AUDIT_KEY_LEN);
  memset(a->prev, '0', HASH_HEX);
  a->fd = ehal_secure_open(path, O_RDWR | O_CREAT | O_APPEND, 0600, err, errlen);
  if (a->fd < 0) {
    ehal_audit_close(a);
    return NULL;
  }
  /* continue the chain after the last record there is */
  size_t len = 0;
  uint8_t *text = ehal_read_fd_named(a->fd, path, AUDIT_MAX_BYTES, &len, err, errlen);
  if (!text) {
    ehal_audit_close(a);
    return NULL;
  }
  const char *cur = (const char *)text, *end = cur + len, *line, *last = NULL;
  size_t n, last_len = 0;
  while ((line = next_line(&cur, end, &n)))
    if (n) last = line, last_len = n;
  if (last) {
    sha256_hex(last, last_len, a->prev);
    char *copy = strndup(last, last_len);
    json_object *o = copy ? json_tokener_parse(copy) : NULL, *v;
    if (o && json_object_object_get_ex(o, "seq", &v)) a->seq = (uint64_t)json_object_get_int64(v);
    json_object_put(o);
    free(copy);
  }
  free(text);
  return a;
}

int ehal_audit_record(ehal_audit *a, const char *workload, const char *event, const char *detail) {
  json_object *o = json_object_new_object(), *d = detail ? json_tokener_parse(detail) : NULL;
  if (!o) return -1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  json_object_object_add(o, "seq", json_object_new_int64((int64_t)++a->seq));
  json_object_object_add(o, "time",
                         json_object_new_int64((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
  json_object_object_add(o, "deployment", json_object_new_string(a->deployment));
  json_object_object_add(o, "workload", json_object_new_string(workload ? workload : ""));
  json_object_object_add(o, "event", json_object_new_string(event));
  json_object_object_add(o, "detail", d ? d : json_object_new_object());
  json_object_object_add(o, "prev", json_object_new_string(a->prev));
  size_t blen;
  const char *body = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &blen);
  int rc = -1;
  char *line = body ? malloc(blen + SUFFIX_LEN + 2) : NULL;
  if (line) {
    /* the object without its closing brace, then the mac over that */
    uint8_t mac[32];
    memcpy(line, body, blen - 1);
    size_t k = blen - 1;
    ehal_hmac(EHAL_PRIM_SHA256, a->key, EHAL_AUDIT_KEY_LEN, (const uint8_t *)line, k, mac);
    memcpy(line + k, MAC_SUFFIX, sizeof MAC_SUFFIX - 1);
    k += sizeof MAC_SUFFIX - 1;
    ehal_hex_encode(mac, sizeof mac, line + k);
    k += HASH_HEX;
    memcpy(line + k, "\"}", 2);
    k += 2;
    sha256_hex(line, k, a->prev);
    line[k++] = '\n';
    rc = ehal_write_all(a->fd, line, k) == 0 ? 0 : -1;
    free(line);
  }
  json_object_put(o);
  return rc;
}

void ehal_audit_close(ehal_audit *a) {
  if (!a) return;
  if (a->fd >= 0) close(a->fd);
  OPENSSL_cleanse(a->key, sizeof a->key);
  free(a->deployment);
  free(a);
}

long ehal_audit_verify(const char *path, const uint8_t key[EHAL_AUDIT_KEY_LEN], long *count,
                       char *err, size_t errlen) {
  size_t len = 0;
  uint8_t *text = ehal_read_file(path, AUDIT_MAX_BYTES, &len, err, errlen);
  if (!text) return -1;
  long broken = ehal_audit_verify_mem((const char *)text, len, key, count, err, errlen);
  free(text);
  return broken;
}

long ehal_audit_verify_mem(const char *text, size_t len, const uint8_t key[EHAL_AUDIT_KEY_LEN],
                           long *count, char *err, size_t errlen) {
  const char *cur = text, *end = cur + len, *line;
  char prev[HASH_HEX + 1];
  memset(prev, '0', HASH_HEX);
  prev[HASH_HEX] = 0;
  long no = 0, broken = 0;
  size_t n;
  while (!broken && (line = next_line(&cur, end, &n))) {
    no++;
    json_object *o = NULL, *v;
    char want_prev[HASH_HEX + 1] = "", *copy = NULL;
    uint8_t mac[32];
    if (n < SUFFIX_LEN + 2 || memcmp(line + n - SUFFIX_LEN, MAC_SUFFIX, sizeof MAC_SUFFIX - 1) ||
        memcmp(line + n - 2, "\"}", 2) ||
        ehal_hex_decode_mem(line + n - 2 - HASH_HEX, HASH_HEX, mac, sizeof mac,
                            EHAL_HEX_LOWER_ONLY) != sizeof mac) {
      snprintf(err, errlen, "record %ld: not an audit record (no mac at its end)", no);
      broken = no;
    } else if (ehal_hmac_verify(EHAL_PRIM_SHA256, key, EHAL_AUDIT_KEY_LEN, (const uint8_t *)line,
                                n - SUFFIX_LEN, mac, sizeof mac, sizeof mac) != 1) {
      snprintf(err, errlen, "record %ld: its mac does not verify (altered, or not written here)",
               no);
      broken = no;
    } else if (!(copy = strndup(line, n)) || !(o = json_tokener_parse(copy)) ||
               !json_object_object_get_ex(o, "prev", &v) ||
               snprintf(want_prev, sizeof want_prev, "%s", json_object_get_string(v)) < 0 ||
               strcmp(want_prev, prev)) {
      snprintf(err, errlen,
               "record %ld: the chain is broken (it does not follow record %ld: one was removed, "
               "inserted or reordered)",
               no, no - 1);
      broken = no;
    } else if (!json_object_object_get_ex(o, "seq", &v) || json_object_get_int64(v) < 1) {
      snprintf(err, errlen, "record %ld: no sequence number", no);
      broken = no;
    }
    json_object_put(o);
    free(copy);
    sha256_hex(line, n, prev);
  }
  if (count) *count = no;
  return broken;
}
