# SPDX-License-Identifier: Apache-2.0
# Finds mbedTLS 2.28 (Debian 12). Defines MbedTLS::mbedcrypto, MbedTLS::mbedx509.
find_path(MBEDTLS_INCLUDE_DIR mbedtls/version.h)
find_library(MBEDCRYPTO_LIBRARY NAMES mbedcrypto)
find_library(MBEDX509_LIBRARY NAMES mbedx509)
find_library(MBEDTLS_TLS_LIBRARY NAMES mbedtls)
if(MBEDTLS_INCLUDE_DIR AND EXISTS "${MBEDTLS_INCLUDE_DIR}/mbedtls/version.h")
  file(STRINGS "${MBEDTLS_INCLUDE_DIR}/mbedtls/version.h" _sk_mbed_ver
       REGEX "^#define MBEDTLS_VERSION_STRING +\"[0-9.]+\"")
  string(REGEX REPLACE ".*\"([0-9.]+)\".*" "\\1" MBEDTLS_VERSION "${_sk_mbed_ver}")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(MbedTLS
  REQUIRED_VARS MBEDCRYPTO_LIBRARY MBEDX509_LIBRARY MBEDTLS_INCLUDE_DIR
  VERSION_VAR MBEDTLS_VERSION)
if(MbedTLS_FOUND AND MBEDTLS_VERSION VERSION_LESS 2.28 OR MBEDTLS_VERSION VERSION_GREATER_EQUAL 3.0)
  message(FATAL_ERROR "splitkey needs mbedTLS 2.28.x (found ${MBEDTLS_VERSION})")
endif()
if(MbedTLS_FOUND AND NOT TARGET MbedTLS::mbedcrypto)
  add_library(MbedTLS::mbedcrypto UNKNOWN IMPORTED)
  set_target_properties(MbedTLS::mbedcrypto PROPERTIES
    IMPORTED_LOCATION "${MBEDCRYPTO_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${MBEDTLS_INCLUDE_DIR}")
  add_library(MbedTLS::mbedx509 UNKNOWN IMPORTED)
  set_target_properties(MbedTLS::mbedx509 PROPERTIES
    IMPORTED_LOCATION "${MBEDX509_LIBRARY}"
    INTERFACE_LINK_LIBRARIES MbedTLS::mbedcrypto)
endif()
# The TLS library, for the share server's relying-party HTTPS listener only.
if(MbedTLS_FOUND AND MBEDTLS_TLS_LIBRARY AND NOT TARGET MbedTLS::mbedtls)
  add_library(MbedTLS::mbedtls UNKNOWN IMPORTED)
  set_target_properties(MbedTLS::mbedtls PROPERTIES
    IMPORTED_LOCATION "${MBEDTLS_TLS_LIBRARY}"
    INTERFACE_LINK_LIBRARIES MbedTLS::mbedx509)
endif()
mark_as_advanced(MBEDTLS_INCLUDE_DIR MBEDCRYPTO_LIBRARY MBEDX509_LIBRARY MBEDTLS_TLS_LIBRARY)
