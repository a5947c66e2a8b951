/*
 * hal.c - modules, instances and runs: the top of the runtime.
 *
 * A module is a guest as loaded: its SHA-384 (code identity), its import
 * list, and, once compiled, the engine's artifact.  A .wasm given to
 * elastic_hal_module_load is compiled once into a content-addressed cache
 * (key: module hash + engine build), so later runs load native code directly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "instance.h"
#include "linker.h"
#include "wasm_module.h"

struct elastic_hal_module {
  char sha384[97];
  ehal_wasm_info info;     /* imports as parsed (for .wasm inputs) */
  ehal_engine_module *eng; /* NULL for inspect-only modules */
};

void ehal_arena_release(ehal_instance *inst);
void ehal_instance_cleanup_interfaces(ehal_instance *inst);
void ehal_instance_init_interfaces(ehal_instance *inst);

static int read_file(const char *path, uint8_t **buf, size_t *len, elastic_hal_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err->msg, sizeof err->msg, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1LL << 31)) {
    snprintf(err->msg, sizeof err->msg, "%s is not a regular file under 2 GiB", path);
    fclose(f);
    return -1;
  }
  *len = (size_t)st.st_size;
  *buf = malloc(*len ? *len : 1);
  if (!*buf || fread(*buf, 1, *len, f) != *len) {
    snprintf(err->msg, sizeof err->msg, "cannot read %s", path);
    free(*buf);
    fclose(f);
    return -1;
  }
  fclose(f);
  return 0;
}

static void sha384_hex(const uint8_t *buf, size_t len, char out[97]) {
  unsigned char md[48];
  unsigned int n = 0;
  EVP_Digest(buf, len, md, &n, EVP_sha384(), NULL);
  for (unsigned i = 0; i < 48; i++) sprintf(out + 2 * i, "%02x", md[i]);
}

static bool is_wasm(const uint8_t *buf, size_t len) {
  return len >= 4 && memcmp(buf, "\0asm", 4) == 0;
}

elastic_hal_module *elastic_hal_module_inspect(const char *path, elastic_hal_error *err) {
  uint8_t *buf;
  size_t len;
  if (read_file(path, &buf, &len, err) != 0) return NULL;
  if (!is_wasm(buf, len)) {
    free(buf);
    /* an artifact: load it to read its import table */
    elastic_hal_load_options o = {0};
    return elastic_hal_module_load(path, &o, err);
  }
  elastic_hal_module *m = calloc(1, sizeof *m);
  if (!m || ehal_wasm_parse(buf, len, &m->info, err) != 0) {
    free(m);
    free(buf);
    return NULL;
  }
  sha384_hex(buf, len, m->sha384);
  free(buf);
  return m;
}

int elastic_hal_compile(const char *wasm_path, const char *out_path,
                        const elastic_hal_load_options *opts, elastic_hal_error *err) {
  uint8_t *buf;
  size_t len;
  if (read_file(wasm_path, &buf, &len, err) != 0) return -1;
  if (!is_wasm(buf, len)) {
    snprintf(err->msg, sizeof err->msg, "%s is not a WebAssembly module", wasm_path);
    free(buf);
    return -1;
  }
  char sha[97];
  sha384_hex(buf, len, sha);
  int rc = ehal_engine_compile(wasm_path, buf, len, sha, out_path, opts ? opts->progress : NULL,
                               opts ? opts->user : NULL, err);
  free(buf);
  return rc;
}

elastic_hal_module *elastic_hal_module_load(const char *path, const elastic_hal_load_options *opts,
                                            elastic_hal_error *err) {
  uint8_t *buf;
  size_t len;
  if (read_file(path, &buf, &len, err) != 0) return NULL;
  elastic_hal_module *m = calloc(1, sizeof *m);
  if (!m) {
    free(buf);
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return NULL;
  }
  char artifact[4096];
  if (is_wasm(buf, len)) {
    if (ehal_wasm_parse(buf, len, &m->info, err) != 0) goto fail;
    sha384_hex(buf, len, m->sha384);
    const char *cache = opts && opts->cache_dir ? opts->cache_dir : NULL;
    if (!cache) {
      snprintf(err->msg, sizeof err->msg, "no cache directory to compile %s into", path);
      goto fail;
    }
    if (ehal_mkdir_p(cache) != 0) {
      snprintf(err->msg, sizeof err->msg, "cannot create cache directory %s: %s", cache,
               strerror(errno));
      goto fail;
    }
    /* key: module hash and engine build (a different build compiles anew) */
    char key[97];
    char id[256];
    snprintf(id, sizeof id, "%s/%s", m->sha384, ehal_engine_build_id());
    sha384_hex((const uint8_t *)id, strlen(id), key);
    snprintf(artifact, sizeof artifact, "%s/%.64s.so", cache, key);
    if (access(artifact, R_OK) != 0 && ehal_engine_compile(path, buf, len, m->sha384, artifact,
                                                           opts->progress, opts->user, err) != 0)
      goto fail;
  } else {
    snprintf(artifact, sizeof artifact, "%s", path);
    if (strchr(path, '/') == NULL) snprintf(artifact, sizeof artifact, "./%s", path);
  }
  free(buf);
  buf = NULL;
  if (ehal_engine_load(artifact, &m->eng, err) != 0) goto fail;
  if (!m->sha384[0]) snprintf(m->sha384, sizeof m->sha384, "%s", ehal_engine_module_sha384(m->eng));
  return m;
fail:
  free(buf);
  ehal_wasm_info_free(&m->info);
  free(m);
  return NULL;
}

