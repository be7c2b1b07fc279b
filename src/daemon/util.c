/* SPDX-License-Identifier: Apache-2.0 */
/* Small things every part of the daemon uses: logging, the clock, files. */
#include "daemon.h"
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


void daemon_log(int level, const char *fmt, ...)
{
  char fields[2048];
  va_list ap;

  if(!svc_log_enabled((enum svc_log_level)level))
    return;
  va_start(ap, fmt);
  vsnprintf(fields, sizeof(fields), fmt, ap);
  va_end(ap);
  svc_log_write((enum svc_log_level)level, "daemon", fields);
}

void daemon_set_log_level(const char *name)
{
  enum svc_log_level l = SVC_LOG_INFO;

  svc_log_parse_level(name, &l); /* the configuration was checked: info otherwise */
  svc_log_set_level(l);
  sdc_set_log_level((sdc_log_level)l); /* the library formats nothing it would drop */
}

/* The library's lines, in the daemon's log under their own component. */
static void library_line(sdc_log_level level, const char *comp, const char *msg, void *ud)
{
  char fields[1100];

  (void)ud;
  snprintf(fields, sizeof(fields), "msg=%s", svc_log_q(msg));
  svc_log_write(level > SDC_LOG_DEBUG ? SVC_LOG_DEBUG : (enum svc_log_level)level, comp,
                fields);
}

void daemon_log_library(void) { sdc_set_log_handler(library_line, NULL); }

uint64_t daemon_now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t daemon_fnv(uint64_t h, const char *s)
{
  for(s = s ? s : "\x01"; *s; s++) /* NULL and "" differ */
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (h ^ 0xff) * 1099511628211ULL; /* a separator */
}

double daemon_now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *daemon_read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  size_t n;

  if(!f)
    return NULL;
  buf = malloc(1 << 20);
  n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if(buf)
    buf[n] = '\0';
  return buf;
}

bool daemon_same_str(const char *a, const char *b)
{
  return a == b || (a && b && !strcmp(a, b));
}

void daemon_free_secret(char *s)
{
  if(s) {
    memset(s, 0, strlen(s));
    free(s);
  }
}
