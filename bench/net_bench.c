/*
 * net_bench.c - elastic-hal-bench-net: what a guest's sockets cost against
 * the same work in native C, side by side in one run, on loopback:
 *
 *   TCP throughput     512 MiB in 64 KiB writes to a sink
 *   TLS throughput     256 MiB over TLS 1.3 (AES-128-GCM), 64 KiB writes,
 *                      to an OpenSSL server (goal: guest >= 0.9x native)
 *   TLS handshakes/s   connect (full handshake, ECDSA P-256) and close
 *                      (goal: guest >= 0.8x native)
 *   idle TLS memory    client-side RSS per open TLS connection (200 held)
 *
 * The peer is native C on OpenSSL in a child process (so its memory and
 * its sockets are not counted); the guest is bench/guests/net_bench_guest.c
 * run in this process through the embedding API.  The certificates are
 * made with the openssl command.  Not a test: exits 0 unless something
 * failed.
 *
 *   build/bench/elastic-hal-bench-net [GUEST.wasm]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "elastic-hal/elastic_hal.h"

#ifndef EHAL_NBENCH_GUEST_WASM
#define EHAL_NBENCH_GUEST_WASM "build/guests/net_bench.wasm"
#endif

#define TCP_MIB 512
#define TLS_MIB 256
#define HANDSHAKES 300
#define HELD 200
#define CHUNK 65536

static char g_dir[4096], g_ca[4200], g_cert[4200], g_key[4200];

static void die(const char *what) {
  fprintf(stderr, "elastic-hal-bench-net: %s\n", what);
  exit(1);
}

/* ---- the peer: a native server in a child process ---- */

typedef enum { PEER_SINK, PEER_TLS_SINK, PEER_TLS_HANDSHAKE, PEER_TLS_HOLD } peer_mode;

static SSL_CTX *server_ctx(void) {
  SSL_CTX *c = SSL_CTX_new(TLS_server_method());
  if (!c || SSL_CTX_use_certificate_chain_file(c, g_cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(c, g_key, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256") != 1)
    die("cannot set up the peer's TLS");
  SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF); /* full handshakes */
  SSL_CTX_set_num_tickets(c, 0);
  return c;
}

static void peer_loop(int lfd, peer_mode mode) {
  SSL_CTX *ctx = mode == PEER_SINK ? NULL : server_ctx();
  static char buf[CHUNK];
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) continue;
    if (mode == PEER_SINK) {
      while (read(fd, buf, sizeof buf) > 0) {
      }
      close(fd);
      continue;
    }
    SSL *s = SSL_new(ctx);
    SSL_set_fd(s, fd);
    if (SSL_accept(s) != 1) {
      SSL_free(s);
      close(fd);
      continue;
    }
    if (mode == PEER_TLS_HOLD) continue; /* kept open until the process ends */
    while (SSL_read(s, buf, sizeof buf) > 0) {
    }
    SSL_shutdown(s);
    SSL_free(s);
    close(fd);
  }
}

/* Start a peer; its port in *port, its pid returned. */
static pid_t peer_start(peer_mode mode, unsigned *port) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 512) != 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &len) != 0)
    die("cannot listen on loopback");
  *port = ntohs(a.sin_port);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    peer_loop(lfd, mode);
    _exit(0);
  }
  close(lfd);
  return pid;
}

static void peer_stop(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/* ---- native clients ---- */

static SSL_CTX *g_client;

static int tcp_open(unsigned port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as the HAL does */
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("native connect failed");
  return fd;
}

static SSL *tls_open(unsigned port, int *fd) {
  *fd = tcp_open(port);
  SSL *s = SSL_new(g_client);
  SSL_set_fd(s, *fd);
  SSL_set_tlsext_host_name(s, "localhost");
  SSL_set1_host(s, "localhost");
  if (SSL_connect(s) != 1) die("native TLS handshake failed");
  return s;
}

static void tls_close(SSL *s, int fd) {
  SSL_shutdown(s);
  SSL_free(s);
  close(fd);
}

static void native_send(bool tls, unsigned port, unsigned mib) {
  static char buf[CHUNK];
  memset(buf, 'x', sizeof buf);
  int fd;
  SSL *s = tls ? tls_open(port, &fd) : NULL;
  if (!tls) fd = tcp_open(port);
  for (uint64_t left = (uint64_t)mib << 20; left; left -= CHUNK) {
    if (tls ? SSL_write(s, buf, CHUNK) != CHUNK : write(fd, buf, CHUNK) != CHUNK)
      die("native write failed");
  }
  if (tls)
    tls_close(s, fd);
  else
    close(fd);
}

static void native_handshakes(unsigned port, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    int fd;
    SSL *s = tls_open(port, &fd);
    tls_close(s, fd);
  }
}

/* ---- the guest ---- */

static elastic_hal_instance *g_inst;

static void gcall(const char *name, uint64_t a, uint64_t b, uint64_t c, size_t nargs) {
  uint64_t args[3] = {a, b, c}, r = 0;
  elastic_hal_error err;
  if (elastic_hal_call(g_inst, name, args, nargs, &r, 1, &err) != ELASTIC_HAL_EXITED) {
    fprintf(stderr, "elastic-hal-bench-net: %s trapped: %s\n", name, err.msg);
    exit(1);
  }
  if ((int32_t)r != 0) {
    fprintf(stderr, "elastic-hal-bench-net: %s failed at net_bench_guest.c:%d\n", name, (int)r);
    exit(1);
  }
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld", &kib) == 1) break;
  if (f) fclose(f);
  return kib;
}

