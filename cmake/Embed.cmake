# SPDX-License-Identifier: Apache-2.0
# Run with cmake -P: turn the file IN into a C source OUT defining
#   const unsigned char NAME[]; (the bytes, NUL-terminated)
#   const size_t NAME_len;    (without the NUL)
# so that pages and the like stay real files in the tree.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n"
       bytes "${bytes}")
file(WRITE "${OUT}" "/* Generated from ${NAME_OF_IN} by cmake/Embed.cmake: do not edit. */\n"
     "#include <stddef.h>\n"
     "const unsigned char ${NAME}[] = {\n${bytes}0x00};\n"
     "const size_t ${NAME}_len = ${len};\n")
