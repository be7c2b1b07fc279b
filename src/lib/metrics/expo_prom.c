/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Prometheus text exposition format (0.0.4): # HELP and # TYPE per
 * family, one line per series, histograms as cumulative _bucket lines
 * with le="..." and +Inf, then _sum and _count. Label values escape \,
 * " and newline; HELP escapes \ and newline. Numbers are written so that
 * they read back exactly: integers without exponent, others with the
 * fewest digits that round-trip, NaN and +Inf/-Inf by name.
 */
#include "metrics/metrics.h"

#include "core/core.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
  char *buf;
  size_t len, cap;
  bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
  char *g;

  if(o->oom)
    return;
  if(o->len + n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap : 4096;
    while(cap < o->len + n + 1)
      cap *= 2;
    if(!(g = sdc__realloc(o->buf, cap))) {
      o->oom = true;
      return;
    }
    o->buf = g;
    o->cap = cap;
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
  o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

/* Escape \ and newline, and " too inside label values. */
static void put_escaped(struct out *o, const char *s, size_t n, bool quote)
{
  size_t from = 0;

  for(size_t i = 0; i < n; i++) {
    const char *rep = s[i] == '\\' ? "\\\\" : s[i] == '\n' ? "\\n"
                      : quote && s[i] == '"' ? "\\\"" : NULL;
    if(!rep)
      continue;
    put(o, s + from, i - from);
    puts_(o, rep);
    from = i + 1;
  }
  put(o, s + from, n - from);
}

void sdc__metric_number(double v, char *buf, size_t cap)
{
  if(isnan(v)) {
    snprintf(buf, cap, "NaN");
  } else if(isinf(v)) {
    snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
  } else if(v == floor(v) && fabs(v) < 1e15) {
    snprintf(buf, cap, "%.0f", v);
  } else {
    for(int prec = 15; prec <= 17; prec++) { /* the shortest that reads back */
      snprintf(buf, cap, "%.*g", prec, v);
      if(strtod(buf, NULL) == v)
        break;
    }
  }
}

static void put_number(struct out *o, double v)
{
  char num[40];

  sdc__metric_number(v, num, sizeof(num));
  puts_(o, num);
}

/* {a="x",b="y"[,le="..."]} from the series' values, or nothing. */
static void put_labels(struct out *o, const struct sdc_metric *f,
                       const struct series *s, const char *le)
{
  if(!f->n_labels && !le)
    return;
  puts_(o, "{");
  for(size_t i = 0; i < f->n_labels; i++) {
    if(i)
      puts_(o, ",");
    puts_(o, f->labels[i]);
    puts_(o, "=\"");
    put_escaped(o, s->v[i]->s, s->v[i]->len, true);
    puts_(o, "\"");
  }
  if(le) {
    puts_(o, f->n_labels ? ",le=\"" : "le=\"");
    puts_(o, le);
    puts_(o, "\"");
  }
  puts_(o, "}");
}

static void put_histogram(struct out *o, const struct sdc_metric *f,
                          const struct series *s)
{
  uint64_t cum = 0;
  char le[40];

  for(size_t b = 0; b <= f->n_buckets; b++) {
    cum += s->counts[b];
    if(b < f->n_buckets)
      sdc__metric_number(f->buckets[b], le, sizeof(le));
    else
      snprintf(le, sizeof(le), "+Inf");
    puts_(o, f->name);
    puts_(o, "_bucket");
    put_labels(o, f, s, le);
    puts_(o, " ");
    put_number(o, (double)cum);
    puts_(o, "\n");
  }
  puts_(o, f->name);
  puts_(o, "_sum");
  put_labels(o, f, s, NULL);
  puts_(o, " ");
  put_number(o, s->sum);
  puts_(o, "\n");
  puts_(o, f->name);
  puts_(o, "_count");
  put_labels(o, f, s, NULL);
  puts_(o, " ");
  put_number(o, (double)s->count);
  puts_(o, "\n");
}

char *sdc_metrics_render(sdc_metrics *m, size_t *len)
{
  static const char *const types[] = {"counter", "gauge", "histogram"};
  struct out o = {0};

  if(!m)
    return NULL;
  pthread_mutex_lock(&m->lock);
  puts_(&o, ""); /* an empty registry renders as "" */
  for(size_t i = 0; i < m->n; i++) {
    const struct sdc_metric *f = m->f[i];
    puts_(&o, "# HELP ");
    puts_(&o, f->name);
    puts_(&o, " ");
    put_escaped(&o, f->help, strlen(f->help), false);
    puts_(&o, "\n# TYPE ");
    puts_(&o, f->name);
    puts_(&o, " ");
    puts_(&o, types[f->type]);
    puts_(&o, "\n");
    for(size_t k = 0; k < f->n; k++) {
      if(f->type == SDC_METRIC_HISTOGRAM) {
        put_histogram(&o, f, f->s[k]);
        continue;
      }
      puts_(&o, f->name);
      put_labels(&o, f, f->s[k], NULL);
      puts_(&o, " ");
      put_number(&o, f->s[k]->value);
      puts_(&o, "\n");
    }
  }
  pthread_mutex_unlock(&m->lock);
  if(o.oom) {
    sdc_free(o.buf);
    return NULL;
  }
  if(len)
    *len = o.len;
  return o.buf;
}