void elastic_hal_module_free(elastic_hal_module *m) {
  if (!m) return;
  ehal_wasm_info_free(&m->info);
  ehal_engine_module_free(m->eng);
  free(m);
}

const char *elastic_hal_module_sha384(const elastic_hal_module *m) { return m->sha384; }

/* Uniform view of a module's imports, whichever way it was loaded. */
static size_t n_imports(const elastic_hal_module *m) {
  return m->eng ? ehal_engine_module_nimports(m->eng) : m->info.n_imports;
}

static void import_at(const elastic_hal_module *m, size_t i, const char **mod, const char **field,
                      const char **sig, int *kind) {
  if (m->eng) {
    ehal_engine_module_import(m->eng, i, mod, field, sig);
    *kind = EHAL_EXTERN_FUNC;
  } else {
    *mod = m->info.imports[i].module;
    *field = m->info.imports[i].field;
    *sig = m->info.imports[i].sig;
    *kind = m->info.imports[i].kind;
  }
}

/* Resolve every import; one line per problem.  fns may be NULL. */
static int resolve_all(const elastic_hal_module *m, const elastic_hal_linker *l, ehal_hostfn *fns,
                       char *report, size_t replen) {
  int problems = 0;
  size_t k = 0;
  if (report && replen) report[0] = 0;
  for (size_t i = 0; i < n_imports(m); i++) {
    const char *mod, *field, *sig;
    int kind;
    import_at(m, i, &mod, &field, &sig, &kind);
    char why[512];
    ehal_hostfn fn = NULL;
    if (kind != EHAL_EXTERN_FUNC)
      snprintf(why, sizeof why, "only function imports are supported");
    else
      fn = ehal_linker_resolve(l, mod, field, sig, why, sizeof why);
    if (fns) fns[i] = fn;
    if (!fn) {
      problems++;
      if (report && k < replen)
        k += (size_t)snprintf(report + k, replen - k, "%sunresolved import %s#%s: %s",
                              problems > 1 ? "\n" : "", mod, field, why);
    }
  }
  return problems;
}

int elastic_hal_check(const elastic_hal_module *m, const elastic_hal_linker *l, FILE *out) {
  char report[16384];
  int n = resolve_all(m, l, NULL, report, sizeof report);
  if (n && out) fprintf(out, "%s\n", report);
  return n;
}

static elastic_hal_outcome finish(ehal_instance *inst, ehal_trap_kind k, const char *what,
                                  int *status, elastic_hal_error *err);

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

static char **dupv(int n, char *const *v) {
  char **out = calloc((size_t)n + 1, sizeof *out);
  for (int i = 0; out && i < n; i++) out[i] = strdup(v[i]);
  return out;
}

static void freev(int n, char **v) {
  for (int i = 0; v && i < n; i++) free(v[i]);
  free(v);
}

elastic_hal_instance *elastic_hal_instantiate(elastic_hal_module *m, const elastic_hal_linker *l,
                                              const elastic_hal_config *cfg,
                                              elastic_hal_error *err) {
  if (!m->eng) {
    snprintf(err->msg, sizeof err->msg, "module was only inspected, not loaded");
    return NULL;
  }
  size_t n = n_imports(m);
  ehal_hostfn *fns = calloc(n ? n : 1, sizeof *fns);
  if (!fns) {
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return NULL;
  }
  /* Nothing of the guest runs unless every import resolves. */
  if (resolve_all(m, l, fns, err->msg, sizeof err->msg) != 0) {
    free(fns);
    return NULL;
  }
  err->trapped = false;
  ehal_instance *inst = calloc(1, sizeof *inst);
  if (!inst) {
    free(fns);
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return NULL;
  }
  inst->module = m;
  inst->workload = dupstr(cfg->workload ? cfg->workload : "workload");
  inst->state_dir = dupstr(cfg->state_dir);
  inst->world = dupstr(elastic_hal_linker_world(l));
  inst->argc = cfg->argc;
  inst->argv = dupv(cfg->argc, cfg->argv);
  inst->envc = cfg->envc;
  inst->env = dupv(cfg->envc, cfg->env);
  inst->max_sleep_ns = cfg->max_sleep_ns == ELASTIC_HAL_SLEEP_NONE ? 0
                       : cfg->max_sleep_ns                         ? cfg->max_sleep_ns
                                                                   : 10ull * 1000000000ull;
  inst->stdout_fd = cfg->stdout_fd ? cfg->stdout_fd : 1;
  inst->stderr_fd = cfg->stderr_fd ? cfg->stderr_fd : 2;
  const ehal_iface_def *const *ifs;
  size_t nifs = ehal_linker_ifaces(l, &ifs);
  for (size_t i = 0; i < nifs && i < 64; i++) inst->linked[inst->n_linked++] = ifs[i];
  ehal_instance_init_interfaces(inst);
  uint32_t max_pages = cfg->max_memory_pages ? cfg->max_memory_pages : 16384;
  if (max_pages > 65536) max_pages = 65536;
  inst->fns = fns; /* the artifact calls through this table for the instance's life */
  inst->eng = ehal_engine_instance_new(m->eng, max_pages, err);
  if (!inst->eng) {
    elastic_hal_instance_free(inst);
    return NULL;
  }
  if (!ehal_engine_memory(inst->eng, &inst->mem) && n > 0) {
    snprintf(err->msg, sizeof err->msg,
             "the module imports host functions but exports no memory ('memory' or "
             "'cm32p2_memory')");
    elastic_hal_instance_free(inst);
    return NULL;
  }
  ehal_trap_kind k = ehal_engine_instantiate(inst->eng, inst, fns);
  if (k != EHAL_TRAP_NONE) {
    int status;
    finish(inst, k, "start function", &status, err);
    if (inst->exited) snprintf(err->msg, sizeof err->msg, "the start function called proc_exit");
    err->trapped = true;
    elastic_hal_instance_free(inst);
    return NULL;
  }
  return inst;
}

