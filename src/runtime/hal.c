/*
 * hal.c - modules, instances and runs: the top of the runtime.
 *
 * A module is a guest as loaded: its SHA-384 (code identity), its import
 * list, and, once compiled, the engine's native code.  A .wasm given to
 * elastic_hal_module_load is compiled once into a content-addressed cache
 * (key: module hash + engine build), so later runs load native code directly.
 *
 * Native code is loaded only from an artifact this HAL made and
 * authenticates (artifact_file.h): cache entries and 'elastic-hal compile'
 * output alike.  Anything else that is not a core module is refused before a
 * byte of it runs, and inspection (check) never loads native code at all.
 *
 * A component (Component Model binary) is taken as its main core module
 * (wasm/component.h): from there on it is that core module, hashed, cached
 * and compiled as one; only its component-level imports are kept, to be
 * resolved against the linker with the module's own.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../attest/sealing.h"
#include "../net/policy.h"
#include "../util/fsutil.h"
#include "../util/hex.h"
#include "../wasi/wasi.h"
#include "../wasm/component.h"
#include "../wasm/wasm_module.h"
#include "artifact_file.h"
#include "instance.h"
#include "linker.h"

struct elastic_hal_module {
  char sha384[97];
  ehal_wasm_info info;     /* imports and exports, from the module as given */
  bool is_component;       /* given as a component: info is its main module's */
  ehal_component comp;     /* then its imports (comp.core is not kept) */
  ehal_engine_module *eng; /* NULL for inspect-only modules */
  elastic_hal_tier tier;   /* of its native code */
  /* handles given out by elastic_hal_instance_func, freed with the module */
  pthread_mutex_t funcs_lock;
  struct elastic_hal_func **funcs;
  size_t n_funcs;
};

void ehal_arena_release(ehal_instance *inst);
void ehal_instance_cleanup_interfaces(ehal_instance *inst);
void ehal_instance_init_interfaces(ehal_instance *inst);

/* The whole of an open regular file under 2 GiB (fd is closed). */
static int read_fd(int fd, const char *path, uint8_t **buf, size_t *len, elastic_hal_error *err) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1LL << 31)) {
    snprintf(err->msg, sizeof err->msg, "%s is not a regular file under 2 GiB", path);
    close(fd);
    return -1;
  }
  *buf = ehal_read_fd(fd, (size_t)1 << 31, len);
  int saved = errno;
  close(fd);
  if (!*buf) {
    snprintf(err->msg, sizeof err->msg, "cannot read %s: %s", path, strerror(saved));
    return -1;
  }
  return 0;
}

static int read_file(const char *path, uint8_t **buf, size_t *len, elastic_hal_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err->msg, sizeof err->msg, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  return read_fd(fd, path, buf, len, err);
}

/* A cache entry: a regular file of ours that nobody else can write. */
static int read_private(const char *path, uint8_t **buf, size_t *len, elastic_hal_error *err) {
  int fd = ehal_secure_open(path, O_RDONLY, 0, err->msg, sizeof err->msg);
  return fd < 0 ? -1 : read_fd(fd, path, buf, len, err);
}

static void sha384_raw(const uint8_t *buf, size_t len, uint8_t md[48]) {
  unsigned int n = 0;
  EVP_Digest(buf, len, md, &n, EVP_sha384(), NULL);
}

static void hex48(const uint8_t md[48], char out[97]) { ehal_hex_encode(md, 48, out); }

static void set_error(elastic_hal_error *err, elastic_hal_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(elastic_hal_error *err, elastic_hal_error_kind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  err->kind = kind;
}

/* What a file is, from its first bytes.  Three kinds are accepted: a core
 * module, a component (as its main core module), and an artifact this HAL
 * made (authenticated before use). */
typedef enum { IN_CORE, IN_COMPONENT, IN_OTHER_WASM, IN_ARTIFACT, IN_UNKNOWN } input_kind;

static input_kind classify(const uint8_t *buf, size_t len) {
  if (ehal_artifact_is(buf, len)) return IN_ARTIFACT;
  if (len < 8 || memcmp(buf, "\0asm", 4) != 0) return IN_UNKNOWN;
  if (memcmp(buf + 4, "\x01\0\0\0", 4) == 0) return IN_CORE;
  if (ehal_component_is(buf, len)) return IN_COMPONENT;
  return IN_OTHER_WASM;
}

/* The error for an input that is neither a module nor an artifact. */
static int refuse(const char *path, input_kind k, elastic_hal_error *err) {
  if (k == IN_OTHER_WASM)
    snprintf(err->msg, sizeof err->msg,
             "%s is a WebAssembly binary of a version this HAL does not know", path);
  else
    snprintf(err->msg, sizeof err->msg,
             "%s is neither a WebAssembly module nor an elastic-hal artifact: refusing to load it "
             "(native code is only loaded from artifacts 'elastic-hal compile' made here)",
             path);
  return -1;
}

static const char *state_dir_of(const elastic_hal_load_options *o) {
  return o && o->state_dir ? o->state_dir : NULL;
}

/* The one place a component becomes a core module, for run, check and
 * compile alike: for a component (*k == IN_COMPONENT), its structure is
 * read, *wasm and *len are narrowed to its main core module (a slice of the
 * same bytes), *k becomes IN_CORE and m keeps its imports; take_module then
 * checks them.  Any other input is left as it is. */
static int unwrap_component(elastic_hal_module *m, const char *path, input_kind *k,
                            const uint8_t **wasm, size_t *len, elastic_hal_error *err) {
  if (*k != IN_COMPONENT) return 0;
  if (ehal_component_read(*wasm, *len, &m->comp, err) != 0) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg);
    snprintf(err->msg, sizeof err->msg, "%s: %s", path, why);
    return -1;
  }
  m->is_component = true;
  *wasm = m->comp.core;
  *len = m->comp.core_len;
  m->comp.core = NULL; /* points into the caller's buffer */
  *k = IN_CORE;
  return 0;
}

static void module_release(elastic_hal_module *m) {
  ehal_wasm_info_free(&m->info);
  ehal_component_free(&m->comp);
}

/* Fill m->info and m->sha384 from a core module, applying every check the
 * HAL makes of a module whatever it is linked against (and, for a
 * component's main module, of the component's imports). */
static int take_module(elastic_hal_module *m, const uint8_t *wasm, size_t len,
                       elastic_hal_error *err) {
  if (ehal_wasm_parse(wasm, len, &m->info, err) != 0 || ehal_wasm_admit(&m->info, err) != 0) {
    if (m->is_component) { /* say which module of the component */
      char why[sizeof err->msg];
      snprintf(why, sizeof why, "%s", err->msg);
      snprintf(err->msg, sizeof err->msg, "the component's main core module (#%u of %u): %s",
               m->comp.core_index, m->comp.n_core, why);
    }
    return -1;
  }
  if (m->is_component && ehal_component_admit(&m->comp, &m->info, err) != 0) return -1;
  uint8_t md[48];
  sha384_raw(wasm, len, md);
  hex48(md, m->sha384);
  return 0;
}

