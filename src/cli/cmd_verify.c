/*
 * cmd_verify.c - "elastic-hal verify": checks an evidence envelope, a raw
 * SEV-SNP report or a raw TDX quote (src/verify/).  Exit 0 only when every
 * check passes; 1 with one line "elastic-hal: verify: REASON" on stderr
 * otherwise (and, with --json, the whole result on stdout either way); 2 for
 * usage errors.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/fileio.h"
#include "../util/hex.h"
#include "../verify/verify.h"

#define VERIFY_MAX_INPUT (16u << 20)
/* a module is hashed, never parsed: as big as modules get */
#define VERIFY_MAX_MODULE (1u << 30)

static void usage(FILE *f) {
  fprintf(f,
          "Usage: elastic-hal verify [OPTIONS] FILE\n"
          "\n"
          "Verify FILE: an elastic-hal evidence envelope (JSON), a raw AMD SEV-SNP\n"
          "attestation report (1184 bytes), a raw Intel TDX quote (version 4 or 5), or\n"
          "an attested TLS certificate (PEM or DER: the envelope it carries, and that\n"
          "its report-data is the hash of the certificate's key; docs/sockets.md).\n"
          "FILE '-' reads standard input.  Exit status 0 only when every check passes;\n"
          "otherwise 1 and one line saying why (2 for usage errors).\n"
          "\n"
          "Options:\n"
          "  --product NAME           SEV-SNP product line: milan, genoa, turin or auto\n"
          "                           (default auto: from the VCEK's issuer)\n"
          "  --vcek FILE              the VCEK or VLEK certificate (DER or PEM); default:\n"
          "                           the envelope's certificate table\n"
          "  --now RFC3339            verify as of this time (default: now), e.g.\n"
          "                           2023-06-20T00:00:00Z\n"
          "  --allow-debug            accept a debug guest (SNP policy) or debug TD\n"
          "  --allow-simulated        accept simulated evidence, trusting the ARK it carries\n"
          "  --allow-trailing-data    accept non-zero bytes after a TDX quote's end (zero\n"
          "                           padding is always accepted)\n"
          "  --expect-report-data HEX raw evidence: the REPORT_DATA (zero-padded to 64\n"
          "                           bytes); envelope: the guest's report-data, checked\n"
          "                           through the binding\n"
          "  --expect-module FILE     envelope: the guest module (its SHA-384) it binds\n"
          "  --expect-world NAME      envelope: the world it binds, exactly: a composed\n"
          "                           world (elastic-tee-attestation) or an\n"
          "                           interfaces:... list (docs/evidence.md)\n"
          "  --expect-workload NAME   envelope: the workload name it binds, exactly\n"
          "  --collateral DIR         TDX: tcbinfo.json, qe-identity.json, pck-crl.der,\n"
          "                           root-crl.der [, tcb-signing-chain.pem]: CRLs and TCB\n"
          "                           status\n"
          "  --vmpl N                 SEV-SNP: require VMPL <= N (0 to 3; default: any)\n"
          "  --json                   print the full result as JSON on stdout\n"
          "  -h, --help               show this help\n");
}

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "elastic-hal: verify: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see 'elastic-hal verify --help')\n");
  return 2;
}

/* FILE, or standard input for "-", at most VERIFY_MAX_INPUT bytes. */
static uint8_t *read_all(const char *path, size_t *len, char *why, size_t n) {
  return strcmp(path, "-") ? ehal_read_file(path, VERIFY_MAX_INPUT, len, why, n)
                           : ehal_read_fd_named(STDIN_FILENO, path, VERIFY_MAX_INPUT, len, why, n);
}

