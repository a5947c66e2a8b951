/*
 * spirv.c - the checks of spirv.h.  Opcode, capability and storage-class
 * numbers are those of the SPIR-V specification (Unified), section 3.
 */
#include "spirv.h"

#include <spirv-tools/libspirv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CODE (16u << 20) /* bytes of SPIR-V a guest may hand in */
#define MAX_IDS (1u << 20)
#define MAX_DEPTH 64           /* type nesting followed when sizing shared memory */
#define MAX_LOCAL (64u << 10)  /* bytes of private and function variables */
#define MAX_INLINED (4u << 20) /* words of the entry point once calls are inlined */

enum {
  OP_EXTENSION = 10,
  OP_EXT_INST_IMPORT = 11,
  OP_ENTRY_POINT = 15,
  OP_EXECUTION_MODE = 16,
  OP_CAPABILITY = 17,
  OP_TYPE_BOOL = 20,
  OP_TYPE_INT = 21,
  OP_TYPE_FLOAT = 22,
  OP_TYPE_VECTOR = 23,
  OP_TYPE_MATRIX = 24,
  OP_TYPE_ARRAY = 28,
  OP_TYPE_STRUCT = 30,
  OP_TYPE_POINTER = 32,
  OP_CONSTANT = 43,
  OP_CONSTANT_COMPOSITE = 44,
  OP_SPEC_CONSTANT = 50,
  OP_SPEC_CONSTANT_COMPOSITE = 51,
  OP_FUNCTION = 54,
  OP_FUNCTION_CALL = 57,
  OP_VARIABLE = 59,
  OP_DECORATE = 71,
  OP_MEMBER_DECORATE = 72,
  OP_DECORATION_GROUP = 73,
  OP_GROUP_DECORATE = 74,
  OP_GROUP_MEMBER_DECORATE = 75,
  OP_EXECUTION_MODE_ID = 331
};
enum {
  DEC_BLOCK = 2,
  DEC_BUFFER_BLOCK = 3,
  DEC_BUILTIN = 11,
  DEC_BINDING = 33,
  DEC_SET = 34,
  DEC_ARRAY_STRIDE = 6,
  DEC_MATRIX_STRIDE = 7,
  DEC_OFFSET = 35
};
enum {
  SC_UNIFORM_CONSTANT = 0,
  SC_INPUT = 1,
  SC_UNIFORM = 2,
  SC_WORKGROUP = 4,
  SC_PRIVATE = 6,
  SC_FUNCTION = 7,
  SC_PUSH_CONSTANT = 9,
  SC_STORAGE_BUFFER = 12
};
#define MODEL_GLCOMPUTE 5
#define MODE_LOCAL_SIZE 17
#define BUILTIN_WORKGROUP_SIZE 25

typedef struct {
  uint32_t def;             /* word offset of the defining instruction; 0: none */
  int64_t set, binding;     /* -1: not decorated */
  bool block, buffer_block; /* struct decorations */
  bool wg_size;             /* BuiltIn WorkgroupSize */
  uint32_t array_stride;    /* ArrayStride; 0: none */
  uint32_t align;           /* type_size's memo (size 0: not computed) */
  uint64_t size;
} id_info;

typedef struct {
  const uint32_t *w;
  size_t nw;
  uint32_t bound;
  id_info *ids;
  const ehal_spirv_limits *lim;
  char *err;
  size_t errlen;
  uint64_t shared; /* bytes of workgroup variables */
  uint64_t local;  /* bytes of private and function variables, per invocation */
} walk;

