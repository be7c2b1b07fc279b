/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: webhooks called as Dialogflow CX calls them, against real
 * HTTPS servers on 127.0.0.1 (tests/servers/httpd, whose /echo answers
 * with what it received: method, Host, SNI, Authorization, content type)
 * with certificates made here, reached through a local Service Directory:
 * SNI and Host are the URL's host while the resolved endpoint is dialed;
 * the custom CA; Basic auth from a secret file; every failure's event,
 * status and retry. Every process is stopped by its PID.
 */
#include "certs.h"
#include "fakehttp.h"
#include "proc.h"
#include "run_all.h"
#include "sdclient.h"

#include <sdconnect/sdconnect.h>

#include <check.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOST "hook.internal"
#define NS "projects/p/locations/us-central1/namespaces/n"
#define AGENT "projects/p/locations/us-central1/agents/a"
#define PASSWORD "s3cret-Pa55"

static char dir[64];
static struct tproc sd, tls;
static sdc_resolver *res;
static sdc_pool *pool;
static sdc_webhook_caller *caller;
static char ca_b64[8192];
static int closed_fd = -1, closed_port;

static void service(const char *id, int port)
{
  char name[200], ename[260];

  snprintf(name, sizeof(name), NS "/services/%s", id);
  snprintf(ename, sizeof(ename), "%s/endpoints/e0", name);
  ck_assert_int_eq(tsd_service(res, name), 0);
  ck_assert_int_eq(tsd_endpoint(res, ename, "127.0.0.1", port), 0);
}

static void setup(void)
{
  const char *sd_argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                           "127.0.0.1:0", NULL};
  const char *bin = getenv("SDC_HTTPD_BIN");
  char crt[128], key[128];
  const char *h_argv[] = {bin && *bin ? bin : "httpd", "--cert", crt, "--key", key, NULL};
  struct tcert_opts ca_o = {"webhook test CA", NULL, -1, 30, true, false};
  struct tcert_opts srv_o = {HOST, "DNS:" HOST ",DNS:localhost,IP:127.0.0.1", -1, 30, false,
                             false};
  struct tcert_opts cl_o = {"dialogflow", NULL, -1, 30, false, true};
  struct tcert *ca, *srv, *cl;
  sdc_pool_opts *po = NULL;
  FILE *f;

  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  memset(&sd, 0, sizeof(sd));
  memset(&tls, 0, sizeof(tls));
  ca = tcert_new(&ca_o, NULL);
  srv = tcert_new(&srv_o, ca);
  ck_assert_int_eq(tcert_write(srv, dir, "server"), 0);
  ck_assert_int_eq(tcert_write_der(ca, dir, "ca"), 0);
  ck_assert_int_eq(tcert_write(ca, dir, "ca"), 0);
  cl = tcert_new(&cl_o, ca); /* a client certificate, for mTLS */
  ck_assert_int_eq(tcert_write(cl, dir, "client"), 0);
  tcert_free(cl);
  tcert_free(ca);
  tcert_free(srv);
  { /* the CA as the API takes it: DER, base64 */
    unsigned char der[4096];
    FILE *d = fopen(tproc_path(dir, "ca.der"), "rb");
    size_t n = fread(der, 1, sizeof(der), d);
    fclose(d);
    EVP_EncodeBlock((unsigned char *)ca_b64, der, (int)n);
  }
  f = fopen(tproc_path(dir, "basic"), "w");
  fputs("agent:" PASSWORD "\n", f);
  fclose(f);
  snprintf(crt, sizeof(crt), "%s", tproc_path(dir, "server.pem"));
  snprintf(key, sizeof(key), "%s", tproc_path(dir, "server.key"));
  ck_assert_int_eq(tproc_start(&sd, sd_argv, true), 0);
  ck_assert_int_eq(tproc_start(&tls, h_argv, true), 0);
  ck_assert_ptr_nonnull(res = tsd_client(sd.port, -1));
  ck_assert_int_eq(tsd_namespace(res, NS), 0);
  service("hook", tls.port);
  closed_port = tproc_closed_port(&closed_fd);
  service("closed", closed_port);
  sdc_pool_opts_new(&po);
  sdc_pool_opts_set_max_body(po, 1u << 20);
  ck_assert_int_eq(sdc_pool_new(&pool, po), SDC_OK);
  sdc_pool_opts_free(po);
  ck_assert_int_eq(sdc_webhook_caller_new(&caller, pool, res), SDC_OK);
}

static void teardown(void)
{
  sdc_webhook_caller_free(caller);
  sdc_pool_free(pool);
  sdc_resolver_free(res);
  if(closed_fd >= 0)
    close(closed_fd);
  closed_fd = -1;
  tproc_stop(&tls, 5000);
  tproc_stop(&sd, 5000);
  tproc_rmdir(tls.dir);
  tproc_rmdir(sd.dir);
  tproc_rmdir(dir);
  sdc_global_cleanup();
}

/* What a call reported, copied out of its callback. */
struct got {
  int done;
  sdc_webhook_outcome outcome, first;
  unsigned attempts;
  char detail[1100], body[8192], result[8192], shown[2048], endpoint[64], url[512];
};

