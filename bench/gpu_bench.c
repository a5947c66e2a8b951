/*
 * gpu_bench.c - elastic-hal-bench-gpu: the same SPIR-V kernels dispatched
 * from a guest through elastic:gpu and from native C driving Vulkan
 * directly, on the same adapter, and the same computation in guest code on
 * the CPU.
 *
 *   BUILD/bench/elastic-hal-bench-gpu [GUEST.wasm]
 *
 * kernels: SAXPY over 64 MiB vectors (65535 x 256 floats), a 1024 x 1024 float
 * matrix product (tiled, examples/gpu-matmul/matmul.comp), and a 64-float
 * vector add for what one dispatch costs.
 *
 * native = one command buffer recorded once, resubmitted with a fence and
 *          waited on; buffers in host-visible memory as the HAL's are; the
 *          SPIR-V as compiled.
 * guest  = bench/guests/gpu_bench_guest.c: submit, wait-fence, destroy-fence
 *          per pass (a command buffer and fence made per submission, the
 *          shader made stoppable by the HAL, src/gpu/bound.c).
 * ratio  = native time / guest time (goal for the kernels: >= 0.90).
 * Best of REPS passes after a warm-up.  The adapter is the Vulkan loader's
 * first (VK_DRIVER_FILES picks one; lavapipe on a machine without a GPU).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "bench_util.h"
#include "elastic-hal/elastic_hal.h"
#include "matmul_spv.h"
#include "saxpy_spv.h"
#include "vecadd_spv.h"

#ifndef EHAL_GBENCH_GUEST_WASM
#define EHAL_GBENCH_GUEST_WASM "build/guests/gpu_bench.wasm"
#endif
#define GOAL 0.90

#define CHECK(x)                                                           \
  do {                                                                     \
    VkResult r_ = (x);                                                     \
    if (r_ != VK_SUCCESS) {                                                \
      fprintf(stderr, "elastic-hal-bench-gpu: %s: VkResult %d\n", #x, r_); \
      exit(1);                                                             \
    }                                                                      \
  } while (0)

static float in_a(uint32_t i) { return (float)(i % 1000) * 0.001f; }
static float in_b(uint32_t i) { return (float)(i % 777) * 0.01f; }

/* ---- native Vulkan ---- */

static VkPhysicalDevice g_pd;
static VkDevice g_dev;
static VkQueue g_queue;
static VkCommandPool g_pool;
static uint32_t g_host_type;

static void native_init(char *name, size_t len) {
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .apiVersion = VK_API_VERSION_1_2};
  VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                             .pApplicationInfo = &app};
  VkInstance inst;
  CHECK(vkCreateInstance(&ci, NULL, &inst));
  uint32_t n = 1;
  VkResult r = vkEnumeratePhysicalDevices(inst, &n, &g_pd);
  if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0) {
    fprintf(stderr, "elastic-hal-bench-gpu: no Vulkan adapter\n");
    exit(1);
  }
  VkPhysicalDeviceProperties p;
  vkGetPhysicalDeviceProperties(g_pd, &p);
  snprintf(name, len, "%s", p.deviceName);
  uint32_t nq = 16;
  VkQueueFamilyProperties q[16];
  vkGetPhysicalDeviceQueueFamilyProperties(g_pd, &nq, q);
  uint32_t fam = 0;
  while (fam < nq && !(q[fam].queueFlags & VK_QUEUE_COMPUTE_BIT)) fam++;
  float prio = 1;
  VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                .queueFamilyIndex = fam,
                                .queueCount = 1,
                                .pQueuePriorities = &prio};
  VkPhysicalDeviceFeatures f = {.robustBufferAccess = VK_TRUE}; /* as the HAL's */
  VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                           .queueCreateInfoCount = 1,
                           .pQueueCreateInfos = &qi,
                           .pEnabledFeatures = &f};
  CHECK(vkCreateDevice(g_pd, &di, NULL, &g_dev));
  vkGetDeviceQueue(g_dev, fam, 0, &g_queue);
  VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                .queueFamilyIndex = fam};
  CHECK(vkCreateCommandPool(g_dev, &pi, NULL, &g_pool));
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(g_pd, &mp);
  VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  while (g_host_type < mp.memoryTypeCount &&
         (mp.memoryTypes[g_host_type].propertyFlags & want) != want)
    g_host_type++;
}

