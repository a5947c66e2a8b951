/*
 * communication.c - elastic:communication: messages between the workloads
 * of one deployment (docs/deployment.md).
 *
 * Messages travel on the workload's bus (src/deploy/bus.h): the supervisor
 * relays them, and it alone says who sent one: the sender is the workload
 * whose channel carried it, never a name the guest gives.
 *
 * encrypt = true seals the payload here, in the sender's runtime, for the
 * recipient alone: AES-256-GCM under a key derived from the sealing root
 * for the deployment and the ordered pair (sender, recipient), with the
 * three names as associated data and a fresh random nonce.  The relay sees only ciphertext; the
 * recipient's runtime opens it with the key of the pair (true sender,
 * itself), so a message relayed under another sender's name, altered or
 * meant for another workload does not open and is reported, never
 * delivered.  Without encrypt, the payload is relayed as it is: the
 * sender's name is still the runtime's, order and bounds are the same, and
 * it stays in this confidential VM's memory, but the supervisor sees it.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "../attest/sealing.h"
#include "../crypto/primitives.h"
#include "../deploy/bus.h"
#include "interfaces.h"

#define SEAL_OVERHEAD (EHAL_AEAD_NONCE_LEN + EHAL_AEAD_TAG_LEN)

typedef struct {
  bool have_root;
  uint8_t root[EHAL_SEALING_ROOT_LEN];
} comm_state;

void *ehal_state_create_communication(ehal_instance *inst) {
  (void)inst;
  return calloc(1, sizeof(comm_state));
}

void ehal_state_destroy_communication(ehal_instance *inst, void *state) {
  (void)inst;
  OPENSSL_cleanse(state, sizeof(comm_state));
  free(state);
}

/* "deployment\0sender\0recipient" into out (cap bytes): the key's context
 * and the associated data.  Its length, or 0 when it does not fit. */
static size_t pair(const ehal_instance *inst, const char *s, size_t slen, const char *r,
                   size_t rlen, uint8_t *out, size_t cap) {
  const char *d = inst->deployment ? inst->deployment : "";
  size_t dlen = strlen(d);
  if (dlen + slen + rlen + 2 > cap) return 0;
  memcpy(out, d, dlen);
  out[dlen] = 0;
  memcpy(out + dlen + 1, s, slen);
  out[dlen + 1 + slen] = 0;
  memcpy(out + dlen + slen + 2, r, rlen);
  return dlen + slen + rlen + 2;
}

/* The pair's key; 0 or -1 with *why set. */
static int pair_key(ehal_instance *inst, const uint8_t *ctx, size_t ctx_len, uint8_t key[32],
                    ehal_str *why) {
  comm_state *st = ehal_iface_state(inst, EHAL_IFACE_ID_COMMUNICATION);
  if (!st) {
    *why = EHAL_STR("out of memory");
    return -1;
  }
  if (!st->have_root) {
    char err[256];
    if (ehal_sealing_root(inst->state_dir, st->root, err, sizeof err) != 0) {
      *why = ehal_str_fmt(inst, "cannot encrypt: %s", err);
      return -1;
    }
    st->have_root = true;
  }
  if (ehal_derive_key(st->root, "elastic-hal/message", ctx, ctx_len, key, 32) != 0) {
    *why = EHAL_STR("key derivation failed");
    return -1;
  }
  return 0;
}

static struct ehal_bus *bus_or_fail(ehal_instance *inst, ehal_str *why) {
  struct ehal_bus *bus = ehal_instance_bus(inst);
  if (!bus) *why = EHAL_STR("out of memory");
  return bus;
}

void ehal_impl_communication_send_message(ehal_instance *inst, ehal_str recipient, ehal_bytes data,
                                          bool encrypt,
                                          ehal_communication_result_message_handle_string_t *ret) {
  if (data.len > EHAL_MESSAGE_MAX)
    EHAL_FAIL(ret, "message of %zu bytes: the maximum is %u", data.len, EHAL_MESSAGE_MAX);
  if (recipient.len > 255) EHAL_FAIL(ret, "no workload of that name (names are short)");
  struct ehal_bus *bus = bus_or_fail(inst, &ret->err);
  if (!bus) {
    ret->is_err = true;
    return;
  }
  const uint8_t *out = data.ptr;
  size_t out_len = data.len;
  if (encrypt) {
    uint8_t ctx[640], key[32];
    size_t ctx_len = pair(inst, inst->workload, strlen(inst->workload), recipient.ptr,
                          recipient.len, ctx, sizeof ctx);
    if (!ctx_len) EHAL_FAIL(ret, "this workload's name is too long to seal messages under");
    if (pair_key(inst, ctx, ctx_len, key, &ret->err) != 0) {
      ret->is_err = true;
      return;
    }
    uint8_t *sealed = ehal_arena_alloc(inst, data.len + SEAL_OVERHEAD);
    if (!sealed) {
      OPENSSL_cleanse(key, sizeof key);
      return;
    }
    int rc = ehal_prim_random(sealed, EHAL_AEAD_NONCE_LEN) != 0 ||
             ehal_aead_seal(EHAL_AEAD_AES_GCM, key, 32, sealed, EHAL_AEAD_NONCE_LEN, ctx, ctx_len,
                            data.ptr, data.len, sealed + EHAL_AEAD_NONCE_LEN,
                            sealed + EHAL_AEAD_NONCE_LEN + data.len) != 0;
    OPENSSL_cleanse(key, sizeof key);
    if (rc) EHAL_FAIL(ret, "encryption failed");
    out = sealed;
    out_len = data.len + SEAL_OVERHEAD;
  }
  char err[512];
  if (bus->ops->send(bus, recipient.ptr, recipient.len, out, out_len, encrypt, &ret->val, err,
                     sizeof err) != 0)
    EHAL_FAIL(ret, "%s", err);
}

