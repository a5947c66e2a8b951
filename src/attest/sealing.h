/*
 * sealing.h - the platform sealing root: a 32-byte secret that only this
 * platform (and, on a TEE, only this guest's measured code and policy) can
 * obtain.  Keys for sealing and for storage encryption are derived from it
 * with HKDF-SHA-256 and never leave the HAL.
 *
 *   SEV-SNP    MSG_KEY_REQ through /dev/sev-guest (SNP_GET_DERIVED_KEY), rooted
 *              in the VCEK, mixing in the launch measurement and guest policy.
 *   TDX        unsupported: TDX has no sealing key of its own; a key provider
 *              would be needed, and none is configured.
 *   simulated  a random 32-byte root in STATE_DIR/sealing/root.key (0600),
 *              created on first use: protects nothing against the host, which
 *              is what "simulated" says.
 *
 * A TEE that is present but fails is an error, never a fallback to the
 * simulated root.
 */
#ifndef EHAL_SEALING_H
#define EHAL_SEALING_H

#include <stddef.h>
#include <stdint.h>

#define EHAL_SEALING_ROOT_LEN 32

/* Fills root with the platform sealing root.  Returns 0, or -1 with a
 * message in err.  state_dir is used by the simulated platform only. */
int ehal_sealing_root(const char *state_dir, uint8_t root[EHAL_SEALING_ROOT_LEN], char *err,
                      size_t errlen);

/* HKDF-SHA-256(root, salt = "elastic-hal/v1", info = label || 0x00 || context)
 * into out (at most 255*32 bytes).  Returns 0 or -1. */
int ehal_derive_key(const uint8_t root[EHAL_SEALING_ROOT_LEN], const char *label,
                    const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len);

/* Whether a sealing root can be had on this platform (for capabilities). */
int ehal_sealing_supported(void);

/* For tests: the device used for SNP key requests (default /dev/sev-guest). */
void ehal_sealing_set_sev_device(const char *path);

#endif