/* An artifact file's bytes, authenticated; *v points into buf. */
static int open_artifact(const char *path, const uint8_t *buf, size_t len, const char *state_dir,
                         bool create, ehal_artifact_view *v, elastic_hal_error *err) {
  uint8_t key[EHAL_ARTIFACT_KEY_LEN];
  char why[1024];
  int rc = ehal_artifact_key(state_dir, create, key, why, sizeof why) == 0
               ? ehal_artifact_open(buf, len, key, v, why, sizeof why)
               : -1;
  OPENSSL_cleanse(key, sizeof key);
  if (rc != 0)
    snprintf(err->msg, sizeof err->msg,
             "%s: cannot authenticate this artifact (%s); refusing to load it; compile the "
             ".wasm again on this machine with 'elastic-hal compile' (or run the .wasm)",
             path, why);
  return rc;
}

elastic_hal_module *elastic_hal_module_inspect(const char *path,
                                               const elastic_hal_load_options *opts,
                                               elastic_hal_error *err) {
  uint8_t *buf;
  size_t len;
  if (read_file(path, &buf, &len, err) != 0) return NULL;
  elastic_hal_module *m = calloc(1, sizeof *m);
  int rc = -1;
  input_kind k = classify(buf, len);
  const uint8_t *wasm = buf;
  size_t wasm_len = len;
  if (!m) {
    snprintf(err->msg, sizeof err->msg, "out of memory");
  } else if (unwrap_component(m, path, &k, &wasm, &wasm_len, err) != 0) {
    /* err says why */
  } else if (k == IN_CORE) {
    /* and validated as compiling it would: check sees what run would */
    rc = take_module(m, wasm, wasm_len, err) == 0 ? ehal_engine_validate(wasm, wasm_len, err) : -1;
  } else if (k == IN_ARTIFACT) {
    /* authenticated, never loaded: inspection runs none of its code */
    ehal_artifact_view v;
    if (open_artifact(path, buf, len, state_dir_of(opts), false, &v, err) == 0)
      rc = take_module(m, v.wasm, v.wasm_len, err);
  } else {
    refuse(path, k, err);
  }
  free(buf);
  if (rc != 0 && m) {
    module_release(m);
    free(m);
    return NULL;
  }
  return m;
}

/* Compile a .wasm into an artifact at out_path: tagged with this
 * platform's artifact key, or signed for transport with signing_key_pem. */
static int compile_artifact(const char *wasm_path, const char *out_path,
                            const char *signing_key_pem, const elastic_hal_load_options *opts,
                            elastic_hal_error *err) {
  uint8_t *buf;
  size_t len;
  if (read_file(wasm_path, &buf, &len, err) != 0) return -1;
  input_kind k = classify(buf, len);
  elastic_hal_module m = {0};
  /* the artifact is of a component's main core module */
  const uint8_t *wasm = buf;
  size_t wasm_len = len;
  if (unwrap_component(&m, wasm_path, &k, &wasm, &wasm_len, err) != 0) {
    free(buf);
    return -1;
  }
  if (k != IN_CORE) {
    if (k == IN_ARTIFACT)
      snprintf(err->msg, sizeof err->msg, "%s is already a compiled artifact", wasm_path);
    else
      refuse(wasm_path, k, err);
    free(buf);
    return -1;
  }
  uint8_t key[EHAL_ARTIFACT_KEY_LEN], md[48];
  ehal_asym_key *signer = NULL;
  uint8_t *native = NULL;
  size_t native_len = 0;
  char why[1024];
  int rc = -1;
  if (take_module(&m, wasm, wasm_len, err) != 0) goto out;
  if (signing_key_pem) {
    if (!(signer = ehal_artifact_signing_key(signing_key_pem, why, sizeof why))) {
      snprintf(err->msg, sizeof err->msg, "%s", why);
      goto out;
    }
  } else if (ehal_artifact_key(state_dir_of(opts), true, key, why, sizeof why) != 0) {
    snprintf(err->msg, sizeof err->msg,
             "cannot make an artifact here: %s (artifacts are authenticated with a key from the "
             "platform sealing root; run the .wasm directly, or build a signed artifact "
             "elsewhere with 'compile --sign' and import it)",
             why);
    goto out;
  }
  /* an artifact someone asked for ahead of time: the optimized code */
  elastic_hal_tier tier = ELASTIC_HAL_TIER_OPTIMIZED;
  if (ehal_engine_compile(wasm_path, wasm, wasm_len, &tier, &native, &native_len,
                          opts ? opts->progress : NULL, opts ? opts->user : NULL, err) != 0)
    goto out;
  sha384_raw(wasm, wasm_len, md);
  if ((signer ? ehal_artifact_write_signed(out_path, signer, md, wasm, wasm_len, native, native_len,
                                           why, sizeof why)
              : ehal_artifact_write(out_path, key, md, wasm, wasm_len, native, native_len, why,
                                    sizeof why)) != 0) {
    snprintf(err->msg, sizeof err->msg, "%s", why);
    goto out;
  }
  rc = 0;
out:
  OPENSSL_cleanse(key, sizeof key);
  ehal_asym_free(signer);
  module_release(&m);
  free(native);
  free(buf);
  return rc;
}

int elastic_hal_compile(const char *wasm_path, const char *out_path,
                        const elastic_hal_load_options *opts, elastic_hal_error *err) {
  return compile_artifact(wasm_path, out_path, NULL, opts, err);
}

int elastic_hal_compile_signed(const char *wasm_path, const char *out_path,
                               const char *signing_key_pem, const elastic_hal_load_options *opts,
                               elastic_hal_error *err) {
  if (!signing_key_pem) {
    set_error(err, ELASTIC_HAL_ERR_USAGE, "no signing key");
    return -1;
  }
  return compile_artifact(wasm_path, out_path, signing_key_pem, opts, err);
}

/* ---- the compile cache's size bound ---- */

#define CACHE_MAX_DEFAULT ((uint64_t)1 << 30)

typedef struct {
  char name[256];
  off_t size;
  struct timespec used; /* mtime: set when written, refreshed on every hit */
} cache_file;

static int by_use(const void *a, const void *b) {
  const cache_file *x = a, *y = b;
  if (x->used.tv_sec != y->used.tv_sec) return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
  return x->used.tv_nsec < y->used.tv_nsec ? -1 : x->used.tv_nsec > y->used.tv_nsec;
}

/* Remove least recently used entries until the cache holds at most max
 * bytes.  keep (the entry just written) stays, and so does an entry whose
 * lock another process holds (it is being compiled or read).  The cache's
 * files are ours alone (ehal_secure_subdir checked the directory).  Best effort:
 * a cache over its bound costs disk, never correctness. */
