# bench/crypto_bench.cmake - the crypto benchmark:
#   BUILD/bench/elastic-hal-bench-crypto   (guest: BUILD/guests/crypto_bench.wasm)
# Hash and AEAD throughput from a guest (through elastic:crypto) against the
# same primitive (src/crypto/primitives.h) called natively.

set(EHAL_CRYPTO_BENCH_GUEST ${CMAKE_BINARY_DIR}/guests/crypto_bench.wasm)
set(EHAL_CRYPTO_BENCH_GUEST_SOURCES ${CMAKE_SOURCE_DIR}/bench/guests/crypto_bench_guest.c)
# a reactor, like bench.wasm: exports are called repeatedly after _initialize
add_custom_command(OUTPUT ${EHAL_CRYPTO_BENCH_GUEST}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/guests
  COMMAND ${WASM_CC} --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra
          -I${GEN}/guest -Wl,--strip-debug -o ${EHAL_CRYPTO_BENCH_GUEST}
          ${EHAL_CRYPTO_BENCH_GUEST_SOURCES} ${GEN}/guest/elastic_hal_guest.c
  DEPENDS ${EHAL_CRYPTO_BENCH_GUEST_SOURCES} ${GEN_OUT}
  COMMENT "guest: crypto_bench.wasm")
add_custom_target(guest-crypto-bench ALL DEPENDS ${EHAL_CRYPTO_BENCH_GUEST})

add_executable(elastic-hal-bench-crypto ${CMAKE_SOURCE_DIR}/bench/crypto_bench.c)
set_target_properties(elastic-hal-bench-crypto PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
target_include_directories(elastic-hal-bench-crypto PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(elastic-hal-bench-crypto PRIVATE
  EHAL_CRYPTO_BENCH_GUEST_WASM="${EHAL_CRYPTO_BENCH_GUEST}")
target_link_libraries(elastic-hal-bench-crypto PRIVATE elastic-hal-static m)
add_dependencies(elastic-hal-bench-crypto guest-crypto-bench)
