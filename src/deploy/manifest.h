/*
 * manifest.h - a deployment's manifest (docs/manifest.md): its workloads,
 * their modules, worlds, arguments, environment, limits and policy.
 *
 * ehal_manifest_load reads and validates the whole file before returning:
 * every problem is reported, one line each naming the file, the workload
 * and the key, and a manifest with any problem is not returned at all.
 */
#ifndef EHAL_DEPLOY_MANIFEST_H
#define EHAL_DEPLOY_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "broker.h"

#define EHAL_WORKLOAD_NAME_MAX 64

typedef enum { EHAL_RESTART_NEVER, EHAL_RESTART_ON_FAILURE } ehal_restart_policy;

typedef struct {
  char *name;   /* [a-z0-9][a-z0-9._-]*, at most EHAL_WORKLOAD_NAME_MAX */
  char *module; /* absolute, or made absolute against the manifest's directory */
  char *world;
  char **args; /* the guest's argv[1..], NULL-terminated */
  size_t nargs;
  char **env; /* "K=V", NULL-terminated */
  size_t nenv;
  ehal_restart_policy restart;
  uint32_t max_restarts;                 /* on-failure: restarts in a row, then it stays down */
  uint32_t memory_mib;                   /* linear memory bound at start */
  uint32_t memory_max_mib;               /* what resources grants may raise it to */
  uint32_t storage_mib, storage_max_mib; /* storage quota: at start, and at most */
  uint8_t priority;                      /* the highest priority its resource requests carry */
  uint32_t network_kib, network_max_kib; /* bandwidth budget, KiB/s (0: not metered) */
  uint64_t timeout_ms;                   /* 0: none */
  uint64_t max_sleep_ms;
  char **message; /* whom it may message ("*": every other workload) */
  size_t nmessage;
  char **events_from; /* whose events it may hear ("*": every workload) */
  size_t nevents_from;
  char **allow_connect, **allow_bind; /* sockets policy, as run --allow-connect */
  size_t nconnect, nbind;
} ehal_manifest_workload;

typedef struct {
  char *path; /* as given */
  char *name; /* the deployment's name: "name", else the file's name */
  ehal_manifest_workload *w;
  size_t n;
  ehal_broker_limits limits;
  uint64_t stop_timeout_ms;                     /* grace on stop before workloads are killed */
  uint64_t memory_total_mib, storage_total_mib; /* 0: the sum of the ceilings */
  uint64_t log_max_bytes;                       /* a workload's log file rotates past this */
} ehal_manifest;

/* NULL when the file cannot be read or has any problem: each is written to
 * report as "FILE: workload NAME: KEY: what is wrong". */
ehal_manifest *ehal_manifest_load(const char *path, FILE *report);
/* The same for a manifest's text in memory (path: its name in reports,
 * and where relative module paths start). */
ehal_manifest *ehal_manifest_parse(const char *path, const char *text, size_t len, FILE *report);
void ehal_manifest_free(ehal_manifest *m);

/* The broker of the deployment, with its policy. */
ehal_broker *ehal_manifest_broker(const ehal_manifest *m);

/* Whether name is a valid workload name. */
bool ehal_workload_name_ok(const char *name);

#endif
