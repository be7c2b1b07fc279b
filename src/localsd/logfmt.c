/* SPDX-License-Identifier: Apache-2.0 */
/* logfmt writer: one event per line, written with one stdio call so lines
 * from several threads never interleave. */
#include "logfmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum lf_level level = LF_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void lf_set_level(enum lf_level l) { level = l; }
int lf_enabled(enum lf_level l) { return l <= level; }

int lf_parse_level(const char *s, enum lf_level *out)
{
  for(int i = 0; i < 4; i++)
    if(!strcmp(s, names[i])) {
      *out = (enum lf_level)i;
      return 1;
    }
  return 0;
}

const char *lf_q(const char *s)
{
  static _Thread_local char ring[8][512];
  static _Thread_local unsigned next;
  char *out = ring[next++ % 8];
  size_t o = 0;
  int quote = !*s;

  for(const char *p = s; *p; p++)
    if(*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
       (unsigned char)*p < 0x20)
      quote = 1;
  if(!quote) {
    snprintf(out, 512, "%s", s);
    return out;
  }
  out[o++] = '"';
  for(const char *p = s; *p && o < 508; p++) {
    if(*p == '"' || *p == '\\')
      out[o++] = '\\';
    out[o++] = (unsigned char)*p < 0x20 ? ' ' : *p;
  }
  out[o++] = '"';
  out[o] = '\0';
  return out;
}

void lf_log(enum lf_level l, const char *msg, const char *kv, ...)
{
  char line[2048], ts[32];
  struct timespec now;
  struct tm tm;
  int n;
  va_list ap;

  if(l > level)
    return;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
  n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s comp=localsd msg=%s",
               ts, now.tv_nsec / 1000000L, names[l], lf_q(msg));
  if(n < 0 || (size_t)n >= sizeof(line))
    n = (int)sizeof(line) - 2;
  if(kv && *kv && (size_t)n < sizeof(line) - 2) {
    line[n++] = ' ';
    va_start(ap, kv);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, kv, ap);
    va_end(ap);
    if(m > 0)
      n += m;
    if((size_t)n > sizeof(line) - 2)
      n = (int)sizeof(line) - 2;
  }
  line[n++] = '\n';
  line[n] = '\0';
  fputs(line, stderr);
}
