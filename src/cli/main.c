/*
 * elastic-hal - command-line front end of the ELASTIC TEE HAL.
 *
 *   elastic-hal run [options] GUEST [ARGS...]   run a workload
 *   elastic-hal compile GUEST.wasm -o OUT       ahead-of-time compile
 *   elastic-hal import --trust KEY.pub ART      take in a signed artifact
 *   elastic-hal check --world NAME GUEST        resolve imports, run nothing
 *   elastic-hal info [--json]                   platform and capabilities
 *   elastic-hal attest / verify / storage        see cmd_attest.c, cmd_verify.c, cmd_storage.c
 *
 * Exit status: the guest's own for run; 134 when the guest trapped; 1 for
 * errors of elastic-hal itself; 2 for usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../gpu/vulkan.h"
#include "../interfaces/interfaces.h"
#include "../net/policy.h"
#include "../net/tls.h"
#include "../runtime/linker.h"
#include "elastic-hal/elastic_hal.h"

static const char *prog = "elastic-hal";

static void usage_main(FILE *f) {
  fprintf(f,
          "Usage: %s COMMAND [OPTIONS]\n"
          "\n"
          "Run WebAssembly workloads against the ELASTIC TEE HAL.\n"
          "\n"
          "Commands:\n"
          "  run       run a guest (.wasm or compiled artifact)\n"
          "  compile   compile a .wasm ahead of time into a loadable artifact\n"
          "  import    take in artifacts signed on a build machine (compile --sign)\n"
          "  check     resolve a guest's imports against a world without running it\n"
          "  info      show the platform and the HAL's capabilities\n"
          "  attest    produce attestation evidence with the CLI itself as the workload\n"
          "  verify    verify evidence: an envelope, a raw SNP report or a TDX quote\n"
          "  storage   inspect encrypted object storage (without decrypting anything)\n"
          "  serve     run a deployment of many workloads from a manifest\n"
          "  status    show a running deployment's workloads\n"
          "  audit     verify a deployment's tamper-evident audit log\n"
          "\n"
          "Options:\n"
          "  -h, --help     show this help (COMMAND --help for a command's)\n"
          "  -V, --version  show the version\n"
          "\n"
          "Worlds: elastic-tee-hal (default), elastic-tee-minimal, elastic-tee-attestation,\n"
          "elastic-tee-storage, elastic-tee-network, elastic-tee-compute.\n",
          prog);
}

static void usage_run(FILE *f) {
  fprintf(
      f,
      "Usage: %s run [OPTIONS] GUEST [ARGS...]\n"
      "\n"
      "Run GUEST (a .wasm, compiled on first use into the state directory's cache,\n"
      "or an artifact from 'elastic-hal compile').  ARGS become the guest's argv.\n"
      "A component (jco new, wit-component) runs as its main core module.\n"
      "\n"
      "Options:\n"
      "  -w, --world NAME       world to link (default elastic-tee-hal)\n"
      "  -n, --workload NAME    workload name (default: GUEST's file name without extension)\n"
      "  -s, --state-dir DIR    state directory (default $XDG_STATE_HOME/elastic-hal,\n"
      "                         else ~/.local/state/elastic-hal)\n"
      "  -e, --env K=V          set a guest environment variable (repeatable); the\n"
      "                         host's environment is never passed on\n"
      "  -m, --max-memory MIB   bound on the guest's linear memory (default 1024)\n"
      "      --max-storage MIB  the guest's storage quota (default 1024)\n"
      "      --dir GUEST_PATH   preopen GUEST_PATH (/data, or / for everything) as a sealed\n"
      "                         directory: its files live encrypted and integrity-protected in\n"
      "                         the workload's storage (repeatable; docs/filesystem.md)\n"
      "      --dir-host HOST_PATH:GUEST_PATH[:rw]  map a plain host directory in, read-only\n"
      "                         unless :rw.  UNPROTECTED: the host reads and changes it\n"
      "      --max-network-rate KIB  the guest's sockets' bandwidth budget in KiB/s,\n"
      "                         sent and received together (default: not metered)\n"
      "      --max-sleep-ms MS  bound on one clock.sleep (default 10000)\n"
      "      --timeout SECONDS  end the guest with the trap 'interrupted' (exit 134) when it\n"
      "                         runs longer (fractions allowed; default: no bound)\n"
      "      --progress         report the steps of a first-run compile on stderr even\n"
      "                         when it is not a terminal (on one it always shows)\n"
      "      --allow-connect RULE  let the guest connect to ADDR:PORT (repeatable);\n"
      "                         ADDR: IPv4, [IPv6], a CIDR block, a host name or *;\n"
      "                         PORT: a number, LO-HI or *.  Without a rule, nothing\n"
      "      --allow-bind RULE  let the guest bind ADDR:PORT (repeatable; as above)\n"
      "      --socket-timeout SECONDS  bound on a socket call that waits (default 30)\n"
      "      --max-sockets N    sockets the guest may hold open (default 1024)\n"
      "      --gpu-driver FILE  the Vulkan driver to use: its ICD manifest (for example\n"
      "                         /usr/share/vulkan/icd.d/lvp_icd.x86_64.json, lavapipe);\n"
      "                         default: the drivers installed.  Vulkan layers are never loaded\n"
      "      --gpu-timeout SECONDS  GPU work that runs longer loses its device (default 5)\n"
      "      --gpu-max-memory MIB  the guest's GPU buffers together (default 1024)\n"
      "      --gpu-max-buffers N  GPU buffers the guest may hold (default 1024)\n"
      "      --gpu-max-workgroups N  workgroups in one compute pass (default 1048576)\n"
      "      --tls-ca FILE      trust anchors (PEM) for the guest's TLS clients (default:\n"
      "                         the system's); peers are always verified\n"
      "      --tls-identity FILE.p12  the certificate and key a guest's TLS server\n"
      "                         presents (PKCS#12); 'attested': a key made inside the\n"
      "                         HAL, its certificate carrying the platform's evidence\n"
      "      --tls-identity-password-file FILE  its password (the file's first line)\n"
      "      --channel FD       the workload is part of a deployment: FD is its socket to\n"
      "                         the supervisor (set by 'elastic-hal serve', not by hand)\n"
      "      --deployment NAME  the deployment's name, bound into sealed messages' keys\n"
      "                         (set by 'elastic-hal serve')\n"
      "  -h, --help             show this help\n"
      "\n"
      "Exit status: the guest's exit status; 134 if the guest trapped; 1 on errors.\n",
      prog);
}

static void usage_compile(FILE *f) {
  fprintf(f,
          "Usage: %s compile [--state-dir DIR] GUEST.wasm... -o OUT\n"
          "       %s compile --cache [--state-dir DIR] GUEST.wasm...\n"
          "       %s compile --sign KEY.pem GUEST.wasm... -o OUT\n"
          "\n"
          "Translate GUEST.wasm with wasm2c and compile it with the system C compiler\n"
          "(cc, or $ELASTIC_HAL_CC) into an artifact OUT that 'run' loads without\n"
          "compiling.  The artifact carries the module and its native code under a tag\n"
          "keyed from this platform's sealing root: it loads only on this machine (on\n"
          "the simulated platform: with this state directory).  Elsewhere, ship the\n"
          ".wasm and compile it there, or build on a bigger machine with --sign and\n"
          "'elastic-hal import' the result on the target.  Several modules (a whole\n"
          "deployment, say) compile one after another into the directory OUT, as\n"
          "OUT/NAME.art.  Of a component, the artifact holds its main core module.\n"
          "\n"
          "  -o, --output OUT       where to write the artifact (a directory for several)\n"
          "      --cache            compile into the state directory's cache instead, where\n"
          "                         run finds it\n"
          "      --sign KEY.pem     sign the artifact with this Ed25519 private key (PEM, from\n"
          "                         'openssl genpkey -algorithm ed25519') for another machine,\n"
          "                         which takes it in with 'import --trust'; no sealing root\n"
          "                         is used here\n"
          "      --tier TIER        with --cache: optimized (-O2, the default), quick (-Og)\n"
          "                         or auto (quick for modules over the quick-tier size)\n"
          "  -s, --state-dir DIR    state directory (default as for run)\n"
          "      --progress         report the steps on stderr even when it is not a\n"
          "                         terminal (on one a progress line always shows)\n",
          prog, prog, prog);
}

static void usage_import(FILE *f) {
  fprintf(f,
          "Usage: %s import --trust SIGNER.pub [--trust ...] ARTIFACT... [-o OUT]\n"
          "\n"
          "Take in artifacts that 'elastic-hal compile --sign' made on a build machine:\n"
          "each must be signed by one of the trusted Ed25519 public keys (PEM, from\n"
          "'openssl pkey -in KEY.pem -pubout'), compiled by this engine build, and hold a\n"
          "module that passes every check of run.  It is then written again as an\n"
          "artifact of this machine (tagged with its sealing-root key): into the state\n"
          "directory's cache, where 'run GUEST.wasm' finds it, or with -o into OUT (a\n"
          "directory for several, as OUT/NAME.art).  Nothing of it runs here.\n"
          "\n"
          "  -t, --trust KEY.pub    a signer to accept (repeatable, at least one)\n"
          "  -o, --output OUT       write artifacts here instead of into the cache\n"
          "  -s, --state-dir DIR    state directory (default as for run)\n",
          prog);
}

static void usage_check(FILE *f) {
  fprintf(f,
          "Usage: %s check [OPTIONS] GUEST\n"
          "\n"
          "Check GUEST exactly as run would before running it: the module itself, every\n"
          "import against the world (default elastic-tee-hal) plus WASI preview 1, its\n"
          "initial memory against --max-memory and its _start.  One line per problem.\n"
          "Nothing runs and nothing is written: an artifact is authenticated, never\n"
          "loaded.  Exit status 0 only when run would start the guest.  Of a component:\n"
          "its main core module, and the interfaces the component imports.\n"
          "\n"
          "  -w, --world NAME       world to link (default elastic-tee-hal)\n"
          "      --no-wasi          do not offer WASI preview 1\n"
          "  -s, --state-dir DIR    state directory (for artifacts; default as for run)\n"
          "  -m, --max-memory MIB   memory bound to check against (default 1024)\n",
          prog);
}

static void usage_info(FILE *f) {
  fprintf(f,
          "Usage: %s info [--json] [--gpu-driver FILE]\n"
          "\n"
          "Show the detected platform, the GPU adapters, the interfaces this build\n"
          "implements and every capability with its status.  --gpu-driver: as for run.\n",
          prog);
}

/* What the Vulkan loader reads from the environment, set before it first
 * runs: the driver the operator chose, and no layers at all (a layer is a
 * library the loader would put between the HAL and the driver). */
