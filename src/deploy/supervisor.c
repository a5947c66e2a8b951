/* supervisor.c - `elastic-hal serve` (see supervisor.h, docs/deployment.md).
 *
 * One thread, one poll(2) loop over: a signalfd (SIGCHLD, SIGTERM, SIGINT,
 * SIGHUP), each running workload's channel, and the control socket.
 * Channels are non-blocking on this side: a runtime that stops reading
 * cannot stall the loop, and a frame this side cannot read is a protocol
 * violation that ends that workload's process alone.  Timers (restart
 * back-off, receives that wait, the stop's grace period) are deadlines the
 * loop's poll timeout honours.
 */
#define _GNU_SOURCE
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util/byteorder.h"
#include "../util/fsutil.h"
#include "audit.h"
#include "bus.h"
#include "elastic-hal/elastic_hal.h"

#define TRAP_STATUS 134 /* what `run` exits with when its guest trapped */
#define BACKOFF_FIRST_MS 100u
#define BACKOFF_MAX_MS 10000u
#define AUDIT_PER_SECOND 20u /* records a workload's own actions may add per second */

typedef enum { W_RUNNING, W_BACKOFF, W_DONE } wstate;

typedef struct {
  const ehal_manifest_workload *cfg;
  int idx;
  wstate state;
  pid_t pid;
  int fd;             /* our end of the channel; -1 when closed */
  int out_fd, log_fd; /* its stdout and stderr (a pipe), and its log file */
  uint64_t log_bytes; /* in the log file now */
  uint8_t *in;
  size_t in_len, in_cap;
  ehal_wire_out out;
  size_t out_off, out_len; /* an answer being written */
  bool waiting;            /* a receive that waits for a message */
  uint64_t wait_until, restart_at, started_at;
  uint32_t runs, restarts;
  bool ok, killed_by_us;
  char last[96]; /* how the last run ended */
  /* audit records this workload's actions caused in the current second,
   * and those left out beyond AUDIT_PER_SECOND (reported in one record) */
  uint64_t audit_window;
  uint32_t audit_count[2], audit_suppressed[2]; /* [0] refusals, [1] the rest */
} wl;

typedef struct {
  const ehal_manifest *m;
  const ehal_serve_options *o;
  ehal_broker *b;
  wl *w;
  size_t n;
  char *log_dir, *sock_path, *audit_path;
  ehal_audit *audit; /* NULL: no sealing root to key it on this platform */
  int sig_fd, ctl_fd;
  bool bound;  /* the control socket is ours to unlink */
  int lock_fd; /* the deployment's lock (run/NAME.lock), held while it runs */
  bool stopping;
  uint64_t stop_deadline, began;
} sv;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("elastic-hal serve: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* A lifecycle event of the HAL about workload w: {"event", "workload",
 * key: num...} for each (key, num) pair, NULL-terminated. */
static void lifecycle(sv *s, wl *w, const char *event, ...) {
  json_object *o = json_object_new_object();
  if (!o) return;
  json_object_object_add(o, "event", json_object_new_string(event));
  json_object_object_add(o, "workload", json_object_new_string(w->cfg->name));
  va_list ap;
  va_start(ap, event);
  for (const char *k; (k = va_arg(ap, const char *));)
    json_object_object_add(o, k, json_object_new_int64(va_arg(ap, long long)));
  va_end(ap);
  size_t len;
  const char *p = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
  if (p) ehal_broker_emit(s->b, w->idx, 0, EHAL_EVENT_HAL_PRIORITY, false, p, len);
  json_object_put(o);
}

static void begin_stop(sv *s, const char *why);

/* A record that cannot be written stops the deployment: it does not run
 * on unaudited. */
static void audit_write(sv *s, wl *w, const char *event, const char *detail) {
  if (ehal_audit_record(s->audit, w->cfg->name, event, detail) == 0) return;
  say("audit log %s: cannot write: %s", s->audit_path, strerror(errno));
  begin_stop(s, "the audit log cannot be written");
}

/* Reports the records left out of w's last window, if any. */
static void audit_flush(sv *s, wl *w) {
  if (!s->audit || !(w->audit_suppressed[0] | w->audit_suppressed[1])) return;
  char detail[96];
  snprintf(detail, sizeof detail, "{\"refusals\":%u,\"other\":%u}", w->audit_suppressed[0],
           w->audit_suppressed[1]);
  w->audit_suppressed[0] = w->audit_suppressed[1] = 0;
  audit_write(s, w, "records-suppressed", detail);
}

/* The supervisor's own lifecycle events are always recorded.  What a
 * workload's actions cause, at most AUDIT_PER_SECOND a second of each
 * kind: refusals, and the rest (keys, attestations, grants...), so that a
 * flood of cheap refusals cannot hide a key or a grant; what is left out
 * is counted in one record. */
