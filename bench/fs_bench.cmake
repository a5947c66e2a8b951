# bench/fs_bench.cmake - build/bench/elastic-hal-bench-fs: a guest's sealed
# WASI file system (`run --dir`) against the host's.  One POSIX program,
# bench/guests/fs_bench_guest.c, built for wasm32-wasi and natively, run by
# the built CLI and directly.  Included from the top-level CMakeLists.txt;
# not a test.

ehal_guest(fs_bench_guest SOURCES ${CMAKE_SOURCE_DIR}/bench/guests/fs_bench_guest.c)
# the same source with the host's compiler: the native column
add_executable(fs_bench_native ${CMAKE_SOURCE_DIR}/bench/guests/fs_bench_guest.c)
set_target_properties(fs_bench_native PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
add_executable(elastic-hal-bench-fs ${CMAKE_SOURCE_DIR}/bench/fs_bench.c)
set_target_properties(elastic-hal-bench-fs PROPERTIES RUNTIME_OUTPUT_DIRECTORY
  ${CMAKE_BINARY_DIR}/bench)
target_compile_definitions(elastic-hal-bench-fs PRIVATE
  EHAL_FSBENCH_CLI="${CMAKE_BINARY_DIR}/elastic-hal"
  EHAL_FSBENCH_GUEST_WASM="${CMAKE_BINARY_DIR}/guests/fs_bench_guest.wasm"
  EHAL_FSBENCH_NATIVE="${CMAKE_BINARY_DIR}/bench/fs_bench_native")
add_dependencies(elastic-hal-bench-fs guest-fs_bench_guest fs_bench_native elastic-hal-cli)
