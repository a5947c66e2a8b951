/* bench_util.h - helpers shared by the benchmark programs. */
#ifndef EHAL_BENCH_UTIL_H
#define EHAL_BENCH_UTIL_H

#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int bench_rm_entry(const char *path, const struct stat *st, int flag,
                                 struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* rm -rf of a benchmark's scratch directory. */
static inline void bench_rm_tree(const char *dir) {
  nftw(dir, bench_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