static void on_result(const sdc_webhook_call_result *r, void *ud)
{
  struct got *g = ud;

  g->done = 1;
  g->outcome = r->outcome;
  g->first = r->first;
  g->attempts = r->attempts;
  snprintf(g->detail, sizeof(g->detail), "%s", r->detail ? r->detail : "");
  snprintf(g->url, sizeof(g->url), "%s", r->url ? r->url : "");
  snprintf(g->result, sizeof(g->result), "%s", r->result_json ? r->result_json : "");
  if(r->response) {
    snprintf(g->body, sizeof(g->body), "%s", r->response->body);
    snprintf(g->endpoint, sizeof(g->endpoint), "%s", r->response->endpoint);
  }
  for(size_t i = 0; r->headers_shown && r->headers_shown[i]; i++) {
    size_t n = strlen(g->shown);
    snprintf(g->shown + n, sizeof(g->shown) - n, "%s\n", r->headers_shown[i]);
  }
}

/* Load `yaml` (under `environment`, or NULL) and call its first webhook
 * with `input`. */
static void call_in(const char *yaml, const char *environment, const char *input,
                    struct got *g)
{
  sdc_webhook_set *s = NULL;
  char *errs = NULL, path[128];
  FILE *f;

  snprintf(path, sizeof(path), "%s", tproc_path(dir, "hook.yaml"));
  f = fopen(path, "w");
  fputs(yaml, f);
  fclose(f);
  ck_assert_msg(sdc_webhooks_load_file(path, environment, &s, &errs) == SDC_OK, "%s", errs);
  memset(g, 0, sizeof(*g));
  ck_assert_int_eq(sdc_webhook_call(caller, sdc_webhook_set_get(s, 0), input, on_result, g),
                   SDC_OK);
  ck_assert_int_eq(g->done, 0); /* never inside the call */
  for(int i = 0; i < 600 && !g->done; i++)
    sdc_pool_perform(pool, 100);
  ck_assert(g->done);
  sdc_webhook_set_free(s);
}

static void call(const char *yaml, const char *input, struct got *g)
{
  call_in(yaml, NULL, input, g);
}

/* A Service Directory webhook at `path` of the test server. */
static void hook_yaml(char *out, size_t cap, const char *svc, const char *path,
                      const char *timeout, const char *extra_web)
{
  snprintf(out, cap,
           "name: " AGENT "/webhooks/orders\n"
           "displayName: orders\n"
           "timeout: %s\n"
           "serviceDirectory:\n"
           "  service: " NS "/services/%s\n"
           "  genericWebService:\n"
           "    uri: https://" HOST "%s\n"
           "    allowedCaCerts: ['%s']\n"
           "%s",
           timeout, svc, path, ca_b64, extra_web ? extra_web : "");
}

START_TEST(a_standard_call_dials_the_endpoint_with_the_url_host)
{
  char yaml[12000];
  struct got g;
  json_t *echo;

  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s",
            "    requestHeaders: {X-Team: sre}\n"
            "    secretVersionForUsernamePassword: projects/p/secrets/basic/versions/1\n"
            "sdconnect:\n"
            "  secrets:\n"
            "    projects/p/secrets/basic/versions/1: {file: basic}\n");
  call(yaml, "{\"detectIntentResponseId\": \"r1\", \"sessionInfo\": {\"parameters\": {\"a\": 1}}}",
       &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
  ck_assert_int_eq(g.outcome.rpc_code, 0);
  ck_assert_ptr_null(g.outcome.event);
  ck_assert_uint_eq(g.attempts, 1);
  ck_assert_int_eq(g.outcome.http_status, 200);
  echo = json_loads(g.body, 0, NULL);
  ck_assert_ptr_nonnull(echo);
  ck_assert_str_eq(json_string_value(json_object_get(echo, "sni")), HOST);
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(echo, "host")), HOST));
  ck_assert_str_eq(json_string_value(json_object_get(echo, "method")), "POST");
  ck_assert_str_eq(json_string_value(json_object_get(echo, "content_type")), "application/json");
  { /* Basic from the secret file, sent but never shown */
    char b64[128];
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)"agent:" PASSWORD,
                    (int)strlen("agent:" PASSWORD));
    ck_assert_str_eq(json_string_value(json_object_get(echo, "authorization")) + 6, b64);
    ck_assert_ptr_nonnull(strstr(g.shown, "Authorization: ****\n"));
    ck_assert_ptr_null(strstr(g.shown, b64));
    ck_assert_ptr_null(strstr(g.detail, PASSWORD));
  }
  json_decref(echo);
  { /* dialed: the resolved endpoint */
    char want[64];
    snprintf(want, sizeof(want), "127.0.0.1:%d", tls.port);
    ck_assert_str_eq(g.endpoint, want);
  }
  /* the echo is a WebhookResponse with unknown fields only: the turn keeps its state */
  ck_assert_ptr_nonnull(strstr(g.result, "\"parameters\":{\"a\":1}"));
  { /* once the pool knows the target, calls reuse its connection */
    unsigned long opened;
    call(yaml, "{}", &g);
    opened = sdc_pool_connections_opened(pool);
    call(yaml, "{}", &g);
    ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
    ck_assert_uint_eq(sdc_pool_connections_opened(pool), opened);
  }
  { /* a plain URL: its host is looked up (in /etc/hosts, or the address stands
     * in), never blocking */
    char plain[12000];
    const char *name = tproc_loopback_name();
    snprintf(plain, sizeof(plain),
             "displayName: plain\n"
             "genericWebService:\n"
             "  uri: https://%s:%d/echo\n"
             "  allowedCaCerts: ['%s']\n", name, tls.port, ca_b64);
    call(plain, "{}", &g);
    ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s: %s", name, g.detail);
    if(!strcmp(name, "localhost"))
      ck_assert_ptr_nonnull(strstr(g.body, "\"sni\":\"localhost\""));
  }
}
END_TEST

