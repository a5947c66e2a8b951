# bench/net_bench.cmake - build/bench/elastic-hal-bench-net: a guest's TCP and
# TLS throughput, TLS handshakes and idle-connection memory against native C.
# Included from the top-level CMakeLists.txt; not a test.

ehal_bench(elastic-hal-bench-net SOURCE ${CMAKE_SOURCE_DIR}/bench/net_bench.c
  GUEST net_bench GUEST_SOURCE ${CMAKE_SOURCE_DIR}/bench/guests/net_bench_guest.c
  DEFINE EHAL_NBENCH_GUEST_WASM LIBS OpenSSL::SSL)
