/*
 * vulkan.h - the process's Vulkan instance and the adapters it sees.
 *
 * One instance serves every workload of the process: it is made on first
 * use and lives until the process ends.  Which drivers the Vulkan loader
 * loads is the operator's choice (the ICD manifests installed, or
 * VK_DRIVER_FILES; elastic-hal run --gpu-driver sets it), never a guest's.
 */
#ifndef EHAL_GPU_VULKAN_H
#define EHAL_GPU_VULKAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

typedef struct {
  bool f16, f64, int8, int16, int64;
  bool storage8, storage16; /* 8- and 16-bit access to storage buffers */
} ehal_gpu_features;

typedef struct {
  VkPhysicalDevice pd;
  char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
  char vendor[32];
  const char *type; /* discrete, integrated, virtual, cpu, other */
  uint32_t api_version;
  uint32_t queue_family; /* one with compute */
  VkPhysicalDeviceLimits limits;
  uint32_t subgroup_ops; /* VkSubgroupFeatureFlags usable in compute */
  ehal_gpu_features features;
  uint32_t host_visible_types; /* memory types a buffer can live in */
  VkPhysicalDeviceMemoryProperties mem;
} ehal_gpu_adapter;

/* The adapters with a compute queue, made on first call; 0 with *out and
 * *n set (n may be 0), or -1 with why in err (no Vulkan loader or driver). */
int ehal_gpu_adapters(const ehal_gpu_adapter **out, size_t *n, char *err, size_t errlen);

VkInstance ehal_gpu_instance(void);

#endif
