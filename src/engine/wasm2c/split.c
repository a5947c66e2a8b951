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

/* prelude and prototypes; in the main part the table is defined, in the
 * others declared */
static void put_head(FILE *f, const line *lines, size_t proto_start, size_t proto_end,
                     bool main_part) {
  for (size_t i = 0; i < proto_start; i++) {
    if (is_func_types(&lines[i])) {
      if (!main_part) fputs("extern ", f);
      put(f, &lines[i], 7);
    } else {
      put(f, &lines[i], 0);
    }
  }
  for (size_t i = proto_start; i < proto_end; i++)
    if (!blank(&lines[i])) put(f, &lines[i], 7); /* without "static " */
}

/* One part: the head, then lines [a0, a1) and [b0, b1) (definitions lose
 * their "static"). */
static int write_part(const char *dir, int k, const line *lines, size_t proto_start,
                      size_t proto_end, size_t a0, size_t a1, size_t b0, size_t b1) {
  char path[4200];
  snprintf(path, sizeof path, "%s/part%d.c", dir, k);
  FILE *f = fopen(path, "wx");
  if (!f) return -1;
  put_head(f, lines, proto_start, proto_end, k == 0);
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
    while (j < n && !(lines[j].n == 1 && lines[j].p[0] == '}')) j++;
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
