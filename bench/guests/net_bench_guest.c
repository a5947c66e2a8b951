/*
 * net_bench_guest.c - the guest side of elastic-hal-bench-net (a reactor:
 * the benchmark calls its exports).  Each returns 0, or the line of the
 * step that failed.
 */
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

#define EXPORT(name) __attribute__((export_name(name)))
#define CHUNK 65536

static uint8_t g_buf[CHUNK];
static elastic_sockets_socket_handle_t g_held[4096];
static int g_nheld;

static bool open_to(elastic_sockets_protocol_t proto, uint32_t port,
                    elastic_sockets_socket_handle_t *s) {
  elastic_string_t err;
  elastic_sockets_address_t a = {
      elastic_string(proto == ELASTIC_SOCKETS_PROTOCOL_TLS ? "localhost" : "127.0.0.1"),
      (uint16_t)port};
  if (!elastic_sockets_create_socket(proto, s, &err)) goto fail;
  if (!elastic_sockets_connect(*s, a, &err)) goto fail;
  return true;
fail:
  elastic_string_free(&err);
  return false;
}

/* Send mib MiB in 64 KiB writes, then close (tls: over TLS). */
EXPORT("send_mib") int send_mib(int tls, uint32_t port, uint32_t mib) {
  elastic_sockets_socket_handle_t s;
  elastic_string_t err;
  if (!open_to(tls ? ELASTIC_SOCKETS_PROTOCOL_TLS : ELASTIC_SOCKETS_PROTOCOL_TCP, port, &s))
    return __LINE__;
  memset(g_buf, 'x', sizeof g_buf);
  for (uint64_t left = (uint64_t)mib << 20; left;) {
    size_t n = left < CHUNK ? (size_t)left : CHUNK, off = 0;
    while (off < n) {
      uint32_t sent;
      if (!elastic_sockets_send(s, (elastic_bytes_t){g_buf + off, n - off}, &sent, &err)) {
        elastic_string_free(&err);
        return __LINE__;
      }
      off += sent;
    }
    left -= n;
  }
  if (!elastic_sockets_close(s, &err)) return __LINE__;
  return 0;
}

/* n TLS handshakes: connect (the handshake), close. */
EXPORT("handshakes") int handshakes(uint32_t port, uint32_t n) {
  elastic_string_t err;
  for (uint32_t i = 0; i < n; i++) {
    elastic_sockets_socket_handle_t s;
    if (!open_to(ELASTIC_SOCKETS_PROTOCOL_TLS, port, &s)) return __LINE__;
    if (!elastic_sockets_close(s, &err)) return __LINE__;
  }
  return 0;
}

/* Open n TLS connections and keep them (hold_release closes them). */
EXPORT("hold") int hold(uint32_t port, uint32_t n) {
  for (uint32_t i = 0; i < n && g_nheld < 4096; i++)
    if (!open_to(ELASTIC_SOCKETS_PROTOCOL_TLS, port, &g_held[g_nheld++])) return __LINE__;
  return 0;
}

EXPORT("hold_release") int hold_release(void) {
  elastic_string_t err;
  while (g_nheld > 0)
    if (!elastic_sockets_close(g_held[--g_nheld], &err)) return __LINE__;
  return 0;
}
