/*
 * net_guest.c - a workload on elastic:sockets, driven by its arguments, for
 * tests/cli/sockets.sh (peers there: curl, Python's socket servers).
 *
 *   tcp-client HOST PORT MSG    connect, send MSG, print what comes back
 *                               until the peer closes
 *   tls-client HOST PORT MSG    the same over TLS
 *   http-server ADDR PORT N     serve N HTTP/1.0 requests, one at a time
 *   https-server ADDR PORT N    the same over TLS (answers "... over TLS")
 *   hold-server ADDR PORT N     accept N connections first, then answer each
 *                               (clients that connect at once)
 *   udp-client HOST PORT MSG    connect, send MSG as a datagram, print the reply
 *   dtls-client HOST PORT MSG   the same over DTLS
 *   dtls-server ADDR PORT N     N DTLS clients, one at a time: receive a
 *                               datagram, answer "pong: " and it
 *   udp-server ADDR PORT N      bind, print N datagrams as they come
 *   silent HOST PORT            connect and wait for a peer that never speaks
 *   silent-300 HOST PORT        the same with set-timeout 300 ms (0.1.1)
 *   udp-echo ADDR PORT N        bind; N times receive-from, send-to back (0.1.1)
 *   poll-echo ADDR PORT N       serve N TCP clients at once with poll (0.1.1)
 *   addresses HOST PORT         connect; print local-address and peer-address
 *   mtls-server ADDR PORT N CA P12 PASSWORD
 *                               an HTTPS server with the guest's own TLS
 *                               settings (CA and P12 in hex): it requires
 *                               client certificates, offers ALPN http/1.1
 *   keyctx-server ADDR PORT KEY CHAIN
 *                               an HTTPS server whose key is imported into
 *                               a non-exportable crypto context (KEY: the
 *                               P-256 scalar, CHAIN: PEM, both hex)
 *   tls-stream HOST PORT MIB    send MIB MiB of a pattern (byte i = i*13 % 251)
 *                               over TLS in 1 MiB sends, each resumed where
 *                               send said it stopped; then close
 *   config-client HOST PORT CA ALPN
 *                               tls-client with the guest's own anchors (hex)
 *                               and ALPN list; prints what was agreed
 *   attested-client HOST PORT SIM MODULE WORKLOAD
 *                               tls-client that requires an attested peer
 *                               (SIM 1: simulated evidence allowed; MODULE
 *                               hex or "-", WORKLOAD or "-": not checked)
 *   trap-listening ADDR PORT    listen, then trap with the socket open
 *   hostile                     bad handles, limits, refusals: a line each
 *   bad-utf8                    connect to a host string that is not UTF-8
 *
 * Every failure prints "error: <the HAL's message>" and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

typedef elastic_sockets_socket_handle_t sock_t;

static int fail(const char *what, elastic_string_t *err) {
  printf("error: %s: %.*s\n", what, (int)err->len, err->ptr);
  elastic_string_free(err);
  return 1;
}

static elastic_sockets_address_t addr_of(const char *host, const char *port) {
  elastic_sockets_address_t a = {elastic_string(host), (uint16_t)atoi(port)};
  return a;
}

#define TRY(what, call)                    \
  do {                                     \
    elastic_string_t err_;                 \
    if (!(call)) return fail(what, &err_); \
  } while (0)
/* the error out-parameter of the call: */
#define E &err_

static int send_all(sock_t s, const char *data, size_t len) {
  while (len) {
    uint32_t n;
    elastic_string_t err_;
    if (!elastic_sockets_send(s, (elastic_bytes_t){(uint8_t *)data, len}, &n, E))
      return fail("send", &err_);
    data += n;
    len -= n;
  }
  return 0;
}

/* A socket of proto connected to host:port, or 1 with the error printed. */
static int connected(elastic_sockets_protocol_t proto, const char *host, const char *port,
                     sock_t *s) {
  TRY("create-socket", elastic_sockets_create_socket(proto, s, E));
  TRY("connect", elastic_sockets_connect(*s, addr_of(host, port), E));
  return 0;
}

