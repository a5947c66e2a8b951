/*
 * test_abi.c - the canonical ABI end to end: a real guest (tests/guests/
 * abi_guest.c, built for wasm32-wasi with the generated bindings) compiled
 * by the real engine and driven through the public API.
 *
 * The guest's test_* exports call every implemented HAL function and check
 * the results themselves (0 = pass, else the failing source line); the rest
 * are probes for what only the host can see: traps, separate instances,
 * the linear-memory limit, malformed raw calls.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "elastic-hal/elastic_hal.h"
#include "tap.h"

#ifndef EHAL_TEST_GUESTS
#error "EHAL_TEST_GUESTS (the build's guests directory) must be defined"
#endif

#define GUEST EHAL_TEST_GUESTS "/abi_guest.wasm"
#define MAX_SLEEP_NS 5000000ull

static char g_tmp[4096];
static char g_cache[4200];
static int g_progress;

static void on_progress(const char *msg, void *user) {
  (void)msg;
  (void)user;
  g_progress++;
}

static size_t count_files(const char *dir, const char *suffix) {
  DIR *d = opendir(dir);
  size_t n = 0;
  if (!d) return 0;
  struct dirent *e;
  size_t sl = strlen(suffix);
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l >= sl && !strcmp(e->d_name + l - sl, suffix)) n++;
  }
  closedir(d);
  return n;
}

static elastic_hal_linker *full_linker(bool wasi) {
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_add_to_linker(l);
  if (wasi) elastic_hal_wasi_add_to_linker(l);
  return l;
}

static elastic_hal_instance *make_instance(elastic_hal_module *m, const elastic_hal_linker *l,
                                           uint32_t max_pages, uint64_t max_sleep,
                                           elastic_hal_error *err) {
  elastic_hal_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.workload = "abi-test";
  cfg.max_memory_pages = max_pages;
  cfg.max_sleep_ns = max_sleep;
  return elastic_hal_instantiate(m, l, &cfg, err);
}

/* Calls an export; *ret gets its single result (as a signed 32-bit value
 * for i32 results).  Returns the outcome. */
static elastic_hal_outcome call(elastic_hal_instance *i, const char *name, const uint64_t *args,
                                size_t nargs, uint64_t *ret, elastic_hal_error *err) {
  uint64_t r = 0;
  memset(err, 0, sizeof *err);
  elastic_hal_outcome o = elastic_hal_call(i, name, args, nargs, &r, ret ? 1 : 0, err);
  if (ret) *ret = r;
  return o;
}

static int32_t as_i32(uint64_t v) { return (int32_t)(uint32_t)v; }

/* One guest self-check export: 0 means every check passed. */
static void guest_test(elastic_hal_instance *i, const char *name, const uint64_t *args,
                       size_t nargs, const char *desc) {
  uint64_t r = 0;
  elastic_hal_error err;
  elastic_hal_outcome o = call(i, name, args, nargs, &r, &err);
  if (!TAP_OK(o == ELASTIC_HAL_EXITED && as_i32(r) == 0, "%s (guest %s)", desc, name)) {
    if (o != ELASTIC_HAL_EXITED)
      tap_diag("trapped: %s", err.msg);
    else
      tap_diag("guest check failed at tests/guests/abi_guest.c:%d", as_i32(r));
  }
}

/* A malformed raw call must trap the guest with an ABI trap naming why. */
static void expect_abi_trap(elastic_hal_module *m, const elastic_hal_linker *l, const char *name,
                            const char *want, const char *desc) {
  elastic_hal_error err;
  elastic_hal_instance *i = make_instance(m, l, 0, MAX_SLEEP_NS, &err);
  if (!i) {
    TAP_OK(false, "%s: instantiate (%s)", desc, err.msg);
    return;
  }
  uint64_t r;
  elastic_hal_outcome o = call(i, name, NULL, 0, &r, &err);
  if (!TAP_OK(o == ELASTIC_HAL_TRAPPED && strstr(err.msg, "trap (abi)") && strstr(err.msg, want),
              "%s traps the guest (%s)", desc, want)) {
    if (o == ELASTIC_HAL_TRAPPED)
      tap_diag("message: %s", err.msg);
    else
      tap_diag("call returned %d instead of trapping", as_i32(r));
  }
  elastic_hal_instance_free(i);
}

