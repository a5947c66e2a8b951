/*
 * simulated.c - the simulated platform's evidence (docs/evidence.md, "The
 * simulated platform"): a report in the SEV-SNP ATTESTATION_REPORT layout,
 * version 2, signed like a real one (ECDSA P-384 with SHA-384 over bytes
 * [0, 0x2A0), R and S little-endian, zero-padded to 72 bytes, at 0x2A0 and
 * 0x2E8) by a locally generated chain ARK -> ASK -> VCEK, carried in the
 * SNP certificate table format.
 *
 * It proves the binding and the wiring, never the hardware: every subject
 * says SIMULATED, and a verifier accepts it only when told to, trusting
 * only the ARK inside the envelope.
 *
 * The chain lives in STATE_DIR/attestation/simulated/ (directories 0700,
 * private keys 0600, PEM PKCS#8; certificates DER; chip-id, 64 random bytes
 * that stand for the chip's identity).  It is generated on first use in a
 * private temporary directory and renamed into place, so concurrent first
 * users (threads or processes) all end up with the one chain that won.
 *
 * All three keys are ECDSA P-384 and every certificate is signed with
 * ECDSA-SHA384.  Real AMD ARK and ASK keys are RSA-4096 and sign with
 * RSASSA-PSS (SHA-384); only the VCEK is P-384.  A verifier must therefore
 * not assume RSA-PSS for a simulated chain.  The VCEK carries AMD's
 * extensions (1.3.6.1.4.1.3704.1.x: struct version, product name
 * "SIMULATED", the SPL values of REPORTED_TCB and hwID = CHIP_ID) encoded
 * as in AMD's certificates, so TCB checks work the same way.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util/byteorder.h"
#include "../util/fileio.h"
#include "../util/fsutil.h"
#include "attest.h"

/* The simulated platform's TCB (CURRENT, REPORTED, COMMITTED and LAUNCH):
 * boot loader, TEE, SNP firmware and microcode security patch levels. */
#define SIM_TCB_BL 3
#define SIM_TCB_TEE 0
#define SIM_TCB_SNP 20
#define SIM_TCB_UCODE 209
/* Firmware version 1.55.21 (CURRENT_* and COMMITTED_*). */
#define SIM_FW_MAJOR 1
#define SIM_FW_MINOR 55
#define SIM_FW_BUILD 21

#define POLICY_SMT (1ull << 16)          /* SMT allowed */
#define POLICY_RESERVED_ONE (1ull << 17) /* must be one */
#define PLATFORM_INFO_SMT_EN 1ull

#define VALIDITY_DAYS 3653 /* ten years */

static const char *const k_org = "elastic-hal simulated platform";

/* ---- small file helpers (and src/util/fileio.h) ---- */

/* Reads a file of the chain: ours, no link, not writable by group or
 * others, and with forbidden 077 private too (keys).  NULL with err set
 * when it failed a check or cannot be opened, with err untouched when it
 * is missing, too big or short (the chain is damaged). */
static uint8_t *read_whole(const char *path, size_t max, size_t *len, mode_t forbidden, char *err,
                           size_t errlen) {
  char why[1024];
  int fd = ehal_secure_open(path, O_RDONLY, 0, why, sizeof why);
  if (fd < 0) {
    if (errno != ENOENT) snprintf(err, errlen, "%s", why);
    return NULL;
  }
  if (ehal_secure_fd(fd, path, forbidden, err, errlen) != 0) {
    close(fd);
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
    close(fd);
    return NULL;
  }
  uint8_t *b = ehal_read_fd(fd, max, len);
  close(fd);
  return b;
}

static void remove_tree_flat(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    char p[4400];
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* ---- certificates ---- */

static EVP_PKEY *new_p384(void) { return EVP_EC_gen("P-384"); }

static X509_NAME *sim_name(const char *cn) {
  X509_NAME *n = X509_NAME_new();
  if (!n ||
      !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
      !X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const unsigned char *)"SIMULATED", -1,
                                  -1, 0) ||
      !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)k_org, -1, -1, 0)) {
    X509_NAME_free(n);
    return NULL;
  }
  return n;
}

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  bool ok = e && X509_add_ext(x, e, -1) == 1;
  X509_EXTENSION_free(e);
  return ok;
}

