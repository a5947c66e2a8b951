/*
 * bound.c - making a guest's shader stoppable (spirv.h, ehal_spirv_bound).
 *
 * Vulkan has no way to stop a shader that is running.  So before a shader
 * reaches a driver, every way it could run on is given an exit: each loop's
 * back edge and the start of the entry point read a flag the HAL owns (a
 * storage buffer at descriptor set 1, binding 0, read volatile), and once
 * the flag is set the loop is left and a new invocation returns at once.
 * The HAL sets the flag when work runs past the GPU timeout, and the
 * driver finishes soon after.  Structured control flow makes this local:
 *
 *   back edge "OpBranch %header"              becomes
 *     OpBranchConditional %go %header %merge  (the do-while form)
 *   back edge "OpBranchConditional %c %header %merge"  becomes
 *     OpBranchConditional (%c && %go) %header %merge
 *   the entry point's first block gets "if (!go) return;" after its
 *   variables (a selection construct of its own)
 *
 * where %go is "flag == 0", loaded right there.  Anything else (a back
 * edge by OpSwitch, say) is refused, and the result is validated again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spirv.h"

enum {
  OP_NOP = 0,
  OP_LINE = 8,
  OP_EXT_INST_IMPORT = 11,
  OP_MEMORY_MODEL = 14,
  OP_ENTRY_POINT = 15,
  OP_EXECUTION_MODE = 16,
  OP_CAPABILITY = 17,
  OP_TYPE_BOOL = 20,
  OP_TYPE_INT = 21,
  OP_TYPE_STRUCT = 30,
  OP_TYPE_POINTER = 32,
  OP_CONSTANT = 43,
  OP_FUNCTION = 54,
  OP_FUNCTION_END = 56,
  OP_VARIABLE = 59,
  OP_LOAD = 61,
  OP_ACCESS_CHAIN = 65,
  OP_DECORATE = 71,
  OP_MEMBER_DECORATE = 72,
  OP_LOGICAL_OR = 166,
  OP_LOGICAL_AND = 167,
  OP_LOGICAL_NOT = 168,
  OP_IEQUAL = 170,
  OP_PHI = 245,
  OP_LOOP_MERGE = 246,
  OP_SELECTION_MERGE = 247,
  OP_LABEL = 248,
  OP_BRANCH = 249,
  OP_BRANCH_CONDITIONAL = 250,
  OP_SWITCH = 251,
  OP_RETURN = 253,
  OP_NO_LINE = 317
};

typedef struct {
  uint32_t *w;
  size_t n, cap;
  bool oom;
} vec;

static void put(vec *v, uint32_t x) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 1024;
    uint32_t *nw = realloc(v->w, cap * sizeof *nw);
    if (!nw) {
      v->oom = true;
      return;
    }
    v->w = nw;
    v->cap = cap;
  }
  v->w[v->n++] = x;
}

/* One instruction: opcode and operands. */
static void ins(vec *v, uint32_t op, int n, ...) {
  va_list ap;
  va_start(ap, n);
  put(v, (uint32_t)(n + 1) << 16 | op);
  for (int i = 0; i < n; i++) put(v, va_arg(ap, uint32_t));
  va_end(ap);
}

static void copy(vec *v, const uint32_t *in) {
  for (uint32_t i = 0; i < in[0] >> 16; i++) put(v, in[i]);
}

typedef struct {
  uint32_t next_id;
  uint32_t u32, boolean, ptr_u32, var, zero; /* ids the checks use */
  char *err;
  size_t errlen;
  /* by label id, the current function's loop (index + 1) that has it as
   * header, or as merge block: lookups in constant time, whatever the
   * number of loops (the ids of one function are cleared after it) */
  uint32_t *by_header, *by_merge;
  uint32_t bound; /* the module's id bound, before the new ids */
} bounder;

/* %go = (flag == 0), loaded volatile; returns its id. */
static uint32_t emit_go(bounder *b, vec *v) {
  uint32_t p = b->next_id++, val = b->next_id++, go = b->next_id++;
  ins(v, OP_ACCESS_CHAIN, 4, b->ptr_u32, p, b->var, b->zero);
  ins(v, OP_LOAD, 4, b->u32, val, p, 1u /* Volatile */);
  ins(v, OP_IEQUAL, 4, b->boolean, go, val, b->zero);
  return go;
}

