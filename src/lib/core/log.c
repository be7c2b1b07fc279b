/* SPDX-License-Identifier: Apache-2.0 */
/* The library's only way to speak: a handler the embedder installs. */
#include "core.h"

#include <stdio.h>
#include <time.h>

static sdc_log_fn log_fn;
static void *log_userdata;
static sdc_log_level log_level = SDC_LOG_INFO;

void sdc_set_log_handler(sdc_log_fn fn, void *userdata)
{
  log_fn = fn;
  log_userdata = userdata;
}

void sdc_set_log_level(sdc_log_level level) { log_level = level; }

void sdc__log(sdc_log_level level, const char *comp, const char *fmt, ...)
{
  char line[1024];
  va_list ap;

  if(!log_fn || level > log_level)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  log_fn(level, comp, line, log_userdata);
}

uint64_t sdc__now_us(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t sdc__now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