static bool audit_admit(sv *s, wl *w, const char *event) {
  if (!strncmp(event, "workload-", 9) || !strncmp(event, "deployment-", 11)) return true;
  int kind = strstr(event, "-refused") ? 0 : 1;
  uint64_t now = now_ms();
  if (now - w->audit_window >= 1000) {
    audit_flush(s, w);
    w->audit_window = now;
    w->audit_count[0] = w->audit_count[1] = 0;
  }
  if (w->audit_count[kind] >= AUDIT_PER_SECOND) {
    w->audit_suppressed[kind]++;
    return false;
  }
  w->audit_count[kind]++;
  return true;
}

/* The audit sink of the broker: one record per event of the HAL and per
 * refusal, {"event": E, "workload": W, ...} becoming event E and the rest
 * of the object its detail. */
static void audit_sink(void *user, int who, const char *json, size_t len) {
  sv *s = user;
  if (!s->audit) return;
  json_tokener *tok = json_tokener_new();
  json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL, *ev;
  json_tokener_free(tok);
  if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "event", &ev) &&
      json_object_is_type(ev, json_type_string)) {
    char *event = strdup(json_object_get_string(ev));
    json_object_object_del(o, "event");
    json_object_object_del(o, "workload");
    if (event && audit_admit(s, &s->w[who], event))
      audit_write(s, &s->w[who], event, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    free(event);
  }
  json_object_put(o);
}

/* 0 with the audit log open, or without one where this platform has no
 * sealing root to key it (said on stderr); -1 when the log is there but
 * cannot be continued: then nothing starts. */
static int open_audit(sv *s) {
  char err[512] = "out of memory";
  uint8_t key[EHAL_AUDIT_KEY_LEN];
  int rc = 0;
  if (ehal_audit_key(s->o->state_dir, s->m->name, key, err, sizeof err) != 0) {
    say("no audit log: %s", err);
  } else if (ehal_secure_subdir(s->o->state_dir, "audit", true, err, sizeof err) != 0 ||
             asprintf(&s->audit_path, "%s/audit/%s.log", s->o->state_dir, s->m->name) < 0 ||
             !(s->audit = ehal_audit_open(s->audit_path, s->m->name, key, err, sizeof err))) {
    say("%s", err);
    rc = -1;
  } else {
    ehal_broker_set_audit(s->b, audit_sink, s);
    say("audit log: %s (elastic-hal audit verify to check it)", s->audit_path);
  }
  OPENSSL_cleanse(key, sizeof key);
  return rc;
}

/* ---- starting a workload ---- */

static void push(char **argv, size_t *k, const char *a) { argv[(*k)++] = (char *)a; }

