/*
 * cmd_storage.c - `elastic-hal storage ...`: object storage for operators.
 *
 *   elastic-hal storage list [--state-dir DIR] [--workload NAME] [--json]
 *
 * Shows every container of every workload under STATE_DIR/storage with its
 * object count, plaintext and stored sizes and version, from the database
 * rows alone: nothing is decrypted, and nothing is verified (the figures
 * are what the files say; a workload's own reads are what is verified).
 * Exit status: 0; 1 on errors; 2 on usage errors.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../storage/backend.h"
#include "../storage/store.h"
#include "elastic-hal/elastic_hal.h"

int ehal_cmd_storage(int argc, char **argv);
int ehal_cmd_storage_fs(const char *prog, bool import, int argc, char **argv);

static const char *prog = "elastic-hal";

static void usage_storage(FILE *f) {
  fprintf(f,
          "Usage: %s storage list [--state-dir DIR] [--workload NAME] [--json]\n"
          "       %s storage import HOST_DIR --workload NAME --dir GUEST_PATH\n"
          "       %s storage export OUT_DIR --workload NAME --dir GUEST_PATH\n"
          "\n"
          "Object storage of the workloads on this node, for operators.\n"
          "\n"
          "Commands:\n"
          "  list    every container: workload, name, objects, bytes (plaintext), bytes\n"
          "          stored (ciphertext and metadata), version, whether a workload key\n"
          "          context protects it, creation time.  Nothing is decrypted or\n"
          "          verified: object keys, content types and data stay sealed.  A\n"
          "          sealed directory (run --dir) shows as sealed:GUEST_PATH.\n"
          "  import  seal the files under HOST_DIR into a workload's sealed directory\n"
          "  export  write a sealed directory out, decrypted (see 'storage import --help')\n"
          "\n"
          "Options:\n"
          "  -s, --state-dir DIR   state directory (default $XDG_STATE_HOME/elastic-hal,\n"
          "                        else ~/.local/state/elastic-hal)\n"
          "  -n, --workload NAME   only this workload's containers\n"
          "      --json            machine-readable output\n"
          "  -h, --help            show this help\n",
          prog, prog, prog);
}

/* Names come from files an attacker may have edited: never let them put
 * control sequences on an operator's terminal. */
static void safe_print(const char *s, int width) {
  int n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
    putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
  for (; n < width; n++) putchar(' ');
}

typedef struct {
  const char *only;
  bool json;
  json_object *arr;
  size_t rows;
  uint64_t objects, bytes, stored;
} list_ctx;

static int on_row(void *user, const ehal_be_listing *r) {
  list_ctx *c = user;
  if (c->only && strcmp(c->only, r->workload) != 0) return 0;
  /* a sealed directory's container is shown as "sealed:GUEST_PATH" */
  static const char vp[] = EHAL_STORE_VOLUME_PREFIX;
  bool sealed = !strncmp(r->name, vp, sizeof vp - 1);
  char shown[sizeof r->name + 8];
  snprintf(shown, sizeof shown, "%s%s", sealed ? "sealed:" : "",
           r->name + (sealed ? sizeof vp - 1 : 0));
  c->rows++;
  c->objects += r->objects;
  c->bytes += r->bytes;
  c->stored += r->stored_bytes;
  if (c->json) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "workload", json_object_new_string(r->workload));
    json_object_object_add(o, "container", json_object_new_string(shown));
    json_object_object_add(o, "sealed_directory", json_object_new_boolean(sealed));
    json_object_object_add(o, "objects", json_object_new_uint64(r->objects));
    json_object_object_add(o, "bytes", json_object_new_uint64(r->bytes));
    json_object_object_add(o, "stored_bytes", json_object_new_uint64(r->stored_bytes));
    json_object_object_add(o, "version", json_object_new_uint64(r->version));
    json_object_object_add(o, "keyed", json_object_new_boolean(r->keyed));
    json_object_object_add(o, "created_at", json_object_new_uint64(r->created_at));
    json_object_object_add(o, "database", json_object_new_string(r->db_path));
    json_object_array_add(c->arr, o);
    return 0;
  }
  if (c->rows == 1)
    printf("%-20s %-24s %8s %12s %12s %8s %-5s %s\n", "WORKLOAD", "CONTAINER", "OBJECTS", "BYTES",
           "STORED", "VERSION", "KEYED", "CREATED (UTC)");
  char when[32] = "-";
  time_t t = (time_t)r->created_at;
  struct tm tm;
  if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  safe_print(r->workload, 20);
  putchar(' ');
  safe_print(shown, 24);
  printf(" %8llu %12llu %12llu %8llu %-5s %s\n", (unsigned long long)r->objects,
         (unsigned long long)r->bytes, (unsigned long long)r->stored_bytes,
         (unsigned long long)r->version, r->keyed ? "yes" : "no", when);
  return 0;
}

