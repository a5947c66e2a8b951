/*
 * attested_client - a workload that talks only to a peer that proves, in
 * the TLS handshake, which WebAssembly module it is and on which TEE it
 * runs (attested TLS).  Pair it with examples/https run with
 * --tls-identity attested; see examples/attested/README.md.
 *
 * Arguments: HOST PORT MODULE_SHA384 [allow-simulated]
 *   MODULE_SHA384: the hex SHA-384 of the server's .wasm (sha384sum), or
 *   "-" for any module; allow-simulated: accept the simulated development
 *   platform's evidence (never do that in production).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

static int fail(const char *what, elastic_string_t *err) {
  fprintf(stderr, "attested_client: %s: %.*s\n", what, (int)err->len, err->ptr);
  elastic_string_free(err);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: attested_client HOST PORT MODULE_SHA384|- [allow-simulated]\n");
    return 2;
  }
  elastic_sockets_socket_handle_t s;
  elastic_string_t err;
  elastic_sockets_attested_peer_policy_t policy = {
      .allow_simulated = argc > 4 && !strcmp(argv[4], "allow-simulated"),
      .module_sha384 = elastic_string(strcmp(argv[3], "-") ? argv[3] : ""),
      .world_name = elastic_string(""),
      .workload = elastic_string("")};
  elastic_sockets_address_t server = {elastic_string(argv[1]), (uint16_t)atoi(argv[2])};
  if (!elastic_sockets_create_socket(ELASTIC_SOCKETS_PROTOCOL_TLS, &s, &err))
    return fail("create-socket", &err);
  if (!elastic_sockets_require_attested_peer(s, policy, &err)) return fail("policy", &err);
  /* connect returns only once the peer's evidence checked out */
  if (!elastic_sockets_connect(s, server, &err)) return fail("connect", &err);
  printf("the peer proved its code and platform; asking it\n");
  const char *get = "GET / HTTP/1.0\r\n\r\n";
  uint32_t sent;
  if (!elastic_sockets_send(s, (elastic_bytes_t){(uint8_t *)get, strlen(get)}, &sent, &err))
    return fail("send", &err);
  for (;;) {
    elastic_bytes_t got;
    if (!elastic_sockets_receive(s, 4096, &got, &err)) return fail("receive", &err);
    if (got.len == 0) break;
    fwrite(got.ptr, 1, got.len, stdout);
    elastic_bytes_free(&got);
  }
  elastic_sockets_close(s, &err);
  return 0;
}
