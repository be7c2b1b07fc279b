/* SPDX-License-Identifier: Apache-2.0 */
/* Small things every part of the daemon uses: logging, the clock, files. */
#include "daemon.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_level = 2; /* error 0, warn 1, info 2, debug 3 */

void daemon_log(int level, const char *fmt, ...)
{
  static const char *const names[] = {"error", "warn", "info", "debug"};
  va_list ap;

  if(level > log_level)
    return;
  fprintf(stderr, "level=%s comp=daemon ", names[level]);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void daemon_set_log_level(const char *name)
{
  log_level = !strcmp(name, "error") ? 0 : !strcmp(name, "warn") ? 1
              : !strcmp(name, "debug")                         ? 3
                                                               : 2;
}

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
