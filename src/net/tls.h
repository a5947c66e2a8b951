/*
 * tls.h - TLS for the sockets interface, on OpenSSL 3, with the defaults a
 * confidential workload wants and no switch to weaken them.
 *
 *   - TLS 1.2 at least, 1.3 preferred; for 1.2 only ECDHE with AES-GCM or
 *     ChaCha20-Poly1305.
 *   - A client always verifies the peer's chain and its name (or IP
 *     address) against the anchors the operator gave (a PEM file), else the
 *     system's (OpenSSL's compiled-in /usr/lib/ssl, never SSL_CERT_FILE or
 *     SSL_CERT_DIR from the environment); the name is sent as SNI.
 *   - A server presents the identity the operator gave as PKCS#12.
 *
 * Descriptors are non-blocking: every step returns EHAL_TLS_WANT with the
 * poll events to wait for, and the caller waits (with its time bound) and
 * calls again.  Messages say what happened in words a user can act on.
 */
#ifndef EHAL_NET_TLS_H
#define EHAL_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct ssl_st ehal_tls; /* an OpenSSL connection */
typedef struct ehal_tls_ctx ehal_tls_ctx;

struct ehal_ratls_subject;

typedef struct {
  const char *ca_file;           /* trust anchors (PEM); NULL: the system's */
  const char *identity_p12;      /* server identity (PKCS#12); NULL: none */
  const char *identity_password; /* its password ("" when it has none) */
  /* or an attested identity made now for this subject (src/net/ratls.h) */
  const struct ehal_ratls_subject *attested;
  /* A guest's own settings (configure-tls), in memory, in place of the
   * above where given: anchors (PEM), an identity (PKCS#12 bytes, with
   * identity_password) for a server and for a client's mutual TLS, a
   * server's demand for a client certificate, ALPN ("h2,http/1.1"). */
  const uint8_t *ca_pem;
  size_t ca_pem_len;
  const uint8_t *identity_p12_bytes;
  size_t identity_p12_len;
  /* or a key kept elsewhere in the HAL (a crypto context's) and its
   * certificate chain, PEM (the key's certificate first) */
  struct evp_pkey_st *identity_key;
  const uint8_t *identity_chain_pem;
  size_t identity_chain_len;
  bool require_peer_cert;
  const char *alpn;
} ehal_tls_config;

/* Outcome of a step. */
enum { EHAL_TLS_ERROR = -1, EHAL_TLS_WANT = 0, EHAL_TLS_DONE = 1 };

/* Client and server contexts from the operator's configuration: NULL with
 * the reason (a file that does not load, a wrong password) in err. */
ehal_tls_ctx *ehal_tls_ctx_new(const ehal_tls_config *cfg, char *err, size_t errlen);
/* Contexts are counted: _ref adds a holder, _free drops one (one thread
 * at a time: a workload's). */
ehal_tls_ctx *ehal_tls_ctx_ref(ehal_tls_ctx *c);
void ehal_tls_ctx_free(ehal_tls_ctx *c);
bool ehal_tls_ctx_has_identity(const ehal_tls_ctx *c);
/* Whether contexts with an attested identity are old enough to be made
 * again (its certificate is valid for a day): after 12 hours. */
#define EHAL_RATLS_REFRESH_S (12 * 3600)
bool ehal_tls_ctx_stale(const ehal_tls_ctx *c);

/* A connection over the connected descriptor fd (not owned): TLS over a
 * TCP socket, or (dtls) DTLS 1.2 over a connected UDP socket.  host: the
 * name or IP literal the client connected to, which the certificate must
 * match. */
ehal_tls *ehal_tls_client(ehal_tls_ctx *c, int fd, const char *host, bool dtls, char *err,
                          size_t errlen);
/* Attested TLS (src/net/ratls.h): the handshake takes the peer's
 * certificate whatever its chain and name, and the caller must check its
 * evidence (ehal_ratls_check_peer on ehal_tls_peer_der) before any data
 * goes; the name is still sent as SNI. */
void ehal_tls_expect_attested(ehal_tls *t);
/* The peer's certificate, DER (malloc), or NULL. */
uint8_t *ehal_tls_peer_der(const ehal_tls *t, size_t *len);
/* The ALPN protocol agreed on: a view into t, *len 0 when none. */
const uint8_t *ehal_tls_alpn(const ehal_tls *t, size_t *len);
ehal_tls *ehal_tls_server(ehal_tls_ctx *c, int fd, char *err, size_t errlen);

/* A DTLS server, in three steps.  ehal_dtls_listener: a listener over the
 * bound UDP descriptor fd.  ehal_dtls_listen: answers each ClientHello
 * with a cookie and keeps nothing, until one comes back with a valid
 * cookie: DONE with its sender in *peer.  The caller then makes a UDP
 * descriptor connected to *peer (bound to the same local address) and
 * ehal_dtls_adopt moves the listener onto it, where the handshake goes on
 * as a connection's (ehal_tls_handshake); a new listener serves the next
 * client. */
ehal_tls *ehal_dtls_listener(ehal_tls_ctx *c, int fd, char *err, size_t errlen);
int ehal_dtls_listen(ehal_tls *l, struct sockaddr_storage *peer, short *events, char *err,
                     size_t errlen);
int ehal_dtls_adopt(ehal_tls *l, int fd, char *err, size_t errlen);

/* Whether decrypted data waits in t (readable without the descriptor). */
bool ehal_tls_pending(const ehal_tls *t);

/* DTLS retransmission: ms until the timer runs out (-1: none running, or
 * TLS), and what to do then. */
long ehal_tls_timer_ms(ehal_tls *t);
void ehal_tls_timer_fire(ehal_tls *t);

/* Steps: DONE, WANT (*events: POLLIN or POLLOUT), or ERROR with err set. */
int ehal_tls_handshake(ehal_tls *t, short *events, char *err, size_t errlen);
/* *n: bytes written (at least 1 when DONE; len must be at least 1). */
int ehal_tls_write(ehal_tls *t, const void *buf, size_t len, size_t *n, short *events, char *err,
                   size_t errlen);
/* *n: bytes read; 0 with DONE when the peer closed with close_notify. */
int ehal_tls_read(ehal_tls *t, void *buf, size_t len, size_t *n, short *events, char *err,
                  size_t errlen);

/* Send close_notify (once, without waiting) and free the connection; its
 * secrets are wiped. */
void ehal_tls_close(ehal_tls *t);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384", for diagnostics. */
const char *ehal_tls_describe(const ehal_tls *t, char *out, size_t outlen);

#endif
