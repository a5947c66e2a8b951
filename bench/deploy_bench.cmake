# bench/deploy_bench.cmake - build/bench/elastic-hal-bench-deploy: messages
# and events between the workloads of a deployment, against two native
# processes on a Unix socket.  Included from the top-level CMakeLists.txt;
# not a test.  Its guests are commands, run by the built CLI under serve.

ehal_guest(deploy_bench_guest SOURCES ${CMAKE_SOURCE_DIR}/bench/guests/deploy_bench_guest.c)
add_executable(elastic-hal-bench-deploy ${CMAKE_SOURCE_DIR}/bench/deploy_bench.c)
set_target_properties(elastic-hal-bench-deploy PROPERTIES RUNTIME_OUTPUT_DIRECTORY
  ${CMAKE_BINARY_DIR}/bench)
target_include_directories(elastic-hal-bench-deploy PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(elastic-hal-bench-deploy PRIVATE
  EHAL_DBENCH_GUEST_WASM="${CMAKE_BINARY_DIR}/guests/deploy_bench_guest.wasm"
  EHAL_DBENCH_CLI="${CMAKE_BINARY_DIR}/elastic-hal")
target_link_libraries(elastic-hal-bench-deploy PRIVATE elastic-hal-static)
add_dependencies(elastic-hal-bench-deploy guest-deploy_bench_guest elastic-hal-cli)
