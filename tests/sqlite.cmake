# tests/sqlite.cmake - real SQLite on the WASI filesystem (included by
# CMakeLists.txt): BUILD/guests/sqlite_guest.wasm and, from the same source
# and with the same SQLite options, the native BUILD/bench/sqlite_native to
# compare it with (tests/guests/sqlite_guest.c says how to drive them).
#
# SQLite is the amalgamation that the npm package better-sqlite3 ships in
# deps/sqlite3/ (pinned in package-lock.json; `npm ci --ignore-scripts`, as
# tools/setup.sh --tests runs it).  Without it both are left out.

set(EHAL_SQLITE_DIR ${CMAKE_SOURCE_DIR}/node_modules/better-sqlite3/deps/sqlite3)
if(NOT EXISTS ${EHAL_SQLITE_DIR}/sqlite3.c OR NOT EXISTS ${EHAL_SQLITE_DIR}/sqlite3.h)
  message(STATUS "sqlite_guest: no SQLite amalgamation in ${EHAL_SQLITE_DIR} "
                 "(npm ci --ignore-scripts): sqlite_guest.wasm and sqlite_native left out")
  # configure again once npm ci has made node_modules/ (it changes this folder)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR})
  return()
endif()
file(STRINGS ${EHAL_SQLITE_DIR}/sqlite3.h EHAL_SQLITE_VERSION REGEX "^#define SQLITE_VERSION ")
string(REGEX REPLACE ".*\"(.*)\".*" "\\1" EHAL_SQLITE_VERSION "${EHAL_SQLITE_VERSION}")
message(STATUS "sqlite_guest: SQLite ${EHAL_SQLITE_VERSION} from ${EHAL_SQLITE_DIR}")

# SQLite's options, the same for both builds.  For __wasi__ the amalgamation
# itself sets SQLITE_THREADSAFE=0 and SQLITE_OMIT_LOAD_EXTENSION (the native
# build says so here) and leaves out mmap and WAL's shared memory.
#  - the "unix-none" VFS: WASI has no file locks.  SQLite's own WASI default,
#    "unix-dotfile", locks with a directory DB.lock that a killed writer
#    leaves behind: every later open is then "database is locked", and the
#    hot journal is never rolled back.  Without locks one process owns the
#    database (as a workload owns its filesystem).
#  - pread/pwrite (fd_pread/fd_pwrite), as SQLite uses them on Linux, in
#    place of lseek+read/write (not detected for __wasi__).
#  - temporary tables, indices and sorts in memory: WASI has no temporary
#    directory to put them in (a large sort or CREATE INDEX fails with
#    "disk I/O error" otherwise).
# Everything else is SQLite's default: rollback journal, journal_mode=DELETE,
# synchronous=FULL, 4 KiB pages.
set(EHAL_SQLITE_DEFS SQLITE_DEFAULT_UNIX_VFS="unix-none" HAVE_PREAD=1 HAVE_PWRITE=1
    SQLITE_TEMP_STORE=2 SQLITE_THREADSAFE=0 SQLITE_OMIT_LOAD_EXTENSION)
set(EHAL_SQLITE_WASM_DEFS ${EHAL_SQLITE_DEFS})
list(TRANSFORM EHAL_SQLITE_WASM_DEFS PREPEND -D)

# the guest: the amalgamation's object once (its WASI stubs leave parameters
# unused), then the driver, which builds without a warning
set(sqlite_obj ${CMAKE_BINARY_DIR}/guests/sqlite3-wasm32.o)
set(sqlite_wasm ${CMAKE_BINARY_DIR}/guests/sqlite_guest.wasm)
add_custom_command(OUTPUT ${sqlite_obj}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/guests
  COMMAND ${WASM_CC} --target=wasm32-wasi -O2 -Wall -Wextra -Wno-unused-parameter
          ${EHAL_SQLITE_WASM_DEFS} -c ${EHAL_SQLITE_DIR}/sqlite3.c -o ${sqlite_obj}
  DEPENDS ${EHAL_SQLITE_DIR}/sqlite3.c ${EHAL_SQLITE_DIR}/sqlite3.h ${CMAKE_CURRENT_LIST_FILE}
  COMMENT "guest: SQLite ${EHAL_SQLITE_VERSION} for wasm32-wasi"
  VERBATIM)
add_custom_command(OUTPUT ${sqlite_wasm}
  COMMAND ${WASM_CC} --target=wasm32-wasi -O2 -Wall -Wextra ${EHAL_SQLITE_WASM_DEFS}
          -I${EHAL_SQLITE_DIR} -Wl,--strip-debug -o ${sqlite_wasm}
          ${CMAKE_SOURCE_DIR}/tests/guests/sqlite_guest.c ${sqlite_obj}
  DEPENDS ${CMAKE_SOURCE_DIR}/tests/guests/sqlite_guest.c ${sqlite_obj}
  COMMENT "guest: sqlite_guest.wasm"
  VERBATIM)
add_custom_target(guest-sqlite_guest ALL DEPENDS ${sqlite_wasm})

# the native program, for comparison (not installed)
add_library(ehal_sqlite_native OBJECT ${EHAL_SQLITE_DIR}/sqlite3.c)
target_compile_definitions(ehal_sqlite_native PUBLIC ${EHAL_SQLITE_DEFS})
target_include_directories(ehal_sqlite_native PUBLIC ${EHAL_SQLITE_DIR})
add_executable(sqlite_native ${CMAKE_SOURCE_DIR}/tests/guests/sqlite_guest.c)
set_target_properties(sqlite_native PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
target_link_libraries(sqlite_native PRIVATE ehal_sqlite_native)