/* An error before verification could start: one line, and JSON if asked. */
static int early_fail(bool json, const char *why) {
  if (json) {
    /* the same shape as a verification result */
    json_object *o = json_object_new_object(), *ck = json_object_new_object(),
                *list = json_object_new_array();
    json_object_object_add(o, "ok", json_object_new_boolean(0));
    json_object_object_add(o, "reason", json_object_new_string(why));
    json_object_object_add(o, "kind", json_object_new_string("unknown"));
    json_object_object_add(ck, "check", json_object_new_string("input"));
    json_object_object_add(ck, "status", json_object_new_string("fail"));
    json_object_object_add(ck, "detail", json_object_new_string(why));
    json_object_array_add(list, ck);
    json_object_object_add(o, "checks", list);
    puts(json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
  }
  fprintf(stderr, "elastic-hal: verify: %s\n", why);
  return 1;
}

int ehal_cmd_verify(int argc, char **argv) {
  enum {
    O_PRODUCT = 256,
    O_VCEK,
    O_NOW,
    O_DEBUG,
    O_SIM,
    O_TRAIL,
    O_ERD,
    O_EMOD,
    O_EWORLD,
    O_EWORKLOAD,
    O_COLL,
    O_VMPL,
    O_JSON
  };
  static const struct option lopts[] = {{"product", required_argument, 0, O_PRODUCT},
                                        {"vcek", required_argument, 0, O_VCEK},
                                        {"now", required_argument, 0, O_NOW},
                                        {"allow-debug", no_argument, 0, O_DEBUG},
                                        {"allow-simulated", no_argument, 0, O_SIM},
                                        {"allow-trailing-data", no_argument, 0, O_TRAIL},
                                        {"expect-report-data", required_argument, 0, O_ERD},
                                        {"expect-module", required_argument, 0, O_EMOD},
                                        {"expect-world", required_argument, 0, O_EWORLD},
                                        {"expect-workload", required_argument, 0, O_EWORKLOAD},
                                        {"collateral", required_argument, 0, O_COLL},
                                        {"vmpl", required_argument, 0, O_VMPL},
                                        {"json", no_argument, 0, O_JSON},
                                        {"help", no_argument, 0, 'h'},
                                        {0, 0, 0, 0}};
  ehal_verify_opts o;
  ehal_verify_opts_init(&o);
  bool json = false;
  const char *module_path = NULL;
  static uint8_t erd[1024];
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
    switch (ch) {
      case O_PRODUCT:
        if (strcmp(optarg, "milan") && strcmp(optarg, "genoa") && strcmp(optarg, "turin") &&
            strcmp(optarg, "auto"))
          return usage_error("unknown product '%s' (milan, genoa, turin or auto)", optarg);
        o.product = optarg;
        break;
      case O_VCEK: o.vcek_path = optarg; break;
      case O_NOW:
        if (ehal_parse_rfc3339(optarg, &o.now) != 0 || o.now <= 0)
          return usage_error("--now '%s' is not an RFC 3339 time such as 2023-06-20T00:00:00Z",
                             optarg);
        break;
      case O_DEBUG: o.allow_debug = true; break;
      case O_SIM: o.allow_simulated = true; break;
      case O_TRAIL: o.allow_trailing = true; break;
      case O_ERD: {
        long n = ehal_hex_decode(optarg, erd, sizeof erd);
        if (n < 0)
          return usage_error("--expect-report-data '%s' is not hex of at most 1024 bytes", optarg);
        o.expect_report_data = erd;
        o.expect_report_data_len = (size_t)n;
        o.has_expect_report_data = true;
        break;
      }
      case O_EMOD: module_path = optarg; break;
      case O_EWORLD: o.expect_world = optarg; break;
      case O_EWORKLOAD: o.expect_workload = optarg; break;
      case O_COLL: o.collateral_dir = optarg; break;
      case O_VMPL:
        if (strlen(optarg) != 1 || optarg[0] < '0' || optarg[0] > '3')
          return usage_error("--vmpl '%s' is not 0, 1, 2 or 3", optarg);
        o.max_vmpl = optarg[0] - '0';
        break;
      case O_JSON: json = true; break;
      case 'h': usage(stdout); return 0;
      case ':': return usage_error("option '%s' needs an argument", argv[optind - 1]);
      default: return usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind != argc - 1)
    return usage_error("%s", optind >= argc ? "which FILE? one evidence file is needed"
                                            : "only one FILE can be verified at a time");

  char why[600];
  if (module_path) {
    size_t n;
    uint8_t *m =
        strcmp(module_path, "-")
            ? ehal_read_file(module_path, VERIFY_MAX_MODULE, &n, why, sizeof why)
            : ehal_read_fd_named(STDIN_FILENO, "-", VERIFY_MAX_MODULE, &n, why, sizeof why);
    if (!m) return early_fail(json, why);
    unsigned int hl = 0;
    EVP_Digest(m, n, o.expect_module_sha384, &hl, EVP_sha384(), NULL);
    free(m);
    o.has_expect_module = true;
  }
  size_t len;
  uint8_t *buf = read_all(argv[optind], &len, why, sizeof why);
  if (!buf) return early_fail(json, why);
  /* the binding's world and workload exist only in an envelope (a JSON
   * object, as ehal_verify tells them apart) or in an attested TLS
   * certificate's (PEM or DER) */
  size_t at = 0;
  while (at < len && (buf[at] == ' ' || buf[at] == '\t' || buf[at] == '\n' || buf[at] == '\r'))
    at++;
  if ((o.expect_world || o.expect_workload) && at < len && buf[at] != '{' && buf[at] != '-' &&
      buf[at] != 0x30) {
    free(buf);
    return early_fail(json, o.expect_world ? "world: --expect-world needs an envelope: raw "
                                             "evidence names no world"
                                           : "workload: --expect-workload needs an envelope: "
                                             "raw evidence names no workload");
  }

  ehal_verify_result r;
  int rc = ehal_verify(buf, len, &o, &r);
  free(buf);
  if (json) {
    puts(ehal_verify_result_json(&r));
  } else if (rc == 0) {
    char mh[97];
    ehal_hex_encode(r.measurement, 48, mh);
    const char *kind = r.kind == EHAL_EVIDENCE_TDX         ? "TDX quote"
                       : r.kind == EHAL_EVIDENCE_SIMULATED ? "simulated SNP-format report"
                                                           : "SEV-SNP report";
    printf("verified: %s%s version %d%s%s%s, %s %s%s%s\n", r.envelope ? "envelope with " : "", kind,
           r.version, r.product[0] ? " (" : "", r.product, r.product[0] ? ")" : "",
           r.kind == EHAL_EVIDENCE_TDX ? "MRTD" : "measurement", mh,
           r.tcb_status[0] ? ", TCB " : "", r.tcb_status);
  }
  if (rc != 0) fprintf(stderr, "elastic-hal: verify: %s\n", r.reason);
  ehal_verify_result_free(&r);
  return rc == 0 ? 0 : 1;
}
