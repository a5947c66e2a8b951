/* broker.c - the messages and events of one deployment (see broker.h). */
#include "broker.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../crypto/primitives.h"
#include "../runtime/handles.h"

typedef struct {
  uint64_t *budget; /* the owner's queued event bytes (workload.event_bytes) */
  uint8_t type;
  int source; /* -1: every workload the owner may receive from */
  bool published;
  ehal_event **ev; /* in arrival order */
  uint32_t n;
  uint64_t dropped; /* since the last poll */
} subscription;

typedef struct {
  char id[EHAL_ALLOC_ID_LEN + 1];
  int type;
  uint64_t amount;
} allocation;

typedef struct {
  uint64_t base, ceiling, granted; /* per resource type */
} holding;

typedef struct {
  char *name;
  holding res[EHAL_RES_TYPES];
  uint8_t max_priority;
  allocation *allocs; /* EHAL_MAX_ALLOCATIONS slots; type -1: free */
  ehal_message *head, *tail;
  uint32_t queued;
  uint64_t queued_bytes, sent, received, refused, next_handle;
  uint64_t event_bytes; /* queued in its subscriptions */
  uint32_t senders;     /* workloads allowed to message it */
  bool gone;
  ehal_handle_table subs;
} workload;

struct ehal_broker {
  workload *w;
  size_t n;
  bool *may_message;   /* n*n: [from*n + to] */
  bool *may_receive;   /* n*n: [subscriber*n + source] */
  uint32_t *pair_msgs; /* n*n: [from*n + to] messages queued */
  uint64_t *pair_bytes;
  ehal_broker_limits lim;
  uint64_t seq;
  uint64_t total[EHAL_RES_TYPES]; /* 0: the sum of the ceilings */
  ehal_broker_audit_fn audit;
  void *audit_user;
};

void ehal_broker_set_audit(ehal_broker *b, ehal_broker_audit_fn fn, void *user) {
  b->audit = fn;
  b->audit_user = user;
}

/* A refusal by the policy, for the audit log: {"event", "workload", key: what}. */
static void audit_refusal(ehal_broker *b, int who, const char *event, const char *key,
                          const char *what, size_t what_len) {
  if (!b->audit) return;
  json_object *o = json_object_new_object();
  if (!o) return;
  json_object_object_add(o, "event", json_object_new_string(event));
  json_object_object_add(o, "workload", json_object_new_string(b->w[who].name));
  json_object_object_add(o, key,
                         json_object_new_string_len(what, (int)(what_len < 256 ? what_len : 256)));
  size_t len;
  const char *p = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
  if (p) b->audit(b->audit_user, who, p, len);
  json_object_put(o);
}

static void free_sub(void *p) {
  subscription *s = p;
  for (uint32_t i = 0; i < s->n; i++) *s->budget -= s->ev[i]->len;
  ehal_broker_events_free(s->ev, s->n);
  free(s);
}

ehal_broker *ehal_broker_new(const char *const *names, size_t n, const ehal_broker_limits *lim) {
  ehal_broker *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->n = n;
  b->w = calloc(n ? n : 1, sizeof *b->w);
  b->may_message = calloc(n * n + 1, 1);
  b->may_receive = calloc(n * n + 1, 1);
  b->pair_msgs = calloc(n * n + 1, sizeof *b->pair_msgs);
  b->pair_bytes = calloc(n * n + 1, sizeof *b->pair_bytes);
  if (lim) b->lim = *lim;
  if (!b->lim.queue_messages) b->lim.queue_messages = 1024;
  if (!b->lim.queue_bytes) b->lim.queue_bytes = 16u << 20;
  if (!b->lim.event_queue) b->lim.event_queue = 256;
  if (!b->lim.subscriptions) b->lim.subscriptions = 64;
  if (!b->lim.event_bytes) b->lim.event_bytes = 4u << 20;
  if (!b->w || !b->may_message || !b->may_receive || !b->pair_msgs || !b->pair_bytes) {
    ehal_broker_free(b);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    ehal_handles_init(&b->w[i].subs, b->lim.subscriptions, free_sub);
    b->w[i].max_priority = 255;
    b->w[i].allocs = calloc(EHAL_MAX_ALLOCATIONS, sizeof *b->w[i].allocs);
    for (size_t k = 0; b->w[i].allocs && k < EHAL_MAX_ALLOCATIONS; k++) b->w[i].allocs[k].type = -1;
    if (!b->w[i].allocs || !(b->w[i].name = strdup(names[i]))) {
      ehal_broker_free(b);
      return NULL;
    }
    b->may_receive[i * n + i] = true;
  }
  return b;
}

