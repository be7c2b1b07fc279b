/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: `sdconnect serve` as a user runs it, against a local
 * directory and a test server on 127.0.0.1: checks on a one-second period,
 * metrics scraped over HTTP, endpoints added to and removed from the
 * directory while it runs, reloads with a bad and a good file, and a
 * graceful SIGTERM; the history read by `sdconnect status` and kept across a
 * restart. Every process is stopped by its PID.
 */
#include "proc.h"
#include "sdclient.h"
#include "run_all.h"

#include <sdconnect/sdconnect.h>

#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SVC "projects/p/locations/us-central1/namespaces/n/services/web"

static char dir[64];
static struct tproc sd, httpd, daemon_;
static int closed_fd = -1; /* holds the port of endpoints that refuse */
static sdc_resolver *res;
static sdc_pool *pool;

static uint64_t mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void endpoint_in(sdc_resolver *in, const char *id, int port)
{
  char name[200];

  snprintf(name, sizeof(name), SVC "/endpoints/%s", id);
  ck_assert_int_eq(tsd_endpoint(in, name, "127.0.0.1", port), 0);
}

static void endpoint(const char *id, int port, bool create)
{
  char name[200];

  snprintf(name, sizeof(name), SVC "/endpoints/%s", id);
  if(create)
    endpoint_in(res, id, port);
  else
    ck_assert_int_eq(sdc_sd_delete(res, SDC_SD_ENDPOINT, name), SDC_OK);
}

/* The daemon's file: the check "web" (plus `extra_check`), the directory
 * at `sd_port`, the admin listener on `admin`. */
static void write_config_at(const char *name, const char *extra_check, int sd_port,
                            const char *admin)
{
  FILE *f = fopen(tproc_path(dir, name), "w");

  fprintf(f,
          "directory: {endpoint: '127.0.0.1:%d', insecure: true, cacheTtl: 0s}\n"
          "checks:\n"
          "  - displayName: web\n"
          "    checkerType: VPC_CHECKERS\n"
          "    monitoredResource: {type: servicedirectory_service, labels: {project_id: p,"
          " location: us-central1, namespace_name: n, service_name: web}}\n"
          "    httpCheck: {path: /echo}\n"
          "    timeout: 2s\n"
          "    sdconnect: {period: 1s}\n"
          "%s"
          "admin: {listen: '%s'}\n"
          "results: {file: %s/results.jsonl}\n"
          "stateDir: %s\n",
          sd_port, extra_check ? extra_check : "", admin, dir, dir);
  fclose(f);
}

static void write_config(const char *name, const char *extra_check)
{
  write_config_at(name, extra_check, sd.port, "127.0.0.1:0");
}

static void setup(void)
{
  const char *sd_argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                           "127.0.0.1:0", NULL};
  const char *bin = getenv("SDC_HTTPD_BIN");
  const char *h_argv[] = {bin && *bin ? bin : "httpd", NULL};
  sdc_resolver_opts *o = NULL;
  char ep[64], err[256];

  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  memset(&sd, 0, sizeof(sd));
  memset(&httpd, 0, sizeof(httpd));
  memset(&daemon_, 0, sizeof(daemon_));
  ck_assert_int_eq(tproc_start(&sd, sd_argv, true), 0);
  ck_assert_int_eq(tproc_start(&httpd, h_argv, true), 0);
  snprintf(ep, sizeof(ep), "127.0.0.1:%d", sd.port);
  sdc_resolver_opts_new(&o);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  sdc_resolver_opts_set_cache_ttl_ms(o, 0);
  ck_assert_int_eq(sdc_resolver_new(&res, o, err, sizeof(err)), SDC_OK);
  sdc_resolver_opts_free(o);
  ck_assert_int_eq(tsd_namespace(res, "projects/p/locations/us-central1/namespaces/n"), 0);
  ck_assert_int_eq(tsd_service(res, SVC), 0);
  ck_assert_int_eq(sdc_pool_new(&pool, NULL), SDC_OK);
}

static void teardown(void)
{
  if(closed_fd >= 0)
    close(closed_fd);
  closed_fd = -1;
  sdc_pool_free(pool);
  sdc_resolver_free(res);
  if(daemon_.pid > 0)
    tproc_stop(&daemon_, 5000);
  tproc_stop(&httpd, 5000);
  tproc_stop(&sd, 5000);
  tproc_rmdir(daemon_.dir);
  tproc_rmdir(httpd.dir);
  tproc_rmdir(sd.dir);
  tproc_rmdir(dir);
  sdc_global_cleanup();
}

/* The daemon's admin `path`, into buf. */
static void admin_get(const char *path, char *buf, size_t cap)
{
  char url[300];
  sdc_target *t = NULL;
  const char *addr = "127.0.0.1";
  sdc_http_request *req = NULL;
  sdc_http_response *r = NULL;

  buf[0] = '\0';
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", daemon_.port, path);
  ck_assert_int_eq(sdc_http_request_new(&req, url), SDC_OK);
  ck_assert_int_eq(sdc_http_request_set_timeout_ms(req, 5000), SDC_OK);
  ck_assert_int_eq(sdc_target_new(&t, "127.0.0.1", daemon_.port, 0), SDC_OK);
  ck_assert_int_eq(sdc_target_set_addresses(t, &addr, &daemon_.port, 1), SDC_OK);
  if(sdc_pool_request(pool, t, req, &r) == SDC_OK) {
    snprintf(buf, cap, "%s", r->body);
    sdc_http_response_free(r);
  } else {
    snprintf(buf, cap, "(scrape failed: %s)", sdc_pool_errmsg(pool));
  }
  sdc_http_request_free(req);
  sdc_pool_forget_target(pool, t);
  sdc_target_free(t);
}

