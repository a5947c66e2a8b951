/*
 * snp.c - AMD SEV-SNP ATTESTATION_REPORT (SEV-SNP firmware ABI, report
 * versions 2 to 5): every field parsed, the ECDSA P-384 signature checked
 * with the VCEK/VLEK, the key's chain to a pinned ARK, the key's TCB
 * extensions against REPORTED_TCB, the chip ID and the guest policy.
 */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

/* Offsets in the report (all little-endian). */
enum {
  OFF_VERSION = 0x00,
  OFF_GUEST_SVN = 0x04,
  OFF_POLICY = 0x08,
  OFF_FAMILY_ID = 0x10,
  OFF_IMAGE_ID = 0x20,
  OFF_VMPL = 0x30,
  OFF_SIG_ALGO = 0x34,
  OFF_CURRENT_TCB = 0x38,
  OFF_PLATFORM_INFO = 0x40,
  OFF_FLAGS = 0x48,
  OFF_REPORT_DATA = 0x50,
  OFF_MEASUREMENT = 0x90,
  OFF_HOST_DATA = 0xC0,
  OFF_ID_KEY_DIGEST = 0xE0,
  OFF_AUTHOR_KEY_DIGEST = 0x110,
  OFF_REPORT_ID = 0x140,
  OFF_REPORT_ID_MA = 0x160,
  OFF_REPORTED_TCB = 0x180,
  OFF_CPUID_FAM = 0x188, /* v3+ */
  OFF_CPUID_MOD = 0x189,
  OFF_CPUID_STEP = 0x18A,
  OFF_CHIP_ID = 0x1A0,
  OFF_COMMITTED_TCB = 0x1E0,
  OFF_CURRENT_VER = 0x1E8, /* build, minor, major, reserved */
  OFF_COMMITTED_VER = 0x1EC,
  OFF_LAUNCH_TCB = 0x1F0,
  OFF_LAUNCH_MIT = 0x1F8, /* v5 */
  OFF_CURRENT_MIT = 0x200,
  OFF_SIG_R = 0x2A0,
  OFF_SIG_S = 0x2E8,
  OFF_SIG_RESERVED = 0x330,
};

