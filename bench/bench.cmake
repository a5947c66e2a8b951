# bench/bench.cmake - `make bench`: build/bench/elastic-hal-bench and its guest.
# Included from the top-level CMakeLists.txt (include(... OPTIONAL)).

# ---- the benchmark guest: a wasm32-wasi reactor ----
# Like ehal_guest(), but built with -mexec-model=reactor: the guest has no
# main, and its exports are called repeatedly through elastic_hal_call after
# _initialize (a command module would rerun constructors around each export).
set(EHAL_BENCH_GUEST ${CMAKE_BINARY_DIR}/guests/bench.wasm)
set(EHAL_BENCH_GUEST_SOURCES
  ${CMAKE_SOURCE_DIR}/bench/guests/bench_guest.c ${CMAKE_SOURCE_DIR}/bench/guests/kernels.c)
add_custom_command(OUTPUT ${EHAL_BENCH_GUEST}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/guests
  COMMAND ${WASM_CC} --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra
          -I${GEN}/guest -I${CMAKE_SOURCE_DIR}/bench/guests
          -Wl,--strip-debug -o ${EHAL_BENCH_GUEST}
          ${EHAL_BENCH_GUEST_SOURCES} ${GEN}/guest/elastic_hal_guest.c
  DEPENDS ${EHAL_BENCH_GUEST_SOURCES} ${CMAKE_SOURCE_DIR}/bench/guests/kernels.h ${GEN_OUT}
  COMMENT "guest: bench.wasm")
add_custom_target(guest-bench ALL DEPENDS ${EHAL_BENCH_GUEST})

# ---- the benchmark program ----
# The native kernels are the same kernels.c, at the artifact compiler's -O2.
set(EHAL_BENCH_NATIVE_FLAGS -O2)
set(EHAL_BENCH_SOURCES bench/bench.c bench/guests/kernels.c)
set_source_files_properties(bench/guests/kernels.c PROPERTIES COMPILE_OPTIONS "${EHAL_BENCH_NATIVE_FLAGS}")
# The guest's code went through clang before wasm2c: also build kernels.c
# natively with that clang (symbols renamed clang_kernel_*), so the table
# can tell the compiler's share from wasm2c's.
set(EHAL_BENCH_CLANG_OBJ ${CMAKE_BINARY_DIR}/bench/kernels_clang.o)
set(EHAL_BENCH_KERNELS sha256 matmul sieve sort)
set(EHAL_BENCH_RENAME "")
foreach(k ${EHAL_BENCH_KERNELS})
  list(APPEND EHAL_BENCH_RENAME -Dkernel_${k}=clang_kernel_${k})
endforeach()
add_custom_command(OUTPUT ${EHAL_BENCH_CLANG_OBJ}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/bench
  COMMAND ${WASM_CC} -std=c11 ${EHAL_BENCH_NATIVE_FLAGS} -fPIE -Wall -Wextra ${EHAL_BENCH_RENAME}
          -c -o ${EHAL_BENCH_CLANG_OBJ} ${CMAKE_SOURCE_DIR}/bench/guests/kernels.c
  DEPENDS ${CMAKE_SOURCE_DIR}/bench/guests/kernels.c ${CMAKE_SOURCE_DIR}/bench/guests/kernels.h
  COMMENT "bench: kernels.c with ${WASM_CC} (native)")
set_source_files_properties(${EHAL_BENCH_CLANG_OBJ} PROPERTIES EXTERNAL_OBJECT ON GENERATED ON)

add_executable(elastic-hal-bench ${EHAL_BENCH_SOURCES} ${EHAL_BENCH_CLANG_OBJ})
set_target_properties(elastic-hal-bench PROPERTIES OUTPUT_NAME elastic-hal-bench
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
target_include_directories(elastic-hal-bench PRIVATE
  ${CMAKE_SOURCE_DIR}/bench ${CMAKE_SOURCE_DIR}/src/engine)
target_compile_definitions(elastic-hal-bench PRIVATE
  EHAL_BENCH_GUEST_WASM="${EHAL_BENCH_GUEST}"
  EHAL_BENCH_NATIVE_FLAGS="${EHAL_BENCH_NATIVE_FLAGS}"
  EHAL_BENCH_CLANG="${WASM_CC}")
target_link_libraries(elastic-hal-bench PRIVATE elastic-hal-static m)
add_dependencies(elastic-hal-bench guest-bench)
