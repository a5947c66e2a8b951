/*
 * sev_guest.c - SEV-SNP evidence through /dev/sev-guest (linux/sev-guest.h),
 * for kernels without configfs-tsm.
 *
 * SNP_GET_EXT_REPORT asks for the report and the host's certificate table
 * (VCEK/VLEK, ASK, ARK) in one guest message.  Every guest message is
 * encrypted with the VM's VMPCK and a sequence number; after most failures
 * the kernel wipes the VMPCK (it cannot safely reuse the sequence number),
 * so a failed request is never repeated blindly here: each ioctl is tried
 * once.  The two exceptions are the ones the kernel makes safe on purpose:
 *   - the certificate buffer was too small: the kernel re-issued the message
 *     as a plain request (consuming the sequence number), returns EIO with
 *     the VMM error INVALID_LEN and writes the size it needs into certs_len;
 *     one more extended request with that size follows;
 *   - the same answer with a needed size of 0: the host has no certificates
 *     to give, so the report alone is asked for once with SNP_GET_REPORT.
 * A host without certificates normally answers the extended request with an
 * all-zero table: that is success, without a `certificates` member.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../util/byteorder.h"
#include "attest.h"

#define VMM_ERR_INVALID_LEN 1u   /* SNP_GUEST_VMM_ERR_INVALID_LEN */
#define CERTS_FIRST (2u * 4096u) /* VCEK + ASK + ARK fit in two pages */

static const char *fw_status_name(uint32_t s) {
  switch (s) {
    case 0x16: return "INVALID_PARAM";
    case 0x27: return "INVALID_KEY";
    default: return "firmware error";
  }
}

int ehal_snp_parse_report_resp(const uint8_t *resp, size_t resp_len, const uint8_t **report,
                               size_t *report_len, char *err, size_t errlen) {
  if (!resp || resp_len < 0x20) {
    snprintf(err, errlen, "MSG_REPORT_RSP too short (%zu bytes)", resp_len);
    return -1;
  }
  uint32_t status = ehal_get_u32(resp), size = ehal_get_u32(resp + 4);
  if (status != 0) {
    snprintf(err, errlen, "the SNP firmware refused the report request (status 0x%x, %s)", status,
             fw_status_name(status));
    return -1;
  }
  if (size < EHAL_SNP_REPORT_LEN || size > resp_len - 0x20) {
    snprintf(err, errlen,
             "MSG_REPORT_RSP gives a report size of %u bytes (expected %d, at most %zu)", size,
             EHAL_SNP_REPORT_LEN, resp_len - 0x20);
    return -1;
  }
  *report = resp + 0x20;
  *report_len = size;
  return 0;
}

long ehal_snp_cert_table_size(const uint8_t *table, size_t len) {
  static const uint8_t zero[24];
  uint64_t end = 0;
  size_t n = 0;
  for (;; n++) {
    if ((n + 1) * 24 > len) return -1; /* no terminating entry */
    const uint8_t *e = table + n * 24;
    if (!memcmp(e, zero, 24)) break;
    uint64_t off = ehal_get_u32(e + 16), l = ehal_get_u32(e + 20);
    if (off + l > len) return -1;
    if (off + l > end) end = off + l;
  }
  if (n == 0) return 0;
  /* every certificate lies after the table and its terminator */
  for (size_t i = 0; i < n; i++)
    if (ehal_get_u32(table + i * 24 + 16) < (n + 1) * 24) return -1;
  return (long)end;
}

ehal_snp_ext_outcome ehal_snp_ext_classify(int rc, int err, uint64_t exitinfo2,
                                           uint32_t certs_len_given, uint32_t certs_len_returned,
                                           uint32_t *need) {
  if (rc == 0) return EHAL_SNP_EXT_OK;
  uint32_t vmm = (uint32_t)(exitinfo2 >> 32);
  if (err == EIO && vmm == VMM_ERR_INVALID_LEN) {
    if (certs_len_returned == 0) return EHAL_SNP_EXT_FALLBACK_PLAIN;
    if (certs_len_returned > certs_len_given && certs_len_returned <= EHAL_SNP_CERTS_MAX &&
        certs_len_returned % 4096 == 0) {
      if (need) *need = certs_len_returned;
      return EHAL_SNP_EXT_RETRY_BIGGER;
    }
  }
  return EHAL_SNP_EXT_FAIL;
}

static void ioctl_error(char *err, size_t errlen, const char *what, int e, uint64_t exitinfo2) {
  snprintf(err, errlen,
           "/dev/sev-guest: %s failed: %s (firmware error 0x%x, VMM error 0x%x); not retried: "
           "the kernel may have disabled the guest's message key",
           what, strerror(e), (unsigned)(exitinfo2 & 0xffffffffu), (unsigned)(exitinfo2 >> 32));
}