int ehal_snp_parse(const uint8_t *b, size_t len, ehal_snp_report *r, char *why, size_t n) {
  memset(r, 0, sizeof *r);
  if (len != EHAL_SNP_REPORT_SIZE) {
    snprintf(why, n, "SEV-SNP report of %zu bytes (a report is exactly %d)", len,
             EHAL_SNP_REPORT_SIZE);
    return -1;
  }
  r->version = ehal_get_u32(b + OFF_VERSION);
  if (r->version < 2 || r->version > 5) {
    snprintf(why, n, "unsupported SEV-SNP report version %u (2 to 5 are)", r->version);
    return -1;
  }
  r->signature_algo = ehal_get_u32(b + OFF_SIG_ALGO);
  if (r->signature_algo != 1) {
    snprintf(why, n, "unsupported signature algorithm %u (1, ECDSA P-384 with SHA-384, is)",
             r->signature_algo);
    return -1;
  }
  /* The signature's reserved tail is covered by nothing else: insist on
   * zeros so that no byte of the report can change unnoticed. */
  for (size_t i = OFF_SIG_RESERVED; i < EHAL_SNP_REPORT_SIZE; i++)
    if (b[i]) {
      snprintf(why, n, "non-zero byte at 0x%zx in the signature's reserved area", i);
      return -1;
    }
  r->guest_svn = ehal_get_u32(b + OFF_GUEST_SVN);
  r->policy = ehal_get_u64(b + OFF_POLICY);
  memcpy(r->family_id, b + OFF_FAMILY_ID, 16);
  memcpy(r->image_id, b + OFF_IMAGE_ID, 16);
  r->vmpl = ehal_get_u32(b + OFF_VMPL);
  r->current_tcb = ehal_get_u64(b + OFF_CURRENT_TCB);
  r->platform_info = ehal_get_u64(b + OFF_PLATFORM_INFO);
  r->flags = ehal_get_u32(b + OFF_FLAGS);
  memcpy(r->report_data, b + OFF_REPORT_DATA, 64);
  memcpy(r->measurement, b + OFF_MEASUREMENT, 48);
  memcpy(r->host_data, b + OFF_HOST_DATA, 32);
  memcpy(r->id_key_digest, b + OFF_ID_KEY_DIGEST, 48);
  memcpy(r->author_key_digest, b + OFF_AUTHOR_KEY_DIGEST, 48);
  memcpy(r->report_id, b + OFF_REPORT_ID, 32);
  memcpy(r->report_id_ma, b + OFF_REPORT_ID_MA, 32);
  r->reported_tcb = ehal_get_u64(b + OFF_REPORTED_TCB);
  if (r->version >= 3) {
    r->cpuid_fam_id = b[OFF_CPUID_FAM];
    r->cpuid_mod_id = b[OFF_CPUID_MOD];
    r->cpuid_step = b[OFF_CPUID_STEP];
  }
  memcpy(r->chip_id, b + OFF_CHIP_ID, 64);
  r->committed_tcb = ehal_get_u64(b + OFF_COMMITTED_TCB);
  r->current_build = b[OFF_CURRENT_VER];
  r->current_minor = b[OFF_CURRENT_VER + 1];
  r->current_major = b[OFF_CURRENT_VER + 2];
  r->committed_build = b[OFF_COMMITTED_VER];
  r->committed_minor = b[OFF_COMMITTED_VER + 1];
  r->committed_major = b[OFF_COMMITTED_VER + 2];
  r->launch_tcb = ehal_get_u64(b + OFF_LAUNCH_TCB);
  if (r->version >= 5) {
    r->launch_mit_vector = ehal_get_u64(b + OFF_LAUNCH_MIT);
    r->current_mit_vector = ehal_get_u64(b + OFF_CURRENT_MIT);
  }
  memcpy(r->sig_r, b + OFF_SIG_R, 72);
  memcpy(r->sig_s, b + OFF_SIG_S, 72);
  return 0;
}

void ehal_snp_tcb_split(uint64_t raw, bool turin, ehal_snp_tcb *t) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(raw >> (8 * i));
  memset(t, 0, sizeof *t);
  if (turin) { /* FMC, BOOT_LOADER, TEE, SNP, reserved x3, MICROCODE */
    t->fmc = b[0];
    t->bootloader = b[1];
    t->tee = b[2];
    t->snp = b[3];
  } else { /* BOOT_LOADER, TEE, reserved x4, SNP, MICROCODE */
    t->bootloader = b[0];
    t->tee = b[1];
    t->snp = b[6];
  }
  t->microcode = b[7];
}

int ehal_snp_check_policy(const ehal_snp_report *r, const ehal_verify_opts *o, char *why,
                          size_t n) {
  if ((r->policy & EHAL_SNP_POLICY_DEBUG) && !o->allow_debug) {
    snprintf(why, n,
             "the guest policy allows debugging (POLICY bit 19): the hypervisor can read and "
             "write its memory; a debug guest is refused without --allow-debug");
    return -1;
  }
  if (r->policy & EHAL_SNP_POLICY_MIGRATE_MA) {
    snprintf(why, n,
             "the guest policy allows a migration agent (POLICY bit 18), which could export "
             "the guest's memory");
    return -1;
  }
  if (o->max_vmpl >= 0 && r->vmpl > (uint32_t)o->max_vmpl) {
    snprintf(why, n, "VMPL %u is less privileged than the required VMPL %d", r->vmpl, o->max_vmpl);
    return -1;
  }
  snprintf(why, n, "debug %s, no migration agent, VMPL %u%s",
           (r->policy & EHAL_SNP_POLICY_DEBUG) ? "allowed by the guest (accepted: --allow-debug)"
                                               : "off",
           r->vmpl, o->max_vmpl >= 0 ? " (within the required VMPL)" : "");
  return 0;
}

