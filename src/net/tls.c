/* tls.c - TLS on OpenSSL 3 for the sockets interface (see tls.h). */
#define _GNU_SOURCE
#include "tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ratls.h"

/* [0] TLS, [1] DTLS; server NULL without an identity. */
struct ehal_tls_ctx {
  int refs;    /* a guest's socket and the connections its listener made */
  time_t made; /* when: an attested identity ages (ehal_tls_ctx_stale) */
  bool attested;
  SSL_CTX *client[2], *server[2];
  unsigned char alpn[256]; /* ALPN protocols, wire format (length-prefixed) */
  unsigned alpn_len;
};

/* DTLS cookies: HMAC-SHA-256 of the client's address under a key made
 * fresh for each process, so a server answers a ClientHello from an
 * address it has not heard from with a cookie alone, keeping no state
 * (and cannot be used to amplify traffic to a forged address). */
static unsigned char g_cookie_key[32];
static pthread_once_t g_cookie_once = PTHREAD_ONCE_INIT;
static void cookie_key_init(void) {
  if (RAND_bytes(g_cookie_key, sizeof g_cookie_key) != 1) abort(); /* no randomness: no HAL */
}

/* A cookie for the client's address in a time window of 30 s (windows_ago
 * back), so a cookie is good for 30 to 60 s and cannot be replayed later. */
static int cookie_of(SSL *s, int windows_ago, unsigned char *out, unsigned int *len) {
  BIO_ADDR *peer = BIO_ADDR_new();
  unsigned char raw[16 + 2 + 8];
  size_t n = 0;
  int ok = peer && BIO_dgram_get_peer(SSL_get_rbio(s), peer) > 0 &&
           BIO_ADDR_rawaddress(peer, NULL, &n) == 1 && n <= 16 &&
           BIO_ADDR_rawaddress(peer, raw, &n) == 1;
  if (ok) {
    unsigned short port = BIO_ADDR_rawport(peer);
    uint64_t window = (uint64_t)time(NULL) / 30 - (uint64_t)windows_ago;
    memcpy(raw + n, &port, 2);
    memcpy(raw + n + 2, &window, 8);
    pthread_once(&g_cookie_once, cookie_key_init);
    ok = HMAC(EVP_sha256(), g_cookie_key, sizeof g_cookie_key, raw, n + 10, out, len) != NULL;
  }
  BIO_ADDR_free(peer);
  return ok;
}

static int cookie_generate(SSL *s, unsigned char *cookie, unsigned int *len) {
  return cookie_of(s, 0, cookie, len);
}

static int cookie_verify(SSL *s, const unsigned char *cookie, unsigned int len) {
  for (int ago = 0; ago < 2; ago++) { /* this window or the one before */
    unsigned char want[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (cookie_of(s, ago, want, &n) && n == len && CRYPTO_memcmp(want, cookie, n) == 0) return 1;
  }
  return 0;
}

static int note_mismatch(int ok, X509_STORE_CTX *ctx);

/* TLS 1.2 suites: forward secrecy and AEAD only (1.3's are all of that). */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

/* The last OpenSSL error in words, or fallback. */
static const char *openssl_reason(const char *fallback) {
  unsigned long e = ERR_peek_last_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  return r ? r : fallback;
}

static SSL_CTX *new_ctx(const SSL_METHOD *m, bool dtls) {
  SSL_CTX *c = SSL_CTX_new(m);
  if (!c) return NULL;
  if (SSL_CTX_set_min_proto_version(c, dtls ? DTLS1_2_VERSION : TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(c, TLS12_CIPHERS) != 1) {
    SSL_CTX_free(c);
    return NULL;
  }
  SSL_CTX_set_options(
      c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  /* idle connections keep no 16 KiB record buffers (a server may hold many) */
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);
  return c;
}

/* Trust anchors: the operator's file, else the system's, found where
 * OpenSSL was built to look (not where the environment says). */
/* Encrypted PEM is refused rather than prompted for: a library never reads
 * a terminal. */
static int no_password(char *buf, int size, int rwflag, void *u) {
  (void)buf, (void)size, (void)rwflag, (void)u;
  return -1;
}

/* Anchors from PEM text in memory (a guest's). */
static int load_trust_pem(SSL_CTX *c, const uint8_t *pem, size_t len, char *err, size_t errlen) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, no_password, NULL) : NULL;
  X509_STORE *store = SSL_CTX_get_cert_store(c);
  int added = 0;
  for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
    X509_INFO *xi = sk_X509_INFO_value(infos, i);
    if (xi->x509 && X509_STORE_add_cert(store, xi->x509) == 1) added++;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  BIO_free(bio);
  ERR_clear_error();
  if (added) return 0;
  snprintf(err, errlen, "the trust anchors hold no PEM certificate");
  return -1;
}

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