START_TEST(every_failure_has_its_event_status_and_retry)
{
  static const struct {
    const char *svc, *path, *timeout;
    sdc_webhook_failure f;
    const char *event;
    int code;
    unsigned attempts;
  } cases[] = {
      {"hook", "/status/503", "5s", SDC_WEBHOOK_HTTP_STATUS, "webhook.error.unavailable", 14, 2},
      {"hook", "/status/502", "5s", SDC_WEBHOOK_HTTP_STATUS, "webhook.error", 13, 2},
      {"hook", "/status/500", "5s", SDC_WEBHOOK_HTTP_STATUS, "webhook.error", 13, 1},
      {"hook", "/status/404", "5s", SDC_WEBHOOK_HTTP_STATUS, "webhook.error", 5, 1},
      {"hook", "/status/400", "5s", SDC_WEBHOOK_HTTP_STATUS, "webhook.error.bad-request", 3, 1},
      {"hook", "/status/401", "5s", SDC_WEBHOOK_HTTP_STATUS, "webhook.error.rejected", 16, 1},
      {"hook", "/status/403", "5s", SDC_WEBHOOK_HTTP_STATUS, "webhook.error.rejected", 7, 1},
      {"hook", "/slow?ms=3000", "1s", SDC_WEBHOOK_TIMEOUT, "webhook.error.timeout", 4, 2},
      {"hook", "/big?bytes=70000", "5s", SDC_WEBHOOK_TOO_LARGE, "webhook.error", 13, 1},
      {"closed", "/echo", "2s", SDC_WEBHOOK_CONNECT, "webhook.error.not-found", 14, 2},
      {"hook", "/hangup", "2s", SDC_WEBHOOK_BAD_RESPONSE, "webhook.error", 13, 1},
  };
  char yaml[12000];
  struct got g;

  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    hook_yaml(yaml, sizeof(yaml), cases[i].svc, cases[i].path, cases[i].timeout, NULL);
    call(yaml, "{}", &g);
    ck_assert_msg(g.outcome.failure == cases[i].f, "%s: failure %s (%s)", cases[i].path,
                  sdc_webhook_failure_name(g.outcome.failure), g.detail);
    ck_assert_str_eq(g.outcome.event, cases[i].event);
    ck_assert_int_eq(g.outcome.rpc_code, cases[i].code);
    ck_assert_msg(g.attempts == cases[i].attempts, "%s: %u attempts", cases[i].path,
                  g.attempts);
    if(g.attempts == 2)
      ck_assert_int_eq(g.first.failure, cases[i].f);
  }
  /* a bracketed IPv6 literal is dialed as it is, not looked up */
  {
    char v6[2048];
    snprintf(v6, sizeof(v6), "displayName: v6\ngenericWebService: {uri: 'https://[::1]:%d/'}\n",
             closed_port);
    call(v6, "{}", &g);
    ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_CONNECT);
    ck_assert_msg(!strstr(g.detail, "cannot find"), "%s", g.detail);
    ck_assert_ptr_nonnull(strstr(g.detail, "[::1]"));
  }
  /* no custom CA: the system store does not know the test CA */
  {
    char plain[2048];
    snprintf(plain, sizeof(plain),
             "displayName: untrusted\n"
             "serviceDirectory:\n"
             "  service: " NS "/services/hook\n"
             "  genericWebService: {uri: 'https://" HOST "/echo'}\n"
             "sdconnect: {agent: " AGENT "}\n");
    call(plain, "{}", &g);
    ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_TLS);
    ck_assert_str_eq(g.outcome.event, "webhook.error.not-found");
    ck_assert_uint_eq(g.attempts, 1);
  }
}
END_TEST

START_TEST(flexible_calls_render_and_map)
{
  char yaml[12000];
  struct got g;

  hook_yaml(yaml, sizeof(yaml), "hook", "/echo?order=$session.params.id", "5s",
            "    webhookType: FLEXIBLE\n"
            "    httpMethod: PUT\n"
            "    requestBody: '{\"id\": \"$session.params.id\", \"n\": \"$session.params.n\"}'\n"
            "    parameterMapping: {seen_method: $.method, seen_len: $.body_len, nothing: $.x}\n");
  call(yaml, "{\"session\": {\"id\": \"A 1\", \"n\": 3}}", &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
  ck_assert_str_eq(g.url, "https://" HOST "/echo?order=A%201");
  ck_assert_ptr_nonnull(strstr(g.body, "\"path\":\"/echo?order=A%201\""));
  ck_assert_ptr_nonnull(strstr(g.result, "\"seen_method\":\"PUT\""));
  { /* what was sent: the string stays a string, the number loses its quotes */
    char want[64];
    snprintf(want, sizeof(want), "\"seen_len\":%zu", strlen("{\"id\": \"A 1\", \"n\": 3}"));
    ck_assert_msg(strstr(g.result, want) != NULL, "%s", g.result);
  }
  ck_assert_ptr_nonnull(strstr(g.result, "\"missing\":[\"nothing\"]"));
}
END_TEST

START_TEST(calls_that_cannot_be_made_still_report_on_the_loop)
{
  char yaml[12000];
  struct got g;

  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s", "disabled: true\n");
  call(yaml, "{}", &g);
  ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_DISABLED);
  ck_assert_uint_eq(g.attempts, 0);
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s",
            "    secretVersionsForRequestHeaders: {X-Key: {secretVersion: "
            "projects/p/secrets/k/versions/1}}\n"
            "sdconnect:\n"
            "  secrets: {projects/p/secrets/k/versions/1: {env: SDC_TEST_UNSET_VARIABLE}}\n");
  unsetenv("SDC_TEST_UNSET_VARIABLE");
  call(yaml, "{}", &g);
  ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_AUTH);
  ck_assert_ptr_nonnull(strstr(g.detail, "SDC_TEST_UNSET_VARIABLE is not set"));
}
END_TEST

