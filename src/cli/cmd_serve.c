/*
 * cmd_serve.c - deployments of many workloads (docs/deployment.md).
 *
 *   elastic-hal serve [--state-dir DIR] [--log-dir DIR] [--check] [--progress] MANIFEST
 *   elastic-hal status [--state-dir DIR] [--json] [DEPLOYMENT]
 *
 * serve checks the manifest (docs/manifest.md) and every module against
 * its world, starts nothing while any problem remains, then supervises
 * the deployment (src/deploy/supervisor.c).  status asks a running
 * deployment, over its control socket, how its workloads are.
 * Exit status: serve: 0 when every workload ended with 0 or was stopped on
 * request, 1 otherwise or on errors; status: 0, or 1 when the deployment
 * is not running; 2 for usage errors.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <getopt.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../deploy/audit.h"
#include "../deploy/supervisor.h"
#include "elastic-hal/elastic_hal.h"

int ehal_cmd_serve(int argc, char **argv, void (*progress)(const char *, void *),
                   void (*progress_end)(void), bool *verbose);
int ehal_cmd_status(int argc, char **argv);
int ehal_cmd_audit(int argc, char **argv);

static const char *prog = "elastic-hal";

static void usage_serve(FILE *f) {
  fprintf(f,
          "Usage: %s serve [--state-dir DIR] [--log-dir DIR] [--check] [--progress] MANIFEST\n"
          "\n"
          "Run a deployment: every workload of MANIFEST (docs/manifest.md) in a process of\n"
          "its own, with messages and events between them as the manifest's policy allows,\n"
          "restarted as each one's restart policy says.  Every module is checked against\n"
          "its world first; nothing starts while any problem remains.  SIGTERM or SIGINT\n"
          "stops the deployment (workloads get the manifest's stop-timeout, then are\n"
          "killed; a second signal kills them at once).\n"
          "\n"
          "Options:\n"
          "  --state-dir DIR  the node's state directory (as for run)\n"
          "  --log-dir DIR    one log per workload, DIR/NAME.log (default:\n"
          "                   STATE_DIR/logs/DEPLOYMENT)\n"
          "  --check          check the manifest and modules, start nothing\n"
          "  --progress       a line per compile step (on a terminal: always, in place)\n"
          "  -h, --help       show this help\n"
          "\n"
          "Exit status: 0 when every workload ended with status 0 or was stopped on\n"
          "request; 1 otherwise, or when the manifest or a module has a problem; 2 for\n"
          "usage errors.\n",
          prog);
}

static void usage_status(FILE *f) {
  fprintf(f,
          "Usage: %s status [--state-dir DIR] [--json] [DEPLOYMENT]\n"
          "\n"
          "Show a running deployment's workloads: state, process, runs and restarts, how\n"
          "the last run ended, queued messages, messages sent, received and refused.\n"
          "DEPLOYMENT may be left out when exactly one is running on this state directory.\n"
          "Only the user running the deployment can ask.\n"
          "\n"
          "Options:\n"
          "  --state-dir DIR  the state directory the deployment runs on\n"
          "  --json           the status as JSON\n"
          "  -h, --help       show this help\n"
          "\n"
          "Exit status: 0; 1 when the deployment is not running; 2 for usage errors.\n",
          prog);
}

int ehal_cmd_serve(int argc, char **argv, void (*progress)(const char *, void *),
                   void (*progress_end)(void), bool *verbose) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"log-dir", required_argument, 0, 'l'},
                                       {"check", no_argument, 0, 'c'},
                                       {"progress", no_argument, 0, 'P'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *state = NULL, *log_dir = NULL;
  bool check_only = false;
  int c;
  while ((c = getopt_long(argc, argv, "s:l:h", opts, NULL)) != -1) {
    switch (c) {
      case 's': state = optarg; break;
      case 'l': log_dir = optarg; break;
      case 'c': check_only = true; break;
      case 'P': *verbose = true; break;
      case 'h': usage_serve(stdout); return 0;
      default: usage_serve(stderr); return 2;
    }
  }
  if (optind != argc - 1) {
    usage_serve(stderr);
    return 2;
  }
  ehal_manifest *m = ehal_manifest_load(argv[optind], stderr);
  if (!m) {
    fprintf(stderr, "%s serve: %s: nothing started: fix the problems above\n", prog, argv[optind]);
    return 1;
  }
  char *state_dir = state ? strdup(state) : elastic_hal_default_state_dir();
  ehal_serve_options o = {.exe = "/proc/self/exe",
                          .state_dir = state_dir,
                          .log_dir = log_dir,
                          .progress = progress,
                          .progress_end = progress_end};
  int rc;
  if (check_only) {
    rc = ehal_serve_check(m, &o) == 0 ? 0 : 1;
    if (rc == 0) printf("%s: %zu workloads, every module links in its world\n", m->path, m->n);
  } else {
    rc = ehal_serve(m, &o);
  }
  free(state_dir);
  ehal_manifest_free(m);
  return rc;
}

/* The one deployment running on state_dir, when there is exactly one. */
static char *only_deployment(const char *state_dir) {
  char *dir = NULL, *found = NULL;
  int n = 0;
  if (asprintf(&dir, "%s/run", state_dir) < 0) return NULL;
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len > 5 && !strcmp(e->d_name + len - 5, ".sock")) {
      free(found);
      found = strndup(e->d_name, len - 5);
      n++;
    }
  }
  if (d) closedir(d);
  free(dir);
  if (n != 1) {
    fprintf(stderr, "%s status: %s running deployment on this state directory: name one\n", prog,
            n ? "more than one" : "no");
    free(found);
    return NULL;
  }
  return found;
}

