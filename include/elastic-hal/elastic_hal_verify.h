/*
 * elastic_hal_verify.h - the ELASTIC TEE HAL evidence verifier, for a
 * relying party: libelastic-hal-verify (pkg-config elastic-hal-verify), a
 * library of its own that needs only OpenSSL 3 and json-c, no WebAssembly
 * runtime and no SQLite.
 *
 * It checks an elastic-hal evidence envelope (docs/evidence.md), a raw AMD
 * SEV-SNP ATTESTATION_REPORT or a raw Intel TDX quote, trusting nothing but
 * the roots built into it (AMD ARK Milan/Genoa/Turin, Intel SGX Root CA).
 * What each check covers, and what it does not, is in docs/verify.md.
 *
 *   elastic_hal_verify_options *o = elastic_hal_verify_options_new();
 *   elastic_hal_verify_options_set_flags(o, ELASTIC_HAL_VERIFY_ALLOW_DEBUG);
 *   elastic_hal_verify_options_set_vcek_file(o, "vcek.der");
 *   elastic_hal_verify_result *r = NULL;
 *   if (elastic_hal_verify(buf, len, o, &r) == 0)
 *     ... trust the guest ...
 *   else
 *     fprintf(stderr, "refused: %s\n", elastic_hal_verify_result_reason(r));
 *   elastic_hal_verify_result_free(r);
 *   elastic_hal_verify_options_free(o);
 *
 * Ownership: what a *_new call or elastic_hal_verify returns belongs to the
 * caller and is released with the matching *_free (which accepts NULL).
 * Setters copy what they are given (strings, bytes): the caller's buffers
 * may go right after the call.  Strings and bytes a result returns belong
 * to the result and live until it is freed.
 *
 * Errors: setters return 0, or -1 for a bad argument (the options keep
 * their previous value).  elastic_hal_verify returns 0 only when every
 * check passed; anything else, out of memory included, is a refusal.
 *
 * Threads: no global state.  An options object may be shared by threads
 * that verify with it while none changes it; results are independent.
 */
#ifndef ELASTIC_HAL_VERIFY_H
#define ELASTIC_HAL_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ELASTIC_HAL_VERIFY_API __attribute__((visibility("default")))
#else
#define ELASTIC_HAL_VERIFY_API
#endif

/* The version this header belongs to; elastic_hal_verify_version() gives
 * the library's (same major version: compatible). */
#define ELASTIC_HAL_VERIFY_VERSION_MAJOR 0
#define ELASTIC_HAL_VERIFY_VERSION_MINOR 1
#define ELASTIC_HAL_VERIFY_VERSION_PATCH 0
#define ELASTIC_HAL_VERIFY_VERSION "0.1.0"
#define ELASTIC_HAL_VERIFY_VERSION_NUMBER                                              \
  (ELASTIC_HAL_VERIFY_VERSION_MAJOR * 10000 + ELASTIC_HAL_VERIFY_VERSION_MINOR * 100 + \
   ELASTIC_HAL_VERIFY_VERSION_PATCH)
/* "MAJOR.MINOR.PATCH" of the library linked at run time; *number, when not
 * NULL, gets it as ELASTIC_HAL_VERIFY_VERSION_NUMBER does. */
ELASTIC_HAL_VERIFY_API const char *elastic_hal_verify_version(int *number);

/* ---- options ---- */

typedef struct elastic_hal_verify_options elastic_hal_verify_options;

/* Defaults: debug guests, simulated evidence and trailing quote bytes
 * refused; any VMPL; product from the VCEK's issuer; judged at the current
 * time; nothing expected.  NULL when out of memory. */
ELASTIC_HAL_VERIFY_API elastic_hal_verify_options *elastic_hal_verify_options_new(void);
ELASTIC_HAL_VERIFY_API void elastic_hal_verify_options_free(elastic_hal_verify_options *opts);

/* Flags (set_flags replaces them all). */
#define ELASTIC_HAL_VERIFY_ALLOW_DEBUG 1u     /* a debug guest (SNP policy) or debug TD */
#define ELASTIC_HAL_VERIFY_ALLOW_SIMULATED 2u /* provider "simulated": proves no hardware */
#define ELASTIC_HAL_VERIFY_ALLOW_TRAILING 4u  /* non-zero bytes after a TDX quote's end */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_set_flags(elastic_hal_verify_options *opts,
                                                                unsigned flags);

/* The time (seconds since 1970, UTC) certificates, CRLs and collateral must
 * be valid at; 0 = the time of each verification. */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_set_now(elastic_hal_verify_options *opts,
                                                              int64_t unix_seconds);
/* Strict RFC 3339 ("2023-06-20T00:00:00Z"; offsets and fractions too) to
 * seconds since 1970.  0, or -1 when s is not one. */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_parse_time(const char *s, int64_t *unix_seconds);

