/* component.c - WebAssembly component reader (see component.h).
 *
 * The binary format (the Component Model's Binary.md): a preamble, then
 * sections of an id byte, a u32 LEB128 size and a payload, in any order and
 * any number.  Ids: 0 custom, 1 core module (the payload is a whole core
 * module), 2 core instances, 3 core types, 4 nested component (the payload
 * is a whole component), 5 instances, 6 aliases, 7 types, 8 canonical
 * definitions, 9 start, 10 imports, 11 exports, 12 values.  Only 1, 4 and
 * 10 matter here; the others are skipped whole. */
#include "component.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nested components deeper than this are refused: wit-component nests one
 * level (to give an export its instance type), and a bound keeps a hostile
 * file from driving the recursion as deep as it likes. */
#define MAX_DEPTH 4

typedef struct {
  const uint8_t *p, *end;
  bool bad;
  bool unsupported; /* well-formed, but not what this HAL runs */
  char why[200];
} reader;

static void fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(reader *r, const char *fmt, ...) {
  if (!r->bad) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
  }
  r->bad = true;
  r->p = r->end;
}

static size_t left(const reader *r) { return (size_t)(r->end - r->p); }

static uint8_t byte(reader *r) {
  if (r->p >= r->end) {
    fail(r, "unexpected end of a section");
    return 0;
  }
  return *r->p++;
}

