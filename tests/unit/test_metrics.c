/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics module: families, series, and the exact Prometheus text. */
#include "suites.h"

#include "metrics/metrics.h"

#include <sdconnect/sdconnect.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(counters_gauges_and_histograms_render_exactly)
{
  sdc_metrics *m = NULL;
  sdc_metric *ok = NULL, *up = NULL, *lat = NULL, *plain = NULL;
  const char *labels[] = {"check", "endpoint"};
  const double buckets[] = {0.005, 0.1, 1};
  char *text;

  ck_assert_int_eq(sdc_metrics_new(&m), SDC_OK);
  ck_assert_int_eq(sdc_metrics_family(m, "sdconnect_probes_total", "Probes run.",
                                      SDC_METRIC_COUNTER, labels, 2, NULL, 0, &ok), SDC_OK);
  ck_assert_int_eq(sdc_metrics_family(m, "probe_success", "1 when the probe passed.",
                                      SDC_METRIC_GAUGE, labels, 2, NULL, 0, &up), SDC_OK);
  ck_assert_int_eq(sdc_metrics_family(m, "probe_duration_seconds", "Probe time.",
                                      SDC_METRIC_HISTOGRAM, labels, 1, buckets, 3, &lat),
                   SDC_OK);
  ck_assert_int_eq(sdc_metrics_family(m, "sdconnect_up", "Line one\nback\\slash.",
                                      SDC_METRIC_GAUGE, NULL, 0, NULL, 0, &plain), SDC_OK);
  ck_assert_int_eq(sdc_metric_add(ok, (const char *[]){"web", "b"}, 1), SDC_OK);
  ck_assert_int_eq(sdc_metric_add(ok, (const char *[]){"web", "a"}, 2), SDC_OK);
  ck_assert_int_eq(sdc_metric_add(ok, (const char *[]){"web", "a"}, 3), SDC_OK);
  ck_assert_int_eq(sdc_metric_set(up, (const char *[]){"we\"b", "x\ny\\z"}, 0), SDC_OK);
  ck_assert_int_eq(sdc_metric_observe(lat, (const char *[]){"web"}, 0.003), SDC_OK);
  ck_assert_int_eq(sdc_metric_observe(lat, (const char *[]){"web"}, 0.5), SDC_OK);
  ck_assert_int_eq(sdc_metric_observe(lat, (const char *[]){"web"}, 7), SDC_OK);
  ck_assert_int_eq(sdc_metric_set(plain, NULL, 0.1), SDC_OK);
  text = sdc_metrics_render(m, NULL);
  ck_assert_str_eq(text,
                   "# HELP sdconnect_probes_total Probes run.\n"
                   "# TYPE sdconnect_probes_total counter\n"
                   "sdconnect_probes_total{check=\"web\",endpoint=\"a\"} 5\n"
                   "sdconnect_probes_total{check=\"web\",endpoint=\"b\"} 1\n"
                   "# HELP probe_success 1 when the probe passed.\n"
                   "# TYPE probe_success gauge\n"
                   "probe_success{check=\"we\\\"b\",endpoint=\"x\\ny\\\\z\"} 0\n"
                   "# HELP probe_duration_seconds Probe time.\n"
                   "# TYPE probe_duration_seconds histogram\n"
                   "probe_duration_seconds_bucket{check=\"web\",le=\"0.005\"} 1\n"
                   "probe_duration_seconds_bucket{check=\"web\",le=\"0.1\"} 1\n"
                   "probe_duration_seconds_bucket{check=\"web\",le=\"1\"} 2\n"
                   "probe_duration_seconds_bucket{check=\"web\",le=\"+Inf\"} 3\n"
                   "probe_duration_seconds_sum{check=\"web\"} 7.503\n"
                   "probe_duration_seconds_count{check=\"web\"} 3\n"
                   "# HELP sdconnect_up Line one\\nback\\\\slash.\n"
                   "# TYPE sdconnect_up gauge\n"
                   "sdconnect_up 0.1\n");
  sdc_free(text);
  sdc_metrics_free(m);
}
END_TEST

