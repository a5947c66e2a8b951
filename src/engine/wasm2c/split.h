/*
 * split.h - cuts wasm2c's output into C files that compile in parallel.
 *
 * wasm2c 1.0.32 writes one C file per module, and one cc process over a
 * million generated lines takes minutes and gigabytes.  Its layout is
 * regular: a prelude (includes, macros, inline helpers, the function-type
 * table), the prototypes of every function, their definitions, then the
 * module's data, tables, exports and instantiation.  split turns that into
 *
 *   main part:  prelude + prototypes + everything after the definitions
 *   part k:     prelude + prototypes + a share of the definitions
 *
 * with the functions made non-static (the artifact is compiled with
 * -fvisibility=hidden, so nothing more is exported) and the function-type
 * table defined in the main part, declared extern in the others.  When the
 * file does not have exactly that shape, split says so and the caller
 * compiles the file whole: splitting is an optimisation, never a
 * condition.
 */
#ifndef EHAL_W2C_SPLIT_H
#define EHAL_W2C_SPLIT_H

#include <stddef.h>

/* Writes dir/part0.c (the main part) .. dir/part<n-1>.c from the generated
 * C in src (len bytes), aiming at part_lines lines of definitions per
 * part.  Returns the number of files written (at least 2), or 0 when the
 * file is small enough to compile whole or its shape is not the expected
 * one (nothing is written then), or -1 on an I/O error. */
int ehal_w2c_split(const char *src, size_t len, const char *dir, size_t part_lines);

#endif
