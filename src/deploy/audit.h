/*
 * audit.h - a deployment's tamper-evident audit log (docs/deployment.md,
 * "Audit").
 *
 * One record per line, a JSON object:
 *
 *   {"seq":N,"time":NS,"deployment":D,"workload":W,"event":E,"detail":{...},
 *    "prev":"<hex SHA-256 of the previous line>","mac":"<hex HMAC-SHA-256>"}
 *
 * prev chains each record to the one before it (64 zeros for the first);
 * mac is HMAC-SHA-256, under a key derived from the platform sealing root
 * for the deployment (label "elastic-hal/audit", context the deployment's
 * name), over the line's bytes up to the ',"mac":'
 * that ends it.  Editing, removing, reordering or inserting a record
 * breaks the chain or a mac, and only a holder of the sealing root can
 * write a record that verifies.  Cutting records off the end is not
 * detected by the chain alone: compare seq with what you expect.
 */
#ifndef EHAL_DEPLOY_AUDIT_H
#define EHAL_DEPLOY_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EHAL_AUDIT_KEY_LEN 32

typedef struct ehal_audit ehal_audit;

/* The audit key of a deployment on this node (from the sealing root). */
int ehal_audit_key(const char *state_dir, const char *deployment, uint8_t key[EHAL_AUDIT_KEY_LEN],
                   char *err, size_t errlen);

/* Opens path for appending (created 0600 if missing), continuing the chain
 * after its last record, which must verify: a log whose end does not
 * verify (or does not end a line) is refused, never silently restarted.
 * NULL with err set on failure. */
ehal_audit *ehal_audit_open(const char *path, const char *deployment,
                            const uint8_t key[EHAL_AUDIT_KEY_LEN], char *err, size_t errlen);
/* Appends a record; detail is a JSON object's text (NULL: {}).  0 or -1. */
int ehal_audit_record(ehal_audit *a, const char *workload, const char *event, const char *detail);
void ehal_audit_close(ehal_audit *a);

/* Checks every record of path as deployment's (NULL: the file's name
 * without ".log", as the supervisor names it) with that deployment's key
 * on the node of state_dir: each mac, each link, seq rising by one.  0
 * when all verify (*count: how many, at least one), else the number (from
 * 1) of the first broken record, with why in err; -1 when the file cannot
 * be read, holds no record, or no key can be had. */
long ehal_audit_verify(const char *path, const char *deployment, const char *state_dir, long *count,
                       char *err, size_t errlen);
/* The same over a log's text in memory, with a given key and deployment. */
long ehal_audit_verify_mem(const char *text, size_t len, const char *deployment,
                           const uint8_t key[EHAL_AUDIT_KEY_LEN], long *count, char *err,
                           size_t errlen);

#endif
