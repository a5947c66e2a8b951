/*
 * ratls.h - attested TLS: a TLS identity whose certificate carries the
 * platform's evidence for its own key (docs/sockets.md, "Attested TLS").
 *
 * A fresh P-256 key is made inside the HAL for each workload that asks.
 * Its certificate is self-signed and carries, in a RATS conceptual message
 * wrapper (CMW) extension, the evidence envelope of docs/evidence.md whose
 * report-data is "ELASTIC-HAL-RATLS-V1:" || SHA-256 of the certificate's
 * SubjectPublicKeyInfo (DER), a prefix no guest can have evidence made for:
 * the evidence names the key, and the binding names the module, world and
 * workload.  A peer that verifies the evidence (src/verify/, also
 * `elastic-hal verify CERT`) knows which code on which platform holds the
 * private key; the key never leaves the HAL.
 */
#ifndef EHAL_NET_RATLS_H
#define EHAL_NET_RATLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

typedef struct ehal_ratls_subject {
  uint8_t module_sha384[48];
  const char *world;
  const char *workload;
  const char *state_dir; /* the simulated platform's chain lives there */
} ehal_ratls_subject;

/* What a client accepts of an attested peer (all strings NUL-terminated;
 * "" checks nothing). */
typedef struct {
  bool allow_simulated;
  char module_sha384[97]; /* hex */
  char world[256];
  char workload[256];
} ehal_ratls_policy;

/* Verify the peer certificate (DER) of a finished handshake against the
 * policy, with the project's verifier: 0, or -1 with the reason. */
int ehal_ratls_check_peer(const uint8_t *der, size_t len, const ehal_ratls_policy *p, char *err,
                          size_t errlen);

/* A key and its attested certificate: 0, or -1 with the reason (no
 * evidence on this platform, say). */
int ehal_ratls_identity(const ehal_ratls_subject *subj, EVP_PKEY **key, X509 **cert, char *err,
                        size_t errlen);

#endif