static void gpu_environment(const char *driver) {
  if (driver) {
    setenv("VK_DRIVER_FILES", driver, 1);
    setenv("VK_ICD_FILENAMES", driver, 1); /* loaders before 1.3.207 */
  }
  setenv("VK_LOADER_LAYERS_DISABLE", "~all~", 1);
  unsetenv("VK_INSTANCE_LAYERS");
  unsetenv("VK_LOADER_LAYERS_ENABLE");
  unsetenv("VK_LAYER_PATH");
  unsetenv("VK_ADD_LAYER_PATH");
}

/* A decimal number in [min, max], the whole string; false otherwise. */
static bool parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
  if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12) return false;
  unsigned long v = strtoul(s, NULL, 10);
  if (v < min || v > max) return false;
  *out = v;
  return true;
}

/* The first line of a password file (at most 1023 bytes, without its line
 * end); 0, or -1 with a message on stderr. */
static int read_password(const char *path, char **out) {
  FILE *f = fopen(path, "re");
  char buf[1024];
  if (!f) {
    fprintf(stderr, "%s: cannot open the password file %s: %s\n", prog, path, strerror(errno));
    return -1;
  }
  if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
  fclose(f);
  buf[strcspn(buf, "\r\n")] = 0;
  *out = strdup(buf);
  OPENSSL_cleanse(buf, sizeof buf);
  return *out ? 0 : -1;
}

