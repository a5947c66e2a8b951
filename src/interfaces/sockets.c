/*
 * sockets.c - elastic:sockets@0.1.0 for TCP, UDP, TLS and DTLS: both roles, the
 * operator's policy on every address used, per-workload handles and
 * limits, and no call that waits forever.
 *
 * The host outside the confidential VM controls the network: it may drop,
 * delay or reorder traffic.  So every call that waits (connect, accept,
 * send on a full buffer, receive) waits at most the instance's socket
 * timeout (elastic_hal_config.socket_timeout_ms, 30 s by default) and then
 * fails with "timed out"; an interrupt of the instance (--timeout) ends the
 * wait too.  Descriptors are non-blocking and polled.  A metered workload
 * (elastic_hal_config.network_rate, raised by resources grants) keeps to
 * its bandwidth budget: see the end of this file.
 *
 * A socket gets its descriptor when its address family is known: at bind
 * or connect.  Names are resolved here (getaddrinfo), and the policy
 * (src/net/policy.h) is checked on each address a name resolves to, so a
 * name that points somewhere the operator did not allow is refused.  A
 * host string from the guest reaches the resolver only if it is made of
 * the characters of host names and address literals.
 *
 * TLS runs over TCP with src/net/tls.h's defaults: a client verifies the
 * peer's chain and the name it connected to (there is no way to turn that
 * off), a server presents the operator's PKCS#12 identity.  The TLS
 * contexts are made on the first TLS or DTLS socket of a workload.  DTLS
 * runs over connected UDP sockets; a DTLS server's accept does the
 * stateless cookie exchange first, then gives the client a UDP socket of
 * its own (dtls_accept).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../attest/attest.h"
#include "../net/policy.h"
#include "../net/ratls.h"
#include "../net/tls.h"
#include "crypto_contexts.h"
#include "ehal_bindings.h"
#include "interfaces.h"

typedef enum { S_FRESH, S_BOUND, S_LISTENING, S_CONNECTED } sock_state;

typedef struct {
  int fd; /* -1 until bind or connect */
  ehal_sockets_protocol_t proto;
  sock_state state;
  bool eof;                    /* the peer shut down its side (TCP), or closed TLS */
  ehal_tls *tls;               /* over fd, once connected or accepted (TLS, DTLS) */
  ehal_tls *listener;          /* a listening DTLS socket's, for the next accept */
  uint32_t timeout_ms;         /* set-timeout's; 0: the instance's */
  ehal_ratls_policy *attested; /* require-attested-peer's, for connect */
  ehal_tls_ctx *own;           /* configure-tls's contexts (counted), or NULL */
  /* a TLS record OpenSSL began and could not finish sending; its bytes
   * were reported sent, and the next send finishes it first */
  uint8_t *wpend; /* TLS_RECORD bytes, made when first needed */
  size_t wpend_len;
} sock;

#define TLS_RECORD 16384 /* the most a record carries; wpend holds one */

typedef struct {
  ehal_handle_table socks;
  ehal_tls_ctx *tls; /* made on the first TLS socket */
} sockets_state;

