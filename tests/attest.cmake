# tests/attest.cmake - attestation: evidence providers (with a model of the
# configfs-tsm kernel ABI), the binding, the envelope, the simulated chain,
# and a guest calling platform.attestation through the generated bindings.

ehal_guest(attest_guest SOURCES ${CMAKE_SOURCE_DIR}/tests/guests/attest_guest.c)
ehal_c_test(test_attest SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_attest.c GUESTS attest_guest)