static int spawn(sv *s, wl *w) {
  const ehal_manifest_workload *c = w->cfg;
  char mem[16], storage[16], net[16], sleep_ms[24], timeout[32], *log_path = NULL;
  snprintf(mem, sizeof mem, "%u", c->memory_mib);
  snprintf(storage, sizeof storage, "%u", c->storage_mib);
  snprintf(net, sizeof net, "%u", c->network_kib);
  snprintf(sleep_ms, sizeof sleep_ms, "%llu", (unsigned long long)c->max_sleep_ms);
  snprintf(timeout, sizeof timeout, "%.3f", (double)c->timeout_ms / 1000.0);
  size_t max = 24 + 2 * (c->nenv + c->nconnect + c->nbind) + c->nargs;
  char **argv = calloc(max, sizeof *argv);
  int sp[2] = {-1, -1}, pp[2] = {-1, -1}, log = -1;
  if (!argv || asprintf(&log_path, "%s/%s.log", s->log_dir, c->name) < 0) {
    free(argv);
    return -1;
  }
  size_t k = 0;
  push(argv, &k, "elastic-hal");
  push(argv, &k, "run");
  push(argv, &k, "--channel");
  push(argv, &k, "3");
  push(argv, &k, "--workload");
  push(argv, &k, c->name);
  push(argv, &k, "--deployment");
  push(argv, &k, s->m->name);
  push(argv, &k, "--world");
  push(argv, &k, c->world);
  push(argv, &k, "--state-dir");
  push(argv, &k, s->o->state_dir);
  push(argv, &k, "--max-memory");
  push(argv, &k, mem);
  push(argv, &k, "--max-storage");
  push(argv, &k, storage);
  push(argv, &k, "--max-sleep-ms");
  push(argv, &k, sleep_ms);
  if (c->timeout_ms) {
    push(argv, &k, "--timeout");
    push(argv, &k, timeout);
  }
  if (c->network_kib) {
    push(argv, &k, "--max-network-rate");
    push(argv, &k, net);
  }
  for (size_t i = 0; i < c->nenv; i++) push(argv, &k, "--env"), push(argv, &k, c->env[i]);
  for (size_t i = 0; i < c->nconnect; i++)
    push(argv, &k, "--allow-connect"), push(argv, &k, c->allow_connect[i]);
  for (size_t i = 0; i < c->nbind; i++)
    push(argv, &k, "--allow-bind"), push(argv, &k, c->allow_bind[i]);
  push(argv, &k, "--");
  push(argv, &k, c->module);
  for (size_t i = 0; i < c->nargs; i++) push(argv, &k, c->args[i]);
  argv[k] = NULL;

  int rc = -1;
  char err[256];
  log = ehal_secure_open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600, err, sizeof err);
  if (log < 0) {
    say("%s: %s", c->name, err);
    goto out;
  }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0 || pipe2(pp, O_CLOEXEC) != 0) {
    say("%s: socketpair or pipe: %s", c->name, strerror(errno));
    goto out;
  }
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    say("%s: fork: %s", c->name, strerror(errno));
    goto out;
  }
  if (pid == 0) {
    /* the workload's process: it dies with the supervisor, gets no
     * terminal signals of its own, and inherits nothing but the pipe to
     * its log (as stdout and stderr) and its end of the channel (fd 3) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    int ch = fcntl(sp[1], F_DUPFD, 10);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (ch < 0 || null < 0 || dup2(null, 0) < 0 || dup2(pp[1], 1) < 0 || dup2(pp[1], 2) < 0 ||
        dup2(ch, 3) < 0)
      _exit(127);
    close(ch);
    execv(s->o->exe, argv);
    dprintf(2, "elastic-hal serve: cannot run %s: %s\n", s->o->exe, strerror(errno));
    _exit(127);
  }
  close(sp[1]);
  sp[1] = -1;
  fcntl(sp[0], F_SETFL, fcntl(sp[0], F_GETFL) | O_NONBLOCK);
  w->fd = sp[0];
  sp[0] = -1;
  close(pp[1]);
  pp[1] = -1;
  fcntl(pp[0], F_SETFL, fcntl(pp[0], F_GETFL) | O_NONBLOCK);
  w->out_fd = pp[0];
  pp[0] = -1;
  struct stat st;
  w->log_bytes = fstat(log, &st) == 0 ? (uint64_t)st.st_size : 0;
  w->log_fd = log;
  log = -1;
  w->pid = pid;
  w->state = W_RUNNING;
  ehal_broker_set_gone(s->b, w->idx, false);
  w->runs++;
  w->started_at = now_ms();
  w->in_len = 0;
  w->out_len = w->out_off = 0;
  w->waiting = false;
  w->killed_by_us = false;
  say("%s: started (pid %d)", c->name, (int)pid);
  lifecycle(s, w, "workload-started", "run", (long long)w->runs, "pid", (long long)pid,
            (char *)NULL);
  rc = 0;
out:
  if (sp[0] >= 0) close(sp[0]);
  if (sp[1] >= 0) close(sp[1]);
  if (pp[0] >= 0) close(pp[0]);
  if (pp[1] >= 0) close(pp[1]);
  if (log >= 0) close(log);
  free(log_path);
  free(argv);
  return rc;
}

/* ---- the channels ---- */

static void close_channel(wl *w) {
  if (w->fd >= 0) close(w->fd);
  w->fd = -1;
  w->waiting = false;
  w->in_len = w->out_len = w->out_off = 0;
}

/* The runtime of w broke the protocol: its process ends. */
static void violation(wl *w, const char *what) {
  say("%s: %s on its channel: stopping it", w->cfg->name, what);
  if (w->pid > 0) kill(w->pid, SIGKILL);
  close_channel(w);
}

static void flush(wl *w) {
  while (w->fd >= 0 && w->out_off < w->out_len) {
    ssize_t k = send(w->fd, w->out.buf + w->out_off, w->out_len - w->out_off, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) close_channel(w);
      return;
    }
    w->out_off += (size_t)k;
  }
}

static void answer(wl *w) {
  size_t n = ehal_wire_end(&w->out);
  if (!n) {
    violation(w, "an answer that cannot be built");
    return;
  }
  w->out_len = n;
  w->out_off = 0;
  flush(w);
}

/* Answers the receives that wait, where a message came or time is up. */
static void wake_receivers(sv *s, uint64_t now) {
  for (size_t i = 0; i < s->n; i++) {
    wl *w = &s->w[i];
    if (!w->waiting || w->fd < 0) continue;
    if (!ehal_broker_has_message(s->b, w->idx) && now < w->wait_until) continue;
    w->waiting = false;
    ehal_bus_answer_receive(s->b, w->idx, &w->out);
    answer(w);
  }
}