/* An AMD-style extension: OID, and extnValue holding der (len bytes). */
static bool add_raw_ext(X509 *x, const char *oid, const uint8_t *der, int len) {
  ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
  bool ok = obj && v && ASN1_OCTET_STRING_set(v, der, len) == 1;
  X509_EXTENSION *e = ok ? X509_EXTENSION_create_by_OBJ(NULL, obj, 0, v) : NULL;
  ok = e && X509_add_ext(x, e, -1) == 1;
  X509_EXTENSION_free(e);
  ASN1_OCTET_STRING_free(v);
  ASN1_OBJECT_free(obj);
  return ok;
}

static bool add_int_ext(X509 *x, const char *oid, unsigned v) {
  uint8_t der[3] = {0x02, 0x01, (uint8_t)v}; /* INTEGER, values 0..127 */
  if (v > 127) {
    uint8_t der2[4] = {0x02, 0x02, 0x00, (uint8_t)v}; /* 128..255 need a leading zero */
    return add_raw_ext(x, oid, der2, 4);
  }
  return add_raw_ext(x, oid, der, 3);
}

/* Builds and signs one certificate.  issuer/issuer_key NULL: self-signed. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       int kind /* 0 ARK, 1 ASK, 2 VCEK */, const uint8_t chip_id[64]) {
  X509 *x = X509_new();
  X509_NAME *name = sim_name(cn);
  ASN1_INTEGER *serial = ASN1_INTEGER_new();
  BIGNUM *bn = BN_new();
  bool ok = x && name && serial && bn && X509_set_version(x, 2) == 1 &&
            BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 &&
            BN_to_ASN1_INTEGER(bn, serial) && X509_set_serialNumber(x, serial) == 1 &&
            X509_set_subject_name(x, name) == 1 &&
            X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
            X509_time_adj_ex(X509_getm_notAfter(x), VALIDITY_DAYS, 0, NULL) &&
            X509_set_pubkey(x, key) == 1;
  X509 *iss = issuer ? issuer : x;
  if (ok && kind < 2) {
    ok = add_ext(x, iss, NID_basic_constraints,
                 kind == 0 ? "critical,CA:TRUE" : "critical,CA:TRUE,pathlen:0") &&
         add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else if (ok) {
    ok = add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, iss, NID_key_usage, "critical,digitalSignature");
  }
  ok = ok && add_ext(x, iss, NID_subject_key_identifier, "hash");
  if (ok && issuer) ok = add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
  if (ok && kind == 2) {
    static const uint8_t product[] = {0x16, 9, 'S', 'I', 'M', 'U', 'L', 'A', 'T', 'E', 'D'};
    ok = add_int_ext(x, "1.3.6.1.4.1.3704.1.1", 0) && /* structVersion */
         add_raw_ext(x, "1.3.6.1.4.1.3704.1.2", product, sizeof product) &&
         add_int_ext(x, "1.3.6.1.4.1.3704.1.3.1", SIM_TCB_BL) &&
         add_int_ext(x, "1.3.6.1.4.1.3704.1.3.2", SIM_TCB_TEE) &&
         add_int_ext(x, "1.3.6.1.4.1.3704.1.3.4", 0) &&
         add_int_ext(x, "1.3.6.1.4.1.3704.1.3.5", 0) &&
         add_int_ext(x, "1.3.6.1.4.1.3704.1.3.6", 0) &&
         add_int_ext(x, "1.3.6.1.4.1.3704.1.3.7", 0) &&
         add_int_ext(x, "1.3.6.1.4.1.3704.1.3.3", SIM_TCB_SNP) &&
         add_int_ext(x, "1.3.6.1.4.1.3704.1.3.8", SIM_TCB_UCODE) &&
         add_raw_ext(x, "1.3.6.1.4.1.3704.1.4", chip_id, 64); /* hwID, raw like AMD's */
  }
  ok = ok && X509_sign(x, issuer_key ? issuer_key : key, EVP_sha384()) > 0;
  BN_free(bn);
  ASN1_INTEGER_free(serial);
  X509_NAME_free(name);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

static int write_key(const char *dir, const char *name, EVP_PKEY *k) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  BIO *b = BIO_new(BIO_s_mem());
  char *p = NULL;
  long n = 0;
  int rc = -1;
  if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 &&
      (n = BIO_get_mem_data(b, &p)) > 0)
    rc = ehal_write_new_file(path, p, (size_t)n, 0600);
  if (p && n > 0) OPENSSL_cleanse(p, (size_t)n);
  BIO_free(b);
  return rc;
}

