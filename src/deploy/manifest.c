/* manifest.c - a deployment's manifest (see manifest.h, docs/manifest.md). */
#define _GNU_SOURCE
#include "manifest.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../net/policy.h"
#include "../util/fileio.h"
#include "elastic-hal/elastic_hal.h"

#define MANIFEST_MAX_BYTES (1u << 20)
#define MAX_WORKLOADS 256

typedef struct {
  const char *file;
  FILE *report;
  int problems;
} checker;

static void problem(checker *c, const char *workload, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(checker *c, const char *workload, const char *key, const char *fmt, ...) {
  c->problems++;
  if (!c->report) return;
  fprintf(c->report, "%s: ", c->file);
  if (workload) fprintf(c->report, "workload %s: ", workload);
  if (key) fprintf(c->report, "%s: ", key);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(c->report, fmt, ap);
  va_end(ap);
  fputc('\n', c->report);
}

bool ehal_workload_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > EHAL_WORKLOAD_NAME_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              (i > 0 && (ch == '-' || ch == '_' || ch == '.'));
    if (!ok) return false;
  }
  return true;
}

/* Checks that obj has only the keys listed (a typo is an error, not a
 * silently ignored setting). */
static void known_keys(checker *c, json_object *obj, const char *workload, const char *where,
                       const char *const *keys) {
  json_object_object_foreach(obj, k, v) {
    (void)v;
    bool ok = false;
    for (const char *const *p = keys; *p && !ok; p++) ok = !strcmp(*p, k);
    if (!ok) {
      char key[160];
      snprintf(key, sizeof key, "%s%s%s", where ? where : "", where ? "." : "", k);
      problem(c, workload, key, "unknown key");
    }
  }
}

/* A number in [min, max]; *out untouched when the key is absent. */
static void get_num(checker *c, json_object *obj, const char *workload, const char *key,
                    uint64_t min, uint64_t max, uint64_t *out) {
  json_object *v;
  if (!json_object_object_get_ex(obj, key, &v)) return;
  errno = 0;
  int64_t n = json_object_get_int64(v);
  if (!json_object_is_type(v, json_type_int) || errno || n < 0 || (uint64_t)n < min ||
      (uint64_t)n > max) {
    problem(c, workload, key, "must be a whole number from %llu to %llu", (unsigned long long)min,
            (unsigned long long)max);
    return;
  }
  *out = (uint64_t)n;
}

/* Seconds, whole or fractional, as milliseconds. */
static void get_seconds(checker *c, json_object *obj, const char *workload, const char *key,
                        uint64_t *ms) {
  json_object *v;
  if (!json_object_object_get_ex(obj, key, &v)) return;
  double d = json_object_get_double(v);
  if (!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ||
      !(d >= 0 && d <= 31536000)) {
    problem(c, workload, key, "must be a number of seconds from 0 to 31536000");
    return;
  }
  *ms = (uint64_t)(d * 1000 + 0.5);
}

static char *get_str(checker *c, json_object *obj, const char *workload, const char *key,
                     bool required) {
  json_object *v;
  if (!json_object_object_get_ex(obj, key, &v)) {
    if (required) problem(c, workload, key, "missing");
    return NULL;
  }
  if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
    problem(c, workload, key, "must be a non-empty string");
    return NULL;
  }
  return strdup(json_object_get_string(v));
}

/* An array of strings, as a NULL-terminated copy (NULL when absent). */
static char **get_strs(checker *c, json_object *obj, const char *workload, const char *key,
                       size_t *n) {
  json_object *v;
  *n = 0;
  if (!json_object_object_get_ex(obj, key, &v)) return NULL;
  if (!json_object_is_type(v, json_type_array)) {
    problem(c, workload, key, "must be an array of strings");
    return NULL;
  }
  size_t len = json_object_array_length(v);
  char **out = calloc(len + 1, sizeof *out);
  if (!out) return NULL;
  for (size_t i = 0; i < len; i++) {
    json_object *e = json_object_array_get_idx(v, i);
    if (!json_object_is_type(e, json_type_string)) {
      problem(c, workload, key, "item %zu must be a string", i);
      continue;
    }
    out[(*n)++] = strdup(json_object_get_string(e));
  }
  return out;
}

