/*
 * gpu.c - elastic:gpu@0.1.1 on Vulkan: adapters, devices, buffers, compute
 * pipelines from checked SPIR-V, bind groups, submissions with fences.
 *
 * Confidentiality.  Every buffer lives in host-visible memory mapped for
 * its whole life; it is zeroed (all of its allocation) before the handle
 * reaches the guest, and zeroed again before the memory is freed, when the
 * buffer is destroyed, its device is, or the workload ends.  So no
 * workload reads what another left in GPU memory (docs/gpu.md says what
 * this does and does not protect against).
 *
 * A hostile shader.  SPIR-V is checked, its array indices clamped and it
 * is made stoppable (src/gpu/spirv.h) before a driver sees it.  Work that
 * runs past the node's GPU timeout is stopped (the device's stop flag, set
 * here or by the watchdog, src/gpu/watchdog.h) and loses its device: every
 * call on it fails from then on, and its Vulkan objects are released once
 * the driver is done with them.  A device whose work does not end even so
 * (a driver that ignores the flag) is abandoned to its driver, its memory
 * zeroed, never freed under a running shader.
 *
 * Lifetimes.  Each object holds a reference on its device, so a device
 * outlives what was made on it.  A buffer in a bind group, or a pipeline
 * with one, cannot be destroyed (the guest destroys the group first); any
 * destroy first waits for the device's work in flight (up to the timeout),
 * or stops it (device_idle).
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../gpu/spirv.h"
#include "../gpu/vulkan.h"
#include "../gpu/watchdog.h"
#include "ehal_bindings.h"
#include "interfaces.h"

#define MAX_DEVICES 8
#define MAX_PIPELINES 256
#define MAX_BIND_GROUPS 1024
#define MAX_FENCES 256
#define MAX_PUSH EHAL_SPIRV_MAX_PUSH /* push-constant bytes offered (the adapter's if lower) */
#define MAX_READ (1ull << 30)
#define WAIT_SLICE_NS 20000000ull   /* how often a wait looks for an interrupt */
#define STOP_GRACE_NS 2000000000ull /* how long stopped work may take to end */

typedef struct gpu_fence gpu_fence;
typedef struct gpu_buffer gpu_buffer;

typedef struct {
  const ehal_gpu_adapter *ad;
  VkDevice vk;
  VkQueue queue;
  VkCommandPool pool;
  ehal_gpu_features features;
  ehal_spirv_limits lim;
  uint32_t refs;     /* its handle and every object made on it */
  bool lost;         /* work ran past the timeout */
  bool abandoned;    /* a fence was released with its work still running */
  gpu_buffer **bufs; /* live buffers in creation order (dispatch's bindings) */
  uint32_t nbufs, capbufs;
  uint64_t buf_gen;  /* bumped when bufs changes */
  gpu_fence *fences; /* submitted work, newest first */
  /* the stop flag every shader reads (src/gpu/bound.c): set when work runs
   * past the timeout, and the work ends soon after */
  VkBuffer stop_buf;
  VkDeviceMemory stop_mem;
  volatile uint32_t *stop;
  VkDescriptorSetLayout stop_dsl;
  VkDescriptorPool stop_pool;
  VkDescriptorSet stop_set;
} gpu_device;

struct gpu_buffer {
  gpu_device *dev;
  VkBuffer vk;
  VkDeviceMemory mem;
  uint8_t *map;
  uint64_t size, alloc; /* asked for; allocated (what is zeroed) */
  ehal_gpu_buffer_usage_t usage;
  uint32_t groups;  /* bind groups that hold it */
  uint64_t *budget; /* the workload's GPU memory in use, to give back */
};

typedef struct {
  gpu_device *dev;
  VkDescriptorSetLayout dsl;
  VkPipelineLayout layout;
  VkPipeline vk;
  ehal_spirv_info info;
  uint32_t push; /* bytes of the push-constant range; 0: none */
  uint32_t groups;
  /* dispatch's own bindings (the device's buffers in creation order) */
  VkDescriptorPool implicit_pool;
  VkDescriptorSet implicit_set;
  uint64_t implicit_gen; /* the device's buf_gen it was made for; 0: none */
} gpu_pipeline;

typedef struct {
  gpu_pipeline *pl;
  VkDescriptorPool pool;
  VkDescriptorSet set;
  gpu_buffer *bufs[EHAL_SPIRV_MAX_BINDINGS];
  uint32_t nbufs;
} gpu_bind_group;

struct gpu_fence {
  gpu_device *dev;
  VkCommandBuffer cmd;
  VkFence vk;
  bool done;
  bool cut;             /* done, but the stop flag was set: the work may not have finished */
  uint64_t deadline_ns; /* past this, the work has run too long */
  ehal_gpu_watch watch; /* the watchdog's, from submission until done */
  gpu_fence *next, **prev;
};

typedef struct {
  ehal_handle_table adapters, devices, buffers, pipelines, groups, fences;
  uint64_t *adapter_handles; /* list-adapters' answer, made once */
  size_t nadapters;
  uint64_t mem_used;
} gpu_state;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool vk_ok(VkResult r) { return r == VK_SUCCESS; }

/* ---- lifetimes ---- */

/* Whether the driver is done with everything submitted on d (a lost
 * device's driver may not be). */
static bool device_quiet(gpu_device *d) {
  if (d->abandoned) return false;
  for (gpu_fence *f = d->fences; f; f = f->next)
    if (!f->done && vkGetFenceStatus(d->vk, f->vk) == VK_NOT_READY) return false;
  return true;
}

static void device_unref(gpu_device *d) {
  if (--d->refs) return;
  if (device_quiet(d)) {
    vkDestroyDescriptorPool(d->vk, d->stop_pool, NULL);
    vkDestroyDescriptorSetLayout(d->vk, d->stop_dsl, NULL);
    vkDestroyBuffer(d->vk, d->stop_buf, NULL);
    vkFreeMemory(d->vk, d->stop_mem, NULL); /* unmapped with it */
    vkDestroyCommandPool(d->vk, d->pool, NULL);
    vkDestroyDevice(d->vk, NULL);
  } /* else: a shader still runs on it; leave the driver its objects */
  free(d->bufs);
  free(d);
}

static void fence_destroy(void *obj) {
  gpu_fence *f = obj;
  gpu_device *d = f->dev;
  ehal_gpu_watch_end(&f->watch);
  *f->prev = f->next;
  if (f->next) f->next->prev = f->prev;
  if (f->done || vkGetFenceStatus(d->vk, f->vk) != VK_NOT_READY) {
    vkFreeCommandBuffers(d->vk, d->pool, 1, &f->cmd);
    vkDestroyFence(d->vk, f->vk, NULL);
  } else {
    /* the driver still runs it: stop it, and leave the driver its objects */
    __atomic_store_n(d->stop, 1, __ATOMIC_RELAXED);
    d->lost = d->abandoned = true;
  }
  free(f);
  device_unref(d);
}

static void scrub(gpu_buffer *b) { OPENSSL_cleanse(b->map, (size_t)b->alloc); }

static void buffer_destroy(void *obj) {
  gpu_buffer *b = obj;
  gpu_device *d = b->dev;
  scrub(b);
  for (uint32_t i = 0; i < d->nbufs; i++)
    if (d->bufs[i] == b) {
      memmove(d->bufs + i, d->bufs + i + 1, (d->nbufs - i - 1) * sizeof *d->bufs);
      d->nbufs--;
      d->buf_gen++;
      break;
    }
  if (device_quiet(d)) {
    vkUnmapMemory(d->vk, b->mem);
    vkDestroyBuffer(d->vk, b->vk, NULL);
    vkFreeMemory(d->vk, b->mem, NULL);
    *b->budget -= b->alloc;
  } /* else the memory stays with the abandoned device, zeroed, and counted */
  free(b);
  device_unref(d);
}

