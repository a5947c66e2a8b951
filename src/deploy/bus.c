/* bus.c - the local and channel buses, and the supervisor's side of the
 * channel protocol (see bus.h; frames in wire.h).  The protocol's client
 * and server are side by side here, so that they change together. */
#include "bus.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../util/byteorder.h"

enum {
  OP_SEND = 1,
  OP_RECEIVE,
  OP_LIST,
  OP_SUBSCRIBE,
  OP_UNSUBSCRIBE,
  OP_POLL,
  OP_PUBLISH,
  OP_ALLOCATE,
  OP_DEALLOCATE,
  OP_AVAILABLE
};
enum { ANSWER_OK = 0, ANSWER_ERR = 1 };

/* A copy of a message or event whose names live in the same block. */
static ehal_message *message_copy(const char *sender, size_t slen, const char *recipient,
                                  size_t rlen, bool encrypted, const uint8_t *data, size_t len) {
  ehal_message *m = malloc(sizeof *m + len + slen + rlen + 2);
  if (!m) return NULL;
  m->next = NULL;
  m->encrypted = encrypted;
  m->len = len;
  if (len) memcpy(m->data, data, len);
  char *s = (char *)m->data + len;
  memcpy(s, sender, slen);
  s[slen] = 0;
  memcpy(s + slen + 1, recipient, rlen);
  s[slen + 1 + rlen] = 0;
  m->sender = s;
  m->recipient = s + slen + 1;
  return m;
}

static char **names_block(const char *const *names, const size_t *lens, size_t n) {
  size_t total = (n + 1) * sizeof(char *);
  for (size_t i = 0; i < n; i++) total += lens[i] + 1;
  char **out = malloc(total);
  if (!out) return NULL;
  char *p = (char *)(out + n + 1);
  for (size_t i = 0; i < n; i++) {
    out[i] = p;
    memcpy(p, names[i], lens[i]);
    p[lens[i]] = 0;
    p += lens[i] + 1;
  }
  out[n] = NULL;
  return out;
}

