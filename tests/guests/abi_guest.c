/*
 * abi_guest.c - a guest that exercises every implemented HAL function through
 * the generated guest bindings, for tests/unit/test_abi.c.
 *
 * Each test_* export returns 0 on success, or the source line of the first
 * check that failed (the host harness reports it).  Other exports are small
 * probes the host drives: timers, a value kept in linear memory, memory.grow,
 * a trap, and deliberately malformed raw HAL calls (the host must trap them).
 *
 * It is a command (main returns 0) so that elastic_hal_run works too; wasm-ld
 * wraps the other exports so they can be called directly.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

#define EXPORT(name) __attribute__((export_name(name)))
#define CHECK(cond)               \
  do {                            \
    if (!(cond)) return __LINE__; \
  } while (0)

/* The raw imports the generated bindings declare; same symbols, so the same
 * (single) wasm imports.  Used to check layouts and to send malformed input. */
#define RAW(mod, name) __attribute__((import_module(mod), import_name(name)))
RAW("elastic:capabilities/capabilities@0.1.0", "has-capability")
extern uint32_t __elastic_import_capabilities_has_capability(uint32_t, uint32_t);
RAW("elastic:platform/platform@0.1.1", "get-platform-info")
extern void __elastic_import_platform_get_platform_info(uint32_t);
RAW("elastic:clock/clock@0.1.1", "get-system-time")
extern void __elastic_import_clock_get_system_time(uint32_t);
RAW("elastic:clock/clock@0.1.1", "resolution")
extern void __elastic_import_clock_resolution(uint32_t);
RAW("elastic:clock/clock@0.1.1", "sleep")
extern void __elastic_import_clock_sleep(uint64_t, uint32_t);
RAW("elastic:random/random@0.1.0", "get-entropy-info")
extern void __elastic_import_random_get_entropy_info(uint32_t);
RAW("elastic:random/random@0.1.0", "get-random-bytes")
extern void __elastic_import_random_get_random_bytes(uint32_t, uint32_t);
RAW("elastic:random/random@0.1.0", "reseed")
extern void __elastic_import_random_reseed(uint32_t, uint32_t, uint32_t);

static bool str_eq(elastic_string_t s, const char *lit) {
  size_t n = strlen(lit);
  return s.len == n && (n == 0 || memcmp(s.ptr, lit, n) == 0);
}

static bool str_has(elastic_string_t s, const char *lit) {
  size_t n = strlen(lit);
  for (size_t i = 0; i + n <= s.len; i++)
    if (memcmp(s.ptr + i, lit, n) == 0) return true;
  return false;
}

static uint32_t ld32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | ((uint64_t)ld32(p + 4) << 32); }

static uint64_t mono_ns(void) {
  elastic_clock_monotonic_time_t t;
  elastic_string_t err;
  if (!elastic_clock_get_monotonic_time(&t, &err)) return 0;
  return t.elapsed_seconds * 1000000000ull + t.elapsed_nanoseconds;
}

int main(void) { return 0; }

/* ---- platform: record { string, string, bool } ---- */

/* 0 sev-snp, 1 tdx, 2 simulated; negative when the record is wrong. */
EXPORT("platform_code") int platform_code(void) {
  elastic_platform_platform_info_t info;
  elastic_platform_get_platform_info(&info);
  int code = -1;
  if (str_eq(info.platform_type, "sev-snp"))
    code = 0;
  else if (str_eq(info.platform_type, "tdx"))
    code = 1;
  else if (str_eq(info.platform_type, "simulated"))
    code = 2;
  if (!str_has(info.version, "elastic-hal")) code = -2;
  if (code == 2 && !info.attestation_support) code = -3; /* the simulated platform attests */
  elastic_string_free(&info.platform_type);
  elastic_string_free(&info.version);
  return code;
}

/* ---- capabilities: list<record { string, bool, string }>, bool(string) ---- */

static const elastic_capabilities_capability_info_t *find_cap(
    const elastic_capabilities_list_capability_info_t *caps, const char *name) {
  for (size_t i = 0; i < caps->len; i++)
    if (str_eq(caps->ptr[i].feature_name, name)) return &caps->ptr[i];
  return NULL;
}