static void pipeline_destroy(void *obj) {
  gpu_pipeline *p = obj;
  gpu_device *d = p->dev;
  if (device_quiet(d)) {
    vkDestroyDescriptorPool(d->vk, p->implicit_pool, NULL);
    vkDestroyPipeline(d->vk, p->vk, NULL);
    vkDestroyPipelineLayout(d->vk, p->layout, NULL);
    vkDestroyDescriptorSetLayout(d->vk, p->dsl, NULL);
  }
  free(p);
  device_unref(d);
}

static void group_destroy(void *obj) {
  gpu_bind_group *g = obj;
  gpu_device *d = g->pl->dev;
  for (uint32_t i = 0; i < g->nbufs; i++) g->bufs[i]->groups--;
  g->pl->groups--;
  if (device_quiet(d)) vkDestroyDescriptorPool(d->vk, g->pool, NULL);
  free(g);
}

static void device_handle_destroy(void *obj) { device_unref(obj); }

void *ehal_state_create_gpu(ehal_instance *inst) {
  gpu_state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  ehal_handles_init(&st->adapters, 64, NULL);
  ehal_handles_init(&st->devices, MAX_DEVICES, device_handle_destroy);
  ehal_handles_init(&st->buffers, inst->gpu_max_buffers, buffer_destroy);
  ehal_handles_init(&st->pipelines, MAX_PIPELINES, pipeline_destroy);
  ehal_handles_init(&st->groups, MAX_BIND_GROUPS, group_destroy);
  ehal_handles_init(&st->fences, MAX_FENCES, fence_destroy);
  /* a handle of one kind is never one of another */
  ehal_handle_table *kinds[] = {&st->adapters,  &st->devices, &st->buffers,
                                &st->pipelines, &st->groups,  &st->fences};
  for (uint8_t k = 0; k < sizeof kinds / sizeof *kinds; k++) ehal_handles_set_kind(kinds[k], k + 1);
  return st;
}

/* Wait for d's work in flight, up to the timeout of each submission; a
 * submission past it loses the device.  false when interrupted or lost.
 * Not interruptible once the engine instance is gone (at teardown). */
static bool device_settle(ehal_instance *inst, gpu_device *d, bool interruptible);
static void device_lose(gpu_device *d);
static void device_stop(ehal_instance *inst, gpu_device *d);

void ehal_state_destroy_gpu(ehal_instance *inst, void *state) {
  gpu_state *st = state;
  /* no one can see what work still in flight would compute: stop it, and
   * wait (bounded) for it to end so that its memory can be freed */
  for (uint32_t i = 0; i < st->devices.len; i++) {
    gpu_device *d = st->devices.slots[i].obj;
    if (d && !device_quiet(d)) device_stop(inst, d);
  }
  ehal_handles_free(&st->fences);
  ehal_handles_free(&st->groups);
  ehal_handles_free(&st->pipelines);
  ehal_handles_free(&st->buffers); /* zeroed, then freed */
  ehal_handles_free(&st->devices);
  ehal_handles_free(&st->adapters);
  free(st->adapter_handles);
  free(st);
}

/* Give obj a handle in t; when none can be made, destroy obj and return
 * false. */
static bool give_handle(ehal_handle_table *t, void *obj, void (*destroy)(void *), uint64_t *h) {
  *h = ehal_handle_new(t, obj);
  if (!*h) destroy(obj);
  return *h != 0;
}

/* ---- lookups ---- */

static gpu_state *state_of(ehal_instance *inst) {
  return ehal_iface_state(inst, EHAL_IFACE_ID_GPU);
}

/* The entry points name themselves in `fn` for their errors, and look
 * handles up with GET (which leaves the state in st_). */
#define GET(var, table, h, ret, what)    \
  gpu_state *st_ = state_of(inst);       \
  EHAL_NEED(st_);                        \
  var = ehal_handle_get(&st_->table, h); \
  if (!var) EHAL_FAIL(ret, "%s: no such " what " handle", fn)

/* Whether d is lost: its work ran past the timeout (the watchdog may have
 * found so on its own) or its driver lost it. */
static bool device_lost(gpu_device *d) {
  if (__atomic_load_n(d->stop, __ATOMIC_RELAXED)) d->lost = true; /* the watchdog's */
  return d->lost;
}

#define NEED_LIVE(d, ret)                                                   \
  do {                                                                      \
    if (device_lost(d))                                                     \
      EHAL_FAIL(ret,                                                        \
                "%s: the device was lost (work ran past the GPU timeout): " \
                "destroy it and create another",                            \
                fn);                                                        \
  } while (0)

/* ---- waiting ---- */

/* The device's work ran too long (or the driver lost it): every shader on
 * it leaves its loops now, and every call on it fails from now on. */
static void device_lose(gpu_device *d) {
  d->lost = true;
  if (d->stop) __atomic_store_n(d->stop, 1, __ATOMIC_RELAXED);
}

/* Wait for f until until_ns (monotonic).  1 done, 0 not yet, -1
 * interrupted, -2 the driver lost the device. */
static int fence_wait(ehal_instance *inst, gpu_fence *f, uint64_t until_ns, bool interruptible) {
  if (f->done) return 1;
  for (;;) {
    uint64_t now = now_ns();
    uint64_t slice = until_ns > now ? until_ns - now : 0;
    if (slice > WAIT_SLICE_NS) slice = WAIT_SLICE_NS;
    VkResult r = vkWaitForFences(f->dev->vk, 1, &f->vk, VK_TRUE, slice);
    if (r == VK_SUCCESS) {
      f->done = true;
      f->cut = __atomic_load_n(f->dev->stop, __ATOMIC_RELAXED) != 0;
      ehal_gpu_watch_end(&f->watch);
      return 1;
    }
    if (r != VK_TIMEOUT) {
      device_lose(f->dev);
      return -2;
    }
    if (interruptible && ehal_engine_interrupt_pending(inst->eng)) return -1;
    if (now_ns() >= until_ns) return 0;
  }
}

/* Stop d's work and give it STOP_GRACE_NS to end (not interruptible: the
 * caller gives up on the work), so that the device can be released whole. */
static void device_stop(ehal_instance *inst, gpu_device *d) {
  device_lose(d);
  uint64_t until = now_ns() + STOP_GRACE_NS;
  for (gpu_fence *f = d->fences; f; f = f->next) fence_wait(inst, f, until, false);
}

/* Before releasing what d's work may use: that work ends first; if it
 * cannot (lost, or the wait was interrupted), it is stopped.  Afterwards d
 * is quiet, or abandoned to its driver for good: what is released on it is
 * freed consistently, all or nothing. */
static void device_idle(ehal_instance *inst, gpu_device *d) {
  if (!device_settle(inst, d, true)) device_stop(inst, d);
}

/* f ran past its deadline. */
static void timed_out(ehal_instance *inst, gpu_fence *f) { device_stop(inst, f->dev); }

/* Wait for f up to its deadline; past it, the device is lost.  NULL when
 * done, else why not. */
#define STOPPED \
  "timed out (the GPU timeout, --gpu-timeout): the work was stopped and the device is lost"

static const char *fence_finish(ehal_instance *inst, gpu_fence *f, bool interruptible) {
  int w = fence_wait(inst, f, f->deadline_ns, interruptible);
  if (w == 1 && f->cut) device_lost(f->dev);
  if (w == 1) return f->cut ? STOPPED : NULL;
  if (w == -1) return "interrupted";
  if (w == 0) timed_out(inst, f);
  return w == 0 ? STOPPED : "the driver lost the device";
}