START_TEST(sdconnect_call_shows_every_layer_and_no_secret)
{
  char yaml[12000], path[128], sd_ep[64];
  const char *argv[] = {tproc_sdconnect(), "call", path, "--sd-endpoint", sd_ep, "--insecure",
                        "--text", "hi", "--param", "n=2", "-v", NULL};
  struct tproc p = {0};
  FILE *f;

  ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
  snprintf(path, sizeof(path), "%s", tproc_path(dir, "cli.yaml"));
  snprintf(sd_ep, sizeof(sd_ep), "127.0.0.1:%d", sd.port);
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s",
            "    secretVersionForUsernamePassword: projects/p/secrets/basic/versions/1\n"
            "sdconnect:\n"
            "  secrets:\n"
            "    projects/p/secrets/basic/versions/1: {file: basic}\n");
  f = fopen(path, "w");
  fputs(yaml, f);
  fclose(f);
  ck_assert_int_eq(tproc_run(&p, argv), 0);
  ck_assert_msg(tproc_log_has(&p, "SNI, certificate name and Host: " HOST), "%s", p.log);
  ck_assert(tproc_log_has(&p, "Authorization: ****"));
  ck_assert(tproc_log_has(&p, "result: ok  status OK (0)  $request.webhook_status_code 200"));
  ck_assert(tproc_log_has(&p, "\"parameters\":{\"n\":2}"));
  ck_assert(!tproc_log_has(&p, PASSWORD));
  { /* nor in its Base64 form */
    char b64[128];
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)"agent:" PASSWORD,
                    (int)strlen("agent:" PASSWORD));
    ck_assert(!tproc_log_has(&p, b64));
  }
  /* a failure as Dialogflow counts it: exit 3, with the event and status */
  hook_yaml(yaml, sizeof(yaml), "hook", "/status/503", "5s", NULL);
  f = fopen(path, "w");
  fputs(yaml, f);
  fclose(f);
  unlink(p.log);
  ck_assert_int_eq(tproc_run(&p, argv), 3);
  ck_assert_msg(tproc_log_has(&p, "event webhook.error.unavailable  status UNAVAILABLE (14)"),
                "%s", p.log);
  ck_assert(tproc_log_has(&p, "retried once as Dialogflow does"));
  { /* the scan of outputs finds what it is told to: a header value shown on purpose */
    pid_t child;
    int st = 0;
    hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s",
              "    requestHeaders: {X-Team: visible-in-the-output}\n");
    f = fopen(path, "w");
    fputs(yaml, f);
    fclose(f);
    unlink(p.log);
    if((child = fork()) == 0) {
      tproc_secret("a value -v shows", "visible-in-the-output");
      tproc_run(&p, argv);
      _exit(0); /* not reached: the scan aborts */
    }
    ck_assert_int_eq(waitpid(child, &st, 0), child);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "the scan did not catch it");
  }
  /* what the API refuses: exit 2, with the place */
  f = fopen(path, "w");
  fputs("displayName: x\ngenericWebService: {uri: 'http://x/'}\n", f);
  fclose(f);
  unlink(p.log);
  ck_assert_int_eq(tproc_run(&p, argv), 2);
  ck_assert_msg(tproc_log_has(&p, "cli.yaml:2:26: genericWebService.uri: 'http://x/' is not "
                                  "an https URL"), "%s", p.log);
  tproc_rmdir(p.dir);
}
END_TEST