static void cache_evict(const char *cache, const char *keep, uint64_t max) {
  DIR *d = opendir(cache);
  if (!d) return;
  cache_file *files = NULL;
  size_t n = 0, cap = 0;
  uint64_t total = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    struct stat st;
    if (l < 5 || l >= sizeof files[0].name || strcmp(e->d_name + l - 4, ".art") ||
        fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      cache_file *g = realloc(files, cap * sizeof *g);
      if (!g) break;
      files = g;
    }
    snprintf(files[n].name, sizeof files[n].name, "%s", e->d_name);
    files[n].size = st.st_size;
    files[n].used = st.st_mtim;
    total += (uint64_t)st.st_size;
    n++;
  }
  closedir(d);
  if (total > max) qsort(files, n, sizeof *files, by_use);
  const char *keep_name = strrchr(keep, '/') ? strrchr(keep, '/') + 1 : keep;
  for (size_t i = 0; i < n && total > max; i++) {
    if (!strcmp(files[i].name, keep_name)) continue;
    char path[4400], lock[4500];
    snprintf(path, sizeof path, "%s/%s", cache, files[i].name);
    snprintf(lock, sizeof lock, "%s.lock", path);
    int fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd); /* in use */
      continue;
    }
    /* the lock file stays: a process that opened it before would otherwise
     * lock a file no one else sees */
    if (unlink(path) == 0) total -= (uint64_t)files[i].size;
    if (fd >= 0) close(fd);
  }
  free(files);
}

/* The cache entry at path, if it is there, authentic and of this module:
 * 0 with its native code (*file holds the buffer), else 1 (a bad entry is
 * reported as a warning, and compiled again by the caller). */
static int cache_hit(const char *path, const uint8_t key[EHAL_ARTIFACT_KEY_LEN],
                     const uint8_t *wasm, size_t len, uint8_t **native, size_t *native_len,
                     uint8_t **file, void (*progress)(const char *, void *), void *user) {
  uint8_t *buf;
  size_t blen;
  elastic_hal_error e2;
  char why[1024], msg[4600];
  if (access(path, F_OK) != 0 || read_private(path, &buf, &blen, &e2) != 0) return 1;
  ehal_artifact_view v;
  int opened = ehal_artifact_open(buf, blen, key, &v, why, sizeof why);
  if (opened == 0 && v.wasm_len == len && memcmp(v.wasm, wasm, len) == 0) {
    utimensat(AT_FDCWD, path, NULL, 0); /* used now: last to be evicted */
    *native = (uint8_t *)v.native;
    *native_len = v.native_len;
    *file = buf;
    return 0;
  }
  free(buf);
  snprintf(msg, sizeof msg, "warning: cache entry %s is not authentic (%s); compiling again", path,
           opened == 0 ? "it holds another module" : why);
  if (progress) progress(msg, user);
  return 1;
}

/* The compile cache's directory, checked (owner, mode, no symlinks):
 * opts->cache_dir, else state_dir/cache; "" when there is neither. */
static int cache_dir(const elastic_hal_load_options *opts, const char *state_dir, char cache[4096],
                     char *why, size_t whylen) {
  cache[0] = 0;
  if (opts && opts->cache_dir) {
    snprintf(cache, 4096, "%s", opts->cache_dir);
    return ehal_secure_dir(cache, why, whylen);
  }
  if (!state_dir) return 0;
  snprintf(cache, 4096, "%s/cache", state_dir);
  /* checks the state directory itself too: owner, mode, no symlinks */
  return ehal_secure_subdir(state_dir, "cache", true, why, whylen);
}

/* A module's cache entries, named by module hash and engine build: the
 * optimized code's and the quick tier's.  Returns their lock, held (-1 if
 * it cannot be made): one compile per module, so concurrent cold starts of
 * the same module wait for the first one's entry instead of compiling it
 * again.  Closing the descriptor releases it. */
static int cache_lock(const char *cache, const char *sha_hex, const char *path, char entry[4300],
                      char quick[4300], void (*progress)(const char *, void *), void *user) {
  char id[256], name[97], why[1024], msg[4600], lock_path[4400];
  uint8_t md[48];
  snprintf(id, sizeof id, "%s/%s", sha_hex, ehal_engine_build_id());
  sha384_raw((const uint8_t *)id, strlen(id), md);
  hex48(md, name);
  snprintf(entry, 4300, "%s/%.64s.art", cache, name);
  snprintf(quick, 4300, "%s/%.64s.quick.art", cache, name);
  snprintf(lock_path, sizeof lock_path, "%s.lock", entry);
  int fd = ehal_secure_open(lock_path, O_RDWR | O_CREAT, 0600, why, sizeof why);
  if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
    snprintf(msg, sizeof msg, "waiting for another elastic-hal that is compiling %s", path);
    if (progress) progress(msg, user);
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  return fd;
}

/* Write a cache entry (dest: the entry or the quick one); optimized code
 * supersedes the quick tier's, and the cache is then held to its bound. */
static int cache_store(const char *cache, const char *dest, const char *quick,
                       const uint8_t key[EHAL_ARTIFACT_KEY_LEN], const uint8_t *wasm, size_t len,
                       const uint8_t *native, size_t native_len,
                       const elastic_hal_load_options *opts, char *why, size_t whylen) {
  uint8_t md[48];
  sha384_raw(wasm, len, md);
  if (ehal_artifact_write(dest, key, md, wasm, len, native, native_len, why, whylen) != 0)
    return -1;
  if (strcmp(dest, quick) != 0) unlink(quick); /* superseded */
  cache_evict(cache, dest,
              opts && opts->cache_max_bytes ? opts->cache_max_bytes : CACHE_MAX_DEFAULT);
  return 0;
}

/* Native code for a core module: from the cache when an authentic entry is
 * there, else compiled (and cached where the platform has an artifact key). */
