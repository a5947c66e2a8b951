/*
 * attest.h - attestation evidence: providers, the binding, the envelope.
 * Internal to the HAL (platform.c, the CLI and the tests use it); the
 * contract with verifiers is docs/evidence.md.
 *
 * Providers, chosen once per configuration (ehal_attest_probe):
 *
 *   configfs-tsm  (Linux 6.7+) /sys/kernel/config/tsm/report: SEV-SNP
 *                 ("sev_guest": report + certificate table) and TDX
 *                 ("tdx_guest": quote).  Preferred whenever it has a known
 *                 provider.
 *   sev-guest     /dev/sev-guest ioctls (SNP_GET_EXT_REPORT, falling back to
 *                 SNP_GET_REPORT only when the host has no certificates).
 *   (TDX)         /dev/tdx_guest alone yields only a local TDREPORT, which no
 *                 remote party can verify: attestation is unsupported there.
 *   simulated     no TEE present (or chosen explicitly): an SNP-format report
 *                 signed by a local ARK -> ASK -> VCEK chain kept in
 *                 STATE_DIR/attestation/, every certificate marked SIMULATED.
 *
 * A TEE that is present but fails is an error, never a fallback to the
 * simulated provider.
 */
#ifndef EHAL_ATTEST_H
#define EHAL_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../verify/cmw.h" /* EHAL_RATLS_REPORT_DATA_PREFIX */

#define EHAL_REPORT_DATA_MAX 1024 /* bytes of guest report-data */
#define EHAL_BINDING_LEN 64       /* SNP REPORT_DATA / TDX REPORTDATA */
#define EHAL_MODULE_SHA384_LEN 48
#define EHAL_SNP_REPORT_LEN 0x4A0 /* 1184: ATTESTATION_REPORT */
#define EHAL_SNP_SIGNED_LEN 0x2A0 /* the signature covers [0, 0x2A0) */

#define EHAL_TSM_REPORT_ROOT "/sys/kernel/config/tsm/report"
#define EHAL_SEV_GUEST_DEVICE "/dev/sev-guest"
#define EHAL_TDX_GUEST_DEVICE "/dev/tdx_guest"

/* ---- the binding (docs/evidence.md) ---- */

/* SHA-512("ELASTIC-HAL-BINDING-V1\0" || u32be(len) || report_data || u32be(48)
 * || module_sha384 || u32be(len) || world || u32be(len) || workload).
 * Returns 0, or -1 with a message (report_data longer than 1024 bytes). */
int ehal_attest_binding(const uint8_t *report_data, size_t report_data_len,
                        const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *world,
                        const char *workload, uint8_t out[EHAL_BINDING_LEN], char *err,
                        size_t errlen);

/* Report-data that starts with this is the HAL's own: the evidence in an
 * attested TLS certificate (src/net/ratls.h) has report-data = this prefix
 * || SHA-256(the certificate's SubjectPublicKeyInfo).  ehal_attest_binding
 * (every path a guest or the CLI can reach) refuses it, so evidence a
 * workload asks for can never be passed off as a certificate's. */
bool ehal_attest_reserved(const uint8_t *report_data, size_t len);
/* The binding without that refusal: for ehal_attest_tls_key only. */
int ehal_attest_binding_any(const uint8_t *report_data, size_t report_data_len,
                            const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *world,
                            const char *workload, uint8_t out[EHAL_BINDING_LEN], char *err,
                            size_t errlen);

/* 96 lowercase hex characters -> 48 bytes; -1 if malformed. */
int ehal_attest_sha384_from_hex(const char *hex, uint8_t out[EHAL_MODULE_SHA384_LEN]);

/* ---- evidence ---- */

typedef enum {
  EHAL_SOURCE_NONE = 0,  /* attestation unsupported (TDX without configfs-tsm) */
  EHAL_SOURCE_TSM_SNP,   /* configfs-tsm, provider sev_guest */
  EHAL_SOURCE_TSM_TDX,   /* configfs-tsm, provider tdx_guest */
  EHAL_SOURCE_SEV_GUEST, /* /dev/sev-guest ioctls */
  EHAL_SOURCE_SIMULATED, /* no TEE, or chosen explicitly */
} ehal_attest_source;

typedef struct {
  const char *platform;      /* "sev-snp", "tdx" or "simulated" (static) */
  ehal_attest_source source; /* how evidence is obtained */
  char why[256];             /* for EHAL_SOURCE_NONE: why it is unsupported */
} ehal_attest_platform;

/* The platform and the evidence source for the configured paths (probed
 * once and cached until the configuration changes). */
void ehal_attest_probe(ehal_attest_platform *out);

/* Whether this platform can produce evidence (for get-platform-info and
 * capabilities): false only on TDX without configfs-tsm. */
bool ehal_attestation_available(void);

typedef struct {
  const char *provider; /* "sev-snp", "tdx" or "simulated" (static) */
  const char *format;   /* "sev-snp-report" or "tdx-quote" (static) */
  const char *source;   /* "configfs-tsm", "sev-guest" or "simulated" (static) */
  uint8_t *evidence;    /* the raw report or quote, unchanged (malloc) */
  size_t evidence_len;
  uint8_t *certs; /* SNP certificate table, or NULL (malloc) */
  size_t certs_len;
} ehal_evidence;

void ehal_evidence_free(ehal_evidence *ev);

/* Evidence for a 64-byte binding.  module_sha384 is used by the simulated
 * provider only (as MEASUREMENT; a TEE measures the launch itself), and so
 * is state_dir (where the simulated chain lives; may be NULL otherwise).
 * Returns 0, or -1 with a message in err. */
int ehal_attest_evidence(const uint8_t binding[EHAL_BINDING_LEN],
                         const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *state_dir,
                         ehal_evidence *out, char *err, size_t errlen);