static void serve_frames(sv *s, wl *w) {
  size_t off = 0;
  while (w->fd >= 0 && w->in_len - off >= 4) {
    uint32_t n = ehal_get_u32(w->in + off);
    if (n == 0 || n > EHAL_WIRE_MAX_BODY) {
      violation(w, "a frame of a bad length");
      return;
    }
    if (w->in_len - off - 4 < n) break;
    if (w->waiting || w->out_off < w->out_len) {
      violation(w, "a request before its answer");
      return;
    }
    uint64_t wait = 0;
    int rc = ehal_bus_serve(s->b, w->idx, w->in + off + 4, n, &w->out, &wait);
    off += 4 + (size_t)n;
    if (rc < 0) {
      violation(w, "a malformed request");
      return;
    }
    if (rc == 1) {
      w->waiting = true;
      w->wait_until = now_ms() + wait;
    } else {
      /* a message just queued goes to a recipient that waits for one
       * before the sender hears it was sent: the recipient is the one
       * whose latency counts */
      wake_receivers(s, now_ms());
      answer(w);
    }
  }
  if (w->fd < 0) return; /* the channel closed while answering: nothing is left */
  memmove(w->in, w->in + off, w->in_len - off);
  w->in_len -= off;
}

static void read_channel(sv *s, wl *w) {
  /* a few reads per wakeup: a runtime that keeps its channel full cannot
   * hold the loop away from the others */
  for (int reads = 0; reads < 8; reads++) {
    if (w->in_cap - w->in_len < 65536) {
      size_t cap = w->in_cap ? w->in_cap * 2 : 65536 * 2;
      if (cap > EHAL_WIRE_MAX_BODY + 65536 * 2) cap = EHAL_WIRE_MAX_BODY + 65536 * 2;
      if (cap <= w->in_cap) {
        violation(w, "a frame too large");
        return;
      }
      uint8_t *p = realloc(w->in, cap);
      if (!p) {
        violation(w, "a frame this supervisor has no memory for");
        return;
      }
      w->in = p;
      w->in_cap = cap;
    }
    ssize_t k = recv(w->fd, w->in + w->in_len, w->in_cap - w->in_len, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (k <= 0) { /* the runtime is gone: its exit comes with SIGCHLD */
      close_channel(w);
      return;
    }
    w->in_len += (size_t)k;
    size_t room = w->in_cap - (w->in_len - (size_t)k);
    serve_frames(s, w);
    if (w->fd < 0 || (size_t)k < room) return; /* drained: poll says when more comes */
  }
}

/* ---- logs ---- */

/* The log grew past the deployment's bound: it becomes NAME.log.1 (the
 * one before goes) and a new NAME.log begins, so a workload's logs take
 * at most twice the bound on disk, whatever it writes. */
static void rotate_log(sv *s, wl *w) {
  char *cur = NULL, *old = NULL, err[256];
  struct stat held, named;
  /* only the file this supervisor holds is renamed; one deleted or
   * replaced under it is simply started over */
  bool ours = fstat(w->log_fd, &held) == 0 && held.st_nlink > 0 &&
              asprintf(&cur, "%s/%s.log", s->log_dir, w->cfg->name) >= 0 &&
              lstat(cur, &named) == 0 && named.st_dev == held.st_dev && named.st_ino == held.st_ino;
  if (ours && asprintf(&old, "%s/%s.log.1", s->log_dir, w->cfg->name) >= 0 &&
      rename(cur, old) == 0) {
    int fd = ehal_secure_open(cur, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600, err, sizeof err);
    if (fd >= 0) {
      close(w->log_fd);
      w->log_fd = fd;
    } else {
      say("%s: %s", w->cfg->name, err);
      if (ftruncate(w->log_fd, 0) != 0) { /* the old descriptor, emptied, goes on */
      }
    }
  } else if (ftruncate(w->log_fd, 0) != 0) {
    say("%s: log: %s", w->cfg->name, strerror(errno));
  }
  w->log_bytes = 0;
  free(cur);
  free(old);
}

/* Moves what the workload wrote into its log: a few reads per wakeup, or,
 * with drain, all there is (its process has ended).  At the end of the
 * pipe, both close. */
static void pump_log(sv *s, wl *w, bool drain) {
  char buf[65536];
  /* draining takes at most a few pipes' worth: a descendant that keeps
   * the pipe open and writing cannot hold the supervisor here */
  for (int reads = 0; w->out_fd >= 0 && reads < (drain ? 64 : 4); reads++) {
    ssize_t k = read(w->out_fd, buf, sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !drain) return;
    if (k <= 0) {
      close(w->out_fd);
      w->out_fd = -1;
      break;
    }
    if (w->log_fd >= 0 && ehal_write_all(w->log_fd, buf, (size_t)k) == 0) {
      w->log_bytes += (uint64_t)k;
      if (w->log_bytes > s->m->log_max_bytes) rotate_log(s, w);
    }
  }
  if (drain && w->out_fd >= 0) {
    close(w->out_fd);
    w->out_fd = -1;
  }
  if (w->out_fd < 0 && w->log_fd >= 0) {
    close(w->log_fd);
    w->log_fd = -1;
  }
}

/* ---- workloads that end ---- */

static void ended(sv *s, wl *w, int status) {
  const char *name = w->cfg->name;
  close_channel(w);
  w->pid = 0;
  ehal_broker_reset(s->b, w->idx);
  audit_flush(s, w);
  pump_log(s, w, true);
  bool trapped = false;
  if (w->killed_by_us) {
    snprintf(w->last, sizeof w->last, "stopped");
    w->ok = true;
  } else if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    trapped = code == TRAP_STATUS;
    w->ok = code == 0;
    if (trapped)
      snprintf(w->last, sizeof w->last, "trapped (see its log)");
    else
      snprintf(w->last, sizeof w->last, "exited %d", code);
  } else {
    w->ok = false;
    snprintf(w->last, sizeof w->last, "killed by signal %d", WTERMSIG(status));
  }
  say("%s: %s", name, w->last);
  if (trapped) lifecycle(s, w, "workload-trapped", "run", (long long)w->runs, (char *)NULL);
  lifecycle(s, w, "workload-stopped", "run", (long long)w->runs, "status",
            (long long)(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)),
            (char *)NULL);
  w->state = W_DONE;
  if (s->stopping || w->ok || w->cfg->restart != EHAL_RESTART_ON_FAILURE) {
    ehal_broker_set_gone(s->b, w->idx, true);
    return;
  }
  if (w->restarts >= w->cfg->max_restarts) {
    say("%s: not restarted (%u restarts, the most its policy allows)", name, w->restarts);
    ehal_broker_set_gone(s->b, w->idx, true);
    return;
  }
  uint64_t delay = BACKOFF_FIRST_MS << (w->restarts < 7 ? w->restarts : 7);
  if (delay > BACKOFF_MAX_MS) delay = BACKOFF_MAX_MS;
  w->state = W_BACKOFF;
  w->restart_at = now_ms() + delay;
  say("%s: restarting in %llu ms", name, (unsigned long long)delay);
}