static json_object *tcb_json(uint64_t raw, bool turin) {
  ehal_snp_tcb t;
  ehal_snp_tcb_split(raw, turin, &t);
  json_object *o = json_object_new_object();
  jadd_u64hex(o, "raw", raw);
  if (turin) jadd_int(o, "fmc", t.fmc);
  jadd_int(o, "bootloader", t.bootloader);
  jadd_int(o, "tee", t.tee);
  jadd_int(o, "snp", t.snp);
  jadd_int(o, "microcode", t.microcode);
  return o;
}

static json_object *report_json(const ehal_snp_report *r, bool turin) {
  json_object *o = json_object_new_object();
  jadd_int(o, "version", r->version);
  jadd_int(o, "guest_svn", r->guest_svn);
  json_object *p = json_object_new_object();
  jadd_u64hex(p, "raw", r->policy);
  jadd_int(p, "abi_minor", (int64_t)(r->policy & 0xff));
  jadd_int(p, "abi_major", (int64_t)(r->policy >> 8 & 0xff));
  static const char *const bits[] = {"smt",
                                     "reserved_17",
                                     "migrate_ma",
                                     "debug",
                                     "single_socket",
                                     "cxl_allow",
                                     "mem_aes_256_xts",
                                     "rapl_dis",
                                     "ciphertext_hiding",
                                     "page_swap_disable"};
  for (int i = 0; i < 10; i++) jadd_bool(p, bits[i], (r->policy >> (16 + i)) & 1);
  json_object_object_add(o, "policy", p);
  jadd_hex(o, "family_id", r->family_id, 16);
  jadd_hex(o, "image_id", r->image_id, 16);
  jadd_int(o, "vmpl", r->vmpl);
  jadd_int(o, "signature_algo", r->signature_algo);
  json_object_object_add(o, "current_tcb", tcb_json(r->current_tcb, turin));
  json_object *pi = json_object_new_object();
  jadd_u64hex(pi, "raw", r->platform_info);
  static const char *const pbits[] = {
      "smt_en", "tsme_en", "ecc_en", "rapl_dis", "ciphertext_hiding_en", "alias_check_complete"};
  for (int i = 0; i < 6; i++) jadd_bool(pi, pbits[i], (r->platform_info >> i) & 1);
  json_object_object_add(o, "platform_info", pi);
  json_object *f = json_object_new_object();
  jadd_bool(f, "author_key_en", r->flags & 1);
  jadd_bool(f, "mask_chip_key", r->flags >> 1 & 1);
  unsigned sk = r->flags >> 2 & 7;
  jadd_str(f, "signing_key", sk == 0 ? "vcek" : sk == 1 ? "vlek" : sk == 7 ? "none" : "reserved");
  json_object_object_add(o, "flags", f);
  jadd_hex(o, "report_data", r->report_data, 64);
  jadd_hex(o, "measurement", r->measurement, 48);
  jadd_hex(o, "host_data", r->host_data, 32);
  jadd_hex(o, "id_key_digest", r->id_key_digest, 48);
  jadd_hex(o, "author_key_digest", r->author_key_digest, 48);
  jadd_hex(o, "report_id", r->report_id, 32);
  jadd_hex(o, "report_id_ma", r->report_id_ma, 32);
  json_object_object_add(o, "reported_tcb", tcb_json(r->reported_tcb, turin));
  if (r->version >= 3) {
    jadd_int(o, "cpuid_fam_id", r->cpuid_fam_id);
    jadd_int(o, "cpuid_mod_id", r->cpuid_mod_id);
    jadd_int(o, "cpuid_step", r->cpuid_step);
  }
  jadd_hex(o, "chip_id", r->chip_id, 64);
  json_object_object_add(o, "committed_tcb", tcb_json(r->committed_tcb, turin));
  char v[32];
  snprintf(v, sizeof v, "%u.%u.%u", r->current_major, r->current_minor, r->current_build);
  jadd_str(o, "current_version", v);
  snprintf(v, sizeof v, "%u.%u.%u", r->committed_major, r->committed_minor, r->committed_build);
  jadd_str(o, "committed_version", v);
  json_object_object_add(o, "launch_tcb", tcb_json(r->launch_tcb, turin));
  if (r->version >= 5) {
    jadd_u64hex(o, "launch_mit_vector", r->launch_mit_vector);
    jadd_u64hex(o, "current_mit_vector", r->current_mit_vector);
  }
  jadd_hex(o, "signature_r", r->sig_r, 72);
  jadd_hex(o, "signature_s", r->sig_s, 72);
  return o;
}