/* ---- the envelope (docs/evidence.md) ---- */

/* The JSON envelope for evidence and its binding inputs, NUL-terminated
 * (malloc; *len excludes the NUL).  Returns 0 or -1 with a message. */
int ehal_attest_envelope_json(const ehal_evidence *ev, const uint8_t *report_data,
                              size_t report_data_len,
                              const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN],
                              const char *world, const char *workload, char **json, size_t *len,
                              char *err, size_t errlen);

/* Binding, evidence and envelope in one: what platform.attestation and
 * `elastic-hal attest` return. */
int ehal_attest(const uint8_t *report_data, size_t report_data_len,
                const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *world,
                const char *workload, const char *state_dir, char **json, size_t *len, char *err,
                size_t errlen);

/* Evidence for a TLS key of the HAL's own (attested TLS): report-data =
 * EHAL_RATLS_REPORT_DATA_PREFIX || spki_sha256; otherwise as ehal_attest. */
int ehal_attest_tls_key(const uint8_t spki_sha256[32],
                        const uint8_t module_sha384[EHAL_MODULE_SHA384_LEN], const char *world,
                        const char *workload, const char *state_dir, char **json, size_t *len,
                        char *err, size_t errlen);

/* ---- configuration (tests, development) ---- */

/* Where the kernel interfaces are; NULL keeps the default.  The strings are
 * copied.  Resets the cached probe (and the platform type). */
void ehal_attest_set_paths(const char *tsm_root, const char *sev_device, const char *tdx_device);
/* Use the simulated provider even where a TEE is present (development). */
void ehal_attest_force_simulated(bool on);

/* ---- internals, exposed for the tests ---- */

/* configfs-tsm.  Real configfs does work inside syscalls: mkdir creates an
 * entry's attribute files, closing inblob commits it, reading outblob runs
 * the TSM, rmdir removes the attributes.  A test's model of the kernel,
 * working on a plain directory tree, runs at exactly those points through
 * this hook (NULL in production): the return value is 0 or the errno that
 * syscall fails with (after MKDIR the entry is removed again). */
typedef enum {
  EHAL_TSM_MKDIR,         /* after mkdir(entry) */
  EHAL_TSM_INBLOB_COMMIT, /* at close(inblob) after the write */
  EHAL_TSM_READ,          /* before reading attribute attr */
  EHAL_TSM_RMDIR,         /* before rmdir(entry) */
} ehal_tsm_event;
typedef int (*ehal_tsm_kernel_fn)(ehal_tsm_event ev, const char *entry, const char *attr,
                                  void *user);
void ehal_attest_set_tsm_kernel(ehal_tsm_kernel_fn fn, void *user);

/* Bounds of the configfs-tsm request loop. */
#define EHAL_TSM_MAX_ATTEMPTS 3 /* requests when generation shows interference */
#define EHAL_TSM_MAX_BUSY 6     /* EBUSY/EAGAIN back-offs per step */
#define EHAL_TSM_MAX_BLOB (1u << 20)

/* One configfs-tsm request: refuses an inblob that is not exactly 64 bytes
 * (before touching the tree).  expect_provider: "sev_guest", "tdx_guest" or
 * NULL (either).  Returns 0 or -1 with a message. */
int ehal_tsm_request(const char *root, const uint8_t *inblob, size_t inblob_len,
                     const char *expect_provider, ehal_evidence *out, char *err, size_t errlen);

/* The provider of a configfs-tsm tree ("sev_guest", ...), probed by creating
 * and removing an entry.  Returns 0, or -errno / -EPROTO when unreadable. */
int ehal_tsm_probe_provider(const char *root, char *provider, size_t len);

/* SEV-SNP guest messages (/dev/sev-guest). */
/* MSG_REPORT_RSP: status u32, report_size u32, 24 reserved bytes, report at
 * 0x20.  On success points *report into resp.  Returns 0 or -1. */
int ehal_snp_parse_report_resp(const uint8_t *resp, size_t resp_len, const uint8_t **report,
                               size_t *report_len, char *err, size_t errlen);
/* Size of a GUID certificate table (entries up to the all-zero one, and the
 * certificates they point at): 0 when it has no entry; -1 when malformed
 * (unterminated, or an entry pointing outside len). */
long ehal_snp_cert_table_size(const uint8_t *table, size_t len);
/* What to do after SNP_GET_EXT_REPORT returned rc (errno err, exitinfo2,
 * and the certs_len the kernel wrote back into the request). */
typedef enum {
  EHAL_SNP_EXT_OK,             /* success */
  EHAL_SNP_EXT_RETRY_BIGGER,   /* certs buffer too small: *need bytes */
  EHAL_SNP_EXT_FALLBACK_PLAIN, /* the host has no certificates: SNP_GET_REPORT */
  EHAL_SNP_EXT_FAIL,           /* anything else: give up, no retry */
} ehal_snp_ext_outcome;
ehal_snp_ext_outcome ehal_snp_ext_classify(int rc, int err, uint64_t exitinfo2,
                                           uint32_t certs_len_given, uint32_t certs_len_returned,
                                           uint32_t *need);
#define EHAL_SNP_CERTS_MAX 0x4000 /* the kernel's SEV_FW_BLOB_MAX_SIZE */
/* The report (and certificate table) through /dev/sev-guest. */
int ehal_sev_guest_report(const char *device, const uint8_t binding[EHAL_BINDING_LEN],
                          ehal_evidence *out, char *err, size_t errlen);

/* The simulated provider. */
int ehal_sim_report(const uint8_t binding[EHAL_BINDING_LEN],
                    const uint8_t measurement[EHAL_MODULE_SHA384_LEN], const char *state_dir,
                    ehal_evidence *out, char *err, size_t errlen);

#endif
