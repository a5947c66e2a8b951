# bench/storage_bench.cmake - build/bench/elastic-hal-bench-storage: storing
# and retrieving 4 KiB objects through a guest against plain SQLite.
# Included from the top-level CMakeLists.txt; not a test.

ehal_bench(elastic-hal-bench-storage SOURCE ${CMAKE_SOURCE_DIR}/bench/storage_bench.c
  GUEST storage_bench GUEST_SOURCE ${CMAKE_SOURCE_DIR}/bench/guests/storage_bench_guest.c
  DEFINE EHAL_SBENCH_GUEST_WASM)
