/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: the webhook gateway of `sdconnect serve`, as other callers
 * use it. A real HTTPS webhook server (tests/servers/httpd, whose /echo
 * tells what it got) is reached through a local Service Directory; the
 * gateway listens with TLS, mTLS and a bearer token, all with
 * certificates made here; clients are libcurl. Checked: the webhook's
 * answer comes back, dialed with the URL's host for SNI and Host; every
 * refusal (token, client certificate, path, method, size, concurrency)
 * with its status; a failing webhook's event and status; the metrics and
 * the status page's list; the webhook probes. Every process is stopped by
 * its PID.
 */
#include "answer.h"
#include "certs.h"
#include "proc.h"
#include "run_all.h"
#include "sdclient.h"

#include <sdconnect/sdconnect.h>

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOST "hook.internal"
#define NS "projects/p/locations/us-central1/namespaces/n"
#define TOKEN "gw-t0ken-Secr3t"

static char dir[64];
static struct tproc sd, tls, daemon_;
static int gw_port;

/* An easy handle for `method` `path` on the gateway, as a client with
 * the client certificate (`with_cert`) and the token (`token`, or NULL). */
static CURL *request(const char *method, const char *path, const char *body,
                     const char *token, bool with_cert, struct tanswer *a,
                     struct curl_slist **hl)
{
  CURL *c = curl_easy_init();
  char url[256], auth[128], ca[128], crt[128], key[128];

  memset(a, 0, sizeof(*a));
  snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", gw_port, path);
  snprintf(ca, sizeof(ca), "%s", tproc_path(dir, "ca.pem"));
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, ca);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tanswer_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
  if(with_cert) {
    snprintf(crt, sizeof(crt), "%s", tproc_path(dir, "client.pem"));
    snprintf(key, sizeof(key), "%s", tproc_path(dir, "client.key"));
    curl_easy_setopt(c, CURLOPT_SSLCERT, crt);
    curl_easy_setopt(c, CURLOPT_SSLKEY, key);
  }
  *hl = curl_slist_append(NULL, "Content-Type: application/json");
  if(token) {
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    *hl = curl_slist_append(*hl, auth);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hl);
  if(body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  return c;
}

