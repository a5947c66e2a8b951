/* fsutil.h - small filesystem helpers shared by the runtime's parts. */
#ifndef EHAL_FSUTIL_H
#define EHAL_FSUTIL_H

/* mkdir -p: every directory it creates gets mode 0700 (state directories
 * hold keys and workload data).  Existing directories are left as they are.
 * Returns 0, or -1 with errno set. */
int ehal_mkdir_p(const char *path);

#endif
