# SPDX-License-Identifier: Apache-2.0
# Every build option of splitkey, in one place.

option(SK_BUILD_TESTS    "Build the test suite (ctest)"                         ON)
option(SK_BUILD_TOOLS    "Build the splitkey auditor/developer CLI"              ON)
option(SK_BUILD_SERVICES "Build the service programs (needs nng, SQLite)"        ON)
option(SK_BUILD_BENCH    "Build splitkey-bench"                                  ON)
option(SK_INSTALL_BENCH  "Install splitkey-bench with the programs"              OFF)
option(SK_BUILD_FUZZ     "Build libFuzzer harnesses (clang only)"                OFF)
option(SK_BUILD_EXAMPLES "Build the programs in examples/"                       ON)
option(SK_DEVICE_ONLY    "Build only the device part of the library (no server role, no PKI, no services)" OFF)
option(SK_WERROR         "Treat compiler warnings as errors"                     OFF)
option(SK_CTIME_HOOKS    "Build the valgrind constant-time test"                 ON)
set(SK_SANITIZE "" CACHE STRING
    "Comma-separated sanitizers for every target, e.g. address,undefined (empty: none)")

if(SK_DEVICE_ONLY)
  set(SK_BUILD_SERVICES OFF)
  set(SK_BUILD_BENCH OFF)
  set(SK_BUILD_TOOLS OFF)
endif()
