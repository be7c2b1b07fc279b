/* SPDX-License-Identifier: Apache-2.0 */
/* The library's strict reading of the numbers it meets in text (a URL's
 * port): digits only, in range, nothing after; never atoi. */
#include "core.h"

bool sdc__parse_port(const char *s, size_t len, int *port)
{
  int v = 0;

  if(!len || len > 5)
    return false;
  for(size_t i = 0; i < len; i++) {
    if(s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  if(v < 1 || v > 65535)
    return false;
  *port = v;
  return true;
}