typedef struct {
  VkBuffer buf;
  VkDeviceMemory mem;
  float *map;
} nbuf;

static nbuf native_buffer(uint64_t bytes, int fill) {
  nbuf b;
  VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                           .size = bytes,
                           .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
  CHECK(vkCreateBuffer(g_dev, &bi, NULL, &b.buf));
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(g_dev, b.buf, &req);
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .allocationSize = req.size,
                             .memoryTypeIndex = g_host_type};
  CHECK(vkAllocateMemory(g_dev, &ai, NULL, &b.mem));
  CHECK(vkBindBufferMemory(g_dev, b.buf, b.mem, 0));
  CHECK(vkMapMemory(g_dev, b.mem, 0, VK_WHOLE_SIZE, 0, (void **)&b.map));
  for (uint64_t i = 0; i < bytes / 4; i++)
    b.map[i] = fill == 1 ? in_a((uint32_t)i) : fill == 2 ? in_b((uint32_t)i) : 0;
  return b;
}

typedef struct {
  nbuf bufs[3];
  int nbufs;
  VkCommandBuffer cmd;
  VkFence fence;
  float *out;
} npass;

/* The kernel's buffers, pipeline and one recorded command buffer. */
static npass native_setup(int kernel, uint32_t n) {
  npass p = {0};
  uint64_t bytes = kernel == 1 ? (uint64_t)n * n * 4 : (uint64_t)n * 4;
  p.nbufs = kernel == 0 ? 2 : 3;
  for (int i = 0; i < p.nbufs; i++) p.bufs[i] = native_buffer(bytes, i < 2 ? i + 1 : 0);
  p.out = p.bufs[p.nbufs - 1].map;
  VkDescriptorSetLayoutBinding lb[3];
  for (int i = 0; i < p.nbufs; i++)
    lb[i] = (VkDescriptorSetLayoutBinding){(uint32_t)i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                           VK_SHADER_STAGE_COMPUTE_BIT, NULL};
  VkDescriptorSetLayoutCreateInfo dci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = (uint32_t)p.nbufs,
      .pBindings = lb};
  VkDescriptorSetLayout dsl;
  CHECK(vkCreateDescriptorSetLayout(g_dev, &dci, NULL, &dsl));
  VkPushConstantRange pr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, 4};
  VkPipelineLayoutCreateInfo lci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                    .setLayoutCount = 1,
                                    .pSetLayouts = &dsl,
                                    .pushConstantRangeCount = kernel == 2 ? 0 : 1,
                                    .pPushConstantRanges = &pr};
  VkPipelineLayout layout;
  CHECK(vkCreatePipelineLayout(g_dev, &lci, NULL, &layout));
  const unsigned char *spv = kernel == 0 ? saxpy_spv : kernel == 1 ? matmul_spv : vecadd_spv;
  size_t len = kernel == 0 ? sizeof saxpy_spv : kernel == 1 ? sizeof matmul_spv : sizeof vecadd_spv;
  VkShaderModuleCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                  .codeSize = len,
                                  .pCode = (const uint32_t *)spv};
  VkShaderModule sm;
  CHECK(vkCreateShaderModule(g_dev, &sci, NULL, &sm));
  VkComputePipelineCreateInfo cci = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = sm,
                .pName = "main"},
      .layout = layout};
  VkPipeline pipe;
  CHECK(vkCreateComputePipelines(g_dev, VK_NULL_HANDLE, 1, &cci, NULL, &pipe));
  VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 3};
  VkDescriptorPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                    .maxSets = 1,
                                    .poolSizeCount = 1,
                                    .pPoolSizes = &ps};
  VkDescriptorPool dpool;
  CHECK(vkCreateDescriptorPool(g_dev, &pci, NULL, &dpool));
  VkDescriptorSetAllocateInfo sai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                     .descriptorPool = dpool,
                                     .descriptorSetCount = 1,
                                     .pSetLayouts = &dsl};
  VkDescriptorSet set;
  CHECK(vkAllocateDescriptorSets(g_dev, &sai, &set));
  VkDescriptorBufferInfo dbi[3];
  VkWriteDescriptorSet w[3];
  for (int i = 0; i < p.nbufs; i++) {
    dbi[i] = (VkDescriptorBufferInfo){p.bufs[i].buf, 0, VK_WHOLE_SIZE};
    w[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                  .dstSet = set,
                                  .dstBinding = (uint32_t)i,
                                  .descriptorCount = 1,
                                  .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                  .pBufferInfo = &dbi[i]};
  }
  vkUpdateDescriptorSets(g_dev, (uint32_t)p.nbufs, w, 0, NULL);
  VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                     .commandPool = g_pool,
                                     .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                     .commandBufferCount = 1};
  CHECK(vkAllocateCommandBuffers(g_dev, &cai, &p.cmd));
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  CHECK(vkBeginCommandBuffer(p.cmd, &bi));
  vkCmdBindPipeline(p.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
  vkCmdBindDescriptorSets(p.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
  float alpha = 2.0f;
  if (kernel == 0) vkCmdPushConstants(p.cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &alpha);
  if (kernel == 1) vkCmdPushConstants(p.cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &n);
  if (kernel == 1)
    vkCmdDispatch(p.cmd, (n + 15) / 16, (n + 15) / 16, 1);
  else
    vkCmdDispatch(p.cmd, kernel == 0 ? (n + 255) / 256 : (n + 63) / 64, 1, 1);
  CHECK(vkEndCommandBuffer(p.cmd));
  VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  CHECK(vkCreateFence(g_dev, &fci, NULL, &p.fence));
  vkDestroyShaderModule(g_dev, sm, NULL);
  return p;
}

static void native_run(npass *p, int reps) {
  for (int r = 0; r < reps; r++) {
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                       .commandBufferCount = 1,
                       .pCommandBuffers = &p->cmd};
    CHECK(vkResetFences(g_dev, 1, &p->fence));
    CHECK(vkQueueSubmit(g_queue, 1, &si, p->fence));
    CHECK(vkWaitForFences(g_dev, 1, &p->fence, VK_TRUE, UINT64_MAX));
  }
}