static bool device_settle(ehal_instance *inst, gpu_device *d, bool interruptible) {
  for (gpu_fence *f = d->fences; f; f = f->next)
    if (!f->done && fence_finish(inst, f, interruptible)) return false;
  return !device_lost(d);
}

/* ---- adapters ---- */

static bool adapters(ehal_instance *inst, gpu_state *st, const char *fn, ehal_str *err) {
  if (st->adapter_handles) return true;
  const ehal_gpu_adapter *a;
  size_t n;
  char why[256];
  if (ehal_gpu_adapters(&a, &n, why, sizeof why) != 0) {
    *err = ehal_str_fmt(inst, "%s: %s", fn, why);
    return false;
  }
  st->adapter_handles = calloc(n ? n : 1, sizeof *st->adapter_handles);
  if (!st->adapter_handles) {
    *err = ehal_str_fmt(inst, "%s: out of memory", fn);
    return false;
  }
  for (size_t i = 0; i < n; i++)
    st->adapter_handles[st->nadapters++] = ehal_handle_new(&st->adapters, (void *)&a[i]);
  return true;
}

void ehal_impl_gpu_list_adapters(ehal_instance *inst,
                                 ehal_gpu_result_list_gpu_adapter_handle_string_t *ret) {
  const char *fn = "list-adapters";
  gpu_state *st = state_of(inst);
  EHAL_NEED(st);
  if (!adapters(inst, st, fn, &ret->err)) {
    ret->is_err = true;
    return;
  }
  ret->val.ptr = st->adapter_handles;
  ret->val.len = st->nadapters;
}

static const ehal_gpu_adapter *get_adapter(ehal_instance *inst, uint64_t h, const char *fn,
                                           ehal_str *err) {
  gpu_state *st = state_of(inst);
  if (!st) return NULL;
  if (!adapters(inst, st, fn, err)) return NULL;
  const ehal_gpu_adapter *a = ehal_handle_get(&st->adapters, h);
  if (!a) *err = ehal_str_fmt(inst, "%s: no such adapter handle (list-adapters gives them)", fn);
  return a;
}

#define GET_ADAPTER(a, h, ret)                                       \
  const ehal_gpu_adapter *a = get_adapter(inst, h, fn, &(ret)->err); \
  if (!a) {                                                          \
    (ret)->is_err = true;                                            \
    return;                                                          \
  }

void ehal_impl_gpu_get_adapter_info(ehal_instance *inst, uint64_t handle,
                                    ehal_gpu_result_adapter_info_string_t *ret) {
  const char *fn = "get-adapter-info";
  GET_ADAPTER(a, handle, ret);
  ret->val.name = ehal_str_from(a->name);
  ret->val.vendor = ehal_str_from(a->vendor);
  ret->val.device_type = ehal_str_from(a->type);
}

static uint32_t min_u32(uint64_t a, uint64_t b) { return (uint32_t)(a < b ? a : b); }

void ehal_impl_gpu_get_adapter_limits(ehal_instance *inst, uint64_t adapter,
                                      ehal_gpu_result_adapter_limits_string_t *ret) {
  const char *fn = "get-adapter-limits";
  GET_ADAPTER(a, adapter, ret);
  const VkPhysicalDeviceLimits *l = &a->limits;
  ehal_gpu_adapter_limits_t *o = &ret->val;
  o->max_buffer_size = inst->gpu_max_memory;
  o->max_storage_buffer_binding_size = l->maxStorageBufferRange;
  o->max_uniform_buffer_binding_size = l->maxUniformBufferRange;
  o->max_bindings = min_u32(EHAL_SPIRV_MAX_BINDINGS, l->maxPerStageResources);
  o->min_storage_buffer_offset_alignment = (uint32_t)l->minStorageBufferOffsetAlignment;
  o->min_uniform_buffer_offset_alignment = (uint32_t)l->minUniformBufferOffsetAlignment;
  o->max_compute_workgroup_storage_size = l->maxComputeSharedMemorySize;
  o->max_compute_invocations_per_workgroup = l->maxComputeWorkGroupInvocations;
  o->max_compute_workgroup_size_x = l->maxComputeWorkGroupSize[0];
  o->max_compute_workgroup_size_y = l->maxComputeWorkGroupSize[1];
  o->max_compute_workgroup_size_z = l->maxComputeWorkGroupSize[2];
  o->max_compute_workgroups_per_dimension =
      min_u32(min_u32(l->maxComputeWorkGroupCount[0], l->maxComputeWorkGroupCount[1]),
              l->maxComputeWorkGroupCount[2]);
  o->max_push_constant_size = min_u32(MAX_PUSH, l->maxPushConstantsSize);
}

static ehal_gpu_device_features_t features_out(const ehal_gpu_features *f) {
  return (ehal_gpu_device_features_t){.shader_f16 = f->f16,
                                      .shader_f64 = f->f64,
                                      .shader_int8 = f->int8,
                                      .shader_int16 = f->int16,
                                      .shader_int64 = f->int64};
}

void ehal_impl_gpu_get_adapter_features(ehal_instance *inst, uint64_t adapter,
                                        ehal_gpu_result_device_features_string_t *ret) {
  const char *fn = "get-adapter-features";
  GET_ADAPTER(a, adapter, ret);
  ret->val = features_out(&a->features);
}

/* ---- devices ---- */

/* The stop flag of d (src/gpu/bound.c): a 4-byte storage buffer, mapped,
 * and the descriptor set (set 1) that every pass binds it in. */
static bool make_stop_flag(gpu_device *d) {
  VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                           .size = 4,
                           .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                           .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  if (!vk_ok(vkCreateBuffer(d->vk, &bi, NULL, &d->stop_buf))) return false;
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(d->vk, d->stop_buf, &req);
  uint32_t types = req.memoryTypeBits & d->ad->host_visible_types, type = 0;
  while (type < 32 && !(types & (1u << type))) type++;
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .allocationSize = req.size,
                             .memoryTypeIndex = type};
  void *map = NULL;
  if (type == 32 || !vk_ok(vkAllocateMemory(d->vk, &ai, NULL, &d->stop_mem))) goto fail_buf;
  if (!vk_ok(vkBindBufferMemory(d->vk, d->stop_buf, d->stop_mem, 0)) ||
      !vk_ok(vkMapMemory(d->vk, d->stop_mem, 0, VK_WHOLE_SIZE, 0, &map)))
    goto fail_mem;
  d->stop = map;
  __atomic_store_n(d->stop, 0, __ATOMIC_RELAXED);
  VkDescriptorSetLayoutBinding lb = {.binding = EHAL_SPIRV_STOP_BINDING,
                                     .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                     .descriptorCount = 1,
                                     .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
  VkDescriptorSetLayoutCreateInfo dci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 1,
      .pBindings = &lb};
  VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1};
  VkDescriptorPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                    .maxSets = 1,
                                    .poolSizeCount = 1,
                                    .pPoolSizes = &ps};
  if (!vk_ok(vkCreateDescriptorSetLayout(d->vk, &dci, NULL, &d->stop_dsl))) goto fail_mem;
  if (!vk_ok(vkCreateDescriptorPool(d->vk, &pci, NULL, &d->stop_pool))) goto fail_dsl;
  VkDescriptorSetAllocateInfo sai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                     .descriptorPool = d->stop_pool,
                                     .descriptorSetCount = 1,
                                     .pSetLayouts = &d->stop_dsl};
  if (!vk_ok(vkAllocateDescriptorSets(d->vk, &sai, &d->stop_set))) goto fail_pool;
  VkDescriptorBufferInfo dbi = {d->stop_buf, 0, 4};
  VkWriteDescriptorSet wr = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                             .dstSet = d->stop_set,
                             .dstBinding = EHAL_SPIRV_STOP_BINDING,
                             .descriptorCount = 1,
                             .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                             .pBufferInfo = &dbi};
  vkUpdateDescriptorSets(d->vk, 1, &wr, 0, NULL);
  return true;