static int tcp_client(elastic_sockets_protocol_t proto, const char *host, const char *port,
                      const char *msg) {
  sock_t s;
  if (connected(proto, host, port, &s)) return 1;
  if (send_all(s, msg, strlen(msg))) return 1;
  for (;;) {
    elastic_bytes_t got;
    TRY("receive", elastic_sockets_receive(s, 65536, &got, E));
    if (got.len == 0) break; /* the peer closed */
    fwrite(got.ptr, 1, got.len, stdout);
    elastic_bytes_free(&got);
  }
  printf("\n[closed by peer]\n");
  TRY("close", elastic_sockets_close(s, E));
  return 0;
}

static elastic_sockets_protocol_t g_proto = ELASTIC_SOCKETS_PROTOCOL_TCP; /* of servers */

static int listen_on(const char *addr, const char *port, uint32_t backlog, sock_t *s) {
  TRY("create-socket", elastic_sockets_create_socket(g_proto, s, E));
  TRY("bind", elastic_sockets_bind(*s, addr_of(addr, port), E));
  TRY("listen", elastic_sockets_listen(*s, backlog, E));
  printf("listening\n"); /* the test starts its clients on this line */
  return 0;
}

/* Read one HTTP request head and answer it. */
static int answer(sock_t c, int n) {
  char head[4096];
  size_t have = 0;
  while (have < sizeof head - 1 && !strstr(head, "\r\n\r\n")) {
    elastic_bytes_t got;
    TRY("receive", elastic_sockets_receive(c, (uint32_t)(sizeof head - 1 - have), &got, E));
    if (got.len == 0) break;
    memcpy(head + have, got.ptr, got.len);
    have += got.len;
    head[have] = 0;
    elastic_bytes_free(&got);
  }
  char body[128], resp[512];
  int blen = snprintf(body, sizeof body, "hello from the guest, request %d%s\n", n,
                      g_proto == ELASTIC_SOCKETS_PROTOCOL_TLS ? " over TLS" : "");
  int rlen = snprintf(resp, sizeof resp,
                      "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n%s",
                      blen, body);
  if (send_all(c, resp, (size_t)rlen)) return 1;
  TRY("close", elastic_sockets_close(c, E));
  return 0;
}

static int http_server(const char *addr, const char *port, int n) {
  sock_t s;
  if (listen_on(addr, port, 16, &s)) return 1;
  for (int i = 0; i < n; i++) {
    sock_t c;
    elastic_string_t err;
    if (!elastic_sockets_accept(s, &c, &err)) {
      /* a client that failed its handshake: say so, serve the next */
      printf("%.*s\n", (int)err.len, err.ptr);
      elastic_string_free(&err);
      continue;
    }
    if (answer(c, i)) return 1;
  }
  printf("served %d\n", n);
  return 0;
}

static int hold_server(const char *addr, const char *port, int n) {
  sock_t s;
  if (listen_on(addr, port, 1024, &s)) return 1;
  sock_t *held = calloc((size_t)n, sizeof *held);
  for (int i = 0; i < n; i++) TRY("accept", elastic_sockets_accept(s, &held[i], E));
  for (int i = 0; i < n; i++)
    if (answer(held[i], i)) return 1;
  printf("held and served %d\n", n);
  free(held);
  return 0;
}

static int udp_client(elastic_sockets_protocol_t proto, const char *host, const char *port,
                      const char *msg) {
  sock_t s;
  if (connected(proto, host, port, &s)) return 1;
  uint32_t sent;
  TRY("send", elastic_sockets_send(s, (elastic_bytes_t){(uint8_t *)msg, strlen(msg)}, &sent, E));
  elastic_bytes_t got;
  TRY("receive", elastic_sockets_receive(s, 65536, &got, E));
  printf("sent %u, got %zu: %.*s\n", sent, got.len, (int)got.len, (char *)got.ptr);
  elastic_bytes_free(&got);
  return 0;
}

