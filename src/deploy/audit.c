/* audit.c - a deployment's tamper-evident audit log (see audit.h). */
#define _GNU_SOURCE
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#define AUDIT_MAX_BYTES (1ull << 30) /* what verify reads */
#define AUDIT_TAIL 262144            /* what open reads: the last record is in it */

struct ehal_audit {
  int fd;
  char *deployment;
  uint8_t key[EHAL_AUDIT_KEY_LEN];
  char prev[HASH_HEX + 1];
  uint64_t seq;
};

int ehal_audit_key(const char *state_dir, const char *deployment, uint8_t key[EHAL_AUDIT_KEY_LEN],
                   char *err, size_t errlen) {
  uint8_t root[EHAL_SEALING_ROOT_LEN];
  if (ehal_sealing_root(state_dir, root, err, errlen) != 0) return -1;
  int rc = ehal_derive_key(root, "elastic-hal/audit", (const uint8_t *)deployment,
                           strlen(deployment), key, EHAL_AUDIT_KEY_LEN);
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

static const char *str_of(json_object *v) {
  const char *s = json_object_get_string(v);
  return s ? s : "";
}

/* Checks one record: its mac, its deployment, and, with prev (the hex
 * hash of the record before it), its link and that its seq follows *seq
 * (0: it is the first, seq 1).  *seq becomes the record's.  0, or -1 with
 * why set. */
static int check_record(const char *line, size_t n, const char *deployment,
                        const uint8_t key[EHAL_AUDIT_KEY_LEN], const char *prev, uint64_t *seq,
                        char *why, size_t cap) {
  uint8_t mac[32];
  if (n < SUFFIX_LEN + 2 || memcmp(line + n - SUFFIX_LEN, MAC_SUFFIX, sizeof MAC_SUFFIX - 1) ||
      memcmp(line + n - 2, "\"}", 2) ||
      ehal_hex_decode_mem(line + n - 2 - HASH_HEX, HASH_HEX, mac, sizeof mac,
                          EHAL_HEX_LOWER_ONLY) != sizeof mac) {
    snprintf(why, cap, "not an audit record (no mac at its end)");
    return -1;
  }
  if (ehal_hmac_verify(EHAL_PRIM_SHA256, key, EHAL_AUDIT_KEY_LEN, (const uint8_t *)line,
                       n - SUFFIX_LEN, mac, sizeof mac, sizeof mac) != 1) {
    snprintf(why, cap, "its mac does not verify (altered, or not written here)");
    return -1;
  }
  /* authentic from here on: the fields are the writer's */
  char *copy = strndup(line, n);
  json_object *o = copy ? json_tokener_parse(copy) : NULL, *v;
  free(copy);
  int rc = -1;
  if (!json_object_is_type(o, json_type_object)) {
    snprintf(why, cap, "not a JSON object");
  } else if (!json_object_object_get_ex(o, "deployment", &v) || strcmp(str_of(v), deployment)) {
    snprintf(why, cap, "it belongs to another deployment");
  } else if (prev && (!json_object_object_get_ex(o, "prev", &v) || strcmp(str_of(v), prev))) {
    snprintf(why, cap,
             "the chain is broken (it does not follow the record before it: one was removed, "
             "inserted or reordered)");
  } else if (!json_object_object_get_ex(o, "seq", &v) ||
             (prev && (uint64_t)json_object_get_int64(v) != *seq + 1)) {
    snprintf(why, cap, "its sequence number does not follow %llu", (unsigned long long)*seq);
  } else {
    *seq = (uint64_t)json_object_get_int64(v);
    rc = 0;
  }
  json_object_put(o);
  return rc;
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
  /* continue the chain after the last record there is, once it verifies:
   * only the file's tail is read (a record is far shorter than it) */
  struct stat st;
  off_t from = fstat(a->fd, &st) == 0 && st.st_size > AUDIT_TAIL ? st.st_size - AUDIT_TAIL : 0;
  size_t len = 0;
  uint8_t *text = malloc(AUDIT_TAIL);
  ssize_t k = text ? pread(a->fd, text, AUDIT_TAIL, from) : -1;
  if (k < 0) {
    snprintf(err, errlen, "cannot read %s: %s", path, text ? strerror(errno) : "out of memory");
    free(text);
    ehal_audit_close(a);
    return NULL;
  }
  len = (size_t)k;
  const char *cur = (const char *)text, *end = cur + len, *line, *last = NULL;
  size_t n, last_len = 0;
  if (from > 0) { /* the window's first line is probably cut: skip it */
    const char *nl = memchr(cur, '\n', len);
    cur = nl ? nl + 1 : end;
  }
  while ((line = next_line(&cur, end, &n)))
    if (n) last = line, last_len = n;
  if (len) {
    char why[256];
    uint64_t seq = 0;
    if (text[len - 1] != '\n')
      snprintf(why, sizeof why, "it does not end with a whole record");
    else if (!last)
      snprintf(why, sizeof why, "no record in its last %d bytes", AUDIT_TAIL);
    else if (check_record(last, last_len, a->deployment, a->key, NULL, &seq, why, sizeof why))
      ;
    else
      why[0] = 0;
    if (why[0]) {
      snprintf(err, errlen,
               "audit log %s: its last record does not verify (%s): move the file away (and "
               "keep it) to start a new log",
               path, why);
      free(text);
      ehal_audit_close(a);
      return NULL;
    }
    sha256_hex(last, last_len, a->prev);
    a->seq = seq;
  }
  free(text);
  return a;
}

int ehal_audit_record(ehal_audit *a, const char *workload, const char *event, const char *detail) {
  json_object *o = json_object_new_object(), *d = detail ? json_tokener_parse(detail) : NULL;
  if (!o) {
    json_object_put(d);
    return -1;
  }
  /* a record not written whole leaves nothing: the file, seq and prev go
   * back to what they were */
  char prev[HASH_HEX + 1];
  memcpy(prev, a->prev, sizeof prev);
  uint64_t seq = a->seq;
  off_t at = lseek(a->fd, 0, SEEK_END);
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
  if (rc != 0) {
    int e = errno;
    if (at >= 0 && ftruncate(a->fd, at) != 0) { /* nothing more can be done */
    }
    memcpy(a->prev, prev, sizeof prev);
    a->seq = seq;
    errno = e;
  }
  return rc;
}

void ehal_audit_close(ehal_audit *a) {
  if (!a) return;
  if (a->fd >= 0) close(a->fd);
  OPENSSL_cleanse(a->key, sizeof a->key);
  free(a->deployment);
  free(a);
}

long ehal_audit_verify(const char *path, const char *deployment, const char *state_dir, long *count,
                       char *err, size_t errlen) {
  char dep[256];
  if (!deployment) { /* STATE_DIR/audit/NAME.log */
    const char *base = strrchr(path, '/');
    snprintf(dep, sizeof dep, "%s", base ? base + 1 : path);
    size_t n = strlen(dep);
    if (n > 4 && !strcmp(dep + n - 4, ".log")) dep[n - 4] = 0;
    deployment = dep;
  }
  size_t len = 0;
  uint8_t *text = ehal_read_file(path, AUDIT_MAX_BYTES, &len, err, errlen);
  if (!text) return -1;
  uint8_t key[EHAL_AUDIT_KEY_LEN];
  long broken = -1;
  if (len == 0)
    snprintf(err, errlen, "%s holds no record: nothing to verify", path);
  else if (ehal_audit_key(state_dir, deployment, key, err, errlen) == 0)
    broken = ehal_audit_verify_mem((const char *)text, len, deployment, key, count, err, errlen);
  OPENSSL_cleanse(key, sizeof key);
  free(text);
  return broken;
}

long ehal_audit_verify_mem(const char *text, size_t len, const char *deployment,
                           const uint8_t key[EHAL_AUDIT_KEY_LEN], long *count, char *err,
                           size_t errlen) {
  const char *cur = text, *end = cur + len, *line;
  char prev[HASH_HEX + 1], why[256];
  memset(prev, '0', HASH_HEX);
  prev[HASH_HEX] = 0;
  long no = 0, broken = 0;
  uint64_t seq = 0;
  size_t n;
  while (!broken && (line = next_line(&cur, end, &n))) {
    no++;
    if (check_record(line, n, deployment, key, prev, &seq, why, sizeof why)) {
      snprintf(err, errlen, "record %ld: %s", no, why);
      broken = no;
    }
    sha256_hex(line, n, prev);
  }
  if (count) *count = no;
  return broken;
}