static double native_checksum(const npass *p, uint64_t count) {
  double s = 0;
  for (uint64_t i = 0; i < count && i < 4096; i++) s += p->out[i];
  return s;
}

/* ---- the guest ---- */

static elastic_hal_instance *g_inst;

static double call(const char *name, uint64_t a, uint64_t b, int nargs) {
  uint64_t args[2] = {a, b}, r = 0;
  elastic_hal_error err;
  if (elastic_hal_call(g_inst, name, args, (size_t)nargs, &r, 1, &err) != ELASTIC_HAL_EXITED) {
    fprintf(stderr, "elastic-hal-bench-gpu: guest %s trapped: %s\n", name, err.msg);
    exit(1);
  }
  /* checksum and cpu return an i64; the others an i32 */
  return !strcmp(name, "checksum") || !strcmp(name, "cpu") ? (double)(int64_t)r
                                                           : (double)(int32_t)r;
}

/* Best time of reps passes of f, in ns per pass (passes of `inner` each). */
#define BEST(out, reps, inner, stmt)         \
  do {                                       \
    out = INFINITY;                          \
    for (int r_ = 0; r_ < (reps); r_++) {    \
      double t_ = now_ns();                  \
      stmt;                                  \
      double d_ = (now_ns() - t_) / (inner); \
      if (d_ < out) out = d_;                \
    }                                        \
  } while (0)

