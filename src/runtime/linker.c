/* linker.c - interface sets and import resolution (see linker.h). */
#include "linker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../wasm/wasm_module.h"

#define MAX_IFACES 64

#define IDENTITY_PREFIX "interfaces:"

struct elastic_hal_linker {
  const ehal_iface_def *ifaces[MAX_IFACES];
  size_t n;
  /* the embedder's own host functions (elastic_hal_linker_define) */
  ehal_host_def *defs;
  size_t ndefs;
  /* Both recomputed from the set whenever it changes (relabel): */
  char world[64]; /* the composed world whose HAL interfaces these are exactly, or "custom" */
  char *identity; /* that world's name, or "interfaces:" and the sorted list */
};

/* HAL interfaces have a package; plain core modules (WASI preview 1) do not
 * and are not part of a linker's identity. */
static bool is_hal(const ehal_iface_def *d) { return d->package != NULL; }

static bool holds(const elastic_hal_linker *l, const ehal_iface_def *d) {
  for (size_t i = 0; i < l->n; i++)
    if (l->ifaces[i] == d) return true;
  return false;
}

/* Whether the linker's HAL interfaces are exactly the world's interfaces. */
static bool holds_exactly(const elastic_hal_linker *l, const ehal_iface_def *const *w) {
  size_t distinct = 0, hal = 0;
  for (size_t i = 0; w[i]; i++) {
    if (!is_hal(w[i]) || !holds(l, w[i])) return false;
    bool dup = false;
    for (size_t j = 0; j < i && !dup; j++) dup = w[j] == w[i];
    if (!dup) distinct++;
  }
  for (size_t i = 0; i < l->n; i++)
    if (is_hal(l->ifaces[i])) hal++;
  return distinct == hal;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Recomputes world and identity from the set (docs/evidence.md, "world").
 * Returns 0, or -1 when out of memory (the linker keeps its old labels). */
static int relabel(elastic_hal_linker *l) {
  for (const ehal_world_def *w = ehal_worlds; w->name; w++) {
    if (!holds_exactly(l, w->ifaces)) continue;
    char *id = strdup(w->name);
    if (!id) return -1;
    free(l->identity);
    l->identity = id;
    snprintf(l->world, sizeof l->world, "%s", w->name);
    return 0;
  }
  /* "interfaces:" then PACKAGE/NAME@MAJOR.MINOR.PATCH of each HAL interface,
   * sorted bytewise, without repeats, separated by "," */
  char *items[MAX_IFACES];
  size_t k = 0, total = sizeof IDENTITY_PREFIX;
  int rc = -1;
  for (size_t i = 0; i < l->n; i++) {
    const ehal_iface_def *d = l->ifaces[i];
    if (!is_hal(d)) continue;
    int len =
        snprintf(NULL, 0, "%s/%s@%u.%u.%u", d->package, d->name, d->major, d->minor, d->patch);
    if (len < 0 || !(items[k] = malloc((size_t)len + 1))) goto out;
    snprintf(items[k], (size_t)len + 1, "%s/%s@%u.%u.%u", d->package, d->name, d->major, d->minor,
             d->patch);
    total += (size_t)len + 1;
    k++;
  }
  qsort(items, k, sizeof items[0], cmp_str);
  char *id = malloc(total);
  if (!id) goto out;
  size_t used = strlen(strcpy(id, IDENTITY_PREFIX));
  for (size_t i = 0; i < k; i++) {
    if (i > 0 && strcmp(items[i], items[i - 1]) == 0) continue;
    size_t len = strlen(items[i]);
    if (used > sizeof IDENTITY_PREFIX - 1) id[used++] = ',';
    memcpy(id + used, items[i], len + 1);
    used += len;
  }
  free(l->identity);
  l->identity = id;
  snprintf(l->world, sizeof l->world, "custom");
  rc = 0;
out:
  while (k > 0) free(items[--k]);
  return rc;
}

elastic_hal_linker *elastic_hal_linker_new(void) {
  elastic_hal_linker *l = calloc(1, sizeof *l);
  if (l && relabel(l) != 0) {
    free(l);
    return NULL;
  }
  return l;
}

void elastic_hal_linker_free(elastic_hal_linker *linker) {
  if (!linker) return;
  for (size_t i = 0; i < linker->ndefs; i++) {
    ehal_host_def *d = &linker->defs[i];
    if (d->free_user) d->free_user(d->user);
    free(d->module);
    free(d->name);
    free(d->sig);
  }
  free(linker->defs);
  free(linker->identity);
  free(linker);
}

int elastic_hal_linker_define(elastic_hal_linker *l, const char *module, const char *name,
                              const char *sig, elastic_hal_host_fn fn, void *user,
                              void (*free_user)(void *user)) {
  /* i32/i64/f32/f64 parameters, ':', at most one result */
  const char *colon = sig ? strchr(sig, ':') : NULL;
  if (!l || !module || !*module || !name || !*name || !fn || !colon ||
      strspn(sig, "iIfF:") != strlen(sig) || strchr(colon + 1, ':') || strlen(colon + 1) > 1 ||
      ehal_linker_find_def(l, module, name))
    return -1;
  ehal_host_def *defs = realloc(l->defs, (l->ndefs + 1) * sizeof *defs);
  if (!defs) return -1;
  l->defs = defs;
  ehal_host_def *d = &defs[l->ndefs];
  d->module = strdup(module);
  d->name = strdup(name);
  d->sig = strdup(sig);
  d->fn = fn;
  d->user = user;
  d->free_user = free_user;
  if (!d->module || !d->name || !d->sig) {
    free(d->module);
    free(d->name);
    free(d->sig);
    return -1;
  }
  l->ndefs++;
  return 0;
}

const ehal_host_def *ehal_linker_find_def(const elastic_hal_linker *l, const char *module,
                                          const char *name) {
  for (size_t i = 0; i < l->ndefs; i++)
    if (!strcmp(l->defs[i].module, module) && !strcmp(l->defs[i].name, name)) return &l->defs[i];
  return NULL;
}

const char *elastic_hal_linker_world(const elastic_hal_linker *linker) { return linker->world; }

const char *ehal_linker_identity(const elastic_hal_linker *linker) { return linker->identity; }

int ehal_linker_add_iface(elastic_hal_linker *linker, const ehal_iface_def *iface) {
  if (holds(linker, iface)) return 0;
  if (linker->n == MAX_IFACES) return -1;
  linker->ifaces[linker->n++] = iface;
  if (relabel(linker) != 0) {
    linker->n--;
    return -1;
  }
  return 0;
}

int ehal_linker_add_world(elastic_hal_linker *linker, const char *world,
                          const ehal_iface_def *const *ifaces) {
  (void)world; /* a linker is named by what it holds, not by what was added last */
  for (; *ifaces; ifaces++)
    if (ehal_linker_add_iface(linker, *ifaces) != 0) return -1;
  return 0;
}

int elastic_hal_world_add_to_linker_by_name(elastic_hal_linker *linker, const char *world) {
  for (const ehal_world_alias *a = ehal_world_aliases; a->name; a++)
    if (strcmp(a->name, world) == 0) world = a->world;
  for (const ehal_world_def *w = ehal_worlds; w->name; w++)
    if (strcmp(w->name, world) == 0) return ehal_linker_add_world(linker, w->name, w->ifaces);
  return -1;
}

int elastic_hal_wasi_add_to_linker(elastic_hal_linker *linker) {
  return ehal_linker_add_iface(linker, &ehal_iface_wasi_preview1);
}

bool ehal_iface_implemented(const ehal_iface_def *iface) {
  for (size_t i = 0; i < iface->nfuncs; i++)
    if (iface->funcs[i].fn) return true;
  return false;
}

/* An import module name split into package, interface and version.
 * Accepts "ns:pkg/iface@1.2.3", "ns:pkg/iface" and the cm32p2 form
 * "cm32p2|ns:pkg/iface@1.2" (version abbreviated to its compatible prefix). */
typedef struct {
  char package[128];
  char iface[64];
  int nver; /* components given: 0..3 */
  unsigned ver[3];
} import_name;

static bool parse_import(const char *module, import_name *out) {
  memset(out, 0, sizeof *out);
  if (strncmp(module, "cm32p2|", 7) == 0) module += 7;
  const char *slash = strchr(module, '/');
  const char *colon = strchr(module, ':');
  if (!slash || !colon || colon > slash) return false;
  size_t plen = (size_t)(slash - module);
  if (plen >= sizeof out->package) return false;
  memcpy(out->package, module, plen);
  const char *at = strchr(slash, '@');
  size_t ilen = at ? (size_t)(at - slash - 1) : strlen(slash + 1);
  if (ilen == 0 || ilen >= sizeof out->iface) return false;
  memcpy(out->iface, slash + 1, ilen);
  if (at) {
    /* MAJOR[.MINOR[.PATCH]]: digits only, no signs, spaces, empty parts,
     * leading zeros or pre-release tags (those are never served). */
    const char *p = at + 1;
    for (;;) {
      if (out->nver == 3) return false;
      size_t digits = strspn(p, "0123456789");
      if (digits == 0 || digits > 6 || (digits > 1 && p[0] == '0')) return false;
      out->ver[out->nver++] = (unsigned)strtoul(p, NULL, 10);
      p += digits;
      if (*p == 0) break;
      if (*p != '.') return false;
      p++;
    }
  }
  return true;
}

/* Semver compatibility: a provider x.y.z serves requests for the same major
 * (and, in 0.x, the same minor) that are not newer than it. */
static bool version_ok(const import_name *req, const ehal_iface_def *d) {
  unsigned have[3] = {d->major, d->minor, d->patch};
  if (req->nver == 0) return true;
  if (req->ver[0] != have[0]) return false;
  if (have[0] == 0) {
    if (req->nver >= 2 && req->ver[1] != have[1]) return false;
    if (req->nver == 3 && req->ver[2] > have[2]) return false;
    return true;
  }
  if (req->nver >= 2 && req->ver[1] > have[1]) return false;
  if (req->nver == 3 && req->ver[1] == have[1] && req->ver[2] > have[2]) return false;
  return true;
}

static const ehal_func_def *find_func(const ehal_iface_def *d, const char *field) {
  for (size_t i = 0; i < d->nfuncs; i++)
    if (strcmp(d->funcs[i].name, field) == 0) return &d->funcs[i];
  return NULL;
}

static ehal_hostfn check_func(const ehal_iface_def *d, const char *field, const char *sig,
                              char *why, size_t whylen) {
  const ehal_func_def *f = find_func(d, field);
  char a[128], b[128];
  if (!f) {
    snprintf(why, whylen, "no such function in %s%s%s@%u.%u.%u", d->package ? d->package : "",
             d->package ? "/" : "", d->name, d->major, d->minor, d->patch);
    return NULL;
  }
  if (strcmp(f->sig, sig) != 0) {
    snprintf(why, whylen, "signature %s does not match the canonical ABI's %s",
             ehal_sig_pretty(sig, a, sizeof a), ehal_sig_pretty(f->sig, b, sizeof b));
    return NULL;
  }
  if (!f->fn) {
    snprintf(why, whylen, "not implemented by this HAL (capabilities reports it unsupported)");
    return NULL;
  }
  return f->fn;
}

/* The linker's interface for an import module name ("ns:pkg/iface@ver"),
 * semver-compatibly; NULL with the reason in why. */
static const ehal_iface_def *find_iface(const elastic_hal_linker *linker, const char *module,
                                        char *why, size_t whylen) {
  import_name in;
  if (!parse_import(module, &in)) {
    snprintf(why, whylen, "unknown import module");
    return NULL;
  }
  const ehal_iface_def *seen_version = NULL;
  for (size_t i = 0; i < linker->n; i++) {
    const ehal_iface_def *d = linker->ifaces[i];
    if (!d->package || strcmp(d->package, in.package) || strcmp(d->name, in.iface)) continue;
    if (!version_ok(&in, d)) {
      seen_version = d;
      continue;
    }
    return d;
  }
  if (seen_version) {
    snprintf(why, whylen, "no compatible version (this HAL provides %u.%u.%u)", seen_version->major,
             seen_version->minor, seen_version->patch);
    return NULL;
  }
  for (const ehal_iface_def *const *c = ehal_catalog; *c; c++) {
    if (strcmp((*c)->package, in.package) == 0 && strcmp((*c)->name, in.iface) == 0) {
      snprintf(why, whylen, "not in world %s", linker->world);
      return NULL;
    }
  }
  snprintf(why, whylen, "unknown interface");
  return NULL;
}

ehal_hostfn ehal_linker_resolve(const elastic_hal_linker *linker, const char *module,
                                const char *field, const char *sig, char *why, size_t whylen) {
  /* plain core module names (WASI preview 1) */
  for (size_t i = 0; i < linker->n; i++)
    if (!linker->ifaces[i]->package && strcmp(linker->ifaces[i]->name, module) == 0)
      return check_func(linker->ifaces[i], field, sig, why, whylen);
  const ehal_iface_def *d = find_iface(linker, module, why, whylen);
  return d ? check_func(d, field, sig, why, whylen) : NULL;
}

bool ehal_linker_provides(const elastic_hal_linker *linker, const char *iface, char *why,
                          size_t whylen) {
  for (size_t i = 0; i < linker->ndefs; i++)
    if (!strcmp(linker->defs[i].module, iface)) return true;
  return find_iface(linker, iface, why, whylen) != NULL;
}

size_t ehal_linker_ifaces(const elastic_hal_linker *linker, const ehal_iface_def *const **out) {
  *out = linker->ifaces;
  return linker->n;
}
