/*
 * broker.h - the messages and events of one deployment (docs/deployment.md).
 *
 * Pure bookkeeping, no I/O: the supervisor keeps one broker for all of its
 * workloads and calls it for each request a runtime sends; a workload run
 * on its own (`elastic-hal run`) keeps a broker of one in process.  A
 * workload is an index given by the caller, who alone knows which runtime
 * is speaking: nothing in a request names its sender.
 *
 * Messages wait in one queue per recipient, bounded in count and bytes,
 * first in first out (so in order per sender).  A queue belongs to the
 * workload's name, not to a run of it: messages sent while it restarts
 * wait for the next run.  Events wait in one queue per subscription,
 * bounded in count; an event that does not fit is counted, and the next
 * poll reports the count in an overflow event.  A workload's
 * subscriptions end with its run (ehal_broker_reset).
 */
#ifndef EHAL_DEPLOY_BROKER_H
#define EHAL_DEPLOY_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EHAL_MESSAGE_MAX (1u << 20)        /* payload bytes of one message (before sealing) */
#define EHAL_EVENT_PAYLOAD_MAX (64u << 10) /* payload bytes of one published event */
#define EHAL_EVENT_TYPES 5                 /* platform, crypto, storage, network, gpu */
#define EHAL_EVENT_HAL_PRIORITY 128        /* the priority of the HAL's own events */
#define EHAL_EVENT_OVERFLOW_PRIORITY 255
#define EHAL_POLL_MAX_EVENTS 256u      /* events one poll returns at most */
#define EHAL_POLL_MAX_BYTES (1u << 20) /* payload bytes one poll returns at most */

typedef struct {
  uint32_t queue_messages; /* per recipient; 0 = 1024 */
  uint64_t queue_bytes;    /* per recipient; 0 = 16 MiB */
  uint32_t event_queue;    /* per subscription; 0 = 256 */
  uint32_t subscriptions;  /* per workload; 0 = 64 */
  uint64_t event_bytes;    /* payload bytes queued for one workload over all its
                              subscriptions; 0 = 4 MiB */
} ehal_broker_limits;

typedef struct ehal_message {
  struct ehal_message *next;
  int from;           /* the sender's index (broker-internal) */
  const char *sender; /* the broker's copy of the name */
  const char *recipient;
  bool encrypted;
  size_t len;
  uint8_t data[];
} ehal_message;

typedef struct {
  uint8_t type, priority;
  bool published; /* by a workload (publish), not by the HAL */
  uint64_t timestamp_ns;
  uint64_t seq;       /* order of emission over the deployment */
  const char *source; /* the workload it is about or from */
  size_t len;
  uint8_t data[];
} ehal_event;

typedef struct ehal_broker ehal_broker;

/* names: n distinct workload names (copied). */
ehal_broker *ehal_broker_new(const char *const *names, size_t n, const ehal_broker_limits *lim);
void ehal_broker_free(ehal_broker *b);
size_t ehal_broker_count(const ehal_broker *b);
const char *ehal_broker_name(const ehal_broker *b, int who);
/* The index of a name, or -1. */
int ehal_broker_find(const ehal_broker *b, const char *name, size_t len);

/* Policy: who may message whom, whose events who may receive (a workload
 * always receives its own events and never messages itself). */
void ehal_broker_allow_message(ehal_broker *b, int from, int to);
void ehal_broker_allow_events(ehal_broker *b, int subscriber, int source);
bool ehal_broker_may_message(const ehal_broker *b, int from, int to);

/* A workload that has ended for good (no restart to come): messages to it
 * are refused, and its queue is emptied.  A new run clears it. */
void ehal_broker_set_gone(ehal_broker *b, int who, bool gone);

/* Every function that can fail returns 0, or -1 with a message in err.
 * A recipient's queue is shared fairly: each workload allowed to message
 * it may hold at most its share (the queue's bounds divided by the number
 * of such workloads), so that no one sender can keep the others out. */
int ehal_broker_send(ehal_broker *b, int from, const char *to, size_t to_len, const uint8_t *data,
                     size_t len, bool encrypted, uint64_t *handle, char *err, size_t errlen);
/* The next message for who (the caller frees it with free()), or NULL. */
ehal_message *ehal_broker_receive(ehal_broker *b, int who);
bool ehal_broker_has_message(const ehal_broker *b, int who);
/* Fills out (room for ehal_broker_count) with whom who may message. */
size_t ehal_broker_list(const ehal_broker *b, int who, int *out);