static int native_for(const char *path, const uint8_t *wasm, size_t len, const char *sha_hex,
                      const elastic_hal_load_options *opts, elastic_hal_tier *tier,
                      uint8_t **native, size_t *native_len, uint8_t **file,
                      elastic_hal_error *err) {
  void (*progress)(const char *, void *) = opts ? opts->progress : NULL;
  void *user = opts ? opts->user : NULL;
  const char *state_dir = state_dir_of(opts);
  uint8_t key[EHAL_ARTIFACT_KEY_LEN];
  char why[1024], msg[4600];
  bool keyed = ehal_artifact_key(state_dir, true, key, why, sizeof why) == 0;
  if (!keyed && ehal_sealing_supported()) {
    /* the platform has a sealing root and we could not get it: an error
     * to report, not a reason to run uncached */
    snprintf(err->msg, sizeof err->msg, "%s", why);
    return -1;
  }
  char cache[4096] = "", entry[4300] = "", quick[4300] = "";
  int lock_fd = -1;
  if (keyed && cache_dir(opts, state_dir, cache, why, sizeof why) != 0) {
    snprintf(err->msg, sizeof err->msg, "%s", why);
    OPENSSL_cleanse(key, sizeof key);
    return -1;
  }
  if (cache[0]) {
    lock_fd = cache_lock(cache, sha_hex, path, entry, quick, progress, user);
    /* the optimized code if it is there, else the quick tier's (unless
     * optimized code is asked for) */
    int hit = cache_hit(entry, key, wasm, len, native, native_len, file, progress, user);
    if (hit == 0) {
      *tier = ELASTIC_HAL_TIER_OPTIMIZED;
      unlink(quick); /* superseded */
    } else if (*tier != ELASTIC_HAL_TIER_OPTIMIZED &&
               cache_hit(quick, key, wasm, len, native, native_len, file, progress, user) == 0) {
      hit = 0;
      *tier = ELASTIC_HAL_TIER_QUICK;
    }
    if (hit == 0) {
      OPENSSL_cleanse(key, sizeof key);
      if (lock_fd >= 0) close(lock_fd);
      return 0;
    }
  } else if (progress) {
    snprintf(msg, sizeof msg, "no artifact key on this platform (%s): compiled code is not cached",
             why);
    progress(msg, user);
  }
  int rc = ehal_engine_compile(path, wasm, len, tier, native, native_len, progress, user, err);
  if (rc == 0 && entry[0]) {
    const char *dest = *tier == ELASTIC_HAL_TIER_QUICK ? quick : entry;
    /* a cache that cannot be written costs a compile next time, no more */
    if (cache_store(cache, dest, quick, key, wasm, len, *native, *native_len, opts, why,
                    sizeof why) != 0 &&
        progress) {
      snprintf(msg, sizeof msg, "not cached: %s", why);
      progress(msg, user);
    }
  }
  OPENSSL_cleanse(key, sizeof key);
  if (lock_fd >= 0) close(lock_fd); /* releases the lock */
  *file = NULL;
  return rc;
}

/* Load from bytes already read; path names the module in messages and
 * labels what it compiles. */
static elastic_hal_module *load_bytes(const uint8_t *buf, size_t len, const char *path,
                                      const elastic_hal_load_options *opts,
                                      elastic_hal_error *err) {
  elastic_hal_module *m = calloc(1, sizeof *m);
  uint8_t *native = NULL, *file = NULL;
  size_t native_len = 0;
  int rc = -1;
  input_kind k = classify(buf, len);
  err->kind = ELASTIC_HAL_ERR_MODULE;
  if (!m) {
    set_error(err, ELASTIC_HAL_ERR_OTHER, "out of memory");
  } else if (unwrap_component(m, path, &k, &buf, &len, err) != 0) {
    /* err says why */
  } else if (k == IN_CORE) {
    if (take_module(m, buf, len, err) == 0) {
      m->tier = opts ? opts->tier : ELASTIC_HAL_TIER_AUTO;
      if (native_for(path, buf, len, m->sha384, opts, &m->tier, &native, &native_len, &file, err) ==
          0) {
        rc = ehal_engine_load(native, native_len, path, &m->eng, err);
        if (!file) free(native);
      } else {
        err->kind = ELASTIC_HAL_ERR_COMPILE;
      }
    }
  } else if (k == IN_ARTIFACT) {
    ehal_artifact_view v;
    if (open_artifact(path, buf, len, state_dir_of(opts), true, &v, err) == 0 &&
        take_module(m, v.wasm, v.wasm_len, err) == 0)
      rc = ehal_engine_load(v.native, v.native_len, path, &m->eng, err);
  } else {
    refuse(path, k, err);
  }
  free(file);
  if (rc == 0) pthread_mutex_init(&m->funcs_lock, NULL);
  /* the native code must serve exactly the imports the module declares */
  if (rc == 0 && ehal_engine_module_nimports(m->eng) != m->info.n_imports) {
    snprintf(err->msg, sizeof err->msg, "%s: native code does not match its module", path);
    rc = -1;
  }
  if (rc != 0 && m) {
    module_release(m);
    free(m);
    return NULL;
  }
  err->kind = ELASTIC_HAL_ERR_NONE;
  return m;
}

int elastic_hal_import(const char *signed_path, const char *out_path,
                       const char *const *trusted_pem, size_t n_trusted,
                       const elastic_hal_load_options *opts, elastic_hal_error *err) {
  if (!trusted_pem || n_trusted == 0 || n_trusted > 64) {
    set_error(err, ELASTIC_HAL_ERR_USAGE, "name between 1 and 64 trusted signing keys");
    return -1;
  }
  uint8_t trusted[64][EHAL_ARTIFACT_SIGNER_LEN];
  char why[1024];
  for (size_t i = 0; i < n_trusted; i++)
    if (ehal_artifact_trusted_key(trusted_pem[i], trusted[i], why, sizeof why) != 0) {
      set_error(err, ELASTIC_HAL_ERR_USAGE, "%s", why);
      return -1;
    }
  uint8_t *buf;
  size_t len;
  if (read_file(signed_path, &buf, &len, err) != 0) return -1;
  elastic_hal_module m = {0};
  uint8_t key[EHAL_ARTIFACT_KEY_LEN];
  ehal_artifact_view v;
  const char *state_dir = state_dir_of(opts);
  char cache[4096] = "", entry[4300], quick[4300];
  int rc = -1, lock_fd = -1;
  if (ehal_artifact_open_signed(buf, len, trusted, n_trusted, &v, why, sizeof why) != 0) {
    snprintf(err->msg, sizeof err->msg, "%s: refusing to import it: %s", signed_path, why);
    goto out;
  }
  /* the module inside meets every check a module loaded here meets */
  if (take_module(&m, v.wasm, v.wasm_len, err) != 0) goto out;
  if (ehal_artifact_key(state_dir, true, key, why, sizeof why) != 0) {
    snprintf(err->msg, sizeof err->msg, "cannot make an artifact here: %s", why);
    goto out;
  }
  if (out_path) {
    rc = ehal_artifact_write(out_path, key, v.sha384, v.wasm, v.wasm_len, v.native, v.native_len,
                             why, sizeof why);
  } else if (cache_dir(opts, state_dir, cache, why, sizeof why) != 0 || !cache[0]) {
    if (!cache[0]) snprintf(why, sizeof why, "no cache directory (give a state directory)");
  } else {
    lock_fd = cache_lock(cache, m.sha384, signed_path, entry, quick, opts ? opts->progress : NULL,
                         opts ? opts->user : NULL);
    rc = cache_store(cache, entry, quick, key, v.wasm, v.wasm_len, v.native, v.native_len, opts,
                     why, sizeof why);
  }
  if (rc != 0) snprintf(err->msg, sizeof err->msg, "%s", why);
out:
  OPENSSL_cleanse(key, sizeof key);
  if (lock_fd >= 0) close(lock_fd);
  ehal_wasm_info_free(&m.info);
  free(buf);
  return rc;
}

