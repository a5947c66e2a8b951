/*
 * kernels.c - the compute kernels of the benchmark (see kernels.h).
 * Plain C with no libc calls, so the native and the wasm32 build run the
 * very same code.
 */
#include "kernels.h"

/* ---- SHA-256 ---- */

#define SHA_BUF_BYTES (256u * 1024u)
static uint8_t sha_buf[SHA_BUF_BYTES];

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           (uint32_t)p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 =
        hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

uint64_t kernel_sha256(uint32_t reps) {
  for (uint32_t i = 0; i < SHA_BUF_BYTES; i++) sha_buf[i] = (uint8_t)(i * 131u + (i >> 8));
  uint32_t h[8] = {0};
  for (uint32_t r = 0; r < reps; r++) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; i++) h[i] = iv[i];
    for (uint32_t off = 0; off < SHA_BUF_BYTES; off += 64) sha256_block(h, sha_buf + off);
    /* chain: the digest becomes the first 32 bytes of the next pass */
    for (int i = 0; i < 8; i++) {
      sha_buf[4 * i] = (uint8_t)(h[i] >> 24);
      sha_buf[4 * i + 1] = (uint8_t)(h[i] >> 16);
      sha_buf[4 * i + 2] = (uint8_t)(h[i] >> 8);
      sha_buf[4 * i + 3] = (uint8_t)h[i];
    }
  }
  return (uint64_t)h[0] << 32 | h[7];
}

/* ---- matrix multiply (doubles) ---- */

static double mat_a[KERNEL_MATMUL_MAX * KERNEL_MATMUL_MAX];
static double mat_b[KERNEL_MATMUL_MAX * KERNEL_MATMUL_MAX];
static double mat_c[KERNEL_MATMUL_MAX * KERNEL_MATMUL_MAX];

uint64_t kernel_matmul(uint32_t n) {
  if (n > KERNEL_MATMUL_MAX) n = KERNEL_MATMUL_MAX;
  for (uint32_t i = 0; i < n * n; i++) {
    mat_a[i] = (double)((i * 7u) % 13u) - 6.0;
    mat_b[i] = (double)((i * 5u) % 11u) * 0.25;
    mat_c[i] = 0.0;
  }
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t k = 0; k < n; k++) {
      double aik = mat_a[i * n + k];
      for (uint32_t j = 0; j < n; j++) mat_c[i * n + j] += aik * mat_b[k * n + j];
    }
  /* every product and sum is exact (small integers and quarters), so the
   * checksum is the same whatever the evaluation order */
  double s = 0.0;
  for (uint32_t i = 0; i < n * n; i++) s += mat_c[i] * (double)(i % 3u + 1u);
  return (uint64_t)(int64_t)(s * 4.0);
}

/* ---- sieve of Eratosthenes ---- */

static uint8_t sieve_buf[KERNEL_SIEVE_MAX + 1];

uint64_t kernel_sieve(uint32_t limit) {
  if (limit > KERNEL_SIEVE_MAX) limit = KERNEL_SIEVE_MAX;
  for (uint32_t i = 0; i <= limit; i++) sieve_buf[i] = 1;
  sieve_buf[0] = sieve_buf[1] = 0;
  for (uint32_t i = 2; (uint64_t)i * i <= limit; i++)
    if (sieve_buf[i])
      for (uint32_t j = i * i; j <= limit; j += i) sieve_buf[j] = 0;
  uint64_t count = 0, sum = 0;
  for (uint32_t i = 0; i <= limit; i++)
    if (sieve_buf[i]) {
      count++;
      sum += i;
    }
  return count << 40 ^ sum;
}

/* ---- quicksort ---- */

static uint32_t sort_buf[KERNEL_SORT_MAX];

static void quicksort(uint32_t *a, int64_t lo, int64_t hi) {
  while (hi - lo > 16) {
    uint32_t x = a[lo], y = a[(lo + hi) / 2], z = a[hi];
    uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        uint32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    /* recurse into the smaller part, loop on the larger */
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  for (int64_t i = lo + 1; i <= hi; i++) {
    uint32_t v = a[i];
    int64_t j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

uint64_t kernel_sort(uint32_t n) {
  if (n > KERNEL_SORT_MAX) n = KERNEL_SORT_MAX;
  if (n == 0) return 0;
  uint32_t s = 0x9e3779b9u;
  for (uint32_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    sort_buf[i] = s;
  }
  quicksort(sort_buf, 0, (int64_t)n - 1);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (i && sort_buf[i - 1] > sort_buf[i]) return 0; /* not sorted: checksum 0 */
    sum = sum * 31u + sort_buf[i];
  }
  return sum;
}