/* source: a workload's name, or NULL for every workload who may hear.  A
 * name that is not a workload and one the policy does not let who hear
 * get the same refusal (no existence oracle). */
int ehal_broker_subscribe(ehal_broker *b, int who, uint8_t type, const char *source,
                          size_t source_len, bool published, uint64_t *handle, char *err,
                          size_t errlen);
int ehal_broker_unsubscribe(ehal_broker *b, int who, uint64_t handle, char *err, size_t errlen);
/* Takes up to EHAL_POLL_MAX_EVENTS events, highest priority first, then
 * oldest first; *out is malloc'd, each event too (ehal_broker_events_free). */
int ehal_broker_poll(ehal_broker *b, int who, uint64_t handle, ehal_event ***out, size_t *n,
                     char *err, size_t errlen);
void ehal_broker_events_free(ehal_event **ev, size_t n);
/* Delivers an event from (or about) source to every subscription that
 * matches it and whose owner may receive source's events. */
void ehal_broker_emit(ehal_broker *b, int source, uint8_t type, uint8_t priority, bool published,
                      const void *payload, size_t len);

/* The audit sink (audit.h): called with each event of the HAL itself
 * (payload: its JSON) and each refusal by the policy (a JSON object of
 * the same shape), with who the workload it is about. */
typedef void (*ehal_broker_audit_fn)(void *user, int who, const char *json, size_t len);
void ehal_broker_set_audit(ehal_broker *b, ehal_broker_audit_fn fn, void *user);

/* A run of who ended: its subscriptions and allocations go (its message
 * queue stays). */
void ehal_broker_reset(ehal_broker *b, int who);

typedef struct {
  uint32_t queued;
  uint64_t queued_bytes, sent, received, refused;
  uint32_t subscriptions;
} ehal_broker_stats;
void ehal_broker_stats_of(const ehal_broker *b, int who, ehal_broker_stats *st);

/* ---- resources (docs/deployment.md, "Resources") ----
 * Each workload starts with a base of each resource and may be granted
 * more, up to its ceiling, while the deployment's sum of bases and grants
 * stays within the deployment's total.  Where the deployment sets a total,
 * the last quarter of it goes only to requests of priority 128 or more (a
 * request's priority is capped by the workload's own maximum).  Memory is granted in
 * whole 64 KiB pages, storage in bytes, network in bytes per second.  CPU
 * is not arbitrated here: requests for it are refused, saying why. */
enum { EHAL_RES_MEMORY, EHAL_RES_CPU, EHAL_RES_STORAGE, EHAL_RES_NETWORK, EHAL_RES_TYPES };
#define EHAL_ALLOC_ID_LEN 32          /* hex characters of an allocation id */
#define EHAL_MAX_ALLOCATIONS 64u      /* live allocations per workload */
#define EHAL_RES_PRIORITY_RESERVE 128 /* what the last quarter takes */

void ehal_broker_set_resource(ehal_broker *b, int who, int type, uint64_t base, uint64_t ceiling,
                              uint8_t max_priority);
/* 0: the sum of the ceilings (no contention) */
void ehal_broker_set_total(ehal_broker *b, int type, uint64_t total);
/* Grants amount (rounded up to the resource's unit) or refuses: id gets a
 * fresh unguessable id (NUL-terminated).  Grants and refusals are platform
 * events about who. */
int ehal_broker_allocate(ehal_broker *b, int who, int type, uint64_t amount, uint32_t priority,
                         char id[EHAL_ALLOC_ID_LEN + 1], uint64_t *granted, char *err,
                         size_t errlen);
/* Gives back who's allocation id: *type and *amount say what it was. */
int ehal_broker_deallocate(ehal_broker *b, int who, const char *id, size_t id_len, int *type,
                           uint64_t *amount, char *err, size_t errlen);
/* How much more of type who could be granted now. */
int ehal_broker_available(const ehal_broker *b, int who, int type, uint64_t *out, char *err,
                          size_t errlen);
const char *ehal_resource_name(int type);

/* Event names and the wall clock used for timestamps. */
const char *ehal_event_type_name(uint8_t type);
uint64_t ehal_wall_ns(void);

#endif