fail_pool:
  vkDestroyDescriptorPool(d->vk, d->stop_pool, NULL);
fail_dsl:
  vkDestroyDescriptorSetLayout(d->vk, d->stop_dsl, NULL);
fail_mem:
  vkFreeMemory(d->vk, d->stop_mem, NULL);
fail_buf:
  vkDestroyBuffer(d->vk, d->stop_buf, NULL);
  return false;
}

static void make_device(ehal_instance *inst, const char *fn, uint64_t adapter,
                        const ehal_gpu_device_features_t *want,
                        ehal_gpu_result_gpu_device_handle_string_t *ret) {
  GET_ADAPTER(a, adapter, ret);
  gpu_state *st = state_of(inst);
  const ehal_gpu_features *has = &a->features;
  const struct {
    bool want, has;
    const char *name;
  } asks[] = {{want->shader_f16, has->f16, "shader-f16"},
              {want->shader_f64, has->f64, "shader-f64"},
              {want->shader_int8, has->int8, "shader-int8"},
              {want->shader_int16, has->int16, "shader-int16"},
              {want->shader_int64, has->int64, "shader-int64"}};
  for (size_t i = 0; i < sizeof asks / sizeof *asks; i++)
    if (asks[i].want && !asks[i].has)
      EHAL_FAIL(ret, "%s: the adapter has no %s (get-adapter-features)", fn, asks[i].name);
  if (st->devices.live >= st->devices.max_live)
    EHAL_FAIL(ret, "limit exceeded: %s: at most %u devices per workload", fn, MAX_DEVICES);

  ehal_gpu_features f = {.f16 = want->shader_f16,
                         .f64 = want->shader_f64,
                         .int8 = want->shader_int8,
                         .int16 = want->shader_int16,
                         .int64 = want->shader_int64};
  f.storage8 = f.int8 && has->storage8;
  f.storage16 = (f.f16 || f.int16) && has->storage16;
  VkPhysicalDeviceVulkan11Features f11 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
      .storageBuffer16BitAccess = f.storage16};
  VkPhysicalDeviceVulkan12Features f12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .pNext = &f11,
      .shaderFloat16 = f.f16,
      .shaderInt8 = f.int8,
      .storageBuffer8BitAccess = f.storage8};
  VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  /* a shader's access outside its buffers reads zeros or is dropped, never
   * reaches other memory (on a CPU driver: the host's) */
  f2.features.robustBufferAccess = VK_TRUE;
  f2.features.shaderFloat64 = f.f64;
  f2.features.shaderInt16 = f.int16;
  f2.features.shaderInt64 = f.int64;
  if (f.f16 || f.int8 || f.storage8 || f.storage16) f2.pNext = &f12;
  float prio = 1.0f;
  VkDeviceQueueCreateInfo q = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                               .queueFamilyIndex = a->queue_family,
                               .queueCount = 1,
                               .pQueuePriorities = &prio};
  VkDeviceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                           .pNext = &f2,
                           .queueCreateInfoCount = 1,
                           .pQueueCreateInfos = &q};
  gpu_device *d = calloc(1, sizeof *d);
  if (!d) EHAL_FAIL(ret, "%s: out of memory", fn);
  VkResult r = vkCreateDevice(a->pd, &ci, NULL, &d->vk);
  if (r != VK_SUCCESS) {
    free(d);
    EHAL_FAIL(ret, "%s: the driver refused to create a device (VkResult %d)", fn, r);
  }
  vkGetDeviceQueue(d->vk, a->queue_family, 0, &d->queue);
  VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                 .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                 .queueFamilyIndex = a->queue_family};
  if (vkCreateCommandPool(d->vk, &pci, NULL, &d->pool) != VK_SUCCESS) {
    vkDestroyDevice(d->vk, NULL);
    free(d);
    EHAL_FAIL(ret, "%s: the driver could not create a command pool", fn);
  }
  d->ad = a;
  if (!make_stop_flag(d)) {
    vkDestroyCommandPool(d->vk, d->pool, NULL);
    vkDestroyDevice(d->vk, NULL);
    free(d);
    EHAL_FAIL(ret, "%s: the driver could not make the device's stop flag", fn);
  }
  d->features = f;
  d->refs = 1;
  d->buf_gen = 1;
  const VkPhysicalDeviceLimits *l = &a->limits;
  d->lim =
      (ehal_spirv_limits){.f16 = f.f16,
                          .f64 = f.f64,
                          .int8 = f.int8,
                          .int16 = f.int16,
                          .int64 = f.int64,
                          .storage8 = f.storage8,
                          .storage16 = f.storage16,
                          .subgroup_ops = a->subgroup_ops,
                          .max_invocations = l->maxComputeWorkGroupInvocations,
                          .max_size = {l->maxComputeWorkGroupSize[0], l->maxComputeWorkGroupSize[1],
                                       l->maxComputeWorkGroupSize[2]},
                          .max_shared = l->maxComputeSharedMemorySize,
                          .max_push = min_u32(MAX_PUSH, l->maxPushConstantsSize)};
  if (!give_handle(&st->devices, d, device_handle_destroy, &ret->val))
    EHAL_FAIL(ret, "%s: out of memory", fn);
}

void ehal_impl_gpu_create_device(ehal_instance *inst, uint64_t adapter,
                                 ehal_gpu_result_gpu_device_handle_string_t *ret) {
  const char *fn = "create-device";
  make_device(inst, fn, adapter, &(ehal_gpu_device_features_t){0}, ret);
}

void ehal_impl_gpu_create_device_with_features(ehal_instance *inst, uint64_t adapter,
                                               ehal_gpu_device_features_t features,
                                               ehal_gpu_result_gpu_device_handle_string_t *ret) {
  const char *fn = "create-device-with-features";
  make_device(inst, fn, adapter, &features, ret);
}

void ehal_impl_gpu_get_device_features(ehal_instance *inst, uint64_t device,
                                       ehal_gpu_result_device_features_string_t *ret) {
  const char *fn = "get-device-features";
  gpu_device *d;
  GET(d, devices, device, ret, "device");
  ret->val = features_out(&d->features);
}

/* Fences, buffers and pipelines start with their device. */
static int owned_by(void *obj, void *dev) { return *(gpu_device **)obj == dev; }
static int group_on(void *obj, void *dev) { return ((gpu_bind_group *)obj)->pl->dev == dev; }

void ehal_impl_gpu_destroy_device(ehal_instance *inst, uint64_t device,
                                  ehal_gpu_result_void_string_t *ret) {
  const char *fn = "destroy-device";
  gpu_device *d;
  GET(d, devices, device, ret, "device");
  device_idle(inst, d);
  ehal_handles_drop_if(&st_->fences, owned_by, d);
  ehal_handles_drop_if(&st_->groups, group_on, d);
  ehal_handles_drop_if(&st_->pipelines, owned_by, d);
  ehal_handles_drop_if(&st_->buffers, owned_by, d);
  device_unref(ehal_handle_take(&st_->devices, device));
}

/* ---- buffers ---- */