/* An identity from PKCS#12: a file (p12_path), else bytes in memory. */
static int load_identity(SSL_CTX *c, const char *p12_path, const uint8_t *bytes, size_t len,
                         const char *password, char *err, size_t errlen) {
  BIO *bio = bytes ? BIO_new_mem_buf(bytes, (int)len) : BIO_new_file(p12_path, "rb");
  if (bytes) p12_path = "given by the guest";
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

/* A key held elsewhere in the HAL with its certificate chain (PEM, the
 * key's certificate first). */
static int use_key_and_chain(SSL_CTX *c, EVP_PKEY *key, const uint8_t *pem, size_t len, char *err,
                             size_t errlen) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, no_password, NULL) : NULL;
  int certs = 0, rc = 0;
  for (int i = 0; infos && i < sk_X509_INFO_num(infos) && rc == 0; i++) {
    X509 *x = sk_X509_INFO_value(infos, i)->x509;
    if (!x) continue;
    if (certs++ == 0)
      rc = SSL_CTX_use_certificate(c, x) == 1 ? 0 : -1;
    else
      rc = SSL_CTX_add1_chain_cert(c, x) == 1 ? 0 : -1;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  BIO_free(bio);
  if (certs == 0) {
    snprintf(err, errlen, "the identity's certificate chain holds no PEM certificate");
    return -1;
  }
  if (rc != 0 || SSL_CTX_use_PrivateKey(c, key) != 1 || SSL_CTX_check_private_key(c) != 1) {
    snprintf(err, errlen, "the key context's key does not match the chain's first certificate");
    ERR_clear_error();
    return -1;
  }
  return 0;
}

/* A guest's identity (configure-tls): a key context's key and chain, or
 * PKCS#12 bytes. */
static int guest_identity(SSL_CTX *c, const ehal_tls_config *cfg, char *err, size_t errlen) {
  if (cfg->identity_key)
    return use_key_and_chain(c, cfg->identity_key, cfg->identity_chain_pem, cfg->identity_chain_len,
                             err, errlen);
  return load_identity(c, NULL, cfg->identity_p12_bytes, cfg->identity_p12_len,
                       cfg->identity_password, err, errlen);
}

/* "h2,http/1.1" into ALPN's wire format (each name after its length). */
static int alpn_wire(const char *list, ehal_tls_ctx *c, char *err, size_t errlen) {
  c->alpn_len = 0;
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, ",");
    if (n == 0 || n > 255 || c->alpn_len + 1 + n > sizeof c->alpn) {
      snprintf(err, errlen, "alpn: not a list of protocol names (at most 255 bytes in all)");
      return -1;
    }
    c->alpn[c->alpn_len++] = (unsigned char)n;
    memcpy(c->alpn + c->alpn_len, p, n);
    c->alpn_len += (unsigned)n;
    p += n + (p[n] == ',');
  }
  return 0;
}

