# SPDX-License-Identifier: Apache-2.0
# SDC_SANITIZE=address,undefined (or thread) instruments everything we build.
if(SDC_SANITIZE)
  set(_sdc_san -fsanitize=${SDC_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
  add_compile_options(${_sdc_san})
  add_link_options(-fsanitize=${SDC_SANITIZE})
endif()
# Fuzzer builds: coverage feedback from every library a fuzz target calls,
# not only from the target's own file.
if(SDC_BUILD_FUZZERS)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
