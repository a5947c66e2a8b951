/*
 * test_units.c - unit tests of the runtime's internal pieces: UTF-8
 * validation, the WebAssembly binary and component readers, signature printing, handle
 * tables and the import resolver at each linker grain.
 *
 * Hostile-input parses run in a forked child, so a crash or a sanitizer
 * report fails that one test instead of the whole program; in the child a
 * leak check runs too (under LeakSanitizer) and, in builds without ASan, an
 * allocation tracker records the largest single request.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cabi.h"
#include "ehal_bindings.h"
#include "elastic-hal/elastic_hal.h"
#include "engine/wasm2c/split.h"
#include "handles.h"
#include "interfaces/interfaces.h"
#include "linker.h"
#include "net/policy.h"
#include "tap.h"
#include "util/fsutil.h"
#include "wasm/component.h"
#include "wasm/wasm_module.h"

#if defined(__SANITIZE_ADDRESS__)
#define EHAL_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EHAL_TEST_ASAN 1
#endif
#endif

/* ---- allocation tracking (builds without ASan, which owns malloc) ---- */

static volatile bool g_track;        /* record request sizes */
static volatile size_t g_max_alloc;  /* largest single request while tracking */
static volatile size_t g_fail_above; /* simulate exhaustion: refuse bigger requests */

#ifndef EHAL_TEST_ASAN
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static bool note_alloc(size_t n) {
  if (g_track && n > g_max_alloc) g_max_alloc = n;
  return !(g_fail_above && n > g_fail_above);
}
void *malloc(size_t n) { return note_alloc(n) ? __libc_malloc(n) : NULL; }
void *calloc(size_t a, size_t b) {
  size_t n;
  if (__builtin_mul_overflow(a, b, &n)) n = SIZE_MAX;
  return note_alloc(n) ? __libc_calloc(a, b) : NULL;
}
void *realloc(void *p, size_t n) { return note_alloc(n) ? __libc_realloc(p, n) : NULL; }
#define TRACKING 1
#else
#define TRACKING 0
#endif

/* LeakSanitizer's on-demand check, when present (ASan builds). */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- running a piece of code in a child ---- */

typedef struct {
  int value; /* what the code computed */
  int extra;
  double secs;      /* how long it took */
  size_t max_alloc; /* largest allocation (TRACKING builds) */
  int leaked;       /* LeakSanitizer found leaks */
  char msg[600];
} child_result;

typedef void (*child_fn)(void *arg, child_result *res);

/* Runs fn in a child with a 5 s alarm.  True when it finished normally;
 * otherwise why says how it died. */