int main(int argc, char **argv) {
  const char *wasm = argc > 1 ? argv[1] : EHAL_GBENCH_GUEST_WASM;
  setenv("VK_LOADER_LAYERS_DISABLE", "~all~", 1);
  char adapter[256];
  native_init(adapter, sizeof adapter);

  char dir[] = "/tmp/ehal-gbench-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char cache[64], state[64];
  snprintf(cache, sizeof cache, "%s/cache", dir);
  snprintf(state, sizeof state, "%s/state", dir);
  elastic_hal_error err;
  elastic_hal_load_options lo = {.cache_dir = cache, .state_dir = state};
  elastic_hal_module *m = elastic_hal_module_load(wasm, &lo, &err);
  if (!m) {
    fprintf(stderr, "elastic-hal-bench-gpu: cannot load %s: %s\n", wasm, err.msg);
    return 1;
  }
  elastic_hal_linker *l = elastic_hal_linker_new();
  elastic_hal_add_to_linker(l);
  elastic_hal_wasi_add_to_linker(l);
  char *gargv[] = {"gpu-bench", NULL};
  elastic_hal_config cfg = {.workload = "gpu-bench",
                            .state_dir = state,
                            .argc = 1,
                            .argv = gargv,
                            .gpu_timeout_ms = 600000,
                            .max_memory_pages = 16384};
  g_inst = elastic_hal_instantiate(m, l, &cfg, &err);
  int status = 0;
  if (!g_inst || elastic_hal_run(g_inst, &status, &err) != ELASTIC_HAL_EXITED) {
    fprintf(stderr, "elastic-hal-bench-gpu: cannot start the guest: %s\n", err.msg);
    return 1;
  }

  printf("elastic-hal-bench-gpu: adapter %s\n", adapter);
  printf(
      "  native = Vulkan from C, one recorded command buffer resubmitted; guest = through\n"
      "  elastic:gpu (submit + wait-fence per pass, the shader made stoppable);\n"
      "  cpu = the same computation in guest code (wasm2c); best of several passes\n\n");
  printf("  %-22s %11s %11s %7s %11s %9s  %s\n", "kernel", "native", "guest", "ratio", "guest cpu",
         "gpu/cpu", "goal");
  static const struct {
    const char *label;
    int kernel;
    uint32_t n;
    int reps;
  } rows[] = {{"saxpy 64 MiB", 0, 65535u * 256, 5}, /* the most one dimension of a grid holds */
              {"matmul 1024 x 1024", 1, 1024, 2}};
  int met = 0;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    int k = rows[i].kernel;
    uint32_t n = rows[i].n;
    uint64_t count = k == 1 ? (uint64_t)n * n : n;
    npass np = native_setup(k, n);
    double rc = call("setup", (uint64_t)k, n, 2);
    if (rc != 0) {
      fprintf(stderr, "elastic-hal-bench-gpu: guest setup(%d, %u) failed: %g\n", k, n, rc);
      return 1;
    }
    native_run(&np, 1); /* warm-up, and the first pass for the checksum */
    if (call("run", 1, 0, 1) != 0) {
      fprintf(stderr, "elastic-hal-bench-gpu: guest run failed for %s\n", rows[i].label);
      return 1;
    }
    double cs_native = native_checksum(&np, count), cs_guest = call("checksum", 0, 0, 0) / 1000;
    if (k == 1 && fabs(cs_native - cs_guest) > 1e-3 * (1 + fabs(cs_native))) {
      fprintf(stderr, "elastic-hal-bench-gpu: %s: results differ (%g vs %g)\n", rows[i].label,
              cs_native, cs_guest);
      return 1;
    }
    double tn, tg, tc;
    BEST(tn, rows[i].reps, 1, native_run(&np, 1));
    BEST(tg, rows[i].reps, 1, call("run", 1, 0, 1));
    call("cpu_setup", (uint64_t)k, n, 2);
    BEST(tc, k == 1 ? 1 : 3, 1, call("cpu", (uint64_t)k, n, 2));
    double ratio = tn / tg;
    met += ratio >= GOAL;
    printf("  %-22s %8.2f ms %8.2f ms %6.2fx %8.1f ms %8.1fx  %s\n", rows[i].label, tn / 1e6,
           tg / 1e6, ratio, tc / 1e6, tc / tg,
           ratio >= GOAL ? "met (>= 0.90)" : "MISSED (>= 0.90)");
  }

  /* what one dispatch costs: a 64-float vector add, many times */
  npass np = native_setup(2, 64);
  call("setup", 2, 64, 2);
  double tn, tg;
  BEST(tn, 5, 500, native_run(&np, 500));
  BEST(tg, 5, 500, call("run", 500, 0, 1));
  printf(
      "\n  per dispatch (64-float vector add, submit + wait): native %.1f us, guest %.1f us, "
      "HAL overhead %.1f us\n",
      tn / 1e3, tg / 1e3, (tg - tn) / 1e3);
  printf("\n  kernels at goal: %d of 2\n", met);
  elastic_hal_instance_free(g_inst);
  elastic_hal_linker_free(l);
  elastic_hal_module_free(m);
  bench_rm_tree(dir);
  return 0;
}