static bool is_merge(uint32_t op) { return op == OP_LOOP_MERGE || op == OP_SELECTION_MERGE; }
static bool is_debug_line(uint32_t op) { return op == OP_LINE || op == OP_NO_LINE || op == OP_NOP; }

typedef struct {
  uint32_t header, merge;
  size_t at;       /* the header block's position */
  bool merge_phis; /* the merge block starts with OpPhi */
} loop;

/* A back edge's block: lift a merge instruction just emitted (it must stay
 * right before the terminator) into pending; returns its words. */
static size_t take_merge(vec *v, size_t last_at, uint32_t pending[8]) {
  size_t n = v->n - last_at;
  if (last_at >= v->n || !is_merge(v->w[last_at] & 0xffff) || n > 8) return 0;
  memcpy(pending, v->w + last_at, n * sizeof *pending);
  v->n = last_at;
  return n;
}

/* A back edge (in, from a block after its loop's header or the header
 * itself) rewritten to leave the loop once the flag is set. */
static int bound_back_edge(bounder *b, vec *v, const uint32_t *in, const loop *l, size_t last_at) {
  uint32_t pending[8], h = l->header, m = l->merge;
  size_t np = take_merge(v, last_at, pending);
  uint32_t go = emit_go(b, v), cond = go;
  bool header_first = true;
  if ((in[0] & 0xffff) == OP_BRANCH && l->merge_phis) {
    /* a new edge into the merge block would need a value in each of its
     * phis; refused rather than guessed */
    snprintf(b->err, b->errlen,
             "a loop with no exit branch before its merge block's phi instructions (not "
             "supported yet: compile without that optimization)");
    return -1;
  }
  if ((in[0] & 0xffff) == OP_BRANCH_CONDITIONAL) {
    if (in[2] == h && in[3] == m) { /* do-while: go on while c and go */
      cond = b->next_id++;
      ins(v, OP_LOGICAL_AND, 4, b->boolean, cond, in[1], go);
    } else if (in[2] == m && in[3] == h) { /* leave when c or not go */
      uint32_t stop = b->next_id++;
      cond = b->next_id++;
      ins(v, OP_LOGICAL_NOT, 3, b->boolean, stop, go);
      ins(v, OP_LOGICAL_OR, 4, b->boolean, cond, in[1], stop);
      header_first = false;
    } else {
      snprintf(b->err, b->errlen, "a loop's back edge that this HAL cannot bound");
      return -1;
    }
  }
  for (size_t k = 0; k < np; k++) put(v, pending[k]);
  ins(v, OP_BRANCH_CONDITIONAL, 3, cond, header_first ? h : m, header_first ? m : h);
  return 0;
}

/* The loop whose header target is, if target is reached by a back edge
 * from the block at label_at (the header comes before, or is, the block). */
static const loop *loop_back_to(const bounder *b, uint32_t target, size_t label_at,
                                const loop *loops) {
  uint32_t k = target < b->bound ? b->by_header[target] : 0;
  return k && loops[k - 1].at <= label_at ? &loops[k - 1] : NULL;
}

/* The loop the branch in goes back to, from the block at label_at; NULL if
 * it is no back edge. */
static const loop *back_edge_of(const bounder *b, const uint32_t *in, size_t label_at,
                                const loop *loops) {
  if ((in[0] & 0xffff) == OP_BRANCH) return loop_back_to(b, in[1], label_at, loops);
  const loop *l = loop_back_to(b, in[2], label_at, loops);
  return l ? l : loop_back_to(b, in[3], label_at, loops);
}