static void print_table(const char *text) {
  json_object *o = json_tokener_parse(text), *ws, *v;
  if (!o || !json_object_object_get_ex(o, "workloads", &ws)) {
    fputs(text, stdout);
    json_object_put(o);
    return;
  }
#define S(obj, k) (json_object_object_get_ex(obj, k, &v) ? json_object_get_string(v) : "")
#define N(obj, k) (json_object_object_get_ex(obj, k, &v) ? (long long)json_object_get_int64(v) : 0)
  printf("deployment %s (pid %lld, up %.1f s%s), logs in %s\n", S(o, "deployment"), N(o, "pid"),
         (double)N(o, "uptime-ms") / 1000.0,
         json_object_object_get_ex(o, "stopping", &v) && json_object_get_boolean(v) ? ", stopping"
                                                                                    : "",
         S(o, "log-dir"));
  printf("%-24s %-10s %8s %5s %8s %7s %8s %8s %7s  %s\n", "WORKLOAD", "STATE", "PID", "RUNS",
         "RESTARTS", "QUEUED", "SENT", "RECEIVED", "REFUSED", "LAST RUN");
  for (size_t i = 0; i < json_object_array_length(ws); i++) {
    json_object *w = json_object_array_get_idx(ws, i);
    printf("%-24s %-10s %8lld %5lld %8lld %7lld %8lld %8lld %7lld  %s\n", S(w, "name"),
           S(w, "state"), N(w, "pid"), N(w, "runs"), N(w, "restarts"), N(w, "queued"), N(w, "sent"),
           N(w, "received"), N(w, "refused"), S(w, "last"));
  }
#undef S
#undef N
  json_object_put(o);
}

int ehal_cmd_status(int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"json", no_argument, 0, 'j'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *state = NULL;
  bool json = false;
  int c;
  while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
    switch (c) {
      case 's': state = optarg; break;
      case 'j': json = true; break;
      case 'h': usage_status(stdout); return 0;
      default: usage_status(stderr); return 2;
    }
  }
  if (optind < argc - 1) {
    usage_status(stderr);
    return 2;
  }
  char *state_dir = state ? strdup(state) : elastic_hal_default_state_dir();
  char *name = optind < argc ? strdup(argv[optind]) : only_deployment(state_dir);
  int rc = 1;
  char *text = NULL, err[512];
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (name && out) {
    if (!ehal_workload_name_ok(name)) {
      fprintf(stderr, "%s status: '%s' is not a deployment name\n", prog, name);
      rc = 2;
    } else if (ehal_serve_status(state_dir, name, out, err, sizeof err) != 0) {
      fprintf(stderr, "%s status: %s\n", prog, err);
    } else {
      rc = 0;
    }
  }
  if (out) fclose(out);
  if (rc == 0) {
    if (json)
      fputs(text, stdout);
    else
      print_table(text);
  }
  free(text);
  free(name);
  free(state_dir);
  return rc;
}

static void usage_audit(FILE *f) {
  fprintf(f,
          "Usage: %s audit verify [--state-dir DIR] [--deployment NAME] FILE\n"
          "\n"
          "Check a deployment's audit log (STATE_DIR/audit/DEPLOYMENT.log): every record's\n"
          "mac under this node's audit key (derived from the sealing root of DIR) and the\n"
          "hash chain from each record to the next.  Reports the first broken record.\n"
          "Records cut off the end are not detected: compare the count with what you expect.\n"
          "The log must be DEPLOYMENT's (default: FILE's name without .log): another\n"
          "deployment's log, or an empty one, does not verify.\n"
          "\n"
          "Options:\n"
          "  --state-dir DIR  the state directory the deployment ran on\n"
          "  --deployment NAME  the deployment the log must be of\n"
          "  -h, --help       show this help\n"
          "\n"
          "Exit status: 0 when every record verifies; 1 when one does not, or on errors;\n"
          "2 for usage errors.\n",
          prog);
}

int ehal_cmd_audit(int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"deployment", required_argument, 0, 'd'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *state = NULL, *deployment = NULL;
  int c;
  if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    usage_audit(stdout);
    return 0;
  }
  if (argc < 2 || strcmp(argv[1], "verify")) {
    usage_audit(stderr);
    return 2;
  }
  argc--;
  argv++;
  while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
    switch (c) {
      case 's': state = optarg; break;
      case 'd': deployment = optarg; break;
      case 'h': usage_audit(stdout); return 0;
      default: usage_audit(stderr); return 2;
    }
  }
  if (optind != argc - 1) {
    usage_audit(stderr);
    return 2;
  }
  char *state_dir = state ? strdup(state) : elastic_hal_default_state_dir(), name[256];
  if (!deployment) { /* the supervisor names the log STATE_DIR/audit/DEPLOYMENT.log */
    const char *base = strrchr(argv[optind], '/');
    snprintf(name, sizeof name, "%s", base ? base + 1 : argv[optind]);
    size_t n = strlen(name);
    if (n > 4 && !strcmp(name + n - 4, ".log")) name[n - 4] = 0;
    deployment = name;
  }
  char err[512];
  int rc = 1;
  long count = 0,
       broken = ehal_audit_verify(argv[optind], deployment, state_dir, &count, err, sizeof err);
  if (broken < 0) {
    fprintf(stderr, "%s audit: %s\n", prog, err);
  } else if (broken > 0) {
    printf("%s: BROKEN at %s\n", argv[optind], err);
  } else {
    printf("%s: %ld records of deployment '%s', every mac and link verifies\n", argv[optind], count,
           deployment);
    rc = 0;
  }
  free(state_dir);
  return rc;
}
