/*
 * test_embed.c - the embedding API as an embedder uses it (issue 8,
 * sections 1 and 3): host functions of the embedder's own with user data,
 * guest memory access and the canonical-ABI helpers, calls with every core
 * value type, module reflection, loading from bytes, per-instance user data,
 * structured errors, the version, a host function that calls into another
 * instance (traps on both sides stay on their side), interrupting a running
 * guest from another thread and the config's time bound, and signal
 * handlers installed before the runtime still getting what is not the
 * guest's.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <wasm-rt.h>

#include "elastic-hal/elastic_hal.h"
#include "tap.h"

static char g_tmp[4096];

static const char EMBED_WAT[] =
    "(module\n"
    " (import \"host\" \"add\" (func $add (param i32 i32) (result i32)))\n"
    " (import \"host\" \"peek\" (func $peek (param i32 i32) (result i64)))\n"
    " (import \"host\" \"fail\" (func $fail))\n"
    " (import \"host\" \"mixf\" (func $mixf (param f32 f64) (result f64)))\n"
    " (import \"host\" \"nest\" (func $nest (result i32)))\n"
    " (memory (export \"memory\") 1)\n"
    " (data (i32.const 16) \"hello\")\n"
    " (global $bump (mut i32) (i32.const 1024))\n"
    " (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32)\n"
    "   (global.get $bump) (global.set $bump (i32.add (global.get $bump) (local.get 3))))\n"
    " (func (export \"call_add\") (param i32 i32) (result i32) (call $add (local.get 0) "
    "(local.get 1)))\n"
    " (func (export \"call_peek\") (result i64) (call $peek (i32.const 16) (i32.const 5)))\n"
    " (func (export \"call_fail\") (call $fail))\n"
    " (func (export \"call_mixf\") (param f32 f64) (result f64) (call $mixf (local.get 0) "
    "(local.get 1)))\n"
    " (func (export \"floats\") (param f32 f64 i64) (result f64)\n"
    "   (f64.add (f64.add (f64.promote_f32 (local.get 0)) (local.get 1)) (f64.convert_i64_s "
    "(local.get 2))))\n"
    " (func (export \"f32id\") (param f32) (result f32) (local.get 0))\n"
    " (func (export \"call_nest\") (result i32) (call $nest))\n"
    " (func (export \"nest_then_boom\") (drop (call $nest)) unreachable)\n"
    " (func (export \"spin\") (loop $l (br $l)))\n"
    " (func (export \"boom\") unreachable))\n";

static const char START_SPIN_WAT[] =
    "(module (memory (export \"memory\") 1) (func $s (loop $l (br $l))) (start $s))\n";

/* wat text -> .wasm bytes (wat2wasm from wabt) */
static uint8_t *wat(const char *name, const char *text, size_t *len) {
  char wat_path[4200], wasm_path[4200], cmd[9000];
  snprintf(wat_path, sizeof wat_path, "%s/%s.wat", g_tmp, name);
  snprintf(wasm_path, sizeof wasm_path, "%s/%s.wasm", g_tmp, name);
  FILE *f = fopen(wat_path, "w");
  fputs(text, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "wat2wasm %s -o %s", wat_path, wasm_path);
  if (system(cmd) != 0) return NULL;
  f = fopen(wasm_path, "rb");
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  rewind(f);
  uint8_t *b = malloc(*len);
  if (fread(b, 1, *len, f) != *len) *len = 0;
  fclose(f);
  return b;
}

/* ---- host functions ---- */

/* the guest's allocator traps: an embedder's function that lowers bytes
 * gets an error and goes on, and the call ends with the allocator's trap */
static const char LOWER_TRAP_WAT[] =
    "(module\n"
    " (import \"host\" \"lower\" (func $lower (result i32)))\n"
    " (memory (export \"memory\") 1)\n"
    " (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) unreachable)\n"
    " (func (export \"call_lower\") (result i32) (call $lower))\n"
    " (func (export \"five\") (result i32) (i32.const 5)))\n";

static int g_lower_rc, g_after_lower;

