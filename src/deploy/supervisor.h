/*
 * supervisor.h - `elastic-hal serve`: runs a deployment (docs/deployment.md).
 *
 * One process per workload, each an `EXE run --channel 3 ...` of its own,
 * under this supervisor: a trap, a crash, a loop or memory exhaustion in
 * one workload ends that process alone.  The supervisor holds the
 * deployment's broker (messages, events), restarts workloads per policy,
 * keeps a log file per workload, stops them all on SIGTERM/SIGINT (a grace
 * period, then SIGKILL), answers `elastic-hal status` on a control socket
 * only its own user can use, and ends with a summary.
 */
#ifndef EHAL_DEPLOY_SUPERVISOR_H
#define EHAL_DEPLOY_SUPERVISOR_H

#include <stdbool.h>

#include "manifest.h"

typedef struct {
  const char *exe;       /* the elastic-hal binary that runs each workload */
  const char *state_dir; /* the node's state directory (private; made if missing) */
  const char *log_dir;   /* NULL: STATE_DIR/logs/DEPLOYMENT */
  void (*progress)(const char *msg, void *user); /* while modules compile */
  void (*progress_end)(void);                    /* once they are */
  void *user;
} ehal_serve_options;

/* Checks every workload's module against its world (compiling it into
 * the cache on the way, where its runs find it): the number of problems,
 * each written to stderr naming the manifest, the workload and the module. */
int ehal_serve_check(const ehal_manifest *m, const ehal_serve_options *o);

/* ehal_serve_check, then runs the
 * deployment until every workload is down for good or a stop is asked.
 * Returns the exit status: 0 when every workload ended with status 0 or
 * was stopped on request, 1 otherwise (each problem said on stderr). */
int ehal_serve(const ehal_manifest *m, const ehal_serve_options *o);

/* The path of a deployment's control socket (malloc'd). */
char *ehal_serve_socket_path(const char *state_dir, const char *deployment);

/* Connects to a running deployment's control socket and writes its status
 * (JSON) to out.  Returns 0, or -1 with err set. */
int ehal_serve_status(const char *state_dir, const char *deployment, FILE *out, char *err,
                      size_t errlen);

#endif