static void sha384_file(const char *path, char out[97]) {
  out[0] = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  EVP_DigestInit_ex(c, EVP_sha384(), NULL);
  unsigned char buf[65536], md[48];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(c, buf, n);
  unsigned int mdlen = 0;
  EVP_DigestFinal_ex(c, md, &mdlen);
  EVP_MD_CTX_free(c);
  fclose(f);
  for (unsigned i = 0; i < mdlen; i++) sprintf(out + 2 * i, "%02x", md[i]);
}

/* ---- capabilities report what each world links ---- */

/* Keep in step with names[] in tests/guests/caps_guest.c. */
static const char *const caps_names[] = {
    "platform",
    "platform.get-platform-info",
    "platform.attestation",
    "capabilities",
    "random",
    "random.get-random-bytes",
    "clock",
    "clock.sleep",
    "storage",
    "crypto",
    "unimplemented", /* test-only (tests/wit/unimplemented.wit): never supported */
    "wasi-preview1",
    "sockets.tcp", /* a protocol of sockets: supported where sockets is linked */
};
#define NCAPS (sizeof caps_names / sizeof caps_names[0])

static void test_capabilities_per_world(const elastic_hal_load_options *lo) {
  elastic_hal_error err;
  elastic_hal_module *m = elastic_hal_module_load(EHAL_TEST_GUESTS "/caps_guest.wasm", lo, &err);
  if (!TAP_OK(m != NULL, "load caps_guest.wasm")) {
    tap_diag("%s", err.msg);
    return;
  }
  /* expected has-capability per name, in caps_names order */
  static const struct {
    const char *world; /* NULL: the capabilities interface alone */
    const char *want;
  } worlds[] = {
      {"elastic-tee-hal", "1111111111011"},
      {"elastic-tee-minimal", "1111110001010"},
      {"elastic-tee-storage", "1111000011010"},
      {"elastic-tee-network", "1111000001011"},
      {"elastic-tee-compute", "1111000000010"},
      {"test-unimplemented", "1111000000010"},
      {NULL, "0001000000010"},
  };
  for (size_t w = 0; w < sizeof worlds / sizeof worlds[0]; w++) {
    const char *wname = worlds[w].world ? worlds[w].world : "capabilities interface only";
    elastic_hal_linker *l = elastic_hal_linker_new();
    if (worlds[w].world)
      elastic_hal_world_add_to_linker_by_name(l, worlds[w].world);
    else
      elastic_hal_capabilities_add_to_linker(l);
    elastic_hal_wasi_add_to_linker(l);
    elastic_hal_instance *i = make_instance(m, l, 0, MAX_SLEEP_NS, &err);
    if (!TAP_OK(i != NULL, "capabilities in %s: instantiate", wname)) {
      tap_diag("%s", err.msg);
      elastic_hal_linker_free(l);
      continue;
    }
    char got[NCAPS + 1];
    for (size_t k = 0; k < NCAPS; k++) {
      uint64_t idx = k, r = 0;
      elastic_hal_outcome o = call(i, "has_cap", &idx, 1, &r, &err);
      got[k] = o != ELASTIC_HAL_EXITED ? 'T' : as_i32(r) == 1 ? '1' : as_i32(r) == 0 ? '0' : '?';
    }
    got[NCAPS] = 0;
    if (!TAP_OK(strcmp(got, worlds[w].want) == 0,
                "capabilities in %s: has-capability is true exactly for what it links", wname)) {
      for (size_t k = 0; k < NCAPS; k++)
        if (got[k] != worlds[w].want[k])
          tap_diag("%s: got %c, want %c", caps_names[k], got[k], worlds[w].want[k]);
    }
    uint64_t r = 0;
    elastic_hal_outcome o = call(i, "list_agrees", NULL, 0, &r, &err);
    if (!TAP_OK(o == ELASTIC_HAL_EXITED && as_i32(r) == 0,
                "capabilities in %s: list-capabilities agrees with has-capability", wname))
      tap_diag(o == ELASTIC_HAL_EXITED ? "guest check failed at tests/guests/caps_guest.c:%d"
                                       : "trapped (%d): %s",
               as_i32(r), err.msg);
    elastic_hal_instance_free(i);
    elastic_hal_linker_free(l);
  }
  /* a world without capabilities cannot link it */
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_attestation_add_to_linker(l);
  elastic_hal_wasi_add_to_linker(l);
  elastic_hal_instance *i = make_instance(m, l, 0, MAX_SLEEP_NS, &err);
  TAP_OK(i == NULL && strstr(err.msg, "not in world elastic-tee-attestation"),
         "capabilities in elastic-tee-attestation: refused (not in the world)");
  elastic_hal_instance_free(i);
  elastic_hal_linker_free(l);
  elastic_hal_module_free(m);
}