static int write_cert(const char *dir, const char *name, X509 *x) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  unsigned char *der = NULL;
  int n = i2d_X509(x, &der);
  int rc = n > 0 ? ehal_write_new_file(path, der, (size_t)n, 0644) : -1;
  OPENSSL_free(der);
  return rc;
}

/* Generates a complete chain into dir (an empty private directory). */
static int generate_chain(const char *dir) {
  uint8_t chip_id[64];
  if (RAND_bytes(chip_id, sizeof chip_id) != 1) return -1;
  EVP_PKEY *ark_k = new_p384(), *ask_k = new_p384(), *vcek_k = new_p384();
  X509 *ark = NULL, *ask = NULL, *vcek = NULL;
  int rc = -1;
  if (!ark_k || !ask_k || !vcek_k) goto out;
  ark = make_cert("SIMULATED-ARK", ark_k, NULL, NULL, 0, NULL);
  ask = ark ? make_cert("SIMULATED-ASK", ask_k, ark, ark_k, 1, NULL) : NULL;
  vcek = ask ? make_cert("SIMULATED-VCEK", vcek_k, ask, ask_k, 2, chip_id) : NULL;
  if (!vcek) goto out;
  char p[4400];
  snprintf(p, sizeof p, "%s/chip-id", dir);
  if (write_key(dir, "ark.key", ark_k) || write_key(dir, "ask.key", ask_k) ||
      write_key(dir, "vcek.key", vcek_k) || write_cert(dir, "ark.der", ark) ||
      write_cert(dir, "ask.der", ask) || write_cert(dir, "vcek.der", vcek) ||
      ehal_write_new_file(p, chip_id, sizeof chip_id, 0644))
    goto out;
  rc = 0;
out:
  X509_free(ark);
  X509_free(ask);
  X509_free(vcek);
  EVP_PKEY_free(ark_k);
  EVP_PKEY_free(ask_k);
  EVP_PKEY_free(vcek_k);
  return rc;
}

typedef struct {
  EVP_PKEY *vcek_key;
  uint8_t *der[3]; /* VCEK, ASK, ARK */
  size_t der_len[3];
  uint8_t chip_id[64];
} sim_chain;

static void chain_free(sim_chain *c) {
  EVP_PKEY_free(c->vcek_key);
  for (int i = 0; i < 3; i++) free(c->der[i]);
  memset(c, 0, sizeof *c);
}

static int load_chain(const char *dir, sim_chain *c, char *err, size_t errlen) {
  static const char *const names[3] = {"vcek.der", "ask.der", "ark.der"};
  char p[4400];
  memset(c, 0, sizeof *c);
  err[0] = 0;
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    c->der[i] = read_whole(p, 65536, &c->der_len[i], 022, err, errlen);
    if (!c->der[i]) goto damaged;
  }
  size_t n = 0;
  snprintf(p, sizeof p, "%s/chip-id", dir);
  uint8_t *chip = read_whole(p, 64, &n, 022, err, errlen);
  if (!chip || n != 64) {
    free(chip);
    goto damaged;
  }
  memcpy(c->chip_id, chip, 64);
  free(chip);
  snprintf(p, sizeof p, "%s/vcek.key", dir);
  uint8_t *pem = read_whole(p, 65536, &n, 077, err, errlen);
  if (!pem) goto damaged;
  BIO *b = BIO_new_mem_buf(pem, (int)n);
  c->vcek_key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  OPENSSL_cleanse(pem, n);
  free(pem);
  const unsigned char *q = c->der[0];
  X509 *vcek = d2i_X509(NULL, &q, (long)c->der_len[0]);
  bool match = vcek && c->vcek_key && X509_check_private_key(vcek, c->vcek_key) == 1;
  X509_free(vcek);
  if (!match) goto damaged;
  return 0;
damaged:
  chain_free(c);
  if (err[0]) return -1; /* refused by a check: err says what and how to fix it */
  snprintf(err, errlen,
           "the simulated attestation chain in %s is damaged (remove the directory to generate "
           "a new one)",
           dir);
  return -1;
}