static void reap(sv *s) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
    for (size_t i = 0; i < s->n; i++)
      if (s->w[i].pid == pid) ended(s, &s->w[i], status);
}

static void begin_stop(sv *s, const char *why) {
  if (s->stopping) {
    say("%s again: killing every workload now", why);
    s->stop_deadline = 0;
    return;
  }
  s->stopping = true;
  s->stop_deadline = now_ms() + s->m->stop_timeout_ms;
  say("%s: stopping (workloads have %llu ms to end)", why,
      (unsigned long long)s->m->stop_timeout_ms);
  for (size_t i = 0; i < s->n; i++) {
    wl *w = &s->w[i];
    if (w->state == W_BACKOFF) {
      w->state = W_DONE;
      ehal_broker_set_gone(s->b, w->idx, true);
    }
    if (w->state == W_RUNNING)
      lifecycle(s, w, "deployment-stopping", "grace-ms", (long long)s->m->stop_timeout_ms,
                (char *)NULL);
  }
}

/* ---- the control socket ---- */

char *ehal_serve_socket_path(const char *state_dir, const char *deployment) {
  char *p = NULL;
  if (asprintf(&p, "%s/run/%s.sock", state_dir, deployment) < 0) return NULL;
  return p;
}

static const char *state_name(const wl *w) {
  return w->state == W_RUNNING ? "running" : w->state == W_BACKOFF ? "restarting" : "down";
}

