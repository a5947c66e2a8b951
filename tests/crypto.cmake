# tests/crypto.cmake - tests of elastic:crypto (included by CMakeLists.txt).
#
#   test_crypto_vectors  the primitives (src/crypto/) called natively against
#                        the Wycheproof and BLAKE3 vectors in ../shared/testdata
#   test_crypto          the interface through a real guest (tests/guests/
#                        crypto_guest.c, generated bindings) and the real engine

ehal_c_test(test_crypto_vectors SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_crypto_vectors.c)

ehal_guest(crypto_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/crypto_guest.c)
ehal_c_test(test_crypto SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_crypto.c GUESTS crypto_guest)
