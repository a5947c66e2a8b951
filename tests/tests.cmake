# tests/tests.cmake - the C test programs and the guests they drive
# (included by CMakeLists.txt).  tests/run.sh runs every BUILD/tests/test_*.

set(EHAL_TEST_OUT ${CMAKE_BINARY_DIR}/tests)

# ehal_c_test(NAME SOURCES file.c... [GUESTS guest...]): a TAP program in
# BUILD/tests linked against the static library.  It exports its symbols
# because compiled guest artifacts resolve wasm_rt_* from the executable.
function(ehal_c_test name)
  cmake_parse_arguments(T "" "" "SOURCES;GUESTS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  set_target_properties(${name} PROPERTIES ENABLE_EXPORTS ON
    RUNTIME_OUTPUT_DIRECTORY ${EHAL_TEST_OUT})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
  target_compile_definitions(${name} PRIVATE
    EHAL_TEST_GUESTS="${CMAKE_BINARY_DIR}/guests")
  target_link_libraries(${name} PRIVATE elastic-hal-static)
  foreach(g ${T_GUESTS})
    add_dependencies(${name} guest-${g})
  endforeach()
endfunction()

# guests (wasm32-wasi, with the generated bindings)
ehal_guest(abi_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/abi_guest.c)
ehal_guest(caps_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/caps_guest.c)

# unit tests of the runtime's internal pieces
ehal_c_test(test_units SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_units.c)
# the canonical ABI through a real guest and the real engine
ehal_c_test(test_abi SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_abi.c GUESTS abi_guest caps_guest)