static void free_strs(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

static bool world_ok(const char *world) {
  elastic_hal_linker *l = elastic_hal_linker_new();
  bool ok = l && elastic_hal_world_add_to_linker_by_name(l, world) == 0;
  elastic_hal_linker_free(l);
  return ok;
}

static char *resolve_module(const char *manifest, const char *module) {
  if (module[0] == '/') return strdup(module);
  const char *slash = strrchr(manifest, '/');
  char *dir = slash ? strndup(manifest, (size_t)(slash - manifest + 1)) : strdup("./");
  char *abs = NULL;
  if (dir) {
    char real[PATH_MAX];
    if (!realpath(dir, real) || asprintf(&abs, "%s/%s", real, module) < 0) abs = NULL;
  }
  free(dir);
  return abs;
}

static const char *const workload_keys[] = {"name",    "module",       "world",  "args",   "env",
                                            "restart", "max-restarts", "limits", "policy", NULL};
static const char *const limit_keys[] = {
    "memory-mib",      "memory-max-mib", "storage-mib", "storage-max-mib", "network-kib",
    "network-max-kib", "priority",       "timeout",     "max-sleep-ms",    NULL};
static const char *const policy_keys[] = {"message", "events-from", "allow-connect", "allow-bind",
                                          NULL};

static void load_workload(checker *c, const char *path, json_object *o, size_t idx,
                          ehal_manifest_workload *w) {
  char label[32];
  snprintf(label, sizeof label, "#%zu", idx + 1);
  if (!json_object_is_type(o, json_type_object)) {
    problem(c, label, NULL, "must be an object");
    return;
  }
  w->name = get_str(c, o, label, "name", true);
  if (w->name && !ehal_workload_name_ok(w->name)) {
    problem(c, label, "name",
            "'%s' is not a workload name (1 to %d of a-z 0-9 . _ -, starting with a letter or "
            "digit)",
            w->name, EHAL_WORKLOAD_NAME_MAX);
    free(w->name);
    w->name = NULL;
  }
  const char *who = w->name ? w->name : label;
  known_keys(c, o, who, NULL, workload_keys);
  char *module = get_str(c, o, who, "module", true);
  if (module) {
    w->module = resolve_module(path, module);
    if (!w->module || access(w->module, R_OK) != 0)
      problem(c, who, "module", "%s: %s", module, w->module ? strerror(errno) : "out of memory");
    free(module);
  }
  w->world = get_str(c, o, who, "world", false);
  if (!w->world) w->world = strdup("elastic-tee-hal");
  if (w->world && !world_ok(w->world))
    problem(c, who, "world", "unknown world '%s' (see elastic-hal --help)", w->world);
  w->args = get_strs(c, o, who, "args", &w->nargs);
  json_object *env;
  if (json_object_object_get_ex(o, "env", &env)) {
    if (!json_object_is_type(env, json_type_object)) {
      problem(c, who, "env", "must be an object of strings");
    } else {
      w->env = calloc((size_t)json_object_object_length(env) + 1, sizeof *w->env);
      json_object_object_foreach(env, k, v) {
        if (!k[0] || strchr(k, '=') || !json_object_is_type(v, json_type_string)) {
          problem(c, who, "env", "'%s' must be a name without '=' with a string value", k);
          continue;
        }
        if (w->env && asprintf(&w->env[w->nenv], "%s=%s", k, json_object_get_string(v)) >= 0)
          w->nenv++;
      }
    }
  }
  char *restart = get_str(c, o, who, "restart", false);
  if (restart && !strcmp(restart, "on-failure"))
    w->restart = EHAL_RESTART_ON_FAILURE;
  else if (restart && strcmp(restart, "never"))
    problem(c, who, "restart", "must be \"never\" or \"on-failure\", not '%s'", restart);
  free(restart);
  uint64_t v = 5;
  get_num(c, o, who, "max-restarts", 0, 1000, &v);
  w->max_restarts = (uint32_t)v;
  w->memory_mib = 64;
  w->storage_mib = 1024;
  w->priority = 100;
  w->max_sleep_ms = 10000;
  uint64_t mem_max = 0, st_max = 0, net_max = 0;
  json_object *lim;
  if (json_object_object_get_ex(o, "limits", &lim)) {
    if (!json_object_is_type(lim, json_type_object)) {
      problem(c, who, "limits", "must be an object");
    } else {
      known_keys(c, lim, who, "limits", limit_keys);
      v = w->memory_mib;
      get_num(c, lim, who, "memory-mib", 1, 4096, &v);
      w->memory_mib = (uint32_t)v;
      get_num(c, lim, who, "memory-max-mib", 1, 4096, &mem_max);
      v = w->storage_mib;
      get_num(c, lim, who, "storage-mib", 1, 1u << 24, &v);
      w->storage_mib = (uint32_t)v;
      get_num(c, lim, who, "storage-max-mib", 1, 1u << 24, &st_max);
      v = 0;
      get_num(c, lim, who, "network-kib", 1, 1u << 24, &v);
      w->network_kib = (uint32_t)v;
      get_num(c, lim, who, "network-max-kib", 1, 1u << 24, &net_max);
      v = w->priority;
      get_num(c, lim, who, "priority", 0, 255, &v);
      w->priority = (uint8_t)v;
      get_seconds(c, lim, who, "timeout", &w->timeout_ms);
      get_num(c, lim, who, "max-sleep-ms", 0, 86400000, &w->max_sleep_ms);
    }
  }
  w->memory_max_mib = mem_max ? (uint32_t)mem_max : w->memory_mib;
  w->storage_max_mib = st_max ? (uint32_t)st_max : w->storage_mib;
  w->network_max_kib = net_max ? (uint32_t)net_max : w->network_kib;
  if (net_max && !w->network_kib)
    problem(c, who, "limits.network-max-kib", "needs limits.network-kib (a metered network)");
  else if (w->network_max_kib < w->network_kib)
    problem(c, who, "limits.network-max-kib", "is below network-kib (%u)", w->network_kib);
  if (w->memory_max_mib < w->memory_mib)
    problem(c, who, "limits.memory-max-mib", "is below memory-mib (%u)", w->memory_mib);
  if (w->storage_max_mib < w->storage_mib)
    problem(c, who, "limits.storage-max-mib", "is below storage-mib (%u)", w->storage_mib);
  json_object *pol;
  if (json_object_object_get_ex(o, "policy", &pol)) {
    if (!json_object_is_type(pol, json_type_object)) {
      problem(c, who, "policy", "must be an object");
    } else {
      known_keys(c, pol, who, "policy", policy_keys);
      w->message = get_strs(c, pol, who, "message", &w->nmessage);
      w->events_from = get_strs(c, pol, who, "events-from", &w->nevents_from);
      w->allow_connect = get_strs(c, pol, who, "allow-connect", &w->nconnect);
      w->allow_bind = get_strs(c, pol, who, "allow-bind", &w->nbind);
      char why[512];
      ehal_net_policy *np =
          ehal_net_policy_new((const char *const *)w->allow_connect, w->nconnect,
                              (const char *const *)w->allow_bind, w->nbind, why, sizeof why);
      if (!np) problem(c, who, "policy", "%s", why);
      ehal_net_policy_free(np);
    }
  }
}

static int find(const ehal_manifest *m, const char *name) {
  for (size_t i = 0; i < m->n; i++)
    if (m->w[i].name && !strcmp(m->w[i].name, name)) return (int)i;
  return -1;
}

/* Names in a policy list must be workloads of the deployment (or "*"). */
static void check_names(checker *c, const ehal_manifest *m, const char *who, const char *key,
                        char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], "*") && find(m, names[i]) < 0)
      problem(c, who, key, "no workload named '%s' in this deployment", names[i]);
}