static void sleep_ms(uint64_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ---- local: a deployment of one ---- */

typedef struct {
  ehal_bus bus;
  ehal_broker *b;
} local_bus;

static ehal_broker *broker_of(ehal_bus *bus) { return ((local_bus *)bus)->b; }

static int local_send(ehal_bus *bus, const char *to, size_t to_len, const uint8_t *data, size_t len,
                      bool encrypted, uint64_t *handle, char *err, size_t errlen) {
  return ehal_broker_send(broker_of(bus), 0, to, to_len, data, len, encrypted, handle, err, errlen);
}

static int local_receive(ehal_bus *bus, uint64_t timeout_ms, ehal_message **msg, char *err,
                         size_t errlen) {
  (void)err;
  (void)errlen;
  /* alone, nothing can arrive while it waits: the wait is just the wait */
  if (!(*msg = ehal_broker_receive(broker_of(bus), 0)) && timeout_ms) sleep_ms(timeout_ms);
  return 0;
}

static int local_list(ehal_bus *bus, char ***names, size_t *n, char *err, size_t errlen) {
  (void)bus;
  *n = 0;
  if (!(*names = names_block(NULL, NULL, 0))) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

static int local_subscribe(ehal_bus *bus, uint8_t type, const char *source, size_t source_len,
                           bool published, uint64_t *handle, char *err, size_t errlen) {
  return ehal_broker_subscribe(broker_of(bus), 0, type, source, source_len, published, handle, err,
                               errlen);
}

static int local_unsubscribe(ehal_bus *bus, uint64_t handle, char *err, size_t errlen) {
  return ehal_broker_unsubscribe(broker_of(bus), 0, handle, err, errlen);
}

static int local_poll(ehal_bus *bus, uint64_t handle, ehal_event ***events, size_t *n, char *err,
                      size_t errlen) {
  return ehal_broker_poll(broker_of(bus), 0, handle, events, n, err, errlen);
}

static int local_publish(ehal_bus *bus, uint8_t type, uint8_t priority, bool published,
                         const void *payload, size_t len, char *err, size_t errlen) {
  (void)err;
  (void)errlen;
  ehal_broker_emit(broker_of(bus), 0, type, priority, published, payload, len);
  return 0;
}

static int local_allocate(ehal_bus *bus, int type, uint64_t amount, uint32_t priority,
                          char id[EHAL_ALLOC_ID_LEN + 1], uint64_t *granted, char *err,
                          size_t errlen) {
  return ehal_broker_allocate(broker_of(bus), 0, type, amount, priority, id, granted, err, errlen);
}

static int local_deallocate(ehal_bus *bus, const char *id, size_t id_len, int *type,
                            uint64_t *amount, char *err, size_t errlen) {
  return ehal_broker_deallocate(broker_of(bus), 0, id, id_len, type, amount, err, errlen);
}

static int local_available(ehal_bus *bus, int type, uint64_t *out, char *err, size_t errlen) {
  return ehal_broker_available(broker_of(bus), 0, type, out, err, errlen);
}

static void local_free(ehal_bus *bus) {
  ehal_broker_free(broker_of(bus));
  free(bus);
}

static const ehal_bus_ops local_ops = {
    local_send,    local_receive,  local_list,       local_subscribe, local_unsubscribe, local_poll,
    local_publish, local_allocate, local_deallocate, local_available, local_free};

ehal_bus *ehal_bus_local(const char *self, const uint64_t base[EHAL_RES_TYPES]) {
  local_bus *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->bus.ops = &local_ops;
  if (!(l->b = ehal_broker_new(&self, 1, NULL))) {
    free(l);
    return NULL;
  }
  for (int t = 0; t < EHAL_RES_TYPES; t++)
    ehal_broker_set_resource(l->b, 0, t, base[t], base[t], 255);
  return &l->bus;
}

/* ---- channel: the client, in a workload's runtime ---- */

typedef struct {
  ehal_bus bus;
  int fd;
  ehal_wire_out out;
  uint8_t *in; /* the last answer: length, then body */
  size_t in_cap;
} channel_bus;

/* Reads one answer into c->in, in as few reads as it takes (one, mostly:
 * the supervisor sends exactly one answer per request, so nothing of a
 * next frame can follow it).  Its body length in *len; -1 when the
 * supervisor is gone or sent a frame of a bad length. */
static int read_answer(channel_bus *c, size_t *len) {
  size_t have = 0, need = 4;
  for (;;) {
    if (have >= 4) {
      uint32_t n = ehal_get_u32(c->in);
      if (n == 0 || n > EHAL_WIRE_MAX_BODY) return -1;
      need = 4 + (size_t)n;
      if (have >= need) break;
    }
    if (need > c->in_cap || !c->in) {
      size_t cap = need > 65536 ? need : 65536;
      uint8_t *p = realloc(c->in, cap);
      if (!p) return -1;
      c->in = p;
      c->in_cap = cap;
    }
    ssize_t k = read(c->fd, c->in + have, c->in_cap - have);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    have += (size_t)k;
  }
  *len = need - 4;
  return 0;
}

/* Sends the request built in c->out and reads the answer: 0 with *r over
 * its fields when it says ok, -1 with err set otherwise. */
static int call(channel_bus *c, ehal_wire_in *r, char *err, size_t errlen) {
  size_t n = ehal_wire_end(&c->out);
  size_t len;
  if (!n) {
    snprintf(err, errlen, "request too large or out of memory");
    return -1;
  }
  if (ehal_wire_write_all(c->fd, c->out.buf, n) != 0 || read_answer(c, &len) != 0) {
    snprintf(err, errlen, "the deployment's supervisor is gone");
    return -1;
  }
  *r = (ehal_wire_in){c->in + 5, len - 1, false};
  if (c->in[4] == ANSWER_OK) return 0;
  size_t elen;
  const uint8_t *e = ehal_wire_get_bytes(r, &elen);
  snprintf(err, errlen, "%.*s", (int)elen, (const char *)e);
  return -1;
}

static int answer_ok(ehal_wire_in *r, char *err, size_t errlen) {
  if (ehal_wire_done(r)) return 0;
  snprintf(err, errlen, "malformed answer from the supervisor");
  return -1;
}

static channel_bus *chan(ehal_bus *bus) { return (channel_bus *)bus; }

static int chan_send(ehal_bus *bus, const char *to, size_t to_len, const uint8_t *data, size_t len,
                     bool encrypted, uint64_t *handle, char *err, size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_SEND);
  ehal_wire_bytes(&c->out, to, to_len);
  ehal_wire_u8(&c->out, encrypted);
  ehal_wire_bytes(&c->out, data, len);
  ehal_wire_in r;
  if (call(c, &r, err, errlen) != 0) return -1;
  *handle = ehal_wire_get_u64(&r);
  return answer_ok(&r, err, errlen);
}

/* A message as the server writes it, read back. */
static int read_message(ehal_wire_in *r, ehal_message **msg, char *err, size_t errlen) {
  *msg = NULL;
  if (!ehal_wire_get_u8(r)) return answer_ok(r, err, errlen);
  size_t slen, rlen, len;
  const uint8_t *s = ehal_wire_get_bytes(r, &slen), *rc = ehal_wire_get_bytes(r, &rlen);
  bool enc = ehal_wire_get_u8(r);
  const uint8_t *data = ehal_wire_get_bytes(r, &len);
  if (answer_ok(r, err, errlen) != 0) return -1;
  if (!(*msg = message_copy((const char *)s, slen, (const char *)rc, rlen, enc, data, len))) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

static int chan_receive(ehal_bus *bus, uint64_t timeout_ms, ehal_message **msg, char *err,
                        size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_RECEIVE);
  ehal_wire_u64(&c->out, timeout_ms);
  ehal_wire_in r;
  *msg = NULL;
  if (call(c, &r, err, errlen) != 0) return -1;
  return read_message(&r, msg, err, errlen);
}

static int chan_list(ehal_bus *bus, char ***names, size_t *n, char *err, size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_LIST);
  ehal_wire_in r;
  if (call(c, &r, err, errlen) != 0) return -1;
  uint32_t k = ehal_wire_get_u32(&r);
  if (k > r.left / 4) k = 0, r.failed = true; /* each name takes 4 bytes at least */
  /* on the heap: a host call runs on what stack the guest left */
  const char **ptrs = malloc((k + 1) * sizeof *ptrs);
  size_t *lens = malloc((k + 1) * sizeof *lens);
  for (uint32_t i = 0; ptrs && lens && i < k; i++)
    ptrs[i] = (const char *)ehal_wire_get_bytes(&r, &lens[i]);
  int rc = -1;
  if (!ptrs || !lens)
    snprintf(err, errlen, "out of memory");
  else if (answer_ok(&r, err, errlen) == 0 && !(*names = names_block(ptrs, lens, k)))
    snprintf(err, errlen, "out of memory");
  else if (!r.failed)
    rc = 0, *n = k;
  free(ptrs);
  free(lens);
  return rc;
}