void ehal_broker_free(ehal_broker *b) {
  if (!b) return;
  for (size_t i = 0; b->w && i < b->n; i++) {
    workload *w = &b->w[i];
    while (w->head) {
      ehal_message *m = w->head;
      w->head = m->next;
      free(m);
    }
    ehal_handles_free(&w->subs);
    free(w->allocs);
    free(w->name);
  }
  free(b->w);
  free(b->may_message);
  free(b->may_receive);
  free(b->pair_msgs);
  free(b->pair_bytes);
  free(b);
}

size_t ehal_broker_count(const ehal_broker *b) { return b->n; }
const char *ehal_broker_name(const ehal_broker *b, int who) { return b->w[who].name; }

int ehal_broker_find(const ehal_broker *b, const char *name, size_t len) {
  for (size_t i = 0; i < b->n; i++)
    if (strlen(b->w[i].name) == len && !memcmp(b->w[i].name, name, len)) return (int)i;
  return -1;
}

void ehal_broker_allow_message(ehal_broker *b, int from, int to) {
  bool *m = &b->may_message[(size_t)from * b->n + (size_t)to];
  if (from == to || *m) return;
  *m = true;
  b->w[to].senders++;
}

static void drop_queue(ehal_broker *b, int who) {
  uint64_t received = b->w[who].received; /* dropped, not received */
  ehal_message *m;
  while ((m = ehal_broker_receive(b, who))) free(m);
  b->w[who].received = received;
}

void ehal_broker_set_gone(ehal_broker *b, int who, bool gone) {
  b->w[who].gone = gone;
  if (gone) drop_queue(b, who);
}

void ehal_broker_allow_events(ehal_broker *b, int subscriber, int source) {
  b->may_receive[(size_t)subscriber * b->n + (size_t)source] = true;
}

bool ehal_broker_may_message(const ehal_broker *b, int from, int to) {
  return b->may_message[(size_t)from * b->n + (size_t)to];
}

/* Names from a guest are printed only when they are plain: anything else
 * is summarized, so an error message never carries a guest's bytes. */
static const char *shown(const char *s, size_t n, char *buf, size_t cap) {
  bool plain = n > 0 && n < 64;
  for (size_t i = 0; plain && i < n; i++) plain = s[i] > 0x20 && s[i] < 0x7f;
  if (plain)
    snprintf(buf, cap, "'%.*s'", (int)n, s);
  else
    snprintf(buf, cap, "(a name of %zu bytes)", n);
  return buf;
}