/* One function, words [f, end), out to v. */
static int bound_function(bounder *b, const uint32_t *w, size_t f, size_t end, bool entry, vec *v) {
  size_t nloops = 0, cap = 0;
  for (size_t i = f; i < end; i += w[i] >> 16) cap += (w[i] & 0xffff) == OP_LOOP_MERGE;
  loop *loops = calloc(cap ? cap : 1, sizeof *loops);
  if (!loops) {
    snprintf(b->err, b->errlen, "out of memory");
    return -1;
  }
  size_t label_at = 0;
  for (size_t i = f; i < end; i += w[i] >> 16) {
    uint32_t op = w[i] & 0xffff;
    if (op == OP_LABEL) label_at = i;
    if (op == OP_LOOP_MERGE && w[label_at + 1] < b->bound && w[i + 1] < b->bound) {
      loops[nloops] = (loop){.header = w[label_at + 1], .merge = w[i + 1], .at = label_at};
      b->by_header[loops[nloops].header] = b->by_merge[loops[nloops].merge] = (uint32_t)nloops + 1;
      nloops++;
    }
  }
  for (size_t i = f; i < end; i += w[i] >> 16) /* which merge blocks have phis */
    if ((w[i] & 0xffff) == OP_LABEL && i + (w[i] >> 16) < end &&
        (w[i + (w[i] >> 16)] & 0xffff) == OP_PHI && w[i + 1] < b->bound && b->by_merge[w[i + 1]])
      loops[b->by_merge[w[i + 1]] - 1].merge_phis = true;
  uint32_t first = 0, cont = 0; /* the entry block, and the block it goes on in */
  bool split = !entry;
  size_t last_at = v->n;
  int rc = 0;
  label_at = 0;
  for (size_t i = f; i < end && rc == 0; i += w[i] >> 16) {
    const uint32_t *in = w + i;
    uint32_t op = in[0] & 0xffff, n = in[0] >> 16;
    if (op == OP_LABEL) {
      label_at = i;
      if (!first) first = in[1], cont = entry ? b->next_id++ : 0;
    }
    if (!split && label_at && op != OP_LABEL && op != OP_VARIABLE && !is_debug_line(op)) {
      /* the entry's first block: "if (!go) return;" after its variables */
      uint32_t ret = b->next_id++, go = emit_go(b, v);
      ins(v, OP_SELECTION_MERGE, 2, cont, 0u);
      ins(v, OP_BRANCH_CONDITIONAL, 3, go, cont, ret);
      ins(v, OP_LABEL, 1, ret);
      ins(v, OP_RETURN, 0);
      ins(v, OP_LABEL, 1, cont);
      split = true;
    }
    if (op == OP_SWITCH && label_at) { /* no back edge by switch: refused, never missed */
      for (uint32_t k = 2; k < n; k++)
        if (loop_back_to(b, in[k], label_at, loops)) {
          snprintf(b->err, b->errlen, "a loop's back edge by OpSwitch (not supported)");
          rc = -1;
        }
    }
    const loop *l = NULL;
    if ((op == OP_BRANCH || op == OP_BRANCH_CONDITIONAL) && label_at &&
        (l = back_edge_of(b, in, label_at, loops))) {
      rc = bound_back_edge(b, v, in, l, last_at);
      last_at = v->n;
      continue;
    }
    last_at = v->n;
    if (op == OP_PHI && entry) { /* what came from the first block now comes from cont */
      put(v, in[0]);
      for (uint32_t k = 1; k < n; k++)
        put(v, k >= 4 && k % 2 == 0 && in[k] == first ? cont : in[k]);
      continue;
    }
    copy(v, in);
  }
  for (size_t k = 0; k < nloops; k++)
    b->by_header[loops[k].header] = b->by_merge[loops[k].merge] = 0;
  free(loops);
  return rc;
}

/* Is op one of the module's sections before types and globals? */
static bool preamble(uint32_t op) {
  return (op >= 2 && op <= 7) || (op >= 10 && op <= 17) || (op >= 71 && op <= 75) || op == 330 ||
         op == 331 || op == 332 || op == 5632 || op == 5633 || op == OP_NOP;
}