elastic_hal_module *elastic_hal_module_load(const char *path, const elastic_hal_load_options *opts,
                                            elastic_hal_error *err) {
  uint8_t *buf;
  size_t len;
  if (read_file(path, &buf, &len, err) != 0) {
    err->kind = ELASTIC_HAL_ERR_IO;
    return NULL;
  }
  elastic_hal_module *m = load_bytes(buf, len, path, opts, err);
  free(buf);
  return m;
}

elastic_hal_module *elastic_hal_module_load_bytes(const uint8_t *bytes, size_t len,
                                                  const char *label,
                                                  const elastic_hal_load_options *opts,
                                                  elastic_hal_error *err) {
  if (!bytes) {
    set_error(err, ELASTIC_HAL_ERR_USAGE, "no bytes to load");
    return NULL;
  }
  return load_bytes(bytes, len, label ? label : "(module in memory)", opts, err);
}

void elastic_hal_module_free(elastic_hal_module *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n_funcs; i++) free(m->funcs[i]);
  free(m->funcs);
  if (m->eng) pthread_mutex_destroy(&m->funcs_lock);
  module_release(m);
  ehal_engine_module_free(m->eng);
  free(m);
}

const char *elastic_hal_module_sha384(const elastic_hal_module *m) { return m->sha384; }

bool elastic_hal_module_is_component(const elastic_hal_module *m) { return m->is_component; }

elastic_hal_tier elastic_hal_module_tier(const elastic_hal_module *m) {
  return m->tier == ELASTIC_HAL_TIER_QUICK ? ELASTIC_HAL_TIER_QUICK : ELASTIC_HAL_TIER_OPTIMIZED;
}

int elastic_hal_module_runnable(const elastic_hal_module *m, uint32_t max_memory_pages,
                                elastic_hal_error *err) {
  uint32_t max = max_memory_pages ? max_memory_pages : 16384;
  if (max > 65535) max = 65535;
  if (m->info.n_memories && m->info.mem_min > max) {
    snprintf(err->msg, sizeof err->msg,
             "the module needs %u pages of linear memory initially, above the limit of %u pages",
             m->info.mem_min, max);
    return -1;
  }
  for (size_t i = 0; i < m->info.n_exports; i++)
    if (!strcmp(m->info.exports[i].name, "_start")) return 0; /* its type: ehal_wasm_admit */
  snprintf(err->msg, sizeof err->msg,
           "the module exports no _start function: it is not a command (a library module's "
           "exports are called by an embedder, see elastic_hal_call)");
  return -1;
}

/* Uniform view of a module's imports. */
static size_t n_imports(const elastic_hal_module *m) { return m->info.n_imports; }

static void import_at(const elastic_hal_module *m, size_t i, const char **mod, const char **field,
                      const char **sig, int *kind) {
  *mod = m->info.imports[i].module;
  *field = m->info.imports[i].field;
  *sig = m->info.imports[i].sig;
  *kind = m->info.imports[i].kind;
}

/* Resolve every import; one line per problem.  fns and gens may be NULL.
 * An embedder's definition of exactly module#name comes first. */
static int resolve_all(const elastic_hal_module *m, const elastic_hal_linker *l, ehal_hostfn *fns,
                       struct ehal_host_def_copy *gens, char *report, size_t replen) {
  int problems = 0;
  size_t k = 0;
  if (report && replen) report[0] = 0;
  /* a component's own imports first: each interface it imports must be
   * served by the linker, used by its main module or not (WASI 0.2 ones,
   * the adapter's, were admitted at load: preview 1 takes their place) */
  for (size_t i = 0; i < m->comp.n_imports; i++) {
    const ehal_component_import *im = &m->comp.imports[i];
    char why[512], nb[200];
    if (!ehal_component_needs_linking(im) || ehal_linker_provides(l, im->name, why, sizeof why))
      continue;
    problems++;
    if (report && k < replen)
      k += (size_t)snprintf(report + k, replen - k, "%scomponent imports %s: %s",
                            problems > 1 ? "\n" : "", ehal_name_escaped(im->name, nb, sizeof nb),
                            why);
  }
  for (size_t i = 0; i < n_imports(m); i++) {
    const char *mod, *field, *sig;
    int kind;
    import_at(m, i, &mod, &field, &sig, &kind);
    char why[512], pa[128], pb[128];
    ehal_hostfn fn = NULL;
    bool resolved = false;
    const ehal_host_def *d = kind == EHAL_EXTERN_FUNC ? ehal_linker_find_def(l, mod, field) : NULL;
    if (kind != EHAL_EXTERN_FUNC) {
      snprintf(why, sizeof why, "only function imports are supported");
    } else if (d && strcmp(d->sig, sig) != 0) {
      snprintf(why, sizeof why, "signature %s does not match the embedder's %s",
               ehal_sig_pretty(sig, pa, sizeof pa), ehal_sig_pretty(d->sig, pb, sizeof pb));
    } else if (d) {
      resolved = true;
      if (gens) gens[i] = (struct ehal_host_def_copy){d->fn, d->user, d->sig};
    } else {
      fn = ehal_linker_resolve(l, mod, field, sig, why, sizeof why);
      resolved = fn != NULL;
    }
    if (fns) fns[i] = fn;
    if (!resolved) {
      problems++;
      char mb[160], fb[160];
      if (report && k < replen)
        k += (size_t)snprintf(report + k, replen - k, "%sunresolved import %s#%s: %s",
                              problems > 1 ? "\n" : "", ehal_name_escaped(mod, mb, sizeof mb),
                              ehal_name_escaped(field, fb, sizeof fb), why);
    }
  }
  return problems;
}

/* ---- the embedder's host functions ---- */

/* The engine's generic entry: an import served by an embedder function,
 * with 64-bit cells converted to and from elastic_hal_val. */
static void call_generic(void *env, uint32_t idx, const uint64_t *args, uint64_t *results) {
  ehal_instance *inst = env;
  const struct ehal_host_def_copy *g = &inst->gens[idx];
  elastic_hal_val a[64], r[1];
  const char *colon = strchr(g->sig, ':');
  size_t na = (size_t)(colon - g->sig), nr = strlen(colon + 1);
  for (size_t i = 0; i < na && i < 64; i++) {
    a[i].kind = (elastic_hal_valkind)g->sig[i];
    switch (g->sig[i]) {
      case 'i': a[i].of.i32 = (uint32_t)args[i]; break;
      case 'I': a[i].of.i64 = args[i]; break;
      case 'f': {
        uint32_t b = (uint32_t)args[i];
        memcpy(&a[i].of.f32, &b, 4);
        break;
      }
      default: memcpy(&a[i].of.f64, &args[i], 8);
    }
  }
  memset(r, 0, sizeof r);
  if (!inst->trapped) inst->trap_msg[0] = 0;
  int rc = na > 64 ? -1 : g->fn(inst, a, na, r, nr, g->user);
  if (rc == 0 && nr && (char)r[0].kind != colon[1] && !inst->trapped) {
    rc = -1;
    snprintf(inst->trap_msg, sizeof inst->trap_msg,
             "host function returned a %c where its signature says %c", (char)r[0].kind, colon[1]);
  }
  if (rc != 0 || inst->trapped) {
    /* the trap is raised once this function has returned to the guest */
    char why[sizeof inst->trap_msg];
    snprintf(why, sizeof why, "%s", inst->trap_msg[0] ? inst->trap_msg : "host function failed");
    ehal_trap_record(inst, EHAL_TRAP_HOST, "%s", why);
    return;
  }
  if (nr) {
    switch (colon[1]) {
      case 'i': results[0] = r[0].of.i32; break;
      case 'I': results[0] = r[0].of.i64; break;
      case 'f': {
        uint32_t b;
        memcpy(&b, &r[0].of.f32, 4);
        results[0] = b;
        break;
      }
      default: memcpy(&results[0], &r[0].of.f64, 8);
    }
  }
}