/* One request, waited for; its status. */
static long send_one(const char *method, const char *path, const char *body,
                     const char *token, bool with_cert, struct tanswer *a)
{
  struct curl_slist *hl = NULL;
  CURL *c = request(method, path, body, token, with_cert, a, &hl);
  CURLcode rc = curl_easy_perform(c);

  if(rc == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
  else
    snprintf(a->body, sizeof(a->body), "(curl: %s)", curl_easy_strerror(rc));
  curl_easy_cleanup(c);
  curl_slist_free_all(hl);
  return rc == CURLE_OK ? a->status : -1;
}

static long call(const char *id, const char *body, struct tanswer *a)
{
  char path[128];

  snprintf(path, sizeof(path), "/v1/webhooks/%s", id);
  return send_one("POST", path, body, TOKEN, true, a);
}

/* The admin listener's `path` (plain HTTP on 127.0.0.1). */
static void admin_get(const char *path, struct tanswer *a)
{
  CURL *c = curl_easy_init();
  char url[128];

  memset(a, 0, sizeof(*a));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", daemon_.port, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tanswer_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
  ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
  curl_easy_cleanup(c);
}

/* Wait (bounded: 20 s) until /metrics holds `want`. */
static void wait_metric(const char *want)
{
  struct tanswer a;

  for(int i = 0; i < 100; i++) {
    admin_get("/metrics", &a);
    if(strstr(a.body, want))
      return;
    tproc_sleep_ms(200);
  }
  ck_abort_msg("/metrics never showed %s:\n%.1500s", want, strstr(a.body, "sdconnect_webhook") ?
               strstr(a.body, "sdconnect_webhook") : a.body);
}

static void setup(void)
{
  const char *sd_argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                           "127.0.0.1:0", NULL};
  const char *bin = getenv("SDC_HTTPD_BIN");
  char crt[128], key[128];
  const char *h_argv[] = {bin && *bin ? bin : "httpd", "--cert", crt, "--key", key, NULL};
  struct tcert_opts ca_o = {"gateway test CA", NULL, -1, 30, true, false};
  struct tcert_opts hook_o = {HOST, "DNS:" HOST, -1, 30, false, false};
  struct tcert_opts gw_o = {"127.0.0.1", "IP:127.0.0.1", -1, 30, false, false};
  struct tcert_opts cl_o = {"caller", NULL, -1, 30, false, true};
  struct tcert *ca;
  struct tcert *c;

  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  memset(&sd, 0, sizeof(sd));
  memset(&tls, 0, sizeof(tls));
  memset(&daemon_, 0, sizeof(daemon_));
  ca = tcert_new(&ca_o, NULL);
  ck_assert_int_eq(tcert_write(ca, dir, "ca"), 0);
  ck_assert_int_eq(tcert_write_der(ca, dir, "ca"), 0);
  c = tcert_new(&hook_o, ca);
  ck_assert_int_eq(tcert_write(c, dir, "hook"), 0);
  tcert_free(c);
  c = tcert_new(&gw_o, ca);
  ck_assert_int_eq(tcert_write(c, dir, "gw"), 0);
  tcert_free(c);
  c = tcert_new(&cl_o, ca);
  ck_assert_int_eq(tcert_write(c, dir, "client"), 0);
  tcert_free(c);
  tcert_free(ca);
  snprintf(crt, sizeof(crt), "%s", tproc_path(dir, "hook.pem"));
  snprintf(key, sizeof(key), "%s", tproc_path(dir, "hook.key"));
  ck_assert_int_eq(tproc_start(&sd, sd_argv, true), 0);
  ck_assert_int_eq(tproc_start(&tls, h_argv, true), 0);
  { /* the directory: one service, its endpoint the webhook server */
    sdc_resolver *res = tsd_client(sd.port, -1);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(tsd_namespace(res, NS), 0);
    ck_assert_int_eq(tsd_service(res, NS "/services/hook"), 0);
    ck_assert_int_eq(tsd_endpoint(res, NS "/services/hook/endpoints/e0", "127.0.0.1", tls.port),
                     0);
    sdc_resolver_free(res);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
  if(daemon_.pid > 0)
    tproc_stop(&daemon_, 10000);
  tproc_stop(&tls, 5000);
  tproc_stop(&sd, 5000);
  tproc_rmdir(daemon_.dir);
  tproc_rmdir(tls.dir);
  tproc_rmdir(sd.dir);
  tproc_rmdir(dir);
  curl_global_cleanup();
  sdc_global_cleanup();
}

/* The webhooks (one file) and the daemon's file; start it. */
static void start_daemon(void)
{
  char path[128], cfg[128];
  const char *argv[] = {tproc_sdconnect(), "serve", "--config", cfg, NULL};
  char ca_b64[4096] = "";
  FILE *f;

  { /* the CA as the API takes it: DER, base64 */
    unsigned char der[4096];
    FILE *d = fopen(tproc_path(dir, "ca.der"), "rb");
    size_t n = fread(der, 1, sizeof(der), d);
    fclose(d);
    EVP_EncodeBlock((unsigned char *)ca_b64, der, (int)n);
  }
  snprintf(path, sizeof(path), "%s", tproc_path(dir, "hooks.yaml"));
  f = fopen(path, "w");
#define SD_HOOK(id, path, timeout)                                                         \
  "- name: projects/p/locations/us-central1/agents/a/webhooks/" id "\n"                     \
  "  displayName: " id "\n"                                                                \
  "  timeout: " timeout "\n"                                                               \
  "  serviceDirectory:\n"                                                                  \
  "    service: " NS "/services/hook\n"                                                    \
  "    genericWebService:\n"                                                               \
  "      uri: https://" HOST path "\n"                                                     \
  "      allowedCaCerts: ['%s']\n"
  fprintf(f,
          SD_HOOK("orders", "/echo", "5s")
          SD_HOOK("slow", "/slow?ms=1500", "5s")
          SD_HOOK("down", "/status/503", "5s")
          SD_HOOK("lookup", "/echo?id=$session.params.id", "5s")
          "      webhookType: FLEXIBLE\n"
          "      httpMethod: GET\n",
          ca_b64, ca_b64, ca_b64, ca_b64);
  fclose(f);
  f = fopen(tproc_path(dir, "token"), "w");
  fputs(TOKEN "\n", f);
  fclose(f);
  gw_port = tproc_free_port();
  snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "sdconnect.yaml"));
  f = fopen(cfg, "w");
  fprintf(f,
          "directory: {endpoint: '127.0.0.1:%d', insecure: true}\n"
          "webhooks: {files: [hooks.yaml], probePeriod: 10s}\n"
          "gateway:\n"
          "  listen: 127.0.0.1:%d\n"
          "  certFile: gw.pem\n"
          "  keyFile: gw.key\n"
          "  clientCaFile: ca.pem\n"
          "  tokenFile: token\n"
          "  maxBodyBytes: 65536\n"
          "  maxConcurrent: 2\n"
          "admin: {listen: '127.0.0.1:0'}\n"
          "stateDir: %s\n",
          sd.port, gw_port, dir);
  fclose(f);
  ck_assert_msg(tproc_start(&daemon_, argv, true) == 0, "the daemon did not start");
}

