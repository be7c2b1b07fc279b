/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Out of memory, on purpose: the library is set up with an allocator that
 * fails its n-th allocation, and four real operations (a resolve against
 * `sdconnect sd-server`, a pooled HTTPS request to tests/servers/httpd, a
 * probe run, a webhook call) are run for n = 1, 2, ... until one runs
 * without a failure. Every run must end cleanly: the call returns SDC_OK or
 * SDC_ENOMEM (a callback reports once, its failure named "out of memory"),
 * nothing crashes, and every block allocated is freed (counted here; and
 * under AddressSanitizer, its leak check at exit). The hooks reach libcurl
 * and jansson (process-wide) and protobuf-c (per unpack).
 */
#include "certs.h"
#include "proc.h"
#include "run_all.h"

#include <sdconnect/sdconnect.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST "oom.internal"
#define SVC "projects/p/locations/us-central1/namespaces/n/services/web"
#define MAX_N 40000 /* more allocations than any operation here makes */

static atomic_long calls, fail_at, live, failed;

/* Whether this allocation is the one to fail. */
static bool fail_now(void)
{
  if(++calls != fail_at)
    return false;
  failed++;
  return true;
}

/* A block more in use when `p` is a new one. */
static void *counted(void *p, bool new_block)
{
  if(p && new_block)
    live++;
  return p;
}

static void *t_malloc(size_t n) { return fail_now() ? NULL : counted(malloc(n), true); }
static void *t_calloc(size_t m, size_t n) { return fail_now() ? NULL : counted(calloc(m, n), true); }

static void *t_realloc(void *old, size_t n)
{
  bool new_block = old == NULL;
  return fail_now() ? NULL : counted(realloc(old, n), new_block);
}

static void t_free(void *p)
{
  if(p) {
    live--;
    free(p);
  }
}

static const sdc_allocator failing = {t_malloc, t_calloc, t_realloc, t_free};
static char dir[64], sd_ep[64], ca_b64[4096];
static struct tproc sd, web;

/* ---- the operations: each makes and frees everything it uses ---- */
static sdc_resolver *resolver(sdc_status *st)
{
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char err[256];

  if((*st = sdc_resolver_opts_new(&o)) || (*st = sdc_resolver_opts_set_endpoint(o, sd_ep)) ||
     (*st = sdc_resolver_opts_set_plaintext(o, 1)) || (*st = sdc_resolver_opts_set_cache_ttl_ms(o, 0)) ||
     (*st = sdc_resolver_new(&r, o, err, sizeof(err))))
    r = NULL;
  sdc_resolver_opts_free(o);
  return r;
}

static sdc_status op_resolve(void)
{
  sdc_status st;
  sdc_resolver *r = resolver(&st);
  const sdc_service *svc = NULL;

  if(r && !(st = sdc_resolve(r, SVC, 0, NULL, &svc, NULL)))
    ck_assert_uint_eq(svc->n_endpoints, 1);
  sdc_service_release(svc);
  sdc_resolver_free(r);
  return st;
}

static sdc_status op_request(void)
{
  sdc_pool *p = NULL;
  sdc_target *t = NULL;
  sdc_http_response *resp = NULL;
  char url[128], *ca = tcert_slurp(tproc_path(dir, "ca.pem"));
  const char *addr = "127.0.0.1";
  sdc_http_request *req = NULL;
  sdc_status st;

  snprintf(url, sizeof(url), "https://" HOST ":%d/echo", web.port);
  if(!(st = sdc_http_request_new(&req, url)) &&
     !(st = sdc_http_request_set_timeout_ms(req, 10000)) &&
     !(st = sdc_pool_new(&p, NULL)) && !(st = sdc_target_new(&t, HOST, web.port, 1)) &&
     !(st = sdc_target_set_ca(t, ca, strlen(ca))) &&
     !(st = sdc_target_set_addresses(t, &addr, &web.port, 1)) &&
     !(st = sdc_pool_request(p, t, req, &resp))) {
    ck_assert_int_eq(resp->status, 200);
    /* the first went through libcurl (learning the protocol); the second
     * goes over the pool's own HTTP/1.1 connection */
    sdc_http_response_free(resp);
    resp = NULL;
    if(!(st = sdc_pool_request(p, t, req, &resp)))
      ck_assert_int_eq(resp->status, 200);
  }
  sdc_http_request_free(req);
  if(st && st != SDC_ENOMEM && p) /* an allocation failing below is said as such */
    ck_assert_msg(strstr(sdc_pool_errmsg(p), "out of memory") != NULL,
                  "allocation %ld failed: %s: %s", (long)fail_at, sdc_strerror(st),
                  sdc_pool_errmsg(p));
  sdc_http_response_free(resp);
  if(p && t)
    sdc_pool_forget_target(p, t);
  sdc_target_free(t);
  sdc_pool_free(p);
  free(ca);
  return st == SDC_OK || st == SDC_ENOMEM ? st : SDC_ENOMEM;
}