int elastic_hal_trap(elastic_hal_instance *caller, const char *fmt, ...) {
  if (caller->trapped) return -1; /* the first cause is the one reported */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(caller->trap_msg, sizeof caller->trap_msg, fmt, ap);
  va_end(ap);
  return -1;
}

/* ---- the time bound (config.timeout_ms) ---- */

struct ehal_watchdog {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct timespec deadline; /* CLOCK_MONOTONIC */
  bool stop;
  ehal_engine_instance *eng;
};

/* Sleeps until the deadline, then asks the guest to stop, again every
 * 10 ms (a guest caught outside its own code is caught later) until the
 * instance is freed. */
static void *watchdog_main(void *arg) {
  struct ehal_watchdog *w = arg;
  pthread_mutex_lock(&w->lock);
  while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &w->deadline) != ETIMEDOUT) {
  }
  while (!w->stop) {
    ehal_engine_interrupt(w->eng);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    next.tv_nsec += 10 * 1000000;
    if (next.tv_nsec >= 1000000000) {
      next.tv_sec++;
      next.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&w->cond, &w->lock, &next);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

static struct ehal_watchdog *watchdog_start(ehal_engine_instance *eng, uint64_t ms) {
  struct ehal_watchdog *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&w->lock, NULL);
  w->eng = eng;
  clock_gettime(CLOCK_MONOTONIC, &w->deadline);
  w->deadline.tv_sec += (time_t)(ms / 1000);
  w->deadline.tv_nsec += (long)(ms % 1000) * 1000000;
  if (w->deadline.tv_nsec >= 1000000000) {
    w->deadline.tv_sec++;
    w->deadline.tv_nsec -= 1000000000;
  }
  if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return NULL;
  }
  return w;
}

static void watchdog_stop(struct ehal_watchdog *w) {
  if (!w) return;
  pthread_mutex_lock(&w->lock);
  w->stop = true;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->cond);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