static void scrape(char *buf, size_t cap) { admin_get("/metrics", buf, cap); }

/* Wait (bounded: 20 s) until /metrics holds every line of `want` and none
 * of `unwanted` (NULL-terminated lists). */
static void wait_for(const char *const *want, const char *const *unwanted)
{
  static char buf[65536];
  uint64_t start = mono_ms();
  bool ok = false;

  while(!ok && mono_ms() - start < 20000) {
    scrape(buf, sizeof(buf));
    ok = true;
    for(size_t i = 0; want && want[i]; i++)
      ok &= strstr(buf, want[i]) != NULL;
    for(size_t i = 0; unwanted && unwanted[i]; i++)
      ok &= strstr(buf, unwanted[i]) == NULL;
    if(!ok)
      tproc_sleep_ms(200);
  }
  ck_assert_msg(ok, "metrics never showed what was expected:\n%.3000s", buf);
}

#define EP(id) "endpoint=\"" SVC "/endpoints/" id "\""
#define UP(id, v) "probe_success{check=\"web\",service=\"" SVC "\"," EP(id) "} " v "\n"

START_TEST(serve_probes_reloads_and_stops)
{
  char cfg[200];
  int closed = tproc_closed_port(&closed_fd);
  const char *argv[] = {tproc_sdconnect(), "serve", "--config", cfg, NULL};

  endpoint("a", httpd.port, true);
  endpoint("b", closed, true);
  write_config("sdconnect.yaml", NULL);
  snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "sdconnect.yaml"));
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "%s", daemon_.log);
  {
    const char *want[] = {UP("a", "1"), UP("b", "0"),
                          "sdconnect_probe_failures_total{check=\"web\",reason=\"connect_refused\"}",
                          "sdconnect_check_success{check=\"web\"} 0\n",
                          "probe_http_status_code{check=\"web\",service=\"" SVC "\"," EP("a")
                          "} 200\n", NULL};
    wait_for(want, NULL);
  }
  /* the directory changes under it: picked up within a period */
  endpoint("c", httpd.port, true);
  endpoint("b", 0, false);
  {
    const char *want[] = {UP("a", "1"), UP("c", "1"), "sdconnect_check_success{check=\"web\"} 1\n",
                          NULL};
    const char *gone[] = {EP("b"), NULL};
    wait_for(want, gone);
  }
  /* a bad file is refused and the running configuration stays */
  {
    FILE *f = fopen(cfg, "w");
    fputs("checks: [{displayName: broken}]\n", f);
    fclose(f);
  }
  ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
  {
    uint64_t start = mono_ms();
    while(!tproc_log_has(&daemon_, "reload refused") && mono_ms() - start < 10000)
      tproc_sleep_ms(100);
    ck_assert_msg(tproc_log_has(&daemon_, "reload refused"), "%s", daemon_.log);
    ck_assert(tproc_log_has(&daemon_, "checks[0]: no resource"));
  }
  /* a good one with a second check is taken */
  write_config("sdconnect.yaml",
               "  - {displayName: tcp, checkerType: VPC_CHECKERS, monitoredResource: {type: "
               "servicedirectory_service, labels: {project_id: p, location: us-central1, "
               "namespace_name: n, service_name: web}}, tcpCheck: {port: 1}, timeout: 1s, "
               "sdconnect: {period: 1s}}\n");
  ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
  {
    const char *want[] = {"sdconnect_check_runs_total{check=\"tcp\"}", UP("a", "1"), NULL};
    wait_for(want, NULL);
  }
  /* SIGTERM: running probes finish, exit 0 */
  ck_assert_int_eq(tproc_stop(&daemon_, 15000), 0);
  ck_assert(tproc_log_has(&daemon_, "msg=stopped"));
  daemon_.pid = 0;
  {
    FILE *f = fopen(tproc_path(dir, "results.jsonl"), "r");
    char line[4096];
    int n = 0;
    ck_assert_ptr_nonnull(f);
    while(fgets(line, sizeof(line), f))
      n += strstr(line, "\"check\":\"web\"") != NULL;
    fclose(f);
    ck_assert_int_ge(n, 3);
  }
}
END_TEST

START_TEST(a_bad_configuration_stops_before_anything_runs)
{
  const char *argv[] = {tproc_sdconnect(), "serve", "--config", NULL, NULL};
  char cfg[200];
  FILE *f;

  snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "bad.yaml"));
  f = fopen(cfg, "w");
  fputs("admin: {listen: nowhere}\n", f);
  fclose(f);
  argv[3] = cfg;
  ck_assert_int_eq(tproc_tmpdir(daemon_.dir), 0);
  ck_assert_int_eq(tproc_run(&daemon_, argv), 2);
  ck_assert(tproc_log_has(&daemon_, "bad.yaml:1:17: admin.listen: 'nowhere' is not HOST:PORT"));
  tproc_rmdir(daemon_.dir);
  daemon_.dir[0] = '\0';
}
END_TEST

