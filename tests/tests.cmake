# tests/tests.cmake - the runtime's own tests (included by CMakeLists.txt).
# tests/run.sh runs every BUILD/tests/test_* and tests/cli/*.sh.

ehal_guest(abi_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/abi_guest.c)
ehal_guest(caps_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/caps_guest.c)
# recurses to the edge of the native stack, then calls deep host code (tests/cli/stack.sh)
ehal_guest(deep_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/deep_guest.c)
# a workload on elastic:sockets, driven by its arguments (tests/cli/sockets.sh)
ehal_guest(net_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/net_guest.c)
# WASI preview 1 as wasi-libc uses it: sleep, poll_oneoff, errnos (tests/cli/wasi.sh)
ehal_guest(wasi_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/wasi_guest.c)
# a workload of a deployment, driven by its arguments (tests/cli/serve.sh)
ehal_guest(deploy_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/deploy_guest.c)
# a workload on elastic:gpu, driven by its arguments (tests/cli/gpu.sh)
set(EHAL_TEST_SHADERS vecadd reduce saxpy scale spin image oob oob_local big_private push_offset
    inline_bomb)
list(TRANSFORM EHAL_TEST_SHADERS PREPEND ${CMAKE_SOURCE_DIR}/tests/guests/shaders/)
list(TRANSFORM EHAL_TEST_SHADERS APPEND .comp)
list(APPEND EHAL_TEST_SHADERS ${CMAKE_SOURCE_DIR}/examples/gpu-matmul/matmul.comp)
ehal_guest(gpu_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/gpu_guest.c SHADERS ${EHAL_TEST_SHADERS})

# unit tests of the runtime's internal pieces
ehal_c_test(test_units SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_units.c)
# a deployment's broker, channel, audit log and manifest, without processes
ehal_c_test(test_deploy SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_deploy.c)
# the canonical ABI through a real guest and the real engine
ehal_c_test(test_abi SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_abi.c GUESTS abi_guest caps_guest)
# how much native stack host paths take; a fault in host code is no guest trap
ehal_c_test(test_stack SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_stack.c GUESTS deep_guest)
# the embedding API: host functions, memory, values, reflection, interrupts
ehal_c_test(test_embed SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_embed.c)
# GPU workloads side by side in one process: isolation, runaway shaders
ehal_c_test(test_gpu SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_gpu.c GUESTS gpu_guest gpu_matmul)
# what a workload's sockets leave in the host process (nothing)
ehal_c_test(test_sockets SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sockets.c GUESTS net_guest)
