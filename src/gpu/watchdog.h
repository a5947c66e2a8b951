/*
 * watchdog.h - the GPU timeout, enforced even when no one waits.
 *
 * A submission is watched from when it is submitted until it is seen
 * done.  One thread per process sleeps until the earliest deadline of all
 * watched submissions (of every workload); at a deadline, if the driver
 * has not finished the work (vkGetFenceStatus), it sets the device's stop
 * flag (src/gpu/bound.c), and the work ends soon after.  The workload
 * finds out on its next call: the flag is set, the device is lost.
 */
#ifndef EHAL_GPU_WATCHDOG_H
#define EHAL_GPU_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

typedef struct ehal_gpu_watch {
  VkDevice dev;
  VkFence fence;
  volatile uint32_t *stop;
  uint64_t deadline_ns; /* CLOCK_MONOTONIC */
  bool watched;
  struct ehal_gpu_watch *next, **prev;
} ehal_gpu_watch;

/* Watch w (its fields dev, fence, stop, deadline_ns set).  false when the
 * watchdog thread cannot start (the caller stops the work itself then). */
bool ehal_gpu_watch_start(ehal_gpu_watch *w);
/* Stop watching w (idempotent); after it returns the watchdog no longer
 * touches w, its device or its stop flag. */
void ehal_gpu_watch_end(ehal_gpu_watch *w);

#endif