static int udp_server(const char *addr, const char *port, int n) {
  sock_t s;
  TRY("create-socket", elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_UDP, &s, E));
  TRY("bind", elastic_sockets_bind(s, addr_of(addr, port), E));
  printf("bound\n");
  fflush(stdout);
  for (int i = 0; i < n; i++) {
    elastic_bytes_t got;
    TRY("receive", elastic_sockets_receive(s, 65536, &got, E));
    printf("datagram %d: %.*s\n", i, (int)got.len, (char *)got.ptr);
    fflush(stdout);
    elastic_bytes_free(&got);
  }
  return 0;
}

static int dtls_server(const char *addr, const char *port, int n) {
  sock_t s;
  TRY("create-socket", elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_DTLS, &s, E));
  TRY("bind", elastic_sockets_bind(s, addr_of(addr, port), E));
  TRY("listen", elastic_sockets_listen(s, 0, E));
  printf("listening\n");
  for (int i = 0; i < n; i++) {
    sock_t c;
    elastic_string_t err;
    if (!elastic_sockets_accept(s, &c, &err)) {
      printf("%.*s\n", (int)err.len, err.ptr);
      elastic_string_free(&err);
      continue;
    }
    elastic_bytes_t got;
    TRY("receive", elastic_sockets_receive(c, 65536, &got, E));
    char out[600];
    int len = snprintf(out, sizeof out, "pong: %.*s", (int)got.len, (char *)got.ptr);
    printf("datagram %d: %.*s\n", i, (int)got.len, (char *)got.ptr);
    elastic_bytes_free(&got);
    uint32_t sent;
    TRY("send", elastic_sockets_send(c, (elastic_bytes_t){(uint8_t *)out, (size_t)len}, &sent, E));
    TRY("close", elastic_sockets_close(c, E));
  }
  printf("served %d\n", n);
  return 0;
}

static int silent(const char *host, const char *port, uint32_t timeout_ms) {
  sock_t s;
  if (connected(ELASTIC_SOCKETS_PROTOCOL_TCP, host, port, &s)) return 1;
  if (timeout_ms) TRY("set-timeout", elastic_sockets_set_timeout(s, timeout_ms, E));
  elastic_bytes_t got;
  TRY("receive", elastic_sockets_receive(s, 100, &got, E));
  printf("unexpected: %zu bytes\n", got.len);
  return 0;
}

static void print_addr(const char *what, elastic_sockets_address_t *a) {
  printf("%s: %.*s port %u\n", what, (int)a->ip.len, a->ip.ptr, a->port);
  elastic_sockets_address_free(a);
}

static int udp_echo(const char *addr, const char *port, int n) {
  sock_t s;
  TRY("create-socket", elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_UDP, &s, E));
  TRY("bind", elastic_sockets_bind(s, addr_of(addr, port), E));
  elastic_sockets_address_t local;
  TRY("local-address", elastic_sockets_local_address(s, &local, E));
  print_addr("bound", &local);
  for (int i = 0; i < n; i++) {
    elastic_sockets_datagram_t d;
    TRY("receive-from", elastic_sockets_receive_from(s, 65536, &d, E));
    char out[600];
    int len = snprintf(out, sizeof out, "echo:%.*s", (int)d.data.len, (char *)d.data.ptr);
    uint32_t sent;
    TRY("send-to", elastic_sockets_send_to(s, (elastic_bytes_t){(uint8_t *)out, (size_t)len},
                                           d.peer, &sent, E));
    print_addr("answered", &d.peer);
    elastic_bytes_free(&d.data);
  }
  return 0;
}

/* A single-threaded TCP server for n clients at once: poll says which
 * socket is ready; each client gets "echo:" and its first message. */
