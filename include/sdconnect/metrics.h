/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics in memory and their Prometheus text exposition (format 0.0.4):
 * counters, gauges and histograms, each a family with fixed label names
 * and one series per set of label values. Depends on nothing else in
 * sdconnect; the probe engine and the daemon push into it.
 *
 * Threads: every function is thread-safe (one mutex per registry).
 * Blocking: nothing waits but for that mutex; rendering holds it while it
 * formats every series.
 */
#ifndef SDCONNECT_METRICS_H
#define SDCONNECT_METRICS_H

#include <sdconnect/common.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sdc_metrics sdc_metrics;
typedef struct sdc_metric sdc_metric;

typedef enum sdc_metric_type {
  SDC_METRIC_COUNTER = 0,
  SDC_METRIC_GAUGE = 1,
  SDC_METRIC_HISTOGRAM = 2
} sdc_metric_type;

/*! \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_metrics_new(sdc_metrics **out);
SDC_EXTERN void sdc_metrics_free(sdc_metrics *m); /* NULL ok */

/*! Declare a family. `name` as Prometheus allows ([a-zA-Z_:][a-zA-Z0-9_:]*;
 *  a counter's should end in _total), `labels` its label names
 *  ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __, not "le" on a
 *  histogram). A histogram needs `buckets`: strictly increasing finite
 *  upper bounds (+Inf is added). Declaring a family again with the same
 *  type and labels hands back the same one.
 *  \param[out] out  Borrowed; lives as long as the registry.
 *  \return SDC_OK, SDC_EINVAL (a name, label or bucket list that is not
 *  allowed, or a name declared before differently), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_metrics_family(sdc_metrics *m, const char *name,
                                         const char *help, sdc_metric_type type,
                                         const char *const *labels,
                                         size_t n_labels,
                                         const double *buckets,
                                         size_t n_buckets, sdc_metric **out);

/*! The series with these label values (as many as the family's labels;
 *  any UTF-8 text) is made on first use. Counters only go up: a negative
 *  add is SDC_EINVAL. Gauges take set and add; histograms observe. The
 *  same contract for the three.
 *  \return SDC_OK, SDC_EINVAL (wrong kind of update, a label value
 *  missing), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_metric_add(sdc_metric *f, const char *const *values,
                                     double v);
SDC_EXTERN sdc_status sdc_metric_set(sdc_metric *f, const char *const *values,
                                     double v);
SDC_EXTERN sdc_status sdc_metric_observe(sdc_metric *f,
                                         const char *const *values, double v);
/*! Drop one series (an endpoint that is gone).
 *  \return SDC_OK, SDC_ENOTFOUND (no such series) or SDC_EINVAL (no
 *  family, or a label value missing). */
SDC_EXTERN sdc_status sdc_metric_remove(sdc_metric *f,
                                        const char *const *values);
/*! The current value of a counter or gauge series.
 *  \return SDC_OK, SDC_ENOTFOUND (no such series) or SDC_EINVAL (a
 *  histogram, no family or out). */
SDC_EXTERN sdc_status sdc_metric_get(sdc_metric *f, const char *const *values,
                                     double *out);

/*! Every family in the order declared, its series sorted by label values,
 *  as Prometheus text; malloc'd (sdc_free), NULL when out of memory. */
SDC_EXTERN char *sdc_metrics_render(sdc_metrics *m, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_METRICS_H */