static int chan_subscribe(ehal_bus *bus, uint8_t type, const char *source, size_t source_len,
                          bool published, uint64_t *handle, char *err, size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_SUBSCRIBE);
  ehal_wire_u8(&c->out, type);
  ehal_wire_u8(&c->out, source != NULL);
  ehal_wire_bytes(&c->out, source ? source : "", source ? source_len : 0);
  ehal_wire_u8(&c->out, published);
  ehal_wire_in r;
  if (call(c, &r, err, errlen) != 0) return -1;
  *handle = ehal_wire_get_u64(&r);
  return answer_ok(&r, err, errlen);
}

static int chan_unsubscribe(ehal_bus *bus, uint64_t handle, char *err, size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_UNSUBSCRIBE);
  ehal_wire_u64(&c->out, handle);
  ehal_wire_in r;
  if (call(c, &r, err, errlen) != 0) return -1;
  return answer_ok(&r, err, errlen);
}

static int chan_poll(ehal_bus *bus, uint64_t handle, ehal_event ***events, size_t *n, char *err,
                     size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_POLL);
  ehal_wire_u64(&c->out, handle);
  ehal_wire_in r;
  *events = NULL;
  *n = 0;
  if (call(c, &r, err, errlen) != 0) return -1;
  uint32_t k = ehal_wire_get_u32(&r);
  if (k > EHAL_POLL_MAX_EVENTS) k = 0, r.failed = true;
  ehal_event **ev = calloc(k ? k : 1, sizeof *ev);
  if (!ev) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  size_t got = 0;
  for (uint32_t i = 0; i < k && !r.failed; i++) {
    uint8_t type = ehal_wire_get_u8(&r), prio = ehal_wire_get_u8(&r);
    bool published = ehal_wire_get_u8(&r);
    uint64_t ts = ehal_wire_get_u64(&r), seq = ehal_wire_get_u64(&r);
    size_t slen, len;
    const uint8_t *s = ehal_wire_get_bytes(&r, &slen), *p = ehal_wire_get_bytes(&r, &len);
    ehal_event *e = r.failed ? NULL : malloc(sizeof *e + len + slen + 1);
    if (!e) break;
    *e = (ehal_event){type, prio, published, ts, seq, NULL, len};
    if (len) memcpy(e->data, p, len);
    memcpy(e->data + len, s, slen);
    e->data[len + slen] = 0;
    e->source = (const char *)e->data + len;
    ev[got++] = e;
  }
  if (got != k || answer_ok(&r, err, errlen) != 0) {
    ehal_broker_events_free(ev, got);
    if (got != k && !r.failed) snprintf(err, errlen, "out of memory");
    return -1;
  }
  *events = ev;
  *n = k;
  return 0;
}