void ehal_impl_gpu_create_buffer(ehal_instance *inst, uint64_t device,
                                 ehal_gpu_buffer_descriptor_t desc,
                                 ehal_gpu_result_gpu_buffer_handle_string_t *ret) {
  const char *fn = "create-buffer";
  gpu_device *d;
  GET(d, devices, device, ret, "device");
  NEED_LIVE(d, ret);
  VkBufferUsageFlags usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  if (desc.usage == EHAL_GPU_BUFFER_USAGE_STORAGE)
    usage |= VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  else if (desc.usage == EHAL_GPU_BUFFER_USAGE_UNIFORM)
    usage |= VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT;
  else
    EHAL_FAIL(ret,
              "%s: vertex and index buffers are not supported (a compute-only HAL): "
              "use storage or uniform",
              fn);
  if (desc.size == 0) EHAL_FAIL(ret, "%s: size must be at least 1 byte", fn);
  if (desc.size > inst->gpu_max_memory - st_->mem_used)
    EHAL_FAIL(ret,
              "limit exceeded: %s: %llu bytes would pass the workload's GPU memory of %llu "
              "(%llu in use; --gpu-max-memory)",
              fn, (unsigned long long)desc.size, (unsigned long long)inst->gpu_max_memory,
              (unsigned long long)st_->mem_used);
  if (st_->buffers.live >= st_->buffers.max_live)
    EHAL_FAIL(ret, "limit exceeded: %s: at most %u buffers per workload", fn,
              st_->buffers.max_live);
  if (d->nbufs == d->capbufs) {
    uint32_t cap = d->capbufs ? d->capbufs * 2 : 16;
    gpu_buffer **nb = realloc(d->bufs, cap * sizeof *nb);
    if (!nb) EHAL_FAIL(ret, "%s: out of memory", fn);
    d->bufs = nb;
    d->capbufs = cap;
  }
  gpu_buffer *b = calloc(1, sizeof *b);
  if (!b) EHAL_FAIL(ret, "%s: out of memory", fn);
  VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                           .size = desc.size,
                           .usage = usage,
                           .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  if (vkCreateBuffer(d->vk, &bi, NULL, &b->vk) != VK_SUCCESS) {
    free(b);
    EHAL_FAIL(ret, "%s: the driver refused a buffer of %llu bytes", fn,
              (unsigned long long)desc.size);
  }
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(d->vk, b->vk, &req);
  /* host-visible memory, device-local where the adapter has such */
  const VkPhysicalDeviceMemoryProperties *mp = &d->ad->mem;
  uint32_t ok = req.memoryTypeBits & d->ad->host_visible_types, type = UINT32_MAX;
  for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
    if (ok & (1u << i) &&
        (type == UINT32_MAX ||
         (mp->memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT &&
          !(mp->memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))))
      type = i;
  VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                             .allocationSize = req.size,
                             .memoryTypeIndex = type};
  void *map = NULL;
  if (type == UINT32_MAX || req.size > inst->gpu_max_memory - st_->mem_used ||
      vkAllocateMemory(d->vk, &ai, NULL, &b->mem) != VK_SUCCESS) {
    vkDestroyBuffer(d->vk, b->vk, NULL);
    free(b);
    EHAL_FAIL(ret, "%s: no GPU memory for %llu bytes", fn, (unsigned long long)desc.size);
  }
  if (vkBindBufferMemory(d->vk, b->vk, b->mem, 0) != VK_SUCCESS ||
      vkMapMemory(d->vk, b->mem, 0, VK_WHOLE_SIZE, 0, &map) != VK_SUCCESS) {
    vkDestroyBuffer(d->vk, b->vk, NULL);
    vkFreeMemory(d->vk, b->mem, NULL);
    free(b);
    EHAL_FAIL(ret, "%s: the driver could not map the buffer's memory", fn);
  }
  b->map = map;
  b->alloc = req.size;
  scrub(b); /* whatever the memory held before is not the guest's to read */
  b->dev = d;
  b->size = desc.size;
  b->usage = desc.usage;
  b->budget = &st_->mem_used;
  st_->mem_used += b->alloc;
  d->refs++;
  d->bufs[d->nbufs++] = b;
  d->buf_gen++;
  if (!give_handle(&st_->buffers, b, buffer_destroy, &ret->val))
    EHAL_FAIL(ret, "%s: out of memory", fn);
}

/* [offset, offset+len) within b, overflow-checked. */
static bool in_range(const gpu_buffer *b, uint64_t offset, uint64_t len) {
  return offset <= b->size && len <= b->size - offset;
}

void ehal_impl_gpu_write_buffer(ehal_instance *inst, uint64_t buffer, uint64_t offset,
                                ehal_bytes data, ehal_gpu_result_void_string_t *ret) {
  const char *fn = "write-buffer";
  gpu_buffer *b;
  GET(b, buffers, buffer, ret, "buffer");
  NEED_LIVE(b->dev, ret);
  if (!in_range(b, offset, data.len))
    EHAL_FAIL(ret, "%s: %zu bytes at offset %llu do not fit in a buffer of %llu", fn, data.len,
              (unsigned long long)offset, (unsigned long long)b->size);
  memcpy(b->map + offset, data.ptr, data.len);
}

void ehal_impl_gpu_read_buffer(ehal_instance *inst, uint64_t buffer, uint64_t offset, uint64_t size,
                               ehal_gpu_result_list_u8_string_t *ret) {
  const char *fn = "read-buffer";
  gpu_buffer *b;
  GET(b, buffers, buffer, ret, "buffer");
  NEED_LIVE(b->dev, ret);
  if (!in_range(b, offset, size))
    EHAL_FAIL(ret, "%s: %llu bytes at offset %llu are not in a buffer of %llu", fn,
              (unsigned long long)size, (unsigned long long)offset, (unsigned long long)b->size);
  if (size > MAX_READ)
    EHAL_FAIL(ret, "limit exceeded: %s: at most %llu bytes per call", fn, MAX_READ);
  if (size == 0) return;
    /* straight into the guest's memory; the buffer outlives the allocation
     * (the guest's cabi_realloc cannot call the host) */
#ifdef EHAL_LOWER_DIRECT
  uint8_t *dst = ehal_lower_direct(inst, (size_t)size, NULL, 0);
#else
  uint8_t *dst = ehal_arena_alloc(inst, (size_t)size);
#endif
  EHAL_NEED(dst);
  memcpy(dst, b->map + offset, (size_t)size);
  ret->val.ptr = dst;
  ret->val.len = (size_t)size;
}

void ehal_impl_gpu_destroy_buffer(ehal_instance *inst, uint64_t buffer,
                                  ehal_gpu_result_void_string_t *ret) {
  const char *fn = "destroy-buffer";
  gpu_buffer *b;
  GET(b, buffers, buffer, ret, "buffer");
  if (b->groups)
    EHAL_FAIL(ret, "%s: the buffer is in %u bind group(s): destroy them first", fn, b->groups);
  device_idle(inst, b->dev); /* nothing in flight may still use it */
  buffer_destroy(ehal_handle_take(&st_->buffers, buffer));
}

void ehal_impl_gpu_copy_buffer(ehal_instance *inst, uint64_t source, uint64_t source_offset,
                               uint64_t destination, uint64_t destination_offset, uint64_t size,
                               ehal_gpu_result_void_string_t *ret);

/* ---- pipelines ---- */

