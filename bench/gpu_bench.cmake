# bench/gpu_bench.cmake - build/bench/elastic-hal-bench-gpu: the same SPIR-V
# kernels through elastic:gpu and from native Vulkan, and on the CPU in the
# guest.  Included from the top-level CMakeLists.txt; not a test.

ehal_bench(elastic-hal-bench-gpu SOURCE ${CMAKE_SOURCE_DIR}/bench/gpu_bench.c
  GUEST gpu_bench GUEST_SOURCE ${CMAKE_SOURCE_DIR}/bench/guests/gpu_bench_guest.c
  DEFINE EHAL_GBENCH_GUEST_WASM LIBS PkgConfig::VULKAN m
  SHADERS ${CMAKE_SOURCE_DIR}/tests/guests/shaders/saxpy.comp
          ${CMAKE_SOURCE_DIR}/tests/guests/shaders/vecadd.comp
          ${CMAKE_SOURCE_DIR}/examples/gpu-matmul/matmul.comp)
