/*
 * test_sockets.c - what a workload's sockets leave behind in the host
 * process: nothing.  The sockets guest (tests/guests/net_guest.c) runs in
 * this process, traps with a listening socket, or exits with sockets open;
 * each time every descriptor it had is closed with the instance.  The
 * protocol behaviour itself is tested against real peers by
 * tests/cli/sockets.sh.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elastic-hal/elastic_hal.h"
#include "tap.h"

#ifndef EHAL_TEST_GUESTS
#error "EHAL_TEST_GUESTS (the build's guests directory) must be defined"
#endif
#define GUEST EHAL_TEST_GUESTS "/net_guest.wasm"

static int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

/* Run the guest with args; its outcome, and its exit status in *status. */
static elastic_hal_outcome run_guest(elastic_hal_module *m, elastic_hal_linker *l, int argc,
                                     char *const *argv, int null_fd, int *status) {
  const char *bind[] = {"127.0.0.1:0"};
  const char *conn[] = {"192.0.2.1:9"};
  elastic_hal_config cfg = {.workload = "net",
                            .argc = argc,
                            .argv = argv,
                            .stdout_fd = null_fd,
                            .stderr_fd = null_fd,
                            .allow_bind = bind,
                            .n_allow_bind = 1,
                            .allow_connect = conn,
                            .n_allow_connect = 1,
                            .max_sockets = 4};
  elastic_hal_error err;
  elastic_hal_instance *inst = elastic_hal_instantiate(m, l, &cfg, &err);
  if (!inst) {
    tap_diag("instantiate: %s", err.msg);
    *status = -1;
    return ELASTIC_HAL_TRAPPED;
  }
  elastic_hal_outcome o = elastic_hal_run(inst, status, &err);
  elastic_hal_instance_free(inst);
  return o;
}

int main(void) {
  char tmp[4096];
  const char *tmpdir = getenv("TMPDIR");
  snprintf(tmp, sizeof tmp, "%s/ehal-test-sockets-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 1;
  }
  char cache[4200];
  snprintf(cache, sizeof cache, "%s/cache", tmp);
  elastic_hal_load_options lo = {.cache_dir = cache, .state_dir = tmp};
  elastic_hal_error err;
  elastic_hal_module *m = elastic_hal_module_load(GUEST, &lo, &err);
  if (!TAP_OK(m != NULL, "the sockets guest loads")) {
    tap_diag("%s", err.msg);
    return tap_done();
  }
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_network_add_to_linker(l);
  elastic_hal_wasi_add_to_linker(l);
  int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  int before = open_fds(), status = 0;

  char *trap_args[] = {"net_guest", "trap-listening", "127.0.0.1", "0", NULL};
  elastic_hal_outcome o = run_guest(m, l, 4, trap_args, null_fd, &status);
  TAP_OK(o == ELASTIC_HAL_TRAPPED && status == ELASTIC_HAL_TRAP_STATUS,
         "a guest that traps while listening traps");
  TAP_OK(open_fds() == before,
         "its listening socket is closed with the instance (%d fds, %d before)", open_fds(),
         before);

  char *hostile_args[] = {"net_guest", "hostile", NULL};
  o = run_guest(m, l, 2, hostile_args, null_fd, &status);
  TAP_OK(o == ELASTIC_HAL_EXITED && status == 0, "the hostile guest exits normally");
  TAP_OK(open_fds() == before, "the sockets it left open are closed with the instance (%d fds)",
         open_fds());

  /* many runs: nothing accumulates */
  for (int i = 0; i < 50; i++) run_guest(m, l, 4, trap_args, null_fd, &status);
  TAP_OK(open_fds() == before, "50 more trapping runs leave no descriptor behind");

  /* a malformed rule fails instantiation with a usage error */
  const char *badrule[] = {"10.0.0.1"};
  elastic_hal_config bad = {.workload = "net", .allow_connect = badrule, .n_allow_connect = 1};
  elastic_hal_instance *inst = elastic_hal_instantiate(m, l, &bad, &err);
  TAP_OK(!inst && err.kind == ELASTIC_HAL_ERR_USAGE && strstr(err.msg, "10.0.0.1"),
         "a malformed network rule fails instantiation as a usage error");
  elastic_hal_instance_free(inst);

  close(null_fd);
  elastic_hal_linker_free(l);
  elastic_hal_module_free(m);
  tap_rm_tree(tmp);
  return tap_done();
}