static void receive(ehal_instance *inst, uint64_t timeout_ms,
                    ehal_communication_result_option_message_string_t *ret) {
  struct ehal_bus *bus = bus_or_fail(inst, &ret->err);
  if (!bus) {
    ret->is_err = true;
    return;
  }
  ehal_message *m;
  char err[512];
  if (bus->ops->receive(bus, timeout_ms, &m, err, sizeof err) != 0) EHAL_FAIL(ret, "%s", err);
  if (!m) return; /* none */
  /* the recipient is this workload, whatever the relay says: the key of
   * a sealed message is the pair (sender, this workload) */
  const char *self = inst->workload;
  size_t slen = strlen(m->sender), rlen = strlen(self);
  char *names = ehal_arena_alloc(inst, slen + rlen + 1);
  uint8_t *payload = ehal_arena_alloc(inst, m->len ? m->len : 1);
  if (!names || !payload) {
    free(m);
    return;
  }
  memcpy(names, m->sender, slen);
  memcpy(names + slen, self, rlen);
  size_t len = m->len;
  if (m->encrypted) {
    uint8_t ctx[640], key[32];
    size_t ctx_len = pair(inst, m->sender, slen, self, rlen, ctx, sizeof ctx);
    int rc =
        ctx_len == 0 || m->len < SEAL_OVERHEAD || pair_key(inst, ctx, ctx_len, key, &ret->err) != 0;
    if (!rc) {
      len = m->len - SEAL_OVERHEAD;
      rc = ehal_aead_open(EHAL_AEAD_AES_GCM, key, 32, m->data, EHAL_AEAD_NONCE_LEN, ctx, ctx_len,
                          m->data + EHAL_AEAD_NONCE_LEN, len, m->data + EHAL_AEAD_NONCE_LEN + len,
                          EHAL_AEAD_TAG_LEN, payload) != 0;
      OPENSSL_cleanse(key, sizeof key);
    }
    if (rc) {
      free(m);
      EHAL_FAIL(ret, "an encrypted message from '%.*s' did not authenticate and was dropped",
                (int)slen, names);
    }
  } else {
    memcpy(payload, m->data, len);
  }
  ret->val.is_some = true;
  ret->val.val = (ehal_communication_message_t){.sender = {names, slen},
                                                .recipient = {names + slen, rlen},
                                                .payload = {payload, len},
                                                .encrypted = m->encrypted};
  free(m);
}

void ehal_impl_communication_receive_message(
    ehal_instance *inst, ehal_communication_result_option_message_string_t *ret) {
  receive(inst, 0, ret);
}

void ehal_impl_communication_receive_message_timeout(
    ehal_instance *inst, uint32_t timeout_ms,
    ehal_communication_result_option_message_string_t *ret) {
  uint64_t ms = timeout_ms, bound = inst->max_sleep_ns / 1000000u;
  if (inst->max_sleep_ns && ms > bound)
    EHAL_FAIL(ret, "a wait of %u ms exceeds this workload's sleep bound of %llu ms", timeout_ms,
              (unsigned long long)bound);
  receive(inst, ms, ret);
}

void ehal_impl_communication_list_workloads(
    ehal_instance *inst, ehal_communication_result_list_workload_id_string_t *ret) {
  struct ehal_bus *bus = bus_or_fail(inst, &ret->err);
  if (!bus) {
    ret->is_err = true;
    return;
  }
  char **names, err[512];
  size_t n;
  if (bus->ops->list(bus, &names, &n, err, sizeof err) != 0) EHAL_FAIL(ret, "%s", err);
  ehal_str *out = ehal_stage(inst, n ? n : 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++) {
    size_t len = strlen(names[i]);
    char *p = ehal_arena_alloc(inst, len ? len : 1);
    if (!p) {
      out = NULL;
      break;
    }
    memcpy(p, names[i], len);
    out[i] = (ehal_str){p, len};
  }
  free(names);
  EHAL_NEED(out);
  ret->val = (ehal_communication_list_workload_id_t){out, n};
}
