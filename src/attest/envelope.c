/*
 * envelope.c - the evidence envelope of docs/evidence.md: one JSON object
 * carrying the provider, the raw evidence unchanged (base64), the
 * certificate table when the platform gave one, and the binding inputs a
 * verifier needs to recompute REPORT_DATA.
 */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/hex.h"
#include "../util/utf8.h"
#include "attest.h"

/* Standard base64 with padding (RFC 4648 section 4). */
static char *b64(const uint8_t *p, size_t n) {
  if (n > (size_t)1 << 28) return NULL;
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  if (!out) return NULL;
  EVP_EncodeBlock((unsigned char *)out, p, (int)n);
  return out;
}

/* Adds key: string (copied); false on failure.  Takes ownership of s. */
static bool add_str(json_object *o, const char *key, char *s, bool owned) {
  json_object *v = s ? json_object_new_string(s) : NULL;
  if (owned) free(s);
  if (!v) return false;
  if (json_object_object_add(o, key, v) != 0) {
    json_object_put(v);
    return false;
  }
  return true;
}

int ehal_attest_envelope_json(const ehal_evidence *ev, const uint8_t *report_data,
                              size_t report_data_len,
                              const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN],
                              const char *world, const char *workload, char **json, size_t *len,
                              char *err, size_t errlen) {
  *json = NULL;
  *len = 0;
  if (!ev || !ev->evidence || !ev->evidence_len || !ev->provider || !ev->format) {
    snprintf(err, errlen, "no evidence to wrap");
    return -1;
  }
  if (report_data_len > EHAL_REPORT_DATA_MAX) {
    snprintf(err, errlen, "report-data is %zu bytes; at most %d are allowed", report_data_len,
             EHAL_REPORT_DATA_MAX);
    return -1;
  }
  if (!ehal_utf8_valid((const uint8_t *)world, strlen(world)) ||
      !ehal_utf8_valid((const uint8_t *)workload, strlen(workload))) {
    snprintf(err, errlen, "the world and the workload name must be UTF-8");
    return -1;
  }
  json_object *root = json_object_new_object(), *evo = json_object_new_object(),
              *bind = json_object_new_object();
  bool ok = root && evo && bind;
  ok = ok && add_str(root, "type", (char *)"elastic-hal-evidence", false);
  ok = ok && json_object_object_add(root, "version", json_object_new_int(1)) == 0;
  ok = ok && add_str(root, "provider", (char *)ev->provider, false);
  ok = ok && add_str(evo, "format", (char *)ev->format, false);
  ok = ok && add_str(evo, "data", b64(ev->evidence, ev->evidence_len), true);
  if (ok) {
    ok = json_object_object_add(root, "evidence", evo) == 0;
    if (ok) evo = NULL;
  }
  if (ok && ev->certs && ev->certs_len)
    ok = add_str(root, "certificates", b64(ev->certs, ev->certs_len), true);
  ok = ok && add_str(bind, "scheme", (char *)"elastic-hal-binding-v1", false);
  ok =
      ok && add_str(bind, "report-data", ehal_hex_encode_alloc(report_data, report_data_len), true);
  ok = ok && add_str(bind, "module-sha384",
                     ehal_hex_encode_alloc(module_sha384, EHAL_MODULE_SHA384_LEN), true);
  ok = ok && add_str(bind, "world", (char *)world, false);
  ok = ok && add_str(bind, "workload", (char *)workload, false);
  if (ok) {
    ok = json_object_object_add(root, "binding", bind) == 0;
    if (ok) bind = NULL;
  }
  if (ok) {
    size_t n = 0;
    /* compact, and '/' (frequent in base64) left unescaped */
    const char *s = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (s) *json = malloc(n + 1);
    if (*json) {
      memcpy(*json, s, n + 1);
      *len = n;
    }
    ok = *json != NULL;
  }
  json_object_put(evo);
  json_object_put(bind);
  json_object_put(root);
  if (!ok) {
    snprintf(err, errlen, "out of memory while writing the evidence envelope");
    return -1;
  }
  return 0;
}