void elastic_hal_instance_free(elastic_hal_instance *inst) {
  if (!inst) return;
  ehal_engine_instance_free(inst->eng);
  free(inst->fns);
  ehal_instance_cleanup_interfaces(inst);
  ehal_arena_release(inst);
  free(inst->workload);
  free(inst->state_dir);
  free(inst->world);
  freev(inst->argc, inst->argv);
  freev(inst->envc, inst->env);
  free(inst);
}

/* Turn a call's outcome into status and message. */
static elastic_hal_outcome finish(ehal_instance *inst, ehal_trap_kind k, const char *what,
                                  int *status, elastic_hal_error *err) {
  if (k == EHAL_TRAP_NONE) return ELASTIC_HAL_EXITED;
  if (k == EHAL_TRAP_HOST && inst->exited) {
    if (status) *status = inst->exit_status;
    return ELASTIC_HAL_EXITED;
  }
  if (status) *status = ELASTIC_HAL_TRAP_STATUS;
  if (k == EHAL_TRAP_HOST)
    snprintf(err->msg, sizeof err->msg, "trap (abi): %s: %s", what, inst->trap_msg);
  else if (k == EHAL_TRAP_OTHER)
    snprintf(err->msg, sizeof err->msg, "trap (other): %s", what);
  else
    snprintf(err->msg, sizeof err->msg, "trap (%s): %s", ehal_trap_name(k), what);
  return ELASTIC_HAL_TRAPPED;
}

elastic_hal_outcome elastic_hal_run(elastic_hal_instance *inst, int *status,
                                    elastic_hal_error *err) {
  *status = 0;
  inst->exited = false;
  inst->lowering = false;
  static const char *init[] = {"_initialize", "cm32p2_initialize"};
  for (int i = 0; i < 2; i++) {
    if (!ehal_engine_has_export(inst->eng, init[i], ":")) continue;
    ehal_trap_kind k = ehal_engine_call(inst->eng, init[i], NULL, 0, NULL, 0);
    elastic_hal_outcome o = finish(inst, k, init[i], status, err);
    if (o != ELASTIC_HAL_EXITED || inst->exited) return o;
  }
  if (ehal_engine_has_export(inst->eng, "_start", ":")) {
    ehal_trap_kind k = ehal_engine_call(inst->eng, "_start", NULL, 0, NULL, 0);
    return finish(inst, k, "_start", status, err);
  }
  return ELASTIC_HAL_EXITED;
}

elastic_hal_outcome elastic_hal_call(elastic_hal_instance *inst, const char *name,
                                     const uint64_t *args, size_t nargs, uint64_t *results,
                                     size_t nresults, elastic_hal_error *err) {
  const char *sig = ehal_engine_export_sig(inst->eng, name);
  if (!sig) {
    snprintf(err->msg, sizeof err->msg, "no exported function %s", name);
    return ELASTIC_HAL_TRAPPED;
  }
  const char *colon = strchr(sig, ':');
  if ((size_t)(colon - sig) != nargs || strlen(colon + 1) != nresults ||
      strspn(sig, "iI:") != strlen(sig)) {
    char pretty[128];
    snprintf(err->msg, sizeof err->msg,
             "%s has signature %s: cannot call it with %zu i32/i64 "
             "arguments and %zu results",
             name, ehal_sig_pretty(sig, pretty, sizeof pretty), nargs, nresults);
    return ELASTIC_HAL_TRAPPED;
  }
  inst->exited = false;
  inst->lowering = false;
  ehal_trap_kind k = ehal_engine_call(inst->eng, name, args, nargs, results, nresults);
  int st;
  return finish(inst, k, name, &st, err);
}