static void write_status(sv *s, int fd) {
  json_object *o = json_object_new_object(), *arr = json_object_new_array();
  if (!o || !arr) {
    json_object_put(o);
    json_object_put(arr);
    return;
  }
  json_object_object_add(o, "deployment", json_object_new_string(s->m->name));
  json_object_object_add(o, "pid", json_object_new_int64(getpid()));
  json_object_object_add(o, "uptime-ms", json_object_new_int64((int64_t)(now_ms() - s->began)));
  json_object_object_add(o, "stopping", json_object_new_boolean(s->stopping));
  json_object_object_add(o, "log-dir", json_object_new_string(s->log_dir));
  for (size_t i = 0; i < s->n; i++) {
    wl *w = &s->w[i];
    ehal_broker_stats st;
    ehal_broker_stats_of(s->b, w->idx, &st);
    json_object *e = json_object_new_object();
    json_object_object_add(e, "name", json_object_new_string(w->cfg->name));
    json_object_object_add(e, "state", json_object_new_string(state_name(w)));
    json_object_object_add(e, "pid", json_object_new_int64(w->pid));
    json_object_object_add(e, "runs", json_object_new_int64(w->runs));
    json_object_object_add(e, "restarts", json_object_new_int64(w->restarts));
    json_object_object_add(e, "last", json_object_new_string(w->last));
    json_object_object_add(e, "queued", json_object_new_int64(st.queued));
    json_object_object_add(e, "queued-bytes", json_object_new_int64((int64_t)st.queued_bytes));
    json_object_object_add(e, "sent", json_object_new_int64((int64_t)st.sent));
    json_object_object_add(e, "received", json_object_new_int64((int64_t)st.received));
    json_object_object_add(e, "refused", json_object_new_int64((int64_t)st.refused));
    json_object_object_add(e, "subscriptions", json_object_new_int64(st.subscriptions));
    json_object_array_add(arr, e);
  }
  json_object_object_add(o, "workloads", arr);
  size_t len;
  const char *p = json_object_to_json_string_length(o, JSON_C_TO_STRING_PRETTY, &len);
  if (p) {
    ehal_wire_write_all(fd, p, len);
    ehal_wire_write_all(fd, "\n", 1);
  }
  json_object_put(o);
}

static void control(sv *s) {
  int fd = accept4(s->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) return;
  struct ucred cred;
  socklen_t len = sizeof cred;
  /* the socket's mode already keeps others out; the peer's uid says so too */
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == geteuid()) {
    /* what does not fit the socket's buffer at once is dropped: a client
     * that does not read cannot stall the loop */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    write_status(s, fd);
  }
  close(fd);
}

