# tests/verify.cmake - the evidence verifier's tests (included by
# CMakeLists.txt).  test_verify reads the real artefacts in place from
# ../shared/testdata (relative to the project root) and never writes them.
ehal_c_test(test_verify SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_verify.c)
target_include_directories(test_verify PRIVATE ${CMAKE_SOURCE_DIR}/src/verify)