static int poll_echo(const char *addr, const char *port, int n) {
  sock_t l;
  if (listen_on(addr, port, 64, &l)) return 1;
  elastic_sockets_poll_entry_t e[65];
  int clients = 0, served = 0, rounds = 0;
  e[0] = (elastic_sockets_poll_entry_t){l, true, false};
  while (served < n && rounds++ < 1000) {
    elastic_sockets_list_poll_entry_t in = {e, (size_t)(1 + clients)}, out;
    TRY("poll", elastic_sockets_poll(in, 5000, &out, E));
    for (size_t i = 1; i < out.len; i++) {
      if (!out.ptr[i].readable) continue;
      elastic_bytes_t got;
      TRY("receive", elastic_sockets_receive(out.ptr[i].socket, 1000, &got, E));
      char msg[1100];
      int len = snprintf(msg, sizeof msg, "echo:%.*s", (int)got.len, (char *)got.ptr);
      printf("client %zu: %.*s\n", i, (int)got.len, (char *)got.ptr);
      elastic_bytes_free(&got);
      if (send_all(out.ptr[i].socket, msg, (size_t)len)) return 1;
      TRY("close", elastic_sockets_close(out.ptr[i].socket, E));
      e[i].socket = 0; /* closed: dropped from the list below */
      served++;
    }
    int kept = 0;
    for (int i = 1; i <= clients; i++)
      if (e[i].socket) e[++kept] = e[i];
    clients = kept;
    if (out.ptr[0].readable && clients < 64) {
      sock_t c;
      TRY("accept", elastic_sockets_accept(l, &c, E));
      e[++clients] = (elastic_sockets_poll_entry_t){c, true, false};
    }
    free(out.ptr);
  }
  printf("served %d with poll\n", served);
  return 0;
}

/* Hex text into bytes (malloc'd; the caller frees .ptr). */
static elastic_bytes_t unhex(const char *h) {
  size_t n = strlen(h) / 2;
  elastic_bytes_t b = {malloc(n ? n : 1), n};
  for (size_t i = 0; i < n; i++) {
    unsigned v = 0;
    sscanf(h + 2 * i, "%2x", &v);
    b.ptr[i] = (uint8_t)v;
  }
  return b;
}

static int mtls_server(char **argv) {
  sock_t s;
  elastic_bytes_t ca = unhex(argv[5]), p12 = unhex(argv[6]);
  elastic_sockets_tls_config_t cfg = {.trust_anchors_pem = ca,
                                      .identity_pkcs12 = p12,
                                      .identity_password = elastic_string(argv[7]),
                                      .require_peer_certificate = true,
                                      .alpn = elastic_string("http/1.1")};
  TRY("create-socket", elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_TLS, &s, E));
  TRY("configure-tls", elastic_sockets_configure_tls(s, cfg, E));
  free(ca.ptr);
  free(p12.ptr);
  TRY("bind", elastic_sockets_bind(s, addr_of(argv[2], argv[3]), E));
  TRY("listen", elastic_sockets_listen(s, 8, E));
  printf("listening\n");
  for (int i = 0, n = atoi(argv[4]); i < n; i++) {
    sock_t c;
    elastic_string_t err;
    if (!elastic_sockets_accept(s, &c, &err)) {
      printf("%.*s\n", (int)err.len, err.ptr);
      elastic_string_free(&err);
      continue;
    }
    elastic_bytes_t cert;
    elastic_string_t alpn;
    TRY("peer-certificate", elastic_sockets_peer_certificate(c, &cert, E));
    TRY("alpn-protocol", elastic_sockets_alpn_protocol(c, &alpn, E));
    char body[200], resp[400];
    int blen =
        snprintf(body, sizeof body, "mutual TLS: client certificate of %zu bytes, alpn %.*s\n",
                 cert.len, (int)alpn.len, alpn.ptr);
    int rlen = snprintf(resp, sizeof resp,
                        "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                        blen, body);
    printf("%s", body);
    elastic_bytes_free(&cert);
    elastic_string_free(&alpn);
    elastic_bytes_t req;
    TRY("receive", elastic_sockets_receive(c, 4096, &req, E));
    elastic_bytes_free(&req);
    if (send_all(c, resp, (size_t)rlen)) return 1;
    TRY("close", elastic_sockets_close(c, E));
  }
  return 0;
}