START_TEST(what_prometheus_would_refuse_is_refused)
{
  sdc_metrics *m = NULL;
  sdc_metric *f = NULL, *g = NULL;
  const char *le[] = {"le"}, *dunder[] = {"__x"}, *one[] = {"a"};
  const double down[] = {1, 0.5}, inf[] = {INFINITY};
  double v = 0;

  sdc_metrics_new(&m);
  ck_assert_int_eq(sdc_metrics_family(m, "1bad", "", SDC_METRIC_GAUGE, NULL, 0, NULL, 0, &f),
                   SDC_EINVAL);
  ck_assert_int_eq(sdc_metrics_family(m, "a-b", "", SDC_METRIC_GAUGE, NULL, 0, NULL, 0, &f),
                   SDC_EINVAL);
  ck_assert_int_eq(sdc_metrics_family(m, "h", "", SDC_METRIC_HISTOGRAM, le, 1, inf, 1, &f),
                   SDC_EINVAL);
  ck_assert_int_eq(sdc_metrics_family(m, "h", "", SDC_METRIC_HISTOGRAM, NULL, 0, down, 2, &f),
                   SDC_EINVAL);
  ck_assert_int_eq(sdc_metrics_family(m, "g", "", SDC_METRIC_GAUGE, dunder, 1, NULL, 0, &f),
                   SDC_EINVAL);
  ck_assert_int_eq(sdc_metrics_family(m, "c_total", "", SDC_METRIC_COUNTER, one, 1, NULL, 0,
                                      &f), SDC_OK);
  /* the same again: the same family; differently: refused */
  ck_assert_int_eq(sdc_metrics_family(m, "c_total", "", SDC_METRIC_COUNTER, one, 1, NULL, 0,
                                      &g), SDC_OK);
  ck_assert_ptr_eq(f, g);
  ck_assert_int_eq(sdc_metrics_family(m, "c_total", "", SDC_METRIC_GAUGE, one, 1, NULL, 0,
                                      &g), SDC_EINVAL);
  ck_assert_int_eq(sdc_metric_add(f, one, -1), SDC_EINVAL); /* counters go up */
  ck_assert_int_eq(sdc_metric_set(f, one, 1), SDC_EINVAL);
  ck_assert_int_eq(sdc_metric_observe(f, one, 1), SDC_EINVAL);
  ck_assert_int_eq(sdc_metric_add(f, NULL, 1), SDC_EINVAL); /* values needed */
  ck_assert_int_eq(sdc_metric_get(f, one, &v), SDC_ENOTFOUND);
  ck_assert_int_eq(sdc_metric_add(f, one, 2.5), SDC_OK);
  ck_assert_int_eq(sdc_metric_get(f, one, &v), SDC_OK);
  ck_assert(v == 2.5);
  ck_assert_int_eq(sdc_metric_remove(f, one), SDC_OK);
  ck_assert_int_eq(sdc_metric_remove(f, one), SDC_ENOTFOUND);
  sdc_metrics_free(m);
}
END_TEST

START_TEST(label_values_are_stored_once_and_go_with_their_last_series)
{
  sdc_metrics *m = NULL;
  sdc_metric *up = NULL, *code = NULL;
  static const char *const labels[] = {"check", "endpoint"};
  const char *a[] = {"web", "projects/p/locations/l/namespaces/n/services/s/endpoints/a"};
  const char *b[] = {"web", "projects/p/locations/l/namespaces/n/services/s/endpoints/b"};
  char *text;

  ck_assert_int_eq(sdc_metrics_new(&m), SDC_OK);
  ck_assert_int_eq(sdc_metrics_family(m, "probe_success", "", SDC_METRIC_GAUGE, labels, 2,
                                      NULL, 0, &up), SDC_OK);
  ck_assert_int_eq(sdc_metrics_family(m, "probe_http_status_code", "", SDC_METRIC_GAUGE,
                                      labels, 2, NULL, 0, &code), SDC_OK);
  for(int round = 0; round < 3; round++) { /* updates make no new copies */
    ck_assert_int_eq(sdc_metric_set(up, a, 1), SDC_OK);
    ck_assert_int_eq(sdc_metric_set(up, b, 0), SDC_OK);
    ck_assert_int_eq(sdc_metric_set(code, a, 200), SDC_OK);
    ck_assert_int_eq(sdc_metric_set(code, b, 503), SDC_OK);
  }
  ck_assert_uint_eq(m->n_values, 3); /* "web", a, b */
  ck_assert_int_eq(sdc_metric_remove(up, a), SDC_OK);
  ck_assert_uint_eq(m->n_values, 3); /* a is still in probe_http_status_code */
  ck_assert_int_eq(sdc_metric_remove(code, a), SDC_OK);
  ck_assert_uint_eq(m->n_values, 2);
  ck_assert_int_eq(sdc_metric_remove(code, a), SDC_ENOTFOUND);
  text = sdc_metrics_render(m, NULL);
  ck_assert_ptr_nonnull(strstr(text, "probe_http_status_code{check=\"web\",endpoint=\""
                                     "projects/p/locations/l/namespaces/n/services/s/"
                                     "endpoints/b\"} 503\n"));
  ck_assert_ptr_null(strstr(text, "endpoints/a"));
  sdc_free(text);
  ck_assert_int_eq(sdc_metric_remove(up, b), SDC_OK);
  ck_assert_int_eq(sdc_metric_remove(code, b), SDC_OK);
  ck_assert_uint_eq(m->n_values, 0);
  sdc_metrics_free(m);
}
END_TEST