int elastic_hal_check(const elastic_hal_module *m, const elastic_hal_linker *l, FILE *out) {
  char report[16384];
  int n = resolve_all(m, l, NULL, NULL, report, sizeof report);
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
  err->trapped = false; /* set below only when the guest's start function traps */
  if (!m->eng) {
    snprintf(err->msg, sizeof err->msg, "module was only inspected, not loaded");
    return NULL;
  }
  size_t n = n_imports(m);
  ehal_hostfn *fns = calloc(n ? n : 1, sizeof *fns);
  struct ehal_host_def_copy *gens = calloc(n ? n : 1, sizeof *gens);
  ehal_instance *inst = calloc(1, sizeof *inst);
  if (!fns || !gens || !inst) {
    free(fns);
    free(gens);
    free(inst);
    set_error(err, ELASTIC_HAL_ERR_OTHER, "out of memory");
    return NULL;
  }
  /* Nothing of the guest runs unless every import resolves. */
  if (resolve_all(m, l, fns, gens, err->msg, sizeof err->msg) != 0) {
    err->kind = ELASTIC_HAL_ERR_LINK;
    free(fns);
    free(gens);
    free(inst);
    return NULL;
  }
  err->trapped = false;
  inst->gens = gens;
  inst->user_data = cfg->user_data;
  inst->module = m;
  inst->workload = dupstr(cfg->workload ? cfg->workload : "workload");
  inst->deployment = cfg->deployment ? dupstr(cfg->deployment) : NULL;
  inst->state_dir = dupstr(cfg->state_dir);
  inst->world = dupstr(ehal_linker_identity(l));
  inst->argc = cfg->argc;
  inst->argv = dupv(cfg->argc, cfg->argv);
  inst->envc = cfg->envc;
  inst->env = dupv(cfg->envc, cfg->env);
  inst->max_sleep_ns = cfg->max_sleep_ns == ELASTIC_HAL_SLEEP_NONE ? 0
                       : cfg->max_sleep_ns                         ? cfg->max_sleep_ns
                                                                   : 10ull * 1000000000ull;
  inst->stdout_fd = cfg->stdout_fd ? cfg->stdout_fd : 1;
  inst->stderr_fd = cfg->stderr_fd ? cfg->stderr_fd : 2;
  inst->max_sockets = cfg->max_sockets ? cfg->max_sockets : 1024;
  inst->socket_timeout_ms = cfg->socket_timeout_ms ? cfg->socket_timeout_ms : 30000;
  inst->gpu_timeout_ms = cfg->gpu_timeout_ms ? cfg->gpu_timeout_ms : 5000;
  inst->gpu_max_memory = cfg->gpu_max_memory ? cfg->gpu_max_memory : 1ull << 30;
  inst->gpu_max_buffers = cfg->gpu_max_buffers ? cfg->gpu_max_buffers : 1024;
  inst->gpu_max_workgroups = cfg->gpu_max_workgroups ? cfg->gpu_max_workgroups : 1u << 20;
  inst->deployment_fd = cfg->deployment_fd > 0 ? cfg->deployment_fd : 0;
  inst->storage_quota = cfg->max_storage_bytes; /* 0: the process-wide limits' (storage.c) */
  /* at most 1 TiB/s: any real budget, and no overflow in the bucket */
  inst->net_rate = cfg->network_rate < (1ull << 40) ? cfg->network_rate : 1ull << 40;
  inst->net_tokens = (double)inst->net_rate; /* a second's worth to start */
  inst->tls_ca_file = cfg->tls_ca_file ? dupstr(cfg->tls_ca_file) : NULL;
  inst->tls_identity = cfg->tls_identity_p12 ? dupstr(cfg->tls_identity_p12) : NULL;
  inst->tls_identity_password =
      cfg->tls_identity_password ? dupstr(cfg->tls_identity_password) : NULL;
  inst->tls_attested = cfg->tls_identity_attested && !cfg->tls_identity_p12;
  const ehal_iface_def *const *ifs;
  size_t nifs = ehal_linker_ifaces(l, &ifs);
  for (size_t i = 0; i < nifs && i < 64; i++) inst->linked[inst->n_linked++] = ifs[i];
  ehal_instance_init_interfaces(inst);
  uint32_t max_pages = cfg->max_memory_pages ? cfg->max_memory_pages : 16384;
  /* wasm2c keeps byte sizes in 32 bits: 65536 pages would wrap to 0 */
  if (max_pages > 65535) max_pages = 65535;
  inst->base_memory_pages = max_pages;
  inst->fns = fns; /* the artifact calls through this table for the instance's life */
  inst->net = ehal_net_policy_new(cfg->allow_connect, cfg->n_allow_connect, cfg->allow_bind,
                                  cfg->n_allow_bind, err->msg, sizeof err->msg);
  if (!inst->net) {
    err->kind = ELASTIC_HAL_ERR_USAGE;
    elastic_hal_instance_free(inst);
    return NULL;
  }
  if (ehal_wasi_fs_open(inst, cfg->sealed_dirs, cfg->n_sealed_dirs, cfg->host_dirs,
                        cfg->n_host_dirs, err->msg, sizeof err->msg)) {
    err->kind = ELASTIC_HAL_ERR_OTHER;
    elastic_hal_instance_free(inst);
    return NULL;
  }
  inst->eng = ehal_engine_instance_new(m->eng, max_pages, err);
  if (!inst->eng) {
    elastic_hal_instance_free(inst);
    return NULL;
  }
  ehal_engine_memory(inst->eng, &inst->mem); /* present when imports exist: wasm_admit */
  if (cfg->timeout_ms && !(inst->watchdog = watchdog_start(inst->eng, cfg->timeout_ms))) {
    set_error(err, ELASTIC_HAL_ERR_OTHER, "cannot start the timeout thread");
    elastic_hal_instance_free(inst);
    return NULL;
  }
  ehal_trap_kind k = ehal_engine_instantiate(inst->eng, inst, fns, call_generic);
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

int elastic_hal_instance_sync(elastic_hal_instance *inst, elastic_hal_error *err) {
  if (ehal_wasi_fs_sync(inst, err->msg, sizeof err->msg) == 0) return 0;
  err->kind = ELASTIC_HAL_ERR_OTHER;
  return -1;
}

void *elastic_hal_instance_user_data(const elastic_hal_instance *inst) { return inst->user_data; }

int elastic_hal_instance_interrupt(elastic_hal_instance *inst) {
  if (!inst || !inst->eng) return -1;
  ehal_engine_interrupt(inst->eng);
  return 0;
}

void elastic_hal_instance_free(elastic_hal_instance *inst) {
  if (!inst) return;
  watchdog_stop(inst->watchdog);
  free(inst->gens);
  ehal_engine_instance_free(inst->eng);
  free(inst->fns);
  ehal_instance_cleanup_interfaces(inst);
  ehal_wasi_fs_close(inst);
  ehal_arena_release(inst);
  ehal_net_policy_free(inst->net);
  free(inst->tls_ca_file);
  free(inst->tls_identity);
  if (inst->tls_identity_password)
    OPENSSL_cleanse(inst->tls_identity_password, strlen(inst->tls_identity_password));
  free(inst->tls_identity_password);
  free(inst->workload);
  free(inst->deployment);
  free(inst->state_dir);
  free(inst->world);
  freev(inst->argc, inst->argv);
  freev(inst->envc, inst->env);
  free(inst);
}

/* A call from the embedder begins: nothing of an earlier call's outcome
 * carries over (a call re-entering this instance from one of its own host
 * functions keeps the trap that call may have recorded). */
static void call_start(ehal_instance *inst) {
  inst->exited = false;
  inst->lowering = false;
  if (!ehal_engine_in_host_call(inst->eng)) {
    inst->trapped = false;
    inst->trap_msg[0] = 0;
  }
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
  const char *kind = k == EHAL_TRAP_HOST    ? "abi"
                     : k == EHAL_TRAP_OTHER ? "other"
                                            : ehal_trap_name(k);
  if (k == EHAL_TRAP_HOST || (inst->trapped && inst->trap_msg[0]))
    snprintf(err->msg, sizeof err->msg, "trap (%s): %s: %s", kind, what, inst->trap_msg);
  else
    snprintf(err->msg, sizeof err->msg, "trap (%s): %s", kind, what);
  err->kind = ELASTIC_HAL_ERR_TRAP;
  snprintf(err->trap, sizeof err->trap, "%s", kind);
  snprintf(err->function, sizeof err->function, "%s", what);
  return ELASTIC_HAL_TRAPPED;
}

elastic_hal_outcome elastic_hal_run(elastic_hal_instance *inst, int *status,
                                    elastic_hal_error *err) {
  *status = 0;
  call_start(inst);
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
  err->kind = ELASTIC_HAL_ERR_USAGE;
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
  call_start(inst);
  ehal_trap_kind k = ehal_engine_call(inst->eng, name, args, nargs, results, nresults);
  int st;
  return finish(inst, k, name, &st, err);
}

elastic_hal_outcome elastic_hal_call_values(elastic_hal_instance *inst, const char *name,
                                            const elastic_hal_val *args, size_t nargs,
                                            elastic_hal_val *results, size_t nresults,
                                            elastic_hal_error *err) {
  const char *sig = ehal_engine_export_sig(inst->eng, name);
  char pretty[128];
  if (!sig) {
    set_error(err, ELASTIC_HAL_ERR_USAGE, "no exported function %s", name);
    return ELASTIC_HAL_TRAPPED;
  }
  const char *colon = strchr(sig, ':');
  bool ok = (size_t)(colon - sig) == nargs && strlen(colon + 1) == nresults && nargs <= 64;
  for (size_t i = 0; ok && i < nargs; i++) ok = (char)args[i].kind == sig[i];
  if (!ok) {
    set_error(err, ELASTIC_HAL_ERR_USAGE,
              "%s has signature %s: the %zu arguments and %zu results given do not match", name,
              ehal_sig_pretty(sig, pretty, sizeof pretty), nargs, nresults);
    return ELASTIC_HAL_TRAPPED;
  }
  uint64_t a[64], r[1] = {0};
  for (size_t i = 0; i < nargs; i++) {
    switch (args[i].kind) {
      case ELASTIC_HAL_I32: a[i] = args[i].of.i32; break;
      case ELASTIC_HAL_I64: a[i] = args[i].of.i64; break;
      case ELASTIC_HAL_F32: {
        uint32_t b;
        memcpy(&b, &args[i].of.f32, 4);
        a[i] = b;
        break;
      }
      default: memcpy(&a[i], &args[i].of.f64, 8);
    }
  }
  call_start(inst);
  ehal_trap_kind k = ehal_engine_call(inst->eng, name, a, nargs, r, nresults);
  int st;
  elastic_hal_outcome o = finish(inst, k, name, &st, err);
  if (o == ELASTIC_HAL_EXITED && nresults) {
    results[0].kind = (elastic_hal_valkind)colon[1];
    switch (colon[1]) {
      case 'i': results[0].of.i32 = (uint32_t)r[0]; break;
      case 'I': results[0].of.i64 = r[0]; break;
      case 'f': {
        uint32_t b = (uint32_t)r[0];
        memcpy(&results[0].of.f32, &b, 4);
        break;
      }
      default: memcpy(&results[0].of.f64, &r[0], 8);
    }
  }
  return o;
}

/* ---- guest memory, for embedders ---- */

size_t elastic_hal_memory_size(const elastic_hal_instance *inst) {
  return inst->mem.size ? *inst->mem.size : 0;
}

/* [addr, addr + len) inside memory: its host address, else NULL. */
static uint8_t *span(const elastic_hal_instance *inst, uint32_t addr, size_t len) {
  if (!inst->mem.data || !*inst->mem.data) return NULL;
  uint64_t size = *inst->mem.size;
  if ((uint64_t)addr > size || len > size - addr) return NULL;
  return *inst->mem.data + addr;
}

int elastic_hal_memory_read(const elastic_hal_instance *inst, uint32_t addr, void *dst,
                            size_t len) {
  const uint8_t *p = span(inst, addr, len);
  if (!p) return -1;
  if (len) memcpy(dst, p, len);
  return 0;
}

int elastic_hal_memory_write(elastic_hal_instance *inst, uint32_t addr, const void *src,
                             size_t len) {
  uint8_t *p = span(inst, addr, len);
  if (!p) return -1;
  if (len) memcpy(p, src, len);
  return 0;
}

int elastic_hal_read_string(const elastic_hal_instance *caller, uint32_t ptr, uint32_t len,
                            char **out) {
  *out = NULL;
  const uint8_t *p = span(caller, ptr, len);
  if (!p || !ehal_utf8_valid(p, len) || memchr(p, 0, len)) return -1;
  char *s = malloc((size_t)len + 1);
  if (!s) return -1;
  memcpy(s, p, len);
  s[len] = 0;
  *out = s;
  return 0;
}

int elastic_hal_lower_bytes(elastic_hal_instance *caller, const void *src, size_t len,
                            uint32_t align, uint32_t *ptr) {
  /* the guest's allocator runs as guest code: only inside a host call, and
   * not while the HAL itself is lowering a result */
  if (!ehal_engine_in_host_call(caller->eng) || caller->lowering || !len || len > UINT32_MAX ||
      !align || (align & (align - 1)) || !ehal_engine_has_realloc(caller->eng))
    return -1;
  if (caller->trapped) return -1;
  uint32_t p = 0;
  caller->lowering = true;
  ehal_trap_kind k = ehal_engine_realloc(caller->eng, 0, 0, align, (uint32_t)len, &p);
  caller->lowering = false;
  if (k != EHAL_TRAP_NONE) {
    /* the guest's allocator trapped: the call ends with that trap once the
     * embedder's function returns */
    ehal_trap_record(caller, k, "in cabi_realloc(%zu bytes), called by a host function", len);
    return -1;
  }
  uint8_t *dst = span(caller, p, len);
  if (!dst || (p & (align - 1))) return -1;
  memcpy(dst, src, len);
  *ptr = p;
  return 0;
}

/* ---- modules, for embedders ---- */

size_t elastic_hal_module_import_count(const elastic_hal_module *m) { return m->info.n_imports; }

void elastic_hal_module_import(const elastic_hal_module *m, size_t i, const char **mod,
                               const char **name, const char **sig) {
  const ehal_wasm_import *im = &m->info.imports[i];
  *mod = im->module;
  *name = im->field;
  *sig = im->sig;
}

size_t elastic_hal_module_export_count(const elastic_hal_module *m) { return m->info.n_exports; }

void elastic_hal_module_export(const elastic_hal_module *m, size_t i, const char **name,
                               elastic_hal_extern_kind *kind, const char **sig) {
  const ehal_wasm_export *e = &m->info.exports[i];
  *name = e->name;
  *kind = (elastic_hal_extern_kind)e->kind;
  *sig = e->kind == EHAL_EXTERN_FUNC ? e->sig : NULL;
}

const char *elastic_hal_version(int *number) {
  if (number) *number = ELASTIC_HAL_VERSION_NUMBER;
  return ELASTIC_HAL_VERSION;
}

/* ---- exports resolved once ---- */

struct elastic_hal_func {
  const ehal_engine_export *x;
  const char *sig, *name; /* the artifact's, alive as long as the module */
};

/* One handle per export, kept with the module (they never change). */
const elastic_hal_func *elastic_hal_instance_func(const elastic_hal_instance *inst,
                                                  const char *name, elastic_hal_error *err) {
  const char *sig = NULL, *xname = NULL;
  const ehal_engine_export *x = ehal_engine_find_export(inst->eng, name, &sig, &xname);
  if (!x) {
    set_error(err, ELASTIC_HAL_ERR_USAGE, "no exported function %s (of i32/i64/f32/f64 values)",
              name);
    return NULL;
  }
  elastic_hal_module *m = (elastic_hal_module *)inst->module;
  pthread_mutex_lock(&m->funcs_lock);
  elastic_hal_func *f = NULL;
  for (size_t i = 0; i < m->n_funcs && !f; i++)
    if (m->funcs[i]->x == x) f = m->funcs[i];
  if (!f && (f = malloc(sizeof *f))) {
    elastic_hal_func **grown = realloc(m->funcs, (m->n_funcs + 1) * sizeof *grown);
    if (grown) {
      m->funcs = grown;
      *f = (elastic_hal_func){x, sig, xname};
      m->funcs[m->n_funcs++] = f;
    } else {
      free(f);
      f = NULL;
    }
  }
  pthread_mutex_unlock(&m->funcs_lock);
  if (!f) set_error(err, ELASTIC_HAL_ERR_OTHER, "out of memory");
  return f;
}

const char *elastic_hal_func_sig(const elastic_hal_func *func) { return func->sig; }

elastic_hal_outcome elastic_hal_func_call(elastic_hal_instance *inst, const elastic_hal_func *func,
                                          const uint64_t *args, uint64_t *results,
                                          elastic_hal_error *err) {
  if (!func || !ehal_engine_export_of(inst->eng, func->x)) {
    set_error(err, ELASTIC_HAL_ERR_USAGE, "the function handle is not of this instance's module");
    return ELASTIC_HAL_TRAPPED;
  }
  call_start(inst);
  ehal_trap_kind k = ehal_engine_call_export(inst->eng, func->x, args, results);
  if (k == EHAL_TRAP_NONE) return ELASTIC_HAL_EXITED;
  int st;
  return finish(inst, k, func->name, &st, err);
}

/* ---- the default state directory ---- */

char *elastic_hal_default_state_dir(void) {
  const char *x = getenv("XDG_STATE_HOME");
  char *out = NULL;
  if (x && *x) return asprintf(&out, "%s/elastic-hal", x) < 0 ? NULL : out;
  const char *home = getenv("HOME");
  return asprintf(&out, "%s/.local/state/elastic-hal", home && *home ? home : ".") < 0 ? NULL : out;
}
