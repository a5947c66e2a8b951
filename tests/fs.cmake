# tests/fs.cmake - the sealed filesystem (included by CMakeLists.txt).

# the engine on a real store: files against a model, directories, space,
# tampering, two writers
ehal_c_test(test_sealfs SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sealfs.c)

# an unmodified POSIX program on sealed directories (tests/cli/filesystem.sh)
ehal_guest(fs_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/fs_guest.c)