START_TEST(a_call_or_fetch_without_a_file_takes_a_short_service_name)
{
  char sd_ep[64], ca_pem[128], ca_der[128];
  struct tproc p = {0};

  ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
  snprintf(sd_ep, sizeof(sd_ep), "127.0.0.1:%d", sd.port);
  snprintf(ca_pem, sizeof(ca_pem), "%s", tproc_path(dir, "ca.pem"));
  snprintf(ca_der, sizeof(ca_der), "%s", tproc_path(dir, "ca.der"));
  { /* call --url through the service, named short; the CA as PEM, then DER */
    const char *argv[] = {tproc_sdconnect(), "call", "--url", "https://" HOST "/echo",
                          "--service", "hook", "--namespace", "n", "--location", "us-central1",
                          "--project", "p", "--webhook-ca", ca_pem, "--sd-endpoint", sd_ep,
                          "--insecure", "--json", NULL};
    json_t *j;
    ck_assert_msg(tproc_run(&p, argv) == 0, "%s", p.log);
    j = json_load_file(p.log, 0, NULL);
    ck_assert_msg(j != NULL, "--json printed no JSON object");
    json_decref(j);
    unlink(p.log);
    argv[13] = ca_der;
    argv[17] = NULL; /* the table form */
    ck_assert_msg(tproc_run(&p, argv) == 0, "%s", p.log);
    ck_assert_msg(tproc_log_has(&p, "webhook adhoc (standard) POST https://" HOST "/echo") &&
                  tproc_log_has(&p, "result: ok"), "%s", p.log);
    unlink(p.log);
    argv[13] = tproc_path(dir, "client.pem"); /* not the CA: Dialogflow's TLS failure */
    ck_assert_int_eq(tproc_run(&p, argv), 3);
    ck_assert_msg(tproc_log_has(&p, "webhook.error"), "%s", p.log);
    unlink(p.log);
  }
  { /* fetch --service with the short name: the same endpoint, the URL's host for TLS */
    const char *argv[] = {tproc_sdconnect(), "fetch", "https://" HOST "/echo", "--service",
                          "hook", "--namespace", "n", "--location", "us-central1", "--project",
                          "p", "--ca", ca_pem, "--sd-endpoint", sd_ep, "--insecure", NULL};
    ck_assert_int_eq(tproc_run(&p, argv), 0);
    ck_assert_msg(tproc_log_has(&p, "\"sni\":\"" HOST "\""), "%s", p.log);
    unlink(p.log);
    argv[5] = "--location"; /* no namespace now: a usage error that says what is missing */
    argv[6] = "us-central1";
    ck_assert_int_eq(tproc_run(&p, argv), 2);
    ck_assert(tproc_log_has(&p, "needs --namespace"));
    unlink(p.log);
  }
  { /* what the flags cannot make is refused before any call */
    const char *a1[] = {tproc_sdconnect(), "call", "--url", "http://" HOST "/", NULL};
    const char *a2[] = {tproc_sdconnect(), "call", "--service", "hook", NULL};
    const char *a3[] = {tproc_sdconnect(), "call", "--url", "https://" HOST "/", "--webhook-ca",
                        tproc_path(dir, "basic"), NULL};
    const char *a4[] = {tproc_sdconnect(), "call", "--url", "https://" HOST "/", "--project",
                        "p", NULL};
    const char *a5[] = {tproc_sdconnect(), "call", "hooks.yaml", "--namespace", "n", NULL};
    ck_assert_int_eq(tproc_run(&p, a1), 2);
    ck_assert(tproc_log_has(&p, "is not an https URL"));
    unlink(p.log);
    ck_assert_int_eq(tproc_run(&p, a2), 2);
    ck_assert(tproc_log_has(&p, "go with --url"));
    unlink(p.log);
    ck_assert_int_eq(tproc_run(&p, a3), 2);
    ck_assert(tproc_log_has(&p, "no certificate in it"));
    for(int i = 0; i < 2; i++) { /* name flags with nothing to complete */
      unlink(p.log);
      ck_assert_int_eq(tproc_run(&p, i ? a5 : a4), 2);
      ck_assert(tproc_log_has(&p, "complete a short --service name; there is no --service"));
    }
  }
  tproc_rmdir(p.dir);
}
END_TEST

static void token_server(const struct fakehttp_req *req, int *status, char *body, size_t cap,
                         void *ud)
{
  int *issued = ud;

  (void)req;
  *status = 200;
  snprintf(body, cap, "{\"access_token\": \"tok-%d\", \"token_type\": \"Bearer\", "
                      "\"expires_in\": 3600}", ++*issued);
}

START_TEST(oauth_tokens_are_fetched_cached_and_refreshed_once_on_401)
{
  char yaml[12000], extra[1024];
  struct got g;
  int issued = 0, port;
  struct fakehttp *fh = fakehttp_start(token_server, &issued, &port);
  struct fakehttp_req last;

  ck_assert_ptr_nonnull(fh);
  setenv("SDC_TEST_CLIENT_SECRET", "cl1ent-s3cret", 1);
  snprintf(extra, sizeof(extra),
           "    requestHeaders: {X-Team: sre}\n"
           "    oauthConfig:\n"
           "      clientId: dialogflow\n"
           "      secretVersionForClientSecret: projects/p/secrets/cs/versions/2\n"
           "      tokenEndpoint: https://auth.example/token\n"
           "      scopes: [orders.read, orders.write]\n"
           "sdconnect:\n"
           "  tokenEndpoint: http://127.0.0.1:%d/token\n"
           "  secrets: {projects/p/secrets/cs/versions/2: {env: SDC_TEST_CLIENT_SECRET}}\n",
           port);
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s", extra);
  call(yaml, "{}", &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
  ck_assert_ptr_nonnull(strstr(g.body, "\"authorization\":\"Bearer tok-1\""));
  ck_assert_ptr_nonnull(strstr(g.shown, "Authorization: ****"));
  fakehttp_last(fh, &last);
  ck_assert_str_eq(last.method, "POST");
  ck_assert_ptr_nonnull(strstr(last.body, "grant_type=client_credentials"));
  ck_assert_ptr_nonnull(strstr(last.body, "client_id=dialogflow"));
  ck_assert_ptr_nonnull(strstr(last.body, "client_secret=cl1ent-s3cret"));
  ck_assert_ptr_nonnull(strstr(last.body, "scope=orders.read+orders.write"));
  ck_assert_ptr_null(strstr(last.headers, "x-team")); /* the webhook's headers stay home */
  /* cached: the next call asks no token */
  call(yaml, "{}", &g);
  ck_assert_ptr_nonnull(strstr(g.body, "\"authorization\":\"Bearer tok-1\""));
  ck_assert_int_eq(issued, 1);
  /* a 401: a new token, once, then the answer stands */
  hook_yaml(yaml, sizeof(yaml), "hook", "/status/401", "5s", extra);
  call(yaml, "{}", &g);
  ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_HTTP_STATUS);
  ck_assert_str_eq(g.outcome.event, "webhook.error.rejected");
  ck_assert_uint_eq(g.attempts, 1);
  ck_assert_int_eq(issued, 2);
  ck_assert_ptr_null(strstr(g.detail, "cl1ent-s3cret"));
  ck_assert_ptr_null(strstr(g.detail, "tok-"));
  fakehttp_stop(fh);
}
END_TEST

