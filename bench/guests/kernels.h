/*
 * kernels.h - compute kernels shared by the native and the guest build.
 *
 * kernels.c is compiled twice from the same source: into the benchmark
 * executable (native) and into the wasm32-wasi bench guest (then wasm2c).
 * Each kernel works on static buffers (in .bss natively, in linear memory
 * in the guest), does a fixed amount of work per call and returns a
 * checksum, so both builds can be checked against each other and the
 * compiler cannot drop the work.
 */
#ifndef EHAL_BENCH_KERNELS_H
#define EHAL_BENCH_KERNELS_H

#include <stdint.h>

/* SHA-256 (FIPS 180-4 compression) over a 256 KiB buffer, reps times,
 * feeding each digest back into the buffer. */
uint64_t kernel_sha256(uint32_t reps);
/* C = A * B for n x n doubles (n <= KERNEL_MATMUL_MAX), i-k-j order. */
uint64_t kernel_matmul(uint32_t n);
#define KERNEL_MATMUL_MAX 256
/* Sieve of Eratosthenes over a byte array up to limit (<= KERNEL_SIEVE_MAX). */
uint64_t kernel_sieve(uint32_t limit);
#define KERNEL_SIEVE_MAX (8u << 20)
/* Quicksort (own code, not libc qsort) of n pseudo-random u32 values. */
uint64_t kernel_sort(uint32_t n);
#define KERNEL_SORT_MAX (1u << 20)

#endif