struct seen {
  int done;
  int passed;
  char detail[300];
};

static void on_report(const sdc_probe_report *rep, void *ud)
{
  struct seen *s = ud;
  s->done++;
  s->passed = rep->passed;
  snprintf(s->detail, sizeof(s->detail), "%s", rep->n_results ? rep->results[0].detail : "");
}

static sdc_status op_probe(void)
{
  char yaml[1024];
  sdc_check_set *set = NULL;
  sdc_pool *p = NULL;
  sdc_prober *pr = NULL;
  sdc_status st;
  sdc_resolver *r = resolver(&st);
  struct seen s = {0};

  snprintf(yaml, sizeof(yaml),
           "displayName: web\ncheckerType: VPC_CHECKERS\nmonitoredResource: {type: "
           "servicedirectory_service, labels: {project_id: p, location: us-central1, "
           "namespace_name: n, service_name: web}}\nhttpCheck: {useSsl: true, validateSsl: "
           "true, path: /echo}\ntimeout: 10s\nsdconnect: {host: " HOST ", caFile: %s}\n",
           tproc_path(dir, "ca.pem"));
  if(r && !(st = sdc_checks_load_mem("oom.yaml", yaml, strlen(yaml), &set, NULL)) &&
     !(st = sdc_pool_new(&p, NULL)) && !(st = sdc_prober_new(&pr, p, r)) &&
     !(st = sdc_probe_run(pr, sdc_check_set_get(set, 0), on_report, &s))) {
    for(int i = 0; i < 60 && !s.done; i++)
      sdc_pool_perform(p, 1000);
    ck_assert_int_eq(s.done, 1); /* exactly once */
    if(!s.passed) /* what failed is the memory, and it says so */
      ck_assert_msg(strstr(s.detail, "out of memory") != NULL, "allocation %ld failed: %s",
                    (long)fail_at, s.detail);
    st = s.passed ? SDC_OK : SDC_ENOMEM;
  }
  sdc_prober_free(pr);
  sdc_pool_free(p);
  sdc_check_set_free(set);
  sdc_resolver_free(r);
  return st;
}

struct called {
  int done;
  sdc_webhook_failure failure;
  char detail[300];
};

static void on_call(const sdc_webhook_call_result *res, void *ud)
{
  struct called *c = ud;
  c->done++;
  c->failure = res->outcome.failure;
  snprintf(c->detail, sizeof(c->detail), "%s", res->detail ? res->detail : "");
}

static sdc_status op_webhook(void)
{
  char yaml[8192];
  sdc_webhook_set *set = NULL;
  sdc_pool *p = NULL;
  sdc_webhook_caller *c = NULL;
  sdc_status st;
  sdc_resolver *r = resolver(&st);
  struct called got = {0};

  snprintf(yaml, sizeof(yaml),
           "displayName: hook\ntimeout: 5s\nserviceDirectory:\n  service: " SVC "\n"
           "  genericWebService:\n    uri: https://" HOST "/echo\n"
           "    allowedCaCerts: ['%s']\n", ca_b64);
  if(r && !(st = sdc_webhooks_load_mem("hook.yaml", yaml, strlen(yaml), NULL, &set, NULL)) &&
     !(st = sdc_pool_new(&p, NULL)) && !(st = sdc_webhook_caller_new(&c, p, r)) &&
     !(st = sdc_webhook_call(c, sdc_webhook_set_get(set, 0), "{}", on_call, &got))) {
    for(int i = 0; i < 60 && !got.done; i++)
      sdc_pool_perform(p, 1000);
    ck_assert_int_eq(got.done, 1);
    if(got.failure != SDC_WEBHOOK_OK)
      ck_assert_msg(strstr(got.detail, "out of memory") != NULL, "allocation %ld failed: %s: %s",
                    (long)fail_at, sdc_webhook_failure_name(got.failure), got.detail);
    st = got.failure == SDC_WEBHOOK_OK ? SDC_OK : SDC_ENOMEM;
  }
  sdc_webhook_caller_free(c);
  sdc_pool_free(p);
  sdc_webhook_set_free(set);
  sdc_resolver_free(r);
  return st;
}