START_TEST(the_local_directory_runs_in_the_daemon)
{
  char cfg[200], seed[200];
  const char *argv[] = {tproc_sdconnect(), "serve", "--config", cfg, NULL};
  FILE *f;

  snprintf(seed, sizeof(seed), "%s", tproc_path(dir, "registry.yaml"));
  f = fopen(seed, "w");
  fprintf(f, "project: p\nlocation: us-central1\nnamespaces:\n  - name: n\n    services:\n"
             "      - name: web\n        endpoints:\n"
             "          - {name: a, address: 127.0.0.1, port: %d}\n", httpd.port);
  fclose(f);
  snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "local.yaml"));
  f = fopen(cfg, "w");
  fprintf(f, "local: {listen: '127.0.0.1:0', memory: true, seed: registry.yaml}\n"
             "checks:\n"
             "  - {displayName: web, checkerType: VPC_CHECKERS, monitoredResource: {type: "
             "servicedirectory_service, labels: {project_id: p, location: us-central1, "
             "namespace_name: n, service_name: web}}, httpCheck: {path: /echo}, timeout: 2s, "
             "sdconnect: {period: 1s}}\n"
             "admin: {listen: '127.0.0.1:0'}\nstateDir: %s\n", dir);
  fclose(f);
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "%s", daemon_.log);
  {
    const char *want[] = {UP("a", "1"), "sdconnect_check_success{check=\"web\"} 1\n", NULL};
    wait_for(want, NULL);
  }
  ck_assert(tproc_log_has(&daemon_, "seed loaded"));
  ck_assert_int_eq(tproc_stop(&daemon_, 15000), 0);
  daemon_.pid = 0;
}
END_TEST

/* `sdconnect status ARGS...` with the test's state directory; its exit
 * status, its output in p->log. */
static int status(struct tproc *p, const char *a1, const char *a2)
{
  const char *argv[] = {tproc_sdconnect(), "status", "--state-dir", dir, a1, a2, NULL};

  if(!p->dir[0])
    ck_assert_int_eq(tproc_tmpdir(p->dir), 0);
  if(p->log[0])
    unlink(p->log); /* this run's output only */
  return tproc_run(p, argv);
}

/* The check's summary from `sdconnect status --json web`. */
static json_t *summary(struct tproc *p)
{
  json_error_t je;
  json_t *j;

  ck_assert_int_le(status(p, "--json", "web"), 3);
  j = json_load_file(p->log, 0, &je);
  if(!j) {
    FILE *f = fopen(p->log, "r");
    char buf[2048] = "";
    if(f) {
      buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
      fclose(f);
    }
    ck_abort_msg("not JSON (%s):\n%s", je.text, buf);
  }
  return j;
}

static double uptime_1h(json_t *sum)
{
  return json_number_value(
      json_object_get(json_object_get(json_array_get(json_object_get(sum, "checks"), 0),
                                      "uptime"), "1h"));
}

START_TEST(the_history_is_kept_across_a_restart)
{
  char cfg[200];
  const char *argv[] = {tproc_sdconnect(), "serve", "--config", cfg, NULL};
  struct tproc st = {0};
  json_t *sum, *eps;
  double before;

  endpoint("a", httpd.port, true);
  endpoint("b", tproc_closed_port(&closed_fd), true);
  write_config("sdconnect.yaml", NULL);
  snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "sdconnect.yaml"));
  ck_assert_int_eq(status(&st, NULL, NULL), 1); /* nothing has run yet */
  ck_assert(tproc_log_has(&st, "no history at"));
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "%s", daemon_.log);
  {
    const char *want[] = {UP("a", "1"), UP("b", "0"), NULL};
    wait_for(want, NULL);
  }
  ck_assert_int_eq(tproc_stop(&daemon_, 15000), 0);
  daemon_.pid = 0;
  /* for people: the check is down, b failed with its reason */
  ck_assert_int_eq(status(&st, NULL, NULL), 3);
  ck_assert_msg(tproc_log_has(&st, "web  DOWN  uptime 1h 0.0%"), "%s", st.log);
  ck_assert(tproc_log_has(&st, "connect_refused"));
  ck_assert(tproc_log_has(&st, "1 of 2 endpoints passed"));
  ck_assert_int_eq(status(&st, "nosuch", NULL), 2);
  ck_assert(tproc_log_has(&st, "no check 'nosuch'"));
  sum = summary(&st);
  eps = json_object_get(json_array_get(json_object_get(sum, "checks"), 0), "endpoints");
  ck_assert_int_eq(json_array_size(eps), 2);
  ck_assert(json_is_true(json_object_get(json_array_get(eps, 0), "up")));
  ck_assert(json_is_null(json_object_get(json_array_get(eps, 0), "lastFailure")));
  ck_assert_str_eq(json_string_value(json_object_get(
                       json_object_get(json_array_get(eps, 1), "lastFailure"), "reason")),
                   "connect_refused");
  ck_assert(uptime_1h(sum) == 0.0);
  json_decref(sum);
  /* b is mended (removed); the restarted daemon adds to the same history */
  endpoint("b", 0, false);
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "%s", daemon_.log);
  {
    const char *want[] = {"sdconnect_check_success{check=\"web\"} 1\n", NULL};
    wait_for(want, NULL);
  }
  ck_assert_int_eq(tproc_stop(&daemon_, 15000), 0);
  daemon_.pid = 0;
  ck_assert_int_eq(status(&st, NULL, NULL), 0);
  sum = summary(&st);
  before = uptime_1h(sum);
  ck_assert_msg(before > 0.0 && before < 100.0, "uptime %f: the old runs were lost", before);
  eps = json_object_get(json_array_get(json_object_get(sum, "checks"), 0), "endpoints");
  ck_assert_int_eq(json_array_size(eps), 1); /* b left the directory */
  ck_assert_str_eq(json_string_value(json_object_get(
                       json_object_get(json_array_get(json_object_get(sum, "checks"), 0),
                                       "lastFailure"), "reason")),
                   "check_failed");
  json_decref(sum);
  tproc_rmdir(st.dir);
}
END_TEST

