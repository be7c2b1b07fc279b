# SPDX-License-Identifier: Apache-2.0
# sdc_target_warnings(TARGET): our warning set on our own code. Generated
# protobuf-c code is built with relaxed warnings (see ProtoC.cmake).
function(sdc_target_warnings target)
  set(flags -Wall -Wextra)
  if(SDC_PICKY_WARNINGS)
    list(APPEND flags -Wpedantic -Wshadow -Wstrict-prototypes
         -Wmissing-prototypes -Wformat=2 -Wvla -Wpointer-arith
         -Wconversion -Wsign-conversion)
    if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
      list(APPEND flags -Wjump-misses-init)
    endif()
  endif()
  if(SDC_WERROR)
    list(APPEND flags -Werror)
  endif()
  target_compile_options(${target} PRIVATE ${flags})
endfunction()
