/* SPDX-License-Identifier: Apache-2.0 */
#include "core/base64.h"

static int value_of(char ch, bool url_only)
{
  if(ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if(ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if(ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if(ch == '-' || (ch == '+' && !url_only))
    return 62;
  if(ch == '_' || (ch == '/' && !url_only))
    return 63;
  return -1;
}

size_t sdc__base64_decode(const char *in, size_t len, bool url_only,
                          unsigned char *out, size_t *bad)
{
  size_t n = 0;
  unsigned acc = 0, bits = 0;

  for(size_t i = 0; i < len; i++) {
    int v = value_of(in[i], url_only);
    if(v < 0) {
      *bad = i;
      return (size_t)-1;
    }
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if(bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  return n;
}
