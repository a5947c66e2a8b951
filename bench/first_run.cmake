# bench/first_run.cmake - build/bench/elastic-hal-bench-firstrun: the first
# run (compile) of a small, a medium and a large module, in parts against
# one cc over the whole file.  Included from the top-level CMakeLists.txt;
# not a test.

add_executable(elastic-hal-bench-firstrun ${CMAKE_SOURCE_DIR}/bench/first_run.c)
set_target_properties(elastic-hal-bench-firstrun PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
target_compile_definitions(elastic-hal-bench-firstrun PRIVATE
  EHAL_BENCH_CLI="${CMAKE_BINARY_DIR}/elastic-hal"
  EHAL_BENCH_HELLO="${CMAKE_BINARY_DIR}/guests/hello.wasm")
add_dependencies(elastic-hal-bench-firstrun elastic-hal-cli guest-hello)