/* The key certificate: --vcek (bytes or file) first, else the envelope's. */
static X509 *key_cert(vctx *c, const ehal_snp_report *r, const snp_inputs *in, char *src,
                      size_t srcn) {
  const ehal_verify_opts *o = c->opts;
  char why[300];
  if (o->vcek && o->vcek_len) {
    snprintf(src, srcn, "the given VCEK");
    X509 *x = ehal_x509_parse(o->vcek, o->vcek_len);
    if (!x) vfail(c, "key", "the given VCEK is not a DER or PEM certificate");
    return x;
  }
  if (o->vcek_path) {
    snprintf(src, srcn, "%s", o->vcek_path);
    size_t n;
    uint8_t *b = ehal_read_file(o->vcek_path, 1 << 20, &n, why, sizeof why);
    if (!b) {
      vfail(c, "key", "%s", why);
      return NULL;
    }
    X509 *x = ehal_x509_parse(b, n);
    free(b);
    if (!x) vfail(c, "key", "%s is not a DER or PEM certificate", o->vcek_path);
    return x;
  }
  unsigned sk = r->flags >> 2 & 7;
  const uint8_t *d = sk == 1 ? in->vlek : in->vcek;
  size_t dn = sk == 1 ? in->vlek_len : in->vcek_len;
  snprintf(src, srcn, "the envelope's %s", sk == 1 ? "VLEK" : "VCEK");
  if (!d) {
    vfail(c, "key", "no %s: pass --vcek FILE (from AMD KDS) or an envelope that carries it",
          sk == 1 ? "VLEK" : "VCEK");
    return NULL;
  }
  X509 *x = ehal_x509_parse(d, dn);
  if (!x) vfail(c, "key", "%s is not a DER certificate", src);
  return x;
}

static bool name_has(const X509_NAME *nm, const char *needle) {
  char buf[512];
  ehal_x509_name(nm, buf, sizeof buf);
  return strstr(buf, needle) != NULL;
}

static const struct {
  const char *name, *label;
  const char *pem;
} products[] = {{"milan", "Milan", ehal_root_amd_milan},
                {"genoa", "Genoa", ehal_root_amd_genoa},
                {"turin", "Turin", ehal_root_amd_turin}};

/* Chains key to a pinned ARK (or, simulated, to the envelope's own ARK);
 * sets the product.  Returns the product index (3: simulated) or -1. */
