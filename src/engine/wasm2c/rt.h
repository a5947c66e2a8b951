/*
 * rt.h - the engine's side of its own wasm2c runtime (rt.c), beyond what
 * wasm-rt.h declares for generated code.
 */
#ifndef EHAL_W2C_RT_H
#define EHAL_W2C_RT_H

#include <setjmp.h>
#include <stdint.h>
#include <wasm-rt.h>

/* This thread's trap target: wasm_rt_trap() jumps there.  The engine sets
 * it with sigsetjmp(*ehal_rt_trap_target(), 0) around every guest call. */
jmp_buf *ehal_rt_trap_target(void);

#if WASM_RT_USE_STACK_DEPTH_COUNT
/* The call depth to restore when a trap unwinds (depth-counting build). */
extern __thread uint32_t ehal_rt_saved_depth;
#endif

#endif