int ehal_broker_send(ehal_broker *b, int from, const char *to, size_t to_len, const uint8_t *data,
                     size_t len, bool encrypted, uint64_t *handle, char *err, size_t errlen) {
  char nb[80];
  workload *s = &b->w[from];
  int t = ehal_broker_find(b, to, to_len);
  if (t < 0 || !ehal_broker_may_message(b, from, t)) {
    s->refused++;
    audit_refusal(b, from, "message-refused", "recipient", to, to_len);
    /* the same answer whether the workload exists or not: a policy that
     * hides a workload hides its name too */
    snprintf(err, errlen, "no workload %s that %s may message (see list-workloads)",
             shown(to, to_len, nb, sizeof nb), s->name);
    return -1;
  }
  workload *r = &b->w[t];
  if (r->gone) {
    snprintf(err, errlen, "workload '%s' has ended and will not run again", r->name);
    return -1;
  }
  if (len > EHAL_MESSAGE_MAX + 64) {
    snprintf(err, errlen, "message of %zu bytes: the maximum is %u", len, EHAL_MESSAGE_MAX);
    return -1;
  }
  /* this sender's share of the recipient's queue */
  size_t pair = (size_t)from * b->n + (size_t)t;
  uint32_t senders = r->senders ? r->senders : 1;
  uint32_t share_msgs = b->lim.queue_messages / senders;
  uint64_t share_bytes = b->lim.queue_bytes / senders;
  if (share_msgs < 1) share_msgs = 1;
  /* a sender with nothing queued may always send one message (of any
   * size the queue takes): a share is never too small for one */
  if (senders > 1 && b->pair_msgs[pair] > 0 &&
      (b->pair_msgs[pair] >= share_msgs || b->pair_bytes[pair] + len > share_bytes)) {
    s->refused++;
    snprintf(err, errlen,
             "%s's share of the queue of '%s' is full (%u messages, %llu bytes; at most %u and "
             "%llu while %u workloads may message it): try again once it has received",
             s->name, r->name, b->pair_msgs[pair], (unsigned long long)b->pair_bytes[pair],
             share_msgs, (unsigned long long)share_bytes, senders);
    return -1;
  }
  if (r->queued >= b->lim.queue_messages || r->queued_bytes + len > b->lim.queue_bytes) {
    s->refused++;
    snprintf(err, errlen,
             "queue of '%s' is full (%u messages, %llu bytes; at most %u and %llu): "
             "try again once it has received",
             r->name, r->queued, (unsigned long long)r->queued_bytes, b->lim.queue_messages,
             (unsigned long long)b->lim.queue_bytes);
    return -1;
  }
  ehal_message *m = malloc(sizeof *m + len);
  if (!m) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  m->next = NULL;
  m->from = from;
  m->sender = s->name;
  m->recipient = r->name;
  m->encrypted = encrypted;
  m->len = len;
  if (len) memcpy(m->data, data, len);
  if (r->tail)
    r->tail->next = m;
  else
    r->head = m;
  r->tail = m;
  r->queued++;
  r->queued_bytes += len;
  b->pair_msgs[pair]++;
  b->pair_bytes[pair] += len;
  s->sent++;
  *handle = ++s->next_handle;
  return 0;
}

ehal_message *ehal_broker_receive(ehal_broker *b, int who) {
  workload *w = &b->w[who];
  ehal_message *m = w->head;
  if (!m) return NULL;
  w->head = m->next;
  if (!w->head) w->tail = NULL;
  w->queued--;
  w->queued_bytes -= m->len;
  w->received++;
  size_t pair = (size_t)m->from * b->n + (size_t)who;
  b->pair_msgs[pair]--;
  b->pair_bytes[pair] -= m->len;
  m->next = NULL;
  return m;
}

bool ehal_broker_has_message(const ehal_broker *b, int who) { return b->w[who].head != NULL; }

size_t ehal_broker_list(const ehal_broker *b, int who, int *out) {
  size_t k = 0;
  for (size_t i = 0; i < b->n; i++)
    if (ehal_broker_may_message(b, who, (int)i)) out[k++] = (int)i;
  return k;
}