static int check_chain(vctx *c, X509 *key, const snp_inputs *in) {
  char why[400];
  X509 *tab_ask = in->ask ? ehal_x509_parse(in->ask, in->ask_len) : NULL;
  if (in->ask && !tab_ask) {
    vfail(c, "chain", "the envelope's ASK is not a DER certificate");
    return -1;
  }
  if (tab_ask) ehal_x509_describe(c, "ask_from_envelope", tab_ask);
  int found = -1;
  if (in->simulated) {
    X509 *ark = in->ark ? ehal_x509_parse(in->ark, in->ark_len) : NULL;
    STACK_OF(X509) *un = sk_X509_new_null();
    if (tab_ask) sk_X509_push(un, tab_ask);
    if (!ark) {
      vfail(c, "chain", "simulated evidence without its ARK in the certificate table");
    } else if (X509_check_issued(ark, ark) != X509_V_OK) {
      vfail(c, "chain", "the simulated ARK is not self-signed");
    } else if (!name_has(X509_get_subject_name(ark), "SIMULATED") ||
               !name_has(X509_get_subject_name(key), "SIMULATED") ||
               (tab_ask && !name_has(X509_get_subject_name(tab_ask), "SIMULATED"))) {
      vfail(c, "chain", "a certificate of simulated evidence does not say SIMULATED");
    } else if (ehal_x509_chain(key, un, ark, c->now, NULL, why, sizeof why) != 0) {
      vfail(c, "chain", "the key does not chain to the envelope's simulated ARK: %s", why);
    } else {
      vpass(c, "chain",
            "key -> ASK -> the envelope's own simulated ARK (trusted only because "
            "--allow-simulated was given)");
      found = 3;
    }
    if (ark) ehal_x509_describe(c, "ark_simulated", ark);
    sk_X509_free(un);
    X509_free(ark);
    X509_free(tab_ask);
    return found;
  }

  int want = -1;
  const char *p = c->opts->product;
  if (p && *p && strcmp(p, "auto") != 0) {
    for (int i = 0; i < 3; i++)
      if (!strcmp(p, products[i].name)) want = i;
    if (want < 0) {
      X509_free(tab_ask);
      vfail(c, "chain", "unknown product '%s' (milan, genoa, turin or auto)", p);
      return -1;
    }
  } else {
    for (int i = 0; i < 3; i++)
      if (name_has(X509_get_issuer_name(key), products[i].label)) want = i;
  }
  char last[400] = "";
  for (int i = 0; i < 3 && found < 0; i++) {
    if (want >= 0 && i != want) continue;
    const char *pem = c->opts->snp_chain_pem ? c->opts->snp_chain_pem : products[i].pem;
    STACK_OF(X509) *pinned = ehal_x509_pem_all(pem, strlen(pem));
    if (!pinned || sk_X509_num(pinned) != 2) {
      sk_X509_pop_free(pinned, X509_free);
      snprintf(last, sizeof last, "the pinned %s chain is not an ASK and an ARK",
               products[i].label);
      continue;
    }
    STACK_OF(X509) *un = sk_X509_new_null();
    sk_X509_push(un, sk_X509_value(pinned, 0));
    if (tab_ask) sk_X509_push(un, tab_ask); /* a VLEK's ASVK travels this way */
    X509 *ark = sk_X509_value(pinned, 1);
    if (ehal_x509_chain(key, un, ark, c->now, NULL, why, sizeof why) == 0) {
      found = i;
      ehal_x509_describe(c, "ask", sk_X509_value(pinned, 0));
      ehal_x509_describe(c, "ark", ark);
    } else {
      snprintf(last, sizeof last, "%s", why);
    }
    sk_X509_free(un);
    sk_X509_pop_free(pinned, X509_free);
  }
  X509_free(tab_ask);
  if (found >= 0) {
    vpass(c, "chain", "key -> ASK -> pinned AMD %s ARK, valid at the verification time",
          products[found].label);
  } else if (want >= 0) {
    vfail(c, "chain", "the key does not chain to the pinned AMD %s ARK: %s", products[want].label,
          last);
  } else {
    vfail(c, "chain", "the key chains to none of the pinned AMD ARKs (Milan, Genoa, Turin): %s",
          last);
  }
  return found;
}

#define AMD_OID "1.3.6.1.4.1.3704.1."