static int keyctx_server(char **argv) {
  sock_t s, c;
  elastic_crypto_crypto_context_handle_t ctx;
  elastic_bytes_t key = unhex(argv[4]), chain = unhex(argv[5]);
  TRY("create-context", elastic_crypto_create_context(&ctx, E));
  TRY("import-key",
      elastic_crypto_import_key(ctx, ELASTIC_CRYPTO_KEY_ALGORITHM_ECDSA_P256, key, false, E));
  memset(key.ptr, 0, key.len); /* from here on the key is the HAL's alone */
  free(key.ptr);
  elastic_sockets_tls_config_t cfg = {.identity_password = elastic_string(""),
                                      .identity_key_context = ctx,
                                      .identity_chain_pem = chain,
                                      .alpn = elastic_string("")};
  TRY("create-socket", elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_TLS, &s, E));
  TRY("configure-tls", elastic_sockets_configure_tls(s, cfg, E));
  free(chain.ptr);
  TRY("bind", elastic_sockets_bind(s, addr_of(argv[2], argv[3]), E));
  TRY("listen", elastic_sockets_listen(s, 8, E));
  printf("listening\n");
  TRY("accept", elastic_sockets_accept(s, &c, E));
  g_proto = ELASTIC_SOCKETS_PROTOCOL_TLS;
  return answer(c, 0);
}

static int tls_stream(char **argv) {
  sock_t s;
  size_t total = (size_t)atoi(argv[4]) << 20, chunk = 1 << 20, off = 0;
  uint8_t *buf = malloc(chunk);
  if (connected(ELASTIC_SOCKETS_PROTOCOL_TLS, argv[2], argv[3], &s)) return 1;
  int partial = 0;
  while (off < total) {
    size_t n = total - off < chunk ? total - off : chunk;
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)((off + i) * 13 % 251);
    uint32_t sent;
    TRY("send", elastic_sockets_send(s, (elastic_bytes_t){buf, n}, &sent, E));
    if (sent < n) partial++;
    off += sent;
  }
  TRY("close", elastic_sockets_close(s, E));
  printf("sent %zu bytes, %d partial sends\n", off, partial);
  free(buf);
  return 0;
}

static int config_client(char **argv) {
  sock_t s;
  elastic_bytes_t ca = unhex(argv[4]);
  elastic_sockets_tls_config_t cfg = {.trust_anchors_pem = ca,
                                      .identity_pkcs12 = {NULL, 0},
                                      .identity_password = elastic_string(""),
                                      .require_peer_certificate = false,
                                      .alpn = elastic_string(argv[5])};
  TRY("create-socket", elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_TLS, &s, E));
  TRY("configure-tls", elastic_sockets_configure_tls(s, cfg, E));
  free(ca.ptr);
  TRY("connect", elastic_sockets_connect(s, addr_of(argv[2], argv[3]), E));
  elastic_bytes_t cert;
  elastic_string_t alpn;
  TRY("peer-certificate", elastic_sockets_peer_certificate(s, &cert, E));
  TRY("alpn-protocol", elastic_sockets_alpn_protocol(s, &alpn, E));
  printf("peer certificate: %zu bytes, alpn: %.*s\n", cert.len, (int)alpn.len, alpn.ptr);
  return 0;
}

/* One hostile call: print its outcome as a line. */
static void said(const char *what, bool ok, elastic_string_t *err) {
  if (ok)
    printf("%s: ok\n", what);
  else
    printf("%s: %.*s\n", what, (int)err->len, err->ptr);
  if (!ok) elastic_string_free(err);
}