/* Copies the report out of a response into out. */
static int take_report(const struct snp_report_resp *resp, const uint8_t binding[64],
                       ehal_evidence *out, char *err, size_t errlen) {
  const uint8_t *rep;
  size_t n;
  if (ehal_snp_parse_report_resp(resp->data, sizeof resp->data, &rep, &n, err, errlen) != 0)
    return -1;
  if (memcmp(rep + 0x50, binding, 64) != 0) {
    snprintf(err, errlen, "/dev/sev-guest: the report does not carry the requested report data");
    return -1;
  }
  out->evidence = malloc(n);
  if (!out->evidence) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  memcpy(out->evidence, rep, n);
  out->evidence_len = n;
  out->provider = "sev-snp";
  out->format = "sev-snp-report";
  out->source = "sev-guest";
  return 0;
}

int ehal_sev_guest_report(const char *device, const uint8_t binding[64], ehal_evidence *out,
                          char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  int fd = open(device, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", device, strerror(errno));
    return -1;
  }
  struct snp_report_resp *resp = calloc(1, sizeof *resp);
  uint8_t *certs = aligned_alloc(4096, EHAL_SNP_CERTS_MAX);
  int rc = -1;
  if (!resp || !certs) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  uint32_t certs_len = CERTS_FIRST;
  bool plain = false;
  for (int i = 0; i < 2; i++) {
    memset(certs, 0, EHAL_SNP_CERTS_MAX);
    memset(resp, 0, sizeof *resp);
    struct snp_ext_report_req req;
    memset(&req, 0, sizeof req);
    memcpy(req.data.user_data, binding, 64);
    req.data.vmpl = 0;
    req.certs_address = (uint64_t)(uintptr_t)certs;
    req.certs_len = certs_len;
    struct snp_guest_request_ioctl io;
    memset(&io, 0, sizeof io);
    io.msg_version = 1;
    io.req_data = (uint64_t)(uintptr_t)&req;
    io.resp_data = (uint64_t)(uintptr_t)resp;
    int r = ioctl(fd, SNP_GET_EXT_REPORT, &io);
    int e = errno;
    uint32_t need = 0;
    ehal_snp_ext_outcome o =
        ehal_snp_ext_classify(r, e, io.exitinfo2, certs_len, req.certs_len, &need);
    if (o == EHAL_SNP_EXT_OK) {
      if (take_report(resp, binding, out, err, errlen) != 0) goto done;
      /* The kernel hands back the whole page-sized buffer: keep what the
       * table spans (what configfs-tsm's auxblob would hold), or the whole
       * buffer unchanged when the host's table does not parse (the
       * verifier judges it); nothing when the host sent no entries. */
      long sz = ehal_snp_cert_table_size(certs, certs_len);
      if (sz < 0) sz = (long)certs_len;
      if (sz > 0) {
        out->certs = malloc((size_t)sz);
        if (!out->certs) {
          snprintf(err, errlen, "out of memory");
          ehal_evidence_free(out);
          goto done;
        }
        memcpy(out->certs, certs, (size_t)sz);
        out->certs_len = (size_t)sz;
      }
      rc = 0;
      goto done;
    }
    if (o == EHAL_SNP_EXT_RETRY_BIGGER && i == 0) {
      certs_len = need; /* the size the kernel asked for, tried once */
      continue;
    }
    if (o == EHAL_SNP_EXT_FALLBACK_PLAIN) {
      plain = true;
      break;
    }
    ioctl_error(err, errlen, "SNP_GET_EXT_REPORT", e, io.exitinfo2);
    goto done;
  }
  if (!plain) {
    snprintf(err, errlen, "/dev/sev-guest: the host kept asking for a larger certificate buffer");
    goto done;
  }
  {
    memset(resp, 0, sizeof *resp);
    struct snp_report_req req;
    memset(&req, 0, sizeof req);
    memcpy(req.user_data, binding, 64);
    req.vmpl = 0;
    struct snp_guest_request_ioctl io;
    memset(&io, 0, sizeof io);
    io.msg_version = 1;
    io.req_data = (uint64_t)(uintptr_t)&req;
    io.resp_data = (uint64_t)(uintptr_t)resp;
    /* once: see the comment at the top */
    if (ioctl(fd, SNP_GET_REPORT, &io) != 0) {
      ioctl_error(err, errlen, "SNP_GET_REPORT", errno, io.exitinfo2);
      goto done;
    }
    if (take_report(resp, binding, out, err, errlen) != 0) goto done;
    rc = 0;
  }
done:
  free(resp);
  free(certs);
  close(fd);
  return rc;
}