/* The chain of state_dir, generated on first use. */
static int get_chain(const char *state_dir, sim_chain *c, char *err, size_t errlen) {
  if (!state_dir || !*state_dir) {
    snprintf(err, errlen,
             "the simulated platform keeps its attestation keys in the state "
             "directory, and none was given");
    return -1;
  }
  char base[4096], dir[4200], tmp[4300];
  if (snprintf(base, sizeof base, "%s/attestation", state_dir) >= (int)sizeof base) {
    snprintf(err, errlen, "state directory path too long");
    return -1;
  }
  snprintf(dir, sizeof dir, "%s/simulated", base);
  /* the state directory and everything below it: ours alone (fsutil.h) */
  if (ehal_secure_subdir(state_dir, "attestation", true, err, errlen) != 0) return -1;
  struct stat st;
  if (lstat(base, &st) == 0 && (st.st_mode & 077)) chmod(base, 0700); /* say 0755: tighten */
  int have = ehal_secure_subdir(state_dir, "attestation/simulated", false, err, errlen);
  if (have < 0) return -1;
  if (have == 0) return load_chain(dir, c, err, errlen);
  snprintf(tmp, sizeof tmp, "%s/.simulated-XXXXXX", base);
  if (!mkdtemp(tmp)) { /* mode 0700 */
    snprintf(err, errlen, "cannot create a directory in %s: %s", base, strerror(errno));
    return -1;
  }
  if (generate_chain(tmp) != 0) {
    remove_tree_flat(tmp);
    snprintf(err, errlen, "cannot generate the simulated attestation chain in %s", base);
    return -1;
  }
  /* Atomic publication: rename fails if another creator got there first,
   * and then everyone uses the winner's chain. */
  if (rename(tmp, dir) != 0) {
    int e = errno;
    remove_tree_flat(tmp);
    if (e != EEXIST && e != ENOTEMPTY) {
      snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
      return -1;
    }
  }
  if (ehal_secure_subdir(state_dir, "attestation/simulated", false, err, errlen) != 0) return -1;
  return load_chain(dir, c, err, errlen);
}

/* ---- the report ---- */

static uint64_t sim_tcb(void) {
  /* TCB_VERSION: byte 0 boot loader, 1 TEE, 2..5 reserved, 6 SNP, 7 microcode */
  return (uint64_t)SIM_TCB_BL | (uint64_t)SIM_TCB_TEE << 8 | (uint64_t)SIM_TCB_SNP << 48 |
         (uint64_t)SIM_TCB_UCODE << 56;
}

/* REPORT_ID identifies a guest launch: one random value per process. */
static uint8_t g_report_id[32];
static pthread_once_t g_report_id_once = PTHREAD_ONCE_INIT;
static void init_report_id(void) {
  if (RAND_bytes(g_report_id, sizeof g_report_id) != 1)
    (void)!getrandom(g_report_id, sizeof g_report_id, 0);
}

static int sign_report(uint8_t *r, EVP_PKEY *key) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char sig[256];
  size_t siglen = sizeof sig;
  int rc = -1;
  if (md && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
      EVP_DigestSign(md, sig, &siglen, r, EHAL_SNP_SIGNED_LEN) == 1) {
    const unsigned char *q = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)siglen);
    if (es) {
      /* R at 0x2A0, S at 0x2E8: little-endian, zero-padded to 72 bytes */
      if (BN_bn2lebinpad(ECDSA_SIG_get0_r(es), r + 0x2A0, 72) == 72 &&
          BN_bn2lebinpad(ECDSA_SIG_get0_s(es), r + 0x2E8, 72) == 72)
        rc = 0;
      ECDSA_SIG_free(es);
    }
  }
  EVP_MD_CTX_free(md);
  return rc;
}

/* The SNP certificate table: GUID entries (VCEK, ASK, ARK), an all-zero
 * terminator, then the DER certificates; offsets from the table start. */
static const uint8_t k_guid_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                        0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t k_guid_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                       0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t k_guid_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                       0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

/* GUIDs are written in the byte order of their text form (as the kernel's
 * guid_t and AMD's tools do). */