static int host_lower(elastic_hal_instance *caller, const elastic_hal_val *a, size_t na,
                      elastic_hal_val *r, size_t nr, void *user) {
  (void)a, (void)na, (void)nr, (void)user;
  uint32_t p = 0;
  g_lower_rc = elastic_hal_lower_bytes(caller, "x", 1, 1, &p);
  g_after_lower++; /* host code goes on: nothing unwound it */
  r[0].kind = ELASTIC_HAL_I32;
  r[0].of.i32 = 9;
  return 0;
}

static void test_lower_trap(const elastic_hal_load_options *lo) {
  size_t len = 0;
  uint8_t *wasm = wat("lowertrap", LOWER_TRAP_WAT, &len);
  elastic_hal_error err;
  elastic_hal_module *m =
      wasm ? elastic_hal_module_load_bytes(wasm, len, "lowertrap", lo, &err) : NULL;
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_linker_define(l, "host", "lower", ":i", host_lower, NULL, NULL);
  elastic_hal_config cfg;
  memset(&cfg, 0, sizeof cfg);
  elastic_hal_instance *i = m ? elastic_hal_instantiate(m, l, &cfg, &err) : NULL;
  uint64_t r = 0;
  elastic_hal_outcome o =
      i ? elastic_hal_call(i, "call_lower", NULL, 0, &r, 1, &err) : ELASTIC_HAL_EXITED;
  if (!TAP_OK(o == ELASTIC_HAL_TRAPPED && g_lower_rc == -1 && g_after_lower == 1 &&
                  !strcmp(err.trap, "unreachable executed") && strstr(err.msg, "cabi_realloc"),
              "a trap in the guest's cabi_realloc: elastic_hal_lower_bytes fails, the host "
              "function returns normally, the call ends with that trap"))
    tap_diag("outcome %d, rc %d, after %d: %s", (int)o, g_lower_rc, g_after_lower, err.msg);
  o = i ? elastic_hal_call(i, "five", NULL, 0, &r, 1, &err) : ELASTIC_HAL_TRAPPED;
  TAP_OK(o == ELASTIC_HAL_EXITED && r == 5, "... and the instance's next call works");
  elastic_hal_instance_free(i);
  elastic_hal_linker_free(l);
  elastic_hal_module_free(m);
  free(wasm);
}

static int g_user_token = 42;
static int g_freed;
static elastic_hal_instance *g_other;

static void free_user(void *user) {
  if (user == &g_user_token) g_freed++;
}

static int host_add(elastic_hal_instance *caller, const elastic_hal_val *a, size_t na,
                    elastic_hal_val *r, size_t nr, void *user) {
  if (na != 2 || nr != 1 || user != &g_user_token || a[0].kind != ELASTIC_HAL_I32)
    return elastic_hal_trap(caller, "bad call of add");
  r[0].kind = ELASTIC_HAL_I32;
  r[0].of.i32 =
      a[0].of.i32 + a[1].of.i32 + (uint32_t) * (int *)elastic_hal_instance_user_data(caller);
  return 0;
}

static int host_peek(elastic_hal_instance *caller, const elastic_hal_val *a, size_t na,
                     elastic_hal_val *r, size_t nr, void *user) {
  (void)na, (void)nr, (void)user;
  char *s = NULL, raw[5];
  int ok =
      elastic_hal_read_string(caller, a[0].of.i32, a[1].of.i32, &s) == 0 && !strcmp(s, "hello") &&
      elastic_hal_memory_read(caller, 16, raw, 5) == 0 && !memcmp(raw, "hello", 5) &&
      elastic_hal_memory_read(caller, (uint32_t)elastic_hal_memory_size(caller) - 2, raw, 5) != 0 &&
      elastic_hal_memory_write(caller, 100, "xyz", 3) == 0;
  free(s);
  uint32_t p = 0;
  int lowered = elastic_hal_lower_bytes(caller, "lowered", 7, 1, &p) == 0 && p != 0;
  r[0].kind = ELASTIC_HAL_I64;
  r[0].of.i64 = ok ? (lowered ? 2 : 1) : 0;
  return 0;
}

static int host_fail(elastic_hal_instance *caller, const elastic_hal_val *a, size_t na,
                     elastic_hal_val *r, size_t nr, void *user) {
  (void)a, (void)na, (void)r, (void)nr, (void)user;
  return elastic_hal_trap(caller, "embedder says no");
}