static int chan_publish(ehal_bus *bus, uint8_t type, uint8_t priority, bool published,
                        const void *payload, size_t len, char *err, size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_PUBLISH);
  ehal_wire_u8(&c->out, type);
  ehal_wire_u8(&c->out, priority);
  ehal_wire_u8(&c->out, published);
  ehal_wire_bytes(&c->out, payload, len);
  ehal_wire_in r;
  if (call(c, &r, err, errlen) != 0) return -1;
  return answer_ok(&r, err, errlen);
}

static int chan_allocate(ehal_bus *bus, int type, uint64_t amount, uint32_t priority,
                         char id[EHAL_ALLOC_ID_LEN + 1], uint64_t *granted, char *err,
                         size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_ALLOCATE);
  ehal_wire_u8(&c->out, (uint8_t)type);
  ehal_wire_u64(&c->out, amount);
  ehal_wire_u32(&c->out, priority);
  ehal_wire_in r;
  if (call(c, &r, err, errlen) != 0) return -1;
  size_t n;
  const uint8_t *p = ehal_wire_get_bytes(&r, &n);
  *granted = ehal_wire_get_u64(&r);
  if (answer_ok(&r, err, errlen) != 0) return -1;
  if (n != EHAL_ALLOC_ID_LEN) {
    snprintf(err, errlen, "malformed answer from the supervisor");
    return -1;
  }
  memcpy(id, p, n);
  id[n] = 0;
  return 0;
}

static int chan_deallocate(ehal_bus *bus, const char *id, size_t id_len, int *type,
                           uint64_t *amount, char *err, size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_DEALLOCATE);
  ehal_wire_bytes(&c->out, id, id_len);
  ehal_wire_in r;
  if (call(c, &r, err, errlen) != 0) return -1;
  *type = ehal_wire_get_u8(&r);
  *amount = ehal_wire_get_u64(&r);
  return answer_ok(&r, err, errlen);
}

static int chan_available(ehal_bus *bus, int type, uint64_t *out, char *err, size_t errlen) {
  channel_bus *c = chan(bus);
  ehal_wire_begin(&c->out, OP_AVAILABLE);
  ehal_wire_u8(&c->out, (uint8_t)type);
  ehal_wire_in r;
  if (call(c, &r, err, errlen) != 0) return -1;
  *out = ehal_wire_get_u64(&r);
  return answer_ok(&r, err, errlen);
}

static void chan_free(ehal_bus *bus) {
  channel_bus *c = chan(bus);
  ehal_wire_free(&c->out);
  free(c->in);
  free(c);
}

static const ehal_bus_ops channel_ops = {
    chan_send,    chan_receive,  chan_list,       chan_subscribe, chan_unsubscribe, chan_poll,
    chan_publish, chan_allocate, chan_deallocate, chan_available, chan_free};

ehal_bus *ehal_bus_channel(int fd) {
  channel_bus *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->bus.ops = &channel_ops;
  c->fd = fd;
  return &c->bus;
}

/* ---- channel: the server, in the supervisor ---- */

static void answer_err(ehal_wire_out *resp, const char *msg) {
  ehal_wire_begin(resp, ANSWER_ERR);
  ehal_wire_str(resp, msg);
}