/* u32 LEB128: at most 5 bytes, and the 5th carries only 4 bits */
static uint32_t u32(reader *r) {
  uint32_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    uint8_t b = byte(r);
    if (r->bad) return 0;
    if (shift == 28 && (b & 0xf0)) {
      fail(r, "malformed LEB128 integer");
      return 0;
    }
    v |= (uint32_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

bool ehal_component_is(const uint8_t *buf, size_t len) {
  return len >= 8 && memcmp(buf, "\0asm\x0d\0\x01\0", 8) == 0;
}

typedef struct {
  ehal_component *c;
  uint32_t n_with_memory; /* core modules that define a memory */
  uint32_t second;        /* the second of those (for the message) */
} walk_state;

/* A core module section: framing only (the main module is parsed in full
 * later, by ehal_wasm_parse), and whether it defines a memory. */
static void core_module(reader *r, const uint8_t *mod, size_t len, walk_state *st) {
  uint32_t idx = ++st->c->n_core;
  if (len < 8 || memcmp(mod, "\0asm\1\0\0\0", 8) != 0) {
    fail(r, "its core module #%u is not a WebAssembly core module (bad magic or version)", idx);
    return;
  }
  reader m = {mod + 8, mod + len, false, false, ""};
  uint64_t memories = 0;
  while (m.p < m.end && !m.bad) {
    uint8_t id = byte(&m);
    uint32_t size = u32(&m);
    if (!m.bad && size > left(&m)) fail(&m, "a section runs past its end");
    if (m.bad) break;
    if (id == 5) { /* memory section: a vector of memories */
      reader s = {m.p, m.p + size, false, false, ""};
      memories += u32(&s);
      if (s.bad) fail(&m, "%s", s.why);
    }
    m.p += size;
  }
  if (m.bad) {
    fail(r, "its core module #%u is malformed (%s)", idx, m.why);
    return;
  }
  if (memories == 0) return;
  if (++st->n_with_memory == 1) {
    st->c->core = mod;
    st->c->core_len = len;
    st->c->core_index = idx;
  } else if (st->n_with_memory == 2) {
    st->second = idx;
  }
}

/* An import section: vec(import), import ::= importname' externdesc,
 * importname' ::= (0x00 | 0x01) name.  (0x01 once marked interface names;
 * both spell a plain name today.) */
static void imports(reader *r, const uint8_t *sec, size_t len, ehal_component *c) {
  reader s = {sec, sec + len, false, false, ""};
  uint32_t n = u32(&s);
  /* every import takes at least 4 bytes: checked before allocating */
  if (!s.bad && n > left(&s) / 4) fail(&s, "import count exceeds its section");
  if (s.bad) {
    fail(r, "%s", s.why);
    return;
  }
  if (n == 0) return;
  ehal_component_import *grown = realloc(c->imports, (c->n_imports + n) * sizeof *grown);
  if (!grown) {
    fail(r, "out of memory");
    return;
  }
  c->imports = grown;
  for (uint32_t i = 0; i < n && !s.bad; i++) {
    uint8_t enc = byte(&s);
    if (!s.bad && enc > 1) fail(&s, "unknown import name encoding 0x%02x", enc);
    uint32_t nlen = u32(&s);
    if (!s.bad && nlen > left(&s)) fail(&s, "an import name runs past the end of its section");
    if (!s.bad && memchr(s.p, 0, nlen)) fail(&s, "an import name contains NUL");
    if (s.bad) break;
    ehal_component_import *im = &c->imports[c->n_imports];
    if (!(im->name = malloc((size_t)nlen + 1))) {
      fail(&s, "out of memory");
      break;
    }
    memcpy(im->name, s.p, nlen);
    im->name[nlen] = 0;
    s.p += nlen;
    c->n_imports++;
    im->kind = byte(&s);
    switch (im->kind) {
      case EHAL_COMP_CORE_MODULE:
        if (byte(&s) != 0x11 && !s.bad) fail(&s, "a core import is not of a module type");
        u32(&s);
        break;
      case EHAL_COMP_FUNC:
      case EHAL_COMP_COMPONENT:
      case EHAL_COMP_INSTANCE: u32(&s); break;
      case EHAL_COMP_TYPE: {
        uint8_t bound = byte(&s);
        if (bound == 0)
          u32(&s);
        else if (bound != 1 && !s.bad)
          fail(&s, "unknown type bound 0x%02x", bound);
        break;
      }
      case EHAL_COMP_VALUE:
        /* values are a draft feature whose encoding has changed between
         * drafts: admit() refuses any, so nothing after it needs reading */
        s.p = s.end;
        break;
      default:
        if (!s.bad) fail(&s, "unknown import kind 0x%02x", im->kind);
    }
  }
  if (!s.bad && s.p != s.end) fail(&s, "an import section has bytes after its imports");
  if (s.bad) fail(r, "%s", s.why);
}

/* The sections of a component; depth 0 is the one given. */
static void walk(reader *r, const uint8_t *buf, size_t len, int depth, walk_state *st) {
  if (!ehal_component_is(buf, len)) {
    fail(r, "a nested component has no component preamble");
    return;
  }
  reader c = {buf + 8, buf + len, false, false, ""};
  while (c.p < c.end && !c.bad && !r->bad) {
    uint8_t id = byte(&c);
    uint32_t size = u32(&c);
    if (!c.bad && size > left(&c))
      fail(&c, "section %u runs past the end of its component", (unsigned)id);
    if (c.bad) break;
    const uint8_t *payload = c.p;
    c.p += size;
    switch (id) {
      case 1:
        if (depth > 0 && !r->bad) r->unsupported = true;
        if (depth > 0)
          fail(r,
               "a nested component holds a core module (code this HAL would not run): only "
               "components made from core modules by wit-component (jco new, cargo-component) "
               "are supported");
        else
          core_module(r, payload, size, st);
        break;
      case 4:
        if (depth + 1 >= MAX_DEPTH && !r->bad) r->unsupported = true;
        if (depth + 1 >= MAX_DEPTH)
          fail(r, "components nested more than %d deep", MAX_DEPTH - 1);
        else
          walk(r, payload, size, depth + 1, st);
        break;
      case 10:
        /* a nested component's imports are given it by its parent */
        if (depth == 0) imports(r, payload, size, st->c);
        break;
      case 0:
      case 2:
      case 3:
      case 5:
      case 6:
      case 7:
      case 8:
      case 9:
      case 11:
      case 12: break; /* wiring this HAL does not interpret */
      default: fail(&c, "unknown section id %u", (unsigned)id);
    }
  }
  if (c.bad) fail(r, "%s", c.why);
}

int ehal_component_read(const uint8_t *buf, size_t len, ehal_component *out,
                        elastic_hal_error *err) {
  memset(out, 0, sizeof *out);
  if (!ehal_component_is(buf, len)) {
    snprintf(err->msg, sizeof err->msg, "not a WebAssembly component (bad magic or version)");
    return -1;
  }
  reader r = {buf, buf + len, false, false, ""};
  walk_state st = {out, 0, 0};
  walk(&r, buf, len, 0, &st);
  if (r.bad) {
    snprintf(err->msg, sizeof err->msg, "%s WebAssembly component: %s",
             r.unsupported ? "unsupported" : "malformed", r.why);
  } else if (st.n_with_memory == 0) {
    snprintf(err->msg, sizeof err->msg,
             "WebAssembly component with no core module that defines a memory (it holds %u core "
             "module%s): it has no main module to run",
             out->n_core, out->n_core == 1 ? "" : "s");
  } else if (st.n_with_memory > 1) {
    snprintf(err->msg, sizeof err->msg,
             "WebAssembly component with %u core modules that define a memory (#%u and #%u, "
             "counting from 1): which one is its main module is ambiguous",
             st.n_with_memory, out->core_index, st.second);
  } else {
    return 0;
  }
  ehal_component_free(out);
  return -1;
}

static const char *kind_name(uint8_t kind) {
  switch (kind) {
    case EHAL_COMP_CORE_MODULE: return "a core module";
    case EHAL_COMP_FUNC: return "a function";
    case EHAL_COMP_VALUE: return "a value";
    case EHAL_COMP_TYPE: return "a type";
    case EHAL_COMP_COMPONENT: return "a component";
    default: return "an instance";
  }
}

/* "ns:pkg/iface" or "ns:pkg/iface@version", each label non-empty: the
 * lengths of "ns" and of "ns:pkg/iface" (the interface without version). */
static bool interface_name(const char *name, size_t *ns_len, size_t *id_len) {
  const char *colon = strchr(name, ':'), *slash = strchr(name, '/');
  if (!colon || !slash || colon == name || slash < colon + 2 || strchr(name, '|')) return false;
  const char *at = strchr(slash, '@');
  size_t id = at ? (size_t)(at - name) : strlen(name);
  if (id == (size_t)(slash - name) + 1 || (at && !at[1])) return false;
  if (strchr(slash + 1, '/') && (size_t)(strchr(slash + 1, '/') - name) < id) return false;
  *ns_len = (size_t)(colon - name);
  *id_len = id;
  return true;
}

/* A 0.2.x release version (what the preview 1 adapter imports). */
static bool wasi_02(const char *name, size_t id_len) {
  const char *v = name + id_len;
  if (strncmp(v, "@0.2.", 5) != 0) return false;
  v += 5;
  size_t digits = strspn(v, "0123456789");
  return digits > 0 && digits <= 6 && v[digits] == 0;
}

/* The packages of WASI 0.2 that the preview 1 adapter imports from. */
static bool adapter_package(const char *name, size_t id_len) {
  static const char *const pkgs[] = {"wasi:cli/",        "wasi:io/",     "wasi:clocks/",
                                     "wasi:filesystem/", "wasi:random/", "wasi:sockets/"};
  for (size_t i = 0; i < sizeof pkgs / sizeof pkgs[0]; i++) {
    size_t n = strlen(pkgs[i]);
    if (id_len > n && strncmp(name, pkgs[i], n) == 0) return true;
  }
  return false;
}

/* Whether the main module imports the interface name[0..id_len) itself (a
 * wasm32-wasip2 guest), under any version and in either naming form. */
static bool imported_directly(const ehal_wasm_info *core, const char *name, size_t id_len) {
  for (size_t i = 0; i < core->n_imports; i++) {
    const char *m = core->imports[i].module;
    if (strncmp(m, "cm32p2|", 7) == 0) m += 7;
    if (strncmp(m, name, id_len) == 0 && (m[id_len] == 0 || m[id_len] == '@')) return true;
  }
  return false;
}

int ehal_component_admit(const ehal_component *c, const ehal_wasm_info *core,
                         elastic_hal_error *err) {
  bool preview1 = false;
  for (size_t i = 0; i < core->n_imports; i++)
    if (!strcmp(core->imports[i].module, "wasi_snapshot_preview1")) preview1 = true;
  for (size_t i = 0; i < c->n_imports; i++) {
    const ehal_component_import *im = &c->imports[i];
    char nb[200];
    const char *name = ehal_name_escaped(im->name, nb, sizeof nb);
    size_t ns_len, id_len;
    if (im->kind != EHAL_COMP_INSTANCE) {
      snprintf(err->msg, sizeof err->msg,
               "component imports %s, %s: a guest of this HAL imports interfaces only "
               "(namespace:package/interface)",
               name, kind_name(im->kind));
      return -1;
    }
    if (!interface_name(im->name, &ns_len, &id_len)) {
      snprintf(err->msg, sizeof err->msg,
               "component imports %s: not an interface name (namespace:package/interface); "
               "this HAL provides the interfaces of its worlds and WASI preview 1",
               name);
      return -1;
    }
    if (ns_len == 4 && strncmp(im->name, "wasi", 4) == 0 &&
        !(preview1 && adapter_package(im->name, id_len) && wasi_02(im->name, id_len) &&
          !imported_directly(core, im->name, id_len))) {
      snprintf(err->msg, sizeof err->msg,
               "component imports %s: a WASI 0.2 interface this HAL does not implement (it "
               "provides WASI preview 1 to core modules)",
               name);
      return -1;
    }
  }
  return 0;
}

bool ehal_component_needs_linking(const ehal_component_import *im) {
  return im->kind == EHAL_COMP_INSTANCE && strncmp(im->name, "wasi:", 5) != 0;
}

void ehal_component_free(ehal_component *c) {
  for (size_t i = 0; i < c->n_imports; i++) free(c->imports[i].name);
  free(c->imports);
  memset(c, 0, sizeof *c);
}