/* The key's TCB extensions must equal REPORTED_TCB. */
static void check_tcb(vctx *c, X509 *key, const ehal_snp_report *r, bool turin, bool simulated) {
  long bl = ehal_x509_ext_int(key, AMD_OID "3.1"), tee = ehal_x509_ext_int(key, AMD_OID "3.2"),
       snp = ehal_x509_ext_int(key, AMD_OID "3.3"), uc = ehal_x509_ext_int(key, AMD_OID "3.8"),
       fmc = turin ? ehal_x509_ext_int(key, AMD_OID "3.9") : 0;
  ehal_snp_tcb t;
  ehal_snp_tcb_split(r->reported_tcb, turin, &t);
  if (bl < 0 && tee < 0 && snp < 0 && uc < 0 && simulated) {
    vskip(c, "tcb", "the simulated key carries no TCB extensions");
    snprintf(c->res->tcb_status, sizeof c->res->tcb_status, "not-endorsed");
    return;
  }
  if (bl < 0 || tee < 0 || snp < 0 || uc < 0 || fmc < 0) {
    vfail(c, "tcb", "the key certificate lacks a TCB extension (%s)",
          bl < 0    ? "blSPL"
          : tee < 0 ? "teeSPL"
          : snp < 0 ? "snpSPL"
          : uc < 0  ? "ucodeSPL"
                    : "fmcSPL");
    snprintf(c->res->tcb_status, sizeof c->res->tcb_status, "mismatch");
    return;
  }
  char rep[112], cert[112];
  int k = turin ? snprintf(rep, sizeof rep, "fmc %u, ", t.fmc) : 0;
  snprintf(rep + k, sizeof rep - (size_t)k, "bootloader %u, tee %u, snp %u, microcode %u",
           t.bootloader, t.tee, t.snp, t.microcode);
  k = turin ? snprintf(cert, sizeof cert, "fmc %ld, ", fmc) : 0;
  snprintf(cert + k, sizeof cert - (size_t)k, "bootloader %ld, tee %ld, snp %ld, microcode %ld", bl,
           tee, snp, uc);
  if (bl != t.bootloader || tee != t.tee || snp != t.snp || uc != t.microcode ||
      (turin && fmc != t.fmc)) {
    vfail(c, "tcb", "REPORTED_TCB (%s) differs from the key certificate's TCB (%s)", rep, cert);
    snprintf(c->res->tcb_status, sizeof c->res->tcb_status, "mismatch");
    return;
  }
  vpass(c, "tcb", "REPORTED_TCB equals the key certificate's TCB (%s)", rep);
  snprintf(c->res->tcb_status, sizeof c->res->tcb_status, "match");
}

static void check_chip_id(vctx *c, X509 *key, const ehal_snp_report *r, bool simulated) {
  size_t n;
  const uint8_t *hw = ehal_x509_ext_data(key, AMD_OID "4", &n);
  if (r->flags & 2) {
    vskip(c, "chip-id", "MASK_CHIP_KEY is set: the report's CHIP_ID is zeroed");
    return;
  }
  if (!hw) {
    if (simulated || (r->flags >> 2 & 7) == 1)
      vskip(c, "chip-id", "the key certificate names no chip (hwID)");
    else
      vfail(c, "chip-id", "the VCEK has no hwID extension to compare CHIP_ID with");
    return;
  }
  if (n == 0 || n > 64 || memcmp(hw, r->chip_id, n) != 0) {
    vfail(c, "chip-id", "CHIP_ID differs from the key certificate's hwID");
    return;
  }
  vpass(c, "chip-id", "CHIP_ID equals the key certificate's hwID (%zu bytes)", n);
}

/* Version 3+ names the CPU: it must be of the product whose chain signed. */
static void check_cpuid(vctx *c, const ehal_snp_report *r, int product) {
  if (r->version < 3 || product > 2) return;
  unsigned fam = r->cpuid_fam_id;
  int expect = fam == 0x19 ? 0 : fam == 0x1A ? 2 : -1; /* 0x19: Milan or Genoa */
  if (expect < 0) {
    vskip(c, "cpuid", "CPUID family 0x%x is not one this verifier knows", fam);
  } else if ((expect == 2) != (product == 2)) {
    vfail(c, "cpuid", "the report's CPUID family 0x%x is not that of %s", fam,
          products[product].label);
  } else {
    vpass(c, "cpuid", "CPUID family 0x%x model 0x%x stepping %u fits %s", fam, r->cpuid_mod_id,
          r->cpuid_step, products[product].label);
  }
}

