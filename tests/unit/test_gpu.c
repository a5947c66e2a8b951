/*
 * test_gpu.c - GPU workloads side by side in one host process, on Mesa's
 * lavapipe (selected explicitly unless VK_DRIVER_FILES names a driver): a
 * guest on the elastic-tee-compute world multiplies matrices; what one
 * workload leaves in GPU memory never reaches the next; a workload whose
 * shader never ends is stopped while another computes; traps and exits
 * with GPU objects live leave nothing behind.  The guest is
 * tests/guests/gpu_guest.c; tests/cli/gpu.sh tests the rest through the CLI.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elastic-hal/elastic_hal.h"
#include "elastic_hal_linker.h"
#include "tap.h"

#ifndef EHAL_TEST_GUESTS
#error "EHAL_TEST_GUESTS (the build's guests directory) must be defined"
#endif
#define GUEST EHAL_TEST_GUESTS "/gpu_guest.wasm"
#define MATMUL EHAL_TEST_GUESTS "/gpu_matmul.wasm" /* examples/gpu-matmul/ */
#define LAVAPIPE "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"

static elastic_hal_module *g_mod;
static elastic_hal_linker *g_link;

typedef struct {
  elastic_hal_module *mod; /* NULL: the GPU test guest */
  elastic_hal_linker *link;
  const char *args[6];
  uint64_t gpu_timeout_ms;
  elastic_hal_outcome outcome;
  int status;
  char out[4096]; /* what the guest printed */
} job;

/* Run the guest with job's arguments, its output captured. */
static void *run(void *arg) {
  job *j = arg;
  int argc = 0;
  while (argc < 6 && j->args[argc]) argc++;
  char path[] = "/tmp/ehal-test-gpu-out-XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  elastic_hal_config cfg = {.workload = "gpu",
                            .argc = argc,
                            .argv = (char *const *)j->args,
                            .stdout_fd = fd,
                            .stderr_fd = fd,
                            .gpu_timeout_ms = j->gpu_timeout_ms};
  elastic_hal_error err;
  j->status = -1;
  j->outcome = ELASTIC_HAL_TRAPPED;
  elastic_hal_instance *inst =
      elastic_hal_instantiate(j->mod ? j->mod : g_mod, j->link ? j->link : g_link, &cfg, &err);
  if (inst) {
    j->outcome = elastic_hal_run(inst, &j->status, &err);
    elastic_hal_instance_free(inst);
  } else {
    snprintf(j->out, sizeof j->out, "instantiate: %s", err.msg);
  }
  if (inst) {
    ssize_t n = pread(fd, j->out, sizeof j->out - 1, 0);
    j->out[n > 0 ? n : 0] = 0;
  }
  close(fd);
  return NULL;
}

static bool ran_ok(job *j, const char *want) {
  run(j);
  if (j->outcome == ELASTIC_HAL_EXITED && j->status == 0 && strstr(j->out, want)) return true;
  tap_diag("status %d: %s", j->status, j->out);
  return false;
}

int main(void) {
  setenv("VK_DRIVER_FILES", getenv("VK_DRIVER_FILES") ? getenv("VK_DRIVER_FILES") : LAVAPIPE, 1);
  char tmp[4096];
  const char *tmpdir = getenv("TMPDIR");
  snprintf(tmp, sizeof tmp, "%s/ehal-test-gpu-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 1;
  }
  char cache[4200];
  snprintf(cache, sizeof cache, "%s/cache", tmp);
  elastic_hal_load_options lo = {.cache_dir = cache, .state_dir = tmp};
  elastic_hal_error err;
  g_mod = elastic_hal_module_load(GUEST, &lo, &err);
  if (!TAP_OK(g_mod != NULL, "the GPU guest loads")) {
    tap_diag("%s", err.msg);
    return tap_done();
  }
  g_link = elastic_hal_linker_new();
  elastic_hal_add_to_linker(g_link);
  elastic_hal_wasi_add_to_linker(g_link);

  /* the example, on the compute world alone: platform, capabilities, gpu
   * (resources is not done yet, and not linked), and WASI for printf */
  elastic_hal_module *mm_mod = elastic_hal_module_load(MATMUL, &lo, &err);
  elastic_hal_linker *compute = elastic_hal_linker_new();
  elastic_hal_compute_add_to_linker(compute);
  elastic_hal_wasi_add_to_linker(compute);
  job mm = {.mod = mm_mod, .link = compute, .args = {"gpu_matmul", "96"}};
  TAP_OK(mm_mod && ran_ok(&mm, "96 x 96 product: correct"),
         "examples/gpu-matmul on elastic-tee-compute: a 96 x 96 product, checked on the CPU");

  /* one workload's data, left in GPU memory at exit, never reaches the
   * next: the same sizes, so the allocator hands the same memory back */
  for (int round = 0; round < 3; round++) {
    job secret = {.args = {"gpu_guest", "secret", "64"}};
    job zeros = {.args = {"gpu_guest", "zeros", "64"}};
    TAP_OK(ran_ok(&secret, "secret: 64 KiB written") && ran_ok(&zeros, "fresh buffer: 0 nonzero"),
           "round %d: a workload's 64 KiB of 0xA5 left at exit: the next workload's buffer "
           "reads as zeros",
           round + 1);
  }

  job trap = {.args = {"gpu_guest", "trap"}};
  run(&trap);
  TAP_OK(trap.outcome == ELASTIC_HAL_TRAPPED, "a guest traps with a GPU buffer live");
  job after = {.args = {"gpu_guest", "vecadd", "4096"}};
  TAP_OK(ran_ok(&after, "vecadd 4096: ok"), "the next workload computes");

  /* a runaway shader in one workload, a computation in another, at once */
  job spin = {.args = {"gpu_guest", "spin", "64", "64"}, .gpu_timeout_ms = 500};
  job work = {.args = {"gpu_guest", "matmul", "48"}, .gpu_timeout_ms = 20000};
  pthread_t t1, t2;
  pthread_create(&t1, NULL, run, &spin);
  pthread_create(&t2, NULL, run, &work);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  TAP_OK(strstr(spin.out, "the work was stopped and the device is lost") != NULL,
         "a shader that never ends is stopped at its workload's GPU timeout");
  if (!TAP_OK(work.status == 0 && strstr(work.out, "matmul 48: ok"),
              "a workload beside it computes its product all the same"))
    tap_diag("status %d: %s", work.status, work.out);

  elastic_hal_linker_free(g_link);
  elastic_hal_linker_free(compute);
  elastic_hal_module_free(mm_mod);
  elastic_hal_module_free(g_mod);
  tap_rm_tree(tmp);
  return tap_done();
}
