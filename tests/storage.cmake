# tests/storage.cmake - object storage tests (included by CMakeLists.txt).

ehal_guest(storage_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/storage_guest.c)

# the interface through a guest, the disk, tampering, key contexts, usage
ehal_c_test(test_storage SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_storage.c
  GUESTS storage_guest)
# writers killed at random points (runs the CLI, so it needs it built)
ehal_c_test(test_storage_crash SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_storage_crash.c
  GUESTS storage_guest)
add_dependencies(test_storage_crash elastic-hal-cli)