int ehal_spirv_bound(const uint32_t *w, size_t nw, uint32_t **out, size_t *out_nw, char *err,
                     size_t errlen) {
  bounder b = {.next_id = w[3], .err = err, .errlen = errlen};
  uint32_t version = w[1], entry_fn = 0;
  bool storage_class = version >= 0x00010300; /* StorageBuffer is core from SPIR-V 1.3 */
  size_t globals = 0, functions = 0;
  for (size_t i = 5; i < nw; i += w[i] >> 16) {
    uint32_t op = w[i] & 0xffff;
    if (!globals && !preamble(op)) globals = i;
    if (op == OP_FUNCTION && !functions) functions = i;
    if (op == OP_ENTRY_POINT) entry_fn = w[i + 2];
    /* the scalar types must not be declared twice: reuse them */
    if (op == OP_TYPE_INT && w[i + 2] == 32 && w[i + 3] == 0) b.u32 = w[i + 1];
    if (op == OP_TYPE_BOOL) b.boolean = w[i + 1];
    if (op == 10 && !strcmp((const char *)(w + i + 1), "SPV_KHR_storage_buffer_storage_class"))
      storage_class = true;
  }
  if (!globals || !functions) {
    snprintf(err, errlen, "the module has no functions");
    return -1;
  }
  uint32_t st = b.next_id++, ptr_st = b.next_id++;
  b.ptr_u32 = b.next_id++;
  b.var = b.next_id++;
  b.zero = b.next_id++;
  uint32_t u32 = b.u32 ? 0 : (b.u32 = b.next_id++),
           boolean = b.boolean ? 0 : (b.boolean = b.next_id++);
  uint32_t sc = storage_class ? 12u /* StorageBuffer */ : 2u /* Uniform */;

  vec v = {0};
  b.bound = w[3];
  b.by_header = calloc((size_t)b.bound + 1, sizeof *b.by_header);
  b.by_merge = calloc((size_t)b.bound + 1, sizeof *b.by_merge);
  if (!b.by_header || !b.by_merge) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  for (int i = 0; i < 5; i++) put(&v, w[i]);
  for (size_t i = 5; i < nw; i += w[i] >> 16) {
    const uint32_t *in = w + i;
    uint32_t op = in[0] & 0xffff;
    if (i == globals) { /* the flag's decorations end the annotations */
      ins(&v, OP_DECORATE, 2, st, storage_class ? 2u /* Block */ : 3u /* BufferBlock */);
      ins(&v, OP_MEMBER_DECORATE, 4, st, 0u, 35u /* Offset */, 0u);
      ins(&v, OP_DECORATE, 3, b.var, 34u /* DescriptorSet */, 1u);
      ins(&v, OP_DECORATE, 3, b.var, 33u /* Binding */, 0u);
    }
    if (i == functions) { /* its types and the variable end the globals */
      if (u32) ins(&v, OP_TYPE_INT, 3, u32, 32u, 0u);
      if (boolean) ins(&v, OP_TYPE_BOOL, 1, boolean);
      ins(&v, OP_TYPE_STRUCT, 2, st, b.u32);
      ins(&v, OP_TYPE_POINTER, 3, ptr_st, sc, st);
      ins(&v, OP_TYPE_POINTER, 3, b.ptr_u32, sc, b.u32);
      ins(&v, OP_CONSTANT, 3, b.u32, b.zero, 0u);
      ins(&v, OP_VARIABLE, 3, ptr_st, b.var, sc);
    }
    if (op == OP_ENTRY_POINT && version >= 0x00010400) {
      /* from SPIR-V 1.4 an entry point lists every global it uses */
      put(&v, (in[0] + (1u << 16)));
      for (uint32_t k = 1; k < in[0] >> 16; k++) put(&v, in[k]);
      put(&v, b.var);
      continue;
    }
    if (op == OP_FUNCTION) {
      size_t end = i;
      while (end < nw && (w[end] & 0xffff) != OP_FUNCTION_END) end += w[end] >> 16;
      if (end >= nw) {
        snprintf(err, errlen, "a function has no end");
        goto fail;
      }
      if (bound_function(&b, w, i, end, in[2] == entry_fn, &v) != 0) goto fail;
      i = end; /* OpFunctionEnd is copied below */
      copy(&v, w + end);
      continue;
    }
    copy(&v, in);
  }
  if (v.oom) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  free(b.by_header);
  free(b.by_merge);
  v.w[3] = b.next_id; /* the new bound */
  *out = v.w;
  *out_nw = v.n;
  return 0;
fail:
  free(b.by_header);
  free(b.by_merge);
  free(v.w);
  return -1;
}