START_TEST(the_gateway_forwards_as_dialogflow_calls)
{
  struct tanswer a;
  json_t *j;

  start_daemon();
  /* a standard call: the webhook's own answer, dialed with the URL's host */
  ck_assert_msg(call("orders", "{\"detectIntentResponseId\":\"r1\"}", &a) == 200, "%s",
                a.body);
  j = json_loads(a.body, 0, NULL);
  ck_assert_msg(j, "%s", a.body);
  ck_assert_str_eq(json_string_value(json_object_get(j, "sni")), HOST);
  ck_assert_str_eq(json_string_value(json_object_get(j, "method")), "POST");
  ck_assert_str_eq(json_string_value(json_object_get(j, "authorization")), ""); /* ours stays */
  json_decref(j);
  /* a flexible webhook: its own method, the URL rendered from the values */
  ck_assert_int_eq(send_one("GET", "/v1/webhooks/lookup",
                            "{\"session\":{\"id\":\"A 17\"}}", TOKEN, true,
                            &a), 200);
  ck_assert_msg(strstr(a.body, "\"method\":\"GET\"") && strstr(a.body, "id=A%2017"), "%s",
                a.body);
  /* a failing webhook: the event and status Dialogflow would produce */
  ck_assert_int_eq(call("down", "{}", &a), 502);
  j = json_loads(a.body, 0, NULL);
  ck_assert_msg(j, "%s", a.body);
  ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "webhook.error.unavailable");
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "webhookStatus"),
                                                      "code")), 14);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "webhookStatusCode")), 503);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "attempts")), 2);
  json_decref(j);
  /* refusals */
  ck_assert_int_eq(send_one("POST", "/v1/webhooks/orders", "{}", NULL, true, &a), 401);
  ck_assert_int_eq(send_one("POST", "/v1/webhooks/orders", "{}", "wrong", true, &a), 401);
  ck_assert_int_eq(send_one("POST", "/v1/webhooks/orders", "{}", TOKEN, false, &a), 403);
  ck_assert_ptr_nonnull(strstr(a.body, "client certificate"));
  ck_assert_int_eq(call("nope", "{}", &a), 404);
  ck_assert_ptr_nonnull(strstr(a.body, "no webhook 'nope'"));
  ck_assert_int_eq(send_one("PUT", "/v1/webhooks/orders", "{}", TOKEN, true, &a), 405);
  ck_assert_int_eq(call("orders", "[1,2]", &a), 400);
  { /* a body larger than one read (16 KiB) arrives whole; one over the limit not */
    static char big[70000];
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    big[20000] = '}';
    big[20001] = '\0';
    ck_assert_int_eq(call("orders", big, &a), 200);
    ck_assert_msg(strstr(a.body, "\"body_len\":20001"), "%s", a.body);
    big[20000] = big[20001] = ' ';
    big[sizeof(big) - 2] = '}';
    ck_assert_int_eq(call("orders", big, &a), 413);
  }
  /* past maxConcurrent (2): the third of three slow calls is refused at once */
  {
    CURLM *m = curl_multi_init();
    CURL *c[3];
    struct tanswer ans[3];
    struct curl_slist *hl[3];
    int running = 1, busy = 0, made = 0;
    for(int i = 0; i < 3; i++) {
      c[i] = request("POST", "/v1/webhooks/slow", "{}", TOKEN, true, &ans[i], &hl[i]);
      curl_multi_add_handle(m, c[i]);
    }
    for(int i = 0; i < 1000 && running; i++) { /* bounded: 1000 polls of at most 50 ms */
      curl_multi_perform(m, &running);
      if(running)
        curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    for(int i = 0; i < 3; i++) {
      curl_easy_getinfo(c[i], CURLINFO_RESPONSE_CODE, &ans[i].status);
      busy += ans[i].status == 503;
      made += ans[i].status == 502; /* /slow answers text, not a WebhookResponse */
      curl_multi_remove_handle(m, c[i]);
      curl_easy_cleanup(c[i]);
      curl_slist_free_all(hl[i]);
    }
    curl_multi_cleanup(m);
    ck_assert_msg(made == 2, "%ld %ld %ld: %s | %s | %s", ans[0].status, ans[1].status,
                  ans[2].status, ans[0].body, ans[1].body, ans[2].body);
    ck_assert_int_eq(busy, 1);
  }
  /* metrics, and the probes (a webhook's first within a second of the start) */
  wait_metric("sdconnect_webhook_calls_total{webhook=\"orders\",source=\"gateway\","
              "outcome=\"ok\"} 2\n");
  wait_metric("sdconnect_webhook_calls_total{webhook=\"down\",source=\"gateway\","
              "outcome=\"http_status\"} 1\n");
  wait_metric("sdconnect_webhook_retries_total{webhook=\"down\",source=\"gateway\"} 1\n");
  wait_metric("sdconnect_gateway_refused_total{reason=\"busy\"} 1\n");
  wait_metric("sdconnect_gateway_refused_total{reason=\"unauthorized\"} 3\n");
  wait_metric("sdconnect_webhook_call_duration_seconds_count{webhook=\"slow\","
              "source=\"gateway\"} 2\n");
  wait_metric("sdconnect_webhook_up{webhook=\"orders\"} 1\n");
  wait_metric("sdconnect_webhook_up{webhook=\"down\"} 0\n");
  /* the status page's list */
  admin_get("/status.json", &a);
  j = json_loads(a.body, 0, NULL);
  ck_assert_msg(j, "%s", a.body);
  {
    json_t *hooks = json_object_get(j, "webhooks"), *h;
    size_t i;
    bool seen = false;
    ck_assert_int_eq(json_array_size(hooks), 4);
    json_array_foreach(hooks, i, h)
      if(!strcmp(json_string_value(json_object_get(h, "id")), "down")) {
        json_t *last = json_object_get(h, "last");
        seen = true;
        ck_assert_str_eq(json_string_value(json_object_get(last, "event")),
                         "webhook.error.unavailable");
        ck_assert_int_eq(json_integer_value(json_object_get(last, "httpStatus")), 503);
      }
    ck_assert(seen);
  }
  json_decref(j);
  { /* as a person sees it, on a phone */
    struct tproc b = {0};
    ck_assert_int_eq(tproc_browse(&b, daemon_.port, "--dump-dom", "--window-size=390,844"), 0);
    ck_assert_msg(tproc_log_has(&b, "<tr data-webhook=\"down\">"), "%s", b.log);
    ck_assert(tproc_log_has(&b, "webhook.error.unavailable (UNAVAILABLE, HTTP 503)"));
    ck_assert(tproc_log_has(&b, "<tr data-webhook=\"orders\">"));
    ck_assert(tproc_log_has(&b, "data-fits=\"yes\""));
    tproc_rmdir(b.dir);
  }
  /* a stop while a call is under way: it goes on and is answered as it
   * ends, a new request is answered 503 at once, and the daemon exits
   * cleanly once the call has reported; and no secret in anything it said */
  {
    CURLM *m = curl_multi_init();
    struct tanswer slow;
    struct curl_slist *hl;
    CURL *c = request("POST", "/v1/webhooks/slow", "{}", TOKEN, true, &slow, &hl);
    int running = 1;
    curl_multi_add_handle(m, c);
    for(int i = 0; i < 10; i++) { /* 0.5 s: the call is under way (it takes 1.5 s) */
      curl_multi_perform(m, &running);
      curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
    for(int i = 0; i < 100 && !tproc_log_has(&daemon_, "stopping"); i++) /* at most 5 s */
      tproc_sleep_ms(50);
    ck_assert_int_eq(call("orders", "{}", &a), 503);
    ck_assert_msg(strstr(a.body, "the gateway is stopping"), "%s", a.body);
    for(int i = 0; i < 200 && running; i++) { /* bounded: 200 polls of at most 50 ms */
      curl_multi_perform(m, &running);
      if(running)
        curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &slow.status);
    ck_assert_msg(slow.status == 502 && strstr(slow.body, "\"webhookStatusCode\":200"),
                  "%ld %s", slow.status, slow.body); /* /slow's own answer: text */
    curl_multi_remove_handle(m, c);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    curl_multi_cleanup(m);
  }
  ck_assert_int_eq(tproc_stop(&daemon_, 10000), 0);
  ck_assert(!tproc_log_has(&daemon_, TOKEN));
}
END_TEST

int main(void)
{
  tproc_secret("the gateway's token", TOKEN);

  Suite *s = suite_create("gateway");
  TCase *tc = tcase_create("gateway");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, the_gateway_forwards_as_dialogflow_calls);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