static bool isolated(child_fn fn, void *arg, child_result *res, char *why, size_t whylen) {
  memset(res, 0, sizeof *res);
  int fds[2];
  if (pipe(fds) != 0) {
    snprintf(why, whylen, "pipe: %s", strerror(errno));
    return false;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(why, whylen, "fork: %s", strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (pid == 0) {
    close(fds[0]);
    alarm(5);
    child_result r;
    memset(&r, 0, sizeof r);
    fn(arg, &r);
    if (__lsan_do_recoverable_leak_check) r.leaked = __lsan_do_recoverable_leak_check();
    ssize_t w = write(fds[1], &r, sizeof r);
    _exit(w == (ssize_t)sizeof r ? 0 : 3);
  }
  close(fds[1]);
  size_t got = 0;
  while (got < sizeof *res) {
    ssize_t n = read(fds[0], (char *)res + got, sizeof *res - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    snprintf(why, whylen, "child killed by signal %d (%s)%s", sig, strsignal(sig),
             sig == SIGALRM ? ": took more than 5 s" : "");
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != sizeof *res) {
    snprintf(why, whylen, "child exited with status %d (a sanitizer report may be above)",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return false;
  }
  return true;
}

/* =================================================================== */
/* UTF-8                                                               */
/* =================================================================== */

static bool utf8(const char *s, size_t len) {
  /* exact-size heap copy, so ASan catches any read past len */
  uint8_t *copy = malloc(len ? len : 1);
  memcpy(copy, s, len);
  bool ok = ehal_utf8_valid(copy, len);
  free(copy);
  return ok;
}

#define U8(lit) (lit), sizeof(lit) - 1

static void test_utf8(void) {
  static const struct {
    const char *s;
    size_t len;
    bool valid;
    const char *what;
  } cases[] = {
      {U8(""), true, "empty string"},
      {U8("hello, world"), true, "ASCII"},
      {"a\0b", 3, true, "ASCII with an embedded NUL (U+0000)"},
      {U8("\x7f"), true, "U+007F, the last 1-byte code point"},
      {U8("\xc2\x80"), true, "U+0080, the first 2-byte code point"},
      {U8("\xc3\xa9t\xc3\xa9"), true, "2-byte sequences (\"ete\" with accents)"},
      {U8("\xdf\xbf"), true, "U+07FF, the last 2-byte code point"},
      {U8("\xe0\xa0\x80"), true, "U+0800, the first 3-byte code point"},
      {U8("\xe2\x82\xac"), true, "U+20AC euro sign (3 bytes)"},
      {U8("\xed\x9f\xbf"), true, "U+D7FF, just below the surrogates"},
      {U8("\xee\x80\x80"), true, "U+E000, just above the surrogates"},
      {U8("\xef\xbf\xbf"), true, "U+FFFF, the last 3-byte code point"},
      {U8("\xf0\x90\x80\x80"), true, "U+10000, the first 4-byte code point"},
      {U8("\xf0\x9f\x98\x80"), true, "U+1F600 emoji (4 bytes)"},
      {U8("\xf4\x8f\xbf\xbf"), true, "U+10FFFF, the last code point"},
      {U8("a\xe2\x82\xac"), true, "a multi-byte sequence ending exactly at the end"},
      {U8("\xc0\x80"), false, "overlong NUL C0 80"},
      {U8("\xc1\xbf"), false, "overlong C1 BF"},
      {U8("\xe0\x80\x80"), false, "overlong 3-byte E0 80 80"},
      {U8("\xe0\x9f\xbf"), false, "overlong 3-byte E0 9F BF (U+07FF)"},
      {U8("\xf0\x80\x80\x80"), false, "overlong 4-byte F0 80 80 80"},
      {U8("\xf0\x8f\xbf\xbf"), false, "overlong 4-byte F0 8F BF BF (U+FFFF)"},
      {U8("\xed\xa0\x80"), false, "surrogate U+D800 (ED A0 80)"},
      {U8("\xed\xbf\xbf"), false, "surrogate U+DFFF (ED BF BF)"},
      {U8("\xed\xa0\xbd\xed\xb8\x80"), false, "CESU-8 surrogate pair"},
      {U8("\xf4\x90\x80\x80"), false, "U+110000 (F4 90 80 80), above U+10FFFF"},
      {U8("\xf5\x80\x80\x80"), false, "lead byte F5"},
      {U8("\xf7\xbf\xbf\xbf"), false, "lead byte F7"},
      {U8("\xf8\x88\x80\x80\x80"), false, "5-byte form F8"},
      {U8("\xfc\x84\x80\x80\x80\x80"), false, "6-byte form FC"},
      {U8("\xfe"), false, "byte FE"},
      {U8("\xff"), false, "byte FF"},
      {U8("\xc3"), false, "truncated 2-byte sequence"},
      {U8("\xe2\x82"), false, "truncated 3-byte sequence"},
      {U8("\xf0\x9f\x98"), false, "truncated 4-byte sequence"},
      {U8("abc\xe2\x82"), false, "truncated sequence at the end of ASCII"},
      {U8("\xe2\x82"
          "A"),
       false, "truncated sequence followed by ASCII"},
      {U8("\xf0\x9f"
          "AB"),
       false, "4-byte lead followed by ASCII"},
      {U8("\x80"), false, "stray continuation byte 80"},
      {U8("\xbf"), false, "stray continuation byte BF"},
      {U8("a\x80"
          "b"),
       false, "stray continuation byte between ASCII"},
      {U8("\xc3\xa9\xa9"), false, "extra continuation byte after a 2-byte sequence"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    TAP_OK(utf8(cases[i].s, cases[i].len) == cases[i].valid, "utf8: %s is %s", cases[i].what,
           cases[i].valid ? "valid" : "rejected");
  /* only len bytes count: a sequence completed just past len is truncated */
  TAP_OK(!utf8("\xe2\x82\xac", 2), "utf8: a sequence completed only past len is rejected");
  TAP_OK(ehal_utf8_valid((const uint8_t *)"", 0), "utf8: empty input at any pointer is valid");
}

/* =================================================================== */
/* WebAssembly binary reader                                           */
/* =================================================================== */

typedef struct {
  uint8_t *p;
  size_t len, cap;
} bb;

static void bb_bytes(bb *b, const void *s, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
  }
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
}
static void bb_byte(bb *b, uint8_t v) { bb_bytes(b, &v, 1); }
static void bb_leb(bb *b, uint64_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    bb_byte(b, c | (v ? 0x80 : 0));
  } while (v);
}
static void bb_name(bb *b, const char *s) {
  bb_leb(b, strlen(s));
  bb_bytes(b, s, strlen(s));
}
static void bb_header(bb *b) { bb_bytes(b, "\0asm\1\0\0\0", 8); }
/* Appends section id with content c (then empties c). */
static void bb_section(bb *b, uint8_t id, bb *c) {
  bb_byte(b, id);
  bb_leb(b, c->len);
  bb_bytes(b, c->p, c->len);
  c->len = 0;
}
static void bb_free(bb *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* A module with one type "i:" (or none) and then one raw section. */
static void module_with(bb *m, bool with_type, uint8_t id, const void *content, size_t n) {
  bb c = {0};
  bb_header(m);
  if (with_type) {
    bb_bytes(&c, "\x01\x60\x01\x7f\x00", 5); /* 1 type: (i32) -> () */
    bb_section(m, 1, &c);
  }
  bb_byte(m, id);
  bb_leb(m, n);
  bb_bytes(m, content, n);
  bb_free(&c);
}

typedef struct {
  const uint8_t *buf;
  size_t len;
  size_t fail_above; /* simulate allocation failure above this size */
} parse_arg;

static void parse_child(void *arg, child_result *res) {
  parse_arg *a = arg;
  uint8_t *copy = malloc(a->len ? a->len : 1);
  memcpy(copy, a->buf, a->len);
  ehal_wasm_info info;
  elastic_hal_error err;
  memset(&err, 0, sizeof err);
  g_max_alloc = 0;
  g_fail_above = a->fail_above;
  g_track = true;
  double t0 = now_s();
  res->value = ehal_wasm_parse(copy, a->len, &info, &err);
  res->secs = now_s() - t0;
  g_track = false;
  g_fail_above = 0;
  res->max_alloc = g_max_alloc;
  snprintf(res->msg, sizeof res->msg, "%s", err.msg);
  /* after a failure the info is empty and freeing it is harmless */
  res->extra =
      res->value != 0 && (info.n_imports || info.n_exports || info.imports || info.exports);
  ehal_wasm_info_free(&info);
  free(copy);
}

/* Parses buf in a child; expects failure with want in the message (want
 * NULL: success).  Also checks speed, allocation size and leaks. */
static void expect_parse(const uint8_t *buf, size_t len, const char *want, const char *what) {
  parse_arg a = {buf, len, 0};
  child_result r;
  char why[256];
  if (!isolated(parse_child, &a, &r, why, sizeof why)) {
    TAP_OK(false, "wasm parse: %s: %s without crashing", what, want ? "refused" : "accepted");
    tap_diag("%s", why);
    return;
  }
  bool ok = want ? (r.value == -1 && strstr(r.msg, want) && !r.extra) : r.value == 0;
  bool named = want && *want;
  if (!TAP_OK(ok, "wasm parse: %s: %s%s%s%s", what, want ? "refused" : "accepted",
              named ? " (" : "", named ? want : "", named ? ")" : ""))
    tap_diag("rc %d, message \"%s\"%s", r.value, r.msg,
             r.extra ? ", info left non-empty after failure" : "");
  if (r.leaked) TAP_OK(false, "wasm parse: %s: no memory leaked", what);
  if (r.secs > 0.5) TAP_OK(false, "wasm parse: %s: fast (took %.2f s)", what, r.secs);
}

/* Count cases: fail fast, and allocate nothing proportional to a count the
 * section's bytes cannot hold. */
static void expect_count_refused(const uint8_t *buf, size_t len, const char *what) {
  parse_arg a = {buf, len, 0};
  child_result r;
  char why[256];
  if (!isolated(parse_child, &a, &r, why, sizeof why)) {
    TAP_OK(false, "wasm parse: %s: refused without crashing", what);
    tap_diag("%s", why);
    return;
  }
  if (!TAP_OK(r.value == -1 && !r.extra, "wasm parse: %s: refused", what))
    tap_diag("rc %d, message \"%s\"", r.value, r.msg);
  if (!TAP_OK(r.secs < 0.5, "wasm parse: %s: fails fast", what)) tap_diag("took %.2f s", r.secs);
  if (TRACKING) {
    if (!TAP_OK(r.max_alloc <= (1u << 20),
                "wasm parse: %s: no allocation over 1 MiB for a %zu-byte module", what, len))
      tap_diag("largest single allocation: %zu bytes", r.max_alloc);
  } else {
    TAP_SKIP("allocation tracking needs a build without ASan",
             "wasm parse: %s: no allocation over 1 MiB", what);
  }
  if (r.leaked) TAP_OK(false, "wasm parse: %s: no memory leaked", what);
}

/* The valid module used below; bounds[] gets the offsets where sections end. */
static void build_valid_module(bb *m, size_t *bounds, size_t *nb) {
  bb c = {0};
  *nb = 0;
  bb_header(m);
  bounds[(*nb)++] = m->len;
  /* custom section */
  bb_name(&c, "a-custom-section");
  bb_bytes(&c, "xyz", 3);
  bb_section(m, 0, &c);
  bounds[(*nb)++] = m->len;
  /* types: (i32, i64) -> i32; () -> (); (f32, f64, externref) -> (i64, i32);
   * (v128, funcref) -> () */
  bb_leb(&c, 4);
  bb_bytes(&c, "\x60\x02\x7f\x7e\x01\x7f", 6);
  bb_bytes(&c, "\x60\x00\x00", 3);
  bb_bytes(&c, "\x60\x03\x7d\x7c\x6f\x02\x7e\x7f", 8);
  bb_bytes(&c, "\x60\x02\x7b\x70\x00", 5);
  bb_section(m, 1, &c);
  bounds[(*nb)++] = m->len;
  /* imports: a function, a table, a memory, a global */
  bb_leb(&c, 4);
  bb_name(&c, "elastic:clock/clock@0.1.1");
  bb_name(&c, "get-system-time");
  bb_byte(&c, 0);
  bb_leb(&c, 0);
  bb_name(&c, "env");
  bb_name(&c, "tbl");
  bb_bytes(&c, "\x01\x70\x00\x01", 4);
  bb_name(&c, "env");
  bb_name(&c, "mem");
  bb_bytes(&c, "\x02\x01\x01\x02", 4);
  bb_name(&c, "env");
  bb_name(&c, "g");
  bb_bytes(&c, "\x03\x7f\x00", 3);
  bb_section(m, 2, &c);
  bounds[(*nb)++] = m->len;
  /* functions: types 1 and 2 (padded 5-byte LEB for the second) */
  bb_leb(&c, 2);
  bb_leb(&c, 1);
  bb_bytes(&c, "\x82\x80\x80\x80\x00", 5);
  bb_section(m, 3, &c);
  bounds[(*nb)++] = m->len;
  /* memory: min 3, max 10 */
  bb_bytes(&c, "\x01\x01\x03\x0a", 4);
  bb_section(m, 5, &c);
  bounds[(*nb)++] = m->len;
  /* exports */
  bb_leb(&c, 5);
  bb_name(&c, "run");
  bb_bytes(&c, "\x00\x01", 2);
  bb_name(&c, "two");
  bb_bytes(&c, "\x00\x02", 2);
  bb_name(&c, "reexp");
  bb_bytes(&c, "\x00\x00", 2);
  bb_name(&c, "memory");
  bb_bytes(&c, "\x02\x00", 2);
  bb_name(&c, "g");
  bb_bytes(&c, "\x03\x00", 2);
  bb_section(m, 7, &c);
  bounds[(*nb)++] = m->len;
  /* code: two empty bodies */
  bb_bytes(&c, "\x02\x02\x00\x0b\x02\x00\x0b", 7);
  bb_section(m, 10, &c);
  bounds[(*nb)++] = m->len;
  bb_free(&c);
}

typedef struct {
  const uint8_t *buf;
  size_t len;
  const size_t *bounds;
  size_t nb;
} trunc_arg;

/* Every prefix of the valid module: ones ending inside a section must be
 * refused, ones ending at a section boundary accepted. */
static void trunc_child(void *arg, child_result *res) {
  trunc_arg *a = arg;
  int bad = 0, first = -1;
  for (size_t cut = 0; cut < a->len; cut++) {
    bool boundary = false;
    for (size_t k = 0; k < a->nb; k++) boundary |= a->bounds[k] == cut;
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, a->buf, cut);
    ehal_wasm_info info;
    elastic_hal_error err;
    int rc = ehal_wasm_parse(copy, cut, &info, &err);
    if (rc == 0) ehal_wasm_info_free(&info);
    free(copy);
    if ((rc == 0) != boundary) {
      bad++;
      if (first < 0) first = (int)cut;
    }
  }
  res->value = bad;
  res->extra = first;
}

static void test_wasm_valid(void) {
  bb m = {0};
  size_t bounds[16], nb;
  build_valid_module(&m, bounds, &nb);
  ehal_wasm_info info;
  elastic_hal_error err;
  memset(&err, 0, sizeof err);
  uint8_t *copy = malloc(m.len);
  memcpy(copy, m.p, m.len);
  int rc = ehal_wasm_parse(copy, m.len, &info, &err);
  if (!TAP_OK(rc == 0, "wasm parse: a valid module with all import and export kinds")) {
    tap_diag("%s", err.msg);
    free(copy);
    bb_free(&m);
    return;
  }
  TAP_OK(info.n_imports == 4, "wasm parse: 4 imports");
  const ehal_wasm_import *im = info.imports;
  TAP_OK(info.n_imports >= 1 && !strcmp(im[0].module, "elastic:clock/clock@0.1.1") &&
             !strcmp(im[0].field, "get-system-time") && im[0].kind == EHAL_EXTERN_FUNC &&
             im[0].sig && !strcmp(im[0].sig, "iI:i"),
         "wasm parse: function import with module, field and signature \"iI:i\"");
  TAP_OK(info.n_imports == 4 && im[1].kind == EHAL_EXTERN_TABLE &&
             im[2].kind == EHAL_EXTERN_MEMORY && im[3].kind == EHAL_EXTERN_GLOBAL && !im[1].sig &&
             !im[2].sig && !im[3].sig && !strcmp(im[3].field, "g"),
         "wasm parse: table, memory and global imports (kinds, no signature)");
  TAP_OK(info.n_exports == 5, "wasm parse: 5 exports");
  const ehal_wasm_export *ex = info.exports;
  TAP_OK(info.n_exports == 5 && !strcmp(ex[0].name, "run") && ex[0].sig && !strcmp(ex[0].sig, ":"),
         "wasm parse: export of a defined function () -> () is \":\"");
  TAP_OK(info.n_exports == 5 && ex[1].sig && !strcmp(ex[1].sig, "fFr:Ii"),
         "wasm parse: export signature with f32, f64, externref and two results is \"fFr:Ii\"");
  TAP_OK(info.n_exports == 5 && ex[2].sig && !strcmp(ex[2].sig, "iI:i"),
         "wasm parse: re-exported import keeps the import's signature");
  TAP_OK(info.n_exports == 5 && ex[3].kind == EHAL_EXTERN_MEMORY && !ex[3].sig &&
             !strcmp(ex[3].name, "memory") && ex[4].kind == EHAL_EXTERN_GLOBAL,
         "wasm parse: memory and global exports");
  TAP_OK(info.n_memories == 1 && info.mem_min == 3,
         "wasm parse: one defined memory of 3 initial pages (the imported one not counted)");
  ehal_wasm_info_free(&info);
  TAP_OK(info.n_imports == 0 && info.imports == NULL && info.exports == NULL,
         "wasm parse: info_free empties the info");
  ehal_wasm_info_free(&info); /* twice is harmless */
  free(copy);

  /* v128 and funcref parameters print as v and r */
  bb t = {0}, c = {0};
  bb_header(&t);
  bb_bytes(&c, "\x01\x60\x02\x7b\x70\x00", 6);
  bb_section(&t, 1, &c);
  bb_bytes(&c, "\x01\x00", 2);
  bb_section(&t, 3, &c);
  bb_leb(&c, 1);
  bb_name(&c, "f");
  bb_bytes(&c, "\x00\x00", 2);
  bb_section(&t, 7, &c);
  rc = ehal_wasm_parse(t.p, t.len, &info, &err);
  TAP_OK(rc == 0 && info.n_exports == 1 && !strcmp(info.exports[0].sig, "vr:"),
         "wasm parse: v128 and funcref parameters are \"vr:\"");
  if (rc == 0) ehal_wasm_info_free(&info);
  bb_free(&t);
  bb_free(&c);

  /* header only */
  rc = ehal_wasm_parse(m.p, 8, &info, &err);
  TAP_OK(rc == 0 && info.n_imports == 0 && info.n_exports == 0 && info.n_memories == 0,
         "wasm parse: an empty module (header only)");
  if (rc == 0) ehal_wasm_info_free(&info);

  trunc_arg ta = {m.p, m.len, bounds, nb};
  child_result r;
  char why[256];
  if (isolated(trunc_child, &ta, &r, why, sizeof why)) {
    if (!TAP_OK(r.value == 0 && !r.leaked,
                "wasm parse: every truncation inside a section is refused, at a boundary accepted"))
      tap_diag("%d prefixes misjudged, first at length %d%s", r.value, r.extra,
               r.leaked ? "; memory leaked" : "");
  } else {
    TAP_OK(false, "wasm parse: all %zu prefixes of a valid module parse without crashing", m.len);
    tap_diag("%s", why);
  }
  bb_free(&m);
}

static void test_wasm_invalid(void) {
  bb m = {0}, c = {0};
  static const uint8_t leb_ok_magic[] = "\0asm\1\0\0\0";

  expect_parse((const uint8_t *)"", 0, "magic", "an empty file");
  expect_parse(leb_ok_magic, 4, "magic", "a 4-byte file");
  expect_parse((const uint8_t *)"\0asn\1\0\0\0", 8, "magic", "bad magic");
  expect_parse((const uint8_t *)"\0asm\2\0\0\0", 8, "magic", "unknown version 2");
  expect_parse((const uint8_t *)"\0asm\1\0\0\0\x01\x0a\x01\x60\x00", 13, "past the end",
               "a section whose size runs past the end");
  expect_parse((const uint8_t *)"\0asm\1\0\0\0\x01", 9, "end", "a section id without a size");

  /* LEB128 */
  expect_parse((const uint8_t *)"\0asm\1\0\0\0\x00\x80\x80\x80\x80\x80\x00", 15, "LEB128",
               "an over-long (6-byte) LEB128 section size");
  module_with(&m, false, 1, "\xff\xff\xff\xff\x1f", 5);
  expect_parse(m.p, m.len, "LEB128", "a 5-byte LEB128 count with bits above 32");
  m.len = 0;
  module_with(&m, false, 1, "\xff\xff\xff\xff\x7f", 5);
  expect_parse(m.p, m.len, "LEB128", "a 5-byte LEB128 count of 2^35-1");
  m.len = 0;
  module_with(&m, false, 1, "\x81\x80\x80\x80\x00\x60\x00\x00", 8);
  expect_parse(m.p, m.len, NULL, "a padded 5-byte LEB128 count (1)");
  m.len = 0;
  module_with(&m, false, 1, "\x81\x80\x80", 3);
  expect_parse(m.p, m.len, "end", "a LEB128 count cut off by its section's end");
  m.len = 0;

  /* indices */
  bb_name(&c, "m");
  bb_name(&c, "f");
  bb_bytes(&c, "\x00\x05", 2); /* type 5 of 1 */
  {
    bb body = {0};
    bb_leb(&body, 1);
    bb_bytes(&body, c.p, c.len);
    module_with(&m, true, 2, body.p, body.len);
    bb_free(&body);
  }
  c.len = 0;
  expect_parse(m.p, m.len, "unknown type", "an import referring to an unknown type");
  m.len = 0;
  module_with(&m, false, 2,
              "\x01\x01m\x01"
              "f\x00\x00",
              7);
  expect_parse(m.p, m.len, "unknown type", "a function import before any type section");
  m.len = 0;
  module_with(&m, true, 3, "\x01\x01", 2);
  expect_parse(m.p, m.len, "unknown type", "a function referring to an unknown type");
  m.len = 0;
  module_with(&m, true, 7,
              "\x01\x01"
              "f\x00\x00",
              5);
  expect_parse(m.p, m.len, "unknown function", "an export referring to an unknown function");
  m.len = 0;
  module_with(&m, true, 2,
              "\x01\x01m\x01"
              "f\x07\x00",
              7);
  expect_parse(m.p, m.len, "import kind", "an unknown import kind");
  m.len = 0;
  module_with(&m, false, 1, "\x01\x5f\x00\x00", 4);
  expect_parse(m.p, m.len, "function type", "a type that is not a function type");
  m.len = 0;
  module_with(&m, false, 1, "\x01\x60\x01\x40\x00", 5);
  expect_parse(m.p, m.len, "value type", "an unknown value type");
  m.len = 0;

  /* names */
  module_with(&m, true, 2, "\x01\x10m", 3);
  expect_parse(m.p, m.len, "name", "a name running past its section");
  m.len = 0;
  module_with(&m, true, 2,
              "\x01\x03m\0x\x01"
              "f\x00\x00",
              9);
  expect_parse(m.p, m.len, "NUL", "a name containing NUL");
  m.len = 0;

  /* each section at most once (a repeated section must not be merged
   * into, or overflow, the arrays of the first) */
  {
    bb_header(&m);
    bb_bytes(&c, "\x01\x60\x00\x00", 4);
    bb_section(&m, 1, &c);
    bb_bytes(&c, "\x01\x60\x00\x00", 4);
    bb_section(&m, 1, &c);
    expect_parse(m.p, m.len, "", "a repeated type section");
    m.len = 0;

    bb_header(&m);
    bb_bytes(&c, "\x01\x60\x00\x00", 4);
    bb_section(&m, 1, &c);
    for (int k = 0; k < 2; k++) {
      bb_leb(&c, 1);
      bb_name(&c, k ? "m2" : "m1");
      bb_name(&c, "f");
      bb_bytes(&c, "\x00\x00", 2);
      bb_section(&m, 2, &c);
    }
    expect_parse(m.p, m.len, "", "a repeated import section");
    m.len = 0;

    bb_header(&m);
    bb_bytes(&c, "\x01\x60\x00\x00", 4);
    bb_section(&m, 1, &c);
    bb_bytes(&c, "\x01\x00", 2);
    bb_section(&m, 3, &c);
    bb_bytes(&c, "\x01\x00", 2);
    bb_section(&m, 3, &c);
    expect_parse(m.p, m.len, "", "a repeated function section");
    m.len = 0;

    bb_header(&m);
    bb_bytes(&c, "\x01\x60\x00\x00", 4);
    bb_section(&m, 1, &c);
    bb_bytes(&c, "\x01\x00", 2);
    bb_section(&m, 3, &c);
    for (int k = 0; k < 2; k++) {
      bb_leb(&c, 1);
      bb_name(&c, k ? "e2" : "e1");
      bb_bytes(&c, "\x00\x00", 2);
      bb_section(&m, 7, &c);
    }
    expect_parse(m.p, m.len, "", "a repeated export section");
    m.len = 0;

    /* a second, smaller type section under functions checked against the
     * first: the export must not index past the new type table */
    bb_header(&m);
    bb_leb(&c, 5);
    for (int k = 0; k < 5; k++) bb_bytes(&c, "\x60\x00\x00", 3);
    bb_section(&m, 1, &c);
    bb_bytes(&c, "\x01\x04", 2); /* one function of type 4 */
    bb_section(&m, 3, &c);
    bb_bytes(&c, "\x01\x60\x00\x00", 4);
    bb_section(&m, 1, &c);
    bb_leb(&c, 1);
    bb_name(&c, "f");
    bb_bytes(&c, "\x00\x00", 2);
    bb_section(&m, 7, &c);
    expect_parse(m.p, m.len, "", "a repeated type section that shrinks the type table");
    m.len = 0;
  }

  /* huge counts: refused at once, with no allocation a count asks for */
  static const uint8_t max32[] = {0xff, 0xff, 0xff, 0xff, 0x0f}; /* 2^32 - 1 */
  static const uint8_t million[] = {0xc0, 0x84, 0x3d};           /* 1,000,000 */
  struct {
    uint8_t id;
    bool with_type;
    const char *what;
  } counts[] = {{1, false, "types"},
                {2, true, "imports"},
                {3, true, "functions"},
                {5, false, "memories"},
                {7, true, "exports"}};
  for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
    char what[128];
    module_with(&m, counts[k].with_type, counts[k].id, max32, sizeof max32);
    snprintf(what, sizeof what, "a count of 2^32-1 %s", counts[k].what);
    expect_count_refused(m.p, m.len, what);
    m.len = 0;
    if (counts[k].id == 5) continue;
    module_with(&m, counts[k].with_type, counts[k].id, million, sizeof million);
    snprintf(what, sizeof what, "a count of 1,000,000 %s in a 3-byte section", counts[k].what);
    expect_count_refused(m.p, m.len, what);
    m.len = 0;
  }
  module_with(&m, false, 1, "\x01\x60\xff\xff\xff\xff\x0f", 7);
  expect_count_refused(m.p, m.len, "a type with 2^32-1 parameters");
  m.len = 0;
  module_with(&m, false, 1, "\x01\x60\x00\xff\xff\xff\xff\x0f", 8);
  expect_count_refused(m.p, m.len, "a type with 2^32-1 results");
  m.len = 0;
  module_with(&m, true, 2, "\x01\xff\xff\xff\xff\x0f", 6);
  expect_count_refused(m.p, m.len, "an import name of length 2^32-1");
  m.len = 0;
  {
    static const uint8_t hdr[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f};
    expect_count_refused(hdr, sizeof hdr, "a section size of 2^32-1");
  }

  /* the host short of memory: a failed allocation is an error, not a crash */
  if (TRACKING) {
    module_with(&m, true, 2, million, sizeof million);
    parse_arg a = {m.p, m.len, 64 * 1024};
    child_result r;
    char why[256];
    bool done = isolated(parse_child, &a, &r, why, sizeof why);
    if (!TAP_OK(done && r.value == -1,
                "wasm parse: allocation failure (over 64 KiB refused) is an error, not a crash"))
      tap_diag("%s", done ? r.msg : why);
    m.len = 0;
  } else {
    TAP_SKIP("simulated allocation failure needs a build without ASan",
             "wasm parse: allocation failure is an error, not a crash");
  }
  bb_free(&m);
  bb_free(&c);
}

/* =================================================================== */
/* signature printing                                                  */
/* =================================================================== */

/* =================================================================== */
/* Components (wasm/component.h)                                       */
/* =================================================================== */

static void bb_component_header(bb *b) { bb_bytes(b, "\0asm\x0d\0\x01\0", 8); }

/* A core module: memory 0 none, 1 defined, 2 imported (as the adapter's). */
static void core_module_bytes(bb *m, int memory) {
  bb c = {0};
  bb_header(m);
  if (memory == 2) {
    bb_bytes(&c, "\x01", 1);
    bb_name(&c, "env");
    bb_name(&c, "memory");
    bb_bytes(&c, "\x02\x00\x01", 3);
    bb_section(m, 2, &c);
  } else if (memory == 1) {
    bb_bytes(&c, "\x01\x00\x01", 3);
    bb_section(m, 5, &c);
  }
  bb_free(&c);
}

/* Appends a core module section (id 1) holding such a module. */
static void comp_core(bb *b, int memory) {
  bb m = {0};
  core_module_bytes(&m, memory);
  bb_section(b, 1, &m);
  bb_free(&m);
}

/* Appends an import section of one import: name encoding 0, name, then
 * the externdesc bytes given. */
static void comp_import(bb *b, const char *name, const char *desc, size_t desc_len) {
  bb c = {0};
  bb_bytes(&c, "\x01\x00", 2);
  bb_name(&c, name);
  bb_bytes(&c, desc, desc_len);
  bb_section(b, 10, &c);
  bb_free(&c);
}

typedef struct {
  const uint8_t *buf;
  size_t len;
  const char *core_import; /* a module name the main module imports, or NULL */
  const char *core_import2;
} comp_arg;

/* read, then admit against a main module that imports what arg says:
 * value 0 (accepted), -1 (refused by read) or -2 (by admit); extra: the
 * main module's index, and whether the first import needs linking (x100) */
static void comp_child(void *arg, child_result *res) {
  comp_arg *a = arg;
  uint8_t *copy = malloc(a->len ? a->len : 1);
  memcpy(copy, a->buf, a->len);
  ehal_component c;
  elastic_hal_error err;
  memset(&err, 0, sizeof err);
  g_max_alloc = 0;
  g_track = true;
  double t0 = now_s();
  res->value = ehal_component_read(copy, a->len, &c, &err);
  res->secs = now_s() - t0;
  g_track = false;
  res->max_alloc = g_max_alloc;
  if (res->value == 0) {
    bool inside = c.core >= copy && c.core_len >= 8 && c.core + c.core_len <= copy + a->len &&
                  memcmp(c.core, "\0asm\1\0\0\0", 8) == 0;
    ehal_wasm_import im[2] = {{(char *)a->core_import, (char *)"f", 0, (char *)":"},
                              {(char *)a->core_import2, (char *)"f", 0, (char *)":"}};
    ehal_wasm_info info = {0};
    info.imports = im;
    info.n_imports = a->core_import2 ? 2 : a->core_import ? 1 : 0;
    if (!inside)
      res->value = -3;
    else if (ehal_component_admit(&c, &info, &err) != 0)
      res->value = -2;
    res->extra =
        (int)c.core_index + (c.n_imports && ehal_component_needs_linking(&c.imports[0]) ? 100 : 0);
    ehal_component_free(&c);
  } else if (c.imports || c.n_imports || c.core) {
    res->value = -4; /* a refusal leaves nothing behind */
  }
  snprintf(res->msg, sizeof res->msg, "%s", err.msg);
  free(copy);
}

/* want NULL: accepted, with main module #want_index (and, want_link, its
 * first import left to the linker); else refused with want in the message
 * (by admit when after_read). */
static void expect_comp(const bb *b, const char *core_import, const char *core_import2,
                        const char *want, int want_extra, const char *what) {
  comp_arg a = {b->p, b->len, core_import, core_import2};
  child_result r;
  char why[256];
  if (!isolated(comp_child, &a, &r, why, sizeof why)) {
    TAP_OK(false, "component: %s: %s without crashing", what, want ? "refused" : "accepted");
    tap_diag("%s", why);
    return;
  }
  bool ok = want ? ((r.value == -1 || r.value == -2) && strstr(r.msg, want) && !strchr(r.msg, '\n'))
                 : r.value == 0 && r.extra == want_extra;
  if (!TAP_OK(ok, "component: %s: %s%s%s%s", what, want ? "refused" : "accepted", want ? " (" : "",
              want ? want : "", want ? ")" : ""))
    tap_diag("rc %d, extra %d, message \"%s\"", r.value, r.extra, r.msg);
  if (r.leaked) TAP_OK(false, "component: %s: no memory leaked", what);
  if (r.secs > 0.5) TAP_OK(false, "component: %s: fast (took %.2f s)", what, r.secs);
  if (TRACKING && r.max_alloc > (1u << 20))
    TAP_OK(false, "component: %s: no allocation over 1 MiB (%zu bytes)", what, r.max_alloc);
}

/* Every prefix of a component: refused or accepted, never a crash, and
 * refusals say why on one line. */
static void comp_trunc_child(void *arg, child_result *res) {
  comp_arg *a = arg;
  int bad = 0, first = -1;
  for (size_t cut = 0; cut < a->len; cut++) {
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, a->buf, cut);
    ehal_component c;
    elastic_hal_error err;
    err.msg[0] = 0;
    int rc = ehal_component_read(copy, cut, &c, &err);
    if (rc == 0)
      ehal_component_free(&c);
    else if (!err.msg[0] || strchr(err.msg, '\n')) {
      bad++;
      if (first < 0) first = (int)cut;
    }
    free(copy);
  }
  res->value = bad;
  res->extra = first;
}

static int frob(elastic_hal_instance *caller, const elastic_hal_val *args, size_t nargs,
                elastic_hal_val *results, size_t nresults, void *user) {
  (void)caller, (void)args, (void)nargs, (void)results, (void)nresults, (void)user;
  return 0;
}

static void test_component(void) {
  bb b = {0}, n = {0};
  static const char inst[] = "\x05\x00"; /* externdesc: instance of type 0 */

  bb_component_header(&b);
  comp_core(&b, 1);
  expect_comp(&b, NULL, NULL, NULL, 1, "one core module that defines a memory is the main one");
  bb_free(&b);

  /* what wit-component makes with the preview 1 adapter: shim, main,
   * adapter (imports its memory), fixup; and a nested component that only
   * re-types an export */
  bb_component_header(&b);
  comp_import(&b, "wasi:cli/exit@0.2.3", inst, 2);
  comp_core(&b, 0);
  comp_core(&b, 1);
  comp_core(&b, 2);
  comp_core(&b, 0);
  bb_component_header(&n);
  bb_bytes(&n, "\x07\x01\x00", 3); /* an empty type section in all but name */
  bb_section(&b, 4, &n);
  bb_free(&n);
  expect_comp(&b, "wasi_snapshot_preview1", NULL, NULL, 2,
              "the adapter's shape: the 2nd of 4 core modules, the adapter's wasi:cli import");
  expect_comp(&b, "elastic:clock/clock@0.1.1", NULL,
              "component imports wasi:cli/exit@0.2.3: a WASI 0.2 interface", 0,
              "WASI 0.2 imports when the main module does not import preview 1");
  expect_comp(&b, "wasi_snapshot_preview1", "wasi:cli/exit@0.2.0", "wasi:cli/exit@0.2.3", 0,
              "a WASI 0.2 interface the main module imports itself");
  expect_comp(&b, "wasi_snapshot_preview1", "cm32p2|wasi:cli/exit@0.2", "wasi:cli/exit@0.2.3", 0,
              "a WASI 0.2 interface the main module imports itself (cm32p2 names)");
  {
    comp_arg a = {b.p, b.len, NULL, NULL};
    child_result r;
    char why[256];
    bool ran = isolated(comp_trunc_child, &a, &r, why, sizeof why);
    if (!TAP_OK(ran && r.value == 0,
                "component: every prefix of a %zu-byte component is read or refused with a "
                "one-line reason",
                b.len))
      tap_diag("%s; %d bad, first at %d", ran ? "ran" : why, r.value, r.extra);
  }
  bb_free(&b);

  const struct {
    const char *name;
    const char *desc;
    size_t desc_len;
    const char *want; /* NULL: accepted */
  } imports[] = {
      {"wasi:http/outgoing-handler@0.2.0", inst, 2,
       "component imports wasi:http/outgoing-handler@0.2.0: a WASI 0.2 interface this HAL does "
       "not implement (it provides WASI preview 1 to core modules)"},
      {"wasi:cli/exit@0.3.0", inst, 2, "a WASI 0.2 interface"},
      {"wasi:cli/exit@0.2.0-rc-2023-11-10", inst, 2, "a WASI 0.2 interface"},
      {"wasi:cli/exit", inst, 2, "a WASI 0.2 interface"},
      {"wasi:sockets/tcp@0.2.1", inst, 2, NULL},
      {"elastic:crypto/crypto@0.1.1", inst, 2, NULL},
      {"acme:widgets/frob", inst, 2, NULL},
      {"foo", "\x01\x00", 2, "component imports foo, a function"},
      {"foo", inst, 2, "not an interface name"},
      {"a:b/", inst, 2, "not an interface name"},
      {":b/c", inst, 2, "not an interface name"},
      {"a:b/c/d", inst, 2, "not an interface name"},
      {"m", "\x00\x11\x00", 3, "component imports m, a core module"},
      {"v", "\x02\x00\x00", 3, "component imports v, a value"},
      {"t", "\x03\x01", 2, "component imports t, a type"},
      {"c", "\x04\x00", 2, "component imports c, a component"},
  };
  for (size_t i = 0; i < sizeof imports / sizeof imports[0]; i++) {
    char what[160];
    bb_component_header(&b);
    comp_import(&b, imports[i].name, imports[i].desc, imports[i].desc_len);
    comp_core(&b, 1);
    bool links = imports[i].name[0] != 'w';
    snprintf(what, sizeof what, "an import of %s (externdesc 0x%02x)", imports[i].name,
             (unsigned char)imports[i].desc[0]);
    expect_comp(&b, "wasi_snapshot_preview1", NULL, imports[i].want, 1 + (links ? 100 : 0), what);
    bb_free(&b);
  }

  /* no main module, or two */
  bb_component_header(&b);
  expect_comp(&b, NULL, NULL, "no core module that defines a memory (it holds 0 core modules)", 0,
              "a bare preamble");
  comp_core(&b, 0);
  comp_core(&b, 2);
  expect_comp(&b, NULL, NULL, "no core module that defines a memory (it holds 2 core modules)", 0,
              "core modules without a memory of their own");
  comp_core(&b, 1);
  comp_core(&b, 1);
  expect_comp(&b, NULL, NULL, "2 core modules that define a memory (#3 and #4", 0,
              "two core modules that define a memory");
  bb_free(&b);

  /* nesting */
  bb_component_header(&b);
  comp_core(&b, 1);
  bb_component_header(&n);
  comp_core(&n, 1);
  bb_section(&b, 4, &n);
  bb_free(&n);
  expect_comp(&b, NULL, NULL, "a nested component holds a core module", 0,
              "a nested component with a core module");
  bb_free(&b);
  bb_component_header(&b);
  comp_core(&b, 1);
  bb deep = {0};
  bb_component_header(&deep);
  for (int d = 0; d < 4; d++) {
    bb outer = {0};
    bb_component_header(&outer);
    bb_section(&outer, 4, &deep);
    bb_free(&deep);
    deep = outer;
  }
  bb_section(&b, 4, &deep);
  bb_free(&deep);
  expect_comp(&b, NULL, NULL, "nested more than", 0, "components nested 5 deep");
  bb_free(&b);
  bb_component_header(&b);
  bb_bytes(&b, "\x04\x08\0asm\x0e\0\x01\0", 10);
  comp_core(&b, 1);
  expect_comp(&b, NULL, NULL, "no component preamble", 0, "a nested component of another version");
  bb_free(&b);

  /* framing */
  const struct {
    const char *bytes;
    size_t len;
    const char *want;
    const char *what;
  } raw[] = {
      {"\x0d\x00", 2, "unknown section id 13", "an unknown section id"},
      {"\x07\x05\x00", 3, "runs past", "a section running past the end"},
      {"\x07\x80\x80\x80\x80\x10", 6, "LEB128", "a section size with bits above 32"},
      {"\x07\x80\x80", 3, "unexpected end", "a section size cut off"},
      {"\x0a\x05\xff\xff\xff\xff\x0f", 7, "import count exceeds", "an import count of 2^32-1"},
      {"\x0a\x06\x01\x02\x01\x61\x05\x00", 8, "import name encoding 0x02",
       "an unknown import name encoding"},
      {"\x0a\x07\x01\x00\x02\x61\0\x05\x00", 9, "NUL", "an import name with NUL"},
      {"\x0a\x06\x01\x00\x01\x61\x09\x00", 8, "import kind 0x09", "an unknown import kind"},
      {"\x0a\x06\x01\x00\x09\x61\x05\x00", 8, "runs past", "an import name past its section"},
      {"\x0a\x07\x01\x00\x01\x61\x05\x00\x00", 9, "bytes after", "trailing bytes"},
      {"\x0a\x07\x01\x00\x01\x61\x00\x12\x00", 9, "module type", "a core import of another sort"},
      {"\x0a\x06\x01\x00\x01\x61\x03\x07", 8, "type bound", "an unknown type bound"},
      {"\x01\x08\0asm\x02\0\0\0", 10, "core module #1 is not", "a core module of version 2"},
      {"\x01\x03\0as", 5, "core module #1 is not", "a 3-byte core module"},
      {"\x01\x0b\0asm\1\0\0\0\x05\x05\x00", 13, "core module #1 is malformed",
       "a core module section past its end"},
      {"\x01\x0c\0asm\1\0\0\0\x05\x01\x80\x80", 14, "core module #1 is malformed",
       "a memory count cut off"},
  };
  for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
    bb_component_header(&b);
    bb_bytes(&b, raw[i].bytes, raw[i].len);
    expect_comp(&b, NULL, NULL, raw[i].want, 0, raw[i].what);
    bb_free(&b);
  }
  expect_comp(&(bb){(uint8_t *)"\0asm\1\0\0\0", 8, 8}, NULL, NULL, "not a WebAssembly component", 0,
              "a core module given as a component");

  /* what the linker says of a component's interfaces */
  elastic_hal_linker *l = elastic_hal_linker_new();
  char why[512] = "";
  elastic_hal_world_add_to_linker_by_name(l, "elastic-tee-minimal");
  TAP_OK(ehal_linker_provides(l, "elastic:crypto/crypto@0.1.1", why, sizeof why) &&
             ehal_linker_provides(l, "elastic:crypto/crypto@0.1.0", why, sizeof why),
         "component linking: the minimal world serves elastic:crypto/crypto 0.1.0 and 0.1.1");
  TAP_OK(!ehal_linker_provides(l, "elastic:gpu/gpu@0.1.1", why, sizeof why) &&
             !strcmp(why, "not in world elastic-tee-minimal"),
         "component linking: elastic:gpu/gpu is not in world elastic-tee-minimal (\"%s\")", why);
  TAP_OK(!ehal_linker_provides(l, "elastic:crypto/crypto@0.2.0", why, sizeof why) &&
             strstr(why, "no compatible version"),
         "component linking: elastic:crypto/crypto@0.2.0 has no compatible version (\"%s\")", why);
  TAP_OK(!ehal_linker_provides(l, "acme:widgets/frob", why, sizeof why) &&
             !strcmp(why, "unknown interface"),
         "component linking: acme:widgets/frob is an unknown interface (\"%s\")", why);
  TAP_OK(elastic_hal_linker_define(l, "acme:widgets/frob", "f", "i:i", frob, NULL, NULL) == 0 &&
             ehal_linker_provides(l, "acme:widgets/frob", why, sizeof why),
         "component linking: an interface the embedder defines functions of is served");
  elastic_hal_linker_free(l);
}

static void test_sig_pretty(void) {
  char buf[128];
  static const struct {
    const char *sig, *want;
  } cases[] = {
      {"iI:i", "(i32, i64) -> (i32)"},
      {":", "() -> ()"},
      {"i:", "(i32) -> ()"},
      {":I", "() -> (i64)"},
      {"fFvr:Ii", "(f32, f64, v128, ref) -> (i64, i32)"},
      {"iiiiiii:", "(i32, i32, i32, i32, i32, i32, i32) -> ()"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *got = ehal_sig_pretty(cases[i].sig, buf, sizeof buf);
    if (!TAP_OK(got == buf && strcmp(buf, cases[i].want) == 0, "sig_pretty: \"%s\" is %s",
                cases[i].sig, cases[i].want))
      tap_diag("got \"%s\"", buf);
  }
  /* small buffers: always NUL-terminated, a prefix, never written past */
  const char *full = "(i32, i64, f32, f64) -> (i32, i64)";
  bool ok = true;
  for (size_t len = 1; len <= 40; len++) {
    char *b = malloc(len); /* exact size: ASan sees any overflow */
    memset(b, 'x', len);
    ehal_sig_pretty("iIfF:iI", b, len);
    size_t n = strnlen(b, len);
    if (n >= len || strncmp(b, full, n) != 0 || (len > strlen(full) && strcmp(b, full))) ok = false;
    free(b);
  }
  TAP_OK(ok, "sig_pretty: buffers of 1..40 bytes get a NUL-terminated prefix, no overflow");
}

/* =================================================================== */
/* handle tables                                                       */
/* =================================================================== */

static int g_destroyed;
static void count_destroy(void *obj) {
  (void)obj;
  g_destroyed++;
}

static void test_handles(void) {
  ehal_handle_table t, u;
  int objs[200];
  ehal_handles_init(&t, 3, count_destroy);
  ehal_handles_init(&u, 3, count_destroy);

  uint64_t a = ehal_handle_new(&t, &objs[0]);
  uint64_t b = ehal_handle_new(&t, &objs[1]);
  TAP_OK(a != 0 && b != 0 && a != b, "handles: new returns distinct non-zero handles");
  TAP_OK(ehal_handle_get(&t, a) == &objs[0] && ehal_handle_get(&t, b) == &objs[1],
         "handles: get returns each handle's object");
  TAP_OK(ehal_handle_new(&t, NULL) == 0, "handles: a NULL object gets no handle");

  /* forged handles */
  TAP_OK(ehal_handle_get(&t, 0) == NULL, "handles: 0 is never valid");
  TAP_OK(ehal_handle_get(&t, a ^ (1ull << 32)) == NULL &&
             ehal_handle_get(&t, a + (1ull << 32)) == NULL,
         "handles: a wrong generation is rejected");
  TAP_OK(ehal_handle_get(&t, (a & 0xffffffff00000000ull) | 1000) == NULL &&
             ehal_handle_get(&t, (a & 0xffffffff00000000ull) | 0xffffffffull) == NULL,
         "handles: an out-of-range index is rejected");
  TAP_OK(ehal_handle_get(&t, (a & 0xffffffff00000000ull) | 3) == NULL,
         "handles: an index just past the used slots is rejected");
  TAP_OK(ehal_handle_get(&t, ~0ull) == NULL, "handles: all-ones is rejected");
  TAP_OK(ehal_handle_take(&t, 0) == NULL && ehal_handle_take(&t, a + (1ull << 32)) == NULL,
         "handles: take of a forged handle returns nothing");
  TAP_OK(ehal_handle_get(&t, a) == &objs[0], "handles: ... and leaves the real one alone");

  /* take, stale handles, reuse */
  TAP_OK(ehal_handle_take(&t, a) == &objs[0], "handles: take returns the object");
  TAP_OK(ehal_handle_get(&t, a) == NULL, "handles: a taken handle no longer resolves");
  TAP_OK(ehal_handle_take(&t, a) == NULL, "handles: a second take of the same handle fails");
  uint64_t c = ehal_handle_new(&t, &objs[2]);
  TAP_OK(c != 0 && c != a, "handles: a reused slot gets a new handle value");
  TAP_OK(ehal_handle_get(&t, a) == NULL && ehal_handle_get(&t, c) == &objs[2],
         "handles: the stale handle stays dead after its slot is reused");
  TAP_OK(ehal_handle_take(&t, a) == NULL && ehal_handle_get(&t, c) == &objs[2],
         "handles: the stale handle cannot take the slot's new object");

  /* max_live */
  uint64_t d = ehal_handle_new(&t, &objs[3]);
  TAP_OK(d != 0 && t.live == 3, "handles: three live objects fit a max_live of 3");
  TAP_OK(ehal_handle_new(&t, &objs[4]) == 0, "handles: a fourth is refused (table full)");
  TAP_OK(ehal_handle_take(&t, b) == &objs[1], "handles: taking one ...");
  uint64_t e = ehal_handle_new(&t, &objs[4]);
  TAP_OK(e != 0 && ehal_handle_get(&t, e) == &objs[4], "handles: ... makes room for another");

  /* two tables don't share meaning */
  TAP_OK(ehal_handle_get(&u, c) == NULL && ehal_handle_get(&u, d) == NULL,
         "handles: another table's handles are not valid in an empty table");
  uint64_t x = ehal_handle_new(&u, &objs[10]);
  TAP_OK(x != 0 && ehal_handle_get(&u, x) == &objs[10],
         "handles: the second table works on its own");
  TAP_OK(ehal_handle_get(&t, x) != &objs[10] && ehal_handle_get(&u, c) != &objs[2] &&
             ehal_handle_get(&u, d) != &objs[3],
         "handles: the same handle value never reaches the other table's object");
  TAP_OK(ehal_handle_take(&u, d) == NULL && ehal_handle_get(&t, d) == &objs[3],
         "handles: taking through the wrong table leaves the object in its own");

  /* free destroys exactly the live objects */
  g_destroyed = 0;
  ehal_handles_free(&t);
  TAP_OK(g_destroyed == 3, "handles: free destroys the 3 live objects, not the taken ones");
  TAP_OK(ehal_handle_get(&t, c) == NULL, "handles: nothing resolves after free");
  g_destroyed = 0;
  ehal_handles_free(&u);
  TAP_OK(g_destroyed == 1, "handles: free of the second table destroys its one object");

  /* growth past the initial capacity */
  ehal_handles_init(&t, 1000, NULL);
  uint64_t hs[200];
  bool ok = true;
  for (int i = 0; i < 200; i++) ok &= (hs[i] = ehal_handle_new(&t, &objs[i])) != 0;
  for (int i = 0; i < 200; i++) ok &= ehal_handle_get(&t, hs[i]) == &objs[i];
  for (int i = 0; i < 200; i += 2) ok &= ehal_handle_take(&t, hs[i]) == &objs[i];
  for (int i = 0; i < 200; i++) ok &= ehal_handle_get(&t, hs[i]) == (i % 2 ? &objs[i] : NULL);
  TAP_OK(ok && t.live == 100,
         "handles: 200 handles across table growth stay valid; taken ones die");
  ehal_handles_free(&t); /* no destroy callback: nothing to call */
  TAP_OK(t.slots == NULL && t.live == 0,
         "handles: a table without a destroy callback frees cleanly");

  /* max_live 0: nothing fits */
  ehal_handles_init(&t, 0, NULL);
  TAP_OK(ehal_handle_new(&t, &objs[0]) == 0, "handles: a max_live of 0 admits nothing");
  ehal_handles_free(&t);
}

/* =================================================================== */
/* the linker                                                          */
/* =================================================================== */

static void expect_link(const elastic_hal_linker *l, const char *label, const char *module,
                        const char *field, const char *sig, const char *want) {
  char why[512] = "";
  ehal_hostfn fn = ehal_linker_resolve(l, module, field, sig, why, sizeof why);
  if (!want) {
    if (!TAP_OK(fn != NULL, "link %s: %s#%s %s resolves", label, module, field, sig))
      tap_diag("refused: %s", why);
  } else {
    if (!TAP_OK(fn == NULL && strstr(why, want), "link %s: %s#%s %s is refused: %s", label, module,
                field, sig, want))
      tap_diag(fn ? "it resolved" : "reason given: %s", why);
  }
}

static const ehal_func_def *catalog_func(const char *iface, const char *fname) {
  for (const ehal_iface_def *const *c = ehal_catalog; *c; c++)
    if (!strcmp((*c)->name, iface))
      for (size_t i = 0; i < (*c)->nfuncs; i++)
        if (!strcmp((*c)->funcs[i].name, fname)) return &(*c)->funcs[i];
  return NULL;
}

/* Whether a representative is implemented: yes; never (the test-only
 * package, tests/wit/unimplemented.wit); or as the catalog says, for the
 * HAL's interfaces still to be implemented (implementing one must not break
 * these tests). */
enum { IMPL_YES, IMPL_NEVER, IMPL_CATALOG };

/* One representative function per interface, with the core signature the
 * canonical ABI gives it (written out here, not taken from the generator). */
static const struct {
  const char *iface, *module, *func, *sig;
  int implemented;
} reps[] = {
    {"platform", "elastic:platform/platform@0.1.0", "get-platform-info", "i:", IMPL_YES},
    {"capabilities", "elastic:capabilities/capabilities@0.1.0", "has-capability", "ii:i", IMPL_YES},
    {"crypto", "elastic:crypto/crypto@0.1.0", "hash", "iiii:", IMPL_YES},
    {"random", "elastic:random/random@0.1.0", "get-random-bytes", "ii:", IMPL_YES},
    {"storage", "elastic:storage/storage@0.1.0", "create-container", "iii:", IMPL_YES},
    {"communication", "elastic:communication/communication@0.1.0", "list-workloads",
     "i:", IMPL_CATALOG},
    {"sockets", "elastic:sockets/sockets@0.1.0", "close", "Ii:", IMPL_YES},
    {"gpu", "elastic:gpu/gpu@0.1.0", "list-adapters", "i:", IMPL_YES},
    {"resources", "elastic:resources/resources@0.1.0", "query-available", "ii:", IMPL_CATALOG},
    {"events", "elastic:events/events@0.1.0", "subscribe", "ii:", IMPL_CATALOG},
    {"clock", "elastic:clock/clock@0.1.0", "get-system-time", "i:", IMPL_YES},
    {"unimplemented", "test:unimplemented/unimplemented@0.1.0", "close", "Ii:", IMPL_NEVER},
};
#define NREPS (sizeof reps / sizeof reps[0])

static bool rep_implemented(size_t i) {
  if (reps[i].implemented != IMPL_CATALOG) return reps[i].implemented == IMPL_YES;
  const ehal_func_def *f = catalog_func(reps[i].iface, reps[i].func);
  return f && f->fn;
}

/* A catalog interface by name (the test-only ones have no public grain). */
static const ehal_iface_def *catalog_iface(const char *name) {
  for (const ehal_iface_def *const *c = ehal_catalog; *c; c++)
    if (!strcmp((*c)->name, name)) return *c;
  return NULL;
}

static int add_test_world(elastic_hal_linker *l) {
  return elastic_hal_world_add_to_linker_by_name(l, "test-unimplemented");
}

/* Checks a linker holds exactly the interfaces named in `members` (space-
 * separated, from wit/complete.wit), by resolving each representative. */
static void expect_world(int (*add)(elastic_hal_linker *), const char *grain, const char *world,
                         const char *members) {
  elastic_hal_linker *l = elastic_hal_linker_new();
  TAP_OK(add(l) == 0, "world %s: %s returns 0", world, grain);
  TAP_OK(strcmp(elastic_hal_linker_world(l), world) == 0, "world %s: the linker is named %s", world,
         world);
  char padded[256];
  snprintf(padded, sizeof padded, " %s ", members);
  char label[128], notin[128];
  snprintf(label, sizeof label, "%s", world);
  snprintf(notin, sizeof notin, "not in world %s", world);
  for (size_t i = 0; i < NREPS; i++) {
    char key[64];
    snprintf(key, sizeof key, " %s ", reps[i].iface);
    const char *want;
    if (!strstr(padded, key))
      want = notin;
    else
      want = rep_implemented(i) ? NULL : "not implemented";
    expect_link(l, label, reps[i].module, reps[i].func, reps[i].sig, want);
  }
  elastic_hal_linker_free(l);
}

static void test_linker(void) {
  /* the catalog is the eleven WIT packages, then (in this test build) the
   * test-only one */
  static const char *names[] = {"platform",  "capabilities",  "crypto",  "random",
                                "storage",   "communication", "sockets", "gpu",
                                "resources", "events",        "clock",   "unimplemented"};
  size_t n = 0;
  bool all = true;
  for (const ehal_iface_def *const *c = ehal_catalog; *c; c++) n++;
  for (size_t i = 0; i < 12; i++) all &= catalog_iface(names[i]) != NULL;
  TAP_OK(n == 12 && all, "catalog: the eleven HAL interfaces and the test-only one");
  TAP_OK(ehal_catalog[EHAL_IFACE_ID_UNIMPLEMENTED] == catalog_iface("unimplemented") &&
             ehal_catalog[EHAL_IFACE_ID_CLOCK] == catalog_iface("clock") && ehal_iface_count == n,
         "catalog: an interface's id is its index in the catalog, the test-only one last");

  /* everything: exact match, semver, both naming conventions */
  elastic_hal_linker *full = elastic_hal_linker_new();
  TAP_OK(strcmp(elastic_hal_linker_world(full), "custom") == 0,
         "linker: a new linker's world is \"custom\"");
  TAP_OK(elastic_hal_add_to_linker(full) == 0, "linker: elastic_hal_add_to_linker returns 0");
  const ehal_func_def *gst = catalog_func("clock", "get-system-time");
  char why[512];
  ehal_hostfn fn = ehal_linker_resolve(full, "elastic:clock/clock@0.1.1", "get-system-time",
                                       "i:", why, sizeof why);
  TAP_OK(
      fn != NULL && gst && fn == gst->fn,
      "link all: exact match elastic:clock/clock@0.1.1#get-system-time gives its implementation");
  const char *clock_ok[] = {"elastic:clock/clock@0.1.0",
                            "elastic:clock/clock@0.1",
                            "elastic:clock/clock",
                            "cm32p2|elastic:clock/clock@0.1",
                            "cm32p2|elastic:clock/clock@0.1.1",
                            "cm32p2|elastic:clock/clock"};
  for (size_t i = 0; i < sizeof clock_ok / sizeof clock_ok[0]; i++) {
    fn = ehal_linker_resolve(full, clock_ok[i], "get-system-time", "i:", why, sizeof why);
    if (!TAP_OK(fn != NULL && gst && fn == gst->fn,
                "link all: %s#get-system-time is served by 0.1.1", clock_ok[i]))
      tap_diag("%s", fn ? "resolved to another function" : why);
  }
  const char *clock_newer[] = {"elastic:clock/clock@0.1.5",     "elastic:clock/clock@0.1.2",
                               "elastic:clock/clock@0.2.0",     "elastic:clock/clock@0.2",
                               "elastic:clock/clock@1.0.0",     "elastic:clock/clock@1",
                               "cm32p2|elastic:clock/clock@0.2"};
  for (size_t i = 0; i < sizeof clock_newer / sizeof clock_newer[0]; i++)
    expect_link(full, "all", clock_newer[i], "get-system-time", "i:", "no compatible version");
  expect_link(full, "all", "elastic:random/random@0.1.0", "get-random-bytes", "ii:", NULL);
  expect_link(full, "all", "elastic:random/random@0.1.1", "get-random-bytes",
              "ii:", "no compatible version");
  expect_link(full, "all", "elastic:clock/clock@0.1.0-rc1", "get-system-time", "i:", "");
  fn = ehal_linker_resolve(full, "elastic:clock/clock@0.1.0.5", "get-system-time", "i:", why,
                           sizeof why);
  TAP_OK(fn == NULL, "link all: a four-part version @0.1.0.5 is not a semver version: refused");
  fn = ehal_linker_resolve(full, "elastic:clock/clock@0.1.x", "get-system-time", "i:", why,
                           sizeof why);
  TAP_OK(fn == NULL, "link all: a malformed version @0.1.x is refused");

  /* signatures */
  fn = ehal_linker_resolve(full, "elastic:clock/clock@0.1.1", "get-system-time", "ii:", why,
                           sizeof why);
  if (!TAP_OK(fn == NULL && strstr(why, "signature") && strstr(why, "(i32, i32) -> ()") &&
                  strstr(why, "(i32) -> ()"),
              "link all: a wrong signature is refused, naming both signatures"))
    tap_diag("%s", why);
  expect_link(full, "all", "elastic:clock/clock@0.1.1", "sleep", "ii:", "signature");
  expect_link(full, "all", "elastic:clock/clock@0.1.1", "sleep", "Ii:i", "signature");
  expect_link(full, "all", "elastic:capabilities/capabilities@0.1.0", "has-capability",
              "ii:", "signature");
  expect_link(full, "all", "elastic:platform/platform@0.1.0", "attestation", "ii:", "signature");

  /* functions, modules, interfaces */
  expect_link(full, "all", "elastic:platform/platform@0.1.0", "attestation", "iii:", NULL);
  expect_link(full, "all", "elastic:storage/storage@0.1.0", "store-object", "Iiiiii:", NULL);
  expect_link(full, "all", "test:unimplemented/unimplemented@0.1.0", "create-thing",
              "ii:", "not in world elastic-tee-hal");
  /* from here on, full also holds the test-only interface */
  TAP_OK(ehal_linker_add_iface(full, catalog_iface("unimplemented")) == 0,
         "linker: add the test-only interface test:unimplemented/unimplemented");
  expect_link(full, "all", "test:unimplemented/unimplemented@0.1.0", "create-thing",
              "ii:", "not implemented");
  expect_link(full, "all", "elastic:clock/clock@0.1.1", "no-such-function",
              "i:", "no such function");
  expect_link(full, "all", "foo", "bar", "i:", "unknown import module");
  expect_link(full, "all", "env", "memcpy", "iii:i", "unknown import module");
  expect_link(full, "all", "", "get-system-time", "i:", "unknown import module");
  expect_link(full, "all", "elastic:nope/nope@0.1.0", "get", "i:", "unknown interface");
  expect_link(full, "all", "elastic:clock/random@0.1.0", "get-random-bytes",
              "ii:", "unknown interface");
  expect_link(full, "all", "wasi_snapshot_preview1", "fd_write", "iiii:i", "unknown import module");

  /* every catalog function: implemented ones resolve to exactly their
   * implementation with the catalog signature, the others are refused */
  int wrong = 0, total = 0;
  for (const ehal_iface_def *const *c = ehal_catalog; *c; c++) {
    char mod[160];
    snprintf(mod, sizeof mod, "%s/%s@%u.%u.%u", (*c)->package, (*c)->name, (*c)->major, (*c)->minor,
             (*c)->patch);
    for (size_t i = 0; i < (*c)->nfuncs; i++) {
      const ehal_func_def *f = &(*c)->funcs[i];
      fn = ehal_linker_resolve(full, mod, f->name, f->sig, why, sizeof why);
      total++;
      bool ok = f->fn ? fn == f->fn : (fn == NULL && strstr(why, "not implemented"));
      if (!ok) {
        wrong++;
        tap_diag("%s#%s: %s", mod, f->name, fn ? "resolved to the wrong function" : why);
      }
    }
  }
  TAP_OK(wrong == 0 && total > 40,
         "link all: each of the %d catalog functions resolves to its own implementation or is "
         "refused as not implemented",
         total);
  elastic_hal_linker_free(full);

  /* semver rules for a 1.x provider (the catalog only has 0.x): a test
   * interface serving x.y.z = 1.2.3 */
  {
    static const ehal_func_def tf[] = {{"f", "i:", (ehal_hostfn)test_sig_pretty}};
    static const ehal_iface_def ti = {"test:pkg", "iface", 1, 2, 3, tf, 1};
    elastic_hal_linker *l = elastic_hal_linker_new();
    TAP_OK(ehal_linker_add_iface(l, &ti) == 0, "linker: add a test interface test:pkg/iface@1.2.3");
    static const char *ok_versions[] = {"1.2.3", "1.2.0", "1.1.9", "1.0.0", "1.2", "1.0", "1", ""};
    for (size_t i = 0; i < sizeof ok_versions / sizeof ok_versions[0]; i++) {
      char mod[64];
      snprintf(mod, sizeof mod, "test:pkg/iface%s%s", *ok_versions[i] ? "@" : "", ok_versions[i]);
      expect_link(l, "semver 1.2.3", mod, "f", "i:", NULL);
    }
    static const char *bad_versions[] = {"1.2.4", "1.3.0", "1.3",   "2.0.0",
                                         "2",     "0.9.0", "0.2.3", "0"};
    for (size_t i = 0; i < sizeof bad_versions / sizeof bad_versions[0]; i++) {
      char mod[64];
      snprintf(mod, sizeof mod, "test:pkg/iface@%s", bad_versions[i]);
      expect_link(l, "semver 1.2.3", mod, "f", "i:", "no compatible version");
    }
    elastic_hal_linker_free(l);
  }

  /* WASI preview 1 */
  elastic_hal_linker *w = elastic_hal_linker_new();
  elastic_hal_wasi_add_to_linker(w);
  expect_link(w, "wasi", "wasi_snapshot_preview1", "fd_write", "iiii:i", NULL);
  expect_link(w, "wasi", "wasi_snapshot_preview1", "proc_exit", "i:", NULL);
  expect_link(w, "wasi", "wasi_snapshot_preview1", "fd_write", "iiii:", "signature");
  expect_link(w, "wasi", "wasi_snapshot_preview1", "no_such_call", "i:i", "no such function");
  expect_link(w, "wasi", "elastic:random/random@0.1.0", "get-random-bytes",
              "ii:", "not in world custom");
  elastic_hal_linker_free(w);

  /* an empty linker */
  elastic_hal_linker *e = elastic_hal_linker_new();
  expect_link(e, "empty", "elastic:clock/clock@0.1.1", "get-system-time",
              "i:", "not in world custom");
  expect_link(e, "empty", "elastic:nope/nope@0.1.0", "x", "i:", "unknown interface");
  elastic_hal_linker_free(e);

  /* world grain: exactly each world's interfaces (wit/complete.wit) */
  expect_world(elastic_hal_add_to_linker, "elastic_hal_add_to_linker", "elastic-tee-hal",
               "platform capabilities crypto random storage communication sockets gpu resources "
               "events clock");
  expect_world(elastic_hal_hal_world_add_to_linker, "elastic_hal_hal_world_add_to_linker",
               "elastic-tee-hal",
               "platform capabilities crypto random storage communication sockets gpu resources "
               "events clock");
  expect_world(elastic_hal_minimal_add_to_linker, "elastic_hal_minimal_add_to_linker",
               "elastic-tee-minimal", "platform capabilities crypto random");
  expect_world(elastic_hal_attestation_add_to_linker, "elastic_hal_attestation_add_to_linker",
               "elastic-tee-attestation", "platform crypto random");
  expect_world(elastic_hal_storage_world_add_to_linker, "elastic_hal_storage_world_add_to_linker",
               "elastic-tee-storage", "platform capabilities crypto storage");
  expect_world(elastic_hal_network_add_to_linker, "elastic_hal_network_add_to_linker",
               "elastic-tee-network", "platform capabilities crypto sockets communication");
  expect_world(elastic_hal_compute_add_to_linker, "elastic_hal_compute_add_to_linker",
               "elastic-tee-compute", "platform capabilities gpu resources");
  expect_world(add_test_world, "elastic_hal_world_add_to_linker_by_name", "test-unimplemented",
               "platform capabilities unimplemented");

  /* the specific cases called out for the minimal world */
  elastic_hal_linker *min = elastic_hal_linker_new();
  elastic_hal_minimal_add_to_linker(min);
  expect_link(min, "minimal", "elastic:clock/clock@0.1.0", "get-system-time",
              "i:", "not in world elastic-tee-minimal");
  expect_link(min, "minimal", "cm32p2|elastic:clock/clock@0.1", "sleep",
              "Ii:", "not in world elastic-tee-minimal");
  expect_link(min, "minimal", "elastic:random/random@0.1.0", "reseed", "iii:", NULL);
  expect_link(min, "minimal", "elastic:platform/platform@0.1.0", "attestation", "iii:", NULL);
  /* adding the same world again changes nothing; adding WASI composes */
  TAP_OK(elastic_hal_minimal_add_to_linker(min) == 0 && elastic_hal_wasi_add_to_linker(min) == 0,
         "linker: adding a world twice and then WASI succeeds");
  const ehal_iface_def *const *ifs;
  size_t nifs = ehal_linker_ifaces(min, &ifs);
  TAP_OK(nifs == 5, "linker: minimal twice + WASI holds 5 interfaces, no duplicates (has %zu)",
         nifs);
  expect_link(min, "minimal+wasi", "wasi_snapshot_preview1", "fd_write", "iiii:i", NULL);
  elastic_hal_linker_free(min);

  /* by name */
  elastic_hal_linker *bn = elastic_hal_linker_new();
  TAP_OK(elastic_hal_world_add_to_linker_by_name(bn, "elastic-tee-compute") == 0 &&
             strcmp(elastic_hal_linker_world(bn), "elastic-tee-compute") == 0,
         "linker: world by name elastic-tee-compute");
  expect_link(bn, "compute by name", "elastic:random/random@0.1.0", "get-random-bytes",
              "ii:", "not in world elastic-tee-compute");
  TAP_OK(elastic_hal_world_add_to_linker_by_name(bn, "elastic-tee-nonesuch") != 0,
         "linker: an unknown world name is an error");
  TAP_OK(elastic_hal_world_add_to_linker_by_name(bn, "minimal") != 0,
         "linker: a short world name (minimal) is not a world name");
  elastic_hal_linker_free(bn);

  /* interface grain: only that interface */
  struct {
    int (*add)(elastic_hal_linker *);
    const char *iface;
  } per[] = {{elastic_hal_random_add_to_linker, "random"},
             {elastic_hal_clock_add_to_linker, "clock"},
             {elastic_hal_platform_add_to_linker, "platform"},
             {elastic_hal_capabilities_add_to_linker, "capabilities"}};
  for (size_t k = 0; k < sizeof per / sizeof per[0]; k++) {
    elastic_hal_linker *l = elastic_hal_linker_new();
    char label[64];
    snprintf(label, sizeof label, "%s only", per[k].iface);
    TAP_OK(per[k].add(l) == 0, "linker: elastic_hal_%s_add_to_linker returns 0", per[k].iface);
    for (size_t i = 0; i < NREPS; i++) {
      if (!rep_implemented(i)) continue;
      bool self = !strcmp(reps[i].iface, per[k].iface);
      expect_link(l, label, reps[i].module, reps[i].func, reps[i].sig,
                  self ? NULL : "not in world custom");
    }
    elastic_hal_linker_free(l);
  }
  elastic_hal_linker *pl = elastic_hal_linker_new();
  elastic_hal_platform_add_to_linker(pl);
  expect_link(pl, "platform only", "elastic:platform/platform@0.1.0", "attestation", "iii:", NULL);
  /* interfaces compose */
  elastic_hal_random_add_to_linker(pl);
  expect_link(pl, "platform+random", "elastic:random/random@0.1.0", "get-entropy-info", "i:", NULL);
  expect_link(pl, "platform+random", "elastic:platform/platform@0.1.0", "get-platform-info",
              "i:", NULL);
  expect_link(pl, "platform+random", "elastic:clock/clock@0.1.1", "resolution",
              "i:", "not in world custom");
  elastic_hal_linker_free(pl);
}

/* The identity a linker binds into attestation (docs/evidence.md, "world"):
 * the composed world whose interfaces it holds exactly, else the sorted
 * interface list; WASI preview 1 is no part of it; order and repeats of
 * additions change nothing. */
static void expect_identity(elastic_hal_linker *l, const char *label, const char *want) {
  const char *id = ehal_linker_identity(l);
  if (!TAP_OK(id && strcmp(id, want) == 0, "identity: %s is %s", label, want))
    tap_diag("got %s", id ? id : "(null)");
}

static void test_identity(void) {
  /* every composed world's set is distinct, so the name is unambiguous */
  bool distinct = true;
  for (const ehal_world_def *a = ehal_worlds; a->name; a++) {
    elastic_hal_linker *l = elastic_hal_linker_new();
    elastic_hal_world_add_to_linker_by_name(l, a->name);
    for (const ehal_world_def *b = ehal_worlds; b->name; b++) {
      if (b == a) continue;
      elastic_hal_linker *m = elastic_hal_linker_new();
      elastic_hal_world_add_to_linker_by_name(m, b->name);
      const ehal_iface_def *const *x, *const *y;
      size_t nx = ehal_linker_ifaces(l, &x), ny = ehal_linker_ifaces(m, &y), same = 0;
      for (size_t i = 0; i < nx; i++)
        for (size_t j = 0; j < ny; j++) same += x[i] == y[j];
      if (nx == ny && same == nx) distinct = false;
      elastic_hal_linker_free(m);
    }
    expect_identity(l, a->name, a->name);
    elastic_hal_linker_free(l);
  }
  TAP_OK(distinct, "identity: no two composed worlds hold the same interfaces");

  /* everything, then the minimal world on top: still everything */
  elastic_hal_linker *l = elastic_hal_linker_new();
  expect_identity(l, "a new linker", "interfaces:");
  elastic_hal_add_to_linker(l);
  elastic_hal_minimal_add_to_linker(l);
  elastic_hal_wasi_add_to_linker(l);
  expect_identity(l, "everything + elastic-tee-minimal + WASI", "elastic-tee-hal");
  TAP_OK(strcmp(elastic_hal_linker_world(l), "elastic-tee-hal") == 0,
         "identity: everything + elastic-tee-minimal: diagnostics name elastic-tee-hal");
  elastic_hal_linker_free(l);

  /* the minimal world alone, with and without WASI, added twice */
  l = elastic_hal_linker_new();
  elastic_hal_minimal_add_to_linker(l);
  expect_identity(l, "elastic-tee-minimal", "elastic-tee-minimal");
  elastic_hal_wasi_add_to_linker(l);
  elastic_hal_minimal_add_to_linker(l);
  expect_identity(l, "elastic-tee-minimal twice + WASI", "elastic-tee-minimal");
  /* one interface more is no longer that world */
  elastic_hal_clock_add_to_linker(l);
  expect_identity(l, "elastic-tee-minimal + clock",
                  "interfaces:elastic:capabilities/capabilities@0.1.0,elastic:clock/clock@0.1.1,"
                  "elastic:crypto/crypto@0.1.1,elastic:platform/platform@0.1.1,"
                  "elastic:random/random@0.1.0");
  TAP_OK(strcmp(elastic_hal_linker_world(l), "custom") == 0,
         "identity: elastic-tee-minimal + clock: diagnostics say custom");
  elastic_hal_linker_free(l);

  /* the same world built one interface at a time, in any order */
  l = elastic_hal_linker_new();
  elastic_hal_random_add_to_linker(l);
  elastic_hal_crypto_add_to_linker(l);
  elastic_hal_platform_add_to_linker(l);
  expect_identity(l, "random + crypto + platform", "elastic-tee-attestation");
  elastic_hal_linker_free(l);

  /* per interface: the list, sorted, whatever the order of additions */
  l = elastic_hal_linker_new();
  elastic_hal_clock_add_to_linker(l);
  expect_identity(l, "clock only", "interfaces:elastic:clock/clock@0.1.1");
  elastic_hal_wasi_add_to_linker(l);
  expect_identity(l, "clock + WASI", "interfaces:elastic:clock/clock@0.1.1");
  elastic_hal_linker_free(l);
  const char *cr = "interfaces:elastic:clock/clock@0.1.1,elastic:random/random@0.1.0";
  l = elastic_hal_linker_new();
  elastic_hal_clock_add_to_linker(l);
  elastic_hal_random_add_to_linker(l);
  expect_identity(l, "clock + random", cr);
  elastic_hal_linker_free(l);
  l = elastic_hal_linker_new();
  elastic_hal_random_add_to_linker(l);
  elastic_hal_clock_add_to_linker(l);
  elastic_hal_random_add_to_linker(l);
  elastic_hal_clock_add_to_linker(l);
  expect_identity(l, "random + clock + random + clock", cr);
  elastic_hal_linker_free(l);
  l = elastic_hal_linker_new();
  elastic_hal_wasi_add_to_linker(l);
  expect_identity(l, "WASI only", "interfaces:");
  elastic_hal_linker_free(l);
}

/* The state directory's checks (fsutil.h): private directories made on
 * demand, anything not ours alone refused with a message saying why. */
static bool has(const char *err, const char *what) { return strstr(err, what) != NULL; }

static void test_secure_fs(void) {
  char base[] = "/tmp/ehal-fsutil-XXXXXX", p[512], q[512], err[1024];
  if (!mkdtemp(base)) {
    TAP_OK(false, "secure: mkdtemp: %s", strerror(errno));
    return;
  }
  bool root = geteuid() == 0;
  struct stat st;
  /* directories */
  snprintf(p, sizeof p, "%s/x/y/state", base);
  int rc = ehal_secure_dir(p, err, sizeof err);
  if (!TAP_OK(rc == 0 && stat(p, &st) == 0 && (st.st_mode & 0777) == 0700,
              "secure_dir: creates a missing state directory and its parents 0700"))
    tap_diag("rc %d: %s", rc, err);
  snprintf(q, sizeof q, "%s/x", base);
  TAP_OK(stat(q, &st) == 0 && (st.st_mode & 0777) == 0700, "secure_dir: ... parents too");
  TAP_OK(ehal_secure_dir(p, err, sizeof err) == 0,
         "secure_dir: an existing 0700 directory is fine");
  chmod(p, 0755);
  TAP_OK(ehal_secure_dir(p, err, sizeof err) == 0, "secure_dir: 0755 (not writable by others) too");
  chmod(p, 0777);
  rc = ehal_secure_dir(p, err, sizeof err);
  if (!TAP_OK(rc == -1 && has(err, p) && has(err, "writable by group or others") &&
                  has(err, "chmod 700"),
              "secure_dir: 0777 is refused, naming the directory and the fix"))
    tap_diag("rc %d: %s", rc, err);
  chmod(p, 0720);
  TAP_OK(ehal_secure_dir(p, err, sizeof err) == -1, "secure_dir: 0720 too");
  chmod(p, 0700);
  chmod(q, 0777); /* a parent that existed before: not the state directory's business */
  TAP_OK(ehal_secure_dir(p, err, sizeof err) == 0,
         "secure_dir: a pre-existing world-writable parent (like /tmp) is not checked");
  chmod(q, 0700);
  snprintf(q, sizeof q, "%s/link", base);
  if (symlink(p, q) != 0) perror("symlink");
  rc = ehal_secure_dir(q, err, sizeof err);
  if (!TAP_OK(rc == -1 && has(err, q) && has(err, "symbolic link"),
              "secure_dir: a state directory that is a symbolic link is refused"))
    tap_diag("rc %d: %s", rc, err);
  snprintf(q, sizeof q, "%s/link/sub", base);
  TAP_OK(ehal_secure_dir(q, err, sizeof err) == 0,
         "secure_dir: ... though a link among its pre-existing parents is followed");
  snprintf(q, sizeof q, "%s/file", base);
  close(open(q, O_WRONLY | O_CREAT, 0600));
  rc = ehal_secure_dir(q, err, sizeof err);
  TAP_OK(rc == -1 && has(err, "not a directory"), "secure_dir: a file is not a directory");
  snprintf(q, sizeof q, "%s/file/sub", base);
  TAP_OK(ehal_secure_dir(q, err, sizeof err) == -1, "secure_dir: nor can it hold one");
  /* subdirectories */
  rc = ehal_secure_subdir(p, "a/b", false, err, sizeof err);
  snprintf(q, sizeof q, "%s/a", p);
  TAP_OK(rc == 1 && errno == ENOENT && lstat(q, &st) != 0,
         "secure_subdir: without create, a missing one is 1 (ENOENT) and nothing is created");
  snprintf(q, sizeof q, "%s/nosuch", base);
  TAP_OK(ehal_secure_subdir(q, "a", false, err, sizeof err) == 1 && lstat(q, &st) != 0,
         "secure_subdir: ... as is a missing state directory");
  rc = ehal_secure_subdir(p, "a/b", true, err, sizeof err);
  snprintf(q, sizeof q, "%s/a/b", p);
  TAP_OK(rc == 0 && stat(q, &st) == 0 && (st.st_mode & 0777) == 0700,
         "secure_subdir: with create, made 0700");
  snprintf(q, sizeof q, "%s/a", p);
  chmod(q, 0775);
  rc = ehal_secure_subdir(p, "a/b", false, err, sizeof err);
  if (!TAP_OK(rc == -1 && has(err, q) && has(err, "writable"),
              "secure_subdir: a group-writable directory inside the state directory is refused"))
    tap_diag("rc %d: %s", rc, err);
  chmod(q, 0700);
  TAP_OK(ehal_secure_subdir(p, "../x", true, err, sizeof err) == -1,
         "secure_subdir: '..' is refused");
  if (root) {
    if (chown(q, 65534, 65534) != 0) tap_diag("chown: %s", strerror(errno));
    rc = ehal_secure_subdir(p, "a/b", false, err, sizeof err);
    if (!TAP_OK(rc == -1 && has(err, q) && has(err, "owned by uid 65534") && has(err, "chown"),
                "secure_subdir: a directory of another user inside it is refused"))
      tap_diag("rc %d: %s", rc, err);
    if (chown(q, 0, 0) != 0) tap_diag("chown: %s", strerror(errno));
    if (chown(p, 65534, 65534) != 0) tap_diag("chown: %s", strerror(errno));
    rc = ehal_secure_dir(p, err, sizeof err);
    if (!TAP_OK(rc == -1 && has(err, p) && has(err, "owned by uid 65534") &&
                    has(err, "--state-dir") && has(err, "chown"),
                "secure_dir: a state directory of another user is refused"))
      tap_diag("rc %d: %s", rc, err);
    if (chown(p, 0, 0) != 0) tap_diag("chown: %s", strerror(errno));
  } else {
    TAP_SKIP("not root", "secure_subdir: a directory of another user");
    TAP_SKIP("not root", "secure_dir: a state directory of another user");
  }
  /* files */
  snprintf(q, sizeof q, "%s/k", p);
  int fd = ehal_secure_open(q, O_RDWR | O_CREAT | O_EXCL, 0600, err, sizeof err);
  TAP_OK(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600 &&
             (fcntl(fd, F_GETFD) & FD_CLOEXEC) && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
         "secure_open: creates 0600, close-on-exec, blocking");
  if (fd >= 0) close(fd);
  fd = ehal_secure_open(q, O_RDWR | O_CREAT | O_EXCL, 0600, err, sizeof err);
  TAP_OK(fd == -1 && errno == EEXIST, "secure_open: O_EXCL on an existing file: EEXIST");
  fd = ehal_secure_open(q, O_RDONLY, 0, err, sizeof err);
  TAP_OK(fd >= 0 && ehal_secure_fd(fd, q, 077, err, sizeof err) == 0,
         "secure_open: our 0600 file opens and passes the private check");
  if (fd >= 0) close(fd);
  chmod(q, 0640);
  fd = ehal_secure_open(q, O_RDONLY, 0, err, sizeof err);
  rc = fd >= 0 ? ehal_secure_fd(fd, q, 077, err, sizeof err) : -2;
  TAP_OK(fd >= 0 && rc == -1 && errno == EACCES && has(err, "chmod 600"),
         "secure_fd: 0640 opens (not writable by others) but fails the private check");
  if (fd >= 0) close(fd);
  chmod(q, 0666);
  fd = ehal_secure_open(q, O_RDONLY, 0, err, sizeof err);
  TAP_OK(fd == -1 && errno == EACCES && has(err, q) && has(err, "writable"),
         "secure_open: a file writable by others is refused");
  chmod(q, 0600);
  snprintf(p, sizeof p, "%s/k-link", base);
  if (symlink(q, p) != 0) perror("symlink");
  fd = ehal_secure_open(p, O_RDONLY, 0, err, sizeof err);
  TAP_OK(fd == -1 && errno == ELOOP && has(err, p) && has(err, "symbolic link"),
         "secure_open: a symbolic link (to our own file) is refused");
  snprintf(p, sizeof p, "%s/fifo", base);
  mkfifo(p, 0600);
  fd = ehal_secure_open(p, O_RDONLY, 0, err, sizeof err);
  TAP_OK(fd == -1 && has(err, "not a regular file"),
         "secure_open: a FIFO is refused, without blocking");
  snprintf(p, sizeof p, "%s/missing", base);
  fd = ehal_secure_open(p, O_RDONLY, 0, err, sizeof err);
  TAP_OK(fd == -1 && errno == ENOENT, "secure_open: a missing file: ENOENT");
  if (root) {
    if (chown(q, 65534, 65534) != 0) tap_diag("chown: %s", strerror(errno));
    fd = ehal_secure_open(q, O_RDONLY, 0, err, sizeof err);
    TAP_OK(fd == -1 && errno == EACCES && has(err, "owned by uid 65534"),
           "secure_open: a file of another user is refused");
  } else {
    TAP_SKIP("not root", "secure_open: a file of another user");
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  if (system(cmd) != 0) tap_diag("cannot remove %s", base);
}

/* Per-interface state (src/interfaces/interfaces.h): made by the
 * interface's hooks on first use, once; peek never makes it; interfaces
 * without hooks (random, the test-only one) and ids past the catalog have
 * none; cleanup destroys every state, in reverse order of creation (the
 * sanitizer build checks that nothing leaks). */
static void test_iface_state(void) {
  ehal_instance *inst = calloc(1, sizeof *inst);
  if (!TAP_OK(inst != NULL, "iface state: a bare instance")) return;
  ehal_instance_init_interfaces(inst);
  TAP_OK(ehal_iface_state_peek(inst, EHAL_IFACE_ID_CLOCK) == NULL && inst->n_iface_state == 0,
         "iface state: none before first use, and peek makes none");
  static const ehal_iface_id ids[] = {EHAL_IFACE_ID_CLOCK, EHAL_IFACE_ID_STORAGE,
                                      EHAL_IFACE_ID_CRYPTO, EHAL_IFACE_ID_PLATFORM};
  void *st[4];
  bool made = true, same = true;
  for (size_t i = 0; i < 4; i++) made &= (st[i] = ehal_iface_state(inst, ids[i])) != NULL;
  for (size_t i = 0; i < 4; i++)
    same &= ehal_iface_state(inst, ids[i]) == st[i] && ehal_iface_state_peek(inst, ids[i]) == st[i];
  TAP_OK(made, "iface state: clock, storage, crypto and platform make theirs on first use");
  TAP_OK(same, "iface state: later uses get the same state");
  TAP_OK(ehal_iface_state(inst, EHAL_IFACE_ID_RANDOM) == NULL &&
             ehal_iface_state(inst, EHAL_IFACE_ID_UNIMPLEMENTED) == NULL &&
             ehal_iface_state(inst, (ehal_iface_id)ehal_iface_count) == NULL &&
             ehal_iface_state(inst, (ehal_iface_id)(EHAL_MAX_IFACE_STATE + 1)) == NULL &&
             ehal_iface_state_peek(inst, (ehal_iface_id)(EHAL_MAX_IFACE_STATE + 1)) == NULL,
         "iface state: none for an interface without hooks or an id past the catalog");
  bool order = inst->n_iface_state == 4;
  for (size_t i = 0; order && i < 4; i++) order = inst->iface_state_order[i] == ids[i];
  TAP_OK(order, "iface state: the order of creation is kept (destruction runs in reverse)");
  ehal_instance_cleanup_interfaces(inst);
  bool gone = inst->n_iface_state == 0;
  for (size_t i = 0; i < EHAL_MAX_IFACE_STATE; i++) gone &= inst->iface_state[i] == NULL;
  TAP_OK(gone, "iface state: cleanup destroys every state");
  ehal_instance_cleanup_interfaces(inst);
  TAP_OK(inst->n_iface_state == 0, "iface state: a second cleanup finds nothing to do");
  free(inst);
}

/* ---- splitting wasm2c's output (src/engine/wasm2c/split.c) ---- */

/* A file of wasm2c's shape: prelude, table, prototypes, data, n
 * definitions of body lines each, trailer. */
static char *fake_w2c(int n, int body, bool shaped) {
  size_t cap = (size_t)n * (size_t)(body + 4) * 64 + 4096, k = 0;
  char *s = malloc(cap);
  if (!s) return NULL;
  k += (size_t)snprintf(s + k, cap - k, "#include \"guest.h\"\nstatic u32 func_types[3];\n");
  for (int i = 0; i < n; i++)
    k += (size_t)snprintf(s + k, cap - k, "static u32 w2c_f%d(Z_guest_instance_t*, u32);\n", i);
  k += (size_t)snprintf(s + k, cap - k, "\nstatic const u8 data_segment[] = {1, 2};\n\n");
  for (int i = 0; i < n; i++) {
    k += (size_t)snprintf(s + k, cap - k,
                          "static u32 w2c_f%d(Z_guest_instance_t* instance, u32 w2c_p0) {\n", i);
    for (int b = 0; b < body; b++)
      k += (size_t)snprintf(s + k, cap - k, "  w2c_p0 += w2c_f%d(instance, %d);\n", (i + 1) % n, b);
    k += (size_t)snprintf(s + k, cap - k, shaped ? "}\n\n" : "  }\n\n");
  }
  snprintf(s + k, cap - k, "void Z_guest_init_module(void) {\n}\n");
  return s;
}

static size_t count_in(const char *path, const char *needle) {
  FILE *f = fopen(path, "r");
  size_t n = 0;
  char line[512];
  while (f && fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
  if (f) fclose(f);
  return n;
}

static void test_split(void) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/ehal-split-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!TAP_OK(mkdtemp(dir) != NULL, "split: a temporary directory")) return;
  char *c = fake_w2c(40, 20, true);
  int parts = c ? ehal_w2c_split(c, strlen(c), dir, 100) : -1;
  char p0[4300], p1[4300], plast[4300];
  snprintf(p0, sizeof p0, "%s/part0.c", dir);
  snprintf(p1, sizeof p1, "%s/part1.c", dir);
  snprintf(plast, sizeof plast, "%s/part%d.c", dir, parts - 1);
  TAP_OK(parts >= 3, "split: 40 functions of 20 lines, 100 lines a part: %d files", parts);
  TAP_OK(count_in(p0, "w2c_f") == 40 && count_in(p0, "data_segment") == 1 &&
             count_in(p0, "Z_guest_init_module") == 1 &&
             count_in(p0, "instance, u32 w2c_p0) {") == 0,
         "split: the main part keeps the prototypes, data and trailer, no definition");
  TAP_OK(count_in(p0, "\nstatic u32 func_types") == 0 && count_in(p0, "u32 func_types[3];") == 1 &&
             count_in(p1, "extern u32 func_types[3];") == 1,
         "split: the function-type table is defined once and declared extern elsewhere");
  size_t defs = 0;
  for (int k = 1; k < parts; k++) {
    char pk[4300];
    snprintf(pk, sizeof pk, "%s/part%d.c", dir, k);
    defs += count_in(pk, "(Z_guest_instance_t* instance, u32 w2c_p0) {");
  }
  TAP_OK(defs == 40 && count_in(p1, "static u32 w2c_f") == 0,
         "split: every definition lands in exactly one part, none static (%zu)", defs);
  TAP_OK(count_in(p1, "Z_guest_instance_t*, u32);") < 40,
         "split: a part declares only the functions its code mentions");
  free(c);
  /* not the expected shape, or too small: nothing is split */
  char sub[4400];
  snprintf(sub, sizeof sub, "%s/b", dir);
  mkdir(sub, 0700);
  c = fake_w2c(40, 20, false);
  TAP_OK(c && ehal_w2c_split(c, strlen(c), sub, 100) == 0,
         "split: a definition that does not end with a lone } is not split");
  free(c);
  c = fake_w2c(4, 5, true);
  TAP_OK(c && ehal_w2c_split(c, strlen(c), sub, 100) == 0, "split: a small file is not split");
  free(c);
  TAP_OK(ehal_w2c_split("int x;\n", 7, sub, 100) == 0, "split: a file of another shape is not");
  tap_rm_tree(dir);
}

/* ---- the network policy (src/net/policy.c) ---- */

/* Whether policy p allows dir to the literal address a and port. */
static bool net_ok(const ehal_net_policy *p, ehal_net_dir dir, const char *a, unsigned port) {
  struct sockaddr_storage ss = {0};
  if (strchr(a, ':')) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    inet_pton(AF_INET6, a, &in6->sin6_addr);
  } else {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, a, &in->sin_addr);
  }
  return ehal_net_allowed(p, dir, (struct sockaddr *)&ss);
}

