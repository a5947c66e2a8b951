/* tls.c - TLS on OpenSSL 3 for the sockets interface (see tls.h). */
#define _GNU_SOURCE
#include "tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ehal_tls_ctx {
  SSL_CTX *client, *server; /* server NULL without an identity */
};

static int note_mismatch(int ok, X509_STORE_CTX *ctx);

/* TLS 1.2 suites: forward secrecy and AEAD only (1.3's are all of that). */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

/* The last OpenSSL error in words, or fallback. */
static const char *openssl_reason(const char *fallback) {
  unsigned long e = ERR_peek_last_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  return r ? r : fallback;
}

static SSL_CTX *new_ctx(const SSL_METHOD *m) {
  SSL_CTX *c = SSL_CTX_new(m);
  if (!c) return NULL;
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(c, TLS12_CIPHERS) != 1) {
    SSL_CTX_free(c);
    return NULL;
  }
  SSL_CTX_set_options(
      c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return c;
}

/* Trust anchors: the operator's file, else the system's, found where
 * OpenSSL was built to look (not where the environment says). */
static int load_trust(SSL_CTX *c, const char *ca_file, char *err, size_t errlen) {
  if (ca_file) {
    if (SSL_CTX_load_verify_file(c, ca_file) == 1) return 0;
    snprintf(err, errlen, "cannot load trust anchors from %s: %s", ca_file,
             openssl_reason("not a PEM certificate file"));
    return -1;
  }
  struct stat st;
  const char *file = X509_get_default_cert_file(), *dir = X509_get_default_cert_dir();
  bool any = false;
  if (stat(file, &st) == 0) any |= SSL_CTX_load_verify_file(c, file) == 1;
  if (stat(dir, &st) == 0) any |= SSL_CTX_load_verify_dir(c, dir) == 1;
  ERR_clear_error();
  if (!any) {
    snprintf(err, errlen, "no system trust store (%s, %s): give anchors with --tls-ca", file, dir);
    return -1;
  }
  return 0;
}

static int load_identity(SSL_CTX *c, const char *p12_path, const char *password, char *err,
                         size_t errlen) {
  BIO *bio = BIO_new_file(p12_path, "rb");
  PKCS12 *p12 = bio ? d2i_PKCS12_bio(bio, NULL) : NULL;
  BIO_free(bio);
  if (!p12) {
    snprintf(err, errlen, "cannot read the TLS identity %s: not a PKCS#12 file", p12_path);
    return -1;
  }
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  STACK_OF(X509) *chain = NULL;
  int rc = -1;
  if (PKCS12_parse(p12, password ? password : "", &key, &cert, &chain) != 1) {
    snprintf(err, errlen, "cannot open the TLS identity %s: wrong password, or it is damaged",
             p12_path);
  } else if (!key || !cert) {
    snprintf(err, errlen, "the TLS identity %s holds no %s", p12_path,
             key ? "certificate" : "private key");
  } else if (SSL_CTX_use_cert_and_key(c, cert, key, chain, 1) != 1) {
    snprintf(err, errlen, "the TLS identity %s cannot be used: %s", p12_path,
             openssl_reason("its key does not match its certificate"));
  } else {
    rc = 0;
  }
  EVP_PKEY_free(key);
  X509_free(cert);
  sk_X509_pop_free(chain, X509_free);
  PKCS12_free(p12);
  ERR_clear_error();
  return rc;
}

ehal_tls_ctx *ehal_tls_ctx_new(const ehal_tls_config *cfg, char *err, size_t errlen) {
  ehal_tls_ctx *c = calloc(1, sizeof *c);
  if (!c || !(c->client = new_ctx(TLS_client_method()))) {
    snprintf(err, errlen, "cannot set up TLS: %s", openssl_reason("out of memory"));
    ehal_tls_ctx_free(c);
    return NULL;
  }
  SSL_CTX_set_verify(c->client, SSL_VERIFY_PEER, note_mismatch);
  if (load_trust(c->client, cfg->ca_file, err, errlen) != 0) goto fail;
  if (cfg->identity_p12) {
    if (!(c->server = new_ctx(TLS_server_method()))) {
      snprintf(err, errlen, "cannot set up TLS: %s", openssl_reason("out of memory"));
      goto fail;
    }
    if (load_identity(c->server, cfg->identity_p12, cfg->identity_password, err, errlen) != 0)
      goto fail;
  }
  return c;
fail:
  ehal_tls_ctx_free(c);
  return NULL;
}

void ehal_tls_ctx_free(ehal_tls_ctx *c) {
  if (!c) return;
  SSL_CTX_free(c->client);
  SSL_CTX_free(c->server);
  free(c);
}

bool ehal_tls_ctx_has_identity(const ehal_tls_ctx *c) { return c && c->server; }

