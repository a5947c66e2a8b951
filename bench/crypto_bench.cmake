# bench/crypto_bench.cmake - the crypto benchmark:
#   BUILD/bench/elastic-hal-bench-crypto   (guest: BUILD/guests/crypto_bench.wasm)
# Hash and AEAD throughput from a guest (through elastic:crypto) against the
# same primitive (src/crypto/primitives.h) called natively.

ehal_bench(elastic-hal-bench-crypto SOURCE ${CMAKE_SOURCE_DIR}/bench/crypto_bench.c
  GUEST crypto_bench GUEST_SOURCE ${CMAKE_SOURCE_DIR}/bench/guests/crypto_bench_guest.c
  DEFINE EHAL_CRYPTO_BENCH_GUEST_WASM LIBS m)
