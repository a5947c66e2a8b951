/*
 * random.c - elastic:random: the kernel CSPRNG.
 *
 * Bytes come from getrandom(2), which blocks only until the kernel's CRNG is
 * first seeded and never after.  Inside SEV-SNP and TDX guests the kernel
 * seeds it from the CPU's RDRAND/RDSEED, which the hypervisor cannot
 * influence.  reseed() writes the caller's bytes to /dev/urandom: they are
 * mixed into the pool but credited with no entropy, so a hostile caller can
 * add nothing but cannot weaken the pool either.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ehal_bindings.h"
#include "interfaces.h"

static bool fill(uint8_t *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = getrandom(buf + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += (size_t)n;
  }
  return true;
}

static void random_bytes(ehal_instance *inst, uint32_t length,
                         ehal_random_result_list_u8_string_t *ret) {
  if (length > EHAL_RANDOM_MAX_BYTES) {
    ret->is_err = true;
    ret->err = ehal_str_fmt(inst, "length %u exceeds the maximum of %u bytes per call", length,
                            EHAL_RANDOM_MAX_BYTES);
    return;
  }
  uint8_t *buf = ehal_arena_alloc(inst, length);
  EHAL_NEED(buf);
  if (!fill(buf, length)) {
    ret->is_err = true;
    ret->err = ehal_str_fmt(inst, "getrandom failed: %s", strerror(errno));
    return;
  }
  ret->val = (ehal_bytes){buf, length};
}

void ehal_impl_random_get_random_bytes(ehal_instance *inst, uint32_t length,
                                       ehal_random_result_list_u8_string_t *ret) {
  random_bytes(inst, length, ret);
}

void ehal_impl_random_get_secure_random(ehal_instance *inst, uint32_t length,
                                        ehal_random_result_list_u8_string_t *ret) {
  random_bytes(inst, length, ret);
}

void ehal_impl_random_get_entropy_info(ehal_instance *inst,
                                       ehal_random_result_entropy_info_string_t *ret) {
  (void)inst;
  uint8_t probe;
  /* The kernel CSPRNG is a platform source.  quality is its security
   * strength in bits: 256 once the CRNG is seeded, 0 before.  The CSPRNG
   * does not deplete, so available-bytes is simply the per-call limit. */
  bool seeded = getrandom(&probe, 1, GRND_NONBLOCK) == 1;
  ret->val.source = EHAL_RANDOM_ENTROPY_SOURCE_PLATFORM;
  ret->val.quality = seeded ? 256 : 0;
  ret->val.available_bytes = seeded ? EHAL_RANDOM_MAX_BYTES : 0;
}

void ehal_impl_random_reseed(ehal_instance *inst, ehal_bytes additional_entropy,
                             ehal_random_result_void_string_t *ret) {
  if (additional_entropy.len > EHAL_RESEED_MAX_BYTES) {
    ret->is_err = true;
    ret->err = ehal_str_fmt(inst, "reseed takes at most %u bytes", EHAL_RESEED_MAX_BYTES);
    return;
  }
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    ret->is_err = true;
    ret->err = ehal_str_fmt(inst, "cannot open /dev/urandom: %s", strerror(errno));
    return;
  }
  size_t done = 0;
  while (done < additional_entropy.len) {
    ssize_t n = write(fd, additional_entropy.ptr + done, additional_entropy.len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ret->is_err = true;
      ret->err = ehal_str_fmt(inst, "writing to /dev/urandom failed: %s", strerror(errno));
      break;
    }
    done += (size_t)n;
  }
  close(fd);
}