static void free_password(char *p) {
  if (p) OPENSSL_cleanse(p, strlen(p));
  free(p);
}

/* A number of seconds in [0.001, 31536000] (fractions allowed), as ms. */
static bool parse_seconds(const char *s, uint64_t *ms) {
  char *end;
  double secs = strtod(s, &end);
  if (end == s || *end || !(secs >= 0.001 && secs <= 31536000.0)) return false;
  *ms = (uint64_t)(secs * 1000.0 + 0.5);
  return true;
}

/* Progress of a compile: on a terminal, one line rewritten in place and
 * erased when done; elsewhere nothing, unless --progress asks for a line
 * per step. */
static bool g_progress_asked, g_progress_line;

static void progress(const char *msg, void *user) {
  (void)user;
  if (!strncmp(msg, "warning: ", 9)) { /* always shown, on a line of its own */
    if (g_progress_line) fputs("\r\033[K", stderr);
    g_progress_line = false;
    fprintf(stderr, "%s: %s\n", prog, msg);
  } else if (isatty(STDERR_FILENO)) {
    fprintf(stderr, "\r%s: %s...\033[K", prog, msg);
    g_progress_line = true;
  } else if (g_progress_asked) {
    fprintf(stderr, "%s: %s...\n", prog, msg);
  }
}

static void progress_end(void) {
  if (g_progress_line) fputs("\r\033[K", stderr);
  g_progress_line = false;
}

/* $ELASTIC_HAL_CACHE_MAX_MB: the cache's bound in bytes (0: the library's
 * default, 1 GiB). */
static uint64_t cache_bound(void) {
  const char *v = getenv("ELASTIC_HAL_CACHE_MAX_MB");
  unsigned long mb;
  if (!v || !parse_num(v, 1, 16UL * 1024 * 1024, &mb)) return 0;
  return (uint64_t)mb << 20;
}

static char *workload_from_path(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char *w = strdup(base);
  char *dot = strrchr(w, '.');
  if (dot && dot != w) *dot = 0;
  return w;
}

static int link_world(elastic_hal_linker *l, const char *world, bool wasi) {
  if (elastic_hal_world_add_to_linker_by_name(l, world) != 0) {
    fprintf(stderr, "%s: unknown world '%s' (see '%s --help')\n", prog, world, prog);
    return -1;
  }
  if (wasi) elastic_hal_wasi_add_to_linker(l);
  return 0;
}

/* A first run at the quick tier: the optimized code is built in the
 * background, by a detached, low-priority `elastic-hal compile --cache`,
 * and used from the next run on (the cache's lock keeps it to one compile
 * however many runs start meanwhile). */
static void upgrade_later(const char *guest, const char *state_dir) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid != 0) {
    if (pid > 0)
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
      }
    return;
  }
  /* the worker is a grandchild in a session of its own: it outlives the
   * guest, and no zombie is left behind */
  setsid();
  if (fork() != 0) _exit(0);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
  }
  if (nice(10) == -1) { /* priority is a courtesy */
  }
  /* "--": a guest path is never taken for an option */
  execl("/proc/self/exe", prog, "compile", "--cache", "--state-dir", state_dir, "--", guest,
        (char *)NULL);
  _exit(127);
}

