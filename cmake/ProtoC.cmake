# SPDX-License-Identifier: Apache-2.0
# Runs protoc-c over proto/ (and the two well-known types we import) into
# ${CMAKE_BINARY_DIR}/gen and builds the private static library sdc_proto.
find_program(PROTOC_C NAMES protoc-c REQUIRED)
set(SDC_PROTO_GEN ${CMAKE_BINARY_DIR}/gen)
set(_wkt_dir /usr/include)
set(_protos
  google/cloud/servicedirectory/v1/endpoint
  google/cloud/servicedirectory/v1/namespace
  google/cloud/servicedirectory/v1/service
  google/cloud/servicedirectory/v1/lookup_service
  google/cloud/servicedirectory/v1/registration_service
  google/iam/v1/iam_policy
  google/iam/v1/policy
  google/type/expr)
set(_wkts google/protobuf/empty google/protobuf/field_mask)
set(_srcs)
set(_inputs)
foreach(p IN LISTS _protos)
  list(APPEND _inputs ${CMAKE_SOURCE_DIR}/proto/${p}.proto)
endforeach()
foreach(p IN LISTS _protos _wkts)
  list(APPEND _srcs ${SDC_PROTO_GEN}/${p}.pb-c.c)
endforeach()
add_custom_command(
  OUTPUT ${_srcs}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SDC_PROTO_GEN}
  COMMAND ${PROTOC_C} -I${CMAKE_SOURCE_DIR}/proto -I${_wkt_dir}
          --c_out=${SDC_PROTO_GEN} ${_inputs}
          ${_wkt_dir}/google/protobuf/empty.proto
          ${_wkt_dir}/google/protobuf/field_mask.proto
  DEPENDS ${_inputs}
  COMMENT "protoc-c: Service Directory v1"
  VERBATIM)
add_library(sdc_proto STATIC ${_srcs})
target_include_directories(sdc_proto PUBLIC ${SDC_PROTO_GEN})
target_link_libraries(sdc_proto PUBLIC PkgConfig::PROTOBUFC)
target_compile_options(sdc_proto PRIVATE -w)
