/*
 * bus.h - the seam between the interfaces (communication, events) and how
 * their messages and events travel.
 *
 * The interface code calls a bus; it never knows which one:
 *   local    a workload run on its own: a deployment of one, its broker
 *            (broker.h) in process.
 *   channel  a workload of a deployment: every call is a frame (wire.h) to
 *            the supervisor over a socket the supervisor made for this
 *            workload alone, and the supervisor's broker answers.
 * A bus between confidential VMs (over a distributed engine) is one more
 * implementation of these operations.
 *
 * Every operation returns 0, or -1 with a message in err.  Results are
 * malloc'd and belong to the caller.
 */
#ifndef EHAL_DEPLOY_BUS_H
#define EHAL_DEPLOY_BUS_H

#include "broker.h"
#include "wire.h"

typedef struct ehal_bus ehal_bus;

typedef struct {
  int (*send)(ehal_bus *bus, const char *to, size_t to_len, const uint8_t *data, size_t len,
              bool encrypted, uint64_t *handle, char *err, size_t errlen);
  /* *msg NULL: none came within timeout_ms (0: do not wait) */
  int (*receive)(ehal_bus *bus, uint64_t timeout_ms, ehal_message **msg, char *err, size_t errlen);
  /* names: n strings, one malloc'd block (free(names)) */
  int (*list)(ehal_bus *bus, char ***names, size_t *n, char *err, size_t errlen);
  /* source NULL: every workload this one may receive events from */
  int (*subscribe)(ehal_bus *bus, uint8_t type, const char *source, size_t source_len,
                   bool published, uint64_t *handle, char *err, size_t errlen);
  int (*unsubscribe)(ehal_bus *bus, uint64_t handle, char *err, size_t errlen);
  /* events: ehal_broker_events_free */
  int (*poll)(ehal_bus *bus, uint64_t handle, ehal_event ***events, size_t *n, char *err,
              size_t errlen);
  /* published false: an event of the HAL itself, about this workload */
  int (*publish)(ehal_bus *bus, uint8_t type, uint8_t priority, bool published, const void *payload,
                 size_t len, char *err, size_t errlen);
  /* resources (broker.h): id gets the allocation's id */
  int (*allocate)(ehal_bus *bus, int type, uint64_t amount, uint32_t priority,
                  char id[EHAL_ALLOC_ID_LEN + 1], uint64_t *granted, char *err, size_t errlen);
  int (*deallocate)(ehal_bus *bus, const char *id, size_t id_len, int *type, uint64_t *amount,
                    char *err, size_t errlen);
  int (*available)(ehal_bus *bus, int type, uint64_t *out, char *err, size_t errlen);
  void (*free)(ehal_bus *bus);
} ehal_bus_ops;

struct ehal_bus {
  const ehal_bus_ops *ops;
};

/* A deployment of one, for the workload named self, whose resources are
 * its bases alone (nothing more can be granted): base[type]. */
ehal_bus *ehal_bus_local(const char *self, const uint64_t base[EHAL_RES_TYPES]);
/* The supervisor's channel on fd (which stays the caller's to close). */
ehal_bus *ehal_bus_channel(int fd);

/* The supervisor's side of a channel: answers the request in body from
 * workload who into resp (a whole frame).  Returns 0 when resp holds the
 * answer, 1 when the request is a receive that must wait (*wait_ms: for
 * how long; answer it later with ehal_bus_answer_receive), -1 when the
 * request is malformed (a protocol violation). */
int ehal_bus_serve(ehal_broker *b, int who, const uint8_t *body, size_t len, ehal_wire_out *resp,
                   uint64_t *wait_ms);
/* The answer to a waiting receive: the next message, or none. */
void ehal_bus_answer_receive(ehal_broker *b, int who, ehal_wire_out *resp);

#endif