void ehal_impl_gpu_create_compute_pipeline(ehal_instance *inst, uint64_t device,
                                           ehal_bytes shader_code,
                                           ehal_gpu_result_gpu_pipeline_handle_string_t *ret) {
  const char *fn = "create-compute-pipeline";
  gpu_device *d;
  GET(d, devices, device, ret, "device");
  NEED_LIVE(d, ret);
  if (st_->pipelines.live >= st_->pipelines.max_live)
    EHAL_FAIL(ret, "limit exceeded: %s: at most %u pipelines per workload", fn, MAX_PIPELINES);
  gpu_pipeline *p = calloc(1, sizeof *p);
  if (!p) EHAL_FAIL(ret, "%s: out of memory", fn);
  char why[512];
  uint32_t *code = NULL; /* the shader made stoppable */
  size_t code_size = 0;
  if (ehal_spirv_check(shader_code.ptr, shader_code.len, &d->lim, &p->info, &code, &code_size, why,
                       sizeof why)) {
    free(p);
    EHAL_FAIL(ret, "%s: %s", fn, why);
  }
  /* the adapter's per-stage limits, counting the stop flag's storage buffer */
  const VkPhysicalDeviceLimits *lm = &d->ad->limits;
  uint32_t nstorage = 1, nuniform = 0;
  for (uint32_t i = 0; i < p->info.nbindings; i++)
    p->info.bindings[i].kind == EHAL_BIND_STORAGE ? nstorage++ : nuniform++;
  if (nstorage > lm->maxPerStageDescriptorStorageBuffers ||
      nuniform > lm->maxPerStageDescriptorUniformBuffers ||
      nstorage + nuniform > lm->maxPerStageResources) {
    free(code);
    free(p);
    EHAL_FAIL(ret,
              "limit exceeded: %s: %u storage and %u uniform buffers; the adapter binds %u "
              "and %u (one storage buffer is the HAL's)",
              fn, nstorage - 1, nuniform, lm->maxPerStageDescriptorStorageBuffers - 1,
              lm->maxPerStageDescriptorUniformBuffers);
  }
  VkDescriptorSetLayoutBinding lb[EHAL_SPIRV_MAX_BINDINGS];
  for (uint32_t i = 0; i < p->info.nbindings; i++)
    lb[i] = (VkDescriptorSetLayoutBinding){
        .binding = p->info.bindings[i].binding,
        .descriptorType = p->info.bindings[i].kind == EHAL_BIND_STORAGE
                              ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                              : VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
        .descriptorCount = 1,
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
  VkDescriptorSetLayoutCreateInfo dci = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = p->info.nbindings,
      .pBindings = lb};
  p->push = p->info.push_constants ? d->lim.max_push : 0;
  VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = p->push};
  VkShaderModuleCreateInfo sci = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = code_size, .pCode = code};
  VkShaderModule sm = VK_NULL_HANDLE;
  bool ok = vk_ok(vkCreateDescriptorSetLayout(d->vk, &dci, NULL, &p->dsl));
  if (ok) {
    VkDescriptorSetLayout sets[2] = {p->dsl, d->stop_dsl};
    VkPipelineLayoutCreateInfo lci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                      .setLayoutCount = 2,
                                      .pSetLayouts = sets,
                                      .pushConstantRangeCount = p->push ? 1 : 0,
                                      .pPushConstantRanges = &pr};
    ok = vk_ok(vkCreatePipelineLayout(d->vk, &lci, NULL, &p->layout));
  }
  if (ok) ok = vk_ok(vkCreateShaderModule(d->vk, &sci, NULL, &sm));
  if (ok) {
    VkComputePipelineCreateInfo cci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = sm,
                  .pName = p->info.entry},
        .layout = p->layout};
    ok = vk_ok(vkCreateComputePipelines(d->vk, VK_NULL_HANDLE, 1, &cci, NULL, &p->vk));
  }
  if (sm) vkDestroyShaderModule(d->vk, sm, NULL);
  free(code);
  p->dev = d;
  d->refs++;
  if (!ok) {
    pipeline_destroy(p);
    EHAL_FAIL(ret, "%s: the driver could not build the pipeline", fn);
  }
  if (!give_handle(&st_->pipelines, p, pipeline_destroy, &ret->val))
    EHAL_FAIL(ret, "%s: out of memory", fn);
}

void ehal_impl_gpu_destroy_pipeline(ehal_instance *inst, uint64_t pipeline,
                                    ehal_gpu_result_void_string_t *ret) {
  const char *fn = "destroy-pipeline";
  gpu_pipeline *p;
  GET(p, pipelines, pipeline, ret, "pipeline");
  if (p->groups)
    EHAL_FAIL(ret, "%s: the pipeline has %u bind group(s): destroy them first", fn, p->groups);
  device_idle(inst, p->dev);
  pipeline_destroy(ehal_handle_take(&st_->pipelines, pipeline));
}

/* ---- bind groups ---- */

/* A descriptor pool and set for p's layout, the bindings written from
 * bufs/offs/sizes (one per declared binding, in p->info's order). */
static bool write_set(gpu_pipeline *p, VkDescriptorPool *pool, VkDescriptorSet *set,
                      gpu_buffer *const *bufs, const uint64_t *offs, const uint64_t *sizes) {
  gpu_device *d = p->dev;
  if (!p->info.nbindings) return true; /* nothing to bind */
  VkDescriptorPoolSize ps[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 0},
                                {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 0}};
  for (uint32_t i = 0; i < p->info.nbindings; i++)
    ps[p->info.bindings[i].kind == EHAL_BIND_STORAGE ? 0 : 1].descriptorCount++;
  uint32_t nps = 0;
  VkDescriptorPoolSize use[2];
  for (int i = 0; i < 2; i++)
    if (ps[i].descriptorCount) use[nps++] = ps[i];
  if (!*pool) {
    VkDescriptorPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                      .maxSets = 1,
                                      .poolSizeCount = nps,
                                      .pPoolSizes = use};
    if (!vk_ok(vkCreateDescriptorPool(d->vk, &pci, NULL, pool))) return false;
  } else {
    vkResetDescriptorPool(d->vk, *pool, 0);
  }
  VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                    .descriptorPool = *pool,
                                    .descriptorSetCount = 1,
                                    .pSetLayouts = &p->dsl};
  if (!vk_ok(vkAllocateDescriptorSets(d->vk, &ai, set))) return false;
  VkDescriptorBufferInfo bi[EHAL_SPIRV_MAX_BINDINGS];
  VkWriteDescriptorSet w[EHAL_SPIRV_MAX_BINDINGS];
  for (uint32_t i = 0; i < p->info.nbindings; i++) {
    bi[i] = (VkDescriptorBufferInfo){bufs[i]->vk, offs[i], sizes[i]};
    w[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                  .dstSet = *set,
                                  .dstBinding = p->info.bindings[i].binding,
                                  .descriptorCount = 1,
                                  .descriptorType = p->info.bindings[i].kind == EHAL_BIND_STORAGE
                                                        ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                                        : VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
                                  .pBufferInfo = &bi[i]};
  }
  vkUpdateDescriptorSets(d->vk, p->info.nbindings, w, 0, NULL);
  return true;
}

/* Whether b may be bound at binding i of p over [off, off+size); else why. */
static const char *bind_check(const gpu_pipeline *p, uint32_t i, const gpu_buffer *b, uint64_t off,
                              uint64_t size) {
  const VkPhysicalDeviceLimits *l = &p->dev->ad->limits;
  bool storage = p->info.bindings[i].kind == EHAL_BIND_STORAGE;
  if (b->dev != p->dev) return "is on another device";
  if (b->usage != (storage ? EHAL_GPU_BUFFER_USAGE_STORAGE : EHAL_GPU_BUFFER_USAGE_UNIFORM))
    return storage ? "needs a storage buffer" : "needs a uniform buffer";
  uint64_t align =
      storage ? l->minStorageBufferOffsetAlignment : l->minUniformBufferOffsetAlignment;
  if (align && off % align) return "has an offset not aligned to the adapter's minimum";
  if (!in_range(b, off, size) || size == 0) return "has a range outside its buffer";
  if (size > (storage ? l->maxStorageBufferRange : l->maxUniformBufferRange))
    return "has a range larger than the adapter binds";
  return NULL;
}