/* Run `op` failing allocation 1, 2, ... until it makes fewer than n. */
static void fail_each(const char *what, sdc_status (*op)(void))
{
  long baseline, n, enomem = 0;
  /* debugging: SDC_OOM_ONLY=WHAT runs one operation (with CK_FORK=no under
   * gdb); SDC_OOM_AT=N fails only allocation N, and the leak is left to
   * AddressSanitizer's report at exit */
  const char *only = getenv("SDC_OOM_ONLY"), *at = getenv("SDC_OOM_AT");

  if(only && strcmp(only, what))
    return;
  if(at) {
    long before;
    op();
    before = live;
    fail_at = atol(at);
    op();
    fail_at = 0;
    printf("%s, allocation %s failed: %ld blocks more than before\n", what, at,
           (long)live - before);
    return;
  }
  fail_at = 0;
  ck_assert_msg(op() == SDC_OK, "%s fails with all the memory it wants", what);
  baseline = live;
  for(n = 1; n <= MAX_N; n++) {
    sdc_status st;
    calls = 0;
    failed = 0;
    fail_at = n;
    st = op();
    fail_at = 0;
    ck_assert_msg(st == SDC_OK || st == SDC_ENOMEM, "%s, allocation %ld failed: %s", what, n,
                  sdc_strerror(st));
    /* process-wide caches (libcurl's TLS sessions and DNS) may shrink, not
     * grow: a block more than before is a leak */
    ck_assert_msg(live <= baseline, "%s, allocation %ld failed: %ld blocks leaked", what, n,
                  live - baseline);
    enomem += st == SDC_ENOMEM;
    if(!failed) { /* it made fewer than n allocations: every one was failed in turn */
      ck_assert_int_eq(st, SDC_OK);
      break;
    }
  }
  ck_assert_msg(n <= MAX_N, "%s makes over %d allocations", what, MAX_N);
  printf("%s: %ld allocations, each failed once: %ld runs said out of memory\n", what, n - 1,
         enomem);
}

START_TEST(resolve_survives_every_failed_allocation) { fail_each("resolve", op_resolve); }
END_TEST
START_TEST(a_pooled_request_survives_every_failed_allocation)
{
  fail_each("pooled request", op_request);
}
END_TEST
START_TEST(a_probe_run_survives_every_failed_allocation) { fail_each("probe run", op_probe); }
END_TEST
START_TEST(a_webhook_call_survives_every_failed_allocation)
{
  fail_each("webhook call", op_webhook);
}
END_TEST

static void setup_once(void)
{
  const char *sd_argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                           "127.0.0.1:0", "--seed", NULL, NULL};
  const char *bin = getenv("SDC_HTTPD_BIN");
  char crt[128], key[128], seed[128];
  const char *h_argv[] = {bin && *bin ? bin : "httpd", "--cert", crt, "--key", key, NULL};
  FILE *f;

  ck_assert_int_eq(sdc_global_init(&failing), SDC_OK);
  memset(&sd, 0, sizeof(sd));
  memset(&web, 0, sizeof(web));
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  ck_assert_int_eq(tcert_write_trio(dir, HOST, "DNS:" HOST), 0);
  snprintf(crt, sizeof(crt), "%s", tproc_path(dir, "server.pem"));
  snprintf(key, sizeof(key), "%s", tproc_path(dir, "server.key"));
  ck_assert_int_eq(tproc_start(&web, h_argv, true), 0);
  snprintf(seed, sizeof(seed), "%s", tproc_path(dir, "seed.yaml"));
  f = fopen(seed, "w");
  fprintf(f, "project: p\nlocation: us-central1\nnamespaces:\n  - name: n\n    services:\n"
             "      - name: web\n        endpoints:\n          - {name: a, address: 127.0.0.1, "
             "port: %d}\n", web.port);
  fclose(f);
  sd_argv[6] = seed;
  ck_assert_int_eq(tproc_start(&sd, sd_argv, true), 0);
  snprintf(sd_ep, sizeof(sd_ep), "127.0.0.1:%d", sd.port);
  { /* the CA as Dialogflow takes it: DER, base64 */
    unsigned char der[4096], *out = der;
    char *pem = tcert_slurp(tproc_path(dir, "ca.pem"));
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    int len = x ? i2d_X509(x, &out) : -1;
    ck_assert_int_gt(len, 0);
    EVP_EncodeBlock((unsigned char *)ca_b64, der, len);
    X509_free(x);
    BIO_free(b);
    free(pem);
  }
}

static void teardown_once(void)
{
  tproc_stop(&sd, 5000);
  tproc_stop(&web, 5000);
  tproc_rmdir(sd.dir);
  tproc_rmdir(web.dir);
  tproc_rmdir(dir);
  sdc_global_cleanup();
  /* everything the hooks handed out came back, caches included */
  ck_assert_msg(live == 0, "%ld blocks never freed", (long)live);
}

int main(void)
{
  Suite *s = suite_create("oom");
  TCase *tc = tcase_create("oom");

  tcase_add_checked_fixture(tc, setup_once, teardown_once); /* in each test's process */
  tcase_set_timeout(tc, 1200);
  tcase_add_test(tc, resolve_survives_every_failed_allocation);
  tcase_add_test(tc, a_pooled_request_survives_every_failed_allocation);
  tcase_add_test(tc, a_probe_run_survives_every_failed_allocation);
  tcase_add_test(tc, a_webhook_call_survives_every_failed_allocation);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
