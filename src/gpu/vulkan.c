/*
 * vulkan.c - the Vulkan instance of vulkan.h.
 */
#include "vulkan.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ADAPTERS 16

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static VkInstance g_instance;
static ehal_gpu_adapter g_adapters[MAX_ADAPTERS];
static size_t g_nadapters;
static char g_err[256];

static const char *vendor_name(uint32_t id, char *buf, size_t len) {
  switch (id) {
    case 0x10de: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13b5: return "Arm";
    case 0x5143: return "Qualcomm";
    case 0x1010: return "Imagination";
    case 0x10005: return "Mesa";
    default: snprintf(buf, len, "0x%04x", id); return buf;
  }
}

static const char *type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

static void describe(ehal_gpu_adapter *a) {
  VkPhysicalDeviceSubgroupProperties sub = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                       .pNext = &sub};
  vkGetPhysicalDeviceProperties2(a->pd, &props);
  const VkPhysicalDeviceProperties *p = &props.properties;
  snprintf(a->name, sizeof a->name, "%s", p->deviceName);
  char buf[16];
  snprintf(a->vendor, sizeof a->vendor, "%s", vendor_name(p->vendorID, buf, sizeof buf));
  a->type = type_name(p->deviceType);
  a->api_version = p->apiVersion;
  a->limits = p->limits;
  if (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) a->subgroup_ops = sub.supportedOperations;

  VkPhysicalDeviceVulkan11Features f11 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, .pNext = &f11};
  VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  if (VK_API_VERSION_MINOR(p->apiVersion) >= 2 || VK_API_VERSION_MAJOR(p->apiVersion) > 1)
    f.pNext = &f12; /* the 1.1 and 1.2 feature structs exist from 1.2 on */
  vkGetPhysicalDeviceFeatures2(a->pd, &f);
  a->features = (ehal_gpu_features){.f16 = f12.shaderFloat16,
                                    .f64 = f.features.shaderFloat64,
                                    .int8 = f12.shaderInt8,
                                    .int16 = f.features.shaderInt16,
                                    .int64 = f.features.shaderInt64,
                                    .storage8 = f12.storageBuffer8BitAccess,
                                    .storage16 = f11.storageBuffer16BitAccess};

  VkPhysicalDeviceMemoryProperties mem;
  vkGetPhysicalDeviceMemoryProperties(a->pd, &mem);
  a->mem = mem;
  const VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  for (uint32_t i = 0; i < mem.memoryTypeCount; i++)
    if ((mem.memoryTypes[i].propertyFlags & want) == want) a->host_visible_types |= 1u << i;
}

static void init(void) {
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = "elastic-hal",
                           .pEngineName = "elastic-hal",
                           .apiVersion = VK_API_VERSION_1_2};
  VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                             .pApplicationInfo = &app};
  VkResult r = vkCreateInstance(&ci, NULL, &g_instance);
  if (r != VK_SUCCESS) {
    snprintf(g_err, sizeof g_err,
             "no Vulkan driver (vkCreateInstance: %d): install one (mesa-vulkan-drivers "
             "provides lavapipe, on the CPU) or pick one with --gpu-driver",
             r);
    g_instance = VK_NULL_HANDLE;
    return;
  }
  VkPhysicalDevice pds[MAX_ADAPTERS];
  uint32_t n = MAX_ADAPTERS;
  r = vkEnumeratePhysicalDevices(g_instance, &n, pds);
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) n = 0;
  for (uint32_t i = 0; i < n; i++) {
    ehal_gpu_adapter *a = &g_adapters[g_nadapters];
    memset(a, 0, sizeof *a);
    a->pd = pds[i];
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pds[i], &nq, NULL);
    VkQueueFamilyProperties q[32];
    if (nq > 32) nq = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(pds[i], &nq, q);
    uint32_t fam = UINT32_MAX;
    for (uint32_t j = 0; j < nq && fam == UINT32_MAX; j++)
      if (q[j].queueFlags & VK_QUEUE_COMPUTE_BIT) fam = j;
    if (fam == UINT32_MAX) continue; /* no compute queue: of no use here */
    a->queue_family = fam;
    describe(a);
    VkPhysicalDeviceFeatures core;
    vkGetPhysicalDeviceFeatures(pds[i], &core);
    /* without bounds-checked buffer access a shader could reach any memory */
    if (!a->host_visible_types || !core.robustBufferAccess) continue;
    g_nadapters++;
  }
}

int ehal_gpu_adapters(const ehal_gpu_adapter **out, size_t *n, char *err, size_t errlen) {
  pthread_once(&g_once, init);
  if (!g_instance) {
    snprintf(err, errlen, "%s", g_err);
    return -1;
  }
  *out = g_adapters;
  *n = g_nadapters;
  return 0;
}

VkInstance ehal_gpu_instance(void) { return g_instance; }