static int check_caps(const elastic_capabilities_list_capability_info_t *caps) {
  const elastic_capabilities_capability_info_t *c;
  CHECK(caps->len >= 11);
  /* implemented and linked (the host links everything plus WASI) */
  static const char *const yes[] = {"platform",
                                    "platform.attestation",
                                    "capabilities",
                                    "random",
                                    "clock",
                                    "crypto",
                                    "crypto.hash",
                                    "crypto.seal",
                                    "storage",
                                    "storage.store-object",
                                    "storage.load-key-context",
                                    "platform.get-platform-info",
                                    "capabilities.list-capabilities",
                                    "capabilities.has-capability",
                                    "random.get-random-bytes",
                                    "random.get-secure-random",
                                    "random.get-entropy-info",
                                    "random.reseed",
                                    "clock.get-system-time",
                                    "clock.get-monotonic-time",
                                    "clock.resolution",
                                    "clock.sleep",
                                    "clock.get-timezone",
                                    "clock.start-timer",
                                    "clock.stop-timer",
                                    "clock.read-timer",
                                    "clock.destroy-timer",
                                    "wasi-preview1"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    c = find_cap(caps, yes[i]);
    CHECK(c != NULL);
    CHECK(c->supported);
  }
  /* known but not implemented: the test build's test-only interface
   * (tests/wit/unimplemented.wit), which no HAL implements */
  static const char *const no[] = {"unimplemented", "unimplemented.list-things",
                                   "unimplemented.close"};
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
    c = find_cap(caps, no[i]);
    CHECK(c != NULL);
    CHECK(!c->supported);
  }
  /* every interface of wit/ is listed, implemented yet or not */
  static const char *const known[] = {"sockets", "gpu",       "communication",
                                      "events",  "resources", "sockets.create-socket"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) CHECK(find_cap(caps, known[i]));
  /* versions: clock is 0.1.1 (timers, time zone), the others 0.1.0 */
  c = find_cap(caps, "clock");
  CHECK(str_eq(c->version, "0.1.1"));
  c = find_cap(caps, "random");
  CHECK(str_eq(c->version, "0.1.0"));
  c = find_cap(caps, "clock.get-timezone");
  CHECK(str_eq(c->version, "0.1.1"));
  /* exactly one platform.* row holds */
  int platforms = 0;
  static const char *const plats[] = {"platform.sev-snp", "platform.tdx", "platform.simulated"};
  for (int i = 0; i < 3; i++) {
    c = find_cap(caps, plats[i]);
    CHECK(c != NULL);
    platforms += c->supported;
  }
  CHECK(platforms == 1);
  /* names are unique and non-empty; versions non-empty */
  for (size_t i = 0; i < caps->len; i++) {
    CHECK(caps->ptr[i].feature_name.len > 0);
    CHECK(caps->ptr[i].version.len > 0);
  }
  for (size_t i = 0; i < caps->len; i++)
    for (size_t j = i + 1; j < caps->len; j++) {
      elastic_string_t a = caps->ptr[i].feature_name, b = caps->ptr[j].feature_name;
      CHECK(!(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0));
    }
  /* has-capability agrees with every listed row */
  for (size_t i = 0; i < caps->len; i++)
    CHECK(elastic_capabilities_has_capability(caps->ptr[i].feature_name) == caps->ptr[i].supported);
  return 0;
}

EXPORT("test_list_capabilities") int test_list_capabilities(void) {
  elastic_capabilities_list_capability_info_t caps;
  elastic_capabilities_list_capabilities(&caps);
  int rc = check_caps(&caps);
  for (size_t i = 0; i < caps.len; i++) {
    elastic_string_free(&caps.ptr[i].feature_name);
    elastic_string_free(&caps.ptr[i].version);
  }
  free(caps.ptr);
  return rc;
}