/* The events a workload's runtime may emit as the HAL's own, with their
 * types (docs/deployment.md): the supervisor emits the rest itself. */
static const struct {
  const char *name;
  uint8_t type;
} runtime_events[] = {
    {"attestation-produced", 0}, {"key-created", 1},       {"key-imported", 1},
    {"container-created", 2},    {"container-deleted", 2}, {"connection-accepted", 3},
};

/* A HAL event from who's runtime, checked and rebuilt: a known name of the
 * right type, and "workload" set to who whatever the runtime wrote (so
 * that even a subverted runtime speaks only for itself, and only of what
 * a runtime may report).  NULL when refused; the caller frees it. */
static char *hal_event(ehal_broker *b, int who, uint8_t type, const uint8_t *p, size_t n,
                       size_t *len) {
  json_tokener *tok = json_tokener_new();
  json_object *o = tok ? json_tokener_parse_ex(tok, (const char *)p, (int)n) : NULL, *ev;
  json_tokener_free(tok);
  char *out = NULL;
  bool known = false;
  if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "event", &ev) &&
      json_object_is_type(ev, json_type_string))
    for (size_t i = 0; i < sizeof runtime_events / sizeof runtime_events[0] && !known; i++)
      known = runtime_events[i].type == type &&
              !strcmp(runtime_events[i].name, json_object_get_string(ev));
  if (known) {
    json_object_object_add(o, "workload", json_object_new_string(ehal_broker_name(b, who)));
    const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, len);
    out = s ? strdup(s) : NULL;
  }
  json_object_put(o);
  return out;
}

void ehal_bus_answer_receive(ehal_broker *b, int who, ehal_wire_out *resp) {
  ehal_message *m = ehal_broker_receive(b, who);
  ehal_wire_begin(resp, ANSWER_OK);
  ehal_wire_u8(resp, m != NULL);
  if (m) {
    ehal_wire_str(resp, m->sender);
    ehal_wire_str(resp, m->recipient);
    ehal_wire_u8(resp, m->encrypted);
    ehal_wire_bytes(resp, m->data, m->len);
    free(m);
  }
}