static int browse(struct tproc *b, const char *what, const char *size)
{
  return tproc_browse(b, daemon_.port, what, size);
}

START_TEST(the_status_page_shows_every_endpoint_in_a_browser)
{
  char cfg[200], shot[200];
  const char *argv[] = {tproc_sdconnect(), "serve", "--config", cfg, NULL};
  struct tproc b = {0};
  FILE *f;
  unsigned char magic[8] = {0};

  endpoint("a", httpd.port, true);
  endpoint("b", tproc_closed_port(&closed_fd), true);
  write_config("sdconnect.yaml",
               "  - {displayName: later, checkerType: VPC_CHECKERS, monitoredResource: {type: "
               "servicedirectory_service, labels: {project_id: p, location: us-central1, "
               "namespace_name: n, service_name: web}}, tcpCheck: {port: 1}, timeout: 1s, "
               "period: 900s}\n");
  snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "sdconnect.yaml"));
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "%s", daemon_.log);
  {
    const char *want[] = {UP("a", "1"), UP("b", "0"), NULL};
    wait_for(want, NULL);
  }
  /* a phone's width: what the script drew, after it refreshed by itself */
  ck_assert_int_eq(browse(&b, "--dump-dom", "--window-size=390,844"), 0);
  ck_assert_msg(tproc_log_has(&b, "<section class=\"check\" data-check=\"web\">"), "%s",
                b.log);
  ck_assert(tproc_log_has(&b, "<span class=\"badge down\">DOWN</span>"));
  ck_assert(tproc_log_has(&b, "<tr data-endpoint=\"a\">"));
  ck_assert(tproc_log_has(&b, "<td class=\"state up\" data-label=\"State\">up</td>"));
  ck_assert(tproc_log_has(&b, "<td class=\"state down\" data-label=\"State\">"
                              "down: connect_refused</td>"));
  ck_assert(tproc_log_has(&b, "1 of 2 endpoints passed"));
  ck_assert(tproc_log_has(&b, "2 checks, 1 down"));
  /* a check whose first run is still 0..900 s away is listed as waiting */
  ck_assert(tproc_log_has(&b, "data-check=\"later\""));
  ck_assert(tproc_log_has(&b, "NOT RUN YET"));
  ck_assert_msg(!tproc_log_has(&b, "data-refreshes=\"0\"") &&
                    !tproc_log_has(&b, "data-refreshes=\"1\""),
                "the page did not refresh itself");
  ck_assert_msg(tproc_log_has(&b, "data-fits=\"yes\""), "wider than a phone's screen");
  ck_assert(tproc_log_has(&b, "<button class=\"diagnose\" type=\"button\" "
                              "data-diagnose=\"web\">Diagnose</button>"));
  { /* the button's diagnose: run by the daemon as a child, then shown */
    static char buf[65536];
    bool done = false;
    for(int i = 0; i < 120 && !done; i++) { /* bounded: 60 s */
      admin_get("/diagnose.json?id=web", buf, sizeof(buf));
      done = strstr(buf, "\"state\":\"done\"") != NULL;
      if(!done)
        tproc_sleep_ms(500);
    }
    ck_assert_msg(done && strstr(buf, "EP_PORT_REFUSED") && strstr(buf, "\"exitStatus\":3"),
                  "%s", buf);
    admin_get("/diagnose.json?id=nobody", buf, sizeof(buf));
    ck_assert_msg(strstr(buf, "no check or webhook"), "%s", buf);
    tproc_rmdir(b.dir);
    memset(&b, 0, sizeof(b));
    ck_assert_int_eq(tproc_browse_path(&b, daemon_.port, "/#diagnose=web", "--dump-dom",
                                       "--window-size=1200,900"), 0);
    ck_assert_msg(tproc_log_has(&b, "data-code=\"EP_PORT_REFUSED\""), "%s", b.log);
    ck_assert(tproc_log_has(&b, "fix: start the server"));
  }
  /* a desktop's width, as a picture */
  snprintf(shot, sizeof(shot), "--screenshot=%s", tproc_path(b.dir, "page.png"));
  ck_assert_int_eq(browse(&b, shot, "--window-size=1200,700"), 0);
  f = fopen(tproc_path(b.dir, "page.png"), "rb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fread(magic, 1, 8, f), 8);
  fclose(f);
  ck_assert(!memcmp(magic, "\x89PNG\r\n\x1a\n", 8));
  ck_assert_int_eq(tproc_stop(&daemon_, 15000), 0);
  daemon_.pid = 0;
  tproc_rmdir(b.dir);
}
END_TEST

#define DEV_SVC "projects/demo-project/locations/us-central1/namespaces/demo/services/webhook"
#define DEV_UP(id, v)                                                                    \
  "probe_success{check=\"demo-webhook\",service=\"" DEV_SVC "\",endpoint=\"" DEV_SVC     \
  "/endpoints/" id "\"} " v "\n"