ehal_tls *ehal_tls_client(ehal_tls_ctx *c, int fd, const char *host, char *err, size_t errlen) {
  SSL *s = SSL_new(c->client);
  if (!s || SSL_set_fd(s, fd) != 1) goto fail;
  unsigned char ip[16];
  bool literal = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
  if (literal) {
    /* an address: the certificate must name it (iPAddress); no SNI */
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), host) != 1) goto fail;
  } else if (SSL_set_tlsext_host_name(s, host) != 1 || SSL_set1_host(s, host) != 1) {
    goto fail;
  }
  SSL_set_connect_state(s);
  return s;
fail:
  snprintf(err, errlen, "cannot set up TLS: %s", openssl_reason("out of memory"));
  SSL_free(s);
  return NULL;
}

ehal_tls *ehal_tls_server(ehal_tls_ctx *c, int fd, char *err, size_t errlen) {
  SSL *s = c->server ? SSL_new(c->server) : NULL;
  if (!s || SSL_set_fd(s, fd) != 1) {
    snprintf(err, errlen, "cannot set up TLS: %s", openssl_reason("no TLS identity"));
    SSL_free(s);
    return NULL;
  }
  SSL_set_accept_state(s);
  return s;
}

/* The first DNS name of a certificate ("another name" without one). */
static void cert_name(X509 *cert, char *out, size_t outlen) {
  snprintf(out, outlen, "another name");
  if (!cert) return;
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_DNS) {
      const ASN1_IA5STRING *d = g->d.dNSName;
      snprintf(out, outlen, "%.*s", ASN1_STRING_length(d), (const char *)ASN1_STRING_get0_data(d));
      break;
    }
  }
  GENERAL_NAMES_free(names);
}

/* The name a rejected certificate is for: the verify callback notes it,
 * in the thread that runs the handshake, for the message made right after
 * (a failed handshake keeps no peer certificate to ask). */
static __thread char t_mismatch[256];

static int note_mismatch(int ok, X509_STORE_CTX *ctx) {
  int e = X509_STORE_CTX_get_error(ctx);
  if (!ok && (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH))
    cert_name(X509_STORE_CTX_get_current_cert(ctx), t_mismatch, sizeof t_mismatch);
  return ok; /* the verdict stays OpenSSL's */
}

/* A step's outcome from SSL_get_error: WANT with events, or ERROR. */
static int step_result(SSL *s, int ret, const char *what, short *events, char *err, size_t errlen) {
  int e = SSL_get_error(s, ret);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    *events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    return EHAL_TLS_WANT;
  }
  long v = SSL_get_verify_result(s);
  if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    snprintf(err, errlen, "host name mismatch: the certificate is for %s", t_mismatch);
  } else if (v != X509_V_OK) {
    snprintf(err, errlen, "certificate verify failed: %s", X509_verify_cert_error_string(v));
  } else if (e == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
    snprintf(err, errlen, "the peer closed the connection during the TLS %s", what);
  } else {
    snprintf(err, errlen, "TLS %s failed: %s", what, openssl_reason("protocol error"));
  }
  ERR_clear_error();
  return EHAL_TLS_ERROR;
}

int ehal_tls_handshake(ehal_tls *t, short *events, char *err, size_t errlen) {
  ERR_clear_error();
  snprintf(t_mismatch, sizeof t_mismatch, "another name");
  int ret = SSL_do_handshake(t);
  if (ret == 1) return EHAL_TLS_DONE;
  return step_result(t, ret, "handshake", events, err, errlen);
}

int ehal_tls_write(ehal_tls *t, const void *buf, size_t len, size_t *n, short *events, char *err,
                   size_t errlen) {
  ERR_clear_error();
  *n = 0;
  if (SSL_write_ex(t, buf, len, n) == 1) return EHAL_TLS_DONE;
  return step_result(t, 0, "write", events, err, errlen);
}

int ehal_tls_read(ehal_tls *t, void *buf, size_t len, size_t *n, short *events, char *err,
                  size_t errlen) {
  ERR_clear_error();
  *n = 0;
  if (SSL_read_ex(t, buf, len, n) == 1) return EHAL_TLS_DONE;
  int e = SSL_get_error(t, 0);
  if (e == SSL_ERROR_ZERO_RETURN) return EHAL_TLS_DONE; /* close_notify: the end */
  if (e == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
    snprintf(err, errlen,
             "the peer closed the connection without TLS close_notify (what came may be "
             "truncated)");
    return EHAL_TLS_ERROR;
  }
  return step_result(t, 0, "read", events, err, errlen);
}

void ehal_tls_close(ehal_tls *t) {
  if (!t) return;
  ERR_clear_error();
  if (SSL_is_init_finished(t)) SSL_shutdown(t); /* best effort: never waits */
  ERR_clear_error();
  SSL_free(t); /* OpenSSL wipes the session's keys */
}

const char *ehal_tls_describe(const ehal_tls *t, char *out, size_t outlen) {
  snprintf(out, outlen, "%s %s", SSL_get_version(t), SSL_get_cipher_name(t));
  return out;
}