/* Google, played on 127.0.0.1: the metadata server (the service agent's
 * ID and access tokens), IAM Credentials (a service account's token) and
 * Secret Manager. Answers only what carries the right credentials. */
struct google {
  int id_tokens, access_tokens, sa_tokens, secrets;
  char audience[512];
};

static uint32_t crc32c(const char *p)
{
  uint32_t crc = 0xFFFFFFFFu;

  for(; *p; p++) {
    crc ^= (unsigned char)*p;
    for(int k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static void google_server(const struct fakehttp_req *req, int *status, char *body, size_t cap,
                          void *ud)
{
  struct google *g = ud;
  const char *md = "/computeMetadata/v1/instance/service-accounts/default/";
  const char *q;

  *status = 200;
  if(!strncmp(req->path, md, strlen(md))) {
    if(!strstr(req->headers, "metadata-flavor: google")) {
      *status = 403;
      snprintf(body, cap, "{}");
    } else if(!strncmp(req->path + strlen(md), "identity?", 9)) {
      /* a JWT whose claims say it lives an hour */
      char claims[200], b64[300];
      long now = (long)time(NULL);
      q = strstr(req->path, "audience=");
      snprintf(g->audience, sizeof(g->audience), "%.*s", (int)strcspn(q + 9, "&"), q + 9);
      snprintf(claims, sizeof(claims), "{\"iat\":%ld,\"exp\":%ld}", now, now + 3600);
      EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)claims, (int)strlen(claims));
      for(char *c = b64; *c; c++) /* base64url without padding */
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c == '=' ? '\0' : *c;
      snprintf(body, cap, "eyJhbGciOiJSUzI1NiJ9.%s.id-%d", b64, ++g->id_tokens);
    } else {
      snprintf(body, cap, "{\"access_token\":\"agent-at-%d\",\"expires_in\":3600}",
               ++g->access_tokens);
    }
    return;
  }
  if(!strstr(req->headers, "authorization: bearer agent-at-")) {
    *status = 401;
    snprintf(body, cap, "{\"error\":{\"code\":401,\"message\":\"no credentials\"}}");
  } else if(!strcmp(req->path, "/v1/projects/-/serviceAccounts/hooks@p.iam.gserviceaccount.com"
                               ":generateAccessToken")) {
    char when[40];
    time_t t = time(NULL) + 3600;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(body, cap, "{\"accessToken\":\"sa-at-%d\",\"expireTime\":\"%s\"}", ++g->sa_tokens,
             when);
  } else if(strstr(req->path, "/secrets/basic/versions/1:access") ||
            strstr(req->path, "/secrets/corrupt/versions/1:access")) {
    const char *value = "agent:" PASSWORD;
    char b64[100];
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)value, (int)strlen(value));
    g->secrets++;
    snprintf(body, cap, "{\"name\":\"x\",\"payload\":{\"data\":\"%s\",\"dataCrc32c\":\"%u\"}}",
             b64, crc32c(value) + (strstr(req->path, "corrupt") ? 1u : 0u));
  } else {
    *status = 404;
    snprintf(body, cap, "{\"error\":{\"code\":404,\"message\":\"Secret Version not found\"}}");
  }
}

