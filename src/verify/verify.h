/*
 * verify.h - the evidence verifier: checks an elastic-hal evidence envelope
 * (docs/evidence.md), a raw AMD SEV-SNP ATTESTATION_REPORT or a raw Intel TDX
 * quote on behalf of a relying party that trusts nothing but the pinned roots
 * built into this library (AMD ARK Milan/Genoa/Turin, Intel SGX Root CA).
 *
 *   ehal_verify_opts o;
 *   ehal_verify_opts_init(&o);
 *   o.vcek_path = "vcek.der";
 *   ehal_verify_result r;
 *   if (ehal_verify(buf, len, &o, &r) == 0) ... else puts(r.reason);
 *   ehal_verify_result_free(&r);
 *
 * Every check is recorded (pass, fail or skipped, with a detail) in the
 * result's JSON; the first failure gives the one-line reason.
 */
#ifndef EHAL_VERIFY_H
#define EHAL_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../util/hex.h"

struct json_object;

typedef enum {
  EHAL_EVIDENCE_UNKNOWN = 0,
  EHAL_EVIDENCE_SNP,       /* AMD SEV-SNP report, chained to a pinned AMD ARK */
  EHAL_EVIDENCE_TDX,       /* Intel TDX quote, chained to the pinned Intel root */
  EHAL_EVIDENCE_SIMULATED, /* SNP-format report from the simulated platform */
} ehal_evidence_kind;

typedef struct {
  /* "milan", "genoa", "turin", or NULL / "auto": the product of the VCEK's
   * issuer (then each pinned chain in turn). */
  const char *product;
  /* The VCEK or VLEK, DER or PEM: a file, or bytes (bytes win).  Without
   * either, an envelope's certificate table is used. */
  const char *vcek_path;
  const uint8_t *vcek;
  size_t vcek_len;
  /* The time certificates, CRLs and collateral must be valid at; 0 = now. */
  time_t now;
  bool allow_debug;     /* accept a debug guest / debug TD */
  bool allow_simulated; /* accept provider "simulated" (trusting its own ARK) */
  bool allow_trailing;  /* accept non-zero bytes after a TDX quote's end */
  /* Raw evidence: compared with REPORT_DATA, zero-padded on the right (at
   * most 64 bytes).  Envelope: compared with binding.report-data exactly
   * (at most 1024 bytes), whose binding is recomputed in any case. */
  const uint8_t *expect_report_data;
  size_t expect_report_data_len;
  bool has_expect_report_data;
  /* SHA-384 of the guest module expected in the binding (and, for the
   * simulated platform, in MEASUREMENT). */
  uint8_t expect_module_sha384[48];
  bool has_expect_module;
  /* The exact binding.world (a composed world's name or an "interfaces:..."
   * list, docs/evidence.md) and binding.workload expected; NULL checks
   * nothing.  Raw evidence names neither, so either one set fails it. */
  const char *expect_world;
  const char *expect_workload;
  /* SEV-SNP: the highest VMPL accepted; -1 accepts any. */
  int max_vmpl;
  /* TDX: directory with tcbinfo.json, qe-identity.json, pck-crl.der and
   * root-crl.der (and optionally tcb-signing-chain.pem, the PEM issuer chain
   * of those JSON documents; else the built-in Intel SGX TCB Signing cert). */
  const char *collateral_dir;
  /* Replace the pinned anchors (tests, private PKIs): PEM text of an ASK
   * followed by its ARK (used for every product), and of an Intel root. */
  const char *snp_chain_pem;
  const char *intel_root_pem;
} ehal_verify_opts;

typedef struct {
  bool ok;
  char reason[512]; /* first failure, one line; "verified" when ok */
  ehal_evidence_kind kind;
  bool envelope;       /* the input was an envelope (not raw evidence) */
  char product[16];    /* SNP: milan / genoa / turin / simulated */
  int version;         /* report or quote version */
  bool signature_ok;   /* report / quote signature */
  bool chain_ok;       /* key certificate chain to the trusted root */
  char tcb_status[48]; /* SNP: "match"/"mismatch"; TDX with collateral: Intel's status */
  uint8_t report_data[64];
  uint8_t measurement[48]; /* SNP MEASUREMENT, TDX MRTD */
  /* Everything parsed and every check, for --json. Owned by the result. */
  struct json_object *json;
} ehal_verify_result;