/* SEV-SNP: the VCEK or VLEK certificate (DER or PEM), as bytes or as a file
 * read at verification; bytes win; NULL clears.  Without either, an
 * envelope's certificate table is used (a raw report then fails). */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_set_vcek(elastic_hal_verify_options *opts,
                                                               const uint8_t *cert, size_t len);
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_set_vcek_file(
    elastic_hal_verify_options *opts, const char *path);
/* SEV-SNP: "milan", "genoa", "turin", or "auto" / NULL (the VCEK's issuer). */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_set_product(elastic_hal_verify_options *opts,
                                                                  const char *product);
/* SEV-SNP: the highest VMPL accepted, 0 to 3; -1 accepts any. */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_set_max_vmpl(elastic_hal_verify_options *opts,
                                                                   int vmpl);
/* TDX: a directory with tcbinfo.json, qe-identity.json, pck-crl.der and
 * root-crl.der (and optionally tcb-signing-chain.pem): revocation and TCB
 * status.  NULL clears. */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_set_collateral_dir(
    elastic_hal_verify_options *opts, const char *dir);

/* What the evidence must bind.  Raw evidence: report_data is compared with
 * REPORT_DATA zero-padded on the right (at most 64 bytes).  Envelope: with
 * binding.report-data exactly (at most 1024 bytes).  NULL clears. */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_expect_report_data(
    elastic_hal_verify_options *opts, const uint8_t *report_data, size_t len);
/* The SHA-384 of the guest module the envelope binds (and, simulated, that
 * MEASUREMENT holds); NULL clears.  _expect_module takes the module itself
 * (the .wasm bytes) and hashes it. */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_expect_module_sha384(
    elastic_hal_verify_options *opts, const uint8_t sha384[48]);
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_expect_module(
    elastic_hal_verify_options *opts, const uint8_t *wasm, size_t len);
/* The exact binding.world (a composed world's name or an "interfaces:..."
 * list, docs/evidence.md) and binding.workload; NULL clears.  Raw evidence
 * names neither, so setting either refuses it. */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_expect_world(elastic_hal_verify_options *opts,
                                                                   const char *world);
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_options_expect_workload(
    elastic_hal_verify_options *opts, const char *workload);

/* ---- verification ---- */

typedef struct elastic_hal_verify_result elastic_hal_verify_result;

typedef enum {
  ELASTIC_HAL_VERIFY_KIND_UNKNOWN = 0,
  ELASTIC_HAL_VERIFY_KIND_SEV_SNP = 1,   /* chained to a pinned AMD ARK */
  ELASTIC_HAL_VERIFY_KIND_TDX = 2,       /* chained to the pinned Intel root */
  ELASTIC_HAL_VERIFY_KIND_SIMULATED = 3, /* SNP-format, from the simulated platform */
} elastic_hal_verify_kind;

/* Verifies evidence[0..len): an envelope (JSON), a raw SEV-SNP report or a
 * raw TDX quote, with opts (NULL: the defaults).  Returns 0 when every
 * check passed, else -1.  When result is not NULL, *result gets the result
 * either way (NULL only when out of memory), to be freed by the caller. */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify(const uint8_t *evidence, size_t len,
                                              const elastic_hal_verify_options *opts,
                                              elastic_hal_verify_result **result);

/* 1 when every check passed, else 0 (also for NULL). */
ELASTIC_HAL_VERIFY_API int elastic_hal_verify_result_ok(const elastic_hal_verify_result *r);
/* One line: "verified", or "CHECK: REASON" of the first check that failed
 * (reasons name the elastic-hal verify options, e.g. --allow-debug). */
ELASTIC_HAL_VERIFY_API const char *elastic_hal_verify_result_reason(
    const elastic_hal_verify_result *r);
/* The whole result as JSON: verdict, every check (pass, fail or skipped,
 * with a detail), every parsed field, the certificates (docs/verify.md). */
ELASTIC_HAL_VERIFY_API const char *elastic_hal_verify_result_json(
    const elastic_hal_verify_result *r);
ELASTIC_HAL_VERIFY_API elastic_hal_verify_kind
elastic_hal_verify_result_kind(const elastic_hal_verify_result *r);
/* The 64-byte REPORT_DATA and the 48-byte MEASUREMENT (SNP) or MRTD (TDX)
 * of the evidence (zero when it did not parse); meaningful only when the
 * result is ok. */
ELASTIC_HAL_VERIFY_API const uint8_t *elastic_hal_verify_result_report_data(
    const elastic_hal_verify_result *r);
ELASTIC_HAL_VERIFY_API const uint8_t *elastic_hal_verify_result_measurement(
    const elastic_hal_verify_result *r);
ELASTIC_HAL_VERIFY_API void elastic_hal_verify_result_free(elastic_hal_verify_result *r);

#ifdef __cplusplus
}
#endif

#endif
