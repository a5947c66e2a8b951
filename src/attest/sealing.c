/* sealing.c - the platform sealing root (see sealing.h). */
#define _GNU_SOURCE
#include "sealing.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/fileio.h"
#include "../util/fsutil.h"
#include "attest.h"

static const char *g_sev_device = "/dev/sev-guest";

void ehal_sealing_set_sev_device(const char *path) { g_sev_device = path; }

/* MSG_KEY_REQ: a key derived from the VCEK, the launch measurement and the
 * guest policy, so other code or a weaker policy gets a different key. */
static int snp_root(uint8_t root[EHAL_SEALING_ROOT_LEN], char *err, size_t errlen) {
  int fd = open(g_sev_device, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", g_sev_device, strerror(errno));
    return -1;
  }
  struct snp_derived_key_req req;
  struct snp_derived_key_resp resp;
  memset(&req, 0, sizeof req);
  memset(&resp, 0, sizeof resp);
  req.root_key_select = 0;            /* VCEK */
  req.guest_field_select = 0x1 | 0x8; /* guest policy | measurement */
  req.vmpl = 0;
  struct snp_guest_request_ioctl io;
  memset(&io, 0, sizeof io);
  io.msg_version = 1;
  io.req_data = (uint64_t)(uintptr_t)&req;
  io.resp_data = (uint64_t)(uintptr_t)&resp;
  /* One attempt only: the kernel may disable the message key after a
   * failed guest request, so retrying blindly could lose it for good. */
  int rc = ioctl(fd, SNP_GET_DERIVED_KEY, &io);
  int saved = errno;
  close(fd);
  if (rc != 0) {
    snprintf(err, errlen, "SNP_GET_DERIVED_KEY failed: %s (firmware error 0x%llx)", strerror(saved),
             (unsigned long long)io.exitinfo2);
    return -1;
  }
  uint32_t status;
  memcpy(&status, resp.data, 4);
  if (status != 0) {
    snprintf(err, errlen, "MSG_KEY_REQ refused by the firmware (status %u)", status);
    return -1;
  }
  memcpy(root, resp.data + 32, EHAL_SEALING_ROOT_LEN);
  OPENSSL_cleanse(&resp, sizeof resp);
  return 0;
}

/* The simulated root: created once with O_EXCL, so concurrent first users
 * agree on one key; read back on every later use.  The state directory,
 * STATE_DIR/sealing and root.key must be ours alone (fsutil.h): a root
 * planted by another user would let them read everything sealed with it. */
static int simulated_root(const char *state_dir, uint8_t root[EHAL_SEALING_ROOT_LEN], char *err,
                          size_t errlen) {
  if (!state_dir) {
    snprintf(err, errlen,
             "the simulated platform keeps its sealing root in the state directory, "
             "and none was given");
    return -1;
  }
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s/sealing", state_dir);
  snprintf(path, sizeof path, "%s/root.key", dir);
  if (ehal_secure_subdir(state_dir, "sealing", true, err, errlen) != 0) return -1;
  for (int attempt = 0; attempt < 50; attempt++) {
    int fd = ehal_secure_open(path, O_RDONLY, 0, err, errlen);
    if (fd >= 0) {
      if (ehal_secure_fd(fd, path, 077, err, errlen) != 0) {
        close(fd);
        return -1;
      }
      ssize_t n = read(fd, root, EHAL_SEALING_ROOT_LEN);
      close(fd);
      if (n == EHAL_SEALING_ROOT_LEN) return 0;
      usleep(10000); /* being written by a concurrent creator */
      continue;
    }
    if (errno != ENOENT) return -1; /* a link, not ours, unreadable...: err says */
    /* a fresh key, published with link(): if another process won the race
     * its key stays and the next round reads it; the name is fsync'd before
     * anything is sealed with it, or a power cut could lose every sealed
     * object and stored container (fileio.h) */
    uint8_t key[EHAL_SEALING_ROOT_LEN];
    if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key) {
      snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
      return -1;
    }
    int rc =
        ehal_write_file_atomic(path, key, sizeof key, 0600, EHAL_ATOMIC_NO_REPLACE, err, errlen);
    OPENSSL_cleanse(key, sizeof key);
    if (rc < 0) return -1;
  }
  snprintf(err, errlen, "cannot read the sealing root %s", path);
  return -1;
}

/* The platform (attest.h), as elastic_hal_platform_type() reports it:
 * asked of attest itself, so attest needs nothing of src/interfaces/. */
static const char *platform(void) {
  ehal_attest_platform p;
  ehal_attest_probe(&p);
  return p.platform;
}

int ehal_sealing_root(const char *state_dir, uint8_t root[EHAL_SEALING_ROOT_LEN], char *err,
                      size_t errlen) {
  const char *p = platform();
  if (strcmp(p, "sev-snp") == 0) return snp_root(root, err, errlen);
  if (strcmp(p, "simulated") == 0) return simulated_root(state_dir, root, err, errlen);
  if (strcmp(p, "tdx") == 0)
    snprintf(err, errlen,
             "sealing is unsupported on TDX without a key provider, and none is "
             "configured");
  else
    snprintf(err, errlen, "sealing is unsupported: the platform could not be identified (%s)", p);
  return -1;
}

int ehal_sealing_supported(void) {
  const char *p = platform();
  return strcmp(p, "sev-snp") == 0 || strcmp(p, "simulated") == 0;
}

int ehal_derive_key(const uint8_t root[EHAL_SEALING_ROOT_LEN], const char *label,
                    const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len) {
  size_t ll = strlen(label);
  uint8_t info[1024];
  if (ll + 1 + context_len > sizeof info) return -1;
  memcpy(info, label, ll);
  info[ll] = 0;
  if (context_len) memcpy(info + ll + 1, context, context_len);
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  EVP_KDF_free(kdf);
  if (!ctx) return -1;
  static const char salt[] = "elastic-hal/v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)root, EHAL_SEALING_ROOT_LEN),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, sizeof salt - 1),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, ll + 1 + context_len),
      OSSL_PARAM_construct_end()};
  int ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
  EVP_KDF_CTX_free(ctx);
  OPENSSL_cleanse(info, sizeof info);
  return ok ? 0 : -1;
}