int ehal_verify_snp(vctx *c, const uint8_t *buf, size_t len, const snp_inputs *in) {
  const ehal_verify_opts *o = c->opts;
  ehal_verify_result *res = c->res;
  res->kind = in->simulated ? EHAL_EVIDENCE_SIMULATED : EHAL_EVIDENCE_SNP;
  ehal_snp_report r;
  char why[400];
  if (ehal_snp_parse(buf, len, &r, why, sizeof why) != 0) {
    vfail(c, "format", "%s", why);
    return -1;
  }
  res->version = (int)r.version;
  memcpy(res->report_data, r.report_data, 64);
  memcpy(res->measurement, r.measurement, 48);
  vpass(c, "format", "SEV-SNP report version %u, signature algorithm ECDSA P-384 SHA-384",
        r.version);
  if (o->collateral_dir) vfail(c, "options", "--collateral applies to TDX quotes only");

  /* the key, its signature over [0, 0x2A0), its chain */
  char src[300];
  X509 *key = key_cert(c, &r, in, src, sizeof src);
  int product = -1;
  if (key) {
    ehal_x509_describe(c, (r.flags >> 2 & 7) == 1 ? "vlek" : "vcek", key);
    EVP_PKEY *pk = X509_get0_pubkey(key);
    if ((r.flags >> 2 & 7) == 7) {
      vfail(c, "signature", "the report says it is unsigned (SIGNING_KEY none)");
    } else if (!pk || !EVP_PKEY_is_a(pk, "EC") || EVP_PKEY_get_bits(pk) != 384) {
      vfail(c, "signature", "%s does not hold an ECDSA P-384 key", src);
    } else if (!ehal_ecdsa_verify(pk, EVP_sha384(), buf, EHAL_SNP_SIGNED_SIZE, r.sig_r, r.sig_s, 72,
                                  true)) {
      vfail(c, "signature", "the report's signature does not verify with %s", src);
    } else {
      res->signature_ok = vpass(c, "signature", "ECDSA P-384 over bytes [0, 0x2a0) with %s", src);
    }
    product = check_chain(c, key, in);
    res->chain_ok = product >= 0;
    if (product >= 0)
      snprintf(res->product, sizeof res->product, "%s",
               product == 3 ? "simulated" : products[product].name);
    bool turin = product == 2 || (product < 0 && o->product && !strcmp(o->product, "turin"));
    check_tcb(c, key, &r, turin, in->simulated);
    check_chip_id(c, key, &r, in->simulated);
    X509_free(key);
  } else {
    vskip(c, "signature", "no key");
    vskip(c, "chain", "no key");
  }
  check_cpuid(c, &r, product);
  c->evidence = report_json(&r, product == 2);

  if (ehal_snp_check_policy(&r, o, why, sizeof why) == 0)
    vpass(c, "policy", "%s", why);
  else
    vfail(c, "policy", "%s", why);

  if (!res->envelope) {
    if (o->has_expect_module)
      vfail(c, "module", "--expect-module needs an envelope: a raw report names no module");
    if (o->expect_world)
      vfail(c, "world", "--expect-world needs an envelope: a raw report names no world");
    if (o->expect_workload)
      vfail(c, "workload", "--expect-workload needs an envelope: a raw report names no workload");
    if (o->has_expect_report_data) {
      uint8_t want[64] = {0};
      memcpy(want, o->expect_report_data, o->expect_report_data_len);
      if (memcmp(want, r.report_data, 64) == 0)
        vpass(c, "report-data", "REPORT_DATA equals the expected value");
      else
        vfail(c, "report-data", "REPORT_DATA differs from the expected value");
    }
  }
  return c->failed ? -1 : 0;
}
