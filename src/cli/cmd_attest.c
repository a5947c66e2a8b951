/*
 * cmd_attest.c - `elastic-hal attest`: evidence with the CLI itself as the
 * workload (module identity: SHA-384 of /proc/self/exe; workload
 * "elastic-hal"), in the envelope of docs/evidence.md that
 * platform.attestation returns to guests.
 *
 * Exit status: 0 with the envelope written; 1 when no evidence could be had
 * (or written); 2 for usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../attest/attest.h"
#include "../runtime/linker.h"
#include "../util/fileio.h"
#include "../util/hex.h"
#include "elastic-hal/elastic_hal.h"

#define ATTEST_WORKLOAD "elastic-hal"
#define ATTEST_DEFAULT_WORLD "elastic-tee-attestation"

static void usage_attest(FILE *f, const char *prog) {
  fprintf(f,
          "Usage: %s attest [--report-data HEX] [-o FILE] [--state-dir DIR] [--world NAME]\n"
          "\n"
          "Obtain attestation evidence from this platform with elastic-hal itself as the\n"
          "workload, and write the evidence envelope (JSON, docs/evidence.md) to FILE or\n"
          "standard output.  The hardware's 64-byte report data is the binding of the\n"
          "report data, the SHA-384 of this executable, the world and the workload\n"
          "name \"" ATTEST_WORKLOAD
          "\": the world is bound exactly as for a guest linked with that world\n"
          "alone (its name; docs/evidence.md).\n"
          "\n"
          "Options:\n"
          "  -r, --report-data HEX  report data to bind, 0 to %d bytes in hex (default none)\n"
          "  -o, --output FILE      write the envelope to FILE instead of standard output\n"
          "  -s, --state-dir DIR    state directory (default $XDG_STATE_HOME/elastic-hal,\n"
          "                         else ~/.local/state/elastic-hal); the simulated platform\n"
          "                         keeps its signing chain in DIR/attestation/\n"
          "  -w, --world NAME       world named in the binding (default " ATTEST_DEFAULT_WORLD
          ")\n"
          "  -h, --help             show this help\n"
          "\n"
          "Exit status: 0 on success; 1 if no evidence could be obtained or written;\n"
          "2 for usage errors.\n",
          prog, EHAL_REPORT_DATA_MAX);
}

/* SHA-384 of a file (this executable). */
static int file_sha384(const char *path, uint8_t out[EHAL_MODULE_SHA384_LEN]) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  int ok = c && EVP_DigestInit_ex(c, EVP_sha384(), NULL) == 1;
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = 0;
    if (n <= 0) break;
    ok = ok && EVP_DigestUpdate(c, buf, (size_t)n) == 1;
  }
  unsigned int len = 0;
  ok = ok && EVP_DigestFinal_ex(c, out, &len) == 1 && len == EHAL_MODULE_SHA384_LEN;
  EVP_MD_CTX_free(c);
  close(fd);
  return ok ? 0 : -1;
}

int ehal_cmd_attest(int argc, char **argv) {
  const char *prog = "elastic-hal";
  static const struct option opts[] = {{"report-data", required_argument, 0, 'r'},
                                       {"output", required_argument, 0, 'o'},
                                       {"state-dir", required_argument, 0, 's'},
                                       {"world", required_argument, 0, 'w'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *hex = "", *output = NULL, *state = NULL, *world = ATTEST_DEFAULT_WORLD;
  int c;
  optind = 0;
  while ((c = getopt_long(argc, argv, "r:o:s:w:h", opts, NULL)) != -1) {
    switch (c) {
      case 'r': hex = optarg; break;
      case 'o': output = optarg; break;
      case 's': state = optarg; break;
      case 'w': world = optarg; break;
      case 'h': usage_attest(stdout, prog); return 0;
      default: usage_attest(stderr, prog); return 2;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "%s: attest: unexpected argument '%s'\n", prog, argv[optind]);
    usage_attest(stderr, prog);
    return 2;
  }
  size_t hl = strlen(hex);
  if (hl % 2) {
    fprintf(stderr, "%s: attest: --report-data needs an even number of hex digits\n", prog);
    return 2;
  }
  if (hl / 2 > EHAL_REPORT_DATA_MAX) {
    fprintf(stderr, "%s: attest: --report-data is %zu bytes; at most %d are allowed\n", prog,
            hl / 2, EHAL_REPORT_DATA_MAX);
    return 2;
  }
  uint8_t rd[EHAL_REPORT_DATA_MAX];
  if (ehal_hex_decode(hex, rd, sizeof rd) < 0) {
    fprintf(stderr, "%s: attest: --report-data is not hex\n", prog);
    return 2;
  }
  if (output && !*output) {
    fprintf(stderr, "%s: attest: --output needs a file name\n", prog);
    return 2;
  }
  /* the world must be one a guest can be linked with; what is bound is the
   * identity of a linker holding exactly it, as for a guest (hal.c) */
  elastic_hal_linker *l = elastic_hal_linker_new();
  int known = l && elastic_hal_world_add_to_linker_by_name(l, world) == 0;
  char *bound = known ? strdup(ehal_linker_identity(l)) : NULL;
  elastic_hal_linker_free(l);
  if (!known) {
    fprintf(stderr, "%s: attest: unknown world '%s' (see '%s --help')\n", prog, world, prog);
    return 2;
  }
  if (!bound) {
    fprintf(stderr, "%s: attest: out of memory\n", prog);
    return 1;
  }

  uint8_t sha[EHAL_MODULE_SHA384_LEN];
  if (file_sha384("/proc/self/exe", sha) != 0) {
    fprintf(stderr, "%s: attest: cannot hash /proc/self/exe: %s\n", prog, strerror(errno));
    free(bound);
    return 1;
  }
  char *state_dir = state ? strdup(state) : elastic_hal_default_state_dir();
  if (!state_dir) {
    fprintf(stderr, "%s: attest: out of memory\n", prog);
    free(bound);
    return 1;
  }
  char err[1024], *json = NULL;
  size_t len = 0;
  int rc =
      ehal_attest(rd, hl / 2, sha, bound, ATTEST_WORKLOAD, state_dir, &json, &len, err, sizeof err);
  free(state_dir);
  free(bound);
  if (rc != 0) {
    fprintf(stderr, "%s: attest: %s\n", prog, err);
    return 1;
  }
  int status = 0;
  if (output) {
    int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ehal_write_all(fd, json, len) != 0 || ehal_write_all(fd, "\n", 1) != 0) {
      fprintf(stderr, "%s: attest: cannot write %s: %s\n", prog, output, strerror(errno));
      status = 1;
    }
    if (fd >= 0 && close(fd) != 0 && !status) {
      fprintf(stderr, "%s: attest: cannot write %s: %s\n", prog, output, strerror(errno));
      status = 1;
    }
  } else {
    fflush(stdout);
    if (ehal_write_all(1, json, len) != 0 || ehal_write_all(1, "\n", 1) != 0) {
      fprintf(stderr, "%s: attest: cannot write the envelope: %s\n", prog, strerror(errno));
      status = 1;
    }
  }
  free(json);
  return status;
}