static char *base_name(const char *path) {
  const char *b = strrchr(path, '/');
  char *s = strdup(b ? b + 1 : path);
  char *dot = s ? strrchr(s, '.') : NULL;
  if (dot && dot != s) *dot = 0;
  return s;
}

ehal_manifest *ehal_manifest_load(const char *path, FILE *report) {
  checker c = {path, report, 0};
  size_t len = 0;
  char why[256];
  uint8_t *text = ehal_read_file(path, MANIFEST_MAX_BYTES, &len, why, sizeof why);
  if (!text) {
    problem(&c, NULL, NULL, "%s", why);
    return NULL;
  }
  ehal_manifest *m = ehal_manifest_parse(path, (const char *)text, len, report);
  free(text);
  return m;
}

ehal_manifest *ehal_manifest_parse(const char *path, const char *text, size_t len, FILE *report) {
  checker c = {path, report, 0};
  if (len > MANIFEST_MAX_BYTES) {
    problem(&c, NULL, NULL, "larger than %u bytes", MANIFEST_MAX_BYTES);
    return NULL;
  }
  json_tokener *tok = json_tokener_new();
  json_object *root = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
  if (!root || (tok && tok->char_offset < (int)len)) {
    size_t at = tok ? (size_t)tok->char_offset : 0, line = 1;
    for (size_t i = 0; i < at && i < len; i++) line += text[i] == '\n';
    problem(&c, NULL, NULL, "line %zu: not valid JSON (%s)", line,
            tok ? json_tokener_error_desc(json_tokener_get_error(tok)) : "out of memory");
    json_object_put(root);
    json_tokener_free(tok);
    return NULL;
  }
  json_tokener_free(tok);
  ehal_manifest *m = calloc(1, sizeof *m);
  if (!m || !(m->path = strdup(path))) {
    problem(&c, NULL, NULL, "out of memory");
    free(m);
    json_object_put(root);
    return NULL;
  }
  m->stop_timeout_ms = 5000;
  m->log_max_bytes = 64u << 20;
  static const char *const top_keys[] = {"name", "workloads", "limits", "stop-timeout", NULL};
  static const char *const dep_limits[] = {"queue-messages", "queue-bytes", "event-queue",
                                           "subscriptions",  "memory-mib",  "storage-mib",
                                           "log-mib",        NULL};
  json_object *ws = NULL, *lim = NULL;
  if (!json_object_is_type(root, json_type_object)) {
    problem(&c, NULL, NULL, "must be a JSON object");
    goto done;
  }
  known_keys(&c, root, NULL, NULL, top_keys);
  m->name = get_str(&c, root, NULL, "name", false);
  if (!m->name) m->name = base_name(path);
  if (m->name && !ehal_workload_name_ok(m->name))
    problem(&c, NULL, "name", "'%s' is not a valid deployment name (a-z 0-9 . _ -)", m->name);
  get_seconds(&c, root, NULL, "stop-timeout", &m->stop_timeout_ms);
  if (json_object_object_get_ex(root, "limits", &lim) &&
      !json_object_is_type(lim, json_type_object)) {
    problem(&c, NULL, "limits", "must be an object");
  } else if (lim) {
    known_keys(&c, lim, NULL, "limits", dep_limits);
    uint64_t v = 1024;
    get_num(&c, lim, NULL, "queue-messages", 1, 1000000, &v);
    m->limits.queue_messages = (uint32_t)v;
    v = 16u << 20;
    get_num(&c, lim, NULL, "queue-bytes", EHAL_MESSAGE_MAX + 64, 1ull << 36, &v);
    m->limits.queue_bytes = v;
    v = 256;
    get_num(&c, lim, NULL, "event-queue", 1, 65536, &v);
    m->limits.event_queue = (uint32_t)v;
    v = 64;
    get_num(&c, lim, NULL, "subscriptions", 1, 4096, &v);
    m->limits.subscriptions = (uint32_t)v;
    get_num(&c, lim, NULL, "memory-mib", 1, 1u << 24, &m->memory_total_mib);
    get_num(&c, lim, NULL, "storage-mib", 1, 1u << 30, &m->storage_total_mib);
    v = 64;
    get_num(&c, lim, NULL, "log-mib", 1, 1u << 20, &v);
    m->log_max_bytes = v << 20;
  }
  if (!json_object_object_get_ex(root, "workloads", &ws) ||
      !json_object_is_type(ws, json_type_array) || json_object_array_length(ws) == 0 ||
      json_object_array_length(ws) > MAX_WORKLOADS) {
    problem(&c, NULL, "workloads", "must be an array of 1 to %d workloads", MAX_WORKLOADS);
    goto done;
  }
  m->n = json_object_array_length(ws);
  uint64_t mem_bases = 0, st_bases = 0;
  m->w = calloc(m->n, sizeof *m->w);
  for (size_t i = 0; m->w && i < m->n; i++)
    load_workload(&c, path, json_object_array_get_idx(ws, i), i, &m->w[i]);
  for (size_t i = 0; m->w && i < m->n; i++) {
    ehal_manifest_workload *w = &m->w[i];
    if (!w->name) continue;
    if (find(m, w->name) != (int)i) problem(&c, w->name, "name", "used by two workloads");
    mem_bases += w->memory_mib;
    st_bases += w->storage_mib;
    check_names(&c, m, w->name, "policy.message", w->message, w->nmessage);
    check_names(&c, m, w->name, "policy.events-from", w->events_from, w->nevents_from);
  }
  if (m->memory_total_mib && mem_bases > m->memory_total_mib)
    problem(&c, NULL, "limits.memory-mib",
            "the workloads' memory-mib add up to %llu, more than this total",
            (unsigned long long)mem_bases);
  if (m->storage_total_mib && st_bases > m->storage_total_mib)
    problem(&c, NULL, "limits.storage-mib",
            "the workloads' storage-mib add up to %llu, more than this total",
            (unsigned long long)st_bases);
done:
  json_object_put(root);
  if (c.problems || !m->w) {
    ehal_manifest_free(m);
    return NULL;
  }
  return m;
}

