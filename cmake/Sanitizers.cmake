# SPDX-License-Identifier: Apache-2.0
# SDC_SANITIZE=address,undefined (or thread) instruments everything we build.
if(SDC_SANITIZE)
  set(_sdc_san -fsanitize=${SDC_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
  add_compile_options(${_sdc_san})
  add_link_options(-fsanitize=${SDC_SANITIZE})
endif()
