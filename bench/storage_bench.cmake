# bench/storage_bench.cmake - build/bench/elastic-hal-bench-storage: storing
# and retrieving 4 KiB objects through a guest against plain SQLite.
# Included from the top-level CMakeLists.txt; not a test.

set(EHAL_SBENCH_GUEST ${CMAKE_BINARY_DIR}/guests/storage_bench.wasm)
set(EHAL_SBENCH_GUEST_SRC ${CMAKE_SOURCE_DIR}/bench/guests/storage_bench_guest.c)
add_custom_command(OUTPUT ${EHAL_SBENCH_GUEST}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/guests
  COMMAND ${WASM_CC} --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra
          -I${GEN}/guest -Wl,--strip-debug -o ${EHAL_SBENCH_GUEST}
          ${EHAL_SBENCH_GUEST_SRC} ${GEN}/guest/elastic_hal_guest.c
  DEPENDS ${EHAL_SBENCH_GUEST_SRC} ${GEN_OUT}
  COMMENT "guest: storage_bench.wasm")
add_custom_target(guest-storage-bench ALL DEPENDS ${EHAL_SBENCH_GUEST})

add_executable(elastic-hal-bench-storage bench/storage_bench.c)
set_target_properties(elastic-hal-bench-storage PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
target_include_directories(elastic-hal-bench-storage PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(elastic-hal-bench-storage PRIVATE
  EHAL_SBENCH_GUEST_WASM="${EHAL_SBENCH_GUEST}")
target_link_libraries(elastic-hal-bench-storage PRIVATE elastic-hal-static)
add_dependencies(elastic-hal-bench-storage guest-storage-bench)
