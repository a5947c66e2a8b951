# bench/net_bench.cmake - build/bench/elastic-hal-bench-net: a guest's TCP and
# TLS throughput, TLS handshakes and idle-connection memory against native C.
# Included from the top-level CMakeLists.txt; not a test.

set(EHAL_NBENCH_GUEST ${CMAKE_BINARY_DIR}/guests/net_bench.wasm)
set(EHAL_NBENCH_GUEST_SRC ${CMAKE_SOURCE_DIR}/bench/guests/net_bench_guest.c)
add_custom_command(OUTPUT ${EHAL_NBENCH_GUEST}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/guests
  COMMAND ${WASM_CC} --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra
          -I${GEN}/guest -Wl,--strip-debug -o ${EHAL_NBENCH_GUEST}
          ${EHAL_NBENCH_GUEST_SRC} ${GEN}/guest/elastic_hal_guest.c
  DEPENDS ${EHAL_NBENCH_GUEST_SRC} ${GEN_OUT}
  COMMENT "guest: net_bench.wasm")
add_custom_target(guest-net-bench ALL DEPENDS ${EHAL_NBENCH_GUEST})

add_executable(elastic-hal-bench-net bench/net_bench.c)
set_target_properties(elastic-hal-bench-net PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
target_include_directories(elastic-hal-bench-net PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(elastic-hal-bench-net PRIVATE
  EHAL_NBENCH_GUEST_WASM="${EHAL_NBENCH_GUEST}")
target_link_libraries(elastic-hal-bench-net PRIVATE elastic-hal-static OpenSSL::SSL)
add_dependencies(elastic-hal-bench-net guest-net-bench)