static int host_mixf(elastic_hal_instance *caller, const elastic_hal_val *a, size_t na,
                     elastic_hal_val *r, size_t nr, void *user) {
  (void)caller, (void)na, (void)nr, (void)user;
  r[0].kind = ELASTIC_HAL_F64;
  r[0].of.f64 = (double)a[0].of.f32 + 2.0 * a[1].of.f64;
  return 0;
}

/* calls into another instance, whose trap must stay there */
static int host_nest(elastic_hal_instance *caller, const elastic_hal_val *a, size_t na,
                     elastic_hal_val *r, size_t nr, void *user) {
  (void)caller, (void)a, (void)na, (void)nr, (void)user;
  elastic_hal_error err;
  int score = 0;
  if (elastic_hal_call(g_other, "boom", NULL, 0, NULL, 0, &err) == ELASTIC_HAL_TRAPPED &&
      err.kind == ELASTIC_HAL_ERR_TRAP && !strcmp(err.function, "boom"))
    score += 3;
  elastic_hal_val args[2] = {{ELASTIC_HAL_I32, {.i32 = 1}}, {ELASTIC_HAL_I32, {.i32 = 2}}}, res;
  if (elastic_hal_call_values(g_other, "call_add", args, 2, &res, 1, &err) == ELASTIC_HAL_EXITED &&
      res.of.i32 == 1 + 2 + 5)
    score += 4;
  r[0].kind = ELASTIC_HAL_I32;
  r[0].of.i32 = (uint32_t)score;
  return 0;
}

static elastic_hal_linker *make_linker(void) {
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_linker_define(l, "host", "add", "ii:i", host_add, &g_user_token, free_user);
  elastic_hal_linker_define(l, "host", "peek", "ii:I", host_peek, NULL, NULL);
  elastic_hal_linker_define(l, "host", "fail", ":", host_fail, NULL, NULL);
  elastic_hal_linker_define(l, "host", "mixf", "fF:F", host_mixf, NULL, NULL);
  elastic_hal_linker_define(l, "host", "nest", ":i", host_nest, NULL, NULL);
  return l;
}

/* ---- interrupt ---- */

typedef struct {
  elastic_hal_instance *inst;
  int delay_ms;
} interrupter;

static void *interrupt_later(void *arg) {
  interrupter *it = arg;
  struct timespec ts = {0, it->delay_ms * 1000000L};
  nanosleep(&ts, NULL);
  elastic_hal_instance_interrupt(it->inst);
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- signals installed before the runtime ---- */

static volatile sig_atomic_t g_urg_seen;
static void prior_urg(int sig) {
  (void)sig;
  g_urg_seen++;
}
static void prior_segv(int sig) {
  (void)sig;
  _exit(42);
}

static void test_chaining(const uint8_t *wasm, size_t len) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGURG, prior_urg);
    signal(SIGSEGV, prior_segv);
    elastic_hal_load_options lo = {.state_dir = g_tmp};
    elastic_hal_error err;
    elastic_hal_module *m = elastic_hal_module_load_bytes(wasm, len, "embed", &lo, &err);
    if (!m) _exit(3);
    raise(SIGURG); /* not the runtime's: the prior handler gets it */
    if (g_urg_seen != 1) _exit(4);
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
    *(volatile int *)(uintptr_t)g_urg_seen = 0; /* a host fault: the prior handler gets it */
    _exit(5);
#else
    _exit(42); /* no SIGSEGV handler of the runtime's here (the sanitizer owns faults) */
#endif
  }
  int ws = 0;
  waitpid(pid, &ws, 0);
  int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -WTERMSIG(ws);
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
  if (!TAP_OK(code == 42,
              "handlers installed before the runtime get its signals that are not the guest's "
              "(SIGURG, SIGSEGV)"))
    tap_diag("child: %d", code);
#else
  if (!TAP_OK(code == 42,
              "a SIGURG handler installed before the runtime gets what is not the "
              "runtime's (bounds-checked build: no SIGSEGV handler to chain)"))
    tap_diag("child: %d", code);