EXPORT("test_has_capability") int test_has_capability(void) {
  CHECK(elastic_capabilities_has_capability(elastic_string("random")));
  CHECK(elastic_capabilities_has_capability(elastic_string("clock.sleep")));
  CHECK(elastic_capabilities_has_capability(elastic_string("storage")));
  CHECK(!elastic_capabilities_has_capability(elastic_string("unimplemented")));
  CHECK(elastic_capabilities_has_capability(elastic_string("platform.attestation")));
  CHECK(!elastic_capabilities_has_capability(elastic_string("")));
  CHECK(!elastic_capabilities_has_capability(elastic_string("no-such-feature")));
  CHECK(!elastic_capabilities_has_capability(elastic_string("RANDOM")));
  CHECK(!elastic_capabilities_has_capability(elastic_string("random ")));
  CHECK(!elastic_capabilities_has_capability(elastic_string("rando")));
  CHECK(!elastic_capabilities_has_capability(elastic_string("r\xc3\xa4ndom"))); /* valid UTF-8 */
  /* a string that is not NUL-terminated: only len bytes count */
  static const char buf[] = "randomXYZ";
  elastic_string_t s = {(char *)buf, 6};
  CHECK(elastic_capabilities_has_capability(s));
  /* the raw bool is exactly 0 or 1 */
  CHECK(__elastic_import_capabilities_has_capability((uint32_t)(uintptr_t) "random", 6) == 1);
  CHECK(__elastic_import_capabilities_has_capability((uint32_t)(uintptr_t) "unimplemented", 13) ==
        0);
  return 0;
}

/* ---- random: u32 arg, list<u8> result and argument, enum in a record ---- */

EXPORT("test_random_bytes") int test_random_bytes(void) {
  elastic_bytes_t a, b;
  elastic_string_t err;
  CHECK(elastic_random_get_random_bytes(32, &a, &err));
  CHECK(a.len == 32);
  CHECK(elastic_random_get_random_bytes(32, &b, &err));
  CHECK(b.len == 32);
  CHECK(memcmp(a.ptr, b.ptr, 32) != 0);
  int nonzero = 0;
  for (size_t i = 0; i < 32; i++) nonzero += a.ptr[i] != 0;
  CHECK(nonzero > 0);
  elastic_bytes_free(&a);
  elastic_bytes_free(&b);
  /* empty list */
  CHECK(elastic_random_get_random_bytes(0, &a, &err));
  CHECK(a.len == 0);
  elastic_bytes_free(&a);
  /* odd length, secure variant */
  CHECK(elastic_random_get_secure_random(17, &a, &err));
  CHECK(a.len == 17);
  elastic_bytes_free(&a);
  /* the per-call maximum (1 MiB) works; all 256 byte values appear */
  CHECK(elastic_random_get_random_bytes(1u << 20, &a, &err));
  CHECK(a.len == 1u << 20);
  static uint8_t seen[256];
  memset(seen, 0, sizeof seen);
  for (size_t i = 0; i < a.len; i++) seen[a.ptr[i]] = 1;
  for (int i = 0; i < 256; i++) CHECK(seen[i]);
  elastic_bytes_free(&a);
  return 0;
}

EXPORT("test_random_limit") int test_random_limit(void) {
  elastic_bytes_t a = {0, 0};
  elastic_string_t err = {0, 0};
  CHECK(!elastic_random_get_random_bytes((1u << 20) + 1, &a, &err));
  CHECK(str_has(err, "exceeds"));
  elastic_string_free(&err);
  CHECK(!elastic_random_get_secure_random(0xffffffffu, &a, &err));
  CHECK(err.len > 0);
  elastic_string_free(&err);
  return 0;
}

EXPORT("test_entropy_info") int test_entropy_info(void) {
  elastic_random_entropy_info_t info;
  elastic_string_t err;
  CHECK(elastic_random_get_entropy_info(&info, &err));
  CHECK(info.source == ELASTIC_RANDOM_ENTROPY_SOURCE_PLATFORM);
  CHECK(info.quality == 256);
  CHECK(info.available_bytes == (1u << 20));
  return 0;
}

EXPORT("test_reseed") int test_reseed(void) {
  elastic_string_t err = {0, 0};
  static uint8_t buf[64 * 1024 + 1];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7);
  CHECK(elastic_random_reseed((elastic_bytes_t){buf, 64}, &err));
  CHECK(elastic_random_reseed((elastic_bytes_t){buf, 0}, &err));
  CHECK(elastic_random_reseed((elastic_bytes_t){buf, 64 * 1024}, &err));
  CHECK(!elastic_random_reseed((elastic_bytes_t){buf, 64 * 1024 + 1}, &err));
  CHECK(str_has(err, "at most"));
  elastic_string_free(&err);
  return 0;
}

