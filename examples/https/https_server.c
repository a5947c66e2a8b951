/*
 * https_server - a small HTTPS server as an ELASTIC TEE HAL workload: one
 * thread, many clients at once (sockets.poll), TLS from the HAL (the key
 * never enters the guest), and a page that says where it runs.
 *
 * Build: clang --target=wasm32-wasi -I build/gen/guest https_server.c \
 *          build/gen/guest/elastic_hal_guest.c -o https_server.wasm
 * Try it (see examples/https/README.md for making the certificate):
 *   build/elastic-hal run --allow-bind 127.0.0.1:8443 \
 *       --tls-identity server.p12 --tls-identity-password-file password \
 *       build/guests/https_server.wasm 127.0.0.1 8443
 *   curl --cacert ca.pem https://localhost:8443/
 *
 * Arguments: ADDR PORT [REQUESTS] - with REQUESTS it exits after that many
 * answers (the tests use it), else it serves until stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

#define MAX_CLIENTS 64
#define SLOW_MS 5000 /* a client that sends nothing for this long is dropped */

typedef elastic_sockets_socket_handle_t sock_t;

static void say_error(const char *what, elastic_string_t *err) {
  fprintf(stderr, "https_server: %s: %.*s\n", what, (int)err->len, err->ptr);
  elastic_string_free(err);
}

/* The page: where this workload runs, as the HAL reports it. */
static int page(char *out, size_t n, int count) {
  elastic_platform_platform_info_t info;
  elastic_platform_get_platform_info(&info);
  int len = snprintf(out, n,
                     "hello over TLS from a WebAssembly workload\n"
                     "platform: %.*s\nversion:  %.*s\nrequest:  %d\n",
                     (int)info.platform_type.len, info.platform_type.ptr, (int)info.version.len,
                     info.version.ptr, count);
  elastic_platform_platform_info_free(&info);
  return len;
}

/* Answer the request a client sent; false when it went wrong. */
static bool answer(sock_t c, int count) {
  elastic_bytes_t req;
  elastic_string_t err;
  if (!elastic_sockets_receive(c, 8192, &req, &err)) {
    say_error("receive", &err);
    return false;
  }
  bool get = req.len >= 4 && memcmp(req.ptr, "GET ", 4) == 0;
  elastic_bytes_free(&req);
  char body[512], resp[1024];
  int blen = get ? page(body, sizeof body, count) : snprintf(body, sizeof body, "GET only\n");
  int rlen = snprintf(resp, sizeof resp,
                      "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n%s",
                      get ? "200 OK" : "405 Method Not Allowed", blen, body);
  for (int off = 0; off < rlen;) {
    uint32_t sent;
    if (!elastic_sockets_send(c, (elastic_bytes_t){(uint8_t *)resp + off, (size_t)(rlen - off)},
                              &sent, &err)) {
      say_error("send", &err);
      return false;
    }
    off += (int)sent;
  }
  return true;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: https_server ADDR PORT [REQUESTS]\n");
    return 2;
  }
  int limit = argc > 3 ? atoi(argv[3]) : -1, served = 0;
  sock_t l;
  elastic_string_t err;
  elastic_sockets_address_t addr = {elastic_string(argv[1]), (uint16_t)atoi(argv[2])};
  if (!elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_TLS, &l, &err) ||
      !elastic_sockets_bind(l, addr, &err) || !elastic_sockets_listen(l, 64, &err)) {
    say_error("listen", &err);
    return 1;
  }
  printf("serving https on %s:%s\n", argv[1], argv[2]);
  fflush(stdout);
  /* entry 0 is the listener; then the clients waiting to be answered */
  elastic_sockets_poll_entry_t watch[1 + MAX_CLIENTS] = {{l, true, false}};
  int n = 0;
  while (limit < 0 || served < limit) {
    elastic_sockets_list_poll_entry_t ready;
    if (!elastic_sockets_poll((elastic_sockets_list_poll_entry_t){watch, (size_t)(1 + n)}, 1000,
                              &ready, &err)) {
      say_error("poll", &err);
      return 1;
    }
    for (int i = 1; i <= n; i++) {
      if (!ready.ptr[i].readable) continue;
      if (answer(watch[i].socket, served + 1)) served++;
      if (!elastic_sockets_close(watch[i].socket, &err)) say_error("close", &err);
      watch[i].socket = 0;
    }
    int kept = 0;
    for (int i = 1; i <= n; i++)
      if (watch[i].socket) watch[++kept] = watch[i];
    n = kept;
    if (ready.ptr[0].readable && n < MAX_CLIENTS) {
      sock_t c;
      /* the TLS handshake runs in accept; a client that fails it is
       * reported and the server goes on */
      if (elastic_sockets_accept(l, &c, &err)) {
        if (!elastic_sockets_set_timeout(c, SLOW_MS, &err)) say_error("set-timeout", &err);
        watch[++n] = (elastic_sockets_poll_entry_t){c, true, false};
      } else {
        say_error("accept", &err);
      }
    }
    free(ready.ptr);
  }
  printf("answered %d requests\n", served);
  return 0;
}
