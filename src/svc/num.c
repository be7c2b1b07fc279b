/* SPDX-License-Identifier: Apache-2.0 */
#include "num.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool svc_parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                    unsigned long long *out)
{
  char *end;
  unsigned long long v;

  if(!s || *s < '0' || *s > '9') /* strtoull would take spaces, + and - */
    return false;
  errno = 0;
  v = strtoull(s, &end, 10);
  if(errno || *end || v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

bool svc_parse_port(const char *s, int *port)
{
  unsigned long long v;

  if(!svc_parse_uint(s, 1, 65535, &v))
    return false;
  *port = (int)v;
  return true;
}

bool svc_parse_duration_ms(const char *s, uint64_t *ms)
{
  char *end;
  double v;

  if(!s || *s < '0' || *s > '9') /* strtod would take spaces, signs, "inf" and hex */
    return false;
  errno = 0;
  v = strtod(s, &end);
  if(errno || end == s || v < 0)
    return false;
  if(!*end || !strcmp(end, "ms"))
    ;
  else if(!strcmp(end, "s"))
    v *= 1000;
  else if(!strcmp(end, "m"))
    v *= 60000;
  else
    return false;
  if(v < 1 || v > 600000)
    return false;
  *ms = (uint64_t)v;
  return true;
}