static double seconds_since(double t0) { return (now_ns() - t0) / 1e9; }

static void row(const char *what, double guest, double native, const char *unit, double goal,
                bool higher_better) {
  double ratio = native > 0 ? guest / native : 0;
  printf("   %-34s %10.1f %10.1f %-9s %6.2fx", what, guest, native, unit, ratio);
  if (goal > 0)
    printf("   %s %.1fx  %s", higher_better ? ">=" : "<=", goal,
           (higher_better ? ratio >= goal : ratio <= goal) ? "PASS" : "MISS");
  printf("\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *guest = argc > 1 ? argv[1] : EHAL_NBENCH_GUEST_WASM;
  const char *tmp = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/elastic-hal-bench-net-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(g_dir)) die("cannot make a temporary directory");
  snprintf(g_ca, sizeof g_ca, "%s/ca.pem", g_dir);
  snprintf(g_cert, sizeof g_cert, "%s/srv.pem", g_dir);
  snprintf(g_key, sizeof g_key, "%s/srv.key", g_dir);
  char cmd[20000];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
           "-days 2 -subj /CN=bench-ca -keyout ca.key -out ca.pem 2>/dev/null && "
           "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
           "-keyout srv.key -out srv.csr 2>/dev/null && printf 'subjectAltName=DNS:localhost\\n' "
           "> ext && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
           "-days 2 -extfile ext -out srv.pem 2>/dev/null",
           g_dir);
  if (system(cmd) != 0) die("cannot make certificates with the openssl command");
  signal(SIGPIPE, SIG_IGN);
  g_client = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(g_client, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_load_verify_file(g_client, g_ca) != 1) die("cannot load the bench CA");

  char cache[4300];
  snprintf(cache, sizeof cache, "%s/cache", g_dir);
  elastic_hal_load_options lo = {.cache_dir = cache, .state_dir = g_dir};
  elastic_hal_error err;
  elastic_hal_module *m = elastic_hal_module_load(guest, &lo, &err);
  if (!m) die(err.msg);
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_network_add_to_linker(l);
  elastic_hal_wasi_add_to_linker(l);
  const char *allow[] = {"127.0.0.1:*", "localhost:*"};
  elastic_hal_config cfg = {.workload = "net-bench",
                            .allow_connect = allow,
                            .n_allow_connect = 2,
                            .tls_ca_file = g_ca,
                            .max_sockets = 4096};
  g_inst = elastic_hal_instantiate(m, l, &cfg, &err);
  if (!g_inst) die(err.msg);

  printf("5. Sockets: a guest through elastic:sockets against native C, on loopback\n");
  printf("   the peer is native C on OpenSSL in another process; TLS 1.3, AES-128-GCM,\n");
  printf("   ECDSA P-256 certificates, 64 KiB writes\n");
  printf("   %-34s %10s %10s %-9s %7s\n", "", "guest", "native", "", "ratio");
  unsigned port;
  pid_t peer;
  double t, g, n;

  peer = peer_start(PEER_SINK, &port);
  gcall("send_mib", 0, port, 16, 3); /* warm-up */
  t = now_ns();
  gcall("send_mib", 0, port, TCP_MIB, 3);
  g = TCP_MIB / seconds_since(t);
  native_send(false, port, 16);
  t = now_ns();
  native_send(false, port, TCP_MIB);
  n = TCP_MIB / seconds_since(t);
  peer_stop(peer);
  row("TCP throughput", g, n, "MiB/s", 0, true);

  peer = peer_start(PEER_TLS_SINK, &port);
  gcall("send_mib", 1, port, 16, 3);
  t = now_ns();
  gcall("send_mib", 1, port, TLS_MIB, 3);
  g = TLS_MIB / seconds_since(t);
  native_send(true, port, 16);
  t = now_ns();
  native_send(true, port, TLS_MIB);
  n = TLS_MIB / seconds_since(t);
  peer_stop(peer);
  row("TLS bulk throughput", g, n, "MiB/s", 0.9, true);

  peer = peer_start(PEER_TLS_HANDSHAKE, &port);
  gcall("handshakes", port, 10, 0, 2);
  t = now_ns();
  gcall("handshakes", port, HANDSHAKES, 0, 2);
  g = HANDSHAKES / seconds_since(t);
  native_handshakes(port, 10);
  t = now_ns();
  native_handshakes(port, HANDSHAKES);
  n = HANDSHAKES / seconds_since(t);
  peer_stop(peer);
  row("TLS handshakes", g, n, "per s", 0.8, true);

  peer = peer_start(PEER_TLS_HOLD, &port);
  gcall("hold", port, 1, 0, 2); /* contexts made, first connection */
  long before = rss_kib();
  gcall("hold", port, HELD, 0, 2);
  double guest_kib = (double)(rss_kib() - before) / HELD;
  gcall("hold_release", 0, 0, 0, 0);
  SSL *held[HELD];
  int fds[HELD];
  before = rss_kib();
  for (int i = 0; i < HELD; i++) held[i] = tls_open(port, &fds[i]);
  double native_kib = (double)(rss_kib() - before) / HELD;
  for (int i = 0; i < HELD; i++) tls_close(held[i], fds[i]);
  peer_stop(peer);
  row("memory per idle TLS connection", guest_kib, native_kib, "KiB", 0, false);

  elastic_hal_instance_free(g_inst);
  elastic_hal_linker_free(l);
  elastic_hal_module_free(m);
  SSL_CTX_free(g_client);
  bench_rm_tree(g_dir);
  return 0;
}