START_TEST(dev_mode_runs_everything_on_one_machine)
{
  char state[200], cfg[200];
  const char *argv[] = {tproc_sdconnect(), "serve", "--dev", "--state-dir", state,
                        "--admin-listen", "127.0.0.1:0", NULL};
  const char *both[] = {tproc_sdconnect(), "serve", "--dev", "--config", "x.yaml", NULL};
  struct tproc st = {0};

  snprintf(state, sizeof(state), "%s", tproc_path(dir, "dev"));
  snprintf(cfg, sizeof(cfg), "%s", tproc_path(state, "sdconnect.yaml"));
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "%s", daemon_.log);
  {
    const char *want[] = {DEV_UP("healthy", "1"), DEV_UP("failing", "0"),
                          "sdconnect_probe_failures_total{check=\"demo-webhook\","
                          "reason=\"http_status\"}", NULL};
    wait_for(want, NULL);
  }
  /* the demo webhook, called through the gateway (beside the admin port,
   * 0 here: its port is in the banner) as Dialogflow calls it */
  {
    char line[200], url[128];
    const char *at;
    int gw_port = 0;
    FILE *f = fopen(daemon_.log, "r");
    while(f && fgets(line, sizeof(line), f))
      if((at = strstr(line, "forwards POST http://127.0.0.1:")))
        gw_port = atoi(at + strlen("forwards POST http://127.0.0.1:"));
    if(f)
      fclose(f);
    ck_assert_msg(gw_port > 0, "%s", daemon_.log);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/webhooks/demo", gw_port);
    {
      sdc_target *t = NULL;
      const char *addr = "127.0.0.1";
      sdc_http_request *req = NULL;
      sdc_http_response *r = NULL;
      ck_assert_int_eq(sdc_http_request_new(&req, url), SDC_OK);
      ck_assert_int_eq(sdc_http_request_set_method(req, "POST"), SDC_OK);
      ck_assert_int_eq(sdc_http_request_set_body(req, "{}", 2), SDC_OK);
      ck_assert_int_eq(sdc_http_request_set_timeout_ms(req, 15000), SDC_OK);
      ck_assert_int_eq(sdc_target_new(&t, "127.0.0.1", gw_port, 0), SDC_OK);
      ck_assert_int_eq(sdc_target_set_addresses(t, &addr, &gw_port, 1), SDC_OK);
      ck_assert_msg(sdc_pool_request(pool, t, req, &r) == SDC_OK, "%s", sdc_pool_errmsg(pool));
      sdc_http_request_free(req);
      /* one endpoint answers 503 on purpose: Dialogflow's retry reaches the other */
      ck_assert_msg(r->status == 200 && strstr(r->body, "Hello from sdconnect's demo webhook"),
                    "%ld %s", r->status, r->body);
      sdc_http_response_free(r);
      sdc_pool_forget_target(pool, t);
      sdc_target_free(t);
    }
    const char *want[] = {"sdconnect_webhook_calls_total{webhook=\"demo\",source=\"gateway\","
                          "outcome=\"ok\"} 1\n", "sdconnect_webhook_calls_total{webhook=\"demo\","
                          "source=\"probe\"", NULL};
    wait_for(want, NULL);
  }
  /* it says where everything is */
  ck_assert(tproc_log_has(&daemon_, "status page    http://127.0.0.1:"));
  ck_assert(tproc_log_has(&daemon_, "directory      127.0.0.1:"));
  ck_assert(tproc_log_has(&daemon_, cfg));
  { /* the banner's diagnose: the demo check's failing endpoint, named */
    char line[300], ep[64] = "";
    const char *at;
    FILE *f = fopen(daemon_.log, "r");
    const char *diag[] = {tproc_sdconnect(), "diagnose", "--config", cfg, "--id",
                          "demo-webhook", "--sd-endpoint", ep, "--insecure", NULL};
    struct tproc run = {0};
    while(f && fgets(line, sizeof(line), f))
      if((at = strstr(line, "directory      ")))
        sscanf(at + 15, "%63s", ep);
    if(f)
      fclose(f);
    ck_assert(tproc_log_has(&daemon_, "sdconnect diagnose --config"));
    ck_assert_int_eq(tproc_run(&run, diag), 3);
    ck_assert_msg(tproc_log_has(&run, "[FAIL] http      CHECK_HTTP_STATUS  failing") &&
                  tproc_log_has(&run, "[ok]   http      CHECK_PASSED  healthy"), "%s",
                  run.log);
    tproc_rmdir(run.dir);
  }
  /* the certificates were made at start and checked (validateSsl): the
   * failing target's expires in 10 days */
  {
    static char buf[65536];
    const char *p;
    long long expiry;
    scrape(buf, sizeof(buf));
    p = strstr(buf, "probe_ssl_earliest_cert_expiry{check=\"demo-webhook\",service=\"" DEV_SVC
                    "\",endpoint=\"" DEV_SVC "/endpoints/failing\"} ");
    ck_assert_ptr_nonnull(p);
    expiry = atoll(strchr(p, '}') + 2);
    ck_assert_int_gt(expiry, (long long)time(NULL) + 9 * 86400);
    ck_assert_int_lt(expiry, (long long)time(NULL) + 11 * 86400);
  }
  ck_assert_int_eq(tproc_stop(&daemon_, 15000), 0);
  daemon_.pid = 0;
  /* its configuration is an ordinary file, and the history is there */
  {
    const char *check_argv[] = {tproc_sdconnect(), "config", "check", cfg, NULL};
    const char *status_argv[] = {tproc_sdconnect(), "status", "--config", cfg, NULL};
    ck_assert_int_eq(tproc_tmpdir(st.dir), 0);
    ck_assert_int_eq(tproc_run(&st, check_argv), 0);
    unlink(st.log);
    ck_assert_int_eq(tproc_run(&st, status_argv), 3);
    ck_assert_msg(tproc_log_has(&st, "http_status: HTTP 503"), "%s", st.log);
    unlink(st.log);
    ck_assert_int_eq(tproc_run(&st, both), 2);
    ck_assert(tproc_log_has(&st, "leave out --config"));
  }
  tproc_rmdir(st.dir);
}
END_TEST

