/*
 * wire.h - the frames between a workload's runtime and its supervisor.
 *
 * A frame is a little-endian u32 body length, then the body: one op byte
 * and the op's fields, each a u8, a u32, a u64 or a byte string (u32
 * length, then the bytes).  Readers check every length against what is
 * left: a short or overlong field makes the reader fail, never read past
 * the body.  The supervisor treats a frame it cannot read as a protocol
 * violation by that workload's runtime and stops it.
 */
#ifndef EHAL_DEPLOY_WIRE_H
#define EHAL_DEPLOY_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest body: a message at its maximum, sealed, with its names. */
#define EHAL_WIRE_MAX_BODY ((1u << 20) + (64u << 10))

typedef struct {
  uint8_t *buf; /* 4 bytes of length, then the body */
  size_t len, cap;
  bool failed; /* out of memory, or past EHAL_WIRE_MAX_BODY */
} ehal_wire_out;

void ehal_wire_begin(ehal_wire_out *w, uint8_t op);
void ehal_wire_u8(ehal_wire_out *w, uint8_t v);
void ehal_wire_u32(ehal_wire_out *w, uint32_t v);
void ehal_wire_u64(ehal_wire_out *w, uint64_t v);
void ehal_wire_bytes(ehal_wire_out *w, const void *p, size_t n);
void ehal_wire_str(ehal_wire_out *w, const char *s);
/* Writes the length prefix; returns the frame's size, or 0 if it failed. */
size_t ehal_wire_end(ehal_wire_out *w);
void ehal_wire_free(ehal_wire_out *w);

typedef struct {
  const uint8_t *p;
  size_t left;
  bool failed;
} ehal_wire_in;

uint8_t ehal_wire_get_u8(ehal_wire_in *r);
uint32_t ehal_wire_get_u32(ehal_wire_in *r);
uint64_t ehal_wire_get_u64(ehal_wire_in *r);
/* A view into the body (not copied); *n its length. */
const uint8_t *ehal_wire_get_bytes(ehal_wire_in *r, size_t *n);
/* Whether the whole body was read, and read well. */
static inline bool ehal_wire_done(const ehal_wire_in *r) { return !r->failed && r->left == 0; }

/* Writes all of a buffer to a stream socket (EINTR retried; no SIGPIPE). */
int ehal_wire_write_all(int fd, const void *p, size_t n);

#endif