/* dispatch's bindings: binding n is the device's n-th buffer. */
static const char *implicit_set(ehal_instance *inst, gpu_pipeline *p) {
  gpu_device *d = p->dev;
  if (p->implicit_gen == d->buf_gen) return NULL;
  gpu_buffer *bufs[EHAL_SPIRV_MAX_BINDINGS];
  uint64_t offs[EHAL_SPIRV_MAX_BINDINGS] = {0}, sizes[EHAL_SPIRV_MAX_BINDINGS];
  for (uint32_t i = 0; i < p->info.nbindings; i++) {
    uint32_t bn = p->info.bindings[i].binding;
    if (bn >= d->nbufs)
      return ehal_str_fmt(inst,
                          "the shader uses binding %u, and the device has %u buffer(s) "
                          "(dispatch binds them in creation order; create-bind-group "
                          "binds any)",
                          bn, d->nbufs)
          .ptr;
    bufs[i] = d->bufs[bn];
    sizes[i] = bufs[i]->size;
    const char *why = bind_check(p, i, bufs[i], 0, sizes[i]);
    if (why)
      return ehal_str_fmt(inst, "the device's buffer %u, at binding %u, %s", bn, bn, why).ptr;
  }
  if (!device_settle(inst, d, true)) return "the device was lost, or the wait interrupted";
  if (!write_set(p, &p->implicit_pool, &p->implicit_set, bufs, offs, sizes))
    return "the driver could not make a descriptor set";
  p->implicit_gen = d->buf_gen;
  return NULL;
}

void ehal_impl_gpu_create_bind_group(ehal_instance *inst, uint64_t pipeline,
                                     ehal_gpu_list_bind_group_entry_t entries,
                                     ehal_gpu_result_gpu_bind_group_handle_string_t *ret) {
  const char *fn = "create-bind-group";
  gpu_pipeline *p;
  GET(p, pipelines, pipeline, ret, "pipeline");
  NEED_LIVE(p->dev, ret);
  if (st_->groups.live >= st_->groups.max_live)
    EHAL_FAIL(ret, "limit exceeded: %s: at most %u bind groups per workload", fn, MAX_BIND_GROUPS);
  if (entries.len != p->info.nbindings)
    EHAL_FAIL(ret, "%s: the shader declares %u binding(s); %zu entries given", fn,
              p->info.nbindings, entries.len);
  gpu_buffer *bufs[EHAL_SPIRV_MAX_BINDINGS];
  uint64_t offs[EHAL_SPIRV_MAX_BINDINGS], sizes[EHAL_SPIRV_MAX_BINDINGS];
  for (uint32_t i = 0; i < p->info.nbindings; i++) {
    const ehal_gpu_bind_group_entry_t *e = NULL;
    for (size_t j = 0; j < entries.len; j++)
      if (entries.ptr[j].binding == p->info.bindings[i].binding) {
        if (e) EHAL_FAIL(ret, "%s: binding %u is given twice", fn, e->binding);
        e = &entries.ptr[j];
      }
    if (!e) EHAL_FAIL(ret, "%s: no entry for binding %u", fn, p->info.bindings[i].binding);
    bufs[i] = ehal_handle_get(&st_->buffers, e->buffer);
    if (!bufs[i]) EHAL_FAIL(ret, "%s: binding %u: no such buffer handle", fn, e->binding);
    offs[i] = e->offset;
    sizes[i] = e->size ? e->size : (e->offset < bufs[i]->size ? bufs[i]->size - e->offset : 0);
    const char *why = bind_check(p, i, bufs[i], offs[i], sizes[i]);
    if (why) EHAL_FAIL(ret, "%s: binding %u %s", fn, e->binding, why);
  }
  gpu_bind_group *g = calloc(1, sizeof *g);
  if (!g) EHAL_FAIL(ret, "%s: out of memory", fn);
  g->pl = p;
  if (!write_set(p, &g->pool, &g->set, bufs, offs, sizes)) {
    if (g->pool) vkDestroyDescriptorPool(p->dev->vk, g->pool, NULL);
    free(g);
    EHAL_FAIL(ret, "%s: the driver could not make a descriptor set", fn);
  }
  for (uint32_t i = 0; i < p->info.nbindings; i++) {
    g->bufs[g->nbufs++] = bufs[i];
    bufs[i]->groups++;
  }
  p->groups++;
  if (!give_handle(&st_->groups, g, group_destroy, &ret->val))
    EHAL_FAIL(ret, "%s: out of memory", fn);
}

void ehal_impl_gpu_destroy_bind_group(ehal_instance *inst, uint64_t bind_group,
                                      ehal_gpu_result_void_string_t *ret) {
  const char *fn = "destroy-bind-group";
  gpu_bind_group *g;
  GET(g, groups, bind_group, ret, "bind group");
  device_idle(inst, g->pl->dev);
  group_destroy(ehal_handle_take(&st_->groups, bind_group));
}

/* ---- submission ---- */

/* Record with rec(cmd, arg), submit on d, and return the fence (NULL with
 * why in *err). */
static gpu_fence *submit_work(ehal_instance *inst, gpu_state *st, gpu_device *d,
                              void (*rec)(VkCommandBuffer, void *), void *arg, const char **err) {
  if (st->fences.live >= st->fences.max_live) {
    *err = "limit exceeded: too many fences: destroy some";
    return NULL;
  }
  gpu_fence *f = calloc(1, sizeof *f);
  if (!f) {
    *err = "out of memory";
    return NULL;
  }
  VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                    .commandPool = d->pool,
                                    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                    .commandBufferCount = 1};
  VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  if (!vk_ok(vkAllocateCommandBuffers(d->vk, &ai, &f->cmd))) {
    free(f);
    *err = "the driver could not allocate a command buffer";
    return NULL;
  }
  if (!vk_ok(vkCreateFence(d->vk, &fci, NULL, &f->vk))) {
    vkFreeCommandBuffers(d->vk, d->pool, 1, &f->cmd);
    free(f);
    *err = "the driver could not create a fence";
    return NULL;
  }
  vkBeginCommandBuffer(f->cmd, &bi);
  rec(f->cmd, arg);
  VkSubmitInfo si = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &f->cmd};
  f->dev = d;
  d->refs++;
  f->next = d->fences;
  f->prev = &d->fences;
  if (d->fences) d->fences->prev = &f->next;
  d->fences = f;
  f->done = true; /* until submitted: nothing to wait for */
  if (!vk_ok(vkEndCommandBuffer(f->cmd)) || !vk_ok(vkQueueSubmit(d->queue, 1, &si, f->vk))) {
    fence_destroy(f);
    *err = "the driver refused the submission";
    return NULL;
  }
  f->done = false;
  f->deadline_ns = now_ns() + inst->gpu_timeout_ms * 1000000ull;
  /* the timeout holds even if no one waits (a failed start: waits still do) */
  f->watch = (ehal_gpu_watch){
      .dev = d->vk, .fence = f->vk, .stop = d->stop, .deadline_ns = f->deadline_ns};
  ehal_gpu_watch_start(&f->watch);
  return f;
}

/* Wait for f, work the call itself waits for, and release it; NULL when it
 * finished, else why not.  Work that did not finish (interrupted, or a
 * driver that ignores the stop flag) stays among the workload's fences,
 * waited for and released with its device or the workload. */
static const char *finish_and_release(ehal_instance *inst, gpu_state *st, gpu_fence *f) {
  const char *why = fence_finish(inst, f, true);
  if (!why || f->done || !ehal_handle_new(&st->fences, f)) fence_destroy(f);
  return why;
}

typedef struct {
  gpu_pipeline *p;
  VkDescriptorSet set;
  uint8_t push[MAX_PUSH];
  uint32_t x, y, z;
} pass;

static void record_pass(VkCommandBuffer cmd, void *arg) {
  pass *ps = arg;
  gpu_pipeline *p = ps->p;
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->vk);
  if (p->info.nbindings)
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &ps->set, 0,
                            NULL);
  vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, EHAL_SPIRV_STOP_SET, 1,
                          &p->dev->stop_set, 0, NULL);
  if (p->push)
    vkCmdPushConstants(cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push, ps->push);
  vkCmdDispatch(cmd, ps->x, ps->y, ps->z);
}