static uint8_t *cert_table(const sim_chain *c, size_t *len) {
  const uint8_t *guids[3] = {k_guid_vcek, k_guid_ask, k_guid_ark};
  size_t hdr = 4 * 24, total = hdr;
  for (int i = 0; i < 3; i++) total += c->der_len[i];
  uint8_t *t = calloc(1, total);
  if (!t) return NULL;
  size_t off = hdr;
  for (int i = 0; i < 3; i++) {
    memcpy(t + i * 24, guids[i], 16);
    ehal_put_u32(t + i * 24 + 16, (uint32_t)off);
    ehal_put_u32(t + i * 24 + 20, (uint32_t)c->der_len[i]);
    memcpy(t + off, c->der[i], c->der_len[i]);
    off += c->der_len[i];
  }
  *len = total;
  return t;
}

int ehal_sim_report(const uint8_t binding[EHAL_BINDING_LEN],
                    const uint8_t measurement[EHAL_MODULE_SHA384_LEN], const char *state_dir,
                    ehal_evidence *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  sim_chain c;
  if (get_chain(state_dir, &c, err, errlen) != 0) return -1;
  pthread_once(&g_report_id_once, init_report_id);
  uint8_t *r = calloc(1, EHAL_SNP_REPORT_LEN);
  if (!r) {
    chain_free(&c);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  ehal_put_u32(r + 0x00, 2);                                /* VERSION */
  ehal_put_u32(r + 0x04, 0);                                /* GUEST_SVN */
  ehal_put_u64(r + 0x08, POLICY_RESERVED_ONE | POLICY_SMT); /* POLICY: debug off, no MA */
  /* 0x10 FAMILY_ID, 0x20 IMAGE_ID: zero */
  ehal_put_u32(r + 0x30, 0);                    /* VMPL */
  ehal_put_u32(r + 0x34, 1);                    /* SIGNATURE_ALGO: ECDSA P-384 */
  ehal_put_u64(r + 0x38, sim_tcb());            /* CURRENT_TCB */
  ehal_put_u64(r + 0x40, PLATFORM_INFO_SMT_EN); /* PLATFORM_INFO */
  ehal_put_u32(r + 0x48, 0); /* AUTHOR_KEY_EN 0, MASK_CHIP_KEY 0, SIGNING_KEY 0 (VCEK) */
  memcpy(r + 0x50, binding, EHAL_BINDING_LEN);           /* REPORT_DATA */
  memcpy(r + 0x90, measurement, EHAL_MODULE_SHA384_LEN); /* MEASUREMENT */
  /* 0xC0 HOST_DATA, 0xE0 ID_KEY_DIGEST, 0x110 AUTHOR_KEY_DIGEST: zero */
  memcpy(r + 0x140, g_report_id, 32); /* REPORT_ID */
  memset(r + 0x160, 0xff, 32);        /* REPORT_ID_MA: no agent */
  ehal_put_u64(r + 0x180, sim_tcb()); /* REPORTED_TCB */
  memcpy(r + 0x1A0, c.chip_id, 64);   /* CHIP_ID */
  ehal_put_u64(r + 0x1E0, sim_tcb()); /* COMMITTED_TCB */
  r[0x1E8] = SIM_FW_BUILD;            /* CURRENT_BUILD */
  r[0x1E9] = SIM_FW_MINOR;            /* CURRENT_MINOR */
  r[0x1EA] = SIM_FW_MAJOR;            /* CURRENT_MAJOR */
  r[0x1EC] = SIM_FW_BUILD;            /* COMMITTED_BUILD */
  r[0x1ED] = SIM_FW_MINOR;            /* COMMITTED_MINOR */
  r[0x1EE] = SIM_FW_MAJOR;            /* COMMITTED_MAJOR */
  ehal_put_u64(r + 0x1F0, sim_tcb()); /* LAUNCH_TCB */
  if (sign_report(r, c.vcek_key) != 0) {
    free(r);
    chain_free(&c);
    snprintf(err, errlen, "cannot sign the simulated report");
    return -1;
  }
  out->certs = cert_table(&c, &out->certs_len);
  chain_free(&c);
  if (!out->certs) {
    free(r);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  out->evidence = r;
  out->evidence_len = EHAL_SNP_REPORT_LEN;
  out->provider = "simulated";
  out->format = "sev-snp-report";
  out->source = "simulated";
  return 0;
}
