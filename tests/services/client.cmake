# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of splitkey-client and splitkey-rp against the real
# splitkey-server on loopback (label services).  Each script makes its own
# temporary directory and starts its own server on a port the kernel picks.
# Included from tests/services/CMakeLists.txt.

if(NOT TARGET splitkey-client OR NOT TARGET splitkey-rp)
  return()
endif()

# rp.h against the library's server role in one process
if(TARGET sk_test_world)
  sk_add_test(rp_wire_test SOURCES rp_wire_test.c LABELS services LIBS sk_test_world)
  target_include_directories(rp_wire_test PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/../protocol")
endif()

find_program(SK_BASH bash)
find_program(SK_OPENSSL openssl)
if(NOT SK_BASH OR NOT SK_OPENSSL)
  message(STATUS "bash or openssl missing: the client end-to-end tests are skipped")
  return()
endif()

set(_sk_bin "$<TARGET_FILE_DIR:splitkey-client>")
foreach(name e2e_enrol_sign e2e_rp e2e_rp_cancel e2e_longpoll e2e_lockout_clone e2e_usage
             e2e_levels)
  sk_store_test(NAME ${name} LABELS services TIMEOUT 300
                COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/${name}.sh" "${_sk_bin}")
endforeach()

# an organisation's seal key (purpose seal): tokens, enrolment with a PIN
# file, seals verified by openssl, a relying party by organizationIdentifier
sk_store_test(NAME e2e_seal LABELS services TIMEOUT 300
              COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/e2e_seal.sh" "${_sk_bin}")

# examples/seal.sh: the seal with a CA, the certificate chain checked by
# openssl verify and certtool --verify
if(TARGET splitkey-ca)
  sk_store_test(NAME example_seal LABELS services pki TIMEOUT 300
                COMMAND "${SK_BASH}" "${PROJECT_SOURCE_DIR}/examples/seal.sh" "${_sk_bin}")
  # a revocation made at the CA seen by the real device: splitkey-client
  # sign and approve exit 5 once the share server's poll applied it
  sk_store_test(NAME e2e_ca_revoke_client LABELS services pki
                COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/e2e_ca_revoke_client.sh"
                        "${_sk_bin}")
  # splitkey-rp --ca-cert: chain, person, level, OCSP good / revoked / down
  if(TARGET splitkey-ocsp)
    add_test(NAME rp_validate
             COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/rp_validate.sh" "${_sk_bin}")
    set_tests_properties(rp_validate PROPERTIES LABELS "services;pki" TIMEOUT 600)
    # the bank site of splitkey-rp serve in headless Chromium (chromedriver's
    # WebDriver API from python3's standard library)
    find_program(SK_CHROMEDRIVER chromedriver)
    find_program(SK_CHROMIUM NAMES chromium chromium-browser)
    find_program(SK_CURL curl)
    if(SK_CHROMEDRIVER AND SK_CHROMIUM AND SK_CURL)
      add_test(NAME rp_web_browser
               COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/rp_web_browser.sh" "${_sk_bin}"
                       "${SK_CHROMEDRIVER}" "${SK_CHROMIUM}")
      set_tests_properties(rp_web_browser PROPERTIES LABELS browser TIMEOUT 600)
    else()
      message(STATUS "chromium, chromedriver or curl missing: rp_web_browser is skipped")
    endif()
  endif()
endif()

# a proxy that loses replies (Python) for the lost-reply test
find_program(SK_PYTHON3 python3)
if(SK_PYTHON3)
  sk_store_test(NAME e2e_state_lock LABELS services attack TIMEOUT 300
                COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/e2e_state_lock.sh" "${_sk_bin}")
  sk_store_test(NAME e2e_lost_reply LABELS services TIMEOUT 300
                COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/e2e_lost_reply.sh" "${_sk_bin}")
  # the client and the server killed between every two steps of enrolment
  # and signing (the relay of tests/attack holds requests and replies back)
  find_program(SK_SQLITE3_KILL sqlite3)
  if(SK_SQLITE3_KILL)
    sk_store_test(NAME e2e_kill_steps LABELS services TIMEOUT 900
                  COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/e2e_kill_steps.sh"
                          $<TARGET_FILE:splitkey-server> $<TARGET_FILE:splitkey-client>
                          "${SK_PYTHON3}" "${SK_SQLITE3_KILL}" "${SK_OPENSSL}"
                          "${CMAKE_CURRENT_SOURCE_DIR}/../attack/mitm_proxy.py"
                          $<TARGET_FILE:splitkey-rp>)
  endif()
endif()

# one version, printed by every program's --version
add_test(NAME versions
         COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/versions.sh" "${_sk_bin}"
                 "${PROJECT_VERSION}")
set_tests_properties(versions PROPERTIES LABELS services)

if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/contract.sh")
  sk_store_test(NAME contract LABELS services TIMEOUT 300
                COMMAND "${SK_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/contract.sh" "${_sk_bin}")
endif()