int ehal_bus_serve(ehal_broker *b, int who, const uint8_t *body, size_t len, ehal_wire_out *resp,
                   uint64_t *wait_ms) {
  if (len < 1) return -1;
  ehal_wire_in r = {body + 1, len - 1, false};
  char err[512];
  size_t n, m;
  const uint8_t *p, *q;
  uint64_t handle = 0;
  int rc;
  switch (body[0]) {
    case OP_SEND: {
      p = ehal_wire_get_bytes(&r, &n);
      bool enc = ehal_wire_get_u8(&r);
      q = ehal_wire_get_bytes(&r, &m);
      if (!ehal_wire_done(&r)) return -1;
      rc = ehal_broker_send(b, who, (const char *)p, n, q, m, enc, &handle, err, sizeof err);
      break;
    }
    case OP_RECEIVE: {
      uint64_t timeout = ehal_wire_get_u64(&r);
      if (!ehal_wire_done(&r)) return -1;
      if (!ehal_broker_has_message(b, who) && timeout) {
        *wait_ms = timeout;
        return 1;
      }
      ehal_bus_answer_receive(b, who, resp);
      return 0;
    }
    case OP_LIST: {
      if (!ehal_wire_done(&r)) return -1;
      int idx[ehal_broker_count(b) + 1];
      size_t k = ehal_broker_list(b, who, idx);
      ehal_wire_begin(resp, ANSWER_OK);
      ehal_wire_u32(resp, (uint32_t)k);
      for (size_t i = 0; i < k; i++) ehal_wire_str(resp, ehal_broker_name(b, idx[i]));
      return 0;
    }
    case OP_SUBSCRIBE: {
      uint8_t type = ehal_wire_get_u8(&r);
      bool named = ehal_wire_get_u8(&r);
      p = ehal_wire_get_bytes(&r, &n);
      bool published = ehal_wire_get_u8(&r);
      if (!ehal_wire_done(&r)) return -1;
      rc = ehal_broker_subscribe(b, who, type, named ? (const char *)p : NULL, n, published,
                                 &handle, err, sizeof err);
      break;
    }
    case OP_UNSUBSCRIBE:
      handle = ehal_wire_get_u64(&r);
      if (!ehal_wire_done(&r)) return -1;
      if (ehal_broker_unsubscribe(b, who, handle, err, sizeof err) != 0) {
        answer_err(resp, err);
        return 0;
      }
      ehal_wire_begin(resp, ANSWER_OK);
      return 0;
    case OP_POLL: {
      handle = ehal_wire_get_u64(&r);
      if (!ehal_wire_done(&r)) return -1;
      ehal_event **ev;
      if (ehal_broker_poll(b, who, handle, &ev, &n, err, sizeof err) != 0) {
        answer_err(resp, err);
        return 0;
      }
      ehal_wire_begin(resp, ANSWER_OK);
      ehal_wire_u32(resp, (uint32_t)n);
      for (size_t i = 0; i < n; i++) {
        ehal_wire_u8(resp, ev[i]->type);
        ehal_wire_u8(resp, ev[i]->priority);
        ehal_wire_u8(resp, ev[i]->published);
        ehal_wire_u64(resp, ev[i]->timestamp_ns);
        ehal_wire_u64(resp, ev[i]->seq);
        ehal_wire_str(resp, ev[i]->source);
        ehal_wire_bytes(resp, ev[i]->data, ev[i]->len);
      }
      ehal_broker_events_free(ev, n);
      return 0;
    }
    case OP_PUBLISH: {
      uint8_t type = ehal_wire_get_u8(&r), prio = ehal_wire_get_u8(&r);
      bool published = ehal_wire_get_u8(&r);
      p = ehal_wire_get_bytes(&r, &n);
      if (!ehal_wire_done(&r) || n > EHAL_EVENT_PAYLOAD_MAX) return -1;
      if (published) {
        ehal_broker_emit(b, who, type, prio, true, p, n);
      } else {
        size_t len;
        char *ev = hal_event(b, who, type, p, n, &len);
        if (!ev) return -1; /* no runtime of this HAL sends that */
        ehal_broker_emit(b, who, type, EHAL_EVENT_HAL_PRIORITY, false, ev, len);
        free(ev);
      }
      ehal_wire_begin(resp, ANSWER_OK);
      return 0;
    }
    case OP_ALLOCATE: {
      uint8_t type = ehal_wire_get_u8(&r);
      uint64_t amount = ehal_wire_get_u64(&r);
      uint32_t prio = ehal_wire_get_u32(&r);
      if (!ehal_wire_done(&r)) return -1;
      char id[EHAL_ALLOC_ID_LEN + 1];
      uint64_t granted;
      if (ehal_broker_allocate(b, who, type, amount, prio, id, &granted, err, sizeof err) != 0) {
        answer_err(resp, err);
        return 0;
      }
      ehal_wire_begin(resp, ANSWER_OK);
      ehal_wire_bytes(resp, id, EHAL_ALLOC_ID_LEN);
      ehal_wire_u64(resp, granted);
      return 0;
    }
    case OP_DEALLOCATE: {
      p = ehal_wire_get_bytes(&r, &n);
      if (!ehal_wire_done(&r)) return -1;
      int type;
      uint64_t amount;
      if (ehal_broker_deallocate(b, who, (const char *)p, n, &type, &amount, err, sizeof err)) {
        answer_err(resp, err);
        return 0;
      }
      ehal_wire_begin(resp, ANSWER_OK);
      ehal_wire_u8(resp, (uint8_t)type);
      ehal_wire_u64(resp, amount);
      return 0;
    }
    case OP_AVAILABLE: {
      uint8_t type = ehal_wire_get_u8(&r);
      if (!ehal_wire_done(&r)) return -1;
      uint64_t v;
      if (ehal_broker_available(b, who, type, &v, err, sizeof err) != 0) {
        answer_err(resp, err);
        return 0;
      }
      ehal_wire_begin(resp, ANSWER_OK);
      ehal_wire_u64(resp, v);
      return 0;
    }
    default: return -1;
  }
  if (rc != 0) {
    answer_err(resp, err);
    return 0;
  }
  ehal_wire_begin(resp, ANSWER_OK);
  ehal_wire_u64(resp, handle);
  return 0;
}