/* ---- clock: records, u64 arg, result<_, string>, result<u64, string> ---- */

EXPORT("test_system_time") int test_system_time(uint64_t host_seconds) {
  elastic_clock_system_time_t t;
  elastic_string_t err;
  CHECK(elastic_clock_get_system_time(&t, &err));
  CHECK(t.nanoseconds < 1000000000u);
  CHECK(t.seconds + 5 >= host_seconds && t.seconds <= host_seconds + 5);
  return 0;
}

EXPORT("test_monotonic") int test_monotonic(void) {
  elastic_clock_monotonic_time_t a, b;
  elastic_string_t err;
  CHECK(elastic_clock_get_monotonic_time(&a, &err));
  CHECK(elastic_clock_get_monotonic_time(&b, &err));
  CHECK(a.elapsed_nanoseconds < 1000000000u && b.elapsed_nanoseconds < 1000000000u);
  CHECK(b.elapsed_seconds > a.elapsed_seconds ||
        (b.elapsed_seconds == a.elapsed_seconds && b.elapsed_nanoseconds >= a.elapsed_nanoseconds));
  return 0;
}

EXPORT("test_resolution") int test_resolution(void) {
  uint64_t res = 0;
  elastic_string_t err;
  CHECK(elastic_clock_resolution(&res, &err));
  CHECK(res > 0 && res <= 1000000000ull);
  return 0;
}

/* 0: slept at least ns; 1: refused with the maximum named; else a line. */
EXPORT("sleep_ns") int sleep_ns(uint64_t ns) {
  elastic_string_t err = {0, 0};
  uint64_t t0 = mono_ns();
  if (elastic_clock_sleep(ns, &err)) {
    CHECK(mono_ns() - t0 >= ns);
    return 0;
  }
  CHECK(str_has(err, "exceeds"));
  CHECK(str_has(err, "maximum"));
  elastic_string_free(&err);
  return 1;
}

EXPORT("test_timezone") int test_timezone(void) {
  elastic_clock_timezone_info_t tz;
  elastic_string_t err;
  CHECK(elastic_clock_get_timezone(&tz, &err));
  CHECK(tz.name.len > 0);
  CHECK(tz.utc_offset_seconds >= -14 * 3600 && tz.utc_offset_seconds <= 14 * 3600);
  elastic_string_free(&tz.name);
  return 0;
}

EXPORT("test_timers") int test_timers(void) {
  elastic_clock_timer_handle_t h;
  elastic_string_t err = {0, 0};
  uint64_t e0, e1, e2, e3;
  CHECK(elastic_clock_start_timer(&h, &err));
  CHECK(h != 0);
  CHECK(elastic_clock_read_timer(h, &e0, &err));
  CHECK(elastic_clock_sleep(1000000, &err));
  CHECK(elastic_clock_read_timer(h, &e1, &err));
  CHECK(e1 >= 1000000 && e1 >= e0);
  CHECK(elastic_clock_stop_timer(h, &e2, &err));
  CHECK(e2 >= e1);
  CHECK(elastic_clock_sleep(100000, &err));
  CHECK(elastic_clock_read_timer(h, &e3, &err)); /* stopped: frozen */
  CHECK(e3 == e2);
  CHECK(elastic_clock_stop_timer(h, &e3, &err)); /* stopping again keeps the value */
  CHECK(e3 == e2);
  CHECK(elastic_clock_destroy_timer(h, &err));
  /* the handle is dead now */
  CHECK(!elastic_clock_read_timer(h, &e3, &err));
  CHECK(str_has(err, "invalid timer handle"));
  elastic_string_free(&err);
  CHECK(!elastic_clock_stop_timer(h, &e3, &err));
  elastic_string_free(&err);
  CHECK(!elastic_clock_destroy_timer(h, &err));
  elastic_string_free(&err);
  /* a new timer reuses the slot with a different handle value */
  elastic_clock_timer_handle_t h2;
  CHECK(elastic_clock_start_timer(&h2, &err));
  CHECK(h2 != h);
  CHECK(!elastic_clock_read_timer(h, &e3, &err));
  elastic_string_free(&err);
  CHECK(elastic_clock_read_timer(h2, &e3, &err));
  /* forged handles */
  CHECK(!elastic_clock_read_timer(0, &e3, &err));
  elastic_string_free(&err);
  CHECK(!elastic_clock_read_timer(h2 + (1ull << 32), &e3, &err));
  elastic_string_free(&err);
  CHECK(!elastic_clock_read_timer(h2 + 1, &e3, &err));
  elastic_string_free(&err);
  CHECK(!elastic_clock_read_timer(~0ull, &e3, &err));
  elastic_string_free(&err);
  CHECK(elastic_clock_destroy_timer(h2, &err));
  return 0;
}