static int fail(walk *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(walk *k, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->err, k->errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* The instruction defining id, NULL if none (or id out of range). */
static const uint32_t *def_of(const walk *k, uint32_t id) {
  if (id >= k->bound || !k->ids[id].def) return NULL;
  return k->w + k->ids[id].def;
}

static uint32_t opcode(const uint32_t *ins) { return ins[0] & 0xffff; }
static uint32_t nwords(const uint32_t *ins) { return ins[0] >> 16; }

/* Capabilities a module may declare; those of optional features only when
 * the device has them.  Anything else (physical pointers, images, atomics
 * on 64-bit values...) is refused. */
static bool capability_allowed(const ehal_spirv_limits *l, uint32_t cap) {
  switch (cap) {
    case 0: /* Matrix */
    case 1: /* Shader */ return true;
    case 9: return l->f16;                  /* Float16 */
    case 10: return l->f64;                 /* Float64 */
    case 11: return l->int64;               /* Int64 */
    case 22: return l->int16;               /* Int16 */
    case 39: return l->int8;                /* Int8 */
    case 4433: return l->storage16;         /* StorageBuffer16BitAccess (not in uniform blocks) */
    case 4448: return l->storage8;          /* StorageBuffer8BitAccess (not in uniform blocks) */
    case 61: return l->subgroup_ops & 0x01; /* GroupNonUniform: basic */
    case 62: return l->subgroup_ops & 0x02; /* vote */
    case 63: return l->subgroup_ops & 0x04; /* arithmetic */
    case 64: return l->subgroup_ops & 0x08; /* ballot */
    case 65: return l->subgroup_ops & 0x10; /* shuffle */
    case 66: return l->subgroup_ops & 0x20; /* shuffle relative */
    default: return false;
  }
}

static const char *const allowed_extensions[] = {"SPV_KHR_storage_buffer_storage_class",
                                                 "SPV_KHR_16bit_storage", "SPV_KHR_8bit_storage"};

/* A literal string operand at ins[from..], NUL within the instruction. */
static const char *literal(const uint32_t *ins, uint32_t from) {
  size_t bytes = (size_t)(nwords(ins) - from) * 4;
  const char *s = (const char *)(ins + from);
  return bytes && memchr(s, 0, bytes) ? s : NULL;
}

/* Value of a scalar constant (OpConstant, or a spec constant's default). */
static bool const_value(const walk *k, uint32_t id, uint64_t *v) {
  const uint32_t *d = def_of(k, id);
  if (!d || (opcode(d) != OP_CONSTANT && opcode(d) != OP_SPEC_CONSTANT) || nwords(d) < 4)
    return false;
  *v = d[3] | (nwords(d) > 4 ? (uint64_t)d[4] << 32 : 0);
  return true;
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
  return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}
static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* Bytes a value of type id takes in workgroup or push-constant memory,
 * with natural alignment (an estimate: drivers lay out alike or tighter),
 * saturating at UINT64_MAX (also: a type this cannot size).  Each type's
 * size is computed once (k->ids[id].size), so a module of deeply shared
 * types costs no more than its length. */
static uint64_t type_size(const walk *k, uint32_t id, int depth, uint64_t *align) {
  const uint32_t *d = def_of(k, id);
  *align = 4;
  if (!d || depth > MAX_DEPTH) return UINT64_MAX;
  id_info *memo = &k->ids[id];
  if (memo->size) {
    *align = memo->align;
    return memo->size;
  }
  uint64_t a = 4, n, s;
  switch (opcode(d)) {
    case OP_TYPE_BOOL: s = 4; break;
    case OP_TYPE_INT:
    case OP_TYPE_FLOAT:
      a = d[2] / 8 ? d[2] / 8 : 1;
      s = a;
      break;
    case OP_TYPE_VECTOR:
    case OP_TYPE_MATRIX:
      s = type_size(k, d[2], depth + 1, &a);
      n = d[3] == 3 ? 4 : d[3];
      if (opcode(d) == OP_TYPE_VECTOR) a *= n;
      s = sat_mul(s, n);
      break;
    case OP_TYPE_ARRAY:
      s = type_size(k, d[2], depth + 1, &a);
      s = const_value(k, d[3], &n) ? sat_mul(s, n) : UINT64_MAX;
      break;
    case OP_TYPE_STRUCT: {
      uint64_t off = 0, ma;
      for (uint32_t i = 2; i < nwords(d); i++) {
        uint64_t ms = type_size(k, d[i], depth + 1, &ma);
        off = ms == UINT64_MAX ? UINT64_MAX : (off + ma - 1) / ma * ma + ms; /* off < 2^32 */
        if (off > UINT32_MAX) break;
        if (ma > a) a = ma;
      }
      s = off;
      break;
    }
    default: s = UINT64_MAX; /* pointers, images, runtime arrays: not sized here */
  }
  if (a == 0 || a > 64) a = 64;
  if (s > UINT32_MAX) s = UINT64_MAX; /* more than any adapter has: not sized */
  memo->size = s ? s : 1;
  memo->align = (uint32_t)a;
  *align = a;
  return s;
}

static uint64_t block_end(const walk *k, uint32_t st) {
  const uint32_t *d = def_of(k, st);
  /* a block of more members than bytes allowed cannot fit */
  uint32_t nm = d && opcode(d) == OP_TYPE_STRUCT ? nwords(d) - 2 : UINT32_MAX;
  if (nm > k->lim->max_push || nm > EHAL_SPIRV_MAX_PUSH) return UINT64_MAX;
  uint64_t offset[EHAL_SPIRV_MAX_PUSH], mstride[EHAL_SPIRV_MAX_PUSH];
  for (uint32_t m = 0; m < nm; m++) offset[m] = mstride[m] = UINT64_MAX;
  for (size_t i = 5; i < k->nw; i += nwords(k->w + i)) { /* one pass over the decorations */
    const uint32_t *in = k->w + i;
    if (opcode(in) == OP_MEMBER_DECORATE && nwords(in) >= 5 && in[1] == st && in[2] < nm) {
      if (in[3] == DEC_OFFSET) offset[in[2]] = in[4];
      if (in[3] == DEC_MATRIX_STRIDE) mstride[in[2]] = in[4];
    }
  }
  uint64_t end = 0, a;
  for (uint32_t m = 0; m < nm; m++) {
    uint32_t ty = d[2 + m];
    const uint32_t *t = def_of(k, ty);
    uint64_t off = offset[m], size, n;
    if (!t || off == UINT64_MAX) return UINT64_MAX;
    switch (opcode(t)) {
      case OP_TYPE_INT:
      case OP_TYPE_FLOAT:
      case OP_TYPE_VECTOR: size = type_size(k, ty, 0, &a); break;
      case OP_TYPE_MATRIX: /* columns times the stride */ size = sat_mul(t[3], mstride[m]); break;
      case OP_TYPE_ARRAY: { /* elements times the stride */
        const uint32_t *el = def_of(k, t[2]);
        if (!el ||
            (opcode(el) != OP_TYPE_INT && opcode(el) != OP_TYPE_FLOAT &&
             opcode(el) != OP_TYPE_VECTOR) ||
            !const_value(k, t[3], &n))
          return UINT64_MAX;
        size = sat_mul(n, k->ids[ty].array_stride ? k->ids[ty].array_stride : UINT64_MAX);
        break;
      }
      default: return UINT64_MAX;
    }
    if (size == UINT64_MAX || sat_add(off, size) > UINT32_MAX) return UINT64_MAX;
    if (off + size > end) end = off + size;
  }
  return end;
}

/* First pass: where each id is defined, and its decorations. */
static int index_ids(walk *k) {
  for (size_t i = 5; i < k->nw; i += nwords(k->w + i)) {
    const uint32_t *ins = k->w + i;
    uint32_t op = opcode(ins), n = nwords(ins);
    if (n == 0 || i + n > k->nw) return fail(k, "the module is truncated");
    /* the result id: operand 1 for types (OpType*), operand 2 for values */
    uint32_t res = 0;
    if (op >= 19 && op <= 38 && n > 1)
      res = ins[1]; /* OpTypeVoid..OpTypePipe */
    else if ((op == OP_CONSTANT || op == OP_CONSTANT_COMPOSITE || op == OP_SPEC_CONSTANT ||
              op == OP_SPEC_CONSTANT_COMPOSITE || op == OP_VARIABLE) &&
             n > 2)
      res = ins[2];
    else if (op == OP_EXT_INST_IMPORT && n > 1)
      res = ins[1];
    if (res && res < k->bound) k->ids[res].def = (uint32_t)i;
    if (op == OP_DECORATE && n >= 3 && ins[1] < k->bound) {
      id_info *t = &k->ids[ins[1]];
      if (ins[2] == DEC_BLOCK) t->block = true;
      if (ins[2] == DEC_BUFFER_BLOCK) t->buffer_block = true;
      if ((ins[2] == DEC_SET && t->set >= 0) || (ins[2] == DEC_BINDING && t->binding >= 0))
        return fail(k, "a variable is decorated with two descriptor sets or bindings");
      if (ins[2] == DEC_SET && n >= 4) t->set = ins[3];
      if (ins[2] == DEC_BINDING && n >= 4) t->binding = ins[3];
      if (ins[2] == DEC_BUILTIN && n >= 4 && ins[3] == BUILTIN_WORKGROUP_SIZE) t->wg_size = true;
      if (ins[2] == DEC_ARRAY_STRIDE && n >= 4) t->array_stride = ins[3];
    }
  }
  return 0;
}

static int add_binding(walk *k, ehal_spirv_info *info, uint32_t var, ehal_bind_kind kind) {
  const id_info *v = &k->ids[var];
  if (v->set != 0)
    return fail(k, "a buffer is not in descriptor set 0 (the only set this HAL binds)");
  if (v->binding < 0 || v->binding >= EHAL_SPIRV_MAX_BINDINGS)
    return fail(k, "a buffer has no binding, or one past %d", EHAL_SPIRV_MAX_BINDINGS - 1);
  uint32_t b = (uint32_t)v->binding, j = info->nbindings;
  for (uint32_t i = 0; i < info->nbindings; i++)
    if (info->bindings[i].binding == b) return fail(k, "binding %u is declared twice", b);
  while (j > 0 && info->bindings[j - 1].binding > b) {
    info->bindings[j] = info->bindings[j - 1];
    j--;
  }
  info->bindings[j].binding = b;
  info->bindings[j].kind = kind;
  info->nbindings++;
  return 0;
}

/* A module-scope variable: a buffer, push constants, shared memory, or an
 * input built-in; nothing else. */
static int check_variable(walk *k, const uint32_t *ins, ehal_spirv_info *info) {
  uint32_t sc = ins[3];
  const uint32_t *ptr = def_of(k, ins[1]);
  if (!ptr || opcode(ptr) != OP_TYPE_POINTER || nwords(ptr) < 4)
    return fail(k, "a variable's type is not a pointer");
  uint32_t pointee = ptr[3];
  const uint32_t *t = def_of(k, pointee);
  uint64_t a, s;
  switch (sc) {
    case SC_INPUT: return 0;
    case SC_PRIVATE:
    case SC_FUNCTION: /* on a CPU driver: the host's stack or heap */
      s = type_size(k, pointee, 0, &a);
      k->local = sat_add(k->local, s);
      if (k->local > MAX_LOCAL)
        return fail(k,
                    "the shader's private and function variables take more than %u bytes "
                    "per invocation (or a type this HAL cannot size)",
                    MAX_LOCAL);
      return 0;
    case SC_WORKGROUP:
      s = type_size(k, pointee, 0, &a);
      if (s == UINT64_MAX) return fail(k, "a workgroup variable has a type this HAL cannot size");
      k->shared = sat_add(k->shared, s);
      if (k->shared > k->lim->max_shared)
        return fail(k, "the shader asks for more than the adapter's %u bytes of workgroup memory",
                    k->lim->max_shared);
      return 0;
    case SC_PUSH_CONSTANT:
      if (info->push_constants) return fail(k, "more than one push-constant block");
      info->push_constants = true;
      s = block_end(k, pointee);
      if (s > k->lim->max_push)
        return fail(k,
                    "the push-constant block is larger than the %u bytes allowed (or laid "
                    "out with more than scalars, vectors, matrices and arrays of them)",
                    k->lim->max_push);
      return 0;
    case SC_UNIFORM:
    case SC_STORAGE_BUFFER:
      if (!t || opcode(t) != OP_TYPE_STRUCT)
        return fail(k,
                    "a buffer binding is not a single block (arrays of buffers are not supported)");
      if (sc == SC_STORAGE_BUFFER || k->ids[pointee].buffer_block)
        return add_binding(k, info, ins[2], EHAL_BIND_STORAGE);
      if (!k->ids[pointee].block) return fail(k, "a uniform variable is not a block");
      return add_binding(k, info, ins[2], EHAL_BIND_UNIFORM);
    case SC_UNIFORM_CONSTANT:
      return fail(k,
                  "images, samplers and other opaque resources are not supported: "
                  "storage and uniform buffers only");
    default: return fail(k, "variables of storage class %u are not supported", sc);
  }
}

/* A driver inlines every call: a module of functions that each call the
 * next twice is small, and exponential once inlined.  The words of each
 * function with its callees inlined, leaves first (valid SPIR-V has no
 * recursion), must stay under MAX_INLINED. */
static int check_inlined_size(walk *k) {
  size_t nf = 0, ne = 0;
  for (size_t i = 5; i < k->nw; i += nwords(k->w + i)) {
    nf += opcode(k->w + i) == OP_FUNCTION;
    ne += opcode(k->w + i) == OP_FUNCTION_CALL;
  }
  uint32_t *fid = calloc(nf + 1, sizeof *fid), *pending = calloc(nf + 1, sizeof *pending);
  uint64_t *size = calloc(nf + 1, sizeof *size);
  size_t *caller = calloc(ne + 1, sizeof *caller), *callee = calloc(ne + 1, sizeof *callee);
  size_t *queue = calloc(nf + 1, sizeof *queue);
  size_t *first = calloc(nf + 2, sizeof *first), *callers = calloc(ne + 1, sizeof *callers);
  int rc = -1;
  if (!fid || !pending || !size || !caller || !callee || !queue || !first || !callers) {
    fail(k, "out of memory");
    goto out;
  }
  /* functions, their own words, and the calls (callee ids for now) */
  size_t f = 0, e = 0, cur = 0;
  for (size_t i = 5; i < k->nw; i += nwords(k->w + i)) {
    const uint32_t *in = k->w + i;
    if (opcode(in) == OP_FUNCTION) fid[cur = f++] = in[2];
    if (f) size[cur] += nwords(in);
    if (opcode(in) == OP_FUNCTION_CALL && f) caller[e] = cur, callee[e++] = in[3];
  }
  uint32_t *index_of = calloc(k->bound + 1, sizeof *index_of); /* id -> index + 1 */
  if (!index_of) {
    fail(k, "out of memory");
    goto out;
  }
  for (size_t c = 0; c < nf; c++)
    if (fid[c] < k->bound) index_of[fid[c]] = (uint32_t)c + 1;
  for (size_t j = 0; j < e; j++) { /* callee ids to indices */
    size_t c = callee[j] < k->bound && index_of[callee[j]] ? index_of[callee[j]] - 1 : nf;
    if (c == nf) {
      free(index_of);
      fail(k, "a call to a function the module does not define");
      goto out;
    }
    callee[j] = c;
    pending[caller[j]]++;
    first[c + 1]++;
  }
  free(index_of);
  /* the callers of c: callers[first[c] .. first[c+1]) (linear, whatever the shape) */
  for (size_t c = 0; c < nf; c++) first[c + 1] += first[c];
  for (size_t j = 0; j < e; j++) callers[first[callee[j]] + queue[callee[j]]++] = caller[j];
  memset(queue, 0, (nf + 1) * sizeof *queue);
  /* leaves first: a function's size is final once its callees' are */
  size_t head = 0, tail = 0, done = 0;
  for (size_t c = 0; c < nf; c++)
    if (!pending[c]) queue[tail++] = c;
  while (head < tail) {
    size_t c = queue[head++];
    done++;
    if (size[c] > MAX_INLINED) {
      fail(k, "the shader would take more than %u words once its calls are inlined", MAX_INLINED);
      goto out;
    }
    for (size_t j = first[c]; j < first[c + 1]; j++) {
      size_t up = callers[j];
      size[up] = sat_add(size[up], size[c]);
      if (!--pending[up]) queue[tail++] = up;
    }
  }
  rc = done == nf ? 0 : fail(k, "the module's functions call each other in a cycle");
out:
  free(fid), free(pending), free(size), free(caller), free(callee), free(queue);
  free(first), free(callers);
  return rc;
}

static int walk_module(walk *k, ehal_spirv_info *info) {
  uint32_t entry = 0, nentries = 0;
  bool local = false;
  for (size_t i = 5; i < k->nw; i += nwords(k->w + i)) {
    const uint32_t *ins = k->w + i;
    uint32_t op = opcode(ins), n = nwords(ins);
    const char *s;
    switch (op) {
      case OP_CAPABILITY:
        if (!capability_allowed(k->lim, ins[1]))
          return fail(k,
                      "capability %u is not allowed (or needs a device feature this device "
                      "was not created with)",
                      ins[1]);
        break;
      case OP_EXTENSION: {
        s = literal(ins, 1);
        bool ok = false;
        for (size_t j = 0; s && j < sizeof allowed_extensions / sizeof *allowed_extensions; j++)
          ok |= !strcmp(s, allowed_extensions[j]);
        if (!ok) return fail(k, "extension %.64s is not allowed", s ? s : "?");
        break;
      }
      case OP_EXT_INST_IMPORT:
        s = literal(ins, 2);
        if (!s || strcmp(s, "GLSL.std.450"))
          return fail(k, "extended instruction set %.64s is not allowed", s ? s : "?");
        break;
      case OP_ENTRY_POINT:
        if (ins[1] != MODEL_GLCOMPUTE) return fail(k, "the entry point is not a compute shader");
        s = literal(ins, 3);
        if (!s || strlen(s) >= sizeof info->entry)
          return fail(k, "the entry point's name is too long");
        snprintf(info->entry, sizeof info->entry, "%s", s);
        entry = ins[2];
        nentries++;
        break;
      case OP_EXECUTION_MODE:
        if (ins[2] == MODE_LOCAL_SIZE && n >= 6) {
          memcpy(info->local_size, ins + 3, sizeof info->local_size);
          local = true;
        }
        break;
      case OP_EXECUTION_MODE_ID:
        return fail(k, "execution modes with id operands are not supported");
      case OP_DECORATION_GROUP:
      case OP_GROUP_DECORATE:
      case OP_GROUP_MEMBER_DECORATE:
        /* what a group decorates would be out of this walk's sight */
        return fail(k, "decoration groups are not supported");
      case OP_VARIABLE:
        if (n >= 4 && check_variable(k, ins, info) != 0) return -1;
        break;
      case OP_CONSTANT_COMPOSITE:
      case OP_SPEC_CONSTANT_COMPOSITE:
        /* gl_WorkGroupSize overrides LocalSize */
        if (n == 6 && k->ids[ins[2]].wg_size) {
          for (int d = 0; d < 3; d++) {
            uint64_t v;
            if (!const_value(k, ins[3 + d], &v) || v > UINT32_MAX)
              return fail(k, "the workgroup size is not a constant");
            info->local_size[d] = (uint32_t)v;
          }
          local = true;
        }
        break;
      default: break;
    }
  }
  if (nentries != 1)
    return fail(k, "the module must have exactly one entry point (it has %u)", nentries);
  (void)entry;
  if (!local) return fail(k, "the compute shader declares no workgroup size (LocalSize)");
  uint64_t inv = 1;
  for (int d = 0; d < 3; d++) {
    uint32_t v = info->local_size[d];
    if (v == 0 || v > k->lim->max_size[d])
      return fail(k, "workgroup size %c = %u is outside 1..%u", "xyz"[d], v,
                  k -> lim -> max_size[d]);
    inv *= v;
  }
  if (inv > k->lim->max_invocations)
    return fail(k, "a workgroup of %llu invocations exceeds the adapter's %u",
                (unsigned long long)inv, k->lim->max_invocations);
  return 0;
}

static int validate(const uint32_t *w, size_t nw, const char *what, char *err, size_t errlen) {
  spv_context ctx = spvContextCreate(SPV_ENV_VULKAN_1_2);
  spv_const_binary_t bin = {w, nw};
  spv_diagnostic diag = NULL;
  spv_result_t vr = ctx ? spvValidate(ctx, &bin, &diag) : SPV_ERROR_OUT_OF_MEMORY;
  if (vr != SPV_SUCCESS)
    snprintf(err, errlen, "%s: %s", what, diag && diag->error ? diag->error : "validation failed");
  spvDiagnosticDestroy(diag);
  spvContextDestroy(ctx);
  return vr == SPV_SUCCESS ? 0 : -1;
}

int ehal_spirv_check(const uint8_t *code, size_t size, const ehal_spirv_limits *lim,
                     ehal_spirv_info *info, uint32_t **bounded, size_t *bounded_size, char *err,
                     size_t errlen) {
  memset(info, 0, sizeof *info);
  *bounded = NULL;
  *bounded_size = 0;
  walk k = {.lim = lim, .err = err, .errlen = errlen};
  if (size < 20 || size % 4 || size > MAX_CODE)
    return fail(&k, "shader code must be SPIR-V: a multiple of 4 bytes, 20 to %u", MAX_CODE);
  /* guest memory is not aligned for us, and may change under a copy: own one */
  uint32_t *w = malloc(size);
  if (!w) return fail(&k, "out of memory");
  memcpy(w, code, size);
  k.w = w;
  k.nw = size / 4;
  int rc = -1;
  if (w[0] != 0x07230203) {
    fail(&k, "shader code is not SPIR-V (bad magic number%s)",
         w[0] == 0x03022307 ? ": big-endian modules are not supported" : "");
    goto out;
  }
  /* SPIRV-Tools first: a module it rejects never reaches a driver */
  if (validate(w, k.nw, "invalid SPIR-V", err, errlen) != 0) goto out;
  k.bound = w[3];
  if (k.bound > MAX_IDS) {
    fail(&k, "the module's id bound %u is over %u", k.bound, MAX_IDS);
    goto out;
  }
  k.ids = calloc(k.bound ? k.bound : 1, sizeof *k.ids);
  if (!k.ids) {
    fail(&k, "out of memory");
    goto out;
  }
  for (uint32_t i = 0; i < k.bound; i++) k.ids[i].set = k.ids[i].binding = -1;
  if (index_ids(&k) != 0 || walk_module(&k, info) != 0 || check_inlined_size(&k) != 0) goto out;
  /* then made safe to index and stoppable, and what that made checked again */
  size_t bnw = 0, rnw = 0;
  uint32_t *robust = NULL; /* every array index clamped first */
  if (ehal_spirv_robust(w, k.nw, &robust, &rnw, err, errlen) != 0) goto out;
  int brc = ehal_spirv_bound(robust, rnw, bounded, &bnw, err, errlen);
  free(robust);
  if (brc != 0) goto out;
  if (validate(*bounded, bnw, "this HAL could not make the shader stoppable", err, errlen) != 0) {
    free(*bounded);
    *bounded = NULL;
    goto out;
  }
  *bounded_size = bnw * 4;
  rc = 0;
out:
  free(k.ids);
  free(w);
  return rc;
}