START_TEST(google_tokens_and_secret_manager_are_fetched_off_the_loop_and_cached)
{
  char yaml[12000], extra[1024], cfg[64];
  struct google gs = {0};
  struct got g;
  int port;
  struct fakehttp *fh = fakehttp_start(google_server, &gs, &port);

  ck_assert_ptr_nonnull(fh);
  ck_assert_int_eq(tproc_tmpdir(cfg), 0);
  snprintf(extra, sizeof(extra), "127.0.0.1:%d", port);
  setenv("GCE_METADATA_HOST", extra, 1);
  setenv("CLOUDSDK_CONFIG", cfg, 1); /* an empty gcloud directory: no other credentials */
  unsetenv("GOOGLE_APPLICATION_CREDENTIALS");

  /* the service agent's ID token, for the URL without its query */
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo?x=1", "5s",
            "    serviceAgentAuth: ID_TOKEN\n");
  call(yaml, "{}", &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
  ck_assert_str_eq(gs.audience, "https%3A%2F%2F" HOST "%2Fecho");
  ck_assert_ptr_nonnull(strstr(g.body, "\"authorization\":\"Bearer eyJhbGciOiJSUzI1NiJ9."));
  ck_assert_ptr_nonnull(strstr(g.body, ".id-1\""));
  ck_assert_ptr_nonnull(strstr(g.shown, "Authorization: ****"));
  call(yaml, "{}", &g); /* cached */
  ck_assert_ptr_nonnull(strstr(g.body, ".id-1\""));
  ck_assert_int_eq(gs.id_tokens, 1);

  /* its access token */
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s", "    serviceAgentAuth: ACCESS_TOKEN\n");
  call(yaml, "{}", &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
  ck_assert_ptr_nonnull(strstr(g.body, "\"authorization\":\"Bearer agent-at-1\""));

  /* a service account's token, minted with the agent's */
  snprintf(extra, sizeof(extra),
           "    serviceAccountAuthConfig: {serviceAccount: hooks@p.iam.gserviceaccount.com}\n"
           "sdconnect: {iamCredentialsEndpoint: 'http://127.0.0.1:%d'}\n", port);
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s", extra);
  call(yaml, "{}", &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
  ck_assert_ptr_nonnull(strstr(g.body, "\"authorization\":\"Bearer sa-at-1\""));
  call(yaml, "{}", &g);
  ck_assert_int_eq(gs.sa_tokens, 1);
  ck_assert_int_eq(gs.access_tokens, 1); /* the agent's, reused */

  /* Basic auth from Secret Manager, its checksum checked, then cached */
  snprintf(extra, sizeof(extra),
           "    secretVersionForUsernamePassword: projects/p/secrets/basic/versions/1\n"
           "sdconnect: {secretManagerEndpoint: 'http://127.0.0.1:%d'}\n", port);
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s", extra);
  call(yaml, "{}", &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
  {
    char b64[100], want[140];
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)"agent:" PASSWORD,
                    (int)strlen("agent:" PASSWORD));
    snprintf(want, sizeof(want), "\"authorization\":\"Basic %s\"", b64);
    ck_assert_ptr_nonnull(strstr(g.body, want));
  }
  call(yaml, "{}", &g);
  ck_assert_int_eq(gs.secrets, 1);

  /* a version that is not there, and data that does not match its checksum */
  snprintf(extra, sizeof(extra),
           "    secretVersionsForRequestHeaders:\n"
           "      X-Key: {secretVersion: projects/p/secrets/gone/versions/3}\n"
           "sdconnect: {secretManagerEndpoint: 'http://127.0.0.1:%d'}\n", port);
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s", extra);
  call(yaml, "{}", &g);
  ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_AUTH);
  ck_assert_msg(strstr(g.detail, "projects/p/secrets/gone/versions/3") &&
                strstr(g.detail, "HTTP 404") && strstr(g.detail, "no such secret or version"),
                "%s", g.detail);
  ck_assert_uint_eq(g.attempts, 0); /* nothing was sent */
  snprintf(extra, sizeof(extra),
           "    secretVersionForUsernamePassword: projects/p/secrets/corrupt/versions/1\n"
           "sdconnect: {secretManagerEndpoint: 'http://127.0.0.1:%d'}\n", port);
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo", "5s", extra);
  call(yaml, "{}", &g);
  ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_AUTH);
  ck_assert_msg(strstr(g.detail, "dataCrc32c"), "%s", g.detail);
  ck_assert_ptr_null(strstr(g.detail, PASSWORD));
  ck_assert_ptr_null(strstr(g.detail, "agent-at-"));

  /* a caller closed while a call waits for its token: the call ends then */
  {
    sdc_webhook_caller *c2 = NULL;
    sdc_webhook_set *set = NULL;
    unsigned asked = fakehttp_count(fh);
    char *errs = NULL;
    hook_yaml(yaml, sizeof(yaml), "hook", "/echo/closing", "5s",
              "    serviceAgentAuth: ID_TOKEN\n");
    ck_assert_int_eq(sdc_webhooks_load_mem("closing.yaml", yaml, strlen(yaml), NULL, &set,
                                           &errs), SDC_OK);
    ck_assert_int_eq(sdc_webhook_caller_new(&c2, pool, res), SDC_OK);
    memset(&g, 0, sizeof(g));
    ck_assert_int_eq(sdc_webhook_call(c2, sdc_webhook_set_get(set, 0), "{}", on_result, &g),
                     SDC_OK);
    sdc_webhook_caller_free(c2);
    ck_assert(g.done);
    ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_AUTH);
    ck_assert_msg(strstr(g.detail, "closing"), "%s", g.detail);
    /* a fetch already under way still ends (or none started): nothing comes of it */
    for(int i = 0; i < 25 && fakehttp_count(fh) == asked; i++)
      tproc_sleep_ms(20);
    sdc_pool_perform(pool, 50);
    sdc_webhook_set_free(set);
  }

  /* no credentials anywhere: the reason, at once */
  unsetenv("GCE_METADATA_HOST");
  setenv("SDCONNECT_DMI_PRODUCT_NAME", tproc_path(cfg, "none"), 1);
  hook_yaml(yaml, sizeof(yaml), "hook", "/echo/elsewhere", "5s",
            "    serviceAgentAuth: ID_TOKEN\n"); /* another audience: no cached source */
  call(yaml, "{}", &g);
  ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_AUTH);
  ck_assert_msg(strstr(g.detail, "no Google credentials found"), "%s", g.detail);
  unsetenv("SDCONNECT_DMI_PRODUCT_NAME");
  unsetenv("CLOUDSDK_CONFIG");
  fakehttp_stop(fh);
  tproc_rmdir(cfg);
}
END_TEST