/* At most 1024 live timers per workload; freeing one makes room. */
EXPORT("test_timer_limit") int test_timer_limit(void) {
  static elastic_clock_timer_handle_t hs[1024];
  elastic_string_t err = {0, 0};
  for (int i = 0; i < 1024; i++) CHECK(elastic_clock_start_timer(&hs[i], &err));
  elastic_clock_timer_handle_t extra;
  CHECK(!elastic_clock_start_timer(&extra, &err));
  CHECK(str_has(err, "too many timers"));
  elastic_string_free(&err);
  CHECK(elastic_clock_destroy_timer(hs[500], &err));
  CHECK(elastic_clock_start_timer(&hs[500], &err));
  for (int i = 0; i < 1024; i++) CHECK(elastic_clock_destroy_timer(hs[i], &err));
  return 0;
}

/* ---- probes the host drives ---- */

EXPORT("timer_start") uint64_t timer_start(void) {
  elastic_clock_timer_handle_t h;
  elastic_string_t err;
  if (!elastic_clock_start_timer(&h, &err)) return 0;
  return h;
}

/* 0: the handle reads; 1: refused as invalid; 2: refused otherwise. */
EXPORT("timer_read") int timer_read(uint64_t h) {
  uint64_t ns;
  elastic_string_t err = {0, 0};
  if (elastic_clock_read_timer(h, &ns, &err)) return 0;
  int rc = str_has(err, "invalid timer handle") ? 1 : 2;
  elastic_string_free(&err);
  return rc;
}

EXPORT("timer_destroy") int timer_destroy(uint64_t h) {
  elastic_string_t err = {0, 0};
  if (elastic_clock_destroy_timer(h, &err)) return 0;
  elastic_string_free(&err);
  return 1;
}

static volatile int g_value;
EXPORT("set_value") int set_value(int v) {
  int old = g_value;
  g_value = v;
  return old;
}
EXPORT("get_value") int get_value(void) { return g_value; }

EXPORT("mem_grow") int mem_grow(int pages) {
  return (int)__builtin_wasm_memory_grow(0, (size_t)pages);
}
EXPORT("mem_size") int mem_size(void) { return (int)__builtin_wasm_memory_size(0); }

EXPORT("do_trap") int do_trap(void) { __builtin_trap(); }

/* Canonical ABI layouts checked by hand against the raw imports, so a bug
 * shared by the host glue and the guest bindings (one generator) shows. */