/* A second directory holding the same service, with endpoint `id`: in
 * memory, or in the SQLite file `db` (then on `listen`). */
static sdc_resolver *second_directory(struct tproc *p, const char *id, const char *db,
                                      const char *listen)
{
  const char *argv[] = {tproc_sdconnect(), "sd-server", db ? "--db" : "--memory",
                        db ? db : "--listen", db ? "--listen" : "127.0.0.1:0",
                        db ? listen : NULL, NULL};
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char ep[64], err[256];

  ck_assert_int_eq(tproc_start(p, argv, true), 0);
  snprintf(ep, sizeof(ep), "127.0.0.1:%d", p->port);
  sdc_resolver_opts_new(&o);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  ck_assert_int_eq(sdc_resolver_new(&r, o, err, sizeof(err)), SDC_OK);
  sdc_resolver_opts_free(o);
  ck_assert_int_eq(tsd_namespace(r, "projects/p/locations/us-central1/namespaces/n"), 0);
  ck_assert_int_eq(tsd_service(r, SVC), 0);
  endpoint_in(r, id, httpd.port);
  return r;
}

static void wait_log(const struct tproc *p, const char *needle, unsigned times)
{
  uint64_t start = mono_ms();

  while(tproc_log_count(p, needle) < times && mono_ms() - start < 10000)
    tproc_sleep_ms(100);
  ck_assert_msg(tproc_log_count(p, needle) >= times, "no '%s' in:\n%s", needle, p->log);
}

START_TEST(a_reload_moves_the_directory_and_the_admin_listener)
{
  char cfg[200], busy_at[64], moved_to[64];
  const char *argv[] = {tproc_sdconnect(), "serve", "--config", cfg, NULL};
  struct tproc sd2 = {0};
  sdc_resolver *r2;
  int busy_fd = -1, busy = tproc_closed_port(&busy_fd), moved = tproc_free_port();

  ck_assert_int_eq(listen(busy_fd, 1), 0); /* someone else listens there */
  endpoint("a", httpd.port, true);
  write_config("sdconnect.yaml", NULL);
  snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "sdconnect.yaml"));
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "%s", daemon_.log);
  {
    const char *want[] = {UP("a", "1"), NULL};
    wait_for(want, NULL);
  }
  /* an admin listener that cannot be opened: refused, everything stays */
  snprintf(busy_at, sizeof(busy_at), "127.0.0.1:%d", busy);
  write_config_at("sdconnect.yaml", NULL, sd.port, busy_at);
  ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
  wait_log(&daemon_, "reload refused", 1);
  {
    const char *want[] = {UP("a", "1"), "sdconnect_reloads_total{result=\"refused\"} 1\n",
                          NULL};
    wait_for(want, NULL);
  }
  /* another directory and another port: both taken */
  r2 = second_directory(&sd2, "z", NULL, NULL);
  snprintf(moved_to, sizeof(moved_to), "127.0.0.1:%d", moved);
  write_config_at("sdconnect.yaml", NULL, sd2.port, moved_to);
  ck_assert_int_eq(kill(daemon_.pid, SIGHUP), 0);
  wait_log(&daemon_, "msg=reloaded", 1);
  daemon_.port = moved;
  {
    const char *want[] = {UP("z", "1"), "sdconnect_reloads_total{result=\"ok\"} 1\n", NULL};
    const char *gone[] = {EP("a"), NULL};
    wait_for(want, gone);
  }
  ck_assert_int_eq(tproc_stop(&daemon_, 15000), 0);
  daemon_.pid = 0;
  sdc_resolver_free(r2);
  tproc_stop(&sd2, 5000);
  tproc_rmdir(sd2.dir);
  close(busy_fd);
}
END_TEST

/* ---- the log: JSON lines, debug on SIGUSR1, one line per failure ---------------- */
/* Every line of the log is one JSON object; how many hold `needle`. */
static unsigned json_lines_with(const struct tproc *p, const char *needle)
{
  char line[4096];
  unsigned n = 0;
  FILE *f = fopen(p->log, "r");

  ck_assert_ptr_nonnull(f);
  while(fgets(line, sizeof(line), f)) {
    json_error_t e;
    json_t *j = json_loads(line, 0, &e);
    ck_assert_msg(j && json_is_object(j), "not a JSON object: %s", line);
    ck_assert_ptr_nonnull(json_object_get(j, "time"));
    ck_assert_ptr_nonnull(json_object_get(j, "severity"));
    ck_assert_ptr_nonnull(json_object_get(j, "message"));
    n += strstr(line, needle) != NULL;
    json_decref(j);
  }
  fclose(f);
  return n;
}

static void wait_json_line(const struct tproc *p, const char *needle)
{
  for(int i = 0; i < 100 && !json_lines_with(p, needle); i++)
    tproc_sleep_ms(200);
  ck_assert_msg(json_lines_with(p, needle) > 0, "no log line with %s", needle);
}

