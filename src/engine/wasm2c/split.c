/* split.c - cuts wasm2c's output into parts (see split.h). */
#include "split.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *p;
  size_t n; /* without the newline */
} line;

static bool has_prefix(const line *l, const char *s) {
  size_t k = strlen(s);
  return l->n >= k && memcmp(l->p, s, k) == 0;
}

static bool has_suffix(const line *l, const char *s) {
  size_t k = strlen(s);
  return l->n >= k && memcmp(l->p + l->n - k, s, k) == 0;
}

static bool contains(const line *l, const char *s) {
  size_t k = strlen(s);
  for (size_t i = 0; i + k <= l->n; i++)
    if (memcmp(l->p + i, s, k) == 0) return true;
  return false;
}

static bool blank(const line *l) { return l->n == 0; }

/* "static u32 w2c_f17(Z_guest_instance_t*, u32);" */
static bool is_proto(const line *l) {
  return has_prefix(l, "static ") && contains(l, " w2c_") && contains(l, "(Z_guest_instance_t*") &&
         has_suffix(l, ");");
}

/* "static u32 w2c_f17(Z_guest_instance_t* instance, u32 w2c_p0) {" */
static bool is_def(const line *l) {
  return has_prefix(l, "static ") && contains(l, " w2c_") &&
         contains(l, "(Z_guest_instance_t* instance") && has_suffix(l, ") {");
}

/* The function-type table, "static u32 func_types[N];": shared by all. */
static bool is_func_types(const line *l) { return has_prefix(l, "static u32 func_types["); }

static void put(FILE *f, const line *l, size_t skip) {
  fwrite(l->p + skip, 1, l->n - skip, f);
  fputc('\n', f);
}

/* The w2c_ names a part's code mentions, so that it declares only the
 * functions it calls (a big module has tens of thousands of prototypes,
 * and every part would parse them all): open addressing over slices. */
typedef struct {
  line *slot;
  size_t cap, n;
} name_set;

static size_t slice_hash(const char *p, size_t n) {
  size_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
  return h;
}

static bool set_has(const name_set *s, const char *p, size_t n) {
  for (size_t k = slice_hash(p, n) & (s->cap - 1); s->slot[k].p; k = (k + 1) & (s->cap - 1))
    if (s->slot[k].n == n && !memcmp(s->slot[k].p, p, n)) return true;
  return false;
}

static int set_add(name_set *s, const char *p, size_t n) {
  if (set_has(s, p, n)) return 0;
  if (2 * (s->n + 1) > s->cap) {
    name_set g = {calloc(s->cap * 2, sizeof(line)), s->cap * 2, 0};
    if (!g.slot) return -1;
    for (size_t i = 0; i < s->cap; i++)
      if (s->slot[i].p) set_add(&g, s->slot[i].p, s->slot[i].n);
    free(s->slot);
    *s = g;
  }
  size_t k = slice_hash(p, n) & (s->cap - 1);
  while (s->slot[k].p) k = (k + 1) & (s->cap - 1);
  s->slot[k] = (line){p, n};
  s->n++;
  return 0;
}

static bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Every "w2c_..." identifier in lines [a, b). */
static int collect_names(name_set *s, const line *lines, size_t a, size_t b) {
  for (size_t i = a; i < b; i++) {
    const char *p = lines[i].p, *e = p + lines[i].n;
    for (const char *q = p; q + 4 <= e; q++) {
      if (memcmp(q, "w2c_", 4) != 0 || (q > p && ident_char(q[-1]))) continue;
      const char *t = q + 4;
      while (t < e && ident_char(*t)) t++;
      if (set_add(s, q, (size_t)(t - q)) != 0) return -1;
      q = t - 1;
    }
  }
  return 0;
}

/* The function a prototype line declares: "w2c_f17" of
 * "static u32 w2c_f17(Z_guest_instance_t*);". */
static line proto_name(const line *l) {
  const char *p = l->p, *e = p + l->n, *q = p;
  while (q + 5 <= e && memcmp(q, " w2c_", 5) != 0) q++;
  q++;
  const char *t = q;
  while (t < e && ident_char(*t)) t++;
  return (line){q, (size_t)(t - q)};
}

/* prelude and prototypes (all of them, or those in names); in the main
 * part the table is defined, in the others declared */