#endif
}

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/ehal-test-embed-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    return 1;
  }
  size_t len = 0, slen = 0;
  uint8_t *wasm = wat("embed", EMBED_WAT, &len);
  uint8_t *spin_start = wat("startspin", START_SPIN_WAT, &slen);
  if (!TAP_OK(wasm && len && spin_start && slen, "wat2wasm the test modules")) return tap_done();
  test_chaining(wasm, len);

  int number = 0;
  const char *v = elastic_hal_version(&number);
  TAP_OK(!strcmp(v, ELASTIC_HAL_VERSION) && number == ELASTIC_HAL_VERSION_NUMBER,
         "elastic_hal_version agrees with the header (%s, %d)", v, number);

  elastic_hal_load_options lo = {.state_dir = g_tmp};
  elastic_hal_error err;
  memset(&err, 0, sizeof err);
  elastic_hal_module *m = elastic_hal_module_load_bytes(wasm, len, "embed", &lo, &err);
  if (!TAP_OK(m != NULL, "load a module from bytes")) {
    tap_diag("%s", err.msg);
    return tap_done();
  }
  const char *mod, *name, *sig;
  elastic_hal_module_import(m, 3, &mod, &name, &sig);
  TAP_OK(elastic_hal_module_import_count(m) == 5 && !strcmp(mod, "host") && !strcmp(name, "mixf") &&
             !strcmp(sig, "fF:F"),
         "imports are listed with their signatures");
  size_t nexp = elastic_hal_module_export_count(m), found = 0;
  for (size_t i = 0; i < nexp; i++) {
    elastic_hal_extern_kind kind;
    elastic_hal_module_export(m, i, &name, &kind, &sig);
    if (!strcmp(name, "memory") && kind == ELASTIC_HAL_EXTERN_MEMORY && !sig) found++;
    if (!strcmp(name, "floats") && kind == ELASTIC_HAL_EXTERN_FUNC && !strcmp(sig, "fFI:F"))
      found++;
  }
  TAP_OK(nexp == 12 && found == 2, "exports are listed with kinds and signatures");

  /* a signature that differs from the embedder's is a link error */
  elastic_hal_linker *bad = elastic_hal_linker_new();
  elastic_hal_linker_define(bad, "host", "add", "iI:i", host_add, NULL, NULL);
  TAP_OK(elastic_hal_linker_define(bad, "host", "add", "ii:i", host_add, NULL, NULL) != 0 &&
             elastic_hal_linker_define(bad, "host", "x", "ii:ii", host_add, NULL, NULL) != 0 &&
             elastic_hal_linker_define(bad, "host", "y", "q:", host_add, NULL, NULL) != 0,
         "define refuses a second definition, two results and unknown types");
  elastic_hal_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.state_dir = g_tmp;
  int five = 5;
  cfg.user_data = &five;
  TAP_OK(!elastic_hal_instantiate(m, bad, &cfg, &err) && err.kind == ELASTIC_HAL_ERR_LINK &&
             strstr(err.msg, "does not match the embedder's"),
         "an import whose signature differs from the definition does not link (ERR_LINK)");
  elastic_hal_linker_free(bad);

  elastic_hal_linker *l = make_linker();
  elastic_hal_instance *a = elastic_hal_instantiate(m, l, &cfg, &err);
  g_other = elastic_hal_instantiate(m, l, &cfg, &err);
  if (!TAP_OK(a && g_other, "instantiate twice with the embedder's functions")) {
    tap_diag("%s", err.msg);
    return tap_done();
  }
  TAP_OK(elastic_hal_instance_user_data(a) == &five, "the instance carries its user data");

  elastic_hal_val args[3], res;
  args[0] = (elastic_hal_val){ELASTIC_HAL_I32, {.i32 = 40}};
  args[1] = (elastic_hal_val){ELASTIC_HAL_I32, {.i32 = 2}};
  TAP_OK(elastic_hal_call_values(a, "call_add", args, 2, &res, 1, &err) == ELASTIC_HAL_EXITED &&
             res.kind == ELASTIC_HAL_I32 && res.of.i32 == 47,
         "a guest calls the embedder's function, which gets its user data (40 + 2 + 5)");
  TAP_OK(elastic_hal_call_values(a, "call_peek", NULL, 0, &res, 1, &err) == ELASTIC_HAL_EXITED &&
             res.of.i64 == 2,
         "a host function reads and writes guest memory (bounds-checked), reads a string and "
         "lowers bytes through cabi_realloc where there is one");
  char buf[3];
  TAP_OK(elastic_hal_memory_read(a, 100, buf, 3) == 0 && !memcmp(buf, "xyz", 3) &&
             elastic_hal_memory_read(a, UINT32_MAX, buf, 2) != 0,
         "the embedder reads guest memory between calls; out of bounds is refused");

  args[0] = (elastic_hal_val){ELASTIC_HAL_F32, {.f32 = 1.5f}};
  args[1] = (elastic_hal_val){ELASTIC_HAL_F64, {.f64 = 2.25}};
  args[2] = (elastic_hal_val){ELASTIC_HAL_I64, {.i64 = (uint64_t)-4}};
  TAP_OK(elastic_hal_call_values(a, "floats", args, 3, &res, 1, &err) == ELASTIC_HAL_EXITED &&
             res.kind == ELASTIC_HAL_F64 && res.of.f64 == -0.25,
         "call an export with f32, f64 and i64 arguments and an f64 result (bits, not casts)");
  args[0] = (elastic_hal_val){ELASTIC_HAL_F32, {.f32 = -3.75f}};
  TAP_OK(elastic_hal_call_values(a, "f32id", args, 1, &res, 1, &err) == ELASTIC_HAL_EXITED &&
             res.kind == ELASTIC_HAL_F32 && res.of.f32 == -3.75f,
         "an f32 result comes back bit for bit");
  args[1] = (elastic_hal_val){ELASTIC_HAL_F64, {.f64 = 10.0}};
  TAP_OK(elastic_hal_call_values(a, "call_mixf", args, 2, &res, 1, &err) == ELASTIC_HAL_EXITED &&
             res.of.f64 == 16.25,
         "an embedder's function takes f32 and f64 and returns f64");
  TAP_OK(elastic_hal_call_values(a, "floats", args, 2, &res, 1, &err) == ELASTIC_HAL_TRAPPED &&
             err.kind == ELASTIC_HAL_ERR_USAGE,
         "a call with the wrong arguments is refused (ERR_USAGE), nothing runs");

  TAP_OK(elastic_hal_call(a, "call_fail", NULL, 0, NULL, 0, &err) == ELASTIC_HAL_TRAPPED &&
             err.kind == ELASTIC_HAL_ERR_TRAP && !strcmp(err.function, "call_fail") &&
             strstr(err.msg, "embedder says no"),
         "an embedder's function that fails traps its caller, with its message");
  TAP_OK(elastic_hal_call_values(a, "call_nest", NULL, 0, &res, 1, &err) == ELASTIC_HAL_EXITED &&
             res.of.i32 == 7,
         "a host function calls into another instance: its trap stays there, its next call works");
  TAP_OK(elastic_hal_call(a, "nest_then_boom", NULL, 0, NULL, 0, &err) == ELASTIC_HAL_TRAPPED &&
             !strcmp(err.trap, "unreachable executed") && !strcmp(err.function, "nest_then_boom"),
         "after the nested call trapped, the outer call's own trap still lands in the outer call");
  args[0] = (elastic_hal_val){ELASTIC_HAL_I32, {.i32 = 1}};
  args[1] = (elastic_hal_val){ELASTIC_HAL_I32, {.i32 = 1}};
  TAP_OK(elastic_hal_call_values(a, "call_add", args, 2, &res, 1, &err) == ELASTIC_HAL_EXITED &&
             res.of.i32 == 7,
         "and the instance goes on working");

  /* interrupt from another thread */
  interrupter it = {a, 100};
  pthread_t t;
  pthread_create(&t, NULL, interrupt_later, &it);
  double t0 = now_s();
  elastic_hal_outcome o = elastic_hal_call(a, "spin", NULL, 0, NULL, 0, &err);
  double took = now_s() - t0;
  pthread_join(t, NULL);
  if (!TAP_OK(o == ELASTIC_HAL_TRAPPED && !strcmp(err.trap, "interrupted") && took < 5.0,
              "another thread interrupts a spinning guest: trap 'interrupted' (%.2f s)", took))
    tap_diag("%s", err.msg);
  TAP_OK(elastic_hal_call_values(a, "call_add", args, 2, &res, 1, &err) == ELASTIC_HAL_EXITED,
         "the interrupt is spent: the next call runs");

  /* exports resolved once */
  const elastic_hal_func *add = elastic_hal_instance_func(a, "call_add", &err);
  const elastic_hal_func *boom = elastic_hal_instance_func(a, "boom", &err);
  const elastic_hal_func *spin = elastic_hal_instance_func(a, "spin", &err);
  uint64_t cells[2] = {3, 4}, out = 0;
  TAP_OK(add && boom && spin && !strcmp(elastic_hal_func_sig(add), "ii:i") &&
             elastic_hal_instance_func(a, "call_add", &err) == add,
         "exports resolve once into handles (the same handle each time)");
  TAP_OK(add && elastic_hal_func_call(a, add, cells, &out, &err) == ELASTIC_HAL_EXITED &&
             out == 3 + 4 + 5 &&
             elastic_hal_func_call(g_other, add, cells, &out, &err) == ELASTIC_HAL_EXITED,
         "a handle calls its export, in every instance of the module");
  TAP_OK(!elastic_hal_instance_func(a, "memory", &err) && err.kind == ELASTIC_HAL_ERR_USAGE &&
             !elastic_hal_instance_func(a, "nope", &err),
         "no handle for a memory or a missing export");
  TAP_OK(boom && elastic_hal_func_call(a, boom, NULL, NULL, &err) == ELASTIC_HAL_TRAPPED &&
             !strcmp(err.function, "boom") && !strcmp(err.trap, "unreachable executed"),
         "a trap through a handle names the export");
  for (int round = 0; round < 2; round++) {
    interrupter again = {a, 50};
    pthread_create(&t, NULL, interrupt_later, &again);
    o = spin ? elastic_hal_func_call(a, spin, NULL, NULL, &err) : ELASTIC_HAL_EXITED;
    pthread_join(t, NULL);
    TAP_OK(o == ELASTIC_HAL_TRAPPED && !strcmp(err.trap, "interrupted"),
           "interrupt %d through a handle: the signal is unblocked again after each trap",
           round + 1);
  }

  elastic_hal_instance_free(g_other);
  elastic_hal_instance_free(a);
  TAP_OK(g_freed == 0, "user data lives as long as the linker");
  elastic_hal_linker_free(l);
  TAP_OK(g_freed == 1, "the linker frees its user data once");
  elastic_hal_module_free(m);

