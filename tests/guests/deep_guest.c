/*
 * deep_guest.c - recurses DEPTH calls deep, then makes one host call that
 * runs deep host code (tests/cli/stack.sh sweeps DEPTH up to the edge of
 * the native stack):
 *
 *   deep_guest DEPTH none|storage|crypto|attest
 *
 * Prints "done" and exits 0 when the call returned; a guest that ran out of
 * stack must end in a trap (exit 134), never a crash or a hang of the host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elastic_hal_guest.h"

enum { OP_NONE, OP_STORAGE, OP_CRYPTO, OP_ATTEST };

static elastic_storage_container_handle_t g_container;
static elastic_crypto_key_pair_t g_keys;

__attribute__((noinline)) static int do_op(int op) {
  elastic_string_t err = {0};
  switch (op) {
    case OP_STORAGE: {
      /* SQLite: a read transaction and the object's metadata */
      elastic_storage_object_metadata_t md;
      if (elastic_storage_get_metadata(g_container, elastic_string("k"), &md, &err)) return 1;
      return 2;
    }
    case OP_CRYPTO: {
      elastic_bytes_t sig;
      static uint8_t msg[64];
      if (!elastic_crypto_sign((elastic_bytes_t){msg, sizeof msg}, g_keys.private_key, &sig, &err))
        return 3;
      return 1;
    }
    case OP_ATTEST: {
      elastic_bytes_t ev;
      static uint8_t rd[32];
      if (!elastic_platform_attestation((elastic_bytes_t){rd, sizeof rd}, &ev, &err)) return 4;
      return 1;
    }
    default: return 1;
  }
}

/* called through a volatile pointer: no tail-call or loop rewriting, one
 * native frame per level */
static int rec(int n, int op);
static int (*volatile g_rec)(int, int) = rec;

static volatile int g_sink;

__attribute__((noinline)) static int rec(int n, int op) {
  if (n <= 0) return do_op(op);
  int r = g_rec(n - 1, op);
  g_sink = r; /* work after the call: it is not a tail call */
  return r;
}

int main(int argc, char **argv) {
  if (argc != 3) return 64;
  int depth = atoi(argv[1]);
  int op = !strcmp(argv[2], "storage")  ? OP_STORAGE
           : !strcmp(argv[2], "crypto") ? OP_CRYPTO
           : !strcmp(argv[2], "attest") ? OP_ATTEST
                                        : OP_NONE;
  elastic_string_t err = {0};
  if (op == OP_STORAGE) {
    if (!elastic_storage_open_container(elastic_string("deep"), &g_container, &err) &&
        !elastic_storage_create_container(elastic_string("deep"), &g_container, &err))
      return 65;
    elastic_storage_object_handle_t h;
    static uint8_t data[16];
    if (!elastic_storage_store_object(g_container, elastic_string("k"), (elastic_bytes_t){data, 16},
                                      &h, &err))
      return 66;
  }
  if (op == OP_CRYPTO && !elastic_crypto_generate_keypair(&g_keys, &err)) return 67;
  int r = g_rec(depth, op);
  if (r != 1) return 70 + r;
  printf("done\n");
  return 0;
}