static int hostile(void) {
  elastic_string_t err;
  sock_t s, t;
  uint32_t n;
  elastic_bytes_t got;
  said("handle 0", elastic_sockets_close(0, &err), &err);
  said("forged handle",
       elastic_sockets_send(0x1234567800000001ull, (elastic_bytes_t){(uint8_t *)"x", 1}, &n, &err),
       &err);
  if (!elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_TCP, &s, &err))
    return fail("create-socket", &err);
  said("receive unconnected", elastic_sockets_receive(s, 10, &got, &err), &err);
  said("listen unbound", elastic_sockets_listen(s, 1, &err), &err);
  said("connect refused by policy",
       elastic_sockets_connect(s, (elastic_sockets_address_t){elastic_string("127.0.0.1"), 22},
                               &err),
       &err);
  said(
      "connect name resolving elsewhere",
      elastic_sockets_connect(s, (elastic_sockets_address_t){elastic_string("localhost"), 9}, &err),
      &err);
  said("bind refused by policy",
       elastic_sockets_bind(s, (elastic_sockets_address_t){elastic_string("0.0.0.0"), 80}, &err),
       &err);
  said("host with a space",
       elastic_sockets_connect(s, (elastic_sockets_address_t){elastic_string("a b"), 1}, &err),
       &err);
  said("host with a control byte",
       elastic_sockets_connect(s, (elastic_sockets_address_t){elastic_string("evil\x01"), 1}, &err),
       &err);
  said("empty host",
       elastic_sockets_connect(s, (elastic_sockets_address_t){elastic_string(""), 1}, &err), &err);
  said("close", elastic_sockets_close(s, &err), &err);
  said("close again (stale handle)", elastic_sockets_close(s, &err), &err);
  {
    elastic_sockets_poll_entry_t pe[2] = {{s, true, false}, {0x77, true, true}};
    elastic_sockets_list_poll_entry_t pl;
    said("poll a stale handle",
         elastic_sockets_poll((elastic_sockets_list_poll_entry_t){pe, 2}, 0, &pl, &err), &err);
    elastic_sockets_address_t a;
    said("peer-address of a stale handle", elastic_sockets_peer_address(s, &a, &err), &err);
    said("set-timeout of a stale handle", elastic_sockets_set_timeout(s, 5, &err), &err);
  }
  if (!elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_UDP, &s, &err) ||
      !elastic_sockets_bind(s, (elastic_sockets_address_t){elastic_string("127.0.0.1"), 0}, &err))
    return fail("a UDP socket on 127.0.0.1", &err);
  said("huge max-len", elastic_sockets_receive(s, 0xffffffffu, &got, &err), &err);
  said("max-len 0", elastic_sockets_receive(s, 0, &got, &err), &err);
  said("close", elastic_sockets_close(s, &err), &err);
  /* the open-sockets limit (run with --max-sockets 4) */
  int made = 0;
  while (made < 10 && elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_UDP, &t, &err)) made++;
  printf("sockets made: %d\n", made);
  said("one more", false, &err);
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(cmd, "tcp-client") && argc == 5)
    return tcp_client(ELASTIC_SOCKETS_PROTOCOL_TCP, argv[2], argv[3], argv[4]);
  if (!strcmp(cmd, "tls-client") && argc == 5)
    return tcp_client(ELASTIC_SOCKETS_PROTOCOL_TLS, argv[2], argv[3], argv[4]);
  if (!strcmp(cmd, "https-server") && argc == 5) g_proto = ELASTIC_SOCKETS_PROTOCOL_TLS;
  if ((!strcmp(cmd, "http-server") || !strcmp(cmd, "https-server")) && argc == 5)
    return http_server(argv[2], argv[3], atoi(argv[4]));
  if (!strcmp(cmd, "hold-server") && argc == 5) return hold_server(argv[2], argv[3], atoi(argv[4]));
  if (!strcmp(cmd, "udp-client") && argc == 5)
    return udp_client(ELASTIC_SOCKETS_PROTOCOL_UDP, argv[2], argv[3], argv[4]);
  if (!strcmp(cmd, "dtls-client") && argc == 5)
    return udp_client(ELASTIC_SOCKETS_PROTOCOL_DTLS, argv[2], argv[3], argv[4]);
  if (!strcmp(cmd, "dtls-server") && argc == 5) return dtls_server(argv[2], argv[3], atoi(argv[4]));
  if (!strcmp(cmd, "udp-server") && argc == 5) return udp_server(argv[2], argv[3], atoi(argv[4]));
  if (!strcmp(cmd, "silent") && argc == 4) return silent(argv[2], argv[3], 0);
  if (!strcmp(cmd, "silent-300") && argc == 4) return silent(argv[2], argv[3], 300);
  if (!strcmp(cmd, "udp-echo") && argc == 5) return udp_echo(argv[2], argv[3], atoi(argv[4]));
  if (!strcmp(cmd, "poll-echo") && argc == 5) return poll_echo(argv[2], argv[3], atoi(argv[4]));
  if (!strcmp(cmd, "mtls-server") && argc == 8) return mtls_server(argv);
  if (!strcmp(cmd, "config-client") && argc == 6) return config_client(argv);
  if (!strcmp(cmd, "keyctx-server") && argc == 6) return keyctx_server(argv);
  if (!strcmp(cmd, "tls-stream") && argc == 5) return tls_stream(argv);
  if (!strcmp(cmd, "attested-client") && argc == 7) {
    sock_t s;
    elastic_sockets_attested_peer_policy_t p = {
        .allow_simulated = argv[4][0] == '1',
        .module_sha384 = elastic_string(strcmp(argv[5], "-") ? argv[5] : ""),
        .world_name = elastic_string(""),
        .workload = elastic_string(strcmp(argv[6], "-") ? argv[6] : "")};
    TRY("create-socket", elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_TLS, &s, E));
    TRY("require-attested-peer", elastic_sockets_require_attested_peer(s, p, E));
    TRY("connect", elastic_sockets_connect(s, addr_of(argv[2], argv[3]), E));
    printf("attested peer accepted\n");
    const char *get = "GET / HTTP/1.0\r\n\r\n";
    if (send_all(s, get, strlen(get))) return 1;
    elastic_bytes_t got;
    TRY("receive", elastic_sockets_receive(s, 4096, &got, E));
    printf("%.*s\n", (int)got.len, (char *)got.ptr);
    return 0;
  }
  if (!strcmp(cmd, "addresses") && argc == 4) {
    sock_t s;
    elastic_sockets_address_t a;
    TRY("create-socket", elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_TCP, &s, E));
    TRY("connect", elastic_sockets_connect(s, addr_of(argv[2], argv[3]), E));
    TRY("local-address", elastic_sockets_local_address(s, &a, E));
    print_addr("local", &a);
    TRY("peer-address", elastic_sockets_peer_address(s, &a, E));
    print_addr("peer", &a);
    return 0;
  }
  if (!strcmp(cmd, "trap-listening") && argc == 4) {
    sock_t s;
    if (listen_on(argv[2], argv[3], 4, &s)) return 1;
    printf("listening; trapping now\n");
    __builtin_trap();
  }
  if (!strcmp(cmd, "hostile")) return hostile();
  if (!strcmp(cmd, "bad-utf8")) {
    sock_t s;
    elastic_string_t err;
    if (!elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_TCP, &s, &err))
      return fail("create-socket", &err);
    elastic_sockets_address_t a = {{(char *)"\xc3\x28host", 6}, 80};
    said("bad utf-8", elastic_sockets_connect(s, a, &err), &err);
    return 0;
  }
  fprintf(stderr, "usage: net_guest COMMAND ARGS (see net_guest.c)\n");
  return 2;
}