int ehal_broker_subscribe(ehal_broker *b, int who, uint8_t type, const char *source,
                          size_t source_len, bool published, uint64_t *handle, char *err,
                          size_t errlen) {
  if (type >= EHAL_EVENT_TYPES) {
    snprintf(err, errlen, "no event type %u", type);
    return -1;
  }
  int src = source ? ehal_broker_find(b, source, source_len) : -1;
  if (source && (src < 0 || !b->may_receive[(size_t)who * b->n + (size_t)src])) {
    char nb[80];
    audit_refusal(b, who, "subscription-refused", "source", source, source_len);
    snprintf(err, errlen, "no workload %s whose events %s may hear (the deployment's policy)",
             shown(source, source_len, nb, sizeof nb), b->w[who].name);
    return -1;
  }
  subscription *s = calloc(1, sizeof *s);
  if (s) s->ev = calloc(b->lim.event_queue, sizeof *s->ev);
  if (!s || !s->ev) {
    if (s) free(s);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->budget = &b->w[who].event_bytes;
  s->type = type;
  s->source = src;
  s->published = published;
  *handle = ehal_handle_new(&b->w[who].subs, s);
  if (!*handle) {
    free_sub(s);
    snprintf(err, errlen, "too many subscriptions (at most %u per workload)", b->lim.subscriptions);
    return -1;
  }
  return 0;
}

int ehal_broker_unsubscribe(ehal_broker *b, int who, uint64_t handle, char *err, size_t errlen) {
  subscription *s = ehal_handle_take(&b->w[who].subs, handle);
  if (!s) {
    snprintf(err, errlen, "no subscription %llu", (unsigned long long)handle);
    return -1;
  }
  free_sub(s);
  return 0;
}

static ehal_event *new_event(ehal_broker *b, int source, uint8_t type, uint8_t prio, bool published,
                             const void *payload, size_t len) {
  ehal_event *e = malloc(sizeof *e + len);
  if (!e) return NULL;
  e->type = type;
  e->priority = prio;
  e->published = published;
  e->timestamp_ns = ehal_wall_ns();
  e->seq = ++b->seq;
  e->source = b->w[source].name;
  e->len = len;
  if (len) memcpy(e->data, payload, len);
  return e;
}

/* Whether event a goes before b: higher priority, then older. */
static bool before(const ehal_event *a, const ehal_event *b) {
  return a->priority != b->priority ? a->priority > b->priority : a->seq < b->seq;
}

int ehal_broker_poll(ehal_broker *b, int who, uint64_t handle, ehal_event ***out, size_t *n,
                     char *err, size_t errlen) {
  subscription *s = ehal_handle_get(&b->w[who].subs, handle);
  *out = NULL;
  *n = 0;
  if (!s) {
    snprintf(err, errlen, "no subscription %llu", (unsigned long long)handle);
    return -1;
  }
  ehal_event **res = calloc(EHAL_POLL_MAX_EVENTS, sizeof *res);
  if (!res) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  size_t k = 0, bytes = 0;
  if (s->dropped) {
    char p[96];
    int len = snprintf(p, sizeof p, "{\"event\":\"overflow\",\"dropped\":%llu}",
                       (unsigned long long)s->dropped);
    res[k] = new_event(b, who, s->type, EHAL_EVENT_OVERFLOW_PRIORITY, false, p, (size_t)len);
    if (res[k]) {
      k++;
      s->dropped = 0;
    }
  }
  /* selection by priority: the queue is short (event_queue) */
  while (k < EHAL_POLL_MAX_EVENTS && s->n > 0) {
    uint32_t best = 0;
    for (uint32_t i = 1; i < s->n; i++)
      if (before(s->ev[i], s->ev[best])) best = i;
    if (k > 0 && bytes + s->ev[best]->len > EHAL_POLL_MAX_BYTES) break;
    bytes += s->ev[best]->len;
    *s->budget -= s->ev[best]->len;
    res[k++] = s->ev[best];
    memmove(&s->ev[best], &s->ev[best + 1], (s->n - best - 1) * sizeof *s->ev);
    s->n--;
  }
  *out = res;
  *n = k;
  return 0;
}

void ehal_broker_events_free(ehal_event **ev, size_t n) {
  if (!ev) return;
  for (size_t i = 0; i < n; i++) free(ev[i]);
  free(ev);
}

typedef struct {
  ehal_broker *b;
  int owner, source;
  uint8_t type, priority;
  bool published;
  const void *payload;
  size_t len;
} delivery;

static int deliver(void *obj, void *arg) {
  subscription *s = obj;
  delivery *d = arg;
  if (s->type != d->type || s->published != d->published) return 0;
  if (s->source >= 0 ? s->source != d->source
                     : !d->b->may_receive[(size_t)d->owner * d->b->n + (size_t)d->source])
    return 0;
  /* the byte budget bounds what workloads publish (up to 64 KiB each); the
   * HAL's own events are small and bounded by the count alone, so no
   * publisher can crowd them out */
  if (s->n >= d->b->lim.event_queue ||
      (d->published && *s->budget + d->len > d->b->lim.event_bytes)) {
    s->dropped++;
    return 0;
  }
  ehal_event *e =
      new_event(d->b, d->source, d->type, d->priority, d->published, d->payload, d->len);
  if (e) {
    s->ev[s->n++] = e;
    *s->budget += e->len;
  } else {
    s->dropped++;
  }
  return 0; /* never drop the subscription */
}

void ehal_broker_emit(ehal_broker *b, int source, uint8_t type, uint8_t priority, bool published,
                      const void *payload, size_t len) {
  if (type >= EHAL_EVENT_TYPES || source < 0 || (size_t)source >= b->n) return;
  if (!published && b->audit) b->audit(b->audit_user, source, payload, len);
  delivery d = {b, 0, source, type, priority, published, payload, len};
  for (size_t i = 0; i < b->n; i++) {
    d.owner = (int)i;
    ehal_handles_drop_if(&b->w[i].subs, deliver, &d);
  }
}

static int always(void *obj, void *arg) {
  (void)obj;
  (void)arg;
  return 1;
}

void ehal_broker_reset(ehal_broker *b, int who) {
  workload *w = &b->w[who];
  ehal_handles_drop_if(&w->subs, always, NULL);
  for (size_t k = 0; k < EHAL_MAX_ALLOCATIONS; k++) w->allocs[k].type = -1;
  for (int t = 0; t < EHAL_RES_TYPES; t++) w->res[t].granted = 0;
}

/* ---- resources ---- */

const char *ehal_resource_name(int type) {
  static const char *const names[EHAL_RES_TYPES] = {"memory", "cpu", "storage", "network"};
  return type >= 0 && type < EHAL_RES_TYPES ? names[type] : "unknown";
}

void ehal_broker_set_resource(ehal_broker *b, int who, int type, uint64_t base, uint64_t ceiling,
                              uint8_t max_priority) {
  holding *h = &b->w[who].res[type];
  h->base = base;
  h->ceiling = ceiling > base ? ceiling : base;
  b->w[who].max_priority = max_priority;
}

void ehal_broker_set_total(ehal_broker *b, int type, uint64_t total) { b->total[type] = total; }

/* The deployment's total of type, and what its workloads hold now. */
static void usage(const ehal_broker *b, int type, uint64_t *total, uint64_t *used) {
  uint64_t ceilings = 0;
  *used = 0;
  for (size_t i = 0; i < b->n; i++) {
    const holding *h = &b->w[i].res[type];
    *used += h->base + h->granted;
    ceilings += h->ceiling;
  }
  *total = b->total[type] ? b->total[type] : ceilings;
}

static int unsupported(int type, char *err, size_t errlen) {
  if (type == EHAL_RES_MEMORY || type == EHAL_RES_STORAGE || type == EHAL_RES_NETWORK) return 0;
  if (type == EHAL_RES_CPU)
    snprintf(err, errlen,
             "cpu allocations are not supported on this node: the HAL has no CPU control "
             "here (capabilities: resources.cpu)");
  else
    snprintf(err, errlen, "no resource type %d", type);
  return -1;
}

int ehal_broker_available(const ehal_broker *b, int who, int type, uint64_t *out, char *err,
                          size_t errlen) {
  if (unsupported(type, err, errlen)) return -1;
  const holding *h = &b->w[who].res[type];
  uint64_t total, used;
  usage(b, type, &total, &used);
  uint64_t mine = h->ceiling - h->base - h->granted, free_ = total > used ? total - used : 0;
  *out = mine < free_ ? mine : free_;
  if (type == EHAL_RES_MEMORY) *out &= ~(uint64_t)0xffff; /* whole pages */
  return 0;
}

static void resource_event(ehal_broker *b, int who, const char *event, int type, uint64_t amount) {
  json_object *o = json_object_new_object();
  if (!o) return;
  json_object_object_add(o, "event", json_object_new_string(event));
  json_object_object_add(o, "workload", json_object_new_string(b->w[who].name));
  json_object_object_add(o, "resource", json_object_new_string(ehal_resource_name(type)));
  json_object_object_add(o, "amount", json_object_new_int64((int64_t)amount));
  size_t len;
  const char *p = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
  if (p) ehal_broker_emit(b, who, 0, EHAL_EVENT_HAL_PRIORITY, false, p, len);
  json_object_put(o);
}

int ehal_broker_allocate(ehal_broker *b, int who, int type, uint64_t amount, uint32_t priority,
                         char id[EHAL_ALLOC_ID_LEN + 1], uint64_t *granted, char *err,
                         size_t errlen) {
  workload *w = &b->w[who];
  if (unsupported(type, err, errlen)) return -1;
  if (amount == 0 || amount > (1ull << 48)) {
    snprintf(err, errlen, "an allocation is 1 to 2^48 units, not %llu", (unsigned long long)amount);
    return -1;
  }
  if (type == EHAL_RES_MEMORY) amount = (amount + 0xffff) & ~(uint64_t)0xffff;
  holding *h = &w->res[type];
  uint64_t total, used;
  usage(b, type, &total, &used);
  uint8_t prio = priority < w->max_priority ? (uint8_t)priority : w->max_priority;
  const char *unit = type == EHAL_RES_NETWORK ? "bytes/s" : "bytes";
  allocation *slot = NULL;
  for (size_t k = 0; k < EHAL_MAX_ALLOCATIONS && !slot; k++)
    if (w->allocs[k].type < 0) slot = &w->allocs[k];
  if (h->base + h->granted + amount > h->ceiling)
    snprintf(err, errlen, "refused: %s would hold %llu %s of %s, above its ceiling of %llu",
             w->name, (unsigned long long)(h->base + h->granted + amount), unit,
             ehal_resource_name(type), (unsigned long long)h->ceiling);
  else if (used + amount > total)
    snprintf(err, errlen, "refused: the deployment has %llu %s of %s free, not %llu",
             (unsigned long long)(total - used), unit, ehal_resource_name(type),
             (unsigned long long)amount);
  else if (b->total[type] && total - used - amount < total / 4 && prio < EHAL_RES_PRIORITY_RESERVE)
    snprintf(err, errlen,
             "refused under contention: less than a quarter of the deployment's %s would be "
             "left, which only requests of priority %d or more may take (this one has %u)",
             ehal_resource_name(type), EHAL_RES_PRIORITY_RESERVE, prio);
  else if (!slot)
    snprintf(err, errlen, "too many allocations (at most %u per workload)", EHAL_MAX_ALLOCATIONS);
  else
    slot->type = -2; /* granted: taken below */
  if (!slot || slot->type != -2) {
    resource_event(b, who, "resource-refused", type, amount);
    return -1;
  }
  uint8_t raw[EHAL_ALLOC_ID_LEN / 2];
  if (ehal_prim_random(raw, sizeof raw) != 0) {
    slot->type = -1;
    snprintf(err, errlen, "no random bytes for an allocation id");
    return -1;
  }
  for (size_t k = 0; k < sizeof raw; k++) snprintf(slot->id + 2 * k, 3, "%02x", raw[k]);
  slot->type = type;
  slot->amount = amount;
  h->granted += amount;
  memcpy(id, slot->id, EHAL_ALLOC_ID_LEN + 1);
  *granted = amount;
  resource_event(b, who, "resource-granted", type, amount);
  return 0;
}

int ehal_broker_deallocate(ehal_broker *b, int who, const char *id, size_t id_len, int *type,
                           uint64_t *amount, char *err, size_t errlen) {
  workload *w = &b->w[who];
  for (size_t k = 0; k < EHAL_MAX_ALLOCATIONS; k++) {
    allocation *a = &w->allocs[k];
    if (a->type < 0 || id_len != EHAL_ALLOC_ID_LEN || memcmp(a->id, id, id_len)) continue;
    *type = a->type;
    *amount = a->amount;
    w->res[a->type].granted -= a->amount;
    a->type = -1;
    return 0;
  }
  snprintf(err, errlen, "no allocation with that id (held by this workload)");
  return -1;
}

void ehal_broker_stats_of(const ehal_broker *b, int who, ehal_broker_stats *st) {
  const workload *w = &b->w[who];
  st->queued = w->queued;
  st->queued_bytes = w->queued_bytes;
  st->sent = w->sent;
  st->received = w->received;
  st->refused = w->refused;
  st->subscriptions = w->subs.live;
}

const char *ehal_event_type_name(uint8_t type) {
  static const char *const names[EHAL_EVENT_TYPES] = {"platform", "crypto", "storage", "network",
                                                      "gpu"};
  return type < EHAL_EVENT_TYPES ? names[type] : "unknown";
}

uint64_t ehal_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