START_TEST(the_log_is_json_on_request_and_debug_on_sigusr1)
{
  int refused = tproc_closed_port(&closed_fd);
  const char *argv[] = {tproc_sdconnect(), "serve", "--config", tproc_path(dir, "log.yaml"),
                        "--log-format", "json", NULL};
  const char *sd_argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                           "127.0.0.1:0", "--log-format", "json", NULL};
  struct tproc s2 = {0};

  endpoint("down", refused, true);
  write_config("log.yaml", NULL);
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "%s", daemon_.log);
  /* one line per failed probe, with the reason and why */
  wait_json_line(&daemon_, "\"message\":\"probe failed\"");
  ck_assert_uint_gt(json_lines_with(&daemon_, "\"severity\":\"WARNING\",\"component\":\"daemon\","
                                              "\"message\":\"probe failed\",\"check\":\"web\""), 0);
  ck_assert_uint_gt(json_lines_with(&daemon_, "\"reason\":\"connect_refused\""), 0);
  ck_assert_uint_gt(json_lines_with(&daemon_, "\"why\":\""), 0);
  ck_assert_uint_eq(json_lines_with(&daemon_, "\"message\":\"run started\""), 0); /* debug */
  kill(daemon_.pid, SIGUSR1);
  wait_json_line(&daemon_, "\"level\":\"debug\"");
  wait_json_line(&daemon_, "\"message\":\"run started\"");
  kill(daemon_.pid, SIGUSR1);
  wait_json_line(&daemon_, "\"level\":\"info\"");
  ck_assert_int_eq(tproc_stop(&daemon_, 15000), 0);
  ck_assert_uint_gt(json_lines_with(&daemon_, "\"message\":\"stopped\""), 0);
  daemon_.pid = 0;
  /* the local directory too */
  ck_assert_msg(tproc_start(&s2, sd_argv, true) == 0, "%s", s2.log);
  ck_assert_int_eq(tproc_stop(&s2, 15000), 0);
  ck_assert_uint_gt(json_lines_with(&s2, "\"component\":\"localsd\",\"message\":\"listening\""), 0);
  tproc_rmdir(s2.dir);
  { /* a format nobody knows is a usage error */
    struct tproc bad = {0};
    const char *b[] = {tproc_sdconnect(), "serve", "--log-format", "xml", NULL};
    ck_assert_int_eq(tproc_run(&bad, b), 2);
    ck_assert(tproc_log_has(&bad, "--log-format xml: give logfmt or json"));
    tproc_rmdir(bad.dir);
  }
}
END_TEST

/* ---- replicas: several daemons split the endpoints ------------------------------ */
/* Endpoint names in `port`'s probe_success lines, as one string. */
static void owned_endpoints(int port, char *out, size_t cap)
{
  static char buf[65536];
  const char *p;
  int saved = daemon_.port;

  daemon_.port = port;
  scrape(buf, sizeof(buf));
  daemon_.port = saved;
  out[0] = '\0';
  for(p = buf; (p = strstr(p, "probe_success{")); p++) {
    const char *e = strstr(p, "/endpoints/"), *q;
    if(!e || !(q = strchr(e, '"')))
      break;
    snprintf(out + strlen(out), cap - strlen(out), "%.*s ", (int)(q - e - 11), e + 11);
  }
}

START_TEST(replicas_probe_each_endpoint_once_between_them)
{
  struct tproc rep[3] = {{0}};
  char names[3][1024];
  unsigned total = 0;

  for(int i = 0; i < 12; i++) {
    char id[8];
    snprintf(id, sizeof(id), "e%d", i);
    endpoint(id, httpd.port, true);
  }
  for(unsigned k = 0; k < 3; k++) {
    char cfg[32], state[32], index[4];
    FILE *f;
    snprintf(cfg, sizeof(cfg), "replica%u.yaml", k);
    snprintf(state, sizeof(state), "state%u", k);
    snprintf(index, sizeof(index), "%u", k);
    ck_assert_int_eq(mkdir(tproc_path(dir, state), 0700), 0);
    f = fopen(tproc_path(dir, cfg), "w");
    fprintf(f,
            "directory: {endpoint: '127.0.0.1:%d', insecure: true}\n"
            "checks:\n"
            "  - displayName: web\n"
            "    monitoredResource: {type: servicedirectory_service, labels: {project_id: p,"
            " location: us-central1, namespace_name: n, service_name: web}}\n"
            "    checkerType: VPC_CHECKERS\n"
            "    tcpCheck: {port: %d}\n"
            "    timeout: 2s\n"
            "    sdconnect: {period: 1s}\n"
            "admin: {listen: '127.0.0.1:0'}\n"
            "stateDir: %s\n",
            sd.port, httpd.port, tproc_path(dir, state));
    fclose(f);
    {
      const char *argv[] = {tproc_sdconnect(), "serve", "--config", tproc_path(dir, cfg),
                            "--replicas", "3", "--replica-index", index, NULL};
      ck_assert_msg(tproc_start(&rep[k], argv, true) == 0, "%s", rep[k].log);
    }
  }
  /* every replica has run the check at least once: wait for all 12 */
  for(int tries = 0; tries < 100; tries++) {
    total = 0;
    for(unsigned k = 0; k < 3; k++) {
      owned_endpoints(rep[k].port, names[k], sizeof(names[k]));
      for(const char *p = names[k]; (p = strchr(p, ' ')); p++)
        total++;
    }
    if(total >= 12)
      break;
    tproc_sleep_ms(200);
  }
  ck_assert_msg(total == 12, "the replicas probe %u endpoints: [%s] [%s] [%s]", total,
                names[0], names[1], names[2]);
  for(int i = 0; i < 12; i++) { /* each once, by its owner */
    char id[8], ep[200];
    unsigned holders = 0;
    snprintf(id, sizeof(id), "e%d ", i);
    snprintf(ep, sizeof(ep), SVC "/endpoints/e%d", i);
    for(unsigned k = 0; k < 3; k++) {
      bool has = strncmp(names[k], id, strlen(id)) == 0;
      char with_space[12];
      snprintf(with_space, sizeof(with_space), " %s", id);
      has |= strstr(names[k], with_space) != NULL;
      if(has) {
        holders++;
        ck_assert_uint_eq(sdc_shard_owner("web", ep, 3), k);
      }
    }
    ck_assert_msg(holders == 1, "e%d is probed by %u replicas", i, holders);
  }
  {
    static char buf[65536];
    daemon_.port = rep[2].port;
    scrape(buf, sizeof(buf));
    daemon_.port = 0;
    ck_assert_ptr_nonnull(strstr(buf, "sdconnect_shard_info{replica=\"2\",replicas=\"3\"} 1"));
  }
  for(unsigned k = 0; k < 3; k++) {
    ck_assert(tproc_log_has(&rep[k], "msg=sharding"));
    ck_assert_int_eq(tproc_stop(&rep[k], 15000), 0);
    tproc_rmdir(rep[k].dir);
  }
  { /* an index past the count, or a count without sense, is a usage error */
    struct tproc bad = {0};
    const char *a1[] = {tproc_sdconnect(), "serve", "--config", tproc_path(dir, "replica0.yaml"),
                        "--replicas", "3", "--replica-index", "3", NULL};
    const char *a2[] = {tproc_sdconnect(), "serve", "--config", tproc_path(dir, "replica0.yaml"),
                        "--replicas", "0", NULL};
    ck_assert_int_eq(tproc_run(&bad, a1), 2);
    ck_assert(tproc_log_has(&bad, "--replica-index 3: give a number from 0 to 2"));
    unlink(bad.log);
    ck_assert_int_eq(tproc_run(&bad, a2), 2);
    ck_assert(tproc_log_has(&bad, "--replicas 0: give the number of replicas"));
    unlink(bad.log);
    { /* a port file it cannot write stops it: its starter would wait in vain */
      char cfg[200], nowhere[200], want[300];
      const char *a3[] = {tproc_sdconnect(), "serve", "--config", cfg, "--replicas", "3",
                          "--replica-index", "0", "--port-file", nowhere, NULL};
      snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "replica0.yaml"));
      snprintf(nowhere, sizeof(nowhere), "%s", tproc_path(dir, "no-such-folder/port"));
      snprintf(want, sizeof(want), "msg=\"cannot write --port-file\" path=\"%s\"", nowhere);
      ck_assert_int_eq(tproc_run(&bad, a3), 1);
      ck_assert(tproc_log_has(&bad, want));
    }
    tproc_rmdir(bad.dir);
  }
}
END_TEST