static void put_head(FILE *f, const line *lines, size_t proto_start, size_t proto_end,
                     bool main_part, const name_set *names) {
  for (size_t i = 0; i < proto_start; i++) {
    if (is_func_types(&lines[i])) {
      if (!main_part) fputs("extern ", f);
      put(f, &lines[i], 7);
    } else {
      put(f, &lines[i], 0);
    }
  }
  for (size_t i = proto_start; i < proto_end; i++) {
    if (blank(&lines[i])) continue;
    line nm = proto_name(&lines[i]);
    if (!names || set_has(names, nm.p, nm.n)) put(f, &lines[i], 7); /* without "static " */
  }
}

/* One part: the head, then lines [a0, a1) and [b0, b1) (definitions lose
 * their "static"). */
static int write_part(const char *dir, int k, const line *lines, size_t proto_start,
                      size_t proto_end, size_t a0, size_t a1, size_t b0, size_t b1) {
  char path[4200];
  snprintf(path, sizeof path, "%s/part%d.c", dir, k);
  /* the main part declares every function (its table and exports name
   * them); a part of definitions only those its code mentions */
  name_set names = {NULL, 0, 0}, *used = NULL;
  if (k > 0) {
    names.cap = 1024;
    names.slot = calloc(names.cap, sizeof(line));
    if (!names.slot || collect_names(&names, lines, a0, a1) != 0) {
      free(names.slot);
      return -1;
    }
    used = &names;
  }
  FILE *f = fopen(path, "wx");
  if (!f) {
    free(names.slot);
    return -1;
  }
  put_head(f, lines, proto_start, proto_end, k == 0, used);
  free(names.slot);
  for (size_t i = a0; i < a1; i++) put(f, &lines[i], is_def(&lines[i]) ? 7 : 0);
  for (size_t i = b0; i < b1; i++) put(f, &lines[i], 0);
  return fclose(f) == 0 ? 0 : -1;
}

int ehal_w2c_split(const char *src, size_t len, const char *dir, size_t part_lines) {
  size_t n = 0, cap = 0;
  line *lines = NULL;
  for (size_t i = 0; i < len;) {
    const char *nl = memchr(src + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - src) : len;
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      line *g = realloc(lines, cap * sizeof *g);
      if (!g) {
        free(lines);
        return -1;
      }
      lines = g;
    }
    lines[n++] = (line){src + i, e - i};
    i = e + 1;
  }
  int rc = 0;
  size_t proto_start = 0, proto_end, func_start, func_end, def_lines = 0;
  while (proto_start < n && !is_proto(&lines[proto_start])) proto_start++;
  /* the prototypes, the module's data and its initialisers (static: they
   * stay in the main part), then the definitions */
  for (proto_end = proto_start;
       proto_end < n && (is_proto(&lines[proto_end]) || blank(&lines[proto_end])); proto_end++) {
  }
  for (func_start = proto_end; func_start < n && !is_def(&lines[func_start]); func_start++) {
  }
  if (func_start >= n || n < 2 * part_lines) goto out;
  /* definitions follow one another, each ending with "}" alone on a line */
  func_end = func_start;
  while (func_end < n && is_def(&lines[func_end])) {
    size_t j = func_end + 1;
    while (j < n && !(lines[j].n == 1 && lines[j].p[0] == '}')) {
      if (is_def(&lines[j]) || has_prefix(&lines[j], "static ")) goto out; /* not the shape */
      j++;
    }
    if (j >= n) goto out;
    def_lines += j + 1 - func_end;
    func_end = j + 1;
    while (func_end < n && blank(&lines[func_end])) func_end++;
  }
  if (def_lines < 2 * part_lines) goto out;
  size_t parts = (def_lines + part_lines - 1) / part_lines, per = def_lines / parts + 1;
  /* part 0: everything but the definitions */
  if (write_part(dir, 0, lines, proto_start, proto_end, proto_end, func_start, func_end, n) != 0) {
    rc = -1;
    goto out;
  }
  rc = 1;
  /* parts 1..: whole functions, about `per` lines each */
  for (size_t from = func_start; from < func_end;) {
    size_t to = from, taken = 0;
    while (to < func_end && (taken < per || !is_def(&lines[to]))) {
      to++;
      taken++;
    }
    if (write_part(dir, rc, lines, proto_start, proto_end, from, to, 0, 0) != 0) {
      rc = -1;
      goto out;
    }
    rc++;
    from = to;
  }
out:
  free(lines);
  return rc;
}