static int cmd_list(int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"workload", required_argument, 0, 'n'},
                                       {"json", no_argument, 0, 'j'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  list_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  const char *state_dir = NULL;
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, "+s:n:h", opts, NULL)) != -1) {
    switch (ch) {
      case 's': state_dir = optarg; break;
      case 'n': ctx.only = optarg; break;
      case 'j': ctx.json = true; break;
      case 'h': usage_storage(stdout); return 0;
      default:
        fprintf(stderr, "%s: storage list: unknown or incomplete option '%s'\n", prog,
                argv[optind - 1]);
        usage_storage(stderr);
        return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "%s: storage list: unexpected argument '%s'\n", prog, argv[optind]);
    return 2;
  }
  char *def = NULL;
  if (!state_dir) state_dir = def = elastic_hal_default_state_dir();
  if (!state_dir) {
    fprintf(stderr, "%s: out of memory\n", prog);
    return 1;
  }
  if (ctx.json) ctx.arr = json_object_new_array();
  char err[1024] = "";
  int rc = ehal_backend_sqlite_list(state_dir, on_row, &ctx, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "%s: storage list: %s\n", prog, err);
    json_object_put(ctx.arr);
    free(def);
    return 1;
  }
  if (ctx.json) {
    json_object *top = json_object_new_object();
    json_object_object_add(top, "state_dir", json_object_new_string(state_dir));
    json_object_object_add(top, "containers", ctx.arr);
    json_object *tot = json_object_new_object();
    json_object_object_add(tot, "containers", json_object_new_uint64(ctx.rows));
    json_object_object_add(tot, "objects", json_object_new_uint64(ctx.objects));
    json_object_object_add(tot, "bytes", json_object_new_uint64(ctx.bytes));
    json_object_object_add(tot, "stored_bytes", json_object_new_uint64(ctx.stored));
    json_object_object_add(top, "total", tot);
    puts(json_object_to_json_string_ext(top,
                                        JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(top);
  } else if (ctx.rows == 0) {
    printf("no containers in %s\n", state_dir);
  } else {
    printf(
        "%zu container(s), %llu object(s), %llu bytes (%llu stored); not decrypted, not "
        "verified\n",
        ctx.rows, (unsigned long long)ctx.objects, (unsigned long long)ctx.bytes,
        (unsigned long long)ctx.stored);
  }
  free(def);
  return 0;
}

int ehal_cmd_storage(int argc, char **argv) {
  if (argc >= 1 && argv[0]) {
    const char *b = strrchr(argv[0], '/');
    prog = b ? b + 1 : argv[0];
  }
  if (argc < 2) {
    usage_storage(stderr);
    return 2;
  }
  const char *sub = argv[1];
  if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
    usage_storage(stdout);
    return 0;
  }
  if (!strcmp(sub, "list")) return cmd_list(argc - 1, argv + 1);
  if (!strcmp(sub, "import") || !strcmp(sub, "export"))
    return ehal_cmd_storage_fs(prog, sub[0] == 'i', argc - 1, argv + 1);
  fprintf(stderr, "%s: storage: unknown command '%s' (see '%s storage --help')\n", prog, sub, prog);
  return 2;
}