static int open_control(sv *s) {
  char err[512];
  if (ehal_secure_subdir(s->o->state_dir, "run", true, err, sizeof err) != 0) {
    say("%s", err);
    return -1;
  }
  s->sock_path = ehal_serve_socket_path(s->o->state_dir, s->m->name);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (!s->sock_path || strlen(s->sock_path) >= sizeof a.sun_path) {
    say("the control socket's path %s is too long (at most %zu bytes): use a shorter "
        "--state-dir",
        s->sock_path ? s->sock_path : "", sizeof a.sun_path - 1);
    return -1;
  }
  memcpy(a.sun_path, s->sock_path, strlen(s->sock_path) + 1);
  /* one supervisor per deployment: the lock is held for its whole life,
   * so the socket (and the audit log) are this one's to replace */
  char *lock = NULL;
  if (asprintf(&lock, "%s/run/%s.lock", s->o->state_dir, s->m->name) < 0) return -1;
  s->lock_fd = ehal_secure_open(lock, O_RDWR | O_CREAT, 0600, err, sizeof err);
  free(lock);
  if (s->lock_fd < 0) {
    say("%s", err);
    return -1;
  }
  if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    say("deployment '%s' is already running on this state directory (elastic-hal status %s)",
        s->m->name, s->m->name);
    return -1;
  }
  struct stat st;
  if (lstat(s->sock_path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(s->sock_path); /* stale */
  s->ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  mode_t old = umask(077);
  int rc = s->ctl_fd >= 0 ? bind(s->ctl_fd, (struct sockaddr *)&a, sizeof a) : -1;
  umask(old);
  if (rc != 0 || listen(s->ctl_fd, 16) != 0) {
    say("control socket %s: %s", s->sock_path, strerror(errno));
    return -1;
  }
  s->bound = true;
  return 0;
}

int ehal_serve_status(const char *state_dir, const char *deployment, FILE *out, char *err,
                      size_t errlen) {
  char *path = ehal_serve_socket_path(state_dir, deployment);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (!path || strlen(path) >= sizeof a.sun_path) {
    snprintf(err, errlen, "state directory path too long");
    free(path);
    return -1;
  }
  memcpy(a.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    snprintf(err, errlen, "deployment '%s' is not running (no answer on %s: %s)", deployment, path,
             strerror(errno));
    if (fd >= 0) close(fd);
    free(path);
    return -1;
  }
  free(path);
  char buf[4096];
  ssize_t k;
  while ((k = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)k, out);
  close(fd);
  return 0;
}

/* ---- checks before anything starts ---- */

int ehal_serve_check(const ehal_manifest *m, const ehal_serve_options *o) {
  int problems = 0;
  char *cache = NULL, err0[512];
  if (ehal_secure_dir(o->state_dir, err0, sizeof err0) != 0) {
    say("%s", err0);
    return 1;
  }
  if (asprintf(&cache, "%s/cache", o->state_dir) < 0) return -1;
  for (size_t i = 0; i < m->n; i++) {
    const ehal_manifest_workload *w = &m->w[i];
    elastic_hal_linker *l = elastic_hal_linker_new();
    elastic_hal_error err;
    elastic_hal_load_options lo = {
        .cache_dir = cache, .progress = o->progress, .user = o->user, .state_dir = o->state_dir};
    /* loading compiles into the cache, where the workload's run finds it */
    elastic_hal_module *mod = l ? elastic_hal_module_load(w->module, &lo, &err) : NULL;
    if (!mod) {
      fprintf(stderr, "%s: workload %s: module: %s\n", m->path, w->name,
              l ? err.msg : "out of memory");
      problems++;
    } else {
      elastic_hal_world_add_to_linker_by_name(l, w->world);
      elastic_hal_wasi_add_to_linker(l);
      char *buf = NULL;
      size_t len = 0;
      FILE *rep = open_memstream(&buf, &len);
      int n = rep ? elastic_hal_check(mod, l, rep) : 1;
      if (elastic_hal_module_runnable(mod, w->memory_mib * 16u, &err) != 0) {
        if (rep) fprintf(rep, "%s\n", err.msg);
        n++;
      }
      if (rep) fclose(rep);
      for (char *line = buf ? strtok(buf, "\n") : NULL; line; line = strtok(NULL, "\n"))
        fprintf(stderr, "%s: workload %s: module: %s\n", m->path, w->name, line);
      free(buf);
      problems += n;
    }
    elastic_hal_module_free(mod);
    elastic_hal_linker_free(l);
  }
  free(cache);
  if (o->progress_end) o->progress_end();
  return problems;
}

/* ---- the loop ---- */

static void summary(sv *s) {
  fprintf(stderr, "elastic-hal serve: deployment '%s' ended after %.1f s\n", s->m->name,
          (double)(now_ms() - s->began) / 1000.0);
  fprintf(stderr, "  %-24s %5s %9s  %s\n", "WORKLOAD", "RUNS", "RESTARTS", "LAST RUN");
  for (size_t i = 0; i < s->n; i++)
    fprintf(stderr, "  %-24s %5u %9u  %s\n", s->w[i].cfg->name, s->w[i].runs, s->w[i].restarts,
            s->w[i].last);
  fprintf(stderr, "  logs: %s\n", s->log_dir);
}

static bool any_alive(const sv *s) {
  for (size_t i = 0; i < s->n; i++)
    if (s->w[i].state != W_DONE) return true;
  return false;
}

static int next_timeout(const sv *s, uint64_t now) {
  uint64_t next = UINT64_MAX;
  for (size_t i = 0; i < s->n; i++) {
    const wl *w = &s->w[i];
    if (w->waiting && w->wait_until < next) next = w->wait_until;
    if (w->state == W_BACKOFF && w->restart_at < next) next = w->restart_at;
  }
  if (s->stopping && s->stop_deadline < next) next = s->stop_deadline;
  if (next == UINT64_MAX) return -1;
  return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

static void timers(sv *s, uint64_t now) {
  wake_receivers(s, now);
  for (size_t i = 0; i < s->n; i++) {
    wl *w = &s->w[i];
    if (w->state == W_BACKOFF && now >= w->restart_at) {
      w->restarts++;
      lifecycle(s, w, "workload-restarted", "restarts", (long long)w->restarts, (char *)NULL);
      if (spawn(s, w) != 0) {
        w->state = W_DONE;
        ehal_broker_set_gone(s->b, w->idx, true);
      }
    }
    if (s->stopping && now >= s->stop_deadline && w->state == W_RUNNING && w->pid > 0 &&
        !w->killed_by_us) {
      w->killed_by_us = true;
      kill(w->pid, SIGKILL);
    }
  }
}

static void on_signal(sv *s) {
  struct signalfd_siginfo si;
  while (read(s->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD)
      reap(s);
    else
      begin_stop(s, strsignal((int)si.ssi_signo));
  }
}

static int run_loop(sv *s) {
  /* per workload: its channel and its output; then signals and control */
  struct pollfd *pf = calloc(2 * s->n + 2, sizeof *pf);
  wl **who = calloc(2 * s->n + 2, sizeof *who);
  bool *is_log = calloc(2 * s->n + 2, sizeof *is_log);
  if (!pf || !who || !is_log) {
    free(pf);
    free(who);
    free(is_log);
    return -1;
  }
  while (any_alive(s)) {
    size_t k = 0;
    pf[k++] = (struct pollfd){s->sig_fd, POLLIN, 0};
    pf[k++] = (struct pollfd){s->ctl_fd, POLLIN, 0};
    for (size_t i = 0; i < s->n; i++) {
      wl *w = &s->w[i];
      if (w->fd >= 0) {
        who[k] = w;
        is_log[k] = false;
        pf[k++] =
            (struct pollfd){w->fd, (short)(POLLIN | (w->out_off < w->out_len ? POLLOUT : 0)), 0};
      }
      if (w->out_fd >= 0) {
        who[k] = w;
        is_log[k] = true;
        pf[k++] = (struct pollfd){w->out_fd, POLLIN, 0};
      }
    }
    int rc = poll(pf, k, next_timeout(s, now_ms()));
    if (rc < 0 && errno != EINTR) break;
    if (rc > 0) {
      for (size_t i = 2; i < k; i++) {
        wl *w = who[i];
        if (is_log[i]) {
          if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) pump_log(s, w, false);
          continue;
        }
        if (pf[i].revents & POLLOUT) flush(w);
        if (w->fd >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR))) read_channel(s, w);
      }
      if (pf[1].revents & POLLIN) control(s);
      if (pf[0].revents & POLLIN) on_signal(s);
    }
    timers(s, now_ms());
  }
  free(pf);
  free(who);
  free(is_log);
  return 0;
}