static void test_net_policy(void) {
  char err[512];
  const char *conn[] = {"10.0.0.0/8:443", "[fd00::/8]:*", "192.168.1.7:8000-8099", "localhost:7"};
  const char *bind[] = {"*:9000"};
  ehal_net_policy *p = ehal_net_policy_new(conn, 4, bind, 1, err, sizeof err);
  TAP_OK(p != NULL, "policy: four connect rules and one bind rule parse");
  if (!p) {
    tap_diag("%s", err);
    return;
  }
  TAP_OK(net_ok(p, EHAL_NET_CONNECT, "10.200.3.4", 443), "policy: inside a /8, right port");
  TAP_OK(!net_ok(p, EHAL_NET_CONNECT, "10.200.3.4", 444), "policy: inside a /8, other port");
  TAP_OK(!net_ok(p, EHAL_NET_CONNECT, "11.0.0.1", 443), "policy: outside the /8");
  TAP_OK(net_ok(p, EHAL_NET_CONNECT, "fd12::1", 1) && !net_ok(p, EHAL_NET_CONNECT, "fe80::1", 1),
         "policy: an IPv6 /8, any port");
  TAP_OK(net_ok(p, EHAL_NET_CONNECT, "192.168.1.7", 8000) &&
             net_ok(p, EHAL_NET_CONNECT, "192.168.1.7", 8099) &&
             !net_ok(p, EHAL_NET_CONNECT, "192.168.1.7", 8100) &&
             !net_ok(p, EHAL_NET_CONNECT, "192.168.1.8", 8000),
         "policy: a port range, both ends included, one address");
  TAP_OK(net_ok(p, EHAL_NET_CONNECT, "::ffff:10.1.2.3", 443) &&
             !net_ok(p, EHAL_NET_CONNECT, "::ffff:11.1.2.3", 443),
         "policy: an IPv4-mapped IPv6 address is checked as IPv4");
  TAP_OK(net_ok(p, EHAL_NET_CONNECT, "127.0.0.1", 7), "policy: a host name rule (localhost)");
  TAP_OK(!net_ok(p, EHAL_NET_BIND, "10.200.3.4", 443), "policy: connect rules do not allow bind");
  TAP_OK(net_ok(p, EHAL_NET_BIND, "0.0.0.0", 9000) && net_ok(p, EHAL_NET_BIND, "::", 9000) &&
             !net_ok(p, EHAL_NET_BIND, "0.0.0.0", 9001),
         "policy: * is any address, IPv4 and IPv6");
  ehal_net_policy_free(p);
  ehal_net_policy *none = ehal_net_policy_new(NULL, 0, NULL, 0, err, sizeof err);
  TAP_OK(none && !net_ok(none, EHAL_NET_CONNECT, "127.0.0.1", 80) &&
             !net_ok(none, EHAL_NET_BIND, "127.0.0.1", 80),
         "policy: no rule allows nothing");
  ehal_net_policy_free(none);
  TAP_OK(!ehal_net_allowed(NULL, EHAL_NET_CONNECT, NULL), "policy: no policy allows nothing");
  static const char *const bad[] = {"10.0.0.1",       "10.0.0.1:",    ":80",
                                    "10.0.0.1:65536", "10.0.0.1:9-8", "::1:80",
                                    "[10.0.0.1]:80",  "[::1:80",      "10.0.0.0/33:1",
                                    "[::/129]:1",     "10.0.0.1:8a",  "no-such-host.invalid:1",
                                    "a/b:1",          "10.0.0.1:-1",  "[::1]80"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = 0;
    ehal_net_policy *q = ehal_net_policy_new(&bad[i], 1, NULL, 0, err, sizeof err);
    TAP_OK(!q && strstr(err, bad[i]) && strstr(err, "--allow-connect"),
           "policy: '%s' is refused, and the message names it", bad[i]);
    if (q || !strstr(err, bad[i])) tap_diag("%s", err);
    ehal_net_policy_free(q);
  }
}

int main(void) {
  test_split();
  test_utf8();
  test_wasm_valid();
  test_wasm_invalid();
  test_component();
  test_sig_pretty();
  test_handles();
  test_linker();
  test_identity();
  test_iface_state();
  test_secure_fs();
  test_net_policy();
  return tap_done();
}
