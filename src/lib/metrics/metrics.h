/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the metrics module: the registry (registry.c) and
 * its Prometheus text exposition (expo_prom.c). */
#ifndef SDC_METRICS_INT_H
#define SDC_METRICS_INT_H

#include <sdconnect/metrics.h>

#include <pthread.h>
#include <stdint.h>

/* A label value, stored once per registry however many series use it
 * (an endpoint's name is in a dozen families). */
struct label_value {
  struct label_value *next; /* in its hash bucket */
  size_t refs, len;
  uint64_t hash;
  char s[];
};

struct series {
  double value;     /* counter, gauge */
  uint64_t *counts; /* histogram: per bucket (not cumulative), then +Inf */
  double sum;
  uint64_t count;
  struct label_value *v[]; /* one per label of the family */
};

struct sdc_metric {
  struct sdc_metrics *m;
  char *name, *help;
  sdc_metric_type type;
  char **labels;
  size_t n_labels;
  double *buckets;
  size_t n_buckets;
  struct series **s; /* sorted by key */
  size_t n, cap;
};

struct sdc_metrics {
  pthread_mutex_t lock;
  struct sdc_metric **f; /* in the order declared */
  size_t n;
  struct label_value **values; /* hash table of label values */
  size_t n_values, n_buckets;
};

/* `v` as the exposition writes it ("1", "0.25", "NaN", "+Inf"). */
void sdc__metric_number(double v, char *buf, size_t cap);

#endif
