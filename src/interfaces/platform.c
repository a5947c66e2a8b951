/*
 * platform.c - elastic:platform: which TEE this is.
 *
 * Detection reads the kernel's interfaces and nothing else: a configfs-tsm
 * report entry's `provider` (Linux 6.7+), else the guest devices
 * /dev/sev-guest and /dev/tdx_guest.  With none of them the platform is
 * "simulated": a labelled development platform, never a fallback for a TEE
 * that is present but failing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../runtime/instance.h"
#include "ehal_bindings.h"
#include "interfaces.h"

#define TSM_REPORT_DIR "/sys/kernel/config/tsm/report"

static const char *g_platform = "simulated";
static char g_version[160];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* configfs-tsm: create an entry, read its provider, remove it. */
static const char *tsm_provider(void) {
  struct stat st;
  if (stat(TSM_REPORT_DIR, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
  char dir[256], path[300], buf[64] = "";
  snprintf(dir, sizeof dir, TSM_REPORT_DIR "/elastic-hal-probe-%d", (int)getpid());
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) return NULL;
  snprintf(path, sizeof path, "%s/provider", dir);
  FILE *f = fopen(path, "r");
  if (f) {
    if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
    fclose(f);
  }
  rmdir(dir);
  buf[strcspn(buf, "\n")] = 0;
  if (strncmp(buf, "sev_guest", 9) == 0) return "sev-snp";
  if (strncmp(buf, "tdx_guest", 9) == 0) return "tdx";
  return NULL;
}

static void detect(void) {
  const char *p = tsm_provider();
  if (!p && access("/dev/sev-guest", F_OK) == 0) p = "sev-snp";
  if (!p && access("/dev/tdx_guest", F_OK) == 0) p = "tdx";
  g_platform = p ? p : "simulated";
  struct utsname u;
  if (uname(&u) != 0) snprintf(u.release, sizeof u.release, "unknown");
  snprintf(g_version, sizeof g_version, "elastic-hal %s; linux %s%s", ELASTIC_HAL_VERSION,
           u.release, p ? "" : "; simulated development platform, no TEE protection");
}

const char *elastic_hal_platform_type(void) {
  pthread_once(&g_once, detect);
  return g_platform;
}

const char *ehal_platform_version(void) {
  pthread_once(&g_once, detect);
  return g_version;
}

void ehal_impl_platform_get_platform_info(ehal_instance *inst, ehal_platform_platform_info_t *ret) {
  (void)inst;
  ret->platform_type = ehal_str_from(elastic_hal_platform_type());
  ret->version = ehal_str_from(ehal_platform_version());
  /* Attestation is not implemented yet: not linked, and reported false. */
  ret->attestation_support = false;
}