EXPORT("test_raw_layouts") int test_raw_layouts(void) {
  _Alignas(8) uint8_t area[32];
  /* result<system-time, string>: tag @0, payload @8: u64 @8, u32 @16 */
  memset(area, 0xee, sizeof area);
  __elastic_import_clock_get_system_time((uint32_t)(uintptr_t)area);
  CHECK(area[0] == 0);
  CHECK(ld64(area + 8) > 1600000000ull);
  CHECK(ld32(area + 16) < 1000000000u);
  CHECK(area[24] == 0xee); /* nothing written past the 24-byte area */
  /* result<entropy-info, string>: tag @0, enum u8 @8, u32 @12, u64 @16 */
  memset(area, 0xee, sizeof area);
  __elastic_import_random_get_entropy_info((uint32_t)(uintptr_t)area);
  CHECK(area[0] == 0);
  CHECK(area[8] == 1); /* platform */
  CHECK(ld32(area + 12) == 256);
  CHECK(ld64(area + 16) == (1u << 20));
  CHECK(area[24] == 0xee);
  /* result<u64, string>: tag @0, u64 @8 */
  memset(area, 0xee, sizeof area);
  __elastic_import_clock_resolution((uint32_t)(uintptr_t)area);
  CHECK(area[0] == 0);
  CHECK(ld64(area + 8) > 0);
  CHECK(area[16] == 0xee);
  /* result<_, string> error: tag 1, string (ptr, len) @4 */
  memset(area, 0xee, sizeof area);
  __elastic_import_clock_sleep(~0ull, (uint32_t)(uintptr_t)area);
  CHECK(area[0] == 1);
  uint32_t p = ld32(area + 4), n = ld32(area + 8);
  CHECK(n > 0 && p != 0);
  CHECK(str_has((elastic_string_t){(char *)(uintptr_t)p, n}, "maximum"));
  free((void *)(uintptr_t)p);
  CHECK(area[12] == 0xee);
  /* result<list<u8>, string> ok: tag 0, (ptr, len) @4 */
  memset(area, 0xee, sizeof area);
  __elastic_import_random_get_random_bytes(5, (uint32_t)(uintptr_t)area);
  CHECK(area[0] == 0);
  CHECK(ld32(area + 8) == 5);
  free((void *)(uintptr_t)ld32(area + 4));
  /* platform-info: string @0, string @8, bool @16; 20 bytes */
  memset(area, 0xee, sizeof area);
  __elastic_import_platform_get_platform_info((uint32_t)(uintptr_t)area);
  CHECK(ld32(area + 4) > 0 && ld32(area + 12) > 0);
  CHECK(area[16] == 1); /* attestation-support: true on the simulated platform */
  CHECK(area[20] == 0xee);
  free((void *)(uintptr_t)ld32(area + 0));
  free((void *)(uintptr_t)ld32(area + 8));
  return 0;
}

/* ---- malformed raw calls: the host must trap each one ---- */

static uint32_t mem_bytes(void) { return (uint32_t)__builtin_wasm_memory_size(0) * 65536u; }

EXPORT("bad_utf8") int bad_utf8(void) {
  static const char s[] = "ab\xed\xa0\x80"; /* a surrogate */
  return (int)__elastic_import_capabilities_has_capability((uint32_t)(uintptr_t)s, 5);
}

EXPORT("oob_string") int oob_string(void) {
  return (int)__elastic_import_capabilities_has_capability(mem_bytes() - 4, 16);
}

EXPORT("wrapping_string") int wrapping_string(void) {
  return (int)__elastic_import_capabilities_has_capability(0xfffffff0u, 0x20);
}

EXPORT("oob_list") int oob_list(void) {
  _Alignas(8) uint8_t area[16];
  __elastic_import_random_reseed(mem_bytes() - 8, 64, (uint32_t)(uintptr_t)area);
  return area[0];
}

EXPORT("oob_retarea") int oob_retarea(void) {
  __elastic_import_platform_get_platform_info(mem_bytes() - 8);
  return 0;
}

EXPORT("misaligned_retarea") int misaligned_retarea(void) {
  _Alignas(8) uint8_t area[40];
  __elastic_import_clock_get_system_time((uint32_t)(uintptr_t)(area + 4));
  return area[4];
}

/* ---- the very end of linear memory is still memory ---- */

/* Grows memory by a page of its own (nothing else uses it), then passes a
 * string, an empty string and a return area that end exactly at the end of
 * linear memory: none of them may trap. */
EXPORT("edge_of_memory") int edge_of_memory(void) {
  if (__builtin_wasm_memory_grow(0, 1) == (size_t)-1) return __LINE__;
  uint32_t end = mem_bytes();
  char *s = (char *)(uintptr_t)(end - 6);
  memcpy(s, "random", 6);
  CHECK(__elastic_import_capabilities_has_capability(end - 6, 6) == 1);
  CHECK(__elastic_import_capabilities_has_capability(end, 0) == 0);
  __elastic_import_platform_get_platform_info(end - 20);
  const uint8_t *area = (const uint8_t *)(uintptr_t)(end - 20);
  CHECK(ld32(area + 4) > 0 && ld32(area + 12) > 0);
  _Alignas(8) uint8_t ra[16];
  __elastic_import_random_reseed(end - 6, 6, (uint32_t)(uintptr_t)ra);
  CHECK(ra[0] == 0);
  return 0;
}