START_TEST(mtls_and_environment_overrides)
{
  const char *bin = getenv("SDC_HTTPD_BIN");
  char crt[128], key[128], ca[128], yaml[12000], env[40000];
  const char *argv[] = {bin && *bin ? bin : "httpd", "--cert", crt, "--key", key,
                        "--client-ca", ca, NULL};
  struct tproc mtls = {0};
  struct got g;

  snprintf(crt, sizeof(crt), "%s", tproc_path(dir, "server.pem"));
  snprintf(key, sizeof(key), "%s", tproc_path(dir, "server.key"));
  snprintf(ca, sizeof(ca), "%s", tproc_path(dir, "ca.pem"));
  ck_assert_int_eq(tproc_start(&mtls, argv, true), 0); /* wants a client certificate */
  service("mtls", mtls.port);
  /* sdconnect.clientCertFile: presented when the server asks */
  hook_yaml(yaml, sizeof(yaml), "mtls", "/echo", "5s",
            "sdconnect: {clientCertFile: client.pem, clientKeyFile: client.key}\n");
  call(yaml, "{}", &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
  ck_assert_ptr_nonnull(strstr(g.body, "\"client_cn\":\"dialogflow\""));
  /* without one, the handshake fails, as Dialogflow's would */
  hook_yaml(yaml, sizeof(yaml), "mtls", "/echo", "5s", NULL);
  call(yaml, "{}", &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_TLS, "%s: %s",
                sdc_webhook_failure_name(g.outcome.failure), g.detail);
  ck_assert_msg(strstr(g.detail, "client certificate"), "%s", g.detail);
  /* an environment's override replaces the target: staging calls /echo?env=staging */
  hook_yaml(yaml, sizeof(yaml), "hook", "/status/500", "5s", NULL);
  { /* the webhook as a list item: indent its lines */
    char item[24000], *o = item;
    for(const char *p = yaml; *p; p++) {
      *o++ = *p;
      if(*p == '\n' && p[1])
        *o++ = ' ', *o++ = ' ';
    }
    *o = '\0';
    snprintf(env, sizeof(env),
             "- %s"
             "- name: " AGENT "/environments/staging\n"
             "  displayName: staging\n"
             "  webhookConfig:\n"
             "    webhookOverrides:\n"
             "      - name: " AGENT "/webhooks/orders\n"
             "        displayName: orders\n"
             "        serviceDirectory:\n"
             "          service: " NS "/services/hook\n"
             "          genericWebService:\n"
             "            uri: https://" HOST "/echo?env=staging\n"
             "            allowedCaCerts: ['%s']\n",
             item, ca_b64);
  }
  call_in(env, NULL, "{}", &g); /* as configured: HTTP 500 */
  ck_assert_int_eq(g.outcome.failure, SDC_WEBHOOK_HTTP_STATUS);
  call_in(env, "staging", "{}", &g);
  ck_assert_msg(g.outcome.failure == SDC_WEBHOOK_OK, "%s", g.detail);
  ck_assert_str_eq(g.url, "https://" HOST "/echo?env=staging");
  tproc_stop(&mtls, 5000);
  tproc_rmdir(mtls.dir);
}
END_TEST

int main(void)
{
  static char basic_b64[128];

  /* what no sdconnect process may print (its output is scanned at its end) */
  EVP_EncodeBlock((unsigned char *)basic_b64, (const unsigned char *)"agent:" PASSWORD,
                  (int)strlen("agent:" PASSWORD));
  tproc_secret("the Basic password", PASSWORD);
  tproc_secret("the Basic credentials in Base64", basic_b64);
  tproc_secret("the OAuth client secret", "cl1ent-s3cret");
  tproc_secret("the service agent's access token", "agent-at-1");
  tproc_secret("the service account's token", "sa-at-1");

  Suite *s = suite_create("webhook");
  TCase *tc = tcase_create("call");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, a_standard_call_dials_the_endpoint_with_the_url_host);
  tcase_add_test(tc, every_failure_has_its_event_status_and_retry);
  tcase_add_test(tc, flexible_calls_render_and_map);
  tcase_add_test(tc, calls_that_cannot_be_made_still_report_on_the_loop);
  tcase_add_test(tc, sdconnect_call_shows_every_layer_and_no_secret);
  tcase_add_test(tc, a_call_or_fetch_without_a_file_takes_a_short_service_name);
  tcase_add_test(tc, oauth_tokens_are_fetched_cached_and_refreshed_once_on_401);
  tcase_add_test(tc, google_tokens_and_secret_manager_are_fetched_off_the_loop_and_cached);
  tcase_add_test(tc, mtls_and_environment_overrides);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