static void sock_destroy(void *obj) {
  sock *s = obj;
  ehal_tls_close(s->tls); /* sends close_notify */
  ehal_tls_close(s->listener);
  free(s->attested);
  free(s->wpend);
  ehal_tls_ctx_free(s->own);
  if (s->fd >= 0 && s->state == S_CONNECTED && s->proto != EHAL_SOCKETS_PROTOCOL_UDP) {
    /* what the peer sent and the guest never read (TLS 1.3 session
     * tickets, say) would make close(2) reset the connection, and the
     * peer would lose data it has not read yet: read it away first */
    static char sink[4096];
    int n = 0;
    while (n++ < 64 && recv(s->fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
  }
  if (s->fd >= 0) close(s->fd);
  free(s);
}

void *ehal_state_create_sockets(ehal_instance *inst) {
  sockets_state *st = calloc(1, sizeof *st);
  if (st) ehal_handles_init(&st->socks, inst->max_sockets, sock_destroy);
  return st;
}

void ehal_state_destroy_sockets(ehal_instance *inst, void *state) {
  (void)inst;
  sockets_state *st = state;
  ehal_handles_free(&st->socks); /* closes every socket the workload left open */
  ehal_tls_ctx_free(st->tls);
  free(st);
}

static sock *get_sock(ehal_instance *inst, uint64_t h) {
  sockets_state *st = ehal_iface_state_peek(inst, EHAL_IFACE_ID_SOCKETS);
  return st ? ehal_handle_get(&st->socks, h) : NULL;
}

static const char *proto_name(ehal_sockets_protocol_t p) {
  static const char *const names[] = {"tcp", "udp", "tls", "dtls"};
  return p < EHAL_SOCKETS_PROTOCOL_COUNT ? names[p] : "?";
}

static bool stream(const sock *s) {
  return s->proto == EHAL_SOCKETS_PROTOCOL_TCP || s->proto == EHAL_SOCKETS_PROTOCOL_TLS;
}

static bool secure(const sock *s) {
  return s->proto == EHAL_SOCKETS_PROTOCOL_TLS || s->proto == EHAL_SOCKETS_PROTOCOL_DTLS;
}

static bool dtls(const sock *s) { return s->proto == EHAL_SOCKETS_PROTOCOL_DTLS; }

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* When a call on s that starts now must be done: its own timeout, else
 * the instance's. */
static uint64_t deadline_of(const ehal_instance *inst, const sock *s) {
  return now_ms() + (s->timeout_ms ? s->timeout_ms : inst->socket_timeout_ms);
}

/* Wait until one of the descriptors has its events, at the latest until
 * deadline, waking each second to see whether the instance was
 * interrupted.  1 ready, 0 timed out, -1 interrupted (or a poll error:
 * errno says). */
static int wait_fds(ehal_instance *inst, struct pollfd *p, size_t n, uint64_t deadline) {
  for (;;) {
    uint64_t now = now_ms();
    uint64_t left = deadline > now ? deadline - now : 0;
    int rc = poll(p, n, left > 1000 ? 1000 : (int)left);
    if (rc > 0) return 1;
    if (rc < 0 && errno != EINTR) return -1;
    if (ehal_engine_interrupt_pending(inst->eng)) {
      errno = EINTR;
      return -1;
    }
    if (rc == 0 && left <= 1000) return 0;
  }
}

static int wait_fd(ehal_instance *inst, int fd, short events, uint64_t deadline) {
  struct pollfd p = {.fd = fd, .events = events};
  return wait_fds(inst, &p, 1, deadline);
}

/* The reason a wait ended without the socket being ready. */
static const char *wait_failure(ehal_instance *inst, int rc) {
  (void)inst;
  if (rc == 0) return "timed out";
  return errno == EINTR ? "interrupted" : strerror(errno);
}

/* Wait for fd within deadline, firing DTLS retransmissions as their timer
 * runs out on the way: 0 ready, or -1 with the reason. */
static int wait_tls(ehal_instance *inst, ehal_tls *t, int fd, short events, uint64_t deadline,
                    char *err, size_t errlen) {
  for (;;) {
    long timer = ehal_tls_timer_ms(t);
    uint64_t until = deadline, now = now_ms();
    if (timer >= 0 && now + (uint64_t)timer < until) until = now + (uint64_t)timer;
    int w = wait_fd(inst, fd, events, until);
    if (w == 1) return 0;
    if (w == 0 && until < deadline) {
      ehal_tls_timer_fire(t); /* a flight was lost: send it again */
      continue;
    }
    snprintf(err, errlen, "%s", wait_failure(inst, w));
    return -1;
  }
}

/* Drive a TLS handshake, read or write until it is done: 0, or -1 with the
 * reason in err (a TLS error, "timed out", "interrupted"). */
typedef enum { OP_HANDSHAKE, OP_READ, OP_WRITE, OP_WRITE_NOWAIT } tls_op;

static int tls_drive(ehal_instance *inst, sock *s, tls_op op, void *buf, size_t len, size_t *n,
                     char *err, size_t errlen) {
  uint64_t deadline = deadline_of(inst, s);
  for (;;) {
    short ev = 0;
    int r = op == OP_HANDSHAKE ? ehal_tls_handshake(s->tls, &ev, err, errlen)
            : op == OP_READ    ? ehal_tls_read(s->tls, buf, len, n, &ev, err, errlen)
                               : ehal_tls_write(s->tls, buf, len, n, &ev, err, errlen);
    if (r != EHAL_TLS_WANT) return r == EHAL_TLS_DONE ? 0 : -1;
    if (op == OP_WRITE_NOWAIT) { /* would wait: nothing written this time */
      *n = 0;
      return 0;
    }
    if (wait_tls(inst, s->tls, s->fd, ev, deadline, err, errlen) != 0) return -1;
  }
}

#define EHAL_TLS_CONFIG_MAX (1u << 20)

/* TLS contexts from the operator's configuration, with a guest's own
 * settings (configure-tls) over them when guest is not NULL; NULL with the
 * reason. */
static ehal_tls_ctx *make_tls_ctx(ehal_instance *inst, const ehal_sockets_tls_config_t *guest,
                                  char *err, size_t errlen) {
  ehal_ratls_subject subj = {
      .world = inst->world, .workload = inst->workload, .state_dir = inst->state_dir};
  const char *hex = inst->module ? elastic_hal_module_sha384(inst->module) : NULL;
  if (inst->tls_attested && ehal_attest_sha384_from_hex(hex, subj.module_sha384) != 0) {
    snprintf(err, errlen, "attested TLS: the workload's module identity is unknown");
    return NULL;
  }
  ehal_tls_config cfg = {.ca_file = inst->tls_ca_file,
                         .identity_p12 = inst->tls_identity,
                         .identity_password = inst->tls_identity_password,
                         .attested = inst->tls_attested ? &subj : NULL};
  char password[256], alpn[256];
  if (guest) {
    /* the guest's bytes go to OpenSSL whole: bound them first */
    if (guest->trust_anchors_pem.len > EHAL_TLS_CONFIG_MAX ||
        guest->identity_pkcs12.len > EHAL_TLS_CONFIG_MAX ||
        guest->identity_chain_pem.len > EHAL_TLS_CONFIG_MAX) {
      snprintf(err, errlen, "limit exceeded: anchors, PKCS#12 and chain of at most %u bytes each",
               EHAL_TLS_CONFIG_MAX);
      return NULL;
    }
    if (guest->identity_password.len >= sizeof password || guest->alpn.len >= sizeof alpn ||
        memchr(guest->identity_password.ptr, 0, guest->identity_password.len) ||
        memchr(guest->alpn.ptr, 0, guest->alpn.len)) {
      snprintf(err, errlen, "the password and alpn must be under 256 bytes, without NUL");
      return NULL;
    }
    memcpy(password, guest->identity_password.ptr, guest->identity_password.len);
    password[guest->identity_password.len] = 0;
    memcpy(alpn, guest->alpn.ptr, guest->alpn.len);
    alpn[guest->alpn.len] = 0;
    cfg.ca_pem = guest->trust_anchors_pem.ptr;
    cfg.ca_pem_len = guest->trust_anchors_pem.len;
    cfg.identity_p12_bytes = guest->identity_pkcs12.ptr;
    cfg.identity_p12_len = guest->identity_pkcs12.len;
    if (guest->identity_key_context) {
      const char *why = NULL;
      if (cfg.identity_p12_len) {
        snprintf(err, errlen, "give an identity as PKCS#12 or as a key context, not both");
        return NULL;
      }
      if (!(cfg.identity_key =
                ehal_crypto_context_signing_key(inst, guest->identity_key_context, &why))) {
        snprintf(err, errlen, "identity-key-context: %s", why);
        return NULL;
      }
      cfg.identity_chain_pem = guest->identity_chain_pem.ptr;
      cfg.identity_chain_len = guest->identity_chain_pem.len;
    }
    if (cfg.identity_p12_len) cfg.identity_password = password;
    cfg.require_peer_cert = guest->require_peer_certificate;
    cfg.alpn = alpn;
  }
  ehal_tls_ctx *c = ehal_tls_ctx_new(&cfg, err, errlen);
  OPENSSL_cleanse(password, sizeof password);
  EVP_PKEY_free(cfg.identity_key); /* the contexts hold their own reference */
  return c;
}

/* The workload's TLS contexts, made on first use. */
static ehal_tls_ctx *tls_ctx(ehal_instance *inst, sockets_state *st, char *err, size_t errlen) {
  if (!st->tls) st->tls = make_tls_ctx(inst, NULL, err, errlen);
  return st->tls;
}

/* The contexts a socket uses: its own (configure-tls), else the
 * workload's, made again when an attested identity has aged (connections
 * made before keep theirs: OpenSSL counts its own references). */
static ehal_tls_ctx *ctx_of(ehal_instance *inst, const sock *s) {
  if (s->own) return s->own;
  sockets_state *st = ehal_iface_state_peek(inst, EHAL_IFACE_ID_SOCKETS);
  if (st && ehal_tls_ctx_stale(st->tls)) {
    char why[512];
    ehal_tls_ctx *fresh = make_tls_ctx(inst, NULL, why, sizeof why);
    if (fresh) { /* else the old one serves on until a later try works */
      ehal_tls_ctx_free(st->tls);
      st->tls = fresh;
    }
  }
  return st ? st->tls : NULL;
}

/* Host strings a guest may ask to resolve: the characters of host names and
 * of IPv4 and IPv6 literals, at most 253 of them. */
static bool host_chars_ok(ehal_str host) {
  if (host.len == 0 || host.len > 253) return false;
  for (size_t i = 0; i < host.len; i++) {
    char c = host.ptr[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == ':'))
      return false;
  }
  return true;
}

/* Resolve a guest's address for a socket of proto.  *res to freeaddrinfo;
 * NULL with the reason in the arena (*why) on failure. */
static struct addrinfo *resolve(ehal_instance *inst, const sock *s, ehal_sockets_address_t addr,
                                bool passive, ehal_str *why) {
  if (!host_chars_ok(addr.ip)) {
    *why = ehal_str_fmt(inst, "invalid address: not an IP address or host name");
    return NULL;
  }
  char host[254], port[8];
  memcpy(host, addr.ip.ptr, addr.ip.len);
  host[addr.ip.len] = 0;
  snprintf(port, sizeof port, "%u", addr.port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC,
                           .ai_socktype = stream(s) ? SOCK_STREAM : SOCK_DGRAM,
                           .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
  struct addrinfo *res = NULL;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    *why = ehal_str_fmt(inst, "cannot resolve %s: %s", host, gai_strerror(rc));
    return NULL;
  }
  return res;
}

/* "HOST:PORT" as the guest gave it, with the address it resolved to when
 * that reads differently ("localhost:9 (127.0.0.1:9)"), for messages. */
static ehal_str shown_addr(ehal_instance *inst, ehal_sockets_address_t addr, const char *used) {
  char given[280];
  bool v6 = memchr(addr.ip.ptr, ':', addr.ip.len) != NULL;
  snprintf(given, sizeof given, v6 ? "[%.*s]:%u" : "%.*s:%u", (int)addr.ip.len, addr.ip.ptr,
           addr.port);
  return strcmp(given, used) ? ehal_str_fmt(inst, "%s (%s)", given, used)
                             : ehal_str_fmt(inst, "%s", used);
}

static int open_fd(const sock *s, int family) {
  return socket(family, (stream(s) ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

void ehal_impl_sockets_create_socket(ehal_instance *inst, ehal_sockets_protocol_t protocol,
                                     ehal_sockets_result_socket_handle_string_t *ret) {
  sockets_state *st = ehal_iface_state(inst, EHAL_IFACE_ID_SOCKETS);
  if (!st) EHAL_FAIL(ret, "out of memory for the sockets interface state");
  char why[512];
  if ((protocol == EHAL_SOCKETS_PROTOCOL_TLS || protocol == EHAL_SOCKETS_PROTOCOL_DTLS) &&
      !tls_ctx(inst, st, why, sizeof why))
    EHAL_FAIL(ret, "%s: %s", proto_name(protocol), why);
  sock *s = calloc(1, sizeof *s);
  if (!s) EHAL_FAIL(ret, "out of memory");
  s->fd = -1;
  s->proto = protocol;
  ret->val = ehal_handle_new(&st->socks, s);
  if (!ret->val) {
    free(s);
    EHAL_FAIL(ret, "limit exceeded: open sockets (at most %u per workload)", inst->max_sockets);
  }
}

#define GET_SOCK(s, h, ret)      \
  sock *s = get_sock(inst, (h)); \
  if (!s) EHAL_FAIL(ret, "invalid socket handle");

void ehal_impl_sockets_bind(ehal_instance *inst, uint64_t socket, ehal_sockets_address_t addr,
                            ehal_sockets_result_void_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (s->state != S_FRESH) EHAL_FAIL(ret, "bind: the socket is already bound or connected");
  ehal_str why;
  struct addrinfo *res = resolve(inst, s, addr, true, &why);
  if (!res) EHAL_FAIL(ret, "bind: %.*s", (int)why.len, why.ptr);
  char shown[80] = "";
  int err = 0;
  bool allowed_any = false;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    ehal_net_format(a->ai_addr, shown, sizeof shown);
    if (!ehal_net_allowed(inst->net, EHAL_NET_BIND, a->ai_addr)) continue;
    allowed_any = true;
    int fd = open_fd(s, a->ai_family);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    /* a port a workload left (it ended, or trapped) is free at once */
    if (stream(s)) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* a DTLS server gives each client a socket on its own port: sharing
     * it needs SO_REUSEPORT, which Linux allows only within one user */
    if (dtls(s)) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0) {
      s->fd = fd;
      s->state = S_BOUND;
      break;
    }
    err = errno;
    close(fd);
  }
  freeaddrinfo(res);
  if (!allowed_any) {
    ehal_str a = shown_addr(inst, addr, shown);
    EHAL_FAIL(ret, "bind %.*s refused: not allowed by --allow-bind", (int)a.len, a.ptr);
  }
  if (s->state != S_BOUND) EHAL_FAIL(ret, "bind %s: %s", shown, strerror(err));
}

/* connect on a non-blocking descriptor, waiting for TCP's handshake: 0, or
 * -1 with the reason (-2: interrupted, try no other address). */
static int connect_fd(ehal_instance *inst, const sock *s, int fd, const struct addrinfo *a,
                      const char **why) {
  if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) return 0;
  if (errno != EINPROGRESS) {
    *why = strerror(errno);
    return -1;
  }
  int w = wait_fd(inst, fd, POLLOUT, deadline_of(inst, s));
  if (w != 1) {
    *why = wait_failure(inst, w);
    return w < 0 && errno == EINTR ? -2 : -1;
  }
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
  if (soerr) {
    *why = strerror(soerr);
    return -1;
  }
  return 0;
}

/* An attested peer: its certificate's evidence against the socket's policy. */
static int check_attested(sock *s, char *why, size_t n) {
  size_t len = 0;
  uint8_t *der = ehal_tls_peer_der(s->tls, &len);
  if (!der) {
    snprintf(why, n, "attested peer refused: it presented no certificate");
    return -1;
  }
  int rc = ehal_ratls_check_peer(der, len, s->attested, why, n);
  free(der);
  return rc;
}

void ehal_impl_sockets_connect(ehal_instance *inst, uint64_t socket, ehal_sockets_address_t addr,
                               ehal_sockets_result_void_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (s->state == S_LISTENING || s->state == S_CONNECTED || (s->state == S_BOUND && stream(s)))
    EHAL_FAIL(ret, "connect: the socket is %s",
              s->state == S_LISTENING   ? "listening"
              : s->state == S_CONNECTED ? "already connected"
                                        : "bound (a TCP socket either connects or listens)");
  ehal_str why;
  struct addrinfo *res = resolve(inst, s, addr, false, &why);
  if (!res) EHAL_FAIL(ret, "connect: %.*s", (int)why.len, why.ptr);
  char shown[80] = "";
  const char *fail = NULL;
  bool allowed_any = false;
  for (struct addrinfo *a = res; a && s->state != S_CONNECTED; a = a->ai_next) {
    ehal_net_format(a->ai_addr, shown, sizeof shown);
    if (!ehal_net_allowed(inst->net, EHAL_NET_CONNECT, a->ai_addr)) continue;
    allowed_any = true;
    /* a bound UDP socket connects from its own descriptor, of its family */
    int fd = s->fd >= 0 ? s->fd : open_fd(s, a->ai_family);
    if (fd < 0) {
      fail = strerror(errno);
      continue;
    }
    int rc = connect_fd(inst, s, fd, a, &fail);
    if (rc == 0) {
      s->fd = fd;
      s->state = S_CONNECTED;
    } else if (fd != s->fd) {
      close(fd);
    }
    if (rc == -2) break;
  }
  freeaddrinfo(res);
  if (!allowed_any) {
    ehal_str a = shown_addr(inst, addr, shown);
    EHAL_FAIL(ret, "connect %.*s refused: not allowed by --allow-connect", (int)a.len, a.ptr);
  }
  if (s->state != S_CONNECTED) EHAL_FAIL(ret, "connect %s: %s", shown, fail ? fail : "failed");
  if (stream(s)) {
    int one = 1; /* small writes go out at once: the guest decides its framing */
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (secure(s)) {
    /* the certificate must be for the name the guest gave, as given */
    char host[254], why[512];
    snprintf(host, sizeof host, "%.*s", (int)addr.ip.len, addr.ip.ptr);
    s->tls = ehal_tls_client(ctx_of(inst, s), s->fd, host, dtls(s), why, sizeof why);
    if (s->tls && s->attested) ehal_tls_expect_attested(s->tls);
    if (!s->tls || tls_drive(inst, s, OP_HANDSHAKE, NULL, 0, NULL, why, sizeof why) != 0 ||
        (s->attested && check_attested(s, why, sizeof why) != 0)) {
      /* no half-open TLS socket: it is fresh again, and may connect anew */
      ehal_tls_close(s->tls);
      s->tls = NULL;
      close(s->fd);
      s->fd = -1;
      s->state = S_FRESH;
      EHAL_FAIL(ret, "connect %.*s: %s", (int)addr.ip.len, addr.ip.ptr, why);
    }
  }
}

#define EHAL_SOCKET_MAX_BACKLOG 1024u

void ehal_impl_sockets_listen(ehal_instance *inst, uint64_t socket, uint32_t backlog,
                              ehal_sockets_result_void_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (!stream(s) && !dtls(s))
    EHAL_FAIL(ret, "listen: a %s socket does not listen", proto_name(s->proto));
  if (s->state != S_BOUND) EHAL_FAIL(ret, "listen: bind the socket first");
  if (s->attested) EHAL_FAIL(ret, "listen: require-attested-peer is for a socket that connects");
  if (secure(s) && !ehal_tls_ctx_has_identity(ctx_of(inst, s)))
    EHAL_FAIL(ret,
              "listen: a %s server needs an identity, and the operator gave none "
              "(--tls-identity FILE.p12)",
              dtls(s) ? "DTLS" : "TLS");
  if (dtls(s)) { /* no listen(2) for datagrams: accept runs the cookie exchange */
    s->state = S_LISTENING;
    return;
  }
  if (backlog > EHAL_SOCKET_MAX_BACKLOG)
    EHAL_FAIL(ret, "limit exceeded: a backlog of %u (at most %u pending connections)", backlog,
              EHAL_SOCKET_MAX_BACKLOG);
  if (listen(s->fd, backlog ? (int)backlog : 128) != 0)
    EHAL_FAIL(ret, "listen: %s", strerror(errno));
  s->state = S_LISTENING;
}

/* A DTLS client for a listening socket: the cookie exchange (stateless),
 * then a UDP descriptor of its own, bound to the listening address and
 * connected to the client, where the handshake goes on.  The descriptor,
 * with *conn the connection over it; -1 with the reason. */
static int dtls_accept(ehal_instance *inst, sock *s, ehal_tls **conn, char *err, size_t errlen) {
  if (!s->listener && !(s->listener = ehal_dtls_listener(ctx_of(inst, s), s->fd, err, errlen)))
    return -1;
  uint64_t deadline = deadline_of(inst, s);
  struct sockaddr_storage peer;
  for (;;) {
    short ev = POLLIN;
    int r = ehal_dtls_listen(s->listener, &peer, &ev, err, errlen);
    if (r == EHAL_TLS_DONE) break;
    if (r == EHAL_TLS_ERROR) return -1;
    int w = wait_fd(inst, s->fd, ev, deadline);
    if (w != 1) {
      snprintf(err, errlen, "%s", wait_failure(inst, w));
      return -1;
    }
  }
  struct sockaddr_storage local;
  socklen_t llen = sizeof local;
  int one = 1, fd = -1;
  socklen_t plen =
      peer.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  if (getsockname(s->fd, (struct sockaddr *)&local, &llen) != 0 ||
      (fd = open_fd(s, local.ss_family)) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&local, llen) != 0 ||
      connect(fd, (struct sockaddr *)&peer, plen) != 0 ||
      ehal_dtls_adopt(s->listener, fd, err, errlen) != 0) {
    if (!err[0]) snprintf(err, errlen, "%s", strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  *conn = s->listener; /* the listener becomes the connection */
  s->listener = NULL;
  return fd;
}

static void accept_conn(ehal_instance *inst, uint64_t socket,
                        ehal_sockets_result_socket_handle_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (s->state != S_LISTENING) EHAL_FAIL(ret, "accept: the socket is not listening");
  sockets_state *st = ehal_iface_state_peek(inst, EHAL_IFACE_ID_SOCKETS);
  if (dtls(s)) {
    char why[512] = "";
    ehal_tls *conn = NULL;
    int fd = dtls_accept(inst, s, &conn, why, sizeof why);
    if (fd < 0) EHAL_FAIL(ret, "accept: %s", why);
    sock *c = calloc(1, sizeof *c);
    if (!c) {
      ehal_tls_close(conn);
      close(fd);
      EHAL_FAIL(ret, "out of memory");
    }
    *c = (sock){.fd = fd,
                .proto = s->proto,
                .state = S_CONNECTED,
                .tls = conn,
                .timeout_ms = s->timeout_ms,
                .own = ehal_tls_ctx_ref(s->own)};
    if (!(ret->val = ehal_handle_new(&st->socks, c))) {
      sock_destroy(c);
      EHAL_FAIL(ret, "limit exceeded: open sockets (at most %u per workload)", inst->max_sockets);
    }
    if (tls_drive(inst, c, OP_HANDSHAKE, NULL, 0, NULL, why, sizeof why) != 0) {
      sock_destroy(ehal_handle_take(&st->socks, ret->val));
      ret->val = 0;
      EHAL_FAIL(ret, "accept: %s", why);
    }
    return;
  }
  int fd;
  while ((fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
      EHAL_FAIL(ret, "accept: %s", strerror(errno));
    int w = wait_fd(inst, s->fd, POLLIN, deadline_of(inst, s));
    if (w != 1) EHAL_FAIL(ret, "accept: %s", wait_failure(inst, w));
  }
  sock *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    EHAL_FAIL(ret, "out of memory");
  }
  c->fd = fd;
  c->proto = s->proto;
  c->state = S_CONNECTED;
  c->timeout_ms = s->timeout_ms; /* a connection waits as its listener does */
  ret->val = ehal_handle_new(&st->socks, c);
  if (!ret->val) {
    sock_destroy(c); /* the peer sees the connection closed */
    EHAL_FAIL(ret, "limit exceeded: open sockets (at most %u per workload)", inst->max_sockets);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (s->proto == EHAL_SOCKETS_PROTOCOL_TLS) {
    char why[512];
    c->own = ehal_tls_ctx_ref(s->own);
    c->tls = ehal_tls_server(ctx_of(inst, c), fd, why, sizeof why);
    if (!c->tls || tls_drive(inst, c, OP_HANDSHAKE, NULL, 0, NULL, why, sizeof why) != 0) {
      /* the connection goes; the listening socket stays */
      sock_destroy(ehal_handle_take(&st->socks, ret->val));
      ret->val = 0;
      EHAL_FAIL(ret, "accept: %s", why);
    }
  }
}

static void send_impl(ehal_instance *inst, uint64_t socket, ehal_bytes data,
                      ehal_sockets_result_u32_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (s->state != S_CONNECTED)
    EHAL_FAIL(ret, "send: the socket is not connected%s",
              stream(s) ? "" : " (connect fixes a UDP socket's peer)");
  if (s->tls) {
    char why[512];
    size_t total = 0;
    /* what an earlier send left half-written goes first */
    if (s->wpend_len) {
      size_t n = 0;
      while (s->wpend_len &&
             tls_drive(inst, s, OP_WRITE, s->wpend, s->wpend_len, &n, why, sizeof why) == 0) {
        memmove(s->wpend, s->wpend + n, s->wpend_len - n);
        s->wpend_len -= n;
      }
      if (s->wpend_len) EHAL_FAIL(ret, "send: %s", why);
    }
    /* record after record until all is sent, or the peer stops taking
     * data after some went: then what went is the answer, not a wait */
    while (total < data.len) {
      size_t n = 0, chunk = data.len - total;
      if (total && dtls(s)) break; /* a datagram is one record */
      if (total && chunk > TLS_RECORD) chunk = TLS_RECORD;
      if (tls_drive(inst, s, total ? OP_WRITE_NOWAIT : OP_WRITE, (void *)(data.ptr + total), chunk,
                    &n, why, sizeof why) != 0) {
        if (total) break;
        EHAL_FAIL(ret, "send: %s", why);
      }
      if (n == 0) {
        /* OpenSSL made the record and could not send it all: it must be
         * offered the same bytes again, so they are kept, counted as sent,
         * and finished first by the next send */
        if (!s->wpend && !(s->wpend = malloc(TLS_RECORD))) EHAL_FAIL(ret, "out of memory");
        memcpy(s->wpend, data.ptr + total, chunk);
        s->wpend_len = chunk;
        total += chunk;
        break;
      }
      total += n;
    }
    ret->val = (uint32_t)total;
    return;
  }
  uint64_t deadline = deadline_of(inst, s);
  for (;;) {
    ssize_t n = send(s->fd, data.ptr, data.len, MSG_NOSIGNAL);
    if (n >= 0) {
      ret->val = (uint32_t)n; /* data.len fits: a guest list is under 4 GiB */
      return;
    }
    if (errno == EMSGSIZE) EHAL_FAIL(ret, "send: a datagram of %zu bytes is too large", data.len);
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      EHAL_FAIL(ret, "send: %s", strerror(errno));
    int w = wait_fd(inst, s->fd, POLLOUT, deadline);
    if (w != 1) EHAL_FAIL(ret, "send: %s", wait_failure(inst, w));
  }
}

#define EHAL_SOCKET_MAX_RECEIVE (1u << 20)

static void receive_impl(ehal_instance *inst, uint64_t socket, uint32_t max_len,
                         ehal_sockets_result_list_u8_string_t *ret) {
  GET_SOCK(s, socket, ret);
  /* a bound UDP socket receives from anyone; a DTLS one only once connected */
  if (s->state != S_CONNECTED && !(s->state == S_BOUND && s->proto == EHAL_SOCKETS_PROTOCOL_UDP))
    EHAL_FAIL(ret, "receive: the socket is not connected");
  if (max_len == 0) EHAL_FAIL(ret, "receive: max-len must be at least 1");
  if (max_len > EHAL_SOCKET_MAX_RECEIVE)
    EHAL_FAIL(ret, "limit exceeded: receive of %u bytes (at most %u per call)", max_len,
              EHAL_SOCKET_MAX_RECEIVE);
  if (s->eof) return; /* an empty list, again: the peer is done */
  uint8_t *buf = ehal_arena_alloc(inst, max_len);
  EHAL_NEED(buf);
  if (s->tls) {
    char why[512];
    size_t n = 0;
    if (tls_drive(inst, s, OP_READ, buf, max_len, &n, why, sizeof why) != 0)
      EHAL_FAIL(ret, "receive: %s", why);
    if (n == 0) s->eof = true; /* close_notify: the empty list */
    ret->val.ptr = buf;
    ret->val.len = n;
    return;
  }
  uint64_t deadline = deadline_of(inst, s);
  for (;;) {
    ssize_t n = recv(s->fd, buf, max_len, 0);
    if (n > 0 || (n == 0 && stream(s))) {
      if (n == 0) s->eof = true; /* orderly shutdown: the empty list */
      ret->val.ptr = buf;
      ret->val.len = (size_t)n;
      return;
    }
    if (n == 0) { /* an empty datagram */
      ret->val.ptr = buf;
      ret->val.len = 0;
      return;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      EHAL_FAIL(ret, "receive: %s", strerror(errno));
    int w = wait_fd(inst, s->fd, POLLIN, deadline);
    if (w != 1) EHAL_FAIL(ret, "receive: %s", wait_failure(inst, w));
  }
}

void ehal_impl_sockets_close(ehal_instance *inst, uint64_t socket,
                             ehal_sockets_result_void_string_t *ret) {
  sockets_state *st = ehal_iface_state_peek(inst, EHAL_IFACE_ID_SOCKETS);
  sock *s = st ? ehal_handle_take(&st->socks, socket) : NULL;
  if (!s) EHAL_FAIL(ret, "invalid socket handle");
  /* a record send reported sent and OpenSSL could not finish yet goes
   * out before the connection ends (within the socket's time bound) */
  char why[512] = "";
  while (s->wpend_len) {
    size_t n = 0;
    if (tls_drive(inst, s, OP_WRITE, s->wpend, s->wpend_len, &n, why, sizeof why) != 0) break;
    memmove(s->wpend, s->wpend + n, s->wpend_len - n);
    s->wpend_len -= n;
  }
  size_t lost = s->wpend_len;
  sock_destroy(s);
  if (lost) EHAL_FAIL(ret, "close: %zu bytes sent earlier could not be delivered: %s", lost, why);
}

/* ---- 0.1.1: readiness, time bounds, datagrams to and from any peer,
 * addresses ---- */

/* An address as the guest's record: the IP literal (in the arena) and port. */
static ehal_sockets_address_t address_of(ehal_instance *inst, const struct sockaddr *sa) {
  char ip[INET6_ADDRSTRLEN] = "";
  ehal_sockets_address_t a = {EHAL_STR(""), 0};
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
    a.port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
    a.port = ntohs(in6->sin6_port);
  }
  a.ip = ehal_str_fmt(inst, "%s", ip);
  return a;
}

void ehal_impl_sockets_poll(ehal_instance *inst, ehal_sockets_list_poll_entry_t entries,
                            uint32_t timeout_ms,
                            ehal_sockets_result_list_poll_entry_string_t *ret) {
  if (entries.len > inst->max_sockets)
    EHAL_FAIL(ret, "limit exceeded: poll of %zu sockets (at most %u)", entries.len,
              inst->max_sockets);
  size_t n = entries.len;
  struct pollfd *p = ehal_stage(inst, n ? n : 1, sizeof *p);
  ehal_sockets_poll_entry_t *out = ehal_stage(inst, n ? n : 1, sizeof *out);
  EHAL_NEED(p);
  EHAL_NEED(out);
  bool ready_now = false;
  for (size_t i = 0; i < n; i++) {
    const ehal_sockets_poll_entry_t *e = &entries.ptr[i];
    sock *s = get_sock(inst, e->socket);
    if (!s) EHAL_FAIL(ret, "poll: entry %zu: invalid socket handle", i);
    out[i] = (ehal_sockets_poll_entry_t){e->socket, false, false};
    p[i] = (struct pollfd){
        .fd = s->fd, .events = (short)((e->readable ? POLLIN : 0) | (e->writable ? POLLOUT : 0))};
    /* what is readable without the descriptor: decrypted data TLS holds,
     * an end already seen */
    if (e->readable && (s->eof || (s->tls && ehal_tls_pending(s->tls)))) {
      out[i].readable = true;
      ready_now = true;
    }
  }
  /* no call waits past the node's socket timeout: a longer wait is a
   * shorter one that the guest repeats */
  uint64_t wait = timeout_ms < inst->socket_timeout_ms ? timeout_ms : inst->socket_timeout_ms;
  int w = wait_fds(inst, p, n, ready_now ? now_ms() : now_ms() + wait);
  if (w < 0 && errno == EINTR) EHAL_FAIL(ret, "poll: interrupted");
  if (w < 0) EHAL_FAIL(ret, "poll: %s", strerror(errno));
  for (size_t i = 0; i < n && w == 1; i++) {
    short r = p[i].revents;
    if (r & (POLLIN | POLLHUP | POLLERR)) out[i].readable |= entries.ptr[i].readable;
    if (r & (POLLOUT | POLLERR)) out[i].writable = entries.ptr[i].writable;
  }
  ret->val.ptr = out;
  ret->val.len = n;
}

void ehal_impl_sockets_set_timeout(ehal_instance *inst, uint64_t socket, uint32_t timeout_ms,
                                   ehal_sockets_result_void_string_t *ret) {
  GET_SOCK(s, socket, ret);
  /* within the operator's bound: no call waits past --socket-timeout */
  s->timeout_ms = timeout_ms < inst->socket_timeout_ms ? timeout_ms : inst->socket_timeout_ms;
}

static void send_to_impl(ehal_instance *inst, uint64_t socket, ehal_bytes data,
                         ehal_sockets_address_t peer, ehal_sockets_result_u32_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (s->proto != EHAL_SOCKETS_PROTOCOL_UDP)
    EHAL_FAIL(ret, "send-to: only for UDP sockets (a %s socket sends to its peer)",
              proto_name(s->proto));
  if (s->state == S_CONNECTED) EHAL_FAIL(ret, "send-to: the socket is connected: use send");
  ehal_str why;
  struct addrinfo *res = resolve(inst, s, peer, false, &why);
  if (!res) EHAL_FAIL(ret, "send-to: %.*s", (int)why.len, why.ptr);
  char shown[80] = "";
  bool allowed_any = false;
  int err = 0;
  ssize_t sent = -1;
  for (struct addrinfo *a = res; a && sent < 0; a = a->ai_next) {
    ehal_net_format(a->ai_addr, shown, sizeof shown);
    if (!ehal_net_allowed(inst->net, EHAL_NET_CONNECT, a->ai_addr)) continue;
    allowed_any = true;
    if (s->fd < 0) { /* the kernel binds an ephemeral port on the first send */
      if ((s->fd = open_fd(s, a->ai_family)) < 0) {
        err = errno;
        continue;
      }
      s->state = S_BOUND;
    }
    sent =
        sendto(s->fd, data.ptr, data.len, MSG_NOSIGNAL | MSG_DONTWAIT, a->ai_addr, a->ai_addrlen);
    if (sent < 0) err = errno;
  }
  freeaddrinfo(res);
  if (!allowed_any) {
    ehal_str a = shown_addr(inst, peer, shown);
    EHAL_FAIL(ret, "send-to %.*s refused: not allowed by --allow-connect", (int)a.len, a.ptr);
  }
  if (sent < 0) EHAL_FAIL(ret, "send-to %s: %s", shown, strerror(err));
  ret->val = (uint32_t)sent;
}

static void receive_from_impl(ehal_instance *inst, uint64_t socket, uint32_t max_len,
                              ehal_sockets_result_datagram_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (s->proto != EHAL_SOCKETS_PROTOCOL_UDP) EHAL_FAIL(ret, "receive-from: only for UDP sockets");
  if (s->fd < 0) EHAL_FAIL(ret, "receive-from: bind the socket first (or send-to)");
  if (max_len == 0) EHAL_FAIL(ret, "receive-from: max-len must be at least 1");
  if (max_len > EHAL_SOCKET_MAX_RECEIVE)
    EHAL_FAIL(ret, "limit exceeded: receive of %u bytes (at most %u per call)", max_len,
              EHAL_SOCKET_MAX_RECEIVE);
  uint8_t *buf = ehal_arena_alloc(inst, max_len);
  EHAL_NEED(buf);
  uint64_t deadline = deadline_of(inst, s);
  for (;;) {
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(s->fd, buf, max_len, 0, (struct sockaddr *)&from, &flen);
    if (n >= 0) {
      ret->val.data.ptr = buf;
      ret->val.data.len = (size_t)n;
      ret->val.peer = address_of(inst, (struct sockaddr *)&from);
      return;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      EHAL_FAIL(ret, "receive-from: %s", strerror(errno));
    int w = wait_fd(inst, s->fd, POLLIN, deadline);
    if (w != 1) EHAL_FAIL(ret, "receive-from: %s", wait_failure(inst, w));
  }
}

/* local-address and peer-address: getsockname or getpeername. */
static void address_call(ehal_instance *inst, uint64_t socket, bool peer,
                         ehal_sockets_result_address_string_t *ret) {
  const char *what = peer ? "peer-address" : "local-address";
  GET_SOCK(s, socket, ret);
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  if (s->fd < 0) EHAL_FAIL(ret, "%s: the socket is not bound or connected", what);
  if ((peer ? getpeername(s->fd, (struct sockaddr *)&a, &len)
            : getsockname(s->fd, (struct sockaddr *)&a, &len)) != 0)
    EHAL_FAIL(ret, "%s: %s", what,
              errno == ENOTCONN ? "the socket is not connected" : strerror(errno));
  ret->val = address_of(inst, (struct sockaddr *)&a);
}

void ehal_impl_sockets_local_address(ehal_instance *inst, uint64_t socket,
                                     ehal_sockets_result_address_string_t *ret) {
  address_call(inst, socket, false, ret);
}

void ehal_impl_sockets_peer_address(ehal_instance *inst, uint64_t socket,
                                    ehal_sockets_result_address_string_t *ret) {
  address_call(inst, socket, true, ret);
}

/* A policy string into buf: at most max bytes, no NUL inside. */
static bool policy_field(ehal_str v, char *buf, size_t size) {
  if (v.len >= size || memchr(v.ptr, 0, v.len)) return false;
  memcpy(buf, v.ptr, v.len);
  buf[v.len] = 0;
  return true;
}

void ehal_impl_sockets_require_attested_peer(ehal_instance *inst, uint64_t socket,
                                             ehal_sockets_attested_peer_policy_t policy,
                                             ehal_sockets_result_void_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (!secure(s)) EHAL_FAIL(ret, "require-attested-peer: only for tls and dtls sockets");
  if (s->state != S_FRESH && s->state != S_BOUND)
    EHAL_FAIL(ret, "require-attested-peer: before connect");
  ehal_ratls_policy *p = calloc(1, sizeof *p);
  if (!p) EHAL_FAIL(ret, "out of memory");
  p->allow_simulated = policy.allow_simulated;
  uint8_t sha[48];
  if (!policy_field(policy.module_sha384, p->module_sha384, sizeof p->module_sha384) ||
      (p->module_sha384[0] && ehal_attest_sha384_from_hex(p->module_sha384, sha) != 0) ||
      !policy_field(policy.world_name, p->world, sizeof p->world) ||
      !policy_field(policy.workload, p->workload, sizeof p->workload)) {
    free(p);
    EHAL_FAIL(ret,
              "require-attested-peer: module-sha384 must be 96 hex digits or empty, world and "
              "workload under 256 bytes");
  }
  free(s->attested);
  s->attested = p;
}

void ehal_impl_sockets_configure_tls(ehal_instance *inst, uint64_t socket,
                                     ehal_sockets_tls_config_t config,
                                     ehal_sockets_result_void_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (!secure(s)) EHAL_FAIL(ret, "configure-tls: only for tls and dtls sockets");
  if (s->state != S_FRESH && s->state != S_BOUND)
    EHAL_FAIL(ret, "configure-tls: before connect or listen");
  char why[512];
  ehal_tls_ctx *c = make_tls_ctx(inst, &config, why, sizeof why);
  if (!c) EHAL_FAIL(ret, "configure-tls: %s", why);
  ehal_tls_ctx_free(s->own);
  s->own = c;
}

void ehal_impl_sockets_peer_certificate(ehal_instance *inst, uint64_t socket,
                                        ehal_sockets_result_list_u8_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (!s->tls) EHAL_FAIL(ret, "peer-certificate: not a connected tls or dtls socket");
  size_t len = 0;
  uint8_t *der = ehal_tls_peer_der(s->tls, &len);
  if (!der) return; /* none: the empty list */
  uint8_t *out = ehal_arena_alloc(inst, len);
  if (out) memcpy(out, der, len);
  free(der);
  EHAL_NEED(out);
  ret->val.ptr = out;
  ret->val.len = len;
}

void ehal_impl_sockets_alpn_protocol(ehal_instance *inst, uint64_t socket,
                                     ehal_sockets_result_string_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (!s->tls) EHAL_FAIL(ret, "alpn-protocol: not a connected tls or dtls socket");
  size_t len = 0;
  const uint8_t *p = ehal_tls_alpn(s->tls, &len);
  /* a protocol name is the peer's bytes: only printable ASCII goes on */
  for (size_t i = 0; i < len; i++)
    if (p[i] < 0x21 || p[i] > 0x7e) EHAL_FAIL(ret, "alpn-protocol: the agreed name is not text");
  ret->val = ehal_str_fmt(inst, "%.*s", (int)len, (const char *)p);
}

void ehal_impl_sockets_accept(ehal_instance *inst, uint64_t socket,
                              ehal_sockets_result_socket_handle_string_t *ret) {
  accept_conn(inst, socket, ret);
  if (!ret->is_err && ret->val)
    ehal_emit_event(inst, EHAL_EVENTS_EVENT_TYPE_NETWORK, "connection-accepted", NULL, NULL);
}

/* ---- the bandwidth budget (resources, docs/deployment.md) ----
 * A bucket of bytes refilled at inst->net_rate per second (kept as a
 * fraction: frequent calls lose nothing to rounding), holding at most a
 * second's worth.  A stream send or receive moves at most what the bucket
 * holds (waiting, within the socket's deadline, until it holds a little):
 * partial transfers are normal for streams.  A datagram to send waits
 * until the bucket holds all of it; a received one (64 KiB at most) is
 * charged once it came and may leave a small debt that the next call
 * waits out.  So no call moves more than about a second's worth. */

#define BUDGET_MIN_CHUNK 4096u /* a stream waits for this much, or all it asked */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void budget_refill(ehal_instance *inst) {
  uint64_t now = now_ns();
  if (inst->net_refilled_ns) {
    double t =
        inst->net_tokens + (double)(now - inst->net_refilled_ns) * (double)inst->net_rate / 1e9;
    inst->net_tokens = t > (double)inst->net_rate ? (double)inst->net_rate : t;
  }
  inst->net_refilled_ns = now;
}

/* Waits until the bucket holds need bytes (at most a second's worth is
 * ever needed), in slices that notice an interrupt, until deadline (ms).
 * 0, or -1 when the deadline or an interrupt comes first. */
static int budget_wait(ehal_instance *inst, double need, uint64_t deadline) {
  for (;;) {
    budget_refill(inst);
    if (inst->net_tokens >= need) return 0;
    uint64_t ns = (uint64_t)((need - inst->net_tokens) * 1e9 / (double)inst->net_rate) + 1;
    if (ns > 100000000u) ns = 100000000u; /* 100 ms slices */
    if (now_ms() + ns / 1000000u > deadline || ehal_engine_interrupt_pending(inst->eng)) return -1;
    struct timespec ts = {0, (long)ns};
    nanosleep(&ts, NULL);
  }
}

/* Before a transfer of up to *len bytes on s (whole: a datagram to send):
 * waits for the budget and lowers *len to what it allows.  0 or -1. */
static int budget_take(ehal_instance *inst, const sock *s, size_t *len, bool whole) {
  if (!inst->net_rate) return 0;
  uint64_t deadline = deadline_of(inst, s);
  if (whole) return *len > inst->net_rate ? -1 : budget_wait(inst, (double)*len, deadline);
  if (!stream(s)) return budget_wait(inst, 0, deadline); /* a datagram to receive */
  double need = *len < BUDGET_MIN_CHUNK ? (double)*len : BUDGET_MIN_CHUNK;
  if (need > (double)inst->net_rate) need = (double)inst->net_rate;
  if (budget_wait(inst, need, deadline) != 0) return -1;
  if (*len > (size_t)inst->net_tokens) *len = (size_t)inst->net_tokens;
  if (*len == 0) *len = 1;
  return 0;
}

static void budget_charge(ehal_instance *inst, size_t n) {
  if (inst->net_rate) inst->net_tokens -= (double)n;
}

#define BUDGET_FAIL(ret, what)                                                           \
  EHAL_FAIL(ret,                                                                         \
            "%s: the workload's network budget (%llu bytes/s) does not allow it within " \
            "the socket's timeout",                                                      \
            what, (unsigned long long)inst->net_rate)

void ehal_impl_sockets_send(ehal_instance *inst, uint64_t socket, ehal_bytes data,
                            ehal_sockets_result_u32_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (budget_take(inst, s, &data.len, !stream(s)) != 0) BUDGET_FAIL(ret, "send");
  send_impl(inst, socket, data, ret);
  if (!ret->is_err) budget_charge(inst, ret->val);
}

void ehal_impl_sockets_receive(ehal_instance *inst, uint64_t socket, uint32_t max_len,
                               ehal_sockets_result_list_u8_string_t *ret) {
  GET_SOCK(s, socket, ret);
  size_t len = max_len;
  if (max_len && budget_take(inst, s, &len, false) != 0) BUDGET_FAIL(ret, "receive");
  receive_impl(inst, socket, (uint32_t)len, ret);
  if (!ret->is_err) budget_charge(inst, ret->val.len);
}

void ehal_impl_sockets_send_to(ehal_instance *inst, uint64_t socket, ehal_bytes data,
                               ehal_sockets_address_t peer, ehal_sockets_result_u32_string_t *ret) {
  GET_SOCK(s, socket, ret);
  if (budget_take(inst, s, &data.len, true) != 0) BUDGET_FAIL(ret, "send-to");
  send_to_impl(inst, socket, data, peer, ret);
  if (!ret->is_err) budget_charge(inst, ret->val);
}

void ehal_impl_sockets_receive_from(ehal_instance *inst, uint64_t socket, uint32_t max_len,
                                    ehal_sockets_result_datagram_string_t *ret) {
  GET_SOCK(s, socket, ret);
  size_t len = max_len;
  if (budget_take(inst, s, &len, false) != 0) BUDGET_FAIL(ret, "receive-from");
  receive_from_impl(inst, socket, max_len, ret);
  if (!ret->is_err) budget_charge(inst, ret->val.data.len);
}