int ehal_serve(const ehal_manifest *m, const ehal_serve_options *o) {
  char err[512];
  if (ehal_serve_check(m, o) != 0) {
    say("%s: nothing started: fix the problems above", m->path);
    return 1;
  }
  sv s = {.m = m, .o = o, .n = m->n, .sig_fd = -1, .ctl_fd = -1, .lock_fd = -1, .began = now_ms()};
  int status = 1;
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, &old);
  void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
  s.b = ehal_manifest_broker(m);
  s.w = calloc(m->n, sizeof *s.w);
  for (size_t i = 0; s.w && i < s.n; i++) s.w[i].fd = s.w[i].out_fd = s.w[i].log_fd = -1;
  if (o->log_dir) {
    s.log_dir = strdup(o->log_dir);
    if (s.log_dir && ehal_mkdir_p(s.log_dir) != 0) {
      say("log directory %s: %s", s.log_dir, strerror(errno));
      goto out;
    }
  } else if (asprintf(&s.log_dir, "%s/logs/%s", o->state_dir, m->name) < 0) {
    s.log_dir = NULL;
  } else {
    char sub[128];
    snprintf(sub, sizeof sub, "logs/%s", m->name);
    if (ehal_secure_subdir(o->state_dir, sub, true, err, sizeof err) != 0) {
      say("%s", err);
      goto out;
    }
  }
  if (!s.b || !s.w || !s.log_dir) goto out;
  s.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (s.sig_fd < 0 || open_control(&s) != 0) goto out;
  say("deployment '%s': %zu workloads, logs in %s", m->name, m->n, s.log_dir);
  if (open_audit(&s) != 0) goto out;
  for (size_t i = 0; i < s.n; i++) {
    s.w[i] =
        (wl){.cfg = &m->w[i], .idx = (int)i, .state = W_DONE, .fd = -1, .out_fd = -1, .log_fd = -1};
    snprintf(s.w[i].last, sizeof s.w[i].last, "not started");
  }
  for (size_t i = 0; i < s.n && !s.stopping; i++)
    if (spawn(&s, &s.w[i]) != 0) begin_stop(&s, "a workload could not start");
  if (run_loop(&s) == 0) {
    status = 0;
    for (size_t i = 0; i < s.n; i++)
      if (!s.w[i].ok) status = 1;
  }
  summary(&s);
out:
  for (size_t i = 0; s.w && i < s.n; i++) {
    if (s.w[i].pid > 0) kill(s.w[i].pid, SIGKILL);
    close_channel(&s.w[i]);
    if (s.w[i].out_fd >= 0) close(s.w[i].out_fd);
    if (s.w[i].log_fd >= 0) close(s.w[i].log_fd);
    free(s.w[i].in);
    ehal_wire_free(&s.w[i].out);
  }
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  if (s.bound) unlink(s.sock_path);
  if (s.ctl_fd >= 0) close(s.ctl_fd);
  if (s.sig_fd >= 0) close(s.sig_fd);
  if (s.lock_fd >= 0) close(s.lock_fd);
  ehal_audit_close(s.audit);
  free(s.audit_path);
  free(s.sock_path);
  free(s.log_dir);
  free(s.w);
  ehal_broker_free(s.b);
  signal(SIGPIPE, old_pipe);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return status;
}
