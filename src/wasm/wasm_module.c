/* wasm_module.c - WebAssembly binary reader (see wasm_module.h). */
#include "wasm_module.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const uint8_t *p, *end;
  bool bad;
  const char *why;
} reader;

static void fail(reader *r, const char *why) {
  if (!r->bad) r->why = why;
  r->bad = true;
  r->p = r->end;
}

static uint8_t byte(reader *r) {
  if (r->p >= r->end) {
    fail(r, "unexpected end of module");
    return 0;
  }
  return *r->p++;
}

static uint64_t leb(reader *r, unsigned bits) {
  uint64_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    uint8_t b = byte(r);
    if (r->bad) return 0;
    if (shift >= bits || (shift + 7 > bits && (b & 0x7f) >> (bits - shift))) {
      fail(r, "malformed LEB128 integer");
      return 0;
    }
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

static uint32_t u32(reader *r) { return (uint32_t)leb(r, 32); }

static char *name(reader *r) {
  uint32_t n = u32(r);
  if (r->bad || n > (size_t)(r->end - r->p)) {
    fail(r, "name runs past the end of its section");
    return NULL;
  }
  char *s = malloc(n + 1);
  if (!s) {
    fail(r, "out of memory");
    return NULL;
  }
  memcpy(s, r->p, n);
  s[n] = 0;
  if (memchr(s, 0, n)) {
    free(s);
    fail(r, "name contains NUL");
    return NULL;
  }
  r->p += n;
  return s;
}

static char valtype(reader *r) {
  switch (byte(r)) {
    case 0x7f: return 'i';
    case 0x7e: return 'I';
    case 0x7d: return 'f';
    case 0x7c: return 'F';
    case 0x7b: return 'v';
    case 0x70:
    case 0x6f: return 'r';
    default: fail(r, "unknown value type"); return '?';
  }
}

static void limits(reader *r) {
  uint8_t flags = byte(r);
  u32(r);
  if (flags & 1) u32(r);
}

#define MAX_ITEMS 1000000u

/* A vector count: every entry takes at least one byte, so a count larger
 * than what is left of its section is malformed; checking that before
 * allocating keeps a 20-byte module from asking for gigabytes. */
static uint32_t count(reader *r, const char *what) {
  uint32_t n = u32(r);
  if (!r->bad && (n > MAX_ITEMS || n > (size_t)(r->end - r->p))) fail(r, what);
  return r->bad ? 0 : n;
}

static void *alloc_items(reader *r, uint32_t n, size_t size) {
  if (r->bad) return NULL;
  void *p = calloc(n ? n : 1, size);
  if (!p) fail(r, "out of memory");
  return p;
}

int ehal_wasm_parse(const uint8_t *buf, size_t len, ehal_wasm_info *out, elastic_hal_error *err) {
  memset(out, 0, sizeof *out);
  reader r = {buf, buf + len, false, NULL};
  char **types = NULL;
  uint32_t n_types = 0, n_funcs = 0, n_func_imports = 0;
  uint32_t *func_types = NULL;
  static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  if (len < 8 || memcmp(buf, magic, 8) != 0) {
    snprintf(err->msg, sizeof err->msg, "not a WebAssembly core module (bad magic or version)");
    return -1;
  }
  r.p += 8;
  uint32_t seen = 0; /* known sections may appear once each */
  while (r.p < r.end && !r.bad) {
    uint8_t id = byte(&r);
    if (id != 0 && id <= 12) {
      if (seen & (1u << id)) {
        fail(&r, "section appears twice");
        break;
      }
      seen |= 1u << id;
    }
    uint32_t size = u32(&r);
    if (r.bad || size > (size_t)(r.end - r.p)) {
      fail(&r, "section runs past the end of the module");
      break;
    }
    reader s = {r.p, r.p + size, false, NULL};
    r.p += size;
    if (id == 1) { /* type */
      n_types = count(&s, "type count exceeds its section");
      types = alloc_items(&s, n_types, sizeof *types);
      for (uint32_t i = 0; i < n_types && !s.bad; i++) {
        if (byte(&s) != 0x60) fail(&s, "type is not a function type");
        uint32_t np = u32(&s);
        if (!s.bad && (np > 1000 || np > (size_t)(s.end - s.p))) fail(&s, "too many parameters");
        char tmp[2100];
        size_t k = 0;
        for (uint32_t j = 0; j < np && !s.bad; j++) tmp[k++] = valtype(&s);
        tmp[k++] = ':';
        uint32_t nr = u32(&s);
        if (!s.bad && (nr > 1000 || nr > (size_t)(s.end - s.p))) fail(&s, "too many results");
        for (uint32_t j = 0; j < nr && !s.bad; j++) tmp[k++] = valtype(&s);
        tmp[k] = 0;
        if (!s.bad && !(types[i] = strdup(tmp))) fail(&s, "out of memory");
      }
    } else if (id == 2) { /* import */
      uint32_t n = count(&s, "import count exceeds its section");
      out->imports = alloc_items(&s, n, sizeof *out->imports);
      for (uint32_t i = 0; i < n && !s.bad; i++) {
        ehal_wasm_import *im = &out->imports[out->n_imports++];
        im->module = name(&s);
        im->field = name(&s);
        im->kind = byte(&s);
        switch (im->kind) {
          case EHAL_EXTERN_FUNC: {
            uint32_t t = u32(&s);
            if (t >= n_types)
              fail(&s, "import refers to an unknown type");
            else if (!(im->sig = strdup(types[t])))
              fail(&s, "out of memory");
            n_func_imports++;
            break;
          }
          case EHAL_EXTERN_TABLE:
            byte(&s);
            limits(&s);
            break;
          case EHAL_EXTERN_MEMORY: limits(&s); break;
          case EHAL_EXTERN_GLOBAL:
            byte(&s);
            byte(&s);
            break;
          default: fail(&s, "unknown import kind");
        }
      }
    } else if (id == 3) { /* function */
      n_funcs = count(&s, "function count exceeds its section");
      func_types = alloc_items(&s, n_funcs, sizeof *func_types);
      for (uint32_t i = 0; i < n_funcs && !s.bad; i++) {
        func_types[i] = u32(&s);
        if (func_types[i] >= n_types) fail(&s, "function refers to an unknown type");
      }
    } else if (id == 5) { /* memory */
      uint32_t n = count(&s, "memory count exceeds its section");
      for (uint32_t i = 0; i < n && !s.bad; i++) {
        uint8_t flags = byte(&s);
        if (flags > 7) fail(&s, "malformed memory limits");
        /* memory64 limits are 64-bit: read them so admit() can say why */
        uint64_t min = leb(&s, flags & 4 ? 64 : 32);
        if (flags & 1) leb(&s, flags & 4 ? 64 : 32);
        out->mem_flags |= flags;
        if (out->n_memories++ == 0) out->mem_min = min > UINT32_MAX ? UINT32_MAX : (uint32_t)min;
      }
    } else if (id == 7) { /* export */
      uint32_t n = count(&s, "export count exceeds its section");
      out->exports = alloc_items(&s, n, sizeof *out->exports);
      for (uint32_t i = 0; i < n && !s.bad; i++) {
        ehal_wasm_export *ex = &out->exports[out->n_exports++];
        ex->name = name(&s);
        ex->kind = byte(&s);
        uint32_t idx = u32(&s);
        if (ex->kind == EHAL_EXTERN_FUNC && !s.bad) {
          if (idx < n_func_imports) {
            /* re-exported import: find its signature */
            uint32_t k = 0;
            for (size_t j = 0; j < out->n_imports; j++)
              if (out->imports[j].kind == EHAL_EXTERN_FUNC && k++ == idx)
                if (!(ex->sig = strdup(out->imports[j].sig))) fail(&s, "out of memory");
          } else if (idx - n_func_imports < n_funcs) {
            if (!(ex->sig = strdup(types[func_types[idx - n_func_imports]])))
              fail(&s, "out of memory");
          } else {
            fail(&s, "export refers to an unknown function");
          }
        }
      }
    }
    if (s.bad) fail(&r, s.why);
  }
  for (uint32_t i = 0; i < n_types; i++) free(types ? types[i] : NULL);
  free(types);
  free(func_types);
  if (r.bad) {
    snprintf(err->msg, sizeof err->msg, "malformed module: %s", r.why);
    ehal_wasm_info_free(out);
    return -1;
  }
  return 0;
}

const char *ehal_name_escaped(const char *name, char *buf, size_t len) {
  size_t k = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    if (k + 8 > len) {
      snprintf(buf + k, len - k, "...");
      return buf;
    }
    if (*p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"')
      buf[k++] = (char)*p;
    else
      k += (size_t)snprintf(buf + k, len - k, "\\x%02x", *p);
  }
  buf[k] = 0;
  return buf;
}

static bool value_types_ok(const char *sig) { return strspn(sig, "iIfF:") == strlen(sig); }

int ehal_wasm_admit(const ehal_wasm_info *info, elastic_hal_error *err) {
  char mb[160], fb[160];
  for (size_t i = 0; i < info->n_imports; i++) {
    const ehal_wasm_import *im = &info->imports[i];
    const char *mod = ehal_name_escaped(im->module, mb, sizeof mb);
    const char *field = ehal_name_escaped(im->field, fb, sizeof fb);
    if (im->kind != EHAL_EXTERN_FUNC) {
      snprintf(err->msg, sizeof err->msg,
               "import %s#%s: only function imports are supported (memories, tables and globals "
               "must be defined by the module)",
               mod, field);
      return -1;
    }
    if (!value_types_ok(im->sig)) {
      snprintf(err->msg, sizeof err->msg,
               "import %s#%s: unsupported value type (v128 or reference)", mod, field);
      return -1;
    }
    /* the same function imported twice is valid WebAssembly (AssemblyScript
     * emits it): each import is resolved, and its signature checked, alone */
  }
  if (info->n_memories > 1) {
    snprintf(err->msg, sizeof err->msg, "modules with more than one memory are not supported");
    return -1;
  }
  if (info->mem_flags & 4) {
    snprintf(err->msg, sizeof err->msg, "64-bit memories (memory64) are not supported");
    return -1;
  }
  if (info->mem_flags & 2) {
    snprintf(err->msg, sizeof err->msg, "shared memories (threads) are not supported");
    return -1;
  }
  if (info->n_memories && info->mem_min > 65535) {
    snprintf(err->msg, sizeof err->msg,
             "the module's initial memory (%u pages) is 4 GiB or more, which is not supported",
             info->mem_min);
    return -1;
  }
  bool has_memory = false;
  for (size_t i = 0; i < info->n_exports; i++) {
    const ehal_wasm_export *e = &info->exports[i];
    if (e->kind == EHAL_EXTERN_MEMORY &&
        (!strcmp(e->name, "memory") || !strcmp(e->name, "cm32p2_memory")))
      has_memory = true;
    if (!strcmp(e->name, "_start") || !strcmp(e->name, "_initialize") ||
        !strcmp(e->name, "cm32p2_initialize")) {
      if (e->kind != EHAL_EXTERN_FUNC || strcmp(e->sig, ":") != 0) {
        snprintf(err->msg, sizeof err->msg,
                 "export %s must be a function of type () -> (), and is not", e->name);
        return -1;
      }
    }
  }
  if (info->n_imports && !has_memory) {
    snprintf(err->msg, sizeof err->msg,
             "the module imports host functions but exports no memory ('memory' or "
             "'cm32p2_memory')");
    return -1;
  }
  return 0;
}

void ehal_wasm_info_free(ehal_wasm_info *info) {
  for (size_t i = 0; i < info->n_imports; i++) {
    free(info->imports[i].module);
    free(info->imports[i].field);
    free(info->imports[i].sig);
  }
  for (size_t i = 0; i < info->n_exports; i++) {
    free(info->exports[i].name);
    free(info->exports[i].sig);
  }
  free(info->imports);
  free(info->exports);
  memset(info, 0, sizeof *info);
}

static const char *vt_name(char c) {
  switch (c) {
    case 'i': return "i32";
    case 'I': return "i64";
    case 'f': return "f32";
    case 'F': return "f64";
    case 'v': return "v128";
    default: return "ref";
  }
}

const char *ehal_sig_pretty(const char *sig, char *buf, size_t len) {
  size_t k = 0;
  bool results = false, first = true;
  k += (size_t)snprintf(buf + k, len - k, "(");
  for (const char *c = sig; *c && k < len; c++) {
    if (*c == ':') {
      results = true;
      k += (size_t)snprintf(buf + k, len - k, ") -> (");
      first = true;
      continue;
    }
    k += (size_t)snprintf(buf + k, len - k, "%s%s", first ? "" : ", ", vt_name(*c));
    first = false;
  }
  if (k < len) snprintf(buf + k, len - k, ")");
  (void)results;
  return buf;
}