void ehal_verify_opts_init(ehal_verify_opts *opts);

/* Verifies buf (envelope, raw SNP report or raw TDX quote).  Returns 0 when
 * every check passed, else -1 with res->reason set.  res is always filled
 * and must be released with ehal_verify_result_free. */
int ehal_verify(const uint8_t *buf, size_t len, const ehal_verify_opts *opts,
                ehal_verify_result *res);
void ehal_verify_result_free(ehal_verify_result *res);
/* The result as a JSON document (valid until the result is freed). */
const char *ehal_verify_result_json(const ehal_verify_result *res);

/* Strict RFC 3339 date-time ("2023-06-20T00:00:00Z", offsets and fractions
 * accepted).  Returns 0, or -1 when s is not one. */
int ehal_parse_rfc3339(const char *s, time_t *out);
/* Hex of expected values (ehal_hex_decode: either case, even length):
 * src/util/hex.h. */

/* ---- lower-level pieces, exposed for tests ---- */

/* Every field of an ATTESTATION_REPORT (SEV-SNP ABI, versions 2 to 5). */
typedef struct {
  uint32_t version, guest_svn;
  uint64_t policy;
  uint8_t family_id[16], image_id[16];
  uint32_t vmpl, signature_algo;
  uint64_t current_tcb, platform_info;
  uint32_t flags; /* AUTHOR_KEY_EN bit 0, MASK_CHIP_KEY bit 1, SIGNING_KEY bits 4:2 */
  uint8_t report_data[64], measurement[48], host_data[32];
  uint8_t id_key_digest[48], author_key_digest[48];
  uint8_t report_id[32], report_id_ma[32];
  uint64_t reported_tcb;
  uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* version 3 and later */
  uint8_t chip_id[64];
  uint64_t committed_tcb;
  uint8_t current_build, current_minor, current_major;
  uint8_t committed_build, committed_minor, committed_major;
  uint64_t launch_tcb;
  uint64_t launch_mit_vector, current_mit_vector; /* version 5 */
  uint8_t sig_r[72], sig_s[72];                   /* little-endian */
} ehal_snp_report;

#define EHAL_SNP_REPORT_SIZE 0x4A0
#define EHAL_SNP_SIGNED_SIZE 0x2A0
#define EHAL_SNP_POLICY_MIGRATE_MA (1ull << 18)
#define EHAL_SNP_POLICY_DEBUG (1ull << 19)

/* Parses a 1184-byte report (versions 2 to 5, signature algorithm 1, the
 * signature's reserved bytes zero).  Returns 0 or -1 with a reason. */
int ehal_snp_parse(const uint8_t *buf, size_t len, ehal_snp_report *rep, char *why, size_t n);
/* The guest-policy checks on a parsed report: debug (unless allowed), the
 * migration agent, VMPL.  Returns 0 or -1 with a reason. */
int ehal_snp_check_policy(const ehal_snp_report *rep, const ehal_verify_opts *opts, char *why,
                          size_t n);

/* One SNP TCB_VERSION, split by product layout (Turin differs). */
typedef struct {
  uint8_t fmc, bootloader, tee, snp, microcode; /* fmc: Turin only */
} ehal_snp_tcb;
void ehal_snp_tcb_split(uint64_t raw, bool turin, ehal_snp_tcb *out);

/* The 64-byte binding of docs/evidence.md: SHA-512 over the prefix
 * "ELASTIC-HAL-BINDING-V1" (with its NUL), then report-data, the module's
 * SHA-384, world and workload, each as a u32 big-endian length and its
 * bytes.  The one implementation: the attester (src/attest/binding.c) uses
 * it too.  Returns 0, or -1 (out zeroed) when SHA-512 failed. */
int ehal_binding_compute(const uint8_t *report_data, size_t report_data_len,
                         const uint8_t module_sha384[48], const char *world, const char *workload,
                         uint8_t out[64]);

/* TDX TCB level matching (tcbinfo.json "tcbLevels", in Intel's order): the
 * index of the first level the platform meets (every SGX component and
 * PCESVN of the PCK, every TEE_TCB_SVN byte, from byte 2 when
 * skip_module_svn), or -1 when none. */
int ehal_tdx_match_tcb_level(struct json_object *tcb_levels, const uint8_t sgx_svn[16],
                             unsigned pcesvn, const uint8_t tee_tcb_svn[16], bool skip_module_svn);

#endif
