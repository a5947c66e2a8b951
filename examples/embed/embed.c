/*
 * embed.c - a host program that embeds the ELASTIC TEE HAL.
 *
 * It offers the guest the HAL's minimal world, WASI preview 1 and one host
 * function of its own, env#log(ptr, len), which prints a string from guest
 * memory with a prefix of the host's choosing; then it calls the guest's
 * export `run` (i32 -> i32) with a time bound of two seconds.
 *
 *   cc embed.c $(pkg-config --cflags --libs elastic-hal) -o embed
 *   ./embed guest.wasm 21
 */
#include <elastic_hal.h>
#include <stdio.h>
#include <stdlib.h>

/* env#log: (ptr, len) -> () */
static int host_log(elastic_hal_instance *caller, const elastic_hal_val *args, size_t nargs,
                    elastic_hal_val *results, size_t nresults, void *user) {
  (void)nargs, (void)results, (void)nresults;
  char *msg;
  if (elastic_hal_read_string(caller, args[0].of.i32, args[1].of.i32, &msg) != 0)
    return elastic_hal_trap(caller, "log: not a UTF-8 string inside guest memory");
  printf("%s%s\n", (const char *)user, msg);
  free(msg);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s GUEST.wasm NUMBER\n", argv[0]);
    return 2;
  }
  int code = 1;
  elastic_hal_error err;
  char *state = elastic_hal_default_state_dir();
  elastic_hal_load_options opts = {.state_dir = state};
  elastic_hal_module *m = elastic_hal_module_load(argv[1], &opts, &err);
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_instance *inst = NULL;
  if (!m) {
    fprintf(stderr, "embed: %s\n", err.msg);
    goto out;
  }
  elastic_hal_minimal_add_to_linker(l);
  elastic_hal_wasi_add_to_linker(l);
  elastic_hal_linker_define(l, "env", "log", "ii:", host_log, "guest says: ", NULL);

  elastic_hal_config cfg = {.workload = "embed-example", .state_dir = state, .timeout_ms = 2000};
  inst = elastic_hal_instantiate(m, l, &cfg, &err);
  if (!inst) {
    fprintf(stderr, "embed: %s\n", err.msg);
    goto out;
  }
  elastic_hal_val arg = {ELASTIC_HAL_I32, {.i32 = (uint32_t)atoi(argv[2])}}, result;
  if (elastic_hal_call_values(inst, "run", &arg, 1, &result, 1, &err) != ELASTIC_HAL_EXITED) {
    fprintf(stderr, "embed: %s (kind %d, in %s)\n", err.msg, err.kind, err.function);
    goto out;
  }
  printf("run(%s) = %u\n", argv[2], result.of.i32);
  code = 0;
out:
  elastic_hal_instance_free(inst);
  elastic_hal_module_free(m);
  elastic_hal_linker_free(l);
  free(state);
  return code;
}
