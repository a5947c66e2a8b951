/*
 * rt.h - the engine's side of its own wasm2c runtime (rt.c), beyond what
 * wasm-rt.h declares for generated code.
 */
#ifndef EHAL_W2C_RT_H
#define EHAL_W2C_RT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <wasm-rt.h>

/* This thread's trap target: wasm_rt_trap() jumps there.  The engine sets
 * it with sigsetjmp(*ehal_rt_trap_target(), 0) around every guest call. */
jmp_buf *ehal_rt_trap_target(void);

/* wasm_rt_register_func_type with a va_list (for the artifact's table). */
uint32_t ehal_rt_register_func_type_v(uint32_t params, uint32_t results, va_list ap);
/* Whether a function-type registration on this thread ran out of memory
 * since the last call (module loading checks after init). */
bool ehal_rt_take_register_failure(void);

#if WASM_RT_USE_STACK_DEPTH_COUNT
/* The call depth to restore when a trap unwinds (depth-counting build). */
extern __thread uint32_t ehal_rt_saved_depth;
#endif

#endif