START_TEST(a_directory_that_goes_away_leaves_the_last_endpoints_probed)
{
  char cfg[200], db[200], listen_at[64];
  const char *argv[] = {tproc_sdconnect(), "serve", "--config", cfg, NULL};
  const char *again[] = {tproc_sdconnect(), "sd-server", "--db", db, "--listen", listen_at,
                         NULL};
  struct tproc sd2 = {0};
  sdc_resolver *r2;

  snprintf(db, sizeof(db), "%s", tproc_path(dir, "registry.db"));
  snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%d", tproc_free_port());
  r2 = second_directory(&sd2, "a", db, listen_at);
  sdc_resolver_free(r2);
  write_config_at("sdconnect.yaml", NULL, sd2.port, "127.0.0.1:0");
  snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "sdconnect.yaml"));
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "%s", daemon_.log);
  {
    const char *want[] = {UP("a", "1"), "sdconnect_directory_stale{check=\"web\"} 0\n",
                          "sdconnect_directory_resolves_total{check=\"web\",result=\"ok\"}",
                          "sdconnect_pool_connections_opened_total ", NULL};
    wait_for(want, NULL);
  }
  /* stopped: its last answer is probed, and the result says it is stale */
  ck_assert_int_eq(tproc_stop(&sd2, 5000), 0);
  {
    const char *want[] = {UP("a", "1"), "sdconnect_directory_stale{check=\"web\"} 1\n",
                          "sdconnect_directory_resolves_total{check=\"web\",result=\"stale\"}",
                          NULL};
    wait_for(want, NULL);
  }
  /* started again (the same file, the same port): fresh answers */
  ck_assert_msg(tproc_start(&sd2, again, true) == 0, "%s", sd2.log);
  {
    const char *want[] = {UP("a", "1"), "sdconnect_directory_stale{check=\"web\"} 0\n", NULL};
    wait_for(want, NULL);
  }
  ck_assert_int_eq(tproc_stop(&daemon_, 15000), 0);
  daemon_.pid = 0;
  tproc_stop(&sd2, 5000);
  tproc_rmdir(sd2.dir);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("serve");
  TCase *tc = tcase_create("serve");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 180);
  tcase_add_test(tc, serve_probes_reloads_and_stops);
  tcase_add_test(tc, a_bad_configuration_stops_before_anything_runs);
  tcase_add_test(tc, the_local_directory_runs_in_the_daemon);
  tcase_add_test(tc, the_history_is_kept_across_a_restart);
  tcase_add_test(tc, the_status_page_shows_every_endpoint_in_a_browser);
  tcase_add_test(tc, dev_mode_runs_everything_on_one_machine);
  tcase_add_test(tc, a_reload_moves_the_directory_and_the_admin_listener);
  tcase_add_test(tc, a_directory_that_goes_away_leaves_the_last_endpoints_probed);
  tcase_add_test(tc, replicas_probe_each_endpoint_once_between_them);
  tcase_add_test(tc, the_log_is_json_on_request_and_debug_on_sigusr1);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