void ehal_manifest_free(ehal_manifest *m) {
  if (!m) return;
  for (size_t i = 0; m->w && i < m->n; i++) {
    ehal_manifest_workload *w = &m->w[i];
    free(w->name);
    free(w->module);
    free(w->world);
    free_strs(w->args);
    free_strs(w->env);
    free_strs(w->message);
    free_strs(w->events_from);
    free_strs(w->allow_connect);
    free_strs(w->allow_bind);
  }
  free(m->w);
  free(m->path);
  free(m->name);
  free(m);
}

ehal_broker *ehal_manifest_broker(const ehal_manifest *m) {
  const char **names = calloc(m->n, sizeof *names);
  if (!names) return NULL;
  for (size_t i = 0; i < m->n; i++) names[i] = m->w[i].name;
  ehal_broker *b = ehal_broker_new(names, m->n, &m->limits);
  free(names);
  if (b) {
    ehal_broker_set_total(b, EHAL_RES_MEMORY, m->memory_total_mib << 20);
    ehal_broker_set_total(b, EHAL_RES_STORAGE, m->storage_total_mib << 20);
  }
  for (size_t i = 0; b && i < m->n; i++) {
    const ehal_manifest_workload *w = &m->w[i];
    ehal_broker_set_resource(b, (int)i, EHAL_RES_MEMORY, (uint64_t)w->memory_mib << 20,
                             (uint64_t)w->memory_max_mib << 20, w->priority);
    ehal_broker_set_resource(b, (int)i, EHAL_RES_STORAGE, (uint64_t)w->storage_mib << 20,
                             (uint64_t)w->storage_max_mib << 20, w->priority);
    ehal_broker_set_resource(b, (int)i, EHAL_RES_NETWORK, (uint64_t)w->network_kib << 10,
                             (uint64_t)w->network_max_kib << 10, w->priority);
    for (size_t k = 0; k < w->nmessage; k++)
      for (size_t j = 0; j < m->n; j++)
        if (!strcmp(w->message[k], "*") || !strcmp(w->message[k], m->w[j].name))
          ehal_broker_allow_message(b, (int)i, (int)j);
    for (size_t k = 0; k < w->nevents_from; k++)
      for (size_t j = 0; j < m->n; j++)
        if (!strcmp(w->events_from[k], "*") || !strcmp(w->events_from[k], m->w[j].name))
          ehal_broker_allow_events(b, (int)i, (int)j);
  }
  return b;
}