#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
  /* out of address space is an error the embedder sees, not an abort */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    elastic_hal_module *m2 = elastic_hal_module_load_bytes(wasm, len, "embed", &lo, &err);
    elastic_hal_linker *l3 = make_linker();
    if (!m2) _exit(3);
    struct rlimit rl = {(rlim_t)6 << 30, (rlim_t)6 << 30}; /* less than one reservation */
    setrlimit(RLIMIT_AS, &rl);
    elastic_hal_instance *x = elastic_hal_instantiate(m2, l3, &cfg, &err);
    _exit(!x && strstr(err.msg, "out of address space") ? 0 : 4);
  }
  int ws = 0;
  waitpid(pid, &ws, 0);
  TAP_OK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
         "with the address space used up, instantiate fails with an error instead of aborting");
#endif

  /* the config's time bound covers the start function */
  elastic_hal_module *sm = elastic_hal_module_load_bytes(spin_start, slen, "startspin", &lo, &err);
  elastic_hal_linker *l2 = elastic_hal_linker_new();
  cfg.timeout_ms = 200;
  t0 = now_s();
  elastic_hal_instance *si = sm ? elastic_hal_instantiate(sm, l2, &cfg, &err) : NULL;
  took = now_s() - t0;
  if (!TAP_OK(sm && !si && err.trapped && !strcmp(err.trap, "interrupted") && took < 5.0,
              "timeout_ms ends a start function that spins (%.2f s)", took))
    tap_diag("%s", err.msg);
  elastic_hal_instance_free(si);
  elastic_hal_linker_free(l2);
  elastic_hal_module_free(sm);

  test_lower_trap(&lo);

  free(wasm);
  free(spin_start);
  tap_rm_tree(g_tmp);
  return tap_done();
}
