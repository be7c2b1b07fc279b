/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: the daemon's admin listener on a pool's loop, reached over
 * real HTTP (the pool's own client) on 127.0.0.1: routes, the bearer
 * token, TLS with a certificate made here, and a real Prometheus (Debian
 * package prometheus, started here on loopback and stopped by PID) that
 * scrapes /metrics and answers PromQL about what it scraped.
 */
#include "admin.h"
#include "certs.h"
#include "proc.h"
#include "run_all.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

static void setup(void)
{
  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
}

static void teardown(void)
{
  tproc_rmdir(dir);
  sdc_global_cleanup();
}

static bool ready_no(void *ud, char *why, size_t cap)
{
  (void)ud;
  snprintf(why, cap, "the first runs are not done");
  return false;
}

/* GET path from the admin listener through the pool; the status, body in
 * `body` (may be NULL). */
static long get(sdc_pool *p, sdc_target *t, bool tls, const char *host, int port,
                const char *path, const char *auth, char *body, size_t cap)
{
  char url[256], hdr[128];
  sdc_http_request *req = NULL;
  sdc_http_response *r = NULL;
  long status;

  snprintf(url, sizeof(url), "%s://%s:%d%s", tls ? "https" : "http", host, port, path);
  ck_assert_int_eq(sdc_http_request_new(&req, url), SDC_OK);
  ck_assert_int_eq(sdc_http_request_set_timeout_ms(req, 10000), SDC_OK);
  if(auth) {
    snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
    ck_assert_int_eq(sdc_http_request_add_header(req, hdr), SDC_OK);
  }
  ck_assert_msg(sdc_pool_request(p, t, req, &r) == SDC_OK, "%s", sdc_pool_errmsg(p));
  sdc_http_request_free(req);
  status = r->status;
  if(body)
    snprintf(body, cap, "%s", r->body);
  sdc_http_response_free(r);
  return status;
}

static sdc_target *target_for(const char *host, int port, bool tls)
{
  sdc_target *t = NULL;
  const char *addr = "127.0.0.1";

  ck_assert_int_eq(sdc_target_new(&t, host, port, tls), SDC_OK);
  ck_assert_int_eq(sdc_target_set_addresses(t, &addr, &port, 1), SDC_OK);
  return t;
}

static sdc_metrics *some_metrics(void)
{
  sdc_metrics *m = NULL;
  sdc_metric *up = NULL;
  const char *labels[] = {"check", "endpoint"};

  ck_assert_int_eq(sdc_metrics_new(&m), SDC_OK);
  ck_assert_int_eq(sdc_metrics_family(m, "probe_success", "1 when the probe passed.",
                                      SDC_METRIC_GAUGE, labels, 2, NULL, 0, &up), SDC_OK);
  sdc_metric_set(up, (const char *[]){"web", "healthy"}, 1);
  sdc_metric_set(up, (const char *[]){"web", "failing"}, 0);
  return m;
}

START_TEST(routes_token_and_readiness)
{
  sdc_pool *p = NULL;
  sdc_metrics *m = some_metrics();
  struct admin *a = NULL;
  struct listen_opts o = {.listen = (char *)"127.0.0.1:0", .token = (char *)"s3cret"};
  char err[256], body[4096];
  int port = 0;
  sdc_target *t;

  ck_assert_int_eq(sdc_pool_new(&p, NULL), SDC_OK);
  ck_assert_msg(admin_start(&a, p, &o, m, ready_no, NULL, &port, err, sizeof(err)) == 0,
                "%s", err);
  t = target_for("127.0.0.1", port, false);
  ck_assert_int_eq(get(p, t, false, "127.0.0.1", port, "/metrics", NULL, body, sizeof(body)),
                   401);
  ck_assert_int_eq(get(p, t, false, "127.0.0.1", port, "/metrics", "Bearer wrong", NULL, 0),
                   401);
  ck_assert_int_eq(get(p, t, false, "127.0.0.1", port, "/metrics", "Bearer s3cret", body,
                       sizeof(body)), 200);
  ck_assert_ptr_nonnull(strstr(body, "probe_success{check=\"web\",endpoint=\"healthy\"} 1\n"));
  ck_assert_int_eq(get(p, t, false, "127.0.0.1", port, "/healthz", "Bearer s3cret", body,
                       sizeof(body)), 200);
  ck_assert_int_eq(get(p, t, false, "127.0.0.1", port, "/readyz", "Bearer s3cret", body,
                       sizeof(body)), 503);
  ck_assert_str_eq(body, "not ready: the first runs are not done\n");
  /* health is for anyone (a kubelet has no token); the reason is not */
  ck_assert_int_eq(get(p, t, false, "127.0.0.1", port, "/healthz", NULL, body, sizeof(body)),
                   200);
  ck_assert_str_eq(body, "ok\n");
  ck_assert_int_eq(get(p, t, false, "127.0.0.1", port, "/readyz", NULL, body, sizeof(body)),
                   503);
  ck_assert_str_eq(body, "not ready\n");
  ck_assert_int_eq(get(p, t, false, "127.0.0.1", port, "/nope", "Bearer s3cret", NULL, 0), 404);
  admin_stop(a);
  sdc_pool_free(p);
  sdc_target_free(t);
  sdc_metrics_free(m);
}
END_TEST

START_TEST(tls_with_a_certificate_made_here)
{
  sdc_pool *p = NULL;
  sdc_metrics *m = some_metrics();
  struct admin *a = NULL;
  char err[256], body[4096], *cert, *key, *capem;
  int port = 0;
  sdc_target *t;
  struct listen_opts o = {.listen = (char *)"127.0.0.1:0"};

  ck_assert_int_eq(tcert_write_trio(dir, "admin.internal", "DNS:admin.internal"), 0);
  cert = tcert_slurp(tproc_path(dir, "server.pem"));
  key = tcert_slurp(tproc_path(dir, "server.key"));
  capem = tcert_slurp(tproc_path(dir, "ca.pem"));
  o.cert_pem = cert;
  o.key_pem = key;
  ck_assert_int_eq(sdc_pool_new(&p, NULL), SDC_OK);
  ck_assert_msg(admin_start(&a, p, &o, m, NULL, NULL, &port, err, sizeof(err)) == 0, "%s",
                err);
  t = target_for("admin.internal", port, true);
  ck_assert_int_eq(sdc_target_set_ca(t, capem, strlen(capem)), SDC_OK);
  ck_assert_int_eq(get(p, t, true, "admin.internal", port, "/readyz", NULL, body,
                       sizeof(body)), 200);
  ck_assert_str_eq(body, "ready\n");
  admin_stop(a);
  /* mTLS: without a client certificate the CA signed, nothing is served */
  o.client_ca_pem = capem;
  ck_assert_msg(admin_start(&a, p, &o, m, NULL, NULL, &port, err, sizeof(err)) == 0, "%s",
                err);
  sdc_pool_forget_target(p, t);
  sdc_target_free(t);
  t = target_for("admin.internal", port, true);
  ck_assert_int_eq(sdc_target_set_ca(t, capem, strlen(capem)), SDC_OK);
  ck_assert_int_eq(get(p, t, true, "admin.internal", port, "/metrics", NULL, body,
                       sizeof(body)), 403);
  ck_assert_ptr_nonnull(strstr(body, "client certificate"));
  ck_assert_int_eq(get(p, t, true, "admin.internal", port, "/healthz", NULL, body,
                       sizeof(body)), 200); /* a kubelet's probe over HTTPS has no certificate */
  sdc_pool_forget_target(p, t);
  sdc_target_free(t);
  t = target_for("admin.internal", port, true);
  ck_assert_int_eq(sdc_target_set_ca(t, capem, strlen(capem)), SDC_OK);
  {
    char *ccrt = tcert_slurp(tproc_path(dir, "client.pem"));
    char *ckey = tcert_slurp(tproc_path(dir, "client.key"));
    ck_assert_int_eq(sdc_target_set_client_cert(t, ccrt, strlen(ccrt), ckey, strlen(ckey), NULL),
                     SDC_OK);
    free(ccrt);
    free(ckey);
  }
  ck_assert_int_eq(get(p, t, true, "admin.internal", port, "/readyz", NULL, body,
                       sizeof(body)), 200);
  admin_stop(a);
  sdc_pool_free(p);
  sdc_target_free(t);
  sdc_metrics_free(m);
  free(cert);
  free(key);
  free(capem);
}
END_TEST

static uint64_t mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The value PromQL gives for probe_success{endpoint=...}, or -1. */
static int promql_value(const char *body, const char *endpoint)
{
  json_t *j = json_loads(body, 0, NULL), *res;
  int v = -1;

  res = json_object_get(json_object_get(j, "data"), "result");
  for(size_t i = 0; i < json_array_size(res); i++) {
    json_t *s = json_array_get(res, i);
    const char *ep = json_string_value(json_object_get(json_object_get(s, "metric"),
                                                       "endpoint"));
    if(ep && !strcmp(ep, endpoint))
      v = atoi(json_string_value(json_array_get(json_object_get(s, "value"), 1)));
  }
  json_decref(j);
  return v;
}

START_TEST(a_real_prometheus_scrapes_the_metrics)
{
  sdc_pool *p = NULL;
  sdc_metrics *m = some_metrics();
  struct admin *a = NULL;
  struct listen_opts o = {.listen = (char *)"127.0.0.1:0"};
  struct tproc prom;
  char err[256], conf[160], listen[64], storage[200], cfgarg[200], body[8192];
  int port = 0, prom_port = tproc_free_port(), healthy = -1, failing = -1;
  sdc_target *t;
  FILE *f;
  uint64_t start;

  if(system("command -v prometheus >/dev/null 2>&1")) {
    fprintf(stderr, "a_real_prometheus_scrapes_the_metrics: skipped: no prometheus "
            "(Debian package prometheus; scripts/deps.sh installs it)\n");
    return;
  }
  ck_assert_int_eq(sdc_pool_new(&p, NULL), SDC_OK);
  ck_assert_msg(admin_start(&a, p, &o, m, NULL, NULL, &port, err, sizeof(err)) == 0, "%s",
                err);
  snprintf(conf, sizeof(conf), "%s/prometheus.yml", dir);
  f = fopen(conf, "w");
  fprintf(f, "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
             "scrape_configs:\n  - job_name: sdconnect\n"
             "    static_configs: [{targets: ['127.0.0.1:%d']}]\n", port);
  fclose(f);
  snprintf(cfgarg, sizeof(cfgarg), "--config.file=%s", conf);
  snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", prom_port);
  snprintf(storage, sizeof(storage), "--storage.tsdb.path=%s/tsdb", dir);
  {
    const char *argv[] = {"/usr/bin/prometheus", cfgarg, listen, storage, NULL};
    memset(&prom, 0, sizeof(prom));
    ck_assert_int_eq(tproc_tmpdir(prom.dir), 0);
    ck_assert_msg(tproc_start(&prom, argv, false) == 0, "%s", prom.log);
  }
  t = target_for("127.0.0.1", prom_port, false);
  start = mono_ms();
  while((healthy != 1 || failing != 0) && mono_ms() - start < 60000) { /* bounded */
    char url[200];
    sdc_http_request *req = NULL;
    sdc_http_response *r = NULL;
    sdc_status st;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/query?query=probe_success",
             prom_port);
    ck_assert_int_eq(sdc_http_request_new(&req, url), SDC_OK);
    sdc_http_request_set_timeout_ms(req, 2000);
    st = sdc_pool_request(p, t, req, &r); /* serves the scrapes meanwhile */
    sdc_http_request_free(req);
    if(st == SDC_OK) {
      snprintf(body, sizeof(body), "%s", r->body);
      healthy = promql_value(body, "healthy");
      failing = promql_value(body, "failing");
      sdc_http_response_free(r);
    }
    for(int i = 0; i < 5 && (healthy != 1 || failing != 0); i++)
      sdc_pool_turn(p, 100); /* the admin listener answers scrapes here */
  }
  ck_assert_msg(healthy == 1 && failing == 0, "PromQL said: %s", body);
  tproc_stop(&prom, 10000);
  tproc_rmdir(prom.dir);
  admin_stop(a);
  sdc_pool_free(p);
  sdc_target_free(t);
  sdc_metrics_free(m);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("admin");
  TCase *tc = tcase_create("admin");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, routes_token_and_readiness);
  tcase_add_test(tc, tls_with_a_certificate_made_here);
  tcase_add_test(tc, a_real_prometheus_scrapes_the_metrics);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