/* A server picks its first protocol that the client offers too. */
static int alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
  (void)s;
  ehal_tls_ctx *c = arg;
  unsigned char *o = NULL;
  if (SSL_select_next_proto(&o, outlen, c->alpn, c->alpn_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* no protocol in common */
  *out = o;
  return SSL_TLSEXT_ERR_OK;
}

/* The attested identity, made once (*key, *cert) and used by each context. */
static int use_attested(SSL_CTX *c, const ehal_ratls_subject *subj, EVP_PKEY **key, X509 **cert,
                        char *err, size_t errlen) {
  if (!*key && ehal_ratls_identity(subj, key, cert, err, errlen) != 0) return -1;
  if (SSL_CTX_use_certificate(c, *cert) != 1 || SSL_CTX_use_PrivateKey(c, *key) != 1) {
    snprintf(err, errlen, "attested TLS: %s", openssl_reason("cannot use the identity"));
    return -1;
  }
  return 0;
}

ehal_tls_ctx *ehal_tls_ctx_new(const ehal_tls_config *cfg, char *err, size_t errlen) {
  EVP_PKEY *attested_key = NULL;
  X509 *attested_cert = NULL;
  ehal_tls_ctx *c = calloc(1, sizeof *c);
  if (c) {
    c->refs = 1;
    c->made = time(NULL);
    c->attested = cfg->attested != NULL;
  }
  const SSL_METHOD *(*client_m[2])(void) = {TLS_client_method, DTLS_client_method};
  const SSL_METHOD *(*server_m[2])(void) = {TLS_server_method, DTLS_server_method};
  if (!c) goto oom;
  if (cfg->alpn && cfg->alpn[0] && alpn_wire(cfg->alpn, c, err, errlen) != 0) goto fail;
  bool own = cfg->identity_key || cfg->identity_p12_len; /* a guest's identity */
  for (int d = 0; d < 2; d++) {
    if (!(c->client[d] = new_ctx(client_m[d](), d))) goto oom;
    SSL_CTX_set_verify(c->client[d], SSL_VERIFY_PEER, note_mismatch);
    if ((cfg->ca_pem_len ? load_trust_pem(c->client[d], cfg->ca_pem, cfg->ca_pem_len, err, errlen)
                         : load_trust(c->client[d], cfg->ca_file, err, errlen)) != 0)
      goto fail;
    /* a client's own certificate, for servers that ask (mutual TLS) */
    if (own && guest_identity(c->client[d], cfg, err, errlen) != 0) goto fail;
    if (c->alpn_len && SSL_CTX_set_alpn_protos(c->client[d], c->alpn, c->alpn_len) != 0) goto oom;
    if (!cfg->identity_p12 && !cfg->attested && !own) continue;
    if (!(c->server[d] = new_ctx(server_m[d](), d))) goto oom;
    if (own             ? guest_identity(c->server[d], cfg, err, errlen) != 0
        : cfg->attested ? use_attested(c->server[d], cfg->attested, &attested_key, &attested_cert,
                                       err, errlen) != 0
                        : load_identity(c->server[d], cfg->identity_p12, NULL, 0,
                                        cfg->identity_password, err, errlen) != 0)
      goto fail;
    if (c->alpn_len) SSL_CTX_set_alpn_select_cb(c->server[d], alpn_select, c);
    /* resumed sessions of verified clients need it (mutual TLS) */
    SSL_CTX_set_session_id_context(c->server[d], (const unsigned char *)"elastic-hal", 11);
    if (cfg->require_peer_cert) {
      /* clients must show a certificate the anchors verify */
      if (!cfg->ca_pem_len && !cfg->ca_file) {
        snprintf(err, errlen, "require-peer-certificate needs trust anchors for the clients");
        goto fail;
      }
      if ((cfg->ca_pem_len ? load_trust_pem(c->server[d], cfg->ca_pem, cfg->ca_pem_len, err, errlen)
                           : load_trust(c->server[d], cfg->ca_file, err, errlen)) != 0)
        goto fail;
      SSL_CTX_set_verify(c->server[d], SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    if (d) {
      SSL_CTX_set_cookie_generate_cb(c->server[d], cookie_generate);
      SSL_CTX_set_cookie_verify_cb(c->server[d], cookie_verify);
    }
  }
  EVP_PKEY_free(attested_key); /* the contexts hold their own references */
  X509_free(attested_cert);
  return c;
oom:
  snprintf(err, errlen, "cannot set up TLS: %s", openssl_reason("out of memory"));
fail:
  EVP_PKEY_free(attested_key);
  X509_free(attested_cert);
  ehal_tls_ctx_free(c);
  return NULL;
}

ehal_tls_ctx *ehal_tls_ctx_ref(ehal_tls_ctx *c) {
  if (c) c->refs++;
  return c;
}

void ehal_tls_ctx_free(ehal_tls_ctx *c) {
  if (!c || --c->refs > 0) return;
  for (int d = 0; d < 2; d++) {
    SSL_CTX_free(c->client[d]);
    SSL_CTX_free(c->server[d]);
  }
  free(c);
}

bool ehal_tls_ctx_stale(const ehal_tls_ctx *c) {
  return c && c->attested && time(NULL) - c->made > EHAL_RATLS_REFRESH_S;
}

bool ehal_tls_ctx_has_identity(const ehal_tls_ctx *c) { return c && c->server[0]; }

/* A datagram BIO over a connected UDP descriptor, for DTLS. */
static BIO *dgram_bio(int fd) {
  struct sockaddr_storage peer;
  socklen_t len = sizeof peer;
  BIO_ADDR *a = BIO_ADDR_new();
  BIO *b = BIO_new_dgram(fd, BIO_NOCLOSE);
  bool ok = a && b && getpeername(fd, (struct sockaddr *)&peer, &len) == 0;
  if (ok && peer.ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)&peer;
    ok = BIO_ADDR_rawmake(a, AF_INET, &in->sin_addr, 4, in->sin_port) == 1;
  } else if (ok && peer.ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&peer;
    ok = BIO_ADDR_rawmake(a, AF_INET6, &in6->sin6_addr, 16, in6->sin6_port) == 1;
  } else {
    ok = false;
  }
  if (ok) ok = BIO_ctrl(b, BIO_CTRL_DGRAM_SET_CONNECTED, 0, a) == 1;
  BIO_ADDR_free(a);
  if (!ok) {
    BIO_free(b);
    return NULL;
  }
  return b;
}

/* Attach fd to s: a socket BIO (TLS) or a connected datagram BIO (DTLS). */
static bool attach(SSL *s, int fd, bool dtls) {
  if (!dtls) return SSL_set_fd(s, fd) == 1;
  BIO *b = dgram_bio(fd);
  if (!b) return false;
  SSL_set_bio(s, b, b);
  return true;
}

ehal_tls *ehal_tls_client(ehal_tls_ctx *c, int fd, const char *host, bool dtls, char *err,
                          size_t errlen) {
  SSL *s = SSL_new(c->client[dtls]);
  if (!s || !attach(s, fd, dtls)) goto fail;
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
  SSL *s = c->server[0] ? SSL_new(c->server[0]) : NULL;
  if (!s || SSL_set_fd(s, fd) != 1) {
    snprintf(err, errlen, "cannot set up TLS: %s", openssl_reason("no TLS identity"));
    SSL_free(s);
    return NULL;
  }
  SSL_set_accept_state(s);
  return s;
}

ehal_tls *ehal_dtls_listener(ehal_tls_ctx *c, int fd, char *err, size_t errlen) {
  SSL *s = c->server[1] ? SSL_new(c->server[1]) : NULL;
  BIO *b = s ? BIO_new_dgram(fd, BIO_NOCLOSE) : NULL;
  if (!b) {
    snprintf(err, errlen, "cannot set up DTLS: %s", openssl_reason("no TLS identity"));
    SSL_free(s);
    return NULL;
  }
  SSL_set_bio(s, b, b);
  SSL_set_options(s, SSL_OP_COOKIE_EXCHANGE);
  return s;
}

int ehal_dtls_listen(ehal_tls *l, struct sockaddr_storage *peer, short *events, char *err,
                     size_t errlen) {
  BIO_ADDR *a = BIO_ADDR_new();
  if (!a) {
    snprintf(err, errlen, "out of memory");
    return EHAL_TLS_ERROR;
  }
  ERR_clear_error();
  int r = DTLSv1_listen(l, a);
  int out = EHAL_TLS_WANT;
  *events = POLLIN;
  if (r < 0) {
    snprintf(err, errlen, "DTLS listen failed: %s", openssl_reason("protocol error"));
    out = EHAL_TLS_ERROR;
  } else if (r > 0) {
    /* a ClientHello that returned our cookie: its sender is real */
    memset(peer, 0, sizeof *peer);
    size_t n = 0;
    unsigned short port = BIO_ADDR_rawport(a);
    if (BIO_ADDR_family(a) == AF_INET) {
      struct sockaddr_in *in = (struct sockaddr_in *)peer;
      in->sin_family = AF_INET;
      in->sin_port = port;
      BIO_ADDR_rawaddress(a, &in->sin_addr, &n);
    } else {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)peer;
      in6->sin6_family = AF_INET6;
      in6->sin6_port = port;
      BIO_ADDR_rawaddress(a, &in6->sin6_addr, &n);
    }
    out = EHAL_TLS_DONE;
  }
  ERR_clear_error();
  BIO_ADDR_free(a);
  return out;
}

int ehal_dtls_adopt(ehal_tls *l, int fd, char *err, size_t errlen) {
  BIO *b = dgram_bio(fd);
  if (!b) {
    snprintf(err, errlen, "cannot set up DTLS: %s", openssl_reason("out of memory"));
    return -1;
  }
  /* frees the listening BIO; the handshake state DTLSv1_listen left stays
   * (SSL_set_accept_state here would reset it) */
  SSL_set_bio(l, b, b);
  return 0;
}

/* Chain and name do not decide for an attested peer: its evidence does,
 * checked by the caller once the handshake is done. */
static int take_for_evidence(int ok, X509_STORE_CTX *ctx) {
  (void)ok, (void)ctx;
  return 1;
}

void ehal_tls_expect_attested(ehal_tls *t) {
  SSL_set_verify(t, SSL_VERIFY_PEER, take_for_evidence);
  X509_VERIFY_PARAM_set1_host(SSL_get0_param(t), NULL, 0);
  X509_VERIFY_PARAM_set1_ip(SSL_get0_param(t), NULL, 0);
}

uint8_t *ehal_tls_peer_der(const ehal_tls *t, size_t *len) {
  X509 *x = SSL_get0_peer_certificate(t);
  unsigned char *der = NULL;
  int n = x ? i2d_X509(x, &der) : -1;
  if (n <= 0) return NULL;
  uint8_t *out = malloc((size_t)n);
  if (out) memcpy(out, der, (size_t)n);
  OPENSSL_free(der);
  *len = (size_t)n;
  return out;
}

const uint8_t *ehal_tls_alpn(const ehal_tls *t, size_t *len) {
  const unsigned char *p = NULL;
  unsigned int n = 0;
  SSL_get0_alpn_selected(t, &p, &n);
  *len = n;
  return p;
}

bool ehal_tls_pending(const ehal_tls *t) { return SSL_pending(t) > 0; }

long ehal_tls_timer_ms(ehal_tls *t) {
  struct timeval tv;
  if (!SSL_is_dtls(t) || DTLSv1_get_timeout(t, &tv) != 1) return -1;
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void ehal_tls_timer_fire(ehal_tls *t) {
  if (SSL_is_dtls(t)) DTLSv1_handle_timeout(t);
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