START_TEST(numbers_read_back_exactly)
{
  char buf[40];
  const double vals[] = {0.1, 1e-9, 123456789.125, 1.7976931348623157e308, -2.5, 1e15};

  sdc__metric_number(NAN, buf, sizeof(buf));
  ck_assert_str_eq(buf, "NaN");
  sdc__metric_number(-INFINITY, buf, sizeof(buf));
  ck_assert_str_eq(buf, "-Inf");
  sdc__metric_number(42, buf, sizeof(buf));
  ck_assert_str_eq(buf, "42");
  for(size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
    sdc__metric_number(vals[i], buf, sizeof(buf));
    ck_assert_msg(strtod(buf, NULL) == vals[i], "%s", buf);
  }
}
END_TEST

/* Prometheus's own checker agrees (promtool, Debian package prometheus). */
START_TEST(promtool_accepts_the_text)
{
  sdc_metrics *m = NULL;
  sdc_metric *f = NULL, *h = NULL;
  const char *labels[] = {"check"};
  const double buckets[] = {0.1, 1};
  char path[] = "/tmp/sdc-metrics-XXXXXX", cmd[128], *text;
  int fd;
  FILE *p;

  if(system("command -v promtool >/dev/null 2>&1")) {
    fprintf(stderr, "promtool_accepts_the_text: skipped: no promtool (Debian package "
            "prometheus; scripts/deps.sh installs it)\n");
    return;
  }
  sdc_metrics_new(&m);
  sdc_metrics_family(m, "sdconnect_checks_total", "Check runs.", SDC_METRIC_COUNTER,
                     labels, 1, NULL, 0, &f);
  sdc_metrics_family(m, "probe_duration_seconds", "Probe time.", SDC_METRIC_HISTOGRAM,
                     labels, 1, buckets, 2, &h);
  sdc_metric_add(f, (const char *[]){"a \"quoted\"\nname"}, 3);
  sdc_metric_observe(h, (const char *[]){"a"}, 0.5);
  text = sdc_metrics_render(m, NULL);
  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
  p = popen(cmd, "r");
  {
    char out[2048] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    int rc = pclose(p);
    out[n] = '\0';
    ck_assert_msg(rc == 0, "promtool said: %s\n%s", out, text);
  }
  unlink(path);
  sdc_free(text);
  sdc_metrics_free(m);
}
END_TEST

Suite *metrics_suite(void)
{
  Suite *s = suite_create("metrics");
  TCase *tc = tcase_create("registry");

  tcase_add_test(tc, counters_gauges_and_histograms_render_exactly);
  tcase_add_test(tc, what_prometheus_would_refuse_is_refused);
  tcase_add_test(tc, numbers_read_back_exactly);
  tcase_add_test(tc, label_values_are_stored_once_and_go_with_their_last_series);
  tcase_add_test(tc, promtool_accepts_the_text);
  suite_add_tcase(s, tc);
  return s;
}