static int cmd_run(int argc, char **argv) {
  static const struct option opts[] = {{"world", required_argument, 0, 'w'},
                                       {"workload", required_argument, 0, 'n'},
                                       {"state-dir", required_argument, 0, 's'},
                                       {"env", required_argument, 0, 'e'},
                                       {"max-memory", required_argument, 0, 'm'},
                                       {"max-sleep-ms", required_argument, 0, 'S'},
                                       {"timeout", required_argument, 0, 'T'},
                                       {"progress", no_argument, 0, 'P'},
                                       {"allow-connect", required_argument, 0, 'C'},
                                       {"allow-bind", required_argument, 0, 'B'},
                                       {"socket-timeout", required_argument, 0, 'O'},
                                       {"max-sockets", required_argument, 0, 'K'},
                                       {"tls-ca", required_argument, 0, 'A'},
                                       {"tls-identity", required_argument, 0, 'I'},
                                       {"tls-identity-password-file", required_argument, 0, 'W'},
                                       {"gpu-driver", required_argument, 0, 'D'},
                                       {"gpu-timeout", required_argument, 0, 'G'},
                                       {"gpu-max-memory", required_argument, 0, 'M'},
                                       {"gpu-max-buffers", required_argument, 0, 'U'},
                                       {"gpu-max-workgroups", required_argument, 0, 'X'},
                                       {"channel", required_argument, 0, 'H'},
                                       {"max-storage", required_argument, 0, 'Q'},
                                       {"max-network-rate", required_argument, 0, 'R'},
                                       {"deployment", required_argument, 0, 'Y'},
                                       {"dir", required_argument, 0, 'V'},
                                       {"dir-host", required_argument, 0, 'Z'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *world = "elastic-tee-hal", *workload = NULL, *state = NULL, *gpu_driver = NULL;
  const char *tls_ca = NULL, *tls_identity = NULL, *tls_password_file = NULL;
  bool tls_attested = false;
  int envc = 0, nconnect = 0, nbind = 0, ndirs = 0, nhosts = 0, c;
  unsigned long max_mib = 1024, max_sleep_ms = 10000, max_sockets = 1024;
  unsigned long gpu_mib = 1024, gpu_buffers = 1024, gpu_workgroups = 1ul << 20, channel_fd = 0;
  unsigned long storage_mib = 1024, net_kib = 0;
  const char *deployment = NULL;
  uint64_t timeout_ms = 0, socket_timeout_ms = 30000, gpu_timeout_ms = 5000;
  /* first pass: options only, so every early return happens before allocating */
  while ((c = getopt_long(argc, argv, "+w:n:s:e:m:h", opts, NULL)) != -1) {
    switch (c) {
      case 'w': world = optarg; break;
      case 'n': workload = optarg; break;
      case 's': state = optarg; break;
      case 'e':
        if (!strchr(optarg, '=') || optarg[0] == '=') {
          fprintf(stderr, "%s: --env needs K=V, got '%s'\n", prog, optarg);
          return 2;
        }
        envc++;
        break;
      case 'm':
        if (!parse_num(optarg, 1, 4096, &max_mib)) {
          fprintf(stderr, "%s: --max-memory takes a number of MiB from 1 to 4096\n", prog);
          return 2;
        }
        break;
      case 'S':
        if (!parse_num(optarg, 0, 86400000, &max_sleep_ms)) {
          fprintf(stderr, "%s: --max-sleep-ms takes a number of milliseconds (0 to 86400000)\n",
                  prog);
          return 2;
        }
        break;
      case 'T':
      case 'O':
      case 'G':
        if (!parse_seconds(optarg, c == 'T'   ? &timeout_ms
                                   : c == 'O' ? &socket_timeout_ms
                                              : &gpu_timeout_ms)) {
          fprintf(stderr, "%s: %s takes a number of seconds (0.001 to 31536000)\n", prog,
                  c == 'T'   ? "--timeout"
                  : c == 'O' ? "--socket-timeout"
                             : "--gpu-timeout");
          return 2;
        }
        break;
      case 'M':
        if (!parse_num(optarg, 1, 1048576, &gpu_mib)) {
          fprintf(stderr, "%s: --gpu-max-memory takes a number of MiB from 1 to 1048576\n", prog);
          return 2;
        }
        break;
      case 'U':
      case 'X':
        if (!parse_num(optarg, 1, c == 'U' ? 1000000 : 4294967295ul,
                       c == 'U' ? &gpu_buffers : &gpu_workgroups)) {
          fprintf(stderr, "%s: %s takes a number from 1 to %s\n", prog,
                  c == 'U' ? "--gpu-max-buffers" : "--gpu-max-workgroups",
                  c == 'U' ? "1000000" : "4294967295");
          return 2;
        }
        break;
      case 'D':
        if (access(optarg, R_OK) != 0) {
          fprintf(stderr, "%s: --gpu-driver %s: %s\n", prog, optarg, strerror(errno));
          return 2;
        }
        gpu_driver = optarg;
        break;
      case 'K':
        if (!parse_num(optarg, 1, 1000000, &max_sockets)) {
          fprintf(stderr, "%s: --max-sockets takes a number from 1 to 1000000\n", prog);
          return 2;
        }
        break;
      case 'A': tls_ca = optarg; break;
      case 'I':
        if (!strcmp(optarg, "attested"))
          tls_attested = true;
        else
          tls_identity = optarg;
        break;
      case 'W': tls_password_file = optarg; break;
      case 'Y': deployment = optarg; break;
      case 'R':
        if (!parse_num(optarg, 1, 1ul << 24, &net_kib)) {
          fprintf(stderr, "%s: --max-network-rate takes KiB per second from 1 to 16777216\n", prog);
          return 2;
        }
        break;
      case 'Q':
        if (!parse_num(optarg, 1, 1ul << 24, &storage_mib)) {
          fprintf(stderr, "%s: --max-storage takes a number of MiB from 1 to 16777216\n", prog);
          return 2;
        }
        break;
      case 'H': {
        /* the supervisor's socket (elastic-hal serve): never a file */
        struct stat st;
        if (!parse_num(optarg, 3, 1023, &channel_fd) || fstat((int)channel_fd, &st) != 0 ||
            !S_ISSOCK(st.st_mode)) {
          fprintf(stderr, "%s: --channel takes the fd of a socket (from elastic-hal serve)\n",
                  prog);
          return 2;
        }
        /* the channel is this runtime's alone: nothing it starts inherits it */
        fcntl((int)channel_fd, F_SETFD, FD_CLOEXEC);
        break;
      }
      case 'C': nconnect++; break;
      case 'B': nbind++; break;
      case 'V': ndirs++; break;
      case 'Z': nhosts++; break;
      case 'P': g_progress_asked = true; break;
      case 'h': usage_run(stdout); return 0;
      default: usage_run(stderr); return 2;
    }
  }
  if (optind >= argc) {
    usage_run(stderr);
    return 2;
  }
  gpu_environment(gpu_driver);
  int guest_index = optind;
  const char *guest = argv[guest_index];
  elastic_hal_linker *l = elastic_hal_linker_new();
  if (!l) return 1;
  if (link_world(l, world, true) != 0) {
    elastic_hal_linker_free(l);
    return 2;
  }
  char **env = calloc((size_t)envc + 1, sizeof *env);
  const char **connect = calloc((size_t)nconnect + 1, sizeof *connect);
  const char **bind = calloc((size_t)nbind + 1, sizeof *bind);
  const char **dirs = calloc((size_t)ndirs + 1, sizeof *dirs);
  elastic_hal_host_dir *hosts = calloc((size_t)nhosts + 1, sizeof *hosts);
  char **host_specs = calloc((size_t)nhosts + 1, sizeof *host_specs);
  envc = nconnect = nbind = ndirs = nhosts = 0;
  bool bad_host = !hosts || !host_specs;
  optind = 0; /* second pass collects the repeatable options' values */
  while ((c = getopt_long(guest_index, argv, "+w:n:s:e:m:h", opts, NULL)) != -1) {
    if (c == 'e') env[envc++] = optarg;
    if (c == 'C') connect[nconnect++] = optarg;
    if (c == 'B') bind[nbind++] = optarg;
    if (c == 'V' && dirs) dirs[ndirs++] = optarg;
    if (c == 'Z' && !bad_host) { /* HOST_PATH:GUEST_PATH[:rw|:ro] */
      char *spec = host_specs[nhosts] = strdup(optarg);
      char *colon = spec ? strrchr(spec, ':') : NULL;
      bool rw = false;
      if (colon && (!strcmp(colon, ":rw") || !strcmp(colon, ":ro"))) {
        rw = colon[1] == 'r' && colon[2] == 'w';
        *colon = 0;
        colon = strrchr(spec, ':');
      }
      if (!colon || colon == spec || !colon[1]) {
        fprintf(stderr, "%s: --dir-host takes HOST_PATH:GUEST_PATH[:rw], got '%s'\n", prog, optarg);
        bad_host = true;
        nhosts++;
        continue;
      }
      *colon = 0;
      hosts[nhosts++] = (elastic_hal_host_dir){spec, colon + 1, rw};
    }
  }
  /* a bad network rule is a usage error, found before anything compiles */
  char why[512];
  ehal_net_policy *policy =
      env && connect && bind
          ? ehal_net_policy_new(connect, (size_t)nconnect, bind, (size_t)nbind, why, sizeof why)
          : NULL;
  if (!policy || !dirs || bad_host) {
    if (!policy || !hosts || !host_specs)
      fprintf(stderr, "%s: %s\n", prog, env && connect && bind && dirs ? why : "out of memory");
    ehal_net_policy_free(policy);
    free(dirs);
    for (int i = 0; host_specs && i < nhosts; i++) free(host_specs[i]);
    free(host_specs);
    free(hosts);
    free(env);
    free(connect);
    free(bind);
    elastic_hal_linker_free(l);
    return 2;
  }
  ehal_net_policy_free(policy);
  /* and so is TLS configuration that does not load */
  char *tls_password = NULL;
  if (tls_password_file && read_password(tls_password_file, &tls_password) != 0) {
    free(dirs);
    for (int i = 0; host_specs && i < nhosts; i++) free(host_specs[i]);
    free(host_specs);
    free(hosts);
    free(env);
    free(connect);
    free(bind);
    elastic_hal_linker_free(l);
    return 2;
  }
  if (tls_ca || tls_identity) {
    ehal_tls_config tc = {
        .ca_file = tls_ca, .identity_p12 = tls_identity, .identity_password = tls_password};
    ehal_tls_ctx *ctx = ehal_tls_ctx_new(&tc, why, sizeof why);
    if (!ctx) {
      fprintf(stderr, "%s: %s\n", prog, why);
      free_password(tls_password);
      free(dirs);
      for (int i = 0; host_specs && i < nhosts; i++) free(host_specs[i]);
      free(host_specs);
      free(hosts);
      free(env);
      free(connect);
      free(bind);
      elastic_hal_linker_free(l);
      return 2;
    }
    ehal_tls_ctx_free(ctx);
  }
  char *state_dir = state ? strdup(state) : elastic_hal_default_state_dir();
  char *cache = NULL;
  if (asprintf(&cache, "%s/cache", state_dir) < 0) cache = NULL;
  char *wl = workload ? strdup(workload) : workload_from_path(guest);
  elastic_hal_error err;
  elastic_hal_load_options lo = {.cache_dir = cache,
                                 .progress = progress,
                                 .state_dir = state_dir,
                                 .cache_max_bytes = cache_bound()};
  int status = 1;
  elastic_hal_module *m = elastic_hal_module_load(guest, &lo, &err);
  progress_end();
  if (!m) {
    fprintf(stderr, "%s: %s\n", prog, err.msg);
    goto out;
  }
  if (elastic_hal_module_tier(m) == ELASTIC_HAL_TIER_QUICK) upgrade_later(guest, state_dir);
  if (elastic_hal_module_runnable(m, (uint32_t)(max_mib * 16), &err) != 0) {
    fprintf(stderr, "%s: %s: %s\n", prog, guest, err.msg);
    goto out;
  }
  elastic_hal_config cfg = {
      .workload = wl,
      .state_dir = state_dir,
      .argc = argc - guest_index,
      .argv = argv + guest_index,
      .envc = envc,
      .env = env,
      .max_memory_pages = (uint32_t)(max_mib * 16),
      .max_sleep_ns = max_sleep_ms ? (uint64_t)max_sleep_ms * 1000000ull : ELASTIC_HAL_SLEEP_NONE,
      .timeout_ms = timeout_ms,
      .allow_connect = connect,
      .n_allow_connect = (size_t)nconnect,
      .allow_bind = bind,
      .n_allow_bind = (size_t)nbind,
      .max_sockets = (uint32_t)max_sockets,
      .socket_timeout_ms = socket_timeout_ms,
      .tls_ca_file = tls_ca,
      .tls_identity_p12 = tls_identity,
      .tls_identity_password = tls_password,
      .tls_identity_attested = tls_attested,
      .gpu_timeout_ms = gpu_timeout_ms,
      .gpu_max_memory = (uint64_t)gpu_mib << 20,
      .gpu_max_buffers = (uint32_t)gpu_buffers,
      .gpu_max_workgroups = gpu_workgroups,
      .deployment_fd = (int)channel_fd,
      .max_storage_bytes = (uint64_t)storage_mib << 20,
      .network_rate = (uint64_t)net_kib << 10,
      .deployment = deployment,
      .sealed_dirs = dirs,
      .n_sealed_dirs = (size_t)ndirs,
      .host_dirs = hosts,
      .n_host_dirs = (size_t)nhosts};
  elastic_hal_instance *inst = elastic_hal_instantiate(m, l, &cfg, &err);
  if (!inst) {
    if (err.trapped) {
      fprintf(stderr, "%s: %s\n", prog, err.msg);
      status = ELASTIC_HAL_TRAP_STATUS;
    } else {
      fprintf(stderr, "%s: cannot instantiate %s:\n%s\n", prog, guest, err.msg);
    }
    goto out;
  }
  if (elastic_hal_run(inst, &status, &err) == ELASTIC_HAL_TRAPPED)
    fprintf(stderr, "%s: %s\n", prog, err.msg);
  /* what the guest left unsynced is written back; a failure is the run's */
  if (elastic_hal_instance_sync(inst, &err) != 0) {
    fprintf(stderr, "%s: %s\n", prog, err.msg);
    if (status == 0) status = 1;
  }
  elastic_hal_instance_free(inst);
out:
  elastic_hal_module_free(m);
  elastic_hal_linker_free(l);
  free(wl);
  free(cache);
  free(state_dir);
  free(env);
  free(connect);
  free(bind);
  free(dirs);
  for (int i = 0; i < nhosts; i++) free(host_specs[i]);
  free(host_specs);
  free(hosts);
  free_password(tls_password);
  return status;
}

/* compile --cache: each module's code, of the tier asked for (optimized
 * unless --tier says otherwise), into the state directory's cache, where
 * run finds it. */
static int compile_into_cache(int n, char **guests, const char *state, elastic_hal_tier tier) {
  char *state_dir = state ? strdup(state) : elastic_hal_default_state_dir();
  char *cache = NULL;
  if (!state_dir || asprintf(&cache, "%s/cache", state_dir) < 0) {
    free(state_dir);
    return 1;
  }
  elastic_hal_load_options lo = {.cache_dir = cache,
                                 .progress = progress,
                                 .state_dir = state_dir,
                                 .cache_max_bytes = cache_bound(),
                                 .tier = tier};
  int rc = 0;
  for (int i = 0; i < n; i++) {
    elastic_hal_error err;
    elastic_hal_module *m = elastic_hal_module_load(guests[i], &lo, &err);
    progress_end();
    if (!m) {
      fprintf(stderr, "%s: %s\n", prog, err.msg);
      rc = 1;
    }
    elastic_hal_module_free(m);
  }
  free(cache);
  free(state_dir);
  return rc;
}

/* Run one(input, destination) for each input: with out NULL the
 * destination is NULL (the cache); with one input it is out; with several
 * out is a directory and each goes to OUT/NAME.art.  A line per input says
 * where it went when there are several. */
typedef int (*output_fn)(const char *in, const char *dest, void *ctx, elastic_hal_error *err);

static int for_each_output(int n, char **inputs, const char *out, output_fn one, void *ctx) {
  bool many = out && n > 1;
  if (many && mkdir(out, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "%s: cannot create the directory %s: %s\n", prog, out, strerror(errno));
    return 1;
  }
  int rc = 0;
  for (int i = 0; i < n; i++) {
    elastic_hal_error err;
    char *dest = NULL, *name = many ? workload_from_path(inputs[i]) : NULL;
    bool ok = !out ||
              (many ? asprintf(&dest, "%s/%s.art", out, name) >= 0 : (dest = strdup(out)) != NULL);
    if (!ok) dest = NULL;
    int crc = ok ? one(inputs[i], dest, ctx, &err) : -1;
    progress_end();
    if (crc != 0) {
      fprintf(stderr, "%s: %s\n", prog, ok ? err.msg : "out of memory");
      rc = 1;
    } else if (n > 1) {
      printf("%s -> %s\n", inputs[i], dest ? dest : "cache");
    }
    free(dest);
    free(name);
  }
  return rc;
}

/* compile -o: an artifact of this machine, or signed for another */
typedef struct {
  elastic_hal_load_options lo;
  const char *sign;
} compile_job;

static int compile_one(const char *in, const char *dest, void *ctx, elastic_hal_error *err) {
  compile_job *j = ctx;
  return j->sign ? elastic_hal_compile_signed(in, dest, j->sign, &j->lo, err)
                 : elastic_hal_compile(in, dest, &j->lo, err);
}

static int cmd_compile(int argc, char **argv) {
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'}, {"state-dir", required_argument, 0, 's'},
      {"progress", no_argument, 0, 'P'},     {"cache", no_argument, 0, 'C'},
      {"tier", required_argument, 0, 't'},   {"sign", required_argument, 0, 'S'},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  const char *out = NULL, *state = NULL, *sign = NULL;
  bool into_cache = false;
  elastic_hal_tier tier = ELASTIC_HAL_TIER_OPTIMIZED;
  int c;
  while ((c = getopt_long(argc, argv, "o:s:h", opts, NULL)) != -1) {
    if (c == 'o')
      out = optarg;
    else if (c == 's')
      state = optarg;
    else if (c == 'P')
      g_progress_asked = true;
    else if (c == 'C')
      into_cache = true;
    else if (c == 'S')
      sign = optarg;
    else if (c == 't') {
      if (!strcmp(optarg, "quick"))
        tier = ELASTIC_HAL_TIER_QUICK;
      else if (!strcmp(optarg, "auto"))
        tier = ELASTIC_HAL_TIER_AUTO;
      else if (!strcmp(optarg, "optimized"))
        tier = ELASTIC_HAL_TIER_OPTIMIZED;
      else {
        fprintf(stderr, "%s: --tier takes quick, optimized or auto\n", prog);
        return 2;
      }
    } else if (c == 'h') {
      usage_compile(stdout);
      return 0;
    } else {
      usage_compile(stderr);
      return 2;
    }
  }
  if (optind >= argc || !out == !into_cache || (sign && into_cache)) {
    usage_compile(stderr);
    return 2;
  }
  if (into_cache) return compile_into_cache(argc - optind, argv + optind, state, tier);
  char *state_dir = state ? strdup(state) : elastic_hal_default_state_dir();
  compile_job job = {.lo = {.progress = progress, .state_dir = state_dir}, .sign = sign};
  int rc = for_each_output(argc - optind, argv + optind, out, compile_one, &job);
  free(state_dir);
  return rc;
}

/* import: a signed artifact into the cache, or to dest */
typedef struct {
  elastic_hal_load_options lo;
  const char **trust;
  size_t n_trust;
} import_job;

static int import_one(const char *in, const char *dest, void *ctx, elastic_hal_error *err) {
  import_job *j = ctx;
  return elastic_hal_import(in, dest, j->trust, j->n_trust, &j->lo, err);
}

static int cmd_import(int argc, char **argv) {
  static const struct option opts[] = {{"trust", required_argument, 0, 't'},
                                       {"output", required_argument, 0, 'o'},
                                       {"state-dir", required_argument, 0, 's'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *out = NULL, *state = NULL, *trust[64];
  size_t n_trust = 0;
  int c;
  while ((c = getopt_long(argc, argv, "t:o:s:h", opts, NULL)) != -1) {
    if (c == 't' && n_trust < 64)
      trust[n_trust++] = optarg;
    else if (c == 'o')
      out = optarg;
    else if (c == 's')
      state = optarg;
    else if (c == 'h') {
      usage_import(stdout);
      return 0;
    } else {
      usage_import(stderr);
      return 2;
    }
  }
  if (optind >= argc || n_trust == 0) {
    if (n_trust == 0) fprintf(stderr, "%s: import needs --trust SIGNER.pub\n", prog);
    usage_import(stderr);
    return 2;
  }
  char *state_dir = state ? strdup(state) : elastic_hal_default_state_dir();
  char *cache = NULL;
  if (!state_dir || asprintf(&cache, "%s/cache", state_dir) < 0) {
    free(state_dir);
    return 1;
  }
  import_job job = {.lo = {.cache_dir = cache,
                           .progress = progress,
                           .state_dir = state_dir,
                           .cache_max_bytes = cache_bound()},
                    .trust = trust,
                    .n_trust = n_trust};
  int rc = for_each_output(argc - optind, argv + optind, out, import_one, &job);
  free(cache);
  free(state_dir);
  return rc;
}

static int cmd_check(int argc, char **argv) {
  static const struct option opts[] = {{"world", required_argument, 0, 'w'},
                                       {"no-wasi", no_argument, 0, 'W'},
                                       {"state-dir", required_argument, 0, 's'},
                                       {"max-memory", required_argument, 0, 'm'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *world = "elastic-tee-hal", *state = NULL;
  bool wasi = true;
  unsigned long max_mib = 1024;
  int c;
  while ((c = getopt_long(argc, argv, "w:s:m:h", opts, NULL)) != -1) {
    if (c == 'w')
      world = optarg;
    else if (c == 'W')
      wasi = false;
    else if (c == 's')
      state = optarg;
    else if (c == 'm') {
      if (!parse_num(optarg, 1, 4096, &max_mib)) {
        fprintf(stderr, "%s: --max-memory takes a number of MiB from 1 to 4096\n", prog);
        return 2;
      }
    } else if (c == 'h') {
      usage_check(stdout);
      return 0;
    } else {
      usage_check(stderr);
      return 2;
    }
  }
  if (optind != argc - 1) {
    usage_check(stderr);
    return 2;
  }
  elastic_hal_linker *l = elastic_hal_linker_new();
  if (!l) return 1;
  if (link_world(l, world, wasi) != 0) {
    elastic_hal_linker_free(l);
    return 2;
  }
  char *state_dir = state ? strdup(state) : elastic_hal_default_state_dir();
  elastic_hal_error err;
  elastic_hal_load_options lo = {.state_dir = state_dir};
  const char *guest = argv[optind];
  int rc = 1;
  elastic_hal_module *m = elastic_hal_module_inspect(guest, &lo, &err);
  if (!m) {
    fprintf(stderr, "%s: %s\n", prog, err.msg);
    goto out;
  }
  /* exactly what run refuses before running anything */
  int n = elastic_hal_check(m, l, stdout);
  if (elastic_hal_module_runnable(m, (uint32_t)(max_mib * 16), &err) != 0) {
    printf("%s: %s\n", guest, err.msg);
    n++;
  }
  if (n == 0 && elastic_hal_module_is_component(m))
    printf("%s: a component; its core module's imports all resolve in world %s\n", guest, world);
  else if (n == 0)
    printf("%s: all imports resolve in world %s\n", guest, world);
  rc = n ? 1 : 0;
out:
  elastic_hal_module_free(m);
  elastic_hal_linker_free(l);
  free(state_dir);
  return rc;
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      printf("\\u%04x", *s);
    else
      putchar(*s);
  }
  putchar('"');
}

static int cmd_info(int argc, char **argv) {
  bool json = false;
  const char *gpu_driver = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json"))
      json = true;
    else if (!strcmp(argv[i], "--gpu-driver") && i + 1 < argc)
      gpu_driver = argv[++i];
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage_info(stdout);
      return 0;
    } else {
      usage_info(stderr);
      return 2;
    }
  }
  gpu_environment(gpu_driver);
  const ehal_gpu_adapter *ads = NULL;
  size_t nads = 0;
  char gpu_why[256] = "";
  if (ehal_gpu_adapters(&ads, &nads, gpu_why, sizeof gpu_why) != 0) nads = 0;
  ehal_capability caps[512];
  size_t n = ehal_capabilities(NULL, caps, 512);
  if (json) {
    printf("{\"version\": \"%s\", \"platform\": ", ELASTIC_HAL_VERSION);
    json_str(elastic_hal_platform_type());
    printf(", \"platform_version\": ");
    json_str(ehal_platform_version());
    printf(", \"engine\": ");
    json_str(ehal_engine_build_id());
    printf(", \"gpu_adapters\": [");
    for (size_t i = 0; i < nads; i++) {
      printf("%s{\"name\": ", i ? ", " : "");
      json_str(ads[i].name);
      printf(", \"vendor\": ");
      json_str(ads[i].vendor);
      printf(", \"type\": ");
      json_str(ads[i].type);
      printf("}");
    }
    printf("], \"capabilities\": [");
    for (size_t i = 0; i < n; i++) {
      printf("%s{\"name\": ", i ? ", " : "");
      json_str(caps[i].name);
      printf(", \"supported\": %s, \"version\": ", caps[i].supported ? "true" : "false");
      json_str(caps[i].version);
      printf("}");
    }
    printf("]}\n");
    return 0;
  }
  printf("elastic-hal %s\nplatform:  %s\n           %s\nengine:    %s\n", ELASTIC_HAL_VERSION,
         elastic_hal_platform_type(), ehal_platform_version(), ehal_engine_build_id());
  for (size_t i = 0; i < nads; i++)
    printf("gpu:       %s (%s, %s)\n", ads[i].name, ads[i].type, ads[i].vendor);
  if (!nads) printf("gpu:       none%s%s\n", *gpu_why ? ": " : "", gpu_why);
  printf("\n");
  printf("%-40s %-10s %s\n", "CAPABILITY", "STATUS", "VERSION");
  for (size_t i = 0; i < n; i++)
    printf("%-40s %-10s %s\n", caps[i].name, caps[i].supported ? "supported" : "unsupported",
           caps[i].version);
  return 0;
}

/* Commands that live in their own files (src/cli/cmd_*.c). */
int ehal_cmd_attest(int argc, char **argv);
int ehal_cmd_verify(int argc, char **argv);
int ehal_cmd_storage(int argc, char **argv);
int ehal_cmd_serve(int argc, char **argv, void (*progress)(const char *, void *),
                   void (*progress_end)(void), bool *verbose);
int ehal_cmd_status(int argc, char **argv);
int ehal_cmd_audit(int argc, char **argv);

int main(int argc, char **argv) {
  if (argc < 2) {
    usage_main(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
    usage_main(stdout);
    return 0;
  }
  if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
    printf("elastic-hal %s (%s)\n", ELASTIC_HAL_VERSION, ehal_engine_build_id());
    return 0;
  }
  argv[1] = argv[0];
  argc--;
  argv++;
  if (!strcmp(cmd, "run")) return cmd_run(argc, argv);
  if (!strcmp(cmd, "compile")) return cmd_compile(argc, argv);
  if (!strcmp(cmd, "import")) return cmd_import(argc, argv);
  if (!strcmp(cmd, "check")) return cmd_check(argc, argv);
  if (!strcmp(cmd, "info")) return cmd_info(argc, argv);
  if (!strcmp(cmd, "attest")) return ehal_cmd_attest(argc, argv);
  if (!strcmp(cmd, "verify")) return ehal_cmd_verify(argc, argv);
  if (!strcmp(cmd, "storage")) return ehal_cmd_storage(argc, argv);
  if (!strcmp(cmd, "serve"))
    return ehal_cmd_serve(argc, argv, progress, progress_end, &g_progress_asked);
  if (!strcmp(cmd, "status")) return ehal_cmd_status(argc, argv);
  if (!strcmp(cmd, "audit")) return ehal_cmd_audit(argc, argv);
  fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n", prog, cmd, prog);
  return 2;
}