int main(void) {
  const char *tmpdir = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/ehal-test-abi-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(g_tmp)) {
    TAP_OK(false, "create a temporary directory");
    return tap_done();
  }
  snprintf(g_cache, sizeof g_cache, "%s/cache", g_tmp);

  elastic_hal_error err;
  memset(&err, 0, sizeof err);
  elastic_hal_load_options lo = {.cache_dir = g_cache, .progress = on_progress, .state_dir = g_tmp};

  /* ---- load: compile into the cache once, then load from it ---- */
  elastic_hal_module *m = elastic_hal_module_load(GUEST, &lo, &err);
  if (!TAP_OK(m != NULL, "load %s (compiled into a fresh cache)", GUEST)) {
    tap_diag("%s", err.msg);
    tap_rm_tree(g_tmp);
    return tap_done();
  }
  TAP_OK(g_progress > 0, "compiling reports progress");
  TAP_OK(elastic_hal_module_tier(m) == ELASTIC_HAL_TIER_OPTIMIZED,
         "a module of ordinary size is compiled at the optimized tier");
  TAP_OK(count_files(g_cache, ".art") == 1, "the cache holds one artifact");
  char sha[97];
  sha384_file(GUEST, sha);
  TAP_OK(strcmp(elastic_hal_module_sha384(m), sha) == 0, "module sha384 is the .wasm's SHA-384");
  g_progress = 0;
  elastic_hal_module *m2 = elastic_hal_module_load(GUEST, &lo, &err);
  TAP_OK(m2 != NULL && g_progress == 0, "second load comes from the cache (no compile)");
  elastic_hal_module_free(m2);

  elastic_hal_linker *full = full_linker(true);
  TAP_OK(elastic_hal_check(m, full, NULL) == 0,
         "every guest import resolves in elastic-tee-hal + WASI");

  elastic_hal_instance *inst = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
  if (!TAP_OK(inst != NULL, "instantiate with elastic-tee-hal + WASI")) {
    tap_diag("%s", err.msg);
    elastic_hal_module_free(m);
    elastic_hal_linker_free(full);
    tap_rm_tree(g_tmp);
    return tap_done();
  }

  /* ---- every implemented function, every ABI shape ---- */
  {
    uint64_t r = 0;
    elastic_hal_outcome o = call(inst, "platform_code", NULL, 0, &r, &err);
    static const char *names[] = {"sev-snp", "tdx", "simulated"};
    int code = as_i32(r);
    bool ok = o == ELASTIC_HAL_EXITED && code >= 0 && code <= 2 &&
              strcmp(names[code], elastic_hal_platform_type()) == 0;
    if (!TAP_OK(ok, "platform: get-platform-info record (string, string, bool) matches the host"))
      tap_diag("outcome %d, code %d, host platform %s, %s", (int)o, code,
               elastic_hal_platform_type(), err.msg);
  }
  guest_test(inst, "test_list_capabilities", NULL, 0,
             "capabilities: list<record> names, flags and versions");
  guest_test(inst, "test_has_capability", NULL, 0, "capabilities: has-capability string -> bool");
  guest_test(inst, "test_random_bytes", NULL, 0,
             "random: u32 -> result<list<u8>> (0, 17, 32, 1 MiB)");
  guest_test(inst, "test_random_limit", NULL, 0, "random: length over the limit -> error string");
  guest_test(inst, "test_entropy_info", NULL, 0,
             "random: get-entropy-info record with enum source");
  guest_test(inst, "test_reseed", NULL, 0, "random: reseed list<u8> argument, ok and error");
  uint64_t now = (uint64_t)time(NULL);
  guest_test(inst, "test_system_time", &now, 1, "clock: get-system-time record, u64 argument");
  guest_test(inst, "test_monotonic", NULL, 0, "clock: get-monotonic-time record");
  guest_test(inst, "test_resolution", NULL, 0, "clock: resolution result<u64, string>");
  guest_test(inst, "test_timezone", NULL, 0, "clock: get-timezone record with string and s32");
  guest_test(inst, "test_timers", NULL, 0, "clock: timers start/read/stop/destroy, stale handles");
  guest_test(inst, "test_timer_limit", NULL, 0, "clock: at most 1024 live timers per workload");
  guest_test(inst, "test_raw_layouts", NULL, 0, "raw return areas match canonical ABI offsets");

  /* sleep: result<_, string>, bounded by the configured maximum */
  {
    struct {
      uint64_t ns;
      int want;
      const char *what;
    } cases[] = {{0, 0, "0 ns"},
                 {1000, 0, "1 us"},
                 {MAX_SLEEP_NS, 0, "exactly the maximum"},
                 {MAX_SLEEP_NS + 1, 1, "the maximum + 1 ns"},
                 {UINT64_MAX, 1, "2^64-1 ns"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      uint64_t r = 0;
      elastic_hal_outcome o = call(inst, "sleep_ns", &cases[k].ns, 1, &r, &err);
      if (!TAP_OK(o == ELASTIC_HAL_EXITED && as_i32(r) == cases[k].want, "clock: sleep %s %s",
                  cases[k].what, cases[k].want ? "-> error naming the maximum" : "-> ok"))
        tap_diag("outcome %d, guest returned %d (%s)", (int)o, as_i32(r), err.msg);
    }
  }

  /* ---- calls the host refuses ---- */
  {
    uint64_t r;
    elastic_hal_outcome o = call(inst, "no_such_export", NULL, 0, &r, &err);
    TAP_OK(o == ELASTIC_HAL_TRAPPED && strstr(err.msg, "no exported function"),
           "calling a missing export is refused");
    uint64_t v = 77;
    call(inst, "set_value", &v, 1, &r, &err);
    o = call(inst, "set_value", NULL, 0, &r, &err); /* wrong arity */
    TAP_OK(o == ELASTIC_HAL_TRAPPED, "calling an export with the wrong arity is refused");
    o = call(inst, "get_value", NULL, 0, &r, &err);
    TAP_OK(o == ELASTIC_HAL_EXITED && as_i32(r) == 77, "... and the export did not run");
  }
  elastic_hal_instance_free(inst);

  /* default sleep bound: 10 s */
  inst = make_instance(m, full, 0, 0, &err);
  if (inst) {
    uint64_t ns = 10ull * 1000000000ull + 1, r = 0;
    elastic_hal_outcome o = call(inst, "sleep_ns", &ns, 1, &r, &err);
    TAP_OK(o == ELASTIC_HAL_EXITED && as_i32(r) == 1, "clock: default maximum sleep is 10 s");
    ns = 1000;
    o = call(inst, "sleep_ns", &ns, 1, &r, &err);
    TAP_OK(o == ELASTIC_HAL_EXITED && as_i32(r) == 0, "clock: short sleep under the default bound");
    elastic_hal_instance_free(inst);
  } else {
    TAP_OK(false, "instantiate with default config: %s", err.msg);
  }

  /* ---- run: the guest as a command ---- */
  inst = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
  if (inst) {
    int status = -1;
    elastic_hal_outcome o = elastic_hal_run(inst, &status, &err);
    TAP_OK(o == ELASTIC_HAL_EXITED && status == 0, "elastic_hal_run runs main to exit status 0");
    elastic_hal_instance_free(inst);
  } else {
    TAP_OK(false, "instantiate for run: %s", err.msg);
  }

  /* ---- traps ---- */
  inst = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
  if (inst) {
    uint64_t r;
    elastic_hal_outcome o = call(inst, "do_trap", NULL, 0, &r, &err);
    if (!TAP_OK(o == ELASTIC_HAL_TRAPPED && strstr(err.msg, "unreachable"),
                "a guest executing unreachable -> ELASTIC_HAL_TRAPPED naming the trap"))
      tap_diag("outcome %d: %s", (int)o, err.msg);
    /* many traps must not leak the engine's call-depth accounting */
    bool all = true;
    for (int k = 0; k < 2500 && all; k++)
      all = call(inst, "do_trap", NULL, 0, &r, &err) == ELASTIC_HAL_TRAPPED;
    for (int k = 0; k < 2500 && all; k++)
      all = call(inst, "bad_utf8", NULL, 0, &r, &err) == ELASTIC_HAL_TRAPPED;
    TAP_OK(all, "5000 traps in a row each come back as ELASTIC_HAL_TRAPPED");
    elastic_hal_instance_free(inst);
    TAP_OK(true, "a trapped instance is freed cleanly");
    inst = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
    o = inst ? call(inst, "test_entropy_info", NULL, 0, &r, &err) : ELASTIC_HAL_TRAPPED;
    if (!TAP_OK(inst && o == ELASTIC_HAL_EXITED && as_i32(r) == 0,
                "a fresh instance works normally after many traps"))
      tap_diag("%s", err.msg);
    elastic_hal_instance_free(inst);
  } else {
    TAP_OK(false, "instantiate for traps: %s", err.msg);
  }

  /* ---- malformed raw calls (the guest as an adversary) ---- */
  expect_abi_trap(m, full, "bad_utf8", "UTF-8", "string argument with a UTF-16 surrogate");
  expect_abi_trap(m, full, "oob_string", "outside linear memory",
                  "string argument running past linear memory");
  expect_abi_trap(m, full, "wrapping_string", "outside linear memory",
                  "string argument whose pointer + length wraps 2^32");
  expect_abi_trap(m, full, "oob_list", "outside linear memory",
                  "list<u8> argument running past linear memory");
  expect_abi_trap(m, full, "oob_retarea", "outside linear memory",
                  "return area running past linear memory");
  expect_abi_trap(m, full, "misaligned_retarea", "misaligned",
                  "return area misaligned for an 8-byte-aligned result");

  /* ---- the last byte of linear memory is usable ---- */
  inst = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
  if (inst) {
    uint64_t r = 0;
    elastic_hal_outcome o = call(inst, "edge_of_memory", NULL, 0, &r, &err);
    if (!TAP_OK(o == ELASTIC_HAL_EXITED && as_i32(r) == 0,
                "a string, empty string, list and return area ending exactly at the end of memory"))
      tap_diag(o == ELASTIC_HAL_EXITED ? "guest check failed at tests/guests/abi_guest.c:%d"
                                       : "trapped (%d): %s",
               as_i32(r), err.msg);
    elastic_hal_instance_free(inst);
  } else {
    TAP_OK(false, "instantiate for the memory edge: %s", err.msg);
  }

  /* ---- two instances: separate memories, separate handle tables ---- */
  {
    elastic_hal_instance *a = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
    elastic_hal_instance *b = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
    if (a && b) {
      uint64_t r, v = 111;
      call(a, "set_value", &v, 1, &r, &err);
      v = 222;
      call(b, "set_value", &v, 1, &r, &err);
      uint64_t ra = 0, rb = 0;
      call(a, "get_value", NULL, 0, &ra, &err);
      call(b, "get_value", NULL, 0, &rb, &err);
      TAP_OK(as_i32(ra) == 111 && as_i32(rb) == 222, "two instances have separate linear memories");

      uint64_t ha = 0;
      call(a, "timer_start", NULL, 0, &ha, &err);
      TAP_OK(ha != 0, "instance A starts a timer");
      call(a, "timer_read", &ha, 1, &r, &err);
      TAP_OK(as_i32(r) == 0, "A's timer handle reads in A");
      call(b, "timer_read", &ha, 1, &r, &err);
      TAP_OK(as_i32(r) == 1, "A's timer handle is invalid in B");
      call(b, "timer_destroy", &ha, 1, &r, &err);
      TAP_OK(as_i32(r) == 1, "B cannot destroy A's timer");
      call(a, "timer_read", &ha, 1, &r, &err);
      TAP_OK(as_i32(r) == 0, "A's timer survives B's attempt");
      uint64_t hb = 0;
      call(b, "timer_start", NULL, 0, &hb, &err);
      call(a, "timer_destroy", &ha, 1, &r, &err);
      TAP_OK(as_i32(r) == 0, "A destroys its own timer");
      call(b, "timer_read", &hb, 1, &r, &err);
      TAP_OK(hb != 0 && as_i32(r) == 0, "B's timer is unaffected by A destroying its timer");
      call(a, "timer_read", &ha, 1, &r, &err);
      TAP_OK(as_i32(r) == 1, "A's destroyed handle is invalid in A");
      /* live timers at free time are released (ASan checks the leak) */
      call(a, "timer_start", NULL, 0, &r, &err);
      call(a, "timer_start", NULL, 0, &r, &err);
    } else {
      TAP_OK(false, "instantiate two instances: %s", err.msg);
    }
    elastic_hal_instance_free(a);
    elastic_hal_instance_free(b);
  }

  /* ---- interface state outlives a trap: freed with the instance ---- */
  {
    elastic_hal_instance *t = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
    uint64_t h = 0, r = 0;
    elastic_hal_outcome o = ELASTIC_HAL_EXITED;
    if (t) {
      call(t, "timer_start", NULL, 0, &h, &err);
      o = call(t, "oob_string", NULL, 0, &r, &err);
    }
    /* the sanitizer build checks that the timer table and its timer go */
    TAP_OK(t && h != 0 && o == ELASTIC_HAL_TRAPPED,
           "a workload with a live timer traps mid-call; freeing it releases the clock state");
    elastic_hal_instance_free(t);
  }

  /* ---- the linear-memory limit ---- */
  {
    uint64_t r, n;
    /* the module's initial size, then a limit 5 pages above it */
    int32_t initial = 0;
    inst = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
    if (inst && call(inst, "mem_size", NULL, 0, &r, &err) == ELASTIC_HAL_EXITED)
      initial = as_i32(r);
    elastic_hal_instance_free(inst);
    uint32_t limit = (uint32_t)initial + 5;
    inst = initial > 0 ? make_instance(m, full, limit, MAX_SLEEP_NS, &err) : NULL;
    if (inst) {
      call(inst, "mem_size", NULL, 0, &r, &err);
      TAP_OK(as_i32(r) == initial, "memory starts at the module's initial size (%d pages)",
             initial);
      n = 100;
      call(inst, "mem_grow", &n, 1, &r, &err);
      TAP_OK(as_i32(r) == -1, "memory.grow beyond max_memory_pages (%u) returns -1", limit);
      n = 5;
      call(inst, "mem_grow", &n, 1, &r, &err);
      TAP_OK(as_i32(r) == initial, "memory.grow up to exactly the limit succeeds");
      n = 1;
      call(inst, "mem_grow", &n, 1, &r, &err);
      TAP_OK(as_i32(r) == -1, "memory.grow by one page past the limit returns -1");
      call(inst, "mem_size", NULL, 0, &r, &err);
      TAP_OK(as_i32(r) == (int32_t)limit, "memory size stays at the limit");
      /* a result the guest cannot allocate: its cabi_realloc aborts (a
       * trap inside cabi_realloc), which ends the call, not the host */
      elastic_hal_outcome o = call(inst, "test_random_bytes", NULL, 0, &r, &err);
      if (!TAP_OK(o == ELASTIC_HAL_TRAPPED,
                  "a 1 MiB result in a guest at its memory limit traps inside cabi_realloc"))
        tap_diag("outcome %d, guest returned %d", (int)o, as_i32(r));
      elastic_hal_instance_free(inst);
    } else {
      TAP_OK(false, "instantiate with max_memory_pages = initial + 5: %s", err.msg);
    }
    inst = make_instance(m, full, 1, MAX_SLEEP_NS, &err);
    TAP_OK(inst == NULL && strstr(err.msg, "pages"),
           "max_memory_pages below the module's initial memory refuses instantiation");
    elastic_hal_instance_free(inst);
    inst = make_instance(m, full, 0, MAX_SLEEP_NS, &err);
    if (inst) {
      n = 16384;
      call(inst, "mem_grow", &n, 1, &r, &err);
      TAP_OK(as_i32(r) == -1, "default limit: 16384 pages (1 GiB) in all");
      n = 16;
      call(inst, "mem_grow", &n, 1, &r, &err);
      TAP_OK(as_i32(r) > 0, "default limit: growing by 16 pages works");
      elastic_hal_instance_free(inst);
    } else {
      TAP_OK(false, "instantiate with the default limit: %s", err.msg);
    }
  }

  /* ---- instantiation is refused when the world lacks an import ---- */
  {
    elastic_hal_linker *min = elastic_hal_linker_new();
    elastic_hal_minimal_add_to_linker(min);
    elastic_hal_wasi_add_to_linker(min);
    TAP_OK(elastic_hal_check(m, min, NULL) == 9,
           "check: the 9 clock imports are outside elastic-tee-minimal");
    inst = make_instance(m, min, 0, MAX_SLEEP_NS, &err);
    bool ok = inst == NULL && strstr(err.msg,
                                     "unresolved import elastic:clock/clock@0.1.1#get-system-time: "
                                     "not in world elastic-tee-minimal");
    if (!TAP_OK(ok, "instantiate in elastic-tee-minimal is refused, naming import and reason"))
      tap_diag("%s", err.msg);
    elastic_hal_instance_free(inst);
    elastic_hal_linker_free(min);

    elastic_hal_linker *nowasi = full_linker(false);
    inst = make_instance(m, nowasi, 0, MAX_SLEEP_NS, &err);
    TAP_OK(inst == NULL && strstr(err.msg, "wasi_snapshot_preview1#proc_exit"),
           "without WASI in the linker, the WASI import is refused");
    elastic_hal_instance_free(inst);
    elastic_hal_linker_free(nowasi);
  }

  elastic_hal_linker_free(full);
  elastic_hal_module_free(m);

  test_capabilities_per_world(&lo);

  tap_rm_tree(g_tmp);
  return tap_done();
}