/* A compute pass of p with bind group g (NULL: dispatch's bindings). */
static gpu_fence *submit_pass(ehal_instance *inst, gpu_state *st, gpu_pipeline *p,
                              gpu_bind_group *g, ehal_bytes push, uint32_t x, uint32_t y,
                              uint32_t z, const char **err) {
  const uint32_t *max = p->dev->ad->limits.maxComputeWorkGroupCount;
  uint64_t groups = (uint64_t)x * y * z;
  if (groups > inst->gpu_max_workgroups) {
    *err = ehal_str_fmt(inst,
                        "limit exceeded: a grid of %llu workgroups; at most %llu per pass "
                        "(--gpu-max-workgroups): use larger workgroups, or more passes",
                        (unsigned long long)groups, (unsigned long long)inst->gpu_max_workgroups)
               .ptr;
    return NULL;
  }
  if (x > max[0] || y > max[1] || z > max[2]) {
    *err = ehal_str_fmt(inst,
                        "limit exceeded: a grid of %u x %u x %u workgroups; the adapter "
                        "runs at most %u x %u x %u",
                        x, y, z, max[0], max[1], max[2])
               .ptr;
    return NULL;
  }
  if (push.len > p->push || push.len % 4) {
    *err = ehal_str_fmt(inst,
                        "push constants must be a multiple of 4 bytes, at most %u for "
                        "this pipeline (%zu given)",
                        p->push, push.len)
               .ptr;
    return NULL;
  }
  if (!g && (*err = implicit_set(inst, p))) return NULL;
  pass ps = {.p = p, .set = g ? g->set : p->implicit_set, .x = x, .y = y, .z = z};
  if (push.len) memcpy(ps.push, push.ptr, push.len);
  return submit_work(inst, st, p->dev, record_pass, &ps, err);
}

void ehal_impl_gpu_dispatch(ehal_instance *inst, uint64_t device, uint64_t pipeline, uint32_t x,
                            uint32_t y, uint32_t z, ehal_gpu_result_void_string_t *ret) {
  const char *fn = "dispatch";
  gpu_device *d;
  GET(d, devices, device, ret, "device");
  NEED_LIVE(d, ret);
  gpu_pipeline *p = ehal_handle_get(&st_->pipelines, pipeline);
  if (!p) EHAL_FAIL(ret, "%s: no such pipeline handle", fn);
  if (p->dev != d) EHAL_FAIL(ret, "%s: the pipeline is on another device", fn);
  const char *why = NULL;
  gpu_fence *f = submit_pass(inst, st_, p, NULL, (ehal_bytes){NULL, 0}, x, y, z, &why);
  if (!f) EHAL_FAIL(ret, "%s: %s", fn, why);
  if ((why = finish_and_release(inst, st_, f))) EHAL_FAIL(ret, "%s: %s", fn, why);
}

void ehal_impl_gpu_submit(ehal_instance *inst, uint64_t pipeline, uint64_t bind_group,
                          ehal_bytes push_constants, uint32_t x, uint32_t y, uint32_t z,
                          ehal_gpu_result_gpu_fence_handle_string_t *ret) {
  const char *fn = "submit";
  gpu_pipeline *p;
  GET(p, pipelines, pipeline, ret, "pipeline");
  NEED_LIVE(p->dev, ret);
  gpu_bind_group *g = NULL;
  if (bind_group) {
    g = ehal_handle_get(&st_->groups, bind_group);
    if (!g) EHAL_FAIL(ret, "%s: no such bind group handle", fn);
    if (g->pl != p) EHAL_FAIL(ret, "%s: the bind group was made for another pipeline", fn);
  }
  const char *why = NULL;
  gpu_fence *f = submit_pass(inst, st_, p, g, push_constants, x, y, z, &why);
  if (!f) EHAL_FAIL(ret, "%s: %s", fn, why);
  ret->val = ehal_handle_new(&st_->fences, f);
  if (!ret->val) {
    fence_finish(inst, f, true);
    fence_destroy(f);
    EHAL_FAIL(ret, "%s: out of memory", fn);
  }
}

void ehal_impl_gpu_wait_fence(ehal_instance *inst, uint64_t fence, uint64_t timeout_ns,
                              ehal_gpu_result_bool_string_t *ret) {
  const char *fn = "wait-fence";
  gpu_fence *f;
  GET(f, fences, fence, ret, "fence");
  if (f->done && f->cut) EHAL_FAIL(ret, "%s: %s", fn, STOPPED);
  if (f->done) {
    *ret = (ehal_gpu_result_bool_string_t){.val = true};
    return;
  }
  if (device_lost(f->dev)) EHAL_FAIL(ret, "%s: %s", fn, STOPPED); /* by the watchdog, say */
  uint64_t now = now_ns();
  uint64_t until = now + timeout_ns;
  if (until < now || until > f->deadline_ns) until = f->deadline_ns;
  int w = fence_wait(inst, f, until, true);
  if (w == 0 && now_ns() >= f->deadline_ns) timed_out(inst, f);
  if ((w == 0 && now_ns() >= f->deadline_ns) || (w == 1 && f->cut)) {
    device_lost(f->dev);
    EHAL_FAIL(ret, "%s: %s", fn, STOPPED);
  }
  if (w < 0) EHAL_FAIL(ret, "%s: %s", fn, w == -1 ? "interrupted" : "the driver lost the device");
  ret->val = w == 1;
}

void ehal_impl_gpu_destroy_fence(ehal_instance *inst, uint64_t fence,
                                 ehal_gpu_result_void_string_t *ret) {
  const char *fn = "destroy-fence";
  gpu_fence *f;
  GET(f, fences, fence, ret, "fence");
  /* its work ends first; if it cannot (interrupted, lost), it is stopped */
  if (!f->done && (device_lost(f->dev) || fence_finish(inst, f, true))) device_stop(inst, f->dev);
  fence_destroy(ehal_handle_take(&st_->fences, fence));
}

typedef struct {
  gpu_buffer *src, *dst;
  VkBufferCopy region;
} copy_op;

static void record_copy(VkCommandBuffer cmd, void *arg) {
  copy_op *c = arg;
  vkCmdCopyBuffer(cmd, c->src->vk, c->dst->vk, 1, &c->region);
}

void ehal_impl_gpu_copy_buffer(ehal_instance *inst, uint64_t source, uint64_t source_offset,
                               uint64_t destination, uint64_t destination_offset, uint64_t size,
                               ehal_gpu_result_void_string_t *ret) {
  const char *fn = "copy-buffer";
  gpu_buffer *src;
  GET(src, buffers, source, ret, "source buffer");
  gpu_buffer *dst = ehal_handle_get(&st_->buffers, destination);
  if (!dst) EHAL_FAIL(ret, "%s: no such destination buffer handle", fn);
  if (dst->dev != src->dev) EHAL_FAIL(ret, "%s: the buffers are on different devices", fn);
  NEED_LIVE(src->dev, ret);
  if (!in_range(src, source_offset, size) || !in_range(dst, destination_offset, size))
    EHAL_FAIL(ret, "%s: %llu bytes do not fit the source or the destination at those offsets", fn,
              (unsigned long long)size);
  if (src == dst && source_offset < destination_offset + size &&
      destination_offset < source_offset + size)
    EHAL_FAIL(ret, "%s: the source and destination ranges overlap", fn);
  if (size == 0) return;
  copy_op c = {src, dst, {source_offset, destination_offset, size}};
  const char *why = NULL;
  gpu_fence *f = submit_work(inst, st_, src->dev, record_copy, &c, &why);
  if (!f) EHAL_FAIL(ret, "%s: %s", fn, why);
  if ((why = finish_and_release(inst, st_, f))) EHAL_FAIL(ret, "%s: %s", fn, why);
}
