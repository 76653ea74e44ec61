# SPDX-License-Identifier: Apache-2.0
# Finds protobuf-c 1.4 and protoc-c. Defines ProtobufC::protobuf-c and
# sk_protobuf_c_generate(OUT_SRCS OUT_HDRS PROTO...) which runs protoc-c at build time.
find_path(PROTOBUFC_INCLUDE_DIR protobuf-c/protobuf-c.h)
find_library(PROTOBUFC_LIBRARY NAMES protobuf-c)
find_program(PROTOC_C_EXECUTABLE NAMES protoc-c protoc-gen-c)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ProtobufC
  REQUIRED_VARS PROTOBUFC_LIBRARY PROTOBUFC_INCLUDE_DIR PROTOC_C_EXECUTABLE)
if(ProtobufC_FOUND AND NOT TARGET ProtobufC::protobuf-c)
  add_library(ProtobufC::protobuf-c UNKNOWN IMPORTED)
  set_target_properties(ProtobufC::protobuf-c PROPERTIES
    IMPORTED_LOCATION "${PROTOBUFC_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${PROTOBUFC_INCLUDE_DIR}")
endif()

function(sk_protobuf_c_generate out_srcs out_hdrs)
  set(srcs)
  set(hdrs)
  foreach(proto ${ARGN})
    get_filename_component(abs "${proto}" ABSOLUTE)
    get_filename_component(dir "${abs}" DIRECTORY)
    get_filename_component(name "${abs}" NAME_WE)
    set(c "${CMAKE_CURRENT_BINARY_DIR}/${name}.pb-c.c")
    set(h "${CMAKE_CURRENT_BINARY_DIR}/${name}.pb-c.h")
    add_custom_command(OUTPUT "${c}" "${h}"
      COMMAND "${PROTOC_C_EXECUTABLE}" "--c_out=${CMAKE_CURRENT_BINARY_DIR}" "-I${dir}" "${abs}"
      DEPENDS "${abs}"
      COMMENT "protoc-c ${name}.proto"
      VERBATIM)
    list(APPEND srcs "${c}")
    list(APPEND hdrs "${h}")
  endforeach()
  set(${out_srcs} ${srcs} PARENT_SCOPE)
  set(${out_hdrs} ${hdrs} PARENT_SCOPE)
endfunction()
mark_as_advanced(PROTOBUFC_INCLUDE_DIR PROTOBUFC_LIBRARY PROTOC_C_EXECUTABLE)
