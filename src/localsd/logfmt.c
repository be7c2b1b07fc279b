/* SPDX-License-Identifier: Apache-2.0 */
/* The local directory's log: its events, written by the programs' log
 * (src/svc/log.c: logfmt or JSON, one line per event). */
#include "logfmt.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void lf_set_level(enum lf_level l) { svc_log_set_level((enum svc_log_level)l); }
int lf_enabled(enum lf_level l) { return svc_log_enabled((enum svc_log_level)l); }

int lf_parse_level(const char *s, enum lf_level *out)
{
  enum svc_log_level l;

  if(!svc_log_parse_level(s, &l))
    return 0;
  *out = (enum lf_level)l;
  return 1;
}

const char *lf_q(const char *s) { return svc_log_q(s); }

void lf_log(enum lf_level l, const char *msg, const char *kv, ...)
{
  char fields[2048];
  int n;
  va_list ap;

  if(!lf_enabled(l))
    return;
  n = snprintf(fields, sizeof(fields), "msg=%s", svc_log_q(msg));
  if(kv && *kv && n > 0 && (size_t)n < sizeof(fields) - 2) {
    fields[n++] = ' ';
    va_start(ap, kv);
    vsnprintf(fields + n, sizeof(fields) - (size_t)n, kv, ap);
    va_end(ap);
  }
  svc_log_write((enum svc_log_level)l, "localsd", fields);
}
